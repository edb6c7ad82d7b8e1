//! How the service's pods run beyond Opta, gathered in `Workload`: a startup probe (probes.rs),
//! topology spread, node selector, affinity and priority class (placement.rs), HPA scaling speed
//! (scaling.rs) and graceful shutdown (availability.rs). Every field is optional; without them
//! the chart renders what it rendered before, except the topology spread, which is on by default
//! (soft) whenever more than one replica can run.

use std::collections::BTreeMap;

use serde_json::Value;

use super::builder::Builder;
use super::hpa_metrics::HpaMetric;
use super::placement::Spread;
use super::ports::Port;
use super::probes::Probe;
use super::scaling::ScaleRule;
use crate::spec::raw::RawService;

#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub startup: Option<Probe>,
    pub spread: Spread,
    pub scale_up: ScaleRule,
    pub scale_down: ScaleRule,
    /// `autoscaling_metrics`: the HPA's pod and external metrics (hpa_metrics.rs).
    pub hpa_metrics: Vec<HpaMetric>,
    pub termination_grace_period: u32,
    /// Seconds the container sleeps in preStop before SIGTERM; 0: no hook.
    pub pre_stop_delay: u32,
    pub node_selector: BTreeMap<String, String>,
    pub affinity: BTreeMap<String, Value>,
    pub priority_class_name: Option<String>,
}

impl Builder<'_> {
    /// Everything of `Workload`, and the timing and gRPC check of the liveness and readiness
    /// probes built by `probe` (see `probe_settings`).
    pub(super) fn workload(
        &mut self,
        raw: &RawService,
        ports: &[Port],
        probe_port: &Option<String>,
        probes: (&mut Probe, &mut Probe),
        replicas: (u32, u32),
    ) -> Workload {
        let startup = self.probe_settings(raw, ports, probe_port, probes);
        let spread = self.spread(raw, replicas.1);
        let (scale_up, scale_down) = self.scaling(raw, replicas);
        let hpa_metrics = self.hpa_metrics(raw, replicas);
        let (termination_grace_period, pre_stop_delay) = self.shutdown(raw);
        let node_selector = self.node_selector(raw);
        let affinity = self.affinity(raw);
        let priority_class_name = self.priority_class(raw);
        Workload {
            startup,
            spread,
            scale_up,
            scale_down,
            hpa_metrics,
            termination_grace_period,
            pre_stop_delay,
            node_selector,
            affinity,
            priority_class_name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::probes::{LIVENESS_TIMING, READINESS_TIMING};
    use crate::model::testing::model;

    #[test]
    fn without_the_fields_nothing_changes_but_the_soft_spread() {
        let (s, warnings) = model("port: {http: 8080}\nhealthcheck_path: /h\n");
        assert_eq!(warnings, [crate::model::scaling::single_pod_floor(3)]);
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
}
