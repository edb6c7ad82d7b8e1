//! Autoscaling past CPU and memory (issue 17): `scale_on` renders a KEDA ScaledObject instead of
//! the HPA, never both; its triggers, thresholds, owners and annotations; its credentials from
//! existing Secrets; every add-on object against its CRD schema; the CRD check. On Helm 3 and 4.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{bin, find, helms, models_validate, packaged, render, run, text};
use serde_json::Value;

/// Package `spec` (a standalone spec) and return the chart archive, with its temp dir.
fn package(spec: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("spec.yaml");
    std::fs::write(&file, spec).unwrap();
    let o = run(Command::new(bin())
        .arg("package")
        .arg(&file)
        .arg("--destination")
        .arg(d.path()));
    assert!(o.status.success(), "package failed:\n{}", text(&o.stderr));
    let chart = d.path().join("svc-0.1.0.tgz");
    (d, chart)
}

const BASE: &str = "name: svc\nimage: ghcr.io/acme/svc\ntag: \"1\"\nport: {http: 8080}\n";

fn keda_example() -> PathBuf {
    packaged()
        .iter()
        .find(|(ex, _, _)| ex.spec == "keda.yaml")
        .map(|(_, _, p)| p.clone())
        .expect("examples/keda.yaml is packaged")
}

#[test]
fn the_keda_example_renders_a_scaled_object_and_no_hpa() {
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &keda_example(), &[] as &[&str]).unwrap();
        assert!(
            find(&docs, "HorizontalPodAutoscaler").is_empty(),
            "{helm_name}: an HPA too"
        );
        let so = find(&docs, "ScaledObject");
        assert_eq!(so.len(), 1, "{helm_name}");
        let so = so[0];
        let s = &so["spec"];
        assert_eq!(so["metadata"]["name"], "r-checkout");
        assert_eq!(
            so["metadata"]["annotations"]["scaledobject.keda.sh/transfer-hpa-ownership"],
            "true"
        );
        // KEDA's HPA takes the chart's HPA name, so it adopts a live one and lookup finds it.
        assert_eq!(
            s["advanced"]["horizontalPodAutoscalerConfig"]["name"],
            "r-checkout"
        );
        assert_eq!(s["scaleTargetRef"]["kind"], "Deployment");
        assert_eq!(
            s["scaleTargetRef"]["name"],
            find(&docs, "Deployment")[0]["metadata"]["name"]
        );
        assert_eq!(
            (s["minReplicaCount"].as_u64(), s["maxReplicaCount"].as_u64()),
            (Some(2), Some(20))
        );
        assert_eq!(
            s["fallback"],
            serde_json::json!({"failureThreshold": 3, "replicas": 4})
        );
        let t = s["triggers"].as_array().unwrap();
        let kinds: Vec<&str> = t.iter().map(|t| t["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["datadog", "prometheus", "cron", "aws-sqs-queue"],
            "{helm_name}"
        );
        assert_eq!(t[0]["metadata"]["queryValue"], "50");
        assert_eq!(
            t[0]["metadata"]["query"],
            "sum:trace.http.request.hits{service:checkout}.as_rate()"
        );
        assert_eq!(t[1]["metadata"]["threshold"], "100");
        assert_eq!(
            t[1]["metadata"]["serverAddress"],
            "http://prometheus.monitoring:9090"
        );
        assert_eq!(t[2]["metadata"]["desiredReplicas"], "6");
        assert_eq!(t[2]["metadata"]["timezone"], "Europe/Paris");
        assert_eq!(t[3]["metadata"]["queueLength"], "20");
        assert_eq!(t[3]["metadata"]["awsRegion"], "eu-west-1");
        // Each authenticationRef names a rendered TriggerAuthentication; the Datadog one reads
        // the existing Secret's apiKey and appKey, the SQS one the pods' own IAM role.
        let auths = find(&docs, "TriggerAuthentication");
        let by_name = |n: &Value| auths.iter().find(|a| a["metadata"]["name"] == *n).copied();
        let dd = by_name(&t[0]["authenticationRef"]["name"]).expect("the datadog authentication");
        let refs = dd["spec"]["secretTargetRef"].as_array().unwrap();
        let pairs: Vec<(&str, &str, &str)> = refs
            .iter()
            .map(|r| {
                (
                    r["parameter"].as_str().unwrap(),
                    r["name"].as_str().unwrap(),
                    r["key"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [
                ("apiKey", "datadog-keys", "apiKey"),
                ("appKey", "datadog-keys", "appKey")
            ]
        );
        let sqs = by_name(&t[3]["authenticationRef"]["name"]).expect("the sqs authentication");
        assert_eq!(sqs["spec"]["podIdentity"]["provider"], "aws");
        assert!(t[1].get("authenticationRef").is_none());
        assert_eq!(auths.len(), 2);
    }
}

#[test]
fn no_example_renders_both_an_hpa_and_a_scaled_object() {
    let mut scaled = 0;
    for (ex, chart, path) in packaged() {
        for (helm_name, helm) in helms() {
            let docs = render(&helm, path, &ex.set(chart)).unwrap();
            let hpa = find(&docs, "HorizontalPodAutoscaler");
            let so = find(&docs, "ScaledObject");
            assert!(
                hpa.is_empty() || so.is_empty(),
                "{} {chart} {helm_name}: both",
                ex.spec
            );
            scaled += so.len();
        }
    }
    assert!(scaled >= 2, "no example renders a ScaledObject");
}

#[test]
fn turning_keda_off_at_install_time_brings_the_hpa_back() {
    for (helm_name, helm) in helms() {
        let docs = render(
            &helm,
            &keda_example(),
            &["--set", "autoscaling.keda.enabled=false"],
        )
        .unwrap();
        assert!(
            find(&docs, "ScaledObject").is_empty()
                && find(&docs, "TriggerAuthentication").is_empty()
        );
        let hpa = find(&docs, "HorizontalPodAutoscaler");
        assert_eq!(hpa.len(), 1, "{helm_name}");
        // Same name: switching either way hands over the same HPA object.
        assert_eq!(hpa[0]["metadata"]["name"], "r-checkout");
    }
}

#[test]
fn min_containers_zero_scales_to_zero_and_starts_with_one_pod() {
    let (_d, chart) = package(&format!(
        "{BASE}min_containers: 0\nmax_containers: 5\nscale_on:\n  - prometheus: {{server: \"http://p:9090\", query: \"up\", threshold: 0.5}}\n"
    ));
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &chart, &[] as &[&str]).unwrap();
        let so = find(&docs, "ScaledObject");
        assert_eq!(so[0]["spec"]["minReplicaCount"], 0, "{helm_name}");
        assert_eq!(so[0]["spec"]["triggers"][0]["metadata"]["threshold"], "0.5");
        assert!(so[0]["spec"].get("fallback").is_none());
        // A first install (nothing to look up) starts with one pod; KEDA then scales to zero.
        assert_eq!(
            find(&docs, "Deployment")[0]["spec"]["replicas"],
            1,
            "{helm_name}"
        );
    }
}

