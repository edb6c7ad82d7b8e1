//! One test per rule of the table, on objects shaped like the chart's.

use serde_json::{Value, json};

use super::*;
use crate::plan::manifest::{Object, ObjectKey};

fn obj(doc: Value) -> Object {
    let api_version = doc["apiVersion"].as_str().unwrap().to_string();
    Object {
        key: ObjectKey {
            group: api_version.rsplit_once('/').map_or("", |(g, _)| g).into(),
            kind: doc["kind"].as_str().unwrap().into(),
            namespace: "prod".into(),
            name: doc["metadata"]["name"].as_str().unwrap().into(),
        },
        api_version,
        template: Some(format!(
            "templates/{}.yaml",
            doc["kind"].as_str().unwrap().to_lowercase()
        )),
        doc,
    }
}

fn ctx(new: &[Object]) -> Context<'_> {
    // The headless Service a kind switch brings along.
    let mut headless = obj(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop-chat-headless"}
    }));
    headless.template = Some("templates/service-headless.yaml".into());
    let headless: &'static Object = Box::leak(Box::new(headless));
    Context {
        release: "shop",
        namespace: "prod",
        spec: "web.yaml",
        new_objects: new,
        added: vec![headless],
    }
}

/// The findings for old → new, as (rule, verdict).
fn run(old: Option<&Object>, new: Option<&Object>) -> Vec<Finding> {
    let all: Vec<Object> = new.into_iter().cloned().collect();
    evaluate(&Pair { old, new }, &ctx(&all))
}

fn rules(found: &[Finding]) -> Vec<(&'static str, Verdict)> {
    found.iter().map(|f| (f.rule, f.verdict)).collect()
}

fn sts(replicas: Option<u64>, claims: Value) -> Value {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "shop-chat"},
        "spec": {
            "serviceName": "shop-chat-headless", "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app.kubernetes.io/name": "chat", "app.kubernetes.io/instance": "shop"}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": "chat", "app.kubernetes.io/instance": "shop"}},
                         "spec": {"containers": [{"name": "app", "image": "chat:1",
                                  "readinessProbe": {"initialDelaySeconds": 30}}]}},
            "volumeClaimTemplates": claims
        }
    });
    if let Some(n) = replicas {
        d["spec"]["replicas"] = json!(n);
    }
    d
}

fn claim(name: &str, size: &str, class: Option<&str>) -> Value {
    let mut c = json!({"metadata": {"name": name, "labels": {"app.kubernetes.io/name": "chat"}},
                       "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}});
    if let Some(class) = class {
        c["spec"]["storageClassName"] = json!(class);
    }
    c
}

fn deployment(replicas: Option<u64>, image: &str) -> Value {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "shop-chat"},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "chat", "app.kubernetes.io/instance": "shop"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": "chat", "app.kubernetes.io/instance": "shop"}},
                         "spec": {"containers": [{"name": "app", "image": image,
                                  "readinessProbe": {"initialDelaySeconds": 30}}]}}
        }
    });
    if let Some(n) = replicas {
        d["spec"]["replicas"] = json!(n);
    }
    d
}

fn service(cluster_ip: Option<&str>) -> Value {
    let mut s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop-chat"},
                       "spec": {"type": "ClusterIP", "selector": {"app.kubernetes.io/name": "chat", "app.kubernetes.io/instance": "shop"}}});
    if let Some(ip) = cluster_ip {
        s["spec"]["clusterIP"] = json!(ip);
    }
    s
}

#[test]
fn the_table_has_unique_ids_and_ends_with_the_catch_all() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(ids.last(), Some(&"in-place"));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
}

#[test]
fn unchanged_objects_have_no_finding() {
    let d = obj(deployment(Some(2), "chat:1"));
    assert!(run(Some(&d), Some(&d)).is_empty());
}

