//! Traffic after ingress-nginx (issue 15), with the real Helm 3 and Helm 4: every Gateway API
//! kind the chart renders (HTTPRoute, GRPCRoute, BackendTLSPolicy) is exactly the object the spec
//! asks for and passes the Gateway API schemas; a portable Ingress carries no controller
//! annotation and refuses what it cannot say; a cluster without the route CRDs fails at once.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{Value, json};

/// Generate the chart of an inline spec into `dir`; returns the chart directory.
fn chart(dir: &Path, name: &str, spec: &str) -> PathBuf {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, spec).unwrap();
    let out = dir.join("charts");
    let o = run(Command::new(bin())
        .arg("generate")
        .arg(&file)
        .arg("--output")
        .arg(&out));
    assert!(o.status.success(), "generate {name}:\n{}", text(&o.stderr));
    out.join(name)
}

fn sets(pairs: &[&str]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|p| ["--set".to_string(), p.to_string()])
        .collect()
}

/// Validate `objects` with the Gateway API models (scripts/k8s-models/validate.mjs).
fn validate(dir: &Path, tag: &str, objects: &[&Value]) {
    let file = dir.join(format!("{tag}.json"));
    std::fs::write(&file, serde_json::to_vec(objects).unwrap()).unwrap();
    let o = run(models_validate("gateway-api").arg(&file));
    let out = text(&o.stdout);
    assert!(
        o.status.success(),
        "{tag}: Gateway API validation:\n{out}{}",
        text(&o.stderr)
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("PASS ")).count(),
        objects.len(),
        "{out}"
    );
}

fn backend(name: &str, port: u32) -> Value {
    json!([{"group": "", "kind": "Service", "name": name, "port": port}])
}

const PARENT: &str =
    r#"[{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}]"#;

#[test]
fn websocket_sticky_and_backend_tls_routes_are_what_the_spec_says() {
    let dir = tempfile::tempdir().unwrap();
    let c = chart(
        dir.path(),
        "chat",
        "name: chat\nimage: ghcr.io/acme/chat\ntag: \"1\"\nport: {websocket: 8080}\n\
         public_uri: [chat.example.com/ws, /status]\nsticky_session: true\nsticky_session_max_age: 600\n\
         gateway: {name: public, experimental_session_persistence: true, backend_tls: {hostname: chat.internal, ca_config_map: chat-ca}}\n",
    );
    let parent: Value = serde_json::from_str(PARENT).unwrap();
    for (name, helm) in helms() {
        let docs = render(&helm, &c, &[] as &[&str]).unwrap();
        assert!(find(&docs, "Ingress").is_empty(), "{name}");
        let routes = find(&docs, "HTTPRoute");
        let rule = |path: &str| {
            json!({
                "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                "filters": [{"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
                "timeouts": {"request": "3600s", "backendRequest": "3600s"},
                "backendRefs": backend("r-chat", 80),
                "sessionPersistence": {"type": "Cookie", "sessionName": "opta-cookie", "absoluteTimeout": "600s", "cookieConfig": {"lifetimeType": "Permanent"}},
            })
        };
        let mut got: Vec<&Value> = routes.iter().map(|r| &r["spec"]).collect();
        got.sort_by_key(|s| s["rules"][0]["matches"][0]["path"]["value"].to_string());
        assert_eq!(
            got,
            [
                &json!({"parentRefs": parent, "rules": [rule("/status")]}),
                &json!({"parentRefs": parent, "hostnames": ["chat.example.com"], "rules": [rule("/ws")]}),
            ],
            "{name}"
        );
        let policy = find(&docs, "BackendTLSPolicy");
        assert_eq!(policy.len(), 1, "{name}");
        assert_eq!(
            policy[0]["spec"],
            json!({
                "targetRefs": [{"group": "", "kind": "Service", "name": "r-chat", "sectionName": "main"}],
                "validation": {"hostname": "chat.internal", "caCertificateRefs": [{"group": "", "kind": "ConfigMap", "name": "chat-ca"}]},
            }),
            "{name}"
        );
        let all: Vec<&Value> = routes.into_iter().chain(policy).collect();
        validate(dir.path(), &format!("chat-{name}"), &all);
        // The opt-in is the chart's too: without it, sticky sessions are refused.
        let e = render(
            &helm,
            &c,
            &sets(&["gateway.experimentalSessionPersistence=false"]),
        )
        .unwrap_err();
        assert!(
            e.contains("needs gateway.experimentalSessionPersistence=true"),
            "{name}: {e}"
        );
        let e = render(&helm, &c, &sets(&["gateway.timeouts.request=1 hour"])).unwrap_err();
        // values.schema.json refuses it (the chart's own check is the same pattern).
        assert!(
            e.contains("timeouts") && e.to_lowercase().contains("match pattern"),
            "{name}: {e}"
        );
    }
}

