//! Rendering inside Argo CD, as a Config Management Plugin: Argo CD runs the plugin's `generate`
//! command in the application's source directory with the Application described in environment
//! variables (`ARGOCD_APP_NAME`, `ARGOCD_APP_NAMESPACE`, `KUBE_VERSION`, `KUBE_API_VERSIONS`,
//! `ARGOCD_ENV_*` from `plugin.env`, `ARGOCD_APP_PARAMETERS`) and applies what it prints. This
//! module turns that environment into what to build and how to run `helm template`; the command
//! (`crate::commands::argocd`) runs it. Nothing here reads the network or the clock, so a render
//! is a function of the repository and the Application.

pub mod params;

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::diag::{Error, printable};
use crate::pipeline::SpecInput;

pub use params::Params;

/// The spec file Argo CD discovers (`discover.fileName` in the plugin file) and renders.
pub const SPEC_FILE: &str = "k8s-service.yaml";

/// One render, read from Argo CD's environment.
#[derive(Debug)]
pub struct CmpRequest {
    /// The release name: the Application's name.
    pub release: String,
    /// The Application's destination namespace (none: helm's default).
    pub namespace: Option<String>,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
    pub spec: SpecInput,
    pub params: Params,
}

impl CmpRequest {
    /// Read the request from `var` (the process environment, or a map in tests), with paths
    /// relative to `dir`, the application's source directory.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>, dir: &Path) -> Result<Self, Error> {
        let get = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let release = get("ARGOCD_APP_NAME").ok_or_else(|| {
            Error::msg(
                "ARGOCD_APP_NAME is not set: `argocd generate` is the command of the Argo CD plugin (gitops/argocd/plugin.yaml), which Argo CD runs with the Application in its environment; to render by hand, use `helm k8s-service template RELEASE SPEC`",
            )
        })?;
        crate::helm::check_release(&release).map_err(|_| {
            Error::msg(format!(
                "Argo CD application name `{}` cannot be a Helm release name (at most 53 characters of lowercase letters, digits, '-' and '.'): rename the Application",
                printable(&release)
            ))
        })?;
        let params = params::parse(&get("ARGOCD_APP_PARAMETERS").unwrap_or_default())?;
        let spec_name = params.spec.clone().unwrap_or_else(|| SPEC_FILE.into());
        let spec_path = inside(dir, &spec_name, "spec")?;
        for f in &params.value_files {
            inside(dir, f, "valueFiles")?;
        }
        // The parameter wins over the Application's plugin.env, as Argo CD's own precedence has
        // parameters above everything else.
        let environment = params
            .environment
            .clone()
            .or_else(|| get("ARGOCD_ENV_ENVIRONMENT"));
        let module = params.module.clone().or_else(|| get("ARGOCD_ENV_MODULE"));
        let mut vars: Vec<(String, String)> = params
            .vars
            .iter()
            .filter(|(k, _)| k.as_str() != "env")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(env) = environment.or_else(|| params.vars.get("env").cloned()) {
            vars.push(("env".to_string(), env));
        }
        Ok(CmpRequest {
            release,
            namespace: get("ARGOCD_APP_NAMESPACE"),
            kube_version: get("KUBE_VERSION"),
            api_versions: get("KUBE_API_VERSIONS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
                .collect(),
            spec: SpecInput {
                path: spec_path,
                module,
                vars,
                tag: params.tag.clone(),
                digest: params.digest.clone(),
                name: None,
            },
            params,
        })
    }

    /// `helm template RELEASE CHART` and the flags of this render: the namespace, the cluster's
    /// version and APIs (so capability checks choose as they would on the cluster), the values
    /// files, then the values, in key order.
    pub fn template_args(&self, chart: &Path, dir: &Path) -> Vec<OsString> {
        let mut a: Vec<OsString> = vec!["template".into(), self.release.clone().into()];
        a.push(chart.as_os_str().to_owned());
        if let Some(ns) = &self.namespace {
            a.extend(["--namespace".into(), ns.into()]);
        }
        if let Some(v) = &self.kube_version {
            a.extend(["--kube-version".into(), v.into()]);
        }
        for v in &self.api_versions {
            a.extend(["--api-versions".into(), v.into()]);
        }
        for f in &self.params.value_files {
            a.extend(["--values".into(), dir.join(f).into_os_string()]);
        }
        // Before the `values` map, which may still say otherwise.
        if let Some(image) = &self.params.image {
            a.extend([
                "--set-string".into(),
                format!("image.repository={}", escape_set(image)).into(),
            ]);
        }
        for (k, v) in &self.params.values {
            a.extend(["--set".into(), format!("{k}={}", escape_set(v)).into()]);
        }
        a
    }
}

