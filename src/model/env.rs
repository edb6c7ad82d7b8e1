//! The container's environment: Opta's `env_vars` and `secrets` (keys of one Secret, as variables
//! or as files under `secrets_mount_path`), and beyond Opta variables from existing Secrets and
//! ConfigMaps (`env_refs`: one key each; `env_from`: every key of an object).

use std::collections::BTreeSet;

use super::builder::Builder;
use super::rules;
use super::rules::config_map_key;
use super::storage::Volume;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::RawService;

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

impl Builder<'_> {
    pub(super) fn env(
        &mut self,
        raw: &RawService,
    ) -> (Vec<(String, String)>, Vec<String>, Option<String>) {
        let mut seen = std::collections::BTreeSet::new();
        let env = raw.env_vars.clone().map(|e| e.0).unwrap_or_default();
        for (i, (name, _)) in env.iter().enumerate() {
            let path = self.path("env_vars").index(i);
            if let Err(e) = rules::env_name(name) {
                self.fail(&path, format!("env var name `{}` {e}", printable(name)));
            } else if !seen.insert(name.clone()) {
                self.fail(&path, format!("env var `{name}` is given twice"));
            }
        }
        let secrets = raw.secrets.clone().unwrap_or_default();
        for (i, name) in secrets.iter().enumerate() {
            let path = self.path("secrets").index(i);
            if let Err(e) = rules::env_name(name) {
                self.fail(&path, format!("secret `{}` {e}", printable(name)));
            } else if !seen.insert(name.clone()) {
                self.fail(
                    &path,
                    format!("`{name}` is both an env var and a secret, or listed twice"),
                );
            }
        }
        self.warn_unresolved_references(&env);
        if let Some(name) = &raw.secret_name {
            let r = rules::dns_subdomain(name)
                .map_err(|e| format!("secret_name `{}`: {e}", printable(name)));
            self.check(&self.path("secret_name"), r);
        }
        (env, secrets, raw.secret_name.clone())
    }

    pub(super) fn secrets_mount_path(
        &mut self,
        raw: &RawService,
        keys: &[String],
        volumes: &[Volume],
    ) -> Option<String> {
        let given = raw.secrets_mount_path.as_deref()?;
        let path = self.path("secrets_mount_path");
        let p = given.trim();
        let p = if p.len() > 1 {
            p.trim_end_matches('/')
        } else {
            p
        };
        if keys.is_empty() {
            self.fail_help(
                &path,
                "secrets_mount_path needs `secrets` to mount",
                "list the keys of the Secret under `secrets`, or remove secrets_mount_path",
            );
        }
        if !p.starts_with('/')
            || p.split('/').any(|c| c == ".." || c == ".")
            || p.chars().any(|c| c.is_control())
            || p.len() > 1024
        {
            self.fail(
                &path,
                format!(
                    "`{}` must be an absolute path without `.` or `..`",
                    printable(p)
                ),
            );
        } else if p == "/" || p == "/tmp" {
            self.fail(&path, "cannot mount the secrets at `/` or `/tmp`");
        } else if volumes.iter().any(|v| v.path == p) {
            self.fail(
                &path,
                format!("`{p}` is also the path of a persistent_storage volume"),
            );
        }
        for (i, key) in keys.iter().enumerate() {
            if key == "." || key.starts_with("..") {
                self.fail(
                    &self.path("secrets").index(i),
                    format!("`{key}` cannot be a file name under secrets_mount_path"),
                );
            }
        }
        Some(p.to_string())
    }

    /// Kubernetes expands `$(NAME)` only with variables defined earlier in the container's list,
    /// and the chart keys `env` by name, so it cannot keep the spec's order: say which references
    /// the chart's order (`render_order`) leaves unexpanded.
    fn warn_unresolved_references(&mut self, env: &[(String, String)]) {
        let order = render_order(env);
        for (at, (name, value)) in order.iter().enumerate() {
            for used in references(value) {
                let later = order[at + 1..].iter().any(|(n, _)| n == used);
                if later {
                    self.warnings.push(format!(
                        "env_vars.{name}: `$({used})` will not be expanded: the chart sets the variables without `$(` first and then those with it, each group in name order, and {used} (which uses `$(` too) comes after {name}; rename one of them so that {used} sorts first"
                    ));
                }
            }
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

    pub(super) fn env_refs(&mut self, raw: &RawService, taken: &[&str]) -> Vec<EnvRef> {
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

    pub(super) fn env_from(&mut self, raw: &RawService) -> Vec<EnvFrom> {
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
}

/// The order in which the chart's template writes `env` (a mapping, which Go templates range in
/// name order): the variables without `$(` first, sorted by name, then those with it, sorted by
/// name, so that a reference to a plain variable always expands. Kept in step with
/// `chart-template/templates/_container.tpl` (the tests compare the two through real helm).
pub fn render_order(env: &[(String, String)]) -> Vec<&(String, String)> {
    let mut out: Vec<&(String, String)> = env.iter().collect();
    out.sort_by(|a, b| (a.1.contains("$("), &a.0).cmp(&(b.1.contains("$("), &b.0)));
    out
}

/// The names a value references as `$(NAME)`, as Kubernetes reads it: `$$` is a literal `$`.
fn references(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            rest = stripped;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(end) => {
                    out.push(&inner[..end]);
                    rest = &inner[end + 1..];
                }
                None => break,
            }
        } else {
            rest = after;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn plain_variables_come_first_and_references_to_later_ones_are_warned_about() {
        let env: Vec<(String, String)> = [
            ("Z", "1"),
            ("URL", "$(HOST):$(Z)"),
            ("A", "$(URL)"),
            ("HOST", "h"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        let names: Vec<&str> = render_order(&env).iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["HOST", "Z", "A", "URL"]);
        assert_eq!(references("$(A)$$(B)$$$(C)$(D"), ["A", "C"]);
        let (_, warnings) = model(
            "env_vars: {HOST: h, URL: \"http://$(HOST)\", A: \"$(URL)/x\", B: \"$(REF) $(A)\"}\n",
        );
        let warnings: Vec<&String> = warnings
            .iter()
            .filter(|w| w.starts_with("env_vars"))
            .collect();
        assert_eq!(
            warnings,
            [
                "env_vars.A: `$(URL)` will not be expanded: the chart sets the variables without `$(` first and then those with it, each group in name order, and URL (which uses `$(` too) comes after A; rename one of them so that URL sorts first"
            ]
        );
    }

    #[test]
    fn env_vars_and_secrets_share_one_set_of_names() {
        let (s, _) =
            model("env_vars: {B: \"2\", A: \"1\"}\nsecrets: [C]\nsecret_name: app-secrets\n");
        assert_eq!(
            s.env,
            [
                ("B".to_string(), "2".to_string()),
                ("A".to_string(), "1".to_string())
            ],
            "document order"
        );
        assert_eq!(
            (s.secret_keys, s.secret_name),
            (vec!["C".to_string()], Some("app-secrets".to_string()))
        );
        assert_eq!(
            problems("env_vars: {A: \"1\"}\nsecrets: [A]\n"),
            [(
                "secrets[0]".to_string(),
                "`A` is both an env var and a secret, or listed twice".to_string()
            )]
        );
    }

    #[test]
    fn secrets_mount_path_needs_secrets_and_a_directory_of_its_own() {
        let (s, _) = model("secrets: [C]\nsecrets_mount_path: /run/secrets/\n");
        assert_eq!(s.secrets_mount_path.as_deref(), Some("/run/secrets"));
        assert_eq!(
            problems("secrets_mount_path: /tmp\n"),
            [
                (
                    "secrets_mount_path".to_string(),
                    "secrets_mount_path needs `secrets` to mount".to_string()
                ),
                (
                    "secrets_mount_path".to_string(),
                    "cannot mount the secrets at `/` or `/tmp`".to_string()
                ),
            ]
        );
        assert_eq!(
            problems(
                "secrets: [C]\nsecrets_mount_path: /data\npersistent_storage: [{path: /data, size: 1}]\n"
            ),
            [(
                "secrets_mount_path".to_string(),
                "`/data` is also the path of a persistent_storage volume".to_string()
            )]
        );
    }

    #[test]
    fn env_refs_and_env_from_name_one_object_each() {
        let (s, _) = model("env_from: [{config_map: c, prefix: C_}, {secret: s}]\n");
        let from: Vec<_> = s
            .config
            .env_from
            .iter()
            .map(|e| (&e.source, e.prefix.as_str()))
            .collect();
        assert_eq!(
            from,
            [
                (&Source::ConfigMap("c".into()), "C_"),
                (&Source::Secret("s".into()), "")
            ]
        );
        assert_eq!(
            problems(
                "env_vars: {A: \"1\"}\nenv_refs: {A: {secret: s}, B: {secret: s, config_map: c}}\nenv_from: [{secret: s}, {secret: s}]\n"
            ),
            [
                (
                    "env_refs.A".to_string(),
                    "`A` is already an env var, a secret or an env_refs entry".to_string()
                ),
                (
                    "env_refs.B.config_map".to_string(),
                    "give `secret` or `config_map`, not both".to_string()
                ),
                (
                    "env_from[1]".to_string(),
                    "this object is listed twice".to_string()
                ),
            ]
        );
    }
}
