//! `gateway`: the `public_uri` routes as Gateway API routes instead of Ingresses (ours). What the
//! Standard channel (Gateway API v1.6) can say is rendered: an HTTPRoute per route (a GRPCRoute
//! for a grpc port), `timeouts` for websocket ports, the prefix rewrite as a URLRewrite filter, a
//! BackendTLSPolicy for pods that serve TLS. What it cannot say is refused with the alternative,
//! never silently dropped: sticky sessions only behind an opt-in naming the Experimental channel,
//! consistent hashing not at all (only implementation policies have it).

use super::builder::Builder;
use super::ingress::Ingress;
use super::ports::AppProtocol;
use super::rules;
use crate::diag::printable;
use crate::spec::raw::RawService;

#[derive(Clone, Debug, PartialEq)]
pub struct Gateway {
    pub name: String,
    /// `None`: the release namespace.
    pub namespace: Option<String>,
    /// A listener of the Gateway; `None`: every listener that admits the route.
    pub section_name: Option<String>,
    /// `sticky_session` as `sessionPersistence` (Experimental channel), asked for explicitly.
    pub session_persistence: bool,
    /// The pods serve TLS on the routed port: a BackendTLSPolicy.
    pub backend_tls: Option<BackendTls>,
}

/// How the Gateway checks the pods' certificate (BackendTLSPolicy `validation`).
#[derive(Clone, Debug, PartialEq)]
pub struct BackendTls {
    pub hostname: String,
    /// `None`: the implementation's well-known CAs.
    pub ca_config_map: Option<String>,
}

/// The route timeouts of a websocket port: the hour ingress-nginx's `proxy-read-timeout` and
/// `proxy-send-timeout` give it, so a long-lived connection is not cut at the default.
pub const WEBSOCKET_TIMEOUT: &str = "3600s";

