//! Opta's links (`model::links`): per linked module, the env vars and the keys of its Secret they
//! read (templates/_links.tpl). Keyed by the module's name (letters and digits), so one link's
//! setting is one `--set links.db.secretName=...` (Helm replaces a list whole). The Secret's
//! name is left to the template ("" gives "<fullname>-link-<module in lowercase>"), since the
//! release name is only known at install.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::links::Link;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkValues {
    /// Its Opta type, for the notes and messages.
    #[serde(rename = "type")]
    pub module_type: String,
    pub secret_name: String,
    pub env: Vec<LinkEnvValues>,
}

#[derive(Debug, Serialize)]
pub struct LinkEnvValues {
    /// The environment variable.
    pub name: String,
    /// Its key in the link's Secret (the module's output, e.g. `db_host`).
    pub key: String,
}

/// By module name; Go templates range over a map in this (sorted) order too.
pub(super) fn links(links: &[Link]) -> BTreeMap<String, LinkValues> {
    links.iter().map(|l| (l.module.clone(), link(l))).collect()
}

fn link(l: &Link) -> LinkValues {
    LinkValues {
        module_type: l.module_type.clone(),
        secret_name: String::new(),
        env: l
            .env
            .iter()
            .map(|(name, key)| LinkEnvValues {
                name: name.clone(),
                key: key.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;
    use serde_json::json;

    #[test]
    fn a_link_lists_its_variables_and_their_keys() {
        let (s, _) = model(
            "links: [{cache: [{cache_host: REDIS_HOST, cache_auth_token: REDIS_PASSWORD}]}]\nlink_types: {cache: redis}\n",
        );
        assert_eq!(
            serde_json::to_value(links(&s.links)).unwrap(),
            json!({"cache": {"type": "redis", "secretName": "", "env": [
                {"name": "REDIS_HOST", "key": "cache_host"},
                {"name": "REDIS_PASSWORD", "key": "cache_auth_token"},
            ]}})
        );
    }
}
