//! Checks about StatefulSets and claims: the frozen parts of a StatefulSet's spec (claim
//! templates, serviceName, podManagementPolicy...) and of a claim's.

use serde_json::Value;

use super::common::*;
use crate::plan::diff::{self, Delta, brief, under};
use crate::plan::finding::{Context, Finding, Pair, Verdict};

pub fn claim_templates(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let all = changes(old, new, "spec.volumeClaimTemplates");
    if all.is_empty() {
        return None;
    }
    let mut f = finding(
        "claim-templates",
        Verdict::Impossible,
        "spec.volumeClaimTemplates",
        &all,
    );
    let (old_claims, new_claims) = (claims(old), claims(new));
    let mut parts = Vec::new();
    let (mut grown, mut shrunk, mut other) = (Vec::new(), Vec::new(), Vec::new());
    let names = old_claims.iter().chain(&new_claims).map(|(n, _)| n.clone());
    let mut seen: Vec<String> = Vec::new();
    for name in names {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        match (find(&old_claims, &name), find(&new_claims, &name)) {
            (Some(_), None) => {
                parts.push(format!("claim {name} removed"));
                other.push(format!(
                    "the claims of {name} stay; delete them once the data is no longer needed ({})",
                    kubectl(ctx, "get pvc")
                ));
            }
            (None, Some(_)) => {
                parts.push(format!("claim {name} added"));
                other.push(format!("the new StatefulSet makes a {name} claim for each pod as the rolling update replaces it"));
            }
            (Some(a), Some(b)) => {
                for d in diff::deltas(Some(a), Some(b), "") {
                    if d.path == "spec.resources.requests.storage" {
                        let (x, y) = (quantity(d.old.as_ref()), quantity(d.new.as_ref()));
                        parts.push(format!("claim {name}: storage {}", d.brief()));
                        match (x, y) {
                            (Some(x), Some(y)) if y > x => {
                                grown.push((name.clone(), a, d.new.clone()))
                            }
                            (Some(x), Some(y)) if y < x => {
                                shrunk.push((name.clone(), d.old.clone()))
                            }
                            _ => other.push(format!("claims {name} made before keep their size")),
                        }
                    } else {
                        parts.push(format!("claim {name}: {} {}", d.path, d.brief()));
                        other.push(format!("claims {name} made before keep their {} ({}); only claims made later get the new one", d.path, brief(d.old.as_ref())));
                    }
                }
            }
            (None, None) => {}
        }
    }
    if parts.is_empty() {
        parts.push("claim templates differ".into());
    }
    f.summary = parts.join("; ");
    f.reason = "the claim templates of a StatefulSet cannot change once it exists (only replicas, ordinals, template, updateStrategy, revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and minReadySeconds can): the API server refuses the upgrade and helm rolls it back".into();
    let mut steps = Vec::new();
    for (name, old_claim) in &shrunk {
        steps.push(format!(
            "claims cannot shrink: keep {name} at {} or more (to shrink it, install under a new release name, copy the data, then uninstall this release)",
            brief(old_claim.as_ref())
        ));
    }
    for (name, claim, size) in &grown {
        steps.push(match claim.pointer("/spec/storageClassName").and_then(Value::as_str) {
            Some(class) => format!(
                "check that the StorageClass can expand volumes (it must print true): kubectl get storageclass {class} -o jsonpath='{{.allowVolumeExpansion}}'"
            ),
            None => "check that the default StorageClass can expand volumes (its EXPANSION must be true): kubectl get storageclass -o custom-columns='NAME:.metadata.name,DEFAULT:.metadata.annotations.storageclass\\.kubernetes\\.io/is-default-class,EXPANSION:.allowVolumeExpansion'".to_string(),
        });
        let size = brief(size.as_ref());
        steps.push(format!(
            "expand every pod's {name} claim: for pvc in $({} | grep '/{name}-{}-[0-9]*$'); do {}; done",
            kubectl(ctx, "get pvc -o name"),
            old.key.name,
            kubectl(
                ctx,
                &format!("patch \"$pvc\" -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{size}\"}}}}}}}}'")
            )
        ));
    }
    steps.extend(other);
    steps.push(format!(
        "recreate the StatefulSet around its running pods and claims (the new one adopts them): {}",
        orphan(ctx, old)
    ));
    steps.push(upgrade_anyway(ctx, ""));
    f.way_forward = steps;
    Some(f)
}

/// A frozen StatefulSet field that only recreating the StatefulSet changes.
fn statefulset_field(
    p: &Pair,
    ctx: &Context,
    rule: &'static str,
    field: &str,
    note: &str,
) -> Option<Finding> {
    let (old, new) = p.same()?;
    let d = changes(old, new, field);
    let first = d.first()?;
    let mut f = finding(rule, Verdict::Impossible, field, &d);
    f.summary = first.brief();
    f.reason = format!(
        "a StatefulSet's {field} cannot change once it exists: the API server refuses the upgrade and helm rolls it back{note}"
    );
    f.way_forward = vec![
        format!(
            "recreate the StatefulSet around its running pods and claims (the new one adopts them and replaces them one by one): {}",
            orphan(ctx, old)
        ),
        upgrade_anyway(ctx, ""),
    ];
    Some(f)
}

pub fn service_name(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    statefulset_field(
        p,
        ctx,
        "service-name",
        "spec.serviceName",
        "; once recreated, the pods' DNS names follow the new Service (POD.NEW-SERVICE)",
    )
}

pub fn pod_management_policy(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    statefulset_field(
        p,
        ctx,
        "pod-management-policy",
        "spec.podManagementPolicy",
        "",
    )
}

/// What of a StatefulSet's spec may change (the API validation's list).
const STATEFULSET_MUTABLE: &[&str] = &[
    "spec.replicas",
    "spec.ordinals",
    "spec.template",
    "spec.updateStrategy",
    "spec.revisionHistoryLimit",
    "spec.persistentVolumeClaimRetentionPolicy",
    "spec.minReadySeconds",
];

pub fn statefulset_spec(p: &Pair, ctx: &Context, covered: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let d: Vec<Delta> = changes(old, new, "spec")
        .into_iter()
        .filter(|d| !STATEFULSET_MUTABLE.iter().any(|m| under(&d.path, m)))
        .filter(|d| !covered.iter().any(|c| under(&d.path, c)))
        .collect();
    let first = d.first()?.path.clone();
    let mut f = statefulset_field(p, ctx, "statefulset-spec", &first, "")?;
    f.fields = d.iter().map(|d| d.path.clone()).collect();
    f.field = Some(first);
    Some(f)
}

pub fn claim_spec(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let grows = |d: &Delta| {
        d.path == "spec.resources.requests.storage"
            && matches!((quantity(d.old.as_ref()), quantity(d.new.as_ref())), (Some(a), Some(b)) if b > a)
    };
    let d: Vec<Delta> = changes(old, new, "spec")
        .into_iter()
        .filter(|d| !grows(d))
        .collect();
    let first = d.first()?;
    let mut f = finding("claim-spec", Verdict::Impossible, &first.path, &d);
    f.summary = first.brief();
    f.reason =
        "a claim's spec cannot change once it exists, except a larger storage request".into();
    f.way_forward = vec![format!(
        "make a new claim under another name and copy the data; the old one stays until {}",
        kubectl(ctx, &format!("delete pvc {}", old.key.name))
    )];
    Some(f)
}
