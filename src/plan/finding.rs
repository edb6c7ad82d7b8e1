//! What the rules of a plan speak of: the verdicts, worst first; the pair of objects a rule looks
//! at; what it found; and what it needs to know about the release.

use serde::Serialize;

use super::manifest::Object;

/// What a change does to a running release, the worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The API server refuses it: the upgrade fails and is rolled back.
    Impossible,
    /// The object is deleted and another created in its place (a workload's kind switch).
    Replaced,
    /// Running pods are deleted and come back later (capacity drops).
    ScaleDown,
    /// The pods are replaced, one by one.
    Restart,
    Removed,
    Added,
    InPlace,
}

impl Verdict {
    pub const ALL: [Verdict; 7] = [
        Verdict::Impossible,
        Verdict::Replaced,
        Verdict::ScaleDown,
        Verdict::Restart,
        Verdict::Removed,
        Verdict::Added,
        Verdict::InPlace,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Impossible => "impossible",
            Verdict::Replaced => "replaced",
            Verdict::ScaleDown => "scale-down",
            Verdict::Restart => "restart",
            Verdict::Removed => "removed",
            Verdict::Added => "added",
            Verdict::InPlace => "in-place",
        }
    }

    /// What the group of changes means, for the text report.
    pub fn meaning(self) -> &'static str {
        match self {
            Verdict::Impossible => {
                "the API server refuses these: the upgrade would fail and roll back"
            }
            Verdict::Replaced => "deleted and created again: an outage unless done in steps",
            Verdict::ScaleDown => "running pods are deleted, capacity drops for a while",
            Verdict::Restart => "the pods are replaced one by one",
            Verdict::Removed => "deleted by the upgrade",
            Verdict::Added => "created by the upgrade",
            Verdict::InPlace => "updated in place, no pod restarts",
        }
    }

    /// The exit code of `plan` when this is the worst change: 4 impossible, 3 outage or lost
    /// capacity (both make `upgrade` refuse), 2 pods restart, 0 otherwise.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Impossible => 4,
            Verdict::Replaced | Verdict::ScaleDown => 3,
            Verdict::Restart => 2,
            Verdict::Removed | Verdict::Added | Verdict::InPlace => 0,
        }
    }

    /// `upgrade` refuses a plan with such a change unless --accept-plan.
    pub fn blocks_upgrade(self) -> bool {
        self.exit_code() >= 3
    }
}

/// The two sides of one object: old only (removed), new only (added), or both; a workload whose
/// kind changes (Deployment ↔ StatefulSet) is one pair of two kinds.
#[derive(Clone, Copy, Debug)]
pub struct Pair<'a> {
    pub old: Option<&'a Object>,
    pub new: Option<&'a Object>,
}

impl<'a> Pair<'a> {
    /// Both sides, when they are the same kind of object.
    pub fn same(&self) -> Option<(&'a Object, &'a Object)> {
        match (self.old, self.new) {
            (Some(o), Some(n)) if o.key.kind == n.key.kind => Some((o, n)),
            _ => None,
        }
    }

    /// The side that exists now or will (the new one when both do).
    pub fn object(&self) -> Option<&'a Object> {
        self.new.or(self.old)
    }
}

/// What a rule found about one object.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub verdict: Verdict,
    pub rule: &'static str,
    /// The field the rule watches (`spec.volumeClaimTemplates`), None for a whole object.
    pub field: Option<String>,
    /// Every changed field it accounts for (`spec.template.spec.containers[app].image`).
    pub fields: Vec<String>,
    /// The change in a few words.
    pub summary: String,
    pub reason: String,
    /// Commands and steps, in order; empty when there is nothing to do.
    pub way_forward: Vec<String>,
}

/// What the rules need to know beyond the pair: names for the commands they suggest, the new
/// manifest (the Services in front of a workload) and the objects being added.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    pub release: &'a str,
    pub namespace: &'a str,
    /// The spec to give `helm k8s-service` commands (`SPEC` when the plan was made from a chart).
    pub spec: &'a str,
    pub new_objects: &'a [Object],
    /// The objects the upgrade adds.
    pub added: Vec<&'a Object>,
}
