//! `helm k8s-service push`: package the charts of a spec and `helm push` them to a registry.

use std::ffi::OsString;

use clap::Args;

use super::{ChartArgs, HubArgs, SpecArgs};
use crate::diag::{Error, printable};
use crate::{helm, pipeline};

#[derive(Args, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Registry to push to: oci://REGISTRY/PATH
    #[arg(value_name = "REMOTE")]
    pub remote: String,
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub hub: HubArgs,
    /// Arguments for `helm push`, after `--` (--plain-http, --ca-file, --username...)
    #[arg(last = true, value_name = "HELM FLAGS")]
    pub helm_args: Vec<OsString>,
}

/// `helm push` each chart of the spec to an OCI registry; stops at the first failure.
pub fn run(a: &PushArgs) -> Result<i32, Error> {
    if !a.remote.starts_with("oci://") || a.remote.len() <= "oci://".len() {
        return Err(Error::msg(format!(
            "`{}` is not a registry: give oci://REGISTRY/PATH",
            printable(&a.remote)
        )));
    }
    let helm = helm::locate()?;
    helm::version(&helm)?;
    let (charts, messages) = pipeline::build_charts(&a.spec.input(), &a.hub.meta(&a.chart))?;
    messages.print();
    let (_dir, paths) = helm::temp_archives(&charts)?;
    for path in paths {
        let code = helm::run(&helm, &helm::push_args(&path, &a.remote, &a.helm_args))?;
        if code != 0 {
            return Ok(code);
        }
    }
    Ok(0)
}
