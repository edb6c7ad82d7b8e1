//! Reading a spec file: either a standalone spec (the module's fields at the top level plus
//! `name`) or an Opta service file (`name`, `environments`, `modules:`), into one raw service per
//! chart, with every Opta interpolation resolved.

mod credentials;
mod hints;
pub mod interpolate;
mod lenient;
mod loaded;
mod opta;
pub mod raw;
pub mod raw_config;
pub mod raw_scaling;
mod resolve;
pub mod scalars;
pub mod source;
pub mod source_map;
mod unpassable;
mod untouched;

use std::rc::Rc;

use serde::Deserialize;

use crate::diag::{Diagnostic, Error, FieldPath};
use interpolate::Vars;
use raw::{Ignored, RawService};
use source::SpecSource;

use loaded::with_unknown;
pub use loaded::{ChartName, LoadOptions, LoadedService, Notes, SERVICE_MODULE_TYPES};
pub use unpassable::{is_unpassable, unpassable};

/// The JSON Schema of the spec language, for editors (`helm k8s-service schema`).
pub const SPEC_SCHEMA: &str = include_str!("../../schema/k8s-service-spec.schema.json");

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
    let standalone = lenient::parse_as::<RawService>(&source);
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
        service.chart_name = opts.name.as_ref().map(|n| ChartName {
            name: n.clone(),
            path: FieldPath::root(),
            why: None,
        });
        service.errors = unknown;
        service.add(resolved);
        service
            .warnings
            .extend(credentials::flag_warnings(&opts.vars));
        Ok((vec![service], Vec::new()))
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
