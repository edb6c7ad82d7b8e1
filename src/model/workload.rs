//! How the service's pods run, beyond Opta: probe timing, a startup probe, native gRPC health
//! checks, topology spread, HPA scaling speed, graceful shutdown and scheduling constraints.
//! Every field is optional; without them the chart renders what it rendered before, except the
//! topology spread, which is on by default (soft) whenever more than one replica can run.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{AppProtocol, Builder, Port, PortKind, Probe, rules};
use crate::diag::{FieldPath, printable};
use crate::spec::raw::{Lenient, RawService, RawTiming};
use crate::spec::source::suggest;

/// Period, timeout and failure threshold of one probe.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProbeTiming {
    pub period: u32,
    pub timeout: u32,
    pub failure_threshold: u32,
}

/// Liveness is more patient than readiness: a struggling pod leaves the load balancer (readiness)
/// long before it is restarted (liveness), so one slow dependency cannot restart every pod.
pub const LIVENESS_TIMING: ProbeTiming = ProbeTiming {
    period: 10,
    timeout: 3,
    failure_threshold: 6,
};
pub const READINESS_TIMING: ProbeTiming = ProbeTiming {
    period: 10,
    timeout: 2,
    failure_threshold: 3,
};
/// Five minutes to start (30 checks, 10 s apart) before liveness takes over.
pub const STARTUP_TIMING: ProbeTiming = ProbeTiming {
    period: 10,
    timeout: 3,
    failure_threshold: 30,
};

/// A native gRPC health check (grpc.health.v1) of the probe port.
#[derive(Clone, Debug, PartialEq)]
pub struct GrpcCheck {
    /// The container port number: Kubernetes' GRPCAction takes no port name.
    pub port: u32,
    /// The service name sent in the health request; `None` asks about the whole server.
    pub service: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spread {
    /// `whenUnsatisfiable: ScheduleAnyway`: spread when possible, never block scheduling.
    Soft,
    /// `whenUnsatisfiable: DoNotSchedule`.
    Strict,
    Off,
}

/// One direction of the HPA's `behavior`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScaleRule {
    pub stabilization_seconds: Option<u32>,
    pub max_percent_per_minute: Option<u32>,
    pub max_pods_per_minute: Option<u32>,
}

impl ScaleRule {
    pub fn is_empty(&self) -> bool {
        *self == ScaleRule::default()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub startup: Option<Probe>,
    pub spread: Spread,
    pub scale_up: ScaleRule,
    pub scale_down: ScaleRule,
    pub termination_grace_period: u32,
    /// Seconds the container sleeps in preStop before SIGTERM; 0: no hook.
    pub pre_stop_delay: u32,
    pub node_selector: BTreeMap<String, String>,
    pub affinity: BTreeMap<String, Value>,
    pub priority_class_name: Option<String>,
}

const SPREADS: &[&str] = &["soft", "strict", "off"];
const AFFINITY_KEYS: &[&str] = &["nodeAffinity", "podAffinity", "podAntiAffinity"];

impl Builder<'_> {
    /// Everything of this module. Sets the timing and the gRPC check of the liveness and
    /// readiness probes built by `probe`, and builds the startup probe after them.
    pub(super) fn workload(
        &mut self,
        raw: &RawService,
        ports: &[Port],
        probe_port: &Option<String>,
        probes: (&mut Probe, &mut Probe),
        replicas: (u32, u32),
    ) -> Workload {
        let (liveness, readiness) = probes;
        let timing = raw.probe_timing.as_ref();
        let tpath = self.path("probe_timing");
        liveness.timing = self.timing(
            &tpath.key("liveness"),
            timing.and_then(|t| t.liveness.as_ref()),
            LIVENESS_TIMING,
        );
        readiness.timing = self.timing(
            &tpath.key("readiness"),
            timing.and_then(|t| t.readiness.as_ref()),
            READINESS_TIMING,
        );
        let mut startup = self.startup_probe(raw, ports, probe_port, liveness);
        if let Some(s) = startup.as_mut() {
            s.timing = self.timing(
                &tpath.key("startup"),
                timing.and_then(|t| t.startup.as_ref()),
                STARTUP_TIMING,
            );
        }
        let grpc = self.grpc_check(raw, ports, probe_port);
        if let Some(check) = grpc {
            self.grpc_paths(raw, &startup);
            let mut used = false;
            for p in [
                Some(&mut *liveness),
                Some(&mut *readiness),
                startup.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                // A command still wins: exec probes do not depend on the port.
                if p.path.is_none() && p.command.is_empty() {
                    p.grpc = Some(check.clone());
                    used = true;
                }
            }
            if !used {
                self.warnings
                    .push("grpc_health_check is not used: every probe runs a command".into());
            }
        }
        let spread = self.spread(raw, replicas.1);
        let (scale_up, scale_down) = self.scaling(raw, replicas);
        let (termination_grace_period, pre_stop_delay) = self.shutdown(raw);
        let node_selector = self.node_selector(raw);
        let affinity = self.affinity(raw);
        let priority_class_name = raw.priority_class_name.clone();
        if let Some(name) = &priority_class_name {
            let r = rules::dns_subdomain(name)
                .map_err(|e| format!("priority class `{}`: {e}", printable(name)));
            self.check(&self.path("priority_class_name"), r);
        }
        Workload {
            startup,
            spread,
            scale_up,
            scale_down,
            termination_grace_period,
            pre_stop_delay,
            node_selector,
            affinity,
            priority_class_name,
        }
    }

