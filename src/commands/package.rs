//! `helm k8s-service package`: chart archives, optionally signed, written all or nothing.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{ChartArgs, HubArgs, SpecArgs, ensure_dir};
use crate::diag::{Error, printable};
use crate::repo::chart_archive;
use crate::{archive, chart, fsutil, pipeline, sign};

pub const LONG_HELP: &str = "Package the chart of each service in SPEC into a chart archive.\n\n\
The archive is written as DIR/<name>-<version>.tgz (one per k8s-service module of an Opta file),\n\
and each path is printed. The same spec always gives the same bytes: entries carry one fixed mtime\n\
(SOURCE_DATE_EPOCH when set, else 0). The archive is written to a temporary file and renamed, so\n\
DIR never holds a partial archive. An archive of the same name made from a different spec file\n\
(Chart.yaml's helm-k8s-service/spec annotation) is not replaced without --force.";

#[derive(Args, Debug)]
pub struct PackageArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// More specs; a directory stands for every *.yaml and *.yml file in it
    #[arg(value_name = "SPEC")]
    pub more: Vec<PathBuf>,
    #[command(flatten)]
    pub chart: ChartArgs,
    #[command(flatten)]
    pub hub: HubArgs,
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
    /// Replace an archive of the same name made from a different spec
    #[arg(long)]
    pub force: bool,
}

/// Refuse to replace DIR/`name` when it is a chart archive made from another spec file (its
/// Chart.yaml annotation says which); one made from the same spec, or that says nothing, is
/// replaced as before. The existing archive is only read.
fn check_not_another_specs(dir: &Path, name: &str, ours: &[u8]) -> Result<(), Error> {
    let path = dir.join(name);
    let Ok(existing) = std::fs::read(&path) else {
        return Ok(());
    };
    let spec_of = |bytes: &[u8]| {
        chart_archive::read(bytes)
            .ok()
            .and_then(|i| i.metadata.annotations.get(chart::SPEC_ANNOTATION).cloned())
    };
    match (spec_of(&existing), spec_of(ours)) {
        (Some(theirs), Some(ours)) if theirs != ours => Err(Error::msg(format!(
            "{} was made from the spec {}, not {}; not replacing it\n  \
             help: package into another --destination, give one of the specs a distinct \
             `name:`, or pass --force to replace it on purpose",
            path.display(),
            printable(&theirs),
            printable(&ours)
        ))),
        _ => Ok(()),
    }
}

pub fn run(a: &PackageArgs) -> Result<i32, Error> {
    let mtime = archive::source_date_epoch()?;
    // Every archive is built before any is written, so a failure writes nothing. Signing needs
    // the chart's Chart.yaml beside its archive.
    let (archives, messages) =
        pipeline::build_many(&a.spec.input(), &a.more, &a.hub.meta(&a.chart), |c| {
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
    if !a.force {
        for (name, bytes, _) in &archives {
            check_not_another_specs(&a.destination, name, bytes)?;
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