#[test]
fn explicit_cpu_targets_become_keda_triggers_and_behavior_moves_over() {
    let (_d, chart) = package(&format!(
        "{BASE}min_containers: 2\nmax_containers: 6\nautoscaling_target_cpu_percentage: 70\nautoscaling_behavior: {{scale_down_stabilization_seconds: 600}}\npersistent_storage: [{{path: /data, size: 1}}]\nscale_on:\n  - cron: {{timezone: UTC, start: \"0 8 * * *\", end: \"0 9 * * *\", replicas: 3}}\n"
    ));
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &chart, &[] as &[&str]).unwrap();
        let s = &find(&docs, "ScaledObject")[0]["spec"];
        assert_eq!(s["scaleTargetRef"]["kind"], "StatefulSet", "{helm_name}");
        assert_eq!(
            s["triggers"][0],
            serde_json::json!({"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}})
        );
        assert_eq!(
            s["triggers"].as_array().unwrap().len(),
            2,
            "the default memory target is not carried over"
        );
        assert_eq!(
            s["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
            600
        );
    }
}

#[test]
fn the_crd_check_names_the_missing_api() {
    for (helm_name, helm) in helms() {
        // Without a cluster (helm template), "auto" renders the objects as asked.
        assert!(render(&helm, &keda_example(), &[] as &[&str]).is_ok());
        let err = render(&helm, &keda_example(), &["--set", "crdCheck=always"]).unwrap_err();
        assert!(
            err.contains("autoscaling.keda.enabled: the cluster has no keda.sh/v1alpha1/ScaledObject; install KEDA"),
            "{helm_name}: {err}"
        );
        let ok = render(
            &helm,
            &keda_example(),
            &[
                "--set",
                "crdCheck=always",
                "--api-versions",
                "keda.sh/v1alpha1/ScaledObject",
                // The example's `metrics` ServiceMonitor (tests/observability.rs).
                "--api-versions",
                "monitoring.coreos.com/v1/ServiceMonitor",
            ],
        );
        assert!(ok.is_ok(), "{helm_name}: {ok:?}");
        // Charts without add-ons never need one.
        let (ex, chart, path) = &packaged()[0];
        assert!(
            render(
                &helm,
                path,
                &[
                    &["--set".to_string(), "crdCheck=always".into()][..],
                    &ex.set(chart)[..]
                ]
                .concat()
            )
            .is_ok()
        );
    }
}

#[test]
fn every_add_on_object_passes_its_crd_schema() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut count = 0;
    for (ex, chart, path) in packaged() {
        for (helm_name, helm) in helms() {
            let docs = render(&helm, path, &ex.set(chart)).unwrap();
            let objs: Vec<&Value> = docs
                .iter()
                .filter(|d| {
                    let api = d["apiVersion"].as_str().unwrap_or("");
                    api.starts_with("keda.sh/")
                        || api.starts_with("monitoring.coreos.com/")
                        || api.starts_with("autoscaling.k8s.io/")
                })
                .collect();
            if !objs.is_empty() {
                count += objs.len();
                let file = dir.path().join(format!("{chart}-{helm_name}.json"));
                std::fs::write(&file, serde_json::to_vec(&objs).unwrap()).unwrap();
                files.push(file);
            }
        }
    }
    assert!(count >= 6, "too few add-on objects: {count}");
    let o = run(models_validate("crd").args(&files));
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "CRD validation:\n{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("PASS ")).count(),
        count,
        "{out}"
    );
    // The validator refuses what KEDA would: a trigger without a type.
    let bad = dir.path().join("bad.json");
    let so = r#"[{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s"},"spec":{"scaleTargetRef":{"name":"w"},"triggers":[{"metadata":{}}]}}]"#;
    std::fs::write(&bad, so).unwrap();
    let o = run(models_validate("crd").arg(&bad));
    assert!(!o.status.success());
}