    fn timing(
        &mut self,
        path: &FieldPath,
        raw: Option<&RawTiming>,
        default: ProbeTiming,
    ) -> ProbeTiming {
        let Some(t) = raw else {
            return default;
        };
        ProbeTiming {
            period: self.num(
                &path.key("period_seconds"),
                &t.period_seconds,
                default.period,
                (1, 3600),
            ),
            timeout: self.num(
                &path.key("timeout_seconds"),
                &t.timeout_seconds,
                default.timeout,
                (1, 3600),
            ),
            failure_threshold: self.num(
                &path.key("failure_threshold"),
                &t.failure_threshold,
                default.failure_threshold,
                (1, 10_000),
            ),
        }
    }

    /// The startup probe, when any startup setting is given: `startup_probe_path` or
    /// `startup_probe_command`, else the liveness probe's check (what Kubernetes recommends).
    fn startup_probe(
        &mut self,
        raw: &RawService,
        ports: &[Port],
        probe_port: &Option<String>,
        liveness: &Probe,
    ) -> Option<Probe> {
        let timing_given = raw
            .probe_timing
            .as_ref()
            .is_some_and(|t| t.startup.is_some());
        let given = raw.startup_probe_path.is_some()
            || raw.startup_probe_command.is_some()
            || raw.initial_startup_delay.is_some()
            || timing_given;
        if !given {
            return None;
        }
        let initial_delay = self.num(
            &self.path("initial_startup_delay"),
            &raw.initial_startup_delay,
            0,
            (0, 3600),
        );
        let mut probe = Probe {
            initial_delay,
            ..Probe::default()
        };
        let command = raw.startup_probe_command.clone().unwrap_or_default();
        match (&raw.startup_probe_path, command.is_empty()) {
            (Some(_), false) => {
                self.fail_help(
                    &self.path("startup_probe_command"),
                    "invalid startup probe: `startup_probe_path` and `startup_probe_command` are both set",
                    "a probe is either an HTTP GET of a path or a command, not both",
                );
            }
            (Some(p), true) => {
                let field = self.path("startup_probe_path");
                let r = rules::probe_path(p).map_err(|e| format!("probe path {e}"));
                self.check(&field, r);
                match probe_port
                    .as_ref()
                    .and_then(|n| ports.iter().find(|x| &x.name == n))
                {
                    None => self.fail(&field, "an HTTP probe needs a port: add `port` or `ports`"),
                    Some(port) if port.kind == PortKind::Tcp => {
                        self.warnings.push(format!(
                            "the probe port `{}` is a tcp port, so the startup probe is a TCP check and `startup_probe_path` is not used (as in Opta)",
                            port.name
                        ));
                    }
                    Some(_) => probe.path = Some(p.clone()),
                }
            }
            (None, false) => {
                if command[0].trim().is_empty() {
                    self.fail(
                        &self.path("startup_probe_command"),
                        "the probe command must start with a program",
                    );
                }
                probe.command = command;
            }
            (None, true) => {
                probe.path = liveness.path.clone();
                probe.command = liveness.command.clone();
            }
        }
        Some(probe)
    }