#[test]
fn a_grpc_port_gets_grpc_routes_and_well_known_cas() {
    let dir = tempfile::tempdir().unwrap();
    let c = chart(
        dir.path(),
        "rpc",
        "name: rpc\nimage: ghcr.io/acme/rpc\ntag: \"1\"\nport: {grpc: 9090}\n\
         public_uri: [rpc.example.com, /]\ngateway: {name: public, backend_tls: {hostname: rpc.internal}}\n",
    );
    let parent: Value = serde_json::from_str(PARENT).unwrap();
    for (name, helm) in helms() {
        let docs = render(&helm, &c, &[] as &[&str]).unwrap();
        assert!(find(&docs, "HTTPRoute").is_empty(), "{name}");
        let routes = find(&docs, "GRPCRoute");
        let mut got: Vec<&Value> = routes.iter().map(|r| &r["spec"]).collect();
        got.sort_by_key(|s| s["hostnames"].to_string());
        let rules = json!([{"backendRefs": backend("r-rpc", 80)}]);
        assert_eq!(
            got,
            [
                &json!({"parentRefs": parent, "hostnames": ["rpc.example.com"], "rules": rules}),
                &json!({"parentRefs": parent, "rules": rules}),
            ],
            "{name}"
        );
        let policy = find(&docs, "BackendTLSPolicy");
        assert_eq!(
            policy[0]["spec"]["validation"],
            json!({"hostname": "rpc.internal", "wellKnownCACertificates": "System"}),
            "{name}"
        );
        let all: Vec<&Value> = routes.into_iter().chain(policy).collect();
        validate(dir.path(), &format!("rpc-{name}"), &all);
        // Only a route without a path can be a GRPCRoute.
        let e = render(
            &helm,
            &c,
            &sets(&[
                "ingress.routes[0].path=/v1",
                "ingress.routes[0].hostKey=main",
            ]),
        )
        .unwrap_err();
        assert!(e.contains("a grpc port gets a GRPCRoute"), "{name}: {e}");
    }
}

#[test]
fn missing_route_crds_fail_at_once_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let c = chart(
        dir.path(),
        "rpc",
        "name: rpc\nimage: ghcr.io/acme/rpc\ntag: \"1\"\nport: {grpc: 9090}\n\
         public_uri: rpc.example.com\ngateway: {name: public, backend_tls: {hostname: rpc.internal}}\n",
    );
    let api = |kinds: &[&str]| -> Vec<String> {
        kinds
            .iter()
            .flat_map(|k| {
                [
                    "--api-versions".to_string(),
                    format!("gateway.networking.k8s.io/v1/{k}"),
                ]
            })
            .collect()
    };
    for (name, helm) in helms() {
        // Offline `helm template` knows no CRD: nothing to check.
        render(&helm, &c, &[] as &[&str]).unwrap();
        let e = render(&helm, &c, &api(&["HTTPRoute"])).unwrap_err();
        assert!(
            e.contains("this cluster does not serve GRPCRoute, BackendTLSPolicy (gateway.networking.k8s.io/v1)")
                && e.contains("v1.6.0/standard-install.yaml"),
            "{name}: {e}"
        );
        render(&helm, &c, &api(&["GRPCRoute", "BackendTLSPolicy"])).unwrap();
        // crdCheck, the one switch for every API the chart needs, turns it off...
        let mut off = api(&["HTTPRoute"]);
        off.extend(sets(&["crdCheck=off"]));
        render(&helm, &c, &off).unwrap();
        // ...as the deprecated gateway.checkCapabilities=false still does;
        let mut off = api(&["HTTPRoute"]);
        off.extend(sets(&["gateway.checkCapabilities=false"]));
        render(&helm, &c, &off).unwrap();
        // crdCheck=always checks an offline helm template too.
        let e = render(&helm, &c, &sets(&["crdCheck=always"])).unwrap_err();
        assert!(
            e.contains("this cluster does not serve GRPCRoute, BackendTLSPolicy")
                && e.contains("crdCheck=off skips this check"),
            "{name}: {e}"
        );
    }
}

