//! Command line: `helm k8s-service package|generate|validate|init|schema|...`.
//!
//! Only the root of the clap tree and the dispatch live here; each subcommand's arguments and
//! `run` are in its module under [`crate::commands`].

use clap::{CommandFactory, Parser, Subcommand};

use crate::commands::argocd::{self, ArgocdCommand};
use crate::commands::complete::{self, CompleteArgs};
use crate::commands::deploy::{self, DeployArgs, TemplateArgs, UpgradeArgs};
use crate::commands::generate::{self, GenerateArgs};
use crate::commands::init::{self, InitArgs};
use crate::commands::package::{self, PackageArgs};
use crate::commands::plan::{self, PlanArgs};
use crate::commands::push::{self, PushArgs};
use crate::commands::repo_index::{self, RepoIndexArgs};
use crate::commands::rollback::{self, RollbackArgs};
use crate::commands::schema;
use crate::commands::validate::{self, ValidateArgs};
use crate::diag::Error;

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
    #[command(long_about = package::LONG_HELP)]
    Package(PackageArgs),
    /// Write the unpacked chart of each service in SPEC to DIR/<name>/
    Generate(GenerateArgs),
    /// Check SPEC and report every problem, without writing anything
    #[command(long_about = validate::LONG_HELP)]
    Validate(ValidateArgs),
    /// Write a commented starter spec to PATH (default k8s-service.yaml)
    #[command(long_about = init::LONG_HELP)]
    Init(InitArgs),
    /// Generate the chart of SPEC and install it as RELEASE with helm
    #[command(long_about = deploy::LONG_HELP)]
    Install(DeployArgs),
    /// Generate the chart of SPEC and upgrade RELEASE to it with helm, after checking the plan
    #[command(long_about = deploy::UPGRADE_LONG_HELP)]
    Upgrade(UpgradeArgs),
    /// Say what upgrading RELEASE to SPEC would do, object by object, without changing anything
    #[command(long_about = plan::LONG_HELP)]
    Plan(PlanArgs),
    /// Roll RELEASE back with helm, keeping the history the spec promised
    #[command(long_about = rollback::LONG_HELP)]
    Rollback(RollbackArgs),
    /// Generate the chart of SPEC and render its manifests locally with helm template
    #[command(long_about = deploy::TEMPLATE_LONG_HELP)]
    Template(TemplateArgs),
    /// Package the chart of SPEC and push it to an OCI registry with helm push
    Push(PushArgs),
    /// Chart repository tools
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Print the JSON Schema of the spec language (for editors)
    Schema,
    /// Commands Argo CD runs as a Config Management Plugin
    #[command(subcommand, long_about = argocd::LONG_HELP)]
    Argocd(ArgocdCommand),
    /// Shell completion for helm's plugin.complete (internal)
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
    /// Print completion.yaml (internal; used to build the plugin)
    #[command(name = "__completion-yaml", hide = true)]
    CompletionYaml,
}

#[derive(Subcommand, Debug)]
pub enum RepoCommand {
    /// Write DIR/index.yaml for the chart archives in DIR (any Helm chart, not only ours)
    #[command(long_about = repo_index::LONG_HELP)]
    Index(RepoIndexArgs),
}

/// Commands that render a chart from a spec: for these the templates' parse (about a
/// millisecond, once per process) can start before the command line is even parsed.
const RENDERING: &[&str] = &[
    "package", "generate", "validate", "init", "install", "upgrade", "plan", "template", "push",
    "argocd",
];

/// Start what the command named by `args` (the process arguments, program name first) will
/// need anyway, so that it overlaps parsing the command line: only the template parse, and only
/// for a rendering subcommand named first. A wrong guess costs a thread that exits with the
/// process; the command line is still parsed and checked as usual.
pub fn warm_up(mut args: impl Iterator<Item = std::ffi::OsString>) {
    let subcommand = args.nth(1);
    if subcommand.is_some_and(|s| RENDERING.iter().any(|r| s == *r)) {
        crate::chart::render::prepare();
    }
}

/// Run a command; the result is the process exit code (helm's, for the commands that run it).
pub fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Package(a) => package::run(&a),
        Command::Generate(a) => generate::run(&a),
        Command::Validate(a) => validate::run(&a),
        Command::Init(a) => init::run(&a),
        Command::Install(a) => deploy::install(&a),
        Command::Upgrade(a) => deploy::upgrade(&a),
        Command::Plan(a) => plan::run(&a),
        Command::Rollback(a) => rollback::run(&a),
        Command::Template(a) => deploy::template(&a),
        Command::Push(a) => push::run(&a),
        Command::Repo(RepoCommand::Index(a)) => repo_index::run(&a),
        Command::Schema => Ok(schema::run()),
        Command::Argocd(c) => argocd::run(&c),
        // Completion reads the clap tree; it gets it from here, so it does not depend on `cli`.
        Command::Complete(a) => Ok(complete::run(&Cli::command(), &a)),
        Command::CompletionYaml => Ok(complete::run_completion_yaml(&Cli::command())),
    }
}

/// Completion against the real command tree (the completion module only sees the tree it is
/// given).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::complete::{commands_help, complete, completion_yaml};

    #[test]
    fn the_warm_up_names_real_subcommands() {
        let cmd = Cli::command();
        for name in RENDERING {
            assert!(
                cmd.find_subcommand(name).is_some(),
                "{name} is no subcommand"
            );
        }
    }

    #[test]
    fn plugin_yaml_describes_every_subcommand() {
        // plugin.yaml's `description` is a block scalar indented by two spaces.
        let block: String = commands_help(&Cli::command())
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect();
        assert!(
            include_str!("../plugin.yaml").contains(&block),
            "plugin.yaml's description should list the subcommands as:\n{block}"
        );
    }

    #[test]
    fn the_committed_completion_yaml_matches_the_cli() {
        let committed = include_str!("../completion.yaml");
        assert_eq!(
            committed,
            completion_yaml(&Cli::command()),
            "completion.yaml is stale: run `cargo run -- __completion-yaml > completion.yaml`"
        );
    }

    #[test]
    fn completes_subcommands_and_flags() {
        let cli = Cli::command();
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let subs = complete(&cli, &words(&["pa"]));
        assert!(subs.starts_with("package\t"), "{subs}");
        assert!(subs.ends_with(":4\n"));
        // Flags come from completion.yaml through helm itself, so they are not repeated here.
        assert_eq!(
            complete(&cli, &words(&["package", "spec.yaml", "--des"])),
            ":4\n"
        );
        assert_eq!(complete(&cli, &words(&["package", ""])), ":0\n");
        // Flag values from a fixed set are listed; other flag values are paths or free text.
        assert_eq!(
            complete(&cli, &words(&["validate", "--output", ""])),
            "text\njson\n:4\n"
        );
        assert_eq!(
            complete(&cli, &words(&["validate", "-o", "j"])),
            "json\n:4\n"
        );
        assert_eq!(
            complete(&cli, &words(&["plan", "r", "s.yaml", "--output", ""])),
            "text\njson\n:4\n"
        );
        assert_eq!(
            complete(&cli, &words(&["init", "--schema-url", ""])),
            ":0\n"
        );
        assert_eq!(complete(&cli, &words(&["init", "--force", ""])), ":0\n");
        assert_eq!(complete(&cli, &words(&["validate", "-", ""])), ":0\n");
    }
}
