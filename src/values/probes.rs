//! The liveness, readiness and startup probes.

use serde::Serialize;

use crate::model::Service;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeValues {
    pub enabled: bool,
    pub path: String,
    pub command: Vec<String>,
    pub initial_delay_seconds: u32,
    pub period_seconds: u32,
    pub timeout_seconds: u32,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub grpc: GrpcValues,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrpcValues {
    pub enabled: bool,
    pub service: String,
}

/// A probe's values; the timing defaults live in `model::probes`.
pub(super) fn probe(p: &crate::model::Probe) -> ProbeValues {
    ProbeValues {
        enabled: true,
        path: p.path.clone().unwrap_or_default(),
        command: p.command.clone(),
        initial_delay_seconds: p.initial_delay,
        period_seconds: p.timing.period,
        timeout_seconds: p.timing.timeout,
        failure_threshold: p.timing.failure_threshold,
        success_threshold: 1,
        grpc: GrpcValues {
            enabled: p.grpc.is_some(),
            service: p
                .grpc
                .as_ref()
                .and_then(|g| g.service.clone())
                .unwrap_or_default(),
        },
    }
}

/// The startup probe, or a disabled one when the spec asks for none.
pub(super) fn startup_probe(s: &Service) -> ProbeValues {
    s.workload.startup.as_ref().map_or_else(no_probe, probe)
}

/// A disabled probe (no startup probe): the timing is the chart's default should
/// `--set startupProbe.enabled=true` turn it on.
fn no_probe() -> ProbeValues {
    let t = crate::model::probes::STARTUP_TIMING;
    ProbeValues {
        enabled: false,
        path: String::new(),
        command: Vec::new(),
        initial_delay_seconds: 0,
        period_seconds: t.period,
        timeout_seconds: t.timeout,
        failure_threshold: t.failure_threshold,
        success_threshold: 1,
        grpc: GrpcValues {
            enabled: false,
            service: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::probes::STARTUP_TIMING;
    use crate::model::testing::model;
    use serde_json::json;

    #[test]
    fn a_probe_carries_its_check_and_timing() {
        let (s, _) = model(
            "port: {grpc: 9090}\ngrpc_health_service: a.v1.B\nreadiness_probe_command: [/bin/ready]\n",
        );
        assert_eq!(
            serde_json::to_value(probe(&s.liveness)).unwrap(),
            json!({
                "enabled": true,
                "path": "",
                "command": [],
                "initialDelaySeconds": 30,
                "periodSeconds": 10,
                "timeoutSeconds": 3,
                "failureThreshold": 6,
                "successThreshold": 1,
                "grpc": {"enabled": true, "service": "a.v1.B"},
            })
        );
        let r = probe(&s.readiness);
        assert_eq!(
            (r.command, r.grpc.enabled),
            (vec!["/bin/ready".to_string()], false)
        );
    }

    #[test]
    fn without_a_startup_probe_the_values_hold_a_disabled_one() {
        let (s, _) = model("");
        let p = startup_probe(&s);
        assert!(!p.enabled);
        assert_eq!(
            (p.period_seconds, p.timeout_seconds, p.failure_threshold),
            (
                STARTUP_TIMING.period,
                STARTUP_TIMING.timeout,
                STARTUP_TIMING.failure_threshold
            )
        );
        let (s, _) = model("startup_probe_command: [/bin/up]\n");
        assert!(startup_probe(&s).enabled);
    }
}
