//! The values.yaml round-trip proof without serde: the generated text goes through the YAML
//! parser the full check uses (granit-parser, under serde-saphyr, with the same options), and
//! each event is compared at once with the computed values. No tree is built and no scalar is
//! resolved in general: a scalar is accepted only in the forms whose reading is certain
//! (below), which are the forms our emitter writes.
//!
//! This is a fast path, not the verdict: anything it does not recognise — an anchor, an alias,
//! a tag, a `<<` key, a duplicate key, a directive, a second document, a parse error, a plain
//! scalar that might not be a string, a number not written canonically, a very deep or very
//! large document — returns false, and the caller then runs the full parse-then-compare, which
//! gives the verdict and the message. So it can only accept what the full check accepts.

use granit_parser::{Event, ScalarStyle};
use serde_json::{Map, Value};

use super::events::{Events, MAX_DEPTH, certain_of};

/// True when `text` parses to exactly `expected`; false means "not proven here".
pub fn matches_exactly(text: &str, expected: &Value) -> bool {
    certain_of(text, |events, root| node(events, root, expected, 0))
}

/// Whether the node starting with `event` reads as `expected`; `None` when the text is not
/// one the fast path handles (the rest of the stream is then not read).
pub(super) fn node(
    events: &mut Events,
    event: Event,
    expected: &Value,
    depth: usize,
) -> Option<bool> {
    if depth > MAX_DEPTH {
        return None;
    }
    match event {
        Event::Scalar(text, style, 0, None) => scalar(&text, style, expected),
        Event::SequenceStart(_, 0, None) => {
            let items = expected.as_array()?;
            let mut i = 0;
            loop {
                let event = events.next()?;
                if matches!(event, Event::SequenceEnd) {
                    return Some(i == items.len());
                }
                if !node(events, event, items.get(i)?, depth + 1)? {
                    return Some(false);
                }
                i += 1;
            }
        }
        Event::MappingStart(_, 0, None) => mapping(events, expected.as_object()?, depth),
        // Anchors, aliases, tags and anything else: the full check decides.
        _ => None,
    }
}

fn mapping(events: &mut Events, object: &Map<String, Value>, depth: usize) -> Option<bool> {
    let mut seen: Vec<&str> = Vec::with_capacity(object.len());
    loop {
        let key = match events.next()? {
            Event::MappingEnd => return Some(seen.len() == object.len()),
            // A key is read as its text, except a plain key that may not be a string (null is
            // an error, and serde-saphyr finds duplicates among integers by value: `0x1` and
            // `1` are one key) and `<<` (a merge); a complex key has no place here either.
            Event::Scalar(text, style, 0, None)
                if text != "<<" && (style != ScalarStyle::Plain || is_plainly_string(&text)) =>
            {
                text
            }
            _ => return None,
        };
        let (k, v) = object.get_key_value(key.as_ref())?;
        if seen.contains(&k.as_str()) {
            // A duplicate key: serde-saphyr refuses it, and so must the verdict.
            return None;
        }
        seen.push(k.as_str());
        let value = events.next()?;
        if !node(events, value, v, depth + 1)? {
            return Some(false);
        }
    }
}

/// An untagged scalar against its expected value, in the forms whose reading by serde-saphyr
/// into a `serde_json::Value` is certain; `None` for any other form.
fn scalar(text: &str, style: ScalarStyle, expected: &Value) -> Option<bool> {
    let plain = style == ScalarStyle::Plain;
    let same = match expected {
        Value::Null => plain && is_null_word(text),
        Value::Bool(b) => plain && text == if *b { "true" } else { "false" },
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64()?;
            plain && is_decimal_fraction(text) && text.parse::<f64>().ok() == Some(f)
        }
        // Integers exactly as written by the emitter (no sign but `-`, no leading zero).
        Value::Number(n) => plain && text == n.to_string(),
        // A quoted or block scalar is always a string; a plain one only when it cannot read as
        // anything else.
        Value::String(s) => text == s && (!plain || is_plainly_string(text)),
        Value::Array(_) | Value::Object(_) => false,
    };
    // A mismatch of form is "not proven here"; only the full check may say the file is wrong.
    same.then_some(true)
}

