//! Checks about Services: the cluster IP (headless or not) and the load balancer class.

use serde_json::Value;

use super::common::*;
use crate::plan::finding::{Context, Finding, Pair, Verdict};
use crate::plan::manifest::Object;

fn cluster_ip_of(o: &Object) -> Option<&str> {
    o.at(&["spec", "clusterIP"])
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Delete a Service for helm to create it again.
fn recreate_service(ctx: &Context, o: &Object, what: &str) -> Vec<String> {
    vec![
        format!(
            "delete the Service right before the upgrade ({what}): {}",
            kubectl(ctx, &format!("delete service {}", o.key.name))
        ),
        format!("{} (helm creates it again)", upgrade_anyway(ctx, "")),
        "or give the new Service another name".into(),
    ]
}

pub fn cluster_ip(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let (a, b) = (cluster_ip_of(old), cluster_ip_of(new));
    let headless = |v: Option<&str>| v == Some("None");
    let refused = headless(a) != headless(b) || matches!((a, b), (Some(x), Some(y)) if x != y);
    if !refused {
        return None;
    }
    let d = changes(old, new, "spec.clusterIP");
    let mut f = finding("cluster-ip", Verdict::Impossible, "spec.clusterIP", &d);
    f.summary = format!(
        "{} → {}",
        a.unwrap_or("(assigned)"),
        b.unwrap_or("(assigned)")
    );
    f.reason = "a Service's cluster IP cannot change, and a headless Service (clusterIP: None) cannot become one with an address or back: the API server answers `field is immutable`".into();
    f.way_forward = recreate_service(
        ctx,
        old,
        "its clients get no answer until helm has created it again",
    );
    Some(f)
}

pub fn load_balancer_class(p: &Pair, ctx: &Context, _: &[String]) -> Option<Finding> {
    let (old, new) = p.same()?;
    let lb = |o: &Object| o.at(&["spec", "type"]).and_then(Value::as_str) == Some("LoadBalancer");
    let d = changes(old, new, "spec.loadBalancerClass");
    if d.is_empty() || !lb(old) || !lb(new) {
        return None;
    }
    let mut f = finding(
        "load-balancer-class",
        Verdict::Impossible,
        "spec.loadBalancerClass",
        &d,
    );
    f.summary = d[0].brief();
    f.reason = "the load balancer class of a LoadBalancer Service cannot change, nor be set once it exists".into();
    f.way_forward = recreate_service(
        ctx,
        old,
        "its load balancer and external address go with it",
    );
    Some(f)
}
