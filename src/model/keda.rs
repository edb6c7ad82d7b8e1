//! `scale_on`: event-driven autoscaling with KEDA. A ScaledObject replaces the HPA (KEDA makes
//! its own, under the same name, so the chart never renders both), with triggers in a short form:
//! a Datadog query, a Prometheus query, a cron window, an SQS queue. Credentials come from
//! existing Secrets through a TriggerAuthentication; nothing secret is written into the chart.

use super::builder::Builder;
use super::rules;
use crate::diag::FieldPath;
use crate::spec::raw::RawService;
use crate::spec::raw_scaling::{RawCron, RawDatadog, RawNumber, RawPrometheus, RawSqs, RawTrigger};

#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    Datadog {
        query: String,
        value: String,
        activation: Option<String>,
        secret: String,
    },
    Prometheus {
        server: String,
        query: String,
        threshold: String,
        activation: Option<String>,
    },
    Cron {
        timezone: String,
        start: String,
        end: String,
        replicas: u32,
    },
    Sqs {
        queue_url: String,
        queue_length: u32,
        region: String,
        /// `None`: the pods' own IAM role (KEDA pod identity, owner `workload`).
        secret: Option<String>,
    },
}

impl Trigger {
    /// KEDA's trigger type.
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::Datadog { .. } => "datadog",
            Trigger::Prometheus { .. } => "prometheus",
            Trigger::Cron { .. } => "cron",
            Trigger::Sqs { .. } => "aws-sqs-queue",
        }
    }
}

/// The ScaledObject, present when `scale_on` lists a trigger.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Keda {
    pub triggers: Vec<Trigger>,
    /// Replicas while a metric source fails (`fallback.replicas`).
    pub fallback: Option<u32>,
    /// The CPU and memory targets the spec set explicitly, kept as KEDA cpu/memory triggers.
    pub cpu_target: Option<u32>,
    pub memory_target: Option<u32>,
}

/// The text of a threshold if it is a positive decimal number.
fn decimal(n: &RawNumber) -> Result<String, String> {
    let text = match n {
        RawNumber::Int(i) => i.to_string(),
        RawNumber::Float(f) => f.to_string(),
        RawNumber::Text(t) => t.trim().to_string(),
    };
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && !text.contains(['e', 'E']) => Ok(text),
        _ => Err(format!("expected a number above 0, found `{text}`")),
    }
}

