//! One module per subcommand: each owns its clap arguments and a short `run` that converts them
//! into the inputs of the layers below ([`crate::pipeline`], [`crate::helm`], [`crate::repo`]...)
//! and prints the outcome. The argument groups several commands share live here.

pub mod argocd;
pub mod complete;
pub mod deploy;
pub mod generate;
pub mod init;
pub mod package;
pub mod plan;
pub mod push;
pub mod repo_index;
pub mod rollback;
pub mod schema;
pub mod validate;

use std::path::{Path, PathBuf};

use clap::Args;

use crate::chart::Chart;
use crate::diag::{Error, printable};
use crate::helm;
use crate::pipeline::{self, ChartMeta, Messages, SpecInput};

/// Write `text` to stdout: every command prints its output through this, never `print!`.
///
/// A reader that stops early (`schema | head -1`) closes the pipe, and `print!` would then panic
/// (exit 101, "failed printing to stdout"). Here the program ends quietly instead, as a Unix tool
/// killed by SIGPIPE appears to its shell: nothing on stderr, exit status 141 (128 + SIGPIPE), so
/// `set -o pipefail` still sees that the output was cut short. Commands print last, after their
/// work is written, so stopping here loses nothing. SIGPIPE is not reset to its default at start
/// instead: that would also kill the program, silently, when a child it feeds through a pipe
/// (gpg for `package --sign`) exits early, where an error naming the child is wanted.
pub fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        crate::say!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// The spec and what to change in it: every command that builds a chart takes these.
#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// The service spec (YAML)
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// Only the k8s-service module with this name (Opta service files)
    #[arg(long, value_name = "NAME")]
    pub module: Option<String>,
    /// Value for an Opta placeholder: {vars.KEY}, {env}, {parent.domain}... (repeatable)
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Image tag, overriding the spec's `tag`
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Image digest (sha256:...), overriding the spec's `digest`
    #[arg(long, value_name = "DIGEST")]
    pub digest: Option<String>,
    /// Name of the chart, overriding the spec's (an Opta file's chart is named after the file,
    /// and the module when it has several)
    #[arg(long, value_name = "NAME", value_parser = parse_chart_name)]
    pub name: Option<String>,
}

impl SpecArgs {
    /// What the pipeline builds: SPEC with these settings.
    pub fn input(&self) -> SpecInput {
        SpecInput {
            path: self.spec.clone(),
            module: self.module.clone(),
            vars: self.vars.clone(),
            tag: self.tag.clone(),
            digest: self.digest.clone(),
            name: self.name.clone(),
        }
    }
}

const HELM_VALUES: &str = "Helm values (passed to helm, as after `--`)";

/// helm's values flags, accepted before `--` too on the commands that run helm on the chart
/// (`install`, `upgrade`, `template`, `plan`) and passed to it after the flags this program
/// gives helm (see [`helm::user_args`] for the order).
#[derive(Args, Debug, Clone, Default)]
pub struct HelmValueArgs {
    /// Values file for helm (repeatable)
    #[arg(short = 'f', long = "values", value_name = "FILE", help_heading = HELM_VALUES)]
    pub values: Vec<std::ffi::OsString>,
    /// Set a value for helm: KEY=VALUE[,KEY=VALUE] (repeatable)
    #[arg(long, value_name = "KEY=VALUE", help_heading = HELM_VALUES)]
    pub set: Vec<std::ffi::OsString>,
    /// Set a string value for helm (repeatable)
    #[arg(long, value_name = "KEY=VALUE", help_heading = HELM_VALUES)]
    pub set_string: Vec<std::ffi::OsString>,
    /// Set a JSON value for helm (repeatable)
    #[arg(long, value_name = "KEY=JSON", help_heading = HELM_VALUES)]
    pub set_json: Vec<std::ffi::OsString>,
    /// Set a value for helm from a file's content (repeatable)
    #[arg(long, value_name = "KEY=PATH", help_heading = HELM_VALUES)]
    pub set_file: Vec<std::ffi::OsString>,
}