#[test]
fn kind_switch() {
    let (old, new) = (
        obj(deployment(Some(2), "chat:1")),
        obj(sts(Some(2), json!([claim("data-0", "20Gi", None)]))),
    );
    let all = vec![new.clone(), obj(service(None))];
    let found = evaluate(
        &Pair {
            old: Some(&old),
            new: Some(&new),
        },
        &ctx(&all),
    );
    assert_eq!(rules(&found), [("kind-switch", Verdict::Replaced)]);
    let f = &found[0];
    assert!(
        f.reason.contains("Service/shop-chat has no ready endpoint"),
        "{}",
        f.reason
    );
    assert!(f.reason.contains("at least 30 s"), "{}", f.reason);
    assert!(
        f.way_forward[0].contains("--show-only templates/statefulset.yaml --show-only templates/service-headless.yaml | kubectl -n prod apply -f -"),
        "{:?}",
        f.way_forward
    );
    assert!(f.way_forward[1].contains("rollout status statefulset/shop-chat"));
    assert!(f.way_forward[2].contains("--accept-plan -- --take-ownership"));
    // And back: the claims stay.
    let back = run(Some(&new), Some(&old));
    assert!(
        back[0]
            .way_forward
            .iter()
            .any(|s| s.contains("data-0-shop-chat-N")),
        "{:?}",
        back[0].way_forward
    );
}

#[test]
fn added() {
    let s = obj(service(None));
    assert_eq!(rules(&run(None, Some(&s))), [("added", Verdict::Added)]);
}

#[test]
fn removed() {
    let s = obj(sts(Some(2), json!([claim("data-0", "20Gi", None)])));
    let found = run(Some(&s), None);
    assert_eq!(rules(&found), [("removed", Verdict::Removed)]);
    assert!(found[0].reason.contains("claims stay"));
}

#[test]
fn removed_hpa_taken_over_by_keda() {
    let hpa = obj(
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "shop-web"}}),
    );
    let so = obj(json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "shop-web"},
        "spec": {"advanced": {"horizontalPodAutoscalerConfig": {"name": "shop-web"}}}
    }));
    let all = [so];
    let found = evaluate(
        &Pair {
            old: Some(&hpa),
            new: None,
        },
        &ctx(&all),
    );
    assert_eq!(rules(&found), [("removed", Verdict::Removed)]);
    assert!(
        found[0].reason.contains("ScaledObject shop-web adopts it"),
        "{}",
        found[0].reason
    );
    // Without the ScaledObject, a plain removal.
    let found = run(Some(&hpa), None);
    assert_eq!(found[0].reason, "the upgrade deletes it");
}

