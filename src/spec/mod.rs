//! Reading a spec file: either a standalone spec (the module's fields at the top level plus
//! `name`) or an Opta service file (`name`, `environments`, `modules:`), into one raw service per
//! chart, with every Opta interpolation resolved.

pub mod interpolate;
pub mod raw;
pub mod raw_config;
pub mod scalars;
pub mod source;
pub mod source_map;

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::diag::{Diagnostic, Error, FieldPath};
use interpolate::Vars;
use raw::{Ignored, RawService};
use source::SpecSource;

/// The JSON Schema of the spec language, for editors (`helm k8s-service schema`).
pub const SPEC_SCHEMA: &str = include_str!("../../schema/k8s-service-spec.schema.json");

/// Module types of an Opta service file that become a chart.
pub const SERVICE_MODULE_TYPES: &[&str] = &[
    "k8s-service",
    "aws-k8s-service",
    "gcp-k8s-service",
    "azure-k8s-service",
    "local-k8s-service",
];

/// Options from the command line that shape how a spec is read.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--module NAME`: only this module of an Opta file.
    pub module: Option<String>,
    /// `--var KEY=VALUE`, in order; later wins.
    pub vars: Vec<(String, String)>,
}

/// One service read from a spec, ready for validation.
pub struct LoadedService {
    pub source: Rc<SpecSource>,
    /// Where this service's fields live in the document (`modules[2]` in an Opta file).
    pub base: FieldPath,
    pub raw: RawService,
    /// True when read from an Opta `modules:` list.
    pub from_opta_file: bool,
    /// Every module of that Opta file, name -> type: what its `links` name (empty when
    /// standalone).
    pub module_types: BTreeMap<String, String>,
}

/// Notes for the user that are not errors (skipped modules, chosen environment).
pub type Notes = Vec<String>;

pub fn load(source: SpecSource, opts: &LoadOptions) -> Result<(Vec<LoadedService>, Notes), Error> {
    let source = Rc::new(source);
    if is_blank(&source.text) {
        return Err(Diagnostic::new(&source.display, "the spec is empty")
            .with_help("a spec needs at least `name`, `image` and usually `port`; see `helm k8s-service schema`")
            .into());
    }
    // Most specs are standalone: read the document as one service straight away (one parse, not
    // two). An Opta file always has `modules:`, which a service refuses, so only when that read
    // fails is it worth asking which form the document is.
    let standalone = source.parse::<RawService>();
    let is_opta_file = match &standalone {
        Ok(_) => false,
        Err(_) => source.parse::<FormProbe>()?.modules.is_some(),
    };
    if is_opta_file {
        load_opta_file(source, opts)
    } else {
        if let Some(m) = &opts.module {
            return Err(Error::msg(format!(
                "--module {m} was given, but {} is a standalone spec (it has no `modules:` list)",
                source.display
            )));
        }
        let mut raw = standalone?;
        if raw.module_type.is_some() {
            return Err(source
                .diag(
                    &FieldPath::root().key("type"),
                    "`type` belongs to a module inside an Opta `modules:` list, not to a standalone spec",
                )
                .into());
        }
        let vars = Vars(opts.vars.iter().cloned().collect());
        interpolate_service(&source, &FieldPath::root(), &mut raw, &vars)?;
        Ok((
            vec![LoadedService {
                source,
                base: FieldPath::root(),
                raw,
                from_opta_file: false,
                module_types: BTreeMap::new(),
            }],
            Vec::new(),
        ))
    }
}

/// Nothing but whitespace, comments and document markers.
fn is_blank(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .split(['\n', '\r'])
        .all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
        })
}

