//! The HorizontalPodAutoscaler: its bounds, targets and `behavior`.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::Service;
use crate::model::hpa_metrics::{HpaMetric, Target};
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
    /// KEP-4951 tolerances, merged into `behavior` only on Kubernetes 1.35+ (hpa.yaml), and never
    /// into KEDA's (its ScaledObject has no such field).
    pub tolerance: Tolerance,
    /// Pod and external metrics (`autoscaling_metrics`), each `{type, name, selector,
    /// averageValue | value}`; hpa.yaml writes the autoscaling/v2 MetricSpec.
    pub metrics: Vec<Value>,
    /// A KEDA ScaledObject instead of the HPA (`scale_on`).
    pub keda: super::keda::KedaValues,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tolerance {
    pub scale_up: Option<String>,
    pub scale_down: Option<String>,
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
        tolerance: Tolerance {
            scale_up: s.workload.scale_up.tolerance.clone(),
            scale_down: s.workload.scale_down.tolerance.clone(),
        },
        metrics: s.workload.hpa_metrics.iter().map(hpa_metric).collect(),
        keda: super::keda::keda(s),
    }
}

fn hpa_metric(m: &HpaMetric) -> Value {
    let (key, target) = match &m.target {
        Target::Value(v) => ("value", v),
        Target::Average(v) => ("averageValue", v),
    };
    json!({
        "type": if m.pods { "Pods" } else { "External" },
        "name": m.metric,
        "selector": m.selector,
        key: target,
    })
}

/// The HPA `behavior` from the spec's short form; each policy counts per minute. With both a
/// percentage and a pod count, both are caps, so the smaller change wins (`selectPolicy: Min`).
fn hpa_behavior(w: &PodSettings) -> Value {
    let mut out = serde_json::Map::new();
    for (key, r) in [("scaleUp", &w.scale_up), ("scaleDown", &w.scale_down)] {
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
        if !rule.is_empty() {
            out.insert(key.into(), Value::Object(rule));
        }
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
                "tolerance": {"scaleUp": null, "scaleDown": null},
                "metrics": [],
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

    #[test]
    fn metrics_and_tolerances_have_their_own_keys() {
        let (s, _) = model(
            "autoscaling_behavior: {scale_up_tolerance: 0.05}
autoscaling_metrics:
  - pods: {metric: rps, average: 100}
  - external: {metric: q, selector: {queue: orders}, average: 30}
",
        );
        let a = autoscaling(&s);
        // The tolerance alone leaves behavior empty: hpa.yaml adds it where the cluster has it.
        assert_eq!(a.behavior, json!({}));
        assert_eq!(
            serde_json::to_value(&a.tolerance).unwrap(),
            json!({"scaleUp": "0.05", "scaleDown": null})
        );
        assert_eq!(
            a.metrics,
            [
                json!({"type": "Pods", "name": "rps", "selector": {}, "averageValue": "100"}),
                json!({"type": "External", "name": "q", "selector": {"queue": "orders"}, "averageValue": "30"}),
            ]
        );
    }
}
