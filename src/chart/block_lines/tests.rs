//! The line reader against granit: wherever it reads a whole stream, the events are granit's.

use granit_parser::{Event, Parser, StrInput};
use serde_json::{Value, json};

use super::super::events::{
    Events, MAX_DEPTH, MAX_EVENTS, lines_document, parser_options, without_comment_lines,
};
use super::super::loadable::{self, certainly_loads};
use super::super::verify::tests::{examples_values_yaml, xorshift};
use super::super::verify::{matches_exactly, node};
use super::{events, line_end};

/// granit's events of `text` with the fast paths' options, spans left out; `None` on an error.
fn granit(text: &str) -> Option<Vec<Event<'_>>> {
    let mut parser = Parser::with_options(StrInput::new(text), parser_options());
    let mut out = Vec::new();
    loop {
        let (event, _) = parser.next()?.ok()?;
        let end = event == Event::StreamEnd;
        out.push(event);
        if end {
            return Some(out);
        }
    }
}

fn read(text: &str) -> Option<Vec<Event<'_>>> {
    events(text, MAX_DEPTH, MAX_EVENTS)
}

/// Whether the reader read `text` whole; if so its events must be granit's.
fn agrees(text: &str) -> bool {
    let Some(lines) = read(text) else {
        return false;
    };
    assert_eq!(Some(&lines), granit(text).as_ref(), "{text:?}");
    true
}

/// Every example's values.yaml, with and without its comment lines, is read whole (else the
/// fast paths would fall back to granit for our own charts) and as granit reads it.
#[test]
fn reads_every_example_values_yaml() {
    for (spec, text, _) in examples_values_yaml() {
        assert!(agrees(&text), "{spec}");
        let stripped = without_comment_lines(&text).unwrap();
        assert!(agrees(&stripped), "{spec} without comment lines");
    }
}

#[test]
fn reads_the_subset() {
    for doc in [
        "a: 1\n",
        "a: 1",
        "a:\n",
        "a:\nb: 2\n",
        "a:\n  b: 1\n  c:\n  - x\n  -\n  - y: 1\n    z:\n    - 1\nd: \"q # r\" # c\n",
        "- a\n-\n- b\n",
        "-\n  - x\n-\n  a: 1\n",
        "  a: 1\n  b: [] # c\n  c: {}\n",
        "k:\n- a: 1\n  b:\n  - x\n  c: 2\n- b\nj: \"\"\n",
        "\"a b\": \"c: d\"\n\"\": x\n",
        "a: --port\nb: -1\nc: a:b\nd: a#b\ne: 50%\nf: \u{85}\u{2028}é\n",
        "# c\n\n  # d\na: 1\n   \n",
        "-   a: 1\n    b: 2\n",
        "a: \"b\\\"c\"\n",
        "a: \"l\\nm\\\\c\\\"d\\/e\\tf\\rg\\0h\\n\" # c\n\"k\\\"\": \"\\\\\"\n",
    ] {
        assert!(agrees(doc), "{doc:?}");
    }
}

/// What the reader must give up on: outside its subset, whatever granit makes of it.
#[test]
fn gives_up_outside_the_subset() {
    for doc in [
        "",
        "# only\n",
        "a: 1\r\n",
        "a: 1\0\n",
        "\u{feff}a: 1\n",
        "a: \u{feff}\n",
        "# \u{feff}\na: 1\n",
        "# \r a: 1\n",
        "a:\tb\n",
        "a: \u{1}\n",
        "a: \u{7f}\n",
        "a: \u{9f}\n",
        "a: b\n  c\n",
        "a: b\n  # c\n  d\n",
        "a: \"b\n  c\"\n",
        "a: 'b'\n",
        "a: \"\\x41\"\n",
        "a: \"\\u00e9\"\n",
        "a: \"\\U0001F600\"\n",
        "a: \"\\\tb\"\n",
        "a: \"\\ \"\n",
        "a: \"b\\\n",
        "a: \"b\\\"\n",
        "\"\\x41\": 1\n",
        "a: |\n  x\n",
        "a: >\n  x\n",
        "a: &x 1\n",
        "a: *x\n",
        "a: !t 1\n",
        "a: [1]\n",
        "a: {b: 1}\n",
        "a: []x\n",
        "a: \"b\"#c\n",
        "a: \"b\" c\n",
        "a: b # c\n",
        "a: b \n",
        "a: b:\n",
        "a: b: c\n",
        "a: - b\n",
        "a: -\n",
        "a: ?b\n",
        "a: :b\n",
        "a: %b\n",
        "a: @b\n",
        "a: `b\n",
        "? a\n: b\n",
        "a : b\n",
        "a:b\n",
        "-a: b\n",
        ".a: b\n",
        "a b: c\n",
        "'a': b\n",
        "---\na: 1\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\n...\n",
        "%YAML 1.2\n---\na: 1\n",
        "- - a\n",
        "-\tx\n",
        "a: 1\n- b\n",
        "- a\nb: 1\n",
        "a:\n  - x\n  b: 1\n",
        "  a: 1\nb: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "x\n",
        "\"x\"\n",
        "[]\n",
    ] {
        assert_eq!(read(doc), None, "{doc:?}");
    }
    let long_key = format!("{}: 1\n", "k".repeat(201));
    assert_eq!(read(&long_key), None);
    assert!(agrees(&format!("{}: 1\n", "k".repeat(200))));
    let deep: String = (0..=MAX_DEPTH)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect();
    assert_eq!(read(&deep), None, "deeper than MAX_DEPTH");
    let shallow: String = (0..MAX_DEPTH - 1)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect();
    assert!(agrees(&shallow));
    assert_eq!(events("a: 1\nb: 2\n", MAX_DEPTH, 6), None, "event limit");
}

