//! Metrics and traces without hand-written YAML: `metrics` (a Prometheus Operator
//! ServiceMonitor for one of the service's ports, or a PodMonitor for a port of the pods), `datadog_tags` (Datadog's unified service tags
//! as labels, as Opta set them) and `opentelemetry` (the OpenTelemetry Operator's injection
//! annotation). Each is off unless the spec asks for it.

use std::collections::BTreeMap;

use super::builder::Builder;
use super::ports::Port;
use super::rules;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::RawService;
use crate::spec::raw_scaling::{RawDatadogTags, RawMetrics, RawOpenTelemetry};

/// The ServiceMonitor's (or PodMonitor's) endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    pub port: String,
    /// `ServiceMonitor` or `PodMonitor`.
    pub kind: &'static str,
    pub path: String,
    pub interval: String,
}

/// Datadog's unified service tags; `None` fields are filled in by the chart (the release's
/// namespace, the image tag or appVersion), so an install-time `image.tag` is followed.
#[derive(Clone, Debug, PartialEq)]
pub struct DatadogTags {
    pub env: Option<String>,
    pub version: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OpenTelemetry {
    pub language: String,
    pub instrumentation: String,
    /// Go only: `otel-go-auto-target-exe`.
    pub executable: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observe {
    pub metrics: Option<Metrics>,
    pub datadog: Option<DatadogTags>,
    pub opentelemetry: Option<OpenTelemetry>,
}

/// The languages the OpenTelemetry Operator injects (`inject-<language>`).
pub const LANGUAGES: &[&str] = &["java", "nodejs", "python", "dotnet", "go"];

/// A Prometheus duration as the ServiceMonitor CRD accepts it, kept to whole units: `30s`, `1m`,
/// `1m30s`, `500ms`; never zero.
pub fn scrape_interval(s: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "`{}` is not a duration such as 30s, 1m or 1m30s",
            printable(s)
        ))
    };
    let mut rest = s;
    let mut total: u64 = 0;
    let mut last_rank = 0;
    if rest.is_empty() {
        return bad();
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return bad();
        }
        let n: u64 = rest[..digits].parse().unwrap_or(0);
        rest = &rest[digits..];
        // Units in Prometheus' order; each at most once, largest first.
        let (unit, rank) = if rest.starts_with("ms") {
            ("ms", 5)
        } else if rest.starts_with('h') {
            ("h", 2)
        } else if rest.starts_with('m') {
            ("m", 3)
        } else if rest.starts_with('s') {
            ("s", 4)
        } else {
            return bad();
        };
        if rank <= last_rank {
            return bad();
        }
        last_rank = rank;
        rest = &rest[unit.len()..];
        total += n;
    }
    if total == 0 {
        return Err("must be longer than 0".into());
    }
    Ok(())
}

/// `NAME` or `NAMESPACE/NAME`.
fn instrumentation_ref(s: &str) -> Result<(), String> {
    let (ns, name) = match s.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, s),
    };
    if let Some(ns) = ns {
        rules::dns_label(ns, 63).map_err(|e| format!("the namespace {e}"))?;
    }
    rules::dns_subdomain(name).map_err(|e| format!("the Instrumentation's name: {e}"))
}

