//! The chart's files, in memory and in the order Helm writes them: Chart.yaml, values.yaml,
//! values.schema.json, templates/, then the rest.

pub mod artifacthub;
mod block_lines;
pub mod embedded;
mod events;
pub mod loadable;
#[cfg(test)]
mod measure;
mod plain_yaml;
pub mod render;
mod verify;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{Error, printable};
use crate::model::Service;
use crate::values::Values;

/// Chart-level settings that do not come from the spec.
#[derive(Clone, Debug, Default)]
pub struct ChartOptions {
    /// `--version`, strict SemVer 2; default 0.1.0.
    pub version: Option<String>,
    /// `--app-version`; default: the image tag, else its digest, else "latest".
    pub app_version: Option<String>,
    /// Shown in generated comments: the spec's file name.
    pub spec_file: String,
    /// Artifact Hub's license, links and changes (`artifacthub.io/*` annotations).
    pub hub: artifacthub::HubMeta,
}

pub struct Chart {
    pub name: String,
    pub version: String,
    /// The spec's deployment settings, for `install` and `upgrade`.
    pub timeout_seconds: u32,
    pub max_history: u32,
    /// (path inside the chart directory, content), in archive order. The fixed files are
    /// borrowed from the binary, not copied (and the archive recognises them by address).
    pub files: Vec<(String, Cow<'static, [u8]>)>,
}

impl Chart {
    /// The chart's values, as its values.yaml says (empty when it has none).
    pub fn values(&self) -> Result<serde_json::Value, Error> {
        let text = self
            .files
            .iter()
            .find(|(p, _)| p == "values.yaml")
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        serde_saphyr::from_str(&text)
            .map_err(|e| Error::msg(format!("internal error reading values.yaml back: {e}")))
    }
}

/// The values a service's chart carries, as JSON, without building the chart (what its
/// values.yaml says: `build` proves the two equal).
pub fn values_of(service: &Service) -> Result<serde_json::Value, Error> {
    serde_json::to_value(Values::from_service(service))
        .map_err(|e| Error::msg(format!("internal error serializing values: {e}")))
}

pub const DEFAULT_VERSION: &str = "0.1.0";

/// Chart.yaml annotations that keep the spec's deployment settings with the release, for the
/// commands that act on a release without its spec (`rollback`).
pub const TIMEOUT_ANNOTATION: &str = "helm-k8s-service/timeout";
pub const MAX_HISTORY_ANNOTATION: &str = "helm-k8s-service/max-history";
/// The file name of the spec a chart was made from, so that `package` does not silently replace
/// an archive another spec made. Only the name, not its directory: the same spec gives the same
/// bytes wherever it is.
pub const SPEC_ANNOTATION: &str = "helm-k8s-service/spec";

/// The oldest Kubernetes the templates are valid for (autoscaling/v2, batch/v1 CronJob timeZone).
const KUBE_VERSION: &str = ">=1.27.0-0";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChartYaml<'a> {
    api_version: &'a str,
    name: &'a str,
    description: &'a str,
    #[serde(rename = "type")]
    chart_type: &'a str,
    version: &'a str,
    app_version: &'a str,
    kube_version: &'a str,
    keywords: [&'a str; 2],
    annotations: BTreeMap<&'a str, String>,
}

/// Check `--version`: Helm 4 lints anything but strict SemVer 2 as a warning, which fails `--strict`.
pub fn check_version(v: &str) -> Result<(), Error> {
    semver::Version::parse(v).map(|_| ()).map_err(|e| {
        Error::msg(format!(
            "--version {}: not a strict SemVer 2 version such as 1.2.3 or 1.2.3-rc.1 ({e})",
            printable(v)
        ))
    })
}

/// The values.yaml round-trip proof of a chart built by [`build_unproven`], apart from the chart
/// so that it can run while the caller does something else with the chart (`package` builds and
/// stages the archive meanwhile, which is undone when the proof fails). Nothing made from the
/// chart may leave the process before [`Proof::check`] has passed.
#[must_use = "a chart must not be written before its values.yaml is proven"]
pub struct Proof {
    values_yaml: String,
    expected: serde_json::Value,
}

impl Proof {
    /// The proof that `values_yaml` reads back as `expected` (also for tests).
    pub(crate) fn new(values_yaml: String, expected: serde_json::Value) -> Self {
        Proof {
            values_yaml,
            expected,
        }
    }

