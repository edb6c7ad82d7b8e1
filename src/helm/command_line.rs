//! helm's command lines for install, upgrade, template and push, by helm major version, and
//! helm's rule for release names.

use std::ffi::OsString;
use std::path::Path;

use crate::diag::{Error, printable};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Install,
    Upgrade { install: bool },
}

/// How a release is deployed (timeout, history, rollback and wait), from the spec and the flags.
#[derive(Clone, Debug)]
pub struct DeploySettings {
    pub release: String,
    pub timeout_seconds: u32,
    pub max_history: u32,
    pub rollback: bool,
    pub wait: bool,
}

/// What helm handed us through the environment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HelmEnv {
    pub namespace: Option<String>,
    pub kube_context: Option<String>,
}

impl HelmEnv {
    pub fn from_env() -> Self {
        let non_empty = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        HelmEnv {
            namespace: non_empty("HELM_NAMESPACE"),
            kube_context: non_empty("HELM_KUBECONTEXT"),
        }
    }

    /// `--namespace` and `--kube-context` as helm was given them. The child inherits every
    /// `HELM_*` and `KUBECONFIG` variable too; the flags make the command line say it.
    pub(super) fn flags(&self, out: &mut Vec<OsString>) {
        if let Some(ns) = &self.namespace {
            out.extend(["--namespace".into(), ns.into()]);
        }
        if let Some(ctx) = &self.kube_context {
            out.extend(["--kube-context".into(), ctx.into()]);
        }
    }
}

/// The helm command line for an install or upgrade, by helm major version.
/// Helm 3: `--atomic` (which waits) and `--cleanup-on-fail`; Helm 4 renamed `--atomic` to
/// `--rollback-on-failure` and made `--wait` take a strategy: `watcher` is what rollback uses.
pub fn deploy_args(
    major: u64,
    action: Action,
    chart: &Path,
    settings: &DeploySettings,
    env: &HelmEnv,
    user: &[OsString],
) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    match action {
        Action::Install => a.push("install".into()),
        Action::Upgrade { install } => {
            a.push("upgrade".into());
            if install {
                a.push("--install".into());
            }
        }
    }
    a.push(settings.release.clone().into());
    a.push(chart.as_os_str().to_owned());
    env.flags(&mut a);
    a.push("--timeout".into());
    a.push(format!("{}s", settings.timeout_seconds).into());
    // `helm install` has no --history-max or --cleanup-on-fail: a first release has no history.
    let upgrading = matches!(action, Action::Upgrade { .. });
    if upgrading {
        a.push("--history-max".into());
        a.push(settings.max_history.to_string().into());
    }
    let rollback = settings.rollback && settings.wait;
    match (major, rollback, settings.wait) {
        (3, true, _) => a.push("--atomic".into()),
        (_, true, _) => a.push("--rollback-on-failure".into()),
        _ => {}
    }
    if rollback && upgrading {
        a.push("--cleanup-on-fail".into());
    }
    if settings.wait {
        a.push(
            if major == 3 {
                "--wait"
            } else {
                "--wait=watcher"
            }
            .into(),
        );
    }
    a.extend(user.iter().cloned());
    a
}

pub fn template_args(
    release: &str,
    chart: &Path,
    env: &HelmEnv,
    user: &[OsString],
) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec![
        "template".into(),
        release.into(),
        chart.as_os_str().to_owned(),
    ];
    env.flags(&mut a);
    a.extend(user.iter().cloned());
    a
}

/// helm's values flags given to `install`, `upgrade`, `template` or `plan` before `--`, each kind
/// in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValueFlags {
    /// -f / --values
    pub values: Vec<OsString>,
    pub set: Vec<OsString>,
    pub set_string: Vec<OsString>,
    pub set_json: Vec<OsString>,
    pub set_file: Vec<OsString>,
}

/// The user's helm flags: the values flags given before `--`, then everything after `--`.
/// helm merges values by kind, not by position on the line (every -f in order, then --set-json,
/// --set, --set-string, --set-file, --set-literal: `pkg/cli/values` `MergeValues`, Helm 3 and
/// 4), so each kind keeps its own order, and within a kind the flags after `--`, last on the
/// line, come last here too: they win, as they would typed straight to helm.
pub fn user_args(v: &ValueFlags, after_dashes: &[OsString]) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    for (flag, given) in [
        ("--values", &v.values),
        ("--set-json", &v.set_json),
        ("--set", &v.set),
        ("--set-string", &v.set_string),
        ("--set-file", &v.set_file),
    ] {
        for value in given {
            a.push(flag.into());
            a.push(value.clone());
        }
    }
    a.extend(after_dashes.iter().cloned());
    a
}

/// `helm push CHART REMOTE`, then the user's flags.
pub fn push_args(chart: &Path, remote: &str, user: &[OsString]) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec!["push".into(), chart.as_os_str().to_owned(), remote.into()];
    a.extend(user.iter().cloned());
    a
}

