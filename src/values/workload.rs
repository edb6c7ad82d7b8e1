//! The Deployment's or StatefulSet's own settings: whether it exists, its replicas, its rollout
//! and its graceful shutdown.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::Service;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    pub enabled: bool,
    pub replicas: u32,
    pub revision_history_limit: u32,
    pub rolling_update: Value,
    pub pod_management_policy: String,
    pub termination_grace_period_seconds: u32,
    /// Seconds of `lifecycle.preStop.sleep` before SIGTERM; 0: no hook.
    pub pre_stop_delay_seconds: u32,
}

pub(super) fn workload(s: &Service) -> Workload {
    Workload {
        enabled: s.max_replicas > 0,
        replicas: s.min_replicas.max(1),
        revision_history_limit: 10,
        rolling_update: json!({"maxSurge": "25%", "maxUnavailable": 0}),
        pod_management_policy: "Parallel".into(),
        termination_grace_period_seconds: s.workload.termination_grace_period,
        pre_stop_delay_seconds: s.workload.pre_stop_delay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;

    #[test]
    fn a_cron_only_service_has_no_workload() {
        let (s, _) = model("min_containers: 0\nmax_containers: 0\n");
        let w = workload(&s);
        assert!(!w.enabled);
        assert_eq!(w.replicas, 1);
        let (s, _) = model("min_containers: 2\ntermination_grace_period: 60\npre_stop_delay: 5\n");
        let w = serde_json::to_value(workload(&s)).unwrap();
        assert_eq!(
            w,
            json!({
                "enabled": true,
                "replicas": 2,
                "revisionHistoryLimit": 10,
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
                "podManagementPolicy": "Parallel",
                "terminationGracePeriodSeconds": 60,
                "preStopDelaySeconds": 5,
            })
        );
    }
}
