//! The PodDisruptionBudget.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{IntOrPercent, Service};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbValues {
    pub enabled: bool,
    /// An integer or a percentage string; used unless `min_available` is set.
    pub max_unavailable: Value,
    /// `""` (unset), an integer or a percentage string.
    pub min_available: Value,
    pub unhealthy_pod_eviction_policy: String,
}

pub(super) fn pod_disruption_budget(s: &Service) -> PdbValues {
    PdbValues {
        enabled: s.pdb.enabled,
        max_unavailable: int_or_percent(s.pdb.max_unavailable),
        min_available: s.pdb.min_available.map_or(json!(""), int_or_percent),
        unhealthy_pod_eviction_policy: "AlwaysAllow".into(),
    }
}

fn int_or_percent(v: IntOrPercent) -> Value {
    match v {
        IntOrPercent::Int(n) => json!(n),
        IntOrPercent::Percent(p) => json!(format!("{p}%")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;

    #[test]
    fn bounds_are_numbers_or_percent_strings() {
        let (s, _) = model("");
        assert_eq!(
            serde_json::to_value(pod_disruption_budget(&s)).unwrap(),
            json!({
                "enabled": true,
                "maxUnavailable": 1,
                "minAvailable": "",
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            })
        );
        let (s, _) = model(
            "min_containers: 4\nmax_containers: 6\npod_disruption_budget: {min_available: \"50%\"}\n",
        );
        assert_eq!(pod_disruption_budget(&s).min_available, json!("50%"));
    }
}
