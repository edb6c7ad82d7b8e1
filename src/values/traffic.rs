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
    /// host -> Secret holding its certificate.
    pub secrets: BTreeMap<String, String>,
}

impl TlsValues {
    pub(super) fn from(tls: Option<&crate::model::traffic::Tls>) -> TlsValues {
        use crate::model::traffic::CertSource;
        let Some(t) = tls else {
            return TlsValues::default();
        };
        let (cluster_issuer, issuer) = match &t.source {
            CertSource::Secret(_) => (String::new(), String::new()),
            CertSource::ClusterIssuer(i) => (i.clone(), String::new()),
            CertSource::Issuer(i) => (String::new(), i.clone()),
        };
        TlsValues {
            enabled: true,
            cluster_issuer,
            issuer,
            secrets: t.secrets.clone(),
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
}

impl GatewayValues {
    pub(super) fn from(g: Option<&crate::model::traffic::Gateway>) -> GatewayValues {
        g.map_or_else(GatewayValues::default, |g| GatewayValues {
            enabled: true,
            name: g.name.clone(),
            namespace: g.namespace.clone().unwrap_or_default(),
            section_name: g.section_name.clone().unwrap_or_default(),
        })
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
                "secrets": {"a.example.com": "svc-a-example-com-tls"},
            })
        );
        assert!(!TlsValues::from(None).enabled);
    }

    #[test]
    fn a_gateway_in_the_release_namespace_leaves_it_empty() {
        let (s, _) = model(
            "port: {http: 8080}\npublic_uri: a.example.com\ngateway: {name: public, section_name: https}\n",
        );
        assert_eq!(
            serde_json::to_value(GatewayValues::from(s.traffic.gateway.as_ref())).unwrap(),
            json!({"enabled": true, "name": "public", "namespace": "", "sectionName": "https"})
        );
        assert!(!GatewayValues::from(None).enabled);
    }
}
