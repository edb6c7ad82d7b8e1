//! Opta service files: `name`, `environments`, `input_variables` and a `modules:` list, each
//! k8s-service module one service. Which modules are read, the environment that supplies the
//! placeholders' values, and the mistakes Opta let through (two environments of one name).

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::interpolate::EnvChoice;
use super::interpolate::Vars;
use super::loaded::{
    ChartName, LoadOptions, LoadedService, Notes, SERVICE_MODULE_TYPES, with_unknown,
};
use super::raw::{Ignored, RawService};
use super::source::SpecSource;
use super::{credentials, resolve};
use crate::diag::{Diagnostic, Error, FieldPath, printable};

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

pub(super) fn load_opta_file(
    source: Rc<SpecSource>,
    opts: &LoadOptions,
) -> Result<(Vec<LoadedService>, Notes), Error> {
    let (head, mut unknown) = super::lenient::parse_as::<OptaHead>(&source)?;
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

    let (vars, choice) = opta_vars(&source, &head, opts, &mut notes)
        .map_err(|e| with_unknown(unknown.clone(), e))?;
    let read = super::lenient::parse(&source, |text| {
        serde_saphyr::with_deserializer_from_str_with_options(
            text,
            super::source::yaml_options(),
            |de| BodySeed(&selected).deserialize(de),
        )
    });
    let services: Vec<Option<RawService>> = match read {
        Ok((services, more)) => {
            unknown.extend(more);
            services
        }
        Err(e) => return Err(with_unknown(unknown, e)),
    };
    // Opta links a module by name, within the same file (model/links.rs reads the types).
    let module_types: BTreeMap<String, String> = head
        .modules
        .iter()
        .map(|m| (module_name(m), m.module_type.clone()))
        .collect();
    // Naming depends on the file, never on --module: the same module always makes the same chart.
    let services_in_file = head
        .modules
        .iter()
        .filter(|m| SERVICE_MODULE_TYPES.contains(&m.module_type.as_str()))
        .count();
    let mut out: Vec<LoadedService> = Vec::new();
    for (i, raw) in services.into_iter().enumerate() {
        let Some(mut raw) = raw else { continue };
        let base = FieldPath::root().key("modules").index(i);
        // Opta's default module name is its type without dashes.
        if raw.name.is_none() {
            raw.name = Some(module_name(&head.modules[i]));
        }
        let resolved = resolve::resolve(&source, &base, &mut raw, &vars, choice.as_ref());
        let resolved = resolved.map_err(|e| with_unknown(unknown.clone(), e))?;
        let chart_name = opta_chart_name(&head, i, services_in_file);
        let mut service = LoadedService::new(Rc::clone(&source), base, raw, true);
        service.chart_name = chart_name;
        service.module_types = module_types.clone();
        service.add(resolved);
        out.push(service);
    }
    // Each unknown field is reported with the service it is in; the file's own, with the first.
    for d in unknown {
        let field = d.field.clone().unwrap_or_default();
        let owner = out
            .iter()
            .position(|s| {
                let b = s.base.to_string();
                field.starts_with(&format!("{b}.")) || field.starts_with(&format!("{b}["))
            })
            .unwrap_or(0);
        if let Some(s) = out.get_mut(owner) {
            s.errors.insert(0, d);
        }
    }
    if let Some(first) = out.first_mut() {
        first
            .warnings
            .extend(credentials::flag_warnings(&opts.vars));
    }
    if let Some(name) = &opts.name {
        if out.len() != 1 {
            let modules: Vec<String> = out.iter().filter_map(|s| s.raw.name.clone()).collect();
            return Err(Error::msg(format!(
                "--name names one chart, and {} makes {} ({}): add --module MODULE to pick the one to name",
                source.display,
                out.len(),
                modules.join(", ")
            )));
        }
        out[0].chart_name = Some(ChartName {
            name: name.clone(),
            path: FieldPath::root(),
            why: None,
        });
    }
    notes.extend(
        out.iter()
            .filter_map(|s| s.chart_name.as_ref().and_then(|c| c.why.clone())),
    );
    Ok((out, notes))
}

