//! Credentials never go into values.yaml. Opta filled `${{module.pg.db_password}}` from its
//! Terraform state at deploy time; the obvious replacement, `--var`, would write the password in
//! clear text into the chart's values.yaml (and so into the archive, every release Secret Helm
//! keeps, and `helm get values`). So an env var whose whole value is a placeholder that looks like
//! a credential, or whose own name does, is read from the service's Secret instead (its name joins
//! `secrets`), with a warning naming the `kubectl create secret` command; a credential placeholder
//! inside a longer value cannot be split off and is an error explaining how to do it.

use super::interpolate::{Vars, placeholders};
use super::raw::RawService;
use crate::diag::{FieldPath, SegRef, printable};

/// Words that mark a name as a credential (compared lowercased, `-` and `.` read as `_`).
const WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "credential",
    "private_key",
    "access_key",
    "client_key",
];

pub fn looks_like_credential(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', '.'], "_");
    WORDS.iter().any(|w| n.contains(w))
}

/// A placeholder that looks like a credential where it cannot be read from a Secret.
pub struct Embedded {
    pub path: FieldPath,
    pub placeholder: String,
}

/// Move every env var whose value is exactly one credential placeholder (or one placeholder under
/// a credential name) into `secrets`.
pub fn move_to_secret(raw: &mut RawService, vars: &Vars) -> Vec<String> {
    let mut warnings = Vec::new();
    let Some(env) = raw.env_vars.as_mut() else {
        return warnings;
    };
    let secret = match (&raw.secret_name, &raw.name) {
        (Some(s), _) => printable(s),
        (None, Some(chart)) => format!(
            "<release>-{}-secrets",
            printable(&chart.to_ascii_lowercase())
        ),
        (None, None) => "<release>-<chart>-secrets".to_string(),
    };
    let mut keys = Vec::new();
    env.0.retain(|(name, value)| {
        let found = placeholders(value);
        let whole = found.len() == 1 && found[0].0.len() == value.len();
        if whole && (looks_like_credential(&found[0].1) || looks_like_credential(name)) {
            let (placeholder, key) = &found[0];
            let passed = vars.0.contains_key(key);
            warnings.push(format!(
                "env var {name}: `{placeholder}` looks like a credential, so the pods read it from the Secret `{secret}` (key {name}) instead of values.yaml{}; create it before installing: kubectl create secret generic {secret} --from-file={name}=PATH (or --from-literal={name}=VALUE)",
                if passed { format!(" (the value given with --var {key} is not written into the chart)") } else { String::new() }
            ));
            keys.push(name.clone());
            return false;
        }
        true
    });
    let secrets = raw.secrets.get_or_insert_with(Vec::new);
    for k in keys {
        if !secrets.contains(&k) {
            secrets.push(k);
        }
    }
    warnings
}

/// Every credential placeholder left in the tree (after `move_to_secret`): inside a longer env
/// var value, a command, a config file... where no Secret can stand in for it.
pub fn embedded(tree: &serde_json::Value, path: &FieldPath, out: &mut Vec<Embedded>) {
    embedded_at(tree, path, &mut Vec::new(), out);
}

/// [`embedded`] below `base` + `segs`: the segments borrow the tree's keys, and a path is built
/// only for what is reported.
fn embedded_at<'a>(
    tree: &'a serde_json::Value,
    base: &FieldPath,
    segs: &mut Vec<SegRef<'a>>,
    out: &mut Vec<Embedded>,
) {
    match tree {
        // No placeholder form without `{` or `<` (see interpolate::next_placeholder).
        serde_json::Value::String(s) if !s.bytes().any(|b| b == b'{' || b == b'<') => {}
        serde_json::Value::String(s) => {
            if let Some((placeholder, _)) = placeholders(s)
                .into_iter()
                .find(|(_, k)| looks_like_credential(k))
            {
                out.push(Embedded {
                    path: base.join(segs),
                    placeholder: printable(&placeholder),
                });
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                segs.push(SegRef::Index(i));
                embedded_at(v, base, segs, out);
                segs.pop();
            }
        }
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                segs.push(SegRef::Key(k));
                embedded_at(v, base, segs, out);
                segs.pop();
            }
        }
        _ => {}
    }
}

/// Warnings for `--var` values under credential names: they are written into values.yaml
/// wherever a placeholder uses them (other than a whole env var value, which goes to the Secret).
pub fn flag_warnings(flags: &[(String, String)]) -> Vec<String> {
    flags
        .iter()
        .filter(|(k, _)| looks_like_credential(k))
        .map(|(k, _)| format!(
            "--var {}: the name looks like a credential, and a value on the command line stays in shell history; it is never written into the chart (an env var that is only this placeholder reads the Secret instead, and any other use is an error): create the Secret with kubectl from a file instead",
            printable(k)
        ))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_are_recognised() {
        for yes in [
            "db_password",
            "module.pg.db_password",
            "API_KEY",
            "apiKey",
            "github-token",
            "client_secret",
            "AWS_SECRET_ACCESS_KEY",
            "gcp.credentials",
            "PASSWD",
        ] {
            assert!(looks_like_credential(yes), "{yes}");
        }
        for no in ["db_host", "domain", "LOG_LEVEL", "env", "module.pg.db_user"] {
            assert!(!looks_like_credential(no), "{no}");
        }
    }
}