pub(super) fn is_null_word(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// `-?digits.digits`, optionally with an exponent: a float in every YAML schema.
pub(super) fn is_decimal_fraction(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['-', '+']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let Some((whole, fraction)) = mantissa.split_once('.') else {
        return false;
    };
    digits(whole) && digits(fraction) && exponent.is_none_or(digits)
}

/// A plain scalar that serde-saphyr cannot read as null, a boolean (YAML 1.1's `y`/`on`/`no`...
/// included) or a number. Its numbers are Rust's `f64` syntax (`1e3`, `.5`, `inf`, `NaN`...)
/// and integers with an optional sign, `0x`/`0o`/`0b` radix and `_`, so a text that starts with
/// a letter (but is no `inf`/`nan` spelling) or holds any character no number has (`%`, `m`,
/// `/`, a space inside...) is a string: `100m`, `128Mi`, `25%`, `app.example.com`.
/// `:` counts as a number's too (YAML 1.1's base 60, `1:20`), which serde-saphyr reads as a
/// string but Helm would not: the emitter quotes those, so the fast path need not vouch for
/// them. Anything else is left to the full check.
pub(super) fn is_plainly_string(text: &str) -> bool {
    is_letter_led_word(text) || is_plainly_string_by_rule(text)
}

/// The words serde-saphyr reads as null or a boolean (in any case; YAML 1.1's included).
const NULL_OR_BOOL_WORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// The lettered spellings of Rust's float syntax (in any case).
const FLOAT_WORDS: [&str; 3] = ["inf", "infinity", "nan"];

/// The common case of [`is_plainly_string`], without its float parse: most keys and strings
/// are words led by an ASCII letter (`image`, `IfNotPresent`). With nothing to trim, such a
/// text is a number only as one of [`FLOAT_WORDS`] (Rust's float syntax has no other lettered
/// form), and null or a boolean only as one of [`NULL_OR_BOOL_WORDS`]; else it is plainly a
/// string. False means "ask the rule".
fn is_letter_led_word(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && !matches!(bytes.last(), Some(b' ' | b'\t' | b'\r' | b'\n'))
        && !NULL_OR_BOOL_WORDS
            .iter()
            .chain(&FLOAT_WORDS)
            .any(|w| text.eq_ignore_ascii_case(w))
}

/// [`is_plainly_string`] by its general rule.
fn is_plainly_string_by_rule(text: &str) -> bool {
    // What serde-saphyr trims before resolving.
    let t = text.trim_matches([' ', '\t', '\r', '\n']);
    let Some(first) = t.chars().next() else {
        return false;
    };
    let any_case = |words: &[&str]| words.iter().any(|w| t.eq_ignore_ascii_case(w));
    if is_null_word(t) || any_case(&NULL_OR_BOOL_WORDS) {
        return false;
    }
    let letter_first = first.is_alphabetic() && t.parse::<f64>().is_err();
    let never_in_a_number = |c: char| {
        !(c.is_ascii_hexdigit()
            || matches!(
                c,
                '+' | '-'
                    | '.'
                    | '_'
                    | ':'
                    | 'x'
                    | 'X'
                    | 'o'
                    | 'O'
                    | 'i'
                    | 'I'
                    | 'n'
                    | 'N'
                    | 't'
                    | 'T'
                    | 'y'
                    | 'Y'
                    | ' '
                    | '\t'
                    | '\r'
                    | '\n'
            ))
    };
    // A letter other than an exponent's `e` rules out a decimal integer, and a float unless
    // it is one of the spellings with letters: Rust's (`inf`, `NaN`..., which `parse` knows)
    // and YAML's `.inf`/`.nan`. With no `0x`/`0o`/`0b` radix either, it is a string: a commit
    // hash such as `5f2c1e9`, an argument such as `--to`.
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let radix = matches!(
        unsigned.as_bytes(),
        [b'0', b'x' | b'X' | b'o' | b'O' | b'b' | b'B', ..]
    );
    let yaml_non_finite = [".inf", ".nan"]
        .iter()
        .any(|w| unsigned.eq_ignore_ascii_case(w));
    let lettered = || {
        t.bytes()
            .any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E'))
            && !radix
            && !yaml_non_finite
            && t.parse::<f64>().is_err()
    };
    letter_first || t.chars().any(never_in_a_number) || lettered()
}

#[cfg(test)]
pub(super) mod tests;
