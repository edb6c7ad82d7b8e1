//! Where two objects differ, as field paths in kubectl's style:
//! `spec.template.spec.containers[app].image`, `metadata.labels["helm.sh/chart"]`. Lists of
//! named items (containers, ports, volumes, claim templates...) are matched by name, so a
//! container added in front does not make every later one "changed"; others by position. Keys
//! come in sorted order.

use serde_json::Value;

use super::quantity::{is_quantity_path, same_quantity};

/// One difference: where, and the value on each side (None: absent).
#[derive(Clone, Debug, PartialEq)]
pub struct Delta {
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

impl Delta {
    /// The change in a few words: `20Gi → 30Gi`, `(none) → 3`, `{...} → {...}`.
    pub fn brief(&self) -> String {
        format!(
            "{} → {}",
            brief(self.old.as_ref()),
            brief(self.new.as_ref())
        )
    }
}

pub fn brief(v: Option<&Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(Value::String(s)) => crate::diag::printable(s),
        Some(Value::Array(a)) if a.is_empty() => "[]".into(),
        Some(Value::Array(_)) => "[...]".into(),
        Some(Value::Object(m)) if m.is_empty() => "{}".into(),
        Some(Value::Object(_)) => "{...}".into(),
        Some(other) => other.to_string(),
    }
}

/// Every difference between `old` and `new` under `path` (`""` for the whole document).
pub fn deltas(old: Option<&Value>, new: Option<&Value>, path: &str) -> Vec<Delta> {
    let mut out = Vec::new();
    walk(old, new, path, &mut out);
    out
}

fn walk(old: Option<&Value>, new: Option<&Value>, path: &str, out: &mut Vec<Delta>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (k, va) in a {
                walk(Some(va), b.get(k), &key(path, k), out);
            }
            for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                walk(None, Some(vb), &key(path, k), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            match (names(a), names(b)) {
                (Some(na), Some(nb)) => {
                    for (n, va) in na.iter().zip(a) {
                        let vb = nb.iter().position(|m| m == n).map(|i| &b[i]);
                        walk(Some(va), vb, &format!("{path}[{n}]"), out);
                    }
                    for (n, vb) in nb.iter().zip(b).filter(|(n, _)| !na.contains(n)) {
                        walk(None, Some(vb), &format!("{path}[{n}]"), out);
                    }
                    let common = |x: &[String], y: &[String]| -> Vec<String> {
                        x.iter().filter(|n| y.contains(n)).cloned().collect()
                    };
                    // Reordering named items changes the object too (a pod template's hash).
                    if common(&na, &nb) != common(&nb, &na) {
                        out.push(Delta {
                            path: format!("{path} (order)"),
                            old: Some(Value::from(na)),
                            new: Some(Value::from(nb)),
                        });
                    }
                }
                _ => {
                    for i in 0..a.len().max(b.len()) {
                        walk(a.get(i), b.get(i), &format!("{path}[{i}]"), out);
                    }
                }
            }
        }
        // A quantity written differently is the same on the cluster (the API server stores it
        // canonically): not a change.
        (Some(a), Some(b)) if is_quantity_path(path) && same_quantity(a, b) => {}
        (a, b) if a != b => out.push(Delta {
            path: path.to_string(),
            old: a.cloned(),
            new: b.cloned(),
        }),
        _ => {}
    }
}

/// The `name` (or `metadata.name`, as in claim templates) of every item, when all items are maps
/// with a distinct one.
fn names(items: &[Value]) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let n = item
            .get("name")
            .or_else(|| item.pointer("/metadata/name"))?
            .as_str()?;
        if out.iter().any(|m| m == n) || !plain(n) {
            return None;
        }
        out.push(n.to_string());
    }
    (!out.is_empty()).then_some(out)
}

fn plain(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 63
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `path.key`, or `path["key.with/odd chars"]`.
pub fn key(path: &str, k: &str) -> String {
    if plain(k) {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    } else {
        format!("{path}[{}]", Value::String(crate::diag::printable(k)))
    }
}

/// Whether `path` is `prefix` or lies under it.
pub fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(['.', '[', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(a: Value, b: Value) -> Vec<String> {
        deltas(Some(&a), Some(&b), "")
            .into_iter()
            .map(|d| d.path)
            .collect()
    }

    #[test]
    fn named_lists_match_by_name_and_odd_keys_are_quoted() {
        let a = json!({"spec": {"containers": [{"name": "app", "image": "a:1"}, {"name": "side", "image": "s"}]},
                       "metadata": {"labels": {"helm.sh/chart": "x-1"}}});
        let b = json!({"spec": {"containers": [{"name": "init", "image": "i"}, {"name": "app", "image": "a:2"}, {"name": "side", "image": "s"}]},
                       "metadata": {"labels": {"helm.sh/chart": "x-2"}}});
        assert_eq!(
            paths(a, b),
            [
                "metadata.labels[\"helm.sh/chart\"]",
                "spec.containers[app].image",
                "spec.containers[init]"
            ]
        );
    }

    #[test]
    fn reordering_and_plain_lists() {
        let a = json!({"c": [{"name": "a"}, {"name": "b"}], "args": ["x", "y"]});
        let b = json!({"c": [{"name": "b"}, {"name": "a"}], "args": ["x"]});
        assert_eq!(paths(a, b), ["args[1]", "c (order)"]);
        let d = &deltas(Some(&json!({"n": 1})), Some(&json!({})), "")[0];
        assert_eq!((d.path.as_str(), d.brief()), ("n", "1 → (none)".into()));
        assert!(under("spec.template.spec", "spec.template"));
        assert!(under("spec.x[0]", "spec.x"));
        assert!(!under("spec.templateX", "spec.template"));
        let r = |cpu: Value| json!({"resources": {"limits": {"cpu": cpu}}});
        assert!(paths(r(json!("1000m")), r(json!("1"))).is_empty());
        assert_eq!(
            paths(r(json!("1000m")), r(json!("1500m"))),
            ["resources.limits.cpu"]
        );
    }
}
