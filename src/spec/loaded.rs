//! What reading a spec gives: one `LoadedService` per chart, with the problems and warnings
//! found while reading that do not stop validation.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::raw::RawService;
use super::resolve::Resolved;
use super::source::SpecSource;
use crate::diag::{Diagnostic, Error, FieldPath};

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
    /// `--name NAME`: the chart's name, whatever the spec says (one chart only).
    pub name: Option<String>,
}

/// The chart's name when it is not the service's own `name` field: an Opta file names its chart
/// after the file (and the module, when it has several), and `--name` overrides both.
#[derive(Clone, Debug)]
pub struct ChartName {
    pub name: String,
    /// Where the name comes from, for errors (`name` of the file; root for `--name`).
    pub path: FieldPath,
    /// Said once, as a note: how the chart got its name.
    pub why: Option<String>,
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
    /// The chart's name, when it is not `raw.name` (see [`ChartName`]).
    pub chart_name: Option<ChartName>,
    /// Problems found while reading that do not stop validation (unknown fields, unresolved
    /// placeholders): reported with the model's, which says nothing about the `masked` fields
    /// (as diagnostics spell them) that were left out because of them.
    pub errors: Vec<Diagnostic>,
    pub masked: Vec<String>,
    /// Warnings from reading (credentials moved to the Secret, `--var` credentials).
    pub warnings: Vec<String>,
}

impl LoadedService {
    pub(super) fn new(
        source: Rc<SpecSource>,
        base: FieldPath,
        raw: RawService,
        from_opta_file: bool,
    ) -> Self {
        LoadedService {
            source,
            base,
            raw,
            from_opta_file,
            module_types: BTreeMap::new(),
            chart_name: None,
            errors: Vec::new(),
            masked: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Take in what resolving the placeholders found.
    pub(super) fn add(&mut self, r: Resolved) {
        self.errors.extend(r.errors);
        self.masked.extend(r.masked);
        self.warnings.extend(r.warnings);
    }
}

/// Notes for the user that are not errors (skipped modules, chosen environment).
pub type Notes = Vec<String>;

/// A reading error after some unknown fields: all of them, in file order.
pub(super) fn with_unknown(mut unknown: Vec<Diagnostic>, e: Error) -> Error {
    match e {
        Error::Spec(d) if !unknown.is_empty() => {
            unknown.extend(d);
            Error::Spec(unknown)
        }
        e => e,
    }
}
