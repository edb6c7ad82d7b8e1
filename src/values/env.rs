//! The container's environment: `env_vars`, the keys of `secrets` (as variables or files), and
//! variables from existing Secrets and ConfigMaps (`envRefs`, `envFrom`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Service;
use crate::model::env::{EnvFrom, EnvRef, Source};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretEnv {
    pub secret_name: String,
    pub keys: Vec<String>,
    /// Non-empty: the keys are files in this directory instead of environment variables.
    pub mount_path: String,
}

/// One key of an existing Secret or ConfigMap; exactly one of `secret` and `configMap` is set.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvRefValues {
    pub name: String,
    pub secret: String,
    pub config_map: String,
    pub key: String,
    pub optional: bool,
}

/// Every key of an existing Secret or ConfigMap (`envFrom`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvFromValues {
    pub secret: String,
    pub config_map: String,
    pub prefix: String,
    pub optional: bool,
}

/// `env_vars` keyed by name, so that `--set env.NAME=value` changes, adds or (with `null`)
/// removes one variable without restating the others. The template decides the order in the
/// container (`model::env::render_order`).
pub(super) fn env(s: &Service) -> BTreeMap<String, String> {
    s.env.iter().cloned().collect()
}

pub(super) fn secret_env(s: &Service) -> SecretEnv {
    SecretEnv {
        secret_name: s.secret_name.clone().unwrap_or_default(),
        keys: s.secret_keys.clone(),
        mount_path: s.secrets_mount_path.clone().unwrap_or_default(),
    }
}

fn source_names(s: &Source) -> (String, String) {
    match s {
        Source::Secret(n) => (n.clone(), String::new()),
        Source::ConfigMap(n) => (String::new(), n.clone()),
    }
}

pub(super) fn env_ref(r: &EnvRef) -> EnvRefValues {
    let (secret, config_map) = source_names(&r.source);
    EnvRefValues {
        name: r.name.clone(),
        secret,
        config_map,
        key: r.key.clone(),
        optional: r.optional,
    }
}

pub(super) fn env_from(r: &EnvFrom) -> EnvFromValues {
    let (secret, config_map) = source_names(&r.source);
    EnvFromValues {
        secret,
        config_map,
        prefix: r.prefix.clone(),
        optional: r.optional,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;
    use serde_json::json;

    #[test]
    fn env_vars_are_keyed_by_name() {
        let (s, _) = model(
            "env_vars: {B: \"2\", A: \"1\"}\nsecrets: [K]\nsecret_name: app\nsecrets_mount_path: /run/s\n",
        );
        assert_eq!(
            serde_json::to_value(env(&s)).unwrap(),
            json!({"A": "1", "B": "2"})
        );
        assert_eq!(
            serde_json::to_value(secret_env(&s)).unwrap(),
            json!({"secretName": "app", "keys": ["K"], "mountPath": "/run/s"})
        );
    }

    #[test]
    fn each_reference_names_one_kind_of_object() {
        let (s, _) = model(
            "env_refs: {A: {config_map: c, key: k, optional: true}}\nenv_from: [{secret: s, prefix: S_}]\n",
        );
        assert_eq!(
            serde_json::to_value(env_ref(&s.config.env_refs[0])).unwrap(),
            json!({"name": "A", "secret": "", "configMap": "c", "key": "k", "optional": true})
        );
        assert_eq!(
            serde_json::to_value(env_from(&s.config.env_from[0])).unwrap(),
            json!({"secret": "s", "configMap": "", "prefix": "S_", "optional": false})
        );
    }
}
