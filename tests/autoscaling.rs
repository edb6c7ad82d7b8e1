//! Autoscaling past CPU and memory (issue 17): `scale_on` renders a KEDA ScaledObject instead of
//! the HPA, never both; its triggers, thresholds, owners and annotations; its credentials from
//! existing Secrets; every add-on object against its CRD schema; the CRD check. On Helm 3 and 4.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{
    assert_crd_check, find, helms, kubernetes_validate, models_validate, package_spec, packaged,
    render, run, text,
};
use serde_json::Value;

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
    let (_d, chart) = package_spec(&format!(
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
    let (_d, chart) = package_spec(&format!(
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
        assert_crd_check(
            helm_name,
            &helm,
            &keda_example(),
            // The example's `metrics` ServiceMonitor (tests/observability.rs) too.
            &[
                "keda.sh/v1alpha1/ScaledObject",
                "monitoring.coreos.com/v1/ServiceMonitor",
            ],
            "autoscaling.keda.enabled: the cluster has no keda.sh/v1alpha1/ScaledObject; install KEDA",
        );
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

const HPA_METRICS: &str = "min_containers: 2\nmax_containers: 8\nautoscaling_target_mem_percentage: 0\n\
autoscaling_behavior: {scale_up_tolerance: 0.05, scale_down_tolerance: \"0.1\", scale_down_stabilization_seconds: 120}\n\
autoscaling_metrics:\n  - pods: {metric: http_requests_per_second, average: 100}\n  - external: {metric: queue_depth, selector: {queue: orders}, value: \"30\"}\n";

/// kubernetes-validate --strict for one Kubernetes version over one object.
fn kube_validates(dir: &std::path::Path, version: &str, obj: &Value) -> Result<(), String> {
    let file = dir.join(format!("hpa-{version}.json"));
    std::fs::write(&file, serde_json::to_vec(obj).unwrap()).unwrap();
    let o = run(Command::new(common::kubernetes_validate())
        .args(["--strict", "-k", version])
        .arg(&file));
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    if o.status.success() && out.contains(" passed ") {
        Ok(())
    } else {
        Err(out)
    }
}

#[test]
fn hpa_metrics_render_with_tolerance_only_from_kubernetes_1_35() {
    let (d, chart) = package_spec(&format!("{BASE}{HPA_METRICS}"));
    for (helm_name, helm) in helms() {
        for (kube, tolerant) in [("1.34.0", false), ("1.35.0", true)] {
            let docs = render(&helm, &chart, &["--kube-version", kube]).unwrap();
            let hpa = find(&docs, "HorizontalPodAutoscaler");
            assert_eq!(hpa.len(), 1, "{helm_name} {kube}");
            let s = &hpa[0]["spec"];
            assert_eq!(
                s["metrics"],
                serde_json::json!([
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
                    {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"}, "target": {"type": "AverageValue", "averageValue": "100"}}},
                    {"type": "External", "external": {"metric": {"name": "queue_depth", "selector": {"matchLabels": {"queue": "orders"}}}, "target": {"type": "Value", "value": "30"}}},
                ]),
                "{helm_name} {kube}"
            );
            let want = if tolerant {
                serde_json::json!({"scaleUp": {"tolerance": "0.05"}, "scaleDown": {"stabilizationWindowSeconds": 120, "tolerance": "0.1"}})
            } else {
                serde_json::json!({"scaleDown": {"stabilizationWindowSeconds": 120}})
            };
            assert_eq!(s["behavior"], want, "{helm_name} {kube}");
            kube_validates(d.path(), kube, hpa[0]).unwrap();
            if tolerant {
                // Kubernetes 1.32's schema has no tolerance: the version gate is needed.
                assert!(kube_validates(d.path(), "1.32.0", hpa[0]).is_err());
            } else {
                kube_validates(d.path(), "1.32.0", hpa[0]).unwrap();
            }
        }
    }
}

#[test]
fn hpa_metrics_need_a_metrics_adapter() {
    let (_d, chart) = package_spec(&format!("{BASE}{HPA_METRICS}"));
    for (helm_name, helm) in helms() {
        // Offline with crdCheck auto: rendered as asked.
        assert!(render(&helm, &chart, &[] as &[&str]).is_ok(), "{helm_name}");
        let err = render(&helm, &chart, &["--set", "crdCheck=always"]).unwrap_err();
        assert!(
            err.contains("autoscaling.metrics[0] (Pods http_requests_per_second): the cluster has no custom.metrics.k8s.io/v1beta1; install a custom metrics adapter, e.g. prometheus-adapter"),
            "{helm_name}: {err}"
        );
        for custom in [
            "custom.metrics.k8s.io/v1beta1",
            "custom.metrics.k8s.io/v1beta2",
        ] {
            let err = render(
                &helm,
                &chart,
                &["--set", "crdCheck=always", "--api-versions", custom],
            )
            .unwrap_err();
            assert!(
                err.contains("autoscaling.metrics[1] (External queue_depth): the cluster has no external.metrics.k8s.io/v1beta1; install an external metrics adapter, e.g. KEDA")
                    && err.contains("Datadog Cluster Agent"),
                "{helm_name}: {err}"
            );
            let ok = render(
                &helm,
                &chart,
                &[
                    "--set",
                    "crdCheck=always",
                    "--api-versions",
                    custom,
                    "--api-versions",
                    "external.metrics.k8s.io/v1beta1",
                ],
            );
            assert!(ok.is_ok(), "{helm_name}: {ok:?}");
        }
        assert!(render(&helm, &chart, &["--set", "crdCheck=off"]).is_ok());
        // The chart's own checks of hand-written values.
        let err = render(
            &helm,
            &chart,
            &[
                "--set-json",
                r#"autoscaling.metrics=[{"type":"Pods","name":"rps","averageValue":"1","value":"2"}]"#,
            ],
        )
        .unwrap_err();
        assert!(
            err.contains("autoscaling.metrics[0] needs exactly one of value and averageValue"),
            "{helm_name}: {err}"
        );
    }
}

/// `right_sizing`: a VerticalPodAutoscaler for the container "app" that never controls what the
/// autoscaler scales on; InPlaceOrRecreate and the container's resizePolicy only on Kubernetes
/// 1.35+, recommendations only (Off) before; the VPA's CRD schema and `crdCheck`.
#[test]
fn right_sizing_leaves_the_autoscalers_resources_alone() {
    let vpa_of = |docs: &[Value]| -> Value {
        let v = find(docs, "VerticalPodAutoscaler");
        assert_eq!(v.len(), 1);
        v[0].clone()
    };
    let controlled = |v: &Value| {
        v["spec"]["resourcePolicy"]["containerPolicies"][0]["controlledResources"].clone()
    };
    // The HPA scales on CPU: the VPA sizes memory only.
    let (_a, hpa) = package_spec(&format!(
        "{BASE}min_containers: 2\nmax_containers: 6\nautoscaling_target_mem_percentage: 0\nright_sizing: {{mode: in_place, max: {{memory: 2048}}}}\n"
    ));
    // No autoscaler: both. KEDA with an explicit memory trigger: cpu only.
    let (_b, fixed) = package_spec(&format!(
        "{BASE}min_containers: 2\nmax_containers: 2\npersistent_storage: [{{path: /data, size: 1}}]\nright_sizing: recommend\n"
    ));
    let (_c, keda) = package_spec(&format!(
        "{BASE}min_containers: 1\nmax_containers: 5\nautoscaling_target_mem_percentage: 70\nright_sizing: in_place\nscale_on:\n  - prometheus: {{server: \"http://p:9090\", query: \"up\", threshold: 1}}\n"
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (helm_name, helm) in helms() {
        for (kube, mode, resize) in [
            ("1.34.0", "Off", false),
            ("1.35.0", "InPlaceOrRecreate", true),
        ] {
            let docs = render(&helm, &hpa, &["--kube-version", kube]).unwrap();
            let v = vpa_of(&docs);
            assert_eq!(
                v["spec"]["updatePolicy"]["updateMode"], mode,
                "{helm_name} {kube}"
            );
            assert_eq!(controlled(&v), serde_json::json!(["memory"]));
            assert_eq!(
                v["spec"]["targetRef"],
                serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "r-svc"})
            );
            assert_eq!(
                v["spec"]["resourcePolicy"]["containerPolicies"],
                serde_json::json!([
                    {"containerName": "app", "controlledResources": ["memory"], "maxAllowed": {"memory": "2048Mi"}},
                    {"containerName": "*", "mode": "Off"},
                ])
            );
            let dep = find(&docs, "Deployment")[0];
            let app = &dep["spec"]["template"]["spec"]["containers"][0];
            assert_eq!(app["name"], "app");
            if resize {
                assert_eq!(
                    app["resizePolicy"],
                    serde_json::json!([
                        {"resourceName": "cpu", "restartPolicy": "NotRequired"},
                        {"resourceName": "memory", "restartPolicy": "RestartContainer"},
                    ])
                );
                // The pods with resizePolicy against Kubernetes 1.35's own schema.
                let file = dir.path().join(format!("deployment-{helm_name}.yaml"));
                std::fs::write(&file, serde_json::to_string(dep).unwrap()).unwrap();
                let o = run(Command::new(kubernetes_validate())
                    .args(["--strict", "-k", "1.35.0"])
                    .arg(&file));
                let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
                assert!(o.status.success() && out.contains(" passed "), "{out}");
            } else {
                assert!(app.get("resizePolicy").is_none(), "{helm_name} {kube}");
            }
            let f = dir.path().join(format!("vpa-{helm_name}-{kube}.json"));
            std::fs::write(&f, serde_json::to_vec(&[&v]).unwrap()).unwrap();
            files.push(f);
        }
        let v = vpa_of(&render(&helm, &fixed, &[] as &[&str]).unwrap());
        assert_eq!(controlled(&v), serde_json::json!(["cpu", "memory"]));
        assert_eq!(v["spec"]["targetRef"]["kind"], "StatefulSet");
        assert_eq!(v["spec"]["updatePolicy"]["updateMode"], "Off");
        let docs = render(&helm, &keda, &[] as &[&str]).unwrap();
        assert!(
            find(&docs, "ScaledObject")[0]["spec"]["triggers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["type"] == "memory")
        );
        assert_eq!(controlled(&vpa_of(&docs)), serde_json::json!(["cpu"]));
        // An install-time CPU target too leaves the VPA nothing: refused, naming both.
        let err = render(
            &helm,
            &hpa,
            &["--set", "autoscaling.targetMemoryUtilizationPercentage=80"],
        )
        .unwrap_err();
        assert!(
            err.contains("rightSizing.enabled: the autoscaler scales on both cpu and memory"),
            "{helm_name}: {err}"
        );
        // crdCheck names the VPA's CRD.
        assert_crd_check(
            helm_name,
            &helm,
            &fixed,
            &["autoscaling.k8s.io/v1/VerticalPodAutoscaler"],
            "rightSizing.enabled: the cluster has no autoscaling.k8s.io/v1/VerticalPodAutoscaler; install the Vertical Pod Autoscaler",
        );
        // Off unless asked.
        let (ex, chart, path) = &packaged()[0];
        let docs = render(&helm, path, &ex.set(chart)).unwrap();
        assert!(find(&docs, "VerticalPodAutoscaler").is_empty());
    }
    // NOTES names what the VPA sizes (helm 4 renders NOTES without a cluster; its default
    // Kubernetes version, 1.35, has in-place resize).
    let o = run(Command::new(&helms()[1].1)
        .args(["install", "r"])
        .arg(&hpa)
        .args(["--namespace", "ci", "--dry-run=client"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("  Right-sizing: a VerticalPodAutoscaler sets, in place where it can, the memory requests of container \"app\""),
        "{}",
        text(&o.stdout)
    );
    let o = run(models_validate("crd").args(&files));
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "CRD validation:\n{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("PASS ")).count(),
        files.len(),
        "{out}"
    );
}
