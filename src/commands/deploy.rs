//! `install`, `upgrade` and `template`: generate the chart into a temporary directory and hand it
//! to helm (see [`crate::helm`] for how helm is found and run).

use std::ffi::OsString;

use clap::Args;

use super::{ChartArgs, HelmValueArgs, SpecArgs, temp_chart};
use crate::diag::Error;
use crate::helm::{self, Action, DeploySettings, HelmEnv};

/// The long help of `install` and `upgrade`.
pub const LONG_HELP: &str = "Generate the chart of SPEC into a temporary directory (always removed) and run helm on it.\n\n\
helm is $HELM_BIN (set by helm when this runs as `helm k8s-service`), else `helm` on PATH.\n\
The namespace, kube context, kubeconfig and --debug given to helm reach it unchanged.\n\n\
Opta's deployment semantics are kept: the spec's `timeout` becomes --timeout, `max_history`\n\
becomes --history-max (upgrades), and a failed install or upgrade is rolled back automatically\n\
(Helm 3: --atomic, Helm 4: --rollback-on-failure --wait=watcher; upgrades also --cleanup-on-fail:\n\
helm install has no such flag, a first release having nothing to clean up).\n\
--no-rollback turns that off; --no-wait does not wait for the pods at all.\n\n\
helm's values flags (-f/--values, --set, --set-string, --set-json, --set-file) are accepted as they\n\
are; everything after `--` is passed to helm verbatim after them: --dry-run=client,\n\
--create-namespace, --set-literal... --version is the version of the chart made from SPEC.\n\
helm's output streams through unchanged and its exit code is this command's exit code.";

/// The long help of `upgrade`: `install`'s, and the plan.
pub const UPGRADE_LONG_HELP: &str = "Generate the chart of SPEC into a temporary directory (always removed) and upgrade RELEASE\n\
to it with helm, after checking what the upgrade would do (as `helm k8s-service plan` does).\n\n\
The plan compares the release (`helm get manifest`) with SPEC rendered as the upgrade renders it,\n\
and is shown on stderr when something changes. If a change would be refused by the API server\n\
(exit 4: StatefulSet claim templates, serviceName, selectors...), cause an outage (a Deployment\n\
becoming a StatefulSet) or delete running pods (fixed replicas becoming autoscaled) (exit 3),\n\
the upgrade stops before helm touches the release, and the plan says the way forward.\n\
--accept-plan goes ahead anyway. A release that does not exist yet is not checked.\n\n\
helm is $HELM_BIN (set by helm when this runs as `helm k8s-service`), else `helm` on PATH.\n\
The namespace, kube context, kubeconfig and --debug given to helm reach it unchanged.\n\n\
Opta's deployment semantics are kept: the spec's `timeout` becomes --timeout, `max_history`\n\
becomes --history-max, and a failed upgrade is rolled back automatically (Helm 3: --atomic\n\
--cleanup-on-fail; Helm 4: --rollback-on-failure --cleanup-on-fail --wait=watcher).\n\
--no-rollback turns that off; --no-wait does not wait for the pods at all.\n\n\
helm's values flags (-f/--values, --set, --set-string, --set-json, --set-file) are accepted as they\n\
are; everything after `--` is passed to helm verbatim after them: --dry-run=client,\n\
--create-namespace, --set-literal... --version is the version of the chart made from SPEC.\n\
helm's output streams through unchanged and its exit code is this command's exit code.";

pub const TEMPLATE_LONG_HELP: &str = "Generate the chart of SPEC and render it with `helm template RELEASE CHART`.\n\n\
helm's values flags (-f/--values, --set, --set-string, --set-json, --set-file) are accepted as they\n\
are; everything after `--` is passed to helm verbatim after them (--kube-version, --api-versions...).";

#[derive(Args, Debug)]
pub struct DeployArgs {
    /// Release name (at most 53 characters, DNS-1123)
    #[arg(value_name = "RELEASE")]
    pub release: String,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub values: HelmValueArgs,
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
    /// Upgrade even when the plan finds a change the API server refuses, an outage or lost pods
    #[arg(long)]
    pub accept_plan: bool,
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
    #[command(flatten)]
    pub values: HelmValueArgs,
    /// Arguments for helm, after `--`
    #[arg(last = true, value_name = "HELM FLAGS")]
    pub helm_args: Vec<OsString>,
}

pub fn install(a: &DeployArgs) -> Result<i32, Error> {
    deploy(Action::Install, a, None)
}

pub fn upgrade(a: &UpgradeArgs) -> Result<i32, Error> {
    deploy(
        Action::Upgrade { install: a.install },
        &a.deploy,
        Some(a.accept_plan),
    )
}

/// Install or upgrade; `check` (upgrades): run the plan first, `Some(true)` going ahead whatever
/// it says.
fn deploy(action: Action, a: &DeployArgs, check: Option<bool>) -> Result<i32, Error> {
    helm::check_release(&a.release)?;
    let helm = helm::locate()?;
    let version = helm::version(&helm)?;
    let (temp, chart, messages) = temp_chart(&a.spec, &a.chart)?;
    messages.print();
    let user = a.values.then(&a.helm_args);
    if let Some(accept) = check {
        let refused = crate::plan::release::check_upgrade(
            &helm,
            &a.release,
            &temp.path,
            &a.spec.spec,
            &user,
            accept,
        )?;
        if let Some(code) = refused {
            return Ok(code);
        }
    }
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
        &user,
    );
    helm::run(&helm, &args)
}

pub fn template(a: &TemplateArgs) -> Result<i32, Error> {
    helm::check_release(&a.release)?;
    let helm = helm::locate()?;
    helm::version(&helm)?;
    let (temp, _, messages) = temp_chart(&a.spec, &a.chart)?;
    messages.print();
    let user = a.values.then(&a.helm_args);
    let args = helm::template_args(&a.release, &temp.path, &HelmEnv::from_env(), &user);
    helm::run(&helm, &args)
}
