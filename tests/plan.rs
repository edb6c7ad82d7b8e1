//! `plan`, the check inside `upgrade`, and `rollback`: every class of change on renders by the
//! real Helm 3 and Helm 4 (offline, `--from`), and the release read through a recording helm
//! stand-in whose `get manifest` answers with what the real `helm template` made of the old spec.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::{Value, json};

/// Specs made from the examples, in a temporary directory.
struct Specs(tempfile::TempDir);

impl Specs {
    fn new() -> Self {
        Specs(tempfile::tempdir().unwrap())
    }

    /// `examples/NAME` with each (from, to) replaced (each must occur), and `extra` appended.
    fn make(&self, file: &str, example: &str, edits: &[(&str, &str)], extra: &str) -> PathBuf {
        let mut text = std::fs::read_to_string(root().join("examples").join(example)).unwrap();
        for (from, to) in edits {
            assert!(text.contains(from), "{example} has no `{from}`");
            text = text.replace(from, to);
        }
        text.push_str(extra);
        let path = self.0.path().join(file);
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

fn plugin(helm: &Path, args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(root()).env("HELM_BIN", helm);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

/// `plan shop NEW --from OLD -o json [extra]`: the exit code and the report.
fn offline(helm: &Path, old: &Path, new: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        os("plan"),
        os("shop"),
        new.as_os_str(),
        os("--from"),
        old.as_os_str(),
        os("-o"),
        os("json"),
    ];
    args.extend(extra.iter().map(os));
    let o = plugin(helm, &args, &[("HELM_NAMESPACE", "payments")]);
    let code = o.status.code().unwrap();
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", text(&o.stdout), text(&o.stderr)));
    (code, report)
}

/// The (verdict, rule, object) of every change.
fn changes(report: &Value) -> Vec<(String, String, String)> {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["verdict"].as_str().unwrap().to_string(),
                c["rule"].as_str().unwrap().to_string(),
                format!(
                    "{}/{}",
                    c["object"]["kind"].as_str().unwrap(),
                    c["object"]["name"].as_str().unwrap()
                ),
            )
        })
        .collect()
}

fn has(report: &Value, verdict: &str, rule: &str, object: &str) -> bool {
    changes(report).contains(&(verdict.into(), rule.into(), object.into()))
}

/// The first change by a rule.
fn change<'a>(report: &'a Value, rule: &str) -> &'a Value {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {report:#}"))
}

