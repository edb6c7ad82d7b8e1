//! `helm k8s-service repo index`: index.yaml for a directory of chart archives (see
//! [`crate::repo`]).

use std::path::PathBuf;

use clap::Args;

use crate::diag::Error;
use crate::repo::{self, IndexOptions, artifacthub_repo};

pub const LONG_HELP: &str = "Write DIR/index.yaml for the chart archives in DIR and one level of subdirectories,\n\
as `helm repo index` does, for Helm 3.17 and 4.x clients.\n\n\
Unlike helm, nothing is lost or skipped silently: an archive Helm could not load is reported by\n\
name and nothing is written (exit 1); with --merge every old entry is kept, an unchanged archive\n\
keeps its `created` time and digest, and a changed archive under an existing version is refused\n\
unless --force. Concurrent runs on one directory are serialized by DIR/index.yaml.lock, and the\n\
index is replaced atomically. The same archives always give the same index.yaml.";

#[derive(Args, Debug)]
pub struct RepoIndexArgs {
    /// Directory holding the chart archives
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// URL of the chart repository; archive URLs are URL/<file>
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Merge into this existing index (a missing file counts as empty)
    #[arg(long, value_name = "FILE")]
    pub merge: Option<PathBuf>,
    /// Replace a version whose archive changed (its digest differs from the old index)
    #[arg(long)]
    pub force: bool,
    /// Also write DIR/artifacthub-repo.yml with this Artifact Hub repository ID (a UUID)
    #[arg(long, value_name = "UUID")]
    pub artifacthub_id: Option<String>,
    /// An owner in DIR/artifacthub-repo.yml, NAME=EMAIL (repeatable)
    #[arg(long, value_name = "NAME=EMAIL", value_parser = super::parse_var)]
    pub artifacthub_owner: Vec<(String, String)>,
}

pub fn run(a: &RepoIndexArgs) -> Result<i32, Error> {
    // Checked before anything is written.
    let hub = if a.artifacthub_id.is_some() || !a.artifacthub_owner.is_empty() {
        Some(artifacthub_repo::render(
            a.artifacthub_id.as_deref(),
            &a.artifacthub_owner,
        )?)
    } else {
        None
    };
    let report = repo::index(
        &a.dir,
        &IndexOptions {
            url: a.url.clone(),
            merge: a.merge.clone(),
            force: a.force,
        },
    )?;
    for r in &report.replaced {
        crate::say!("warning: replaced {r} (--force)");
    }
    crate::say!(
        "{}: {} added, {} unchanged, {} kept from the old index",
        report.path.display(),
        report.added,
        report.unchanged,
        report.kept
    );
    if let Some(text) = hub {
        let path = artifacthub_repo::write(&a.dir, &text)?;
        crate::say!("{}: written", path.display());
    }
    Ok(0)
}
