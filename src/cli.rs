//! Command line: `helm k8s-service package|generate|validate|init|schema|...`.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::chart::{self, ChartOptions};
use crate::diag::{Error, printable};
use crate::model::{self, Overrides};
use crate::spec::{self, LoadOptions, source::SpecSource};
use crate::{archive, deploy, fsutil};

#[derive(Parser, Debug)]
#[command(
    name = "k8s-service",
    bin_name = "helm k8s-service",
    version,
    about = "Turn a service spec into a packaged, production-grade Helm chart",
    long_about = "Turn a short service spec (the language of Opta's k8s-service module) into a real Helm chart:\n\
Chart.yaml, a documented values.yaml, values.schema.json and templates for the workload, Service,\n\
HPA, probes, Ingress, CronJobs and storage. The chart installs with plain helm.\n\n\
A spec is either standalone (the module's fields at the top level, plus `name`) or an Opta service\n\
file (`name`, `environments`, `modules:`), where every k8s-service module becomes one chart.",
    after_help = "Use \"helm k8s-service [command] --help\" for more information about a command."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Package the chart of each service in SPEC into DIR/<name>-<version>.tgz
    #[command(
        long_about = "Package the chart of each service in SPEC into a chart archive.\n\n\
The archive is written as DIR/<name>-<version>.tgz (one per k8s-service module of an Opta file),\n\
and each path is printed. The same spec always gives the same bytes: entries carry one fixed mtime\n\
(SOURCE_DATE_EPOCH when set, else 0). The archive is written to a temporary file and renamed, so\n\
DIR never holds a partial archive."
    )]
    Package(PackageArgs),
    /// Write the unpacked chart of each service in SPEC to DIR/<name>/
    Generate(GenerateArgs),
    /// Check SPEC and report every problem, without writing anything
    #[command(
        long_about = "Check SPEC (and more specs; a directory stands for its *.yaml and *.yml files)\n\
and report every problem, without writing anything. Exit 0 when all are valid, else 1.\n\n\
--output json prints one JSON document on stdout, whatever the outcome, for editors and CI:\n\
{\"version\": 1, \"valid\": BOOL, \"files\": [{\"file\", \"valid\", \"charts\", \"notes\", \"warnings\",\n\
\"errors\": [{\"file\", \"line\", \"column\", \"field\", \"message\", \"help\"}]}]} (see the README)."
    )]
    Validate(crate::validate::ValidateArgs),
    /// Write a commented starter spec to PATH (default k8s-service.yaml)
    #[command(long_about = crate::init::LONG_HELP)]
    Init(crate::init::InitArgs),
    /// Generate the chart of SPEC and install it as RELEASE with helm
    #[command(long_about = DEPLOY_HELP)]
    Install(DeployArgs),
    /// Generate the chart of SPEC and upgrade RELEASE to it with helm
    #[command(long_about = DEPLOY_HELP)]
    Upgrade(UpgradeArgs),
    /// Generate the chart of SPEC and render its manifests locally with helm template
    #[command(
        long_about = "Generate the chart of SPEC and render it with `helm template RELEASE CHART`.\n\n\
Everything after `--` is passed to helm verbatim (--set, -f, --kube-version, --api-versions...)."
    )]
    Template(TemplateArgs),
    /// Package the chart of SPEC and push it to an OCI registry with helm push
    Push(PushArgs),
    /// Chart repository tools
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Print the JSON Schema of the spec language (for editors)
    Schema,
    /// Shell completion for helm's plugin.complete (internal)
    #[command(name = "__complete", hide = true)]
    Complete {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// Print completion.yaml (internal; used to build the plugin)
    #[command(name = "__completion-yaml", hide = true)]
    CompletionYaml,
}

#[derive(Subcommand, Debug)]
pub enum RepoCommand {
    /// Write DIR/index.yaml for the chart archives in DIR (any Helm chart, not only ours)
    #[command(
        long_about = "Write DIR/index.yaml for the chart archives in DIR and one level of subdirectories,\n\
as `helm repo index` does, for Helm 3.17 and 4.x clients.\n\n\
Unlike helm, nothing is lost or skipped silently: an archive Helm could not load is reported by\n\
name and nothing is written (exit 1); with --merge every old entry is kept, an unchanged archive\n\
keeps its `created` time and digest, and a changed archive under an existing version is refused\n\
unless --force. Concurrent runs on one directory are serialized by DIR/index.yaml.lock, and the\n\
index is replaced atomically. The same archives always give the same index.yaml."
    )]
    Index(RepoIndexArgs),
}

