//! GitOps engines (issue 16): the Argo CD Config Management Plugin render (`argocd generate`),
//! driven with exactly the environment Argo CD documents, against the plain `template` of the same
//! spec on Helm 3 and 4; its failure modes (stderr only, never an empty success); and the
//! gitops/ examples (Argo CD Application and ApplicationSet, Flux OCIRepository and HelmRelease)
//! against their CRD schemas, with the plugin file checked against the command it names.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bin, helms, models_validate, root, run, text};
use serde_json::Value;

/// An application's source directory: `k8s-service.yaml` copied from an example, plus files.
fn app(example: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("examples").join(example),
        d.path().join("k8s-service.yaml"),
    )
    .unwrap();
    for (name, content) in extra {
        std::fs::write(d.path().join(name), content).unwrap();
    }
    d
}

/// `argocd generate` as Argo CD runs it: in the source directory, with only the environment
/// given (plus PATH) and helm found as the sidecar finds it.
fn cmp(helm: &Path, dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin());
    c.args(["argocd", "generate"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HELM_BIN", helm);
    for (k, v) in env {
        c.env(k, v);
    }
    run(&mut c)
}

/// The plain `template` of the same spec with the flags the render should amount to.
fn template(helm: &Path, spec: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(bin());
    c.args(["template", "shop"])
        .arg(spec)
        .args(args)
        .env("HELM_BIN", helm);
    run(&mut c)
}

/// The objects of a rendered stream, each as (kind, name) and its JSON.
fn objects(stream: &[u8]) -> Vec<((String, String), Value)> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text(stream)).unwrap();
    docs.into_iter()
        .filter(|d| !d.is_null())
        .map(|d| {
            let key = (
                d["kind"].as_str().unwrap_or_default().to_string(),
                d["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
            (key, d)
        })
        .collect()
}

const ARGO_ENV: &[(&str, &str)] = &[
    ("ARGOCD_APP_NAME", "shop"),
    ("ARGOCD_APP_NAMESPACE", "payments"),
    ("ARGOCD_APP_PROJECT_NAME", "default"),
    (
        "ARGOCD_APP_REVISION",
        "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
    ),
    ("ARGOCD_APP_REVISION_SHORT", "0a1b2c3"),
    ("ARGOCD_APP_SOURCE_PATH", "apps/payments"),
    (
        "ARGOCD_APP_SOURCE_REPO_URL",
        "https://git.example.com/acme/services.git",
    ),
    ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main"),
    ("KUBE_VERSION", "1.35.0"),
    (
        "KUBE_API_VERSIONS",
        "v1,apps/v1,autoscaling/v2,batch/v1,networking.k8s.io/v1,policy/v1",
    ),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut env = ARGO_ENV.to_vec();
    env.extend_from_slice(extra);
    env
}

#[test]
fn the_render_is_the_plain_template_of_the_same_spec_on_helm_3_and_4() {
    let d = app("full.yaml", &[("prod.yaml", "podLabels:\n  stage: prod\n")]);
    let params = r#"[{"name":"values","map":{"autoscaling.maxReplicas":"7","podAnnotations.note":"a,b"}},{"name":"valueFiles","array":["prod.yaml"]},{"name":"tag","string":"2.8.0"}]"#;
    for (name, helm) in helms() {
        let o = cmp(&helm, d.path(), &with(&[("ARGOCD_APP_PARAMETERS", params)]));
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let plain = {
            let mut c = Command::new(bin());
            c.args(["template", "shop"])
                .arg(d.path().join("k8s-service.yaml"))
                .args(["--tag", "2.8.0", "-f"])
                .arg(d.path().join("prod.yaml"))
                .args([
                    "--set",
                    "autoscaling.maxReplicas=7",
                    "--set",
                    "podAnnotations.note=a\\,b",
                ])
                .args(["--", "--kube-version", "1.35.0"])
                .args(
                    [
                        "v1",
                        "apps/v1",
                        "autoscaling/v2",
                        "batch/v1",
                        "networking.k8s.io/v1",
                        "policy/v1",
                    ]
                    .iter()
                    .flat_map(|v| ["--api-versions", v]),
                )
                .env("HELM_BIN", &helm)
                .env("HELM_NAMESPACE", "payments");
            run(&mut c)
        };
        assert!(plain.status.success(), "{name}: {}", text(&plain.stderr));
        assert_eq!(
            text(&o.stdout),
            text(&plain.stdout),
            "{name}: byte for byte"
        );
        // Object by object: what each parameter asked for is there.
        let objs = objects(&o.stdout);
        let get = |kind: &str| {
            objs.iter()
                .find(|((k, _), _)| k == kind)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{name}: no {kind}"))
        };
        assert_eq!(get("HorizontalPodAutoscaler")["spec"]["maxReplicas"], 7);
        let pod = &get("Deployment")["spec"]["template"];
        assert_eq!(
            pod["metadata"]["labels"]["stage"], "prod",
            "{name}: valueFiles"
        );
        assert_eq!(
            pod["metadata"]["annotations"]["note"], "a,b",
            "{name}: a comma survives --set"
        );
        assert!(
            pod["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap()
                .contains(":2.8.0"),
            "{name}: tag"
        );
        assert!(
            objs.iter()
                .all(|(_, v)| v["metadata"]["namespace"].is_null()
                    || v["metadata"]["namespace"] == "payments"),
            "{name}: the destination namespace"
        );
        // Deterministic: the same commit and Application render the same bytes.
        let again = cmp(&helm, d.path(), &with(&[("ARGOCD_APP_PARAMETERS", params)]));
        assert_eq!(o.stdout, again.stdout, "{name}");
    }
}

#[test]
fn an_opta_file_takes_its_environment_from_the_plugin_env_and_its_module_from_a_parameter() {
    let d = app("opta-service.yaml", &[]);
    let (_, helm) = &helms()[1];
    let params = r#"[{"name":"module","string":"api"},{"name":"vars","map":{"parent.domain":"shop.example.com"}}]"#;
    let o = cmp(
        helm,
        d.path(),
        &with(&[
            ("ARGOCD_ENV_ENVIRONMENT", "staging"),
            ("ARGOCD_APP_PARAMETERS", params),
        ]),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let plain = template(
        helm,
        &d.path().join("k8s-service.yaml"),
        &[
            "--module",
            "api",
            "--var",
            "env=staging",
            "--var",
            "parent.domain=shop.example.com",
            "--",
            "--namespace",
            "payments",
            "--kube-version",
            "1.35.0",
            "--api-versions",
            "v1,apps/v1,autoscaling/v2,batch/v1,networking.k8s.io/v1,policy/v1",
        ],
    );
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    assert_eq!(text(&o.stdout), text(&plain.stdout));
    // Both modules without a module: one Application per module, said so.
    let o = cmp(
        helm,
        d.path(),
        &with(&[
            ("ARGOCD_ENV_ENVIRONMENT", "staging"),
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"vars","map":{"parent.domain":"x.com"}}]"#,
            ),
        ]),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("set the Application's `module` parameter"));
}

