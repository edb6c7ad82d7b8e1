//! Reading a spec file: either a standalone spec (the module's fields at the top level plus
//! `name`) or an Opta service file (`name`, `environments`, `modules:`), into one raw service per
//! chart, with every Opta interpolation resolved.

mod credentials;
mod hints;
pub mod interpolate;
mod lenient;
mod opta;
pub mod raw;
pub mod raw_config;
mod resolve;
pub mod scalars;
pub mod source;
pub mod source_map;

use std::rc::Rc;

use serde::Deserialize;

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
    /// Problems found while reading that do not stop validation (unknown fields, unresolved
    /// placeholders): reported with the model's, which says nothing about the `masked` fields
    /// (as diagnostics spell them) that were left out because of them.
    pub errors: Vec<Diagnostic>,
    pub masked: Vec<String>,
    /// Warnings from reading (credentials moved to the Secret, `--var` credentials).
    pub warnings: Vec<String>,
}

impl LoadedService {
    fn new(source: Rc<SpecSource>, base: FieldPath, raw: RawService, from_opta_file: bool) -> Self {
        LoadedService {
            source,
            base,
            raw,
            from_opta_file,
            errors: Vec::new(),
            masked: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Take in what resolving the placeholders found.
    fn add(&mut self, r: resolve::Resolved) {
        self.errors.extend(r.errors);
        self.masked.extend(r.masked);
        self.warnings.extend(r.warnings);
    }
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
    let standalone = source.parse_lenient::<RawService>();
    let is_opta_file = match &standalone {
        Ok((_, unknown)) if unknown.is_empty() => false,
        _ => {
            let form = source.parse::<FormProbe>()?;
            if form.meta.is_some() {
                return Err(opta::pre_one(&source).into());
            }
            form.modules.is_some()
        }
    };
    if is_opta_file {
        opta::load_opta_file(source, opts)
    } else {
        if let Some(m) = &opts.module {
            return Err(Error::msg(format!(
                "--module {m} was given, but {} is a standalone spec (it has no `modules:` list)",
                source.display
            )));
        }
        let (mut raw, unknown) = standalone?;
        if raw.module_type.is_some() {
            return Err(source
                .diag(
                    &FieldPath::root().key("type"),
                    "`type` belongs to a module inside an Opta `modules:` list, not to a standalone spec",
                )
                .into());
        }
        let vars = Vars(opts.vars.iter().cloned().collect());
        let resolved = resolve::resolve(&source, &FieldPath::root(), &mut raw, &vars, None)
            .map_err(|e| with_unknown(unknown.clone(), e))?;
        let mut service = LoadedService::new(source, FieldPath::root(), raw, false);
        service.errors = unknown;
        service.add(resolved);
        service
            .warnings
            .extend(credentials::flag_warnings(&opts.vars));
        Ok((vec![service], Vec::new()))
    }
}

/// A reading error after some unknown fields: all of them, in file order.
fn with_unknown(mut unknown: Vec<Diagnostic>, e: Error) -> Error {
    match e {
        Error::Spec(d) if !unknown.is_empty() => {
            unknown.extend(d);
            Error::Spec(unknown)
        }
        e => e,
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
    /// Opta before 1.0 (`meta:` with `name` and `envs`; `modules:` a mapping).
    meta: Option<Ignored>,
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
