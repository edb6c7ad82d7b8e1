//! Provenance files (`<chart>.tgz.prov`) in the format `helm verify` checks on Helm 3 and 4:
//! a PGP clear-signed message whose body is the chart's Chart.yaml, a `...` line, and
//! `files: {<chart>.tgz: sha256:<hex>}`. The signature is made by the user's own gpg; nothing
//! here implements OpenPGP.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::diag::Error;

#[derive(Clone, Debug, Default)]
pub struct SignOptions {
    /// User id (or part of it) or fingerprint of the signing key.
    pub key: String,
    /// A keyring holding the secret key (helm's `--keyring`, e.g. a legacy secring.gpg); when
    /// absent, the user's gpg home (GNUPGHOME or ~/.gnupg) is used.
    pub keyring: Option<PathBuf>,
    pub passphrase_file: Option<PathBuf>,
}

/// The text that is signed: Helm splits it on "\n...\n" and checks the `files` digest.
pub fn provenance_body(chart_yaml: &str, archive_name: &str, archive: &[u8]) -> String {
    let digest = crate::repo::chart_archive::sha256_hex(archive);
    format!(
        "{}\n...\nfiles:\n  {archive_name}: sha256:{digest}\n",
        chart_yaml.trim_end_matches('\n')
    )
}

/// Clear-sign `body` with gpg.
pub fn clearsign(body: &str, opts: &SignOptions) -> Result<Vec<u8>, Error> {
    let gpg = std::env::var_os("GPG").unwrap_or_else(|| "gpg".into());
    // A keyring file is imported into a private, temporary gpg home: modern gpg no longer reads
    // secret keys from a keyring file directly, and the user's own keys stay untouched.
    let home = match &opts.keyring {
        Some(keyring) => {
            if !keyring.is_file() {
                return Err(Error::msg(format!(
                    "--keyring {}: no such file",
                    keyring.display()
                )));
            }
            let dir = tempfile::Builder::new()
                .prefix("helm-k8s-service-gpg-")
                .tempdir()
                .map_err(|e| Error::msg(format!("cannot create a temporary gpg home: {e}")))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ =
                    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700));
            }
            let out = Command::new(&gpg)
                .arg("--homedir")
                .arg(dir.path())
                .args(["--batch", "--quiet", "--import"])
                .arg(keyring)
                .output()
                .map_err(|e| gpg_missing(&gpg, e))?;
            if !out.status.success() {
                return Err(Error::msg(format!(
                    "gpg could not import {}: {}",
                    keyring.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            Some(dir)
        }
        None => None,
    };
    let mut cmd = Command::new(&gpg);
    if let Some(h) = &home {
        cmd.arg("--homedir").arg(h.path());
    }
    cmd.args([
        "--batch",
        "--yes",
        "--clearsign",
        "--digest-algo",
        "SHA512",
        "--local-user",
    ])
    .arg(&opts.key);
    if let Some(p) = &opts.passphrase_file {
        cmd.args(["--pinentry-mode", "loopback", "--passphrase-file"])
            .arg(p);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| gpg_missing(&gpg, e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(body.as_bytes())
            .map_err(|e| Error::msg(format!("cannot talk to gpg: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::msg(format!("gpg failed: {e}")))?;
    if !out.status.success()
        || !out
            .stdout
            .starts_with(b"-----BEGIN PGP SIGNED MESSAGE-----")
    {
        return Err(Error::msg(format!(
            "gpg could not sign with key `{}`: {}",
            opts.key,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

fn gpg_missing(gpg: &std::ffi::OsStr, e: std::io::Error) -> Error {
    Error::msg(format!(
        "cannot run {}: {e}; signing needs GnuPG (e.g. `apt-get install gnupg`)",
        Path::new(gpg).display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_what_helm_verify_reads() {
        let body = provenance_body(
            "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
            "demo-1.0.0.tgz",
            b"x",
        );
        assert_eq!(
            body,
            "apiVersion: v2\nname: demo\nversion: 1.0.0\n...\nfiles:\n  demo-1.0.0.tgz: sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n"
        );
    }
}
