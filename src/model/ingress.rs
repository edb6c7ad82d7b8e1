//! Opta's `public_uri`: the routes (host and path) that reach the service's http port from
//! outside, and the settings of their Ingresses (class, path prefix, sticky sessions, consistent
//! hashing, extra annotations).

use std::collections::BTreeMap;

use super::builder::Builder;
use super::ports::{AppProtocol, Port, PortKind};
use super::rules;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::RawService;

#[derive(Clone, Debug, Default)]
pub struct Ingress {
    pub routes: Vec<Route>,
    pub controller: IngressController,
    pub class_name: String,
    pub keep_path_prefix: bool,
    pub sticky_session: bool,
    pub sticky_max_age: u32,
    pub consistent_hash: Option<String>,
    pub annotations: BTreeMap<String, String>,
    /// The http port's name and protocol, when there is an http port.
    pub port: Option<String>,
    pub protocol: Option<AppProtocol>,
}

/// The controller the Ingresses are written for (`ingress_controller`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum IngressController {
    /// Opta's annotations (rewrite, sticky cookie, hash, gRPC, websocket timeouts): the default.
    #[default]
    Nginx,
    /// Plain `Prefix` paths and no controller annotations: any conformant controller.
    Portable,
}

impl IngressController {
    pub fn name(self) -> &'static str {
        match self {
            IngressController::Nginx => "ingress-nginx",
            IngressController::Portable => "portable",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// `None`: any host.
    pub host: Option<String>,
    pub path: String,
}

impl Builder<'_> {
    pub(super) fn ingress(
        &mut self,
        raw: &RawService,
        ports: &[Port],
        max_replicas: u32,
    ) -> Ingress {
        let http = ports.iter().find(|p| p.kind == PortKind::Http);
        let uris = raw
            .public_uri
            .clone()
            .map(|u| u.into_vec())
            .unwrap_or_default();
        let multi = matches!(raw.public_uri, Some(crate::spec::raw::OneOrMany::Many(_)));
        let mut routes: Vec<Route> = Vec::new();
        for (i, uri) in uris.iter().enumerate() {
            let path = if multi {
                self.path("public_uri").index(i)
            } else {
                self.path("public_uri")
            };
            let Some(route) = self.route(&path, uri) else {
                continue;
            };
            if routes.contains(&route) {
                self.fail(&path, format!("`{}` is listed twice", printable(uri)));
                continue;
            }
            routes.push(route);
        }
        if !routes.is_empty() && http.is_none() {
            self.fail_help(
                &self.path("public_uri"),
                "public_uri needs an http port to route to",
                "add `port: {http: 8080}` or a `ports` entry with `type: http`",
            );
        }
        if !routes.is_empty() && max_replicas == 0 {
            self.fail(
                &self.path("public_uri"),
                "public_uri needs running containers, but max_containers is 0",
            );
        }
        let controller = match raw.ingress_controller.as_deref().map(str::trim) {
            None | Some("ingress-nginx") => IngressController::Nginx,
            Some("portable") => IngressController::Portable,
            Some(other) => {
                self.fail_help(
                    &self.path("ingress_controller"),
                    format!("unknown ingress controller `{}`", printable(other)),
                    "expected `ingress-nginx` (Opta's annotations) or `portable` (plain Prefix paths, any controller); or route with `gateway:` instead",
                );
                IngressController::Nginx
            }
        };
        // A portable Ingress takes the cluster's default IngressClass unless one is named.
        let class_name = raw
            .ingress_class
            .clone()
            .unwrap_or_else(|| match controller {
                IngressController::Nginx => "nginx".into(),
                IngressController::Portable => String::new(),
            });
        if raw.ingress_class.is_some() {
            let r = rules::dns_subdomain(&class_name)
                .map_err(|e| format!("ingress class `{}`: {e}", printable(&class_name)));
            self.check(&self.path("ingress_class"), r);
        }
        let consistent_hash = raw.consistent_hash.clone();
        if let Some(h) = &consistent_hash
            && (h.trim().is_empty() || h.chars().any(|c| c.is_control()))
        {
            self.fail(
                &self.path("consistent_hash"),
                "must be an nginx variable such as `$request_uri`, without control characters",
            );
        }
        let annotations = self.annotations(
            &self.path("ingress_extra_annotations"),
            raw.ingress_extra_annotations.as_ref(),
        );
        let nginx = controller == IngressController::Nginx;
        for key in annotations
            .keys()
            .filter(|k| nginx && k.ends_with("-snippet"))
        {
            self.warnings.push(format!("ingress annotation `{key}`: current ingress-nginx refuses snippet annotations unless the controller allows them"));
        }
        Ingress {
            routes,
            controller,
            class_name,
            keep_path_prefix: self.flag(
                &self.path("keep_path_prefix"),
                &raw.keep_path_prefix,
                false,
            ),
            sticky_session: self.flag(&self.path("sticky_session"), &raw.sticky_session, false),
            sticky_max_age: self.num(
                &self.path("sticky_session_max_age"),
                &raw.sticky_session_max_age,
                86_400,
                (1, 31_536_000),
            ),
            consistent_hash,
            annotations,
            port: http.map(|p| p.name.clone()),
            protocol: http.and_then(|p| p.protocol),
        }
    }

