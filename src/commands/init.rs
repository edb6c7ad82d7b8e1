//! `helm k8s-service init`: write a commented starter spec.
//!
//! The starter is valid as written (it is run through the same checks as `validate` before it is
//! written, so a bad `--name`, `--image` or `--port` is refused with the flag's name), teaches the
//! main fields in its comments, and starts with a yaml-language-server modeline pointing at this
//! version's JSON Schema, so editors complete and check it.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::diag::{Error, printable};
use crate::fsutil;
use crate::pipeline::{ChartMeta, Messages, SpecInput, build_charts_from};
use crate::spec::source::SpecSource;

/// File name used when PATH is omitted or is a directory.
pub const DEFAULT_FILE: &str = "k8s-service.yaml";
/// Where the spec's JSON Schema lives in the repository (also what `schema` prints).
pub const SCHEMA_PATH: &str = "schema/k8s-service-spec.schema.json";

pub const LONG_HELP: &str = "Write a commented starter spec to PATH (default k8s-service.yaml; a directory\n\
gets k8s-service.yaml inside it; `-` prints it). It is valid as written: `package` turns it into\n\
a chart right away. Its comments explain the main fields: image, ports, health checks,\n\
autoscaling, resources, public_uri.\n\n\
Its first line is a yaml-language-server modeline (`# yaml-language-server: $schema=URL`), so\n\
editors with the YAML language server (VS Code's YAML extension, Neovim, Helix...) complete\n\
and check the fields. It names this version's schema in the repository; --schema-url names\n\
another URL, or a path relative to the spec (write one with `helm k8s-service schema > FILE`).\n\n\
An existing file is never replaced unless --force; the file is written atomically.";

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Where to write the spec: a file, a directory (gets k8s-service.yaml), or - for stdout
    #[arg(value_name = "PATH", default_value = DEFAULT_FILE)]
    pub path: PathBuf,
    /// Service (chart) name [default: the directory's name, made a valid chart name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Container image, optionally with :TAG and/or @sha256:DIGEST [default: ghcr.io/example/NAME:1.0.0]
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Container port of the HTTP service [default: 8080]
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// A worker without a port (no Service, Ingress or network probes)
    #[arg(long, conflicts_with = "port")]
    pub no_port: bool,
    /// Schema for the editor modeline: a URL, or a path relative to the spec [default: this version's schema in the repository]
    #[arg(long, value_name = "URL|PATH")]
    pub schema_url: Option<String>,
    /// Replace PATH if it exists
    #[arg(long)]
    pub force: bool,
}

/// The schema of this version, from the repository named in Cargo.toml, at the release tag
/// `v<version>`: it never changes under a spec written by this version.
pub fn default_schema_url() -> String {
    raw_url(
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION"),
        SCHEMA_PATH,
    )
}

/// The README's field reference of this version.
pub fn reference_url() -> String {
    let repo = repository(env!("CARGO_PKG_REPOSITORY"));
    format!(
        "{repo}/blob/v{}/README.md#fields",
        env!("CARGO_PKG_VERSION")
    )
}

fn repository(url: &str) -> &str {
    url.trim_end_matches('/').trim_end_matches(".git")
}

/// A file of the repository at tag `v<version>`, as raw text.
fn raw_url(repository_url: &str, version: &str, path: &str) -> String {
    let repo = repository(repository_url);
    match repo.strip_prefix("https://github.com/") {
        Some(owner_name) => {
            format!("https://raw.githubusercontent.com/{owner_name}/v{version}/{path}")
        }
        // Gitea, Forgejo and GitLab (which redirects) serve raw files here.
        None => format!("{repo}/raw/v{version}/{path}"),
    }
}

/// What the starter says, resolved from the flags.
struct Starter {
    name: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
    port: Option<u16>,
    schema: String,
    /// The file name shown in the comments' example commands.
    file: String,
}