#[test]
fn every_class_of_change_from_specs_on_helm_3_and_4() {
    let s = Specs::new();
    let wider = s.make("wider.yaml", "hello.yaml", &[], "max_containers: 7\n");
    let with_cron = s.make(
        "cron.yaml",
        "hello.yaml",
        &[],
        "cron_jobs:\n  - name: cleanup\n    commands: [\"/app/cleanup\"]\n    schedule: \"0 4 * * *\"\n",
    );
    let bigger = s.make(
        "bigger.yaml",
        "stateful.yaml",
        &[("size: 20", "size: 30")],
        "",
    );
    let autoscaled = s.make(
        "autoscaled.yaml",
        "stateful.yaml",
        &[("max_containers: 3", "max_containers: 6")],
        "",
    );
    let stateless = s.make(
        "stateless.yaml",
        "stateful.yaml",
        &[(
            "persistent_storage:\n  - path: /var/lib/chat\n    size: 20\n  - path: /var/cache/chat\n    size: 5\n    storage_class: fast-ssd\n",
            "",
        )],
        "",
    );
    for (name, helm) in helms() {
        let hello = example("hello.yaml");
        let (code, r) = offline(&helm, &hello, &hello, &[]);
        assert_eq!(
            (code, r["verdict"].as_str()),
            (0, Some("none")),
            "{name}: {r:#}"
        );
        assert!(
            r["changes"].as_array().unwrap().is_empty() && r["unchanged"].as_u64() > Some(3),
            "{name}"
        );

        let (code, r) = offline(&helm, &hello, &wider, &[]);
        assert_eq!(code, 0, "{name}: {r:#}");
        assert_eq!(
            changes(&r),
            [(
                "in-place".into(),
                "in-place".into(),
                "HorizontalPodAutoscaler/shop-hello".into()
            )],
            "{name}"
        );
        assert!(
            change(&r, "in-place")["summary"]
                .as_str()
                .unwrap()
                .contains("spec.maxReplicas 3 → 7"),
            "{name}: {r:#}"
        );

        let (code, r) = offline(&helm, &hello, &with_cron, &[]);
        assert_eq!(code, 0, "{name}");
        assert!(
            has(&r, "added", "added", "CronJob/shop-hello-cleanup"),
            "{name}: {r:#}"
        );
        let (_, r) = offline(&helm, &with_cron, &hello, &[]);
        assert!(
            has(&r, "removed", "removed", "CronJob/shop-hello-cleanup"),
            "{name}: {r:#}"
        );

        let (code, r) = offline(&helm, &hello, &hello, &["--tag", "1.5.0"]);
        assert_eq!(
            (code, r["verdict"].as_str()),
            (2, Some("restart")),
            "{name}: {r:#}"
        );
        let restart = change(&r, "pod-template");
        assert_eq!(restart["object"]["kind"], "Deployment");
        assert!(
            restart["summary"]
                .as_str()
                .unwrap()
                .starts_with("container app: image"),
            "{name}: {restart:#}"
        );
        assert!(
            restart["fields"]
                .as_array()
                .unwrap()
                .contains(&json!("spec.template.spec.containers[app].image"))
        );

        let (code, r) = offline(&helm, &stateless, &example("stateful.yaml"), &[]);
        assert_eq!(
            (code, r["verdict"].as_str()),
            (3, Some("replaced")),
            "{name}: {r:#}"
        );
        let switch = change(&r, "kind-switch");
        assert_eq!(switch["previous"]["kind"], "Deployment");
        assert_eq!(switch["object"]["kind"], "StatefulSet");
        assert!(
            switch["reason"]
                .as_str()
                .unwrap()
                .contains("Service/shop-chat has no ready endpoint"),
            "{switch:#}"
        );
        assert!(has(&r, "added", "added", "Service/shop-chat-headless"));
        let (code, r) = offline(&helm, &example("stateful.yaml"), &stateless, &[]);
        assert_eq!(code, 3, "{name}");
        assert!(
            change(&r, "kind-switch")["way_forward"]
                .to_string()
                .contains("data-0-shop-chat-N"),
            "{r:#}"
        );

        // The chart keeps the count through the switch (autoscaling.manageReplicas, the
        // default): nothing is scaled down, the HPA is added.
        let (code, r) = offline(&helm, &example("stateful.yaml"), &autoscaled, &[]);
        assert!(
            code < 3,
            "{name}: fixed -> autoscaled keeps the count: {r:#}"
        );
        assert!(
            !has(
                &r,
                "scale-down",
                "replicas-dropped",
                "StatefulSet/shop-chat"
            ),
            "{name}: {r:#}"
        );
        assert!(has(
            &r,
            "added",
            "added",
            "HorizontalPodAutoscaler/shop-chat"
        ));
        // Without it, the manifest drops spec.replicas, and the plan says what that does.
        let (code, r) = offline(
            &helm,
            &example("stateful.yaml"),
            &autoscaled,
            &["--set", "autoscaling.manageReplicas=false"],
        );
        assert_eq!(
            (code, r["verdict"].as_str()),
            (3, Some("scale-down")),
            "{name}: {r:#}"
        );
        assert!(has(
            &r,
            "scale-down",
            "replicas-dropped",
            "StatefulSet/shop-chat"
        ));
        assert!(has(
            &r,
            "added",
            "added",
            "HorizontalPodAutoscaler/shop-chat"
        ));

        let (code, r) = offline(&helm, &example("stateful.yaml"), &bigger, &[]);
        assert_eq!(
            (code, r["verdict"].as_str()),
            (4, Some("impossible")),
            "{name}: {r:#}"
        );
        let claims = change(&r, "claim-templates");
        assert_eq!(claims["field"], "spec.volumeClaimTemplates");
        assert_eq!(
            claims["fields"],
            json!(["spec.volumeClaimTemplates[data-0].spec.resources.requests.storage"])
        );
        let steps = claims["way_forward"].to_string();
        assert!(
            steps.contains("allowVolumeExpansion") && steps.contains("kubectl -n payments patch"),
            "{steps}"
        );
        assert!(
            steps.contains("kubectl -n payments delete statefulset shop-chat --cascade=orphan"),
            "{steps}"
        );
        assert_eq!(r["blocks_upgrade"], true);
    }
}

