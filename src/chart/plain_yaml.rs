//! The `yaml` filter's fast path: values whose YAML is certainly what serde-saphyr would write,
//! written directly. Most of values.yaml is short names, numbers, flags and small mappings of
//! them (labels, tolerations); the serializer costs ~4,000 instructions for a scalar and ~12,000
//! for a small collection, this a few hundred. Anything not certain (a string that might need
//! quotes, a float, a list directly in a list) returns `None`, and the caller uses serde-saphyr.
//! The tests compare the two on generated values, so the fast path cannot drift from it.

use std::fmt::Write;

use tera::value::ValueKind;

/// Append `value`'s YAML if it is a scalar (or an empty collection) certainly written that way.
pub(super) fn scalar(value: &tera::Value, out: &mut String) -> bool {
    match value.kind() {
        ValueKind::Bool => out.push_str(if value.as_bool() == Some(true) {
            "true"
        } else {
            "false"
        }),
        ValueKind::I64 | ValueKind::U64 => {
            let written = match (value.as_i64(), value.as_u64()) {
                (Some(n), _) => write!(out, "{n}"),
                (None, Some(n)) => write!(out, "{n}"),
                (None, None) => return false,
            };
            if written.is_err() {
                return false;
            }
        }
        ValueKind::None | ValueKind::Undefined => out.push_str("null"),
        ValueKind::Array if value.as_array().is_some_and(<[_]>::is_empty) => out.push_str("[]"),
        ValueKind::Map if value.as_map().is_some_and(tera::Map::is_empty) => out.push_str("{}"),
        ValueKind::String => match value.as_str() {
            Some("") => out.push_str(r#""""#),
            Some(s) if is_certainly_plain(s, false) => out.push_str(s),
            _ => return false,
        },
        _ => return false,
    }
    true
}

/// A string serde-saphyr certainly leaves plain (as a key when `key`: names and paths only).
/// Conservative: no whitespace and no character that YAML gives a meaning inside a plain scalar;
/// it starts with a letter, `/` or `$` (never an indicator, a number or a date) and is none of
/// YAML 1.1's words for booleans, null and the float specials, in any case; or it is digits then
/// letters (`256Mi`, `30s`), the first letter not one of a number's (`1e5`, `0x1`, `0o7`, `0b1`).
pub(super) fn is_certainly_plain(s: &str, key: bool) -> bool {
    const WORDS: [&str; 13] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity",
        "nil",
    ];
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if s.len() > 64 {
        return false;
    }
    if first.is_ascii_digit() {
        let letters = s.trim_start_matches(|c: char| c.is_ascii_digit());
        return letters.bytes().next().is_some_and(|b| {
            b.is_ascii_alphabetic() && !matches!(b.to_ascii_lowercase(), b'e' | b'x' | b'o' | b'b')
        }) && letters.bytes().all(|b| b.is_ascii_alphabetic());
    }
    // A key is quoted for more (`,`, `:`): keys keep to names and paths.
    let inner = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'/')
            || (!key && matches!(b, b'$' | b',' | b'@' | b'?' | b'=' | b'+' | b'%' | b':'))
    };
    (first.is_ascii_alphabetic() || first == b'/' || (first == b'$' && !key))
        && bytes.iter().all(|&b| inner(b))
        && !s.ends_with(':')
        && !WORDS.iter().any(|w| s.eq_ignore_ascii_case(w))
}

/// serde-saphyr's block YAML of a non-empty mapping or list (every line ending in `\n`, the first
/// at column 0), if every key and leaf is certain; `None` otherwise.
pub(super) fn block(value: &tera::Value) -> Option<String> {
    let mut out = String::with_capacity(256);
    node(value, 0, false, &mut out).then_some(out)
}

/// Write a non-empty collection at `indent`; `inline` when its first line continues a `- `.
fn node(value: &tera::Value, indent: usize, inline: bool, out: &mut String) -> bool {
    match value.kind() {
        ValueKind::Map => {
            let Some(map) = value.as_map() else {
                return false;
            };
            for (i, (key, v)) in map.iter().enumerate() {
                if i > 0 || !inline {
                    out.extend(std::iter::repeat_n(' ', indent));
                }
                match key.as_str() {
                    Some(k) if is_certainly_plain(k, true) => out.push_str(k),
                    _ => return false,
                }
                out.push(':');
                if !child(v, indent, out) {
                    return false;
                }
            }
            !map.is_empty()
        }
        ValueKind::Array => {
            let Some(items) = value.as_array() else {
                return false;
            };
            for (i, v) in items.iter().enumerate() {
                if i > 0 || !inline {
                    out.extend(std::iter::repeat_n(' ', indent));
                }
                out.push_str("- ");
                let fine = match v.kind() {
                    // A list item's mapping starts on the `- ` line, its keys two columns in.
                    ValueKind::Map if v.as_map().is_some_and(|m| !m.is_empty()) => {
                        node(v, indent + 2, true, out)
                    }
                    ValueKind::Array if v.as_array().is_some_and(|a| !a.is_empty()) => false,
                    _ => {
                        scalar(v, out) && {
                            out.push('\n');
                            true
                        }
                    }
                };
                if !fine {
                    return false;
                }
            }
            !items.is_empty()
        }
        _ => false,
    }
}