#[test]
fn selector() {
    let old = obj(deployment(Some(2), "chat:1"));
    let mut doc = deployment(Some(2), "chat:1");
    doc["spec"]["selector"]["matchLabels"]["app.kubernetes.io/version"] = json!("1");
    doc["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] = json!("1");
    let found = run(Some(&old), Some(&obj(doc)));
    assert_eq!(
        rules(&found),
        [
            ("selector", Verdict::Impossible),
            ("pod-template", Verdict::Restart)
        ]
    );
    let f = &found[0];
    assert_eq!(
        f.fields,
        ["spec.selector.matchLabels[\"app.kubernetes.io/version\"]"]
    );
    assert!(
        f.way_forward[0].contains("kubectl -n prod delete deployment shop-chat --cascade=orphan")
    );
    assert!(
        f.way_forward[2].contains(
            "delete replicaset -l app.kubernetes.io/instance=shop,app.kubernetes.io/name=chat"
        ),
        "{:?}",
        f.way_forward
    );
}

#[test]
fn claim_templates_grown() {
    let old = obj(sts(
        Some(3),
        json!([
            claim("data-0", "20Gi", None),
            claim("data-1", "5Gi", Some("fast-ssd"))
        ]),
    ));
    let new = obj(sts(
        Some(3),
        json!([
            claim("data-0", "20Gi", None),
            claim("data-1", "10Gi", Some("fast-ssd"))
        ]),
    ));
    let found = run(Some(&old), Some(&new));
    assert_eq!(rules(&found), [("claim-templates", Verdict::Impossible)]);
    let f = &found[0];
    assert_eq!(f.summary, "claim data-1: storage 5Gi → 10Gi");
    assert_eq!(
        f.fields,
        ["spec.volumeClaimTemplates[data-1].spec.resources.requests.storage"]
    );
    let steps = f.way_forward.join("\n");
    assert!(
        steps.contains("kubectl get storageclass fast-ssd -o jsonpath='{.allowVolumeExpansion}'"),
        "{steps}"
    );
    assert!(
        steps.contains("grep '/data-1-shop-chat-[0-9]*$'"),
        "{steps}"
    );
    assert!(
        steps.contains(
            r#"patch "$pvc" -p '{"spec":{"resources":{"requests":{"storage":"10Gi"}}}}'"#
        ),
        "{steps}"
    );
    assert!(
        steps.contains("kubectl -n prod delete statefulset shop-chat --cascade=orphan"),
        "{steps}"
    );
    assert!(f.way_forward.last().unwrap().ends_with("--accept-plan"));
}

#[test]
fn claim_templates_shrunk_added_and_reclassed() {
    let old = obj(sts(Some(3), json!([claim("data-0", "20Gi", None)])));
    let new = obj(sts(
        Some(3),
        json!([
            claim("data-0", "10Gi", Some("slow")),
            claim("data-1", "5Gi", None)
        ]),
    ));
    let f = &run(Some(&old), Some(&new))[0];
    assert_eq!(f.rule, "claim-templates");
    assert!(
        f.summary.contains("storage 20Gi → 10Gi") && f.summary.contains("claim data-1 added"),
        "{}",
        f.summary
    );
    let steps = f.way_forward.join("\n");
    assert!(
        steps.contains("claims cannot shrink: keep data-0 at 20Gi"),
        "{steps}"
    );
    assert!(
        steps.contains("keep their spec.storageClassName"),
        "{steps}"
    );
    assert!(
        steps.contains("makes a data-1 claim for each pod"),
        "{steps}"
    );
}

#[test]
fn service_name() {
    let old = obj(sts(Some(2), json!([])));
    let mut doc = sts(Some(2), json!([]));
    doc["spec"]["serviceName"] = json!("other");
    let found = run(Some(&old), Some(&obj(doc)));
    assert_eq!(rules(&found), [("service-name", Verdict::Impossible)]);
    assert_eq!(found[0].summary, "shop-chat-headless → other");
}

#[test]
fn pod_management_policy() {
    let old = obj(sts(Some(2), json!([])));
    let mut doc = sts(Some(2), json!([]));
    doc["spec"]["podManagementPolicy"] = json!("OrderedReady");
    let found = run(Some(&old), Some(&obj(doc)));
    assert_eq!(
        rules(&found),
        [("pod-management-policy", Verdict::Impossible)]
    );
    assert!(found[0].way_forward[0].contains("--cascade=orphan"));
}

#[test]
fn statefulset_spec() {
    let old = obj(sts(Some(2), json!([])));
    let mut doc = sts(Some(2), json!([]));
    doc["spec"]["revisionHistoryLimit"] = json!(5); // mutable
    doc["spec"]["persistentVolumeClaimRetentionPolicy"] = json!({"whenDeleted": "Delete"}); // mutable
    doc["spec"]["volumeMode"] = json!("x"); // not a field the API lets change
    let found = run(Some(&old), Some(&obj(doc)));
    assert_eq!(
        rules(&found),
        [
            ("statefulset-spec", Verdict::Impossible),
            ("in-place", Verdict::InPlace)
        ]
    );
    assert_eq!(found[0].fields, ["spec.volumeMode"]);
    assert_eq!(found[1].fields.len(), 2);
}

#[test]
fn cluster_ip() {
    let (plain, headless) = (obj(service(None)), obj(service(Some("None"))));
    assert_eq!(
        rules(&run(Some(&plain), Some(&headless))),
        [("cluster-ip", Verdict::Impossible)]
    );
    assert_eq!(
        rules(&run(Some(&headless), Some(&plain))),
        [("cluster-ip", Verdict::Impossible)]
    );
    let (a, b) = (
        obj(service(Some("10.0.0.1"))),
        obj(service(Some("10.0.0.2"))),
    );
    assert_eq!(
        rules(&run(Some(&a), Some(&b))),
        [("cluster-ip", Verdict::Impossible)]
    );
    // "" and absent both mean "assign one".
    let empty = obj(service(Some("")));
    assert_eq!(
        rules(&run(Some(&plain), Some(&empty))),
        [("in-place", Verdict::InPlace)]
    );
    let f = &run(Some(&plain), Some(&headless))[0];
    assert!(f.way_forward[0].contains("kubectl -n prod delete service shop-chat"));
}

#[test]
fn load_balancer_class() {
    let lb = |class: Option<&str>| {
        let mut s = service(None);
        s["spec"]["type"] = json!("LoadBalancer");
        if let Some(c) = class {
            s["spec"]["loadBalancerClass"] = json!(c);
        }
        obj(s)
    };
    assert_eq!(
        rules(&run(Some(&lb(None)), Some(&lb(Some("x"))))),
        [("load-balancer-class", Verdict::Impossible)]
    );
    // Switching the type is allowed (the API server drops what no longer applies).
    assert_eq!(
        rules(&run(Some(&obj(service(None))), Some(&lb(Some("x"))))),
        [("in-place", Verdict::InPlace)]
    );
}

#[test]
fn job_template() {
    let job = |image: &str| {
        obj(
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
                   "spec": {"template": {"spec": {"containers": [{"name": "m", "image": image}]}}}}),
        )
    };
    let found = run(Some(&job("a:1")), Some(&job("a:2")));
    assert_eq!(rules(&found), [("job-template", Verdict::Impossible)]);
    assert_eq!(found[0].summary, "container m: image");
    assert!(found[0].way_forward[0].contains("kubectl -n prod delete job migrate"));
}