    /// `grpc_health_check` (and its service name), checked against the probe port.
    fn grpc_check(
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
    fn grpc_paths(&mut self, raw: &RawService, startup: &Option<Probe>) {
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
        if startup.is_some() && raw.startup_probe_path.is_some() {
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

    fn spread(&mut self, raw: &RawService, max_replicas: u32) -> Spread {
        let Some(given) = raw.topology_spread.as_deref() else {
            return Spread::Soft;
        };
        let spread = match given.trim() {
            "soft" => Spread::Soft,
            "strict" => Spread::Strict,
            "off" => Spread::Off,
            other => {
                let hint = suggest(other, SPREADS).unwrap_or_default();
                self.fail_help(
                    &self.path("topology_spread"),
                    format!("unknown topology spread `{}`", printable(other)),
                    format!("{hint} expected soft, strict or off")
                        .trim()
                        .to_string(),
                );
                Spread::Soft
            }
        };
        if spread != Spread::Off && max_replicas <= 1 {
            self.warnings.push(format!(
                "topology_spread: no constraint is generated, since max_containers is {max_replicas} (spreading needs two replicas or more)"
            ));
        }
        spread
    }

    fn scaling(&mut self, raw: &RawService, (min, max): (u32, u32)) -> (ScaleRule, ScaleRule) {
        let Some(b) = &raw.autoscaling_behavior else {
            return (ScaleRule::default(), ScaleRule::default());
        };
        let path = self.path("autoscaling_behavior");
        let up = self.scale_rule(
            &path,
            "up",
            [
                &b.scale_up_stabilization_seconds,
                &b.scale_up_max_percent_per_minute,
                &b.scale_up_max_pods_per_minute,
            ],
        );
        let down = self.scale_rule(
            &path,
            "down",
            [
                &b.scale_down_stabilization_seconds,
                &b.scale_down_max_percent_per_minute,
                &b.scale_down_max_pods_per_minute,
            ],
        );
        if min >= max {
            self.warnings.push(format!(
                "autoscaling_behavior is ignored: there is no HorizontalPodAutoscaler, since min_containers ({min}) equals max_containers ({max})"
            ));
        }
        (up, down)
    }

    /// `scale_<dir>_stabilization_seconds`, `_max_percent_per_minute`, `_max_pods_per_minute`.
    fn scale_rule(
        &mut self,
        path: &FieldPath,
        dir: &str,
        [stab, pct, pods]: [&Option<Lenient<u32>>; 3],
    ) -> ScaleRule {
        let mut read = |field: &str, v: &Option<Lenient<u32>>, range: (u32, u32)| {
            v.as_ref().map(|_| {
                self.num(
                    &path.key(&format!("scale_{dir}_{field}")),
                    v,
                    range.0,
                    range,
                )
            })
        };
        ScaleRule {
            stabilization_seconds: read("stabilization_seconds", stab, (0, 3600)),
            max_percent_per_minute: read("max_percent_per_minute", pct, (1, 1000)),
            max_pods_per_minute: read("max_pods_per_minute", pods, (1, 10_000)),
        }
    }

    fn shutdown(&mut self, raw: &RawService) -> (u32, u32) {
        let grace = self.num(
            &self.path("termination_grace_period"),
            &raw.termination_grace_period,
            30,
            (0, 86_400),
        );
        let delay = self.num(
            &self.path("pre_stop_delay"),
            &raw.pre_stop_delay,
            0,
            (0, 3600),
        );
        if delay > 0 && delay >= grace {
            self.fail_help(
                &self.path("pre_stop_delay"),
                format!(
                    "pre_stop_delay ({delay} s) must be shorter than termination_grace_period ({grace} s)"
                ),
                "the grace period covers the preStop sleep and the shutdown after SIGTERM; raise termination_grace_period",
            );
        }
        (grace, delay)
    }

    fn node_selector(&mut self, raw: &RawService) -> BTreeMap<String, String> {
        let path = self.path("node_selector");
        let map = raw.node_selector.clone().unwrap_or_default();
        for (k, v) in &map {
            if let Err(e) = rules::qualified_name(k) {
                self.fail(
                    &path.key(k),
                    format!("node label key `{}`: {e}", printable(k)),
                );
            } else if let Err(e) = rules::label_value(v) {
                self.fail(
                    &path.key(k),
                    format!("node label value `{}` {e}", printable(v)),
                );
            }
        }
        map
    }

    /// Passed through to the pods as written; only the shape of the top level is checked here,
    /// Kubernetes checks the rest at install time.
    fn affinity(&mut self, raw: &RawService) -> BTreeMap<String, Value> {
        let path = self.path("affinity");
        let map = raw.affinity.clone().unwrap_or_default();
        for (k, v) in &map {
            if !AFFINITY_KEYS.contains(&k.as_str()) {
                let hint = suggest(k, AFFINITY_KEYS).unwrap_or_default();
                self.fail_help(
                    &path.key(k),
                    format!("unknown affinity `{}`", printable(k)),
                    format!("{hint} expected nodeAffinity, podAffinity or podAntiAffinity")
                        .trim()
                        .to_string(),
                );
            } else if !v.is_object() {
                self.fail_help(
                    &path.key(k),
                    format!("`{k}` must be a mapping"),
                    "write it as in a pod spec, e.g. requiredDuringSchedulingIgnoredDuringExecution: ...",
                );
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Overrides, Service};
    use crate::spec::{LoadOptions, source::SpecSource};

    const BASE: &str = "name: svc\nimage: ghcr.io/acme/api\ntag: \"1\"\n";

    fn build(extra: &str) -> (Service, Vec<String>) {
        let src = SpecSource::from_str("t.yaml", &format!("{BASE}{extra}")).unwrap();
        let (loaded, _) = crate::spec::load(src, &LoadOptions::default()).unwrap();
        match crate::model::build(&loaded[0], &Overrides::default()) {
            Ok(r) => r,
            Err(e) => panic!("{extra}: {e:?}"),
        }
    }

    #[test]
    fn without_the_fields_nothing_changes_but_the_soft_spread() {
        let (s, warnings) = build("port: {http: 8080}\nhealthcheck_path: /h\n");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(s.liveness.timing, LIVENESS_TIMING);
        assert_eq!(s.readiness.timing, READINESS_TIMING);
        assert_eq!(
            (s.liveness.grpc.clone(), s.workload.startup.clone()),
            (None, None)
        );
        let w = &s.workload;
        assert_eq!(w.spread, Spread::Soft);
        assert_eq!((w.termination_grace_period, w.pre_stop_delay), (30, 0));
        assert!(w.scale_up.is_empty() && w.scale_down.is_empty());
        assert!(w.node_selector.is_empty() && w.affinity.is_empty());
    }

    #[test]
    fn a_startup_setting_alone_repeats_the_liveness_check() {
        let (s, _) = build(
            "port: {http: 8080}\nliveness_probe_path: /live\nreadiness_probe_path: /ready\nprobe_timing: {startup: {failure_threshold: 60}}\n",
        );
        let startup = s.workload.startup.unwrap();
        assert_eq!(startup.path.as_deref(), Some("/live"));
        assert_eq!(startup.initial_delay, 0);
        assert_eq!(
            startup.timing,
            ProbeTiming {
                failure_threshold: 60,
                ..STARTUP_TIMING
            }
        );
        let (s, _) = build("port: {http: 8080}\nstartup_probe_command: [/bin/up]\n");
        let startup = s.workload.startup.unwrap();
        assert_eq!(
            (startup.path, startup.command),
            (None, vec!["/bin/up".into()])
        );
    }

    #[test]
    fn grpc_checks_use_the_port_number_and_leave_commands_alone() {
        let (s, _) = build(
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
    fn tolerations_get_opta_defaults_only_for_a_bare_key() {
        let (s, _) = build(
            "tolerations:\n  - key: a\n  - {key: b, effect: NoExecute}\n  - {key: c, operator: Equal}\n  - {operator: Exists}\n",
        );
        let t: Vec<_> = s
            .tolerations
            .iter()
            .map(|t| (t.value.as_deref(), t.effect.as_deref()))
            .collect();
        assert_eq!(
            t,
            vec![
                (Some("opta"), Some("NoSchedule")),
                (None, Some("NoExecute")),
                (None, None),
                (None, None),
            ]
        );
    }

    #[test]
    fn hpa_behavior_caps_with_both_policies() {
        let (s, warnings) = build(
            "autoscaling_behavior: {scale_up_max_percent_per_minute: 50, scale_up_max_pods_per_minute: 2, scale_down_stabilization_seconds: 600}\n",
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let v = crate::values::Values::from_service(&s).autoscaling.behavior;
        assert_eq!(
            v,
            serde_json::json!({
                "scaleUp": {"selectPolicy": "Min", "policies": [
                    {"type": "Percent", "value": 50, "periodSeconds": 60},
                    {"type": "Pods", "value": 2, "periodSeconds": 60},
                ]},
                "scaleDown": {"stabilizationWindowSeconds": 600},
            })
        );
        let (_, warnings) = build(
            "max_containers: 1\nautoscaling_behavior: {scale_down_stabilization_seconds: 1}\n",
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("autoscaling_behavior is ignored"))
        );
        assert!(!warnings.iter().any(|w| w.contains("topology_spread")));
    }
}
