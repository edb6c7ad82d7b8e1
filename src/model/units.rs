//! Quantities in Opta's units and in Kubernetes' (CPU, memory, disk sizes), with the checks that
//! catch the unit mistakes a valid quantity hides: `cpu: 1` is one millicore (one CPU was meant),
//! `memory: 1` one megabyte (a gigabyte was meant), `512m` half a byte (512Mi was meant).

use super::rules::digits;
use crate::spec::raw::Quantity;

/// The least CPU a request or a limit may ask for: below it, a unit was almost certainly mixed up.
pub const MIN_CPU_MILLIS: u64 = 10;
/// The least memory (and the least size of a scratch directory), in bytes: 16 MB.
pub const MIN_MEMORY_BYTES: u64 = 16_000_000;

/// Binary and decimal suffixes a memory or disk size may carry.
const BYTE_UNITS: &[&str] = &["Ki", "Mi", "Gi", "Ti", "k", "M", "G", "T"];

/// CPU in Opta's unit (millicores) or a Kubernetes quantity ("500m", "0.5", "2").
pub fn cpu_millis(q: &Quantity) -> Result<u64, String> {
    let bad = || {
        "must be millicores (e.g. 250) or a CPU quantity such as \"250m\" or \"0.5\"".to_string()
    };
    let millis = match q {
        Quantity::Number(n) => *n,
        Quantity::Text(t) => {
            let t = t.trim();
            if let Some(m) = t.strip_suffix('m') {
                digits(m).ok_or_else(bad)?
            } else {
                let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
                if frac.len() > 3 || (!frac.is_empty() && !frac.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(bad());
                }
                let whole = digits(whole).ok_or_else(bad)?;
                let frac_millis = format!("{frac:0<3}").parse::<u64>().map_err(|_| bad())?;
                whole
                    .checked_mul(1000)
                    .and_then(|w| w.checked_add(frac_millis))
                    .ok_or_else(bad)?
            }
        }
    };
    if millis == 0 || millis > 1_000_000 {
        return Err("must be between 1 millicore and 1000 CPUs".into());
    }
    if millis < MIN_CPU_MILLIS {
        let s = if millis == 1 { "" } else { "s" };
        return Err(format!(
            "`cpu: {}` is {millis} millicore{s}, almost certainly a unit mistake (a container needs at least {MIN_CPU_MILLIS}); did you mean `cpu: {}` ({millis} CPU{s})?",
            shown(q),
            millis * 1000
        ));
    }
    Ok(millis)
}

/// Memory: Opta's unit (MB, written as Mi) or a quantity with a binary or decimal suffix, at
/// least 16 MB. Returns (amount, suffix) so that doubling keeps the user's unit: 128Mi → 256Mi.
pub fn memory(q: &Quantity) -> Result<(u64, &'static str), String> {
    size(q, "memory", true)
}

/// A disk size (`ephemeral_storage`, `tmp_size`, a writable path's `size`) in the units of
/// memory; `floor`: at least 16 MB, as for memory.
pub fn size(q: &Quantity, key: &str, floor: bool) -> Result<(u64, &'static str), String> {
    let bad = || {
        format!(
            "must be megabytes (e.g. 512) or a {} quantity such as \"512Mi\" or \"1Gi\"",
            if key == "memory" { "memory" } else { "size" }
        )
    };
    let (n, unit) = match q {
        Quantity::Number(n) => (*n, "Mi"),
        Quantity::Text(t) => {
            let t = t.trim();
            if let Some(n) = t.strip_suffix('m').and_then(digits) {
                return Err(format!(
                    "`{t}` is {n} millibytes (`m` means a thousandth); did you mean `{n}Mi`?"
                ));
            }
            let unit = BYTE_UNITS
                .iter()
                .find(|u| t.ends_with(*u))
                .copied()
                .ok_or_else(bad)?;
            (digits(&t[..t.len() - unit.len()]).ok_or_else(bad)?, unit)
        }
    };
    let bytes = n.saturating_mul(unit_bytes(unit));
    if n == 0 || bytes > (1u64 << 50) {
        return Err("must be more than 0 and at most 1Pi".into());
    }
    if floor && bytes < MIN_MEMORY_BYTES {
        let (what, meant) = match q {
            Quantity::Number(_) => (
                format!("`{key}: {n}` is {n} MB"),
                format!("`{key}: {}` ({n} GiB)", n * 1024),
            ),
            Quantity::Text(_) => (
                format!("`{n}{unit}` is {bytes} bytes"),
                format!("`{n}{}`", bigger(unit)),
            ),
        };
        return Err(format!(
            "{what}, almost certainly a unit mistake (at least 16 MB); did you mean {meant}?"
        ));
    }
    Ok((n, unit))
}

