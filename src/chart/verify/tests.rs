use super::super::events::{document, without_comment_lines};
use super::*;
use serde_json::json;

fn full_check(doc: &str, v: &Value) -> bool {
    serde_saphyr::from_str::<Value>(doc).is_ok_and(|parsed| &parsed == v)
}

/// Where a removed "comment" line was not one, the stripped text must not be what is proven.
#[test]
fn comment_like_lines_inside_scalars_are_not_stripped_away() {
    let cases: [(&str, Value); 6] = [
        // Inside a double-quoted scalar over three lines (the original text still proves it).
        ("a: \"x\n  #y\n  z\"\n", json!({"a": "x #y z"})),
        // Its closing quote on the comment-like line.
        ("a: \"x\n  #y\"\nb: 1\n", json!({"a": "x #y", "b": 1})),
        // A block scalar made only of such lines.
        ("a: |\n  #x\n", json!({"a": "#x\n"})),
        ("a: >-\n  #x\n  y\n", json!({"a": "#x y"})),
        ("a: 'x\n   # y'\n", json!({"a": "x # y"})),
        ("k:\n- \"a\n  #b\"\n", json!({"k": ["a #b"]})),
    ];
    for (doc, right) in cases {
        assert_eq!(
            serde_saphyr::from_str::<Value>(doc).unwrap(),
            right,
            "{doc:?}"
        );
        let wrong: Option<Value> =
            serde_saphyr::from_str(&without_comment_lines(doc).unwrap()).ok();
        if let Some(wrong) = wrong.filter(|w| *w != right) {
            assert!(
                !matches_exactly(doc, &wrong),
                "proved the stripped reading of {doc:?}"
            );
        }
        // Whatever the fast path says of the right reading, it is never a false "proven".
        let _ = matches_exactly(doc, &right);
    }
    // A comment used to end a plain scalar; stripped, it would run on into "d".
    let doc = "a: b\n  # c\n  d\n";
    assert!(!matches_exactly(doc, &json!({"a": "b d"})));
    assert_ne!(
        serde_saphyr::from_str::<Value>(doc).ok(),
        Some(json!({"a": "b d"})),
        "the original does not read as the stripped one"
    );
}

/// Differential: random multi-line documents of comment-like lines, quoted and block scalars
/// and mappings; whatever the fast path proves (of the original reading or of the reading
/// the text would have without its comment lines) is what serde-saphyr reads.
#[test]
fn stripping_comment_lines_never_proves_another_reading() {
    let lines = [
        "k: v",
        "  # c",
        "# c",
        "   #c'",
        "  #\"",
        "k: \"a",
        "  b\"",
        "k: 'a",
        "  b'",
        "k: |",
        "k: >-",
        "  x",
        "    y",
        "k:",
        "  - x",
        "  - \"y",
        "- a",
        "k: b # c",
        "k: [a,",
        "  b]",
        "k2: 1",
        "  k3: 2",
        "\t# t",
        "",
        "  ",
        "k: \"a #b\"",
    ];
    let mut next = xorshift(0xD1B5_4A32_D192_ED03);
    let (mut proven, mut stripped_proven, mut loads) = (0, 0, 0);
    for _ in 0..30_000 {
        let n = 1 + (next() % 7) as usize;
        let mut doc = String::new();
        for _ in 0..n {
            doc.push_str(lines[(next() % lines.len() as u64) as usize]);
            doc.push('\n');
        }
        let read: Option<Value> = serde_saphyr::from_str(&doc).ok();
        let stripped = without_comment_lines(&doc);
        let read_stripped: Option<Value> = stripped
            .as_deref()
            .and_then(|t| serde_saphyr::from_str(t).ok());
        for candidate in read.iter().chain(read_stripped.iter()) {
            if matches_exactly(&doc, candidate) {
                assert_eq!(read.as_ref(), Some(candidate), "{doc:?}");
                proven += 1;
                if stripped.as_deref().is_some_and(|t| {
                    document(t, true, &|events, root| node(events, root, candidate, 0))
                }) {
                    stripped_proven += 1;
                }
            }
        }
        if super::super::loadable::certainly_loads(&doc) {
            let mut o = serde_saphyr::Options::default();
            o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
            assert!(
                serde_saphyr::from_str_with_options::<Option<serde::de::IgnoredAny>>(&doc, o)
                    .is_ok(),
                "certainly_loads accepted what the full parse refuses: {doc:?}"
            );
            loads += 1;
        }
    }
    // Not vacuous: many are proven, many of them from the stripped text.
    assert!(
        proven > 2_000 && stripped_proven > 500 && loads > 2_000,
        "{proven} {stripped_proven} {loads}"
    );
}

