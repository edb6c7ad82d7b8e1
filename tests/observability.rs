//! Metrics and traces without hand-written YAML (issue 17, item 4): `metrics` renders a
//! ServiceMonitor (checked field by field and against its CRD schema), `datadog_tags` Datadog's
//! unified service tags on the workload and its pods, `opentelemetry` the OpenTelemetry
//! Operator's injection annotation; the ServiceMonitor's API goes through `crdCheck`. On Helm 3
//! and 4.

mod common;

use common::{assert_crd_check, find, helms, models_validate, package_spec, render, run, text};
use serde_json::{Value, json};

const BASE: &str = "name: shop\nimage: ghcr.io/acme/shop\ntag: \"1.4.2\"\nmin_containers: 2\nports:\n  - {name: http, type: http, port: 8080}\n  - {name: metrics, type: tcp, port: 9090}\n";

const ALL: &str = "metrics: {port: metrics, path: /prom, interval: 1m}\ndatadog_tags: true\nopentelemetry: {language: java, instrumentation: otel/java-agent}\n";

fn labels(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with("tags.datadoghq.com/"))
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_service_monitor_scrapes_the_named_port_of_the_service() {
    let (_d, chart) = package_spec(&format!("{BASE}{ALL}"));
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &chart, &[] as &[&str]).unwrap();
        let sm = find(&docs, "ServiceMonitor");
        assert_eq!(sm.len(), 1, "{helm_name}");
        let sm = sm[0];
        assert_eq!(sm["apiVersion"], "monitoring.coreos.com/v1");
        assert_eq!(sm["metadata"]["name"], "r-shop");
        assert_eq!(sm["metadata"]["namespace"], "ci");
        assert_eq!(
            sm["spec"],
            json!({
                "jobLabel": "app.kubernetes.io/name",
                "namespaceSelector": {"matchNames": ["ci"]},
                "selector": {"matchLabels": {
                    "app.kubernetes.io/name": "shop",
                    "app.kubernetes.io/instance": "r"
                }},
                "endpoints": [{"port": "metrics", "path": "/prom", "interval": "1m"}]
            }),
            "{helm_name}"
        );
        // The selector matches the Service's labels, and the port is one of its ports by name;
        // the jobLabel is one of its labels, whose value is the chart's name.
        let svc = find(&docs, "Service");
        assert_eq!(svc.len(), 1, "{helm_name}");
        for (k, v) in sm["spec"]["selector"]["matchLabels"].as_object().unwrap() {
            assert_eq!(&svc[0]["metadata"]["labels"][k], v, "{helm_name}: {k}");
        }
        assert_eq!(
            svc[0]["metadata"]["labels"]["app.kubernetes.io/name"],
            "shop"
        );
        let names: Vec<&str> = svc[0]["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"metrics"), "{helm_name}: {names:?}");
    }
}

#[test]
fn defaults_and_nothing_unless_asked() {
    let (_d, chart) = package_spec(&format!("{BASE}metrics: {{port: http}}\n"));
    let (_e, plain) = package_spec(BASE);
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &chart, &[] as &[&str]).unwrap();
        let sm = find(&docs, "ServiceMonitor");
        assert_eq!(
            sm[0]["spec"]["endpoints"],
            json!([{"port": "http", "path": "/metrics", "interval": "30s"}]),
            "{helm_name}"
        );
        let docs = render(&helm, &plain, &[] as &[&str]).unwrap();
        assert!(find(&docs, "ServiceMonitor").is_empty(), "{helm_name}");
        let dep = find(&docs, "Deployment")[0];
        assert!(labels(&dep["metadata"]["labels"]).is_empty(), "{helm_name}");
        let pod = &dep["spec"]["template"]["metadata"];
        assert!(labels(&pod["labels"]).is_empty(), "{helm_name}");
        let annotations = pod["annotations"].as_object().cloned().unwrap_or_default();
        assert!(
            !annotations
                .keys()
                .any(|k| k.starts_with("instrumentation.opentelemetry.io/")),
            "{helm_name}: {annotations:?}"
        );
        // Turned on at install time, the port is checked by name.
        let err = render(
            &helm,
            &plain,
            &["--set", "metrics.enabled=true", "--set", "metrics.port=web"],
        )
        .unwrap_err();
        assert!(
            err.contains("metrics.port \"web\" is not a key of ports"),
            "{helm_name}: {err}"
        );
    }
}