const KEYS: &[&str] = &[
    "a",
    "b",
    "k.x/y-z",
    "_k",
    "K_1",
    "\"q k\"",
    "\"\"",
    "\"a:b\"",
    "-k",
    ".k",
    "k k",
    "k:x",
    "\"k\\\"\"",
    "'k'",
    "?",
    "1",
    "k ",
    "...",
    "---",
    "\"#\"",
    "a#",
    "é",
];

const VALUES: &[&str] = &[
    "x",
    "a b",
    "a:b",
    "a: b",
    "a #b",
    "a#b",
    "-x",
    "- x",
    "-",
    "--port",
    "[]",
    "{}",
    "[a]",
    "{a: 1}",
    "\"q\"",
    "\"q\" # c",
    "\"q\"#c",
    "\"a\\\"b\"",
    "'s'",
    "\"\"",
    "x:",
    "x ",
    " x",
    "\tx",
    "x\t",
    "é",
    "\u{85}",
    "\u{2028}",
    "\u{feff}x",
    "x\u{feff}",
    "\u{1}",
    "\u{7f}",
    "&a x",
    "*a",
    "!t x",
    "|",
    ">",
    "%x",
    "@x",
    "`x",
    "?x",
    ":x",
    ",x",
    "#c",
    "1",
    "null",
    "~",
    "...",
    "---",
    "[] # c",
    "[]  #c",
    "{}x",
    "\"a:b\"",
    "a,b",
    "a]b",
    "a}",
    "\"a",
    "a\"",
    "[] #",
    "\"x\" ",
    "y: 1",
    "\"y\": 1",
    "\"a # b\"",
    "a  b",
    "0.5",
    "1:20",
    "http://x:1/y?z#w",
    "\"a\\nb\"",
    "\"a\\\\\"",
    "\"\\x41\"",
    "\"\\u00e9\"",
    "\"a\\\"",
    "\"\\0\"",
    "\"\\/\"",
    "\"\\t\\r\"",
    "\"\\\"\"",
    "\"\\\"",
    "\"\\e\\a\\b\\f\\v\"",
    "\"\\N\\L\\P\\_\"",
    "\"\\U0001F600\"",
    "\"\\ \"",
    "\"\\z\"",
    "\"a\\\"b\" c",
    "",
    " ",
    "x  # c",
];

/// Values in the subset.
const GOOD: &[&str] = &[
    "x",
    "a b",
    "a:b",
    "a#b",
    "-x",
    "--port",
    "[]",
    "{}",
    "\"q\"",
    "\"q\" # c",
    "\"\"",
    "é",
    "1",
    "null",
    "~",
    "...",
    "---",
    "[] # c",
    "\"a:b\"",
    "a,b",
    "0.5",
    "http://x:1/y?z#w",
    "\"a # b\"",
    "\"l\\nm\\n\"",
    "\"\\\"q\\\"\"",
];

/// A random value, mostly from the subset.
fn value(next: &mut impl FnMut() -> u64) -> &'static str {
    if next().is_multiple_of(3) {
        VALUES[(next() % VALUES.len() as u64) as usize]
    } else {
        GOOD[(next() % GOOD.len() as u64) as usize]
    }
}

fn key(next: &mut impl FnMut() -> u64) -> &'static str {
    if next().is_multiple_of(4) {
        KEYS[(next() % KEYS.len() as u64) as usize]
    } else {
        KEYS[(next() % 6) as usize]
    }
}

