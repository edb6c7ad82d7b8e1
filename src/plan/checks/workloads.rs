//! Checks about workloads: selectors, pod templates (a rolling restart, or a Job's refusal) and
//! replicas that leave the manifest.

use serde_json::Value;

use super::common::*;
use crate::plan::diff::brief;
use crate::plan::finding::{Context, Finding, Pair, Verdict};

pub fn selector(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let d = changes(old, new, "spec.selector");
    if d.is_empty() {
        return None;
    }
    let mut f = finding("selector", Verdict::Impossible, "spec.selector", &d);
    f.summary = format!(
        "{} → {}",
        compact(old.at(&["spec", "selector"])),
        compact(new.at(&["spec", "selector"]))
    );
    f.reason = format!(
        "the selector of a {} cannot change (the API server answers `field is immutable`), so the upgrade fails and is rolled back",
        old.key.kind
    );
    let old_pods = selector_arg(old, &["spec", "selector", "matchLabels"])
        .unwrap_or_else(|| "OLD-SELECTOR".into());
    let new_release = format!(
        "or install the service under a new release name beside this one, move the traffic, then uninstall this one: helm k8s-service install NEW-NAME {} -n {}; helm uninstall {} -n {}",
        ctx.spec, ctx.namespace, ctx.release, ctx.namespace
    );
    f.way_forward = match old.key.kind.as_str() {
        "StatefulSet" => vec![
            "a StatefulSet's pods keep their names, so a new StatefulSet cannot start beside the old one".into(),
            new_release.trim_start_matches("or ").to_string(),
        ],
        "Job" => vec![
            format!("delete the Job (it keeps only its logs): {}", kubectl(ctx, &format!("delete job {}", old.key.name))),
            upgrade_anyway(ctx, ""),
        ],
        kind => vec![
            format!("recreate the {kind} but keep its pods serving: {}", orphan(ctx, old)),
            format!("{} (the new pods start beside the old ones)", upgrade_anyway(ctx, "")),
            format!(
                "once the new pods are ready, delete the old ones: {}",
                kubectl(
                    ctx,
                    &format!(
                        "delete {} -l {old_pods}",
                        if kind == "Deployment" { "replicaset" } else { "pod" }
                    )
                )
            ),
            new_release,
        ],
    };
    Some(f)
}

pub fn job_template(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let d = changes(old, new, "spec.template");
    if d.is_empty() {
        return None;
    }
    let mut f = finding("job-template", Verdict::Impossible, "spec.template", &d);
    f.summary = summarize(&d, "spec.template");
    f.reason = "the pod template of a Job cannot change once it exists (it is not a Helm hook, which helm would create anew): the API server refuses the upgrade".into();
    f.way_forward = vec![
        format!(
            "delete the Job before upgrading (its pods and logs go with it): {}",
            kubectl(ctx, &format!("delete job {}", old.key.name))
        ),
        upgrade_anyway(ctx, ""),
        "or make it a Helm hook (annotation helm.sh/hook: pre-upgrade, helm.sh/hook-delete-policy: before-hook-creation) so that every upgrade creates it anew".into(),
    ];
    Some(f)
}

pub fn replicas_dropped(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let n = old.at(&["spec", "replicas"])?.as_u64()?;
    if new.at(&["spec", "replicas"]).is_some() || n < 2 {
        return None;
    }
    let d = changes(old, new, "spec.replicas");
    let mut f = finding("replicas-dropped", Verdict::ScaleDown, "spec.replicas", &d);
    f.summary = format!("{n} → (none: the HorizontalPodAutoscaler takes over)");
    f.reason = format!(
        "the new manifest no longer sets spec.replicas, so the upgrade removes it: the API server sets it to 1 and deletes {} of the {n} pods until the HorizontalPodAutoscaler scales back up (15 s or more)",
        n - 1
    );
    f.way_forward = vec![
        format!(
            "upgrade when losing those pods for a short while is acceptable: {}",
            upgrade_anyway(ctx, "")
        ),
        "or keep the replicas fixed (min_containers equal to max_containers) until the chart carries the running count through the switch".into(),
    ];
    Some(f)
}

pub fn pod_template(p: &Pair, _: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let d = changes(old, new, "spec.template");
    if d.is_empty() {
        return None;
    }
    let mut f = finding("pod-template", Verdict::Restart, "spec.template", &d);
    f.summary = summarize(&d, "spec.template");
    let text = |path: &[&str]| {
        new.at(path)
            .map(|v| brief(Some(v)))
            .unwrap_or_else(|| "the default".into())
    };
    f.reason = match new.key.kind.as_str() {
        "Deployment" => format!(
            "the pod template changes: a new ReplicaSet replaces the pods, at most {} unavailable and {} extra at a time",
            text(&["spec", "strategy", "rollingUpdate", "maxUnavailable"]),
            text(&["spec", "strategy", "rollingUpdate", "maxSurge"])
        ),
        "StatefulSet" if new.at(&["spec", "updateStrategy", "type"]).and_then(Value::as_str) == Some("OnDelete") => {
            "the pod template changes, but the pods keep the old one until they are deleted (updateStrategy OnDelete)".into()
        }
        "StatefulSet" => "the pod template changes: the pods are replaced one at a time, the highest ordinal first, each once the one before is ready".into(),
        _ => "the pod template changes: the pods are replaced node by node".into(),
    };
    Some(f)
}
