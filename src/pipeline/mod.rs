//! Spec files in, built charts out: read, validate and build, for every command that makes a
//! chart. Its inputs are its own types ([`SpecInput`], [`ChartMeta`]), not the command-line
//! arguments, so it depends on no command; the commands convert their arguments into them.

mod chart_path;
mod messages;
mod previous;

pub use chart_path::is_chart;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use messages::{Message, MessageKind, Messages};

use crate::chart::artifacthub::HubMeta;
use crate::chart::{self, Chart, ChartOptions};
use crate::diag::{Diagnostic, Error, printable};
use crate::model::{self, Overrides};
use crate::spec::{self, LoadOptions, source::SpecSource};

/// One spec to build, and what the command line says about it.
#[derive(Clone, Debug, Default)]
pub struct SpecInput {
    /// The spec file; its name is also what the charts record as their source.
    pub path: PathBuf,
    /// Only the k8s-service module with this name (Opta service files).
    pub module: Option<String>,
    /// Values for Opta placeholders (`{vars.KEY}`, `{env}`...).
    pub vars: Vec<(String, String)>,
    /// Image tag, overriding the spec's `tag`.
    pub tag: Option<String>,
    /// Image digest, overriding the spec's `digest`.
    pub digest: Option<String>,
    /// The chart's name, overriding what the spec gives (one chart only).
    pub name: Option<String>,
}

/// Chart.yaml's `version` and `appVersion` when given (`None` keeps the chart's defaults), and
/// what Artifact Hub shows: license, links, and the previous version to list the changes since.
#[derive(Clone, Debug, Default)]
pub struct ChartMeta {
    pub version: Option<String>,
    pub app_version: Option<String>,
    pub license: Option<String>,
    pub links: Vec<(String, String)>,
    /// The previous version: a chart archive or directory, or the spec as it was.
    pub changes_since: Option<PathBuf>,
}

/// Read, validate and build the charts of a spec.
pub fn build_charts(spec: &SpecInput, meta: &ChartMeta) -> Result<(Vec<Chart>, Messages), Error> {
    // Every chart is rendered from the templates: parse them while the spec is read.
    chart::render::prepare();
    build_charts_from(SpecSource::read(&spec.path)?, spec, meta)
}

/// [`build_charts`] for a spec already read (`spec.path` only names it in messages).
pub fn build_charts_from(
    source: SpecSource,
    spec: &SpecInput,
    meta: &ChartMeta,
) -> Result<(Vec<Chart>, Messages), Error> {
    let (built, messages) = build_unproven_from(source, spec, meta)?;
    let mut charts = Vec::with_capacity(built.len());
    for (chart, proof) in built {
        proof.check()?;
        charts.push(chart);
    }
    Ok((charts, messages))
}

/// The charts of one spec, each with the values.yaml proof it still owes (`chart::Proof`).
fn build_unproven_from(
    source: SpecSource,
    spec: &SpecInput,
    meta: &ChartMeta,
) -> Result<(Vec<(Chart, chart::Proof)>, Messages), Error> {
    let spec_file = spec
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (services, notes) = spec::load(
        source,
        &LoadOptions {
            module: spec.module.clone(),
            vars: spec.vars.clone(),
            name: spec.name.clone(),
        },
    )?;
    let mut messages = Messages::default();
    messages.add(MessageKind::Note, None, notes);
    let overrides = Overrides {
        tag: spec.tag.clone(),
        digest: spec.digest.clone(),
    };
    let opts = ChartOptions {
        version: meta.version.clone(),
        app_version: meta.app_version.clone(),
        spec_file,
        hub: HubMeta {
            license: meta.license.clone(),
            links: meta.links.clone(),
            changes: Vec::new(),
        },
    };
    if let Some(v) = &opts.version {
        chart::check_version(v)?;
    }
    chart::artifacthub::check(&opts.hub)?;
    // Validate every service before building any chart, so errors are reported together.
    let mut built = Vec::new();
    let mut errors = Vec::new();
    let mut names = BTreeSet::new();
    for loaded in &services {
        match model::build(loaded, &overrides) {
            Ok((service, warnings)) => {
                if !names.insert(service.name.clone()) {
                    errors.push(loaded.source.diag(
                        &loaded.base.key("name"),
                        format!("a second module makes the chart `{}`; module names must differ (ignoring case)", service.name),
                    ));
                    continue;
                }
                let chart = (services.len() > 1).then_some(service.name.as_str());
                messages.add(MessageKind::Warning, chart, warnings);
                built.push(service);
            }
            Err(Error::Spec(d)) => errors.extend(d),
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Spec(errors));
    }
    let mut charts = Vec::with_capacity(built.len());
    for service in &built {
        let mut opts = opts.clone();
        if let Some(old) = &meta.changes_since {
            opts.hub.changes = changes_since(old, service, spec)?;
        }
        charts.push(chart::build_unproven(service, &opts)?);
    }
    Ok((charts, messages))
}

