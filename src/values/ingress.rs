//! The Ingresses of the `public_uri` routes, with their TLS settings (traffic.rs).
//!
//! Hosts are values of their own, and routes name theirs by a key: the first host is
//! `ingress.host` (key `main`), the others `ingress.hosts.<key>`. So one `--set ingress.host=...`
//! moves every route of that host, its TLS section and its certificate's Secret (named from the
//! host by the chart) at install time, and a key never changes when only a host does.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ports::protocol_name;
use super::traffic::TlsValues;
use crate::model::Service;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressValues {
    pub enabled: bool,
    /// `ingress-nginx` (Opta's annotations) or `portable` (plain Prefix paths, no annotations).
    pub controller: String,
    pub class_name: String,
    pub annotations: BTreeMap<String, String>,
    pub port: String,
    pub backend_protocol: String,
    pub keep_path_prefix: bool,
    pub sticky_session: StickySession,
    pub consistent_hash: String,
    /// The main host (key [`MAIN`]): the first public_uri host; empty when none has one.
    pub host: String,
    /// The other hosts by key.
    pub hosts: BTreeMap<String, String>,
    pub routes: Vec<RouteValues>,
    pub tls: TlsValues,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StickySession {
    pub enabled: bool,
    pub cookie_name: String,
    pub max_age: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteValues {
    /// [`MAIN`], a key of `hosts`, or empty for any host.
    pub host_key: String,
    pub path: String,
}

/// The key of `ingress.host`.
pub const MAIN: &str = "main";

/// A key for each host, in first-seen order: the first host is [`MAIN`]; another is its first
/// label (`reports` for reports.example.com; `wildcard-shops` for *.shops.example.com), with more
/// labels while that is taken (`api-b` for api.b.com next to api.a.com). Keys are DNS labels, so
/// `--set ingress.hosts.KEY=...` needs no escaping.
fn host_keys<'a>(hosts: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for host in hosts {
        if keys.iter().any(|(_, h)| h == host) {
            continue;
        }
        if keys.is_empty() {
            keys.push((MAIN.to_string(), host.to_string()));
            continue;
        }
        let labels: Vec<&str> = match host.strip_prefix("*.") {
            Some(rest) => std::iter::once("wildcard").chain(rest.split('.')).collect(),
            None => host.split('.').collect(),
        };
        let taken = |k: &str| keys.iter().any(|(key, _)| key == k);
        let first = if host.starts_with("*.") { 2 } else { 1 };
        let key = (first.min(labels.len())..=labels.len())
            .map(|n| labels[..n].join("-"))
            .find(|k| !taken(k))
            .unwrap_or_else(|| {
                // Only when two hosts slug alike (a-b.com, a.b-com): number the later one.
                let base = labels.join("-");
                (2..)
                    .map(|i| format!("{base}-{i}"))
                    .find(|k| !taken(k))
                    .unwrap_or(base)
            });
        keys.push((key, host.to_string()));
    }
    keys
}

pub(super) fn ingress(s: &Service) -> IngressValues {
    let keys = host_keys(s.ingress.routes.iter().filter_map(|r| r.host.as_deref()));
    let key_of = |host: &str| {
        keys.iter()
            .find(|(_, h)| h == host)
            .map(|(k, _)| k.clone())
            .unwrap_or_default()
    };
    let host = keys.first().map(|(_, h)| h.clone()).unwrap_or_default();
    IngressValues {
        enabled: !s.ingress.routes.is_empty(),
        controller: s.ingress.controller.name().into(),
        class_name: s.ingress.class_name.clone(),
        annotations: s.ingress.annotations.clone(),
        port: s.ingress.port.clone().unwrap_or_default(),
        backend_protocol: protocol_name(s.ingress.protocol),
        keep_path_prefix: s.ingress.keep_path_prefix,
        sticky_session: StickySession {
            enabled: s.ingress.sticky_session,
            // Opta's cookie name, so clients keep their affinity across the migration.
            cookie_name: "opta-cookie".into(),
            max_age: s.ingress.sticky_max_age,
        },
        consistent_hash: s.ingress.consistent_hash.clone().unwrap_or_default(),
        host,
        hosts: keys.iter().skip(1).cloned().collect(),
        routes: s
            .ingress
            .routes
            .iter()
            .map(|r| RouteValues {
                host_key: r.host.as_deref().map(key_of).unwrap_or_default(),
                path: r.path.clone(),
            })
            .collect(),
        tls: TlsValues::from(s.traffic.tls.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;
    use serde_json::json;

    #[test]
    fn routes_without_a_host_match_any_host() {
        let (s, _) = model(
            "port: {websocket: 8080}\npublic_uri: [a.example.com/v1, /x]\nsticky_session: true\n",
        );
        let i = ingress(&s);
        assert!(i.enabled);
        assert_eq!(
            (i.port.as_str(), i.backend_protocol.as_str()),
            ("main", "websocket")
        );
        assert_eq!(
            serde_json::to_value(&i.routes).unwrap(),
            json!([{"hostKey": "main", "path": "/v1"}, {"hostKey": "", "path": "/x"}])
        );
        assert_eq!((i.host.as_str(), i.hosts.len()), ("a.example.com", 0));
        assert_eq!(
            serde_json::to_value(&i.sticky_session).unwrap(),
            json!({"enabled": true, "cookieName": "opta-cookie", "maxAge": 86400})
        );
        let (s, _) = model("port: {http: 8080}\n");
        assert!(!ingress(&s).enabled);
        assert_eq!(ingress(&s).host, "");
    }

    #[test]
    fn hosts_get_stable_keys_the_first_one_main() {
        let keys = host_keys(
            [
                "shop.example.com",
                "api.a.com",
                "shop.example.com",
                "api.b.com",
                "*.shops.example.com",
                "main.example.com",
                "a-b.com",
                "a.b-com",
            ]
            .into_iter(),
        );
        let keys: Vec<(&str, &str)> = keys.iter().map(|(k, h)| (k.as_str(), h.as_str())).collect();
        assert_eq!(
            keys,
            [
                ("main", "shop.example.com"),
                ("api", "api.a.com"),
                ("api-b", "api.b.com"),
                ("wildcard-shops", "*.shops.example.com"),
                ("main-example", "main.example.com"),
                ("a-b", "a-b.com"),
                ("a", "a.b-com"),
            ]
        );
        let (s, _) = model(
            "port: {http: 8080}\npublic_uri: [/status, a.example.com, b.example.com/v2, a.example.com/x]\n",
        );
        let i = ingress(&s);
        assert_eq!(i.host, "a.example.com");
        assert_eq!(
            serde_json::to_value(&i.hosts).unwrap(),
            json!({"b": "b.example.com"})
        );
        let keys: Vec<&str> = i.routes.iter().map(|r| r.host_key.as_str()).collect();
        assert_eq!(keys, ["", "main", "b", "main"]);
    }
}
