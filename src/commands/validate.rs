//! `helm k8s-service validate`: check specs without writing anything, and report for people
//! (`--output text`, the default) or for machines (`--output json`).
//!
//! The JSON report is a stable interface (README, "validate --output json"): fields are only ever
//! added, never renamed or removed, and `version` changes if that promise is ever broken. It is
//! the only thing on stdout, whatever the outcome; the exit code is 0 when every file is valid and
//! 1 otherwise, as in text mode.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::SpecArgs;
use crate::chart::Chart;
use crate::diag::{Diagnostic, Error};
use crate::pipeline::{
    ChartMeta, Message, MessageKind, Messages, SpecInput, build_charts, chart_name_clashes,
    expand_spec,
};

pub const LONG_HELP: &str = "Check SPEC (and more specs; a directory stands for its *.yaml and *.yml files)\n\
and report every problem, without writing anything. Exit 0 when all are valid, else 1.\n\n\
--output json prints one JSON document on stdout, whatever the outcome, for editors and CI:\n\
{\"version\": 1, \"valid\": BOOL, \"files\": [{\"file\", \"valid\", \"charts\", \"notes\", \"warnings\",\n\
\"errors\": [{\"file\", \"line\", \"column\", \"field\", \"message\", \"help\"}]}]} (see the README).";

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// More specs; a directory stands for every *.yaml and *.yml file in it
    #[arg(value_name = "SPEC")]
    pub more: Vec<PathBuf>,
    /// Report format: text for people, json for machines (one JSON document on stdout)
    #[arg(short, long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub output: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Version of the JSON report's shape.
pub const REPORT_VERSION: u32 = 1;

/// The JSON report.
#[derive(Serialize)]
pub struct Report {
    pub version: u32,
    /// Every file is valid.
    pub valid: bool,
    pub files: Vec<FileReport>,
}

/// One spec file, in the order given (a directory's files sorted by name).
#[derive(Serialize)]
pub struct FileReport {
    /// The path as given on the command line (joined to its directory when one was given).
    pub file: String,
    pub valid: bool,
    /// The charts the file makes (empty when invalid).
    pub charts: Vec<String>,
    pub notes: Vec<Remark>,
    pub warnings: Vec<Remark>,
    /// Every problem found, in file order (text mode shows the first few).
    pub errors: Vec<Problem>,
}

/// A note or warning; `chart` names the service when a file makes more than one, else null.
#[derive(Serialize)]
pub struct Remark {
    pub chart: Option<String>,
    pub message: String,
}

