//! How public traffic reaches the service beyond Opta: HTTPS for the `public_uri` hosts (an
//! existing Secret or a cert-manager issuer), and Gateway API HTTPRoutes instead of Ingresses.

use super::builder::Builder;
use super::ingress::{Ingress, IngressController};
use super::ports::AppProtocol;
use super::rules;
use crate::diag::printable;
use crate::spec::raw::RawService;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traffic {
    pub tls: Option<Tls>,
    pub gateway: Option<Gateway>,
    /// The Service's `trafficDistribution` (Kubernetes spells it: `PreferClose`...).
    pub distribution: Option<String>,
}

/// The `trafficDistribution` values and the Kubernetes version each is GA in (KEP-4444, 3015);
/// the chart renders the field only on clusters that have it (templates/service.yaml).
pub const DISTRIBUTIONS: [(&str, &str); 2] = [("PreferClose", "1.33"), ("PreferSameZone", "1.35")];

/// Where the certificates come from.
#[derive(Clone, Debug, PartialEq)]
pub enum CertSource {
    /// An existing Secret covering every host (a SAN or wildcard certificate).
    Secret(String),
    /// cert-manager's ingress-shim issues one certificate per host from this ClusterIssuer...
    ClusterIssuer(String),
    /// ...or from this Issuer of the release namespace.
    Issuer(String),
}

/// The Secrets of the hosts are named by the chart (templates/_names.tpl, `svc.tlsSecretName`), not
/// here: `<fullname>-<host>-tls` must follow the release and a host given at install time.
#[derive(Clone, Debug, PartialEq)]
pub struct Tls {
    pub source: CertSource,
}

pub use super::gateway::{BackendTls, Gateway};

