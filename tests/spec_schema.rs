//! The published JSON Schema of the spec language (`schema/k8s-service-spec.schema.json`, printed
//! by `helm k8s-service schema`, named by `init`'s editor modeline) is hand-written. These tests
//! keep it honest:
//!
//! - field parity: every field the parser accepts (`RawService` and every struct nested in it) is
//!   a property of the schema at the same place, and every property the schema describes there is
//!   a field the parser accepts. The parser's fields are read from serde itself (see `Probe`), so
//!   a field added to `src/spec/raw.rs` without its schema entry, or the other way round, fails
//!   here with the field's path, the Rust type and the schema location to edit;
//! - a real JSON Schema validator (Python `jsonschema`, Draft 7, from the test venv that
//!   kubernetes-validate depends on) accepts every spec in `examples/` and every starter `init`
//!   writes, and refuses bad specs that `validate` refuses too.

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::process::Command;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};
use serde_json::Value;

use common::*;
use helm_k8s_service::spec::raw::RawService;

const SCHEMA_FILE: &str = "schema/k8s-service-spec.schema.json";

fn schema() -> Value {
    serde_json::from_str(helm_k8s_service::spec::SPEC_SCHEMA).expect("the spec schema is JSON")
}

// ---- the parser's fields, from serde --------------------------------------------------------

/// A deserializer that walks a path of field names into `RawService` and records the struct it
/// finds at the end: derived `Deserialize` impls hand `deserialize_struct` their exact list of
/// field names (after `rename`), which is the list `deny_unknown_fields` enforces. Options,
/// lists, maps and "any" values (custom types such as `EnvVars`, offered their list form) are
/// looked through; every other value ends the walk.
struct Probe<'a> {
    rest: &'a [String],
    found: &'a RefCell<Option<(&'static str, &'static [&'static str])>>,
    /// Lists and maps looked through since the last struct: a self-describing value (a
    /// `serde_json::Value` pass-through such as `affinity`) would otherwise be followed forever.
    depth: usize,
}

/// More nested lists and maps than any spec type has between two structs.
const MAX_ANONYMOUS_DEPTH: usize = 4;

#[derive(Debug)]
struct Stop(String);

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Stop(msg.to_string())
    }
}

fn leaf<T>() -> Result<T, Stop> {
    Err(Stop("a scalar: nothing to find here".into()))
}

macro_rules! leaves {
    ($($method:ident),*) => {
        $(fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            leaf()
        })*
    };
}

impl Probe<'_> {
    fn deeper(self) -> Self {
        Probe {
            depth: self.depth + 1,
            ..self
        }
    }
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = Stop;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        match self.rest.split_first() {
            None => {
                *self.found.borrow_mut() = Some((name, fields));
                Err(Stop("found".into()))
            }
            Some((next, rest)) if fields.contains(&next.as_str()) => visitor.visit_map(One {
                key: Some(next.clone()),
                value: Some(Probe {
                    rest,
                    found: self.found,
                    depth: 0,
                }),
            }),
            Some(_) => Err(Stop("no such field".into())),
        }
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_some(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        if self.depth >= MAX_ANONYMOUS_DEPTH {
            return leaf();
        }
        visitor.visit_seq(One {
            key: None,
            value: Some(self.deeper()),
        })
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        if self.depth >= MAX_ANONYMOUS_DEPTH {
            return leaf();
        }
        visitor.visit_map(One {
            key: Some("key".into()),
            value: Some(self.deeper()),
        })
    }
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Stop> {
        leaf()
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Stop> {
        leaf()
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Stop> {
        leaf()
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        leaf()
    }
    leaves!(
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_unit,
        deserialize_identifier,
        deserialize_ignored_any
    );
}

/// A one-entry mapping (`key` set) or a one-item list (`key` None) whose value is a probe.
struct One<'a> {
    key: Option<String>,
    value: Option<Probe<'a>>,
}

impl<'de> de::MapAccess<'de> for One<'_> {
    type Error = Stop;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        match self.key.take() {
            Some(k) => seed.deserialize(k.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Stop> {
        match self.value.take() {
            Some(p) => seed.deserialize(p),
            None => Err(Stop("no value".into())),
        }
    }
}

impl<'de> de::SeqAccess<'de> for One<'_> {
    type Error = Stop;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Stop> {
        match self.value.take() {
            Some(p) => seed.deserialize(p).map(Some),
            None => Ok(None),
        }
    }
}

/// A field path such as `cron_jobs.time_zone` (list items and map values are looked through).
fn dotted(path: &[String]) -> String {
    if path.is_empty() {
        "(top level)".into()
    } else {
        path.join(".")
    }
}

