//! The Secrets and ConfigMaps a rendered pod refers to but its chart does not make (in a cluster
//! they exist beforehand): made up by the test, key by key, with values the checks recognise in
//! a container's environment. Pure: it uses no other part of the harness.

use std::collections::BTreeMap;

use serde_json::Value;

/// Secrets and ConfigMaps the pod refers to but the chart does not make (they exist beforehand
/// in a cluster): made up by the test, key by key.
#[derive(Default, Debug)]
pub struct Fixtures {
    pub secrets: BTreeMap<String, BTreeMap<String, String>>,
    pub config_maps: BTreeMap<String, BTreeMap<String, String>>,
}

impl Fixtures {
    fn value(kind: &str, name: &str, key: &str) -> String {
        format!("hks-{kind}:{name}:{key}")
    }
    /// The key an envFrom-only object gets.
    pub fn from_key(name: &str) -> String {
        let s: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        format!("HKS_FROM_{s}")
    }
    fn add(&mut self, secret: bool, name: &str, key: Option<&str>) {
        let (map, kind) = if secret {
            (&mut self.secrets, "secret")
        } else {
            (&mut self.config_maps, "cm")
        };
        let e = map.entry(name.to_string()).or_default();
        if let Some(k) = key {
            e.insert(k.to_string(), Self::value(kind, name, k));
        }
    }
    /// Every object the containers and volumes need (optional references get none: the pod
    /// must start without them).
    pub(super) fn collect(spec: &Value, chart_config_maps: &BTreeMap<String, Value>) -> Fixtures {
        let mut f = Fixtures::default();
        let containers = spec["containers"]
            .as_array()
            .into_iter()
            .chain(spec["initContainers"].as_array())
            .flatten();
        for c in containers {
            for e in c["env"].as_array().into_iter().flatten() {
                for (field, secret) in [("secretKeyRef", true), ("configMapKeyRef", false)] {
                    let r = &e["valueFrom"][field];
                    if let (Some(n), Some(k)) = (r["name"].as_str(), r["key"].as_str())
                        && r["optional"].as_bool() != Some(true)
                        && !chart_config_maps.contains_key(n)
                    {
                        f.add(secret, n, Some(k));
                    }
                }
            }
            for e in c["envFrom"].as_array().into_iter().flatten() {
                for (field, secret) in [("secretRef", true), ("configMapRef", false)] {
                    let r = &e[field];
                    if let Some(n) = r["name"].as_str()
                        && r["optional"].as_bool() != Some(true)
                        && !chart_config_maps.contains_key(n)
                    {
                        f.add(secret, n, Some(&Self::from_key(n)));
                    }
                }
            }
        }
        for v in spec["volumes"].as_array().into_iter().flatten() {
            if let Some(n) = v["secret"]["secretName"].as_str() {
                let items: Vec<&str> = v["secret"]["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["key"].as_str())
                    .collect();
                for k in items {
                    f.add(true, n, Some(k));
                }
            }
            if let Some(n) = v["configMap"]["name"].as_str()
                && !chart_config_maps.contains_key(n)
            {
                for k in v["configMap"]["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["key"].as_str())
                {
                    f.add(false, n, Some(k));
                }
            }
        }
        f
    }
    pub fn get(&self, secret: bool, name: &str, key: &str) -> Option<&String> {
        let m = if secret {
            &self.secrets
        } else {
            &self.config_maps
        };
        m.get(name)?.get(key)
    }
}
