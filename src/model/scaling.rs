//! How many pods run: `min_containers` and `max_containers`, and when they differ the
//! HorizontalPodAutoscaler's CPU and memory targets and, beyond Opta, how fast it may scale
//! (`autoscaling_behavior`).

use super::builder::Builder;
use crate::diag::FieldPath;
use crate::spec::raw::{Lenient, RawService};
use crate::spec::raw_scaling::RawNumber;

/// One direction of the HPA's `behavior`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScaleRule {
    pub stabilization_seconds: Option<u32>,
    pub max_percent_per_minute: Option<u32>,
    pub max_pods_per_minute: Option<u32>,
    /// KEP-4951's `tolerance` (a fraction, as written); rendered only on Kubernetes 1.35+.
    pub tolerance: Option<String>,
}

impl ScaleRule {
    pub fn is_empty(&self) -> bool {
        *self == ScaleRule::default()
    }
}

/// The warning for an autoscaler that may scale down to one pod (Opta's default floor).
pub fn single_pod_floor(max: u32) -> String {
    format!(
        "min_containers is 1 (max_containers {max}): the autoscaler may run a single pod, and a node drain (a cluster upgrade, a node replacement) then evicts the only one, so nothing serves until it has started elsewhere; set min_containers: 2"
    )
}

