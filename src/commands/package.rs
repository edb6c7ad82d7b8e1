//! `helm k8s-service package`: chart archives, optionally signed, written all or nothing.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{ChartArgs, HubArgs, SpecArgs};
use crate::diag::{Error, printable};
use crate::repo::chart_archive;
use crate::staging::Staging;
use crate::{archive, chart, pipeline, sign};

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
    let sign_opts = sign::SignOptions {
        key: a.key.clone().unwrap_or_default(),
        keyring: a.keyring.clone(),
        passphrase_file: a.passphrase_file.clone(),
    };
    // gpg is asked for one signature at a time, as before batches were built in parallel.
    let gpg = std::sync::Mutex::new(());
    // Each archive (and its signature) is staged on disk as soon as it is built, so a batch holds
    // no archive in memory; only a run where every spec is valid moves them into place, so a
    // failure writes nothing.
    let staging = Staging::new(&a.destination);
    let (staged, messages) =
        pipeline::build_many(&a.spec.input(), &a.more, &a.hub.meta(&a.chart), |c| {
            let name = archive::file_name(&c);
            let bytes = archive::tgz(&c, mtime)?;
            // Sign before the check below, so the order of failures is that of one spec.
            let prov = match a.sign {
                true => {
                    let chart_yaml = c
                        .files
                        .iter()
                        .find(|(p, _)| p == "Chart.yaml")
                        .map(|(_, y)| String::from_utf8_lossy(y).into_owned())
                        .unwrap_or_default();
                    let body = sign::provenance_body(&chart_yaml, &name, &bytes);
                    let _one = gpg.lock().unwrap_or_else(|p| p.into_inner());
                    Some(sign::clearsign(&body, &sign_opts)?)
                }
                false => None,
            };
            if !a.force {
                check_not_another_specs(&a.destination, &name, &bytes)?;
            }
            staging.add(&name, &bytes)?;
            // Each archive, then its signature: the order they are listed in.
            let mut names = vec![name];
            if let Some(prov) = prov {
                let prov_name = format!("{}.prov", names[0]);
                staging.add(&prov_name, &prov)?;
                names.push(prov_name);
            }
            Ok(names)
        })?;
    let files: Vec<String> = staged.into_iter().flat_map(|(_, n)| n).collect();
    staging.commit(&files)?;
    for name in &files {
        super::out(&format!("{}\n", a.destination.join(name).display()));
    }
    messages.print();
    Ok(0)
}
