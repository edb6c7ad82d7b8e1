//! The ports the service listens on: Opta's one-entry `port` (with its quirks) or a `ports` list,
//! and `probe_port`, the port the probes check (the first port unless named).

use super::builder::Builder;
use super::rules;
use crate::diag::printable;
use crate::spec::raw::RawService;
use crate::spec::source::suggest;

#[derive(Clone, Debug, PartialEq)]
pub struct Port {
    pub name: String,
    pub container_port: u32,
    pub service_port: u32,
    pub kind: PortKind,
    pub protocol: Option<AppProtocol>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PortKind {
    Http,
    Tcp,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AppProtocol {
    Grpc,
    Websocket,
}

const VALID_LEGACY_PORT_KEYS: &[&str] = &["http", "tcp", "grpc", "websocket"];

impl Builder<'_> {
    pub(super) fn ports(&mut self, raw: &RawService) -> Vec<Port> {
        let mut ports = Vec::new();
        match (&raw.port, &raw.ports) {
            (Some(_), Some(_)) => {
                self.fail(
                    &self.path("ports"),
                    "cannot specify both `port` and `ports`",
                );
                return ports;
            }
            (Some(legacy), None) => {
                let path = self.path("port");
                if legacy.len() != 1 {
                    self.fail_help(
                        &path,
                        "`port` takes exactly one of http, tcp, grpc or websocket",
                        "for several ports use `ports:`",
                    );
                    return ports;
                }
                let Some((key, value)) = legacy.iter().next() else {
                    return ports;
                };
                let kpath = path.key(key);
                // Opta's legacy mapping, quirks included: a legacy `tcp` port is http + websocket.
                let protocol = match key.as_str() {
                    "http" => None,
                    "grpc" => Some(AppProtocol::Grpc),
                    "websocket" | "tcp" => Some(AppProtocol::Websocket),
                    other => {
                        let hint = suggest(other, VALID_LEGACY_PORT_KEYS).unwrap_or_default();
                        self.fail_help(
                            &kpath,
                            format!("unknown port type `{}`", printable(other)),
                            format!("{hint} expected one of: http, tcp, grpc, websocket")
                                .trim()
                                .to_string(),
                        );
                        return ports;
                    }
                };
                let number = self.num(&kpath, &Some(value.clone()), 80, (1, 65535));
                ports.push(Port {
                    name: "main".into(),
                    container_port: number,
                    service_port: 80,
                    kind: PortKind::Http,
                    protocol,
                });
            }
            (None, Some(list)) => {
                for (i, p) in list.iter().enumerate() {
                    let path = self.path("ports").index(i);
                    self.check(
                        &path.key("name"),
                        rules::port_name(&p.name)
                            .map_err(|e| format!("port name `{}` {e}", printable(&p.name))),
                    );
                    let kind = match p.port_type.as_str() {
                        "http" => PortKind::Http,
                        "tcp" => PortKind::Tcp,
                        other => {
                            self.fail_help(
                                &path.key("type"),
                                format!("unknown port type `{}`", printable(other)),
                                "expected http or tcp",
                            );
                            continue;
                        }
                    };
                    let protocol = match p.protocol.as_deref() {
                        None => None,
                        Some("grpc") => Some(AppProtocol::Grpc),
                        Some("websocket") => Some(AppProtocol::Websocket),
                        Some(other) => {
                            self.fail_help(
                                &path.key("protocol"),
                                format!("unknown protocol `{}`", printable(other)),
                                "expected grpc or websocket",
                            );
                            None
                        }
                    };
                    if kind == PortKind::Tcp && protocol.is_some() {
                        self.fail(&path.key("protocol"), "a tcp port cannot have a protocol; grpc and websocket are for http ports");
                    }
                    if p.port.is_none() {
                        self.fail(&path, "missing field `port` (the container port number)");
                    }
                    let number = self.num(&path.key("port"), &p.port, 1, (1, 65535));
                    let default_service = if kind == PortKind::Http { 80 } else { number };
                    let service_port = self.num(
                        &path.key("service_port"),
                        &p.service_port,
                        default_service,
                        (1, 65535),
                    );
                    ports.push(Port {
                        name: p.name.clone(),
                        container_port: number,
                        service_port,
                        kind,
                        protocol,
                    });
                }
                if ports.iter().filter(|p| p.kind == PortKind::Http).count() > 1 {
                    self.fail(
                        &self.path("ports"),
                        "multiple `type: http` ports are not supported; make the others tcp",
                    );
                }
                for (what, key) in [("name", 0), ("port number", 1), ("service port number", 2)] {
                    let mut seen = std::collections::BTreeSet::new();
                    for (i, p) in ports.iter().enumerate() {
                        let v = match key {
                            0 => p.name.clone(),
                            1 => p.container_port.to_string(),
                            _ => p.service_port.to_string(),
                        };
                        if !seen.insert(v.clone()) {
                            self.fail(
                                &self.path("ports").index(i),
                                format!("duplicate {what} `{v}`"),
                            );
                        }
                    }
                }
            }
            (None, None) => {}
        }
        ports
    }