/// A path the Application names, kept inside the source directory: relative, no `..`, present.
fn inside(dir: &Path, name: &str, param: &str) -> Result<PathBuf, Error> {
    let p = Path::new(name);
    let escapes = p
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if escapes || name.is_empty() {
        return Err(Error::msg(format!(
            "Argo CD parameter `{param}`: `{}` must be a path inside the application's source directory (relative, without `..`)",
            printable(name)
        )));
    }
    let full = dir.join(p);
    // A symlink in the repository must not lead out of it either (to the sidecar's own files).
    let outside = match (full.canonicalize(), dir.canonicalize()) {
        (Ok(f), Ok(d)) => !f.starts_with(d),
        _ => false,
    };
    if outside {
        return Err(Error::msg(format!(
            "Argo CD parameter `{param}`: `{}` leads out of the application's source directory (a symlink)",
            printable(name)
        )));
    }
    if !full.is_file() {
        return Err(Error::msg(format!(
            "{}: no such file in the application's source directory{}",
            printable(name),
            if param == "spec" {
                " (set the `spec` parameter, or name the file k8s-service.yaml)"
            } else {
                ""
            }
        )));
    }
    Ok(full)
}

/// A value for helm's `--set`, where `,` separates assignments and `\` escapes: both escaped, so
/// a value arrives whole (helm still types it: `3` is a number, `true` a boolean, as with --set).
fn escape_set(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if c == '\\' || c == ',' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn request(env: &[(&str, &str)], dir: &Path) -> Result<CmpRequest, Error> {
        let map: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CmpRequest::from_env(&|k| map.get(k).cloned(), dir)
    }

    fn strs(v: Vec<OsString>) -> Vec<String> {
        v.into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_application_becomes_helms_flags() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(SPEC_FILE), "x").unwrap();
        std::fs::write(d.path().join("prod.yaml"), "x").unwrap();
        let r = request(
            &[
                ("ARGOCD_APP_NAME", "shop"),
                ("ARGOCD_APP_NAMESPACE", "payments"),
                ("KUBE_VERSION", "1.35.1"),
                (
                    "KUBE_API_VERSIONS",
                    "v1,apps/v1, gateway.networking.k8s.io/v1/HTTPRoute",
                ),
                ("ARGOCD_ENV_ENVIRONMENT", "staging"),
                (
                    "ARGOCD_APP_PARAMETERS",
                    r#"[{"name":"environment","string":"prod"},{"name":"valueFiles","array":["prod.yaml"]},{"name":"values","map":{"b":"x,y\\z","a":"3"}},{"name":"image","string":"r.example.com/shop"}]"#,
                ),
            ],
            d.path(),
        )
        .unwrap();
        assert_eq!(r.spec.vars, [("env".to_string(), "prod".to_string())]);
        assert_eq!(
            strs(r.template_args(Path::new("c.tgz"), Path::new("/src"))),
            [
                "template",
                "shop",
                "c.tgz",
                "--namespace",
                "payments",
                "--kube-version",
                "1.35.1",
                "--api-versions",
                "v1",
                "--api-versions",
                "apps/v1",
                "--api-versions",
                "gateway.networking.k8s.io/v1/HTTPRoute",
                "--values",
                "/src/prod.yaml",
                "--set-string",
                "image.repository=r.example.com/shop",
                "--set",
                "a=3",
                "--set",
                "b=x\\,y\\\\z",
            ]
        );
    }

    #[test]
    fn plugin_env_alone_and_defaults() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(SPEC_FILE), "x").unwrap();
        let r = request(
            &[
                ("ARGOCD_APP_NAME", "shop"),
                ("ARGOCD_ENV_ENVIRONMENT", "staging"),
            ],
            d.path(),
        )
        .unwrap();
        assert_eq!(r.spec.vars, [("env".to_string(), "staging".to_string())]);
        assert_eq!(r.spec.path, d.path().join(SPEC_FILE));
        assert_eq!(
            strs(r.template_args(Path::new("c.tgz"), d.path())),
            ["template", "shop", "c.tgz"]
        );
    }

    #[test]
    fn what_argo_cd_cannot_mean_is_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(SPEC_FILE), "x").unwrap();
        let e = |env: &[(&str, &str)]| request(env, d.path()).unwrap_err().render();
        assert!(e(&[]).contains("ARGOCD_APP_NAME is not set"));
        assert!(e(&[("ARGOCD_APP_NAME", "Shop_1")]).contains("rename the Application"));
        let escape = e(&[
            ("ARGOCD_APP_NAME", "shop"),
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"valueFiles","array":["../../etc/passwd"]}]"#,
            ),
        ]);
        assert!(
            escape.contains("inside the application's source directory"),
            "{escape}"
        );
        let missing = e(&[
            ("ARGOCD_APP_NAME", "shop"),
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"spec","string":"svc.yaml"}]"#,
            ),
        ]);
        assert!(missing.contains("svc.yaml: no such file"), "{missing}");
        #[cfg(unix)]
        {
            let elsewhere = tempfile::tempdir().unwrap();
            std::fs::write(elsewhere.path().join("secret.yaml"), "x").unwrap();
            std::os::unix::fs::symlink(
                elsewhere.path().join("secret.yaml"),
                d.path().join("link.yaml"),
            )
            .unwrap();
            let link = e(&[
                ("ARGOCD_APP_NAME", "shop"),
                (
                    "ARGOCD_APP_PARAMETERS",
                    r#"[{"name":"valueFiles","array":["link.yaml"]}]"#,
                ),
            ]);
            assert!(link.contains("leads out of"), "{link}");
        }
    }
}
