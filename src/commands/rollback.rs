//! `helm k8s-service rollback`: `helm rollback` that keeps the history the spec promised. Plain
//! `helm rollback` keeps 10 revisions (its own --history-max default) and deletes the older ones
//! that the spec's `max_history` (25 by default) was meant to keep. The release's chart records
//! the spec's settings (Chart.yaml annotations), so no spec is needed.

use std::ffi::OsString;

use clap::Args;

use crate::chart::{MAX_HISTORY_ANNOTATION, TIMEOUT_ANNOTATION};
use crate::diag::Error;
use crate::helm::{self, HelmEnv, ReleaseMetadata, RollbackSettings};

/// The spec's defaults for `max_history` and `timeout` (a unit test keeps them equal to the
/// model's), for a release whose chart does not record them.
pub const SPEC_MAX_HISTORY: u32 = 25;
pub const SPEC_TIMEOUT_SECONDS: u32 = 300;

pub const LONG_HELP: &str = "Roll RELEASE back to REVISION (default: the previous one) with `helm rollback`, keeping\n\
the history the spec promised: plain `helm rollback` keeps only 10 revisions (its own\n\
--history-max default) and deletes the older ones.\n\n\
--history-max defaults to the spec's max_history, which the release's chart records (Chart.yaml\n\
annotation helm-k8s-service/max-history; 25 for a chart that does not). The timeout comes from\n\
the spec's timeout the same way (helm-k8s-service/timeout, else 300s). Like install and upgrade,\n\
it waits for the pods (Helm 3: --wait; Helm 4: --wait=watcher) with --cleanup-on-fail;\n\
--no-wait returns as soon as helm has applied the objects.\n\n\
Everything after `--` is passed to helm rollback verbatim (--dry-run, --no-hooks, --timeout...).";

#[derive(Args, Debug)]
pub struct RollbackArgs {
    /// Release name
    #[arg(value_name = "RELEASE")]
    pub release: String,
    /// Revision to return to (`helm history RELEASE` lists them) [default: the previous one]
    #[arg(value_name = "REVISION")]
    pub revision: Option<u64>,
    /// Revisions to keep [default: the release's max_history, else 25]
    #[arg(long, value_name = "N")]
    pub history_max: Option<u32>,
    /// Do not wait for the pods to be ready
    #[arg(long)]
    pub no_wait: bool,
    /// Arguments for helm rollback, after `--`
    #[arg(last = true, value_name = "HELM FLAGS")]
    pub helm_args: Vec<OsString>,
}

pub fn run(a: &RollbackArgs) -> Result<i32, Error> {
    helm::check_release(&a.release)?;
    let helm = helm::locate()?;
    let version = helm::version(&helm)?;
    let env = HelmEnv::from_env();
    let meta = helm::get_metadata(&helm, &a.release, &env)?;
    let (recorded_history, timeout_seconds) = recorded(&meta);
    let max_history = match (a.history_max, recorded_history) {
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => {
            crate::say!(
                "note: the chart of {} ({} {}) does not record max_history: keeping {SPEC_MAX_HISTORY} revisions (--history-max N to choose)",
                a.release,
                meta.chart,
                meta.version
            );
            SPEC_MAX_HISTORY
        }
    };
    let settings = RollbackSettings {
        release: a.release.clone(),
        revision: a.revision,
        timeout_seconds,
        max_history,
        wait: !a.no_wait,
    };
    let args = helm::rollback_args(version.major, &settings, &env, &a.helm_args);
    helm::run(&helm, &args)
}

/// The max_history and timeout the release's chart records (what the spec said), if it does.
fn recorded(meta: &ReleaseMetadata) -> (Option<u32>, u32) {
    let history = meta
        .annotations
        .get(MAX_HISTORY_ANNOTATION)
        .and_then(|v| v.trim().parse().ok());
    let timeout = meta
        .annotations
        .get(TIMEOUT_ANNOTATION)
        .and_then(|v| v.trim().strip_suffix('s')?.parse().ok())
        .unwrap_or(SPEC_TIMEOUT_SECONDS);
    (history, timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_specs() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("s.yaml");
        std::fs::write(&spec, "name: web\nimage: nginx:1.27\n").unwrap();
        let input = crate::pipeline::SpecInput {
            path: spec,
            ..Default::default()
        };
        let (charts, _) = crate::pipeline::build_charts(&input, &Default::default()).unwrap();
        assert_eq!(charts[0].max_history, SPEC_MAX_HISTORY);
        assert_eq!(charts[0].timeout_seconds, SPEC_TIMEOUT_SECONDS);
    }

    #[test]
    fn reads_what_the_chart_records() {
        let mut meta = ReleaseMetadata::default();
        assert_eq!(recorded(&meta), (None, 300));
        meta.annotations
            .insert(MAX_HISTORY_ANNOTATION.into(), "15".into());
        meta.annotations
            .insert(TIMEOUT_ANNOTATION.into(), "600s".into());
        assert_eq!(recorded(&meta), (Some(15), 600));
        meta.annotations
            .insert(TIMEOUT_ANNOTATION.into(), "10m".into());
        meta.annotations
            .insert(MAX_HISTORY_ANNOTATION.into(), "lots".into());
        assert_eq!(recorded(&meta), (None, 300));
    }
}
