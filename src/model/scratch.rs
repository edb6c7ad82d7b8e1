//! Where the containers may write besides persistent volumes, on the node's disk: the `/tmp`
//! emptyDir (`tmp_size`) and the extra writable directories of `writable_paths` (ours), each an
//! emptyDir with a size limit, mounted in every container; and the ephemeral-storage limit,
//! which must hold them and the container logs.

use super::builder::Builder;
use super::container::Resources;
use super::rules::{SYSTEM_DIRS, nested};
use super::storage::Volume;
use super::units;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::RawService;
use crate::spec::raw_config::RawWritablePath;

/// `/tmp`'s size limit unless `tmp_size` says otherwise: room for uploads and temporary files,
/// a quarter of the default ephemeral-storage limit.
pub const TMP_SIZE: (u64, &str) = (256, "Mi");
/// A writable path's size limit unless its `size` says otherwise: caches, pid and socket files.
pub const WRITABLE_SIZE: (u64, &str) = (128, "Mi");
/// What the kubelet keeps of one container's logs by default (containerLogMaxFiles 5 ×
/// containerLogMaxSize 10Mi): ephemeral storage the pod uses beside its emptyDirs.
pub const LOG_BYTES: u64 = 50 << 20;
/// Directories of the image an emptyDir would hide (it starts empty), breaking the container.
const IMAGE_DIRS: &[&str] = &["/bin", "/sbin", "/lib", "/lib64", "/usr", "/etc"];