#[test]
fn a_portable_ingress_has_prefix_paths_and_no_controller_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let c = chart(
        dir.path(),
        "site",
        "name: site\nimage: ghcr.io/acme/site\ntag: \"1\"\nport: {http: 8080}\n\
         public_uri: [site.example.com/docs, /]\nkeep_path_prefix: true\ningress_controller: portable\n",
    );
    for (name, helm) in helms() {
        let docs = render(&helm, &c, &[] as &[&str]).unwrap();
        let mut got: Vec<Value> = find(&docs, "Ingress")
            .into_iter()
            .map(|i| {
                assert!(i["metadata"].get("annotations").is_none(), "{name}: {i}");
                i["spec"].clone()
            })
            .collect();
        got.sort_by_key(|s| s["rules"][0]["host"].to_string());
        let path = |p: &str| json!({"paths": [{"path": p, "pathType": "Prefix", "backend": {"service": {"name": "r-site", "port": {"name": "main"}}}}]});
        assert_eq!(
            got,
            [
                json!({"rules": [{"host": "site.example.com", "http": path("/docs")}]}),
                json!({"rules": [{"http": path("/")}]}),
            ],
            "{name}"
        );
        // What only ingress-nginx can do is refused, naming the alternatives.
        for (set, want) in [
            (
                "ingress.keepPathPrefix=false",
                "ingress.routes[0].path \"/docs\" is stripped",
            ),
            (
                "ingress.stickySession.enabled=true",
                "ingress.stickySession.enabled asks for a sticky cookie",
            ),
            (
                "ingress.consistentHash=$uri",
                "ingress.consistentHash asks for consistent hashing",
            ),
            (
                "ingress.backendProtocol=grpc",
                "ingress.backendProtocol \"grpc\" needs controller annotations",
            ),
        ] {
            let e = render(&helm, &c, &sets(&[set])).unwrap_err();
            assert!(
                e.contains(want) && e.contains("gateway.enabled"),
                "{name} {set}: {e}"
            );
        }
        // The same chart for ingress-nginx gets Opta's annotations back.
        let docs = render(
            &helm,
            &c,
            &sets(&[
                "ingress.controller=ingress-nginx",
                "ingress.keepPathPrefix=false",
            ]),
        )
        .unwrap();
        let nginx = find(&docs, "Ingress")
            .into_iter()
            .find(|i| i["spec"]["rules"][0]["host"] == "site.example.com")
            .unwrap();
        assert_eq!(
            nginx["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"], "/$2",
            "{name}"
        );
    }
}

#[test]
fn traffic_distribution_is_rendered_only_on_clusters_that_have_it() {
    let dir = tempfile::tempdir().unwrap();
    let c = chart(
        dir.path(),
        "zl",
        "name: zl\nimage: ghcr.io/acme/zl\ntag: \"1\"\nport: {http: 8080}\ntraffic_distribution: PreferClose\n",
    );
    let service = |docs: &[Value]| find(docs, "Service")[0]["spec"]["trafficDistribution"].clone();
    for (name, helm) in helms() {
        for (kube, distribution, want) in [
            ("1.32.0", "PreferClose", Value::Null),
            ("1.33.0", "PreferClose", json!("PreferClose")),
            ("1.34.0", "PreferSameZone", Value::Null),
            ("1.35.0", "PreferSameZone", json!("PreferSameZone")),
        ] {
            let mut args = vec!["--kube-version".to_string(), kube.to_string()];
            args.extend(sets(&[&format!(
                "service.trafficDistribution={distribution}"
            )]));
            let docs = render(&helm, &c, &args).unwrap();
            assert_eq!(service(&docs), want, "{name} {kube} {distribution}");
        }
        let e = render(
            &helm,
            &c,
            &sets(&["service.trafficDistribution=PreferNode"]),
        )
        .unwrap_err();
        assert!(e.contains("trafficDistribution"), "{name}: {e}");
    }
    // helm 4 renders NOTES without a cluster (its default Kubernetes version has the field).
    let o = run(Command::new(&helms()[1].1)
        .args(["install", "r"])
        .arg(&c)
        .args(["--namespace", "ci", "--dry-run=client"]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout)
            .contains("  Traffic distribution: PreferClose (to endpoints in the client's zone"),
        "{}",
        text(&o.stdout)
    );
}