impl HelmValueArgs {
    /// These flags, then `after_dashes`: what helm gets after this program's own flags.
    pub fn then(&self, after_dashes: &[std::ffi::OsString]) -> Vec<std::ffi::OsString> {
        let v = helm::ValueFlags {
            values: self.values.clone(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            set_json: self.set_json.clone(),
            set_file: self.set_file.clone(),
        };
        helm::user_args(&v, after_dashes)
    }
}

/// Chart.yaml's version and appVersion, for the commands that make a chart to keep or deploy.
#[derive(Args, Debug, Default)]
pub struct ChartArgs {
    /// Chart version (strict SemVer 2) of the chart made from SPEC; helm's own --version (of a
    /// chart in a repository) does not apply
    #[arg(long, value_name = "SEMVER")]
    pub version: Option<String>,
    /// Chart appVersion [default: the image tag, else its digest]
    #[arg(long, value_name = "VERSION")]
    pub app_version: Option<String>,
}

impl ChartArgs {
    pub fn meta(&self) -> ChartMeta {
        ChartMeta {
            version: self.version.clone(),
            app_version: self.app_version.clone(),
            ..ChartMeta::default()
        }
    }
}

const ARTIFACT_HUB: &str = "Artifact Hub (Chart.yaml annotations)";

/// What Artifact Hub shows of a chart, for the commands that publish one (`package`, `generate`,
/// `push`).
#[derive(Args, Debug, Default)]
pub struct HubArgs {
    /// SPDX license of the chart (artifacthub.io/license)
    #[arg(long, value_name = "SPDX", help_heading = ARTIFACT_HUB)]
    pub license: Option<String>,
    /// A link Artifact Hub shows, NAME=URL (repeatable; artifacthub.io/links)
    #[arg(long = "link", value_name = "NAME=URL", value_parser = parse_var, help_heading = ARTIFACT_HUB)]
    pub links: Vec<(String, String)>,
    /// List the changes since this previous version (a chart .tgz or directory, or the spec as
    /// it was) in artifacthub.io/changes
    #[arg(long, value_name = "OLD", help_heading = ARTIFACT_HUB)]
    pub changes_since: Option<PathBuf>,
}

impl HubArgs {
    /// `chart`'s settings with these.
    pub fn meta(&self, chart: &ChartArgs) -> ChartMeta {
        ChartMeta {
            license: self.license.clone(),
            links: self.links.clone(),
            changes_since: self.changes_since.clone(),
            ..chart.meta()
        }
    }
}

fn parse_chart_name(s: &str) -> Result<String, String> {
    crate::model::rules::dns_label(s, 53)
        .map(|()| s.to_string())
        .map_err(|e| format!("not a valid chart name: it {e}"))
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{}` is not KEY=VALUE", printable(s))),
    }
}

/// The output directory of `package` and `generate`, created when missing.
fn ensure_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::msg(format!("cannot create {}: {e}", dir.display())))
}

/// A chart for helm: the one chart of a spec packaged into a temporary directory (removed with
/// the guard), or a chart given as it is.
pub struct TempChart {
    _dir: Option<tempfile::TempDir>,
    pub path: PathBuf,
}

/// The one chart of the spec, packaged into a temporary directory.
fn temp_chart(spec: &SpecArgs, chart: &ChartArgs) -> Result<(TempChart, Chart, Messages), Error> {
    let (mut charts, messages) = pipeline::build_charts(&spec.input(), &chart.meta())?;
    if charts.len() != 1 {
        let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
        return Err(Error::msg(format!(
            "{} makes {} charts ({}); pick one with --module NAME",
            spec.spec.display(),
            charts.len(),
            names.join(", ")
        )));
    }
    let (dir, mut paths) = helm::temp_archives(&charts)?;
    let path = paths.remove(0);
    Ok((
        TempChart {
            _dir: Some(dir),
            path,
        },
        charts.remove(0),
        messages,
    ))
}

/// Whether a path names a chart rather than a spec: a directory with a Chart.yaml, or an archive.
use crate::pipeline::is_chart;

/// SPEC, or a chart: what `plan` compares.
fn spec_or_chart(
    path: &Path,
    spec: &SpecArgs,
    chart: &ChartArgs,
) -> Result<(TempChart, Messages), Error> {
    if is_chart(path) {
        return Ok((
            TempChart {
                _dir: None,
                path: path.to_path_buf(),
            },
            Messages::default(),
        ));
    }
    let spec = SpecArgs {
        spec: path.to_path_buf(),
        ..spec.clone()
    };
    temp_chart(&spec, chart).map(|(t, _, m)| (t, m))
}