/// Only tells the two forms apart; every other key is checked by the real pass.
#[derive(Deserialize)]
struct FormProbe {
    modules: Option<Ignored>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptaHead {
    name: Option<String>,
    org_name: Option<Ignored>,
    providers: Option<Ignored>,
    environments: Option<Vec<RawEnvironment>>,
    input_variables: Option<Vec<RawInputVariable>>,
    modules: Vec<ModuleHead>,
}

#[derive(Deserialize)]
struct ModuleHead {
    #[serde(rename = "type")]
    module_type: String,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    name: String,
    path: Option<String>,
    variables: Option<BTreeMap<String, String>>,
    vars: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInputVariable {
    name: String,
    default: Option<String>,
    description: Option<String>,
}

fn load_opta_file(
    source: Rc<SpecSource>,
    opts: &LoadOptions,
) -> Result<(Vec<LoadedService>, Notes), Error> {
    let head: OptaHead = source.parse()?;
    let mut notes = Vec::new();
    let _ = (&head.org_name, &head.providers);

    // Which modules become charts, decided before the strict pass reads their fields.
    let selected: Vec<bool> = head
        .modules
        .iter()
        .map(|m| {
            SERVICE_MODULE_TYPES.contains(&m.module_type.as_str())
                && opts
                    .module
                    .as_ref()
                    .is_none_or(|want| module_name(m) == *want)
        })
        .collect();
    for (i, m) in head.modules.iter().enumerate() {
        if !SERVICE_MODULE_TYPES.contains(&m.module_type.as_str()) {
            notes.push(format!(
                "module `{}` (type {}) is not a k8s-service module; ignored",
                module_name(m),
                m.module_type
            ));
        } else if !selected[i] {
            notes.push(format!(
                "module `{}` skipped (--module {})",
                module_name(m),
                opts.module.as_deref().unwrap_or_default()
            ));
        }
    }
    if !selected.contains(&true) {
        let services: Vec<String> = head
            .modules
            .iter()
            .filter(|m| SERVICE_MODULE_TYPES.contains(&m.module_type.as_str()))
            .map(module_name)
            .collect();
        return Err(match &opts.module {
            Some(want) => Error::msg(format!(
                "{} has no k8s-service module named `{want}`; its k8s-service modules are: {}",
                source.display,
                if services.is_empty() {
                    "none".to_string()
                } else {
                    services.join(", ")
                }
            )),
            None => Error::msg(format!(
                "{} has no module of type {}",
                source.display,
                SERVICE_MODULE_TYPES.join(", ")
            )),
        });
    }

    let vars = opta_vars(&source, &head, opts, &mut notes)?;
    // Opta links a module by name, within the same file (model/links.rs reads the types).
    let module_types: BTreeMap<String, String> = head
        .modules
        .iter()
        .map(|m| (module_name(m), m.module_type.clone()))
        .collect();
    let services: Vec<Option<RawService>> = source.parse_seed(BodySeed(&selected))?;
    let mut out = Vec::new();
    for (i, raw) in services.into_iter().enumerate() {
        let Some(mut raw) = raw else { continue };
        let base = FieldPath::root().key("modules").index(i);
        // Opta's default module name is its type without dashes.
        if raw.name.is_none() {
            raw.name = Some(module_name(&head.modules[i]));
        }
        interpolate_service(&source, &base, &mut raw, &vars)?;
        out.push(LoadedService {
            source: Rc::clone(&source),
            base,
            raw,
            from_opta_file: true,
            module_types: module_types.clone(),
        });
    }
    Ok((out, notes))
}

fn module_name(m: &ModuleHead) -> String {
    m.name
        .clone()
        .unwrap_or_else(|| m.module_type.replace('-', ""))
}

/// Placeholder values for an Opta file: `--var` flags first, then the chosen environment's
/// `variables`, then `input_variables` defaults; `layer_name` is the file's `name`.
fn opta_vars(
    source: &SpecSource,
    head: &OptaHead,
    opts: &LoadOptions,
    notes: &mut Notes,
) -> Result<Vars, Error> {
    let flags: BTreeMap<String, String> = opts.vars.iter().cloned().collect();
    let mut vars = BTreeMap::new();
    for iv in head.input_variables.iter().flatten() {
        let _ = &iv.description;
        if let Some(d) = &iv.default {
            vars.insert(iv.name.clone(), d.clone());
        }
    }
    let envs = head.environments.as_deref().unwrap_or_default();
    let chosen = match flags.get("env") {
        Some(name) => envs.iter().find(|e| &e.name == name),
        None if envs.len() == 1 => {
            notes.push(format!(
                "using environment `{}`, the only one in the file (--var env=NAME picks another)",
                envs[0].name
            ));
            envs.first()
        }
        None => None,
    };
    if let Some(env) = chosen {
        let _ = &env.path;
        vars.insert("env".to_string(), env.name.clone());
        for (k, v) in env
            .variables
            .iter()
            .flatten()
            .chain(env.vars.iter().flatten())
        {
            vars.insert(k.clone(), v.clone());
        }
    } else if let (Some(name), false) = (flags.get("env"), envs.is_empty()) {
        let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
        return Err(source
            .diag(
                &FieldPath::root().key("environments"),
                format!("--var env={name} names no environment of this file"),
            )
            .with_help(format!("environments here: {}", names.join(", ")))
            .into());
    }
    if let Some(name) = &head.name {
        vars.insert("layer_name".to_string(), name.clone());
    }
    vars.extend(flags);
    Ok(Vars(vars))
}

/// Resolve placeholders in every string of a service and re-read it, so numeric fields written
/// as `"{vars.max}"` become numbers.
fn interpolate_service(
    source: &SpecSource,
    base: &FieldPath,
    raw: &mut RawService,
    vars: &Vars,
) -> Result<(), Error> {
    let internal =
        |e: serde_json::Error| Error::msg(format!("internal error re-reading the spec: {e}"));
    let mut tree = serde_json::to_value(&*raw).map_err(internal)?;
    let failures = vars.apply_tree(&mut tree, base);
    let mut bad = Vec::new();
    find_unpassable(&tree, base, &mut bad);
    if !bad.is_empty() {
        return Err(Error::Spec(
            bad.iter()
                .map(|(p, why)| source.diag(p, why.clone()))
                .collect(),
        ));
    }
    if !failures.is_empty() {
        let mut diags: Vec<Diagnostic> = Vec::new();
        for (path, u) in failures {
            diags.push(source.diag(&path, u.message()));
        }
        if (vars.0.is_empty() || diags.len() > 1)
            && let Some(last) = diags.last_mut()
        {
            last.help = Some(
                    "Opta resolved these at deploy time; a chart needs their values now. Pass one --var per placeholder".into(),
                );
        }
        return Err(Error::Spec(diags));
    }
    *raw = serde_json::from_value(tree).map_err(internal)?;
    Ok(())
}

/// Characters no string of a spec may hold, because they cannot reach a pod: NUL (Kubernetes and
/// the container runtime refuse it), and those Helm 3 cannot carry in chart values: DEL, the C1
/// controls but NEL, U+FFFE and U+FFFF (Helm 3's values-schema check re-encodes the values with
/// go-yaml v2, which then refuses to read them back: "control characters are not allowed").
/// Found by tests/property.rs through real Helm 3.17.
pub fn is_unpassable(c: char) -> bool {
    matches!(c, '\0' | '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

/// Why `s` cannot reach a pod, if it cannot: an unpassable character, or a NEL (U+0085) right
/// before `--- ` or `... `, which Helm 3's re-encoding turns into a YAML document marker
/// ("found unexpected document indicator"; also found by tests/property.rs).
pub fn unpassable(s: &str) -> Option<String> {
    if let Some(c) = s.chars().find(|c| is_unpassable(*c)) {
        return Some(if c == '\0' {
            "contains a NUL character, which cannot reach a container (Kubernetes and the container runtime refuse it)".into()
        } else {
            format!(
                "contains the character U+{:04X}, which Helm 3 cannot carry in chart values (installing fails with \"control characters are not allowed\"); remove it",
                c as u32
            )
        });
    }
    let marker = s.match_indices('\u{85}').any(|(i, _)| {
        let rest = &s[i + '\u{85}'.len_utf8()..];
        (rest.starts_with("---") || rest.starts_with("..."))
            && matches!(rest[3..].chars().next(), Some(' ' | '\u{85}'))
    });
    marker.then(|| {
        "contains a NEL line break (U+0085) followed by `---` or `...`, which Helm 3 reads as the start of a new YAML document (installing fails); use \\n for the line break".into()
    })
}

/// Every string (or key) that cannot reach a pod, by path, with the reason.
fn find_unpassable(
    value: &serde_json::Value,
    path: &FieldPath,
    out: &mut Vec<(FieldPath, String)>,
) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(why) = unpassable(s) {
                out.push((path.clone(), why));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                find_unpassable(v, &path.index(i), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let p = path.key(k);
                if let Some(why) = unpassable(k) {
                    out.push((p.clone(), why));
                }
                find_unpassable(v, &p, out);
            }
        }
        _ => {}
    }
}

/// Reads `modules:` strictly for the selected entries and skips the rest unread.
struct BodySeed<'a>(&'a [bool]);

impl<'de> DeserializeSeed<'de> for BodySeed<'_> {
    type Value = Vec<Option<RawService>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BodySeed<'_> {
    type Value = Vec<Option<RawService>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an Opta service file")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut modules = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "modules" {
                modules = map.next_value_seed(ModulesSeed(self.0))?;
            } else {
                map.next_value::<Ignored>()?;
            }
        }
        Ok(modules)
    }
}

