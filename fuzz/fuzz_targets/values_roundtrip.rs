//! values.yaml emission round trip: a random values-like tree (strings from the fuzzer's bytes
//! and the hostile YAML alphabet, numbers, booleans, null, nested lists and maps) → the `yaml`
//! fragment emitter of src/chart/render.rs at several indents → parsed back, both by
//! serde-saphyr (YAML 1.2, what our own check uses) and by a YAML 1.1 reader (how Helm reads
//! values.yaml) → must equal the tree.
#![no_main]

#[path = "../../tests/support/yaml11.rs"]
mod yaml11;

use helm_k8s_service::chart::render::yaml_fragment;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const TOKENS: &[&str] = &[
    "{{",
    "}}",
    "\n",
    "\r",
    "\r\n",
    ": ",
    " #",
    "#",
    "*",
    "&",
    "!",
    "%",
    "@",
    "`",
    "-",
    "- ",
    "---",
    "...",
    "?",
    "|",
    "|+",
    ">",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "\\",
    "\t",
    "\u{feff}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\u{a0}",
    "\u{7f}",
    "\u{9b}",
    "\u{0}",
    "\u{1b}",
    "y",
    "n",
    "yes",
    "no",
    "NO",
    "on",
    "off",
    "true",
    "false",
    "null",
    "~",
    "0755",
    "0o17",
    "1e3",
    "1_000",
    "1:20",
    ".inf",
    ".NaN",
    "0x1F",
    "2024-01-01",
    "<<",
    "=",
    " ",
    "é",
    "🚀",
    "\u{fffe}",
];

fn string(u: &mut Unstructured) -> Result<String> {
    let mut s = String::new();
    for _ in 0..u.int_in_range(0..=6)? {
        if u.ratio(2, 3)? {
            s.push_str(u.choose(TOKENS)?);
        } else {
            let c: char = u.arbitrary()?;
            s.push(c);
        }
    }
    Ok(s)
}

fn value(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let max = if depth >= 3 { 3 } else { 5 };
    Ok(match u.int_in_range(0..=max)? {
        0 => Value::String(string(u)?),
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<u32>()?),
        3 => Value::Null,
        4 => {
            let n = u.int_in_range(0..=4)?;
            Value::Array((0..n).map(|_| value(u, depth + 1)).collect::<Result<_>>()?)
        }
        _ => {
            let mut m = Map::new();
            for _ in 0..u.int_in_range(0..=4)? {
                m.insert(string(u)?, value(u, depth + 1)?);
            }
            Value::Object(m)
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(v) = value(&mut u, 0) else { return };
    for indent in [0usize, 2, 4] {
        let frag = yaml_fragment(&v, indent).expect("emit");
        let doc = if indent == 0 {
            format!("key:{frag}\n# -- a comment, as in the template\nnext: 1\n")
        } else {
            format!(
                "outer:\n{}key:{frag}\n\n  # -- comment\nnext: 1\n",
                " ".repeat(indent)
            )
        };
        let pick = |back: &Value| -> Value {
            if indent == 0 {
                back["key"].clone()
            } else {
                back["outer"]["key"].clone()
            }
        };
        let back: Value =
            serde_saphyr::from_str(&doc).unwrap_or_else(|e| panic!("does not parse: {e}\n{doc}"));
        assert_eq!(pick(&back), v, "YAML 1.2 reading differs:\n{doc}");
        let docs = yaml11::load_all(&doc).unwrap_or_else(|e| panic!("YAML 1.1: {e}\n{doc}"));
        assert_eq!(pick(&docs[0]), v, "YAML 1.1 reading differs:\n{doc}");
    }
});
