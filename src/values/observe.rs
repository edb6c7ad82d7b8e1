//! `metrics`, `datadogTags` and `opentelemetry`: a ServiceMonitor (or PodMonitor), Datadog's unified service
//! tags and the OpenTelemetry Operator's injection annotation (`model::observe`). Each section
//! is written out disabled when the spec does not ask for it, so `--set` can turn it on.

use serde::Serialize;

use crate::model::Service;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsValues {
    pub enabled: bool,
    /// `ServiceMonitor` (a port of the Service) or `PodMonitor` (a port of the pods).
    pub kind: &'static str,
    /// The name of one of `ports` (or, for a PodMonitor, of a sidecar's `ports`).
    pub port: String,
    pub path: String,
    pub interval: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatadogTagsValues {
    pub enabled: bool,
    /// Empty: the release's namespace.
    pub env: String,
    /// Empty: image.tag, else the chart's appVersion (made label-safe).
    pub version: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenTelemetryValues {
    pub enabled: bool,
    pub language: String,
    pub instrumentation: String,
    /// Go only: the program the Go agent attaches to.
    pub executable: String,
}

pub(super) fn metrics(s: &Service) -> MetricsValues {
    let m = s.observe.metrics.as_ref();
    MetricsValues {
        enabled: m.is_some(),
        kind: m.map_or("ServiceMonitor", |m| m.kind),
        port: m.map(|m| m.port.clone()).unwrap_or_default(),
        path: m.map_or_else(|| "/metrics".into(), |m| m.path.clone()),
        interval: m.map_or_else(|| "30s".into(), |m| m.interval.clone()),
    }
}

pub(super) fn datadog_tags(s: &Service) -> DatadogTagsValues {
    let d = s.observe.datadog.as_ref();
    DatadogTagsValues {
        enabled: d.is_some(),
        env: d.and_then(|d| d.env.clone()).unwrap_or_default(),
        version: d.and_then(|d| d.version.clone()).unwrap_or_default(),
    }
}

pub(super) fn opentelemetry(s: &Service) -> OpenTelemetryValues {
    let o = s.observe.opentelemetry.as_ref();
    OpenTelemetryValues {
        enabled: o.is_some(),
        language: o.map(|o| o.language.clone()).unwrap_or_default(),
        instrumentation: o.map(|o| o.instrumentation.clone()).unwrap_or_default(),
        executable: o.and_then(|o| o.executable.clone()).unwrap_or_default(),
    }
}