/// What follows `key:` (the key at column `indent`): ` scalar` on the same line, or a collection
/// on the next lines: a mapping two columns in, a list at the key's own column.
fn child(v: &tera::Value, indent: usize, out: &mut String) -> bool {
    let at = match v.kind() {
        ValueKind::Map if v.as_map().is_some_and(|m| !m.is_empty()) => Some(indent + 2),
        ValueKind::Array if v.as_array().is_some_and(|a| !a.is_empty()) => Some(indent),
        _ => None,
    };
    if let Some(at) = at {
        out.push('\n');
        node(v, at, false, out)
    } else {
        out.push(' ');
        scalar(v, out) && {
            out.push('\n');
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serializer(v: &tera::Value) -> String {
        let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
        serde_saphyr::to_string_with_options(v, options).unwrap()
    }

    struct Gen(u64);
    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
        fn string(&mut self) -> String {
            const WORDS: [&str; 44] = [
                "a",
                "yes",
                "On",
                "x1",
                "A-b.C/d_e",
                "",
                "1",
                "0x1",
                "a b",
                "a:b",
                "#",
                "null",
                "app.kubernetes.io/name",
                "e1",
                "-a",
                "~",
                "/livez",
                "/",
                "$x",
                "25%",
                "256Mi",
                "1e",
                "0x",
                "1x",
                "a:",
                "a: b",
                "a,b",
                "@a",
                "a@b",
                "a?b=c",
                "2.7.1",
                "9090",
                "postgres://p@db:5432/p?s=r",
                "1_0",
                "Off",
                "1:20",
                "a:1",
                "sha256:4f3c",
                "30s",
                "0o",
                "1E",
                "1b",
                "=",
                "a=",
            ];
            WORDS[self.next(WORDS.len())].to_string()
        }
        fn value(&mut self, depth: usize) -> tera::Value {
            match self.next(if depth == 0 { 6 } else { 9 }) {
                0 => tera::Value::from(self.next(2) == 0),
                1 => tera::Value::from(self.next(1000) as i64 - 500),
                2 => tera::Value::none(),
                3 => tera::Value::from(1.5f64),
                4 | 5 => tera::Value::from(self.string()),
                6 | 7 => {
                    let mut m = tera::Map::new();
                    for _ in 0..self.next(4) {
                        let k = self.string();
                        m.insert(k.into(), self.value(depth - 1));
                    }
                    tera::Value::from(m)
                }
                _ => {
                    let n = self.next(4);
                    tera::Value::from((0..n).map(|_| self.value(depth - 1)).collect::<Vec<_>>())
                }
            }
        }
    }

    #[test]
    fn the_fast_path_writes_what_the_serializer_writes() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let (mut scalars, mut blocks) = (0, 0);
        for _ in 0..20_000 {
            let v = g.value(3);
            let mut s = String::new();
            if scalar(&v, &mut s) {
                scalars += 1;
                assert_eq!(format!("{s}\n"), serializer(&v), "{v:?}");
            }
            if let Some(text) = block(&v) {
                blocks += 1;
                assert_eq!(text, serializer(&v), "{v:?}");
            }
        }
        assert!(
            scalars > 2_000 && blocks > 500,
            "{scalars} scalars, {blocks} blocks"
        );
    }

    #[test]
    fn plain_strings_match_the_serializer() {
        let mut strings: Vec<String> = [
            "payments",
            "y",
            "n",
            "yes",
            "no",
            "on",
            "off",
            "true",
            "false",
            "null",
            "nan",
            "inf",
            "e1",
            "x1",
            "a.b",
            "a/b",
            "a-",
            "a_b",
            "v1.2.3",
            "ghcr.io/acme/api",
            "",
            "Yes",
            "NO",
            "On",
            "oFF",
            "True",
            "NULL",
            "Null",
            "NaN",
            "INF",
            "Y",
            "N",
            "Retain",
            "E1",
            "X",
            "infinity",
            "nil",
            "y-",
            "null-",
            "a..",
            "a//",
            "A-b.C/d_e",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every short string over an alphabet that covers the fast path's edges.
        let alphabet = [
            'a', 'e', 'f', 'i', 'n', 'o', 'y', 'N', 'O', 'Y', '0', '1', '.', '-', '_', '/', ':',
            ' ', '$', '%', ',', '@', '?', '=', '+', 'x', 'b', 'M', '#', '~', '\t', '"',
        ];
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        for _ in 0..4000 {
            let len = 1 + g.next(5);
            strings.push((0..len).map(|_| alphabet[g.next(alphabet.len())]).collect());
        }
        let mut fast = 0;
        for s in &strings {
            let v = tera::Value::from(s.as_str());
            let mut out = String::new();
            if scalar(&v, &mut out) {
                fast += 1;
                assert_eq!(format!("{out}\n"), serializer(&v), "{s:?}");
                // As a key, too.
                let mut m = tera::Map::new();
                m.insert(s.clone().into(), tera::Value::from(1i64));
                let m = tera::Value::from(m);
                if let Some(text) = block(&m) {
                    assert_eq!(text, serializer(&m), "{s:?}");
                }
            }
        }
        assert!(fast > 100, "the fast path was taken only {fast} times");
    }
}
