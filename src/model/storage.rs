//! Opta's `persistent_storage`: volumes of the pods, each a PersistentVolumeClaim of its own size
//! and storage class, mounted at its path. With volumes, the chart runs the pods as a StatefulSet.
//! And ours, `persistent_storage_retention`: what happens to the claims when the StatefulSet is
//! deleted (uninstall, `persistent_storage` removed, a first install rolled back) or scaled down;
//! Kubernetes' default, Retain, keeps them.

use super::builder::Builder;
use super::rules;
use crate::diag::printable;
use crate::spec::raw::RawService;

#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    pub name: String,
    pub path: String,
    pub size_gb: u32,
    pub storage_class: Option<String>,
}

/// The StatefulSet's `persistentVolumeClaimRetentionPolicy`: `Retain` or `Delete` each.
#[derive(Clone, Debug, PartialEq)]
pub struct Retention {
    pub when_deleted: String,
    pub when_scaled: String,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            when_deleted: "Retain".into(),
            when_scaled: "Retain".into(),
        }
    }
}

impl Builder<'_> {
    /// `persistent_storage_retention`, with the volumes and the replica bounds it applies to.
    pub(super) fn retention(
        &mut self,
        raw: &RawService,
        volumes: &[Volume],
        (min, max): (u32, u32),
    ) -> Retention {
        let Some(r) = &raw.persistent_storage_retention else {
            return Retention::default();
        };
        let path = self.path("persistent_storage_retention");
        let mut read = |field: &str, v: &Option<String>| match v.as_deref() {
            None => "Retain".to_string(),
            Some(p @ ("Retain" | "Delete")) => p.to_string(),
            Some(other) => {
                self.fail_help(
                    &path.key(field),
                    format!("unknown policy `{}`", printable(other)),
                    "expected Retain (keep the claims and their data) or Delete",
                );
                "Retain".to_string()
            }
        };
        let retention = Retention {
            when_deleted: read("when_deleted", &r.when_deleted),
            when_scaled: read("when_scaled", &r.when_scaled),
        };
        if volumes.is_empty() {
            self.warnings.push(
                "persistent_storage_retention is ignored: there is no persistent_storage, so no claims".into(),
            );
        } else if retention.when_scaled == "Delete" && min < max {
            self.warnings.push(format!(
                "persistent_storage_retention.when_scaled is Delete and the autoscaler may scale between {min} and {max} pods: every scale-down deletes the claims of the pods it removes, and their data"
            ));
        }
        retention
    }

    pub(super) fn volumes(&mut self, raw: &RawService) -> Vec<Volume> {
        let mut out: Vec<Volume> = Vec::new();
        for (i, s) in raw.persistent_storage.iter().flatten().enumerate() {
            let path = self.path("persistent_storage").index(i);
            let mount = match &s.path {
                Some(p) => {
                    let p = p.trim();
                    let p = if p == "/" {
                        p.to_string()
                    } else {
                        p.trim_end_matches('/').to_string()
                    };
                    if !p.starts_with('/')
                        || p.split('/').any(|c| c == ".." || c == ".")
                        || p.chars().any(|c| c.is_control())
                    {
                        self.fail(
                            &path.key("path"),
                            format!(
                                "`{}` must be an absolute path without `.` or `..`",
                                printable(&p)
                            ),
                        );
                    } else if p == "/" || p == "/tmp" {
                        self.fail(&path.key("path"), "cannot mount a volume at `/` or `/tmp`");
                    } else if out.iter().any(|o| o.path == p) {
                        self.fail(
                            &path.key("path"),
                            format!("two volumes are mounted at `{p}`"),
                        );
                    }
                    p
                }
                None => {
                    self.fail(&path, "missing field `path` (where the volume is mounted)");
                    String::new()
                }
            };
            if s.size.is_none() {
                self.fail(&path, "missing field `size` (in GB)");
            }
            let size_gb = self.num(&path.key("size"), &s.size, 1, (1, 65_536));
            if let Some(c) = &s.storage_class {
                let r = rules::dns_subdomain(c)
                    .map_err(|e| format!("storage class `{}`: {e}", printable(c)));
                self.check(&path.key("storage_class"), r);
            }
            out.push(Volume {
                name: format!("data-{i}"),
                path: mount,
                size_gb,
                storage_class: s.storage_class.clone(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn volumes_are_named_by_position_and_paths_normalised() {
        let (s, _) = model(
            "persistent_storage:\n  - {path: /data/, size: 5}\n  - {path: /cache, size: 1, storage_class: fast}\n",
        );
        assert_eq!(
            s.volumes,
            [
                Volume {
                    name: "data-0".into(),
                    path: "/data".into(),
                    size_gb: 5,
                    storage_class: None,
                },
                Volume {
                    name: "data-1".into(),
                    path: "/cache".into(),
                    size_gb: 1,
                    storage_class: Some("fast".into()),
                },
            ]
        );
    }

    #[test]
    fn claims_are_retained_unless_the_spec_says_delete() {
        let (s, warnings) = model("persistent_storage: [{path: /d, size: 1}]\nmax_containers: 1\n");
        assert_eq!(s.claim_retention, Retention::default());
        assert!(warnings.is_empty(), "{warnings:?}");
        let (s, warnings) = model(
            "persistent_storage: [{path: /d, size: 1}]\nmax_containers: 1\npersistent_storage_retention: {when_deleted: Delete}\n",
        );
        assert_eq!(
            (
                s.claim_retention.when_deleted.as_str(),
                s.claim_retention.when_scaled.as_str()
            ),
            ("Delete", "Retain")
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        // Scale-downs that delete data are worth a warning when an autoscaler makes them.
        let (_, warnings) = model(
            "persistent_storage: [{path: /d, size: 1}]\nmin_containers: 2\npersistent_storage_retention: {when_scaled: Delete}\n",
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("every scale-down deletes the claims")),
            "{warnings:?}"
        );
        let (_, warnings) = model("persistent_storage_retention: {when_deleted: Retain}\n");
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("persistent_storage_retention is ignored")),
            "{warnings:?}"
        );
        assert_eq!(
            problems(
                "persistent_storage: [{path: /d, size: 1}]\npersistent_storage_retention: {when_deleted: delete}\n"
            ),
            [(
                "persistent_storage_retention.when_deleted".to_string(),
                "unknown policy `delete`".to_string()
            )]
        );
    }

    #[test]
    fn a_volume_needs_a_safe_path_of_its_own_and_a_size() {
        assert_eq!(
            problems(
                "persistent_storage:\n  - {path: /tmp, size: 1}\n  - {path: data/../x, size: 1}\n  - {path: /d, size: 1}\n  - {path: /d}\n"
            ),
            [
                (
                    "persistent_storage[0].path".to_string(),
                    "cannot mount a volume at `/` or `/tmp`".to_string()
                ),
                (
                    "persistent_storage[1].path".to_string(),
                    "`data/../x` must be an absolute path without `.` or `..`".to_string()
                ),
                (
                    "persistent_storage[3].path".to_string(),
                    "two volumes are mounted at `/d`".to_string()
                ),
                (
                    "persistent_storage[3]".to_string(),
                    "missing field `size` (in GB)".to_string()
                ),
            ]
        );
    }
}
