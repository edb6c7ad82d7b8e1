//! The command line as users meet it: reproducible archives, the commands' outputs, Opta files.

mod common;

use std::process::Command;

use common::*;
use sha2::{Digest, Sha256};

fn package(
    spec: &str,
    dest: &std::path::Path,
    extra: &[&str],
    epoch: Option<&str>,
) -> std::process::Output {
    let mut cmd = Command::new(bin());
    cmd.arg("package")
        .arg(root().join("examples").join(spec))
        .arg("--destination")
        .arg(dest)
        .args(extra);
    if let Some(e) = epoch {
        cmd.env("SOURCE_DATE_EPOCH", e);
    }
    run(&mut cmd)
}

fn sha(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_same_spec_gives_the_same_bytes_whatever_the_clock_or_mtimes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    // A copy of the spec with a different mtime, packaged a second later from another directory.
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("full.yaml");
    std::fs::copy(root().join("examples/full.yaml"), &copy).unwrap();
    let o = package("full.yaml", a.path(), &[], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let f = std::fs::File::options().append(true).open(&copy).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
        .unwrap();
    let o = run(Command::new(bin())
        .current_dir(copy_dir.path())
        .args(["package", "full.yaml", "-d"])
        .arg(b.path()));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        sha(&a.path().join("payments-0.1.0.tgz")),
        sha(&b.path().join("payments-0.1.0.tgz"))
    );

    // SOURCE_DATE_EPOCH sets every entry's mtime, and is itself reproducible.
    let c = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    assert!(
        package("full.yaml", c.path(), &[], Some("1700000000"))
            .status
            .success()
    );
    assert!(
        package("full.yaml", d.path(), &[], Some("1700000000"))
            .status
            .success()
    );
    let (cp, dp) = (
        c.path().join("payments-0.1.0.tgz"),
        d.path().join("payments-0.1.0.tgz"),
    );
    assert_eq!(sha(&cp), sha(&dp));
    assert_ne!(sha(&cp), sha(&a.path().join("payments-0.1.0.tgz")));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&cp).unwrap(),
    ));
    for e in archive.entries().unwrap() {
        assert_eq!(e.unwrap().header().mtime().unwrap(), 1_700_000_000);
    }
}

#[test]
fn package_prints_each_archive_and_honours_version_flags() {
    let dir = tempfile::tempdir().unwrap();
    let o = package(
        "hello.yaml",
        dir.path(),
        &["--version", "1.2.3-rc.1+build.5", "--app-version", "2024.1"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let path = dir.path().join("hello-1.2.3-rc.1+build.5.tgz");
    assert_eq!(text(&o.stdout).trim(), path.display().to_string());
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&path).unwrap(),
    ));
    let mut chart_yaml = String::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_str() == Some("hello/Chart.yaml") {
            std::io::Read::read_to_string(&mut e, &mut chart_yaml).unwrap();
        }
    }
    assert!(
        chart_yaml.contains("version: 1.2.3-rc.1+build.5")
            || chart_yaml.contains("version: \"1.2.3-rc.1+build.5\""),
        "{chart_yaml}"
    );
    assert!(
        chart_yaml.contains("appVersion: \"2024.1\""),
        "appVersion must stay a quoted string:\n{chart_yaml}"
    );

    for bad in ["1.0", "v1.0.0", "01.2.3"] {
        let o = package("hello.yaml", dir.path(), &["--version", bad], None);
        assert_eq!(o.status.code(), Some(1), "--version {bad}");
        assert!(text(&o.stderr).contains("SemVer"), "{}", text(&o.stderr));
    }
}

#[test]
fn tag_and_digest_flags_override_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let digest = format!("sha256:{}", "b".repeat(64));
    let o = package(
        "hello.yaml",
        dir.path(),
        &["--tag", "9.9.9", "--digest", &digest],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = tempfile::tempdir().unwrap();
    let g = run(Command::new(bin())
        .arg("generate")
        .arg(root().join("examples/hello.yaml"))
        .args(["--tag", "9.9.9", "--digest", &digest, "-o"])
        .arg(out.path()));
    assert!(g.status.success(), "{}", text(&g.stderr));
    let values = std::fs::read_to_string(out.path().join("hello/values.yaml")).unwrap();
    assert!(
        values.contains("tag: 9.9.9") || values.contains("tag: \"9.9.9\""),
        "{values}"
    );
    assert!(values.contains(&digest));
    let chart = std::fs::read_to_string(out.path().join("hello/Chart.yaml")).unwrap();
    assert!(chart.contains("appVersion: \"9.9.9\""), "{chart}");
}

