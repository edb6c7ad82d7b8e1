//! Authoring help: `init` (a starter spec that is valid, teaches the main fields and points
//! editors at the schema) and `validate --output json` (a stable report for machines).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn init(dir: &Path, args: &[&str]) -> Output {
    run(Command::new(bin()).current_dir(dir).arg("init").args(args))
}

fn validate_json(args: &[&str]) -> (Output, serde_json::Value) {
    let o = run(Command::new(bin())
        .current_dir(root())
        .args(["validate", "--output", "json"])
        .args(args));
    let json = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
            text(&o.stdout),
            text(&o.stderr)
        )
    });
    (o, json)
}

/// The keys of a JSON object, sorted.
fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// Package the spec and `helm lint --strict` the archive with Helm 3 and Helm 4.
fn package_and_lint(spec: &Path, chart: &str) {
    let out = tempfile::tempdir().unwrap();
    let o = run(Command::new(bin())
        .arg("package")
        .arg(spec)
        .arg("-d")
        .arg(out.path()));
    assert!(o.status.success(), "package: {}", text(&o.stderr));
    let archive = out.path().join(format!("{chart}-0.1.0.tgz"));
    assert!(archive.is_file(), "{}", text(&o.stdout));
    for (name, helm) in helms() {
        let o = run(Command::new(helm).args(["lint", "--strict"]).arg(&archive));
        assert!(
            o.status.success(),
            "{name} lint --strict {chart}:\n{}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
}

#[test]
fn init_writes_a_valid_commented_starter_that_packages_and_lints() {
    let tmp = tempfile::tempdir().unwrap();
    // The default name comes from the directory, made a valid chart name.
    let dir = tmp.path().join("Shop_API");
    std::fs::create_dir(&dir).unwrap();
    let o = init(&dir, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "k8s-service.yaml\n");
    assert_eq!(text(&o.stderr), "", "a starter gives no warning");
    let spec = dir.join("k8s-service.yaml");
    let starter = std::fs::read_to_string(&spec).unwrap();

    // The modeline comes first and names this version's schema file.
    let first = starter.lines().next().unwrap();
    let url = first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("no modeline: {first}"));
    assert!(url.starts_with("https://"), "{url}");
    assert!(
        url.ends_with(&format!("/v{VERSION}/schema/k8s-service-spec.schema.json")),
        "{url}"
    );
    // The comments teach the main fields and point to the reference for the rest.
    for field in [
        "name:",
        "image:",
        "tag:",
        "port:",
        "ports:",
        "healthcheck_path:",
        "min_containers:",
        "max_containers:",
        "autoscaling_target_cpu_percentage:",
        "resource_request:",
        "resource_limits:",
        "public_uri:",
        "gateway:",
        "env_vars:",
        "secrets:",
    ] {
        assert!(
            starter
                .lines()
                .any(|l| l.trim_start_matches("# ").starts_with(field)),
            "the starter does not show `{field}`:\n{starter}"
        );
    }
    assert!(starter.contains(&format!("/blob/v{VERSION}/README.md#fields")));
    assert!(starter.contains("helm k8s-service schema"));
    assert!(starter.contains("name: shop-api\n"), "{starter}");
    assert!(
        starter
            .lines()
            .all(|l| l.len() <= 100 || l.starts_with("# yaml-language-server"))
    );

    let o = run(Command::new(bin()).arg("validate").arg(&spec));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "");
    package_and_lint(&spec, "shop-api");
}