#[test]
fn datadog_tags_label_the_workload_and_its_pods() {
    let (_d, chart) = package_spec(&format!("{BASE}{ALL}"));
    let want = |env: &str, version: &str| {
        vec![
            ("tags.datadoghq.com/env".to_string(), env.to_string()),
            ("tags.datadoghq.com/service".to_string(), "shop".to_string()),
            (
                "tags.datadoghq.com/version".to_string(),
                version.to_string(),
            ),
        ]
    };
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &chart, &[] as &[&str]).unwrap();
        let dep = find(&docs, "Deployment")[0];
        assert_eq!(
            labels(&dep["metadata"]["labels"]),
            want("ci", "1.4.2"),
            "{helm_name}"
        );
        assert_eq!(
            labels(&dep["spec"]["template"]["metadata"]["labels"]),
            want("ci", "1.4.2"),
            "{helm_name}"
        );
        // The selector is untouched: the tags may change without replacing the Deployment.
        assert!(labels(&dep["spec"]["selector"]["matchLabels"]).is_empty());
        // An install-time image tag is the version, made label-safe.
        let docs = render(&helm, &chart, &["--set", "image.tag=_v2.0.0."]).unwrap();
        let dep = find(&docs, "Deployment")[0];
        assert_eq!(
            labels(&dep["metadata"]["labels"]),
            want("ci", "v2.0.0"),
            "{helm_name}"
        );
    }
    let (_e, named) = package_spec(&format!(
        "{BASE}datadog_tags: {{env: prod, version: v9}}\npersistent_storage: [{{path: /data, size: 1}}]\n"
    ));
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &named, &[] as &[&str]).unwrap();
        let sts = find(&docs, "StatefulSet")[0];
        assert_eq!(
            labels(&sts["metadata"]["labels"]),
            want("prod", "v9"),
            "{helm_name}"
        );
        assert_eq!(
            labels(&sts["spec"]["template"]["metadata"]["labels"]),
            want("prod", "v9"),
            "{helm_name}"
        );
    }
}

#[test]
fn opentelemetry_annotates_the_service_pods() {
    let (_d, chart) = package_spec(&format!(
        "{BASE}{ALL}cron_jobs: [{{commands: [echo], schedule: \"0 * * * *\"}}]\n"
    ));
    let (_e, go) = package_spec(&format!(
        "{BASE}opentelemetry: {{language: go, instrumentation: go-auto, executable: /app/shop}}\n"
    ));
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &chart, &[] as &[&str]).unwrap();
        let pod = &find(&docs, "Deployment")[0]["spec"]["template"]["metadata"];
        assert_eq!(
            pod["annotations"],
            json!({"instrumentation.opentelemetry.io/inject-java": "otel/java-agent"}),
            "{helm_name}"
        );
        // The cron jobs' pods are not instrumented.
        let cj = find(&docs, "CronJob");
        assert_eq!(cj.len(), 1, "{helm_name}");
        assert!(
            cj[0]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"].is_null(),
            "{helm_name}"
        );
        let docs = render(&helm, &go, &[] as &[&str]).unwrap();
        let pod = &find(&docs, "Deployment")[0]["spec"]["template"]["metadata"];
        assert_eq!(
            pod["annotations"],
            json!({
                "instrumentation.opentelemetry.io/inject-go": "go-auto",
                "instrumentation.opentelemetry.io/otel-go-auto-target-exe": "/app/shop"
            }),
            "{helm_name}"
        );
        let err = render(&helm, &go, &["--set", "opentelemetry.executable="]).unwrap_err();
        assert!(
            err.contains("opentelemetry.executable is empty"),
            "{helm_name}: {err}"
        );
    }
}

