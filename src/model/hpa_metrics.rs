//! `autoscaling_metrics`: the HorizontalPodAutoscaler's metrics beyond CPU and memory, in a short
//! form: `pods` (a per-pod metric of the custom metrics API, averaged over the pods) and
//! `external` (a metric from outside the cluster, as a total or per pod). Both need a metrics
//! adapter on the cluster (prometheus-adapter, KEDA, the Datadog Cluster Agent), which the chart
//! checks at install time (`crdCheck`). With `scale_on` KEDA owns the HPA, so these are refused:
//! KEDA's own prometheus and datadog triggers say the same thing.

use std::collections::BTreeMap;

use super::builder::Builder;
use super::rules;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::RawService;
use crate::spec::raw_scaling::{RawExternalMetric, RawNumber, RawPodsMetric};

/// What an HPA metric aims for.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// The metric's total (`type: Value`).
    Value(String),
    /// The metric divided by the pod count (`type: AverageValue`).
    Average(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct HpaMetric {
    /// `true`: `type: Pods` (custom.metrics.k8s.io); `false`: `type: External`.
    pub pods: bool,
    pub metric: String,
    pub selector: BTreeMap<String, String>,
    pub target: Target,
}

/// Binary and decimal suffixes of a Kubernetes quantity (resource.Quantity).
const QUANTITY_SUFFIXES: &[&str] = &[
    "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P", "E",
];

/// The text of a target if it is a Kubernetes quantity above 0: `100`, `0.5`, `"500m"`, `"2k"`.
pub fn quantity(n: &RawNumber) -> Result<String, String> {
    let text = match n {
        RawNumber::Int(i) => i.to_string(),
        RawNumber::Float(f) => f.to_string(),
        RawNumber::Text(t) => t.trim().to_string(),
    };
    let number = QUANTITY_SUFFIXES
        .iter()
        .find_map(|s| text.strip_suffix(s))
        .unwrap_or(&text);
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let positive = number.parse::<f64>().is_ok_and(|v| v > 0.0);
    if !(whole.len() + frac.len() > 0 && all_digits(whole) && all_digits(frac) && positive) {
        return Err(format!(
            "expected a Kubernetes quantity above 0 such as 100, 0.5 or \"500m\", found `{}`",
            printable(&text)
        ));
    }
    Ok(text)
}

/// An HPA tolerance: a fraction of the target, at least 0 and below 1 (`0.05` is 5%).
pub fn tolerance(n: &RawNumber) -> Result<String, String> {
    let text = match n {
        RawNumber::Int(i) => i.to_string(),
        RawNumber::Float(f) => f.to_string(),
        RawNumber::Text(t) => t.trim().to_string(),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<f64>() {
        Ok(v) if all_digits(whole) && (frac.is_empty() || all_digits(frac)) && v < 1.0 => Ok(text),
        _ => Err(format!(
            "expected a fraction from 0 to below 1 such as 0.05 (5% of the target), found `{}`",
            printable(&text)
        )),
    }
}

/// A metric's name as the metrics APIs take it: a URL path segment (Kubernetes' own rule for
/// `metric.name`), printable, at most 253 characters.
pub fn metric_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("metric is empty: name the metric, e.g. http_requests_per_second".into());
    }
    if s == "." || s == ".." || s.contains(['/', '%']) {
        return Err(format!(
            "metric `{}` is not a valid metric name: it may not be `.` or `..` nor contain `/` or `%` (the metrics API puts it in a URL path)",
            printable(s)
        ));
    }
    if s.len() > 253 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "metric `{}` is not a valid metric name: at most 253 characters, no spaces",
            printable(s)
        ));
    }
    Ok(())
}

