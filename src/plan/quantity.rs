//! Kubernetes quantities compared by value: the API server stores `1000m` as `1` and `1024Mi` as
//! `1Gi`, so a change of notation alone changes nothing on the cluster (no rollout, no claim
//! resize). Values are exact: nano-units in a u128, decimal and binary suffixes alike.

use serde_json::Value;

/// Whether a field at `path` holds a quantity: container resources, claim sizes, emptyDir limits.
pub fn is_quantity_path(path: &str) -> bool {
    path.contains("resources.limits") || path.contains("resources.requests") || {
        let last = path.rsplit('.').next().unwrap_or(path);
        last == "sizeLimit"
    }
}

/// Two scalars that are the same quantity however written (`1000m` and `1`, `1Gi` and `1024Mi`).
pub fn same_quantity(a: &Value, b: &Value) -> bool {
    match (nano(a), nano(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The quantity in nano-units, or None when it is not one we can read exactly.
fn nano(v: &Value) -> Option<u128> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let text = text.trim().strip_prefix('+').unwrap_or(text.trim());
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 9 {
        return None;
    }
    let digits: u128 = format!("{whole}{fraction}").parse().ok()?;
    let mut value = digits.checked_mul(10u128.pow(9 - fraction.len() as u32))?;
    let (base, exponent): (u128, u32) = match suffix {
        "" => (10, 0),
        "n" => return (value % 1_000_000_000 == 0).then_some(value / 1_000_000_000),
        "u" => return (value % 1_000_000 == 0).then_some(value / 1_000_000),
        "m" => return (value % 1000 == 0).then_some(value / 1000),
        "k" => (10, 3),
        "M" => (10, 6),
        "G" => (10, 9),
        "T" => (10, 12),
        "P" => (10, 15),
        "E" => (10, 18),
        "Ki" => (2, 10),
        "Mi" => (2, 20),
        "Gi" => (2, 30),
        "Ti" => (2, 40),
        "Pi" => (2, 50),
        "Ei" => (2, 60),
        _ => return None,
    };
    value = value.checked_mul(base.checked_pow(exponent)?)?;
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same(a: Value, b: Value) -> bool {
        same_quantity(&a, &b)
    }

    #[test]
    fn notations_of_one_value_are_equal() {
        assert!(same(json!("1000m"), json!("1")));
        assert!(same(json!("1000m"), json!(1)));
        assert!(same(json!("0.5"), json!("500m")));
        assert!(same(json!("1Gi"), json!("1024Mi")));
        assert!(same(json!("1G"), json!("1000M")));
        assert!(same(json!("1.5Gi"), json!("1536Mi")));
        assert!(same(json!("2k"), json!("2000")));
    }

    #[test]
    fn different_values_and_unreadable_ones_differ() {
        assert!(!same(json!("1G"), json!("1Gi")));
        assert!(!same(json!("250m"), json!("0.2")));
        assert!(!same(json!("1x"), json!("1x")));
        assert!(!same(json!(""), json!("")));
        assert!(!same(json!("1e3"), json!("1000")));
        assert!(!same(json!("99999999999999999999999Ei"), json!("1")));
    }

    #[test]
    fn quantity_paths() {
        assert!(is_quantity_path(
            "spec.template.spec.containers[app].resources.limits.cpu"
        ));
        assert!(is_quantity_path(
            "spec.volumeClaimTemplates[data].spec.resources.requests.storage"
        ));
        assert!(is_quantity_path(
            "spec.template.spec.volumes[tmp].emptyDir.sizeLimit"
        ));
        assert!(!is_quantity_path("spec.replicas"));
    }
}
