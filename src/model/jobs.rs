//! Opta's `cron_jobs`: commands run on a schedule in the service's image, as CronJobs, with a
//! time zone and a concurrency policy (Opta's `Forbid` unless given). And ours, the release
//! phase (`release_command`): a command run to completion before every install and upgrade, as a
//! Helm hook Job, within a deadline no longer than helm's own wait (`timeout`).

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

/// The release phase: `release_command` run once before every install and upgrade.
#[derive(Clone, Debug, PartialEq)]
pub struct ReleaseJob {
    /// The program and its arguments.
    pub command: Vec<String>,
    /// Seconds the Job may run (`activeDeadlineSeconds`), at most helm's `timeout`.
    pub timeout_seconds: u32,
    /// Runs again after a failure (`backoffLimit`).
    pub retries: u32,
}

impl Builder<'_> {
    /// `release_command`, `release_timeout` and `release_retries`. `timeout` is helm's wait for
    /// the whole install or upgrade, hooks included: a deadline beyond it would leave the job
    /// running after helm has given up on the release.
    pub(super) fn release_job(&mut self, raw: &RawService, timeout: u32) -> Option<ReleaseJob> {
        let Some(command) = &raw.release_command else {
            for (field, given) in [
                ("release_timeout", raw.release_timeout.is_some()),
                ("release_retries", raw.release_retries.is_some()),
            ] {
                if given {
                    self.fail_help(
                        &self.path(field),
                        format!("`{field}` needs `release_command`"),
                        "e.g. release_command: [\"/app/bin/migrate\"]",
                    );
                }
            }
            return None;
        };
        let path = self.path("release_command");
        if command.is_empty() || command[0].trim().is_empty() {
            self.fail_help(
                &path,
                "`release_command` needs the program to run (and its arguments)",
                "e.g. release_command: [\"bin/rails\", \"db:migrate\"]",
            );
        }
        let timeout_path = self.path("release_timeout");
        let timeout_seconds = self.num(&timeout_path, &raw.release_timeout, timeout, (1, 86_400));
        if timeout_seconds > timeout {
            self.fail_help(
                &timeout_path,
                format!(
                    "release_timeout ({timeout_seconds}) is longer than `timeout` ({timeout}), helm's wait for the whole install or upgrade: helm would fail the release while the release command still runs"
                ),
                format!("raise `timeout` to at least {timeout_seconds}, or shorten release_timeout"),
            );
        }
        let retries = self.num(
            &self.path("release_retries"),
            &raw.release_retries,
            0,
            (0, 10),
        );
        Some(ReleaseJob {
            command: command.clone(),
            timeout_seconds,
            retries,
        })
    }

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
            if let Some(tz) = &c.time_zone
                && let Err(e) = super::time_zone::check(tz)
            {
                self.fail(&path.key("time_zone"), e);
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
    fn the_release_command_runs_within_helms_wait() {
        let (s, _) = model("release_command: [bin/rails, \"db:migrate\"]\n");
        assert_eq!(
            s.release,
            Some(ReleaseJob {
                command: vec!["bin/rails".into(), "db:migrate".into()],
                timeout_seconds: 300,
                retries: 0,
            })
        );
        let (s, _) = model(
            "release_command: [/app/migrate]\ntimeout: 900\nrelease_timeout: \"600\"\nrelease_retries: 2\n",
        );
        let r = s.release.unwrap();
        assert_eq!((r.timeout_seconds, r.retries), (600, 2));
        // Without the field there is no release phase.
        assert_eq!(model("").0.release, None);
    }

    #[test]
    fn the_release_command_is_refused_when_it_cannot_work() {
        assert_eq!(
            problems("release_command: [\" \"]\nrelease_timeout: 301\nrelease_retries: 11\n"),
            [
                (
                    "release_command".to_string(),
                    "`release_command` needs the program to run (and its arguments)".to_string()
                ),
                (
                    "release_timeout".to_string(),
                    "release_timeout (301) is longer than `timeout` (300), helm's wait for the whole install or upgrade: helm would fail the release while the release command still runs".to_string()
                ),
                (
                    "release_retries".to_string(),
                    "must be between 0 and 10 (found 11)".to_string()
                ),
            ]
        );
        assert_eq!(
            problems("release_command: []\n")[0].1,
            "`release_command` needs the program to run (and its arguments)"
        );
        assert_eq!(
            problems("release_timeout: 60\nrelease_retries: 1\n"),
            [
                (
                    "release_timeout".to_string(),
                    "`release_timeout` needs `release_command`".to_string()
                ),
                (
                    "release_retries".to_string(),
                    "`release_retries` needs `release_command`".to_string()
                ),
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
                    "`Mars/Olympus Mons` is not an IANA time zone name such as Europe/Paris or Etc/UTC (the list: https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)"
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
