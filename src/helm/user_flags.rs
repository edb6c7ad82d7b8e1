//! The helm flags a user gives after `--`, sorted for the commands that render the chart the way
//! an upgrade will (`plan`, and the check inside `upgrade`): the flags that change the rendered
//! manifests are kept for `helm template`, and the values flags decide which of the release's
//! values helm reuses.

use std::ffi::OsString;

/// Flags that change what a chart renders to, and take a value.
const RENDER_WITH_VALUE: &[&str] = &[
    "--set",
    "--set-string",
    "--set-file",
    "--set-json",
    "--set-literal",
    "--values",
    "-f",
    "--post-renderer",
    "--post-renderer-args",
    "--kube-version",
    "--api-versions",
    "-a",
];

/// Of those, the ones that give values (helm's rule for reusing the release's values).
const VALUES: &[&str] = &[
    "--set",
    "--set-string",
    "--set-file",
    "--set-json",
    "--set-literal",
    "--values",
    "-f",
];

/// Boolean flags that change what a chart renders to.
const RENDER_SWITCHES: &[&str] = &["--skip-schema-validation", "--enable-dns"];

/// How `helm upgrade` treats the values of the release it upgrades.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OldValues {
    /// None of them (`--reset-values`, or new values given without a reuse flag).
    Dropped,
    /// The values the user gave the release (`--reset-then-reuse-values`, or no new values).
    User,
    /// Every value the release had, the old chart's defaults included (`--reuse-values`).
    All,
}

/// The user's flags as `helm template` needs them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RenderFlags {
    /// The flags that change the rendered manifests, in the order given.
    pub render: Vec<OsString>,
    /// Any --set*, -f or --values.
    pub gives_values: bool,
    reset: bool,
    reuse: bool,
    reset_then_reuse: bool,
}

impl RenderFlags {
    /// Sort the flags given after `--`. Anything else (--timeout, --create-namespace...) does not
    /// change the manifests and is left to the command that runs helm.
    pub fn from_user(user: &[OsString]) -> Self {
        let mut out = RenderFlags::default();
        let mut i = 0;
        while i < user.len() {
            let Some(arg) = user[i].to_str() else {
                i += 1;
                continue;
            };
            let (name, inline) = split_flag(arg);
            if RENDER_WITH_VALUE.contains(&name) {
                out.gives_values |= VALUES.contains(&name);
                out.render.push(user[i].clone());
                if inline.is_none() && i + 1 < user.len() {
                    out.render.push(user[i + 1].clone());
                    i += 1;
                }
            } else if RENDER_SWITCHES.contains(&name) {
                out.render.push(user[i].clone());
            } else {
                let on = inline.is_none_or(|v| v == "true");
                match name {
                    "--reset-values" => out.reset = on,
                    "--reuse-values" => out.reuse = on,
                    "--reset-then-reuse-values" => out.reset_then_reuse = on,
                    _ => {}
                }
            }
            i += 1;
        }
        out
    }

    /// Which of the release's values `helm upgrade` keeps with these flags (helm's
    /// `Upgrade.reuseValues`, the same in Helm 3 and 4).
    pub fn old_values(&self) -> OldValues {
        if self.reset {
            OldValues::Dropped
        } else if self.reuse {
            OldValues::All
        } else if self.reset_then_reuse || !self.gives_values {
            OldValues::User
        } else {
            OldValues::Dropped
        }
    }
}

/// `--name=value` → (`--name`, Some(value)); `-fFILE` and `-f=FILE` → (`-f`, Some(FILE)).
fn split_flag(arg: &str) -> (&str, Option<&str>) {
    if let Some(rest) = arg.strip_prefix("--") {
        return match rest.split_once('=') {
            Some((n, v)) => (&arg[..n.len() + 2], Some(v)),
            None => (arg, None),
        };
    }
    if arg.len() > 2 && arg.starts_with('-') && arg.is_char_boundary(2) {
        let (n, v) = arg.split_at(2);
        return (n, Some(v.strip_prefix('=').unwrap_or(v)));
    }
    (arg, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(a: &[&str]) -> RenderFlags {
        RenderFlags::from_user(&a.iter().map(OsString::from).collect::<Vec<_>>())
    }

    fn strs(f: &RenderFlags) -> Vec<String> {
        f.render
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn keeps_the_flags_that_change_the_manifests() {
        let f = flags(&[
            "--create-namespace",
            "--set",
            "a=b",
            "--timeout",
            "10m",
            "-fv.yaml",
            "--values=w.yaml",
            "--skip-schema-validation",
            "--post-renderer",
            "kustomize",
            "--description",
            "x",
        ]);
        assert_eq!(
            strs(&f),
            [
                "--set",
                "a=b",
                "-fv.yaml",
                "--values=w.yaml",
                "--skip-schema-validation",
                "--post-renderer",
                "kustomize"
            ]
        );
        assert!(f.gives_values);
        assert!(!flags(&["--post-renderer", "k", "--wait"]).gives_values);
    }

    #[test]
    fn helms_rule_for_the_release_values() {
        assert_eq!(flags(&[]).old_values(), OldValues::User);
        assert_eq!(flags(&["--timeout", "5m"]).old_values(), OldValues::User);
        assert_eq!(flags(&["--set", "a=1"]).old_values(), OldValues::Dropped);
        assert_eq!(flags(&["--reset-values"]).old_values(), OldValues::Dropped);
        assert_eq!(
            flags(&["--set", "a=1", "--reuse-values"]).old_values(),
            OldValues::All
        );
        assert_eq!(
            flags(&["-f", "x", "--reset-then-reuse-values"]).old_values(),
            OldValues::User
        );
        assert_eq!(
            flags(&["--set", "a=1", "--reuse-values=false"]).old_values(),
            OldValues::Dropped
        );
        assert_eq!(
            flags(&["--reuse-values", "--reset-values"]).old_values(),
            OldValues::Dropped
        );
    }
}
