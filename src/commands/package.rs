//! `helm k8s-service package`: chart archives, optionally signed, written all or nothing.

use std::path::PathBuf;

use clap::Args;

use super::{ChartArgs, SpecArgs, ensure_dir};
use crate::diag::Error;
use crate::{archive, fsutil, pipeline, sign};

pub const LONG_HELP: &str = "Package the chart of each service in SPEC into a chart archive.\n\n\
The archive is written as DIR/<name>-<version>.tgz (one per k8s-service module of an Opta file),\n\
and each path is printed. The same spec always gives the same bytes: entries carry one fixed mtime\n\
(SOURCE_DATE_EPOCH when set, else 0). The archive is written to a temporary file and renamed, so\n\
DIR never holds a partial archive.";

#[derive(Args, Debug)]
pub struct PackageArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// More specs; a directory stands for every *.yaml and *.yml file in it
    #[arg(value_name = "SPEC")]
    pub more: Vec<PathBuf>,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Directory to write the archives to
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub destination: PathBuf,
    /// Also write <archive>.prov, signed with gpg (checked by `helm verify` and `--verify`)
    #[arg(long, requires = "key")]
    pub sign: bool,
    /// Signing key: a user id (or part of it) or fingerprint
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
    /// Keyring holding the secret key [default: your gpg home]
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
    /// File holding the key's passphrase
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

pub fn run(a: &PackageArgs) -> Result<i32, Error> {
    let mtime = archive::source_date_epoch()?;
    // Every archive is built before any is written, so a failure writes nothing. Signing needs
    // the chart's Chart.yaml beside its archive.
    let (archives, messages) =
        pipeline::build_many(&a.spec.input(), &a.more, &a.chart.meta(), |c| {
            let chart_yaml = a.sign.then(|| {
                c.files
                    .iter()
                    .find(|(p, _)| p == "Chart.yaml")
                    .map(|(_, y)| String::from_utf8_lossy(y).into_owned())
                    .unwrap_or_default()
            });
            Ok((archive::file_name(&c), archive::tgz(&c, mtime)?, chart_yaml))
        })?;
    let archives: Vec<(String, Vec<u8>, Option<String>)> =
        archives.into_iter().map(|(_, a)| a).collect();
    // Sign before writing anything, so a failed signature leaves no unsigned new archive.
    let mut provs = Vec::new();
    if a.sign {
        let opts = sign::SignOptions {
            key: a.key.clone().unwrap_or_default(),
            keyring: a.keyring.clone(),
            passphrase_file: a.passphrase_file.clone(),
        };
        for (name, bytes, chart_yaml) in &archives {
            let body =
                sign::provenance_body(chart_yaml.as_deref().unwrap_or_default(), name, bytes);
            provs.push(sign::clearsign(&body, &opts)?);
        }
    }
    ensure_dir(&a.destination)?;
    // Each archive, then its signature: the order they are listed in.
    let mut files: Vec<(String, &[u8])> = Vec::new();
    for (i, (name, bytes, _)) in archives.iter().enumerate() {
        files.push((name.clone(), bytes));
        if let Some(prov) = provs.get(i) {
            files.push((format!("{name}.prov"), prov));
        }
    }
    fsutil::write_many_atomic(&a.destination, &files)?;
    for (name, _) in &files {
        super::out(&format!("{}\n", a.destination.join(name).display()));
    }
    messages.print();
    Ok(0)
}