#[test]
fn generate_writes_the_same_files_as_the_archive_and_replaces_old_output() {
    let out = tempfile::tempdir().unwrap();
    let spec = root().join("examples/stateful.yaml");
    for _ in 0..2 {
        let o = run(Command::new(bin())
            .arg("generate")
            .arg(&spec)
            .arg("--output")
            .arg(out.path()));
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let chart = out.path().join("chat");
    for f in [
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        "README.md",
        "templates/statefulset.yaml",
        "templates/_helpers.tpl",
    ] {
        assert!(chart.join(f).is_file(), "missing {f}");
    }
    // Only the chart directory: no temporary or set-aside directories are left behind.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
    // A directory that is not a chart is never replaced.
    let foreign = tempfile::tempdir().unwrap();
    std::fs::create_dir(foreign.path().join("chat")).unwrap();
    std::fs::write(foreign.path().join("chat/notes.txt"), "mine").unwrap();
    let o = run(Command::new(bin())
        .arg("generate")
        .arg(&spec)
        .arg("-o")
        .arg(foreign.path()));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(foreign.path().join("chat/notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn opta_files_make_one_chart_per_service_module_and_module_picks_one() {
    let dir = tempfile::tempdir().unwrap();
    let o = package(
        "opta-service.yaml",
        dir.path(),
        &["--var", "parent.domain=shop.example.com"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("module `db` (type aws-postgres) is not a k8s-service module; ignored"),
        "{err}"
    );
    // A database link is read from a Secret; a bucket link only warns.
    assert!(
        err.contains("warning: shop-web: links: `uploads` (aws-s3): Opta gave the pods' cloud identity read on this bucket"),
        "{err}"
    );
    assert!(
        !err.lines()
            .any(|l| l.starts_with("warning:") && (l.contains("`db`") || l.contains("`cache`"))),
        "{err}"
    );
    assert!(err.contains("`additional_iam_policies`"), "{err}");
    // Charts are named after the file (`name: shop`) and, with several, the module.
    assert!(
        err.contains(
            "note: module `web` makes the chart `shop-web`, after the file's name and the module's"
        ),
        "{err}"
    );
    assert_eq!(text(&o.stdout).lines().count(), 2);
    assert!(dir.path().join("shop-web-0.1.0.tgz").is_file());
    assert!(dir.path().join("shop-api-0.1.0.tgz").is_file());

    let only = tempfile::tempdir().unwrap();
    let o = package(
        "opta-service.yaml",
        only.path(),
        &["--var", "parent.domain=x.example.com", "--module", "api"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(only.path().join("shop-api-0.1.0.tgz").is_file());
    assert!(!only.path().join("shop-web-0.1.0.tgz").exists());

    // --name names one chart: with --module, or refused naming the modules.
    let named = tempfile::tempdir().unwrap();
    let o = package(
        "opta-service.yaml",
        named.path(),
        &[
            "--var",
            "parent.domain=x.example.com",
            "--module",
            "api",
            "--name",
            "api",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(named.path().join("api-0.1.0.tgz").is_file());
    let o = package(
        "opta-service.yaml",
        named.path(),
        &["--var", "parent.domain=x.example.com", "--name", "api"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("--name names one chart") && text(&o.stderr).contains("--module"),
        "{}",
        text(&o.stderr)
    );

    let o = package(
        "opta-service.yaml",
        only.path(),
        &["--var", "parent.domain=x.example.com", "--module", "nope"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("web, api"), "{}", text(&o.stderr));

    // Without the flag the placeholder is refused, naming it and the flag.
    let o = package("opta-service.yaml", only.path(), &[], None);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("{parent.domain}") && err.contains("--var parent.domain=VALUE"),
        "{err}"
    );
    assert!(err.contains("opta-service.yaml:"), "{err}");
}

#[test]
fn validate_writes_nothing_and_schema_prints_json_schema() {
    let o = run(Command::new(bin())
        .arg("validate")
        .arg(root().join("examples/full.yaml")));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("payments"));
    let o = run(Command::new(bin()).arg("schema"));
    assert!(o.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let o = run(Command::new(bin()).args(["package"]));
    assert_eq!(o.status.code(), Some(1));
    let o = run(Command::new(bin()).args(["bogus"]));
    assert_eq!(o.status.code(), Some(1));
    let o = run(Command::new(bin()).args(["--help"]));
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("package"));
}

#[test]
fn many_specs_in_one_invocation_and_a_bad_one_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let specs = tempfile::tempdir().unwrap();
    for name in ["hello", "stateful", "worker-cron"] {
        std::fs::copy(
            root().join(format!("examples/{name}.yaml")),
            specs.path().join(format!("{name}.yaml")),
        )
        .unwrap();
    }
    let o = run(Command::new(bin())
        .arg("package")
        .arg(specs.path())
        .arg(root().join("examples/full.yaml"))
        .arg("-d")
        .arg(dir.path()));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).lines().count(), 4);
    for chart in ["hello", "chat", "nightly", "payments"] {
        assert!(
            dir.path().join(format!("{chart}-0.1.0.tgz")).is_file(),
            "{chart}"
        );
    }
    // One bad spec among good ones: its error is reported and nothing at all is written.
    std::fs::write(
        specs.path().join("zz-bad.yaml"),
        "name: bad\nimage: x\nmin_containers: 9\nmax_containers: 2\n",
    )
    .unwrap();
    let empty = tempfile::tempdir().unwrap();
    let o = run(Command::new(bin())
        .arg("package")
        .arg(specs.path())
        .arg("-d")
        .arg(empty.path()));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("zz-bad.yaml:3:17"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

/// Runs `args` with stdout a pipe whose reader is already gone (`... | head -c0`).
fn closed_stdout(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = Command::new(bin())
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_ends_every_printing_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let spec = root().join("examples/hello.yaml");
    let dest = dir.path().join("charts");
    let generated = dir.path().join("generated");
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    let cases: Vec<Vec<&std::ffi::OsStr>> = vec![
        vec![os("schema")],
        vec![os("__completion-yaml")],
        vec![os("validate"), spec.as_os_str()],
        vec![os("validate"), os("-o"), os("json"), spec.as_os_str()],
        vec![os("package"), spec.as_os_str(), os("-d"), dest.as_os_str()],
        vec![
            os("generate"),
            spec.as_os_str(),
            os("-o"),
            generated.as_os_str(),
        ],
        vec![os("init"), os("-")],
    ];
    for args in cases {
        let o = closed_stdout(&args);
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panick"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
    // What the command was for is done before it prints.
    assert!(dest.join("hello-0.1.0.tgz").is_file());
}

/// A stderr whose reader is gone (`2>&-` under a supervisor, `2>&1 | head -c0`): warnings and
/// errors cannot be shown, but the command still ends with its own status, never a panic (101).
#[test]
fn a_closed_stderr_keeps_the_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "name: x\nimage: nginx\nport: {http: 70000}\n").unwrap();
    // min_containers 1 below max_containers warns on stderr: a success that writes to stderr.
    let warns = dir.path().join("warns.yaml");
    std::fs::write(
        &warns,
        "name: warns\nimage: nginx:1.27\nport: {http: 8080}\nmin_containers: 1\nmax_containers: 3\n",
    )
    .unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Command::new(bin())
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(writer)
            .status()
            .unwrap()
    };
    let os = std::ffi::OsStr::new;
    assert_eq!(run(&[os("validate"), bad.as_os_str()]).code(), Some(1));
    assert_eq!(run(&[os("nonsense-command")]).code(), Some(1));
    let dest = dir.path().join("charts");
    let status = run(&[os("package"), warns.as_os_str(), os("-d"), dest.as_os_str()]);
    assert_eq!(status.code(), Some(0));
    assert!(dest.join("warns-0.1.0.tgz").is_file());
}

#[test]
fn two_specs_making_one_chart_name_both_files_and_the_fix() {
    let specs = tempfile::tempdir().unwrap();
    for f in ["one.yaml", "two.yaml"] {
        std::fs::write(specs.path().join(f), "name: app\nimage: nginx\n").unwrap();
    }
    let dest = tempfile::tempdir().unwrap();
    let o = run(Command::new(bin())
        .arg("package")
        .arg(specs.path())
        .arg("-d")
        .arg(dest.path()));
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("one.yaml and "), "{err}");
    assert!(err.contains("two.yaml both make the chart `app`"), "{err}");
    assert!(err.contains("distinct `name:`"), "{err}");
    assert!(!err.contains("panick"), "{err}");
    assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0);
    // generate builds the same way, and says the same.
    let o = run(Command::new(bin())
        .arg("generate")
        .arg(specs.path())
        .arg("-o")
        .arg(dest.path()));
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("two.yaml both make the chart `app`"), "{err}");
    assert!(err.contains("generate --output"), "{err}");
    assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0);
}

#[test]
fn package_does_not_silently_replace_an_archive_another_spec_made() {
    let specs = tempfile::tempdir().unwrap();
    let one = specs.path().join("one.yaml");
    let two = specs.path().join("two.yaml");
    std::fs::write(&one, "name: app\nimage: nginx\n").unwrap();
    std::fs::write(&two, "name: app\nimage: httpd\n").unwrap();
    let dest = tempfile::tempdir().unwrap();
    let archive = dest.path().join("app-0.1.0.tgz");
    let pkg = |spec: &std::path::Path, extra: &[&str]| {
        run(Command::new(bin())
            .arg("package")
            .arg(spec)
            .arg("-d")
            .arg(dest.path())
            .args(extra))
    };
    let o = pkg(&one, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let first = sha(&archive);
    // The same spec, changed: replaced as always.
    std::fs::write(&one, "name: app\nimage: nginx\ntag: \"1.27\"\n").unwrap();
    let o = pkg(&one, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let second = sha(&archive);
    assert_ne!(first, second);
    // Another spec making the same chart: refused, naming both and the ways out.
    let o = pkg(&two, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("was made from the spec one.yaml, not two.yaml"),
        "{err}"
    );
    for fix in ["--destination", "distinct `name:`", "--force"] {
        assert!(err.contains(fix), "{fix}: {err}");
    }
    assert_eq!(sha(&archive), second);
    // --force replaces it on purpose.
    let o = pkg(&two, &["--force"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_ne!(sha(&archive), second);
}

#[test]
fn install_help_says_only_upgrades_clean_up_on_failure() {
    let o = run(Command::new(bin()).args(["install", "--help"]));
    assert!(o.status.success());
    let help = text(&o.stdout);
    assert!(help.contains("(Helm 3: --atomic, Helm 4:"), "{help}");
    assert!(help.contains("upgrades also --cleanup-on-fail"), "{help}");
}

/// Real Opta service files name their one k8s-service module `app` more often than not: two such
/// files make two charts named after the files, never two `app` charts.
#[test]
fn two_opta_files_with_an_app_module_make_charts_named_after_the_files() {
    let dir = tempfile::tempdir().unwrap();
    for svc in ["payments", "orders"] {
        std::fs::write(
            dir.path().join(format!("{svc}.yaml")),
            format!(
                "name: {svc}\nenvironments:\n  - name: prod\n    path: ../env/prod.yaml\nmodules:\n  - type: k8s-service\n    name: app\n    image: ghcr.io/acme/{svc}\n    tag: \"1.0\"\n    port:\n      http: 8080\n"
            ),
        )
        .unwrap();
    }
    let out = dir.path().join("out");
    let o = run(Command::new(bin())
        .arg("package")
        .arg(dir.path().join("payments.yaml"))
        .arg(dir.path().join("orders.yaml"))
        .arg("-d")
        .arg(&out));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(out.join("payments-0.1.0.tgz").is_file());
    assert!(out.join("orders-0.1.0.tgz").is_file());
    assert!(
        text(&o.stderr).contains("module `app` makes the chart `payments`, after the file's name"),
        "{}",
        text(&o.stderr)
    );
    // --name still decides.
    let o = run(Command::new(bin())
        .arg("package")
        .arg(dir.path().join("orders.yaml"))
        .args(["--name", "app", "-d"])
        .arg(&out));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(out.join("app-0.1.0.tgz").is_file());
    // A chart name that Kubernetes refuses is refused at once, naming the flag.
    let o = run(Command::new(bin())
        .arg("package")
        .arg(dir.path().join("orders.yaml"))
        .args(["--name", "Orders_V2", "-d"])
        .arg(&out));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--name"), "{}", text(&o.stderr));
}
