//! Configuration beyond Opta, gathered in `Config`: environment variables from existing Secrets
//! and ConfigMaps (read in env.rs), config files mounted from a generated ConfigMap (here), and
//! init containers and native sidecars (extra_containers.rs). Every rule is checked with the
//! field that breaks it.

use super::builder::Builder;
use super::env::{EnvFrom, EnvRef};
use super::extra_containers::ExtraContainer;
use super::rules::{SYSTEM_DIRS, config_map_key, nested};
use super::taken::Taken;
use crate::diag::printable;
use crate::spec::raw::RawService;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// Rendered first in `env`, so `env_vars` may use them as `$(NAME)`.
    pub env_refs: Vec<EnvRef>,
    pub env_from: Vec<EnvFrom>,
    /// Sorted by path.
    pub files: Vec<ConfigFile>,
    pub init_containers: Vec<ExtraContainer>,
    pub sidecars: Vec<ExtraContainer>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConfigFile {
    /// Absolute path of the file in every container.
    pub path: String,
    /// Its key in the ConfigMap: the path without the leading `/`, `/` written `_`.
    pub key: String,
    pub content: String,
}

/// Kubernetes caps a ConfigMap's keys and values at 1 MiB in total.
pub const CONFIG_MAP_MAX_BYTES: usize = 1024 * 1024;
/// Above this, the release Helm stores (chart + manifest, each holding the files) gets large.
const HELM_RELEASE_COMFORT_BYTES: usize = 256 * 1024;

