//! Opta's `cron_jobs`: commands run on a schedule in the service's image, as CronJobs, with a
//! time zone and a concurrency policy (Opta's `Forbid` unless given).

use super::builder::Builder;
use super::rules;
use crate::diag::printable;
use crate::spec::raw::RawService;

#[derive(Clone, Debug, PartialEq)]
pub struct CronJob {
    pub name: String,
    pub schedule: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub time_zone: Option<String>,
    pub concurrency_policy: String,
}

impl Builder<'_> {
    pub(super) fn cron_jobs(&mut self, raw: &RawService) -> Vec<CronJob> {
        let mut out: Vec<CronJob> = Vec::new();
        for (i, c) in raw.cron_jobs.iter().flatten().enumerate() {
            let path = self.path("cron_jobs").index(i);
            let name = c.name.clone().unwrap_or_else(|| i.to_string());
            if let Err(e) = rules::dns_label(&name, 20) {
                self.fail(
                    &path.key("name"),
                    format!("cron job name `{}` {e}", printable(&name)),
                );
            } else if out.iter().any(|o| o.name == name) {
                self.fail(
                    &path.key("name"),
                    format!("two cron jobs are named `{name}`"),
                );
            }
            let command = c.commands.clone().unwrap_or_default();
            if command.is_empty() || command[0].trim().is_empty() {
                self.fail_help(
                    &path.key("commands"),
                    "a cron job needs `commands` (the program to run and its arguments)",
                    "e.g. commands: [\"/app/report\", \"--daily\"]",
                );
            }
            let schedule = match &c.schedule {
                Some(s) => {
                    if let Err(e) = rules::cron_schedule(s) {
                        self.fail(
                            &path.key("schedule"),
                            format!("invalid schedule `{}`: {e}", printable(s)),
                        );
                    }
                    s.trim().to_string()
                }
                None => {
                    self.fail_help(
                        &path,
                        "missing field `schedule`",
                        "e.g. schedule: \"*/15 * * * *\"",
                    );
                    String::new()
                }
            };
            if let Some(tz) = &c.time_zone {
                let ok = !tz.is_empty()
                    && tz.len() <= 64
                    && tz.split('/').all(|p| {
                        !p.is_empty()
                            && p.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-')
                            })
                    });
                if !ok {
                    self.fail(
                        &path.key("time_zone"),
                        format!(
                            "`{}` is not an IANA time zone name such as Europe/Paris",
                            printable(tz)
                        ),
                    );
                }
            }
            let policy = c
                .concurrency_policy
                .clone()
                .unwrap_or_else(|| "Forbid".into());
            if !["Allow", "Forbid", "Replace"].contains(&policy.as_str()) {
                self.fail_help(
                    &path.key("concurrency_policy"),
                    format!("unknown policy `{}`", printable(&policy)),
                    "expected Allow, Forbid or Replace",
                );
            }
            out.push(CronJob {
                name,
                schedule,
                command,
                args: c.args.clone().unwrap_or_default(),
                time_zone: c.time_zone.clone(),
                concurrency_policy: policy,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn a_cron_job_is_named_by_position_unless_named() {
        let (s, _) = model(
            "cron_jobs:\n  - {schedule: \"0 * * * *\", commands: [/bin/a]}\n  - {name: nightly, schedule: \" @daily \", commands: [/bin/b], args: [x], time_zone: Europe/Paris, concurrency_policy: Replace}\n",
        );
        assert_eq!(
            s.cron_jobs,
            [
                CronJob {
                    name: "0".into(),
                    schedule: "0 * * * *".into(),
                    command: vec!["/bin/a".into()],
                    args: vec![],
                    time_zone: None,
                    concurrency_policy: "Forbid".into(),
                },
                CronJob {
                    name: "nightly".into(),
                    schedule: "@daily".into(),
                    command: vec!["/bin/b".into()],
                    args: vec!["x".into()],
                    time_zone: Some("Europe/Paris".into()),
                    concurrency_policy: "Replace".into(),
                },
            ]
        );
    }

    #[test]
    fn a_cron_job_needs_a_program_a_schedule_and_a_known_policy() {
        assert_eq!(
            problems(
                "cron_jobs:\n  - {name: a, concurrency_policy: Sometimes, time_zone: \"Mars/Olympus Mons\"}\n  - {name: a, schedule: \"* * * * *\", commands: [x]}\n"
            ),
            [
                (
                    "cron_jobs[0].commands".to_string(),
                    "a cron job needs `commands` (the program to run and its arguments)"
                        .to_string()
                ),
                (
                    "cron_jobs[0]".to_string(),
                    "missing field `schedule`".to_string()
                ),
                (
                    "cron_jobs[0].time_zone".to_string(),
                    "`Mars/Olympus Mons` is not an IANA time zone name such as Europe/Paris"
                        .to_string()
                ),
                (
                    "cron_jobs[0].concurrency_policy".to_string(),
                    "unknown policy `Sometimes`".to_string()
                ),
                (
                    "cron_jobs[1].name".to_string(),
                    "two cron jobs are named `a`".to_string()
                ),
            ]
        );
    }
}
