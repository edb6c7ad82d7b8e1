//! Secure by default, checked on every example chart as rendered by Helm 3 and Helm 4:
//!
//! - every Pod Security Standards "restricted" rule (and the baseline rules it includes) on every
//!   pod template: Deployments, StatefulSets, the job templates of CronJobs and the release Job; sysctls only
//!   from the safe set of the oldest Kubernetes the charts install on (the unprivileged-port
//!   sysctl every pod sets among them); a `security_profile: baseline` example passes every
//!   baseline rule and is reported failing exactly the restricted rules it gives up;
//! - checkov: no failed check, except the ones that only information from the spec can satisfy or
//!   that the spec turned off — an image without a digest (CKV_K8S_43, and CKV_K8S_14 without a
//!   tag either), secrets as environment variables (CKV_K8S_35), no NetworkPolicy (CKV2_K8S_6) —
//!   and exactly those; the same charts given that information fail nothing, but for what the
//!   spec chose on purpose: secrets read by `env_refs`/`env_from`/`links` stay environment variables
//!   (CKV_K8S_35), an init container's or sidecar's own image without a digest stays
//!   unpinned (CKV_K8S_43), and `security_profile: baseline` fails the checks of what it gives
//!   up (CKV_K8S_20, 22, 23, 28, 37, 40);
//! - the PodDisruptionBudget and NetworkPolicy values: what an install-time override renders, and
//!   that a budget which would block every eviction is refused.
//!
//! kubernetes-validate for Kubernetes 1.30 to 1.37 runs in `e2e_helm.rs`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Pod Security Standards "restricted"
// ---------------------------------------------------------------------------------------------

/// Volume types "restricted" allows.
const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Sysctls "baseline" (and so "restricted") allows, with the policy version that made each safe
/// (pod-security-admission check_sysctls.go).
const SAFE_SYSCTLS: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
];

/// The oldest Kubernetes minor the charts install on (Chart.yaml `kubeVersion: >=1.27.0-0`): a
/// sysctl must be safe in its policy version already, or that cluster's admission refuses it.
const OLDEST_MINOR: u32 = 27;

/// The rules of "restricted" that "baseline" does not have; every other rule below is a
/// baseline rule (restricted includes them all).
const RESTRICTED_ONLY: &[&str] = &[
    "allowPrivilegeEscalation",
    "capabilities",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile",
    "volumeTypes",
];

const SELINUX_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Every pod template of the rendered objects: ("Kind/name", template with metadata and spec).
fn pod_templates(docs: &[Value]) -> Vec<(String, &Value)> {
    docs.iter()
        .filter_map(|d| {
            let template = match d["kind"].as_str()? {
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                    &d["spec"]["template"]
                }
                "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"],
                "Pod" => d,
                _ => return None,
            };
            let name = format!(
                "{}/{}",
                d["kind"].as_str().unwrap_or("?"),
                d["metadata"]["name"].as_str().unwrap_or("?")
            );
            Some((name, template))
        })
        .collect()
}

fn is_true(v: &Value) -> bool {
    v == &Value::Bool(true)
}

fn set(v: &Value) -> bool {
    !v.is_null() && v != "" && v != 0
}

/// Every violation of "baseline" in one pod template: the restricted violations of its rules.
fn baseline_violations(obj: &str, template: &Value) -> Vec<String> {
    restricted_violations(obj, template)
        .into_iter()
        .filter(|v| {
            !RESTRICTED_ONLY
                .iter()
                .any(|r| v.starts_with(&format!("[{r}]")))
        })
        .collect()
}

/// The rules a list of violations breaks, in order, once each.
fn rules(violations: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in violations {
        let rule = v[1..v.find(']').unwrap()].to_string();
        if !out.contains(&rule) {
            out.push(rule);
        }
    }
    out
}