    /// `domain/path`; a leading `/` (or Opta's `*` / `all`) means any host.
    fn route(&mut self, path: &FieldPath, uri: &str) -> Option<Route> {
        let uri = uri.trim();
        if uri.is_empty() {
            self.fail_help(
                path,
                "a public_uri must not be empty",
                "write `domain/path`, or `/path` for any host",
            );
            return None;
        }
        if uri.contains("://") {
            self.fail_help(
                path,
                format!("`{}` has a scheme", printable(uri)),
                "write public_uri as `domain/path`, e.g. `api.example.com/v1`",
            );
            return None;
        }
        let (host, rest) = if let Some(r) = uri.strip_prefix('/') {
            ("", format!("/{r}"))
        } else if uri == "*" || uri.starts_with("*/") {
            ("", uri[1..].to_string())
        } else {
            match uri.split_once('/') {
                Some((h, r)) => (h, format!("/{r}")),
                None => (uri, "/".to_string()),
            }
        };
        let host = host.to_ascii_lowercase();
        let host = if host.is_empty() || host == "all" {
            None
        } else {
            Some(host)
        };
        if let Some(h) = &host
            && let Err(e) = rules::ingress_host(h)
        {
            self.fail(path, format!("`{}` is not a valid host: {e}", printable(h)));
            return None;
        }
        let mut p = if rest.is_empty() {
            "/".to_string()
        } else {
            rest
        };
        while p.len() > 1 && p.ends_with('/') {
            p.pop();
        }
        if let Err(e) = rules::url_path(&p) {
            self.fail(path, format!("path `{}` {e}", printable(&p)));
            return None;
        }
        Some(Route { host, path: p })
    }
}

#[cfg(test)]
mod tests {
    use crate::model::testing::{model, problems};

    #[test]
    fn public_uris_become_host_and_path_routes() {
        let (s, _) =
            model("port: {http: 8080}\npublic_uri: [API.example.com/v1/, /status, \"*\", all/x]\n");
        let routes: Vec<_> = s
            .ingress
            .routes
            .iter()
            .map(|r| (r.host.as_deref(), r.path.as_str()))
            .collect();
        assert_eq!(
            routes,
            [
                (Some("api.example.com"), "/v1"),
                (None, "/status"),
                (None, "/"),
                (None, "/x"),
            ]
        );
        let i = &s.ingress;
        assert_eq!(
            (i.class_name.as_str(), i.port.as_deref()),
            ("nginx", Some("main"))
        );
        assert_eq!((i.sticky_session, i.sticky_max_age), (false, 86_400));
    }

    #[test]
    fn bad_public_uris_are_refused_each_at_its_entry() {
        assert_eq!(
            problems(
                "port: {http: 8080}\npublic_uri: [\"https://a.example.com\", a.example.com, a.example.com/]\n"
            ),
            [
                (
                    "public_uri[0]".to_string(),
                    "`https://a.example.com` has a scheme".to_string()
                ),
                (
                    "public_uri[2]".to_string(),
                    "`a.example.com/` is listed twice".to_string()
                ),
            ]
        );
        assert_eq!(
            problems("public_uri: a.example.com\n"),
            [(
                "public_uri".to_string(),
                "public_uri needs an http port to route to".to_string()
            )]
        );
    }
}