#[test]
fn the_clusters_version_reaches_the_charts_capability_checks() {
    // configured.yaml has native sidecars: Kubernetes 1.29 or later.
    let d = app("configured.yaml", &[]);
    for (name, helm) in helms() {
        let o = cmp(&helm, d.path(), &with(&[("KUBE_VERSION", "1.28.4")]));
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(o.stdout.is_empty(), "{name}: nothing on stdout");
        assert!(
            text(&o.stderr).contains("sidecars need Kubernetes 1.29 or later")
                && text(&o.stderr).contains("v1.28.4"),
            "{name}: {}",
            text(&o.stderr)
        );
        let o = cmp(&helm, d.path(), &with(&[("KUBE_VERSION", "1.33.0")]));
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
    }
}

/// Environment variables given to a command.
type Env = Vec<(&'static str, &'static str)>;

#[test]
fn every_failure_exits_1_with_stderr_only() {
    let d = app("hello.yaml", &[]);
    std::fs::write(d.path().join("broken.yaml"), "name: x\nimage: [\n").unwrap();
    let opta = app("opta-service.yaml", &[]);
    let (_, helm) = &helms()[0];
    let cases: Vec<(&Path, Env, &str)> = vec![
        (d.path(), vec![], "ARGOCD_APP_NAME is not set"),
        (
            d.path(),
            vec![("ARGOCD_APP_NAME", "Shop")],
            "cannot be a Helm release name",
        ),
        (
            d.path(),
            with(&[(
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"spec","string":"broken.yaml"}]"#,
            )]),
            "broken.yaml",
        ),
        (
            d.path(),
            with(&[(
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"replicas","string":"3"}]"#,
            )]),
            "unknown Argo CD parameter `replicas`",
        ),
        (
            d.path(),
            with(&[(
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"valueFiles","array":["/etc/passwd"]}]"#,
            )]),
            "inside the application's source directory",
        ),
        (
            d.path(),
            with(&[(
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"values","map":{"autoscaling.maxReplicas":"many"}}]"#,
            )]),
            "maxReplicas",
        ),
        (
            opta.path(),
            with(&[
                ("ARGOCD_ENV_ENVIRONMENT", "production"),
                (
                    "ARGOCD_APP_PARAMETERS",
                    r#"[{"name":"module","string":"api"},{"name":"vars","map":{"parent.domain":"x.com"}}]"#,
                ),
            ]),
            "names no environment of this file",
        ),
    ];
    for (dir, env, want) in cases {
        let o = cmp(helm, dir, &env);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{want}: {err}");
        assert!(o.stdout.is_empty(), "{want}: stdout must stay empty");
        assert!(err.contains(want), "want {want:?} in:\n{err}");
        assert!(err.lines().count() <= 24, "one screen: {err}");
    }
}