impl Builder<'_> {
    pub(super) fn gateway(&mut self, raw: &RawService, ingress: &Ingress) -> Option<Gateway> {
        let g = raw.gateway.as_ref()?;
        let path = self.path("gateway");
        let name = match &g.name {
            Some(n) => self.object_name("gateway", "name", n, false),
            None => {
                self.fail_help(
                    &path,
                    "missing field `name` (the Gateway the routes attach to)",
                    "e.g. `gateway: {name: public, namespace: gateway-system}`",
                );
                String::new()
            }
        };
        let namespace = g
            .namespace
            .as_ref()
            .map(|n| self.object_name("gateway", "namespace", n, true));
        let section_name = g
            .section_name
            .as_ref()
            .map(|n| self.object_name("gateway", "section_name", n, false));
        if raw.public_uri.is_none() {
            self.fail_help(
                &path,
                "gateway has nothing to route: there is no public_uri",
                "add `public_uri: HOST/PATH`, or remove gateway",
            );
        }
        let session_persistence = self.flag(
            &path.key("experimental_session_persistence"),
            &g.experimental_session_persistence,
            false,
        );
        let sticky = raw.sticky_session.is_some() && ingress.sticky_session;
        if sticky && !session_persistence {
            self.fail_help(
                &self.path("sticky_session"),
                "`sticky_session` with `gateway` needs `gateway.experimental_session_persistence: true`: HTTPRoute sessionPersistence is still in the Experimental channel of Gateway API v1.6",
                "set `gateway: {experimental_session_persistence: true}` if your Gateway implementation supports it (with the Experimental CRDs), configure affinity with its own policy (Envoy Gateway BackendTrafficPolicy, Istio DestinationRule), or keep an ingress-nginx Ingress (remove `gateway`)",
            );
        }
        if session_persistence && !sticky {
            self.fail_help(
                &path.key("experimental_session_persistence"),
                "experimental_session_persistence has nothing to persist: `sticky_session` is not true",
                "add `sticky_session: true`, or remove experimental_session_persistence",
            );
        }
        if ingress.protocol == Some(AppProtocol::Grpc) {
            self.grpc_routes(ingress);
        }
        // What neither route kind can say is refused rather than silently dropped.
        let unsupported: [(&str, bool, &str); 3] = [
            (
                "consistent_hash",
                raw.consistent_hash.is_some(),
                "Gateway API has no portable load-balancing hash: configure it with your implementation's policy (Envoy Gateway BackendTrafficPolicy `loadBalancer: {type: ConsistentHash}`, Istio DestinationRule `consistentHash`), or keep an ingress-nginx Ingress (remove `gateway`)",
            ),
            (
                "ingress_extra_annotations",
                raw.ingress_extra_annotations.is_some(),
                "these are Ingress annotations, and with `gateway` no Ingress is generated",
            ),
            (
                "ingress_class",
                raw.ingress_class.is_some(),
                "with `gateway` the routes attach to the Gateway, and no Ingress is generated",
            ),
        ];
        for (field, given, why) in unsupported {
            if given {
                self.fail_help(
                    &self.path(field),
                    format!("`{field}` cannot be used with `gateway`"),
                    why,
                );
            }
        }
        let backend_tls = g.backend_tls.as_ref().and_then(|t| {
            let at = path.key("backend_tls");
            let Some(host) = &t.hostname else {
                self.fail_help(
                    &at,
                    "missing field `hostname` (the name the pods' certificate carries)",
                    "e.g. `backend_tls: {hostname: storefront.internal, ca_config_map: storefront-ca}`",
                );
                return None;
            };
            let host = host.trim().to_string();
            if let Err(e) = rules::dns_subdomain(&host) {
                self.fail(
                    &at.key("hostname"),
                    format!("`{}` is not a host name: {e}", printable(&host)),
                );
            }
            let ca_config_map = t
                .ca_config_map
                .as_ref()
                .map(|c| self.object_name("gateway.backend_tls", "ca_config_map", c, false));
            Some(BackendTls {
                hostname: host,
                ca_config_map,
            })
        });
        Some(Gateway {
            name,
            namespace,
            section_name,
            session_persistence,
            backend_tls,
        })
    }

    /// Pods that serve TLS on the routed port (`backend_tls`) and are probed there: an HTTP path
    /// becomes an HTTPS GET (the chart sets the scheme; the kubelet skips certificate checks), a
    /// TCP check works as it is, but the kubelet's gRPC health check has no TLS at all and would
    /// fail every pod: refused, naming the command probe that can.
    pub(super) fn backend_tls_probes(
        &mut self,
        gateway: Option<&Gateway>,
        ingress: &Ingress,
        probe_port: Option<&str>,
        grpc_probed: Option<u32>,
    ) {
        let tls = gateway.is_some_and(|g| g.backend_tls.is_some());
        let Some(number) = grpc_probed.filter(|_| tls && ingress.port.as_deref() == probe_port)
        else {
            return;
        };
        self.fail_help(
            &self.path("gateway").key("backend_tls"),
            "the pods serve TLS on the probe port, but the kubelet's gRPC health check speaks no TLS: every probe would fail",
            format!("probe with a command that speaks TLS, e.g. `healthcheck_command: [/bin/grpc_health_probe, -addr=:{number}, -tls, -tls-no-verify]` instead of grpc_health_check, or probe a plain port (`probe_port`)"),
        );
    }

    /// A GRPCRoute matches gRPC services and methods, not path prefixes: a route with a path
    /// cannot be said (and gRPC has no prefix to strip).
    fn grpc_routes(&mut self, ingress: &Ingress) {
        for route in ingress.routes.iter().filter(|r| r.path != "/") {
            self.fail_help(
                &self.path("public_uri"),
                format!(
                    "public_uri path `{}` on a grpc port: with `gateway` a grpc port gets a GRPCRoute, which matches gRPC services, not paths",
                    printable(&route.path)
                ),
                "give the grpc port a host without a path (`grpc.example.com`), or keep an ingress-nginx Ingress (remove `gateway`)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn a_gateway_refuses_what_the_standard_channel_cannot_say() {
        let (s, _) = model(
            "port: {http: 8080}\npublic_uri: a.example.com\ngateway: {name: public, namespace: gw}\n",
        );
        assert_eq!(
            s.traffic.gateway,
            Some(Gateway {
                name: "public".into(),
                namespace: Some("gw".into()),
                section_name: None,
                session_persistence: false,
                backend_tls: None,
            })
        );
        let p = problems(
            "port: {http: 8080}\npublic_uri: a.example.com\ngateway: {name: public}\nsticky_session: true\nconsistent_hash: $uri\n",
        );
        let fields: Vec<&str> = p.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["sticky_session", "consistent_hash"]);
        assert!(p[0].1.contains("experimental_session_persistence"), "{p:?}");
    }

    #[test]
    fn sticky_sessions_are_an_explicit_experimental_opt_in() {
        let (s, _) = model(
            "port: {http: 8080}\npublic_uri: a.example.com\nsticky_session: true\ngateway: {name: p, experimental_session_persistence: true}\n",
        );
        assert!(s.traffic.gateway.unwrap().session_persistence);
        assert_eq!(
            problems(
                "port: {http: 8080}\npublic_uri: a.example.com\ngateway: {name: p, experimental_session_persistence: true}\n"
            ),
            [(
                "gateway.experimental_session_persistence".to_string(),
                "experimental_session_persistence has nothing to persist: `sticky_session` is not true".to_string()
            )]
        );
    }

    #[test]
    fn grpc_routes_take_hosts_not_paths_and_backend_tls_names_a_host() {
        let (s, _) = model(
            "port: {grpc: 9090}\npublic_uri: grpc.example.com\ngateway: {name: p, backend_tls: {hostname: api.internal}}\n",
        );
        assert_eq!(
            s.traffic.gateway.unwrap().backend_tls,
            Some(BackendTls {
                hostname: "api.internal".into(),
                ca_config_map: None
            })
        );
        let p = problems(
            "port: {grpc: 9090}\npublic_uri: grpc.example.com/v1\ngateway: {name: p, backend_tls: {ca_config_map: ca}}\n",
        );
        let fields: Vec<&str> = p.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["public_uri", "gateway.backend_tls"], "{p:?}");
    }
}
