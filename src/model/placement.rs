//! Where the pods may run: Opta's `tolerations`, and beyond Opta the topology spread across
//! nodes and zones, a node selector, affinity rules and a priority class.

use std::collections::BTreeMap;

use serde_json::Value;

use super::builder::Builder;
use super::rules;
use crate::diag::printable;
use crate::spec::raw::RawService;
use crate::spec::source::suggest;

#[derive(Clone, Debug, PartialEq)]
pub struct Toleration {
    pub key: Option<String>,
    pub operator: String,
    pub value: Option<String>,
    /// `None`: every effect.
    pub effect: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spread {
    /// `whenUnsatisfiable: ScheduleAnyway`: spread when possible, never block scheduling.
    Soft,
    /// `whenUnsatisfiable: DoNotSchedule`.
    Strict,
    Off,
}

const SPREADS: &[&str] = &["soft", "strict", "off"];
const AFFINITY_KEYS: &[&str] = &["nodeAffinity", "podAffinity", "podAntiAffinity"];

impl Builder<'_> {
    pub(super) fn tolerations(&mut self, raw: &RawService) -> Vec<Toleration> {
        let mut out = Vec::new();
        for (i, t) in raw.tolerations.iter().flatten().enumerate() {
            let path = self.path("tolerations").index(i);
            // Opta's bare form, `{key: x}`, gets Opta's defaults, value `opta` and effect
            // `NoSchedule` (the taints of Opta's node groups). As soon as a value, an effect or an
            // operator is written, the toleration is taken as Kubernetes reads it: nothing is
            // filled in (`{key: x, effect: NoExecute}` is `x` with an empty value, that effect).
            let opta_form = t.operator.is_none() && t.value.is_none() && t.effect.is_none();
            let operator = t.operator.clone().unwrap_or_else(|| "Equal".into());
            if !["Equal", "Exists"].contains(&operator.as_str()) {
                self.fail_help(
                    &path.key("operator"),
                    format!("unknown operator `{}`", printable(&operator)),
                    "expected Equal or Exists",
                );
            }
            match &t.key {
                Some(k) => {
                    if let Err(e) = rules::qualified_name(k) {
                        self.fail(
                            &path.key("key"),
                            format!("toleration key `{}`: {e}", printable(k)),
                        );
                    }
                }
                None if operator == "Exists" => {}
                None => self.fail(&path, "missing field `key`"),
            }
            let value = if operator == "Exists" {
                if t.value.is_some() {
                    self.fail(
                        &path.key("value"),
                        "a toleration with operator Exists takes no value",
                    );
                }
                None
            } else {
                let v = t.value.clone().or_else(|| opta_form.then(|| "opta".into()));
                if let Some(v) = &v
                    && let Err(e) = rules::label_value(v)
                {
                    self.fail(
                        &path.key("value"),
                        format!("toleration value `{}` {e}", printable(v)),
                    );
                }
                v
            };
            let effect = t
                .effect
                .clone()
                .or_else(|| opta_form.then(|| "NoSchedule".into()));
            if let Some(effect) = &effect
                && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect.as_str())
            {
                let hint = suggest(effect, &["NoSchedule", "PreferNoSchedule", "NoExecute"])
                    .unwrap_or_default();
                self.fail_help(
                    &path.key("effect"),
                    format!("unknown effect `{}`", printable(effect)),
                    format!("{hint} expected NoSchedule, PreferNoSchedule or NoExecute")
                        .trim()
                        .to_string(),
                );
            }
            out.push(Toleration {
                key: t.key.clone(),
                operator,
                value,
                effect,
            });
        }
        out
    }

    pub(super) fn spread(&mut self, raw: &RawService, max_replicas: u32) -> Spread {
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

    pub(super) fn node_selector(&mut self, raw: &RawService) -> BTreeMap<String, String> {
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
    pub(super) fn affinity(&mut self, raw: &RawService) -> BTreeMap<String, Value> {
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

    /// `priority_class_name`: a PriorityClass of the cluster, by name.
    pub(super) fn priority_class(&mut self, raw: &RawService) -> Option<String> {
        let priority_class_name = raw.priority_class_name.clone();
        if let Some(name) = &priority_class_name {
            let r = rules::dns_subdomain(name)
                .map_err(|e| format!("priority class `{}`: {e}", printable(name)));
            self.check(&self.path("priority_class_name"), r);
        }
        priority_class_name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn tolerations_get_opta_defaults_only_for_a_bare_key() {
        let (s, _) = model(
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
    fn tolerations_are_checked_as_kubernetes_reads_them() {
        assert_eq!(
            problems("tolerations:\n  - {key: a, operator: Exists, value: x}\n"),
            [(
                "tolerations[0].value".to_string(),
                "a toleration with operator Exists takes no value".to_string()
            )]
        );
        assert_eq!(
            problems("tolerations:\n  - {key: a, effect: NoSchedul}\n"),
            [(
                "tolerations[0].effect".to_string(),
                "unknown effect `NoSchedul`".to_string()
            )]
        );
        assert_eq!(
            problems("tolerations:\n  - {value: x}\n"),
            [(
                "tolerations[0]".to_string(),
                "missing field `key`".to_string()
            )]
        );
    }

    #[test]
    fn the_spread_is_soft_by_default_and_warns_when_it_cannot_apply() {
        let (s, _) = model("topology_spread: strict\n");
        assert_eq!(s.workload.spread, Spread::Strict);
        let (s, warnings) = model("max_containers: 1\ntopology_spread: soft\n");
        assert_eq!(s.workload.spread, Spread::Soft);
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("topology_spread: no constraint is generated")),
            "{warnings:?}"
        );
        let (_, warnings) = model("max_containers: 1\ntopology_spread: off\n");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            problems("topology_spread: hard\n"),
            [(
                "topology_spread".to_string(),
                "unknown topology spread `hard`".to_string()
            )]
        );
    }

    #[test]
    fn node_selector_affinity_and_priority_class_are_checked() {
        let (s, _) = model(
            "node_selector: {disktype: ssd}\naffinity: {nodeAffinity: {}}\npriority_class_name: high\n",
        );
        let w = &s.workload;
        assert_eq!(
            w.node_selector.get("disktype").map(String::as_str),
            Some("ssd")
        );
        assert!(w.affinity.contains_key("nodeAffinity"));
        assert_eq!(w.priority_class_name.as_deref(), Some("high"));
        assert_eq!(
            problems("affinity: {nodeAfinity: {}, podAffinity: [x]}\n"),
            [
                (
                    "affinity.nodeAfinity".to_string(),
                    "unknown affinity `nodeAfinity`".to_string()
                ),
                (
                    "affinity.podAffinity".to_string(),
                    "`podAffinity` must be a mapping".to_string()
                ),
            ]
        );
        let got = problems("priority_class_name: High_Prio\n");
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "priority_class_name");
        assert!(
            got[0].1.starts_with("priority class `High_Prio`: "),
            "{got:?}"
        );
    }
}
