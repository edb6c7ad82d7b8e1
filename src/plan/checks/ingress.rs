//! Checks about Ingresses: the TLS Secret a host is served with. It changes when the chart names
//! the Secrets differently (per release now: `<fullname>-<host>-tls`, by chart before) or a value does; the
//! update is in place, but HTTPS for the host depends on the new Secret holding a certificate.

use serde_json::Value;

use super::common::*;
use crate::plan::finding::{Context, Finding, Pair, Verdict};
use crate::plan::manifest::Object;

const ISSUER_ANNOTATIONS: [&str; 2] = ["cert-manager.io/cluster-issuer", "cert-manager.io/issuer"];

/// (host, Secret) of each host of an Ingress's `spec.tls`.
fn tls_secrets(o: &Object) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in o
        .at(&["spec", "tls"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let secret = t["secretName"].as_str().unwrap_or_default();
        for h in t["hosts"].as_array().into_iter().flatten() {
            if let Some(h) = h.as_str() {
                out.push((h.to_string(), secret.to_string()));
            }
        }
    }
    out
}

/// cert-manager writes `secret`: an Ingress of the new manifest asks an issuer for it.
fn issued(ctx: &Context, secret: &str) -> bool {
    ctx.new_objects.iter().any(|o| {
        o.is("networking.k8s.io", "Ingress")
            && ISSUER_ANNOTATIONS
                .iter()
                .any(|a| o.at(&["metadata", "annotations", a]).is_some())
            && tls_secrets(o).iter().any(|(_, s)| s == secret)
    })
}

pub fn tls_secret(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let before = tls_secrets(old);
    let moved: Vec<(String, String, String)> = tls_secrets(new)
        .into_iter()
        .filter_map(|(host, to)| {
            let (_, from) = before.iter().find(|(h, s)| *h == host && *s != to)?;
            Some((host, from.clone(), to))
        })
        .collect();
    let (host, from, to) = moved.first()?.clone();
    let d = changes(old, new, "spec.tls");
    let mut f = finding("tls-secret", Verdict::InPlace, "spec.tls", &d);
    let keep = format!(
        "keep the old name: --set ingress.tls.secrets.KEY={from}, KEY main for ingress.host or the host's key in ingress.hosts"
    );
    if issued(ctx, &to) {
        f.summary = format!(
            "{host}: TLS Secret {from} → {to}; cert-manager issues into {to}, and until it has, HTTPS gets the ingress controller's default certificate; to {keep}"
        );
        f.reason = format!(
            "the Ingress serves {host} with the Secret {to}; cert-manager issues a certificate into it (seconds, or minutes with an ACME challenge), and until then the ingress controller serves its default certificate, which clients refuse. {from} stays until deleted"
        );
        f.way_forward = vec![
            format!("no gap: {keep}"),
            format!(
                "or copy the certificate before the upgrade: {} | jq '.metadata = {{name: \"{to}\"}}' | {}",
                kubectl(ctx, &format!("get secret {from} -o json")),
                kubectl(ctx, "apply -f -")
            ),
            format!(
                "once nothing uses {from}: {}",
                kubectl(ctx, &format!("delete secret {from}"))
            ),
        ];
    } else {
        f.summary = format!(
            "{host}: TLS Secret {from} → {to}, which must exist first (else HTTPS gets the ingress controller's default certificate); or {keep}"
        );
        f.reason = format!(
            "the Ingress serves {host} with the Secret {to}, which nothing issues: it must exist before the upgrade (the chart's preflight checks it when helm reads the cluster)"
        );
        f.way_forward = vec![
            format!(
                "create it first: {}",
                kubectl(
                    ctx,
                    &format!("create secret tls {to} --cert=CERT.pem --key=KEY.pem")
                )
            ),
            format!("or {keep}"),
        ];
    }
    if moved.len() > 1 {
        f.summary
            .push_str(&format!("; and {} more host(s)", moved.len() - 1));
    }
    Some(f)
}