impl Builder<'_> {
    /// `metrics`, `datadog_tags` and `opentelemetry`.
    pub(super) fn observe(
        &mut self,
        raw: &RawService,
        ports: &[Port],
        (labels, annotations): (&BTreeMap<String, String>, &BTreeMap<String, String>),
    ) -> Observe {
        Observe {
            metrics: raw
                .metrics
                .as_ref()
                .and_then(|m| self.metrics(m, ports, raw)),
            datadog: raw
                .datadog_tags
                .as_ref()
                .and_then(|d| self.datadog_tags(d, labels)),
            opentelemetry: raw
                .opentelemetry
                .as_ref()
                .and_then(|o| self.opentelemetry(o, annotations)),
        }
    }

    fn metrics(&mut self, m: &RawMetrics, ports: &[Port], raw: &RawService) -> Option<Metrics> {
        let path = self.path("metrics");
        let service: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
        // A sidecar's ports are the pod's, not the Service's: only a PodMonitor reaches them.
        let sidecar: Vec<&str> = raw
            .sidecars
            .iter()
            .flatten()
            .flat_map(|s| s.ports.iter().flatten())
            .filter_map(|p| p.name.as_deref())
            .collect();
        let names: Vec<&str> = service.iter().chain(&sidecar).copied().collect();
        let kind = self.metrics_kind(&path, m.kind.as_deref());
        let port = match m.port.as_deref().map(str::trim) {
            Some(p) if sidecar.contains(&p) && kind == Some("ServiceMonitor") => {
                self.fail_help(
                    &path.key("kind"),
                    format!("`{}` is a sidecar's port, which the Service does not expose: a ServiceMonitor cannot scrape it", printable(p)),
                    "use kind: PodMonitor (the default for a sidecar's port)",
                );
                None
            }
            Some(p) if names.contains(&p) => Some(p.to_string()),
            Some(p) => {
                let msg = format!("`{}` is not one of the service's ports", printable(p));
                if names.is_empty() {
                    self.fail_help(&path.key("port"), msg, "add the port under `ports`");
                } else {
                    self.fail_help(
                        &path.key("port"),
                        msg,
                        format!("name one of: {}", names.join(", ")),
                    );
                }
                None
            }
            None => {
                self.fail_help(
                    &path,
                    "missing: `port`, the name of the port that serves the metrics",
                    format!(
                        "e.g. `metrics: {{port: {}}}`",
                        names.first().unwrap_or(&"metrics")
                    ),
                );
                None
            }
        };
        let mpath = m.path.clone().unwrap_or_else(|| "/metrics".into());
        let path_ok = self.check(&path.key("path"), rules::probe_path(&mpath));
        let interval = m.interval.clone().unwrap_or_else(|| "30s".into());
        let interval_ok = self.check(&path.key("interval"), scrape_interval(&interval));
        (path_ok && interval_ok).then_some(())?;
        let port = port?;
        let default_kind = if service.contains(&port.as_str()) {
            "ServiceMonitor"
        } else {
            "PodMonitor"
        };
        Some(Metrics {
            kind: kind.unwrap_or(default_kind),
            port,
            path: mpath,
            interval,
        })
    }

    /// `kind`: `None` when not given (the port decides) or not valid (reported).
    fn metrics_kind(&mut self, path: &FieldPath, kind: Option<&str>) -> Option<&'static str> {
        match kind.map(str::trim) {
            None => None,
            Some("ServiceMonitor") => Some("ServiceMonitor"),
            Some("PodMonitor") => Some("PodMonitor"),
            Some(k) => {
                self.fail_help(
                    &path.key("kind"),
                    format!("unknown kind `{}`", printable(k)),
                    "expected ServiceMonitor (through the Service) or PodMonitor (the pods directly)",
                );
                None
            }
        }
    }

    fn datadog_tags(
        &mut self,
        d: &RawDatadogTags,
        labels: &BTreeMap<String, String>,
    ) -> Option<DatadogTags> {
        let path = self.path("datadog_tags");
        let tags = match d {
            RawDatadogTags::On(on) => {
                let on = self.flag(&path, &Some(on.clone()), false);
                on.then_some(DatadogTags {
                    env: None,
                    version: None,
                })?
            }
            RawDatadogTags::Named(f) => {
                let mut value = |key: &str, v: &Option<String>| -> Option<String> {
                    let v = v.as_deref()?.trim();
                    let checked = match rules::label_value(v) {
                        Ok(()) if v.is_empty() => Err("must not be empty".to_string()),
                        r => r,
                    };
                    self.check(
                        &path.key(key),
                        checked.map_err(|e| format!("a label value {e}")),
                    )
                    .then(|| v.to_string())
                };
                DatadogTags {
                    env: value("env", &f.env),
                    version: value("version", &f.version),
                }
            }
        };
        if let Some(k) = labels.keys().find(|k| k.starts_with("tags.datadoghq.com/")) {
            self.fail_help(
                &path,
                format!("pod_labels already sets `{}`", printable(k)),
                "set the Datadog tags in one place: remove them from pod_labels, or remove datadog_tags",
            );
        }
        Some(tags)
    }

    fn opentelemetry(
        &mut self,
        o: &RawOpenTelemetry,
        annotations: &BTreeMap<String, String>,
    ) -> Option<OpenTelemetry> {
        let path = self.path("opentelemetry");
        let language = self.otel_language(&path, o.language.as_deref());
        let instrumentation = match o.instrumentation.as_deref().map(str::trim) {
            None | Some("") => {
                self.fail_help(
                    &path,
                    "missing: `instrumentation`, the Instrumentation to inject",
                    "name it (`NAME` in the release's namespace, or `NAMESPACE/NAME`)",
                );
                None
            }
            Some(i) => self
                .check(&path.key("instrumentation"), instrumentation_ref(i))
                .then(|| i.to_string()),
        };
        let executable = match (language.as_deref(), o.executable.as_deref().map(str::trim)) {
            (Some("go"), None | Some("")) => {
                self.fail_help(
                    &path,
                    "missing: `executable`: the Go agent needs the path of the program to attach to",
                    "e.g. `executable: /app/server` (the operator's otel-go-auto-target-exe annotation)",
                );
                None
            }
            (Some("go"), Some(e)) => {
                let ok = self.check(&path.key("executable"), absolute(e));
                if ok {
                    self.warnings.push(
                        "opentelemetry: the operator's Go agent runs as a privileged sidecar sharing the pod's process namespace: the namespace's Pod Security level must allow it".into(),
                    );
                }
                ok.then(|| e.to_string())
            }
            (Some(_), Some(_)) => {
                self.fail(
                    &path.key("executable"),
                    "only the go language takes `executable`",
                );
                None
            }
            _ => None,
        };
        let prefix = "instrumentation.opentelemetry.io/";
        if let Some(k) = annotations.keys().find(|k| k.starts_with(prefix)) {
            self.fail_help(
                &path,
                format!("pod_annotations already sets `{}`", printable(k)),
                "set the injection in one place: remove it from pod_annotations, or remove opentelemetry",
            );
        }
        let language = language?;
        Some(OpenTelemetry {
            executable: if language == "go" {
                Some(executable?)
            } else {
                None
            },
            language,
            instrumentation: instrumentation?,
        })
    }

    fn otel_language(&mut self, path: &FieldPath, l: Option<&str>) -> Option<String> {
        match l.map(str::trim) {
            Some(l) if LANGUAGES.contains(&l) => Some(l.to_string()),
            Some(l) => {
                self.fail_help(
                    &path.key("language"),
                    format!("unknown language `{}`", printable(l)),
                    format!("expected one of: {}", LANGUAGES.join(", ")),
                );
                None
            }
            None => {
                self.fail_help(
                    path,
                    "missing: `language`, the one the operator instruments",
                    format!("one of: {}", LANGUAGES.join(", ")),
                );
                None
            }
        }
    }
}