#[test]
fn claim_spec() {
    let pvc = |size: &str, class: &str| {
        obj(
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                   "spec": {"storageClassName": class, "resources": {"requests": {"storage": size}}}}),
        )
    };
    assert_eq!(
        rules(&run(Some(&pvc("1Gi", "a")), Some(&pvc("2Gi", "a")))),
        [("in-place", Verdict::InPlace)]
    );
    assert_eq!(
        rules(&run(Some(&pvc("2Gi", "a")), Some(&pvc("1Gi", "a")))),
        [("claim-spec", Verdict::Impossible)]
    );
    assert_eq!(
        rules(&run(Some(&pvc("1Gi", "a")), Some(&pvc("1Gi", "b")))),
        [("claim-spec", Verdict::Impossible)]
    );
}

#[test]
fn replicas_dropped() {
    let found = run(
        Some(&obj(deployment(Some(3), "chat:1"))),
        Some(&obj(deployment(None, "chat:1"))),
    );
    assert_eq!(rules(&found), [("replicas-dropped", Verdict::ScaleDown)]);
    assert!(
        found[0].reason.contains("deletes 2 of the 3 pods"),
        "{}",
        found[0].reason
    );
    let sts_found = run(
        Some(&obj(sts(Some(2), json!([])))),
        Some(&obj(sts(None, json!([])))),
    );
    assert_eq!(
        rules(&sts_found),
        [("replicas-dropped", Verdict::ScaleDown)]
    );
    // One replica: nothing is lost.
    assert_eq!(
        rules(&run(
            Some(&obj(deployment(Some(1), "chat:1"))),
            Some(&obj(deployment(None, "chat:1")))
        )),
        [("in-place", Verdict::InPlace)]
    );
    // Fewer fixed replicas is a decision, not a trap.
    assert_eq!(
        rules(&run(
            Some(&obj(deployment(Some(3), "chat:1"))),
            Some(&obj(deployment(Some(2), "chat:1")))
        )),
        [("in-place", Verdict::InPlace)]
    );
}