/// What changed in the values of `service`'s chart since `old` (Artifact Hub's changes).
fn changes_since(
    old: &Path,
    service: &model::Service,
    spec: &SpecInput,
) -> Result<Vec<chart::artifacthub::Change>, Error> {
    let new_values = chart::values_of(service)?;
    // The old spec is built as this one is (module, vars), without the tag and digest given for
    // the new version.
    let build = |path: &Path| -> Result<Vec<(String, serde_json::Value)>, Error> {
        let input = SpecInput {
            path: path.to_path_buf(),
            tag: None,
            digest: None,
            ..spec.clone()
        };
        let (charts, _) = build_charts(&input, &ChartMeta::default())?;
        charts
            .iter()
            .map(|c| Ok((c.name.clone(), c.values()?)))
            .collect()
    };
    let old_values = previous::previous_values(old, &service.name, &build)?;
    Ok(previous::changes_between(&old_values, &new_values))
}

/// The spec files named on the command line, a directory standing for its `*.yaml`/`*.yml`.
fn expand_specs(first: &Path, more: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in std::iter::once(first).chain(more.iter().map(PathBuf::as_path)) {
        out.extend(expand_spec(p)?);
    }
    Ok(out)
}

/// One spec argument: a file, or a directory standing for its `*.yaml`/`*.yml` (sorted).
pub fn expand_spec(p: &Path) -> Result<Vec<PathBuf>, Error> {
    if !p.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| Error::msg(format!("cannot read {}: {e}", p.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| {
            f.is_file() && matches!(f.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    if found.is_empty() {
        return Err(Error::msg(format!(
            "{} holds no *.yaml or *.yml spec",
            p.display()
        )));
    }
    found.sort();
    Ok(found)
}

/// Build the charts of many specs (`first`, then `more`, each with `first`'s settings), in
/// parallel; the problems of all of them are reported together. Each chart is turned into what
/// the command writes (`finish`: an archive staged on disk, say) in the worker that built it, so
/// a large batch holds only those results, not every chart's files at once. Once a spec has
/// failed, later charts are still validated but no longer finished (the run fails anyway). A
/// failure of `finish` is reported only when every spec is valid and no two make one chart.
/// For a single spec, `finish` runs while the chart's values.yaml proof is still being checked:
/// what it does must come to nothing when this fails (`package` only stages its archive).
pub fn build_many<T: Send>(
    first: &SpecInput,
    more: &[PathBuf],
    meta: &ChartMeta,
    finish: impl Fn(Chart) -> Result<T, Error> + Sync,
) -> Result<(Vec<(String, T)>, Messages), Error> {
    let specs = expand_specs(&first.path, more)?;
    let failed = std::sync::atomic::AtomicBool::new(false);
    // One spec alone: its chart's values.yaml proof runs on a second core while `finish` (the
    // archive, staged) runs on this one. In a batch every core has a spec of its own already.
    let alongside = specs.len() == 1;
    let build_checked = |path: &PathBuf| {
        chart::render::prepare();
        let spec = SpecInput {
            path: path.clone(),
            ..first.clone()
        };
        let built = SpecSource::read(path).and_then(|s| build_unproven_from(s, &spec, meta));
        let (charts, messages) = built?;
        let mut finished = Vec::with_capacity(charts.len());
        for (c, proof) in charts {
            let name = c.name.clone();
            let done = if failed.load(Relaxed) {
                // Still proven, as every chart of the run is validated; no longer finished.
                proof.check()?;
                None
            } else if alongside {
                Some(finish_while_proving(c, proof, &finish)?)
            } else {
                proof.check()?;
                Some(finish(c))
            };
            finished.push((
                name,
                done.map(|d| d.inspect_err(|_| failed.store(true, Relaxed))),
            ));
        }
        Ok((finished, messages))
    };
    // A spec that fails (to build, or a proof) stops the finishing of the others.
    let build_one =
        |path: &PathBuf| build_checked(path).inspect_err(|_| failed.store(true, Relaxed));
    use std::sync::atomic::Ordering::Relaxed;
    let results: Vec<Result<_, Error>> = match specs.len() {
        1 => vec![build_one(&specs[0])],
        // `package` ends each item by writing its archive and reading it back: more threads than
        // cores keep the cores busy while one waits for the disk (for `generate` and `validate`
        // the extra threads cost nothing).
        _ => crate::parallel::map_waiting(&specs, build_one),
    };
    let (mut built, mut messages, mut diags) = (Vec::new(), Messages::default(), Vec::new());
    let mut finish_error = None;
    // Which spec made each chart, for a name clash.
    let mut made_by: Vec<&Path> = Vec::new();
    for (path, result) in specs.iter().zip(results) {
        match result {
            Ok((c, m)) => {
                made_by.extend(std::iter::repeat_n(path.as_path(), c.len()));
                for (name, done) in c {
                    match done {
                        Some(Ok(t)) => built.push((name, Some(t))),
                        Some(Err(e)) => {
                            finish_error.get_or_insert(e);
                            built.push((name, None));
                        }
                        None => built.push((name, None)),
                    }
                }
                messages.0.extend(m.0);
            }
            Err(Error::Spec(d)) if specs.len() == 1 => return Err(Error::Spec(d)),
            Err(Error::Message(m)) if specs.len() == 1 => return Err(Error::Message(m)),
            Err(Error::Spec(d)) => diags.extend(d),
            Err(Error::Message(m)) => diags.push(Diagnostic::new(&path.display().to_string(), m)),
        }
    }
    if !diags.is_empty() {
        return Err(Error::Spec(diags));
    }
    let made: Vec<(&str, &Path)> = built
        .iter()
        .zip(&made_by)
        .map(|((name, _), path)| (name.as_str(), *path))
        .collect();
    if let Some((_, message, help)) = chart_name_clashes(&made).into_iter().next() {
        return Err(Error::msg(format!("{message}\n  help: {help}")));
    }
    if let Some(e) = finish_error {
        return Err(e);
    }
    // Every spec built and every chart finished: no `None` is left.
    Ok((
        built
            .into_iter()
            .filter_map(|(n, t)| Some((n, t?)))
            .collect(),
        messages,
    ))
}

/// `finish(chart)` here while `proof` is checked on another thread: the proof's failure comes
/// first (`Err`, the chart's error), then `finish`'s result. Without a thread, one after the other.
fn finish_while_proving<T: Send>(
    chart: Chart,
    proof: chart::Proof,
    finish: &(impl Fn(Chart) -> Result<T, Error> + Sync),
) -> Result<Result<T, Error>, Error> {
    let proof = &proof;
    std::thread::scope(|s| {
        let proving = std::thread::Builder::new()
            .name("proof".into())
            .spawn_scoped(s, move || proof.check());
        match proving {
            Ok(proving) => {
                let done = finish(chart);
                let proven = proving
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                proven.map(|()| done)
            }
            // No thread to be had: the proof first, as in a batch.
            Err(_) => proof.check().map(|()| finish(chart)),
        }
    })
}

/// Charts of one run that two spec files both make (`(chart, spec)` in order): for each chart
/// made again, its index in `made` and the message naming both files. `package` and `generate`
/// refuse the run; `validate` reports it on the later file, so that it passes exactly the sets
/// of specs that `package` accepts.
pub fn chart_name_clashes(made: &[(&str, &Path)]) -> Vec<(usize, String, String)> {
    let mut first_by: std::collections::BTreeMap<&str, &Path> = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for (i, (name, path)) in made.iter().enumerate() {
        match first_by.get(name) {
            Some(first) => out.push((
                i,
                format!(
                    "{} and {} both make the chart `{name}`; chart names must differ",
                    printable(&first.display().to_string()),
                    printable(&path.display().to_string())
                ),
                "give one of them a distinct `name:` (in an Opta file, the k8s-service module's \
                 `name:`), or run them separately, each into its own directory (package \
                 --destination, generate --output)"
                    .to_string(),
            )),
            None => {
                first_by.insert(*name, *path);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn chart() -> Chart {
        Chart {
            name: "c".into(),
            version: "0.1.0".into(),
            timeout_seconds: 300,
            max_history: 10,
            files: Vec::new(),
        }
    }

    #[test]
    fn a_failed_proof_fails_the_chart_even_when_finish_succeeded() {
        let ran = AtomicBool::new(false);
        let finish = |_: Chart| {
            ran.store(true, Ordering::Relaxed);
            Ok(7)
        };
        let bad = chart::Proof::new("a: 1\n".into(), serde_json::json!({"a": 2}));
        let got = finish_while_proving(chart(), bad, &finish);
        assert!(
            ran.load(Ordering::Relaxed),
            "finish ran alongside the proof"
        );
        let Err(e) = got else {
            panic!("the proof's failure is the chart's error")
        };
        assert!(
            e.render().contains("differs from the computed values"),
            "{}",
            e.render()
        );

        let good = chart::Proof::new("a: 1\n".into(), serde_json::json!({"a": 1}));
        assert_eq!(
            finish_while_proving(chart(), good, &finish)
                .unwrap()
                .unwrap(),
            7
        );
        let failing = |_: Chart| -> Result<u8, Error> { Err(Error::msg("disk full")) };
        let good = chart::Proof::new("a: 1\n".into(), serde_json::json!({"a": 1}));
        let got = finish_while_proving(chart(), good, &failing).unwrap();
        assert!(got.is_err(), "finish's own failure is passed on");
    }
}