fn absolute(s: &str) -> Result<(), String> {
    if !s.starts_with('/') || s.chars().any(char::is_control) {
        return Err("must be an absolute path, such as /app/server".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::scrape_interval;
    use crate::model::testing::{model, problems};

    #[test]
    fn intervals() {
        for ok in ["30s", "1m", "1m30s", "500ms", "2h"] {
            assert!(scrape_interval(ok).is_ok(), "{ok}");
        }
        for bad in ["", "30", "0s", "s", "30x", "30s1m", "1.5m", "-1s"] {
            assert!(scrape_interval(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metrics_default_path_and_interval() {
        let (s, _) = model("port: {http: 8080}\nmetrics: {port: main}\n");
        let m = s.observe.metrics.unwrap();
        assert_eq!(
            (m.port.as_str(), m.path.as_str(), m.interval.as_str()),
            ("main", "/metrics", "30s")
        );
    }

    #[test]
    fn metrics_port_must_be_a_service_port() {
        let got = problems("port: {http: 8080}\nmetrics: {port: web}\n");
        assert_eq!(
            got,
            [(
                "metrics.port".to_string(),
                "`web` is not one of the service's ports".to_string()
            )]
        );
    }

    #[test]
    fn datadog_tags_true_and_named() {
        let (s, _) = model("datadog_tags: true\n");
        let d = s.observe.datadog.unwrap();
        assert_eq!((d.env, d.version), (None, None));
        let (s, _) = model("datadog_tags: {env: prod}\n");
        assert_eq!(s.observe.datadog.unwrap().env.as_deref(), Some("prod"));
        let (s, _) = model("datadog_tags: false\n");
        assert!(s.observe.datadog.is_none());
    }

    #[test]
    fn opentelemetry_go_needs_an_executable() {
        let got = problems("opentelemetry: {language: go, instrumentation: otel/go}\n");
        assert_eq!(got[0].0, "opentelemetry");
        assert!(got[0].1.contains("executable"), "{got:?}");
        let (s, w) = model(
            "opentelemetry: {language: go, instrumentation: otel/go, executable: /app/srv}\n",
        );
        assert_eq!(
            s.observe.opentelemetry.unwrap().executable.as_deref(),
            Some("/app/srv")
        );
        assert!(w.iter().any(|w| w.contains("privileged")), "{w:?}");
    }
}
