//! A fake Kubernetes API server (`fake_apiserver.py`, run with the machine's python3) and the
//! helm command lines that render against it, so the chart's `lookup`s can be tested where no
//! cluster exists: `helm template --dry-run=server` reads the server's version and discovery and
//! then GETs each looked-up object, as helm does against a real API server.
//!
//! Helm 3.17 renders with lookups and nothing else. Helm 4.1 also GETs every object of the chart
//! (the install path's ownership check: an object that exists must carry helm's ownership
//! metadata for the release, which `owned` adds) and validates against the server's OpenAPI
//! documents, which the fake server does not have (`--disable-openapi-validation`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::common::{root, run, text};

pub struct FakeApi {
    child: Child,
    dir: tempfile::TempDir,
}

impl FakeApi {
    /// Serve `objects` (API path → object) and refuse `forbidden` paths with 403.
    pub fn start(objects: Value, forbidden: &[&str]) -> FakeApi {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("requests.log");
        let fixtures = dir.path().join("fixtures.json");
        let doc = json!({"objects": objects, "forbidden": forbidden, "log": log});
        std::fs::write(&fixtures, serde_json::to_vec(&doc).unwrap()).unwrap();
        let mut child = Command::new("python3")
            .arg(root().join("tests/support/fake_apiserver.py"))
            .arg(&fixtures)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the fake API server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the fake API server prints its port");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the fake API server printed {line:?}, not a port"));
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\n\
             contexts:\n- name: fake\n  context: {{cluster: fake, user: deployer, namespace: ci}}\n\
             current-context: fake\nusers:\n- name: deployer\n  user: {{token: fake}}\n"
        );
        std::fs::write(dir.path().join("kubeconfig"), kubeconfig).unwrap();
        FakeApi { child, dir }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Every request so far, "GET /path" per line.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// `helm template r CHART --namespace ci --dry-run=server` against this server: the objects,
    /// or helm's error.
    pub fn render(
        &self,
        helm_name: &str,
        helm: &Path,
        chart: &Path,
        extra: &[&str],
    ) -> Result<Vec<Value>, String> {
        let mut cmd = Command::new(helm);
        cmd.args(["template", "r"])
            .arg(chart)
            .args(["--namespace", "ci", "--dry-run=server"])
            .env("KUBECONFIG", self.kubeconfig());
        if helm_name == "helm4" {
            cmd.arg("--disable-openapi-validation");
        }
        let o = run(cmd.args(extra));
        if !o.status.success() {
            return Err(text(&o.stderr));
        }
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text(&o.stdout))
            .map_err(|e| format!("helm output does not parse: {e}"))?;
        Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An object of release `r` in namespace `ci` as helm leaves it (its ownership metadata), at its
/// API path: ("/apis/apps/v1/namespaces/ci/deployments/NAME", object).
pub fn owned(path: &str, mut object: Value) -> (String, Value) {
    let name = path.rsplit('/').next().unwrap();
    object["metadata"]["name"] = json!(name);
    object["metadata"]["namespace"] = json!("ci");
    object["metadata"]["labels"]["app.kubernetes.io/managed-by"] = json!("Helm");
    object["metadata"]["annotations"]["meta.helm.sh/release-name"] = json!("r");
    object["metadata"]["annotations"]["meta.helm.sh/release-namespace"] = json!("ci");
    (path.to_string(), object)
}