#[derive(Args, Debug)]
pub struct RepoIndexArgs {
    /// Directory holding the chart archives
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// URL of the chart repository; archive URLs are URL/<file>
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Merge into this existing index (a missing file counts as empty)
    #[arg(long, value_name = "FILE")]
    pub merge: Option<PathBuf>,
    /// Replace a version whose archive changed (its digest differs from the old index)
    #[arg(long)]
    pub force: bool,
}

const DEPLOY_HELP: &str = "Generate the chart of SPEC into a temporary directory (always removed) and run helm on it.\n\n\
helm is $HELM_BIN (set by helm when this runs as `helm k8s-service`), else `helm` on PATH.\n\
The namespace, kube context, kubeconfig and --debug given to helm reach it unchanged.\n\n\
Opta's deployment semantics are kept: the spec's `timeout` becomes --timeout, `max_history`\n\
becomes --history-max, and a failed install or upgrade is rolled back automatically (Helm 3:\n\
--atomic --cleanup-on-fail; Helm 4: --rollback-on-failure --cleanup-on-fail --wait=watcher).\n\
--no-rollback turns that off; --no-wait does not wait for the pods at all.\n\n\
Everything after `--` is passed to helm verbatim: --set, -f, --dry-run=client, --create-namespace...\n\
helm's output streams through unchanged and its exit code is this command's exit code.";

#[derive(Args, Debug)]
pub struct DeployArgs {
    /// Release name (at most 53 characters, DNS-1123)
    #[arg(value_name = "RELEASE")]
    pub release: String,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Do not roll back a failed install or upgrade
    #[arg(long)]
    pub no_rollback: bool,
    /// Do not wait for the pods to be ready (implies --no-rollback)
    #[arg(long)]
    pub no_wait: bool,
    /// Arguments for helm, after `--`
    #[arg(last = true, value_name = "HELM FLAGS")]
    pub helm_args: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub deploy: DeployArgs,
    /// Install the release if it does not exist yet
    #[arg(short, long)]
    pub install: bool,
}

#[derive(Args, Debug)]
pub struct TemplateArgs {
    /// Release name used in the rendered manifests
    #[arg(value_name = "RELEASE")]
    pub release: String,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Arguments for helm, after `--`
    #[arg(last = true, value_name = "HELM FLAGS")]
    pub helm_args: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// The service spec (YAML)
    #[arg(value_name = "SPEC")]
    pub spec: PathBuf,
    /// Only the k8s-service module with this name (Opta service files)
    #[arg(long, value_name = "NAME")]
    pub module: Option<String>,
    /// Value for an Opta placeholder: {vars.KEY}, {env}, {parent.domain}... (repeatable)
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Image tag, overriding the spec's `tag`
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Image digest (sha256:...), overriding the spec's `digest`
    #[arg(long, value_name = "DIGEST")]
    pub digest: Option<String>,
}

#[derive(Args, Debug)]
pub struct ChartArgs {
    /// Chart version (strict SemVer 2)
    #[arg(long, value_name = "SEMVER")]
    pub version: Option<String>,
    /// Chart appVersion [default: the image tag, else its digest]
    #[arg(long, value_name = "VERSION")]
    pub app_version: Option<String>,
}

