//! The health checks. Opta's liveness and readiness probes: an HTTP GET of a path or a command,
//! each from its own field or from the `healthcheck_*` fields they share — except that
//! `healthcheck_path` alone makes liveness a TCP check of the probe port (unlike Opta), since a
//! health endpoint that checks a dependency would otherwise restart every pod while the
//! dependency is down. Beyond Opta: their timing, a startup probe (which makes the initial
//! delays 0 unless given), and native gRPC health checks of a grpc probe port.

use super::builder::Builder;
pub use super::grpc::GrpcCheck;
use super::ports::{Port, PortKind};
use super::rules;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::{RawService, RawTiming};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Probe {
    pub path: Option<String>,
    pub command: Vec<String>,
    pub initial_delay: u32,
    pub timing: ProbeTiming,
    /// Set when neither a path nor a command is given and grpc_health_check asks for it.
    pub grpc: Option<GrpcCheck>,
}

/// Period, timeout and failure threshold of one probe.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProbeTiming {
    pub period: u32,
    pub timeout: u32,
    pub failure_threshold: u32,
}

/// Liveness is more patient than readiness: a struggling pod leaves the load balancer (readiness)
/// long before it is restarted (liveness), so one slow dependency cannot restart every pod.
pub const LIVENESS_TIMING: ProbeTiming = ProbeTiming {
    period: 10,
    timeout: 3,
    failure_threshold: 6,
};
pub const READINESS_TIMING: ProbeTiming = ProbeTiming {
    period: 10,
    timeout: 2,
    failure_threshold: 3,
};
/// Five minutes to start (30 checks, 10 s apart) before liveness takes over.
pub const STARTUP_TIMING: ProbeTiming = ProbeTiming {
    period: 10,
    timeout: 3,
    failure_threshold: 30,
};

