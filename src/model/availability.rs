//! How the service stays available while pods go away: its PodDisruptionBudget (one pod at a
//! time by default, or `pod_disruption_budget`), and beyond Opta a graceful shutdown (the
//! termination grace period and a preStop sleep).

use super::builder::Builder;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::{Lenient, LenientTarget, RawService};

/// A PodDisruptionBudget bound: a number of pods or a percentage of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IntOrPercent {
    Int(u32),
    Percent(u32),
}

impl IntOrPercent {
    /// Pods it stands for out of `n`, rounded up as the disruption controller does.
    pub fn of(self, n: u32) -> u32 {
        match self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => (u64::from(p) * u64::from(n)).div_ceil(100) as u32,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pdb {
    pub enabled: bool,
    pub max_unavailable: IntOrPercent,
    /// When set, used instead of `max_unavailable`.
    pub min_available: Option<IntOrPercent>,
}

impl Builder<'_> {
    /// `max_unavailable` / `min_available`: a whole number or a percentage such as `"25%"`.
    fn int_or_percent(&mut self, path: &FieldPath, v: &Lenient<u32>) -> Option<IntOrPercent> {
        let parsed = match v {
            Lenient::Value(n) => Some(IntOrPercent::Int(*n)),
            Lenient::Text(t) => {
                let t = t.trim();
                match t.strip_suffix('%') {
                    Some(p) => <u32 as LenientTarget>::parse(p)
                        .filter(|p| *p <= 100)
                        .map(IntOrPercent::Percent),
                    None => <u32 as LenientTarget>::parse(t).map(IntOrPercent::Int),
                }
            }
        };
        if parsed.is_none() {
            let shown = match v {
                Lenient::Value(n) => n.to_string(),
                Lenient::Text(t) => t.clone(),
            };
            self.fail(
                path,
                format!(
                    "expected a whole number or a percentage such as \"25%\", found `{}`",
                    printable(&shown)
                ),
            );
        }
        parsed
    }

    pub(super) fn pdb(&mut self, raw: &RawService, min_replicas: u32, max_replicas: u32) -> Pdb {
        let mut pdb = Pdb {
            enabled: true,
            max_unavailable: IntOrPercent::Int(1),
            min_available: None,
        };
        let Some(r) = &raw.pod_disruption_budget else {
            return pdb;
        };
        let path = self.path("pod_disruption_budget");
        pdb.enabled = self.flag(&path.key("enabled"), &r.enabled, true);
        if r.max_unavailable.is_some() && r.min_available.is_some() {
            self.fail_help(
                &path.key("min_available"),
                "give max_unavailable or min_available, not both",
                "max_unavailable (default 1) keeps working whatever the replica count",
            );
        }
        if let Some(v) = &r.max_unavailable
            && let Some(m) = self.int_or_percent(&path.key("max_unavailable"), v)
        {
            if matches!(m, IntOrPercent::Int(0) | IntOrPercent::Percent(0)) {
                self.fail_help(
                    &path.key("max_unavailable"),
                    "max_unavailable 0 blocks every voluntary eviction (node drains, cluster upgrades)",
                    "use 1 or more, or disable the budget with `enabled: false`",
                );
            } else if let IntOrPercent::Int(n) = m
                && n > 10_000
            {
                self.fail(&path.key("max_unavailable"), "must be at most 10000");
            }
            pdb.max_unavailable = m;
        }
        let runs_several = max_replicas > 1;
        if let Some(v) = &r.min_available
            && let Some(m) = self.int_or_percent(&path.key("min_available"), v)
        {
            // At the fewest replicas, the budget must still allow one eviction.
            let fewest = min_replicas.max(1);
            let alone = r.max_unavailable.is_none();
            if alone && pdb.enabled && runs_several && m.of(fewest) >= fewest {
                self.fail_help(
                    &path.key("min_available"),
                    format!(
                        "min_available {} would block every voluntary eviction (node drains, cluster upgrades) while {fewest} replica(s) run",
                        match m {
                            IntOrPercent::Int(n) => n.to_string(),
                            IntOrPercent::Percent(p) => format!("{p}%"),
                        }
                    ),
                    if fewest > 1 {
                        format!(
                            "use at most {} (min_containers is {fewest}), or max_unavailable",
                            fewest - 1
                        )
                    } else {
                        "with min_containers 1 use max_unavailable instead".to_string()
                    },
                );
            }
            pdb.min_available = Some(m);
        }
        let configured = r.max_unavailable.is_some() || r.min_available.is_some();
        if pdb.enabled && configured && !runs_several {
            self.warnings.push(format!(
                "pod_disruption_budget: no PodDisruptionBudget is generated, since max_containers is {max_replicas} (a budget needs two replicas or more)"
            ));
        }
        pdb
    }

    pub(super) fn shutdown(&mut self, raw: &RawService) -> (u32, u32) {
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
}

#[cfg(test)]
mod tests {
    use super::IntOrPercent;
    use crate::model::testing::{model, problems};

    #[test]
    fn disruption_budget_percentages_round_up_like_the_controller() {
        assert_eq!(IntOrPercent::Percent(50).of(2), 1);
        assert_eq!(IntOrPercent::Percent(51).of(2), 2);
        assert_eq!(IntOrPercent::Percent(10).of(3), 1);
        assert_eq!(IntOrPercent::Percent(100).of(3), 3);
        assert_eq!(IntOrPercent::Percent(0).of(3), 0);
        assert_eq!(IntOrPercent::Int(2).of(5), 2);
    }

    #[test]
    fn the_budget_allows_one_eviction_by_default() {
        let (s, warnings) = model("");
        // Only the floor of one pod is worth a warning: the budget itself is fine.
        assert_eq!(warnings, [crate::model::scaling::single_pod_floor(3)]);
        assert!(s.pdb.enabled);
        assert_eq!(
            (s.pdb.max_unavailable, s.pdb.min_available),
            (IntOrPercent::Int(1), None)
        );
        let (s, _) = model("pod_disruption_budget: {max_unavailable: \"25%\"}\n");
        assert_eq!(s.pdb.max_unavailable, IntOrPercent::Percent(25));
    }

    #[test]
    fn a_budget_that_blocks_every_eviction_is_refused() {
        assert_eq!(
            problems("pod_disruption_budget: {max_unavailable: 0}\n"),
            [(
                "pod_disruption_budget.max_unavailable".to_string(),
                "max_unavailable 0 blocks every voluntary eviction (node drains, cluster upgrades)"
                    .to_string()
            )]
        );
        assert_eq!(
            problems("min_containers: 2\npod_disruption_budget: {min_available: \"100%\"}\n"),
            [(
                "pod_disruption_budget.min_available".to_string(),
                "min_available 100% would block every voluntary eviction (node drains, cluster upgrades) while 2 replica(s) run"
                    .to_string()
            )]
        );
        assert_eq!(
            problems("pod_disruption_budget: {max_unavailable: lots}\n"),
            [(
                "pod_disruption_budget.max_unavailable".to_string(),
                "expected a whole number or a percentage such as \"25%\", found `lots`".to_string()
            )]
        );
    }

    #[test]
    fn the_pre_stop_sleep_must_fit_in_the_grace_period() {
        let (s, _) = model("termination_grace_period: 60\npre_stop_delay: 10\n");
        assert_eq!(
            (
                s.workload.termination_grace_period,
                s.workload.pre_stop_delay
            ),
            (60, 10)
        );
        assert_eq!(
            problems("pre_stop_delay: 30\n"),
            [(
                "pre_stop_delay".to_string(),
                "pre_stop_delay (30 s) must be shorter than termination_grace_period (30 s)"
                    .to_string()
            )]
        );
    }
}