/// The next unit up: 512Ki was probably meant as 512Mi.
fn bigger(unit: &str) -> &'static str {
    match unit {
        "Ki" => "Mi",
        "Mi" => "Gi",
        "Gi" => "Ti",
        "k" => "M",
        "M" => "G",
        _ => "T",
    }
}

/// The quantity as the user wrote it.
fn shown(q: &Quantity) -> String {
    match q {
        Quantity::Number(n) => n.to_string(),
        Quantity::Text(t) => format!("\"{}\"", t.trim()),
    }
}

pub fn unit_bytes(unit: &str) -> u64 {
    match unit {
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => 1_000_000_000_000,
    }
}

/// The bytes of (amount, suffix).
pub fn bytes(q: (u64, &str)) -> u64 {
    q.0.saturating_mul(unit_bytes(q.1))
}

/// `bytes` as a quantity: whole Gi or Mi when it is one, else Mi rounded up.
pub fn quantity_of(bytes: u64) -> (u64, &'static str) {
    let (gi, mi) = (1u64 << 30, 1u64 << 20);
    if bytes > 0 && bytes.is_multiple_of(gi) {
        (bytes / gi, "Gi")
    } else {
        (bytes.div_ceil(mi), "Mi")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Quantity {
        Quantity::Text(s.into())
    }

    #[test]
    fn quantities_in_opta_units_and_kubernetes_units() {
        assert_eq!(cpu_millis(&Quantity::Number(250)), Ok(250));
        assert_eq!(cpu_millis(&text("0.5")), Ok(500));
        assert_eq!(cpu_millis(&text("2")), Ok(2000));
        assert_eq!(cpu_millis(&text("300m")), Ok(300));
        assert!(cpu_millis(&text("1.0005")).is_err());
        assert!(cpu_millis(&Quantity::Number(0)).is_err());
        assert_eq!(memory(&Quantity::Number(128)), Ok((128, "Mi")));
        assert_eq!(memory(&text("1Gi")), Ok((1, "Gi")));
        assert_eq!(memory(&text("1500M")), Ok((1500, "M")));
        assert!(memory(&text("1GB")).is_err());
        assert!(memory(&text("Mi")).is_err());
    }

    #[test]
    fn unit_mistakes_are_refused_with_what_was_meant() {
        assert_eq!(
            cpu_millis(&Quantity::Number(1)),
            Err("`cpu: 1` is 1 millicore, almost certainly a unit mistake (a container needs at least 10); did you mean `cpu: 1000` (1 CPU)?".into())
        );
        assert_eq!(
            cpu_millis(&text("5m")),
            Err("`cpu: \"5m\"` is 5 millicores, almost certainly a unit mistake (a container needs at least 10); did you mean `cpu: 5000` (5 CPUs)?".into())
        );
        assert_eq!(cpu_millis(&Quantity::Number(10)), Ok(10));
        assert_eq!(
            memory(&Quantity::Number(1)),
            Err("`memory: 1` is 1 MB, almost certainly a unit mistake (at least 16 MB); did you mean `memory: 1024` (1 GiB)?".into())
        );
        assert_eq!(
            memory(&text("512m")),
            Err("`512m` is 512 millibytes (`m` means a thousandth); did you mean `512Mi`?".into())
        );
        assert_eq!(
            memory(&text("512Ki")),
            Err(
                "`512Ki` is 524288 bytes, almost certainly a unit mistake (at least 16 MB); did you mean `512Mi`?"
                    .into()
            )
        );
        assert!(memory(&text("15M")).is_err());
        assert_eq!(memory(&text("16M")), Ok((16, "M")));
        assert_eq!(memory(&Quantity::Number(16)), Ok((16, "Mi")));
        assert_eq!(
            size(&Quantity::Number(2), "size", true),
            Err("`size: 2` is 2 MB, almost certainly a unit mistake (at least 16 MB); did you mean `size: 2048` (2 GiB)?".into())
        );
        // Without the floor (an ephemeral-storage request), only millibytes are refused.
        assert_eq!(
            size(&text("1Mi"), "ephemeral_storage", false),
            Ok((1, "Mi"))
        );
        assert!(size(&text("64m"), "ephemeral_storage", false).is_err());
    }

    #[test]
    fn byte_counts_become_quantities() {
        assert_eq!(bytes((2, "Gi")), 2 << 30);
        assert_eq!(quantity_of(1 << 30), (1, "Gi"));
        assert_eq!(quantity_of(300 << 20), (300, "Mi"));
        assert_eq!(quantity_of((300 << 20) + 1), (301, "Mi"));
    }
}
