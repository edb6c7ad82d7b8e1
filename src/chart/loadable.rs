//! Whether a values.yaml certainly loads, without serde: `repo index` must refuse a chart whose
//! values.yaml Helm cannot parse (its loader rule), and reading ~34 KB of YAML is most of the
//! work of indexing an archive. This walks the parser's events (the parser and options of the
//! full check, see [`super::verify`]) and accepts only documents every part of which is read with
//! certainty: one document, no directive, no anchor, alias, tag or `<<` key, plain keys that are
//! plainly strings, plain values that are null, `true`/`false`, a canonical integer, a finite
//! decimal fraction or plainly a string, within limits far inside serde-saphyr's budget.
//!
//! This is a fast path, not the verdict: `false` means "not certain here", and the caller then
//! runs the full parse (serde-saphyr, duplicate keys last-wins), which decides and gives the
//! message. So it accepts only what the full parse accepts (a differential test holds them
//! together); the forms it accepts are those our own charts and most charts use.

use granit_parser::{Event, ScalarStyle};

use super::events::{Events, MAX_DEPTH, certain_of};
use super::verify::{is_decimal_fraction, is_null_word, is_plainly_string};

/// True when `text` certainly parses as one YAML document under the full check; false means
/// "not certain here" (the full check decides).
pub fn certainly_loads(text: &str) -> bool {
    certain_of(text, |events, root| node(events, root, 0).map(|()| true))
}

pub(super) fn node(events: &mut Events, event: Event, depth: usize) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    match event {
        Event::Scalar(text, style, 0, None) => {
            (style != ScalarStyle::Plain || plain_value_is_certain(&text)).then_some(())
        }
        Event::SequenceStart(_, 0, None) => loop {
            match events.next()? {
                Event::SequenceEnd => return Some(()),
                item => node(events, item, depth + 1)?,
            }
        },
        Event::MappingStart(_, 0, None) => loop {
            match events.next()? {
                Event::MappingEnd => return Some(()),
                // Duplicate keys are no error here (last wins, as in go-yaml), but a plain
                // key that may not be a string (integers are compared by value) or `<<` (a
                // merge) is left to the full parse, as is a complex key.
                Event::Scalar(text, style, 0, None)
                    if text != "<<"
                        && (style != ScalarStyle::Plain || is_plainly_string(&text)) => {}
                _ => return None,
            }
            let value = events.next()?;
            node(events, value, depth + 1)?;
        },
        // Anchors, aliases, tags and anything else: the full parse decides.
        _ => None,
    }
}

/// A plain scalar whose reading cannot fail: null, a boolean, an integer as Rust writes it
/// (fits in 64 bits, no sign but `-`, no leading zero), a finite decimal fraction, or plainly a
/// string.
fn plain_value_is_certain(text: &str) -> bool {
    let canonical_integer = text.parse::<i64>().is_ok_and(|n| n.to_string() == text)
        || text.parse::<u64>().is_ok_and(|n| n.to_string() == text);
    is_null_word(text)
        || matches!(text, "true" | "false")
        || canonical_integer
        || (is_decimal_fraction(text) && text.parse::<f64>().is_ok_and(f64::is_finite))
        || is_plainly_string(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full parse `repo index` runs (serde-saphyr, last duplicate wins).
    fn full_loads(doc: &str) -> bool {
        let mut o = serde_saphyr::Options::default();
        o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
        serde_saphyr::from_str_with_options::<Option<serde::de::IgnoredAny>>(doc, o).is_ok()
    }

    #[test]
    fn accepts_common_values_files_and_leaves_the_rest_to_the_full_parse() {
        for doc in [
            "a: 1\nb: [x, true, ~, -2, 1.5, \"2024\"]\nc:\n  d: 'yes'\ne: {}\nf: []\n",
            "# only a comment\nimage:\n  tag: \"1.2.3\"\n  pullPolicy: IfNotPresent\n",
            "a: 1\na: 2\n", // duplicates: last wins, no error
            "s: |\n  block\n  text\n",
            "big: 18446744073709551615\nsmall: -9223372036854775808\n",
        ] {
            assert!(certainly_loads(doc), "{doc}");
            assert!(full_loads(doc), "{doc}");
        }
        // Not certain here (the full parse decides, whatever its verdict).
        for doc in [
            "",
            "# nothing\n",
            "a: &x 1\nb: *x\n",
            "a: !!int 1\n",
            "<<: {a: 1}\n",
            "1: a\n",
            "? [a]\n: b\n",
            "a: 1\n---\nb: 2\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 0x1F\n",
            "a: +1\n",
            "a: 1e999\n",
            "a: 99999999999999999999\n",
            "a: 1:20\n",
            "tag: 1.2.3\n", // most likely a string, but not certainly: digits and dots only
            "a: [\n",
            "a: b\n c\n: d\n",
            &"[".repeat(40),
        ] {
            assert!(!certainly_loads(doc), "{doc:?}");
        }
    }

    /// The fast path is what reads real charts: every example's values.yaml passes it.
    #[test]
    fn every_example_values_yaml_is_certain() {
        for (spec, text, _) in super::super::verify::tests::examples_values_yaml() {
            assert!(certainly_loads(&text), "{spec}");
        }
    }

    /// Differential: random small documents built from YAML's special characters and words;
    /// whatever the fast path accepts, the full parse accepts too. Not vacuous: it accepts many.
    #[test]
    fn never_accepts_what_the_full_parse_refuses() {
        let pieces = [
            "a", "b", "1", "-1", "0x1", "1.5", "1e3", ".inf", "~", "null", "yes", "true", "on",
            "y", "x y", ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "?", "#", " #c", "&a ",
            "*a", "!t ", "!!str ", "<<", "'q'", "\"d\"", "|", ">", "%", "@", "`", "\n", "\n  ",
            "\n- ", "\t", "---\n", "...\n", "k: ", "\u{feff}", "\\", "é",
        ];
        let mut next = super::super::verify::tests::xorshift(0x2545_F491_4F6C_DD1D);
        let mut accepted = 0;
        for _ in 0..30_000 {
            let n = 1 + (next() % 10) as usize;
            let mut doc = String::from("k: ");
            for _ in 0..n {
                doc.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            doc.push('\n');
            if certainly_loads(&doc) {
                assert!(
                    full_loads(&doc),
                    "fast path accepted what the full parse refuses: {doc:?}"
                );
                accepted += 1;
            }
        }
        assert!(accepted > 3_000, "{accepted}");
    }
}
