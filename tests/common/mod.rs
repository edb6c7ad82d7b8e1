//! Shared by the end-to-end tests: the real tools, the example specs, running commands.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_helm-k8s-service"))
}

/// A tool the tests need: `$VAR` if set, else the copy `scripts/install-test-tools.sh` puts in
/// `.tools/`. A missing tool fails the test with the command that installs it.
pub fn tool(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(default));
    assert!(
        path.is_file(),
        "{} not found ({var}); run scripts/install-test-tools.sh (the README's test command does)",
        path.display()
    );
    path
}

pub fn helms() -> Vec<(&'static str, PathBuf)> {
    vec![
        ("helm3", tool("HELM3_BIN", ".tools/bin/helm3")),
        ("helm4", tool("HELM4_BIN", ".tools/bin/helm4")),
    ]
}

pub fn kubernetes_validate() -> PathBuf {
    tool(
        "KUBERNETES_VALIDATE_BIN",
        ".tools/venv/bin/kubernetes-validate",
    )
}

/// The validator of kinds defined by CRDs over the @kubernetes-models npm models of `family`
/// (`gateway-api`, `gitops` or `crd`: a folder of scripts/k8s-models/), as a command to which
/// the tests add JSON files (each an array of objects): `node scripts/k8s-models/validate.mjs
/// MODELS_DIR FILE...` prints a PASS or FAIL line per object. The models are
/// `$K8S_MODELS_DIR/FAMILY` if set, else the ones scripts/install-test-tools.sh puts in
/// `.tools/models/FAMILY`.
pub fn models_validate(family: &str) -> Command {
    let dir = std::env::var_os("K8S_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/models"))
        .join(family);
    assert!(
        dir.join("node_modules/@kubernetes-models").is_dir(),
        "{} has no models (K8S_MODELS_DIR); run scripts/install-test-tools.sh (the README's test command does)",
        dir.display()
    );
    let mut c = Command::new("node");
    c.arg(root().join("scripts/k8s-models/validate.mjs"))
        .arg(dir);
    c
}

pub fn checkov() -> PathBuf {
    tool("CHECKOV_BIN", ".tools/venv/bin/checkov")
}

/// Run a command with isolated helm homes, so no user config or plugin leaks in.
pub fn run(cmd: &mut Command) -> Output {
    let home = helm_home();
    cmd.env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_CACHE_HOME", home.join("cache"));
    // The caller's environment must not leak in; a variable the test sets itself is kept.
    for var in [
        "KUBECONFIG",
        "HELM_NAMESPACE",
        "HELM_KUBECONTEXT",
        "HELM_DEBUG",
        "SOURCE_DATE_EPOCH",
    ] {
        if !cmd.get_envs().any(|(k, _)| k == var) {
            cmd.env_remove(var);
        }
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn helm_home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every example spec, with the flags it needs and the charts it makes.
pub struct Example {
    pub spec: &'static str,
    pub args: &'static [&'static str],
    pub charts: &'static [&'static str],
    /// Charts made from an `image: AUTO` module: they need `--set image.repository` to render.
    pub auto: &'static [&'static str],
}

impl Example {
    /// The helm flags `chart` needs to render.
    pub fn set(&self, chart: &str) -> Vec<String> {
        if self.auto.contains(&chart) {
            vec![
                "--set".into(),
                format!("image.repository={}", auto_repository(chart)),
            ]
        } else {
            Vec::new()
        }
    }
}

/// The repository the tests give an AUTO image at install time.
pub fn auto_repository(chart: &str) -> String {
    format!("registry.example.com/auto/{chart}")
}