/// One error. `line` and `column` count from 1; they, `field` (a path such as
/// `cron_jobs[0].schedule`) and `help` are null when they do not apply (e.g. a missing file).
#[derive(Serialize)]
pub struct Problem {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub field: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

/// Run the command; the result is the exit code.
pub fn run(a: &ValidateArgs) -> Result<i32, Error> {
    let results = check_all(a);
    match a.output {
        Format::Json => {
            let report = report(results);
            let json = serde_json::to_string_pretty(&report)
                .map_err(|e| Error::msg(format!("internal error writing JSON: {e}")))?;
            super::out(&format!("{json}\n"));
            Ok(if report.valid { 0 } else { 1 })
        }
        Format::Text => text(results),
    }
}

/// What validating one file gave.
type Outcome = (String, Result<(Vec<String>, Messages), Error>);

fn check_all(a: &ValidateArgs) -> Vec<Outcome> {
    let mut out = Vec::new();
    for given in std::iter::once(&a.spec.spec).chain(&a.more) {
        match expand_spec(given) {
            Ok(files) => out.extend(files.into_iter().map(|f| check_one(a, &f))),
            Err(e) => out.push((given.display().to_string(), Err(e))),
        }
    }
    cross_check(&mut out);
    out
}

/// The checks `package` makes across its specs, so that validate passes exactly what package
/// accepts: two files that make the same chart name fail the later one.
fn cross_check(out: &mut [Outcome]) {
    let made: Vec<(String, PathBuf, usize)> = out
        .iter()
        .enumerate()
        .filter_map(|(i, (file, r))| r.as_ref().ok().map(|(charts, _)| (charts, file, i)))
        .flat_map(|(charts, file, i)| {
            charts
                .iter()
                .map(move |c| (c.clone(), PathBuf::from(file), i))
        })
        .collect();
    let pairs: Vec<(&str, &Path)> = made
        .iter()
        .map(|(c, f, _)| (c.as_str(), f.as_path()))
        .collect();
    for (at, message, help) in chart_name_clashes(&pairs) {
        let (_, _, i) = &made[at];
        let file = out[*i].0.clone();
        let d = Diagnostic::new(&file, message).with_help(help);
        out[*i].1 = Err(Error::Spec(vec![d]));
    }
}

fn check_one(a: &ValidateArgs, file: &Path) -> Outcome {
    let spec = SpecInput {
        path: file.to_path_buf(),
        ..a.spec.input()
    };
    let result = build_charts(&spec, &ChartMeta::default()).map(|(charts, mut messages)| {
        for c in &charts {
            if let Some(text) = traffic_note(c) {
                messages.0.push(Message {
                    kind: MessageKind::Note,
                    chart: Some(c.name.clone()),
                    text,
                });
            }
        }
        (charts.into_iter().map(|c| c.name).collect(), messages)
    });
    (file.display().to_string(), result)
}

/// Which way traffic reaches the chart's pods, and why: Gateway API is the recommended path,
/// an Ingress names the controller it needs (README "Traffic: Gateway API first").
fn traffic_note(chart: &Chart) -> Option<String> {
    let v = chart.values().ok()?;
    let s = |x: &serde_json::Value| x.as_str().unwrap_or_default().to_string();
    let (gw, ing) = (&v["gateway"], &v["ingress"]);
    Some(if gw["enabled"] == true {
        let ns = s(&gw["namespace"]);
        format!(
            "traffic: Gateway API routes attached to the Gateway `{}{}` (the recommended path: every controller that implements Gateway API reads them the same way)",
            if ns.is_empty() {
                String::new()
            } else {
                format!("{ns}/")
            },
            s(&gw["name"])
        )
    } else if ing["enabled"] == true && ing["controller"] == "portable" {
        format!(
            "traffic: a portable Ingress (plain Prefix paths, no controller annotations) of class `{}`; `gateway:` is the recommended path",
            if s(&ing["className"]).is_empty() {
                "the cluster's default".to_string()
            } else {
                s(&ing["className"])
            }
        )
    } else if ing["enabled"] == true {
        format!(
            "traffic: an Ingress for ingress-nginx (class `{}`; Opta's behaviour: its rewrite, sticky-cookie and timeout annotations work only there, other controllers ignore them); `gateway:` is the recommended path, `ingress_controller: portable` an Ingress for any controller",
            s(&ing["className"])
        )
    } else {
        // No public route: nothing to choose, nothing said.
        return None;
    })
}

/// Text: on success the notes and warnings (stderr), then one line per chart (stdout); on any
/// failure only the errors (stderr), as every other command does.
fn text(results: Vec<Outcome>) -> Result<i32, Error> {
    let single = results.len() == 1;
    let mut diags = Vec::new();
    let mut good = Vec::new();
    for (file, result) in results {
        match result {
            Ok((charts, messages)) => good.push((file, charts, messages)),
            // One file: its error exactly as `package` would print it.
            Err(e) if single => return Err(e),
            Err(Error::Spec(d)) => diags.extend(d),
            Err(Error::Message(m)) => diags.push(Diagnostic::new(&file, m)),
        }
    }
    if !diags.is_empty() {
        return Err(Error::Spec(diags));
    }
    for (_, _, messages) in &good {
        messages.print();
    }
    for (file, charts, _) in good {
        for c in charts {
            super::out(&format!("{file}: {c} is valid\n"));
        }
    }
    Ok(0)
}

fn report(results: Vec<Outcome>) -> Report {
    let files: Vec<FileReport> = results
        .into_iter()
        .map(|(file, result)| match result {
            Ok((charts, messages)) => {
                let remarks = |kind| {
                    messages
                        .0
                        .iter()
                        .filter(|m: &&Message| m.kind == kind)
                        .map(|m| Remark {
                            chart: m.chart.clone(),
                            message: m.text.clone(),
                        })
                        .collect()
                };
                FileReport {
                    valid: true,
                    charts,
                    notes: remarks(MessageKind::Note),
                    warnings: remarks(MessageKind::Warning),
                    errors: Vec::new(),
                    file,
                }
            }
            Err(e) => {
                let errors = match e {
                    Error::Spec(d) => d.into_iter().map(problem).collect(),
                    Error::Message(m) => vec![problem(Diagnostic::new(&file, m))],
                };
                FileReport {
                    valid: false,
                    charts: Vec::new(),
                    notes: Vec::new(),
                    warnings: Vec::new(),
                    errors,
                    file,
                }
            }
        })
        .collect();
    Report {
        version: REPORT_VERSION,
        valid: files.iter().all(|f| f.valid),
        files,
    }
}

fn problem(d: Diagnostic) -> Problem {
    Problem {
        file: d.file,
        line: d.line,
        column: d.column,
        field: d.field,
        message: d.message,
        help: d.help,
    }
}