#[test]
fn a_stateful_service_is_scraped_once() {
    let (_d, chart) = package_spec(&format!(
        "{BASE}metrics: {{port: metrics}}\npersistent_storage: [{{path: /data, size: 1}}]\n"
    ));
    for (helm_name, helm) in helms() {
        let docs = render(&helm, &chart, &[] as &[&str]).unwrap();
        let sm = find(&docs, "ServiceMonitor")[0];
        let services = find(&docs, "Service");
        assert_eq!(services.len(), 2, "{helm_name}");
        // Kubernetes' selector semantics: every matchLabels and matchExpressions entry.
        let selected: Vec<&str> = services
            .iter()
            .filter(|s| {
                let l = &s["metadata"]["labels"];
                let sel = &sm["spec"]["selector"];
                sel["matchLabels"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .all(|(k, v)| &l[k] == v)
                    && sel["matchExpressions"].as_array().unwrap().iter().all(|e| {
                        assert_eq!(e["operator"], "NotIn");
                        !e["values"]
                            .as_array()
                            .unwrap()
                            .contains(&l[e["key"].as_str().unwrap()])
                    })
            })
            .map(|s| s["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(selected, ["r-shop"], "{helm_name}");
    }
}

#[test]
fn the_crd_check_names_the_prometheus_operator() {
    let (_d, chart) = package_spec(&format!("{BASE}metrics: {{port: metrics}}\n"));
    for (helm_name, helm) in helms() {
        assert!(render(&helm, &chart, &[] as &[&str]).is_ok());
        assert_crd_check(
            helm_name,
            &helm,
            &chart,
            &["monitoring.coreos.com/v1/ServiceMonitor"],
            "metrics.enabled: the cluster has no monitoring.coreos.com/v1/ServiceMonitor; install the Prometheus Operator's CRDs",
        );
        // Datadog's tags and the OpenTelemetry annotation need no API of their own.
        let (_e, plain) = package_spec(&format!(
            "{BASE}datadog_tags: true\nopentelemetry: {{language: python, instrumentation: otel}}\n"
        ));
        assert!(render(&helm, &plain, &["--set", "crdCheck=always"]).is_ok());
    }
}

#[test]
fn the_service_monitor_passes_its_crd_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (_d, chart) = package_spec(&format!("{BASE}{ALL}"));
    let (_e, sts) = package_spec(&format!(
        "{BASE}metrics: {{port: http}}\npersistent_storage: [{{path: /data, size: 1}}]\n"
    ));
    let mut files = Vec::new();
    for (helm_name, helm) in helms() {
        for (i, c) in [&chart, &sts].iter().enumerate() {
            let docs = render(&helm, c, &[] as &[&str]).unwrap();
            let sm: Vec<&Value> = find(&docs, "ServiceMonitor");
            assert_eq!(sm.len(), 1);
            let file = dir.path().join(format!("{helm_name}-{i}.json"));
            std::fs::write(&file, serde_json::to_vec(&sm).unwrap()).unwrap();
            files.push(file);
        }
    }
    let o = run(models_validate("crd").args(&files));
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "CRD validation:\n{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("PASS ")).count(),
        4,
        "{out}"
    );
    // The validator refuses what the CRD does: an endpoint whose interval is not a duration.
    let bad = dir.path().join("bad.json");
    let sm = r#"[{"apiVersion":"monitoring.coreos.com/v1","kind":"ServiceMonitor","metadata":{"name":"s"},"spec":{"selector":{},"endpoints":[{"port":"m","interval":"often"}]}}]"#;
    std::fs::write(&bad, sm).unwrap();
    let o = run(models_validate("crd").arg(&bad));
    assert!(!o.status.success(), "{}", text(&o.stdout));
}

/// `metrics.kind: PodMonitor`, and a sidecar's port (which the Service does not expose) without
/// a kind: a PodMonitor on the workload's pods, its CRD schema, its `crdCheck`.
#[test]
fn a_pod_monitor_scrapes_the_pods_port_and_passes_its_crd_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (_d, explicit) = package_spec(&format!(
        "{BASE}metrics: {{port: metrics, kind: PodMonitor, interval: 15s}}\n"
    ));
    let (_e, sidecar) = package_spec(&format!(
        "{BASE}metrics: {{port: exporter}}\nsidecars:\n  - name: exp\n    image: ghcr.io/acme/exporter:1\n    ports: [{{name: exporter, port: 9100}}]\n"
    ));
    let mut files = Vec::new();
    for (helm_name, helm) in helms() {
        for (i, (c, port, interval)) in
            [(&explicit, "metrics", "15s"), (&sidecar, "exporter", "30s")]
                .into_iter()
                .enumerate()
        {
            let docs = render(&helm, c, &[] as &[&str]).unwrap();
            assert!(find(&docs, "ServiceMonitor").is_empty(), "{helm_name}");
            let pm = find(&docs, "PodMonitor");
            assert_eq!(pm.len(), 1, "{helm_name}");
            assert_eq!(pm[0]["metadata"]["name"], "r-shop");
            assert_eq!(
                pm[0]["spec"],
                json!({
                    "jobLabel": "app.kubernetes.io/name",
                    "namespaceSelector": {"matchNames": ["ci"]},
                    "selector": {"matchLabels": {
                        "app.kubernetes.io/name": "shop",
                        "app.kubernetes.io/instance": "r",
                        "app.kubernetes.io/component": "server",
                    }},
                    "podMetricsEndpoints": [{"port": port, "path": "/metrics", "interval": interval}],
                }),
                "{helm_name}"
            );
            // The selector matches the workload's pods, and jobLabel is a label they carry.
            let pod = &find(&docs, "Deployment")[0]["spec"]["template"]["metadata"]["labels"];
            for (k, v) in pm[0]["spec"]["selector"]["matchLabels"]
                .as_object()
                .unwrap()
            {
                assert_eq!(&pod[k], v, "{helm_name} {k}");
            }
            assert_eq!(pod["app.kubernetes.io/name"], "shop");
            let file = dir.path().join(format!("{helm_name}-{i}.json"));
            std::fs::write(&file, serde_json::to_vec(&pm).unwrap()).unwrap();
            files.push(file);
        }
        // crdCheck names the PodMonitor's API.
        assert_crd_check(
            helm_name,
            &helm,
            &sidecar,
            &["monitoring.coreos.com/v1/PodMonitor"],
            "metrics.enabled: the cluster has no monitoring.coreos.com/v1/PodMonitor",
        );
        // A ServiceMonitor cannot reach a sidecar's port; the render-time check says so.
        let err = render(&helm, &sidecar, &["--set", "metrics.kind=ServiceMonitor"]).unwrap_err();
        assert!(
            err.contains("metrics.port \"exporter\" is not a key of ports"),
            "{helm_name}: {err}"
        );
    }
    let o = run(models_validate("crd").args(&files));
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "CRD validation:\n{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("PASS ")).count(),
        4,
        "{out}"
    );
}