pub const EXAMPLES: &[Example] = &[
    Example {
        spec: "hello.yaml",
        args: &[],
        charts: &["hello"],
        auto: &[],
    },
    Example {
        spec: "full.yaml",
        args: &[],
        charts: &["payments"],
        auto: &[],
    },
    Example {
        spec: "stateful.yaml",
        args: &[],
        charts: &["chat"],
        auto: &[],
    },
    Example {
        spec: "worker-cron.yaml",
        args: &[],
        charts: &["nightly"],
        auto: &[],
    },
    Example {
        spec: "grpc-auto.yaml",
        args: &[],
        charts: &["inventory"],
        auto: &["inventory"],
    },
    Example {
        spec: "tricky-strings.yaml",
        args: &[],
        charts: &["tricky"],
        auto: &[],
    },
    Example {
        spec: "singleton.yaml",
        args: &[],
        charts: &["ledger"],
        auto: &[],
    },
    Example {
        spec: "no-policies.yaml",
        args: &[],
        charts: &["legacy"],
        auto: &[],
    },
    Example {
        spec: "tls-identity.yaml",
        args: &[],
        charts: &["billing"],
        auto: &[],
    },
    Example {
        spec: "gateway.yaml",
        args: &[],
        charts: &["storefront"],
        auto: &[],
    },
    Example {
        spec: "gateway-grpc.yaml",
        args: &[],
        charts: &["pricing"],
        auto: &[],
    },
    Example {
        spec: "gateway-websocket.yaml",
        args: &[],
        charts: &["notify"],
        auto: &[],
    },
    Example {
        spec: "tls-secret.yaml",
        args: &[],
        charts: &["ledger-ui"],
        auto: &[],
    },
    Example {
        spec: "configured.yaml",
        args: &[],
        charts: &["catalog"],
        auto: &[],
    },
    Example {
        spec: "configured-stateful.yaml",
        args: &[],
        charts: &["ledgerdb"],
        auto: &[],
    },
    Example {
        spec: "opta-service.yaml",
        args: &["--var", "parent.domain=shop.example.com"],
        charts: &["shop-web", "shop-api"],
        auto: &["shop-web"],
    },
    // Probes, availability and scheduling beyond Opta.
    Example {
        spec: "resilient.yaml",
        args: &[],
        charts: &["orders"],
        auto: &[],
    },
    Example {
        spec: "placement.yaml",
        args: &[],
        charts: &["ledger-store"],
        auto: &[],
    },
    // Images that bind port 80 or write outside /tmp, and the baseline profile for those that
    // need more.
    Example {
        spec: "port80.yaml",
        args: &[],
        charts: &["static-site"],
        auto: &[],
    },
    Example {
        spec: "baseline.yaml",
        args: &[],
        charts: &["legacy-portal"],
        auto: &[],
    },
    // The release phase (database migrations before every install and upgrade).
    Example {
        spec: "release.yaml",
        args: &[],
        charts: &["accounts"],
        auto: &[],
    }, // Event-driven autoscaling with KEDA instead of the HPA.
    Example {
        spec: "keda.yaml",
        args: &[],
        charts: &["checkout"],
        auto: &[],
    },
    // HPA custom metrics and tolerance, a VPA in place, a PodMonitor.
    Example {
        spec: "right-sized.yaml",
        args: &[],
        charts: &["search"],
        auto: &[],
    },
];

/// A packaged chart: its example, its name and its archive.
pub type Packaged = (&'static Example, &'static str, PathBuf);

/// Every example packaged once per test binary.
pub fn packaged() -> &'static Vec<Packaged> {
    static PACKAGED: OnceLock<(tempfile::TempDir, Vec<Packaged>)> = OnceLock::new();
    &PACKAGED
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut out = Vec::new();
            for ex in EXAMPLES {
                let o = run(Command::new(bin())
                    .arg("package")
                    .arg(root().join("examples").join(ex.spec))
                    .arg("--destination")
                    .arg(dir.path())
                    .args(ex.args));
                assert!(
                    o.status.success(),
                    "package {} failed:\n{}",
                    ex.spec,
                    text(&o.stderr)
                );
                for chart in ex.charts {
                    let path = dir.path().join(format!("{chart}-0.1.0.tgz"));
                    assert!(
                        path.is_file(),
                        "{} did not write {}",
                        ex.spec,
                        path.display()
                    );
                    out.push((ex, *chart, path));
                }
            }
            (dir, out)
        })
        .1
}

/// Package an inline standalone `spec` into a new temporary directory; returns the directory
/// (kept alive by the caller) and the archive `package` printed.
pub fn package_spec(spec: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("spec.yaml");
    std::fs::write(&file, spec).unwrap();
    let o = run(Command::new(bin())
        .arg("package")
        .arg(&file)
        .arg("--destination")
        .arg(d.path()));
    assert!(o.status.success(), "package failed:\n{}", text(&o.stderr));
    let printed = text(&o.stdout);
    let mut archives = printed.lines();
    let chart = PathBuf::from(archives.next().expect("package printed its archive"));
    assert_eq!(archives.next(), None, "one spec, one archive:\n{printed}");
    (d, chart)
}

/// `crdCheck=always` (checked by an offline helm template too): rendering `chart` fails with an
/// error containing `missing`, and succeeds once `apis` are given as `--api-versions`.
pub fn assert_crd_check(helm_name: &str, helm: &Path, chart: &Path, apis: &[&str], missing: &str) {
    let err = render(helm, chart, &["--set", "crdCheck=always"]).unwrap_err();
    assert!(err.contains(missing), "{helm_name}: {err}");
    let mut args = vec!["--set", "crdCheck=always"];
    for api in apis {
        args.extend(["--api-versions", api]);
    }
    let ok = render(helm, chart, &args);
    assert!(ok.is_ok(), "{helm_name}: {ok:?}");
}

/// `helm template` of a packaged chart, parsed into one JSON value per object.
pub fn render<S: AsRef<std::ffi::OsStr>>(
    helm: &Path,
    chart: &Path,
    extra: &[S],
) -> Result<Vec<serde_json::Value>, String> {
    let o = run(Command::new(helm)
        .args(["template", "r"])
        .arg(chart)
        .args(["--namespace", "ci"])
        .args(extra));
    if !o.status.success() {
        return Err(text(&o.stderr));
    }
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text(&o.stdout))
        .map_err(|e| format!("helm output does not parse: {e}"))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

pub fn find<'a>(docs: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

/// The capabilities Pod Security "baseline" lets a container add
/// (check_capabilities_baseline.go): the runtime's default set, NET_RAW aside. Shared by the
/// static checks (security.rs) and the runtime tier (runtime.rs), which must agree on it.
pub const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
