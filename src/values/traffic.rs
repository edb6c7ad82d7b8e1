//! Beyond Opta's Ingresses: TLS for the routes' hosts, and Gateway API HTTPRoutes instead.

use std::collections::BTreeMap;

use serde::Serialize;

/// HTTPS for the routes' hosts (the spec's `tls`).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsValues {
    pub enabled: bool,
    pub cluster_issuer: String,
    pub issuer: String,
    /// An existing Secret for every host (the spec's `secret_name`), kept as given; empty: one
    /// Secret per host and release, named by the chart (`svc.tlsSecretName`).
    pub secret_name: String,
    /// Host key (`main` or a key of `ingress.hosts`) -> Secret: an install-time override, always
    /// empty in the generated values.
    pub secrets: BTreeMap<String, String>,
}

impl TlsValues {
    pub(super) fn from(tls: Option<&crate::model::traffic::Tls>) -> TlsValues {
        use crate::model::traffic::CertSource;
        let Some(t) = tls else {
            return TlsValues::default();
        };
        let (cluster_issuer, issuer, secret_name) = match &t.source {
            CertSource::Secret(s) => (String::new(), String::new(), s.clone()),
            CertSource::ClusterIssuer(i) => (i.clone(), String::new(), String::new()),
            CertSource::Issuer(i) => (String::new(), i.clone(), String::new()),
        };
        TlsValues {
            enabled: true,
            cluster_issuer,
            issuer,
            secret_name,
            secrets: BTreeMap::new(),
        }
    }
}

/// Gateway API HTTPRoutes instead of Ingresses (the spec's `gateway`).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayValues {
    pub enabled: bool,
    pub name: String,
    pub namespace: String,
    pub section_name: String,
    /// `ingress.stickySession` as `sessionPersistence` (Experimental channel), asked for.
    pub experimental_session_persistence: bool,
    pub timeouts: RouteTimeouts,
    #[serde(rename = "backendTLS")]
    pub backend_tls: BackendTlsValues,
}

/// HTTPRoute `timeouts`; empty: the implementation's defaults.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteTimeouts {
    pub request: String,
    pub backend_request: String,
}

/// A BackendTLSPolicy for the routed port.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendTlsValues {
    pub enabled: bool,
    pub hostname: String,
    /// A ConfigMap with `ca.crt`; empty: the implementation's well-known CAs.
    pub ca_config_map: String,
}

impl GatewayValues {
    pub(super) fn from(s: &crate::model::Service) -> GatewayValues {
        use crate::model::gateway::WEBSOCKET_TIMEOUT;
        use crate::model::ports::AppProtocol;
        // Set whenever the port is a websocket port, so `--set gateway.enabled=true` on an
        // Ingress chart keeps the long-lived connections.
        let timeouts = if s.ingress.protocol == Some(AppProtocol::Websocket) {
            RouteTimeouts {
                request: WEBSOCKET_TIMEOUT.into(),
                backend_request: WEBSOCKET_TIMEOUT.into(),
            }
        } else {
            RouteTimeouts::default()
        };
        let mut v = GatewayValues {
            timeouts,
            ..GatewayValues::default()
        };
        if let Some(g) = s.traffic.gateway.as_ref() {
            v.enabled = true;
            v.name = g.name.clone();
            v.namespace = g.namespace.clone().unwrap_or_default();
            v.section_name = g.section_name.clone().unwrap_or_default();
            v.experimental_session_persistence = g.session_persistence;
            if let Some(t) = &g.backend_tls {
                v.backend_tls = BackendTlsValues {
                    enabled: true,
                    hostname: t.hostname.clone(),
                    ca_config_map: t.ca_config_map.clone().unwrap_or_default(),
                };
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;
    use serde_json::json;

    #[test]
    fn an_issuer_fills_one_of_its_two_keys() {
        let (s, _) = model("port: {http: 8080}\npublic_uri: a.example.com\ntls: {issuer: local}\n");
        assert_eq!(
            serde_json::to_value(TlsValues::from(s.traffic.tls.as_ref())).unwrap(),
            json!({
                "enabled": true,
                "clusterIssuer": "",
                "issuer": "local",
                "secretName": "",
                "secrets": {},
            })
        );
        let (s, _) =
            model("port: {http: 8080}\npublic_uri: a.example.com\ntls: {secret_name: wild}\n");
        let t = TlsValues::from(s.traffic.tls.as_ref());
        assert_eq!((t.secret_name.as_str(), t.issuer.as_str()), ("wild", ""));
        assert!(!TlsValues::from(None).enabled);
    }

    #[test]
    fn a_gateway_in_the_release_namespace_leaves_it_empty() {
        let (s, _) = model(
            "port: {http: 8080}\npublic_uri: a.example.com\ngateway: {name: public, section_name: https}\n",
        );
        assert_eq!(
            serde_json::to_value(GatewayValues::from(&s)).unwrap(),
            json!({"enabled": true, "name": "public", "namespace": "", "sectionName": "https",
                "experimentalSessionPersistence": false,
                "timeouts": {"request": "", "backendRequest": ""},
                "backendTLS": {"enabled": false, "hostname": "", "caConfigMap": ""}})
        );
        let (s, _) = model("port: {websocket: 8080}\npublic_uri: a.example.com\n");
        let g = GatewayValues::from(&s);
        assert!(!g.enabled);
        assert_eq!(g.timeouts.request, "3600s");
    }
}