impl Builder<'_> {
    pub(super) fn replicas(&mut self, raw: &RawService) -> (u32, u32) {
        let min = self.num(
            &self.path("min_containers"),
            &raw.min_containers,
            1,
            (0, 10_000),
        );
        let max = self.num(
            &self.path("max_containers"),
            &raw.max_containers,
            3,
            (0, 10_000),
        );
        if min > max {
            self.fail(
                &self.path("min_containers"),
                format!(
                    "min_containers ({min}) must be less than or equal to max_containers ({max})"
                ),
            );
        } else if min == 0 && max != 0 && !super::keda::scales_to_zero(raw) {
            self.fail_help(
                &self.path("min_containers"),
                "min_containers can only be 0 if max_containers is 0, or with scale_on (KEDA scales to zero)",
                "max_containers: 0 makes a cron-only service with no pods",
            );
        } else if min == 1 && max > 1 {
            self.warnings.push(single_pod_floor(max));
        }
        (min, max)
    }

    /// The HPA's CPU and memory targets in percent; `None` (given as 0): no target of that kind.
    pub(super) fn autoscaling_targets(
        &mut self,
        raw: &RawService,
        (min_replicas, max_replicas): (u32, u32),
    ) -> (Option<u32>, Option<u32>) {
        let cpu_target = self.num(
            &self.path("autoscaling_target_cpu_percentage"),
            &raw.autoscaling_target_cpu_percentage,
            80,
            (0, 100),
        );
        let memory_target = self.num(
            &self.path("autoscaling_target_mem_percentage"),
            &raw.autoscaling_target_mem_percentage,
            80,
            (0, 100),
        );
        if min_replicas < max_replicas
            && cpu_target == 0
            && memory_target == 0
            && !super::keda::scales_to_zero(raw)
            && raw.autoscaling_metrics.as_ref().is_none_or(Vec::is_empty)
        {
            self.fail(
                &self.path("autoscaling_target_cpu_percentage"),
                "autoscaling needs a CPU or a memory target above 0 (or autoscaling_metrics)",
            );
        }
        (
            (cpu_target > 0).then_some(cpu_target),
            (memory_target > 0).then_some(memory_target),
        )
    }

    pub(super) fn scaling(
        &mut self,
        raw: &RawService,
        (min, max): (u32, u32),
    ) -> (ScaleRule, ScaleRule) {
        let Some(b) = &raw.autoscaling_behavior else {
            return (ScaleRule::default(), ScaleRule::default());
        };
        let path = self.path("autoscaling_behavior");
        let mut up = self.scale_rule(
            &path,
            "up",
            [
                &b.scale_up_stabilization_seconds,
                &b.scale_up_max_percent_per_minute,
                &b.scale_up_max_pods_per_minute,
            ],
        );
        let mut down = self.scale_rule(
            &path,
            "down",
            [
                &b.scale_down_stabilization_seconds,
                &b.scale_down_max_percent_per_minute,
                &b.scale_down_max_pods_per_minute,
            ],
        );
        up.tolerance = self.tolerance(&path, "up", &b.scale_up_tolerance, raw);
        down.tolerance = self.tolerance(&path, "down", &b.scale_down_tolerance, raw);
        if min >= max {
            self.warnings.push(format!(
                "autoscaling_behavior is ignored: there is no HorizontalPodAutoscaler, since min_containers ({min}) equals max_containers ({max})"
            ));
        }
        (up, down)
    }

    /// `scale_<dir>_tolerance`. KEDA's ScaledObject has no such field, so not with `scale_on`.
    fn tolerance(
        &mut self,
        path: &FieldPath,
        dir: &str,
        v: &Option<RawNumber>,
        raw: &RawService,
    ) -> Option<String> {
        let at = path.key(&format!("scale_{dir}_tolerance"));
        let n = v.as_ref()?;
        if raw.scale_on.is_some() {
            self.fail_help(
                &at,
                format!("scale_{dir}_tolerance is not available with scale_on: KEDA's ScaledObject has no tolerance"),
                "remove it, or scale with the chart's HPA instead of scale_on",
            );
            return None;
        }
        super::hpa_metrics::tolerance(n)
            .map_err(|e| self.fail(&at, e))
            .ok()
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
            tolerance: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::testing::{model, problems};

    #[test]
    fn replicas_default_to_opta_and_must_be_ordered() {
        let (s, _) = model("");
        assert_eq!((s.min_replicas, s.max_replicas), (1, 3));
        assert_eq!((s.cpu_target, s.memory_target), (Some(80), Some(80)));
        assert_eq!(
            problems("min_containers: 4\nmax_containers: 2\n"),
            [(
                "min_containers".to_string(),
                "min_containers (4) must be less than or equal to max_containers (2)".to_string()
            )]
        );
        assert_eq!(
            problems("min_containers: 0\n"),
            [(
                "min_containers".to_string(),
                "min_containers can only be 0 if max_containers is 0, or with scale_on (KEDA scales to zero)".to_string()
            )]
        );
    }

    #[test]
    fn an_autoscaler_with_a_floor_of_one_pod_is_warned_about() {
        let (_, warnings) = model("");
        assert_eq!(warnings, [super::single_pod_floor(3)]);
        for quiet in [
            "min_containers: 2\n",
            "min_containers: 1\nmax_containers: 1\n",
            "min_containers: 0\nmax_containers: 0\ncron_jobs: [{commands: [x], schedule: \"@daily\"}]\n",
        ] {
            let (_, warnings) = model(quiet);
            assert!(warnings.is_empty(), "{quiet}: {warnings:?}");
        }
    }

    #[test]
    fn a_zero_target_turns_it_off_but_not_both() {
        let (s, _) = model("autoscaling_target_mem_percentage: 0\n");
        assert_eq!((s.cpu_target, s.memory_target), (Some(80), None));
        assert_eq!(
            problems(
                "autoscaling_target_cpu_percentage: 0\nautoscaling_target_mem_percentage: 0\n"
            ),
            [(
                "autoscaling_target_cpu_percentage".to_string(),
                "autoscaling needs a CPU or a memory target above 0 (or autoscaling_metrics)"
                    .to_string()
            )]
        );
        // Without an autoscaler (min = max), no target is needed.
        let (s, _) = model(
            "min_containers: 2\nmax_containers: 2\nautoscaling_target_cpu_percentage: 0\nautoscaling_target_mem_percentage: 0\n",
        );
        assert_eq!((s.cpu_target, s.memory_target), (None, None));
    }

    #[test]
    fn scale_rules_are_read_only_when_given() {
        let (s, _) = model("autoscaling_behavior: {scale_down_max_pods_per_minute: 3}\n");
        assert!(s.workload.scale_up.is_empty());
        assert_eq!(s.workload.scale_down.max_pods_per_minute, Some(3));
        assert_eq!(s.workload.scale_down.stabilization_seconds, None);
        assert_eq!(
            problems("autoscaling_behavior: {scale_up_max_percent_per_minute: 0}\n"),
            [(
                "autoscaling_behavior.scale_up_max_percent_per_minute".to_string(),
                "must be between 1 and 1000 (found 0)".to_string()
            )]
        );
    }

    #[test]
    fn hpa_behavior_caps_with_both_policies() {
        let (s, warnings) = model(
            "autoscaling_behavior: {scale_up_max_percent_per_minute: 50, scale_up_max_pods_per_minute: 2, scale_down_stabilization_seconds: 600}\n",
        );
        assert_eq!(warnings, [super::single_pod_floor(3)]);
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
        let (_, warnings) = model(
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