impl Builder<'_> {
    pub(super) fn probe(
        &mut self,
        raw: &RawService,
        kind: &str,
        ports: &[Port],
        probe_port: &Option<String>,
    ) -> Probe {
        let (specific_path, specific_cmd, delay) = if kind == "liveness" {
            (
                &raw.liveness_probe_path,
                &raw.liveness_probe_command,
                &raw.initial_liveness_delay,
            )
        } else {
            (
                &raw.readiness_probe_path,
                &raw.readiness_probe_command,
                &raw.initial_readiness_delay,
            )
        };
        let path_field = format!("{kind}_probe_path");
        let cmd_field = format!("{kind}_probe_command");
        // Opta: the specific field wins over healthcheck_*; a path and a command may not meet.
        let path_given = [
            ("healthcheck_path", &raw.healthcheck_path),
            (path_field.as_str(), specific_path),
        ]
        .into_iter()
        .find(|(_, v)| v.is_some())
        .map(|(f, _)| f);
        let cmd_given = [
            ("healthcheck_command", &raw.healthcheck_command),
            (cmd_field.as_str(), specific_cmd),
        ]
        .into_iter()
        .find(|(_, v)| v.is_some())
        .map(|(f, _)| f);
        // healthcheck_path + healthcheck_command breaks both probes: say it once.
        let shared =
            path_given == Some("healthcheck_path") && cmd_given == Some("healthcheck_command");
        if let (Some(pf), Some(cf), false) = (path_given, cmd_given, shared && kind == "readiness")
        {
            let what = if shared {
                "probes".to_string()
            } else {
                format!("{kind} probe")
            };
            self.fail_help(
                &self.path(cf),
                format!("invalid {what}: `{pf}` and `{cf}` are both set"),
                "a probe is either an HTTP GET of a path or a command, not both",
            );
        }
        let (path_from, path) = match specific_path {
            Some(p) => (path_field.clone(), Some(p.clone())),
            None => ("healthcheck_path".to_string(), raw.healthcheck_path.clone()),
        };
        let (cmd_from, command) = match specific_cmd.as_ref().filter(|c| !c.is_empty()) {
            Some(c) => (cmd_field.clone(), c.clone()),
            None => (
                "healthcheck_command".to_string(),
                raw.healthcheck_command.clone().unwrap_or_default(),
            ),
        };
        // healthcheck_path alone: readiness GETs it, liveness only checks that the process
        // accepts connections (a TCP check), so an endpoint that also checks a database cannot
        // restart every pod while the database is down. liveness_probe_path still wins.
        let readiness_only = kind == "liveness" && specific_path.is_none();
        let mut path = path;
        if let Some(p) = path.clone() {
            path = Some(self.probe_path_checked(&path_from, &p));
            match probe_port
                .as_ref()
                .and_then(|n| ports.iter().find(|x| &x.name == n))
            {
                None => self.fail(
                    &self.path(&path_from),
                    "an HTTP probe needs a port: add `port` or `ports`",
                ),
                Some(port) if port.kind == PortKind::Tcp => {
                    // Opta: a path probe on a tcp port is a TCP check.
                    if !readiness_only {
                        self.warnings.push(format!(
                            "the probe port `{}` is a tcp port, so the {kind} probe is a TCP check and `{path_from}` is not used (as in Opta)",
                            port.name
                        ));
                    }
                    path = None;
                }
                Some(_) => {}
            }
        }
        if readiness_only {
            path = None;
        }
        if !command.is_empty() && command[0].trim().is_empty() {
            self.fail(
                &self.path(&cmd_from),
                "the probe command must start with a program",
            );
        }
        let initial_delay = self.num(
            &self.path(&format!("initial_{kind}_delay")),
            delay,
            30,
            (0, 3600),
        );
        Probe {
            path,
            command,
            initial_delay,
            ..Probe::default()
        }
    }

    /// A probe path as the kubelet requests it. Opta passed the path through and the kubelet
    /// puts a `/` before one that lacks it (`ht/` is a GET of `/ht/`), so such a path is written
    /// that way with a warning rather than refused; anything else invalid is an error.
    fn probe_path_checked(&mut self, field: &str, given: &str) -> String {
        let fixed = format!("/{given}");
        if !given.starts_with('/') && !given.is_empty() && rules::probe_path(&fixed).is_ok() {
            let w = format!(
                "`{field}: {}` does not start with '/'; the kubelet requests `{}`, which the chart now says: write `{field}: {}`",
                printable(given),
                printable(&fixed),
                printable(&fixed)
            );
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
            return fixed;
        }
        // A path without its '/' that is still invalid: say what else is wrong with it.
        let checked = if given.is_empty() { given } else { &fixed };
        let checked = if given.starts_with('/') {
            given
        } else {
            checked
        };
        let r = rules::probe_path(checked).map_err(|e| format!("probe path {e}"));
        self.check(&self.path(field), r);
        given.to_string()
    }

    /// Sets the timing and the gRPC check of the liveness and readiness probes built by `probe`,
    /// and builds the startup probe after them (returned, `None` when no startup field is given).
    pub(super) fn probe_settings(
        &mut self,
        raw: &RawService,
        ports: &[Port],
        probe_port: &Option<String>,
        probes: (&mut Probe, &mut Probe),
    ) -> Option<Probe> {
        let (liveness, readiness) = probes;
        let timing = raw.probe_timing.as_ref();
        let tpath = self.path("probe_timing");
        liveness.timing = self.timing(
            &tpath.key("liveness"),
            timing.and_then(|t| t.liveness.as_ref()),
            LIVENESS_TIMING,
        );
        readiness.timing = self.timing(
            &tpath.key("readiness"),
            timing.and_then(|t| t.readiness.as_ref()),
            READINESS_TIMING,
        );
        let mut startup = self.startup_probe(raw, ports, probe_port, liveness);
        if let Some(s) = startup.as_mut() {
            s.timing = self.timing(
                &tpath.key("startup"),
                timing.and_then(|t| t.startup.as_ref()),
                STARTUP_TIMING,
            );
            // The startup probe guards the start: liveness and readiness begin as soon as it
            // succeeds, unless the spec asks for a delay.
            if raw.initial_liveness_delay.is_none() {
                liveness.initial_delay = 0;
            }
            if raw.initial_readiness_delay.is_none() {
                readiness.initial_delay = 0;
            }
        }
        let grpc = self.grpc_check(raw, ports, probe_port);
        if let Some(check) = grpc {
            self.grpc_paths(raw, startup.is_some());
            let mut used = false;
            for p in [
                Some(&mut *liveness),
                Some(&mut *readiness),
                startup.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                // A command still wins: exec probes do not depend on the port.
                if p.path.is_none() && p.command.is_empty() {
                    p.grpc = Some(check.clone());
                    used = true;
                }
            }
            if !used {
                self.warnings
                    .push("grpc_health_check is not used: every probe runs a command".into());
            }
        }
        startup
    }

    fn timing(
        &mut self,
        path: &FieldPath,
        raw: Option<&RawTiming>,
        default: ProbeTiming,
    ) -> ProbeTiming {
        let Some(t) = raw else {
            return default;
        };
        ProbeTiming {
            period: self.num(
                &path.key("period_seconds"),
                &t.period_seconds,
                default.period,
                (1, 3600),
            ),
            timeout: self.num(
                &path.key("timeout_seconds"),
                &t.timeout_seconds,
                default.timeout,
                (1, 3600),
            ),
            failure_threshold: self.num(
                &path.key("failure_threshold"),
                &t.failure_threshold,
                default.failure_threshold,
                (1, 10_000),
            ),
        }
    }

    /// The startup probe, when any startup setting is given: `startup_probe_path` or
    /// `startup_probe_command`, else the liveness probe's check (what Kubernetes recommends).
    fn startup_probe(
        &mut self,
        raw: &RawService,
        ports: &[Port],
        probe_port: &Option<String>,
        liveness: &Probe,
    ) -> Option<Probe> {
        let timing_given = raw
            .probe_timing
            .as_ref()
            .is_some_and(|t| t.startup.is_some());
        let given = raw.startup_probe_path.is_some()
            || raw.startup_probe_command.is_some()
            || raw.initial_startup_delay.is_some()
            || timing_given;
        if !given {
            return None;
        }
        let initial_delay = self.num(
            &self.path("initial_startup_delay"),
            &raw.initial_startup_delay,
            0,
            (0, 3600),
        );
        let mut probe = Probe {
            initial_delay,
            ..Probe::default()
        };
        let command = raw.startup_probe_command.clone().unwrap_or_default();
        match (&raw.startup_probe_path, command.is_empty()) {
            (Some(_), false) => {
                self.fail_help(
                    &self.path("startup_probe_command"),
                    "invalid startup probe: `startup_probe_path` and `startup_probe_command` are both set",
                    "a probe is either an HTTP GET of a path or a command, not both",
                );
            }
            (Some(p), true) => {
                let field = self.path("startup_probe_path");
                let p = &self.probe_path_checked("startup_probe_path", p);
                match probe_port
                    .as_ref()
                    .and_then(|n| ports.iter().find(|x| &x.name == n))
                {
                    None => self.fail(&field, "an HTTP probe needs a port: add `port` or `ports`"),
                    Some(port) if port.kind == PortKind::Tcp => {
                        self.warnings.push(format!(
                            "the probe port `{}` is a tcp port, so the startup probe is a TCP check and `startup_probe_path` is not used (as in Opta)",
                            port.name
                        ));
                    }
                    Some(_) => probe.path = Some(p.clone()),
                }
            }
            (None, false) => {
                if command[0].trim().is_empty() {
                    self.fail(
                        &self.path("startup_probe_command"),
                        "the probe command must start with a program",
                    );
                }
                probe.command = command;
            }
            (None, true) => {
                probe.path = liveness.path.clone();
                probe.command = liveness.command.clone();
            }
        }
        Some(probe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn healthcheck_fields_feed_both_probes_and_specific_fields_win() {
        let (s, _) = model(
            "port: {http: 8080}\nhealthcheck_path: /h\nliveness_probe_path: /live\nreadiness_probe_path: /ready\ninitial_liveness_delay: 5\n",
        );
        assert_eq!(s.liveness.path.as_deref(), Some("/live"));
        assert_eq!(s.readiness.path.as_deref(), Some("/ready"));
        assert_eq!(
            (s.liveness.initial_delay, s.readiness.initial_delay),
            (5, 30)
        );
        let (s, _) = model("healthcheck_command: [/bin/ok]\nliveness_probe_command: [/bin/live]\n");
        assert_eq!(s.liveness.command, ["/bin/live"]);
        assert_eq!(s.readiness.command, ["/bin/ok"]);
    }

    #[test]
    fn healthcheck_path_alone_is_readiness_and_liveness_is_a_tcp_check() {
        let (s, warnings) = model("port: {http: 8080}\nhealthcheck_path: /h\n");
        assert_eq!(s.readiness.path.as_deref(), Some("/h"));
        // No path, command or gRPC check: the chart renders a TCP check of the probe port.
        assert_eq!(
            (
                s.liveness.path.clone(),
                s.liveness.command.clone(),
                s.liveness.grpc.clone()
            ),
            (None, vec![], None)
        );
        assert!(
            !warnings.iter().any(|w| w.contains("probe")),
            "{warnings:?}"
        );
        // A bad path is still refused (once, though both probes read it).
        assert_eq!(
            problems("port: {http: 8080}\nhealthcheck_path: \"h x\"\n"),
            [(
                "healthcheck_path".to_string(),
                "probe path must be at most 2048 characters without spaces or control characters"
                    .to_string()
            )]
        );
        // A path without its '/' is what the kubelet requests anyway: written so, with a warning.
        let (s, warnings) =
            model("port: {http: 8080}\nhealthcheck_path: ht/\nstartup_probe_path: up\n");
        assert_eq!(s.readiness.path.as_deref(), Some("/ht/"));
        let said: Vec<&String> = warnings
            .iter()
            .filter(|w| w.contains("start with '/'"))
            .collect();
        assert_eq!(said.len(), 2, "{warnings:?}");
        assert!(
            said[0].contains("write `healthcheck_path: /ht/`"),
            "{said:?}"
        );
        assert!(
            said[1].contains("write `startup_probe_path: /up`"),
            "{said:?}"
        );
        // A command is what the user wrote a check for: both probes keep running it.
        let (s, _) = model("healthcheck_command: [/bin/ok]\n");
        assert_eq!(
            (s.liveness.command.clone(), s.readiness.command.clone()),
            (vec!["/bin/ok".to_string()], vec!["/bin/ok".to_string()])
        );
        // On a tcp probe port only readiness has a path to give up.
        let (_, warnings) =
            model("ports:\n  - {name: db, type: tcp, port: 5432}\nhealthcheck_path: /h\n");
        let probes: Vec<&String> = warnings
            .iter()
            .filter(|w| w.contains("probe port"))
            .collect();
        assert_eq!(
            probes,
            [
                "the probe port `db` is a tcp port, so the readiness probe is a TCP check and `healthcheck_path` is not used (as in Opta)"
            ]
        );
    }

    #[test]
    fn a_startup_probe_removes_the_initial_delays_unless_given() {
        let (s, _) = model("port: {http: 8080}\nhealthcheck_path: /h\n");
        assert_eq!(
            (s.liveness.initial_delay, s.readiness.initial_delay),
            (30, 30)
        );
        let (s, _) =
            model("port: {http: 8080}\nhealthcheck_path: /h\nstartup_probe_path: /started\n");
        assert_eq!(
            (s.liveness.initial_delay, s.readiness.initial_delay),
            (0, 0)
        );
        let (s, _) = model(
            "port: {http: 8080}\nhealthcheck_path: /h\ninitial_startup_delay: 5\ninitial_readiness_delay: 7\n",
        );
        assert_eq!(
            (s.liveness.initial_delay, s.readiness.initial_delay),
            (0, 7)
        );
    }

    #[test]
    fn a_shared_path_and_command_are_refused_once() {
        assert_eq!(
            problems("port: {http: 8080}\nhealthcheck_path: /h\nhealthcheck_command: [/bin/ok]\n"),
            [(
                "healthcheck_command".to_string(),
                "invalid probes: `healthcheck_path` and `healthcheck_command` are both set"
                    .to_string()
            )]
        );
        assert_eq!(
            problems(
                "port: {http: 8080}\nliveness_probe_path: /h\nliveness_probe_command: [/bin/ok]\n"
            ),
            [(
                "liveness_probe_command".to_string(),
                "invalid liveness probe: `liveness_probe_path` and `liveness_probe_command` are both set"
                    .to_string()
            )]
        );
    }

    #[test]
    fn a_path_on_a_tcp_probe_port_becomes_a_tcp_check() {
        let (s, warnings) =
            model("ports:\n  - {name: db, type: tcp, port: 5432}\nhealthcheck_path: /h\n");
        assert_eq!(
            (s.liveness.path.clone(), s.readiness.path.clone()),
            (None, None)
        );
        assert!(
            warnings.iter().any(|w| w.starts_with(
                "the probe port `db` is a tcp port, so the readiness probe is a TCP check"
            )),
            "{warnings:?}"
        );
    }

    #[test]
    fn probe_timing_is_bounded() {
        assert_eq!(
            problems("probe_timing: {readiness: {period_seconds: 0}}\n"),
            [(
                "probe_timing.readiness.period_seconds".to_string(),
                "must be between 1 and 3600 (found 0)".to_string()
            )]
        );
        let (s, _) = model("probe_timing: {liveness: {timeout_seconds: 9}}\n");
        assert_eq!(
            s.liveness.timing,
            ProbeTiming {
                timeout: 9,
                ..LIVENESS_TIMING
            }
        );
    }

    #[test]
    fn a_startup_setting_alone_repeats_the_liveness_check() {
        let (s, _) = model(
            "port: {http: 8080}\nliveness_probe_path: /live\nreadiness_probe_path: /ready\nprobe_timing: {startup: {failure_threshold: 60}}\n",
        );
        let startup = s.workload.startup.unwrap();
        assert_eq!(startup.path.as_deref(), Some("/live"));
        assert_eq!(startup.initial_delay, 0);
        assert_eq!(
            startup.timing,
            ProbeTiming {
                failure_threshold: 60,
                ..STARTUP_TIMING
            }
        );
        let (s, _) = model("port: {http: 8080}\nstartup_probe_command: [/bin/up]\n");
        let startup = s.workload.startup.unwrap();
        assert_eq!(
            (startup.path, startup.command),
            (None, vec!["/bin/up".into()])
        );
    }
}
