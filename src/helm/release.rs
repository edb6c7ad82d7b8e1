//! A deployed release, read through helm (`get manifest`, `get values`, `get metadata`); a chart
//! rendered as an upgrade renders it (`template --is-upgrade`); and `rollback`'s command line.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use serde::Deserialize;

use super::command_line::{HelmEnv, template_args};
use super::process::{Captured, capture};
use crate::diag::{Error, printable};

/// `helm get manifest RELEASE [--revision N]`: the manifest of a revision (the latest without
/// one), hooks excluded.
pub fn get_manifest_args(release: &str, revision: Option<u64>, env: &HelmEnv) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec!["get".into(), "manifest".into(), release.into()];
    push_revision(&mut a, revision);
    with_env(a, env)
}

fn push_revision(a: &mut Vec<OsString>, revision: Option<u64>) {
    if let Some(r) = revision {
        a.extend(["--revision".into(), r.to_string().into()]);
    }
}

/// `helm get values RELEASE -o yaml`: the values the user gave (`all`: every value, the chart's
/// defaults included).
pub fn get_values_args(
    release: &str,
    revision: Option<u64>,
    env: &HelmEnv,
    all: bool,
) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec!["get".into(), "values".into(), release.into()];
    push_revision(&mut a, revision);
    if all {
        a.push("--all".into());
    }
    a.extend(["-o".into(), "yaml".into()]);
    with_env(a, env)
}

/// `helm get metadata RELEASE -o json`: the chart of the latest revision, with its annotations.
pub fn get_metadata_args(release: &str, env: &HelmEnv) -> Vec<OsString> {
    with_env(
        vec![
            "get".into(),
            "metadata".into(),
            release.into(),
            "-o".into(),
            "json".into(),
        ],
        env,
    )
}

/// `helm template RELEASE CHART --is-upgrade`, with the release's values file first (so the user's
/// flags, which come after it, override it) and the user's rendering flags.
pub fn render_args(
    release: &str,
    chart: &Path,
    env: &HelmEnv,
    values: Option<&Path>,
    user: &[OsString],
) -> Vec<OsString> {
    let mut a = template_args(release, chart, env, &[]);
    a.push("--is-upgrade".into());
    if let Some(v) = values {
        a.push("--values".into());
        a.push(v.as_os_str().to_owned());
    }
    a.extend(user.iter().cloned());
    a
}

/// How a release is rolled back.
#[derive(Clone, Debug)]
pub struct RollbackSettings {
    pub release: String,
    /// The revision to return to; helm's default (the previous one) when None.
    pub revision: Option<u64>,
    pub timeout_seconds: u32,
    pub max_history: u32,
    pub wait: bool,
}

/// `helm rollback RELEASE [REVISION]` keeping `max_history` revisions (helm's own default is
/// 10). Waiting is `--wait` on Helm 3 and `--wait=watcher` on Helm 4 (whose bare default,
/// `hookOnly`, does not wait for the pods), as for install and upgrade.
pub fn rollback_args(
    major: u64,
    s: &RollbackSettings,
    env: &HelmEnv,
    user: &[OsString],
) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec!["rollback".into(), s.release.clone().into()];
    if let Some(r) = s.revision {
        a.push(r.to_string().into());
    }
    env.flags(&mut a);
    a.extend([
        "--timeout".into(),
        format!("{}s", s.timeout_seconds).into(),
        "--history-max".into(),
        s.max_history.to_string().into(),
    ]);
    if s.wait {
        a.push(
            if major == 3 {
                "--wait"
            } else {
                "--wait=watcher"
            }
            .into(),
        );
        a.push("--cleanup-on-fail".into());
    }
    a.extend(user.iter().cloned());
    a
}

fn with_env(mut a: Vec<OsString>, env: &HelmEnv) -> Vec<OsString> {
    env.flags(&mut a);
    a
}

/// The manifest of the release, or None when helm says it does not exist (a first install).
pub fn get_manifest(
    helm: &Path,
    release: &str,
    revision: Option<u64>,
    env: &HelmEnv,
) -> Result<Option<String>, Error> {
    let args = get_manifest_args(release, revision, env);
    let out = capture(helm, &args)?;
    if out.code != 0 && out.stderr.contains("release: not found") {
        return Ok(None);
    }
    checked(&args, out).map(Some)
}

/// The release's values as YAML, or None when it has none.
pub fn get_values(
    helm: &Path,
    release: &str,
    revision: Option<u64>,
    env: &HelmEnv,
    all: bool,
) -> Result<Option<String>, Error> {
    let args = get_values_args(release, revision, env, all);
    let text = checked(&args, capture(helm, &args)?)?;
    Ok(match text.trim() {
        "" | "null" | "{}" => None,
        _ => Some(text),
    })
}

/// What `helm get metadata -o json` says about the release (the fields we use).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReleaseMetadata {
    #[serde(default)]
    pub chart: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub revision: u64,
    /// The chart's Chart.yaml annotations (Helm 3.17 and 4 print them).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

