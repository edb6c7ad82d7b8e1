//! Which helm binary runs, and whether it is new enough.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::diag::{Error, printable};

/// The oldest helm the generated charts and these command lines are tested with.
const MIN_HELM: (u64, u64) = (3, 17);

/// `$HELM_BIN` (helm sets it for plugins; it may be a bare name or a relative path), else `helm`.
pub fn locate() -> Result<PathBuf, Error> {
    let given = std::env::var_os("HELM_BIN").filter(|v| !v.is_empty());
    let name = given.clone().unwrap_or_else(|| OsString::from("helm"));
    let path = Path::new(&name);
    if path.components().count() > 1 {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(Error::msg(format!(
                "helm not found at {} (HELM_BIN)",
                path.display()
            )))
        };
    }
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(&name))
        .find(|candidate| is_executable(candidate));
    found.ok_or_else(|| {
        Error::msg(format!(
            "cannot find helm: `{}` is not on PATH{}. Install helm 3.17 or newer (https://helm.sh/docs/intro/install/), or set HELM_BIN",
            name.to_string_lossy(),
            if given.is_some() { " (from HELM_BIN)" } else { "" }
        ))
    })
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// `helm version`, asked once: the major version decides the flags.
pub fn version(helm: &Path) -> Result<semver::Version, Error> {
    let out = Command::new(helm)
        .args(["version", "--template", "{{.Version}}"])
        .output()
        .map_err(|e| Error::msg(format!("cannot run {}: {e}", helm.display())))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let version = text
        .strip_prefix('v')
        .and_then(|v| semver::Version::parse(v).ok())
        .filter(|_| out.status.success())
        .ok_or_else(|| {
            Error::msg(format!(
                "{} does not look like helm: `helm version` printed `{}`",
                helm.display(),
                printable(&text)
            ))
        })?;
    if (version.major, version.minor) < MIN_HELM {
        return Err(Error::msg(format!(
            "helm {text} is too old: helm k8s-service needs helm {}.{} or newer",
            MIN_HELM.0, MIN_HELM.1
        )));
    }
    Ok(version)
}