/// A random block node at `indent` (as the lines of a document), mostly well formed.
fn block(next: &mut impl FnMut() -> u64, indent: usize, depth: usize, out: &mut Vec<String>) {
    let pad = |n: usize| " ".repeat(n);
    let sequence = next().is_multiple_of(2);
    for _ in 0..1 + next() % 3 {
        if next().is_multiple_of(8) {
            out.push(format!("{}# c", pad((next() % 5) as usize)));
        }
        let deeper = indent + 1 + (next() % 3) as usize;
        let nest = depth < 4 && next().is_multiple_of(3);
        if sequence {
            match next() % 4 {
                0 if nest => {
                    out.push(format!("{}-", pad(indent)));
                    block(next, deeper, depth + 1, out);
                }
                1 => {
                    // `- key: value`, continued at the key's column.
                    let column = indent + 1 + (1 + next() % 2) as usize;
                    out.push(format!(
                        "{}-{}{}: {}",
                        pad(indent),
                        pad(column - indent - 1),
                        key(next),
                        value(next)
                    ));
                    for _ in 0..next() % 3 {
                        if nest && next().is_multiple_of(2) {
                            out.push(format!("{}{}:", pad(column), key(next)));
                            let compact = next().is_multiple_of(2);
                            block(
                                next,
                                if compact { column } else { column + 2 },
                                depth + 1,
                                out,
                            );
                        } else {
                            out.push(format!("{}{}: {}", pad(column), key(next), value(next)));
                        }
                    }
                }
                2 if next().is_multiple_of(4) => out.push(format!("{}-", pad(indent))),
                _ => out.push(format!("{}- {}", pad(indent), value(next))),
            }
        } else if nest {
            out.push(format!("{}{}:", pad(indent), key(next)));
            // A compact sequence at the key's indent, or any block deeper.
            let at = if next().is_multiple_of(2) {
                indent
            } else {
                deeper
            };
            block(next, at, depth + 1, out);
        } else if next().is_multiple_of(6) {
            out.push(format!("{}{}:", pad(indent), key(next)));
        } else {
            out.push(format!("{}{}: {}", pad(indent), key(next), value(next)));
        }
    }
}

/// Differential: tens of thousands of random documents, mostly well-formed blocks with tricky
/// scalars, some with a line moved, swapped or replaced; wherever the reader reads a whole
/// stream, it is granit's. Not vacuous: many are read whole, with nested sequences of
/// mappings and compact sequences among them.
#[test]
fn agrees_with_granit_on_random_documents() {
    let mut next = xorshift(0x5DEE_CE66_D1CE_4E5B);
    let (mut whole, mut items_with_maps, mut compact, mut gave_up) = (0, 0, 0, 0);
    for round in 0..40_000u32 {
        let mut lines = Vec::new();
        let indent = (next() % 3) as usize;
        block(&mut next, indent, 0, &mut lines);
        match next() % 6 {
            0 if !lines.is_empty() => {
                let i = (next() % lines.len() as u64) as usize;
                let moved = match next() % 3 {
                    0 => format!(" {}", lines[i]),
                    1 => lines[i].trim_start().to_string(),
                    _ => lines[i].replacen("  ", " ", 1),
                };
                lines[i] = moved;
            }
            1 if lines.len() > 1 => {
                let i = (next() % (lines.len() as u64 - 1)) as usize;
                lines.swap(i, i + 1);
            }
            2 => lines.push(String::new()),
            _ => {}
        }
        let mut doc = lines.join("\n");
        if !round.is_multiple_of(7) {
            doc.push('\n');
        }
        if agrees(&doc) {
            whole += 1;
            let has = |p: &str| lines.iter().any(|l| l.trim_start().starts_with(p));
            if lines.iter().any(|l| {
                l.trim_start()
                    .strip_prefix('-')
                    .is_some_and(|r| r.trim_start().contains(": "))
            }) {
                items_with_maps += 1;
            }
            if lines.windows(2).any(|w| {
                let indent = |l: &str| l.len() - l.trim_start().len();
                w[0].ends_with(':')
                    && w[1].trim_start().starts_with('-')
                    && indent(&w[0]) == indent(&w[1])
            }) && has("-")
            {
                compact += 1;
            }
        } else {
            gave_up += 1;
        }
    }
    assert!(
        whole > 12_000 && items_with_maps > 2_000 && compact > 1_000 && gave_up > 5_000,
        "{whole} {items_with_maps} {compact} {gave_up}"
    );
}