impl Builder<'_> {
    /// `autoscaling_metrics`; empty when not given.
    pub(super) fn hpa_metrics(
        &mut self,
        raw: &RawService,
        (min, max): (u32, u32),
    ) -> Vec<HpaMetric> {
        let Some(entries) = &raw.autoscaling_metrics else {
            return Vec::new();
        };
        let path = self.path("autoscaling_metrics");
        if raw.scale_on.is_some() {
            self.fail_help(
                &path,
                "autoscaling_metrics and scale_on both set: with scale_on, KEDA runs the autoscaler and the chart renders no HPA",
                "use a KEDA trigger instead (scale_on: [{prometheus: ...}] or [{datadog: ...}]), or remove scale_on",
            );
            return Vec::new();
        }
        if entries.is_empty() {
            self.fail(
                &path,
                "autoscaling_metrics lists no metric: remove it, or add one (pods or external)",
            );
            return Vec::new();
        }
        if min >= max {
            self.warnings.push(format!(
                "autoscaling_metrics is ignored: there is no HorizontalPodAutoscaler, since min_containers ({min}) equals max_containers ({max})"
            ));
        }
        let mut out = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let at = path.index(i);
            match (&e.pods, &e.external) {
                (Some(p), None) => out.extend(self.pods_metric(&at.key("pods"), p)),
                (None, Some(x)) => out.extend(self.external_metric(&at.key("external"), x)),
                _ => self.fail(
                    &at,
                    "each autoscaling_metrics entry has exactly one of pods or external",
                ),
            }
        }
        out
    }

    fn pods_metric(&mut self, path: &FieldPath, p: &RawPodsMetric) -> Option<HpaMetric> {
        let metric = self.metric_name(path, &p.metric);
        let selector = self.metric_selector(&path.key("selector"), &p.selector);
        let average = match &p.average {
            None => {
                self.fail(path, "a pods metric needs average: the value per pod the autoscaler aims for, e.g. average: 100");
                None
            }
            Some(n) => self.target_quantity(&path.key("average"), n),
        };
        Some(HpaMetric {
            pods: true,
            metric: metric?,
            selector,
            target: Target::Average(average?),
        })
    }

    fn external_metric(&mut self, path: &FieldPath, x: &RawExternalMetric) -> Option<HpaMetric> {
        let metric = self.metric_name(path, &x.metric);
        let selector = self.metric_selector(&path.key("selector"), &x.selector);
        let target = match (&x.value, &x.average) {
            (Some(v), None) => self
                .target_quantity(&path.key("value"), v)
                .map(Target::Value),
            (None, Some(a)) => self
                .target_quantity(&path.key("average"), a)
                .map(Target::Average),
            _ => {
                self.fail(path, "an external metric needs exactly one of value (the total the autoscaler aims for) or average (per pod)");
                None
            }
        };
        Some(HpaMetric {
            pods: false,
            metric: metric?,
            selector,
            target: target?,
        })
    }

    fn metric_name(&mut self, path: &FieldPath, v: &Option<String>) -> Option<String> {
        let Some(name) = v.as_deref().map(str::trim) else {
            self.fail(
                path,
                "metric is missing: name the metric, e.g. metric: http_requests_per_second",
            );
            return None;
        };
        self.check(&path.key("metric"), metric_name(name))
            .then(|| name.to_string())
    }

    fn target_quantity(&mut self, path: &FieldPath, n: &RawNumber) -> Option<String> {
        quantity(n).map_err(|e| self.fail(path, e)).ok()
    }

    fn metric_selector(
        &mut self,
        path: &FieldPath,
        v: &Option<BTreeMap<String, String>>,
    ) -> BTreeMap<String, String> {
        let map = v.clone().unwrap_or_default();
        for (k, val) in &map {
            if let Err(e) = rules::qualified_name(k) {
                self.fail(&path.key(k), format!("label key `{}`: {e}", printable(k)));
            } else if let Err(e) = rules::label_value(val) {
                self.fail(
                    &path.key(k),
                    format!("label value `{}` {e}", printable(val)),
                );
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn quantities_and_tolerances_are_checked() {
        let q = |s: &str| quantity(&RawNumber::Text(s.into()));
        for ok in ["100", "0.5", "500m", "2k", "1Gi", "30"] {
            assert_eq!(q(ok), Ok(ok.to_string()));
        }
        for bad in ["", "0", "-1", "1e3", "abc", "1.2.3", "m", "5 m"] {
            assert!(q(bad).is_err(), "{bad}");
        }
        assert_eq!(quantity(&RawNumber::Float(0.25)), Ok("0.25".into()));
        assert!(quantity(&RawNumber::Int(-3)).is_err());
        let t = |s: &str| tolerance(&RawNumber::Text(s.into()));
        assert_eq!(t("0.05"), Ok("0.05".into()));
        assert_eq!(tolerance(&RawNumber::Int(0)), Ok("0".into()));
        for bad in ["1", "1.5", "-0.1", "5%", ".5", "50m"] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metric_names_are_url_path_segments() {
        assert!(metric_name("http_requests_per_second").is_ok());
        assert!(metric_name("datadogmetric@default:orders").is_ok());
        for bad in ["", ".", "..", "a/b", "50%", "two words"] {
            assert!(metric_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pods_and_external_metrics_are_read() {
        let (s, _) = model(
            "autoscaling_metrics:\n  - pods: {metric: rps, average: 100}\n  - external: {metric: queue_depth, selector: {queue: orders}, value: \"30\"}\n",
        );
        assert_eq!(
            s.workload.hpa_metrics,
            [
                HpaMetric {
                    pods: true,
                    metric: "rps".into(),
                    selector: BTreeMap::new(),
                    target: Target::Average("100".into()),
                },
                HpaMetric {
                    pods: false,
                    metric: "queue_depth".into(),
                    selector: [("queue".to_string(), "orders".to_string())].into(),
                    target: Target::Value("30".into()),
                },
            ]
        );
        // With a custom metric, CPU and memory may both be off.
        let (s, _) = model(
            "autoscaling_target_cpu_percentage: 0\nautoscaling_target_mem_percentage: 0\nautoscaling_metrics: [{pods: {metric: rps, average: 1}}]\n",
        );
        assert_eq!((s.cpu_target, s.memory_target), (None, None));
    }

    #[test]
    fn bad_entries_name_their_field() {
        assert_eq!(
            problems("autoscaling_metrics: [{external: {metric: q, value: 1, average: 2}}]\n"),
            [(
                "autoscaling_metrics[0].external".to_string(),
                "an external metric needs exactly one of value (the total the autoscaler aims for) or average (per pod)".to_string()
            )]
        );
        assert_eq!(
            problems(
                "autoscaling_metrics: [{pods: {metric: q, average: 1, selector: {\"a b\": x}}}]\n"
            )[0]
            .0,
            "autoscaling_metrics[0].pods.selector[\"a b\"]"
        );
        assert_eq!(
            problems("autoscaling_metrics: [{}]\n")[0].1,
            "each autoscaling_metrics entry has exactly one of pods or external"
        );
    }
}
