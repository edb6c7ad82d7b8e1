//! Moving an Ingress host at install time (issue 14): one `--set ingress.host=...` (or
//! `ingress.hosts.KEY=...` for another host) moves every route of that host, its TLS section and
//! its certificate's Secret, or its HTTPRoutes' hostnames with `gateway`; a wrong host gets one
//! error naming the value. TLS Secrets the chart names are per release; the chart README links to
//! the project's documentation. All with the real Helm 3 and Helm 4.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::{Value, json};

fn chart(name: &str) -> PathBuf {
    packaged()
        .iter()
        .find(|(_, c, _)| *c == name)
        .map(|(_, _, p)| p.clone())
        .unwrap_or_else(|| panic!("no packaged chart {name}"))
}

fn sets(pairs: &[&str]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|p| ["--set".to_string(), p.to_string()])
        .collect()
}

/// Each Ingress as (host, tls), sorted: `tls` is its `spec.tls` (null without).
fn ingresses(docs: &[Value]) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = find(docs, "Ingress")
        .into_iter()
        .map(|i| {
            let host = i["spec"]["rules"][0]["host"].as_str().unwrap_or("");
            (host.to_string(), i["spec"]["tls"].clone())
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn tls(host: &str, secret: &str) -> Value {
    json!([{"hosts": [host], "secretName": secret}])
}

#[test]
fn one_set_moves_a_host_with_its_tls_secret_on_both_helms() {
    for (name, helm) in helms() {
        // An existing Secret for every host (tls-secret.yaml): it is kept as given.
        let docs = render(
            &helm,
            &chart("ledger-ui"),
            &sets(&["ingress.host=shop.example.com"]),
        )
        .unwrap();
        assert_eq!(
            ingresses(&docs),
            [
                (
                    "reports.acme.example".to_string(),
                    tls("reports.acme.example", "acme-wildcard")
                ),
                (
                    "shop.example.com".to_string(),
                    tls("shop.example.com", "acme-wildcard")
                ),
            ],
            "{name}"
        );
        // cert-manager (tls-identity.yaml: two routes on the main host, one on `admin`): the
        // Secret follows the host, and only one Ingress per host asks for a certificate.
        let docs = render(
            &helm,
            &chart("billing"),
            &sets(&[
                "ingress.host=pay.example.com",
                "ingress.hosts.admin=admin.pay.example.com",
            ]),
        )
        .unwrap();
        let got = ingresses(&docs);
        let main = tls("pay.example.com", "r-billing-pay-example-com-tls");
        let admin = tls(
            "admin.pay.example.com",
            "r-billing-admin-pay-example-com-tls",
        );
        assert_eq!(
            got,
            [
                ("admin.pay.example.com".to_string(), admin),
                ("pay.example.com".to_string(), main.clone()),
                ("pay.example.com".to_string(), main),
            ],
            "{name}"
        );
        let issuing = find(&docs, "Ingress")
            .into_iter()
            .filter(|i| {
                i["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
            })
            .count();
        assert_eq!(issuing, 2, "{name}: one issuing Ingress per host");
        let text = serde_json::to_string(&docs).unwrap();
        assert!(
            !text.contains("billing.example.com"),
            "{name}: old host left"
        );
        // A key's Secret can be named (e.g. to keep the name an earlier version gave on upgrade).
        let docs = render(
            &helm,
            &chart("billing"),
            &sets(&["ingress.tls.secrets.main=billing-billing-example-com-tls"]),
        )
        .unwrap();
        let got = ingresses(&docs);
        assert_eq!(
            got[1].1,
            tls("billing.example.com", "billing-billing-example-com-tls"),
            "{name}"
        );
        assert_eq!(
            got[0].1,
            tls(
                "admin.billing.example.com",
                "r-billing-admin-billing-example-com-tls"
            ),
            "{name}"
        );
        // TLS turned on at install time needs no Secret name either (hello.yaml has one host).
        let docs = render(
            &helm,
            &chart("hello"),
            &sets(&["ingress.tls.enabled=true", "ingress.host=hi.example.com"]),
        )
        .unwrap();
        assert_eq!(
            ingresses(&docs),
            [(
                "hi.example.com".to_string(),
                tls("hi.example.com", "r-hello-hi-example-com-tls")
            )],
            "{name}"
        );
    }
}

#[test]
fn one_set_moves_the_hostnames_of_httproutes() {
    for (name, helm) in helms() {
        // gateway.yaml: shop.example.com (main, two routes), *.shops.example.com, any host.
        let docs = render(
            &helm,
            &chart("storefront"),
            &sets(&[
                "ingress.host=store.example.com",
                "ingress.hosts.wildcard-shops=*.stores.example.com",
            ]),
        )
        .unwrap();
        let mut hostnames: Vec<Value> = find(&docs, "HTTPRoute")
            .into_iter()
            .map(|r| r["spec"]["hostnames"].clone())
            .collect();
        hostnames.sort_by_key(|h| h.to_string());
        assert_eq!(
            hostnames,
            [
                json!(["*.stores.example.com"]),
                json!(["store.example.com"]),
                json!(["store.example.com"]),
                Value::Null,
            ],
            "{name}"
        );
    }
}

/// Two releases of one chart in a namespace: no TLS Secret in common.
#[test]
fn tls_secrets_are_per_release() {
    for (name, helm) in helms() {
        let secrets = |release: &str| -> Vec<String> {
            let o = run(std::process::Command::new(&helm)
                .args(["template", release])
                .arg(chart("billing"))
                .args(["--namespace", "ci"]));
            assert!(o.status.success(), "{name}: {}", text(&o.stderr));
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text(&o.stdout)).unwrap();
            let mut s: Vec<String> = find(&docs, "Ingress")
                .into_iter()
                .map(|i| i["spec"]["tls"][0]["secretName"].as_str().unwrap().into())
                .collect();
            s.sort();
            s.dedup();
            s
        };
        let (blue, green) = (secrets("blue"), secrets("green"));
        assert_eq!(
            blue,
            [
                "blue-billing-admin-billing-example-com-tls",
                "blue-billing-billing-example-com-tls"
            ],
            "{name}"
        );
        assert!(blue.iter().all(|s| !green.contains(s)), "{name}: {green:?}");
        // A release whose name contains the chart's (fullname = release name) keeps the names
        // earlier versions gave: `<chart>-<host>-tls`.
        assert_eq!(
            secrets("billing"),
            [
                "billing-admin-billing-example-com-tls",
                "billing-billing-example-com-tls"
            ],
            "{name}"
        );
    }
}

#[test]
fn a_wrong_host_gets_one_error_naming_the_value() {
    for (name, helm) in helms() {
        for (c, args, want) in [
            (
                "billing",
                &["ingress.host=Shop_Example"][..],
                "ingress.host \"Shop_Example\" is not a host name",
            ),
            (
                "billing",
                &["ingress.host=https://shop.example.com/"][..],
                "ingress.host \"https://shop.example.com/\" is a URL",
            ),
            (
                "billing",
                &["ingress.host=Shop.example.com"][..],
                "ingress.host \"Shop.example.com\" has capitals: Kubernetes takes host names in lowercase (shop.example.com)",
            ),
            (
                "billing",
                &["ingress.host=10.0.0.1"][..],
                "ingress.host \"10.0.0.1\" is an IP address",
            ),
            (
                "billing",
                &["ingress.host="][..],
                "ingress.host is empty, but the route ingress.routes[0] (path \"/\") is on the main host",
            ),
            (
                "billing",
                &["ingress.hosts.admn=a.example.com"][..],
                "ingress.hosts.admn \"a.example.com\" is used by no route",
            ),
            (
                "billing",
                &["ingress.hosts.main=a.example.com"][..],
                "ingress.hosts.main \"a.example.com\": the main host is ingress.host",
            ),
            (
                "billing",
                &["ingress.hosts.admin=billing.example.com"][..],
                "ingress.hosts.admin and ingress.host are both \"billing.example.com\"",
            ),
            (
                "billing",
                &["ingress.tls.secrets.nope=x"][..],
                "ingress.tls.secrets.nope names no host",
            ),
            (
                "storefront",
                &["ingress.hosts.wildcard-shops=shops.example.com:8443"][..],
                "ingress.hosts.wildcard-shops \"shops.example.com:8443\" has a port",
            ),
        ] {
            let err = render(&helm, &chart(c), &sets(args)).expect_err(want);
            assert!(err.contains(want), "{name} {args:?}: {err}");
            assert!(
                err.contains(&format!("({c}/templates/validate.yaml:")),
                "{name} {args:?}: {err}"
            );
            assert_eq!(err.matches("Error:").count(), 1, "{name} {args:?}: {err}");
        }
    }
}

/// The generated README links to the generator's documentation, never to a placeholder.
#[test]
fn the_chart_readme_links_to_real_documentation() {
    let out = tempfile::tempdir().unwrap();
    let o = run(std::process::Command::new(bin())
        .arg("generate")
        .arg(root().join("examples/hello.yaml"))
        .arg("-o")
        .arg(out.path()));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let readme = std::fs::read_to_string(out.path().join("hello/README.md")).unwrap();
    let want = format!(
        "[helm k8s-service]({}/blob/v{}/README.md)",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    );
    assert!(readme.contains(&want), "{readme}");
    assert!(!readme.contains("](https://github.com/)"), "{readme}");
    // ...and names the value that moves the host.
    assert!(
        readme.contains("| `ingress.host` | `hello.example.com` | The routes' hosts"),
        "{readme}"
    );
}
