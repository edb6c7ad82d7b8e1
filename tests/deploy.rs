//! `install`, `upgrade` and `template`: the helm command lines built for Helm 3 and Helm 4
//! (checked with a recording stand-in for `$HELM_BIN`), and real runs with the real helm binaries.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A stand-in helm: answers `version`, says no release exists to `get`/`history`, records every other
/// call's arguments one per line, keeps a copy of the chart it was given, and exits with
/// `$FAKE_EXIT`.
fn fake_helm(dir: &Path) -> PathBuf {
    let path = dir.join("fakehelm");
    std::fs::write(
        &path,
        r#"#!/bin/sh
if [ "$1" = version ]; then printf '%s' "${FAKE_VERSION:-v3.17.3}"; exit 0; fi
# No release yet, so `upgrade` has no plan to check (tests/plan.rs covers the plan).
if [ "$1" = get ] || [ "$1" = history ]; then echo 'Error: release: not found' >&2; exit 1; fi
: > "$FAKE_LOG"
for a in "$@"; do
  printf '%s\n' "$a" >> "$FAKE_LOG"
  case "$a" in *.tgz) cp "$a" "$FAKE_LOG.chart.tgz"; printf '%s\n' "$a" > "$FAKE_LOG.chart-path";; esac
done
printf '%s\n' "${HELM_NAMESPACE:-}" > "$FAKE_LOG.env-namespace"
[ -n "${FAKE_SLEEP:-}" ] && { : > "$FAKE_LOG.started"; exec sleep "$FAKE_SLEEP"; }
exit "${FAKE_EXIT:-0}"
"#,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

struct Recorded {
    code: Option<i32>,
    args: Vec<String>,
    stderr: String,
    log: PathBuf,
}

fn record(version: &str, args: &[&str], env: &[(&str, &str)]) -> Recorded {
    let dir = tempfile::tempdir().unwrap();
    let helm = fake_helm(dir.path());
    let log = dir.path().join("calls");
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(root())
        .env("HELM_BIN", &helm)
        .env("FAKE_VERSION", version)
        .env("FAKE_LOG", &log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = run(&mut cmd);
    let args = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    // Keep the directory alive for the caller's checks of the kept files.
    let kept = dir.keep();
    Recorded {
        code: o.status.code(),
        args,
        stderr: text(&o.stderr),
        log: kept.join("calls"),
    }
}

/// The recorded arguments with the temporary chart path replaced by `CHART`.
fn normalized(r: &Recorded) -> Vec<String> {
    let chart = std::fs::read_to_string(r.log.with_extension("chart-path")).unwrap_or_default();
    r.args
        .iter()
        .map(|a| {
            if a == chart.trim() {
                "CHART".into()
            } else {
                a.clone()
            }
        })
        .collect()
}

#[test]
fn command_lines_for_helm_3_and_helm_4() {
    let env = [("HELM_NAMESPACE", "prod"), ("HELM_KUBECONTEXT", "east")];
    let upgrade = [
        "upgrade",
        "payments",
        "examples/full.yaml",
        "--install",
        "--",
        "--set",
        "image.tag=2.8.0",
        "--create-namespace",
    ];
    let r3 = record("v3.17.3", &upgrade, &env);
    assert_eq!(r3.code, Some(0), "{}", r3.stderr);
    // The spec's timeout (600) and max_history (15) become helm's flags.
    assert_eq!(
        normalized(&r3),
        [
            "upgrade",
            "--install",
            "payments",
            "CHART",
            "--namespace",
            "prod",
            "--kube-context",
            "east",
            "--timeout",
            "600s",
            "--history-max",
            "15",
            "--atomic",
            "--cleanup-on-fail",
            "--wait",
            "--set",
            "image.tag=2.8.0",
            "--create-namespace"
        ]
    );
    let r4 = record("v4.1.4", &upgrade, &env);
    assert_eq!(
        normalized(&r4),
        [
            "upgrade",
            "--install",
            "payments",
            "CHART",
            "--namespace",
            "prod",
            "--kube-context",
            "east",
            "--timeout",
            "600s",
            "--history-max",
            "15",
            "--rollback-on-failure",
            "--cleanup-on-fail",
            "--wait=watcher",
            "--set",
            "image.tag=2.8.0",
            "--create-namespace"
        ]
    );
    let i3 = record("v3.17.3", &["install", "hello", "examples/hello.yaml"], &[]);
    assert_eq!(
        normalized(&i3),
        [
            "install",
            "hello",
            "CHART",
            "--timeout",
            "300s",
            "--atomic",
            "--wait"
        ]
    );
    let i4 = record(
        "v4.1.4",
        &["install", "hello", "examples/hello.yaml", "--no-rollback"],
        &[],
    );
    assert_eq!(
        normalized(&i4),
        [
            "install",
            "hello",
            "CHART",
            "--timeout",
            "300s",
            "--wait=watcher"
        ]
    );
    let t = record(
        "v4.1.4",
        &[
            "template",
            "hello",
            "examples/hello.yaml",
            "--",
            "--kube-version",
            "1.30.0",
        ],
        &[("HELM_NAMESPACE", "ci")],
    );
    assert_eq!(
        normalized(&t),
        [
            "template",
            "hello",
            "CHART",
            "--namespace",
            "ci",
            "--kube-version",
            "1.30.0"
        ]
    );
    // The child sees helm's environment too.
    assert_eq!(
        std::fs::read_to_string(t.log.with_extension("env-namespace"))
            .unwrap()
            .trim(),
        "ci"
    );
}

#[test]
fn the_chart_helm_gets_is_the_packaged_chart_and_its_directory_is_removed() {
    let r = record(
        "v4.1.4",
        &["install", "payments", "examples/full.yaml"],
        &[],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let chart_path = std::fs::read_to_string(r.log.with_extension("chart-path")).unwrap();
    let chart_path = Path::new(chart_path.trim());
    assert!(
        chart_path.file_name().unwrap() == "payments-0.1.0.tgz",
        "{}",
        chart_path.display()
    );
    assert!(
        !chart_path.parent().unwrap().exists(),
        "the temporary chart directory was left behind"
    );
    let dest = tempfile::tempdir().unwrap();
    let o = run(Command::new(bin())
        .current_dir(root())
        .args(["package", "examples/full.yaml", "-d"])
        .arg(dest.path()));
    assert!(o.status.success());
    assert_eq!(
        std::fs::read(r.log.with_extension("chart.tgz")).unwrap(),
        std::fs::read(dest.path().join("payments-0.1.0.tgz")).unwrap()
    );
}

#[test]
fn helms_exit_code_is_ours() {
    let r = record(
        "v3.17.3",
        &["upgrade", "hello", "examples/hello.yaml"],
        &[("FAKE_EXIT", "3")],
    );
    assert_eq!(r.code, Some(3));
}

#[test]
fn helm_bin_may_be_a_bare_name_on_path() {
    let dir = tempfile::tempdir().unwrap();
    fake_helm(dir.path());
    let log = dir.path().join("calls");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = run(Command::new(bin())
        .current_dir(root())
        .args(["template", "hello", "examples/hello.yaml"])
        .env("HELM_BIN", "fakehelm")
        .env("PATH", path)
        .env("FAKE_LOG", &log));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .starts_with("template\n")
    );
}

#[test]
fn missing_or_old_helm_and_bad_arguments_are_explained() {
    let o = run(Command::new(bin())
        .current_dir(root())
        .args(["install", "hello", "examples/hello.yaml"])
        .env("HELM_BIN", "no-such-helm-anywhere"));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("cannot find helm"),
        "{}",
        text(&o.stderr)
    );

    let old = record("v3.12.0", &["install", "hello", "examples/hello.yaml"], &[]);
    assert_eq!(old.code, Some(1));
    assert!(
        old.stderr.contains("too old") && old.stderr.contains("3.17"),
        "{}",
        old.stderr
    );
    assert!(old.args.is_empty(), "helm must not be run");

    let bad = record(
        "v4.1.4",
        &["install", "Hello_World", "examples/hello.yaml"],
        &[],
    );
    assert_eq!(bad.code, Some(1));
    assert!(bad.stderr.contains("release name"), "{}", bad.stderr);

    let many = record(
        "v4.1.4",
        &[
            "install",
            "shop",
            "examples/opta-service.yaml",
            "--var",
            "parent.domain=x.example.com",
        ],
        &[],
    );
    assert_eq!(many.code, Some(1));
    assert!(many.stderr.contains("--module"), "{}", many.stderr);
    let one = record(
        "v4.1.4",
        &[
            "install",
            "shop",
            "examples/opta-service.yaml",
            "--var",
            "parent.domain=x.example.com",
            "--module",
            "api",
        ],
        &[],
    );
    assert_eq!(one.code, Some(0), "{}", one.stderr);
}

#[cfg(unix)]
#[test]
fn a_signal_stops_helm_and_still_removes_the_temporary_chart() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let helm = fake_helm(dir.path());
    let log = dir.path().join("calls");
    let mut child = Command::new(bin())
        .current_dir(root())
        .args(["upgrade", "hello", "examples/hello.yaml"])
        .env("HELM_BIN", &helm)
        .env("FAKE_LOG", &log)
        .env("FAKE_SLEEP", "30")
        .process_group(0)
        .spawn()
        .unwrap();
    let started = log.with_extension("started");
    for _ in 0..200 {
        if started.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(started.exists(), "helm was never started");
    // Like Ctrl-C or a CI job being cancelled: the whole process group gets the signal. (SIGTERM,
    // because background jobs, as tests often are, inherit an ignored SIGINT.)
    let pgid = child.id();
    assert!(
        Command::new("kill")
            .args(["-s", "TERM", "--", &format!("-{pgid}")])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(128 + 15),
        "helm's death by SIGTERM is reported: {status:?}"
    );
    let chart = std::fs::read_to_string(log.with_extension("chart-path")).unwrap();
    assert!(
        !Path::new(chart.trim()).parent().unwrap().exists(),
        "temporary chart left behind"
    );
}

#[test]
fn real_helm_template_on_both_versions_and_dry_run_install_on_helm_4() {
    for (name, helm) in helms() {
        let o = run(Command::new(bin())
            .current_dir(root())
            .args([
                "template",
                "shop",
                "examples/full.yaml",
                "--",
                "--set",
                "autoscaling.maxReplicas=9",
            ])
            .env("HELM_BIN", &helm)
            .env("HELM_NAMESPACE", "payments"));
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text(&o.stdout)).unwrap();
        let hpa = docs
            .iter()
            .find(|d| d["kind"] == "HorizontalPodAutoscaler")
            .unwrap();
        assert_eq!(hpa["spec"]["maxReplicas"], 9, "{name}");
        assert!(
            docs.iter()
                .filter(|d| !d.is_null())
                .all(|d| d["metadata"]["namespace"] == "payments"),
            "{name}"
        );
    }
    let (_, helm4) = &helms()[1];
    let o = run(Command::new(bin())
        .current_dir(root())
        .args([
            "install",
            "shop",
            "examples/full.yaml",
            "--",
            "--dry-run=client",
        ])
        .env("HELM_BIN", helm4));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("STATUS: pending-install") && out.contains("kind: Deployment"),
        "{out}"
    );
}

