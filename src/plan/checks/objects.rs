//! Checks about whole objects: added, removed, a workload's kind switch, and the catch-all of
//! changes applied in place.

use serde_json::Value;

use super::common::*;
use crate::plan::diff::{self, Delta, under};
use crate::plan::finding::{Context, Finding, Pair, Verdict};
use crate::plan::manifest::Object;

pub fn kind_switch(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = (p.old?, p.new?);
    if old.key.kind == new.key.kind {
        return None;
    }
    let mut f = finding("kind-switch", Verdict::Replaced, "kind", &[]);
    f.summary = "deleted and created in the same step: an outage".into();
    let labels = new.at(&["spec", "template", "metadata", "labels"]);
    let services: Vec<String> = ctx
        .new_objects
        .iter()
        .filter(|s| s.is("", "Service"))
        // A Service the upgrade adds serves nothing yet.
        .filter(|s| !ctx.added.iter().any(|a| a.key == s.key))
        .filter(|s| {
            s.at(&["spec", "selector"])
                .and_then(Value::as_object)
                .is_some_and(|sel| {
                    !sel.is_empty()
                        && sel
                            .iter()
                            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
                })
        })
        .map(Object::label)
        .collect();
    let delay = new
        .at(&["spec", "template", "spec", "containers"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.pointer("/readinessProbe/initialDelaySeconds")?.as_u64())
        .max()
        .unwrap_or(0);
    let who = if services.is_empty() {
        "no pod serves".to_string()
    } else {
        format!(
            "{} {} no ready endpoint",
            services.join(" and "),
            if services.len() == 1 { "has" } else { "have" }
        )
    };
    f.reason = format!(
        "helm deletes {} and creates {} in the same step: {who} from the deletion until the first new pod passes its readiness probe (at least {delay} s after it starts, plus scheduling, volume provisioning and the image pull)",
        old.label(),
        new.label()
    );
    let mut templates: Vec<String> = new.template.iter().cloned().collect();
    for t in ctx.added.iter().filter_map(|o| o.template.as_ref()) {
        if !templates.contains(t) {
            templates.push(t.clone());
        }
    }
    let show: Vec<String> = templates
        .iter()
        .map(|t| format!("--show-only {t}"))
        .collect();
    f.way_forward = vec![
        format!(
            "without an outage, in steps: first create the new {} beside the old one (its pods carry the same labels, so they join the Service): helm k8s-service template {} {} -n {} -- {} | {}",
            new.key.kind,
            ctx.release,
            ctx.spec,
            ctx.namespace,
            show.join(" "),
            kubectl(ctx, "apply -f -")
        ),
        kubectl(
            ctx,
            &format!(
                "rollout status {}/{}",
                new.key.kind.to_lowercase(),
                new.key.name
            ),
        ),
        format!(
            "{} (helm adopts the objects created above and deletes the old {})",
            upgrade_anyway(ctx, " -- --take-ownership"),
            old.key.kind
        ),
    ];
    if old.is("apps", "StatefulSet") {
        let claims: Vec<String> = claims(old)
            .iter()
            .map(|(n, _)| format!("{n}-{}-N", old.key.name))
            .collect();
        f.way_forward.push(format!(
            "the claims of the StatefulSet stay ({}): once the data is no longer needed, {}",
            claims.join(", "),
            kubectl(ctx, "delete pvc NAME")
        ));
    }
    f.way_forward
        .push(format!("or accept the outage: {}", upgrade_anyway(ctx, "")));
    Some(f)
}

pub fn added(p: &Pair, _: &Context, _: &[String]) -> Option<Finding> {
    if p.old.is_some() {
        return None;
    }
    let mut f = finding("added", Verdict::Added, "", &[]);
    f.reason = "the upgrade creates it".into();
    Some(f)
}

pub fn removed(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let old = p.old?;
    if p.new.is_some() {
        return None;
    }
    let mut f = finding("removed", Verdict::Removed, "", &[]);
    f.reason = "the upgrade deletes it".into();
    if old.is("apps", "StatefulSet") && !claims(old).is_empty() {
        f.reason.push_str(", and its pods; its claims stay");
        f.way_forward = vec![format!(
            "once the data is no longer needed: {} then {}",
            kubectl(ctx, "get pvc"),
            kubectl(ctx, "delete pvc NAME")
        )];
    } else if WORKLOAD_KINDS.iter().any(|(g, k)| old.is(g, k)) {
        f.reason.push_str(", and its pods");
    } else if old.is("autoscaling", "HorizontalPodAutoscaler") {
        // `scale_on` replaces the HPA with a KEDA ScaledObject whose HPA takes the same name.
        let hpa = |o: &&crate::plan::manifest::Object| {
            o.key.kind == "ScaledObject"
                && o.doc["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["name"]
                    == old.key.name.as_str()
        };
        if let Some(so) = ctx.new_objects.iter().find(hpa) {
            f.reason = format!(
                "the upgrade deletes it after the new ScaledObject {} adopts it (scaledobject.keda.sh/transfer-hpa-ownership); KEDA recreates it under the same name, and the workload keeps its replica count meanwhile",
                so.key.name
            );
        }
    }
    Some(f)
}

pub fn in_place(p: &Pair, _: &Context, covered: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let d: Vec<Delta> = diff::deltas(Some(&old.doc), Some(&new.doc), "")
        .into_iter()
        .filter(|d| !covered.iter().any(|c| under(&d.path, c)))
        .collect();
    if d.is_empty() {
        return None;
    }
    let mut f = finding("in-place", Verdict::InPlace, "", &d);
    let shown: Vec<String> = d
        .iter()
        .take(3)
        .map(|d| format!("{} {}", d.path, d.brief()))
        .collect();
    f.summary = shown.join("; ");
    if d.len() > 3 {
        f.summary.push_str(&format!("; and {} more", d.len() - 3));
    }
    f.reason = if old.is("batch", "CronJob") && d.iter().any(|d| under(&d.path, "spec.jobTemplate"))
    {
        "the next runs use the new job template; a run in progress finishes with the old one".into()
    } else if old.is("", "Service") && d.iter().any(|d| under(&d.path, "spec.selector")) {
        "the Service sends traffic to the pods the new selector matches, as soon as it is applied"
            .into()
    } else {
        "applied in place".into()
    };
    Some(f)
}
