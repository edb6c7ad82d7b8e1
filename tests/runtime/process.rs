//! Children with a time limit: `run_limited` runs a command to its end or kills it at its limit,
//! with its output in files rather than pipes (a daemon that inherits them, conmon, cannot keep
//! a pipe open), and `Out` is what it gives back. The tier's time limits are here with it, so
//! every child and every wait has one. The lowest layer of the harness: it uses no other part.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common;

/// Time limits. Every child and every wait has one.
pub const PODMAN_LIMIT: Duration = Duration::from_secs(60);
pub const PLAY_LIMIT: Duration = Duration::from_secs(90);
pub const SERVE_LIMIT: Duration = Duration::from_secs(30);
pub const JOB_LIMIT: Duration = Duration::from_secs(30);
pub(super) const HELM_LIMIT: Duration = Duration::from_secs(120);

pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub what: String,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
    /// The command, its exit and its output, without podman's harmless noise on this machine
    /// (no syslog, no systemd to run healthcheck timers).
    pub fn both(&self) -> String {
        format!(
            "$ {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
            self.what,
            self.code.map_or_else(
                || "none (killed at its time limit)".into(),
                |c| c.to_string()
            ),
            self.stdout,
            quiet(&self.stderr)
        )
    }
    pub fn expect_ok(self) -> Out {
        assert!(self.ok(), "command failed:\n{}", self.both());
        self
    }
}

/// stderr without the lines podman prints on every command here.
pub fn quiet(s: &str) -> String {
    s.lines()
        .filter(|l| {
            !l.contains("failed to connect to syslog")
                && !l.contains("unable to get systemd connection")
                && !l.contains("[conmon:d]: failed to write to /proc/self/oom_score_adj")
                && !l.trim().is_empty()
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Run `cmd` to the end, killing it after `limit`. Its output goes to files under `scratch`, so a
/// daemon that inherits them (conmon) cannot keep a pipe open.
pub fn run_limited(cmd: &mut Command, limit: Duration, scratch: &Path) -> Out {
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let (op, ep) = (
        scratch.join(format!("cmd-{n}.out")),
        scratch.join(format!("cmd-{n}.err")),
    );
    let what = format!("{cmd:?}");
    let o = fs::File::create(&op).unwrap_or_else(|e| panic!("{}: {e}", op.display()));
    let e = fs::File::create(&ep).unwrap_or_else(|e| panic!("{}: {e}", ep.display()));
    cmd.stdin(Stdio::null()).stdout(o).stderr(e);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let read = |p: &Path| {
        let t = fs::read(p).map(|b| common::text(&b)).unwrap_or_default();
        let _ = fs::remove_file(p);
        t
    };
    Out {
        code,
        stdout: read(&op),
        stderr: read(&ep),
        what,
    }
}
