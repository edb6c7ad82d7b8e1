//! Where the pods may run: tolerations and the topology spread (the node selector, affinity and
//! priority class are copied as the model holds them).

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::Service;
use crate::model::placement::Spread;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadValues {
    pub enabled: bool,
    pub max_skew: u32,
    pub when_unsatisfiable: String,
    pub topology_keys: Vec<String>,
}

pub(super) fn tolerations(s: &Service) -> Vec<Value> {
    s.tolerations
        .iter()
        .map(|t| {
            let mut v = json!({"operator": t.operator});
            if let Some(e) = &t.effect {
                v["effect"] = json!(e);
            }
            if let Some(k) = &t.key {
                v["key"] = json!(k);
            }
            if let Some(val) = &t.value {
                v["value"] = json!(val);
            }
            v
        })
        .collect()
}

/// Nodes, then zones; rendered only when more than one replica can run.
pub(super) fn topology_spread(s: &Service) -> TopologySpreadValues {
    TopologySpreadValues {
        enabled: s.workload.spread != Spread::Off,
        max_skew: 1,
        when_unsatisfiable: if s.workload.spread == Spread::Strict {
            "DoNotSchedule".into()
        } else {
            "ScheduleAnyway".into()
        },
        topology_keys: vec![
            "kubernetes.io/hostname".into(),
            "topology.kubernetes.io/zone".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;

    #[test]
    fn tolerations_leave_out_what_is_not_set() {
        let (s, _) = model("tolerations:\n  - key: a\n  - {operator: Exists}\n");
        assert_eq!(
            tolerations(&s),
            [
                json!({"operator": "Equal", "effect": "NoSchedule", "key": "a", "value": "opta"}),
                json!({"operator": "Exists"}),
            ]
        );
    }

    #[test]
    fn a_strict_spread_does_not_schedule_and_off_disables_it() {
        let (s, _) = model("");
        let t = topology_spread(&s);
        assert_eq!(
            (t.enabled, t.when_unsatisfiable.as_str()),
            (true, "ScheduleAnyway")
        );
        let (s, _) = model("topology_spread: strict\n");
        assert_eq!(topology_spread(&s).when_unsatisfiable, "DoNotSchedule");
        let (s, _) = model("topology_spread: \"off\"\n");
        assert!(!topology_spread(&s).enabled);
    }
}