/// The letter-led shortcut says yes only where the general rule does, and it is taken:
/// every spelling of the special words in mixed case, words with digits and punctuation,
/// trailing whitespace, non-ASCII letters, and random short ASCII texts.
#[test]
fn the_letter_led_shortcut_agrees_with_the_rule() {
    let mut texts: Vec<String> = Vec::new();
    // The special words themselves, then words near them or like our keys and values.
    for w in NULL_OR_BOOL_WORDS
        .iter()
        .chain(&FLOAT_WORDS)
        .copied()
        .chain([
            "e",
            "e5",
            "E1",
            "x1",
            "o7",
            "b0",
            "i",
            "infinit",
            "nano",
            "Always",
            "image",
            "sha256:ab",
            "a b",
            "a:b",
            "app.example.com",
            "ÿes",
            "éx",
        ])
    {
        // Every mix of cases of each word, and each with a trailing space, tab or newline.
        let n = w.chars().count().min(9);
        for mask in 0..(1u32 << n) {
            let mixed: String = w
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i < n && mask & (1 << i) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            for tail in ["", " ", "\t", "\n", "\r"] {
                texts.push(format!("{mixed}{tail}"));
            }
        }
    }
    let alphabet = b"aeinoftyrulsxEINOFTYRULSX019.+-_: ~";
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..50_000 {
        let len = 1 + (next() % 9) as usize;
        texts.push(
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
                .collect(),
        );
    }
    let mut taken = 0;
    for t in &texts {
        if is_letter_led_word(t) {
            assert!(is_plainly_string_by_rule(t), "{t:?}");
            taken += 1;
        }
    }
    assert!(taken > 10_000, "{taken}");
    // Independently of the shortcut's list: each special word, in some case, is refused.
    for special in [
        "Y", "N", "Yes", "NO", "On", "oFF", "True", "FALSE", "null", "Inf", "INFINITY", "NaN",
    ] {
        assert!(
            !is_letter_led_word(special) && !is_plainly_string(special),
            "{special}"
        );
    }
}

#[test]
fn accepts_the_exact_values() {
    let v = json!({"a": 1, "b": ["x", true, null, -2, 1.5, "2024", 1e-7], "c": {"d": "yes"}, "e": {}, "f": []});
    let doc = "a: 1\nb: [x, true, ~, -2, 1.5, \"2024\", 1.0e-7]\nc:\n  d: \"yes\"\ne: {}\nf: []\n";
    assert!(matches_exactly(doc, &v));
    assert!(full_check(doc, &v));
}

