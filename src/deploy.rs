//! `install`, `upgrade` and `template`: generate the chart into a temporary directory and hand it
//! to helm, the only thing here that talks to a cluster.
//!
//! What helm gives a plugin is respected: `$HELM_BIN` is the helm to run, and the namespace,
//! kube context, kubeconfig and debug flags arrive as `HELM_*` variables (helm keeps `-n`,
//! `--kube-context`, `--kubeconfig` and `--debug` for itself). Helm's output streams through and
//! its exit code becomes ours.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::archive;
use crate::cli::{self, DeployArgs, PushArgs, TemplateArgs};
use crate::diag::{Error, printable};

/// The oldest helm the generated charts and these command lines are tested with.
const MIN_HELM: (u64, u64) = (3, 17);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Install,
    Upgrade { install: bool },
}

/// How a release is deployed, from the spec and the flags.
#[derive(Clone, Debug)]
pub struct Plan {
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
    fn flags(&self, out: &mut Vec<OsString>) {
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
    plan: &Plan,
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
    a.push(plan.release.clone().into());
    a.push(chart.as_os_str().to_owned());
    env.flags(&mut a);
    a.push("--timeout".into());
    a.push(format!("{}s", plan.timeout_seconds).into());
    // `helm install` has no --history-max or --cleanup-on-fail: a first release has no history.
    let upgrading = matches!(action, Action::Upgrade { .. });
    if upgrading {
        a.push("--history-max".into());
        a.push(plan.max_history.to_string().into());
    }
    let rollback = plan.rollback && plan.wait;
    match (major, rollback, plan.wait) {
        (3, true, _) => a.push("--atomic".into()),
        (_, true, _) => a.push("--rollback-on-failure".into()),
        _ => {}
    }
    if rollback && upgrading {
        a.push("--cleanup-on-fail".into());
    }
    if plan.wait {
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

/// `$HELM_BIN` (helm sets it for plugins; it may be a bare name or a relative path), else `helm`.
pub fn locate_helm() -> Result<PathBuf, Error> {
    let given = std::env::var_os("HELM_BIN").filter(|v| !v.is_empty());
    let name = given.clone().unwrap_or_else(|| OsString::from("helm"));
    let path = Path::new(&name);
    if path.components().count() > 1 {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(Error::msg(format!(
                "helm not found at {} (HELM_BIN)",
                path.display()
            )))
        };
    }
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(&name))
        .find(|candidate| is_executable(candidate));
    found.ok_or_else(|| {
        Error::msg(format!(
            "cannot find helm: `{}` is not on PATH{}. Install helm 3.17 or newer (https://helm.sh/docs/intro/install/), or set HELM_BIN",
            name.to_string_lossy(),
            if given.is_some() { " (from HELM_BIN)" } else { "" }
        ))
    })
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// `helm version`, asked once: the major version decides the flags.
pub fn helm_version(helm: &Path) -> Result<semver::Version, Error> {
    let out = Command::new(helm)
        .args(["version", "--template", "{{.Version}}"])
        .output()
        .map_err(|e| Error::msg(format!("cannot run {}: {e}", helm.display())))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let version = text
        .strip_prefix('v')
        .and_then(|v| semver::Version::parse(v).ok())
        .filter(|_| out.status.success())
        .ok_or_else(|| {
            Error::msg(format!(
                "{} does not look like helm: `helm version` printed `{}`",
                helm.display(),
                printable(&text)
            ))
        })?;
    if (version.major, version.minor) < MIN_HELM {
        return Err(Error::msg(format!(
            "helm {text} is too old: helm k8s-service needs helm {}.{} or newer",
            MIN_HELM.0, MIN_HELM.1
        )));
    }
    Ok(version)
}

/// Charts packaged into a temporary directory, which is removed when the returned guard drops.
fn temp_archives(
    charts: &[crate::chart::Chart],
) -> Result<(tempfile::TempDir, Vec<PathBuf>), Error> {
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

/// The one chart of the spec, packaged into a temporary directory (removed with the guard).
struct TempChart {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn temp_chart(
    spec: &cli::SpecArgs,
    chart_args: &cli::ChartArgs,
) -> Result<(TempChart, crate::chart::Chart, cli::Messages), Error> {
    let (mut charts, messages) = cli::build_charts(spec, Some(chart_args))?;
    if charts.len() != 1 {
        let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
        return Err(Error::msg(format!(
            "{} makes {} charts ({}); pick one with --module NAME",
            spec.spec.display(),
            charts.len(),
            names.join(", ")
        )));
    }
    let (dir, mut paths) = temp_archives(&charts)?;
    let path = paths.remove(0);
    Ok((TempChart { _dir: dir, path }, charts.remove(0), messages))
}

pub fn run(action: Action, a: &DeployArgs) -> Result<i32, Error> {
    check_release(&a.release)?;
    let helm = locate_helm()?;
    let version = helm_version(&helm)?;
    let (temp, chart, messages) = temp_chart(&a.spec, &a.chart)?;
    messages.print();
    let plan = Plan {
        release: a.release.clone(),
        timeout_seconds: chart.timeout_seconds,
        max_history: chart.max_history,
        rollback: !a.no_rollback,
        wait: !a.no_wait,
    };
    let args = deploy_args(
        version.major,
        action,
        &temp.path,
        &plan,
        &HelmEnv::from_env(),
        &a.helm_args,
    );
    run_helm(&helm, &args)
}

pub fn template(a: &TemplateArgs) -> Result<i32, Error> {
    check_release(&a.release)?;
    let helm = locate_helm()?;
    helm_version(&helm)?;
    let (temp, _, messages) = temp_chart(&a.spec, &a.chart)?;
    messages.print();
    let args = template_args(&a.release, &temp.path, &HelmEnv::from_env(), &a.helm_args);
    run_helm(&helm, &args)
}

/// `helm push` each chart of the spec to an OCI registry; stops at the first failure.
pub fn push(a: &PushArgs) -> Result<i32, Error> {
    if !a.remote.starts_with("oci://") || a.remote.len() <= "oci://".len() {
        return Err(Error::msg(format!(
            "`{}` is not a registry: give oci://REGISTRY/PATH",
            printable(&a.remote)
        )));
    }
    let helm = locate_helm()?;
    helm_version(&helm)?;
    let (charts, messages) = cli::build_charts(&a.spec, Some(&a.chart))?;
    messages.print();
    let (_dir, paths) = temp_archives(&charts)?;
    for path in paths {
        let mut args: Vec<OsString> = vec![
            "push".into(),
            path.into_os_string(),
            a.remote.clone().into(),
        ];
        args.extend(a.helm_args.iter().cloned());
        let code = run_helm(&helm, &args)?;
        if code != 0 {
            return Ok(code);
        }
    }
    Ok(0)
}

/// Run helm with our stdio and return its exit code. While it runs, Ctrl-C and SIGTERM go to
/// helm (same process group) and do not kill us, so the temporary chart is always removed.
fn run_helm(helm: &Path, args: &[OsString]) -> Result<i32, Error> {
    if std::env::var_os("HELM_DEBUG").is_some_and(|v| v == "true" || v == "1") {
        let line: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        eprintln!(
            "helm k8s-service: running {} {}",
            helm.display(),
            line.join(" ")
        );
    }
    let _guard = SignalGuard::install();
    let status = Command::new(helm)
        .args(
            args.iter()
                .map(OsString::as_os_str)
                .collect::<Vec<&OsStr>>(),
        )
        .status()
        .map_err(|e| Error::msg(format!("cannot run {}: {e}", helm.display())))?;
    Ok(exit_code(status))
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    1
}

/// Keeps SIGINT, SIGTERM and SIGHUP from terminating us while helm runs. The handlers only set
/// a flag; an exec'd child gets the default dispositions back, so helm itself still stops.
struct SignalGuard {
    #[cfg(unix)]
    ids: Vec<signal_hook::SigId>,
}

impl SignalGuard {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use std::sync::Arc;
            use std::sync::atomic::AtomicBool;
            let flag = Arc::new(AtomicBool::new(false));
            let ids = [
                signal_hook::consts::SIGINT,
                signal_hook::consts::SIGTERM,
                signal_hook::consts::SIGHUP,
            ]
            .iter()
            .filter_map(|s| signal_hook::flag::register(*s, Arc::clone(&flag)).ok())
            .collect();
            SignalGuard { ids }
        }
        #[cfg(not(unix))]
        SignalGuard {}
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
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
                &plan(),
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
                &plan(),
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
                &plan(),
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
                &plan(),
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
        let no_rollback = Plan {
            rollback: false,
            ..plan()
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
        let no_wait = Plan {
            wait: false,
            ..plan()
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
    fn release_names_follow_helm() {
        assert!(check_release("shop-prod").is_ok());
        assert!(check_release("a.b").is_ok());
        assert!(check_release("Shop").is_err());
        assert!(check_release(&"a".repeat(54)).is_err());
        assert!(check_release("-a").is_err());
    }
}
