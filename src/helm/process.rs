//! Running helm as a child process: our stdio (or its output captured), its exit code, signals
//! left to it.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use crate::diag::Error;

/// Run helm with our stdio and return its exit code. While it runs, Ctrl-C and SIGTERM go to
/// helm (same process group) and do not kill us, so the temporary chart is always removed.
pub fn run(helm: &Path, args: &[OsString]) -> Result<i32, Error> {
    debug_line(helm, args);
    let _guard = SignalGuard::install();
    let status = command(helm, args)
        .status()
        .map_err(|e| Error::msg(format!("cannot run {}: {e}", helm.display())))?;
    Ok(exit_code(status))
}

/// What a helm command printed, for the commands whose output we read.
#[derive(Debug)]
pub struct Captured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run helm with its output captured (stdin closed), e.g. `helm get manifest` or `helm template`.
pub fn capture(helm: &Path, args: &[OsString]) -> Result<Captured, Error> {
    debug_line(helm, args);
    let _guard = SignalGuard::install();
    let out = command(helm, args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::msg(format!("cannot run {}: {e}", helm.display())))?;
    Ok(Captured {
        code: exit_code(out.status),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

fn command(helm: &Path, args: &[OsString]) -> Command {
    let mut c = Command::new(helm);
    c.args(args);
    c
}

/// With `--debug` (HELM_DEBUG), every helm command line is shown on stderr.
fn debug_line(helm: &Path, args: &[OsString]) {
    if std::env::var_os("HELM_DEBUG").is_some_and(|v| v == "true" || v == "1") {
        let line: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        crate::say!(
            "helm k8s-service: running {} {}",
            helm.display(),
            line.join(" ")
        );
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    1
}

/// Keeps SIGINT, SIGTERM and SIGHUP from terminating us while helm runs. The handlers only set
/// a flag; an exec'd child gets the default dispositions back, so helm itself still stops.
struct SignalGuard {
    #[cfg(unix)]
    ids: Vec<signal_hook::SigId>,
}

impl SignalGuard {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use std::sync::Arc;
            use std::sync::atomic::AtomicBool;
            let flag = Arc::new(AtomicBool::new(false));
            let ids = [
                signal_hook::consts::SIGINT,
                signal_hook::consts::SIGTERM,
                signal_hook::consts::SIGHUP,
            ]
            .iter()
            .filter_map(|s| signal_hook::flag::register(*s, Arc::clone(&flag)).ok())
            .collect();
            SignalGuard { ids }
        }
        #[cfg(not(unix))]
        SignalGuard {}
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
