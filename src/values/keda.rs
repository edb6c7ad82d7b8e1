//! `autoscaling.keda`: the ScaledObject and its TriggerAuthentications, from `scale_on`.
//! Every trigger is written out in KEDA's own terms (type, metadata), so the template only
//! copies them; the authentications name existing Secrets, never their content.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::Service;
use crate::model::keda::Trigger;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KedaValues {
    pub enabled: bool,
    /// min_containers; 0 lets KEDA scale to zero while no trigger is active.
    pub min_replica_count: u32,
    pub polling_interval: u32,
    pub cooldown_period: u32,
    /// Replicas while a metric source fails (`fallback.replicas`); null: no fallback.
    pub fallback_replicas: Option<u32>,
    /// KEDA triggers: `{type, metadata, metricType?, authentication?}`; `authentication` names
    /// an entry of `authentications`.
    pub triggers: Vec<Value>,
    /// TriggerAuthentication specs by short name (`<fullname>-<name>`).
    pub authentications: BTreeMap<String, Value>,
}

pub(super) fn keda(s: &Service) -> KedaValues {
    let Some(k) = &s.keda else {
        return KedaValues {
            enabled: false,
            min_replica_count: s.min_replicas.max(1),
            polling_interval: 30,
            cooldown_period: 300,
            fallback_replicas: None,
            triggers: Vec::new(),
            authentications: BTreeMap::new(),
        };
    };
    let mut triggers = Vec::new();
    let mut auths = BTreeMap::new();
    for (what, target) in [("cpu", k.cpu_target), ("memory", k.memory_target)] {
        if let Some(t) = target {
            triggers.push(json!({"type": what, "metricType": "Utilization", "metadata": {"value": t.to_string()}}));
        }
    }
    for t in &k.triggers {
        let (metadata, auth) = trigger(t);
        let mut out = json!({"type": t.kind(), "metadata": metadata});
        if let Some((name, spec)) = auth {
            out["authentication"] = json!(name);
            auths.insert(name, spec);
        }
        triggers.push(out);
    }
    KedaValues {
        enabled: true,
        min_replica_count: s.min_replicas,
        polling_interval: 30,
        cooldown_period: 300,
        fallback_replicas: k.fallback,
        triggers,
        authentications: auths,
    }
}

/// A Secret's keys as TriggerAuthentication `secretTargetRef` entries: (parameter, key).
fn secret_refs(secret: &str, pairs: &[(&str, &str)]) -> Value {
    let refs: Vec<Value> = pairs
        .iter()
        .map(|(param, key)| json!({"parameter": param, "name": secret, "key": key}))
        .collect();
    json!({ "secretTargetRef": refs })
}

/// KEDA metadata of one trigger, and the TriggerAuthentication it needs (short name, spec).
fn trigger(t: &Trigger) -> (Value, Option<(String, Value)>) {
    match t {
        Trigger::Datadog {
            query,
            value,
            activation,
            secret,
        } => {
            let mut m = json!({"query": query, "queryValue": value, "queryAggregator": "average"});
            if let Some(a) = activation {
                m["activationQueryValue"] = json!(a);
            }
            let auth = secret_refs(secret, &[("apiKey", "apiKey"), ("appKey", "appKey")]);
            (m, Some((format!("datadog-{secret}"), auth)))
        }
        Trigger::Prometheus {
            server,
            query,
            threshold,
            activation,
        } => {
            let mut m = json!({"serverAddress": server, "query": query, "threshold": threshold});
            if let Some(a) = activation {
                m["activationThreshold"] = json!(a);
            }
            (m, None)
        }
        Trigger::Cron {
            timezone,
            start,
            end,
            replicas,
        } => (
            json!({"timezone": timezone, "start": start, "end": end, "desiredReplicas": replicas.to_string()}),
            None,
        ),
        Trigger::Sqs {
            queue_url,
            queue_length,
            region,
            secret,
        } => {
            let m = json!({"queueURL": queue_url, "queueLength": queue_length.to_string(), "awsRegion": region});
            let auth = match secret {
                Some(s) => (
                    format!("aws-{s}"),
                    secret_refs(
                        s,
                        &[
                            ("awsAccessKeyID", "AWS_ACCESS_KEY_ID"),
                            ("awsSecretAccessKey", "AWS_SECRET_ACCESS_KEY"),
                        ],
                    ),
                ),
                None => (
                    "aws-pod-identity".to_string(),
                    json!({"podIdentity": {"provider": "aws", "identityOwner": "workload"}}),
                ),
            };
            (m, Some(auth))
        }
    }
}