pub fn run(a: &InitArgs) -> Result<i32, Error> {
    let to_stdout = a.path.as_os_str() == "-";
    let dest = if !to_stdout && a.path.is_dir() {
        a.path.join(DEFAULT_FILE)
    } else {
        a.path.clone()
    };
    if !to_stdout && !a.force && std::fs::symlink_metadata(&dest).is_ok() {
        return Err(Error::msg(format!(
            "{} already exists; not replacing it (--force replaces it)",
            dest.display()
        )));
    }
    let starter = starter(a, &dest, to_stdout)?;
    let text = render(&starter);
    let messages = check(&text, &starter, &dest)?;
    if to_stdout {
        super::out(&text);
    } else {
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::msg(format!("cannot create {}: {e}", dir.display())))?;
        }
        if a.force {
            fsutil::write_atomic(&dest, text.as_bytes())?;
        } else {
            fsutil::write_atomic_new(&dest, text.as_bytes())?;
        }
        super::out(&format!("{}\n", dest.display()));
    }
    messages.print();
    if let Some(missing) = missing_local_schema(&starter.schema, &dest, to_stdout) {
        crate::say!(
            "warning: the schema {} does not exist; editors will not find it (write it with `helm k8s-service schema > {}`)",
            printable(&starter.schema),
            missing.display()
        );
    }
    Ok(0)
}

fn starter(a: &InitArgs, dest: &Path, to_stdout: bool) -> Result<Starter, Error> {
    let name = match &a.name {
        Some(n) => n.clone(),
        None => default_name(dest, to_stdout),
    };
    let (repository, tag, digest) = match &a.image {
        Some(image) => split_image(image.trim()),
        // From a valid form of the name, so a bad --name is not blamed on --image too.
        None => (
            format!("ghcr.io/example/{}", {
                let n = chart_name_from(&name);
                if n.is_empty() {
                    "my-service".to_string()
                } else {
                    n
                }
            }),
            Some("1.0.0".to_string()),
            None,
        ),
    };
    let schema = a.schema_url.clone().unwrap_or_else(default_schema_url);
    if schema.is_empty() || schema.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::msg(format!(
            "--schema-url `{}` must be one word without spaces (percent-encode them in a URL)",
            printable(&schema)
        )));
    }
    Ok(Starter {
        name,
        repository,
        tag,
        digest,
        port: if a.no_port {
            None
        } else {
            Some(a.port.unwrap_or(8080))
        },
        schema,
        file: if to_stdout {
            DEFAULT_FILE.to_string()
        } else {
            dest.display().to_string()
        },
    })
}

/// The directory's name as a chart name (`My_API` → `my-api`), else `my-service`.
fn default_name(dest: &Path, to_stdout: bool) -> String {
    let dir = if to_stdout {
        std::env::current_dir().ok()
    } else {
        let parent = dest.parent().filter(|p| !p.as_os_str().is_empty());
        let parent = parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        // A directory `init` is about to create has no canonical form yet: use it as given.
        std::fs::canonicalize(&parent).ok().or(Some(parent))
    };
    dir.as_deref()
        .and_then(Path::file_name)
        .map(|n| chart_name_from(&n.to_string_lossy()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "my-service".to_string())
}

/// Lowercase letters and digits, every other run of characters one `-`, at most 53 characters.
fn chart_name_from(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(53);
    out.trim_end_matches('-').to_string()
}

/// `repo[:tag][@digest]` into its parts, as the model reads `image` (a `:` before the last `/`
/// is a registry port, not a tag).
fn split_image(image: &str) -> (String, Option<String>, Option<String>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d.to_string())),
        None => (image, None),
    };
    match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (
            rest[..i].to_string(),
            Some(rest[i + 1..].to_string()),
            digest,
        ),
        _ => (rest.to_string(), None, digest),
    }
}

/// A YAML scalar: plain when it cannot be read as anything but this string, else double-quoted
/// (JSON string syntax is YAML's double-quoted style).
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/:-".contains(&b))
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && !s.contains(": ")
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain { s.to_string() } else { quoted(s) }
}

fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn render(s: &Starter) -> String {
    let mut out = String::new();
    let mut add = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    add(&format!("# yaml-language-server: $schema={}", s.schema));
    add("#");
    add(
        "# A service spec for `helm k8s-service`, in the language of Opta's k8s-service module plus",
    );
    add("# a few fields of ours. Uncomment and edit what you need.");
    let commands = [
        (
            format!("validate {}", s.file),
            "every problem, with its line".to_string(),
        ),
        (
            format!("package {}", s.file),
            format!("a Helm chart: {}-0.1.0.tgz", s.name),
        ),
        (
            format!("install RELEASE {}", s.file),
            "or install it right away".to_string(),
        ),
    ];
    let width = commands.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (command, what) in &commands {
        add(&format!("#   helm k8s-service {command:width$}   {what}"));
    }
    add("# Every field, its default and what it becomes:");
    add(&format!("#   {}", reference_url()));
    add("# or `helm k8s-service schema` (the JSON Schema the first line shows your editor).");
    add("");
    add("# Chart name, and base name of every Kubernetes object (required): lowercase letters,");
    add("# digits and '-', at most 53 characters.");
    add(&format!("name: {}", scalar(&s.name)));
    add("# description: One line about the service (Chart.yaml)");
    add("");
    add("# The container image (required). Pin what runs: `tag` (also the chart's appVersion)");
    add("# and/or `digest` (sha256:...). `package --tag/--digest` override them, e.g. in CI.");
    add(&format!("image: {}", scalar(&s.repository)));
    match &s.tag {
        Some(t) => add(&format!("tag: {}", quoted(t))),
        None => add("# tag: \"1.0.0\""),
    }
    match &s.digest {
        Some(d) => add(&format!("digest: {}", quoted(d))),
        None => add("# digest: \"sha256:<64 hex digits>\""),
    }
    add("");
    match s.port {
        Some(port) => {
            add("# The port the application listens on, behind a ClusterIP Service on port 80.");
            add(
                "# `http` is what public_uri routes to; `grpc: N` and `websocket: N` are http ports",
            );
            add("# speaking that protocol.");
            add("port:");
            add(&format!("  http: {port}"));
            add("# Several ports instead of `port` (at most one of type http):");
        }
        None => {
            add("# A worker: no port, so no Service, no Ingress and no network probes. To serve:");
            add("# port:");
            add("#   http: 8080");
            add("# or several ports (at most one of type http):");
        }
    }
    add("# ports:");
    add("#   - name: http");
    add("#     type: http");
    add("#     port: 8080");
    add("#   - name: metrics");
    add("#     type: tcp");
    add("#     port: 9090");
    add("");
    if s.port.is_some() {
        add("# Health checks. Without them both probes are TCP checks of the port. A path makes");
        add("# readiness an HTTP GET (liveness stays a TCP check: a failing dependency does not");
        add("# restart pods); liveness_probe_path and readiness_probe_path set one each, and");
        add("# healthcheck_command (a list) runs a command instead.");
        add("# healthcheck_path: /healthz");
    } else {
        add("# Health checks: a command run in the container (liveness_probe_command and");
        add("# readiness_probe_command set one each).");
        add("# healthcheck_command: [\"/bin/healthcheck\"]");
    }
    add("# initial_liveness_delay: 30");
    add("# initial_readiness_delay: 30");
    add("");
    add("# Replicas. A HorizontalPodAutoscaler scales between these on CPU and memory use");
    add("# (min == max: exactly that many pods, no autoscaler). Two or more keep the service up");
    add("# while a node is drained (a PodDisruptionBudget lets one pod go at a time).");
    add("min_containers: 2");
    add("max_containers: 4");
    add("# autoscaling_target_cpu_percentage: 80  # of the request; 0 turns the metric off");
    add("# autoscaling_target_mem_percentage: 80");
    add("");
    add("# Resources of each pod: cpu in millicores and memory in MB (Opta's units), or");
    add("# Kubernetes quantities (\"500m\", \"1Gi\"). Limits default to twice the requests;");
    add("# ephemeral_storage (the node's disk: logs, /tmp) defaults to 64 requested, 1Gi limit.");
    add("resource_request:");
    add("  cpu: 100");
    add("  memory: 128");
    add("# resource_limits:");
    add("#   cpu: 500");
    add("#   memory: 512");
    add("");
    add("# The root filesystem is read-only and /tmp is writable (tmp_size, default 256).");
    add("# Directories the image writes elsewhere, each an emptyDir with a size limit:");
    add("# writable_paths: [/var/cache/app, {path: /var/run, size: 64}]");
    add("");
    add("# Public addresses (needs an http port): a host, host/path or /path. The path prefix is");
    add("# stripped before the request reaches the pod, unless keep_path_prefix: true.");
    add("# public_uri:");
    add("#   - api.example.com");
    add("#   - www.example.com/api");
    add("# Gateway API routes (recommended: ingress-nginx is retired): an HTTPRoute per address");
    add("# (a GRPCRoute for a grpc port) attached to an existing Gateway. Without gateway, each");
    add("# address is an Ingress for ingress-nginx (ingress_controller: portable for any other).");
    add("# gateway:");
    add("#   name: public");
    add("#   namespace: gateway-system");
    add("");
    add("# Environment variables (values are strings), and keys of an existing Secret, each set");
    add("# as a variable of the same name (secret_name names the Secret; NOTES.txt after install");
    add("# prints the command that creates it).");
    add("# env_vars:");
    add("#   LOG_LEVEL: info");
    add("# secrets:");
    add("#   - DATABASE_PASSWORD");
    add("");
    add(
        "# More: cron_jobs, persistent_storage, tolerations, pod_annotations, pod_labels, commands,",
    );
    add("# args, timeout, max_history... Secure by default: pods run as a non-root user with a");
    add("# read-only root filesystem (and a writable /tmp), behind a NetworkPolicy; `security`,");
    add("# `network_policy` and `pod_disruption_budget` adjust that.");
    out
}

