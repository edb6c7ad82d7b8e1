//! `helm history RELEASE -o json`, and the revision an upgrade starts from. Helm does not upgrade
//! from the latest revision but from the last *deployed* one (a failed revision on top of it is
//! skipped; with none deployed, a failed or superseded latest one); a release with an operation
//! still pending is refused, and an uninstalled one (kept with `--keep-history`) is installed
//! anew by `upgrade --install`. The plan compares with the same revision helm will.

use std::ffi::OsString;
use std::path::Path;

use serde::Deserialize;

use super::command_line::HelmEnv;
use super::process::capture;
use super::release::checked;
use crate::diag::{Error, printable};

/// One line of `helm history -o json` (the fields we use).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Revision {
    pub revision: u64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub chart: String,
}

/// `helm history RELEASE -o json --max 256` (helm's own default), with the namespace and context.
pub fn history_args(release: &str, env: &HelmEnv) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec![
        "history".into(),
        release.into(),
        "-o".into(),
        "json".into(),
        "--max".into(),
        "256".into(),
    ];
    env.flags(&mut a);
    a
}

/// The release's revisions, oldest first, or None when helm says it does not exist.
pub fn get_history(
    helm: &Path,
    release: &str,
    env: &HelmEnv,
) -> Result<Option<Vec<Revision>>, Error> {
    let args = history_args(release, env);
    let out = capture(helm, &args)?;
    if out.code != 0 && out.stderr.contains("release: not found") {
        return Ok(None);
    }
    let text = checked(&args, out)?;
    let mut revisions: Vec<Revision> = serde_json::from_str(text.trim()).map_err(|e| {
        Error::msg(format!(
            "cannot read what `helm history {} -o json` printed: {e}",
            printable(release)
        ))
    })?;
    revisions.sort_by_key(|r| r.revision);
    Ok(Some(revisions))
}

/// What an upgrade of a release with this history starts from.
#[derive(Clone, Debug, PartialEq)]
pub enum UpgradeBase {
    /// Nothing to upgrade: `upgrade --install` installs (no revision, or the release uninstalled).
    Install,
    /// The revision helm compares with; `skipped` are the later ones it ignores (failed).
    From {
        revision: Revision,
        skipped: Vec<Revision>,
    },
}

/// Helm's own choice (`action.Upgrade`): the latest revision when deployed; else the last
/// deployed one; else a failed or superseded latest one. Pending operations and an uninstalled
/// release are said in the error helm would give.
pub fn upgrade_base(release: &str, history: &[Revision]) -> Result<UpgradeBase, Error> {
    let Some(last) = history.last() else {
        return Ok(UpgradeBase::Install);
    };
    let name = printable(release);
    if last.status.starts_with("pending") {
        return Err(Error::msg(format!(
            "release {name} has an operation in progress (revision {} is {}): helm refuses to upgrade it until that ends. If no helm is running any more, return to the last good revision with `helm k8s-service rollback {name}`",
            last.revision, last.status
        )));
    }
    if last.status == "uninstalled" || last.status == "uninstalling" {
        return Ok(UpgradeBase::Install);
    }
    let from = if last.status == "deployed" {
        Some(last)
    } else {
        history
            .iter()
            .rev()
            .find(|r| r.status == "deployed")
            .or_else(|| {
                ["failed", "superseded"]
                    .contains(&last.status.as_str())
                    .then_some(last)
            })
    };
    let Some(from) = from else {
        return Err(Error::msg(format!(
            "release {name} has no deployed revision (the latest, {}, is {}): helm cannot upgrade it",
            last.revision, last.status
        )));
    };
    Ok(UpgradeBase::From {
        revision: from.clone(),
        skipped: history
            .iter()
            .filter(|r| r.revision > from.revision)
            .cloned()
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(revision: u64, status: &str) -> Revision {
        Revision {
            revision,
            status: status.into(),
            chart: "shop-0.1.0".into(),
        }
    }

    fn base(h: &[Revision]) -> Result<UpgradeBase, Error> {
        upgrade_base("shop", h)
    }

    #[test]
    fn the_latest_revision_when_it_is_deployed() {
        let h = [rev(1, "superseded"), rev(2, "deployed")];
        assert_eq!(
            base(&h).unwrap(),
            UpgradeBase::From {
                revision: rev(2, "deployed"),
                skipped: vec![]
            }
        );
    }

    #[test]
    fn failed_revisions_on_top_of_the_deployed_one_are_skipped() {
        let h = [
            rev(1, "superseded"),
            rev(2, "deployed"),
            rev(3, "failed"),
            rev(4, "failed"),
        ];
        assert_eq!(
            base(&h).unwrap(),
            UpgradeBase::From {
                revision: rev(2, "deployed"),
                skipped: vec![rev(3, "failed"), rev(4, "failed")]
            }
        );
    }

    #[test]
    fn a_failed_first_install_is_upgraded_from() {
        let h = [rev(1, "failed")];
        assert_eq!(
            base(&h).unwrap(),
            UpgradeBase::From {
                revision: rev(1, "failed"),
                skipped: vec![]
            }
        );
    }

    #[test]
    fn nothing_or_uninstalled_is_an_install() {
        assert_eq!(base(&[]).unwrap(), UpgradeBase::Install);
        assert_eq!(
            base(&[rev(1, "superseded"), rev(2, "uninstalled")]).unwrap(),
            UpgradeBase::Install
        );
    }

    #[test]
    fn a_pending_operation_is_refused_with_the_way_out() {
        let e = base(&[rev(1, "deployed"), rev(2, "pending-upgrade")])
            .unwrap_err()
            .render();
        assert!(e.contains("revision 2 is pending-upgrade"), "{e}");
        assert!(e.contains("helm k8s-service rollback shop"), "{e}");
    }

    #[test]
    fn the_command_line() {
        let env = HelmEnv {
            namespace: Some("prod".into()),
            kube_context: None,
        };
        let a: Vec<String> = history_args("shop", &env)
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            a,
            [
                "history",
                "shop",
                "-o",
                "json",
                "--max",
                "256",
                "--namespace",
                "prod"
            ]
        );
    }
}