/// Every struct the parser reads, by field path: its Rust name and its fields.
fn parser_structs() -> BTreeMap<Vec<String>, (&'static str, BTreeSet<String>)> {
    let mut out = BTreeMap::new();
    let mut queue = vec![Vec::new()];
    while let Some(path) = queue.pop() {
        let found = RefCell::new(None);
        let _ = RawService::deserialize(Probe {
            rest: &path,
            found: &found,
            depth: 0,
        });
        let Some((name, fields)) = found.into_inner() else {
            continue;
        };
        assert!(
            path.len() < 8,
            "the spec types nest deeper than 8 levels at {}",
            dotted(&path)
        );
        for f in fields {
            let mut p = path.clone();
            p.push(f.to_string());
            queue.push(p);
        }
        out.insert(path, (name, fields.iter().map(|f| f.to_string()).collect()));
    }
    out
}

// ---- the schema's objects ---------------------------------------------------------------------

/// An object the schema describes: where (a JSON pointer) and its property names.
struct SchemaObject<'a> {
    pointer: String,
    properties: &'a serde_json::Map<String, Value>,
}

/// Follow `$ref`s, then collect every object with `properties` that describes this value, looking
/// through `items`, `anyOf`, `oneOf`, `allOf` and `additionalProperties`.
fn objects<'a>(root: &'a Value, node: &'a Value, pointer: String, out: &mut Vec<SchemaObject<'a>>) {
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix('#')
            .and_then(|p| root.pointer(p))
            .unwrap_or_else(|| panic!("{pointer}: $ref {r} resolves to nothing"));
        objects(root, target, r.to_string(), out);
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        out.push(SchemaObject {
            pointer: pointer.clone(),
            properties: props,
        });
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = node.get(key).filter(|v| v.is_object()) {
            objects(root, inner, format!("{pointer}/{key}"), out);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for (i, inner) in node
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            objects(root, inner, format!("{pointer}/{key}/{i}"), out);
        }
    }
}

/// The schema objects for the value at a field path below the service.
fn schema_objects_at<'a>(root: &'a Value, path: &[String]) -> Vec<SchemaObject<'a>> {
    let mut here = Vec::new();
    objects(
        root,
        &root["definitions"]["service"],
        "#/definitions/service".into(),
        &mut here,
    );
    for seg in path {
        let mut next = Vec::new();
        for o in &here {
            if let Some(node) = o.properties.get(seg) {
                objects(
                    root,
                    node,
                    format!("{}/properties/{seg}", o.pointer),
                    &mut next,
                );
            }
        }
        here = next;
    }
    here
}

/// Objects of the schema that no parser struct mirrors, and why that is right.
const SCHEMA_ONLY: &[(&str, &str)] = &[
    (
        "port",
        "Opta's single-port form is a map in the parser; the model checks its keys",
    ),
    (
        "affinity",
        "a Kubernetes Affinity passed through as a map; the model checks its three top-level keys",
    ),
    (
        "writable_paths",
        "an entry is a path or {path, size}: the parser reads it with a visitor of its own (RawWritablePath, whose test covers both forms) and RawWritableDir's fields are path and size",
    ),
    (
        "datadog_tags",
        "true/false or {env, version}: the parser reads it with a visitor of its own (RawDatadogTags; model::observe's tests cover both forms) and RawDatadogTagsForm's fields are env and version",
    ),
    (
        "right_sizing",
        "a mode or {mode, min, max}: the parser reads it with a visitor of its own (RawRightSizing; model::right_sizing's tests cover both forms) and RawRightSizingForm's fields are mode, min and max",
    ),
    (
        "right_sizing.min",
        "RawBounds (cpu, memory), inside RawRightSizingForm",
    ),
    (
        "right_sizing.max",
        "RawBounds (cpu, memory), inside RawRightSizingForm",
    ),
];

