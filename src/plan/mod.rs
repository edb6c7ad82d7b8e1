//! Upgrade plans: what an upgrade will do to a running release, object by object, before it
//! touches anything. The old side is the release's manifest (`helm get manifest`) or another spec
//! or chart rendered offline; the new side is the new chart rendered as the upgrade renders it.
//! [`manifest`] parses both, [`compare`] matches their objects by (API group, kind, namespace,
//! name) and runs the rule table of [`rules`] on each pair; [`report`] says it for people and
//! for machines.

mod checks;
pub mod diff;
pub mod finding;
pub mod manifest;
mod quantity;
pub mod release;
pub mod report;
pub mod rules;

use std::collections::BTreeMap;

pub use finding::Verdict;
pub use manifest::{Manifest, Object, ObjectKey, parse};
pub use report::{Change, Report};

use finding::{Context, Pair};

/// What is compared: the release, its namespace, and names for both sides.
#[derive(Clone, Debug)]
pub struct Target {
    pub release: String,
    pub namespace: String,
    /// `release shop`, or the old spec or chart.
    pub old: String,
    /// The new spec or chart.
    pub new: String,
    /// The spec the way forward names in its `helm k8s-service` commands (`SPEC` for a chart).
    pub spec: String,
}

/// The replica counts the upgrade will really write. Under an autoscaler of its release the
/// chart reads the live count with `lookup` at upgrade time and keeps it (at least the floor,
/// `autoscaling.manageReplicas`), but a render without a cluster (`helm template`, which the plan
/// uses) writes the floor: comparing that with the live count would report a scale-down that
/// never happens. So a workload an HPA of the new side targets gets the larger of both counts.
fn replicas_as_upgraded(old: &Manifest, new: &Manifest) -> Vec<Object> {
    let autoscaled = |o: &Object| {
        new.objects.iter().any(|h| {
            h.is("autoscaling", "HorizontalPodAutoscaler")
                && h.doc["spec"]["scaleTargetRef"]["kind"].as_str() == Some(o.key.kind.as_str())
                && h.doc["spec"]["scaleTargetRef"]["name"].as_str() == Some(o.key.name.as_str())
        })
    };
    new.objects
        .iter()
        .map(|n| {
            let mut n = n.clone();
            let live = old
                .objects
                .iter()
                .find(|o| o.key == n.key)
                .and_then(|o| o.doc["spec"]["replicas"].as_u64());
            let rendered = n.doc["spec"]["replicas"].as_u64();
            if let (Some(live), Some(rendered), true) = (live, rendered, autoscaled(&n)) {
                n.doc["spec"]["replicas"] = live.max(rendered).into();
            }
            n
        })
        .collect()
}