/// Run the starter through `validate`'s checks. A problem can only come from a flag: name it.
fn check(text: &str, s: &Starter, dest: &Path) -> Result<Messages, Error> {
    let display = dest.display().to_string();
    let source = SpecSource::from_bytes(&display, text.as_bytes().to_vec())?;
    let spec = SpecInput {
        path: dest.to_path_buf(),
        ..SpecInput::default()
    };
    match build_charts_from(source, &spec, &ChartMeta::default()) {
        Ok((_, messages)) => Ok(messages),
        Err(Error::Spec(diags)) => {
            let lines: Vec<String> = diags
                .iter()
                .map(|d| {
                    let field = d.field.as_deref().unwrap_or_default();
                    let root = field.split(['.', '[']).next().unwrap_or_default();
                    let flag = match root {
                        "name" => format!("--name `{}`", printable(&s.name)),
                        "image" | "tag" | "digest" => "--image".to_string(),
                        "port" => "--port".to_string(),
                        _ => format!("internal error: the starter's field `{field}`"),
                    };
                    format!("{flag}: {}", d.message)
                })
                .collect();
            Err(Error::msg(lines.join("\nerror: ")))
        }
        Err(e) => Err(e),
    }
}

/// A `--schema-url` that names a local file which is not there (relative to the spec).
fn missing_local_schema(schema: &str, dest: &Path, to_stdout: bool) -> Option<PathBuf> {
    if to_stdout || schema.contains("://") {
        return None;
    }
    let path = Path::new(schema);
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        dest.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| path.to_path_buf(), |dir| dir.join(path))
    };
    (!full.exists()).then_some(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schema_url_is_this_versions_file_in_the_repository() {
        let url = default_schema_url();
        assert!(
            url.ends_with(&format!("/v{}/{SCHEMA_PATH}", env!("CARGO_PKG_VERSION"))),
            "{url}"
        );
        assert!(url.starts_with("https://"), "{url}");
        assert_eq!(
            raw_url("https://github.com/o/r.git", "1.2.3", SCHEMA_PATH),
            "https://raw.githubusercontent.com/o/r/v1.2.3/schema/k8s-service-spec.schema.json"
        );
        assert_eq!(
            raw_url("https://codeberg.org/o/r/", "1.2.3", "a.json"),
            "https://codeberg.org/o/r/raw/v1.2.3/a.json"
        );
        // The file it names is the one `schema` prints.
        let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
        assert_eq!(
            std::fs::read_to_string(schema).unwrap(),
            crate::spec::SPEC_SCHEMA
        );
    }

    #[test]
    fn directory_names_become_chart_names() {
        assert_eq!(chart_name_from("My_API"), "my-api");
        assert_eq!(chart_name_from("--web  server--"), "web-server");
        assert_eq!(chart_name_from("ünïcode"), "n-code");
        assert_eq!(chart_name_from("!!!"), "");
        assert_eq!(chart_name_from(&"a-".repeat(40)).len(), 53);
        assert!(!chart_name_from(&"ab-".repeat(30)).ends_with('-'));
    }

    #[test]
    fn images_split_like_the_model_reads_them() {
        let s = |a: &str, b: Option<&str>, c: Option<&str>| {
            (a.to_string(), b.map(String::from), c.map(String::from))
        };
        assert_eq!(split_image("nginx"), s("nginx", None, None));
        assert_eq!(
            split_image("reg:5000/a/b:1.2"),
            s("reg:5000/a/b", Some("1.2"), None)
        );
        assert_eq!(split_image("reg:5000/a/b"), s("reg:5000/a/b", None, None));
        assert_eq!(
            split_image("a/b:1@sha256:00"),
            s("a/b", Some("1"), Some("sha256:00"))
        );
    }

    #[test]
    fn scalars_that_yaml_would_read_otherwise_are_quoted() {
        assert_eq!(scalar("ghcr.io/acme/api"), "ghcr.io/acme/api");
        for odd in ["yes", "null", "1.10", "", "a b", "x: y", "#x", "{a}", "-a"] {
            assert!(scalar(odd).starts_with('"'), "{odd}");
        }
    }
}
