//! Running helm: finding it, checking its version, its command lines for install, upgrade,
//! template, push and rollback, reading a deployed release (`get manifest`, `get values`, `get
//! metadata`), and running it with our stdio or with its output captured. The commands that hand
//! a chart to helm (`install`, `upgrade`, `template`, `push`, `rollback`, `plan`) are thin layers
//! over this; it is the only part of the program that talks to a cluster.
//!
//! What helm gives a plugin is respected: `$HELM_BIN` is the helm to run, and the namespace,
//! kube context, kubeconfig and debug flags arrive as `HELM_*` variables (helm keeps `-n`,
//! `--kube-context`, `--kubeconfig` and `--debug` for itself). Helm's output streams through and
//! its exit code becomes ours.

mod binary;
mod command_line;
mod history;
mod process;
mod release;
mod user_flags;

use std::path::PathBuf;

pub use binary::{locate, version};
pub use command_line::{
    Action, DeploySettings, HelmEnv, ValueFlags, check_release, deploy_args, push_args,
    template_args, user_args,
};
pub use history::{Revision, UpgradeBase, get_history, history_args, upgrade_base};
pub use process::{Captured, capture, run};
pub use release::{
    ReleaseMetadata, RollbackSettings, get_manifest, get_manifest_args, get_metadata,
    get_metadata_args, get_values, get_values_args, render, render_args, rollback_args,
};
pub use user_flags::{OldValues, RenderFlags};

use crate::archive;
use crate::chart::Chart;
use crate::diag::Error;

/// Charts packaged into a temporary directory, which is removed when the returned guard drops.
pub fn temp_archives(charts: &[Chart]) -> Result<(tempfile::TempDir, Vec<PathBuf>), Error> {
    let dir = tempfile::Builder::new()
        .prefix("helm-k8s-service-")
        .tempdir()
        .map_err(|e| Error::msg(format!("cannot create a temporary directory: {e}")))?;
    let mtime = archive::source_date_epoch()?;
    let mut paths = Vec::new();
    for chart in charts {
        let path = dir.path().join(archive::file_name(chart));
        crate::fsutil::write_atomic(&path, &archive::tgz(chart, mtime)?)?;
        paths.push(path);
    }
    Ok((dir, paths))
}