/// Compare two manifests object by object.
pub fn compare(old: &Manifest, new: &Manifest, target: &Target) -> Report {
    let new = &Manifest {
        objects: replicas_as_upgraded(old, new),
        hooks: new.hooks.clone(),
    };
    let olds: BTreeMap<&ObjectKey, &Object> = old.objects.iter().map(|o| (&o.key, o)).collect();
    let news: BTreeMap<&ObjectKey, &Object> = new.objects.iter().map(|o| (&o.key, o)).collect();
    let mut pairs: Vec<Pair> = Vec::new();
    let mut gone: Vec<&Object> = Vec::new();
    for o in &old.objects {
        match news.get(&o.key) {
            Some(n) => pairs.push(Pair {
                old: Some(o),
                new: Some(n),
            }),
            None => gone.push(o),
        }
    }
    let mut fresh: Vec<&Object> = new
        .objects
        .iter()
        .filter(|n| !olds.contains_key(&n.key))
        .collect();
    // A workload whose kind changes is one object replaced by another: same namespace and name,
    // or else the only workload leaving and the only one arriving.
    let workload = |o: &&Object| {
        ["Deployment", "StatefulSet", "DaemonSet"]
            .iter()
            .any(|k| o.is("apps", k))
    };
    let switches: Vec<(usize, usize)> = {
        let (gw, fw): (Vec<usize>, Vec<usize>) = (
            (0..gone.len()).filter(|i| workload(&gone[*i])).collect(),
            (0..fresh.len()).filter(|i| workload(&fresh[*i])).collect(),
        );
        let by_name: Vec<(usize, usize)> = gw
            .iter()
            .filter_map(|&g| {
                fw.iter()
                    .find(|&&f| {
                        fresh[f].key.name == gone[g].key.name
                            && fresh[f].key.namespace == gone[g].key.namespace
                    })
                    .map(|&f| (g, f))
            })
            .collect();
        if by_name.is_empty() && gw.len() == 1 && fw.len() == 1 {
            vec![(gw[0], fw[0])]
        } else {
            by_name
        }
    };
    for &(g, f) in &switches {
        pairs.push(Pair {
            old: Some(gone[g]),
            new: Some(fresh[f]),
        });
    }
    let (switched_old, switched_new): (Vec<usize>, Vec<usize>) = switches.iter().copied().unzip();
    gone = gone
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !switched_old.contains(i))
        .map(|(_, o)| o)
        .collect();
    fresh = fresh
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !switched_new.contains(i))
        .map(|(_, o)| o)
        .collect();
    let ctx = Context {
        release: &target.release,
        namespace: &target.namespace,
        spec: &target.spec,
        new_objects: &new.objects,
        added: fresh.clone(),
    };
    pairs.extend(gone.iter().map(|o| Pair {
        old: Some(*o),
        new: None,
    }));
    pairs.extend(fresh.iter().map(|n| Pair {
        old: None,
        new: Some(*n),
    }));
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for pair in &pairs {
        let found = rules::evaluate(pair, &ctx);
        if found.is_empty() {
            unchanged += 1;
        }
        let Some(object) = pair.object() else {
            continue;
        };
        let previous = pair
            .old
            .filter(|o| o.key.kind != object.key.kind)
            .map(Object::reference);
        changes.extend(found.into_iter().map(|f| Change {
            verdict: f.verdict,
            rule: f.rule,
            object: object.reference(),
            previous: previous.clone(),
            field: f.field,
            fields: f.fields,
            summary: f.summary,
            reason: f.reason,
            way_forward: f.way_forward,
        }));
    }
    let mut report = Report::new(
        &target.release,
        &target.namespace,
        (target.old.clone(), target.new.clone()),
        changes,
        unchanged,
        new.hooks.iter().map(Object::reference).collect(),
    );
    if let (Some(was), Some(now)) = (chart_name(old), chart_name(new))
        && was != now
    {
        report.notes.push(format!(
            "the chart was `{was}` and is now `{now}`, so every object changes its name and labels (Opta files name their charts after the file since this version). To keep the release as it is, give the old name: add `--name {was}` (and `--module MODULE` for an Opta file with several k8s-service modules)"
        ));
    }
    report
}

/// The one chart name (`app.kubernetes.io/name`) the objects of a manifest carry, if one.
fn chart_name(m: &Manifest) -> Option<String> {
    let names: std::collections::BTreeSet<&str> = m
        .objects
        .iter()
        .filter_map(|o| o.doc["metadata"]["labels"]["app.kubernetes.io/name"].as_str())
        .collect();
    (names.len() == 1).then(|| names.into_iter().next().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(replicas: u64) -> Manifest {
        let text = format!(
            "---\n# Source: svc/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\n\
             metadata:\n  name: shop-web\nspec:\n  replicas: {replicas}\n\
             ---\n# Source: svc/templates/hpa.yaml\napiVersion: autoscaling/v2\n\
             kind: HorizontalPodAutoscaler\nmetadata:\n  name: shop-web\nspec:\n  \
             scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: shop-web\n  \
             minReplicas: 2\n  maxReplicas: 10\n"
        );
        parse(&text, "test", "prod").expect("a valid manifest")
    }

    fn target() -> Target {
        Target {
            release: "shop".into(),
            namespace: "prod".into(),
            old: "release shop".into(),
            new: "web.yaml".into(),
            spec: "web.yaml".into(),
        }
    }

    #[test]
    fn an_autoscaled_count_is_what_the_upgrade_keeps_not_the_offline_floor() {
        // Live: the HPA scaled to 8; offline render: the floor, 2. The upgrade keeps 8.
        let report = compare(&manifest(8), &manifest(2), &target());
        assert!(report.changes.is_empty(), "{:#?}", report.changes);
        // A floor raised above the live count is a real change.
        let report = compare(&manifest(3), &manifest(5), &target());
        assert_eq!(report.changes.len(), 1, "{:#?}", report.changes);
    }
}