#[derive(Args, Debug)]
pub struct PackageArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// More specs; a directory stands for every *.yaml and *.yml file in it
    #[arg(value_name = "SPEC")]
    pub more: Vec<PathBuf>,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Directory to write the archives to
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub destination: PathBuf,
    /// Also write <archive>.prov, signed with gpg (checked by `helm verify` and `--verify`)
    #[arg(long, requires = "key")]
    pub sign: bool,
    /// Signing key: a user id (or part of it) or fingerprint
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
    /// Keyring holding the secret key [default: your gpg home]
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
    /// File holding the key's passphrase
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Registry to push to: oci://REGISTRY/PATH
    #[arg(value_name = "REMOTE")]
    pub remote: String,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Arguments for `helm push`, after `--` (--plain-http, --ca-file, --username...)
    #[arg(last = true, value_name = "HELM FLAGS")]
    pub helm_args: Vec<std::ffi::OsString>,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// More specs; a directory stands for every *.yaml and *.yml file in it
    #[arg(value_name = "SPEC")]
    pub more: Vec<PathBuf>,
    #[command(flatten)]
    pub chart: ChartArgs,
    /// Directory to write the charts to (each in DIR/<name>/)
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{}` is not KEY=VALUE", printable(s))),
    }
}

/// Notes and warnings for stderr. They are printed only when the command succeeds: on failure
/// the errors come first and alone, so the first line of the output is always the problem.
#[derive(Default)]
pub struct Messages(pub Vec<Message>);

/// One note or warning; `chart` names the service it is about when a file makes several.
#[derive(Clone, Debug)]
pub struct Message {
    pub kind: MessageKind,
    pub chart: Option<String>,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    Note,
    Warning,
}

impl Messages {
    fn add(
        &mut self,
        kind: MessageKind,
        chart: Option<&str>,
        lines: impl IntoIterator<Item = String>,
    ) {
        self.0.extend(lines.into_iter().map(|text| Message {
            kind,
            chart: chart.map(str::to_string),
            text,
        }));
    }

    pub fn print(&self) {
        for m in &self.0 {
            let kind = match m.kind {
                MessageKind::Note => "note",
                MessageKind::Warning => "warning",
            };
            match &m.chart {
                Some(chart) => eprintln!("{kind}: {chart}: {}", m.text),
                None => eprintln!("{kind}: {}", m.text),
            }
        }
    }
}

/// Read, validate and build the charts of a spec.
pub fn build_charts(
    args: &SpecArgs,
    chart_args: Option<&ChartArgs>,
) -> Result<(Vec<chart::Chart>, Messages), Error> {
    build_charts_from(SpecSource::read(&args.spec)?, args, chart_args)
}

/// [`build_charts`] for a spec already read (`args.spec` only names it in messages).
pub fn build_charts_from(
    source: SpecSource,
    args: &SpecArgs,
    chart_args: Option<&ChartArgs>,
) -> Result<(Vec<chart::Chart>, Messages), Error> {
    let spec_file = args
        .spec
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (services, notes) = spec::load(
        source,
        &LoadOptions {
            module: args.module.clone(),
            vars: args.vars.clone(),
        },
    )?;
    let mut messages = Messages::default();
    messages.add(MessageKind::Note, None, notes);
    let overrides = Overrides {
        tag: args.tag.clone(),
        digest: args.digest.clone(),
    };
    let opts = ChartOptions {
        version: chart_args.and_then(|c| c.version.clone()),
        app_version: chart_args.and_then(|c| c.app_version.clone()),
        spec_file,
    };
    if let Some(v) = &opts.version {
        chart::check_version(v)?;
    }
    // Validate every service before building any chart, so errors are reported together.
    let mut built = Vec::new();
    let mut errors = Vec::new();
    let mut names = std::collections::BTreeSet::new();
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
    let charts = built
        .iter()
        .map(|s| chart::build(s, &opts))
        .collect::<Result<_, _>>()?;
    Ok((charts, messages))
}

/// Run a command; the result is the process exit code (helm's, for the commands that run it).
pub fn run(cli: Cli) -> Result<i32, Error> {
    let done = |r: Result<(), Error>| r.map(|()| 0);
    match cli.command {
        Command::Package(a) => done(package(&a)),
        Command::Generate(a) => done(generate(&a)),
        Command::Validate(a) => crate::validate::run(&a),
        Command::Init(a) => done(crate::init::run(&a)),
        Command::Schema => {
            print!("{}", crate::spec::SPEC_SCHEMA);
            Ok(0)
        }
        Command::Repo(RepoCommand::Index(a)) => {
            let report = crate::repo::index(
                &a.dir,
                &crate::repo::IndexOptions {
                    url: a.url.clone(),
                    merge: a.merge.clone(),
                    force: a.force,
                },
            )?;
            for r in &report.replaced {
                eprintln!("warning: replaced {r} (--force)");
            }
            eprintln!(
                "{}: {} added, {} unchanged, {} kept from the old index",
                report.path.display(),
                report.added,
                report.unchanged,
                report.kept
            );
            Ok(0)
        }
        Command::Install(a) => deploy::run(deploy::Action::Install, &a),
        Command::Upgrade(a) => {
            deploy::run(deploy::Action::Upgrade { install: a.install }, &a.deploy)
        }
        Command::Template(a) => deploy::template(&a),
        Command::Push(a) => deploy::push(&a),
        Command::Complete { words } => {
            print!("{}", crate::complete::complete(&words));
            Ok(0)
        }
        Command::CompletionYaml => {
            print!("{}", crate::complete::completion_yaml());
            Ok(0)
        }
    }
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
pub(crate) fn expand_spec(p: &Path) -> Result<Vec<PathBuf>, Error> {
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

/// Build the charts of many specs, in parallel; every spec is validated before anything is
/// written, and the problems of all of them are reported together. Each chart is turned into
/// what the command writes (`finish`: an archive, say) in the worker that built it, so a large
/// batch holds only those results, not every chart's files at once.
fn build_many<T: Send>(
    first: &SpecArgs,
    more: &[PathBuf],
    chart: &ChartArgs,
    finish: impl Fn(chart::Chart) -> Result<T, Error> + Sync,
) -> Result<(Vec<(String, T)>, Messages), Error> {
    let specs = expand_specs(&first.spec, more)?;
    let build_one = |path: &PathBuf| {
        let (charts, messages) = build_charts(
            &SpecArgs {
                spec: path.clone(),
                ..first.clone()
            },
            Some(chart),
        )?;
        let finished = charts
            .into_iter()
            .map(|c| Ok((c.name.clone(), finish(c)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok((finished, messages))
    };
    if specs.len() == 1 {
        return build_one(&specs[0]);
    }
    let results: Vec<Result<_, Error>> = crate::parallel::map(&specs, build_one);
    let (mut built, mut messages, mut diags) = (Vec::new(), Messages::default(), Vec::new());
    for (path, result) in specs.iter().zip(results) {
        match result {
            Ok((c, m)) => {
                built.extend(c);
                messages.0.extend(m.0);
            }
            Err(Error::Spec(d)) => diags.extend(d),
            Err(Error::Message(m)) => {
                diags.push(crate::diag::Diagnostic::new(&path.display().to_string(), m))
            }
        }
    }
    if !diags.is_empty() {
        return Err(Error::Spec(diags));
    }
    let mut names = std::collections::BTreeSet::new();
    for (name, _) in &built {
        if !names.insert(name.as_str()) {
            return Err(Error::msg(format!(
                "two specs make the chart `{name}`; chart names must differ"
            )));
        }
    }
    Ok((built, messages))
}

fn ensure_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::msg(format!("cannot create {}: {e}", dir.display())))
}

fn package(a: &PackageArgs) -> Result<(), Error> {
    let mtime = archive::source_date_epoch()?;
    // Every archive is built before any is written, so a failure writes nothing. Signing needs
    // the chart's Chart.yaml beside its archive.
    let (archives, messages) = build_many(&a.spec, &a.more, &a.chart, |c| {
        let chart_yaml = a.sign.then(|| {
            c.files
                .iter()
                .find(|(p, _)| p == "Chart.yaml")
                .map(|(_, y)| String::from_utf8_lossy(y).into_owned())
                .unwrap_or_default()
        });
        Ok((archive::file_name(&c), archive::tgz(&c, mtime)?, chart_yaml))
    })?;
    let archives: Vec<(String, Vec<u8>, Option<String>)> =
        archives.into_iter().map(|(_, a)| a).collect();
    // Sign before writing anything, so a failed signature leaves no unsigned new archive.
    let mut provs = Vec::new();
    if a.sign {
        let opts = crate::sign::SignOptions {
            key: a.key.clone().unwrap_or_default(),
            keyring: a.keyring.clone(),
            passphrase_file: a.passphrase_file.clone(),
        };
        for (name, bytes, chart_yaml) in &archives {
            let body = crate::sign::provenance_body(
                chart_yaml.as_deref().unwrap_or_default(),
                name,
                bytes,
            );
            provs.push(crate::sign::clearsign(&body, &opts)?);
        }
    }
    ensure_dir(&a.destination)?;
    // Each archive, then its signature: the order they are listed in.
    let mut files: Vec<(String, &[u8])> = Vec::new();
    for (i, (name, bytes, _)) in archives.iter().enumerate() {
        files.push((name.clone(), bytes));
        if let Some(prov) = provs.get(i) {
            files.push((format!("{name}.prov"), prov));
        }
    }
    fsutil::write_many_atomic(&a.destination, &files)?;
    for (name, _) in &files {
        println!("{}", a.destination.join(name).display());
    }
    messages.print();
    Ok(())
}

fn generate(a: &GenerateArgs) -> Result<(), Error> {
    let (charts, messages) = build_many(&a.spec, &a.more, &a.chart, Ok)?;
    let charts: Vec<chart::Chart> = charts.into_iter().map(|(_, c)| c).collect();
    ensure_dir(&a.output)?;
    for c in &charts {
        let dest = a.output.join(&c.name);
        let is_empty_dir = std::fs::read_dir(&dest).is_ok_and(|mut d| d.next().is_none());
        if dest.exists() && !is_empty_dir && !dest.join("Chart.yaml").is_file() {
            return Err(Error::msg(format!(
                "{} exists and is not a chart; not replacing it",
                dest.display()
            )));
        }
        fsutil::replace_dir(&dest, &c.files)?;
        println!("{}", dest.display());
    }
    messages.print();
    Ok(())
}