/// Each refusal of the fast path: a different value, or a text whose reading it leaves to
/// the full check. Where the full check accepts (the last group), the fast path's refusal
/// only costs time.
#[test]
fn refuses_what_it_must() {
    let v = json!({"a": 1, "s": "x", "z": null, "f": 1.5});
    let base = "a: 1\ns: x\nz: ~\nf: 1.5\n";
    assert!(matches_exactly(base, &v));
    for (wrong, full_accepts) in [
        // A changed scalar, a missing, extra or duplicate key, a changed type.
        ("a: 2\ns: x\nz: ~\nf: 1.5\n", false),
        ("a: 1\ns: y\nz: ~\nf: 1.5\n", false),
        ("a: 1\ns: x\nz: ~\nf: 1.6\n", false),
        ("a: 1\ns: x\nz: ~\n", false),
        ("a: 1\ns: x\nz: ~\nf: 1.5\ng: 0\n", false),
        ("a: 1\na: 1\ns: x\nz: ~\nf: 1.5\n", false),
        ("a: 1\n\"a\": 1\ns: x\nz: ~\nf: 1.5\n", false),
        ("a: \"1\"\ns: x\nz: ~\nf: 1.5\n", false),
        ("a: [1]\ns: x\nz: ~\nf: 1.5\n", false),
        ("a: 1\ns: x\nz: \"\"\nf: 1.5\n", false),
        ("a: 1\ns: x\nz: ~\nf: 1.5\n---\na: 1\n", false),
        ("a: [\n", false),
        // An anchor and alias, a tag, a merge key: left to the full check.
        ("a: &one 1\ns: x\nz: ~\nf: 1.5\n", true),
        ("x: &one 1\na: *one\ns: x\nz: ~\nf: 1.5\n", false),
        ("a: !!int 1\ns: x\nz: ~\nf: 1.5\n", true),
        ("s: !!str x\na: 1\nz: ~\nf: 1.5\n", true),
        ("<<: {a: 1}\ns: x\nz: ~\nf: 1.5\n", true),
        // Numbers not written canonically.
        ("a: +1\ns: x\nz: ~\nf: 1.5\n", true),
        ("a: 0x1\ns: x\nz: ~\nf: 1.5\n", true),
        ("a: 1\ns: x\nz: ~\nf: 15e-1\n", true),
        ("%YAML 1.2\n---\na: 1\ns: x\nz: ~\nf: 1.5\n", true),
    ] {
        assert!(!matches_exactly(wrong, &v), "fast path accepted:\n{wrong}");
        if !full_accepts {
            assert!(!full_check(wrong, &v), "full check accepted:\n{wrong}");
        }
    }
}

/// A small deterministic pseudo-random sequence (xorshift64) for the differential tests.
pub(in crate::chart) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// The values.yaml of every chart the examples make, with its values: (spec, text, values).
pub(in crate::chart) fn examples_values_yaml() -> Vec<(String, String, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let input = crate::pipeline::SpecInput {
            path: path.clone(),
            ..Default::default()
        };
        let Ok((charts, _)) =
            crate::pipeline::build_charts(&input, &crate::pipeline::ChartMeta::default())
        else {
            continue;
        };
        for chart in charts {
            let (_, text) = chart
                .files
                .iter()
                .find(|(p, _)| p == "values.yaml")
                .unwrap();
            let text = std::str::from_utf8(text).unwrap().to_string();
            out.push((path.display().to_string(), text, chart.values().unwrap()));
        }
    }
    assert!(out.len() >= 5, "only {} examples built", out.len());
    out
}

/// The fast path is what proves real charts: every example's values.yaml passes it (a
/// template or emitter change that sent them all to the slow path would show here).
#[test]
fn proves_the_examples_values_yaml() {
    for (spec, text, values) in examples_values_yaml() {
        assert!(matches_exactly(&text, &values), "{spec}");
    }
}

