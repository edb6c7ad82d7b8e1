//! Read YAML the way Helm and Kubernetes do (YAML 1.1, go-yaml's resolver), as an oracle for
//! what reaches the cluster.
//!
//! A YAML 1.2 reader (serde-saphyr, and the code under test uses it) reads a bare `yes`, `0755`,
//! `1e3`, `1:20` or `2024-01-01` as a string, while Helm's reader turns them into a boolean, a
//! number or a timestamp. This loader builds the tree from the parser's events and resolves
//! every *plain* (unquoted) scalar with YAML 1.1's rules: what go-yaml would not read as a string
//! becomes a bool, null, integer or a marker string `<YAML 1.1 non-string: ...>`, so a test
//! comparing strings catches a user value that a template emitted bare. Quoted and block
//! scalars are strings, as everywhere. The resolver errs on the side of "not a string".
//!
//! Shared by `tests/property.rs` and the fuzz targets (`fuzz/`), through `#[path]`.
#![allow(dead_code)]

use granit_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Value};

/// Every document of `text` (empty documents dropped).
pub fn load_all(text: &str) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    // Stack of open collections: (container, pending key for maps).
    let mut stack: Vec<(Value, Option<String>)> = Vec::new();
    let mut current: Option<Value> = None;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| format!("YAML error: {e}"))?;
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(..) => continue,
            Event::Comment(..) => continue,
            Event::Anchor(..) => continue,
            Event::DocumentEnd => {
                if let Some(v) = current.take()
                    && !v.is_null()
                {
                    docs.push(v);
                }
                continue;
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => {
                return Err(format!("alias at {span:?}: not expected in Helm output"));
            }
            Event::SequenceStart(..) => {
                stack.push((Value::Array(Vec::new()), None));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push((Value::Object(Map::new()), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => stack.pop().expect("balanced events").0,
            Event::Scalar(text, style, _, tag) => {
                if tag.is_some() {
                    // An explicit tag is never emitted for user data.
                    Value::String(format!("<YAML 1.1 tagged: {text}>"))
                } else if style == ScalarStyle::Plain {
                    resolve_plain(&text)
                } else {
                    Value::String(text.into_owned())
                }
            }
            _ => continue,
        };
        // Attach the finished node to its parent, or make it the document.
        match stack.last_mut() {
            None => current = Some(node),
            Some((Value::Array(items), _)) => items.push(node),
            Some((Value::Object(map), pending)) => match pending.take() {
                None => {
                    let key = match node {
                        Value::String(s) => s,
                        // A key that is not a string (`yes:`, `1:`): keep it visible.
                        other => format!("<YAML 1.1 non-string key: {other}>"),
                    };
                    *pending = Some(key);
                }
                Some(key) => {
                    if map.insert(key.clone(), node).is_some() {
                        return Err(format!("duplicate key {key:?}"));
                    }
                }
            },
            Some(_) => unreachable!(),
        }
    }
    Ok(docs)
}

/// YAML 1.1 / go-yaml resolution of a plain scalar.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if !is_yaml11_string(s) {
        if let Ok(n) = s.parse::<i64>()
            && n.to_string() == s
        {
            return Value::from(n);
        }
        return Value::String(format!("<YAML 1.1 non-string: {s}>"));
    }
    Value::String(s.to_string())
}

/// Would go-yaml (YAML 1.1) read this plain scalar as a string? Not: the bool and null words,
/// `<<`, integers in every base (with `_` separators, as Go's ParseInt with base 0 reads them),
/// floats (`1e3`, `.5`, `.inf`, `.NaN`), sexagesimal numbers (`1:20`) and timestamps
/// (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`), each matched whole as YAML 1.1 defines them.
pub fn is_yaml11_string(s: &str) -> bool {
    if matches!(
        s,
        "" | "~"
            | "null"
            | "Null"
            | "NULL"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "true"
            | "True"
            | "TRUE"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "false"
            | "False"
            | "FALSE"
            | "off"
            | "Off"
            | "OFF"
            | "<<"
    ) {
        return false;
    }
    !(is_number(s) || is_timestamp(s))
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(f)
}