    pub(super) fn probe_port(&mut self, raw: &RawService, ports: &[Port]) -> Option<String> {
        match &raw.probe_port {
            Some(name) => {
                if !ports.iter().any(|p| &p.name == name) {
                    let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
                    let hint = suggest(name, &names).unwrap_or_default();
                    self.fail_help(
                        &self.path("probe_port"),
                        format!("`{}` is not the name of a port", printable(name)),
                        format!("{hint} ports: {}", names.join(", "))
                            .trim()
                            .to_string(),
                    );
                }
                Some(name.clone())
            }
            None => ports.first().map(|p| p.name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn opta_legacy_ports_map_to_http_with_a_protocol() {
        for (key, protocol) in [
            ("http", None),
            ("grpc", Some(AppProtocol::Grpc)),
            ("websocket", Some(AppProtocol::Websocket)),
            ("tcp", Some(AppProtocol::Websocket)),
        ] {
            let (s, _) = model(&format!("port: {{{key}: 8080}}\n"));
            assert_eq!(
                s.ports,
                [Port {
                    name: "main".into(),
                    container_port: 8080,
                    service_port: 80,
                    kind: PortKind::Http,
                    protocol,
                }],
                "{key}"
            );
            assert_eq!(s.probe_port.as_deref(), Some("main"));
        }
    }

    #[test]
    fn an_unknown_legacy_port_type_is_refused() {
        assert_eq!(
            problems("port: {htp: 8080}\n"),
            [(
                "port.htp".to_string(),
                "unknown port type `htp`".to_string()
            )]
        );
        assert_eq!(
            problems("port: {http: 1, tcp: 2}\n"),
            [(
                "port".to_string(),
                "`port` takes exactly one of http, tcp, grpc or websocket".to_string()
            )]
        );
    }

    #[test]
    fn a_port_list_defaults_service_ports_by_type() {
        let (s, _) = model(
            "ports:\n  - {name: web, type: http, port: 8080}\n  - {name: db, type: tcp, port: 5432}\nprobe_port: db\n",
        );
        let got: Vec<_> = s
            .ports
            .iter()
            .map(|p| (p.name.as_str(), p.container_port, p.service_port))
            .collect();
        assert_eq!(got, [("web", 8080, 80), ("db", 5432, 5432)]);
        assert_eq!(s.probe_port.as_deref(), Some("db"));
    }

    #[test]
    fn port_lists_refuse_duplicates_and_a_second_http_port() {
        let got = problems(
            "ports:\n  - {name: a, type: http, port: 8080}\n  - {name: a, type: http, port: 8080}\n",
        );
        assert_eq!(
            got,
            [
                (
                    "ports".to_string(),
                    "multiple `type: http` ports are not supported; make the others tcp"
                        .to_string()
                ),
                ("ports[1]".to_string(), "duplicate name `a`".to_string()),
                (
                    "ports[1]".to_string(),
                    "duplicate port number `8080`".to_string()
                ),
                (
                    "ports[1]".to_string(),
                    "duplicate service port number `80`".to_string()
                ),
            ]
        );
    }

    #[test]
    fn the_probe_port_must_name_a_port() {
        assert_eq!(
            problems("port: {http: 8080}\nprobe_port: mian\n"),
            [(
                "probe_port".to_string(),
                "`mian` is not the name of a port".to_string()
            )]
        );
    }
}
