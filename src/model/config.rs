//! Configuration beyond Opta: environment variables from existing Secrets and ConfigMaps (one
//! key, or every key), config files mounted from a generated ConfigMap, init containers and
//! native sidecars. Every rule is checked here, with the field that breaks it.

use std::collections::BTreeSet;

use super::{Builder, Resources, Volume, rules};
use crate::diag::{FieldPath, printable};
use crate::spec::raw::{RawResources, RawService};

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

/// An existing object the pods read.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Secret(String),
    ConfigMap(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnvRef {
    pub name: String,
    pub source: Source,
    pub key: String,
    pub optional: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnvFrom {
    pub source: Source,
    pub prefix: String,
    pub optional: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConfigFile {
    /// Absolute path of the file in every container.
    pub path: String,
    /// Its key in the ConfigMap: the path without the leading `/`, `/` written `_`.
    pub key: String,
    pub content: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExtraContainer {
    pub name: String,
    /// A full reference (`repo[:tag][@digest]`); `None` runs the service's image.
    pub image: Option<String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// `None`: the service's requests and limits.
    pub resources: Option<(Resources, Resources)>,
    /// Sidecars only: (name, container port).
    pub ports: Vec<(String, u32)>,
}

/// Kubernetes caps a ConfigMap's keys and values at 1 MiB in total.
pub const CONFIG_MAP_MAX_BYTES: usize = 1024 * 1024;
/// Above this, the release Helm stores (chart + manifest, each holding the files) gets large.
const HELM_RELEASE_COMFORT_BYTES: usize = 256 * 1024;
/// Mount points the runtime owns; a file there breaks the container or is refused.
const SYSTEM_DIRS: &[&str] = &["/proc", "/sys", "/dev"];
/// The name of the service's own container.
pub const MAIN_CONTAINER: &str = "app";

/// What the rest of the spec already claims, for collision checks.
pub(super) struct Taken<'a> {
    pub env_names: Vec<&'a str>,
    pub secrets_mount_path: Option<&'a str>,
    pub volumes: &'a [Volume],
    pub ports: &'a [super::Port],
    pub requests: &'a Resources,
    pub max_replicas: u32,
}

/// `a` is `b` or lies inside it, or the other way round.
fn nested(a: &str, b: &str) -> bool {
    let inside = |x: &str, dir: &str| x == dir || x.starts_with(&format!("{dir}/"));
    inside(a, b) || inside(b, a)
}

/// A ConfigMap or Secret key: letters, digits, `-`, `_`, `.`; not `.`, `..` or `..x`.
pub fn config_map_key(k: &str) -> Result<(), String> {
    if k.is_empty()
        || k.len() > 253
        || !k
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("must be 1 to 253 letters, digits, '-', '_' or '.'".into());
    }
    if k == "." || k.starts_with("..") {
        return Err("must not be `.` or start with `..`".into());
    }
    Ok(())
}

/// Split `repo[:tag][@digest]`.
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..]), digest),
        _ => (rest, None, digest),
    }
}

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

    /// `secret: NAME` or `config_map: NAME`, exactly one, a valid object name.
    fn source(
        &mut self,
        path: &FieldPath,
        secret: &Option<String>,
        config_map: &Option<String>,
    ) -> Option<Source> {
        let (field, source) = match (secret, config_map) {
            (Some(s), None) => ("secret", Source::Secret(s.clone())),
            (None, Some(c)) => ("config_map", Source::ConfigMap(c.clone())),
            (given, _) => {
                let (at, msg) = if given.is_some() {
                    (
                        path.key("config_map"),
                        "give `secret` or `config_map`, not both",
                    )
                } else {
                    (
                        path.clone(),
                        "missing `secret` or `config_map` (the object to read)",
                    )
                };
                self.fail_help(
                    &at,
                    msg,
                    "e.g. `secret: db-credentials` (an existing Secret in the release namespace)",
                );
                return None;
            }
        };
        let (Source::Secret(name) | Source::ConfigMap(name)) = &source;
        if let Err(e) = rules::dns_subdomain(name) {
            self.fail(
                &path.key(field),
                format!("`{}` is not a valid object name: {e}", printable(name)),
            );
        }
        Some(source)
    }

    fn env_refs(&mut self, raw: &RawService, taken: &[&str]) -> Vec<EnvRef> {
        let mut seen: BTreeSet<String> = taken.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        for (i, r) in raw.env_refs.iter().flat_map(|e| &e.0).enumerate() {
            let path = self.path("env_refs").index(i);
            let Some(name) = r.name.clone() else {
                self.fail(&path, "missing field `name` (the environment variable)");
                continue;
            };
            if let Err(e) = rules::env_name(&name) {
                self.fail(&path, format!("env var name `{}` {e}", printable(&name)));
            } else if !seen.insert(name.clone()) {
                self.fail(
                    &path,
                    format!("`{name}` is already an env var, a secret or an env_refs entry"),
                );
            }
            let source = self.source(&path, &r.secret, &r.config_map);
            let key = r.key.clone().unwrap_or_else(|| name.clone());
            if let Err(e) = config_map_key(&key) {
                let at = if r.key.is_some() {
                    path.key("key")
                } else {
                    path.clone()
                };
                self.fail_help(
                    &at,
                    format!("key `{}` {e}", printable(&key)),
                    "the key defaults to the variable's name; give `key:` for another one",
                );
            }
            let optional = self.flag(&path.key("optional"), &r.optional, false);
            if let Some(source) = source {
                out.push(EnvRef {
                    name,
                    source,
                    key,
                    optional,
                });
            }
        }
        out
    }

    fn env_from(&mut self, raw: &RawService) -> Vec<EnvFrom> {
        let mut out: Vec<EnvFrom> = Vec::new();
        for (i, r) in raw.env_from.iter().flatten().enumerate() {
            let path = self.path("env_from").index(i);
            let source = self.source(&path, &r.secret, &r.config_map);
            let prefix = r.prefix.clone().unwrap_or_default();
            if r.prefix.is_some()
                && let Err(e) = rules::env_name(&prefix)
            {
                self.fail(
                    &path.key("prefix"),
                    format!("prefix `{}` {e}", printable(&prefix)),
                );
            }
            let optional = self.flag(&path.key("optional"), &r.optional, false);
            let Some(source) = source else { continue };
            if out.iter().any(|o| o.source == source && o.prefix == prefix) {
                self.fail(&path, "this object is listed twice");
                continue;
            }
            out.push(EnvFrom {
                source,
                prefix,
                optional,
            });
        }
        out
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

    fn extra_containers(
        &mut self,
        raw: &RawService,
        taken: &Taken,
    ) -> (Vec<ExtraContainer>, Vec<ExtraContainer>) {
        let mut names: Vec<String> = vec![MAIN_CONTAINER.to_string()];
        // Every container of a pod shares its network: ports must differ across all of them.
        let mut port_names: Vec<String> = taken.ports.iter().map(|p| p.name.clone()).collect();
        let mut port_numbers: Vec<u32> = taken.ports.iter().map(|p| p.container_port).collect();
        let mut sidecars = Vec::new();
        for (i, s) in raw.sidecars.iter().flatten().enumerate() {
            let path = self.path("sidecars").index(i);
            let mut c = self.extra_container(
                &path,
                (&s.name, &s.image, &s.commands, &s.args),
                (s.resource_request.as_ref(), s.resource_limits.as_ref()),
                &mut names,
                taken.requests,
            );
            for (j, p) in s.ports.iter().flatten().enumerate() {
                let ppath = path.key("ports").index(j);
                let name = p.name.clone().unwrap_or_default();
                if p.name.is_none() {
                    self.fail(&ppath, "missing field `name` (the port's name)");
                } else if let Err(e) = rules::port_name(&name) {
                    self.fail(
                        &ppath.key("name"),
                        format!("port name `{}` {e}", printable(&name)),
                    );
                } else if port_names.contains(&name) {
                    self.fail(
                        &ppath.key("name"),
                        format!("another container of the pod already has a port named `{name}`"),
                    );
                }
                if p.port.is_none() {
                    self.fail(&ppath, "missing field `port` (the container port number)");
                }
                let number = self.num(&ppath.key("port"), &p.port, 1, (1, 65535));
                if p.port.is_some() && port_numbers.contains(&number) {
                    self.fail(
                        &ppath.key("port"),
                        format!("port {number} is already used by another container of the pod (they share one network)"),
                    );
                }
                port_names.push(name.clone());
                port_numbers.push(number);
                c.ports.push((name, number));
            }
            sidecars.push(c);
        }
        let mut init = Vec::new();
        for (i, s) in raw.init_containers.iter().flatten().enumerate() {
            let path = self.path("init_containers").index(i);
            init.push(self.extra_container(
                &path,
                (&s.name, &s.image, &s.commands, &s.args),
                (s.resource_request.as_ref(), s.resource_limits.as_ref()),
                &mut names,
                taken.requests,
            ));
        }
        (init, sidecars)
    }

    #[allow(clippy::type_complexity)]
    fn extra_container(
        &mut self,
        path: &FieldPath,
        (name, image, commands, args): (
            &Option<String>,
            &Option<String>,
            &Option<Vec<String>>,
            &Option<Vec<String>>,
        ),
        (request, limits): (Option<&RawResources>, Option<&RawResources>),
        names: &mut Vec<String>,
        service_requests: &Resources,
    ) -> ExtraContainer {
        let name = name.clone().unwrap_or_default();
        if name.is_empty() {
            self.fail_help(
                path,
                "missing field `name`",
                "e.g. `name: migrate`: a DNS label, unique among the pod's containers",
            );
        } else if let Err(e) = rules::dns_label(&name, 63) {
            self.fail(
                &path.key("name"),
                format!("container name `{}` {e}", printable(&name)),
            );
        } else if names.contains(&name) {
            let why = if name == MAIN_CONTAINER {
                "is the service's own container".to_string()
            } else {
                "is used by another init container or sidecar".to_string()
            };
            self.fail(&path.key("name"), format!("the name `{name}` {why}"));
        }
        names.push(name.clone());
        let image = image
            .as_deref()
            .map(|i| self.extra_image(&path.key("image"), i));
        let command = commands.clone().unwrap_or_default();
        if command.first().is_some_and(|c| c.trim().is_empty()) {
            self.fail(
                &path.key("commands").index(0),
                "the command must start with a program",
            );
        } else if command.is_empty() && image.is_none() {
            self.fail_help(
                path,
                "without `image` this container runs the service's image, so it needs `commands`",
                "give `commands` (e.g. [\"/app/migrate\"]), or an `image` of its own",
            );
        }
        let resources = (request.is_some() || limits.is_some())
            .then(|| self.extra_resources(path, request, limits, service_requests));
        ExtraContainer {
            name,
            image: image.flatten(),
            command,
            args: args.clone().unwrap_or_default(),
            resources,
            ports: Vec::new(),
        }
    }

    /// A full image reference of its own; `None` if it is invalid (reported).
    fn extra_image(&mut self, path: &FieldPath, image: &str) -> Option<String> {
        let image = image.trim();
        if image.eq_ignore_ascii_case("AUTO") {
            self.fail_help(
                path,
                "`AUTO` is only for the service's image",
                "leave `image` out to run the service's image",
            );
            return None;
        }
        let (repo, tag, digest) = split_image(image);
        let problem = rules::image_repository(repo)
            .err()
            .or_else(|| {
                tag.and_then(|t| rules::image_tag(t).err().map(|e| format!("tag `{t}` {e}")))
            })
            .or_else(|| {
                digest.and_then(|d| rules::image_digest(d).err().map(|e| format!("digest {e}")))
            });
        if let Some(e) = problem {
            self.fail(
                path,
                format!("`{}` is not a valid image: {e}", printable(image)),
            );
            return None;
        }
        if tag.is_none() && digest.is_none() {
            self.warnings.push(format!(
                "the image `{image}` has no tag or digest, so it runs whatever `latest` is at that moment"
            ));
        }
        Some(image.to_string())
    }

    /// Requests default to the service's (each of cpu and memory); limits to twice the requests.
    fn extra_resources(
        &mut self,
        path: &FieldPath,
        request: Option<&RawResources>,
        limits: Option<&RawResources>,
        service: &Resources,
    ) -> (Resources, Resources) {
        let mut req = service.clone();
        let req_path = path.key("resource_request");
        let lim_path = path.key("resource_limits");
        if let Some(r) = request {
            if let Some(q) = &r.cpu {
                match rules::cpu_millis(q) {
                    Ok(v) => req.cpu_millis = v,
                    Err(e) => self.fail(&req_path.key("cpu"), e),
                }
            }
            if let Some(q) = &r.memory {
                match rules::memory(q) {
                    Ok(v) => req.memory = v,
                    Err(e) => self.fail(&req_path.key("memory"), e),
                }
            }
        }
        let mut lim = Resources {
            cpu_millis: req.cpu_millis.saturating_mul(2),
            memory: (req.memory.0.saturating_mul(2), req.memory.1),
        };
        if let Some(l) = limits {
            if let Some(q) = &l.cpu {
                match rules::cpu_millis(q) {
                    Ok(v) => lim.cpu_millis = v,
                    Err(e) => self.fail(&lim_path.key("cpu"), e),
                }
            }
            if let Some(q) = &l.memory {
                match rules::memory(q) {
                    Ok(v) => lim.memory = v,
                    Err(e) => self.fail(&lim_path.key("memory"), e),
                }
            }
        }
        if lim.cpu_millis < req.cpu_millis {
            self.fail(
                &lim_path.key("cpu"),
                format!(
                    "the CPU limit ({}) is below the request ({})",
                    lim.cpu(),
                    req.cpu()
                ),
            );
        }
        if lim.memory_bytes() < req.memory_bytes() {
            self.fail(
                &lim_path.key("memory"),
                format!(
                    "the memory limit ({}) is below the request ({})",
                    lim.memory(),
                    req.memory()
                ),
            );
        }
        (req, lim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(text: &str, vars: &[(&str, &str)]) -> Result<super::super::Service, String> {
        let src = crate::spec::source::SpecSource::from_str("t.yaml", text).unwrap();
        let opts = crate::spec::LoadOptions {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        let (loaded, _) = crate::spec::load(src, &opts).map_err(|e| e.render())?;
        super::super::build(&loaded[0], &Default::default())
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
    fn images_split_into_parts() {
        assert_eq!(split_image("a/b"), ("a/b", None, None));
        assert_eq!(
            split_image("localhost:5000/a:1.2@sha256:x"),
            ("localhost:5000/a", Some("1.2"), Some("sha256:x"))
        );
        assert_eq!(
            split_image("localhost:5000/a"),
            ("localhost:5000/a", None, None)
        );
    }
}