/// YAML documents of a file as JSON objects.
fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

fn validate(objects: &[Value]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("objects.json");
    std::fs::write(&file, serde_json::to_vec(objects).unwrap()).unwrap();
    models_validate("gitops").arg(&file).output().expect("node")
}

fn gitops(path: &str) -> PathBuf {
    root().join("gitops").join(path)
}

#[test]
fn the_example_objects_pass_their_crd_schemas_and_a_broken_one_does_not() {
    let mut all = Vec::new();
    for f in [
        "argocd/application.yaml",
        "argocd/applicationset.yaml",
        "flux/ocirepository.yaml",
        "flux/helmrelease.yaml",
    ] {
        all.extend(docs(&gitops(f)));
    }
    assert_eq!(all.len(), 4);
    let o = validate(&all);
    assert!(o.status.success(), "{}", text(&o.stdout));
    assert_eq!(
        text(&o.stdout).matches("PASS").count(),
        4,
        "{}",
        text(&o.stdout)
    );
    // The validator can fail: a layer operation Flux does not know, an Application without a
    // destination.
    let mut oci = docs(&gitops("flux/ocirepository.yaml")).remove(0);
    oci["spec"]["layerSelector"]["operation"] = "unpack".into();
    let mut application = docs(&gitops("argocd/application.yaml")).remove(0);
    application["spec"]
        .as_object_mut()
        .unwrap()
        .remove("destination");
    for broken in [oci, application] {
        let o = validate(&[broken]);
        assert!(!o.status.success(), "{}", text(&o.stdout));
    }
}