/// Release names as helm requires them: DNS-1123 subdomain, at most 53 characters.
pub fn check_release(name: &str) -> Result<(), Error> {
    let label_ok = |l: &str| crate::model::rules::dns_label(l, 63).is_ok();
    if name.len() > 53 || !name.split('.').all(label_ok) {
        return Err(Error::msg(format!(
            "release name `{}` is invalid: it must be at most 53 characters of lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
            printable(name)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> DeploySettings {
        DeploySettings {
            release: "shop".into(),
            timeout_seconds: 300,
            max_history: 25,
            rollback: true,
            wait: true,
        }
    }

    fn strs(v: Vec<OsString>) -> Vec<String> {
        v.into_iter().map(|s| s.into_string().unwrap()).collect()
    }

    #[test]
    fn helm3_and_helm4_command_lines() {
        let env = HelmEnv {
            namespace: Some("prod".into()),
            kube_context: Some("east".into()),
        };
        let chart = Path::new("/tmp/x/web-0.1.0.tgz");
        let user = vec![OsString::from("--set"), OsString::from("a=b")];
        assert_eq!(
            strs(deploy_args(
                3,
                Action::Upgrade { install: true },
                chart,
                &settings(),
                &env,
                &user
            )),
            [
                "upgrade",
                "--install",
                "shop",
                "/tmp/x/web-0.1.0.tgz",
                "--namespace",
                "prod",
                "--kube-context",
                "east",
                "--timeout",
                "300s",
                "--history-max",
                "25",
                "--atomic",
                "--cleanup-on-fail",
                "--wait",
                "--set",
                "a=b"
            ]
        );
        assert_eq!(
            strs(deploy_args(
                4,
                Action::Upgrade { install: false },
                chart,
                &settings(),
                &env,
                &user
            )),
            [
                "upgrade",
                "shop",
                "/tmp/x/web-0.1.0.tgz",
                "--namespace",
                "prod",
                "--kube-context",
                "east",
                "--timeout",
                "300s",
                "--history-max",
                "25",
                "--rollback-on-failure",
                "--cleanup-on-fail",
                "--wait=watcher",
                "--set",
                "a=b"
            ]
        );
        assert_eq!(
            strs(deploy_args(
                3,
                Action::Install,
                chart,
                &settings(),
                &HelmEnv::default(),
                &[]
            )),
            [
                "install",
                "shop",
                "/tmp/x/web-0.1.0.tgz",
                "--timeout",
                "300s",
                "--atomic",
                "--wait"
            ]
        );
        assert_eq!(
            strs(deploy_args(
                4,
                Action::Install,
                chart,
                &settings(),
                &HelmEnv::default(),
                &[]
            )),
            [
                "install",
                "shop",
                "/tmp/x/web-0.1.0.tgz",
                "--timeout",
                "300s",
                "--rollback-on-failure",
                "--wait=watcher"
            ]
        );
    }

    #[test]
    fn rollback_and_wait_can_be_turned_off() {
        let chart = Path::new("c.tgz");
        let no_rollback = DeploySettings {
            rollback: false,
            ..settings()
        };
        assert_eq!(
            strs(deploy_args(
                4,
                Action::Upgrade { install: false },
                chart,
                &no_rollback,
                &HelmEnv::default(),
                &[]
            )),
            [
                "upgrade",
                "shop",
                "c.tgz",
                "--timeout",
                "300s",
                "--history-max",
                "25",
                "--wait=watcher"
            ]
        );
        let no_wait = DeploySettings {
            wait: false,
            ..settings()
        };
        assert_eq!(
            strs(deploy_args(
                3,
                Action::Upgrade { install: false },
                chart,
                &no_wait,
                &HelmEnv::default(),
                &[]
            )),
            [
                "upgrade",
                "shop",
                "c.tgz",
                "--timeout",
                "300s",
                "--history-max",
                "25"
            ]
        );
    }

    #[test]
    fn values_flags_come_before_the_flags_after_dashes_each_kind_in_order() {
        let v = ValueFlags {
            values: vec!["a.yaml".into(), "b.yaml".into()],
            set: vec!["x=1".into(), "y=2".into()],
            set_string: vec!["s=01".into()],
            set_json: vec!["j={}".into()],
            set_file: vec!["f=ca.pem".into()],
        };
        let after = vec![OsString::from("--set"), OsString::from("x=3")];
        let user = user_args(&v, &after);
        assert_eq!(
            strs(user.clone()),
            [
                "--values",
                "a.yaml",
                "--values",
                "b.yaml",
                "--set-json",
                "j={}",
                "--set",
                "x=1",
                "--set",
                "y=2",
                "--set-string",
                "s=01",
                "--set-file",
                "f=ca.pem",
                "--set",
                "x=3"
            ]
        );
        // After helm's own flags on every command line, so helm reads them as it would.
        let install = deploy_args(
            3,
            Action::Install,
            Path::new("/t/web"),
            &settings(),
            &HelmEnv::default(),
            &user,
        );
        assert_eq!(
            strs(install[install.len() - user.len()..].to_vec()),
            strs(user.clone())
        );
        let template = template_args("web", Path::new("/t/web"), &HelmEnv::default(), &user);
        assert_eq!(strs(template[3..].to_vec()), strs(user));
        // None given: exactly the flags after `--`.
        assert_eq!(user_args(&ValueFlags::default(), &after), after);
    }

    #[test]
    fn push_gives_the_archive_then_the_registry() {
        let user = vec![OsString::from("--plain-http")];
        assert_eq!(
            strs(push_args(Path::new("/t/web-0.1.0.tgz"), "oci://r/c", &user)),
            ["push", "/t/web-0.1.0.tgz", "oci://r/c", "--plain-http"]
        );
    }

    #[test]
    fn release_names_follow_helm() {
        assert!(check_release("shop-prod").is_ok());
        assert!(check_release("a.b").is_ok());
        assert!(check_release("Shop").is_err());
        assert!(check_release(&"a".repeat(54)).is_err());
        assert!(check_release("-a").is_err());
    }
}