impl Builder<'_> {
    /// `scale_on` and `scale_on_fallback`; `None` without triggers. The CPU and memory targets
    /// are kept (as KEDA triggers) only when the spec sets them: Opta's 80% defaults would
    /// otherwise add triggers nobody asked for.
    pub(super) fn keda(
        &mut self,
        raw: &RawService,
        (min, max): (u32, u32),
        (cpu, memory): (Option<u32>, Option<u32>),
    ) -> Option<Keda> {
        let path = self.path("scale_on");
        let entries = raw.scale_on.as_ref()?;
        if entries.is_empty() {
            self.fail(&path, "scale_on lists no trigger: remove it, or add one (datadog, prometheus, cron or sqs)");
            return None;
        }
        if min >= max {
            self.fail_help(
                &path,
                format!("scale_on needs room to scale: max_containers ({max}) must be above min_containers ({min})"),
                "set max_containers to the most pods the triggers may ask for",
            );
        }
        let triggers: Vec<Trigger> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, t)| self.trigger(&path.index(i), t, max))
            .collect();
        let fallback = raw.scale_on_fallback.as_ref().map(|_| {
            self.num(
                &self.path("scale_on_fallback"),
                &raw.scale_on_fallback,
                1,
                (1, max.max(1)),
            )
        });
        let explicit = |given: bool, target: Option<u32>| if given { target } else { None };
        Some(Keda {
            triggers,
            fallback,
            cpu_target: explicit(raw.autoscaling_target_cpu_percentage.is_some(), cpu),
            memory_target: explicit(raw.autoscaling_target_mem_percentage.is_some(), memory),
        })
    }

    fn trigger(&mut self, path: &FieldPath, t: &RawTrigger, max: u32) -> Option<Trigger> {
        let given = [
            t.datadog.is_some(),
            t.prometheus.is_some(),
            t.cron.is_some(),
            t.sqs.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            self.fail(
                path,
                "each scale_on entry has exactly one of datadog, prometheus, cron or sqs",
            );
            return None;
        }
        if let Some(d) = &t.datadog {
            self.datadog(&path.key("datadog"), d)
        } else if let Some(p) = &t.prometheus {
            self.prometheus(&path.key("prometheus"), p)
        } else if let Some(c) = &t.cron {
            self.cron_window(&path.key("cron"), c, max)
        } else {
            t.sqs.as_ref().and_then(|q| self.sqs(&path.key("sqs"), q))
        }
    }

    /// A required, non-empty text field.
    fn needed(&mut self, path: &FieldPath, v: &Option<String>, what: &str) -> Option<String> {
        match v.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Some(s.to_string()),
            _ => {
                self.fail(path, format!("missing: {what}"));
                None
            }
        }
    }

    fn threshold(
        &mut self,
        path: &FieldPath,
        v: &Option<RawNumber>,
        required: bool,
    ) -> Option<String> {
        match v {
            None if required => {
                self.fail(path, "missing: the value per pod the autoscaler aims for");
                None
            }
            None => None,
            Some(n) => decimal(n).map_err(|e| self.fail(path, e)).ok(),
        }
    }

    fn secret_name(&mut self, path: &FieldPath, v: &Option<String>, what: &str) -> Option<String> {
        let name = self.needed(path, v, what)?;
        self.check(path, rules::dns_subdomain(&name))
            .then_some(name)
    }

    fn datadog(&mut self, path: &FieldPath, d: &RawDatadog) -> Option<Trigger> {
        let query = self.needed(&path.key("query"), &d.query, "the Datadog metric query");
        let value = self.threshold(&path.key("value"), &d.value, true);
        let activation = self.threshold(&path.key("activation_value"), &d.activation_value, false);
        let secret = self.secret_name(
            &path.key("secret"),
            &d.secret,
            "the name of an existing Secret with the keys apiKey and appKey",
        );
        Some(Trigger::Datadog {
            query: query?,
            value: value?,
            activation,
            secret: secret?,
        })
    }

    fn prometheus(&mut self, path: &FieldPath, p: &RawPrometheus) -> Option<Trigger> {
        let server = self.needed(
            &path.key("server"),
            &p.server,
            "the Prometheus server's URL",
        );
        if let Some(s) = &server
            && !(s.starts_with("http://") || s.starts_with("https://"))
        {
            self.fail(
                &path.key("server"),
                format!("`{s}` is not an http:// or https:// URL"),
            );
        }
        let query = self.needed(&path.key("query"), &p.query, "the PromQL query");
        let threshold = self.threshold(&path.key("threshold"), &p.threshold, true);
        let activation = self.threshold(
            &path.key("activation_threshold"),
            &p.activation_threshold,
            false,
        );
        Some(Trigger::Prometheus {
            server: server?,
            query: query?,
            threshold: threshold?,
            activation,
        })
    }

    fn cron_window(&mut self, path: &FieldPath, c: &RawCron, max: u32) -> Option<Trigger> {
        let timezone = self.needed(
            &path.key("timezone"),
            &c.timezone,
            "an IANA time zone, e.g. Europe/Paris",
        );
        let timezone =
            timezone.filter(|tz| self.check(&path.key("timezone"), super::time_zone::check(tz)));
        let window = |b: &mut Self, key: &str, v: &Option<String>| {
            let s = b.needed(
                &path.key(key),
                v,
                "a five-field cron schedule, e.g. \"0 8 * * 1-5\"",
            )?;
            let five = s.split_whitespace().count() == 5;
            let ok = b.check(
                &path.key(key),
                if five {
                    rules::cron_schedule(&s)
                } else {
                    Err(format!(
                        "`{s}` is not a five-field cron schedule (minute hour day month weekday)"
                    ))
                },
            );
            ok.then_some(s)
        };
        let start = window(self, "start", &c.start);
        let end = window(self, "end", &c.end);
        if c.replicas.is_none() {
            self.fail(
                &path.key("replicas"),
                "missing: the replicas to run between start and end",
            );
        }
        let replicas = self.num(&path.key("replicas"), &c.replicas, 1, (1, max.max(1)));
        Some(Trigger::Cron {
            timezone: timezone?,
            start: start?,
            end: end?,
            replicas,
        })
    }

    fn sqs(&mut self, path: &FieldPath, q: &RawSqs) -> Option<Trigger> {
        let url = self.needed(
            &path.key("queue_url"),
            &q.queue_url,
            "the queue's URL, https://sqs.<region>.amazonaws.com/<account>/<queue>",
        )?;
        let from_url = url
            .strip_prefix("https://sqs.")
            .and_then(|rest| rest.split_once(".amazonaws.com/"))
            .map(|(region, _)| region.to_string());
        if from_url.is_none() {
            self.fail(&path.key("queue_url"), format!("`{url}` is not an SQS queue URL, https://sqs.<region>.amazonaws.com/<account>/<queue>"));
            return None;
        }
        let region = match q.region.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => from_url.unwrap_or_default(),
        };
        let queue_length = self.num(&path.key("queue_length"), &q.queue_length, 5, (1, 100_000));
        let secret = match &q.secret {
            None => None,
            s => Some(self.secret_name(
                &path.key("secret"),
                s,
                "a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            )?),
        };
        Some(Trigger::Sqs {
            queue_url: url,
            queue_length,
            region,
            secret,
        })
    }
}

