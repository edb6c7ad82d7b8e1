//! The rules of an upgrade plan, as one table ([`RULES`]): for each kind of object, the changes
//! the API server refuses, those that replace pods or lose capacity, and for each the reason and
//! the way forward. The table is read top to bottom; a rule accounts for the fields it names, and
//! the last one (`in-place`) takes whatever changed that no rule claimed.
//!
//! The immutable fields are those of the Kubernetes API validation (`ValidateStatefulSetUpdate`,
//! `ValidateDeploymentUpdate`, `ValidateJobUpdate`, `ValidateServiceUpdate`,
//! `ValidatePersistentVolumeClaimUpdate`). The checks themselves are in [`super::checks`]; the
//! README's table ("Upgrade plans") lists the same rules by id.

#[cfg(test)]
mod tests;

use super::checks;
use super::finding::{Context, Finding, Pair, Verdict};

/// One rule of the table.
pub struct Rule {
    /// Stable name, in the JSON report (`rule`) and the README's table.
    pub id: &'static str,
    /// The objects it looks at as `group/Kind` (`apps/StatefulSet`; `/Service` for the core
    /// group), or `*` for any.
    pub objects: &'static [&'static str],
    /// The field it watches, as documented.
    pub field: &'static str,
    pub verdict: Verdict,
    check: fn(&Pair, &Context, &[String]) -> Option<Finding>,
}

const WORKLOADS: &[&str] = &["apps/Deployment", "apps/StatefulSet", "apps/DaemonSet"];

/// The table, read top to bottom.
pub const RULES: &[Rule] = &[
    Rule {
        id: "kind-switch",
        objects: WORKLOADS,
        field: "kind",
        verdict: Verdict::Replaced,
        check: checks::kind_switch,
    },
    Rule {
        id: "added",
        objects: &["*"],
        field: "",
        verdict: Verdict::Added,
        check: checks::added,
    },
    Rule {
        id: "removed",
        objects: &["*"],
        field: "",
        verdict: Verdict::Removed,
        check: checks::removed,
    },
    Rule {
        id: "selector",
        objects: &[
            "apps/Deployment",
            "apps/StatefulSet",
            "apps/DaemonSet",
            "apps/ReplicaSet",
            "batch/Job",
        ],
        field: "spec.selector",
        verdict: Verdict::Impossible,
        check: checks::selector,
    },
    Rule {
        id: "claim-templates",
        objects: &["apps/StatefulSet"],
        field: "spec.volumeClaimTemplates",
        verdict: Verdict::Impossible,
        check: checks::claim_templates,
    },
    Rule {
        id: "service-name",
        objects: &["apps/StatefulSet"],
        field: "spec.serviceName",
        verdict: Verdict::Impossible,
        check: checks::service_name,
    },
    Rule {
        id: "pod-management-policy",
        objects: &["apps/StatefulSet"],
        field: "spec.podManagementPolicy",
        verdict: Verdict::Impossible,
        check: checks::pod_management_policy,
    },
    Rule {
        id: "statefulset-spec",
        objects: &["apps/StatefulSet"],
        field: "spec (other than replicas, ordinals, template, updateStrategy, revisionHistoryLimit, persistentVolumeClaimRetentionPolicy, minReadySeconds)",
        verdict: Verdict::Impossible,
        check: checks::statefulset_spec,
    },
    Rule {
        id: "cluster-ip",
        objects: &["/Service"],
        field: "spec.clusterIP",
        verdict: Verdict::Impossible,
        check: checks::cluster_ip,
    },
    Rule {
        id: "load-balancer-class",
        objects: &["/Service"],
        field: "spec.loadBalancerClass",
        verdict: Verdict::Impossible,
        check: checks::load_balancer_class,
    },
    Rule {
        id: "job-template",
        objects: &["batch/Job"],
        field: "spec.template",
        verdict: Verdict::Impossible,
        check: checks::job_template,
    },
    Rule {
        id: "claim-spec",
        objects: &["/PersistentVolumeClaim"],
        field: "spec (other than a larger resources.requests.storage)",
        verdict: Verdict::Impossible,
        check: checks::claim_spec,
    },
    Rule {
        id: "replicas-dropped",
        objects: &["apps/Deployment", "apps/StatefulSet"],
        field: "spec.replicas",
        verdict: Verdict::ScaleDown,
        check: checks::replicas_dropped,
    },
    Rule {
        id: "pod-template",
        objects: WORKLOADS,
        field: "spec.template",
        verdict: Verdict::Restart,
        check: checks::pod_template,
    },
    Rule {
        id: "tls-secret",
        objects: &["networking.k8s.io/Ingress"],
        field: "spec.tls[].secretName",
        verdict: Verdict::InPlace,
        check: checks::tls_secret,
    },
    Rule {
        id: "in-place",
        objects: &["*"],
        field: "any other field",
        verdict: Verdict::InPlace,
        check: checks::in_place,
    },
];

impl Rule {
    fn applies(&self, pair: &Pair) -> bool {
        let Some(o) = pair.object() else {
            return false;
        };
        self.objects.iter().any(|spec| {
            *spec == "*"
                || spec
                    .split_once('/')
                    .is_some_and(|(g, k)| o.is(g, k) || pair.old.is_some_and(|p| p.is(g, k)))
        })
    }
}

/// Every finding of the table about one pair.
pub fn evaluate(pair: &Pair, ctx: &Context) -> Vec<Finding> {
    let mut found: Vec<Finding> = Vec::new();
    for rule in RULES.iter().filter(|r| r.applies(pair)) {
        let covered: Vec<String> = found.iter().flat_map(|f| f.fields.clone()).collect();
        if let Some(f) = (rule.check)(pair, ctx, &covered) {
            debug_assert_eq!((f.rule, f.verdict), (rule.id, rule.verdict));
            found.push(f);
        }
    }
    found
}