/// Every violation of "restricted" in one pod template, as "[rule] object where: what".
fn restricted_violations(obj: &str, template: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut fail = |rule: &str, detail: String| out.push(format!("[{rule}] {obj} {detail}"));
    let spec = &template["spec"];
    let psc = &spec["securityContext"];
    let containers: Vec<(String, &Value)> = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| {
            spec[*k].as_array().into_iter().flatten().map(move |c| {
                (
                    format!(
                        "{} {}",
                        k.trim_end_matches('s'),
                        c["name"].as_str().unwrap_or("?")
                    ),
                    c,
                )
            })
        })
        .collect();
    if containers.is_empty() {
        fail("containers", "has no containers".into());
    }

    // Baseline: host namespaces, hostProcess, hostPath and volume types, host ports, privileged.
    for ns in ["hostNetwork", "hostPID", "hostIPC"] {
        if is_true(&spec[ns]) {
            fail("hostNamespaces", format!("sets {ns}: true"));
        }
    }
    if is_true(&psc["windowsOptions"]["hostProcess"]) {
        fail("hostProcess", "pod sets windowsOptions.hostProcess".into());
    }
    for vol in spec["volumes"].as_array().into_iter().flatten() {
        let name = vol["name"].as_str().unwrap_or("?");
        if vol.get("hostPath").is_some() {
            fail("hostPath", format!("volume {name} is a hostPath"));
        }
        for key in vol.as_object().into_iter().flatten().map(|(k, _)| k) {
            if key != "name" && !ALLOWED_VOLUMES.contains(&key.as_str()) {
                fail("volumeTypes", format!("volume {name} has type {key}"));
            }
        }
    }

    // Pod-level settings that restricted constrains.
    let pod_non_root = match &psc["runAsNonRoot"] {
        Value::Bool(true) => true,
        Value::Bool(false) => {
            fail("runAsNonRoot", "pod sets runAsNonRoot: false".into());
            false
        }
        _ => false,
    };
    if psc["runAsUser"] == 0 {
        fail("runAsUser", "pod sets runAsUser: 0".into());
    }
    let seccomp_ok = |p: &Value| matches!(p["type"].as_str(), Some("RuntimeDefault" | "Localhost"));
    let pod_seccomp = &psc["seccompProfile"];
    if !pod_seccomp.is_null() && !seccomp_ok(pod_seccomp) {
        fail(
            "seccompUnconfined",
            format!("pod seccompProfile {pod_seccomp}"),
        );
    }
    let apparmor_ok = |p: &Value| {
        p.is_null() || matches!(p["type"].as_str(), Some("RuntimeDefault" | "Localhost"))
    };
    let selinux_ok = |o: &Value| {
        o.is_null()
            || (SELINUX_TYPES.contains(&o["type"].as_str().unwrap_or(""))
                && !set(&o["user"])
                && !set(&o["role"]))
    };
    if !apparmor_ok(&psc["appArmorProfile"]) {
        fail(
            "appArmor",
            format!("pod appArmorProfile {}", psc["appArmorProfile"]),
        );
    }
    if !selinux_ok(&psc["seLinuxOptions"]) {
        fail(
            "seLinux",
            format!("pod seLinuxOptions {}", psc["seLinuxOptions"]),
        );
    }
    for s in psc["sysctls"].as_array().into_iter().flatten() {
        let name = s["name"].as_str().unwrap_or("?");
        match SAFE_SYSCTLS.iter().find(|(n, _)| *n == name) {
            None => fail("sysctls", format!("pod sets unsafe sysctl {name}")),
            Some((_, since)) if *since > OLDEST_MINOR => fail(
                "sysctls",
                format!("pod sets sysctl {name}, safe only from policy v1.{since}"),
            ),
            Some(_) => {}
        }
    }
    for (k, v) in template["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if k.starts_with("container.apparmor.security.beta.kubernetes.io/") {
            let v = v.as_str().unwrap_or("");
            if v != "runtime/default" && !v.starts_with("localhost/") {
                fail("appArmor", format!("annotation {k}: {v}"));
            }
        }
    }

    for (where_, c) in &containers {
        let sc = &c["securityContext"];
        if sc["allowPrivilegeEscalation"] != false {
            fail(
                "allowPrivilegeEscalation",
                format!(
                    "{where_}: must set allowPrivilegeEscalation: false (is {})",
                    sc["allowPrivilegeEscalation"]
                ),
            );
        }
        if is_true(&sc["privileged"]) {
            fail("privileged", format!("{where_}: privileged: true"));
        }
        let drop: Vec<&str> = sc["capabilities"]["drop"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str())
            .collect();
        if !drop.contains(&"ALL") {
            fail(
                "capabilities",
                format!("{where_}: does not drop ALL ({drop:?})"),
            );
        }
        for cap in sc["capabilities"]["add"].as_array().into_iter().flatten() {
            if cap != "NET_BIND_SERVICE" {
                fail("capabilities", format!("{where_}: adds {cap}"));
            }
            if !common::BASELINE_CAPS.contains(&cap.as_str().unwrap_or("?")) {
                fail(
                    "capabilitiesBaseline",
                    format!("{where_}: adds {cap}, beyond the default set"),
                );
            }
        }
        match &sc["runAsNonRoot"] {
            Value::Bool(false) => fail("runAsNonRoot", format!("{where_}: runAsNonRoot: false")),
            Value::Bool(true) => {}
            _ if pod_non_root => {}
            _ => fail(
                "runAsNonRoot",
                format!("{where_}: runAsNonRoot is set neither on the pod nor here"),
            ),
        }
        if sc["runAsUser"] == 0 {
            fail("runAsUser", format!("{where_}: runAsUser: 0"));
        }
        let profile = &sc["seccompProfile"];
        if profile.is_null() {
            if pod_seccomp.is_null() {
                fail(
                    "seccompProfile",
                    format!("{where_}: no seccompProfile here or on the pod"),
                );
            }
        } else if !seccomp_ok(profile) {
            fail(
                "seccompUnconfined",
                format!("{where_}: seccompProfile {profile}"),
            );
        }
        if !apparmor_ok(&sc["appArmorProfile"]) {
            fail(
                "appArmor",
                format!("{where_}: appArmorProfile {}", sc["appArmorProfile"]),
            );
        }
        if !selinux_ok(&sc["seLinuxOptions"]) {
            fail(
                "seLinux",
                format!("{where_}: seLinuxOptions {}", sc["seLinuxOptions"]),
            );
        }
        if let Some(m) = sc["procMount"].as_str()
            && m != "Default"
        {
            fail("procMount", format!("{where_}: procMount {m}"));
        }
        if is_true(&sc["windowsOptions"]["hostProcess"]) {
            fail(
                "hostProcess",
                format!("{where_}: windowsOptions.hostProcess"),
            );
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if set(&port["hostPort"]) {
                fail(
                    "hostPorts",
                    format!("{where_}: hostPort {}", port["hostPort"]),
                );
            }
        }
        let handlers = [
            ("livenessProbe", &c["livenessProbe"]),
            ("readinessProbe", &c["readinessProbe"]),
            ("startupProbe", &c["startupProbe"]),
            ("lifecycle.postStart", &c["lifecycle"]["postStart"]),
            ("lifecycle.preStop", &c["lifecycle"]["preStop"]),
        ];
        for (what, h) in handlers {
            for kind in ["httpGet", "tcpSocket"] {
                if set(&h[kind]["host"]) {
                    fail(
                        "probeHost",
                        format!("{where_}: {what}.{kind}.host {}", h[kind]["host"]),
                    );
                }
            }
        }
    }
    out
}