fn is_number(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    if matches!(t, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let digits_ = |x: &str| {
        all(x, |b| b.is_ascii_digit() || b == b'_') && x.bytes().any(|b| b.is_ascii_digit())
    };
    // Integers: decimal, 0x, 0o, 0b, leading-zero octal; `_` anywhere after the first digit.
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return all(h, |b| b.is_ascii_hexdigit() || b == b'_');
    }
    if let Some(o) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        return all(o, |b| (b'0'..=b'7').contains(&b) || b == b'_');
    }
    if let Some(bin) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        return all(bin, |b| b == b'0' || b == b'1' || b == b'_');
    }
    if digits_(t) {
        return true;
    }
    // Sexagesimal (YAML 1.1): ints `[1-9][0-9_]*(:[0-5]?[0-9])+` (190:20:30), floats
    // `[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*` (1:20.5); `07551:20` is a string.
    if let Some((head, rest)) = t.split_once(':')
        && digits_(head)
        && head.as_bytes()[0].is_ascii_digit()
    {
        let (mins, frac) = match rest.rsplit_once('.') {
            Some((m, f)) => (m, Some(f)),
            None => (rest, None),
        };
        let base60 = |p: &str| {
            let b = p.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        };
        let head_ok = frac.is_some() || head.as_bytes()[0] != b'0';
        if head_ok
            && mins.split(':').all(base60)
            && frac.is_none_or(|f| all(f, |b| b.is_ascii_digit() || b == b'_') || f.is_empty())
        {
            return true;
        }
    }
    // Floats: 1.5, .5, 1., 1e3, 1.5E-3 (go-yaml also reads an exponent without a dot).
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if !all(e, |b| b.is_ascii_digit()) {
            return false;
        }
    }
    match mantissa.split_once('.') {
        Some((a, b)) => {
            (a.is_empty() || digits_(a))
                && (b.is_empty() || digits_(b))
                && (digits_(a) || digits_(b))
        }
        None => exp.is_some() && digits_(mantissa),
    }
}

/// YAML 1.1 timestamps, matched whole: `YYYY-MM-DD`, or that plus `[Tt ]hh:mm:ss[.frac][zone]`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |from: usize, min: usize, max: usize| -> Option<usize> {
        let n = b[from.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        (min..=max).contains(&n).then_some(from + n)
    };
    let Some(i) = num(0, 4, 4) else { return false };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    let Some(i) = num(i + 1, 1, 2) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    let Some(mut i) = num(i + 1, 1, 2) else {
        return false;
    };
    if i == b.len() {
        return true;
    }
    // Time part.
    match b[i] {
        b'T' | b't' => i += 1,
        b' ' | b'\t' => {
            while i < b.len() && matches!(b[i], b' ' | b'\t') {
                i += 1;
            }
        }
        _ => return false,
    }
    let Some(j) = num(i, 1, 2) else { return false };
    if b.get(j) != Some(&b':') {
        return false;
    }
    let Some(j) = num(j + 1, 2, 2) else {
        return false;
    };
    if b.get(j) != Some(&b':') {
        return false;
    }
    let Some(mut i) = num(j + 1, 2, 2) else {
        return false;
    };
    if b.get(i) == Some(&b'.') {
        i = num(i + 1, 0, usize::MAX).unwrap_or(i + 1);
    }
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    if i == b.len() || &s[i..] == "Z" {
        return true;
    }
    if matches!(b[i], b'+' | b'-') {
        let Some(k) = num(i + 1, 1, 2) else {
            return false;
        };
        if k == b.len() {
            return true;
        }
        return b[k] == b':' && num(k + 1, 2, 2) == Some(b.len());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_as_yaml_1_1() {
        for s in [
            "yes",
            "NO",
            "on",
            "y",
            "~",
            "null",
            "0755",
            "0o17",
            "1e3",
            "1_000",
            "1:20",
            ".inf",
            "-.Inf",
            ".NaN",
            "0x1F",
            "2024-01-01",
            "1.10",
            "<<",
            "0b101",
            "+12",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10 -5",
            "1.",
            ".5",
            "08",
            "190:20:30",
            "0:20.5",
            "1E-3",
        ] {
            assert!(!is_yaml11_string(s), "{s}");
        }
        for s in [
            "hello",
            "a: b",
            "yes please",
            "x1e3",
            "e1",
            "v1.10",
            "-",
            "/path",
            "1-000",
            "2001-12-14t21:59:43.10-05:00,x",
            "1.2.3",
            "0x",
            "1e",
            ".",
            "1:2:3:x",
            "07551:20",
            "1:60",
        ] {
            assert!(is_yaml11_string(s), "{s}");
        }
        let docs = load_all("a: yes\nb: \"yes\"\nc: 0755\nd: '0755'\ne: |\n  x\n---\nf: [1, z]\n")
            .unwrap();
        assert_eq!(docs[0]["a"], Value::Bool(true));
        assert_eq!(docs[0]["b"], "yes");
        assert_eq!(docs[0]["c"], "<YAML 1.1 non-string: 0755>");
        assert_eq!(docs[0]["d"], "0755");
        assert_eq!(docs[0]["e"], "x\n");
        assert_eq!(docs[1]["f"][1], "z");
    }
}
