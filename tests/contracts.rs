//! Frozen contracts: for every example, the parts of the generated objects that a running release
//! cannot change, fixed in a reviewed snapshot (`tests/contracts/<example>.yaml`): workload
//! selectors, the selectors of Services, PodDisruptionBudgets and NetworkPolicies, HPA targets,
//! Services' clusterIP and type, and each StatefulSet's claim templates (names, labels, spec),
//! serviceName and podManagementPolicy. Rendered by the real Helm 3 and Helm 4, which must agree.
//!
//! A generator change that moves any of them breaks the upgrade of every release already
//! installed, so this test fails until the change comes with a migration (see the message).
//! `UPDATE_CONTRACTS=1 cargo test --test contracts` rewrites the snapshots.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::{Map, Value};

const RELEASE_AND_NAMESPACE: &str = "release r, namespace ci";

fn snapshot_path(spec: &str) -> PathBuf {
    root().join(snapshot_name(spec))
}

/// `tests/contracts/<example>.contracts.yaml`, as messages name it.
fn snapshot_name(spec: &str) -> String {
    format!(
        "tests/contracts/{}",
        spec.replace(".yaml", ".contracts.yaml")
    )
}

/// The contract fields of one rendered object, or None when it has none.
fn contract(doc: &Value) -> Option<(String, Value)> {
    let kind = doc["kind"].as_str()?;
    let spec = &doc["spec"];
    let pick = |fields: &[&str]| -> Map<String, Value> {
        fields
            .iter()
            .map(|f| {
                let v = f.split('.').fold(spec, |v, k| &v[k]);
                (format!("spec.{f}"), v.clone())
            })
            .collect()
    };
    let fields = match kind {
        "Deployment" | "DaemonSet" | "ReplicaSet" => pick(&["selector"]),
        "StatefulSet" => pick(&[
            "selector",
            "serviceName",
            "podManagementPolicy",
            "volumeClaimTemplates",
        ]),
        "Service" => pick(&["selector", "clusterIP", "type"]),
        "PodDisruptionBudget" => pick(&["selector"]),
        "NetworkPolicy" => pick(&["podSelector"]),
        "HorizontalPodAutoscaler" => pick(&["scaleTargetRef"]),
        "Job" if doc.pointer("/metadata/annotations/helm.sh~1hook").is_none() => {
            pick(&["selector"])
        }
        _ => return None,
    };
    Some((
        format!("{kind}/{}", doc["metadata"]["name"].as_str()?),
        Value::Object(fields),
    ))
}

/// Every workload's pods must carry the labels its selector and its Services select.
fn check_consistency(docs: &[Value], what: &str) {
    for w in docs.iter().filter(|d| {
        ["Deployment", "StatefulSet", "DaemonSet"].contains(&d["kind"].as_str().unwrap_or(""))
    }) {
        let labels = &w["spec"]["template"]["metadata"]["labels"];
        for (k, v) in w["spec"]["selector"]["matchLabels"].as_object().unwrap() {
            assert_eq!(
                &labels[k], v,
                "{what}: {} pods lack selector label {k}",
                w["metadata"]["name"]
            );
        }
    }
}

/// The contracts of every chart of every example, as the snapshot holds them.
fn contracts(helm: &std::path::Path) -> Vec<(&'static str, Value)> {
    let mut out: Vec<(&'static str, Map<String, Value>)> = Vec::new();
    for (ex, chart, tgz) in packaged() {
        let docs = render(helm, tgz, &ex.set(chart))
            .unwrap_or_else(|e| panic!("{} ({chart}) does not render: {e}", ex.spec));
        check_consistency(&docs, ex.spec);
        let objects: Map<String, Value> = docs.iter().filter_map(contract).collect();
        match out.iter_mut().find(|(s, _)| *s == ex.spec) {
            Some((_, m)) => {
                m.insert(chart.to_string(), Value::Object(objects));
            }
            None => out.push((
                ex.spec,
                Map::from_iter([(chart.to_string(), Value::Object(objects))]),
            )),
        }
    }
    out.into_iter()
        .map(|(s, m)| (s, Value::Object(m)))
        .collect()
}

/// Where two values differ, one line each: `chart Kind/name field.path: old → new`.
fn differences(path: &str, depth: usize, old: &Value, new: &Value, out: &mut Vec<String>) {
    let join = |k: &str| match depth {
        0 => k.to_string(),
        1 | 2 => format!("{path} {k}"),
        _ => format!("{path}.{k}"),
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                differences(&join(k), depth + 1, x, y, out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let (x, y) = (
                    a.get(i).unwrap_or(&Value::Null),
                    b.get(i).unwrap_or(&Value::Null),
                );
                differences(&format!("{path}[{i}]"), depth + 1, x, y, out);
            }
        }
        (a, b) if a != b => out.push(format!("  {path}: {a} → {b}")),
        _ => {}
    }
}

#[test]
fn selectors_and_claim_templates_are_frozen() {
    let helms = helms();
    let four = contracts(&helms[1].1);
    assert_eq!(
        contracts(&helms[0].1),
        four,
        "Helm 3 and Helm 4 render different contracts"
    );
    let update = std::env::var_os("UPDATE_CONTRACTS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for (spec, current) in &four {
        let path = snapshot_path(spec);
        if update {
            let text = format!(
                "# Frozen contracts of examples/{spec} ({RELEASE_AND_NAMESPACE}), checked by tests/contracts.rs.\n\
                 # Generated by `UPDATE_CONTRACTS=1 cargo test --test contracts`: review every change, see the test.\n{}",
                serde_saphyr::to_string(current).unwrap()
            );
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            failures.push(format!(
                "examples/{spec} has no snapshot {}: write it with UPDATE_CONTRACTS=1 cargo test --test contracts, review it and commit it",
                snapshot_name(spec)
            ));
            continue;
        };
        let frozen: Value = serde_saphyr::from_str(&text).unwrap();
        if &frozen != current {
            let mut lines = Vec::new();
            differences("", 0, &frozen, current, &mut lines);
            failures.push(format!(
                "examples/{spec} ({}):\n{}",
                snapshot_name(spec),
                lines.join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "The frozen contracts changed:\n{}\n\n\
         Selectors, a StatefulSet's claim templates, serviceName and podManagementPolicy cannot change on a\n\
         running release: the API server refuses the upgrade of every release already installed (and a\n\
         Service, PodDisruptionBudget or NetworkPolicy selector that no longer matches the pods cuts traffic,\n\
         eviction limits or network access). If the change is intended:\n\
         1. make `helm k8s-service plan` classify it and name the way forward (a rule in src/plan/rules.rs\n\
         \x20  with its unit test, and a case in tests/plan.rs), so that `upgrade` stops before it;\n\
         2. describe the migration in the README (\"Upgrade plans\");\n\
         3. rewrite the snapshots with `UPDATE_CONTRACTS=1 cargo test --test contracts` and commit them\n\
         \x20  for review.",
        failures.join("\n\n")
    );
}

#[test]
fn every_example_has_a_snapshot_and_no_snapshot_is_stale() {
    let mut expected: Vec<PathBuf> = EXAMPLES.iter().map(|e| snapshot_path(e.spec)).collect();
    expected.sort();
    let mut found: Vec<PathBuf> = std::fs::read_dir(root().join("tests/contracts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    found.sort();
    assert_eq!(
        found, expected,
        "tests/contracts/ must hold one snapshot per example in tests/common"
    );
}