/// A chart whose only template is the given objects, verbatim: the old render, edited.
fn static_chart(dir: &Path, name: &str, docs: &[Value]) -> PathBuf {
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    )
    .unwrap();
    let text: Vec<String> = docs
        .iter()
        .map(|d| serde_saphyr::to_string(d).unwrap())
        .collect();
    std::fs::write(chart.join("templates/objects.yaml"), text.join("---\n")).unwrap();
    chart
}

/// What the real helm renders of an example for release `shop` in namespace `payments`.
fn rendered(helm: &Path, spec: &str) -> Vec<Value> {
    let o = plugin(
        helm,
        &[os("template"), os("shop"), example(spec).as_os_str()],
        &[("HELM_NAMESPACE", "payments")],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    serde_saphyr::from_multiple::<Value>(&text(&o.stdout))
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

fn edit(docs: &[Value], kind: &str, f: impl Fn(&mut Value)) -> Vec<Value> {
    let mut out = docs.to_vec();
    let d = out
        .iter_mut()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"));
    f(d);
    out
}

#[test]
fn the_impossible_changes_from_charts_on_helm_3_and_4() {
    for (name, helm) in helms() {
        let dir = tempfile::tempdir().unwrap();
        let hello = rendered(&helm, "hello.yaml");
        let chat = rendered(&helm, "stateful.yaml");
        let cases: Vec<(&str, Vec<Value>, Vec<Value>, &str)> = vec![
            (
                "selector",
                hello.clone(),
                edit(&hello, "Deployment", |d| {
                    d["spec"]["selector"]["matchLabels"]["tier"] = json!("web");
                    d["spec"]["template"]["metadata"]["labels"]["tier"] = json!("web");
                }),
                "Deployment/shop-hello",
            ),
            (
                "cluster-ip",
                hello.clone(),
                edit(&hello, "Service", |d| {
                    d["spec"]["clusterIP"] = json!("None")
                }),
                "Service/shop-hello",
            ),
            (
                "service-name",
                chat.clone(),
                edit(&chat, "StatefulSet", |d| {
                    d["spec"]["serviceName"] = json!("other")
                }),
                "StatefulSet/shop-chat",
            ),
            (
                "pod-management-policy",
                chat.clone(),
                edit(&chat, "StatefulSet", |d| {
                    d["spec"]["podManagementPolicy"] = json!("OrderedReady")
                }),
                "StatefulSet/shop-chat",
            ),
            (
                "claim-templates",
                chat.clone(),
                edit(&chat, "StatefulSet", |d| {
                    d["spec"]["volumeClaimTemplates"][1]["spec"]["storageClassName"] =
                        json!("slow");
                }),
                "StatefulSet/shop-chat",
            ),
        ];
        for (i, (rule, old, new, object)) in cases.into_iter().enumerate() {
            let old = static_chart(dir.path(), &format!("old{i}"), &old);
            let new = static_chart(dir.path(), &format!("new{i}"), &new);
            let (code, r) = offline(&helm, &old, &new, &[]);
            assert_eq!(code, 4, "{name} {rule}: {r:#}");
            assert!(has(&r, "impossible", rule, object), "{name} {rule}: {r:#}");
            assert!(
                !change(&r, rule)["way_forward"]
                    .as_array()
                    .unwrap()
                    .is_empty()
            );
        }
        // A Job that is not a hook cannot take a new template; a hook is recreated by helm.
        let job = |image: &str, hook: bool| {
            let mut j = json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "shop-migrate", "namespace": "payments"},
                "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": image}]}}}});
            if hook {
                j["metadata"]["annotations"] = json!({"helm.sh/hook": "pre-upgrade"});
            }
            j
        };
        let with = |j: Value| [hello.clone(), vec![j]].concat();
        let (old, new) = (
            static_chart(dir.path(), "j1", &with(job("m:1", false))),
            static_chart(dir.path(), "j2", &with(job("m:2", false))),
        );
        let (code, r) = offline(&helm, &old, &new, &[]);
        assert_eq!(code, 4, "{name}: {r:#}");
        assert!(has(&r, "impossible", "job-template", "Job/shop-migrate"));
        assert!(
            change(&r, "job-template")["way_forward"]
                .to_string()
                .contains("kubectl -n payments delete job shop-migrate")
        );
        let (old, new) = (
            static_chart(dir.path(), "h1", &with(job("m:1", true))),
            static_chart(dir.path(), "h2", &with(job("m:2", true))),
        );
        let (code, r) = offline(&helm, &old, &new, &[]);
        assert_eq!(
            (code, r["verdict"].as_str()),
            (0, Some("none")),
            "{name}: {r:#}"
        );
        assert_eq!(r["hooks"][0]["name"], "shop-migrate");
    }
}