/// Opta before 1.0 wrote `meta:` (with `name`, `envs` and `variables`) and `modules:` as a
/// mapping of module names; 1.0 changed both, and this reads only 1.0.
pub(super) fn pre_one(source: &SpecSource) -> Diagnostic {
    source
        .diag_at_key(
            &FieldPath::root().key("meta"),
            "this is the pre-1.0 Opta format (`meta:`, and `modules:` as a mapping of names); convert it to the Opta 1.0 service file this reads",
        )
        .with_help(
            "move `meta.name` to a top-level `name:`, each `meta.envs` entry to `environments: [{name: ENV, path: PARENT}]` (its `variables` with it), `meta.variables` to `input_variables: [{name: X, default: V}]`, and write `modules:` as a list whose entries carry their old key as `name:` (`modules: {app: {type: k8s-service}}` becomes `modules: [{name: app, type: k8s-service}]`)",
        )
}

/// The chart of module `i`: named after what identifies the service, the file's `name` (`shop`),
/// and with several k8s-service modules in the file, the module too (`shop-web`), since module
/// names are often generic (`app`) and two files' `app` modules would make one chart. A file
/// without `name` keeps the module's name.
fn opta_chart_name(head: &OptaHead, i: usize, services_in_file: usize) -> Option<ChartName> {
    let file = head.name.as_deref()?;
    let module = module_name(&head.modules[i]);
    let (name, path) = if services_in_file == 1 {
        (file.to_string(), FieldPath::root().key("name"))
    } else if module == file || module.starts_with(&format!("{file}-")) {
        return None;
    } else {
        let at = FieldPath::root().key("modules").index(i);
        (
            format!("{file}-{module}"),
            // The module's own `name` when written: the part of the chart name it chose.
            match head.modules[i].name {
                Some(_) => at.key("name"),
                None => at,
            },
        )
    };
    let why = format!(
        "module `{module}` makes the chart `{}`, after the file's name{} (--name NAME, with --module when the file has several, picks another)",
        name.to_ascii_lowercase(),
        if services_in_file == 1 {
            ""
        } else {
            " and the module's"
        }
    );
    Some(ChartName {
        name,
        path,
        why: Some(why),
    })
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
) -> Result<(Vars, Option<EnvChoice>), Error> {
    let flags: BTreeMap<String, String> = opts.vars.iter().cloned().collect();
    let mut vars = BTreeMap::new();
    for iv in head.input_variables.iter().flatten() {
        let _ = &iv.description;
        if let Some(d) = &iv.default {
            vars.insert(iv.name.clone(), d.clone());
        }
    }
    let envs = head.environments.as_deref().unwrap_or_default();
    duplicate_environments(source, envs)?;
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
    // Several environments and none chosen: a placeholder they would set says to choose one.
    let choice = (chosen.is_none() && envs.len() > 1).then(|| EnvChoice {
        names: envs.iter().map(|e| e.name.clone()).collect(),
        sets: envs
            .iter()
            .flat_map(|e| e.variables.iter().flatten().chain(e.vars.iter().flatten()))
            .map(|(k, _)| k.clone())
            .collect(),
    });
    vars.extend(flags);
    Ok((Vars(vars), choice))
}

/// Two environments of one name: `--var env=NAME` would silently take the first.
fn duplicate_environments(source: &SpecSource, envs: &[RawEnvironment]) -> Result<(), Error> {
    let path = |i: usize| FieldPath::root().key("environments").index(i).key("name");
    let mut errors = Vec::new();
    for (i, e) in envs.iter().enumerate() {
        if let Some(first) = envs[..i].iter().position(|f| f.name == e.name) {
            let line = |i| {
                source
                    .diag(&path(i), "")
                    .line
                    .map_or("?".to_string(), |l| l.to_string())
            };
            errors.push(
                source
                    .diag(
                        &path(i),
                        format!(
                            "two environments are named `{}` (lines {} and {}); --var env={} would silently use the first",
                            printable(&e.name),
                            line(first),
                            line(i),
                            printable(&e.name)
                        ),
                    )
                    .with_help("rename one of them, or remove the copy"),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Spec(errors))
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
