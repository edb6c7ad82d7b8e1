//! `install`, `upgrade` and `template`: generate the chart into a temporary directory and hand it
//! to helm (see [`crate::helm`] for how helm is found and run).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use super::{ChartArgs, SpecArgs};
use crate::chart::Chart;
use crate::diag::Error;
use crate::helm::{self, Action, DeploySettings, HelmEnv};
use crate::pipeline::{self, Messages};

/// The long help of `install` and `upgrade`.
pub const LONG_HELP: &str = "Generate the chart of SPEC into a temporary directory (always removed) and run helm on it.\n\n\
helm is $HELM_BIN (set by helm when this runs as `helm k8s-service`), else `helm` on PATH.\n\
The namespace, kube context, kubeconfig and --debug given to helm reach it unchanged.\n\n\
Opta's deployment semantics are kept: the spec's `timeout` becomes --timeout, `max_history`\n\
becomes --history-max, and a failed install or upgrade is rolled back automatically (Helm 3:\n\
--atomic --cleanup-on-fail; Helm 4: --rollback-on-failure --cleanup-on-fail --wait=watcher).\n\
--no-rollback turns that off; --no-wait does not wait for the pods at all.\n\n\
Everything after `--` is passed to helm verbatim: --set, -f, --dry-run=client, --create-namespace...\n\
helm's output streams through unchanged and its exit code is this command's exit code.";

pub const TEMPLATE_LONG_HELP: &str = "Generate the chart of SPEC and render it with `helm template RELEASE CHART`.\n\n\
Everything after `--` is passed to helm verbatim (--set, -f, --kube-version, --api-versions...).";

#[derive(Args, Debug)]
pub struct DeployArgs {
    /// Release name (at most 53 characters, DNS-1123)
    #[arg(value_name = "RELEASE")]
    pub release: String,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Do not roll back a failed install or upgrade
    #[arg(long)]
    pub no_rollback: bool,
    /// Do not wait for the pods to be ready (implies --no-rollback)
    #[arg(long)]
    pub no_wait: bool,
    /// Arguments for helm, after `--`
    #[arg(last = true, value_name = "HELM FLAGS")]
    pub helm_args: Vec<OsString>,
}

#[derive(Args, Debug)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub deploy: DeployArgs,
    /// Install the release if it does not exist yet
    #[arg(short, long)]
    pub install: bool,
}

#[derive(Args, Debug)]
pub struct TemplateArgs {
    /// Release name used in the rendered manifests
    #[arg(value_name = "RELEASE")]
    pub release: String,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Arguments for helm, after `--`
    #[arg(last = true, value_name = "HELM FLAGS")]
    pub helm_args: Vec<OsString>,
}

pub fn install(a: &DeployArgs) -> Result<i32, Error> {
    deploy(Action::Install, a)
}

pub fn upgrade(a: &UpgradeArgs) -> Result<i32, Error> {
    deploy(Action::Upgrade { install: a.install }, &a.deploy)
}

fn deploy(action: Action, a: &DeployArgs) -> Result<i32, Error> {
    helm::check_release(&a.release)?;
    let helm = helm::locate()?;
    let version = helm::version(&helm)?;
    let (temp, chart, messages) = temp_chart(&a.spec, &a.chart)?;
    messages.print();
    let settings = DeploySettings {
        release: a.release.clone(),
        timeout_seconds: chart.timeout_seconds,
        max_history: chart.max_history,
        rollback: !a.no_rollback,
        wait: !a.no_wait,
    };
    let args = helm::deploy_args(
        version.major,
        action,
        &temp.path,
        &settings,
        &HelmEnv::from_env(),
        &a.helm_args,
    );
    helm::run(&helm, &args)
}

pub fn template(a: &TemplateArgs) -> Result<i32, Error> {
    helm::check_release(&a.release)?;
    let helm = helm::locate()?;
    helm::version(&helm)?;
    let (temp, _, messages) = temp_chart(&a.spec, &a.chart)?;
    messages.print();
    let args = helm::template_args(&a.release, &temp.path, &HelmEnv::from_env(), &a.helm_args);
    helm::run(&helm, &args)
}

/// The one chart of the spec, packaged into a temporary directory (removed with the guard).
struct TempChart {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

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
    Ok((TempChart { _dir: dir, path }, charts.remove(0), messages))
}
