//! Shapes of our scaling and observability fields (not Opta's): `scale_on` (KEDA triggers),
//! `autoscaling_metrics` (HPA pod and external metrics), `metrics` (a ServiceMonitor),
//! `datadog_tags`, `opentelemetry` and `right_sizing` (a VPA). Meaning and rules live in `model::keda`,
//! `model::observe` and `model::right_sizing`.

use std::collections::BTreeMap;

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

/// One entry of `autoscaling_metrics`: exactly one of `pods` or `external`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHpaMetric {
    pub pods: Option<RawPodsMetric>,
    pub external: Option<RawExternalMetric>,
}

/// A per-pod metric from the custom metrics API (`type: Pods`), averaged over the pods.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPodsMetric {
    pub metric: Option<String>,
    /// The average per pod the autoscaler aims for (`AverageValue`), a quantity.
    pub average: Option<RawNumber>,
    pub selector: Option<BTreeMap<String, String>>,
}

/// A metric from outside the cluster (`type: External`): a queue, a SaaS metric.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExternalMetric {
    pub metric: Option<String>,
    pub selector: Option<BTreeMap<String, String>>,
    /// The total the autoscaler aims for (`Value`); or `average`, per pod (`AverageValue`).
    pub value: Option<RawNumber>,
    pub average: Option<RawNumber>,
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

/// `metrics`: a ServiceMonitor scraping one of the service's ports.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// The name of one of the service's ports.
    pub port: Option<String>,
    /// Default `/metrics`.
    pub path: Option<String>,
    /// Prometheus duration; default `30s`.
    pub interval: Option<String>,
    /// `ServiceMonitor` (default for a port of the Service) or `PodMonitor` (default for a
    /// sidecar's port, which the Service does not expose).
    pub kind: Option<String>,
}

/// `right_sizing`: `recommend` or `in_place`, or `{mode, min, max}` to bound the VPA's
/// requests for the service's container.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum RawRightSizing {
    Mode(String),
    Form(RawRightSizingForm),
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRightSizingForm {
    pub mode: Option<String>,
    /// The smallest requests the VPA may set (`minAllowed`).
    pub min: Option<RawBounds>,
    /// The largest requests the VPA may set (`maxAllowed`).
    pub max: Option<RawBounds>,
}

/// CPU in millicores and memory in megabytes, as `resource_request` takes them.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBounds {
    pub cpu: Option<super::scalars::Quantity>,
    pub memory: Option<super::scalars::Quantity>,
}

/// `datadog_tags`: `true`, or `{env, version}` to name them.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum RawDatadogTags {
    On(Lenient<bool>),
    Named(RawDatadogTagsForm),
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatadogTagsForm {
    pub env: Option<String>,
    pub version: Option<String>,
}

impl<'de> Deserialize<'de> for RawDatadogTags {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDatadogTags;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true, false, or {env, version}")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawDatadogTags, E> {
                Ok(RawDatadogTags::On(Lenient::Value(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDatadogTags, E> {
                Ok(RawDatadogTags::On(Lenient::Text(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDatadogTags, A::Error> {
                RawDatadogTagsForm::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawDatadogTags::Named)
            }
        }
        d.deserialize_any(V)
    }
}

/// `opentelemetry`: the OpenTelemetry Operator's auto-instrumentation for one language.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpenTelemetry {
    pub language: Option<String>,
    /// An Instrumentation: `NAME` (in the release's namespace) or `NAMESPACE/NAME`.
    pub instrumentation: Option<String>,
    /// Go only: the path of the program the Go agent attaches to.
    pub executable: Option<String>,
}

impl<'de> Deserialize<'de> for RawRightSizing {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRightSizing;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("recommend, in_place, or {mode, min, max}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRightSizing, E> {
                Ok(RawRightSizing::Mode(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRightSizing, A::Error> {
                RawRightSizingForm::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawRightSizing::Form)
            }
        }
        d.deserialize_any(V)
    }
}