/// Helm's output as objects.
fn parse(stdout: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(stdout).expect("helm output parses");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// What "restricted" rules a `security_profile: baseline` pod breaks, and only those: the image's
/// own user (no runAsNonRoot), privilege escalation, capabilities not dropped.
const BASELINE_PROFILE_BREAKS: &[&str] =
    &["allowPrivilegeEscalation", "capabilities", "runAsNonRoot"];

#[test]
fn every_pod_template_meets_the_restricted_pod_security_standard() {
    let mut failures = Vec::new();
    let mut report = Vec::new();
    let mut checked = 0;
    for (ex, chart, path) in packaged() {
        let baseline = spec_of(ex, chart)["security_profile"] == "baseline";
        for (helm_name, helm) in helms() {
            let docs = match render(&helm, path, &ex.set(chart)) {
                Ok(d) => d,
                Err(e) => {
                    failures.push(format!("{chart} / {helm_name}: {e}"));
                    continue;
                }
            };
            let templates = pod_templates(&docs);
            if templates.is_empty() && !find(&docs, "ServiceAccount").is_empty() {
                // A chart deploys pods unless it is nothing but a ServiceAccount.
                failures.push(format!("{chart} / {helm_name}: no pod template found"));
            }
            for (obj, t) in templates {
                checked += 1;
                // The unprivileged-port sysctl is really there, so the sysctl rule is tested.
                let sysctls = &t["spec"]["securityContext"]["sysctls"];
                if *sysctls
                    != json!([{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}])
                {
                    failures.push(format!(
                        "{} / {chart} / {helm_name}: {obj} sysctls {sysctls}",
                        ex.spec
                    ));
                }
                if !baseline {
                    for v in restricted_violations(&obj, t) {
                        failures.push(format!("{} / {chart} / {helm_name}: {v}", ex.spec));
                    }
                    continue;
                }
                // security_profile: baseline passes every baseline rule, and is reported failing
                // exactly the restricted rules it gives up.
                for v in baseline_violations(&obj, t) {
                    failures.push(format!(
                        "{} / {chart} / {helm_name} (baseline): {v}",
                        ex.spec
                    ));
                }
                let broken = rules(&restricted_violations(&obj, t));
                if broken != BASELINE_PROFILE_BREAKS {
                    failures.push(format!(
                        "{} / {chart} / {helm_name}: security_profile baseline breaks {broken:?} of restricted, want {BASELINE_PROFILE_BREAKS:?}",
                        ex.spec
                    ));
                }
                report.push(format!(
                    "{} / {chart} / {helm_name} / {obj}: baseline, NOT restricted ({})",
                    ex.spec,
                    broken.join(", ")
                ));
            }
        }
    }
    eprintln!(
        "pod templates meeting only \"baseline\":\n{}",
        report.join("\n")
    );
    assert!(
        !report.is_empty(),
        "no security_profile: baseline example was checked"
    );
    assert!(checked > 0, "no pod template was checked");
    assert!(
        failures.is_empty(),
        "{} violation(s) of the restricted Pod Security Standard:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The checker above must see each rule break, or the test before proves nothing.
#[test]
fn the_restricted_checker_catches_every_rule() {
    let (ex, chart, path) = packaged()
        .iter()
        .find(|(_, c, _)| *c == "ledger")
        .expect("the singleton example");
    let helm = helms().remove(1).1;
    let docs = render(&helm, path, &ex.set(chart)).unwrap();
    let deployment = find(&docs, "Deployment")[0];
    let good = deployment["spec"]["template"].clone();
    assert_eq!(
        restricted_violations("Deployment/x", &good),
        Vec::<String>::new()
    );
    type Mutation = fn(&mut Value);
    let cases: &[(&str, Mutation)] = &[
        ("allowPrivilegeEscalation", |t| {
            t["spec"]["containers"][0]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("allowPrivilegeEscalation");
        }),
        ("allowPrivilegeEscalation", |t| {
            t["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = json!(true)
        }),
        ("capabilities", |t| {
            t["spec"]["containers"][0]["securityContext"]["capabilities"]["drop"] =
                json!(["NET_RAW"])
        }),
        ("capabilities", |t| {
            t["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] =
                json!(["NET_BIND_SERVICE", "SYS_ADMIN"])
        }),
        ("runAsNonRoot", |t| {
            t["spec"]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("runAsNonRoot");
            t["spec"]["containers"][0]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("runAsNonRoot");
        }),
        ("runAsNonRoot", |t| {
            t["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false)
        }),
        ("runAsNonRoot", |t| {
            t["spec"]["securityContext"]["runAsNonRoot"] = json!(false)
        }),
        ("runAsUser", |t| {
            t["spec"]["securityContext"]["runAsUser"] = json!(0)
        }),
        ("runAsUser", |t| {
            t["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0)
        }),
        ("seccompProfile", |t| {
            t["spec"]["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("seccompProfile");
        }),
        ("seccompUnconfined", |t| {
            t["spec"]["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"})
        }),
        ("seccompUnconfined", |t| {
            t["spec"]["containers"][0]["securityContext"]["seccompProfile"] =
                json!({"type": "Unconfined"})
        }),
        ("volumeTypes", |t| {
            t["spec"]["volumes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "n", "nfs": {"server": "x", "path": "/"}}))
        }),
        ("hostPath", |t| {
            t["spec"]["volumes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "h", "hostPath": {"path": "/var/run"}}))
        }),
        ("hostNamespaces", |t| t["spec"]["hostNetwork"] = json!(true)),
        ("hostNamespaces", |t| t["spec"]["hostPID"] = json!(true)),
        ("hostNamespaces", |t| t["spec"]["hostIPC"] = json!(true)),
        ("privileged", |t| {
            t["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true)
        }),
        ("hostPorts", |t| {
            t["spec"]["containers"][0]["ports"][0]["hostPort"] = json!(8080)
        }),
        ("probeHost", |t| {
            t["spec"]["containers"][0]["livenessProbe"]["httpGet"]["host"] = json!("10.0.0.1")
        }),
        (
            "probeHost",
            |t| {
                t["spec"]["containers"][0]["lifecycle"] =
                    json!({"preStop": {"tcpSocket": {"host": "10.0.0.1", "port": 1}}})
            },
        ),
        ("procMount", |t| {
            t["spec"]["containers"][0]["securityContext"]["procMount"] = json!("Unmasked")
        }),
        ("sysctls", |t| {
            t["spec"]["securityContext"]["sysctls"] =
                json!([{"name": "kernel.msgmax", "value": "1"}])
        }),
        ("sysctls", |t| {
            // Safe only from policy v1.29: a 1.27 or 1.28 cluster refuses it.
            t["spec"]["securityContext"]["sysctls"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "net.ipv4.tcp_keepalive_time", "value": "600"}))
        }),
        ("capabilitiesBaseline", |t| {
            t["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] =
                json!(["SYS_ADMIN"])
        }),
        ("seLinux", |t| {
            t["spec"]["securityContext"]["seLinuxOptions"] = json!({"user": "root"})
        }),
        ("appArmor", |t| {
            t["spec"]["containers"][0]["securityContext"]["appArmorProfile"] =
                json!({"type": "Unconfined"})
        }),
        (
            "appArmor",
            |t| {
                t["metadata"]["annotations"] =
                    json!({"container.apparmor.security.beta.kubernetes.io/app": "unconfined"})
            },
        ),
        ("hostProcess", |t| {
            t["spec"]["securityContext"]["windowsOptions"] = json!({"hostProcess": true})
        }),
        // A container without a security context breaks several rules at once.
        ("allowPrivilegeEscalation", |t| {
            t["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox"}])
        }),
        ("capabilities", |t| {
            t["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox"}])
        }),
    ];
    let mut missed = Vec::new();
    for (i, (rule, mutate)) in cases.iter().enumerate() {
        let mut t = good.clone();
        mutate(&mut t);
        let found = restricted_violations("Deployment/x", &t);
        if !found.iter().any(|v| v.starts_with(&format!("[{rule}]"))) {
            missed.push(format!("case {i} ({rule}): found {found:?}"));
        }
        // The baseline checker sees exactly the baseline rules among them.
        let baseline = baseline_violations("Deployment/x", &t);
        let want_baseline = !RESTRICTED_ONLY.contains(rule);
        if baseline.iter().any(|v| v.starts_with(&format!("[{rule}]"))) != want_baseline {
            missed.push(format!(
                "case {i} ({rule}): baseline {} it: {baseline:?}",
                if want_baseline { "misses" } else { "reports" }
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// checkov
// ---------------------------------------------------------------------------------------------

/// checkov checks skipped for every chart, each with the reason. None is: every check either
/// passes or fails for a reason the spec controls (see `expected_failures`).
const SKIPPED_CHECKS: &[(&str, &str)] = &[];

/// A digest the "pinned" variant of every chart is packaged with.
const PIN: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// The spec of one chart as written (the standalone file, or the Opta module).
fn spec_of(ex: &Example, chart: &str) -> Value {
    let text = std::fs::read_to_string(root().join("examples").join(ex.spec)).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    match doc["modules"].as_array() {
        None => doc,
        // With several k8s-service modules, each chart is `<file name>-<module>`.
        Some(modules) => modules
            .iter()
            .find(|m| {
                let module = m["name"].as_str().unwrap_or_default();
                chart == module
                    || chart == format!("{}-{module}", doc["name"].as_str().unwrap_or_default())
            })
            .cloned()
            .unwrap(),
    }
}

/// The workloads checkov examines: "Kind.namespace.name".
fn workloads(docs: &[Value]) -> Vec<(String, String)> {
    docs.iter()
        .filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some("Deployment" | "StatefulSet" | "CronJob" | "Job")
            )
        })
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                format!(
                    "{}.{}.{}",
                    d["kind"].as_str().unwrap(),
                    d["metadata"]["namespace"].as_str().unwrap(),
                    d["metadata"]["name"].as_str().unwrap()
                ),
            )
        })
        .collect()
}

/// Secrets the spec reads into the environment on purpose (`env_refs` or `env_from` entries with
/// `secret`): secretKeyRef/secretRef, which no install-time switch turns into files.
fn secret_refs_in_env(spec: &Value) -> bool {
    let entries: Vec<&Value> = match &spec["env_refs"] {
        Value::Object(m) => m.values().collect(),
        Value::Array(a) => a.iter().collect(),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .chain(spec["env_from"].as_array().into_iter().flatten())
        .any(|e| e.get("secret").is_some())
}

/// The chart reads the Secrets of Opta's links (`<fullname>-link-<module>`) as env vars: a spec's
/// database and cache links do, its bucket links do not.
fn link_secrets_in_env(docs: &[Value]) -> bool {
    fn any_ref(v: &Value) -> bool {
        match v {
            Value::Object(m) => {
                m.get("secretKeyRef")
                    .and_then(|r| r["name"].as_str())
                    .is_some_and(|n| n.contains("-link-"))
                    || m.values().any(any_ref)
            }
            Value::Array(a) => a.iter().any(any_ref),
            _ => false,
        }
    }
    docs.iter().any(any_ref)
}

/// Init containers or sidecars with an image of their own and no digest (`--digest` pins only
/// the service's image).
fn unpinned_extra_images(spec: &Value) -> bool {
    ["init_containers", "sidecars"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten())
        .any(|c| c["image"].as_str().is_some_and(|i| !i.contains('@')))
}

/// The checks a `security_profile: baseline` workload fails (README "What you give").
const BASELINE_CHECKOV_FAILURES: &[&str] = &[
    "CKV_K8S_20",
    "CKV_K8S_22",
    "CKV_K8S_23",
    "CKV_K8S_28",
    "CKV_K8S_37",
    "CKV_K8S_40",
];

/// What checkov must report for a chart rendered with the spec's own settings (or, `pinned`,
/// given a digest, secrets as files and the NetworkPolicy): only what the spec leaves to its
/// author.
fn expected_failures(spec: &Value, docs: &[Value], pinned: bool) -> BTreeSet<(String, String)> {
    let mut want = BTreeSet::new();
    for (kind, resource) in workloads(docs) {
        if spec["security_profile"] == "baseline" {
            // What security_profile: baseline gives up on purpose, pinned or not: privilege
            // escalation, a writable root filesystem, the image's own user (maybe root, maybe
            // a low UID) and the runtime's default capabilities (NET_RAW among them).
            for id in BASELINE_CHECKOV_FAILURES {
                want.insert((id.to_string(), resource.clone()));
            }
        }
        if kind != "CronJob" && kind != "Job" && unpinned_extra_images(spec) {
            // An init container's or sidecar's own image without a digest (the jobs have none).
            want.insert(("CKV_K8S_43".to_string(), resource.clone()));
        }
        if secret_refs_in_env(spec) || link_secrets_in_env(docs) {
            // Secrets the spec reads as environment variables on purpose (env_refs, env_from,
            // and Opta's links, whose apps expect their variables).
            want.insert(("CKV_K8S_35".to_string(), resource.clone()));
        }
    }
    if pinned {
        return want;
    }
    let image = spec["image"].as_str().unwrap_or("");
    let inline_tag = image
        .rsplit_once(':')
        .is_some_and(|(_, t)| !t.contains('/'));
    let has_digest = spec.get("digest").is_some() || image.contains('@');
    let has_tag = spec.get("tag").is_some() || inline_tag;
    let secrets_in_env = spec["secrets"].as_array().is_some_and(|s| !s.is_empty())
        && spec.get("secrets_mount_path").is_none();
    let no_network_policy = spec["network_policy"]["enabled"] == false;
    for (kind, resource) in workloads(docs) {
        if !has_digest {
            // Image should use digest.
            want.insert(("CKV_K8S_43".to_string(), resource.clone()));
            if !has_tag {
                // Image tag should be fixed (not latest or blank).
                want.insert(("CKV_K8S_14".to_string(), resource.clone()));
            }
        }
        if secrets_in_env {
            // Prefer secrets as files over secrets as environment variables.
            want.insert(("CKV_K8S_35".to_string(), resource.clone()));
        }
        if no_network_policy && kind != "CronJob" {
            // Pods without a NetworkPolicy (checkov models the pods of workloads, not of jobs).
            want.insert(("CKV2_K8S_6".to_string(), resource.replacen(&kind, "Pod", 1)));
        }
    }
    want
}

/// checkov skips a YAML file that contains `{{ .Values.` or `{{ .Release.` anywhere (it takes it
/// for an unrendered Helm template) and reports nothing for it. The tricky example carries such
/// strings in env values, so those renders are scanned as the same objects in a JSON `List`.
fn checkov_would_skip(yaml: &str) -> bool {
    yaml.match_indices("{{").any(|(i, _)| {
        let rest = yaml[i + 2..].trim_start_matches('-').trim_start();
        rest.starts_with(".Values.") || rest.starts_with(".Release.")
    })
}

struct Scan {
    label: String,
    file: PathBuf,
    docs: Vec<Value>,
    want: BTreeSet<(String, String)>,
}

/// Render `chart` as release `release` into `dir` for checkov.
fn scan_file(
    dir: &Path,
    helm: &Path,
    chart: &Path,
    release: &str,
    args: &[String],
) -> Result<(PathBuf, Vec<Value>), String> {
    let o = run(Command::new(helm)
        .args(["template", release])
        .arg(chart)
        .args(["--namespace", "ci"])
        .args(args));
    if !o.status.success() {
        return Err(text(&o.stderr));
    }
    let yaml = text(&o.stdout);
    let docs = parse(&yaml);
    let file = if checkov_would_skip(&yaml) {
        let f = dir.join(format!("{release}.json"));
        let list = json!({"apiVersion": "v1", "kind": "List", "items": docs});
        std::fs::write(&f, serde_json::to_vec_pretty(&list).unwrap()).unwrap();
        f
    } else {
        let f = dir.join(format!("{release}.yaml"));
        std::fs::write(&f, &yaml).unwrap();
        f
    };
    Ok((file, docs))
}

/// checkov's resource names: "Kind.namespace.name", and for the pods of its graph checks
/// "Pod.namespace.name.<labels>", cut to the first three parts.
fn resource_key(r: &str) -> String {
    r.splitn(4, '.').take(3).collect::<Vec<_>>().join(".")
}

#[test]
fn checkov_fails_only_what_the_spec_leaves_open() {
    let dir = tempfile::tempdir().unwrap();
    let pinned_dir = dir.path().join("pinned");
    std::fs::create_dir(&pinned_dir).unwrap();
    // Every example again, pinned by digest on the command line.
    for ex in EXAMPLES {
        let o = run(Command::new(bin())
            .arg("package")
            .arg(root().join("examples").join(ex.spec))
            .arg("--destination")
            .arg(&pinned_dir)
            .args(["--digest", PIN])
            .args(ex.args));
        assert!(o.status.success(), "{}: {}", ex.spec, text(&o.stderr));
    }
    let mut scans = Vec::new();
    let mut failures = Vec::new();
    for (ex, chart, path) in packaged() {
        let spec = spec_of(ex, chart);
        for (helm_name, helm) in helms() {
            let v = &helm_name[4..];
            // 1. As the spec says. Release names differ per file so that checkov's graph never
            //    connects a NetworkPolicy of one file to the pods of another.
            let release = format!("{chart}-spec-h{v}");
            match scan_file(dir.path(), &helm, path, &release, &ex.set(chart)) {
                Ok((file, docs)) => scans.push(Scan {
                    label: format!("{} / {chart} / {helm_name}", ex.spec),
                    want: expected_failures(&spec, &docs, false),
                    file,
                    docs,
                }),
                Err(e) => failures.push(format!("{chart} / {helm_name}: {e}")),
            }
            // 2. Given what the spec left open: a digest (--digest), secrets as files, and the
            //    NetworkPolicy back on. Nothing may fail but what the spec chose on purpose.
            let pinned = pinned_dir.join(path.file_name().unwrap());
            let mut args = ex.set(chart);
            if spec["secrets"].as_array().is_some_and(|s| !s.is_empty()) {
                args.extend([
                    "--set".into(),
                    "secretEnv.mountPath=/var/run/secrets/app".into(),
                ]);
            }
            args.extend(["--set".into(), "networkPolicy.enabled=true".into()]);
            let release = format!("{chart}-pinned-h{v}");
            match scan_file(dir.path(), &helm, &pinned, &release, &args) {
                Ok((file, docs)) => scans.push(Scan {
                    label: format!("{} / {chart} / {helm_name} / pinned", ex.spec),
                    want: expected_failures(&spec, &docs, true),
                    file,
                    docs,
                }),
                Err(e) => failures.push(format!("{chart} / {helm_name} pinned: {e}")),
            }
        }
    }

    // One checkov run over every file (it takes a few seconds to start).
    let mut cmd = Command::new(checkov());
    for s in &scans {
        cmd.arg("-f").arg(&s.file);
    }
    cmd.args([
        "--framework",
        "kubernetes",
        "--compact",
        "--skip-download",
        "-o",
        "json",
    ])
    .env("BC_SKIP_MAPPING", "TRUE");
    if !SKIPPED_CHECKS.is_empty() {
        let ids: Vec<&str> = SKIPPED_CHECKS.iter().map(|(id, _)| *id).collect();
        cmd.args(["--skip-check", &ids.join(",")]);
    }
    let o = run(&mut cmd);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}):\n{}\n{}",
            text(&o.stdout),
            text(&o.stderr)
        )
    });
    // One framework gives an object; several would give a list.
    let report = match report {
        Value::Array(mut a) => a.remove(0),
        r => r,
    };
    let results = &report["results"];
    assert_eq!(
        results["parsing_errors"],
        json!([]),
        "checkov could not parse some files"
    );
    let by_file = |key: &str| {
        let mut m: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        for c in results[key].as_array().into_iter().flatten() {
            m.entry(c["file_abs_path"].as_str().unwrap().to_string())
                .or_default()
                .insert((
                    c["check_id"].as_str().unwrap().to_string(),
                    resource_key(c["resource"].as_str().unwrap()),
                ));
        }
        m
    };
    let passed = by_file("passed_checks");
    let failed = by_file("failed_checks");
    let empty = BTreeSet::new();
    let mut table = Vec::new();
    for s in &scans {
        let key = s.file.to_string_lossy().to_string();
        let got_failed = failed.get(&key).unwrap_or(&empty);
        let got_passed = passed.get(&key).unwrap_or(&empty);
        table.push(format!(
            "{:<75} passed {:>3}  failed {} {:?}",
            s.label,
            got_passed.len(),
            got_failed.len(),
            got_failed
        ));
        // Every workload was really examined (checkov silently skips files it misreads).
        for (_, resource) in workloads(&s.docs) {
            if !got_passed
                .iter()
                .chain(got_failed)
                .any(|(_, r)| *r == resource)
            {
                failures.push(format!("{}: checkov did not examine {resource}", s.label));
            }
        }
        if got_failed != &s.want {
            let unexpected: Vec<_> = got_failed.difference(&s.want).collect();
            let missing: Vec<_> = s.want.difference(got_failed).collect();
            failures.push(format!(
                "{}: unexpected failed checks {unexpected:?}; expected but not reported {missing:?}",
                s.label
            ));
        }
    }
    eprintln!("checkov, per chart:\n{}", table.join("\n"));
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// PodDisruptionBudget and NetworkPolicy values
// ---------------------------------------------------------------------------------------------

fn chart(name: &str) -> &'static Path {
    &packaged()
        .iter()
        .find(|(_, c, _)| *c == name)
        .unwrap_or_else(|| panic!("no example chart {name}"))
        .2
}