#[test]
fn the_plugin_file_names_this_command_and_the_applications_use_it() {
    let plugin = docs(&gitops("argocd/plugin.yaml")).remove(0);
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    let generate: Vec<&str> = plugin["spec"]["generate"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(generate, ["helm-k8s-service", "argocd", "generate"]);
    // The command exists and says what it reads.
    let o = run(Command::new(bin()).args(["argocd", "generate", "--help"]));
    assert!(text(&o.stdout).contains("ARGOCD_APP_PARAMETERS"));
    assert_eq!(plugin["spec"]["discover"]["fileName"], "./k8s-service.yaml");
    // Every announced parameter is one the command takes, and every one it takes is announced.
    let mut announced: Vec<String> = plugin["spec"]["parameters"]["static"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    announced.sort();
    let mut taken: Vec<String> = helm_k8s_service::argocd::params::NAMES
        .iter()
        .map(|s| s.to_string())
        .collect();
    taken.sort();
    assert_eq!(announced, taken);
    // Applications name the plugin as Argo CD requires: <name>-<version>.
    let name = format!(
        "{}-{}",
        plugin["metadata"]["name"].as_str().unwrap(),
        plugin["spec"]["version"].as_str().unwrap()
    );
    let application = docs(&gitops("argocd/application.yaml")).remove(0);
    assert_eq!(
        application["spec"]["source"]["plugin"]["name"],
        name.as_str()
    );
    let set = docs(&gitops("argocd/applicationset.yaml")).remove(0);
    assert_eq!(
        set["spec"]["template"]["spec"]["source"]["plugin"]["name"],
        name.as_str()
    );
    // The sidecar runs Argo CD's server as user 999 with its own /tmp.
    let patch = docs(&gitops("argocd/repo-server-patch.yaml")).remove(0);
    let c = &patch["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["command"][0], "/var/run/argocd/argocd-cmp-server");
    assert_eq!(c["securityContext"]["runAsUser"], 999);
    assert!(
        c["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mountPath"] == "/tmp" && m["name"] == "cmp-tmp")
    );
}

// ---------------------------------------------------------------------------------------------
// Artifact Hub

fn ours(args: &[&std::ffi::OsStr]) -> Output {
    run(Command::new(bin()).args(args))
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

fn chart_yaml(archive: &Path) -> Value {
    let o = Command::new("tar")
        .arg("-xzOf")
        .arg(archive)
        .arg("payments/Chart.yaml")
        .output()
        .unwrap();
    serde_saphyr::from_str(&text(&o.stdout)).unwrap()
}

#[test]
fn artifact_hub_annotations_list_images_license_links_and_changes() {
    let d = tempfile::tempdir().unwrap();
    let spec = root().join("examples/full.yaml");
    let old = d.path().join("old");
    let o = ours(&[os("package"), spec.as_os_str(), os("-d"), old.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // Version 0.2.0 with a new tag, its Artifact Hub metadata, and the changes since `since`.
    let release = |dest: &Path, since: &Path| {
        let o = ours(&[
            os("package"),
            spec.as_os_str(),
            os("-d"),
            dest.as_os_str(),
            os("--version"),
            os("0.2.0"),
            os("--tag"),
            os("2.8.0"),
            os("--license"),
            os("Apache-2.0"),
            os("--link"),
            os("source=https://github.com/acme/payments"),
            os("--changes-since"),
            since.as_os_str(),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    };
    let new = d.path().join("new");
    release(&new, &old.join("payments-0.1.0.tgz"));
    let archive = new.join("payments-0.2.0.tgz");
    let c = chart_yaml(&archive);
    let a = &c["annotations"];
    let list = |key: &str| -> Value { serde_saphyr::from_str(a[key].as_str().unwrap()).unwrap() };
    assert_eq!(
        list("artifacthub.io/images"),
        serde_json::json!([{"name": "payments", "image": "ghcr.io/acme/payments:2.8.0@sha256:4f3c9a0f8b1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbc"}])
    );
    assert_eq!(a["artifacthub.io/license"], "Apache-2.0");
    assert_eq!(
        list("artifacthub.io/links"),
        serde_json::json!([{"name": "source", "url": "https://github.com/acme/payments"}])
    );
    assert_eq!(
        list("artifacthub.io/changes"),
        serde_json::json!([{"kind": "changed", "description": "image.tag: 2.7.1 → 2.8.0"}])
    );
    // The old spec works as well as the old archive, and gives the same changes.
    let again = d.path().join("again");
    release(&again, &spec);
    assert_eq!(
        std::fs::read(again.join("payments-0.2.0.tgz")).unwrap(),
        std::fs::read(&archive).unwrap(),
        "byte for byte"
    );
    // Helm lints it strictly and shows the annotations.
    for (name, helm) in helms() {
        let o = run(Command::new(&helm)
            .arg("lint")
            .arg("--strict")
            .arg(&archive));
        assert!(o.status.success(), "{name}: {}", text(&o.stdout));
        let o = run(Command::new(&helm).arg("show").arg("chart").arg(&archive));
        assert!(text(&o.stdout).contains("artifacthub.io/changes"), "{name}");
    }
    // Bad metadata: exit 1, one line, nothing written.
    let bad = d.path().join("bad");
    for (flag, value, want) in [
        ("--license", "MIT\nx: y", "SPDX"),
        ("--link", "docs=ftp://x", "NAME=URL"),
        ("--changes-since", "missing.tgz", "missing.tgz"),
    ] {
        let o = ours(&[
            os("package"),
            spec.as_os_str(),
            os("-d"),
            bad.as_os_str(),
            os(flag),
            os(value),
        ]);
        assert_eq!(o.status.code(), Some(1), "{flag}");
        assert!(
            text(&o.stderr).contains(want),
            "{flag}: {}",
            text(&o.stderr)
        );
        assert!(
            !bad.join("payments-0.1.0.tgz").exists(),
            "{flag}: nothing written"
        );
    }
}

#[test]
fn repo_index_writes_artifacthub_repo_yml_when_asked() {
    let d = tempfile::tempdir().unwrap();
    let o = ours(&[
        os("package"),
        root().join("examples/full.yaml").as_os_str(),
        os("-d"),
        d.path().as_os_str(),
    ]);
    assert!(o.status.success());
    let o = ours(&[os("repo"), os("index"), d.path().as_os_str()]);
    assert!(o.status.success());
    assert!(
        !d.path().join("artifacthub-repo.yml").exists(),
        "only when asked"
    );
    let o = ours(&[
        os("repo"),
        os("index"),
        d.path().as_os_str(),
        os("--artifacthub-id"),
        os("9d3c7b0e-7a4f-4a4b-9a3b-2d1e6f0c8a11"),
        os("--artifacthub-owner"),
        os("platform=platform@example.com"),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let file: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(d.path().join("artifacthub-repo.yml")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        file,
        serde_json::json!({"repositoryID": "9d3c7b0e-7a4f-4a4b-9a3b-2d1e6f0c8a11",
                           "owners": [{"name": "platform", "email": "platform@example.com"}]})
    );
    let o = ours(&[
        os("repo"),
        os("index"),
        d.path().as_os_str(),
        os("--artifacthub-id"),
        os("x"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("not a UUID"));
}
