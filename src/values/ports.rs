//! The container's ports and the Service that exposes them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{AppProtocol, PortKind, Service};

/// One port, keyed in `ports` by its name, so that `--set ports.NAME.servicePort=8080` changes
/// that one. The templates read them sorted by name (`svc.ports` in `_helpers.tpl`): nothing in
/// Kubernetes depends on their order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortValues {
    pub container_port: u32,
    pub service_port: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub protocol: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceValues {
    #[serde(rename = "type")]
    pub kind: String,
    pub annotations: BTreeMap<String, String>,
    /// `spec.trafficDistribution`; empty: none. Rendered only on clusters that have the value.
    pub traffic_distribution: String,
}

pub(super) fn ports(s: &Service) -> BTreeMap<String, PortValues> {
    s.ports
        .iter()
        .map(|p| {
            let values = PortValues {
                container_port: p.container_port,
                service_port: p.service_port,
                kind: match p.kind {
                    PortKind::Http => "http".into(),
                    PortKind::Tcp => "tcp".into(),
                },
                protocol: protocol_name(p.protocol),
            };
            (p.name.clone(), values)
        })
        .collect()
}

pub(super) fn protocol_name(p: Option<AppProtocol>) -> String {
    match p {
        None => String::new(),
        Some(AppProtocol::Grpc) => "grpc".into(),
        Some(AppProtocol::Websocket) => "websocket".into(),
    }
}

pub(super) fn service(s: &Service) -> ServiceValues {
    ServiceValues {
        kind: "ClusterIP".into(),
        annotations: BTreeMap::new(),
        traffic_distribution: s.traffic.distribution.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;
    use serde_json::json;

    #[test]
    fn ports_keep_their_kind_and_protocol() {
        let (s, _) = model(
            "ports:\n  - {name: api, type: http, protocol: grpc, port: 9090}\n  - {name: db, type: tcp, port: 5432, service_port: 15432}\n",
        );
        assert_eq!(
            serde_json::to_value(ports(&s)).unwrap(),
            json!({
                "api": {"containerPort": 9090, "servicePort": 80, "type": "http", "protocol": "grpc"},
                "db": {"containerPort": 5432, "servicePort": 15432, "type": "tcp", "protocol": ""},
            })
        );
        assert_eq!(protocol_name(Some(AppProtocol::Websocket)), "websocket");
        assert_eq!(
            serde_json::to_value(service(&s)).unwrap(),
            json!({"type": "ClusterIP", "annotations": {}, "trafficDistribution": ""})
        );
        let (s, _) = model("port: {http: 8080}\ntraffic_distribution: PreferSameZone\n");
        assert_eq!(service(&s).traffic_distribution, "PreferSameZone");
    }
}