#[test]
fn refuses_plain_yaml11_lookalikes() {
    // Strings that a YAML 1.1 reader (or serde-saphyr) may read as something else, written
    // plain: the fast path never vouches for them, whatever the full check says.
    for s in [
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "N",
        "true",
        "False",
        "null",
        "~",
        "",
        "0755",
        "1e3",
        "1_000",
        "1:20",
        ".inf",
        "-.Inf",
        ".NaN",
        "nan",
        "Infinity",
        "0x1F",
        "2024-01-01",
        "+1",
        "-1_0",
        "0b11",
        "0o7",
        "+.5",
        "1.",
        "-inf",
        "9e999",
        "0X1F",
        "-.nan",
        "1e-3",
    ] {
        let doc = format!("k: {s}\n");
        assert!(!matches_exactly(&doc, &json!({ "k": s })), "{doc}");
        // Quoted, each is the string.
        let quoted = format!("k: \"{s}\"\n");
        assert!(matches_exactly(&quoted, &json!({ "k": s })), "{quoted}");
        assert!(full_check(&quoted, &json!({ "k": s })), "{quoted}");
    }
    // Plain strings that cannot be numbers are proven without quotes.
    for s in [
        "100m",
        "128Mi",
        "25%",
        "app.example.com",
        "x",
        "/health",
        "a b",
        "éé",
        "e5",
        "-x",
        ".x",
        "--to",
        "5f2c1e9",
        "12ab",
        "1inf",
        "-1d",
        "v1.2.3",
        "10.0.0.0/8",
    ] {
        let doc = format!("k: {s}\n");
        assert!(matches_exactly(&doc, &json!({ "k": s })), "{doc}");
        assert!(full_check(&doc, &json!({ "k": s })), "{doc}");
    }
    // A plain null-like key is not the string key; plain integer keys are compared by
    // value (`0x1` and `1` are a duplicate for serde-saphyr), so only quoted ones pass.
    assert!(!matches_exactly("~: 1\n", &json!({"~": 1})));
    let two = json!({"0x1": 1, "1": 2});
    assert!(!matches_exactly("0x1: 1\n1: 2\n", &two));
    assert!(!full_check("0x1: 1\n1: 2\n", &two));
    assert!(matches_exactly("\"0x1\": 1\n\"1\": 2\n", &two));
    assert!(full_check("\"0x1\": 1\n\"1\": 2\n", &two));
}

/// Differential: over many short plain scalars made of the characters numbers, booleans
/// and nulls are spelled with, whatever the fast path accepts the full check accepts too
/// (as the string, or as what serde-saphyr reads).
#[test]
fn never_accepts_what_the_full_check_refuses() {
    let alphabet: Vec<char> = "0123456789aAbBdeEfFiInNoOstTxXyY+-._:~ %/"
        .chars()
        .collect();
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let len = 1 + (next() % 6) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let doc = format!("k: {text}\n");
        let read: Option<Value> = serde_saphyr::from_str(&doc).ok();
        for candidate in [json!({ "k": text }), json!({ "k": text.trim() })]
            .into_iter()
            .chain(read.clone())
        {
            if matches_exactly(&doc, &candidate) {
                assert_eq!(read.as_ref(), Some(&candidate), "{doc:?}");
                accepted += 1;
            }
        }
    }
    // Not vacuous: the fast path proves a good share of them.
    assert!(accepted > 5_000, "{accepted}");
}

#[test]
fn agrees_with_the_full_check_on_emitted_values() {
    let values = json!({
        "s": ["yes", "0755", "a: b", "#x", "*x", "&x", "!x", "%x", "@x", "`x", "{{ x }}", "a\nb",
              " lead", "trail ", "\t", "\u{85}\u{2028}\u{feff}", "é", "x".repeat(300), "<<", "~"],
        "n": [0, 1, -1, u64::MAX, i64::MIN, 0.5, -2.25, 1e300, 1e-300, 3.0],
        "m": {"<<": 1, "": 2, "yes": 3, "null": 4, "a b": {"c": [[], {}, [null]]}},
    });
    let text = super::super::render::yaml_fragment(&values, 0).unwrap();
    let doc = format!("root:{text}\n");
    let wrapped = json!({ "root": values });
    assert!(full_check(&doc, &wrapped), "{doc}");
    // The emitter quotes what is not plainly a string, so the fast path proves most of it;
    // keys such as `<<` and `null` are quoted too, or left to the full check.
    let fast = matches_exactly(&doc, &wrapped);
    let without_odd_keys = {
        let mut w = wrapped.clone();
        w["root"]["m"] = json!({"a b": {"c": [[], {}, [null]]}});
        w
    };
    let doc2 = format!(
        "root:{}\n",
        super::super::render::yaml_fragment(&without_odd_keys["root"], 0).unwrap()
    );
    assert!(matches_exactly(&doc2, &without_odd_keys), "{doc2}");
    // Whatever the fast path says, it never contradicts the full check.
    assert!(!fast || full_check(&doc, &wrapped));
}