/// `min_containers: 0` is allowed with a KEDA trigger: KEDA scales to zero and back.
pub fn scales_to_zero(raw: &RawService) -> bool {
    raw.scale_on.as_ref().is_some_and(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::Trigger;
    use crate::model::testing::{model, problems};

    #[test]
    fn three_lines_scale_on_a_datadog_metric() {
        let (s, _) = model(
            "max_containers: 10\nscale_on:\n  - datadog: {query: \"avg:x{*}\", value: 2.5, secret: dd}\n",
        );
        let k = s.keda.expect("a ScaledObject");
        assert_eq!(
            k.triggers,
            [Trigger::Datadog {
                query: "avg:x{*}".into(),
                value: "2.5".into(),
                activation: None,
                secret: "dd".into()
            }]
        );
        // Opta's default 80% targets are not carried over as KEDA triggers.
        assert_eq!(
            (k.cpu_target, k.memory_target, k.fallback),
            (None, None, None)
        );
    }

    #[test]
    fn min_zero_needs_a_trigger_and_the_region_comes_from_the_url() {
        let (s, _) = model(
            "min_containers: 0\nmax_containers: 3\nscale_on: [{sqs: {queue_url: \"https://sqs.us-east-2.amazonaws.com/1/q\"}}]\n",
        );
        assert_eq!(s.min_replicas, 0);
        match &s.keda.unwrap().triggers[0] {
            Trigger::Sqs {
                region,
                queue_length,
                secret,
                ..
            } => {
                assert_eq!(
                    (region.as_str(), *queue_length, secret),
                    ("us-east-2", 5, &None)
                )
            }
            t => panic!("{t:?}"),
        }
        assert_eq!(
            problems(
                "max_containers: 3\nscale_on: [{cron: {timezone: UTC, start: \"0 8 * * *\", end: \"0 9 * * *\", replicas: 7}}]\n"
            ),
            [(
                "scale_on[0].cron.replicas".to_string(),
                "must be between 1 and 3 (found 7)".to_string()
            )]
        );
    }
}