#[test]
fn text_report_exit_codes_and_json_shape() {
    let s = Specs::new();
    let bigger = s.make(
        "bigger.yaml",
        "stateful.yaml",
        &[("size: 20", "size: 30")],
        "",
    );
    let (_, helm) = &helms()[1];
    let o = plugin(
        helm,
        &[
            os("plan"),
            os("shop"),
            bigger.as_os_str(),
            os("--from"),
            example("stateful.yaml").as_os_str(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(4));
    let out = text(&o.stdout);
    assert!(
        out.starts_with("Plan for release shop in namespace default: "),
        "{out}"
    );
    assert!(
        out.contains("\nimpossible (the API server refuses these"),
        "{out}"
    );
    assert!(out.contains("  StatefulSet/shop-chat spec.volumeClaimTemplates: claim data-0: storage 20Gi → 30Gi\n      why: "), "{out}");
    assert!(
        out.contains("      4. helm k8s-service upgrade shop "),
        "{out}"
    );
    assert!(out.ends_with("Verdict: impossible (exit 4): `upgrade` refuses this plan; follow the steps above, or run it with --accept-plan.\n"), "{out}");
    assert!(text(&o.stderr).is_empty(), "{}", text(&o.stderr));

    let (_, r) = offline(helm, &example("stateful.yaml"), &bigger, &[]);
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "blocks_upgrade",
            "changes",
            "exit_code",
            "hooks",
            "namespace",
            "new",
            "old",
            "release",
            "unchanged",
            "verdict",
            "version"
        ]
    );
    assert_eq!(
        (r["version"].as_u64(), r["exit_code"].as_u64()),
        (Some(1), Some(4))
    );
    let c = change(&r, "claim-templates");
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "field",
            "fields",
            "object",
            "previous",
            "reason",
            "rule",
            "summary",
            "verdict",
            "way_forward"
        ]
    );
    assert_eq!(
        c["object"],
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "namespace": "payments", "name": "shop-chat"})
    );

    // A bad OLD is an error (exit 1), named.
    let o = plugin(
        helm,
        &[
            os("plan"),
            os("shop"),
            bigger.as_os_str(),
            os("--from"),
            os("no-such.yaml"),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("no-such.yaml"),
        "{}",
        text(&o.stderr)
    );
}

/// A recording helm: `version` and `template` go to the real helm; `history`, `get manifest`,
/// `get values` and `get metadata` answer with the files in its directory (`manifest.yaml`
/// missing: the release does not exist; `history.json` missing: one deployed revision;
/// `manifest-N.yaml` answers `--revision N`); anything else (upgrade, rollback...) only records. Every call but `version`
/// is one line of tab-separated arguments in `calls`; the values file given to `template` is kept
/// as `template-values.yaml`.
struct Stand {
    dir: tempfile::TempDir,
    helm: PathBuf,
}

impl Stand {
    fn new(real: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let helm = dir.path().join("helm");
        let script = format!(
            r#"#!/bin/sh
D='{dir}'
[ "$1" = version ] && exec '{real}' "$@"
( sep=''; for a in "$@"; do printf '%s%s' "$sep" "$a"; sep='	'; done; echo ) >> "$D/calls"
rev=''; prev=''; for a in "$@"; do [ "$prev" = --revision ] && rev=$a; prev=$a; done
case "$1" in
  history)
    [ -n "$FAKE_UNREACHABLE" ] && {{ echo 'Error: Kubernetes cluster unreachable: Get "https://k8s:6443/version": dial tcp: lookup k8s: no such host' >&2; exit 1; }}
    [ -f "$D/history.json" ] && exec cat "$D/history.json"
    [ -f "$D/manifest.yaml" ] && {{ echo '[{{"revision":1,"updated":"2026-12-01T10:00:00Z","status":"deployed","chart":"shop-0.1.0","app_version":"","description":"Install complete"}}]'; exit 0; }}
    echo 'Error: release: not found' >&2; exit 1;;
esac
case "$1 $2" in
  "get manifest")
    [ -n "$rev" ] && [ -f "$D/manifest-$rev.yaml" ] && exec cat "$D/manifest-$rev.yaml"
    [ -f "$D/manifest.yaml" ] && exec cat "$D/manifest.yaml"
    echo 'Error: release: not found' >&2; exit 1;;
  "get values") [ -f "$D/values.yaml" ] && exec cat "$D/values.yaml"; echo null; exit 0;;
  "get metadata") exec cat "$D/metadata.json";;