fn sets(pairs: &[&str]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|p| ["--set".to_string(), p.to_string()])
        .collect()
}

#[test]
fn a_disruption_budget_never_blocks_every_eviction() {
    // hello: autoscaled 1..3, so one replica may be all there is.
    let hello = chart("hello");
    for (name, helm) in helms() {
        let pdb = |args: &[&str]| -> Result<Option<Value>, String> {
            let docs = render(&helm, hello, &sets(args))?;
            Ok(find(&docs, "PodDisruptionBudget")
                .first()
                .map(|p| p["spec"].clone()))
        };
        // The default: one pod at a time, whatever the replica count.
        let p = pdb(&[]).unwrap().expect("a PDB by default");
        assert_eq!(p["maxUnavailable"], 1, "{name}");
        assert_eq!(p["unhealthyPodEvictionPolicy"], "AlwaysAllow", "{name}");
        // Fixed replica counts: a PDB from two replicas on, none for one.
        let fixed = ["autoscaling.enabled=false"];
        assert!(
            pdb(&[fixed[0], "workload.replicas=1"]).unwrap().is_none(),
            "{name}"
        );
        assert!(
            pdb(&[fixed[0], "workload.replicas=2"]).unwrap().is_some(),
            "{name}"
        );
        // An HPA that never goes above one replica: none either.
        assert!(
            pdb(&["autoscaling.maxReplicas=1"]).unwrap().is_none(),
            "{name}"
        );
        // Disabled.
        assert!(
            pdb(&["podDisruptionBudget.enabled=false"])
                .unwrap()
                .is_none(),
            "{name}"
        );
        // minAvailable replaces maxUnavailable, if it leaves room for an eviction at the fewest
        // replicas; percentages round up as the disruption controller does.
        for ok in [
            &[
                "autoscaling.minReplicas=3",
                "podDisruptionBudget.minAvailable=2",
            ][..],
            &[
                "autoscaling.minReplicas=2",
                "podDisruptionBudget.minAvailable=50%",
            ],
            &[
                "autoscaling.minReplicas=3",
                "podDisruptionBudget.minAvailable=0",
            ],
        ] {
            let p = pdb(ok).unwrap().expect("a PDB");
            assert!(p.get("maxUnavailable").is_none(), "{name} {ok:?}: {p}");
            assert!(p.get("minAvailable").is_some(), "{name} {ok:?}: {p}");
        }
        for blocking in [
            &["podDisruptionBudget.minAvailable=1"][..],
            &[
                "autoscaling.minReplicas=2",
                "podDisruptionBudget.minAvailable=2",
            ],
            &[
                "autoscaling.minReplicas=2",
                "podDisruptionBudget.minAvailable=51%",
            ],
            &[
                fixed[0],
                "workload.replicas=3",
                "podDisruptionBudget.minAvailable=100%",
            ],
        ] {
            let err = pdb(blocking).expect_err(&format!("{blocking:?} must be refused"));
            assert!(
                err.contains("would block every voluntary eviction"),
                "{name} {blocking:?}: {err}"
            );
        }
        // maxUnavailable 0 is refused by the schema.
        for zero in [
            "podDisruptionBudget.maxUnavailable=0",
            "podDisruptionBudget.maxUnavailable=0%",
        ] {
            let err = pdb(&[zero]).expect_err(zero);
            assert!(err.contains("schema"), "{name} {zero}: {err}");
        }
        let err = pdb(&["podDisruptionBudget.unhealthyPodEvictionPolicy=Never"]).unwrap_err();
        assert!(err.contains("schema"), "{name}: {err}");
    }
}