#[test]
fn helms_values_flags_are_accepted_without_dashes_and_come_before_the_rest() {
    let user = [
        "-f",
        "a.yaml",
        "--set",
        "x=1",
        "--values=b.yaml",
        "--set-string",
        "s=01",
        "--set-json",
        "j={}",
        "--set-file",
        "f=ca.pem",
        "--version",
        "1.2.3",
        "--",
        "--set",
        "x=2",
        "--create-namespace",
    ];
    let tail = [
        "--values",
        "a.yaml",
        "--values",
        "b.yaml",
        "--set-json",
        "j={}",
        "--set",
        "x=1",
        "--set-string",
        "s=01",
        "--set-file",
        "f=ca.pem",
        "--set",
        "x=2",
        "--create-namespace",
    ];
    for command in ["install", "upgrade", "template"] {
        let mut args = vec![command, "web", "examples/hello.yaml"];
        args.extend(user);
        let r = record("v3.17.3", &args, &[]);
        assert_eq!(r.code, Some(0), "{command}: {}", r.stderr);
        let got = normalized(&r);
        assert_eq!(got[0], command);
        assert_eq!(got[got.len() - tail.len()..], tail, "{command}: {got:?}");
        // --version is the chart's version, not a flag for helm.
        assert!(
            !got.contains(&"--version".to_string()),
            "{command}: {got:?}"
        );
    }
}
