//! `helm k8s-service argocd generate`: the `generate` command of the Argo CD Config Management
//! Plugin (gitops/argocd/plugin.yaml). Reads the Application from Argo CD's environment
//! ([`crate::argocd`]), builds the chart of the spec in the current directory, renders it with
//! `helm template` and prints only the manifests; every message goes to stderr.

use clap::{Args, Subcommand};

use crate::argocd::CmpRequest;
use crate::diag::Error;
use crate::helm;
use crate::pipeline::{self, ChartMeta};

pub const LONG_HELP: &str =
    "Commands Argo CD runs, as a Config Management Plugin (see gitops/argocd/ and the README).";

pub const GENERATE_LONG_HELP: &str = "Render the application in the current directory as Argo CD asks: the spec (k8s-service.yaml, or\n\
the `spec` parameter) becomes a chart, rendered by `helm template` with\n\
  the release name    ARGOCD_APP_NAME\n\
  the namespace       ARGOCD_APP_NAMESPACE\n\
  --kube-version      KUBE_VERSION\n\
  --api-versions      each of KUBE_API_VERSIONS (comma-separated)\n\
  the environment     parameter `environment`, else ARGOCD_ENV_ENVIRONMENT (Opta files: --var env=)\n\
  the module          parameter `module`, else ARGOCD_ENV_MODULE\n\
  --values            parameter `valueFiles` (paths inside the source directory)\n\
  --set KEY=VALUE     parameter `values` (a map), in key order\n\
  --var KEY=VALUE     parameter `vars` (a map: Opta placeholders)\n\
  --set-string image.repository=  parameter `image` (before `values`)\n\
  --tag, --digest     parameters `tag` and `digest`\n\
Parameters come as JSON in ARGOCD_APP_PARAMETERS; unknown ones are an error.\n\n\
stdout holds the manifests only; warnings and errors go to stderr (Argo CD shows it). A render\n\
with no object is an error, never an empty success: with automated prune, an empty manifest\n\
would delete the application's resources. No network, no clock: the same commit and\n\
Application always render the same bytes.";

#[derive(Subcommand, Debug)]
pub enum ArgocdCommand {
    /// Render the application in the current directory (Argo CD's plugin `generate` command)
    #[command(long_about = GENERATE_LONG_HELP)]
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The application's source directory [default: the current directory, as Argo CD runs it]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

pub fn run(c: &ArgocdCommand) -> Result<i32, Error> {
    match c {
        ArgocdCommand::Generate(a) => generate(a),
    }
}

fn generate(a: &GenerateArgs) -> Result<i32, Error> {
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir()
            .map_err(|e| Error::msg(format!("cannot read the current directory: {e}")))?,
    };
    let request = CmpRequest::from_env(&|k| std::env::var(k).ok(), &dir)?;
    // No `helm version` first, unlike the other commands: a repo-server renders hundreds of
    // applications per refresh, and a second helm process each would double the cost; a helm
    // that cannot render says so through `helm template` itself.
    let helm = helm::locate()?;
    let (mut charts, messages) = pipeline::build_charts(&request.spec, &ChartMeta::default())?;
    messages.print();
    if charts.len() != 1 {
        let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
        return Err(Error::msg(format!(
            "the spec makes {} charts ({}): set the Application's `module` parameter (or plugin env MODULE) to one of them, one Application per module",
            charts.len(),
            names.join(", ")
        )));
    }
    let chart = charts.remove(0);
    let (_temp, paths) = helm::temp_archives(std::slice::from_ref(&chart))?;
    let args = request.template_args(&paths[0], &dir);
    let manifests = helm::render(&helm, &args)?;
    if !has_object(&manifests) {
        return Err(Error::msg(format!(
            "helm template of {} rendered no object: refusing to print an empty manifest (with automated prune, Argo CD would delete the application's resources)",
            chart.name
        )));
    }
    super::out(&manifests);
    Ok(0)
}

/// Whether a rendered stream holds at least one object (a document with a `kind`).
fn has_object(manifests: &str) -> bool {
    manifests
        .lines()
        .any(|l| l.starts_with("kind:") && l.len() > "kind:".len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_comment_only_render_has_no_object() {
        assert!(!has_object(""));
        assert!(!has_object("---\n# Source: x/templates/a.yaml\n"));
        assert!(has_object("---\napiVersion: v1\nkind: Service\n"));
    }
}