#[test]
fn pod_template() {
    let mut doc = deployment(Some(2), "chat:2");
    doc["spec"]["template"]["metadata"]["annotations"] = json!({"checksum/config": "abc"});
    let found = run(Some(&obj(deployment(Some(2), "chat:1"))), Some(&obj(doc)));
    assert_eq!(rules(&found), [("pod-template", Verdict::Restart)]);
    assert_eq!(
        found[0].summary,
        "container app: image; pod: metadata.annotations"
    );
    assert!(
        found[0]
            .reason
            .contains("at most 0 unavailable and 25% extra"),
        "{}",
        found[0].reason
    );
    let mut s = sts(Some(2), json!([]));
    s["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "1"}]);
    let f = &run(Some(&obj(sts(Some(2), json!([])))), Some(&obj(s)))[0];
    assert_eq!(f.summary, "container app: env");
    assert!(f.reason.contains("highest ordinal first"));
}

#[test]
fn in_place() {
    let hpa = |max: u64| {
        obj(
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"},
                   "spec": {"minReplicas": 2, "maxReplicas": max}}),
        )
    };
    let found = run(Some(&hpa(5)), Some(&hpa(9)));
    assert_eq!(rules(&found), [("in-place", Verdict::InPlace)]);
    assert_eq!(found[0].summary, "spec.maxReplicas 5 → 9");
    let mut moved = service(None);
    moved["spec"]["selector"]["tier"] = json!("x");
    let f = &run(Some(&obj(service(None))), Some(&obj(moved)))[0];
    assert!(
        f.reason
            .contains("sends traffic to the pods the new selector matches")
    );
}

#[test]
fn verdicts_order_and_exit_codes() {
    assert!(Verdict::Impossible < Verdict::Replaced && Verdict::Restart < Verdict::Added);
    let codes: Vec<i32> = Verdict::ALL.iter().map(|v| v.exit_code()).collect();
    assert_eq!(codes, [4, 3, 3, 2, 0, 0, 0]);
    assert!(Verdict::ScaleDown.blocks_upgrade() && !Verdict::Restart.blocks_upgrade());
}

#[test]
fn the_readme_lists_every_rule() {
    let readme = include_str!("../../../README.md");
    for rule in RULES {
        assert!(
            readme.contains(&format!("| `{}` |", rule.id)),
            "README.md (Upgrade plans) has no row for the rule `{}`",
            rule.id
        );
    }
}

fn ingress(secret: &str, issuer: bool) -> Value {
    let mut d = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "shop-web-1a2b3c4d"},
        "spec": {"tls": [{"hosts": ["shop.example.com"], "secretName": secret}],
                 "rules": [{"host": "shop.example.com"}]}
    });
    if issuer {
        d["metadata"]["annotations"] = json!({"cert-manager.io/cluster-issuer": "le"});
    }
    d
}

#[test]
fn tls_secret_renamed_is_in_place_and_says_how_to_keep_https() {
    // Earlier versions named the Secret by chart, now by release: a release `shop` of
    // chart `web` moves from web-... to shop-web-....
    let (old, new) = (
        obj(ingress("web-shop-example-com-tls", true)),
        obj(ingress("shop-web-shop-example-com-tls", true)),
    );
    let found = run(Some(&old), Some(&new));
    assert_eq!(rules(&found), [("tls-secret", Verdict::InPlace)]);
    let f = &found[0];
    assert!(
        f.summary.starts_with("shop.example.com: TLS Secret web-shop-example-com-tls → shop-web-shop-example-com-tls; cert-manager issues"),
        "{}",
        f.summary
    );
    assert!(
        f.summary
            .contains("--set ingress.tls.secrets.KEY=web-shop-example-com-tls"),
        "{}",
        f.summary
    );
    assert!(f.way_forward[1].contains("kubectl -n prod get secret web-shop-example-com-tls"));
    // An existing Secret: the new one must exist first.
    let (old, new) = (obj(ingress("a", false)), obj(ingress("b", false)));
    let found = run(Some(&old), Some(&new));
    assert_eq!(rules(&found), [("tls-secret", Verdict::InPlace)]);
    assert!(found[0].summary.contains("which must exist first"));
    assert!(found[0].way_forward[0].contains("create secret tls b"));
    // The same Secret: nothing to say.
    assert!(run(Some(&old), Some(&old)).is_empty());
}