#[test]
fn every_field_the_parser_accepts_is_in_the_schema_and_nothing_else() {
    let root = schema();
    let structs = parser_structs();
    assert!(
        structs.get(&Vec::new()).is_some_and(|(_, f)| f.len() > 40),
        "could not read RawService's fields from serde (did it stop using a plain derive?)"
    );
    let mut problems = Vec::new();
    for (path, (rust, fields)) in &structs {
        let found = schema_objects_at(&root, path);
        // A struct whose field is missing altogether is reported once, as that field.
        let described = path.split_last().is_none_or(|(last, parent)| {
            schema_objects_at(&root, parent)
                .iter()
                .any(|o| o.properties.contains_key(last))
        });
        if found.is_empty() && described {
            problems.push(format!(
                "`{}` is a struct in the parser ({rust}: {}), but {SCHEMA_FILE} describes no object with `properties` there",
                dotted(path),
                fields.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
            continue;
        }
        for o in &found {
            for f in fields {
                if !o.properties.contains_key(f) {
                    problems.push(format!(
                        "field `{}` ({rust}.{f} in src/spec/raw.rs) is missing from {SCHEMA_FILE}: add it to \"{}/properties\"",
                        dotted(&[path.as_slice(), std::slice::from_ref(f)].concat()),
                        o.pointer
                    ));
                }
            }
            for p in o.properties.keys() {
                if !fields.contains(p) {
                    problems.push(format!(
                        "{SCHEMA_FILE} \"{}/properties/{p}\" describes `{}`, but the parser ({rust}) refuses `{p}` as an unknown field",
                        o.pointer,
                        dotted(&[path.as_slice(), std::slice::from_ref(p)].concat()),
                    ));
                }
            }
        }
    }
    // The two forms of a service add no field of their own.
    let service = &structs[&Vec::new()].1;
    for form in ["standaloneSpec", "serviceModule"] {
        for p in root["definitions"][form]["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if !service.contains(p) {
                problems.push(format!(
                    "{SCHEMA_FILE} \"#/definitions/{form}/properties/{p}\" is not a RawService field"
                ));
            }
        }
    }
    // Every nested object of the schema is mirrored by a parser struct.
    let mut queue: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = queue.pop() {
        let found = schema_objects_at(&root, &path);
        let known =
            structs.contains_key(&path) || SCHEMA_ONLY.iter().any(|(p, _)| *p == dotted(&path));
        if !found.is_empty() && !known {
            problems.push(format!(
                "{SCHEMA_FILE} \"{}\" describes an object at `{}` with properties {:?}, but the parser has no struct there",
                found[0].pointer,
                dotted(&path),
                found[0].properties.keys().collect::<Vec<_>>()
            ));
        }
        if path.len() < 8 {
            for o in &found {
                for p in o.properties.keys() {
                    let mut next = path.clone();
                    next.push(p.clone());
                    if !queue.contains(&next) {
                        queue.push(next);
                    }
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "the spec schema and the parser disagree ({} problem(s)):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn the_probe_sees_nested_structs_and_both_env_var_forms() {
    let structs = parser_structs();
    let at = |p: &str| {
        let path: Vec<String> = p.split('.').map(String::from).collect();
        structs
            .get(&path)
            .unwrap_or_else(|| panic!("no struct at {p}: {:?}", structs.keys()))
    };
    assert!(at("cron_jobs").1.contains("schedule"));
    assert!(at("ports").1.contains("service_port"));
    assert!(
        at("ports").1.contains("type"),
        "renamed fields by their YAML name"
    );
    assert!(at("resource_request").1.contains("memory"));
    assert!(at("env_vars").1.contains("value"));
    assert!(!structs.contains_key(&vec!["port".to_string()]));
}

// ---- a real validator ------------------------------------------------------------------------

/// Validate documents against the schema with Python's `jsonschema` (Draft 7); the schema itself
/// is first checked against the Draft 7 meta-schema. Returns each document's errors.
fn schema_errors(docs: &BTreeMap<String, Value>) -> BTreeMap<String, Vec<String>> {
    let python = kubernetes_validate().with_file_name("python");
    assert!(
        python.is_file(),
        "{} not found; run scripts/install-test-tools.sh",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let docs_file = dir.path().join("docs.json");
    std::fs::write(&docs_file, serde_json::to_vec(docs).unwrap()).unwrap();
    const SCRIPT: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
docs = json.load(open(sys.argv[2]))
out = {}
for name, doc in docs.items():
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    out[name] = ["/".join(map(str, e.absolute_path)) + ": " + e.message for e in errors]
print(json.dumps(out))
"#;
    let o = run(Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(root().join(SCHEMA_FILE))
        .arg(&docs_file));
    assert!(
        o.status.success(),
        "jsonschema failed:\n{}",
        text(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("jsonschema's answer is JSON")
}

/// A spec as the tool reads it (serde-saphyr), as JSON for the validator.
fn as_json(name: &str, yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{name} does not parse: {e}"))
}

fn starter(args: &[&str]) -> String {
    let o = run(Command::new(bin()).args(["init", "-"]).args(args));
    assert!(o.status.success(), "init {args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn every_example_and_every_starter_is_valid_against_the_schema() {
    let mut docs = BTreeMap::new();
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
        .collect();
    examples.sort();
    assert!(examples.len() >= EXAMPLES.len());
    for path in &examples {
        let name = format!("examples/{}", path.file_name().unwrap().to_string_lossy());
        let yaml = std::fs::read_to_string(path).unwrap();
        docs.insert(name.clone(), as_json(&name, &yaml));
    }
    let digest = format!("sha256:{}", "0f".repeat(32));
    let image = format!("registry.example.com:5000/a/b:1.2@{digest}");
    for (name, args) in [
        ("init", vec!["--name", "svc"]),
        ("init --no-port", vec!["--name", "worker", "--no-port"]),
        (
            "init --image --port",
            vec!["--name", "svc", "--image", &image, "--port", "9000"],
        ),
    ] {
        docs.insert(name.to_string(), as_json(name, &starter(&args)));
    }
    let failures: Vec<String> = schema_errors(&docs)
        .into_iter()
        .filter(|(_, errors)| !errors.is_empty())
        .map(|(name, errors)| format!("{name}:\n    {}", errors.join("\n    ")))
        .collect();
    assert!(
        failures.is_empty(),
        "valid specs refused by {SCHEMA_FILE}:\n  {}",
        failures.join("\n  ")
    );
}

/// Bad specs: the schema refuses each (so editors flag it), and so does `validate`.
const BAD: &[(&str, &str)] = &[
    (
        "unknown field",
        "name: a\nimage: x\ntag: \"1\"\nreplicas: 3\n",
    ),
    (
        "misspelt nested field",
        "name: a\nimage: x\ntag: \"1\"\ncron_jobs:\n  - commands: [x]\n    schedul: \"@daily\"\n",
    ),
    (
        "port out of range",
        "name: a\nimage: x\ntag: \"1\"\nport:\n  http: 70000\n",
    ),
    (
        "port and ports",
        "name: a\nimage: x\ntag: \"1\"\nport: {http: 80}\nports:\n  - {name: web, type: http, port: 8080}\n",
    ),
    (
        "not a number",
        "name: a\nimage: x\ntag: \"1\"\nmin_containers: many\n",
    ),
    (
        "type in a standalone spec",
        "name: a\ntype: k8s-service\nimage: x\ntag: \"1\"\n",
    ),
    ("no image", "name: a\n"),
    (
        "negative cpu",
        "name: a\nimage: x\ntag: \"1\"\nresource_request:\n  cpu: -5\n",
    ),
    (
        "a URL with its scheme",
        "name: a\nimage: x\ntag: \"1\"\nport: {http: 80}\npublic_uri: https://a.example.com\n",
    ),
    (
        "bad port type",
        "name: a\nimage: x\ntag: \"1\"\nports:\n  - {name: web, type: udp, port: 8080}\n",
    ),
    (
        "one millicore, meant one CPU",
        "name: a\nimage: x\ntag: \"1\"\nresource_request: {cpu: 1, memory: 128}\n",
    ),
    (
        "millibytes of memory",
        "name: a\nimage: x\ntag: \"1\"\nresource_limits: {memory: 512m}\n",
    ),
    (
        "a relative writable path",
        "name: a\nimage: x\ntag: \"1\"\nwritable_paths: [var/cache]\n",
    ),
    (
        "an unknown security profile",
        "name: a\nimage: x\ntag: \"1\"\nsecurity_profile: privileged\n",
    ),
    (
        "baseline with security",
        "name: a\nimage: x\ntag: \"1\"\nsecurity_profile: baseline\nsecurity: {run_as_user: 1000}\n",
    ),
    (
        "an unknown claim retention policy",
        "name: a\nimage: x\ntag: \"1\"\npersistent_storage: [{path: /d, size: 1}]\npersistent_storage_retention: {when_deleted: Keep}\n",
    ),
    (
        "an empty release command",
        "name: a\nimage: x\ntag: \"1\"\nrelease_command: []\n",
    ),
    (
        "a release timeout without a release command",
        "name: a\nimage: x\ntag: \"1\"\nrelease_timeout: 60\n",
    ),
    (
        "release retries out of range",
        "name: a\nimage: x\ntag: \"1\"\nrelease_command: [x]\nrelease_retries: 11\n",
    ),
    (
        "a link that is a number",
        "name: a\nimage: x\ntag: \"1\"\nlinks: [42]\n",
    ),
    (
        "a link entry naming two modules",
        "name: a\nimage: x\ntag: \"1\"\nlinks: [{db: [], cache: []}]\n",
    ),
    (
        "a link to a module name Opta refuses",
        "name: a\nimage: x\ntag: \"1\"\nlinks: [my_db]\n",
    ),
];

#[test]
fn bad_specs_are_refused_by_the_schema_and_by_validate() {
    let docs: BTreeMap<String, Value> = BAD
        .iter()
        .map(|(name, yaml)| (name.to_string(), as_json(name, yaml)))
        .collect();
    let errors = schema_errors(&docs);
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, yaml) in BAD {
        if errors[*name].is_empty() {
            failures.push(format!("the schema accepts {name}:\n{yaml}"));
        }
        let file = dir.path().join("spec.yaml");
        std::fs::write(&file, yaml).unwrap();
        let o = run(Command::new(bin()).arg("validate").arg(&file));
        if o.status.code() != Some(1) {
            failures.push(format!("validate accepts {name}:\n{yaml}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
