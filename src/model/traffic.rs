//! How public traffic reaches the service beyond Opta: HTTPS for the `public_uri` hosts (an
//! existing Secret or a cert-manager issuer), and Gateway API HTTPRoutes instead of Ingresses.

use super::builder::Builder;
use super::ingress::Ingress;
use super::rules;
use crate::diag::printable;
use crate::spec::raw::RawService;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traffic {
    pub tls: Option<Tls>,
    pub gateway: Option<Gateway>,
}

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

#[derive(Clone, Debug, PartialEq)]
pub struct Gateway {
    pub name: String,
    /// `None`: the release namespace.
    pub namespace: Option<String>,
    /// A listener of the Gateway; `None`: every listener that admits the route.
    pub section_name: Option<String>,
}

impl Builder<'_> {
    pub(super) fn traffic(&mut self, raw: &RawService, ingress: &Ingress) -> Traffic {
        let gateway = self.gateway(raw);
        let tls = self.tls(raw, ingress, gateway.is_some());
        Traffic { tls, gateway }
    }

    /// One name: a DNS subdomain (Secrets, issuers, Gateways, listeners) or label (namespaces).
    fn object_name(&mut self, field: &str, key: &str, value: &str, label: bool) -> String {
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

    fn gateway(&mut self, raw: &RawService) -> Option<Gateway> {
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
        // What the standard HTTPRoute cannot say is refused rather than silently dropped.
        let unsupported: [(&str, bool, &str); 4] = [
            (
                "sticky_session",
                raw.sticky_session.is_some(),
                "session persistence is not part of the standard HTTPRoute (only of the experimental channel); configure affinity with your Gateway implementation's own policy",
            ),
            (
                "consistent_hash",
                raw.consistent_hash.is_some(),
                "the standard HTTPRoute has no load-balancing hash; configure it with your Gateway implementation's own policy",
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
        Some(Gateway {
            name,
            namespace,
            section_name,
        })
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

    #[test]
    fn a_gateway_refuses_what_an_httproute_cannot_say() {
        let (s, _) = model(
            "port: {http: 8080}\npublic_uri: a.example.com\ngateway: {name: public, namespace: gw}\n",
        );
        assert_eq!(
            s.traffic.gateway,
            Some(Gateway {
                name: "public".into(),
                namespace: Some("gw".into()),
                section_name: None,
            })
        );
        assert_eq!(
            problems(
                "port: {http: 8080}\npublic_uri: a.example.com\ngateway: {name: public}\nsticky_session: true\n"
            ),
            [(
                "sticky_session".to_string(),
                "`sticky_session` cannot be used with `gateway`".to_string()
            )]
        );
    }
}