#[test]
fn init_flags_prefill_the_starter_and_a_worker_has_no_port() {
    let tmp = tempfile::tempdir().unwrap();
    let digest = format!("sha256:{}", "ab".repeat(32));
    let image = format!("registry.example.com:5000/team/orders:2.3.1@{digest}");
    let o = init(
        tmp.path(),
        &[
            "orders.yaml",
            "--name",
            "orders",
            "--image",
            &image,
            "--port",
            "9000",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let spec = tmp.path().join("orders.yaml");
    let starter = std::fs::read_to_string(&spec).unwrap();
    for line in [
        "name: orders\n",
        "image: registry.example.com:5000/team/orders\n",
        "tag: \"2.3.1\"\n",
        &format!("digest: \"{digest}\"\n"),
        "port:\n  http: 9000\n",
    ] {
        assert!(starter.contains(line), "no {line:?} in:\n{starter}");
    }
    package_and_lint(&spec, "orders");
    let chart = tempfile::tempdir().unwrap();
    let o = run(Command::new(bin())
        .arg("generate")
        .arg(&spec)
        .arg("-o")
        .arg(chart.path()));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let values = std::fs::read_to_string(chart.path().join("orders/values.yaml")).unwrap();
    assert!(values.contains("9000"), "{values}");
    assert!(values.contains(&digest), "{values}");

    // A worker: no port, and an image without a tag is written as given (with the warning
    // `validate` would print).
    let o = init(
        tmp.path(),
        &[
            "jobs/worker.yaml",
            "--no-port",
            "--image",
            "ghcr.io/acme/worker",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("no tag or digest"),
        "{}",
        text(&o.stderr)
    );
    let spec = tmp.path().join("jobs/worker.yaml");
    let starter = std::fs::read_to_string(&spec).unwrap();
    assert!(starter.contains("name: jobs\n"), "{starter}");
    assert!(
        !starter.lines().any(|l| l.starts_with("port:")),
        "{starter}"
    );
    assert!(starter.contains("# tag: "), "{starter}");
    package_and_lint(&spec, "jobs");

    // Printed, not written.
    let o = init(tmp.path(), &["-", "--name", "printed"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).starts_with("# yaml-language-server: $schema="));
    assert!(text(&o.stdout).contains("name: printed\n"));
    assert!(!tmp.path().join("-").exists());
}

#[test]
fn init_never_replaces_a_file_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("k8s-service.yaml");
    std::fs::write(&spec, "name: mine\n").unwrap();
    // Given the directory, init writes k8s-service.yaml inside it: which exists.
    for args in [&[][..], &["."][..], &["k8s-service.yaml"][..]] {
        let o = init(tmp.path(), args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = text(&o.stderr);
        assert!(
            err.starts_with("error: ") && err.contains("already exists") && err.contains("--force"),
            "{err}"
        );
        assert_eq!(text(&o.stdout), "");
        assert_eq!(std::fs::read_to_string(&spec).unwrap(), "name: mine\n");
    }
    // A symlink counts as existing, and is replaced (not written through) only with --force.
    let target = tmp.path().join("elsewhere.yaml");
    std::fs::write(&target, "keep me\n").unwrap();
    let link = tmp.path().join("link.yaml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert_eq!(init(tmp.path(), &["link.yaml"]).status.code(), Some(1));
    let o = init(tmp.path(), &["link.yaml", "--force", "--name", "linked"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
    assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());

    let o = init(tmp.path(), &["--force", "--name", "forced"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        std::fs::read_to_string(&spec)
            .unwrap()
            .contains("name: forced\n")
    );
    // No temporary is left behind.
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["elsewhere.yaml", "k8s-service.yaml", "link.yaml"]);
}

#[test]
fn init_refuses_flags_that_would_make_an_invalid_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--name", "Not_A_Name"], "--name `Not_A_Name`"),
        (&["--name", "x", "--image", "Bad Image"], "--image"),
        (&["--name", "x", "--image", "a/b:bad tag!"], "--image"),
        (&["--name", "x", "--port", "0"], "--port"),
        (&["--name", "x", "--port", "70000"], "--port"),
        (
            &["--name", "x", "--port", "80", "--no-port"],
            "cannot be used with",
        ),
        (
            &["--name", "x", "--schema-url", "my schema.json"],
            "--schema-url",
        ),
    ];
    for (args, want) in cases {
        let o = init(tmp.path(), args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(err.starts_with("error"), "{args:?}: {err}");
        // Only the flag that is wrong is blamed.
        if *want == "--name `Not_A_Name`" {
            assert!(!err.contains("--image"), "{err}");
        }
        assert_eq!(text(&o.stdout), "");
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "{args:?}"
        );
    }
}

#[test]
fn init_points_the_modeline_where_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "https://schemas.example.com/k8s-service/v1.json";
    let o = init(tmp.path(), &["a.yaml", "--name", "a", "--schema-url", url]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let a = std::fs::read_to_string(tmp.path().join("a.yaml")).unwrap();
    assert!(a.starts_with(&format!("# yaml-language-server: $schema={url}\n")));

    // A local path is relative to the spec; one that is not there gets a warning that says how
    // to write it, and then is there.
    let o = init(
        tmp.path(),
        &[
            "svc/b.yaml",
            "--name",
            "b",
            "--schema-url",
            "../spec.schema.json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("warning: the schema ../spec.schema.json does not exist")
            && err.contains("helm k8s-service schema >"),
        "{err}"
    );
    let o = run(Command::new(bin()).arg("schema"));
    std::fs::write(tmp.path().join("spec.schema.json"), &o.stdout).unwrap();
    let o = init(
        tmp.path(),
        &[
            "svc/c.yaml",
            "--name",
            "c",
            "--schema-url",
            "../spec.schema.json",
        ],
    );
    assert!(o.status.success());
    assert_eq!(text(&o.stderr), "");
}

#[test]
fn validate_json_reports_every_file_with_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model_error = dir.path().join("minmax.yaml");
    std::fs::write(
        &model_error,
        "name: bad\nimage: x\nmin_containers: 9\nmax_containers: 2\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.yaml");
    let (o, json) = validate_json(&[
        "examples/full.yaml",
        "tests/bad-specs/001-bad-indentation.yaml",
        model_error.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(text(&o.stderr), "", "JSON mode says everything on stdout");
    assert_eq!(json["version"], 1);
    assert_eq!(json["valid"], false);
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 4);

    let good = &files[0];
    assert_eq!(good["file"], "examples/full.yaml");
    assert_eq!(good["valid"], true);
    assert_eq!(good["charts"], serde_json::json!(["payments"]));
    assert_eq!(good["errors"], serde_json::json!([]));

    // A YAML error: line and column, no field.
    let parse = &files[1];
    assert_eq!(parse["valid"], false);
    assert_eq!(parse["charts"], serde_json::json!([]));
    let e = &parse["errors"][0];
    assert_eq!(e["file"], "tests/bad-specs/001-bad-indentation.yaml");
    assert_eq!(e["line"], 7);
    assert!(e["column"].is_u64());
    assert!(e["field"].is_null());
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("did not find expected key")
    );

    // A model error: line, column and field, with every key present.
    let model = &files[2];
    let e = &model["errors"][0];
    assert_eq!(model["valid"], false);
    assert_eq!(e["line"], 3);
    assert_eq!(e["column"], 17);
    assert_eq!(e["field"], "min_containers");
    assert_eq!(
        keys(e),
        ["column", "field", "file", "help", "line", "message"],
        "{e}"
    );

    // An I/O error: the file, a message, and nulls.
    let io = &files[3];
    assert_eq!(io["valid"], false);
    let e = &io["errors"][0];
    assert_eq!(e["file"], missing.to_str().unwrap());
    assert!(e["line"].is_null() && e["column"].is_null() && e["field"].is_null());
    assert!(
        e["message"].as_str().unwrap().contains("cannot open"),
        "{e}"
    );

    // Every file report has the same keys, valid or not.
    for f in files {
        assert_eq!(
            keys(f),
            ["charts", "errors", "file", "notes", "valid", "warnings"],
            "{f}"
        );
    }
}

#[test]
fn validate_json_carries_notes_and_warnings_by_chart_and_exits_0_when_valid() {
    let (o, json) = validate_json(&[
        "examples/opta-service.yaml",
        "--var",
        "parent.domain=shop.example.com",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "");
    assert_eq!(json["valid"], true);
    let f = &json["files"][0];
    assert_eq!(f["charts"], serde_json::json!(["shop-web", "shop-api"]));
    assert!(f["notes"].as_array().unwrap().iter().any(|n| {
        n["message"]
            .as_str()
            .unwrap()
            .contains("not a k8s-service module")
    }));
    let warnings = f["warnings"].as_array().unwrap();
    // web's `image: AUTO` (what to pass at install), bucket link and cloud-only fields, then api's
    // autoscaler floor of one pod (Opta's default min_containers: 1), each under its own chart.
    let by_chart = |chart: &str| -> Vec<&str> {
        warnings
            .iter()
            .filter(|w| w["chart"] == chart)
            .map(|w| w["message"].as_str().unwrap())
            .collect()
    };
    let web = by_chart("shop-web");
    assert!(
        web.len() == 3
            && web[0].starts_with("`image: AUTO` leaves the image repository to install time")
            && web
                .iter()
                .any(|m| m.starts_with("links: `uploads` (aws-s3)"))
            && web.iter().any(|m| m.contains("Opta's cloud provisioning")),
        "{warnings:?}"
    );
    let api = by_chart("shop-api");
    assert!(
        api.len() == 1 && api[0].starts_with("min_containers is 1 (max_containers 3)"),
        "{warnings:?}"
    );
    assert_eq!(web.len() + api.len(), warnings.len(), "{warnings:?}");

    // A directory stands for its *.yaml and *.yml specs, sorted; text mode stays as it was.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("examples/hello.yaml"), dir.path().join("b.yml")).unwrap();
    std::fs::copy(root().join("examples/full.yaml"), dir.path().join("a.yaml")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a spec").unwrap();
    let (o, json) = validate_json(&[dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{json}");
    let names: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            dir.path().join("a.yaml").to_str().unwrap(),
            dir.path().join("b.yml").to_str().unwrap()
        ]
    );
    let o = run(Command::new(bin())
        .current_dir(root())
        .args(["validate", "examples/hello.yaml"]));
    assert!(o.status.success());
    assert_eq!(text(&o.stdout), "examples/hello.yaml: hello is valid\n");
}

#[test]
fn validate_text_reports_the_problems_of_every_file_and_prints_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "name: bad\nimage: x\nmin_containers: 9\nmax_containers: 2\n",
    )
    .unwrap();
    let o = run(Command::new(bin())
        .current_dir(root())
        .args(["validate", "examples/hello.yaml"])
        .arg(&bad)
        .arg(dir.path().join("missing.yaml")));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(text(&o.stdout), "");
    let err = text(&o.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("bad.yaml:3:17"), "{err}");
    assert!(err.contains("missing.yaml: cannot open"), "{err}");
}
