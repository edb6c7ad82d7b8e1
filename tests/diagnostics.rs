//! What a user's Opta file is told (issue 14): messages that point the right way, every problem
//! of every file at once, credentials kept out of values.yaml, what Kubernetes accepts accepted.
//! The refusals themselves are in tests/bad-specs; these are the runs that succeed or span files.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn cmd(args: &[&std::ffi::OsStr]) -> std::process::Output {
    run(Command::new(bin()).args(args))
}

/// Generate the chart of `spec` and return its values.yaml and the command's stderr.
fn generate(spec: &Path, extra: &[&str]) -> (String, String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let mut c = Command::new(bin());
    c.arg("generate")
        .arg(spec)
        .arg("--output")
        .arg(out.path())
        .args(extra);
    let o = run(&mut c);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let chart = std::fs::read_dir(out.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let values = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    (values, text(&o.stderr), out)
}

const OPTA_DB: &str = "name: shop\nmodules:\n  - type: k8s-service\n    name: api\n    image: ghcr.io/acme/api\n    tag: v1\n    port: {http: 8000}\n    min_containers: 2\n    env_vars:\n      DB_HOST: \"${{module.pg.db_host}}\"\n      DB_PASSWORD: \"${{module.pg.db_password}}\"\n      GITHUB: \"{vars.github_token}\"\n";

#[test]
fn credential_placeholders_become_secret_keys_and_never_reach_values_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(dir.path(), "opta.yaml", OPTA_DB);
    let (values, stderr, out) = generate(
        &spec,
        &[
            "--var",
            "module.pg.db_host=db.internal",
            "--var",
            "module.pg.db_password=hunter2",
        ],
    );
    let v: serde_json::Value = serde_saphyr::from_str(&values).unwrap();
    assert_eq!(
        v["secretEnv"]["keys"],
        serde_json::json!(["DB_PASSWORD", "GITHUB"]),
        "{values}"
    );
    let env = serde_json::to_string(&v["env"]).unwrap();
    assert!(env.contains("db.internal"), "{env}");
    assert!(
        !env.contains("DB_PASSWORD") && !env.contains("GITHUB"),
        "{env}"
    );
    // The password given on the command line is nowhere in the chart.
    for f in walk(out.path()) {
        let body = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(
            !body.contains("hunter2"),
            "{} holds the password",
            f.display()
        );
    }
    assert!(
        stderr.contains("warning: env var DB_PASSWORD: `${{module.pg.db_password}}` looks like a credential, so the pods read it from the Secret `<release>-api-secrets` (key DB_PASSWORD)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "kubectl create secret generic <release>-api-secrets --from-file=DB_PASSWORD=PATH"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "(the value given with --var module.pg.db_password is not written into the chart)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: --var module.pg.db_password: the name looks like a credential"),
        "{stderr}"
    );
    assert!(!stderr.contains("--var module.pg.db_host:"), "{stderr}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn probe_paths_without_a_slash_are_what_the_kubelet_requests_and_auto_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "svc.yaml",
        "name: svc\nimage: AUTO\nport: {http: 8080}\nmin_containers: 2\nhealthcheck_path: \"ht/\"\nstartup_probe_path: started\n",
    );
    let (values, stderr, _out) = generate(&spec, &[]);
    let v: serde_json::Value = serde_saphyr::from_str(&values).unwrap();
    let text = serde_json::to_string(&v).unwrap();
    assert!(
        text.contains("\"/ht/\"") && text.contains("\"/started\""),
        "{values}"
    );
    assert!(!text.contains("\"ht/\""), "{values}");
    assert!(
        stderr.contains(
            "`healthcheck_path: ht/` does not start with '/'; the kubelet requests `/ht/`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("write `startup_probe_path: /started`"),
        "{stderr}"
    );
    assert!(stderr.contains("`image: AUTO` leaves the image repository to install time: install and upgrade with `--set image.repository=REGISTRY/IMAGE`"), "{stderr}");
    // validate says the same, as a warning of a valid file.
    let o = cmd(&[
        "validate".as_ref(),
        spec.as_os_str(),
        "-o".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o.stdout));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let warnings = serde_json::to_string(&report["files"][0]["warnings"]).unwrap();
    assert!(
        warnings.contains("image: AUTO") && warnings.contains("kubelet requests"),
        "{warnings}"
    );
}

#[test]
fn validate_refuses_the_chart_name_clash_package_refuses() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["a.yaml", "b.yaml"] {
        write(
            dir.path(),
            f,
            "name: app\nimage: nginx:1\nmin_containers: 2\n",
        );
    }
    let o = cmd(&["validate".as_ref(), dir.path().as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("b.yaml: "), "{err}");
    assert!(
        err.contains("a.yaml and ") && err.contains("b.yaml both make the chart `app`"),
        "{err}"
    );
    assert!(
        err.contains("= help: give one of them a distinct `name:`"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    let o = cmd(&[
        "validate".as_ref(),
        dir.path().as_os_str(),
        "-o".as_ref(),
        "json".as_ref(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["files"][0]["valid"], true);
    assert_eq!(report["files"][1]["valid"], false);
    let msg = report["files"][1]["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("both make the chart `app`"), "{msg}");
}

#[test]
fn the_cap_on_problems_says_how_many_more_and_in_which_files() {
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=3 {
        write(
            dir.path(),
            &format!("s{i}.yaml"),
            &format!(
                "name: s{i}\nimage: nginx:1\nmin_containers: 9\nmax_containers: 2\nimagee: x\nfoo: 1\n"
            ),
        );
    }
    let o = cmd(&["validate".as_ref(), dir.path().as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    let firsts: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(firsts.len(), 6, "{err}");
    // Each file's three problems, unknown fields first, every one naming its file.
    assert!(
        firsts[0].contains("s1.yaml:5:1: field `imagee`: unknown field `imagee`"),
        "{err}"
    );
    assert!(
        firsts[1].contains("s1.yaml:6:1: field `foo`: unknown field `foo`"),
        "{err}"
    );
    assert!(
        firsts[2].contains("s1.yaml:3:17: field `min_containers`"),
        "{err}"
    );
    let last = firsts[5];
    assert!(
        last.starts_with("error: … and 4 more problems (1 in "),
        "{last}"
    );
    assert!(
        last.contains("s2.yaml, 3 in ") && last.contains("s3.yaml); fix these first"),
        "{last}"
    );
}

#[test]
fn an_opta_file_with_several_environments_is_read_once_one_is_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "opta.yaml",
        "name: shop\nenvironments:\n  - name: staging\n    variables: {containers: 2}\n  - name: prod\n    variables: {containers: 4}\nmodules:\n  - type: k8s-service\n    name: api\n    image: nginx:1\n    min_containers: 2\n    max_containers: \"{vars.containers}\"\n",
    );
    let (values, _, _out) = generate(&spec, &["--var", "env=prod"]);
    let v: serde_json::Value = serde_saphyr::from_str(&values).unwrap();
    assert_eq!(v["autoscaling"]["maxReplicas"], 4, "{values}");
}
