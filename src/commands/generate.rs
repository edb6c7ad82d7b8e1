//! `helm k8s-service generate`: unpacked charts, each directory replaced as a whole.

use std::path::PathBuf;

use clap::Args;

use super::{ChartArgs, HubArgs, SpecArgs, ensure_dir};
use crate::chart::Chart;
use crate::diag::Error;
use crate::{fsutil, pipeline};

#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// More specs; a directory stands for every *.yaml and *.yml file in it
    #[arg(value_name = "SPEC")]
    pub more: Vec<PathBuf>,
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub hub: HubArgs,
    /// Directory to write the charts to (each in DIR/<name>/)
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

pub fn run(a: &GenerateArgs) -> Result<i32, Error> {
    let (charts, messages) =
        pipeline::build_many(&a.spec.input(), &a.more, &a.hub.meta(&a.chart), Ok)?;
    let charts: Vec<Chart> = charts.into_iter().map(|(_, c)| c).collect();
    ensure_dir(&a.output)?;
    for c in &charts {
        let dest = a.output.join(&c.name);
        let is_empty_dir = std::fs::read_dir(&dest).is_ok_and(|mut d| d.next().is_none());
        if dest.exists() && !is_empty_dir && !dest.join("Chart.yaml").is_file() {
            return Err(Error::msg(format!(
                "{} exists and is not a chart; not replacing it",
                dest.display()
            )));
        }
        fsutil::replace_dir(&dest, &c.files)?;
        super::out(&format!("{}\n", dest.display()));
    }
    messages.print();
    Ok(0)
}
