//! End to end with the real tools: every example spec is packaged, then linted and rendered by
//! real Helm 3.17 and Helm 4.1, validated by kubernetes-validate for Kubernetes 1.30 to 1.37,
//! and the rendered objects are checked against what the spec says.

mod common;
#[path = "support/fake_api.rs"]
mod fake_api;

use std::process::Command;

use common::*;
use serde_json::{Value, json};

/// Run `check` for every packaged chart on both helms; report every failure together.
fn for_each_chart(
    mut check: impl FnMut(
        &Example,
        &str,
        &std::path::Path,
        &str,
        &std::path::Path,
    ) -> Result<(), String>,
) {
    let mut failures = Vec::new();
    for (ex, chart, path) in packaged() {
        for (helm_name, helm) in helms() {
            if let Err(e) = check(ex, chart, path, helm_name, &helm) {
                failures.push(format!("{} / {chart} / {helm_name}: {e}", ex.spec));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_chart_passes_helm_lint_strict() {
    for_each_chart(|ex, chart, path, _, helm| {
        let o = run(Command::new(helm)
            .args(["lint", "--strict"])
            .arg(path)
            .args(ex.set(chart)));
        if o.status.success() {
            Ok(())
        } else {
            Err(format!("{}{}", text(&o.stdout), text(&o.stderr)))
        }
    });
}

/// Every Kubernetes version the charts support and kubernetes-validate knows.
const KUBERNETES_VERSIONS: &[&str] = &[
    "1.30.0", "1.31.0", "1.32.0", "1.33.0", "1.34.0", "1.35.0", "1.36.0", "1.37.0",
];

/// Each chart rendered for each version (`--kube-version`, as helm reads it from the cluster it
/// installs to) is valid for that version: the fields the chart gates on the version (HPA
/// tolerance and in-place resize on 1.35+, trafficDistribution on 1.33+) appear exactly where the
/// API server accepts them, and a render for an old cluster carries nothing newer.
#[test]
fn every_chart_renders_valid_kubernetes_objects_for_1_30_to_1_37() {
    let kv = kubernetes_validate();
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for k8s in KUBERNETES_VERSIONS {
        let mut files = Vec::new();
        for_each_chart(|ex, chart, path, helm_name, helm| {
            let o = run(Command::new(helm)
                .args(["template", "r"])
                .arg(path)
                .args(["--namespace", "ci", "--kube-version", k8s])
                .args(ex.set(chart)));
            if !o.status.success() {
                return Err(format!("--kube-version {k8s}: {}", text(&o.stderr)));
            }
            let file = dir.path().join(format!("{chart}-{helm_name}-{k8s}.yaml"));
            std::fs::write(&file, without_crd_kinds(&text(&o.stdout))).unwrap();
            files.push(file);
            Ok(())
        });
        // One run per version over its files; any WARN (an unknown kind passes with a warning) fails.
        let v = run(Command::new(&kv).args(["--strict", "-k", k8s]).args(&files));
        let out = format!("{}{}", text(&v.stdout), text(&v.stderr));
        let bad: Vec<&str> = out.lines().filter(|l| !l.starts_with("INFO ")).collect();
        if !v.status.success() || !bad.is_empty() {
            failures.push(format!("kubernetes-validate {k8s}:\n{}", bad.join("\n")));
        }
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy();
            if !out
                .lines()
                .any(|l| l.contains(&*name) && l.contains(" passed "))
            {
                failures.push(format!(
                    "kubernetes-validate {k8s}: nothing validated in {name}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Kinds defined by CRDs, which kubernetes-validate has no schema for (it would only warn that
/// they are unknown): the Gateway API's HTTPRoute, GRPCRoute and BackendTLSPolicy, checked by
/// `every_gateway_api_object_passes_the_gateway_api_schemas` instead, KEDA's ScaledObject and
/// TriggerAuthentication and the Prometheus Operator's ServiceMonitor, checked against their CRD
/// schemas by tests/autoscaling.rs and tests/observability.rs.
const CRD_KINDS: &[&str] = &[
    "HTTPRoute",
    "GRPCRoute",
    "BackendTLSPolicy",
    "ScaledObject",
    "PodMonitor",
    "VerticalPodAutoscaler",
    "TriggerAuthentication",
    "ServiceMonitor",
];

/// `helm template` output without the documents of `CRD_KINDS` (a top-level `kind:` line).
fn without_crd_kinds(yaml: &str) -> String {
    let mut docs: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, _) in yaml.match_indices("---\n") {
        if i == 0 || yaml.as_bytes()[i - 1] == b'\n' {
            docs.push(&yaml[start..i]);
            start = i;
        }
    }
    docs.push(&yaml[start..]);
    docs.into_iter()
        .filter(|d| {
            !d.lines()
                .any(|l| CRD_KINDS.iter().any(|k| l == format!("kind: {k}")))
        })
        .collect()
}

/// Every object of the Gateway API group any example renders (HTTPRoute, GRPCRoute,
/// BackendTLSPolicy: the CRD_KINDS above), validated with the models of
/// @kubernetes-models/gateway-api; each of those kinds is rendered by some example.
#[test]
fn every_gateway_api_object_passes_the_gateway_api_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut objects = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for_each_chart(|ex, chart, path, helm_name, helm| {
        let docs = render(helm, path, &ex.set(chart))?;
        let gateway_api: Vec<&Value> = docs
            .iter()
            .filter(|d| {
                d["apiVersion"]
                    .as_str()
                    .is_some_and(|v| v.starts_with("gateway.networking.k8s.io/"))
            })
            .collect();
        if !gateway_api.is_empty() {
            objects += gateway_api.len();
            kinds.extend(
                gateway_api
                    .iter()
                    .map(|d| d["kind"].as_str().unwrap_or("?").to_string()),
            );
            let file = dir.path().join(format!("{chart}-{helm_name}.json"));
            std::fs::write(&file, serde_json::to_vec(&gateway_api).unwrap()).unwrap();
            files.push(file);
        }
        Ok(())
    });
    let want: std::collections::BTreeSet<String> = CRD_KINDS
        .iter()
        .filter(|k| ["HTTPRoute", "GRPCRoute", "BackendTLSPolicy"].contains(k))
        .map(|k| k.to_string())
        .collect();
    assert_eq!(kinds, want, "the Gateway API kinds the examples render");
    let o = run(models_validate("gateway-api").args(&files));
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "Gateway API validation:\n{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("PASS ")).count(),
        objects,
        "{out}"
    );
}

#[test]
fn rendered_objects_carry_what_the_spec_says() {
    for_each_chart(|ex, chart, path, _, helm| {
        // The newest Kubernetes: every field the chart gates on the version is rendered (the
        // version gates themselves are every_chart_renders_valid_kubernetes_objects_...'s).
        let mut args = ex.set(chart);
        args.extend(["--kube-version".to_string(), "1.37.0".to_string()]);
        let docs = render(helm, path, &args)?;
        let spec = spec_of(ex, chart);
        check_common(&docs)?;
        // The repository an AUTO image gets from the example's --set.
        check_against_spec(&spec, chart, &docs, &auto_repository(chart))
    });
}

/// The spec (or the Opta module) as written, with this test's own interpolation of the example.
fn spec_of(ex: &Example, chart: &str) -> Value {
    let text = std::fs::read_to_string(root().join("examples").join(ex.spec)).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    if doc.get("modules").is_none() {
        let mut doc = doc;
        let order: EnvOnly = serde_saphyr::from_str(&text).unwrap_or(EnvOnly {
            env_vars: None,
            env_refs: None,
        });
        doc["__env_order"] = json!(order.env_vars.map(|k| k.0).unwrap_or_default());
        doc["__env_refs_order"] = json!(order.env_refs.map(|k| k.0).unwrap_or_default());
        return doc;
    }
    let module = doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        // Several k8s-service modules: each chart is `<file name>-<module>`.
        .find(|m| {
            let module = m["name"].as_str().unwrap_or_default();
            chart == module
                || chart == format!("{}-{module}", doc["name"].as_str().unwrap_or_default())
        })
        .unwrap();
    // The example's placeholders, resolved by hand: an independent oracle for the loader.
    let resolved = serde_json::to_string(module)
        .unwrap()
        .replace("{vars.max_containers}", "4")
        .replace("{vars.log_level}", "debug")
        .replace("{env}", "staging")
        .replace("{layer_name}", "shop")
        .replace("{vars.region_label}", "eu-west")
        .replace("{parent.domain}", "shop.example.com")
        .replace("\"max_containers\":\"4\"", "\"max_containers\":4");
    serde_json::from_str(&resolved).unwrap()
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// What every chart guarantees whatever the spec: namespace, labels, restricted pods.
fn check_common(docs: &[Value]) -> Result<(), String> {
    for d in docs {
        let name = format!("{}/{}", d["kind"], d["metadata"]["name"]);
        ensure(d["metadata"]["namespace"] == "ci", || {
            format!("{name} is not in the release namespace")
        })?;
        for l in [
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/managed-by",
            "helm.sh/chart",
        ] {
            ensure(d["metadata"]["labels"][l].is_string(), || {
                format!("{name} lacks label {l}")
            })?;
        }
    }
    for sa in find(docs, "ServiceAccount") {
        ensure(sa["automountServiceAccountToken"] == false, || {
            "the ServiceAccount automounts its token".into()
        })?;
    }
    Ok(())
}

fn pod_spec(d: &Value) -> &Value {
    if d["kind"] == "CronJob" {
        &d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    } else {
        &d["spec"]["template"]["spec"]
    }
}

fn pod_meta(d: &Value) -> &Value {
    if d["kind"] == "CronJob" {
        &d["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
    } else {
        &d["spec"]["template"]["metadata"]
    }
}

fn int(v: &Value, default: i64) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        _ => default,
    }
}

fn cpu(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("{}m", n),
        Value::String(s) if s.ends_with('m') => s.clone(),
        Value::String(s) => format!("{}m", (s.parse::<f64>().unwrap() * 1000.0).round() as i64),
        _ => unreachable!(),
    }
}

fn memory(v: &Value) -> (i64, String) {
    match v {
        Value::Number(n) => (n.as_i64().unwrap(), "Mi".into()),
        Value::String(s) => {
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap();
            (s[..split].parse().unwrap(), s[split..].to_string())
        }
        _ => unreachable!(),
    }
}

/// The spec's env vars in order, from either form. `serde_json::Value` sorts map keys, so the
/// order comes from the raw text, read with an order-keeping visitor.
fn spec_env(spec: &Value) -> Vec<(String, String)> {
    match &spec["env_vars"] {
        Value::Array(a) => a
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().into(),
                    e["value"].as_str().unwrap().into(),
                )
            })
            .collect(),
        Value::Object(m) => {
            let order = spec["__env_order"].as_array().cloned().unwrap_or_default();
            order
                .iter()
                .map(|k| {
                    let k = k.as_str().unwrap();
                    (k.to_string(), m[k].as_str().unwrap().to_string())
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Keys of a YAML mapping in document order.
struct KeyOrder(Vec<String>);

impl<'de> serde::Deserialize<'de> for KeyOrder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = KeyOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("anything")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<KeyOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, _)) = m.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(KeyOrder(keys))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> Result<KeyOrder, A::Error> {
                while s.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(KeyOrder(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(serde::Deserialize)]
struct EnvOnly {
    env_vars: Option<KeyOrder>,
    env_refs: Option<KeyOrder>,
}

fn check_against_spec(
    spec: &Value,
    chart: &str,
    docs: &[Value],
    auto_repo: &str,
) -> Result<(), String> {
    let fullname = format!("r-{chart}");
    let min = int(&spec["min_containers"], 1);
    let max = int(&spec["max_containers"], 3);
    let stateful = spec["persistent_storage"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    let workloads: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "Deployment" || d["kind"] == "StatefulSet")
        .collect();

    // Workload kind and replica ownership.
    if max == 0 {
        ensure(workloads.is_empty(), || {
            "max_containers 0 must render no workload".into()
        })?;
        ensure(find(docs, "HorizontalPodAutoscaler").is_empty(), || {
            "max_containers 0 must render no HPA".into()
        })?;
    } else {
        ensure(workloads.len() == 1, || {
            format!("expected one workload, found {}", workloads.len())
        })?;
        let w = workloads[0];
        ensure(
            w["kind"]
                == if stateful {
                    "StatefulSet"
                } else {
                    "Deployment"
                },
            || format!("wrong workload kind {}", w["kind"]),
        )?;
        let hpas = find(docs, "HorizontalPodAutoscaler");
        if min < max && !spec["scale_on"].is_null() {
            // KEDA's ScaledObject instead of the HPA (tests/autoscaling.rs checks it).
            ensure(hpas.is_empty(), || "scale_on must not render an HPA".into())?;
            ensure(find(docs, "ScaledObject").len() == 1, || {
                "scale_on must render a ScaledObject".into()
            })?;
        } else if min < max {
            ensure(hpas.len() == 1, || "min < max must render an HPA".into())?;
            let h = hpas[0];
            ensure(h["apiVersion"] == "autoscaling/v2", || {
                "HPA must be autoscaling/v2".into()
            })?;
            ensure(
                h["spec"]["minReplicas"] == min && h["spec"]["maxReplicas"] == max,
                || {
                    format!(
                        "HPA bounds {} {}",
                        h["spec"]["minReplicas"], h["spec"]["maxReplicas"]
                    )
                },
            )?;
            ensure(
                h["spec"]["scaleTargetRef"]["kind"] == w["kind"]
                    && h["spec"]["scaleTargetRef"]["name"] == w["metadata"]["name"],
                || "HPA targets the wrong object".into(),
            )?;
            // Offline (lookup finds nothing), an autoscaled workload starts at its floor.
            ensure(w["spec"]["replicas"] == min, || {
                format!(
                    "an autoscaled workload must start at min_containers {min}, not {}",
                    w["spec"]["replicas"]
                )
            })?;
            for (metric, field) in [
                ("cpu", "autoscaling_target_cpu_percentage"),
                ("memory", "autoscaling_target_mem_percentage"),
            ] {
                let want = int(&spec[field], 80);
                let got = h["spec"]["metrics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["resource"]["name"] == metric);
                if want == 0 {
                    ensure(got.is_none(), || {
                        format!("{metric} target 0 must omit the metric")
                    })?;
                } else {
                    ensure(
                        got.is_some_and(|m| m["resource"]["target"]["averageUtilization"] == want),
                        || format!("{metric} target should be {want}"),
                    )?;
                }
            }
            // autoscaling_metrics, in the spec's order, after the resource metrics.
            let quantity =
                |v: &Value| json!(v.as_str().map_or_else(|| v.to_string(), String::from));
            let metric = |m: &Value| {
                let mut id = json!({"name": m["metric"]});
                if let Some(sel) = m.get("selector") {
                    id["selector"] = json!({"matchLabels": sel});
                }
                id
            };
            let want: Vec<Value> = spec["autoscaling_metrics"]
                .as_array()
                .map(|ms| {
                    ms.iter()
                        .map(|m| match (m.get("pods"), m.get("external")) {
                            (Some(p), _) => json!({"type": "Pods", "pods": {"metric": metric(p),
                                "target": {"type": "AverageValue", "averageValue": quantity(&p["average"])}}}),
                            (_, Some(e)) => {
                                let target = match e.get("value") {
                                    Some(v) => json!({"type": "Value", "value": quantity(v)}),
                                    None => json!({"type": "AverageValue", "averageValue": quantity(&e["average"])}),
                                };
                                json!({"type": "External", "external": {"metric": metric(e), "target": target}})
                            }
                            _ => json!("an autoscaling_metrics entry of neither kind"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let got: Vec<Value> = h["spec"]["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["type"] != "Resource")
                .cloned()
                .collect();
            ensure(got == want, || {
                format!("HPA custom metrics {got:?} want {want:?}")
            })?;
        } else {
            ensure(hpas.is_empty(), || {
                "min == max must not render an HPA".into()
            })?;
            ensure(w["spec"]["replicas"] == min, || {
                format!("replicas should be {min}")
            })?;
        }
        if w["kind"] == "Deployment" {
            ensure(
                w["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0,
                || "rolling updates must keep maxUnavailable 0".into(),
            )?;
        }
        check_container(spec, &fullname, w, false, auto_repo)?;
        check_probes(spec, w)?;
        check_services(spec, &fullname, docs, stateful)?;
        if stateful {
            let claims = w["spec"]["volumeClaimTemplates"].as_array().unwrap();
            let want = spec["persistent_storage"].as_array().unwrap();
            ensure(claims.len() == want.len(), || {
                "one claim per persistent_storage entry".into()
            })?;
            let mounts = &w["spec"]["template"]["spec"]["containers"][0]["volumeMounts"];
            for (c, s) in claims.iter().zip(want) {
                ensure(
                    c["spec"]["resources"]["requests"]["storage"]
                        == format!("{}Gi", int(&s["size"], 0)),
                    || {
                        format!(
                            "claim size {}",
                            c["spec"]["resources"]["requests"]["storage"]
                        )
                    },
                )?;
                let mounted = mounts
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["name"] == c["metadata"]["name"] && m["mountPath"] == s["path"]);
                ensure(mounted, || {
                    format!(
                        "claim {} is not mounted at {}",
                        c["metadata"]["name"], s["path"]
                    )
                })?;
                if let Some(class) = s["storage_class"].as_str() {
                    ensure(c["spec"]["storageClassName"] == class, || {
                        "storage_class not honoured".into()
                    })?;
                }
            }
            ensure(
                w["spec"]["serviceName"] == format!("{fullname}-headless"),
                || "StatefulSet must use the headless Service".into(),
            )?;
            // What happens to the claims, written out: Retain unless the spec says Delete.
            let r = &spec["persistent_storage_retention"];
            let want = json!({
                "whenDeleted": r["when_deleted"].as_str().unwrap_or("Retain"),
                "whenScaled": r["when_scaled"].as_str().unwrap_or("Retain"),
            });
            ensure(
                w["spec"]["persistentVolumeClaimRetentionPolicy"] == want,
                || {
                    format!(
                        "persistentVolumeClaimRetentionPolicy {} want {want}",
                        w["spec"]["persistentVolumeClaimRetentionPolicy"]
                    )
                },
            )?;
        }
    }
    check_ingresses(spec, docs)?;
    check_tls(spec, &fullname, docs)?;
    check_gateway_routes(spec, &fullname, docs)?;
    check_identity(spec, docs)?;
    check_pdb(spec, chart, docs)?;
    check_network_policy(spec, chart, docs)?;
    check_workload_extras(spec, docs)?;
    check_cron_jobs(spec, &fullname, docs, auto_repo)?;
    check_release_job(spec, &fullname, docs, auto_repo)?;
    check_config(spec, &fullname, docs)
}

/// An object of the release phase (the Job, its ServiceAccount and its config files).
fn is_release_hook(d: &Value) -> bool {
    d["metadata"]["labels"]["app.kubernetes.io/component"] == "release"
}

/// `release_command`: one Job `<fullname>-release`, a Helm pre-install/pre-upgrade hook and an
/// Argo CD PreSync hook, replaced by the next release but never deleted after it; its pod the
/// service's (image, env, secrets, resources, security: check_container; config files:
/// check_config) run as a hook ServiceAccount with the chart's annotations, made before it, as
/// is its copy of the config files.
fn check_release_job(
    spec: &Value,
    fullname: &str,
    docs: &[Value],
    auto_repo: &str,
) -> Result<(), String> {
    let hooks: Vec<&Value> = docs.iter().filter(|d| is_release_hook(d)).collect();
    let Some(command) = spec.get("release_command") else {
        return ensure(hooks.is_empty() && find(docs, "Job").is_empty(), || {
            "release objects without release_command".into()
        });
    };
    let name = format!("{fullname}-release");
    let hook = |weight: &str, job: bool| {
        let mut a = json!({
            "helm.sh/hook": "pre-install,pre-upgrade",
            "helm.sh/hook-weight": weight,
            "helm.sh/hook-delete-policy": "before-hook-creation",
            "argocd.argoproj.io/hook": "PreSync",
            "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
            "argocd.argoproj.io/sync-wave": weight,
        });
        if job {
            a["helm.sh/hook-output-log-policy"] = json!("hook-failed");
        }
        a
    };
    let jobs = find(docs, "Job");
    ensure(
        jobs.len() == 1 && jobs[0]["metadata"]["name"] == name.as_str(),
        || format!("want one Job {name}, found {jobs:?}"),
    )?;
    let job = jobs[0];
    ensure(job["metadata"]["annotations"] == hook("0", true), || {
        format!("{name}: annotations {}", job["metadata"]["annotations"])
    })?;
    let timeout = int(&spec["timeout"], 300);
    let want = json!({
        "backoffLimit": int(&spec["release_retries"], 0),
        "activeDeadlineSeconds": int(&spec["release_timeout"], timeout),
    });
    for key in ["backoffLimit", "activeDeadlineSeconds"] {
        ensure(job["spec"][key] == want[key], || {
            format!("{name}: {key} {} want {}", job["spec"][key], want[key])
        })?;
    }
    ensure(job["spec"].get("ttlSecondsAfterFinished").is_none(), || {
        format!("{name}: a TTL would delete the logs")
    })?;
    let pod = pod_spec(job);
    let c = &pod["containers"][0];
    ensure(
        c["name"] == "release" && c["command"] == *command && c.get("args").is_none(),
        || format!("{name}: container {} command {}", c["name"], c["command"]),
    )?;
    ensure(pod["restartPolicy"] == "Never", || {
        format!("{name}: restartPolicy")
    })?;
    ensure(pod.get("initContainers").is_none(), || {
        format!("{name}: init containers and sidecars are the service's pods' only")
    })?;
    ensure(
        pod_meta(job)["labels"]["app.kubernetes.io/component"] == "release",
        || format!("{name}: its pods must not match the Service"),
    )?;
    check_container(spec, fullname, job, true, auto_repo)?;
    // Its ServiceAccount: the chart's annotations, a hook made first.
    ensure(pod["serviceAccountName"] == name.as_str(), || {
        format!("{name}: runs as {}", pod["serviceAccountName"])
    })?;
    let sa = hooks
        .iter()
        .find(|d| d["kind"] == "ServiceAccount")
        .ok_or_else(|| format!("{name}: no hook ServiceAccount"))?;
    let chart_sa = find(docs, "ServiceAccount")
        .into_iter()
        .find(|d| !is_release_hook(d))
        .ok_or("no ServiceAccount")?;
    let mut want = hook("-10", false);
    for (k, v) in chart_sa["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        want[k] = v.clone();
    }
    ensure(
        sa["metadata"]["name"] == name.as_str()
            && sa["metadata"]["annotations"] == want
            && sa["automountServiceAccountToken"] == false,
        || format!("{name}: hook ServiceAccount {sa}"),
    )?;
    // Its config files: a hook copy of the chart's, made first.
    let copy = hooks.iter().find(|d| d["kind"] == "ConfigMap");
    match spec["config_files"].as_object() {
        Some(files) if !files.is_empty() => {
            let copy = copy.ok_or_else(|| format!("{name}: no hook ConfigMap"))?;
            let want: serde_json::Map<String, Value> = files
                .iter()
                .map(|(p, c)| (p[1..].replace('/', "_"), c.clone()))
                .collect();
            ensure(
                copy["metadata"]["name"] == format!("{name}-config")
                    && copy["metadata"]["annotations"] == hook("-10", false)
                    && copy["data"] == Value::Object(want),
                || format!("{name}: hook ConfigMap {copy}"),
            )?;
        }
        _ => ensure(copy.is_none(), || {
            format!("{name}: a ConfigMap without files")
        })?,
    }
    ensure(hooks.len() == 1 + 1 + usize::from(copy.is_some()), || {
        format!("{name}: {} release objects", hooks.len())
    })
}

/// A PodDisruptionBudget exactly when it is enabled and more than one replica can run; it selects
/// the server pods and always leaves room for an eviction.
fn check_pdb(spec: &Value, chart: &str, docs: &[Value]) -> Result<(), String> {
    let pdbs = find(docs, "PodDisruptionBudget");
    let max = int(&spec["max_containers"], 3);
    let cfg = &spec["pod_disruption_budget"];
    let enabled = cfg["enabled"] != false;
    if !(enabled && max > 1) {
        return ensure(pdbs.is_empty(), || {
            format!("no PodDisruptionBudget expected (enabled {enabled}, max_containers {max})")
        });
    }
    ensure(pdbs.len() == 1, || {
        format!("{} PodDisruptionBudgets, want 1", pdbs.len())
    })?;
    let p = &pdbs[0];
    ensure(p["apiVersion"] == "policy/v1", || "PDB apiVersion".into())?;
    let want_selector = json!({
        "app.kubernetes.io/name": chart,
        "app.kubernetes.io/instance": "r",
        "app.kubernetes.io/component": "server",
    });
    ensure(
        p["spec"]["selector"]["matchLabels"] == want_selector,
        || format!("PDB selector {}", p["spec"]["selector"]),
    )?;
    let workload = find(docs, "Deployment")
        .into_iter()
        .chain(find(docs, "StatefulSet"))
        .next()
        .ok_or("a PDB without a workload")?;
    ensure(
        workload["spec"]["selector"]["matchLabels"] == want_selector,
        || "the PDB selector must be the workload's".into(),
    )?;
    ensure(
        p["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow",
        || "unhealthyPodEvictionPolicy must be AlwaysAllow".into(),
    )?;
    match cfg.get("min_available") {
        Some(m) => ensure(
            p["spec"]["minAvailable"] == *m && p["spec"].get("maxUnavailable").is_none(),
            || format!("PDB minAvailable {} want {m}", p["spec"]["minAvailable"]),
        ),
        None => {
            let want = cfg.get("max_unavailable").cloned().unwrap_or(json!(1));
            ensure(
                p["spec"]["maxUnavailable"] == want && p["spec"].get("minAvailable").is_none(),
                || {
                    format!(
                        "PDB maxUnavailable {} want {want}",
                        p["spec"]["maxUnavailable"]
                    )
                },
            )
        }
    }
}

/// The spec's namespace names and CIDRs as NetworkPolicyPeers.
fn peers(list: &Value) -> Vec<Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let p = p.as_str().unwrap();
            if p.contains('/') {
                json!({"ipBlock": {"cidr": p}})
            } else {
                json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": p}}})
            }
        })
        .collect()
}

/// A NetworkPolicy over every pod of the release unless disabled: the declared ports open to
/// allow_from (or anyone), everything else closed; egress open unless egress_to limits it.
fn check_network_policy(spec: &Value, chart: &str, docs: &[Value]) -> Result<(), String> {
    let nps = find(docs, "NetworkPolicy");
    let cfg = &spec["network_policy"];
    let no_pods = int(&spec["max_containers"], 3) == 0
        && spec["cron_jobs"].as_array().is_none_or(|a| a.is_empty());
    if cfg["enabled"] == false || no_pods {
        return ensure(nps.is_empty(), || {
            "network_policy disabled (or no pods), yet a NetworkPolicy".into()
        });
    }
    ensure(nps.len() == 1, || {
        format!("{} NetworkPolicies, want 1", nps.len())
    })?;
    let np = &nps[0]["spec"];
    let own = json!({"app.kubernetes.io/name": chart, "app.kubernetes.io/instance": "r"});
    ensure(np["podSelector"]["matchLabels"] == own, || {
        format!("NetworkPolicy podSelector {}", np["podSelector"])
    })?;
    ensure(np["policyTypes"] == json!(["Ingress", "Egress"]), || {
        format!("policyTypes {}", np["policyTypes"])
    })?;
    // Every pod of the release, cron jobs included, is selected.
    for d in docs {
        let labels = match d["kind"].as_str() {
            Some("Deployment" | "StatefulSet") => &d["spec"]["template"]["metadata"]["labels"],
            Some("CronJob") => &d["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"],
            _ => continue,
        };
        for (k, v) in own.as_object().unwrap() {
            ensure(&labels[k] == v, || {
                format!("{} pods are not selected by the NetworkPolicy", d["kind"])
            })?;
        }
    }
    // Incoming: the declared container ports, from allow_from (+ the release) or anywhere.
    let mut ports: Vec<i64> = Vec::new();
    if let Some(p) = spec["port"].as_object() {
        ports.push(p.values().next().unwrap().as_i64().unwrap());
    }
    // The chart's `ports` is a mapping by name: sorted by name.
    let mut named: Vec<(&str, i64)> = spec["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["name"].as_str().unwrap(), p["port"].as_i64().unwrap()))
        .collect();
    named.sort();
    ports.extend(named.iter().map(|(_, p)| p));
    // Sidecars share the pod's network: their ports are declared ports too.
    for s in spec["sidecars"].as_array().into_iter().flatten() {
        for p in s["ports"].as_array().into_iter().flatten() {
            ports.push(p["port"].as_i64().unwrap());
        }
    }
    if int(&spec["max_containers"], 3) == 0 || ports.is_empty() {
        ensure(np["ingress"] == json!([]), || {
            format!(
                "no ports: all ingress must be denied, got {}",
                np["ingress"]
            )
        })?;
    } else {
        let want_ports: Vec<Value> = ports
            .iter()
            .map(|p| json!({"port": p, "protocol": "TCP"}))
            .collect();
        let mut want = json!({"ports": want_ports});
        let from = peers(&cfg["allow_from"]);
        if !from.is_empty() {
            let mut from = from;
            from.push(json!({"podSelector": {"matchLabels": own}}));
            want["from"] = json!(from);
        }
        ensure(np["ingress"] == json!([want]), || {
            format!("NetworkPolicy ingress {} want [{want}]", np["ingress"])
        })?;
    }
    // Outgoing.
    let want_egress = if cfg.get("egress_to").is_some() {
        let mut to = vec![json!({"podSelector": {"matchLabels": own}})];
        to.extend(peers(&cfg["egress_to"]));
        json!([
            {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
            {"to": to},
        ])
    } else {
        json!([{}])
    };
    ensure(np["egress"] == want_egress, || {
        format!("NetworkPolicy egress {} want {want_egress}", np["egress"])
    })
}

fn check_container(
    spec: &Value,
    fullname: &str,
    w: &Value,
    cron: bool,
    auto_repo: &str,
) -> Result<(), String> {
    let pod = pod_spec(w);
    let c = &pod["containers"][0];
    let name = format!("{}/{}", w["kind"], w["metadata"]["name"]);
    // Image: repository[:tag][@digest]; no tag means the chart's appVersion ("latest" here).
    let image = spec["image"].as_str().unwrap();
    let (repo, inline_tag) = match image.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r.to_string(), Some(t.to_string())),
        _ => (image.to_string(), None),
    };
    let repo = if repo == "AUTO" {
        auto_repo.to_string()
    } else {
        repo
    };
    let tag = spec["tag"]
        .as_str()
        .map(String::from)
        .or(inline_tag)
        .unwrap_or_else(|| "latest".into());
    let mut want_image = format!("{repo}:{tag}");
    if let Some(d) = spec["digest"].as_str() {
        want_image = format!("{want_image}@{d}");
    }
    ensure(c["image"] == want_image.as_str(), || {
        format!("{name}: image {} want {want_image}", c["image"])
    })?;
    // Env, byte for byte and in the chart's order (values without `$(` first, then those with it,
    // each sorted by name: `model::env::render_order`), then the secret keys.
    let env = c["env"].as_array().cloned().unwrap_or_default();
    let plain: Vec<(String, String)> = env
        .iter()
        .filter(|e| e.get("value").is_some())
        .map(|e| {
            (
                e["name"].as_str().unwrap().into(),
                e["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut want_env = spec_env(spec);
    want_env.sort_by(|a, b| (a.1.contains("$("), &a.0).cmp(&(b.1.contains("$("), &b.0)));
    ensure(plain == want_env, || {
        let i = plain
            .iter()
            .zip(&want_env)
            .position(|(a, b)| a != b)
            .unwrap_or(plain.len().min(want_env.len()));
        format!(
            "{name}: env differs at #{i}: got {:?} want {:?} ({} vs {} vars)",
            plain.get(i),
            want_env.get(i),
            plain.len(),
            want_env.len()
        )
    })?;
    let secret_name = spec["secret_name"]
        .as_str()
        .map(String::from)
        .unwrap_or(format!("{fullname}-secrets"));
    if let Some(dir) = spec["secrets_mount_path"].as_str() {
        // The keys are files, never environment variables (env_refs are the user's choice).
        let refs: Vec<String> = spec_env_refs(spec).into_iter().map(|(n, _)| n).collect();
        let from_secrets = env
            .iter()
            .filter(|e| !refs.iter().any(|r| e["name"] == r.as_str()))
            .any(|e| e.get("valueFrom").is_some());
        ensure(!from_secrets, || {
            format!("{name}: secrets_mount_path must keep the secrets out of env")
        })?;
        let keys = spec["secrets"].as_array().cloned().unwrap_or_default();
        let items: Vec<Value> = keys.iter().map(|k| json!({"key": k, "path": k})).collect();
        let vol = pod["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == "secrets")
            .ok_or_else(|| format!("{name}: no secrets volume"))?;
        let want = json!({"secretName": secret_name, "defaultMode": 0o440, "items": items});
        ensure(vol["secret"] == want, || {
            format!("{name}: secrets volume {} want {want}", vol["secret"])
        })?;
        let mounted = c["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["name"] == "secrets" && m["mountPath"] == dir && m["readOnly"] == true);
        ensure(mounted, || {
            format!("{name}: secrets not mounted read-only at {dir}")
        })?;
    } else {
        for key in spec["secrets"].as_array().into_iter().flatten() {
            let found = env.iter().any(|e| {
                e["name"] == *key
                    && e["valueFrom"]["secretKeyRef"] == json!({"name": secret_name, "key": key})
            });
            ensure(found, || {
                format!("{name}: secret {key} is not read from {secret_name}")
            })?;
        }
    }
    // Resources: requests from the spec, CPU and memory limits twice the requests unless given,
    // ephemeral storage for the logs and a limit that holds them, /tmp and the writable paths.
    let req = &spec["resource_request"];
    let (rcpu, rmem) = if req.is_object() {
        (cpu(&req["cpu"]), memory(&req["memory"]))
    } else {
        ("100m".into(), (128, "Mi".into()))
    };
    let (reph, leph) = spec_ephemeral(spec);
    let want = resources_json(&rcpu, &rmem, (&reph, &leph), &spec["resource_limits"]);
    ensure(c["resources"] == want, || {
        format!("{name}: resources {} want {want}", c["resources"])
    })?;
    // Command and args (the service's; cron jobs have their own).
    if !cron {
        for (field, key) in [("commands", "command"), ("args", "args")] {
            if let Some(v) = spec.get(field) {
                ensure(&c[key] == v, || {
                    format!("{name}: {key} {} want {v}", c[key])
                })?;
            }
        }
    }
    // Pod metadata.
    let meta = pod_meta(w);
    for (k, v) in spec["pod_annotations"].as_object().into_iter().flatten() {
        ensure(&meta["annotations"][k] == v, || {
            format!(
                "{name}: pod annotation {k} is {} not {v}",
                meta["annotations"][k]
            )
        })?;
    }
    for (k, v) in spec["pod_labels"].as_object().into_iter().flatten() {
        ensure(&meta["labels"][k] == v, || format!("{name}: pod label {k}"))?;
    }
    // Tolerations: Opta's defaults (value `opta`, effect NoSchedule) only for a bare `{key}`.
    for (i, t) in spec["tolerations"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let got = &pod["tolerations"][i];
        ensure(got["key"] == t["key"], || {
            format!("{name}: toleration {i} key")
        })?;
        let opta = ["operator", "value", "effect"]
            .iter()
            .all(|f| t.get(f).is_none());
        let (value, effect) = if opta {
            (json!("opta"), json!("NoSchedule"))
        } else {
            (Value::Null, Value::Null)
        };
        ensure(got["value"] == *t.get("value").unwrap_or(&value), || {
            format!("{name}: toleration {i} value {}", got["value"])
        })?;
        ensure(got["effect"] == *t.get("effect").unwrap_or(&effect), || {
            format!("{name}: toleration {i} effect")
        })?;
    }
    check_restricted(&name, pod, spec)
}

/// Pod Security Standards "restricted" unless the spec relaxes it (`security`), or exactly
/// "baseline" with `security_profile: baseline`; in both, the unprivileged-port sysctl, `/tmp`
/// and the writable paths as sized emptyDirs in every container.
fn check_restricted(name: &str, pod: &Value, spec: &Value) -> Result<(), String> {
    let baseline = spec["security_profile"] == "baseline";
    let relaxed = spec
        .get("security")
        .is_some_and(|s| s.get("run_as_non_root") == Some(&json!(false)));
    let psc = &pod["securityContext"];
    ensure(psc["seccompProfile"]["type"] == "RuntimeDefault", || {
        format!("{name}: seccomp")
    })?;
    ensure(pod["automountServiceAccountToken"] == false, || {
        format!("{name}: token automount")
    })?;
    ensure(pod["serviceAccountName"].is_string(), || {
        format!("{name}: dedicated ServiceAccount")
    })?;
    let sysctls = json!([{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]);
    ensure(psc["sysctls"] == sysctls, || {
        format!("{name}: sysctls {} want {sysctls}", psc["sysctls"])
    })?;
    if baseline {
        // The image's own user: no runAsUser, runAsGroup or runAsNonRoot anywhere.
        let want = json!({"fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}, "sysctls": sysctls});
        ensure(*psc == want, || {
            format!("{name}: baseline pod securityContext {psc} want {want}")
        })?;
    } else {
        ensure(relaxed || psc["runAsNonRoot"] == true, || {
            format!("{name}: pod runAsNonRoot")
        })?;
        let want_uid = spec["security"]["run_as_user"].as_i64().unwrap_or(10001);
        ensure(psc["runAsUser"] == want_uid, || {
            format!("{name}: runAsUser {} want {want_uid}", psc["runAsUser"])
        })?;
    }
    let (tmp, writable) = spec_scratch(spec);
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    let mut want_mounts = vec![json!({"name": "tmp", "mountPath": "/tmp"})];
    let mut want_volumes = vec![json!({"name": "tmp", "emptyDir": {"sizeLimit": tmp}})];
    for (path, size) in &writable {
        let vname = writable_volume_name(path);
        want_mounts.push(json!({"name": vname, "mountPath": path}));
        want_volumes.push(json!({"name": vname, "emptyDir": {"sizeLimit": size}}));
    }
    ensure(
        volumes.len() >= want_volumes.len() && volumes[..want_volumes.len()] == want_volumes[..],
        || {
            format!(
                "{name}: volumes {volumes:?} do not start with /tmp and the writable paths {want_volumes:?}"
            )
        },
    )?;
    let inits = pod["initContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for c in pod["containers"].as_array().unwrap().iter().chain(&inits) {
        let sc = &c["securityContext"];
        if baseline {
            let want = json!({"allowPrivilegeEscalation": true, "privileged": false, "readOnlyRootFilesystem": false});
            ensure(*sc == want, || {
                format!("{name}: baseline securityContext {sc} want {want}")
            })?;
        } else {
            ensure(sc["allowPrivilegeEscalation"] == false, || {
                format!("{name}: allowPrivilegeEscalation")
            })?;
            ensure(sc["readOnlyRootFilesystem"] == true, || {
                format!("{name}: readOnlyRootFilesystem")
            })?;
            ensure(sc["capabilities"]["drop"] == json!(["ALL"]), || {
                format!("{name}: capabilities drop ALL")
            })?;
        }
        // /tmp first, then every writable path, in every container.
        let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
        ensure(
            mounts.len() >= want_mounts.len() && mounts[..want_mounts.len()] == want_mounts[..],
            || {
                format!(
                    "{name} {}: mounts {mounts:?} do not start with /tmp and the writable paths {want_mounts:?}",
                    c["name"]
                )
            },
        )?;
    }
    Ok(())
}

fn check_probes(spec: &Value, w: &Value) -> Result<(), String> {
    let c = &pod_spec(w)["containers"][0];
    let tcp_probe_port = spec["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| Some(&p["name"]) == spec.get("probe_port") && p["type"] == "tcp");
    let grpc = spec["grpc_health_check"] == true
        || (spec.get("grpc_health_service").is_some() && spec["grpc_health_check"] != false);
    let startup = [
        "startup_probe_path",
        "startup_probe_command",
        "initial_startup_delay",
    ]
    .iter()
    .any(|f| spec.get(*f).is_some())
        || spec["probe_timing"].get("startup").is_some();
    for kind in ["liveness", "readiness"] {
        let probe = &c[format!("{kind}Probe")];
        check_probe_timing(spec, kind, probe)?;
        // healthcheck_path is readiness's: liveness only checks that the port accepts
        // connections (TCP), unless liveness_probe_path says otherwise.
        let path = match kind {
            "liveness" => spec.get("liveness_probe_path"),
            _ => spec
                .get("readiness_probe_path")
                .or(spec.get("healthcheck_path")),
        };
        let cmd = spec
            .get(format!("{kind}_probe_command"))
            .or(spec.get("healthcheck_command"));
        // A startup probe guards the start: no initial delay unless the spec asks for one.
        let delay = int(
            &spec[format!("initial_{kind}_delay")],
            if startup { 0 } else { 30 },
        );
        ensure(probe["initialDelaySeconds"] == delay, || {
            format!(
                "{kind} initialDelaySeconds {} want {delay}",
                probe["initialDelaySeconds"]
            )
        })?;
        match (path, cmd) {
            (Some(p), _) if !tcp_probe_port => ensure(&probe["httpGet"]["path"] == p, || {
                format!("{kind} httpGet path {} want {p}", probe["httpGet"]["path"])
            })?,
            (_, Some(cmd)) => ensure(&probe["exec"]["command"] == cmd, || {
                format!("{kind} exec {} want {cmd}", probe["exec"]["command"])
            })?,
            _ if grpc => check_grpc_probe(spec, kind, probe)?,
            _ => ensure(probe["tcpSocket"].is_object(), || {
                format!("{kind} should fall back to a TCP check")
            })?,
        }
    }
    check_startup_probe(spec, c, tcp_probe_port)?;
    ensure(c["livenessProbe"] != c["readinessProbe"], || {
        "liveness and readiness probes are identical".into()
    })
}

/// period, timeout and failure threshold: probe_timing.<kind>, else the chart's defaults.
fn check_probe_timing(spec: &Value, kind: &str, probe: &Value) -> Result<(), String> {
    let defaults = match kind {
        "liveness" => (10, 3, 6),
        "readiness" => (10, 2, 3),
        _ => (10, 3, 30),
    };
    let t = &spec["probe_timing"][kind];
    for (field, key, default) in [
        ("period_seconds", "periodSeconds", defaults.0),
        ("timeout_seconds", "timeoutSeconds", defaults.1),
        ("failure_threshold", "failureThreshold", defaults.2),
    ] {
        let want = int(&t[field], default);
        ensure(probe[key] == want, || {
            format!("{kind} {key} {} want {want}", probe[key])
        })?;
    }
    Ok(())
}

/// A native gRPC probe of the probe port's number (GRPCAction takes no port name).
fn check_grpc_probe(spec: &Value, kind: &str, probe: &Value) -> Result<(), String> {
    let number = match spec["port"]["grpc"].as_i64() {
        Some(n) => n,
        None => {
            let ports = spec["ports"].as_array().ok_or("grpc without ports")?;
            let name = spec.get("probe_port").unwrap_or(&ports[0]["name"]);
            let p = ports
                .iter()
                .find(|p| &p["name"] == name)
                .ok_or("no probe port")?;
            p["port"].as_i64().ok_or("probe port number")?
        }
    };
    let mut want = json!({"port": number});
    if let Some(svc) = spec.get("grpc_health_service") {
        want["service"] = svc.clone();
    }
    ensure(probe["grpc"] == want, || {
        format!("{kind} grpc {} want {want}", probe["grpc"])
    })
}

/// A startup probe exactly when a startup setting is given: its own path or command, else the
/// liveness probe's check.
fn check_startup_probe(spec: &Value, c: &Value, tcp_probe_port: bool) -> Result<(), String> {
    let probe = &c["startupProbe"];
    let given = [
        "startup_probe_path",
        "startup_probe_command",
        "initial_startup_delay",
    ]
    .iter()
    .any(|f| spec.get(*f).is_some())
        || spec["probe_timing"].get("startup").is_some();
    if !given {
        return ensure(probe.is_null(), || "an unasked startup probe".into());
    }
    check_probe_timing(spec, "startup", probe)?;
    let delay = int(&spec["initial_startup_delay"], 0);
    ensure(probe["initialDelaySeconds"] == delay, || {
        format!(
            "startup initialDelaySeconds {}",
            probe["initialDelaySeconds"]
        )
    })?;
    let check = |p: &Value| {
        let mut p = p.as_object().cloned().unwrap_or_default();
        p.retain(|k, _| ["httpGet", "exec", "grpc", "tcpSocket"].contains(&k.as_str()));
        p
    };
    match (
        spec.get("startup_probe_path"),
        spec.get("startup_probe_command"),
    ) {
        (Some(p), _) if !tcp_probe_port => ensure(&probe["httpGet"]["path"] == p, || {
            format!("startup httpGet {}", probe["httpGet"])
        }),
        (_, Some(cmd)) => ensure(&probe["exec"]["command"] == cmd, || {
            format!("startup exec {}", probe["exec"])
        }),
        _ => ensure(check(probe) == check(&c["livenessProbe"]), || {
            format!("startup check {probe} is not the liveness check")
        }),
    }
}

/// Topology spread, HPA behaviour, shutdown and scheduling (the fields beyond Opta).
fn check_workload_extras(spec: &Value, docs: &[Value]) -> Result<(), String> {
    let max = int(&spec["max_containers"], 3);
    let min = int(&spec["min_containers"], 1);
    for w in docs
        .iter()
        .filter(|d| d["kind"] == "Deployment" || d["kind"] == "StatefulSet")
    {
        let pod = pod_spec(w);
        // Spread over nodes and zones by default whenever more than one replica can run.
        let mode = spec["topology_spread"].as_str().unwrap_or("soft");
        let constraints = &pod["topologySpreadConstraints"];
        if mode == "off" || max <= 1 {
            ensure(constraints.is_null(), || {
                format!("unexpected topology spread {constraints}")
            })?;
        } else {
            let when = if mode == "strict" {
                "DoNotSchedule"
            } else {
                "ScheduleAnyway"
            };
            let want: Vec<Value> = ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
                .iter()
                .map(|key| {
                    let mut c = json!({
                        "maxSkew": 1,
                        "topologyKey": key,
                        "whenUnsatisfiable": when,
                        "labelSelector": {"matchLabels": w["spec"]["selector"]["matchLabels"]},
                    });
                    if w["kind"] == "Deployment" {
                        c["matchLabelKeys"] = json!(["pod-template-hash"]);
                    }
                    c
                })
                .collect();
            ensure(*constraints == json!(want), || {
                format!("topology spread {constraints} want {}", json!(want))
            })?;
        }
        let grace = int(&spec["termination_grace_period"], 30);
        ensure(pod["terminationGracePeriodSeconds"] == grace, || {
            format!(
                "terminationGracePeriodSeconds {}",
                pod["terminationGracePeriodSeconds"]
            )
        })?;
        let lifecycle = &pod["containers"][0]["lifecycle"];
        match int(&spec["pre_stop_delay"], 0) {
            0 => ensure(lifecycle.is_null(), || format!("unexpected {lifecycle}"))?,
            d => ensure(
                *lifecycle == json!({"preStop": {"sleep": {"seconds": d}}}),
                || format!("preStop {lifecycle} want a {d} s sleep"),
            )?,
        }
    }
    // Scheduling applies to every pod: the service's, the cron jobs' and the release Job's.
    for d in docs.iter().filter(|d| {
        ["Deployment", "StatefulSet", "CronJob", "Job"].contains(&d["kind"].as_str().unwrap_or(""))
    }) {
        let pod = pod_spec(d);
        let name = format!("{}/{}", d["kind"], d["metadata"]["name"]);
        for (field, key) in [
            ("node_selector", "nodeSelector"),
            ("affinity", "affinity"),
            ("priority_class_name", "priorityClassName"),
        ] {
            ensure(pod[key] == spec[field], || {
                format!("{name}: {key} {} want {}", pod[key], spec[field])
            })?;
        }
        if d["kind"] == "CronJob" || d["kind"] == "Job" {
            ensure(pod["topologySpreadConstraints"].is_null(), || {
                format!("{name}: job pods are not spread")
            })?;
        }
    }
    // The HPA's behaviour from the short form; none without autoscaling_behavior.
    for h in find(docs, "HorizontalPodAutoscaler") {
        let b = &spec["autoscaling_behavior"];
        let mut want = json!({});
        for (dir, key) in [("up", "scaleUp"), ("down", "scaleDown")] {
            let mut rule = json!({});
            if let Some(s) = b.get(format!("scale_{dir}_stabilization_seconds")) {
                rule["stabilizationWindowSeconds"] = s.clone();
            }
            let mut policies = Vec::new();
            for (field, kind) in [("percent", "Percent"), ("pods", "Pods")] {
                if let Some(v) = b.get(format!("scale_{dir}_max_{field}_per_minute")) {
                    policies.push(json!({"type": kind, "value": v, "periodSeconds": 60}));
                }
            }
            if policies.len() == 2 {
                rule["selectPolicy"] = json!("Min");
            }
            if !policies.is_empty() {
                rule["policies"] = json!(policies);
            }
            // Rendered as a quantity string (Kubernetes 1.35+, which this render is for).
            if let Some(t) = b.get(format!("scale_{dir}_tolerance")) {
                let t = t.as_f64().map_or_else(|| t.to_string(), |f| f.to_string());
                rule["tolerance"] = json!(t.trim_matches('"'));
            }
            if rule != json!({}) {
                want[key] = rule;
            }
        }
        let got = h["spec"].get("behavior").cloned().unwrap_or(json!({}));
        ensure(got == want, || format!("HPA behavior {got} want {want}"))?;
    }
    ensure(
        min < max || find(docs, "HorizontalPodAutoscaler").is_empty(),
        || "an HPA without autoscaling".into(),
    )
}

fn check_services(
    spec: &Value,
    fullname: &str,
    docs: &[Value],
    stateful: bool,
) -> Result<(), String> {
    let services = find(docs, "Service");
    let main = services
        .iter()
        .find(|s| s["metadata"]["name"] == fullname)
        .ok_or("no Service")?;
    let ports = main["spec"]["ports"].as_array().unwrap();
    let want: Vec<(String, i64, i64)> = if let Some(p) = spec["port"].as_object() {
        vec![(
            "main".into(),
            80,
            p.values().next().unwrap().as_i64().unwrap(),
        )]
    } else {
        spec["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let port = p["port"].as_i64().unwrap();
                let default = if p["type"] == "http" { 80 } else { port };
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["service_port"].as_i64().unwrap_or(default),
                    port,
                )
            })
            .collect()
    };
    // `ports` is a mapping by name: the Service lists them sorted by name.
    let mut want = want;
    want.sort();
    let got: Vec<(String, i64, i64)> = ports
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["port"].as_i64().unwrap(),
                0,
            )
        })
        .collect();
    ensure(
        got.iter()
            .map(|g| (&g.0, g.1))
            .eq(want.iter().map(|w| (&w.0, w.1))),
        || format!("Service ports {got:?} want {want:?}"),
    )?;
    ensure(
        main["spec"]["selector"]["app.kubernetes.io/component"] == "server",
        || "the Service must select only the server pods".into(),
    )?;
    if stateful {
        let headless = services
            .iter()
            .find(|s| s["metadata"]["name"] == format!("{fullname}-headless"))
            .ok_or("no headless Service")?;
        ensure(headless["spec"]["clusterIP"] == "None", || {
            "headless Service needs clusterIP None".into()
        })?;
    }
    Ok(())
}

fn check_ingresses(spec: &Value, docs: &[Value]) -> Result<(), String> {
    let uris: Vec<String> = match &spec["public_uri"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|u| u.as_str().unwrap().to_string()).collect(),
        _ => Vec::new(),
    };
    let ingresses = find(docs, "Ingress");
    if spec.get("gateway").is_some() {
        return ensure(ingresses.is_empty(), || {
            "with gateway, HTTPRoutes replace the Ingresses".into()
        });
    }
    ensure(ingresses.len() == uris.len(), || {
        format!(
            "{} Ingress objects for {} public_uri",
            ingresses.len(),
            uris.len()
        )
    })?;
    let keep = spec["keep_path_prefix"] == true;
    // A portable Ingress: plain Prefix paths and no controller annotation (the model refuses
    // what would need one), no class unless the spec names one.
    let portable = spec["ingress_controller"] == "portable";
    for uri in &uris {
        let (host, path) = match uri.strip_prefix('/') {
            Some(p) => (None, format!("/{p}")),
            None => match uri.split_once('/') {
                Some((h, p)) => (Some(h.to_string()), format!("/{p}")),
                None => (Some(uri.clone()), "/".to_string()),
            },
        };
        let (want_path, want_type) = if path == "/" || keep || portable {
            (path.clone(), "Prefix")
        } else {
            (format!("{path}(/|$)(.*)"), "ImplementationSpecific")
        };
        let found = ingresses
            .iter()
            .find(|i| {
                let rule = &i["spec"]["rules"][0];
                let host_ok = match &host {
                    Some(h) => rule["host"] == *h,
                    None => rule.get("host").is_none(),
                };
                host_ok && rule["http"]["paths"][0]["path"] == want_path.as_str()
            })
            .ok_or_else(|| format!("no Ingress for {uri} (host {host:?}, path {want_path})"))?;
        let p = &found["spec"]["rules"][0]["http"]["paths"][0];
        ensure(p["pathType"] == want_type, || {
            format!("{uri}: pathType {}", p["pathType"])
        })?;
        let ann = &found["metadata"]["annotations"];
        if portable {
            ensure(
                ann.as_object().is_none_or(|a| {
                    a.keys()
                        .all(|k| !k.starts_with("nginx.ingress.kubernetes.io/"))
                }),
                || format!("{uri}: a portable Ingress with ingress-nginx annotations {ann}"),
            )?;
            ensure(
                found["spec"].get("ingressClassName").map(|c| c.as_str())
                    == spec.get("ingress_class").map(|c| c.as_str()),
                || {
                    format!(
                        "{uri}: ingressClassName {}",
                        found["spec"]["ingressClassName"]
                    )
                },
            )?;
            continue;
        }
        if want_type == "ImplementationSpecific" {
            ensure(
                ann["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2",
                || format!("{uri}: rewrite-target"),
            )?;
        } else {
            ensure(
                ann.get("nginx.ingress.kubernetes.io/rewrite-target")
                    .is_none(),
                || format!("{uri}: unexpected rewrite"),
            )?;
        }
        for (k, v) in spec["ingress_extra_annotations"]
            .as_object()
            .into_iter()
            .flatten()
        {
            ensure(&ann[k] == v, || format!("{uri}: annotation {k}"))?;
        }
        if spec["sticky_session"] == true {
            let age = int(&spec["sticky_session_max_age"], 86400).to_string();
            ensure(
                ann["nginx.ingress.kubernetes.io/affinity"] == "cookie"
                    && ann["nginx.ingress.kubernetes.io/session-cookie-max-age"] == age.as_str(),
                || format!("{uri}: sticky session"),
            )?;
        }
        if let Some(h) = spec["consistent_hash"].as_str() {
            ensure(
                ann["nginx.ingress.kubernetes.io/upstream-hash-by"] == h,
                || format!("{uri}: consistent hash"),
            )?;
        }
        let class = spec["ingress_class"].as_str().unwrap_or("nginx");
        ensure(found["spec"]["ingressClassName"] == class, || {
            format!("{uri}: ingressClassName")
        })?;
        if spec["port"]["grpc"].is_number() {
            ensure(
                ann["nginx.ingress.kubernetes.io/backend-protocol"] == "GRPC",
                || format!("{uri}: grpc backend"),
            )?;
        }
        if spec["port"]["websocket"].is_number() {
            ensure(
                ann["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600",
                || format!("{uri}: websocket timeouts"),
            )?;
        }
    }
    Ok(())
}

/// public_uri as (host, path), the way the spec means it.
fn spec_routes(spec: &Value) -> Vec<(Option<String>, String)> {
    let uris: Vec<String> = match &spec["public_uri"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|u| u.as_str().unwrap().to_string()).collect(),
        _ => Vec::new(),
    };
    uris.iter()
        .map(|uri| match uri.strip_prefix('/') {
            Some(p) => (None, format!("/{p}")),
            None => match uri.split_once('/') {
                Some((h, p)) => (Some(h.to_string()), format!("/{p}")),
                None => (Some(uri.clone()), "/".to_string()),
            },
        })
        .collect()
}

/// With `tls`, every Ingress serves its host with the host's Secret: the spec's secret_name, or
/// one per host and release (`<fullname>-<host>-tls`) that cert-manager fills; only the Ingress with the
/// smallest path of each host carries the issuer annotation, so one Certificate exists per host.
fn check_tls(spec: &Value, fullname: &str, docs: &[Value]) -> Result<(), String> {
    let tls = &spec["tls"];
    let issuer = [
        ("cluster_issuer", "cert-manager.io/cluster-issuer"),
        ("issuer", "cert-manager.io/issuer"),
    ]
    .into_iter()
    .find_map(|(field, annotation)| tls[field].as_str().map(|v| (annotation, v)));
    let routes = spec_routes(spec);
    for ing in find(docs, "Ingress") {
        let name = &ing["metadata"]["name"];
        let host = ing["spec"]["rules"][0]["host"].as_str();
        let path = ing["spec"]["rules"][0]["http"]["paths"][0]["path"]
            .as_str()
            .unwrap();
        let ann = &ing["metadata"]["annotations"];
        if tls.is_null() {
            ensure(ing["spec"].get("tls").is_none(), || {
                format!("{name}: tls without the spec's tls")
            })?;
            ensure(
                ann.as_object()
                    .is_none_or(|a| a.keys().all(|k| !k.starts_with("cert-manager.io/"))),
                || format!("{name}: cert-manager annotation without tls"),
            )?;
            continue;
        }
        let host = host.ok_or_else(|| format!("{name}: tls with a hostless route"))?;
        let secret = match tls["secret_name"].as_str() {
            Some(s) => s.to_string(),
            None => format!(
                "{fullname}-{}-tls",
                host.replace("*.", "wildcard.").replace('.', "-")
            ),
        };
        let want = json!([{"hosts": [host], "secretName": secret}]);
        ensure(ing["spec"]["tls"] == want, || {
            format!("{name}: tls {} want {want}", ing["spec"]["tls"])
        })?;
        // This Ingress's own path as the spec wrote it, and the smallest path of its host.
        let own = routes
            .iter()
            .filter(|(h, _)| h.as_deref() == Some(host))
            .map(|(_, p)| p)
            .find(|p| path == p.as_str() || path == format!("{p}(/|$)(.*)"))
            .ok_or_else(|| format!("{name}: no public_uri for {host}{path}"))?;
        let first = routes
            .iter()
            .filter(|(h, _)| h.as_deref() == Some(host))
            .map(|(_, p)| p)
            .min()
            .unwrap();
        for (field, annotation) in [
            ("cluster_issuer", "cert-manager.io/cluster-issuer"),
            ("issuer", "cert-manager.io/issuer"),
        ] {
            let want = match issuer {
                Some((a, v)) if a == annotation && own == first => json!(v),
                _ => Value::Null,
            };
            ensure(ann[annotation] == want, || {
                format!(
                    "{name}: {annotation} {} want {want} ({field})",
                    ann[annotation]
                )
            })?;
        }
    }
    Ok(())
}

/// With `gateway`, one route per public_uri, exactly this object: attached to the Gateway, the
/// host (none: any host), and the Service's routed port by number. An HTTPRoute has a PathPrefix
/// match, the prefix stripped unless keep_path_prefix, a websocket port's hour of `timeouts` and,
/// with the Experimental opt-in, `sessionPersistence`; a grpc port gets a GRPCRoute instead (no
/// match: hosts only). `backend_tls` adds one BackendTLSPolicy for the routed port.
fn check_gateway_routes(spec: &Value, fullname: &str, docs: &[Value]) -> Result<(), String> {
    let gw = &spec["gateway"];
    let routes = spec_routes(spec);
    let grpc = spec["port"]["grpc"].is_number();
    let (kind, other) = if grpc {
        ("GRPCRoute", "HTTPRoute")
    } else {
        ("HTTPRoute", "GRPCRoute")
    };
    let got = find(docs, kind);
    let policies = find(docs, "BackendTLSPolicy");
    if gw.is_null() {
        return ensure(
            got.is_empty() && find(docs, other).is_empty() && policies.is_empty(),
            || "Gateway API objects without gateway".into(),
        );
    }
    ensure(find(docs, other).is_empty(), || {
        format!("{other}s for a spec whose routes are {kind}s")
    })?;
    ensure(got.len() == routes.len(), || {
        format!("{} {kind}s for {} public_uri", got.len(), routes.len())
    })?;
    let service_port = match spec["port"].as_object() {
        Some(_) => 80,
        None => spec["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["type"] == "http")
            .map(|p| p["service_port"].as_i64().unwrap_or(80))
            .unwrap(),
    };
    let mut parent =
        json!({"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gw["name"]});
    if let Some(ns) = gw["namespace"].as_str() {
        parent["namespace"] = json!(ns);
    }
    if let Some(s) = gw["section_name"].as_str() {
        parent["sectionName"] = json!(s);
    }
    let keep = spec["keep_path_prefix"] == true;
    let backend = json!([{"group": "", "kind": "Service", "name": fullname, "port": service_port}]);
    let mut names = std::collections::BTreeSet::new();
    for (host, path) in &routes {
        let rule = if grpc {
            json!({"backendRefs": backend})
        } else {
            let mut rule = json!({
                "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                "backendRefs": backend,
            });
            if path != "/" && !keep {
                rule["filters"] = json!([{"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}]);
            }
            if spec["port"]["websocket"].is_number() {
                rule["timeouts"] = json!({"request": "3600s", "backendRequest": "3600s"});
            }
            if spec["sticky_session"] == true && gw["experimental_session_persistence"] == true {
                let age = int(&spec["sticky_session_max_age"], 86400);
                rule["sessionPersistence"] = json!({
                    "type": "Cookie",
                    "sessionName": "opta-cookie",
                    "absoluteTimeout": format!("{age}s"),
                    "cookieConfig": {"lifetimeType": "Permanent"},
                });
            }
            rule
        };
        let mut want = json!({"parentRefs": [parent], "rules": [rule]});
        if let Some(h) = host {
            want["hostnames"] = json!([h]);
        }
        let r = got.iter().find(|r| r["spec"] == want).ok_or_else(|| {
            format!(
                "no {kind} {want}; got {:?}",
                got.iter().map(|r| &r["spec"]).collect::<Vec<_>>()
            )
        })?;
        ensure(r["apiVersion"] == "gateway.networking.k8s.io/v1", || {
            format!("{kind} apiVersion {}", r["apiVersion"])
        })?;
        let name = r["metadata"]["name"].as_str().unwrap();
        ensure(
            name.starts_with(&format!("{fullname}-")) && name.len() <= 63 && names.insert(name),
            || format!("{kind} name {name}"),
        )?;
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        ensure(keys == ["apiVersion", "kind", "metadata", "spec"], || {
            format!("{kind} {name} has keys {keys:?}")
        })?;
    }
    let tls = &gw["backend_tls"];
    if tls.is_null() {
        return ensure(policies.is_empty(), || {
            "a BackendTLSPolicy without gateway.backend_tls".into()
        });
    }
    let mut validation = json!({"hostname": tls["hostname"]});
    match tls["ca_config_map"].as_str() {
        Some(ca) => {
            validation["caCertificateRefs"] =
                json!([{"group": "", "kind": "ConfigMap", "name": ca}])
        }
        None => validation["wellKnownCACertificates"] = json!("System"),
    }
    // The routed port is the Service port `main` (`port:`) or the first http entry (`ports:`).
    let section = match spec["port"].as_object() {
        Some(_) => json!("main"),
        None => spec["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["type"] == "http")
            .map(|p| p["name"].clone())
            .unwrap(),
    };
    let want = json!({
        "targetRefs": [{"group": "", "kind": "Service", "name": fullname, "sectionName": section}],
        "validation": validation,
    });
    ensure(
        policies.len() == 1
            && policies[0]["spec"] == want
            && policies[0]["apiVersion"] == "gateway.networking.k8s.io/v1"
            && policies[0]["metadata"]["name"] == fullname,
        || format!("BackendTLSPolicy {policies:?} want one with spec {want}"),
    )
}

/// Workload identity on the ServiceAccount (and the Azure pod label), pull Secrets on every pod
/// template; the pods still mount no ServiceAccount token.
fn check_identity(spec: &Value, docs: &[Value]) -> Result<(), String> {
    let mut want = serde_json::Map::new();
    for (field, annotation) in [
        ("iam_role_arn", "eks.amazonaws.com/role-arn"),
        ("gcp_service_account", "iam.gke.io/gcp-service-account"),
        ("azure_client_id", "azure.workload.identity/client-id"),
    ] {
        if let Some(v) = spec[field].as_str() {
            want.insert(annotation.into(), json!(v));
        }
    }
    let sa: Vec<&Value> = find(docs, "ServiceAccount")
        .into_iter()
        .filter(|d| !is_release_hook(d))
        .collect();
    let sa = sa.first().ok_or("no ServiceAccount")?;
    let got = sa["metadata"]
        .get("annotations")
        .cloned()
        .unwrap_or(json!({}));
    ensure(got == Value::Object(want), || {
        format!("ServiceAccount annotations {got}")
    })?;
    let azure = spec["azure_client_id"].is_string();
    let pull: Vec<Value> = spec["image_pull_secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| json!({"name": n}))
        .collect();
    for d in docs {
        if !matches!(
            d["kind"].as_str(),
            Some("Deployment" | "StatefulSet" | "CronJob" | "Job")
        ) {
            continue;
        }
        let name = format!("{}/{}", d["kind"], d["metadata"]["name"]);
        let pod = pod_spec(d);
        let got = pod.get("imagePullSecrets").cloned().unwrap_or(json!([]));
        ensure(got == json!(pull), || {
            format!("{name}: imagePullSecrets {got}")
        })?;
        let label = &pod_meta(d)["labels"]["azure.workload.identity/use"];
        ensure(
            if azure {
                label == "true"
            } else {
                label.is_null()
            },
            || format!("{name}: azure.workload.identity/use label {label}"),
        )?;
        if d["kind"] == "Job" {
            // The release Job runs as its own hook ServiceAccount, with the same annotations
            // (check_release_job).
            continue;
        }
        ensure(pod["serviceAccountName"] == sa["metadata"]["name"], || {
            format!("{name}: not the chart's ServiceAccount")
        })?;
    }
    Ok(())
}

fn check_cron_jobs(
    spec: &Value,
    fullname: &str,
    docs: &[Value],
    auto_repo: &str,
) -> Result<(), String> {
    let crons = find(docs, "CronJob");
    let want = spec["cron_jobs"].as_array().cloned().unwrap_or_default();
    ensure(crons.len() == want.len(), || {
        format!("{} CronJobs for {} cron_jobs", crons.len(), want.len())
    })?;
    for (i, c) in want.iter().enumerate() {
        let suffix = c["name"]
            .as_str()
            .map(String::from)
            .unwrap_or(i.to_string());
        let name = format!("{fullname}-{suffix}");
        let cj = crons
            .iter()
            .find(|x| x["metadata"]["name"] == name.as_str())
            .ok_or_else(|| format!("no CronJob {name}"))?;
        ensure(cj["spec"]["schedule"] == c["schedule"], || {
            format!("{name}: schedule {}", cj["spec"]["schedule"])
        })?;
        let container = &pod_spec(cj)["containers"][0];
        ensure(container["command"] == c["commands"], || {
            format!("{name}: command")
        })?;
        ensure(
            container["args"] == *c.get("args").unwrap_or(&Value::Null),
            || format!("{name}: args {}", container["args"]),
        )?;
        if let Some(tz) = c["time_zone"].as_str() {
            ensure(cj["spec"]["timeZone"] == tz, || format!("{name}: timeZone"))?;
        }
        ensure(pod_spec(cj)["restartPolicy"] == "Never", || {
            format!("{name}: restartPolicy")
        })?;
        ensure(
            pod_meta(cj)["labels"]["app.kubernetes.io/component"] != "server",
            || format!("{name}: cron pods must not match the Service"),
        )?;
        check_container(spec, fullname, cj, true, auto_repo)?;
    }
    Ok(())
}

#[test]
fn auto_image_fails_clearly_without_a_repository() {
    let (_, _, path) = packaged()
        .iter()
        .find(|(_, c, _)| *c == "inventory")
        .unwrap();
    for (name, helm) in helms() {
        let err = render(&helm, path, &[] as &[&str])
            .expect_err("rendering an AUTO image without a repository must fail");
        assert!(
            err.contains("image.repository is required"),
            "{name}: {err}"
        );
        assert!(
            err.contains("(inventory/templates/validate.yaml:"),
            "{name}: {err}"
        );
    }
}

#[test]
fn install_time_overrides_work_and_the_schema_rejects_nonsense() {
    let (_, _, path) = packaged().iter().find(|(_, c, _)| *c == "hello").unwrap();
    for (name, helm) in helms() {
        let docs = render(&helm, path, &["--set", "autoscaling.maxReplicas=9"]).unwrap();
        assert_eq!(
            find(&docs, "HorizontalPodAutoscaler")[0]["spec"]["maxReplicas"],
            9,
            "{name}"
        );
        for bad in [
            "autoscaling.maxReplicas=-1",
            "autoscaling.maxReplicas=abc",
            "image.pullPolicy=Sometimes",
            "autoscalling.enabled=true",
            "ports.main.containerPort=70000",
            "topologySpread.whenUnsatisfiable=Sometimes",
            "priorityClassName=Not_A_Name",
            "startupProbe.successThreshold=2",
        ] {
            let err = render(&helm, path, &["--set", bad]).expect_err(bad);
            assert!(err.contains("schema"), "{name} {bad}: {err}");
        }
        // The preStop sleep must end inside the grace period.
        let err = render(&helm, path, &["--set", "workload.preStopDelaySeconds=30"])
            .expect_err("preStop = grace period");
        assert!(
            err.contains("preStopDelaySeconds (30) must be less than"),
            "{name}: {err}"
        );
    }
}

#[test]
fn yaml_1_1_lookalike_strings_reach_the_pod_unchanged() {
    // Also covered by rendered_objects_carry_what_the_spec_says; this names the guarantee.
    let (_, _, path) = packaged().iter().find(|(_, c, _)| *c == "tricky").unwrap();
    for (name, helm) in helms() {
        let docs = render(&helm, path, &[] as &[&str]).unwrap();
        let env = &find(&docs, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["env"];
        for (k, v) in [
            ("NORWAY", "NO"),
            ("YES_WORD", "yes"),
            ("OCTAL", "0755"),
            ("SCIENTIFIC", "1e3"),
            ("TEMPLATE", "{{ .Release.Name }}-{{ \"INJECTED\" | upper }}"),
            ("NEL", "before\u{85}after"),
        ] {
            let got = env
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == k)
                .unwrap();
            assert_eq!(got["value"], v, "{name}: {k}");
        }
    }
}

#[test]
fn tls_gateway_and_identity_values_work_at_install_time() {
    let chart = |name: &str| {
        packaged()
            .iter()
            .find(|(_, c, _)| *c == name)
            .map(|(_, _, p)| p.clone())
            .unwrap()
    };
    let sets = |pairs: &[&str]| -> Vec<String> {
        pairs
            .iter()
            .flat_map(|p| ["--set".to_string(), p.to_string()])
            .collect()
    };
    for (name, helm) in helms() {
        // A namespaced cert-manager Issuer instead of the ClusterIssuer.
        let docs = render(
            &helm,
            &chart("billing"),
            &sets(&[
                "ingress.tls.clusterIssuer=",
                "ingress.tls.issuer=billing-ca",
            ]),
        )
        .unwrap();
        let issuing: Vec<&Value> = find(&docs, "Ingress")
            .into_iter()
            .filter(|i| i["metadata"]["annotations"]["cert-manager.io/issuer"] == "billing-ca")
            .collect();
        assert_eq!(issuing.len(), 2, "{name}: one issuing Ingress per host");
        // Switching an Ingress chart to the Gateway API, and back.
        let docs = render(
            &helm,
            &chart("hello"),
            &sets(&["gateway.enabled=true", "gateway.name=shared"]),
        )
        .unwrap();
        assert!(find(&docs, "Ingress").is_empty(), "{name}");
        let routes = find(&docs, "HTTPRoute");
        assert_eq!(routes.len(), 1, "{name}");
        assert_eq!(
            routes[0]["spec"]["parentRefs"],
            json!([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "shared"}]),
            "{name}"
        );
        let docs = render(
            &helm,
            &chart("storefront"),
            &sets(&["gateway.enabled=false"]),
        )
        .unwrap();
        assert!(find(&docs, "HTTPRoute").is_empty(), "{name}");
        assert_eq!(find(&docs, "Ingress").len(), 4, "{name}");
        // What the chart cannot honour fails with a message naming the value.
        for (c, args, want) in [
            (
                "storefront",
                &["ingress.tls.enabled=true"][..],
                "TLS is the Gateway listener's job",
            ),
            (
                "billing",
                &["gateway.enabled=true", "gateway.name=gw"][..],
                "ingress.tls.enabled cannot be used with gateway.enabled",
            ),
            ("hello", &["gateway.enabled=true"][..], "needs gateway.name"),
            (
                "billing",
                &["ingress.tls.issuer=ca"][..],
                "give clusterIssuer or issuer, not both",
            ),
            (
                "billing",
                &["ingress.tls.secretName=wild"][..],
                "ingress.tls.secretName \"wild\" is set with a cert-manager issuer",
            ),
            (
                "hello",
                &[
                    "gateway.enabled=true",
                    "gateway.name=gw",
                    "ingress.stickySession.enabled=true",
                ][..],
                "needs gateway.experimentalSessionPersistence=true",
            ),
        ] {
            let err = render(&helm, &chart(c), &sets(args)).expect_err(want);
            assert!(err.contains(want), "{name} {c} {args:?}: {err}");
            // Every render-time check is reported at its own line of templates/validate.yaml.
            assert!(
                err.contains(&format!("({c}/templates/validate.yaml:")),
                "{name} {c} {args:?}: {err}"
            );
        }
        for bad in [
            r"serviceAccount.annotations.eks\.amazonaws\.com/role-arn=arn:aws:iam::1:user/x",
            r"serviceAccount.annotations.azure\.workload\.identity/client-id=nope",
            "gateway.namespace=Gateway_System",
            "imagePullSecrets[0]=Not_A_Secret",
            "ingress.tls.secrets.x=Bad_Secret",
        ] {
            let err = render(&helm, &chart("hello"), &sets(&[bad])).expect_err(bad);
            assert!(err.contains("schema"), "{name} {bad}: {err}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration beyond Opta: env_refs, env_from, config_files, init_containers, sidecars
// ---------------------------------------------------------------------------------------------

/// The spec's env_refs in document order, from either form: (variable, entry).
fn spec_env_refs(spec: &Value) -> Vec<(String, Value)> {
    match &spec["env_refs"] {
        Value::Array(a) => a
            .iter()
            .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
            .collect(),
        Value::Object(m) => spec["__env_refs_order"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| {
                let k = k.as_str().unwrap();
                (k.to_string(), m[k].clone())
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `{secret: s}` or `{config_map: c}` as (Kubernetes reference kind, object name).
fn source(e: &Value, secret_kind: &str, config_map_kind: &str) -> (String, String) {
    match e["secret"].as_str() {
        Some(s) => (secret_kind.to_string(), s.to_string()),
        None => (
            config_map_kind.to_string(),
            e["config_map"].as_str().unwrap().to_string(),
        ),
    }
}

/// What an extra container's resources must be: the service's, or its own requests (each
/// defaulting to the service's) with CPU and memory limits twice those unless given, and the
/// service's ephemeral-storage limit (or the request, if more) unless given.
fn extra_resources(s: &Value, service: &Value) -> Value {
    let (req, lim) = (&s["resource_request"], &s["resource_limits"]);
    if req.is_null() && lim.is_null() {
        return service.clone();
    }
    let rcpu = if req["cpu"].is_null() {
        cpu(&service["requests"]["cpu"])
    } else {
        cpu(&req["cpu"])
    };
    let rmem = if req["memory"].is_null() {
        memory(&service["requests"]["memory"])
    } else {
        memory(&req["memory"])
    };
    let reph = match &req["ephemeral_storage"] {
        Value::Null => service["requests"]["ephemeral-storage"]
            .as_str()
            .unwrap()
            .to_string(),
        q => quantity(q),
    };
    let service_leph = service["limits"]["ephemeral-storage"].as_str().unwrap();
    let leph = match lim.get("ephemeral_storage") {
        Some(l) => quantity(l),
        None if bytes(&reph) > bytes(service_leph) => reph.clone(),
        None => service_leph.to_string(),
    };
    resources_json(&rcpu, &rmem, (&reph, &leph), lim)
}

/// A spec size (MB as a bare number, else a quantity) as the chart writes it.
fn quantity(v: &Value) -> String {
    let (n, unit) = memory(v);
    format!("{n}{unit}")
}

/// The bytes of a quantity the chart writes (a whole number and Ki, Mi, Gi, Ti, k, M, G or T).
fn bytes(q: &str) -> i64 {
    let split = q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len());
    let n: i64 = q[..split].parse().unwrap();
    n * match &q[split..] {
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        u => panic!("unit {u:?} in {q}"),
    }
}

/// The spec's `/tmp` size and writable paths (path without a trailing `/`, size), as the chart
/// writes them: 256Mi and 128Mi unless given.
fn spec_scratch(spec: &Value) -> (String, Vec<(String, String)>) {
    let tmp = match &spec["tmp_size"] {
        Value::Null => "256Mi".to_string(),
        q => quantity(q),
    };
    let writable = spec["writable_paths"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            let (path, size) = match w {
                Value::String(p) => (p.as_str(), "128Mi".to_string()),
                _ => (
                    w["path"].as_str().unwrap(),
                    w.get("size").map_or("128Mi".to_string(), quantity),
                ),
            };
            (path.trim_end_matches('/').to_string(), size)
        })
        .collect();
    (tmp, writable)
}

/// The service's ephemeral-storage request and limit: 64Mi (the logs the kubelet keeps) and 1Gi
/// unless given; a default limit grows to the request, or to hold /tmp, the writable paths and
/// 50Mi of logs (rounded up to a MiB, or whole GiB).
fn spec_ephemeral(spec: &Value) -> (String, String) {
    let request = match &spec["resource_request"]["ephemeral_storage"] {
        Value::Null => "64Mi".to_string(),
        q => quantity(q),
    };
    if let Some(l) = spec["resource_limits"].get("ephemeral_storage") {
        return (request, quantity(l));
    }
    let (tmp, writable) = spec_scratch(spec);
    let needed = writable
        .iter()
        .fold(bytes(&tmp) + (50 << 20), |sum, (_, size)| sum + bytes(size));
    let floor = bytes(&request).max(1 << 30);
    let limit = if needed <= floor {
        if bytes(&request) > 1 << 30 {
            request.clone()
        } else {
            "1Gi".to_string()
        }
    } else if needed % (1 << 30) == 0 {
        format!("{}Gi", needed >> 30)
    } else {
        format!("{}Mi", (needed + (1 << 20) - 1) >> 20)
    };
    (request, limit)
}

/// The volume name of a writable path: "w-", the path as a DNS label (at most 40 characters)
/// and the first 8 hex digits of its sha256.
fn writable_volume_name(path: &str) -> String {
    use sha2::Digest;
    let mut slug = String::new();
    for c in path.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(40).collect();
    let hash: String = sha2::Sha256::digest(path.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("w-{}-{hash}", slug.trim_end_matches('-'))
}

/// A container's `resources` from its requests, its ephemeral-storage request and limit, and the
/// spec's `resource_limits` (`lim`): each CPU or memory limit not given is twice its request.
fn resources_json(rcpu: &str, rmem: &(i64, String), eph: (&str, &str), lim: &Value) -> Value {
    let lcpu = if lim["cpu"].is_null() {
        format!(
            "{}m",
            rcpu.trim_end_matches('m').parse::<i64>().unwrap() * 2
        )
    } else {
        cpu(&lim["cpu"])
    };
    let lmem = if lim["memory"].is_null() {
        (rmem.0 * 2, rmem.1.clone())
    } else {
        memory(&lim["memory"])
    };
    json!({
        "requests": {"cpu": rcpu, "memory": format!("{}{}", rmem.0, rmem.1), "ephemeral-storage": eph.0},
        "limits": {"cpu": lcpu, "memory": format!("{}{}", lmem.0, lmem.1), "ephemeral-storage": eph.1},
    })
}

/// Every pod of the release reads the env_refs keys (first, in order) and the env_from objects,
/// mounts every config file read-only from `<fullname>-config` and rolls when it changes; the
/// service's pods run the sidecars (native: restartPolicy Always) and then the init containers.
fn check_config(spec: &Value, fullname: &str, docs: &[Value]) -> Result<(), String> {
    let want_refs: Vec<Value> = spec_env_refs(spec)
        .iter()
        .map(|(name, e)| {
            let (kind, obj) = source(e, "secretKeyRef", "configMapKeyRef");
            let key = e["key"].as_str().unwrap_or(name);
            let optional = e["optional"].as_bool().unwrap_or(false);
            json!({"name": name, "valueFrom": {kind: {"name": obj, "key": key, "optional": optional}}})
        })
        .collect();
    let want_from: Vec<Value> = spec["env_from"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let (kind, obj) = source(e, "secretRef", "configMapRef");
            let optional = e["optional"].as_bool().unwrap_or(false);
            let mut v = json!({kind: {"name": obj, "optional": optional}});
            if let Some(p) = e["prefix"].as_str() {
                v["prefix"] = json!(p);
            }
            v
        })
        .collect();
    // (path, key, content): the key is the path without its first `/`, `/` written `_`.
    let files: Vec<(String, String, Value)> = spec["config_files"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(p, c)| (p.clone(), p[1..].replace('/', "_"), c.clone()))
        .collect();
    let pods: Vec<&Value> = docs
        .iter()
        .filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some("Deployment" | "StatefulSet" | "CronJob" | "Job")
            )
        })
        .collect();
    // The chart's ConfigMap; the release Job's hook copy is check_release_job's.
    let config_maps: Vec<&Value> = find(docs, "ConfigMap")
        .into_iter()
        .filter(|d| !is_release_hook(d))
        .collect();
    let cm_name = format!("{fullname}-config");
    let service_pods = pods.iter().any(|d| d["kind"] != "Job");
    if files.is_empty() || !service_pods {
        ensure(config_maps.is_empty(), || {
            "a ConfigMap without config files or pods".into()
        })?;
    } else {
        ensure(config_maps.len() == 1, || {
            format!("{} ConfigMaps, want 1", config_maps.len())
        })?;
        let cm = config_maps[0];
        ensure(cm["metadata"]["name"] == cm_name.as_str(), || {
            format!("ConfigMap name {}", cm["metadata"]["name"])
        })?;
        let want: serde_json::Map<String, Value> = files
            .iter()
            .map(|(_, k, c)| (k.clone(), c.clone()))
            .collect();
        ensure(cm["data"] == Value::Object(want.clone()), || {
            format!("ConfigMap data {} want {want:?}", cm["data"])
        })?;
    }
    let sidecars = spec["sidecars"].as_array().cloned().unwrap_or_default();
    let inits = spec["init_containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for d in pods {
        let name = format!("{}/{}", d["kind"], d["metadata"]["name"]);
        let pod = pod_spec(d);
        let cron = d["kind"] == "CronJob" || d["kind"] == "Job";
        let got_inits = pod["initContainers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // Extra containers: only in the service's pods, sidecars first.
        let extras: Vec<(&Value, bool)> = if cron {
            Vec::new()
        } else {
            sidecars
                .iter()
                .map(|s| (s, true))
                .chain(inits.iter().map(|s| (s, false)))
                .collect()
        };
        let want_names: Vec<&Value> = extras.iter().map(|(s, _)| &s["name"]).collect();
        let got_names: Vec<&Value> = got_inits.iter().map(|c| &c["name"]).collect();
        ensure(got_names == want_names, || {
            format!("{name}: initContainers {got_names:?} want {want_names:?}")
        })?;
        let main = &pod["containers"][0];
        for ((s, sidecar), c) in extras.iter().zip(&got_inits) {
            let cname = format!("{name} init container {}", c["name"]);
            let image = s.get("image").unwrap_or(&main["image"]);
            ensure(&c["image"] == image, || {
                format!("{cname}: image {} want {image}", c["image"])
            })?;
            for (field, key) in [("commands", "command"), ("args", "args")] {
                ensure(c[key] == *s.get(field).unwrap_or(&Value::Null), || {
                    format!("{cname}: {key} {}", c[key])
                })?;
            }
            let restart = if *sidecar {
                json!("Always")
            } else {
                Value::Null
            };
            ensure(c["restartPolicy"] == restart, || {
                format!(
                    "{cname}: restartPolicy {} want {restart}",
                    c["restartPolicy"]
                )
            })?;
            let want_ports: Vec<Value> = s["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| json!({"name": p["name"], "containerPort": p["port"], "protocol": "TCP"}))
                .collect();
            let want_ports = match want_ports.is_empty() {
                true => Value::Null,
                false => Value::Array(want_ports),
            };
            ensure(c["ports"] == want_ports, || {
                format!("{cname}: ports {} want {want_ports}", c["ports"])
            })?;
            let want_res = extra_resources(s, &main["resources"]);
            ensure(c["resources"] == want_res, || {
                format!("{cname}: resources {} want {want_res}", c["resources"])
            })?;
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                ensure(c.get(probe).is_none(), || format!("{cname}: has {probe}"))?;
            }
            // The same environment and security context as the service's container.
            for key in ["env", "envFrom", "securityContext"] {
                ensure(c[key] == main[key], || {
                    format!("{cname}: {key} differs from the service's")
                })?;
            }
        }
        // Every container: env_refs first, env_from, and the config files mounted read-only.
        for c in pod["containers"]
            .as_array()
            .unwrap()
            .iter()
            .chain(&got_inits)
        {
            let cname = format!("{name} container {}", c["name"]);
            let env = c["env"].as_array().cloned().unwrap_or_default();
            ensure(
                env.len() >= want_refs.len() && env[..want_refs.len()] == want_refs[..],
                || format!("{cname}: env does not start with the env_refs {want_refs:?}"),
            )?;
            let got_from = c["envFrom"].as_array().cloned().unwrap_or_default();
            ensure(got_from == want_from, || {
                format!("{cname}: envFrom {got_from:?} want {want_from:?}")
            })?;
            let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
            for (path, key, _) in &files {
                let want = json!({"name": "config-files", "mountPath": path, "subPath": key, "readOnly": true});
                ensure(mounts.contains(&want), || {
                    format!("{cname}: {path} is not mounted read-only from key {key}")
                })?;
            }
        }
        let checksum = &pod_meta(d)["annotations"]["checksum/config"];
        if files.is_empty() {
            ensure(checksum.is_null(), || {
                format!("{name}: checksum/config without config files")
            })?;
        } else {
            ensure(
                checksum
                    .as_str()
                    .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())),
                || format!("{name}: checksum/config {checksum}"),
            )?;
            let vol = pod["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|v| v["name"] == "config-files")
                .ok_or_else(|| format!("{name}: no config-files volume"))?;
            let cm_name = match d["kind"] == "Job" {
                true => format!("{fullname}-release-config"),
                false => cm_name.clone(),
            };
            let want = json!({"name": cm_name, "defaultMode": 0o444});
            ensure(vol["configMap"] == want, || {
                format!(
                    "{name}: config-files volume {} want {want}",
                    vol["configMap"]
                )
            })?;
        }
    }
    Ok(())
}

fn chart_path(name: &str) -> &'static std::path::Path {
    &packaged()
        .iter()
        .find(|(_, c, _)| *c == name)
        .unwrap_or_else(|| panic!("no example chart {name}"))
        .2
}

/// The checksum/config annotation of every pod template, by object.
fn checksums(docs: &[Value]) -> Vec<(String, Value)> {
    docs.iter()
        .filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some("Deployment" | "StatefulSet" | "CronJob")
            )
        })
        .map(|d| {
            (
                format!("{}/{}", d["kind"], d["metadata"]["name"]),
                pod_meta(d)["annotations"]["checksum/config"].clone(),
            )
        })
        .collect()
}

#[test]
fn config_file_changes_roll_the_pods_even_when_made_at_install_time() {
    let catalog = chart_path("catalog");
    let spec: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root().join("examples/configured.yaml")).unwrap(),
    )
    .unwrap();
    // The example's files as values, with the content of one of them changed.
    let mut files: Vec<Value> = spec["config_files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(p, c)| json!({"key": p[1..].replace('/', "_"), "mountPath": p, "content": c}))
        .collect();
    let same = format!("configFiles={}", Value::Array(files.clone()));
    files[0]["content"] = json!("listen: 0.0.0.0:9090\n");
    let changed = format!("configFiles={}", Value::Array(files));
    for (name, helm) in helms() {
        let base = checksums(&render(&helm, catalog, &[] as &[&str]).unwrap());
        assert_eq!(base.len(), 2, "{name}: Deployment and CronJob: {base:?}");
        let again = checksums(&render(&helm, catalog, &["--set-json", &same]).unwrap());
        assert_eq!(again, base, "{name}: the same files must keep the checksum");
        let other =
            checksums(&render(&helm, catalog, &["--set", "autoscaling.maxReplicas=9"]).unwrap());
        assert_eq!(
            other, base,
            "{name}: unrelated values must keep the checksum"
        );
        let rolled = checksums(&render(&helm, catalog, &["--set-json", &changed]).unwrap());
        for ((obj, a), (_, b)) in base.iter().zip(&rolled) {
            assert_ne!(a, b, "{name}: {obj} must roll when a config file changes");
        }
    }
}

#[test]
fn configuration_values_are_checked_at_install_time() {
    let catalog = chart_path("catalog");
    for (name, helm) in helms() {
        // Native sidecars need Kubernetes 1.29; older clusters would start pods that never run.
        let err = render(&helm, catalog, &["--kube-version", "1.28.9"]).unwrap_err();
        assert!(
            err.contains("sidecars need Kubernetes 1.29"),
            "{name}: {err}"
        );
        render(&helm, catalog, &["--kube-version", "1.29.0"]).unwrap();
        let ok = [
            r#"envRefs=[{"name":"A","secret":"","configMap":"c","key":"k","optional":false}]"#,
            r#"envFrom=[{"secret":"s","configMap":"","prefix":"","optional":true}]"#,
            r#"initContainers=[]"#,
            r#"sidecars=[]"#,
        ];
        for v in ok {
            render(&helm, catalog, &["--set-json", v])
                .unwrap_or_else(|e| panic!("{name} {v}: {e}"));
        }
        for bad in [
            r#"envRefs=[{"name":"A","secret":"s","configMap":"c","key":"k","optional":false}]"#,
            r#"envRefs=[{"name":"A","secret":"","configMap":"","key":"k","optional":false}]"#,
            r#"envRefs=[{"name":"A","secret":"s","configMap":"","key":"..k","optional":false}]"#,
            r#"envFrom=[{"secret":"s","configMap":"","prefix":"1X","optional":true}]"#,
            r#"configFiles=[{"key":"k","mountPath":"/etc/../shadow","content":""}]"#,
            r#"configFiles=[{"key":"a/b","mountPath":"/etc/x","content":""}]"#,
            r#"initContainers=[{"name":"Bad_Name","image":"","command":[],"args":[],"resources":{}}]"#,
            r#"sidecars=[{"name":"p","image":"x y","command":[],"args":[],"resources":{},"ports":[]}]"#,
            r#"sidecars=[{"name":"p","image":"","command":[],"args":[],"resources":{}}]"#,
        ] {
            let err = render(&helm, catalog, &["--set-json", bad]).expect_err(bad);
            assert!(err.contains("schema"), "{name} {bad}: {err}");
        }
        for (bad, want) in [
            (
                r#"initContainers=[{"name":"app","image":"","command":["x"],"args":[],"resources":{}}]"#,
                "reserved container name",
            ),
            (
                r#"configFiles=[{"key":"a","mountPath":"/etc/a","content":""},{"key":"a","mountPath":"/etc/b","content":""}]"#,
                r#"configFiles[1].key "a" is used twice"#,
            ),
            (
                r#"configFiles=[{"key":"a","mountPath":"/tmp","content":""}]"#,
                "used twice",
            ),
            (
                r#"sidecars=[{"name":"p","image":"","command":["x"],"args":[],"resources":{},"ports":[{"name":"main","containerPort":9000}]}]"#,
                r#"sidecars[0].ports[0].name "main" is used twice"#,
            ),
        ] {
            let err = render(&helm, catalog, &["--set-json", bad]).expect_err(bad);
            assert!(err.contains(want), "{name} {bad}: {err}");
            assert!(
                err.contains("(catalog/templates/validate.yaml:"),
                "{name} {bad}: {err}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Runtime defaults at install time: sizes, writable paths, the unprivileged-port sysctl
// ---------------------------------------------------------------------------------------------

/// Memory and disk quantities that mean a few bytes are unit mistakes the schema refuses
/// (`--set resources.requests.memory=512` is 512 bytes); realistic ones pass, on Helm 3 and 4.
#[test]
fn byte_quantities_that_mean_a_few_bytes_are_refused_at_install_time() {
    let hello = chart_path("hello");
    let accepted = [
        "64Mi",
        "1Gi",
        "0.5Gi",
        "0.05Gi",
        "1e9",
        "1.5e8",
        "134217728",
        "10000000",
        "1500M",
        "10Mi",
        "20000Ki",
        "2G",
    ];
    let refused = [
        "512", "9999999", "512m", "1m", "512Ki", "100k", "9Mi", "1M", "0.001Gi", "1e6", "0.5",
        "1Gb", "-1Gi",
    ];
    let keys = [
        "resources.requests.memory",
        "resources.limits.memory",
        "resources.limits.ephemeral-storage",
        "tmpDir.sizeLimit",
    ];
    for (name, helm) in helms() {
        for key in keys {
            for q in accepted {
                let set = format!("{key}={q}");
                render(&helm, hello, &["--set", &set])
                    .unwrap_or_else(|e| panic!("{name} {set} must pass: {e}"));
            }
            for q in refused {
                let set = format!("{key}={q}");
                let err = render(&helm, hello, &["--set", &set]).expect_err(&set);
                assert!(err.contains("schema"), "{name} {set}: {err}");
            }
        }
        // What the accepted quantities render as, byte for byte.
        let docs = render(
            &helm,
            hello,
            &[
                "--set",
                "resources.requests.memory=1e9",
                "--set",
                "resources.limits.ephemeral-storage=2Gi",
                "--set",
                "tmpDir.sizeLimit=0.5Gi",
            ],
        )
        .unwrap();
        let pod = pod_spec(find(&docs, "Deployment")[0]);
        let res = &pod["containers"][0]["resources"];
        assert_eq!(res["requests"]["memory"], "1e9", "{name}");
        assert_eq!(res["limits"]["ephemeral-storage"], "2Gi", "{name}");
        assert_eq!(
            pod["volumes"][0],
            json!({"name": "tmp", "emptyDir": {"sizeLimit": "0.5Gi"}}),
            "{name}"
        );
    }
}

/// writablePaths at install time: emptyDirs in every container of every pod, named from the
/// path; a path that another mount uses is refused by a render-time check, a path that is not an
/// absolute directory by the schema.
#[test]
fn writable_paths_work_and_are_checked_at_install_time() {
    let site = chart_path("static-site");
    let nightly = chart_path("nightly");
    let set = r#"writablePaths=[{"mountPath":"/srv/cache","sizeLimit":"1Gi"},{"mountPath":"/Var/Run","sizeLimit":"64Mi"}]"#;
    for (name, helm) in helms() {
        for chart in [site, nightly] {
            let docs = render(&helm, chart, &["--set-json", set]).unwrap();
            let pods: Vec<&Value> = docs
                .iter()
                .filter(|d| ["Deployment", "CronJob"].contains(&d["kind"].as_str().unwrap()))
                .collect();
            assert!(!pods.is_empty(), "{name}");
            for d in pods {
                let pod = pod_spec(d);
                for (path, size) in [("/srv/cache", "1Gi"), ("/Var/Run", "64Mi")] {
                    let vname = writable_volume_name(path);
                    assert!(vname.len() <= 63 && vname.starts_with("w-"), "{vname}");
                    let vol = json!({"name": vname, "emptyDir": {"sizeLimit": size}});
                    assert!(
                        pod["volumes"].as_array().unwrap().contains(&vol),
                        "{name}: {vol} in {}",
                        pod["volumes"]
                    );
                    let mount = json!({"name": vname, "mountPath": path});
                    for c in pod["containers"].as_array().unwrap() {
                        assert!(
                            c["volumeMounts"].as_array().unwrap().contains(&mount),
                            "{name}: {mount} in {}",
                            c["volumeMounts"]
                        );
                    }
                }
            }
        }
        // Two paths differing only in case get different names; long paths stay within 63.
        let long = format!("/{}", "a".repeat(200));
        let docs = render(
            &helm,
            site,
            &[
                "--set-json",
                &format!(r#"writablePaths=[{{"mountPath":"{long}","sizeLimit":"64Mi"}}]"#),
            ],
        )
        .unwrap();
        let pod = pod_spec(find(&docs, "Deployment")[0]);
        assert_eq!(
            pod["volumes"][1]["name"],
            writable_volume_name(&long).as_str(),
            "{name}"
        );
        for (bad, want) in [
            (
                r#"writablePaths=[{"mountPath":"/tmp","sizeLimit":"64Mi"}]"#,
                r#"writablePaths[0].mountPath "/tmp" is used twice"#,
            ),
            (
                r#"writablePaths=[{"mountPath":"/a","sizeLimit":"64Mi"},{"mountPath":"/a","sizeLimit":"64Mi"}]"#,
                r#"writablePaths[1].mountPath "/a" is used twice"#,
            ),
            (
                r#"secretEnv={"secretName":"","keys":["K"],"mountPath":"/var/cache/nginx"}"#,
                r#"secretEnv.mountPath "/var/cache/nginx" is also tmpDir.mountPath or a writablePaths mountPath"#,
            ),
            (
                r#"configFiles=[{"key":"a","mountPath":"/var/run","content":""}]"#,
                r#"configFiles[0].mountPath "/var/run" is used twice"#,
            ),
        ] {
            let err = render(&helm, site, &["--set-json", bad]).expect_err(bad);
            assert!(err.contains(want), "{name} {bad}: {err}");
            assert!(
                err.contains("(static-site/templates/validate.yaml:"),
                "{name} {bad}: {err}"
            );
        }
        for bad in [
            r#"writablePaths=[{"mountPath":"var/run","sizeLimit":"64Mi"}]"#,
            r#"writablePaths=[{"mountPath":"/a/../b","sizeLimit":"64Mi"}]"#,
            r#"writablePaths=[{"mountPath":"/","sizeLimit":"64Mi"}]"#,
            r#"writablePaths=[{"mountPath":"/a","sizeLimit":"64"}]"#,
            r#"writablePaths=[{"mountPath":"/a"}]"#,
            r#"writablePaths=[{"mountPath":"/a","sizeLimit":"64Mi","name":"x"}]"#,
        ] {
            let err = render(&helm, site, &["--set-json", bad]).expect_err(bad);
            assert!(err.contains("schema"), "{name} {bad}: {err}");
        }
    }
}

/// The unprivileged-port sysctl is on every pod by default and can be removed at install time
/// for clusters whose policy refuses sysctls.
#[test]
fn the_unprivileged_port_sysctl_can_be_removed_at_install_time() {
    let nightly = chart_path("nightly");
    let site = chart_path("static-site");
    for (name, helm) in helms() {
        for chart in [site, nightly] {
            for (args, want) in [
                (
                    &[][..],
                    json!([{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]),
                ),
                (&["--set", "podSecurityContext.sysctls=null"], Value::Null),
                (&["--set-json", "podSecurityContext.sysctls=[]"], json!([])),
            ] {
                let docs = render(&helm, chart, args).unwrap();
                let pods: Vec<&Value> = docs
                    .iter()
                    .filter(|d| ["Deployment", "CronJob"].contains(&d["kind"].as_str().unwrap()))
                    .collect();
                assert!(!pods.is_empty(), "{name}");
                for d in pods {
                    let psc = &pod_spec(d)["securityContext"];
                    assert_eq!(psc["sysctls"], want, "{name} {args:?}");
                    assert_eq!(psc["runAsNonRoot"], true, "{name} {args:?}");
                }
            }
        }
    }
}

/// The release phase as helm runs it: `install --dry-run=client` (Helm 4 needs no cluster for it)
/// lists the hooks in the order helm creates them — by weight, then by name: the ServiceAccount
/// and the config copy (-10) before the Job (0) — apart from the release's other objects, which
/// helm creates only after every pre-install hook has succeeded; NOTES name the command that
/// reads the Job's logs. The values: off, a TTL, and no program are checked at install time.
#[test]
fn the_release_phase_runs_first_and_its_logs_are_one_command_away() {
    let accounts = chart_path("accounts");
    let helm4 = &helms()[1].1;
    let o = run(Command::new(helm4)
        .args(["install", "r"])
        .arg(accounts)
        .args(["--namespace", "ci", "--dry-run=client"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let (hooks, rest) = out.split_once("\nMANIFEST:\n").expect("a MANIFEST section");
    let hooks = hooks.split_once("\nHOOKS:\n").expect("a HOOKS section").1;
    let hooks: Vec<Value> = serde_saphyr::from_multiple(hooks).unwrap();
    let order: Vec<(&str, &str)> = hooks
        .iter()
        .filter(|d| !d.is_null())
        .map(|d| {
            (
                d["kind"].as_str().unwrap(),
                d["metadata"]["annotations"]["helm.sh/hook-weight"]
                    .as_str()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("ServiceAccount", "-10"),
            ("ConfigMap", "-10"),
            ("Job", "0")
        ]
    );
    assert!(!rest.contains("kind: Job"), "the Job is a hook only");
    assert!(
        rest.contains("  its logs:  kubectl --namespace ci logs job/r-accounts-release\n"),
        "NOTES:\n{rest}"
    );
    // The image: AUTO paragraph is only for a chart whose repository is still empty.
    assert!(rest.contains("\nImage: "), "NOTES:\n{rest}");
    assert!(!rest.contains("image: AUTO"), "NOTES:\n{rest}");
    for (name, helm) in helms() {
        let docs = render(&helm, accounts, &["--set", "releaseJob.enabled=false"]).unwrap();
        assert!(
            !docs.iter().any(is_release_hook),
            "{name}: releaseJob.enabled=false must render no release object"
        );
        let docs = render(
            &helm,
            accounts,
            &["--set", "releaseJob.ttlSecondsAfterFinished=3600"],
        )
        .unwrap();
        assert_eq!(
            find(&docs, "Job")[0]["spec"]["ttlSecondsAfterFinished"],
            3600,
            "{name}"
        );
        let err = render(
            &helm,
            accounts,
            &["--set", "releaseJob.ttlSecondsAfterFinished=5"],
        )
        .expect_err("a TTL under a minute");
        assert!(err.contains("schema"), "{name}: {err}");
        let err = render(&helm, accounts, &["--set-json", "releaseJob.command=[]"])
            .expect_err("no program");
        assert!(
            err.contains("releaseJob.command is empty") && err.contains("validate.yaml:"),
            "{name}: {err}"
        );
        // Without a ServiceAccount of the chart's, the Job runs as the one named.
        let docs = render(
            &helm,
            accounts,
            &[
                "--set",
                "serviceAccount.create=false",
                "--set",
                "serviceAccount.name=accounts-runner",
            ],
        )
        .unwrap();
        assert_eq!(
            pod_spec(find(&docs, "Job")[0])["serviceAccountName"],
            "accounts-runner",
            "{name}"
        );
        assert!(find(&docs, "ServiceAccount").is_empty(), "{name}");
    }
}

/// The replica count while an HPA runs the workload (`svc.replicas`), rendered by both helms
/// offline and against a fake API server that answers the chart's lookups: the floor when nothing
/// is live, the live count under the release's HPA (never moved, so server-side apply cannot
/// conflict with the HPA), the larger of the live count and the floor when a fixed count becomes
/// autoscaled; and a lookup refused for lack of RBAC fails the render with helm's own message.
#[test]
fn the_workload_starts_at_its_floor_and_keeps_its_live_count() {
    use fake_api::{FakeApi, owned};
    let accounts = chart_path("accounts"); // a Deployment, autoscaled 2-5
    let chat = chart_path("chat"); // a StatefulSet, 3 fixed
    let deployment = "/apis/apps/v1/namespaces/ci/deployments/r-accounts";
    let hpa = "/apis/autoscaling/v2/namespaces/ci/horizontalpodautoscalers/r-accounts";
    let live = |replicas: i64| {
        owned(
            deployment,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}, "spec": {"replicas": replicas}}),
        )
    };
    let live_hpa = owned(
        hpa,
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {}, "spec": {"minReplicas": 2, "maxReplicas": 5}}),
    );
    let replicas = |docs: &[Value], kind: &str| find(docs, kind)[0]["spec"]["replicas"].clone();
    let manual = ["--set", "autoscaling.manageReplicas=false"];
    for (name, helm) in helms() {
        // Offline, install or upgrade alike: the floor; or nothing, left to the HPA.
        for extra in [&[] as &[&str], &["--is-upgrade"]] {
            let docs = render(&helm, accounts, extra).unwrap();
            assert_eq!(replicas(&docs, "Deployment"), 2, "{name} {extra:?}");
        }
        let docs = render(&helm, accounts, &manual).unwrap();
        assert!(
            find(&docs, "Deployment")[0]["spec"]
                .get("replicas")
                .is_none(),
            "{name}"
        );

        // (objects live, values, what the render must write)
        type Case<'a> = (Vec<(String, Value)>, Vec<&'a str>, Value);
        let cases: Vec<Case> = vec![
            // A first install: nothing live.
            (vec![], vec![], json!(2)),
            // Upgrades under the HPA: its count, whatever the floor.
            (vec![live(4), live_hpa.clone()], vec![], json!(4)),
            (vec![live(1), live_hpa.clone()], vec![], json!(1)),
            // A fixed count becoming autoscaled: never fewer pods, never below the floor.
            (vec![live(1)], vec![], json!(2)),
            (vec![live(3)], vec![], json!(3)),
            // Left to the HPA, or a fixed count: what the values say.
            (
                vec![live(4), live_hpa.clone()],
                manual.to_vec(),
                Value::Null,
            ),
            (
                vec![live(5), live_hpa.clone()],
                vec![
                    "--set",
                    "autoscaling.enabled=false",
                    "--set",
                    "workload.replicas=3",
                ],
                json!(3),
            ),
        ];
        for (objects, values, want) in cases {
            let api = FakeApi::start(Value::Object(objects.iter().cloned().collect()), &[]);
            let docs = api
                .render(name, &helm, accounts, &values)
                .unwrap_or_else(|e| {
                    panic!("{name} {values:?}: {e}\nrequests: {:?}", api.requests())
                });
            let live: Vec<&String> = objects.iter().map(|(p, _)| p).collect();
            assert_eq!(
                replicas(&docs, "Deployment"),
                want,
                "{name}: live {live:?}, values {values:?}"
            );
        }

        // A StatefulSet under the release's HPA keeps its count too.
        let sts = "/apis/apps/v1/namespaces/ci/statefulsets/r-chat";
        let sts_hpa = "/apis/autoscaling/v2/namespaces/ci/horizontalpodautoscalers/r-chat";
        let api = FakeApi::start(
            Value::Object(
                [
                    owned(sts, json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {}, "spec": {"replicas": 5}})),
                    owned(sts_hpa, json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {}, "spec": {}})),
                ]
                .into_iter()
                .collect(),
            ),
            &[],
        );
        let autoscaled = [
            "--set",
            "autoscaling.enabled=true",
            "--set",
            "autoscaling.minReplicas=2",
            "--set",
            "autoscaling.maxReplicas=6",
        ];
        let docs = api.render(name, &helm, chat, &autoscaled).unwrap();
        assert_eq!(replicas(&docs, "StatefulSet"), 5, "{name}");
        // Helm 3 reads nothing but discovery and the two lookups.
        if name == "helm3" {
            let reads: Vec<String> = api
                .requests()
                .into_iter()
                .filter(|r| r.contains("/namespaces/"))
                .collect();
            assert_eq!(
                reads,
                [format!("GET {sts}"), format!("GET {sts_hpa}")],
                "{name}"
            );
        }

        // A deployer who may not read the workload: helm fails the render, naming the lookup.
        let api = FakeApi::start(json!({}), &[deployment]);
        let err = api
            .render(name, &helm, accounts, &[])
            .expect_err("a forbidden lookup fails the render");
        assert!(
            err.contains("forbidden") && err.contains("_helpers.tpl"),
            "{name}: {err}"
        );
    }
}

/// Preflight: against a fake API server, each missing object the pods need fails the render
/// before anything is installed, the message starting with the value at fault and giving the
/// command that makes it; present objects (optional ones may be missing) render. Nothing is
/// checked offline, when the namespace does not exist (no "default" ServiceAccount), with
/// preflight.enabled=false, or (for PriorityClass and StorageClass) without
/// preflight.clusterScoped.
#[test]
fn preflight_names_the_missing_object_and_how_to_make_it() {
    use fake_api::FakeApi;
    let ns = |kind: &str, name: &str| format!("/api/v1/namespaces/ci/{kind}/{name}");
    let obj = |kind: &str, name: &str, data: Value| -> (String, Value) {
        let plural = format!("{}s", kind.to_lowercase());
        (
            ns(&plural, name),
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "ci"}, "data": data}),
        )
    };
    let default_sa = obj("ServiceAccount", "default", Value::Null);
    let cluster = |path: &str, kind: &str| -> (String, Value) {
        let name = path.rsplit('/').next().unwrap();
        (
            path.to_string(),
            json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}),
        )
    };
    // (chart, objects live, values, Ok(()) or the start of the error and a part of its command)
    type Case = (
        &'static str,
        Vec<(String, Value)>,
        Vec<&'static str>,
        Result<(), [&'static str; 2]>,
    );
    let secret = |keys: &[&str]| {
        obj(
            "Secret",
            "r-accounts-secrets",
            Value::Object(
                keys.iter()
                    .map(|k| (k.to_string(), json!("eA==")))
                    .collect(),
            ),
        )
    };
    let catalog_all = vec![
        default_sa.clone(),
        obj("ConfigMap", "catalog-settings", json!({})),
        obj("Secret", "catalog-db", json!({"password": "eA=="})),
        obj("ConfigMap", "cluster-info", json!({"REGION": "eu"})),
    ];
    let without = |drop: &str, with: Vec<(String, Value)>| -> Vec<(String, Value)> {
        with.into_iter()
            .filter(|(p, _)| !p.ends_with(drop))
            .collect()
    };
    let sc = "/apis/storage.k8s.io/v1/storageclasses/fast-ssd";
    let pc = "/apis/scheduling.k8s.io/v1/priorityclasses/business-critical";
    let cases: Vec<Case> = vec![
        // secretEnv
        (
            "accounts",
            vec![default_sa.clone()],
            vec![],
            Err([
                "secretEnv.secretName: the Secret \"r-accounts-secrets\" does not exist in namespace \"ci\"",
                "kubectl --namespace ci create secret generic r-accounts-secrets --from-literal=DATABASE_URL=...",
            ]),
        ),
        (
            "accounts",
            vec![default_sa.clone(), secret(&["OTHER"])],
            vec![],
            Err([
                "secretEnv.keys[0] \"DATABASE_URL\": the Secret \"r-accounts-secrets\" in namespace \"ci\" has no such key (its keys: [\"OTHER\"])",
                "preflight.enabled=false",
            ]),
        ),
        (
            "accounts",
            vec![default_sa.clone(), secret(&["DATABASE_URL"])],
            vec![],
            Ok(()),
        ),
        // Not checked: the namespace does not exist (or helm does not read the cluster), or off.
        ("accounts", vec![], vec![], Ok(())),
        (
            "accounts",
            vec![default_sa.clone()],
            vec!["--set", "preflight.enabled=false"],
            Ok(()),
        ),
        // envFrom and envRefs, optional ones excepted.
        (
            "catalog",
            without("catalog-settings", catalog_all.clone()),
            vec![],
            Err([
                "envFrom[0]: the ConfigMap \"catalog-settings\" does not exist in namespace \"ci\"",
                "kubectl --namespace ci create configmap catalog-settings",
            ]),
        ),
        (
            "catalog",
            without("catalog-db", catalog_all.clone()),
            vec![],
            Err([
                "envRefs[0] \"DB_PASSWORD\": the Secret \"catalog-db\" does not exist in namespace \"ci\"",
                "kubectl --namespace ci create secret generic catalog-db",
            ]),
        ),
        (
            "catalog",
            without("catalog-db", catalog_all.clone())
                .into_iter()
                .chain([obj("Secret", "catalog-db", json!({"user": "eA=="}))])
                .collect(),
            vec![],
            Err([
                "envRefs[0] \"DB_PASSWORD\": the Secret \"catalog-db\" in namespace \"ci\" has no key \"password\"",
                "(its keys: [\"user\"])",
            ]),
        ),
        (
            "catalog",
            without("cluster-info", catalog_all.clone()),
            vec![],
            Err([
                "envRefs[2] \"REGION\": the ConfigMap \"cluster-info\" does not exist",
                "create configmap cluster-info",
            ]),
        ),
        ("catalog", catalog_all.clone(), vec![], Ok(())),
        // Pull Secrets; a TLS Secret without cert-manager (with cert-manager it comes later).
        (
            "ledger-ui",
            vec![
                default_sa.clone(),
                obj("Secret", "acme-wildcard", json!({})),
            ],
            vec![],
            Err([
                "imagePullSecrets[0] \"acr-pull\": the Secret does not exist in namespace \"ci\"",
                "kubectl --namespace ci create secret docker-registry acr-pull",
            ]),
        ),
        (
            "ledger-ui",
            vec![default_sa.clone(), obj("Secret", "acr-pull", json!({}))],
            vec![],
            Err([
                "ingress.tls.secretName \"acme-wildcard\": the TLS Secret does not exist in namespace \"ci\"; HTTPS for ledger.acme.example",
                "kubectl --namespace ci create secret tls acme-wildcard --cert=CERT.pem --key=KEY.pem",
            ]),
        ),
        (
            "billing",
            vec![
                default_sa.clone(),
                obj("Secret", "acme-registry", json!({})),
            ],
            vec![],
            Ok(()),
        ),
        // Cluster-scoped kinds only when asked.
        ("chat", vec![default_sa.clone()], vec![], Ok(())),
        (
            "chat",
            vec![default_sa.clone()],
            vec!["--set", "preflight.clusterScoped=true"],
            Err([
                "persistence.volumes[1].storageClassName \"fast-ssd\": no such StorageClass in the cluster",
                "kubectl get storageclass",
            ]),
        ),
        (
            "chat",
            vec![default_sa.clone(), cluster(sc, "StorageClass")],
            vec!["--set", "preflight.clusterScoped=true"],
            Ok(()),
        ),
        (
            "orders",
            vec![default_sa.clone()],
            vec!["--set", "preflight.clusterScoped=true"],
            Err([
                "priorityClassName \"business-critical\": no such PriorityClass in the cluster",
                "kubectl create priorityclass business-critical",
            ]),
        ),
        (
            "orders",
            vec![default_sa.clone(), cluster(pc, "PriorityClass")],
            vec!["--set", "preflight.clusterScoped=true"],
            Ok(()),
        ),
    ];
    let mut failures = Vec::new();
    for (name, helm) in helms() {
        for (chart, objects, values, want) in &cases {
            let api = FakeApi::start(Value::Object(objects.iter().cloned().collect()), &[]);
            let got = api.render(name, &helm, chart_path(chart), values);
            let live: Vec<&String> = objects.iter().map(|(p, _)| p).collect();
            let label = format!("{name} {chart} {values:?} live {live:?}");
            match (want, got) {
                (Ok(()), Ok(_)) => {}
                (Ok(()), Err(e)) => failures.push(format!("{label}: refused: {e}")),
                (Err(_), Ok(_)) => failures.push(format!("{label}: rendered")),
                (Err([start, command]), Err(e)) => {
                    // helm: "... validate.yaml:LINE:COL): <message>"
                    let message = e.split("): ").nth(1).unwrap_or("");
                    if !(e.contains("validate.yaml:")
                        && message.starts_with(start)
                        && message.contains(command))
                    {
                        failures.push(format!("{label}: want {start:?} ... {command:?}, got {e}"));
                    }
                }
            }
        }
        // Offline, nothing is looked up.
        render(&helm, chart_path("accounts"), &[] as &[&str]).unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Opta's links (examples/opta-service.yaml, chart web): each database or cache variable, with
/// Opta's name (`<module>_<output>`, or the link's rename), is read from the key named after the
/// module's output in the link's own Secret, `<fullname>-link-<module>` or `secretName`, before
/// the plain env vars; the bucket link adds nothing. The
/// preflight names a missing Secret or key and the command that makes it.
#[test]
fn links_read_opta_s_variables_from_one_secret_per_link() {
    use fake_api::FakeApi;
    let web = chart_path("shop-web");
    let repo = format!("image.repository={}", auto_repository("shop-web"));
    let want = |db: &str, cache: &str| -> Vec<Value> {
        let e = |name: &str, secret: &str, key: &str| json!({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}});
        // By module name, as the values key them.
        vec![
            e("REDIS_HOST", cache, "cache_host"),
            e("REDIS_PASSWORD", cache, "cache_auth_token"),
            e("db_db_user", db, "db_user"),
            e("db_db_name", db, "db_name"),
            e("db_db_password", db, "db_password"),
            e("db_db_host", db, "db_host"),
        ]
    };
    for (name, helm) in helms() {
        for (extra, db, cache) in [
            (vec![], "r-shop-web-link-db", "r-shop-web-link-cache"),
            (
                vec!["--set", "links.db.secretName=shop-db"],
                "shop-db",
                "r-shop-web-link-cache",
            ),
        ] {
            let mut args = vec!["--set", repo.as_str()];
            args.extend(extra.iter().copied());
            let docs = render(&helm, web, &args).unwrap();
            let c = &pod_spec(find(&docs, "Deployment")[0])["containers"][0];
            let env = c["env"].as_array().unwrap();
            assert_eq!(env[..6], want(db, cache)[..], "{name} {extra:?}: {env:#?}");
            // The plain values follow, so they may use the link variables as $(NAME).
            assert!(
                env[6..].iter().all(|e| e.get("valueFrom").is_none()),
                "{name}: {env:#?}"
            );
            assert!(
                !env.iter()
                    .any(|e| e["name"].as_str().unwrap().contains("uploads")),
                "{name}: the bucket link adds no variable"
            );
        }
    }
    // The values schema refuses a Secret name Kubernetes would refuse, and a link's key that
    // is not an Opta module name.
    for (name, helm) in helms() {
        for bad in ["links.db.secretName=Shop_DB", "links.my-db.secretName=x"] {
            let err = render(&helm, web, &["--set", repo.as_str(), "--set", bad]).unwrap_err();
            assert!(err.contains("links"), "{name} {bad}: {err}");
        }
    }

    // Preflight against a fake API server.
    let sa = (
        "/api/v1/namespaces/ci/serviceaccounts/default".to_string(),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "ci"}}),
    );
    let secret = |name: &str, keys: &[&str]| {
        (
            format!("/api/v1/namespaces/ci/secrets/{name}"),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "ci"},
                   "data": keys.iter().map(|k| (k.to_string(), json!("eA=="))).collect::<serde_json::Map<_, _>>()}),
        )
    };
    let db_keys = ["db_user", "db_name", "db_password", "db_host"];
    let cache_keys = ["cache_host", "cache_auth_token"];
    // (objects live, Ok(()) or the start of the error and a part of its command)
    type Case = (Vec<(String, Value)>, Result<(), [&'static str; 2]>);
    let cases: Vec<Case> = vec![
        (
            vec![sa.clone(), secret("r-shop-web-link-cache", &cache_keys)],
            Err([
                "links.db (aws-postgres): the Secret \"r-shop-web-link-db\" does not exist in namespace \"ci\"",
                "kubectl --namespace ci create secret generic r-shop-web-link-db --from-literal=db_user=... --from-literal=db_name=... --from-literal=db_password=... --from-literal=db_host=... (preflight.enabled=false",
            ]),
        ),
        (
            vec![
                sa.clone(),
                secret("r-shop-web-link-db", &db_keys),
                secret("r-shop-web-link-cache", &["cache_host"]),
            ],
            Err([
                "links.cache (redis): the Secret \"r-shop-web-link-cache\" in namespace \"ci\" has no key \"cache_auth_token\" (for REDIS_PASSWORD; its keys: [\"cache_host\"])",
                "preflight.enabled=false",
            ]),
        ),
        (
            vec![
                sa.clone(),
                secret("r-shop-web-link-db", &db_keys),
                secret("r-shop-web-link-cache", &cache_keys),
            ],
            Ok(()),
        ),
    ];
    let mut failures = Vec::new();
    for (name, helm) in helms() {
        for (objects, want) in &cases {
            let api = FakeApi::start(Value::Object(objects.iter().cloned().collect()), &[]);
            let got = api.render(name, &helm, web, &["--set", repo.as_str()]);
            let live: Vec<&String> = objects.iter().map(|(p, _)| p).collect();
            match (want, got) {
                (Ok(()), Ok(_)) => {}
                (Ok(()), Err(e)) => failures.push(format!("{name} {live:?}: refused: {e}")),
                (Err(_), Ok(_)) => failures.push(format!("{name} {live:?}: rendered")),
                (Err([start, command]), Err(e)) => {
                    let message = e.split_once("): ").map_or("", |(_, m)| m);
                    if !(e.contains("validate.yaml:")
                        && message.starts_with(start)
                        && message.contains(command))
                    {
                        failures.push(format!("{name}: want {start:?} ... {command:?}, got {e}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
