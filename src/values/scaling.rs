//! The HorizontalPodAutoscaler: its bounds, targets and `behavior`.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::Service;
use crate::model::workload::Workload as PodSettings;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaling {
    pub enabled: bool,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Write the workload's replicas while autoscaled (from the cluster: `svc.replicas`).
    pub manage_replicas: bool,
    #[serde(rename = "targetCPUUtilizationPercentage")]
    pub target_cpu: Option<u32>,
    pub target_memory_utilization_percentage: Option<u32>,
    /// autoscaling/v2 `behavior`; `{}`: Kubernetes' defaults.
    pub behavior: Value,
    /// A KEDA ScaledObject instead of the HPA (`scale_on`).
    pub keda: super::keda::KedaValues,
}

pub(super) fn autoscaling(s: &Service) -> Autoscaling {
    let autoscaled = s.min_replicas < s.max_replicas;
    Autoscaling {
        enabled: autoscaled,
        min_replicas: s.min_replicas.max(1),
        max_replicas: s.max_replicas.max(1),
        manage_replicas: true,
        target_cpu: s.cpu_target,
        target_memory_utilization_percentage: s.memory_target,
        behavior: hpa_behavior(&s.workload),
        keda: super::keda::keda(s),
    }
}

/// The HPA `behavior` from the spec's short form; each policy counts per minute. With both a
/// percentage and a pod count, both are caps, so the smaller change wins (`selectPolicy: Min`).
fn hpa_behavior(w: &PodSettings) -> Value {
    let mut out = serde_json::Map::new();
    for (key, r) in [("scaleUp", &w.scale_up), ("scaleDown", &w.scale_down)] {
        if r.is_empty() {
            continue;
        }
        let mut rule = serde_json::Map::new();
        if let Some(s) = r.stabilization_seconds {
            rule.insert("stabilizationWindowSeconds".into(), json!(s));
        }
        let mut policies = Vec::new();
        if let Some(p) = r.max_percent_per_minute {
            policies.push(json!({"type": "Percent", "value": p, "periodSeconds": 60}));
        }
        if let Some(p) = r.max_pods_per_minute {
            policies.push(json!({"type": "Pods", "value": p, "periodSeconds": 60}));
        }
        if policies.len() > 1 {
            rule.insert("selectPolicy".into(), json!("Min"));
        }
        if !policies.is_empty() {
            rule.insert("policies".into(), json!(policies));
        }
        out.insert(key.into(), Value::Object(rule));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;

    #[test]
    fn the_autoscaler_is_on_only_when_the_bounds_differ() {
        let (s, _) = model("autoscaling_target_mem_percentage: 0\n");
        let v = serde_json::to_value(autoscaling(&s)).unwrap();
        assert_eq!(
            v,
            json!({
                "enabled": true,
                "minReplicas": 1,
                "maxReplicas": 3,
                "manageReplicas": true,
                "targetCPUUtilizationPercentage": 80,
                "targetMemoryUtilizationPercentage": null,
                "behavior": {},
                "keda": {
                    "enabled": false,
                    "minReplicaCount": 1,
                    "pollingInterval": 30,
                    "cooldownPeriod": 300,
                    "fallbackReplicas": null,
                    "triggers": [],
                    "authentications": {},
                },
            })
        );
        let (s, _) = model("min_containers: 0\nmax_containers: 0\n");
        let a = autoscaling(&s);
        assert!(!a.enabled);
        assert_eq!((a.min_replicas, a.max_replicas), (1, 1));
    }

    #[test]
    fn one_policy_needs_no_select_policy() {
        let (s, _) = model("autoscaling_behavior: {scale_down_max_pods_per_minute: 1}\n");
        assert_eq!(
            hpa_behavior(&s.workload),
            json!({"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}})
        );
    }
}
