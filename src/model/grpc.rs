//! Native gRPC health checks (grpc.health.v1) of a grpc probe port, beyond Opta:
//! `grpc_health_check` and `grpc_health_service`, checked against the probe port and the probe
//! paths (probes.rs puts the check into every probe without a command).

use super::builder::Builder;
use super::ports::{AppProtocol, Port, PortKind};
use crate::diag::printable;
use crate::spec::raw::RawService;

/// A native gRPC health check (grpc.health.v1) of the probe port.
#[derive(Clone, Debug, PartialEq)]
pub struct GrpcCheck {
    /// The container port number: Kubernetes' GRPCAction takes no port name.
    pub port: u32,
    /// The service name sent in the health request; `None` asks about the whole server.
    pub service: Option<String>,
}

impl Builder<'_> {
    /// `grpc_health_check` (and its service name), checked against the probe port.
    pub(super) fn grpc_check(
        &mut self,
        raw: &RawService,
        ports: &[Port],
        probe_port: &Option<String>,
    ) -> Option<GrpcCheck> {
        let field = self.path("grpc_health_check");
        let service_given = raw.grpc_health_service.is_some();
        // Naming a health service asks for the check; only an explicit `false` contradicts it.
        let on = self.flag(&field, &raw.grpc_health_check, service_given);
        if let Some(s) = &raw.grpc_health_service {
            let ok = !s.is_empty()
                && s.len() <= 253
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'));
            if !ok {
                self.fail_help(
                    &self.path("grpc_health_service"),
                    format!(
                        "`{}` is not a gRPC service name",
                        printable(s)
                    ),
                    "a fully qualified service name such as `inventory.v1.Stock`, at most 253 letters, digits, `.`, `_`, `-` and `/`",
                );
            }
            if !on {
                self.fail(
                    &self.path("grpc_health_service"),
                    "grpc_health_service needs grpc_health_check: true",
                );
            }
        }
        if !on {
            return None;
        }
        let port = probe_port
            .as_ref()
            .and_then(|n| ports.iter().find(|p| &p.name == n));
        match port {
            Some(p) if p.kind == PortKind::Http && p.protocol == Some(AppProtocol::Grpc) => {
                Some(GrpcCheck {
                    port: p.container_port,
                    service: raw.grpc_health_service.clone(),
                })
            }
            _ => {
                let at = if raw.grpc_health_check.is_some() {
                    field
                } else {
                    self.path("grpc_health_service")
                };
                self.fail_help(
                    &at,
                    match port {
                        Some(p) => format!("the probe port `{}` is not a grpc port", p.name),
                        None => "a gRPC health check needs a grpc port".to_string(),
                    },
                    "use `port: {grpc: N}`, or a `ports` entry with `type: http` and `protocol: grpc` (and `probe_port` naming it)",
                );
                None
            }
        }
    }

    /// With gRPC health checks, an HTTP path on the same port is a contradiction: refuse it
    /// rather than guess (without `grpc_health_check`, a path stays an HTTP GET, as in Opta).
    pub(super) fn grpc_paths(&mut self, raw: &RawService, startup: bool) {
        let mut fields = Vec::new();
        for (specific, specific_field) in [
            (&raw.liveness_probe_path, "liveness_probe_path"),
            (&raw.readiness_probe_path, "readiness_probe_path"),
        ] {
            if specific.is_some() {
                fields.push(specific_field);
            } else if raw.healthcheck_path.is_some() {
                fields.push("healthcheck_path");
            }
        }
        if startup && raw.startup_probe_path.is_some() {
            fields.push("startup_probe_path");
        }
        fields.dedup();
        for f in fields {
            self.fail_help(
                &self.path(f),
                format!("`{f}` asks for an HTTP GET, but grpc_health_check makes the probes gRPC health checks"),
                "remove the path (or use a command), or remove grpc_health_check",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn grpc_checks_use_the_port_number_and_leave_commands_alone() {
        let (s, _) = model(
            "ports:\n  - {name: api, type: http, protocol: grpc, port: 9090}\n  - {name: m, type: tcp, port: 9100}\nprobe_port: api\ngrpc_health_service: a.v1.B\nreadiness_probe_command: [/bin/ready]\ninitial_startup_delay: 1\n",
        );
        let want = Some(GrpcCheck {
            port: 9090,
            service: Some("a.v1.B".into()),
        });
        assert_eq!(s.liveness.grpc, want);
        assert_eq!(s.readiness.grpc, None);
        assert_eq!(s.workload.startup.unwrap().grpc, want);
    }

    #[test]
    fn grpc_checks_need_a_grpc_probe_port() {
        assert_eq!(
            problems("port: {http: 8080}\ngrpc_health_check: true\n"),
            [(
                "grpc_health_check".to_string(),
                "the probe port `main` is not a grpc port".to_string()
            )]
        );
        assert_eq!(
            problems("port: {grpc: 9090}\ngrpc_health_check: true\nhealthcheck_path: /h\n"),
            [(
                "healthcheck_path".to_string(),
                "`healthcheck_path` asks for an HTTP GET, but grpc_health_check makes the probes gRPC health checks".to_string()
            )]
        );
    }
}
