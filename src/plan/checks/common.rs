//! What the checks share: building a finding, the changes under a field, and the commands
//! their ways forward suggest (`kubectl -n NS ...`, `helm k8s-service upgrade ... --accept-plan`).

use serde_json::Value;

use crate::plan::diff::{self, Delta};
use crate::plan::finding::{Context, Finding, Verdict};
use crate::plan::manifest::Object;

pub(super) fn finding(
    rule: &'static str,
    verdict: Verdict,
    field: &str,
    deltas: &[Delta],
) -> Finding {
    Finding {
        verdict,
        rule,
        field: (!field.is_empty()).then(|| field.to_string()),
        fields: deltas.iter().map(|d| d.path.clone()).collect(),
        summary: String::new(),
        reason: String::new(),
        way_forward: Vec::new(),
    }
}

/// The differences under `field` (a dotted path of plain keys) of two objects.
pub(super) fn changes(old: &Object, new: &Object, field: &str) -> Vec<Delta> {
    let keys: Vec<&str> = field.split('.').collect();
    diff::deltas(old.at(&keys), new.at(&keys), field)
}

pub(super) fn kubectl(ctx: &Context, rest: &str) -> String {
    format!("kubectl -n {} {rest}", ctx.namespace)
}

pub(super) fn upgrade_anyway(ctx: &Context, extra: &str) -> String {
    format!(
        "helm k8s-service upgrade {} {} -n {} --accept-plan{extra}",
        ctx.release, ctx.spec, ctx.namespace
    )
}

/// Delete a workload but keep its pods (and a StatefulSet's claims) running.
pub(super) fn orphan(ctx: &Context, o: &Object) -> String {
    kubectl(
        ctx,
        &format!(
            "delete {} {} --cascade=orphan",
            o.key.kind.to_lowercase(),
            o.key.name
        ),
    )
}

pub(super) fn compact(v: Option<&Value>) -> String {
    v.map_or("(none)".into(), |v| crate::diag::printable(&v.to_string()))
}

/// `k=v,k2=v2` of a label selector's matchLabels (for `kubectl -l`).
pub(super) fn selector_arg(o: &Object, path: &[&str]) -> Option<String> {
    let labels = o.at(path)?.as_object()?;
    let parts: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

/// The claim templates of a StatefulSet by name.
pub(super) fn claims(o: &Object) -> Vec<(String, &Value)> {
    o.at(&["spec", "volumeClaimTemplates"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c.pointer("/metadata/name")?.as_str()?.to_string(), c)))
        .collect()
}

pub(super) fn find<'a>(list: &[(String, &'a Value)], name: &str) -> Option<&'a Value> {
    list.iter().find(|(m, _)| m == name).map(|(_, v)| *v)
}

/// A storage quantity in bytes (`20Gi`, `500Mi`, `10G`, `1e9`), for comparing sizes.
pub fn bytes(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (n, unit) = q.split_at(split);
    let n: f64 = n.parse().ok()?;
    let m = match unit {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "m" => 1e-3,
        _ => return None,
    };
    Some(n * m)
}

pub(super) fn quantity(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::String(s) => bytes(s),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// `container app: image, env; pod: volumes[data]` for changes under a pod template.
pub(super) fn summarize(d: &[Delta], template: &str) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for delta in d {
        let rest = delta.path.strip_prefix(template).unwrap_or(&delta.path);
        let rest = rest.trim_start_matches('.');
        let (group, field) = ["spec.containers[", "spec.initContainers["]
            .iter()
            .find_map(|pre| {
                let inner = rest.strip_prefix(pre)?;
                let (name, after) = inner.split_once(']')?;
                let what = if pre.contains("init") {
                    "init container"
                } else {
                    "container"
                };
                let field = after.trim_start_matches('.');
                let field = field.split(['.', '[']).next().unwrap_or("");
                Some((
                    format!("{what} {name}"),
                    if field.is_empty() {
                        "added or removed".to_string()
                    } else {
                        field.to_string()
                    },
                ))
            })
            .unwrap_or_else(|| ("pod".to_string(), rest.to_string()));
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, fields)) if !fields.contains(&field) => fields.push(field),
            Some(_) => {}
            None => groups.push((group, vec![field])),
        }
    }
    // The containers first: what changes in them is usually why the pods restart.
    groups.sort_by_key(|(g, _)| g == "pod");
    groups
        .iter()
        .map(|(g, f)| format!("{g}: {}", f.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) const WORKLOAD_KINDS: &[(&str, &str)] = &[
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_quantities() {
        assert_eq!(bytes("1Gi"), Some(1024f64.powi(3)));
        assert!(bytes("20Gi") > bytes("5000Mi"));
        assert!(bytes("1G") < bytes("1Gi"));
        assert_eq!(bytes("1e3"), Some(1000.0));
        assert_eq!(bytes("x"), None);
    }
}