    pub fn check(&self) -> Result<(), Error> {
        verify_values_yaml(&self.values_yaml, &self.expected)
    }
}

/// The chart of `service`, and the proof it still owes that its values.yaml means exactly its
/// values (`pipeline::build_charts_from` checks it at once; a single `package` alongside).
pub fn build_unproven(service: &Service, opts: &ChartOptions) -> Result<(Chart, Proof), Error> {
    let version = opts
        .version
        .clone()
        .unwrap_or_else(|| DEFAULT_VERSION.to_string());
    check_version(&version)?;
    let app_version = match &opts.app_version {
        Some(v) => {
            if v.is_empty()
                || v.len() > 128
                || v.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(Error::msg(format!(
                    "--app-version {}: must be 1 to 128 printable characters without spaces",
                    printable(v)
                )));
            }
            v.clone()
        }
        None => service
            .image
            .tag
            .clone()
            .or_else(|| service.image.digest.clone())
            .unwrap_or_else(|| "latest".to_string()),
    };
    let description = service
        .description
        .clone()
        .unwrap_or_else(|| format!("The {} service, packaged by helm k8s-service", service.name));
    let values = Values::from_service(service);

    let mut annotations = BTreeMap::from([
        (
            "helm-k8s-service/generator",
            format!("helm-k8s-service {}", env!("CARGO_PKG_VERSION")),
        ),
        (TIMEOUT_ANNOTATION, format!("{}s", service.timeout_seconds)),
        (MAX_HISTORY_ANNOTATION, service.max_history.to_string()),
        (SPEC_ANNOTATION, opts.spec_file.clone()),
    ]);
    annotations.extend(artifacthub::annotations(service, &opts.hub)?);
    let chart_yaml = ChartYaml {
        api_version: "v2",
        name: &service.name,
        description: &description,
        chart_type: "application",
        version: &version,
        app_version: &app_version,
        kube_version: KUBE_VERSION,
        keywords: ["k8s-service", "opta"],
        annotations,
    };
    let chart_yaml = serde_saphyr::to_string(&chart_yaml)
        .map_err(|e| Error::msg(format!("internal error writing Chart.yaml: {e}")))?;

    let values_json = serde_json::to_value(&values)
        .map_err(|e| Error::msg(format!("internal error serializing values: {e}")))?;
    let context = render::context(
        &values_json,
        [
            ("chart_name", service.name.as_str()),
            ("chart_version", &version),
            ("app_version", &app_version),
            ("description", &description),
            ("spec_file", &printable(&opts.spec_file)),
            ("docs_url", &docs_url()),
        ],
    )?;
    let values_yaml = render::render("values.yaml", &context)?;
    let readme = render::render("README.md", &context)?;

    let mut files: Vec<(String, Cow<'static, [u8]>)> = vec![
        ("Chart.yaml".into(), chart_yaml.into_bytes().into()),
        ("values.yaml".into(), values_yaml.as_bytes().to_vec().into()),
    ];
    files.extend(
        embedded::HELM_FILES
            .iter()
            .map(|(p, c)| (p.to_string(), Cow::Borrowed(c.as_bytes()))),
    );
    files.push(("README.md".into(), readme.into_bytes().into()));
    // Helm's order: Chart.yaml, values.yaml, values.schema.json, templates/, then the rest.
    // The key borrows the path: no String per comparison.
    files.sort_by(|(a, _), (b, _)| helm_order(a).cmp(&helm_order(b)));
    let chart = Chart {
        name: service.name.clone(),
        version,
        timeout_seconds: service.timeout_seconds,
        max_history: service.max_history,
        files,
    };
    Ok((chart, Proof::new(values_yaml, values_json)))
}

/// The generator's documentation, for the chart README: the README of the repository named in
/// Cargo.toml at this version's tag (as `init` links it). The spec language has no home or source
/// of its own to link instead.
fn docs_url() -> String {
    let repo = env!("CARGO_PKG_REPOSITORY")
        .trim_end_matches('/')
        .trim_end_matches(".git");
    format!("{repo}/blob/v{}/README.md", env!("CARGO_PKG_VERSION"))
}

fn helm_order(path: &str) -> (u8, &str) {
    let rank = match path {
        "Chart.yaml" => 0,
        "values.yaml" => 1,
        "values.schema.json" => 2,
        p if p.starts_with("templates/") => 3,
        _ => 4,
    };
    (rank, path)
}

/// The commented values.yaml must mean exactly the values we computed: read it back and compare.
/// A mismatch is a bug in the template or the emitter, never something to ship.
fn verify_values_yaml(text: &str, expected: &serde_json::Value) -> Result<(), Error> {
    // The same parse, compared node by node; only a failure takes the slower path below, which
    // builds the whole tree and says what went wrong.
    if verify::matches_exactly(text, expected) {
        return Ok(());
    }
    let parsed: serde_json::Value = serde_saphyr::from_str(text).map_err(|e| {
        Error::msg(format!(
            "internal error: generated values.yaml does not parse: {e}"
        ))
    })?;
    if &parsed != expected {
        return Err(Error::msg(
            "internal error: generated values.yaml differs from the computed values",
        ));
    }
    Ok(())
}