#[test]
fn network_policy_values_shape_the_policy() {
    let hello = chart("hello");
    let own = json!({"app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "r"});
    for (name, helm) in helms() {
        let np = |args: &[&str]| -> Result<Option<Value>, String> {
            let docs = render(&helm, hello, &sets(args))?;
            Ok(find(&docs, "NetworkPolicy")
                .first()
                .map(|p| p["spec"].clone()))
        };
        let p = np(&[]).unwrap().expect("a NetworkPolicy by default");
        assert_eq!(
            p["ingress"],
            json!([{"ports": [{"port": 8080, "protocol": "TCP"}]}]),
            "{name}"
        );
        assert_eq!(p["egress"], json!([{}]), "{name}");
        // Restricted ingress keeps the release's own pods.
        let p = np(&["networkPolicy.ingressFrom[0].ipBlock.cidr=10.0.0.0/8"])
            .unwrap()
            .unwrap();
        assert_eq!(
            p["ingress"][0]["from"],
            json!([{"ipBlock": {"cidr": "10.0.0.0/8"}}, {"podSelector": {"matchLabels": own}}]),
            "{name}"
        );
        // Restricted egress: DNS and the release's own pods.
        let p = np(&["networkPolicy.egress.allowAll=false"])
            .unwrap()
            .unwrap();
        assert_eq!(
            p["egress"],
            json!([
                {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
                {"to": [{"podSelector": {"matchLabels": own}}]},
            ]),
            "{name}"
        );
        let p = np(&[
            "networkPolicy.egress.allowAll=false",
            "networkPolicy.egress.allowDns=false",
            "networkPolicy.egress.to[0].namespaceSelector.matchLabels.team=data",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            p["egress"],
            json!([{"to": [
                {"podSelector": {"matchLabels": own}},
                {"namespaceSelector": {"matchLabels": {"team": "data"}}},
            ]}]),
            "{name}"
        );
        assert!(
            np(&["networkPolicy.enabled=false"]).unwrap().is_none(),
            "{name}"
        );
        for bad in [
            "networkPolicy.ingressFrom[0].service=x",
            "networkPolicy.egress.allowAll=maybe",
            "networkPolicy.ingressFrom[0].ipBlock.cidr=everything",
        ] {
            let err = np(&[bad]).expect_err(bad);
            assert!(err.contains("schema"), "{name} {bad}: {err}");
        }
    }
}

#[test]
fn install_time_policy_variants_are_valid_kubernetes_objects() {
    let kv = kubernetes_validate();
    let dir = tempfile::tempdir().unwrap();
    let variants: &[(&str, &[&str])] = &[
        (
            "hello",
            &[
                "autoscaling.minReplicas=3",
                "podDisruptionBudget.minAvailable=2",
            ],
        ),
        (
            "hello",
            &[
                "podDisruptionBudget.maxUnavailable=25%",
                "podDisruptionBudget.unhealthyPodEvictionPolicy=IfHealthyBudget",
                "networkPolicy.egress.allowAll=false",
                "networkPolicy.ingressFrom[0].podSelector.matchExpressions[0].key=role",
                "networkPolicy.ingressFrom[0].podSelector.matchExpressions[0].operator=Exists",
                "networkPolicy.ingressFrom[0].namespaceSelector.matchLabels.team=web",
                "networkPolicy.egress.to[0].ipBlock.cidr=10.0.0.0/8",
                "networkPolicy.egress.to[0].ipBlock.except[0]=10.1.0.0/16",
            ],
        ),
        ("payments", &["secretEnv.mountPath=/etc/payments"]),
        ("nightly", &["networkPolicy.egress.allowAll=false"]),
        // Runtime defaults changed at install time: no sysctl, other sizes, another path.
        (
            "static-site",
            &[
                "podSecurityContext.sysctls=null",
                "tmpDir.sizeLimit=1Gi",
                "resources.limits.ephemeral-storage=4Gi",
                "resources.requests.ephemeral-storage=128Mi",
                "writablePaths[0].mountPath=/srv/cache",
                "writablePaths[0].sizeLimit=2Gi",
            ],
        ),
        ("legacy-portal", &["tmpDir.sizeLimit="]),
    ];
    let mut files = Vec::new();
    for (i, (c, args)) in variants.iter().enumerate() {
        for (name, helm) in helms() {
            let o = run(Command::new(&helm)
                .args(["template", "r"])
                .arg(chart(c))
                .args(["--namespace", "ci"])
                .args(sets(args)));
            assert!(
                o.status.success(),
                "{name} {c} {args:?}: {}",
                text(&o.stderr)
            );
            let f = dir.path().join(format!("{i}-{c}-{name}.yaml"));
            std::fs::write(&f, &o.stdout).unwrap();
            files.push(f);
        }
    }
    for k8s in ["1.30.0", "1.37.0"] {
        let v = run(Command::new(&kv).args(["--strict", "-k", k8s]).args(&files));
        let out = format!("{}{}", text(&v.stdout), text(&v.stderr));
        let bad: Vec<&str> = out.lines().filter(|l| !l.starts_with("INFO ")).collect();
        assert!(
            v.status.success() && bad.is_empty(),
            "kubernetes-validate {k8s}:\n{out}"
        );
    }
}
