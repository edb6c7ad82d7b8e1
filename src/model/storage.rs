//! Opta's `persistent_storage`: volumes of the pods, each a PersistentVolumeClaim of its own size
//! and storage class, mounted at its path. With volumes, the chart runs the pods as a StatefulSet.

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

impl Builder<'_> {
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
