//! `helm k8s-service plan`: what an upgrade of RELEASE to SPEC will do, object by object, before
//! anything is touched; and the same check inside `upgrade`. The old side is the deployed release
//! (`helm get manifest`, rendered with the values helm will reuse), or with `--from` another spec
//! or chart rendered offline; the new side is SPEC rendered by `helm template --is-upgrade`. The
//! comparison and its rules are in [`crate::plan`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Args;

use super::validate::Format;
use super::{ChartArgs, HelmValueArgs, SpecArgs, spec_or_chart};
use crate::diag::{Error, printable};
use crate::helm::{self, HelmEnv, OldValues, RenderFlags};
use crate::plan::{self, Manifest, Report, Target};

pub const LONG_HELP: &str = "Say what `upgrade RELEASE SPEC` will do to the running release, object by object, without\n\
changing anything: added, removed, applied in place, pods restarted, replaced (a Deployment\n\
becoming a StatefulSet: an outage), capacity lost (fixed replicas becoming autoscaled), or\n\
impossible (a change the API server refuses: StatefulSet claim templates, serviceName,\n\
podManagementPolicy, selectors, a Service's clusterIP, a Job's template), each with the field,\n\
the reason and the way forward. `upgrade` runs the same check and refuses the last three kinds\n\
unless --accept-plan.\n\n\
The old side is the release (`helm get manifest`, `helm get values`: the namespace and kube\n\
context given to helm apply); the new side is SPEC rendered by `helm template --is-upgrade` with\n\
the values helm will reuse. Give the flags you will give `upgrade` (helm's values flags as they\n\
are, the rest after `--`): --set, -f and --post-renderer reach the render, --reset-values and\n\
--reuse-values decide the values reused.\n\n\
--from OLD compares offline instead, with no cluster: OLD and SPEC are each a spec, a chart\n\
directory or a chart archive (.tgz), both rendered by `helm template`.\n\n\
Exit codes: 0 nothing disruptive, 2 pods restart, 3 an outage or lost capacity, 4 a change the\n\
API server refuses (3 and 4 make `upgrade` refuse), 1 the plan could not be made.\n\
--output json prints one versioned JSON document (see the README).";

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Release name
    #[arg(value_name = "RELEASE")]
    pub release: String,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub values: HelmValueArgs,
    /// Compare offline with this spec or chart (directory or .tgz) instead of the release
    #[arg(long, value_name = "OLD")]
    pub from: Option<PathBuf>,
    /// Report format: text for people, json for machines (one JSON document on stdout)
    #[arg(short, long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub output: Format,
    /// The helm flags you will give `upgrade`, after `--`
    #[arg(last = true, value_name = "HELM FLAGS")]
    pub helm_args: Vec<OsString>,
}

pub fn run(a: &PlanArgs) -> Result<i32, Error> {
    helm::check_release(&a.release)?;
    let helm = helm::locate()?;
    helm::version(&helm)?;
    let env = HelmEnv::from_env();
    let flags = RenderFlags::from_user(&a.values.then(&a.helm_args));
    let (new, messages) = spec_or_chart(&a.spec.spec, &a.spec, &a.chart)?;
    let report = match &a.from {
        Some(from) => {
            // The old side is the spec as it was: --tag and --digest are about SPEC.
            let old_spec = SpecArgs {
                tag: None,
                digest: None,
                ..a.spec.clone()
            };
            let no_meta = ChartArgs {
                version: None,
                app_version: None,
            };
            let (old, _) = spec_or_chart(from, &old_spec, &no_meta)?;
            let old_args = helm::template_args(&a.release, &old.path, &env, &flags.render);
            let old_text = helm::render(&helm, &old_args)?;
            let new_args = helm::render_args(&a.release, &new.path, &env, None, &flags.render);
            let new_text = helm::render(&helm, &new_args)?;
            let target = target(&a.release, &env, from.display().to_string(), &a.spec.spec);
            compare(&old_text, &new_text, &target)?
        }
        None => match release_plan(&helm, &a.release, &new.path, &env, &flags, &a.spec.spec)? {
            Some(report) => report,
            None => {
                eprintln!(
                    "note: release {} not found in namespace {}: an upgrade --install would install it",
                    a.release,
                    namespace(&env)
                );
                let args = helm::render_args(&a.release, &new.path, &env, None, &flags.render);
                let new_text = helm::render(&helm, &args)?;
                let target = target(&a.release, &env, "(no release)".into(), &a.spec.spec);
                compare("", &new_text, &target)?
            }
        },
    };
    messages.print();
    match a.output {
        Format::Json => super::out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report)
                .map_err(|e| Error::msg(format!("internal error writing JSON: {e}")))?
        )),
        Format::Text => super::out(&report.text()),
    }
    Ok(report.exit_code)
}

