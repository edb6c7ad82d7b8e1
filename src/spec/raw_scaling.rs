//! Shapes of our scaling and observability fields (not Opta's): `scale_on` (KEDA triggers),
//! `autoscaling_metrics` (HPA pod and external metrics), `metrics` (a ServiceMonitor),
//! `datadog_tags` and `opentelemetry`. Meaning and rules live in `model::keda` and
//! `model::observe`.

use serde::{Deserialize, Serialize};

use super::scalars::Lenient;

/// A threshold as written: `50`, `0.5` or `"50"` (KEDA reads every metadata value as text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawNumber {
    Int(i64),
    Float(f64),
    Text(String),
}

/// One entry of `scale_on`: exactly one trigger kind.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrigger {
    pub datadog: Option<RawDatadog>,
    pub prometheus: Option<RawPrometheus>,
    pub cron: Option<RawCron>,
    pub sqs: Option<RawSqs>,
}

/// A Datadog metric query; the API and application keys come from an existing Secret.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatadog {
    pub query: Option<String>,
    /// The value per pod the autoscaler aims for (KEDA `queryValue`).
    pub value: Option<RawNumber>,
    /// At or below this, the trigger is inactive (KEDA `activationQueryValue`).
    pub activation_value: Option<RawNumber>,
    /// The Secret with the keys `apiKey` and `appKey` (and optionally `datadogSite`).
    pub secret: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrometheus {
    pub server: Option<String>,
    pub query: Option<String>,
    pub threshold: Option<RawNumber>,
    pub activation_threshold: Option<RawNumber>,
}

/// A time window with a fixed replica count (KEDA's cron scaler).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCron {
    pub timezone: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub replicas: Option<Lenient<u32>>,
}

/// An AWS SQS queue; read with the pods' IAM role (`iam_role_arn`), or with the keys of a Secret.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSqs {
    pub queue_url: Option<String>,
    /// Messages per pod (KEDA `queueLength`); default 5.
    pub queue_length: Option<Lenient<u32>>,
    /// Default: the region in the queue URL.
    pub region: Option<String>,
    /// A Secret with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, instead of the pods' role.
    pub secret: Option<String>,
}