pub fn get_metadata(helm: &Path, release: &str, env: &HelmEnv) -> Result<ReleaseMetadata, Error> {
    let args = get_metadata_args(release, env);
    let text = checked(&args, capture(helm, &args)?)?;
    serde_json::from_str(&text).map_err(|e| {
        Error::msg(format!(
            "`helm get metadata {}` printed something that is not the JSON expected: {e}",
            printable(release)
        ))
    })
}

/// `helm template`'s output, or helm's error.
pub fn render(helm: &Path, args: &[OsString]) -> Result<String, Error> {
    checked(args, capture(helm, args)?)
}

/// stdout when helm succeeded; otherwise an error naming the command and quoting what helm said
/// (its first lines: one screen).
pub(super) fn checked(args: &[OsString], out: Captured) -> Result<String, Error> {
    if out.code == 0 {
        return Ok(out.stdout);
    }
    let words: Vec<String> = args
        .iter()
        .take(3)
        .take_while(|a| !a.to_string_lossy().starts_with('-'))
        .map(|a| printable(&a.to_string_lossy()))
        .collect();
    let said: Vec<String> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(12)
        .map(|l| format!("  {}", printable(l)))
        .collect();
    Err(Error::msg(format!(
        "`helm {}` failed (exit {}){}{}",
        words.join(" "),
        out.code,
        if said.is_empty() { "" } else { ":\n" },
        said.join("\n")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<OsString>) -> Vec<String> {
        v.into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    fn env() -> HelmEnv {
        HelmEnv {
            namespace: Some("prod".into()),
            kube_context: Some("east".into()),
        }
    }

    #[test]
    fn reading_a_release() {
        let ns = ["--namespace", "prod", "--kube-context", "east"];
        assert_eq!(
            strs(get_manifest_args("shop", None, &env())),
            [&["get", "manifest", "shop"][..], &ns].concat()
        );
        assert_eq!(
            strs(get_manifest_args("shop", Some(3), &HelmEnv::default())),
            ["get", "manifest", "shop", "--revision", "3"]
        );
        assert_eq!(
            strs(get_values_args("shop", None, &env(), false)),
            [&["get", "values", "shop", "-o", "yaml"][..], &ns].concat()
        );
        assert_eq!(
            strs(get_values_args("shop", Some(3), &HelmEnv::default(), true)),
            [
                "get",
                "values",
                "shop",
                "--revision",
                "3",
                "--all",
                "-o",
                "yaml"
            ]
        );
        assert_eq!(
            strs(get_metadata_args("shop", &HelmEnv::default())),
            ["get", "metadata", "shop", "-o", "json"]
        );
        assert_eq!(
            strs(render_args(
                "shop",
                Path::new("c.tgz"),
                &HelmEnv::default(),
                Some(Path::new("old.yaml")),
                &["--set".into(), "a=b".into()]
            )),
            [
                "template",
                "shop",
                "c.tgz",
                "--is-upgrade",
                "--values",
                "old.yaml",
                "--set",
                "a=b"
            ]
        );
    }

    #[test]
    fn rollback_keeps_the_history_on_helm_3_and_4() {
        let s = RollbackSettings {
            release: "shop".into(),
            revision: Some(3),
            timeout_seconds: 600,
            max_history: 15,
            wait: true,
        };
        let tail = ["--timeout", "600s", "--history-max", "15"];
        assert_eq!(
            strs(rollback_args(3, &s, &env(), &["--no-hooks".into()])),
            [
                &[
                    "rollback",
                    "shop",
                    "3",
                    "--namespace",
                    "prod",
                    "--kube-context",
                    "east"
                ][..],
                &tail,
                &["--wait", "--cleanup-on-fail", "--no-hooks"]
            ]
            .concat()
        );
        assert_eq!(
            strs(rollback_args(4, &s, &HelmEnv::default(), &[])),
            [
                &["rollback", "shop", "3"][..],
                &tail,
                &["--wait=watcher", "--cleanup-on-fail"]
            ]
            .concat()
        );
        let previous = RollbackSettings {
            revision: None,
            wait: false,
            ..s
        };
        assert_eq!(
            strs(rollback_args(4, &previous, &HelmEnv::default(), &[])),
            [&["rollback", "shop"][..], &tail].concat()
        );
    }

    #[test]
    fn metadata_json_of_helm_3_17_and_4() {
        // The shape of `helm get metadata -o json` (helm's action.Metadata).
        let m: ReleaseMetadata = serde_json::from_str(
            r#"{"name":"shop","chart":"payments","version":"0.1.0","appVersion":"2.7.1",
            "annotations":{"helm-k8s-service/max-history":"15"},"namespace":"prod",
            "revision":4,"status":"deployed","deployedAt":"2026-12-01T10:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(m.revision, 4);
        assert_eq!(m.annotations["helm-k8s-service/max-history"], "15");
        let bare: ReleaseMetadata = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
        assert!(bare.annotations.is_empty());
    }
}