/// The check inside `upgrade`, before helm touches the release: the plan of the upgrade is shown
/// on stderr, and `Some(exit code)` says it refuses (an impossible change, an outage or lost
/// capacity, without --accept-plan). A release that does not exist yet has nothing to compare:
/// `upgrade --install` installs it, plain `upgrade` lets helm say it is missing.
pub fn check_upgrade(
    helm: &Path,
    release: &str,
    chart: &Path,
    spec: &Path,
    user: &[OsString],
    accept: bool,
) -> Result<Option<i32>, Error> {
    let env = HelmEnv::from_env();
    let flags = RenderFlags::from_user(user);
    let Some(report) = release_plan(helm, release, chart, &env, &flags, spec)? else {
        return Ok(None);
    };
    if !report.changes.is_empty() {
        eprint!("{}", report.text());
    }
    if !report.blocks_upgrade {
        return Ok(None);
    }
    if accept {
        eprintln!("note: --accept-plan: upgrading anyway");
        return Ok(None);
    }
    eprintln!(
        "error: upgrade of {release} refused before touching it: {} (exit {}). Follow the way forward above; once done, or to go ahead anyway, add --accept-plan.",
        match report.exit_code {
            4 => "the API server would refuse a change",
            _ => "the change would cause an outage or lose running pods",
        },
        report.exit_code
    );
    Ok(Some(report.exit_code))
}

/// The deployed release against the new chart, or None when the release does not exist.
fn release_plan(
    helm: &Path,
    release: &str,
    chart: &Path,
    env: &HelmEnv,
    flags: &RenderFlags,
    spec: &Path,
) -> Result<Option<Report>, Error> {
    let Some(old_text) = helm::get_manifest(helm, release, env)? else {
        return Ok(None);
    };
    let values = match flags.old_values() {
        OldValues::Dropped => None,
        OldValues::User => helm::get_values(helm, release, env, false)?,
        OldValues::All => {
            eprintln!(
                "warning: with --reuse-values helm keeps the values of the chart deployed now, so what SPEC changes does not reach the release; --reset-then-reuse-values keeps only the values you set"
            );
            helm::get_values(helm, release, env, true)?
        }
    };
    let dir = tempfile::Builder::new()
        .prefix("helm-k8s-service-plan-")
        .tempdir()
        .map_err(|e| Error::msg(format!("cannot create a temporary directory: {e}")))?;
    let values_file = match values {
        Some(text) => {
            let path = dir.path().join("release-values.yaml");
            crate::fsutil::write_atomic(&path, text.as_bytes())?;
            Some(path)
        }
        None => None,
    };
    let args = helm::render_args(release, chart, env, values_file.as_deref(), &flags.render);
    let new_text = helm::render(helm, &args)?;
    let target = target(release, env, format!("release {release}"), spec);
    compare(&old_text, &new_text, &target).map(Some)
}

fn namespace(env: &HelmEnv) -> String {
    env.namespace.clone().unwrap_or_else(|| "default".into())
}

fn target(release: &str, env: &HelmEnv, old: String, new: &Path) -> Target {
    let spec = if super::is_chart(new) {
        "SPEC".to_string()
    } else {
        printable(&new.display().to_string())
    };
    Target {
        release: release.into(),
        namespace: namespace(env),
        old: printable(&old),
        new: printable(&new.display().to_string()),
        spec,
    }
}

fn compare(old: &str, new: &str, target: &Target) -> Result<Report, Error> {
    let parse = |text: &str, what: &str| -> Result<Manifest, Error> {
        plan::parse(text, what, &target.namespace)
    };
    let old = parse(old, &format!("the manifest of {}", target.old))?;
    let new = parse(new, &format!("helm template of {}", target.new))?;
    Ok(plan::compare(&old, &new, target))
}