esac
if [ "$1" = template ]; then
  prev=''; for a in "$@"; do [ "$prev" = --values ] && cp "$a" "$D/template-values.yaml"; prev=$a; done
  exec '{real}' "$@"
fi
exit 0
"#,
            dir = dir.path().display(),
            real = real.display()
        );
        std::fs::write(&helm, script).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Stand { dir, helm }
    }

    /// The release as deployed: what the real helm renders of `spec` (with `flags`) for release
    /// `shop` in namespace `payments`, as `helm get manifest` would print it.
    fn deployed(&self, real: &Path, spec: &Path, flags: &[&str]) {
        let mut args = vec![os("template"), os("shop"), spec.as_os_str()];
        if !flags.is_empty() {
            args.push(os("--"));
            args.extend(flags.iter().map(os));
        }
        let o = plugin(real, &args, &[("HELM_NAMESPACE", "payments")]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        std::fs::write(self.dir.path().join("manifest.yaml"), &o.stdout).unwrap();
    }

    fn file(&self, name: &str, content: &str) {
        std::fs::write(self.dir.path().join(name), content).unwrap();
    }

    fn run(&self, args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> Output {
        std::fs::remove_file(self.dir.path().join("calls")).ok();
        let mut all = vec![("HELM_NAMESPACE", "payments"), ("HELM_KUBECONTEXT", "east")];
        all.extend_from_slice(env);
        plugin(&self.helm, args, &all)
    }

    /// The recorded calls, each as its words, with temporary paths replaced by CHART / VALUES.
    fn calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.dir.path().join("calls"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                l.split('\t')
                    .map(|w| {
                        if w.ends_with(".tgz") {
                            "CHART".into()
                        } else if w.ends_with("release-values.yaml") {
                            "VALUES".into()
                        } else {
                            w.to_string()
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn verbs(&self) -> Vec<String> {
        self.calls()
            .iter()
            .map(|c| c[..2.min(c.len())].join(" "))
            .collect()
    }
}

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| s.to_string()).collect()
}

#[test]
fn plan_reads_the_release_through_helm() {
    let s = Specs::new();
    let bigger = s.make(
        "bigger.yaml",
        "stateful.yaml",
        &[("size: 20", "size: 30")],
        "",
    );
    for (name, real) in helms() {
        let stand = Stand::new(&real);
        stand.deployed(&real, &example("stateful.yaml"), &[]);
        let o = stand.run(
            &[
                os("plan"),
                os("shop"),
                bigger.as_os_str(),
                os("-o"),
                os("json"),
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(4), "{name}: {}", text(&o.stderr));
        let r: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            (r["old"].as_str(), r["namespace"].as_str()),
            (Some("release shop (revision 1)"), Some("payments"))
        );
        assert!(
            has(&r, "impossible", "claim-templates", "StatefulSet/shop-chat"),
            "{name}: {r:#}"
        );
        let env = ["--namespace", "payments", "--kube-context", "east"];
        assert_eq!(
            stand.calls(),
            [
                [&["history", "shop", "-o", "json", "--max", "256"][..], &env].concat(),
                [&["get", "manifest", "shop", "--revision", "1"][..], &env].concat(),
                [
                    &["get", "values", "shop", "--revision", "1", "-o", "yaml"][..],
                    &env
                ]
                .concat(),
                [&["template", "shop", "CHART"][..], &env, &["--is-upgrade"]].concat(),
            ]
            .map(|c| words(&c)),
            "{name}"
        );
        // Nothing changes: exit 0.
        let o = stand.run(
            &[os("plan"), os("shop"), example("stateful.yaml").as_os_str()],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o.stdout));
        assert!(
            text(&o.stdout).contains("No changes"),
            "{}",
            text(&o.stdout)
        );
    }
}

#[test]
fn the_plan_renders_with_the_values_helm_will_reuse() {
    for (name, real) in helms() {
        let stand = Stand::new(&real);
        // Installed with --set image.tag=1.5.0: helm keeps it on an upgrade without values.
        stand.deployed(&real, &example("hello.yaml"), &["--set", "image.tag=1.5.0"]);
        stand.file("values.yaml", "image:\n  tag: 1.5.0\n");
        let hello = example("hello.yaml");
        let o = stand.run(
            &[
                os("plan"),
                os("shop"),
                hello.as_os_str(),
                os("-o"),
                os("json"),
            ],
            &[],
        );
        let r: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(r["verdict"], "none", "{name}: {r:#}");
        assert!(
            stand.calls()[3].ends_with(&words(&["--is-upgrade", "--values", "VALUES"])),
            "{:?}",
            stand.calls()
        );
        assert_eq!(
            std::fs::read_to_string(stand.dir.path().join("template-values.yaml")).unwrap(),
            "image:\n  tag: 1.5.0\n"
        );
        // New values: helm drops the release's, so the image goes back to the spec's tag.
        let o = stand.run(
            &[
                os("plan"),
                os("shop"),
                hello.as_os_str(),
                os("-o"),
                os("json"),
                os("--"),
                os("--set"),
                os("image.pullPolicy=Always"),
                os("--timeout"),
                os("9m"),
            ],
            &[],
        );
        let r: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(r["verdict"], "restart", "{name}: {r:#}");
        assert_eq!(
            stand.verbs(),
            ["history shop", "get manifest", "template shop"],
            "{name}"
        );
        assert!(
            stand.calls()[2].ends_with(&words(&[
                "--is-upgrade",
                "--set",
                "image.pullPolicy=Always"
            ])),
            "{:?}",
            stand.calls()
        );
        // --reuse-values: every value the release had.
        let o = stand.run(
            &[
                os("plan"),
                os("shop"),
                hello.as_os_str(),
                os("--"),
                os("--reuse-values"),
            ],
            &[],
        );
        assert!(
            text(&o.stderr).contains("--reuse-values"),
            "{}",
            text(&o.stderr)
        );
        assert!(
            stand.calls()[2].contains(&"--all".to_string()),
            "{:?}",
            stand.calls()
        );
    }
}

#[test]
fn upgrade_refuses_before_any_change_unless_accepted() {
    let s = Specs::new();
    let bigger = s.make(
        "bigger.yaml",
        "stateful.yaml",
        &[("size: 20", "size: 30")],
        "",
    );
    for (name, real) in helms() {
        let stand = Stand::new(&real);
        stand.deployed(&real, &example("stateful.yaml"), &[]);
        let o = stand.run(&[os("upgrade"), os("shop"), bigger.as_os_str()], &[]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{name}: {err}");
        assert!(err.contains("claim data-0: storage 20Gi → 30Gi"), "{err}");
        assert!(
            err.contains("error: upgrade of shop refused before touching it"),
            "{err}"
        );
        assert_eq!(
            stand.verbs(),
            [
                "history shop",
                "get manifest",
                "get values",
                "template shop"
            ],
            "{name}: no upgrade"
        );
        assert!(text(&o.stdout).is_empty());

        let o = stand.run(
            &[
                os("upgrade"),
                os("shop"),
                bigger.as_os_str(),
                os("--accept-plan"),
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("--accept-plan: upgrading anyway"));
        let calls = stand.calls();
        assert_eq!(
            stand.verbs(),
            [
                "history shop",
                "get manifest",
                "get values",
                "template shop",
                "upgrade shop"
            ],
            "{name}"
        );
        let upgrade = &calls[4];
        assert_eq!(upgrade[..3], words(&["upgrade", "shop", "CHART"]));
        assert!(upgrade.contains(&"--history-max".to_string()));

        // Pods restart: shown, not refused.
        let o = stand.run(
            &[
                os("upgrade"),
                os("shop"),
                example("stateful.yaml").as_os_str(),
                os("--tag"),
                os("3.1.0"),
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("Verdict: restart (exit 2)"),
            "{}",
            text(&o.stderr)
        );
        assert_eq!(stand.verbs().last().unwrap(), "upgrade shop");
    }
}

/// helm upgrades from the last deployed revision, not from a failed one on top of it (the
/// failed upgrade of a claim template, say): so does the plan, and it says so.
#[test]
fn plan_compares_with_the_revision_helm_upgrades_from() {
    let s = Specs::new();
    let bigger = s.make(
        "bigger.yaml",
        "stateful.yaml",
        &[("size: 20", "size: 30")],
        "",
    );
    let (_, real) = &helms()[0];
    let stand = Stand::new(real);
    // Revision 1 (deployed) is stateful.yaml; revision 2 (failed) tried bigger.yaml.
    stand.deployed(real, &bigger, &[]);
    std::fs::rename(
        stand.dir.path().join("manifest.yaml"),
        stand.dir.path().join("manifest-2.yaml"),
    )
    .unwrap();
    stand.deployed(real, &example("stateful.yaml"), &[]);
    std::fs::rename(
        stand.dir.path().join("manifest.yaml"),
        stand.dir.path().join("manifest-1.yaml"),
    )
    .unwrap();
    stand.file(
        "history.json",
        r#"[{"revision":1,"status":"superseded","chart":"shop-0.1.0"},{"revision":2,"status":"deployed","chart":"shop-0.1.0"},{"revision":3,"status":"failed","chart":"shop-0.1.0"}]"#,
    );
    // Numbered as helm numbers them: the deployed one is 2 here.
    std::fs::rename(
        stand.dir.path().join("manifest-1.yaml"),
        stand.dir.path().join("manifest-2.yaml.old"),
    )
    .unwrap();
    std::fs::rename(
        stand.dir.path().join("manifest-2.yaml"),
        stand.dir.path().join("manifest-3.yaml"),
    )
    .unwrap();
    std::fs::rename(
        stand.dir.path().join("manifest-2.yaml.old"),
        stand.dir.path().join("manifest-2.yaml"),
    )
    .unwrap();
    let o = stand.run(
        &[
            os("plan"),
            os("shop"),
            bigger.as_os_str(),
            os("-o"),
            os("json"),
        ],
        &[],
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains(
            "from revision 2, its last deployed one, not from the later revision(s) 3 (failed)"
        ),
        "{err}"
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["old"], "release shop (revision 2)", "{r:#}");
    assert!(
        stand.calls()[1].ends_with(&words(&[
            "--revision",
            "2",
            "--namespace",
            "payments",
            "--kube-context",
            "east"
        ])),
        "{:?}",
        stand.calls()
    );
    // An operation still pending: helm would refuse; the plan says so and how to get out.
    stand.file(
        "history.json",
        r#"[{"revision":1,"status":"deployed","chart":"shop-0.1.0"},{"revision":2,"status":"pending-upgrade","chart":"shop-0.1.0"}]"#,
    );
    let o = stand.run(&[os("upgrade"), os("shop"), bigger.as_os_str()], &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("revision 2 is pending-upgrade"), "{err}");
    assert_eq!(stand.verbs(), ["history shop"]);
}

#[test]
fn upgrade_install_of_a_missing_release_skips_the_plan() {
    let (_, real) = &helms()[1];
    let stand = Stand::new(real);
    let o = stand.run(
        &[
            os("upgrade"),
            os("shop"),
            example("stateful.yaml").as_os_str(),
            os("--install"),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(stand.verbs(), ["history shop", "upgrade --install"]);
    // plan says it would be an install.
    let o = stand.run(
        &[
            os("plan"),
            os("shop"),
            example("stateful.yaml").as_os_str(),
            os("-o"),
            os("json"),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o.stderr).contains("release shop not found in namespace payments"),
        "{}",
        text(&o.stderr)
    );
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(changes(&r).iter().all(|(v, _, _)| v == "added"), "{r:#}");
    // A cluster helm cannot reach: exit 1, helm's words, no upgrade.
    let o = stand.run(
        &[
            os("upgrade"),
            os("shop"),
            example("stateful.yaml").as_os_str(),
        ],
        &[("FAKE_UNREACHABLE", "1")],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("`helm history shop` failed (exit 1)") && err.contains("cluster unreachable"),
        "{err}"
    );
    assert_eq!(stand.verbs(), ["history shop"]);
}

#[test]
fn rollback_keeps_the_history_the_spec_promised() {
    for (name, real) in helms() {
        let stand = Stand::new(&real);
        // The metadata helm prints for a release of examples/full.yaml (timeout 600, max_history
        // 15): the chart's annotations, read from the real chart.
        let out = tempfile::tempdir().unwrap();
        let full = example("full.yaml");
        let o = plugin(
            &real,
            &[
                os("package"),
                full.as_os_str(),
                os("-d"),
                out.path().as_os_str(),
            ],
            &[],
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        let tgz = out.path().join("payments-0.1.0.tgz");
        let o = run(Command::new(&real).args(["show", "chart"]).arg(&tgz));
        let chart: Value = serde_saphyr::from_str(&text(&o.stdout)).unwrap();
        let meta = json!({"name": "shop", "chart": "payments", "version": "0.1.0", "appVersion": "2.7.1",
            "annotations": chart["annotations"], "namespace": "payments", "revision": 4,
            "status": "deployed", "deployedAt": "2026-12-01T10:00:00Z"});
        stand.file("metadata.json", &meta.to_string());
        let o = stand.run(
            &[
                os("rollback"),
                os("shop"),
                os("3"),
                os("--"),
                os("--no-hooks"),
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o.stderr));
        let wait: &[&str] = if name == "helm3" {
            &["--wait"]
        } else {
            &["--wait=watcher"]
        };
        let env = ["--namespace", "payments", "--kube-context", "east"];
        assert_eq!(
            stand.calls(),
            [
                words(&[&["get", "metadata", "shop", "-o", "json"][..], &env].concat()),
                words(
                    &[
                        &["rollback", "shop", "3"][..],
                        &env,
                        &["--timeout", "600s", "--history-max", "15"],
                        wait,
                        &["--cleanup-on-fail", "--no-hooks"]
                    ]
                    .concat()
                ),
            ],
            "{name}"
        );
        let o = stand.run(
            &[
                os("rollback"),
                os("shop"),
                os("--history-max"),
                os("40"),
                os("--no-wait"),
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(
            stand.calls()[1],
            words(
                &[
                    &["rollback", "shop"][..],
                    &env,
                    &["--timeout", "600s", "--history-max", "40"]
                ]
                .concat()
            )
        );
        // A release this plugin did not make: the spec's default, said.
        stand.file(
            "metadata.json",
            r#"{"name":"shop","chart":"other","version":"1.0.0","revision":2}"#,
        );
        let o = stand.run(&[os("rollback"), os("shop")], &[]);
        assert!(
            text(&o.stderr).contains("keeping 25 revisions"),
            "{}",
            text(&o.stderr)
        );
        assert!(
            stand.calls()[1].ends_with(
                &words(&["--timeout", "300s", "--history-max", "25"])
                    .into_iter()
                    .chain(words(wait))
                    .chain(words(&["--cleanup-on-fail"]))
                    .collect::<Vec<_>>()
            )
        );
    }
}

/// Opta files name their charts after the file since this version (`web` became `shop-web`):
/// the plan of an old release says so and how to keep the old name, and with `--name` nothing
/// changes.
#[test]
fn a_renamed_chart_is_said_with_the_flag_that_keeps_the_old_name() {
    let (_, real) = &helms()[1];
    let old = tempfile::tempdir().unwrap();
    let spec = example("opta-service.yaml");
    let common = [
        os("--module"),
        os("web"),
        os("--var"),
        os("parent.domain=x.example.com"),
    ];
    let mut gen_args = vec![os("generate"), spec.as_os_str()];
    gen_args.extend(common.iter().copied());
    gen_args.extend([os("--name"), os("web"), os("-o"), old.path().as_os_str()]);
    let o = plugin(real, &gen_args, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let from = old.path().join("web");
    let plan = |extra: &[&std::ffi::OsStr]| {
        let mut a = vec![os("plan"), os("r"), spec.as_os_str()];
        a.extend(common.iter().copied());
        a.extend([
            os("--from"),
            from.as_os_str(),
            os("--set"),
            os("image.repository=registry.example.com/web"),
            os("-o"),
            os("json"),
        ]);
        a.extend(extra.iter().copied());
        plugin(real, &a, &[])
    };
    let o = plan(&[]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let note = r["notes"][0].as_str().unwrap_or_default();
    assert!(
        note.contains("the chart was `web` and is now `shop-web`") && note.contains("--name web"),
        "{r:#}"
    );
    assert_eq!(o.status.code(), Some(4), "the selectors change: {r:#}");
    let o = plan(&[os("--name"), os("web")]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{r:#}");
    assert!(r.get("notes").is_none(), "{r:#}");
}
