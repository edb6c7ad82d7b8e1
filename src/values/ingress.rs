//! The Ingresses of the `public_uri` routes, with their TLS settings (traffic.rs).

use std::collections::BTreeMap;

use serde::Serialize;

use super::ports::protocol_name;
use super::traffic::TlsValues;
use crate::model::Service;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressValues {
    pub enabled: bool,
    pub class_name: String,
    pub annotations: BTreeMap<String, String>,
    pub port: String,
    pub backend_protocol: String,
    pub keep_path_prefix: bool,
    pub sticky_session: StickySession,
    pub consistent_hash: String,
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
pub struct RouteValues {
    pub host: String,
    pub path: String,
}

pub(super) fn ingress(s: &Service) -> IngressValues {
    IngressValues {
        enabled: !s.ingress.routes.is_empty(),
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
        routes: s
            .ingress
            .routes
            .iter()
            .map(|r| RouteValues {
                host: r.host.clone().unwrap_or_default(),
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
            json!([{"host": "a.example.com", "path": "/v1"}, {"host": "", "path": "/x"}])
        );
        assert_eq!(
            serde_json::to_value(&i.sticky_session).unwrap(),
            json!({"enabled": true, "cookieName": "opta-cookie", "maxAge": 86400})
        );
        let (s, _) = model("port: {http: 8080}\n");
        assert!(!ingress(&s).enabled);
    }
}