struct ModulesSeed<'a>(&'a [bool]);

impl<'de> DeserializeSeed<'de> for ModulesSeed<'_> {
    type Value = Vec<Option<RawService>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ModulesSeed<'_> {
    type Value = Vec<Option<RawService>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of modules")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let selected = self.0.get(out.len()).copied().unwrap_or(false);
            let item = if selected {
                seq.next_element::<RawService>()?.map(Some)
            } else {
                seq.next_element::<Ignored>()?.map(|_| None)
            };
            match item {
                Some(x) => out.push(x),
                None => break,
            }
        }
        if out.len() != self.0.len() {
            return Err(de::Error::custom("the modules list changed between reads"));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_helm_cannot_carry_are_named() {
        for ok in [
            "plain",
            "\u{85}",
            "a\u{85}---",
            "a\u{85}---b",
            "a\u{2028}--- b",
            "\u{1b}[31m",
            "\u{a0}",
            "\u{fffd}",
        ] {
            assert_eq!(unpassable(ok), None, "{ok:?}");
        }
        for (bad, want) in [
            ("a\0b", "NUL"),
            ("\u{7f}", "U+007F"),
            ("\u{80}", "U+0080"),
            ("\u{9f}", "U+009F"),
            ("\u{fffe}", "U+FFFE"),
            ("\u{ffff}", "U+FFFF"),
            ("a\u{85}--- b", "NEL"),
            ("a\u{85}...\u{85}", "NEL"),
        ] {
            let why = unpassable(bad).unwrap_or_default();
            assert!(why.contains(want), "{bad:?}: {why}");
        }
    }
}