#[derive(Clone, Debug, PartialEq)]
pub struct Scratch {
    /// The `/tmp` emptyDir's sizeLimit.
    pub tmp_size: (u64, &'static str),
    /// Extra writable directories, in the spec's order.
    pub writable: Vec<WritablePath>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WritablePath {
    /// Absolute, normalised (no trailing `/`).
    pub path: String,
    /// The emptyDir's sizeLimit.
    pub size: (u64, &'static str),
}

impl Scratch {
    /// Ephemeral storage the emptyDirs may fill, in bytes.
    pub fn bytes(&self) -> u64 {
        self.writable
            .iter()
            .fold(units::bytes(self.tmp_size), |sum, w| {
                sum.saturating_add(units::bytes(w.size))
            })
    }
}

impl Builder<'_> {
    /// `tmp_size` and `writable_paths`, checked against the other mounts of the pods.
    pub(super) fn scratch(
        &mut self,
        raw: &RawService,
        secrets_mount_path: Option<&str>,
        volumes: &[Volume],
    ) -> Scratch {
        let tmp_size = match &raw.tmp_size {
            None => TMP_SIZE,
            Some(q) => match units::size(q, "tmp_size", true) {
                Ok(v) => v,
                Err(e) => {
                    self.fail(&self.path("tmp_size"), e);
                    TMP_SIZE
                }
            },
        };
        let mut writable: Vec<WritablePath> = Vec::new();
        for (i, entry) in raw.writable_paths.iter().flatten().enumerate() {
            let at = self.path("writable_paths").index(i);
            let (given, size) = match entry {
                RawWritablePath::Path(p) => (Some(p), None),
                RawWritablePath::Sized(d) => (d.path.as_ref(), d.size.as_ref()),
            };
            let Some(given) = given else {
                self.fail_help(
                    &at,
                    "missing field `path` (the directory to make writable)",
                    "e.g. `{path: /var/cache/nginx, size: 256Mi}`, or only the path",
                );
                continue;
            };
            let size = match size.map(|q| units::size(q, "size", true)) {
                None => WRITABLE_SIZE,
                Some(Ok(v)) => v,
                Some(Err(e)) => {
                    self.fail(&at.key("size"), e);
                    WRITABLE_SIZE
                }
            };
            let path_at = at.key("path");
            if let Some(path) =
                self.writable_path(&path_at, given, (secrets_mount_path, volumes), &writable)
            {
                writable.push(WritablePath { path, size });
            }
        }
        Scratch { tmp_size, writable }
    }

    /// One writable directory: a safe absolute path that no other mount of the pod overlaps.
    fn writable_path(
        &mut self,
        at: &FieldPath,
        given: &str,
        (secrets_mount_path, volumes): (Option<&str>, &[Volume]),
        earlier: &[WritablePath],
    ) -> Option<String> {
        let trimmed = given.trim();
        let p = if trimmed.len() > 1 {
            trimmed.trim_end_matches('/')
        } else {
            trimmed
        };
        let safe = p.starts_with('/')
            && p.len() <= 1024
            && (p == "/"
                || p[1..].split('/').all(|c| {
                    !c.is_empty()
                        && c != "."
                        && c != ".."
                        && c.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                }));
        if !safe {
            self.fail_help(
                at,
                format!(
                    "`{}` must be an absolute directory path without `.` or `..`",
                    printable(trimmed)
                ),
                "e.g. /var/cache/nginx: only letters, digits, '-', '_' and '.' between the slashes",
            );
            return None;
        }
        let clash = if p == "/" {
            Some("the whole root filesystem cannot be an emptyDir (`security_profile: baseline` makes it writable)".to_string())
        } else if let Some(d) = SYSTEM_DIRS.iter().find(|d| nested(p, d)) {
            Some(format!("`{d}` belongs to the container runtime"))
        } else if IMAGE_DIRS.contains(&p) {
            Some(format!(
                "an emptyDir starts empty, so it would hide everything the image has in `{p}`"
            ))
        } else if nested(p, "/tmp") {
            Some("`/tmp` is writable already (`tmp_size` sets its size)".to_string())
        } else if let Some(s) = secrets_mount_path.filter(|s| nested(p, s)) {
            Some(format!("`{s}` is secrets_mount_path"))
        } else if let Some(v) = volumes.iter().find(|v| nested(p, &v.path)) {
            Some(format!(
                "`{}` is a persistent_storage path, writable already",
                v.path
            ))
        } else {
            earlier.iter().find(|w| nested(p, &w.path)).map(|w| {
                if w.path == p {
                    "it is listed twice".to_string()
                } else {
                    format!("it overlaps `{}`, another writable path", w.path)
                }
            })
        };
        if let Some(why) = clash {
            self.fail(
                at,
                format!("cannot make `{}` writable: {why}", printable(p)),
            );
            return None;
        }
        Some(p.to_string())
    }

    /// The service's ephemeral-storage limit must hold the emptyDirs and the logs: the kubelet
    /// evicts a pod whose emptyDirs and containers use more than the sum of its limits. A limit
    /// the spec gives that cannot is refused; the default one grows to fit.
    pub(super) fn fit_ephemeral_storage(
        &mut self,
        raw: &RawService,
        scratch: &Scratch,
        limits: &mut Resources,
    ) {
        let needed = scratch.bytes().saturating_add(LOG_BYTES);
        if units::bytes(limits.ephemeral_storage) >= needed {
            return;
        }
        let given = raw
            .resource_limits
            .as_ref()
            .and_then(|l| l.ephemeral_storage.as_ref());
        if given.is_none() {
            limits.ephemeral_storage = units::quantity_of(needed);
            return;
        }
        let (n, unit) = units::quantity_of(needed);
        let writable = scratch
            .writable
            .iter()
            .fold(0u64, |s, w| s.saturating_add(units::bytes(w.size)));
        let mut parts = vec![format!(
            "/tmp ({}{})",
            scratch.tmp_size.0, scratch.tmp_size.1
        )];
        if writable > 0 {
            let (w, wu) = units::quantity_of(writable);
            parts.push(format!("the writable paths ({w}{wu})"));
        }
        self.fail_help(
            &self.path("resource_limits").key("ephemeral_storage"),
            format!(
                "the ephemeral-storage limit ({}) cannot hold {} and the container logs (50Mi): the kubelet would evict the pod before they are full",
                limits.ephemeral_storage(),
                parts.join(", "),
            ),
            format!("raise it to at least `{n}{unit}`, or lower `tmp_size` or the sizes of `writable_paths`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn tmp_is_sized_and_writable_paths_default_to_128mi() {
        let (s, _) = model("");
        assert_eq!(
            s.scratch,
            Scratch {
                tmp_size: (256, "Mi"),
                writable: vec![]
            }
        );
        let (s, _) = model(
            "tmp_size: 1Gi\nwritable_paths:\n  - /var/run/\n  - {path: /var/cache/nginx, size: 512}\n",
        );
        assert_eq!(s.scratch.tmp_size, (1, "Gi"));
        assert_eq!(
            s.scratch.writable,
            [
                WritablePath {
                    path: "/var/run".into(),
                    size: (128, "Mi")
                },
                WritablePath {
                    path: "/var/cache/nginx".into(),
                    size: (512, "Mi")
                },
            ]
        );
    }

    #[test]
    fn a_writable_path_is_safe_and_overlaps_no_other_mount() {
        let got = problems(
            "secrets: [K]\nsecrets_mount_path: /etc/app/secrets\npersistent_storage: [{path: /data, size: 1}]\nwritable_paths:\n  - var/run\n  - /a/../b\n  - /\n  - /proc/x\n  - /usr\n  - /tmp/cache\n  - /etc/app\n  - /data/cache\n  - /var/run\n  - /var/run/\n  - /var\n  - {size: 1Gi}\n  - {path: /x, size: 1}\n",
        );
        let want = [
            (
                "writable_paths[0]",
                "`var/run` must be an absolute directory path without `.` or `..`",
            ),
            (
                "writable_paths[1]",
                "`/a/../b` must be an absolute directory path without `.` or `..`",
            ),
            (
                "writable_paths[2]",
                "cannot make `/` writable: the whole root filesystem cannot be an emptyDir (`security_profile: baseline` makes it writable)",
            ),
            (
                "writable_paths[3]",
                "cannot make `/proc/x` writable: `/proc` belongs to the container runtime",
            ),
            (
                "writable_paths[4]",
                "cannot make `/usr` writable: an emptyDir starts empty, so it would hide everything the image has in `/usr`",
            ),
            (
                "writable_paths[5]",
                "cannot make `/tmp/cache` writable: `/tmp` is writable already (`tmp_size` sets its size)",
            ),
            (
                "writable_paths[6]",
                "cannot make `/etc/app` writable: `/etc/app/secrets` is secrets_mount_path",
            ),
            (
                "writable_paths[7]",
                "cannot make `/data/cache` writable: `/data` is a persistent_storage path, writable already",
            ),
            (
                "writable_paths[9]",
                "cannot make `/var/run` writable: it is listed twice",
            ),
            (
                "writable_paths[10]",
                "cannot make `/var` writable: it overlaps `/var/run`, another writable path",
            ),
            (
                "writable_paths[11]",
                "missing field `path` (the directory to make writable)",
            ),
            (
                "writable_paths[12].size",
                "`size: 1` is 1 MB, almost certainly a unit mistake (at least 16 MB); did you mean `size: 1024` (1 GiB)?",
            ),
        ];
        // A path written alone is its entry: the problem is reported at the entry.
        let got: Vec<(&str, &str)> = got.iter().map(|(f, m)| (f.as_str(), m.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_ephemeral_storage_limit_holds_tmp_the_writable_paths_and_the_logs() {
        let (s, _) = model("");
        assert_eq!(
            (s.requests.ephemeral_storage(), s.limits.ephemeral_storage()),
            ("64Mi".into(), "1Gi".into())
        );
        // The default limit grows: 1Gi /tmp + 2 × 128Mi + 50Mi of logs.
        let (s, _) = model("tmp_size: 1Gi\nwritable_paths: [/a, /b]\n");
        assert_eq!(s.limits.ephemeral_storage(), "1330Mi");
        // A limit the spec gives does not.
        assert_eq!(
            problems("tmp_size: 1Gi\nresource_limits: {ephemeral_storage: 1Gi}\n"),
            [(
                "resource_limits.ephemeral_storage".to_string(),
                "the ephemeral-storage limit (1Gi) cannot hold /tmp (1Gi) and the container logs (50Mi): the kubelet would evict the pod before they are full".to_string()
            )]
        );
        let (s, _) = model("resource_request: {cpu: 100, memory: 128, ephemeral_storage: 2Gi}\n");
        assert_eq!(s.limits.ephemeral_storage(), "2Gi");
        assert_eq!(
            problems(
                "resource_request: {cpu: 100, memory: 128, ephemeral_storage: 2Gi}\nresource_limits: {ephemeral_storage: 1536}\n"
            ),
            [(
                "resource_limits.ephemeral_storage".to_string(),
                "the ephemeral-storage limit (1536Mi) is below the request (2Gi)".to_string()
            )]
        );
        assert_eq!(
            problems("resource_request: {cpu: 100, memory: 128, ephemeral_storage: 100m}\n"),
            [(
                "resource_request.ephemeral_storage".to_string(),
                "`100m` is 100 millibytes (`m` means a thousandth); did you mean `100Mi`?"
                    .to_string()
            )]
        );
    }
}