impl Builder<'_> {
    pub(super) fn config(&mut self, raw: &RawService, taken: &Taken) -> Config {
        let env_refs = self.env_refs(raw, &taken.env_names);
        let env_from = self.env_from(raw);
        let files = self.config_files(raw, taken);
        let (init_containers, sidecars) = self.extra_containers(raw, taken);
        if taken.max_replicas == 0 && !(init_containers.is_empty() && sidecars.is_empty()) {
            self.warnings.push(
                "init_containers and sidecars run in the service's pods, and max_containers is 0: they are not deployed (cron jobs do not get them)".into(),
            );
        }
        Config {
            env_refs,
            env_from,
            files,
            init_containers,
            sidecars,
        }
    }

    fn config_files(&mut self, raw: &RawService, taken: &Taken) -> Vec<ConfigFile> {
        let mut out: Vec<ConfigFile> = Vec::new();
        let mut total = 0usize;
        for (given, content) in raw.config_files.iter().flatten() {
            let path = self.path("config_files").key(given);
            let p = given.trim();
            if !p.starts_with('/')
                || p.ends_with('/')
                || p.len() > 1024
                || p[1..]
                    .split('/')
                    .any(|c| c.is_empty() || c == "." || c == "..")
            {
                self.fail_help(
                    &path,
                    format!(
                        "`{}` must be the absolute path of a file, without `.` or `..`",
                        printable(p)
                    ),
                    "e.g. /etc/app/config.yaml",
                );
                continue;
            }
            let key = p[1..].replace('/', "_");
            if let Err(e) = config_map_key(&key) {
                self.fail_help(
                    &path,
                    format!("`{}` cannot name a ConfigMap key: it {e}", printable(p)),
                    "use only letters, digits, '-', '_' and '.' between the slashes",
                );
                continue;
            }
            let clash = if let Some(d) = SYSTEM_DIRS.iter().find(|d| nested(p, d)) {
                Some(format!("`{d}` belongs to the container runtime"))
            } else if nested(p, "/tmp") {
                Some("`/tmp` is the writable scratch volume".to_string())
            } else if let Some(s) = taken.secrets_mount_path.filter(|s| nested(p, s)) {
                Some(format!("`{s}` is secrets_mount_path"))
            } else if let Some(v) = taken.volumes.iter().find(|v| nested(p, &v.path)) {
                Some(format!("`{}` is a persistent_storage path", v.path))
            } else if let Some(w) = taken.writable_paths.iter().find(|w| nested(p, &w.path)) {
                Some(format!("`{}` is a writable path (an emptyDir)", w.path))
            } else {
                out.iter()
                    .find(|o| nested(p, &o.path) || o.key == key)
                    .map(|o| match o.key == key {
                        true => format!("`{}` has the same ConfigMap key `{key}`", o.path),
                        false => format!("`{}` is another config file", o.path),
                    })
            };
            if let Some(why) = clash {
                self.fail(
                    &path,
                    format!("cannot mount a config file at `{}`: {why}", printable(p)),
                );
                continue;
            }
            total = total.saturating_add(key.len() + content.len());
            out.push(ConfigFile {
                path: p.to_string(),
                key,
                content: content.clone(),
            });
        }
        if total > CONFIG_MAP_MAX_BYTES {
            self.fail_help(
                &self.path("config_files"),
                format!(
                    "the config files hold {total} bytes, more than a ConfigMap can (1 MiB = {CONFIG_MAP_MAX_BYTES} bytes)"
                ),
                "ship large files in the image, or mount them from a volume",
            );
        }
        if total > HELM_RELEASE_COMFORT_BYTES && total <= CONFIG_MAP_MAX_BYTES {
            self.warnings.push(format!(
                "config_files hold {} KiB: Helm keeps each release (chart and manifest, gzipped) in a Secret of at most 1 MiB, so large files are better shipped in the image",
                total / 1024
            ));
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::env::Source;

    fn build(text: &str, vars: &[(&str, &str)]) -> Result<crate::model::Service, String> {
        crate::model::testing::load(text, vars)
            .map(|(s, _)| s)
            .map_err(|e| e.render())
    }

    const BASE: &str = "name: s\nimage: r/i:1\nport: {http: 8080}\n";

    #[test]
    fn a_valid_configuration_becomes_the_model() {
        let s = build(
            &format!(
                "{BASE}env_refs:\n  B: {{config_map: c}}\n  A: {{secret: s, key: k, optional: true}}\n\
                 config_files:\n  /z/b.conf: b\n  /a/x.conf: \"{{vars.v}}\"\n\
                 init_containers:\n  - name: i\n    commands: [x]\n\
                 sidecars:\n  - name: p\n    image: e/p:2\n    resource_request: {{memory: 64}}\n    ports: [{{name: admin, port: 9901}}]\n"
            ),
            &[("v", "interpolated")],
        )
        .unwrap();
        let c = s.config;
        assert_eq!(
            c.env_refs
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>(),
            ["B", "A"],
            "document order"
        );
        assert_eq!(c.env_refs[0].key, "B");
        assert_eq!(c.env_refs[0].source, Source::ConfigMap("c".into()));
        assert!(c.env_refs[1].optional);
        assert_eq!(c.files[0].path, "/a/x.conf");
        assert_eq!(c.files[0].key, "a_x.conf");
        assert_eq!(c.files[0].content, "interpolated");
        assert_eq!(c.init_containers[0].image, None);
        assert_eq!(c.init_containers[0].resources, None);
        let (req, lim) = c.sidecars[0].resources.clone().unwrap();
        assert_eq!((req.cpu(), req.memory()), ("100m".into(), "64Mi".into()));
        assert_eq!((lim.cpu(), lim.memory()), ("200m".into(), "128Mi".into()));
        assert_eq!(c.sidecars[0].ports, vec![("admin".to_string(), 9901)]);
    }

    #[test]
    fn config_files_beyond_a_config_map_are_refused() {
        let big = "x".repeat(600 * 1024);
        let spec = format!("{BASE}config_files:\n  /a: \"{{vars.big}}\"\n  /b: \"{{vars.big}}\"\n");
        let err = build(&spec, &[("big", &big)]).unwrap_err();
        assert!(err.contains("more than a ConfigMap can"), "{err}");
        assert!(err.contains("config_files"), "{err}");
        let half = "x".repeat(500 * 1024);
        assert!(build(&spec, &[("big", &half)]).is_ok());
    }

    #[test]
    fn keys_follow_kubernetes_rules() {
        for ok in ["a", "etc_app_config.yaml", ".env", "a..b", "A-B_c.d"] {
            assert_eq!(config_map_key(ok), Ok(()), "{ok}");
        }
        for bad in ["", ".", "..", "..x", "a b", "a/b", "é", &"k".repeat(254)] {
            assert!(config_map_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nesting_is_by_path_segment() {
        assert!(nested("/data", "/data"));
        assert!(nested("/data/x.conf", "/data"));
        assert!(nested("/data", "/data/x.conf"));
        assert!(!nested("/database.conf", "/data"));
        assert!(!nested("/etc/a", "/etc/b"));
    }

    #[test]
    fn config_files_may_not_land_on_other_mounts() {
        let err = build(
            &format!(
                "{BASE}secrets: [K]\nsecrets_mount_path: /run/s\nconfig_files:\n  /run/s/x: a\n  /etc/a/b: b\n  /etc/a: c\n  /etc/x/y: d\n  /etc/x_y: e\n"
            ),
            &[],
        )
        .unwrap_err();
        for want in [
            "cannot mount a config file at `/run/s/x`: `/run/s` is secrets_mount_path",
            "cannot mount a config file at `/etc/a/b`: `/etc/a` is another config file",
            "cannot mount a config file at `/etc/x_y`: `/etc/x/y` has the same ConfigMap key `etc_x_y`",
        ] {
            assert!(err.contains(want), "{want}\n{err}");
        }
    }
}
