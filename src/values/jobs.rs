//! The CronJobs, with the Job settings the spec does not give, and the release phase's Job.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{CronJob, Service};

/// One CronJob, keyed in `cronJobs` by its name (the suffix of the object's name), so that
/// `--set cronJobs.NAME.suspend=true` changes that one. The template gives a field an entry
/// leaves out the default written here (`svc.cronJobs` in `_helpers.tpl`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CronJobValues {
    pub schedule: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub time_zone: String,
    pub suspend: bool,
    pub concurrency_policy: String,
    pub starting_deadline_seconds: u32,
    pub active_deadline_seconds: Option<u32>,
    pub backoff_limit: u32,
    pub successful_jobs_history_limit: u32,
    pub failed_jobs_history_limit: u32,
    pub ttl_seconds_after_finished: Option<u32>,
}

/// The release phase (`release_command`): a Job run as a Helm hook (pre-install, pre-upgrade)
/// and an Argo CD PreSync hook, kept until the next release so its logs stay readable.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseJobValues {
    pub enabled: bool,
    pub command: Vec<String>,
    pub active_deadline_seconds: u32,
    pub backoff_limit: u32,
    /// null: kept until the next release replaces it (its logs with it).
    pub ttl_seconds_after_finished: Option<u32>,
}

pub(super) fn release_job(s: &Service) -> ReleaseJobValues {
    match &s.release {
        Some(r) => ReleaseJobValues {
            enabled: true,
            command: r.command.clone(),
            active_deadline_seconds: r.timeout_seconds,
            backoff_limit: r.retries,
            ttl_seconds_after_finished: None,
        },
        None => ReleaseJobValues {
            enabled: false,
            command: Vec::new(),
            active_deadline_seconds: s.timeout_seconds,
            backoff_limit: 0,
            ttl_seconds_after_finished: None,
        },
    }
}

pub(super) fn cron_jobs(s: &Service) -> BTreeMap<String, CronJobValues> {
    s.cron_jobs
        .iter()
        .map(|c| (c.name.clone(), cron_job(c)))
        .collect()
}

fn cron_job(c: &CronJob) -> CronJobValues {
    CronJobValues {
        schedule: c.schedule.clone(),
        command: c.command.clone(),
        args: c.args.clone(),
        time_zone: c.time_zone.clone().unwrap_or_default(),
        suspend: false,
        concurrency_policy: c.concurrency_policy.clone(),
        starting_deadline_seconds: 300,
        active_deadline_seconds: None,
        backoff_limit: 2,
        successful_jobs_history_limit: 3,
        failed_jobs_history_limit: 1,
        ttl_seconds_after_finished: Some(86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;
    use serde_json::json;

    #[test]
    fn the_release_job_is_off_without_a_release_command() {
        let (s, _) = model("timeout: 120\n");
        assert_eq!(
            serde_json::to_value(release_job(&s)).unwrap(),
            json!({
                "enabled": false,
                "command": [],
                "activeDeadlineSeconds": 120,
                "backoffLimit": 0,
                "ttlSecondsAfterFinished": null,
            })
        );
        let (s, _) = model("release_command: [/app/migrate, up]\nrelease_retries: 1\n");
        assert_eq!(
            serde_json::to_value(release_job(&s)).unwrap(),
            json!({
                "enabled": true,
                "command": ["/app/migrate", "up"],
                "activeDeadlineSeconds": 300,
                "backoffLimit": 1,
                "ttlSecondsAfterFinished": null,
            })
        );
    }

    #[test]
    fn a_cron_job_gets_the_chart_job_defaults() {
        let (s, _) = model("cron_jobs:\n  - {name: r, schedule: \"@daily\", commands: [/bin/r]}\n");
        assert_eq!(
            serde_json::to_value(cron_jobs(&s)).unwrap(),
            json!({"r": {
                "schedule": "@daily",
                "command": ["/bin/r"],
                "args": [],
                "timeZone": "",
                "suspend": false,
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 300,
                "activeDeadlineSeconds": null,
                "backoffLimit": 2,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1,
                "ttlSecondsAfterFinished": 86400,
            }})
        );
    }
}