impl Builder<'_> {
    pub(super) fn traffic(&mut self, raw: &RawService, ingress: &Ingress) -> Traffic {
        let gateway = self.gateway(raw, ingress);
        if gateway.is_some() && raw.ingress_controller.is_some() {
            self.fail_help(
                &self.path("ingress_controller"),
                "`ingress_controller` cannot be used with `gateway`",
                "with `gateway` the routes are HTTPRoutes and no Ingress is generated: remove one of them",
            );
        } else if ingress.controller == IngressController::Portable {
            self.portable(raw, ingress);
        }
        let tls = self.tls(raw, ingress, gateway.is_some());
        let distribution = raw.traffic_distribution.as_ref().and_then(|d| {
            let d = d.trim();
            if DISTRIBUTIONS.iter().any(|(k, _)| *k == d) {
                return Some(d.to_string());
            }
            self.fail_help(
                &self.path("traffic_distribution"),
                format!("unknown traffic distribution `{}`", printable(d)),
                "expected `PreferClose` (Kubernetes 1.33 or later) or `PreferSameZone` (1.35 or later): both keep traffic in the client's zone when it has ready endpoints",
            );
            None
        });
        Traffic {
            tls,
            gateway,
            distribution,
        }
    }

    /// One name: a DNS subdomain (Secrets, issuers, Gateways, listeners) or label (namespaces).
    pub(super) fn object_name(
        &mut self,
        field: &str,
        key: &str,
        value: &str,
        label: bool,
    ) -> String {
        let v = value.trim();
        let r = if label {
            rules::dns_label(v, 63)
        } else {
            rules::dns_subdomain(v)
        };
        if let Err(e) = r {
            let path = self.path(field).key(key);
            self.fail(
                &path,
                format!("`{}` is not a valid name: it {e}", printable(v)),
            );
        }
        v.to_string()
    }

    /// A portable Ingress says only what every controller understands: a spec that asks for
    /// more is refused, naming where it can be had.
    fn portable(&mut self, raw: &RawService, ingress: &Ingress) {
        const ELSEWHERE: &str =
            "use `gateway:` (Gateway API routes), or `ingress_controller: ingress-nginx`";
        if !ingress.keep_path_prefix {
            for route in ingress.routes.iter().filter(|r| r.path != "/") {
                self.fail_help(
                    &self.path("public_uri"),
                    format!(
                        "public_uri path `{}` is stripped before the request reaches the pods, which a portable Ingress cannot do",
                        printable(&route.path)
                    ),
                    format!("set `keep_path_prefix: true` (the pods then see the full path), or {ELSEWHERE} (a URLRewrite filter)"),
                );
            }
        }
        let asks: [(&str, bool, &str); 2] = [
            ("sticky_session", ingress.sticky_session, "a sticky cookie"),
            (
                "consistent_hash",
                raw.consistent_hash.is_some(),
                "consistent hashing",
            ),
        ];
        for (field, given, what) in asks {
            if given {
                self.fail_help(
                    &self.path(field),
                    format!("`{field}` asks for {what}, which a portable Ingress cannot say"),
                    ELSEWHERE,
                );
            }
        }
        let protocol = match ingress.protocol {
            Some(AppProtocol::Grpc) => Some(("grpc", "a gRPC backend")),
            Some(AppProtocol::Websocket) => Some(("websocket", "hour-long websocket timeouts")),
            None => None,
        };
        if let Some((name, what)) = protocol {
            self.fail_help(
                &self.path("ingress_controller"),
                format!("the routed port is a {name} port, which needs {what}: a portable Ingress cannot say that"),
                ELSEWHERE,
            );
        }
    }

    fn tls(&mut self, raw: &RawService, ingress: &Ingress, gateway: bool) -> Option<Tls> {
        let t = raw.tls.as_ref()?;
        let path = self.path("tls");
        let given: Vec<(&str, &String)> = [
            ("secret_name", &t.secret_name),
            ("cluster_issuer", &t.cluster_issuer),
            ("issuer", &t.issuer),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        let (key, value) = match given.as_slice() {
            [one] => *one,
            [] => {
                self.fail_help(
                    &path,
                    "tls needs one of `secret_name`, `cluster_issuer` or `issuer`",
                    "`secret_name`: an existing TLS Secret for every host; `cluster_issuer`/`issuer`: cert-manager issues one certificate per host",
                );
                return None;
            }
            [_, (second, _), ..] => {
                self.fail_help(
                    &path.key(second),
                    "give only one of `secret_name`, `cluster_issuer` or `issuer`",
                    "with cert-manager the Secrets are named per host by the chart; an existing Secret needs no issuer",
                );
                return None;
            }
        };
        let name = self.object_name("tls", key, value, false);
        if gateway {
            self.fail_help(
                &path,
                "with `gateway`, TLS is the Gateway listener's job, not the route's",
                "remove tls and give the Gateway an HTTPS listener with certificateRefs (cert-manager can fill them from an annotation on the Gateway)",
            );
            return None;
        }
        if raw.public_uri.is_none() {
            self.fail_help(
                &path,
                "tls has nothing to secure: there is no public_uri",
                "add `public_uri: HOST/PATH`, or remove tls",
            );
            return None;
        }
        for route in ingress.routes.iter().filter(|r| r.host.is_none()) {
            self.fail_help(
                &path,
                format!(
                    "public_uri `{}` has no host, so it cannot be served over TLS (a certificate names hosts)",
                    printable(&route.path)
                ),
                "give every public_uri a host (`api.example.com/v1`), or remove tls",
            );
        }
        let source = match key {
            "secret_name" => CertSource::Secret(name),
            "cluster_issuer" => CertSource::ClusterIssuer(name),
            _ => CertSource::Issuer(name),
        };
        Some(Tls { source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn tls_takes_one_certificate_source() {
        let (s, _) = model(
            "port: {http: 8080}\npublic_uri: api.example.com\ntls: {cluster_issuer: letsencrypt}\n",
        );
        let tls = s.traffic.tls.unwrap();
        assert_eq!(tls.source, CertSource::ClusterIssuer("letsencrypt".into()));
        assert_eq!(
            problems("port: {http: 8080}\npublic_uri: /x\ntls: {secret_name: s}\n"),
            [(
                "tls".to_string(),
                "public_uri `/x` has no host, so it cannot be served over TLS (a certificate names hosts)".to_string()
            )]
        );
    }
}