/// Differential: random lines of YAML's special pieces at random indents, with and without
/// their comment lines; mostly given up on, and never read differently from granit.
#[test]
fn agrees_with_granit_on_random_lines() {
    let shapes = [
        "K:", "K: V", "K:V", "- V", "-", "- K: V", "- K:", "-V", "# c", "", "   ", "- - V",
        "-   K: V", "K: V # c", "K:  V", "K: \"V\"",
    ];
    let mut next = xorshift(0x1234_5678_9ABC_DEF1);
    let mut whole = 0;
    for _ in 0..30_000 {
        let mut doc = String::new();
        for _ in 0..1 + next() % 6 {
            let shape = shapes[(next() % shapes.len() as u64) as usize];
            let k = KEYS[(next() % KEYS.len() as u64) as usize];
            let v = VALUES[(next() % VALUES.len() as u64) as usize];
            doc.push_str(&" ".repeat((next() % 5) as usize));
            doc.push_str(&shape.replace('K', k).replace('V', v));
            doc.push_str(if next().is_multiple_of(13) {
                "\r\n"
            } else {
                "\n"
            });
        }
        if agrees(&doc) {
            whole += 1;
        }
        if let Some(stripped) = without_comment_lines(&doc) {
            agrees(&stripped);
        }
    }
    assert!(whole > 1_000, "{whole}");
}

/// The values.yaml proof and the loadability check of every example are made by the line
/// reader, with no fallback.
#[test]
fn proves_every_example_without_the_fallback() {
    for (spec, text, values) in examples_values_yaml() {
        let root = |events: &mut Events<'_>, first: Event<'_>| node(events, first, &values, 0);
        assert!(lines_document(&text, &root), "{spec}");
        let loads = |events: &mut Events<'_>, first: Event<'_>| {
            loadable::node(events, first, 0).map(|()| true)
        };
        assert!(lines_document(&text, &loads), "{spec}");
    }
}

/// Where the line reader gives up, granit's reading still decides as before: the proof is
/// made when it is certain there (and agrees with the full check).
#[test]
fn proves_past_the_line_reader() {
    for (doc, value) in [
        ("a: x # c\n", json!({"a": "x"})),
        ("a: |\n  x\n", json!({"a": "x\n"})),
        ("a: \"x\n  y\"\n", json!({"a": "x y"})),
        ("a: [1, \"b\"]\n", json!({"a": [1, "b"]})),
        ("a: {b: c}\n", json!({"a": {"b": "c"}})),
        ("a: 'x'\n", json!({"a": "x"})),
        ("a: \"\\x41\"\n", json!({"a": "A"})),
        ("a:\n  - x\n  - - z\n", json!({"a": ["x", ["z"]]})),
        ("a: 1\r\nb: 2\r\n", json!({"a": 1, "b": 2})),
        ("a:\tx\n", json!({"a": "x"})),
        ("# c\na: x  \n", json!({"a": "x"})),
    ] {
        assert_eq!(read(doc), None, "{doc:?}");
        assert_eq!(
            serde_saphyr::from_str::<Value>(doc).ok(),
            Some(value.clone()),
            "{doc:?}"
        );
        assert!(matches_exactly(doc, &value), "{doc:?}");
        assert!(certainly_loads(doc), "{doc:?}");
    }
    // Read by the line reader but not certain there (not plainly a string, or a number not
    // written as the emitter writes it): not certain by granit either, the full check decides.
    for (doc, value) in [
        ("a: 1.2.3\n", json!({"a": "1.2.3"})),
        ("a: 0x1\n", json!({"a": 1})),
    ] {
        assert!(read(doc).is_some(), "{doc:?}");
        assert!(!matches_exactly(doc, &value), "{doc:?}");
        assert!(!certainly_loads(doc), "{doc:?}");
    }
}

/// The word-at-a-time line end is the byte-by-byte one: over random texts of printable and
/// unprintable ASCII, line breaks and multi-byte characters, at every start.
#[test]
fn line_end_is_the_simple_one() {
    let simple = |text: &str, start: usize| -> Option<usize> {
        let line = text[start..].split('\n').next().unwrap_or("");
        let ok = line.chars().all(|c| {
            matches!(c as u32, 0x20..=0x7e | 0x85 | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x10000..)
                && c != '\u{feff}'
        });
        ok.then_some(start + line.len())
    };
    let pieces = [
        "a",
        "bcdefgh",
        " ",
        "~",
        "\n",
        "\t",
        "\r",
        "\0",
        "\u{1f}",
        "\u{7f}",
        "\u{80}",
        "\u{85}",
        "\u{9f}",
        "\u{a0}",
        "é",
        "\u{2028}",
        "\u{feff}",
        "\u{fffe}",
        "\u{ffff}",
        "😀",
        "xxxxxxxxxxxxxxx",
    ];
    let mut next = xorshift(0xA076_1D64_78BD_642F);
    for _ in 0..20_000 {
        let text: String = (0..next() % 12)
            .map(|_| pieces[(next() % pieces.len() as u64) as usize])
            .collect();
        for (start, _) in text.char_indices().chain([(text.len(), ' ')]) {
            assert_eq!(
                line_end(text.as_bytes(), start),
                simple(&text, start),
                "{text:?} {start}"
            );
        }
    }
}