/// `validate` says which way traffic reaches each chart and why: Gateway API (recommended), an
/// Ingress for ingress-nginx (whose annotations only that controller reads), a portable Ingress;
/// nothing for a service without a public route.
#[test]
fn validate_says_which_traffic_path_a_spec_uses() {
    let dir = tempfile::tempdir().unwrap();
    let portable = dir.path().join("portable.yaml");
    std::fs::write(
        &portable,
        "name: plain\nimage: ghcr.io/acme/plain\ntag: \"1\"\nport:\n  http: 8080\npublic_uri: plain.example.com\ningress_controller: portable\nkeep_path_prefix: true\n",
    )
    .unwrap();
    let o = run(Command::new(bin())
        .arg("validate")
        .arg(root().join("examples/gateway.yaml"))
        .arg(root().join("examples/full.yaml"))
        .arg(root().join("examples/worker-cron.yaml"))
        .arg(&portable));
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("note: storefront: traffic: Gateway API routes attached to the Gateway `gateway-system/public`"),
        "{err}"
    );
    assert!(
        err.contains("note: payments: traffic: an Ingress for ingress-nginx (class `nginx-public`"),
        "{err}"
    );
    assert!(
        err.contains("note: plain: traffic: a portable Ingress (plain Prefix paths, no controller annotations)"),
        "{err}"
    );
    assert!(!err.contains("nightly: traffic"), "{err}");
}

/// Pods that serve TLS on the routed port (`gateway.backend_tls`): the kubelet probes them with
/// an HTTPS GET, and the Service port names no cleartext protocol (h2c, ws or http would contradict
/// the BackendTLSPolicy); without it, the same chart probes over HTTP and names the protocol. The
/// kubelet's gRPC check (no TLS) on that port is refused at install time too.
#[test]
fn pods_serving_tls_are_probed_over_https_and_name_no_cleartext_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let main_port = |docs: &[Value]| -> Value {
        let svc = find(docs, "Service");
        let ports = svc[0]["spec"]["ports"].as_array().unwrap().clone();
        ports.into_iter().find(|p| p["name"] == "main").unwrap()
    };
    let probes = |docs: &[Value]| -> Vec<Value> {
        let d = find(docs, "Deployment");
        let c = &d[0]["spec"]["template"]["spec"]["containers"][0];
        vec![c["livenessProbe"].clone(), c["readinessProbe"].clone()]
    };
    for (kind, plain) in [
        ("http", "http"),
        ("grpc", "kubernetes.io/h2c"),
        ("websocket", "kubernetes.io/ws"),
    ] {
        let c = chart(
            dir.path(),
            &format!("tls-{kind}"),
            &format!(
                "name: tls-{kind}\nimage: ghcr.io/acme/x\ntag: \"1\"\nport: {{{kind}: 8443}}\nliveness_probe_path: /healthz\nreadiness_probe_path: /healthz\n\
                 public_uri: x.example.com\ngateway: {{name: public, backend_tls: {{hostname: x.internal}}}}\n"
            ),
        );
        for (name, helm) in helms() {
            let docs = render(&helm, &c, &[] as &[&str]).unwrap();
            let port = main_port(&docs);
            assert_eq!(port.get("appProtocol"), None, "{name} {kind}: {port}");
            for p in probes(&docs) {
                assert_eq!(p["httpGet"]["scheme"], "HTTPS", "{name} {kind}: {p}");
                assert_eq!(p["httpGet"]["path"], "/healthz", "{name} {kind}: {p}");
            }
            // The same chart with pods that speak plain HTTP.
            let docs = render(&helm, &c, &sets(&["gateway.backendTLS.enabled=false"])).unwrap();
            assert_eq!(main_port(&docs)["appProtocol"], plain, "{name} {kind}");
            for p in probes(&docs) {
                assert_eq!(p["httpGet"].get("scheme"), None, "{name} {kind}: {p}");
            }
            if kind == "grpc" {
                let e = render(
                    &helm,
                    &c,
                    &sets(&["livenessProbe.path=", "livenessProbe.grpc.enabled=true"]),
                )
                .unwrap_err();
                assert!(
                    e.contains("livenessProbe.grpc") && e.contains("speaks no TLS"),
                    "{name}: {e}"
                );
            }
        }
    }
}
