//! `helm k8s-service plan`: what an upgrade of RELEASE to SPEC will do, object by object, before
//! anything is touched; and the same check inside `upgrade`. The old side is the deployed release
//! (`helm get manifest`, rendered with the values helm will reuse), or with `--from` another spec
//! or chart rendered offline; the new side is SPEC rendered by `helm template --is-upgrade`. The
//! comparison and its rules are in [`crate::plan`].

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use super::validate::Format;
use super::{ChartArgs, HelmValueArgs, SpecArgs, spec_or_chart};
use crate::diag::Error;
use crate::helm::{self, HelmEnv, RenderFlags};
use crate::plan::release::{compare, namespace, release_plan, target};

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
            let no_meta = ChartArgs::default();
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
                crate::say!(
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
