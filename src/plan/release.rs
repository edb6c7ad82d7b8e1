//! The plan of an upgrade against a running release, read through helm: the revision helm will
//! upgrade from (`helm history`: the last deployed one), its manifest and the values helm will
//! reuse, the new chart rendered as the upgrade renders it, and the comparison. Shared by `plan`
//! and by the check `upgrade` makes before it touches the release.

use std::ffi::OsString;
use std::path::Path;

use super::{Manifest, Report, Target};
use crate::diag::{Error, printable};
use crate::helm::{self, HelmEnv, OldValues, RenderFlags, UpgradeBase};

/// The check inside `upgrade`, before helm touches the release: the plan of the upgrade is shown
/// on stderr, and `Some(exit code)` says it refuses (an impossible change, an outage or lost
/// capacity, without --accept-plan). A release that does not exist yet has nothing to compare:
/// `upgrade --install` installs it, plain `upgrade` lets helm say it is missing.
pub fn check_upgrade(
    helm: &Path,
    release: &str,
    chart: &Path,
    spec: &Path,
    user: &[OsString],
    accept: bool,
) -> Result<Option<i32>, Error> {
    let env = HelmEnv::from_env();
    let flags = RenderFlags::from_user(user);
    let Some(report) = release_plan(helm, release, chart, &env, &flags, spec)? else {
        return Ok(None);
    };
    if !report.changes.is_empty() {
        crate::say_raw!("{}", report.text());
    }
    if !report.blocks_upgrade {
        return Ok(None);
    }
    if accept {
        crate::say!("note: --accept-plan: upgrading anyway");
        return Ok(None);
    }
    crate::say!(
        "error: upgrade of {release} refused before touching it: {} (exit {}). Follow the way forward above; once done, or to go ahead anyway, add --accept-plan.",
        match report.exit_code {
            4 => "the API server would refuse a change",
            _ => "the change would cause an outage or lose running pods",
        },
        report.exit_code
    );
    Ok(Some(report.exit_code))
}

/// The release (the revision helm upgrades from) against the new chart, or None when there is
/// nothing to upgrade (no release, or an uninstalled one: `upgrade --install` installs).
pub fn release_plan(
    helm: &Path,
    release: &str,
    chart: &Path,
    env: &HelmEnv,
    flags: &RenderFlags,
    spec: &Path,
) -> Result<Option<Report>, Error> {
    let Some(history) = helm::get_history(helm, release, env)? else {
        return Ok(None);
    };
    let (base, skipped) = match helm::upgrade_base(release, &history)? {
        UpgradeBase::Install => return Ok(None),
        UpgradeBase::From { revision, skipped } => (revision, skipped),
    };
    if !skipped.is_empty() {
        let later: Vec<String> = skipped
            .iter()
            .map(|r| format!("{} ({})", r.revision, printable(&r.status)))
            .collect();
        crate::say!(
            "note: helm upgrades {} from revision {}, its last deployed one, not from the later revision(s) {}: so does this plan",
            printable(release),
            base.revision,
            later.join(", ")
        );
    }
    let Some(old_text) = helm::get_manifest(helm, release, Some(base.revision), env)? else {
        return Ok(None);
    };
    let revision = Some(base.revision);
    let values = match flags.old_values() {
        OldValues::Dropped => None,
        OldValues::User => helm::get_values(helm, release, revision, env, false)?,
        OldValues::All => {
            crate::say!(
                "warning: with --reuse-values helm keeps the values of the chart deployed now, so what SPEC changes does not reach the release; --reset-then-reuse-values keeps only the values you set"
            );
            helm::get_values(helm, release, revision, env, true)?
        }
    };
    let dir = tempfile::Builder::new()
        .prefix("helm-k8s-service-plan-")
        .tempdir()
        .map_err(|e| Error::msg(format!("cannot create a temporary directory: {e}")))?;
    let values_file = match values {
        Some(text) => {
            let path = dir.path().join("release-values.yaml");
            crate::fsutil::write_atomic(&path, text.as_bytes())?;
            Some(path)
        }
        None => None,
    };
    let args = helm::render_args(release, chart, env, values_file.as_deref(), &flags.render);
    let new_text = helm::render(helm, &args)?;
    let old = format!("release {release} (revision {})", base.revision);
    let target = target(release, env, old, spec);
    compare(&old_text, &new_text, &target).map(Some)
}

/// The namespace helm acts in.
pub fn namespace(env: &HelmEnv) -> String {
    env.namespace.clone().unwrap_or_else(|| "default".into())
}

/// Names for both sides; the way forward names SPEC, or `SPEC` when a chart is compared.
pub fn target(release: &str, env: &HelmEnv, old: String, new: &Path) -> Target {
    let spec = if crate::pipeline::is_chart(new) {
        "SPEC".to_string()
    } else {
        printable(&new.display().to_string())
    };
    Target {
        release: release.into(),
        namespace: namespace(env),
        old: printable(&old),
        new: printable(&new.display().to_string()),
        spec,
    }
}

/// Both manifests parsed and compared.
pub fn compare(old: &str, new: &str, target: &Target) -> Result<Report, Error> {
    let parse = |text: &str, what: &str| -> Result<Manifest, Error> {
        super::parse(text, what, &target.namespace)
    };
    let old = parse(old, &format!("the manifest of {}", target.old))?;
    let new = parse(new, &format!("helm template of {}", target.new))?;
    Ok(super::compare(&old, &new, target))
}
