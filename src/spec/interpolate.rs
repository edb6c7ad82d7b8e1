//! Opta interpolations: `{vars.x}`, `{env}`, `{layer_name}`, `{parent.domain}`, `{parent[domain]}`,
//! `{module.dns.domain}`, `${{module.db.host}}`, `{aws.region}`... and `<<name::type::help>>`
//! fill-in placeholders.
//!
//! Opta silently replaced anything it could not resolve with "", which deployed broken hosts.
//! Here every placeholder is resolved from `--var KEY=VALUE` (or the file), or refused with an
//! error that names it and the flag that resolves it. Text that is not one of these placeholders,
//! such as `{{ .Release.Name }}` or JSON, is left exactly as written.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diag::{FieldPath, Seg};

/// The first word of every placeholder Opta understood.
const ROOTS: &[&str] = &[
    "vars",
    "variables",
    "env",
    "layer_name",
    "parent_name",
    "parent",
    "module",
    "aws",
    "google",
    "azurerm",
    "region",
    "state_storage",
    "kubeconfig",
    "k8s_access_token",
];

/// Values for placeholders, keyed by the name a user passes to `--var`.
#[derive(Clone, Debug, Default)]
pub struct Vars(pub BTreeMap<String, String>);

/// A placeholder that nothing resolves.
#[derive(Debug, PartialEq)]
pub struct Unresolved {
    pub placeholder: String,
    pub var: String,
}

impl Unresolved {
    pub fn message(&self) -> String {
        format!(
            "placeholder `{}` is not resolved: pass --var {}=VALUE",
            self.placeholder, self.var
        )
    }
}

/// The environments of an Opta file when none was chosen (several, no `--var env=`): an
/// unresolved placeholder that one of them would set says to choose one, not to pass it.
#[derive(Clone, Debug, Default)]
pub struct EnvChoice {
    pub names: Vec<String>,
    /// The variables any of them sets.
    pub sets: std::collections::BTreeSet<String>,
}

impl Unresolved {
    /// [`message`](Self::message), pointing at `--var env=` when choosing an environment is
    /// what resolves it.
    pub fn message_in(&self, choice: Option<&EnvChoice>) -> String {
        match choice {
            Some(c) if !c.names.is_empty() && (self.var == "env" || c.sets.contains(&self.var)) => {
                format!(
                    "placeholder `{}` is not resolved: this file has environments {}{}: pass --var env={} (or another of them)",
                    self.placeholder,
                    c.names.join(", "),
                    if self.var == "env" {
                        ""
                    } else {
                        ", whose variables set it"
                    },
                    c.names[0]
                )
            }
            _ => self.message(),
        }
    }
}

impl Vars {
    /// Replace every placeholder in `text`.
    pub fn apply(&self, text: &str) -> Result<String, Unresolved> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((start, len, key)) = next_placeholder(rest) {
            out.push_str(&rest[..start]);
            let placeholder = &rest[start..start + len];
            match self.0.get(&key) {
                Some(v) => out.push_str(v),
                None => {
                    return Err(Unresolved {
                        placeholder: placeholder.to_string(),
                        var: key,
                    });
                }
            }
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Interpolate every string of a JSON tree in place; returns each failure with its path.
    pub fn apply_tree(&self, value: &mut Value, path: &FieldPath) -> Vec<(FieldPath, Unresolved)> {
        let mut failures = Vec::new();
        self.walk(value, &mut path.clone(), &mut failures);
        failures
    }

    /// One path, extended and cut back as the walk goes: a path is copied only for a failure.
    fn walk(
        &self,
        value: &mut Value,
        path: &mut FieldPath,
        failures: &mut Vec<(FieldPath, Unresolved)>,
    ) {
        match value {
            // Every placeholder form starts with `{`, `${{` or `<<`: a string with neither
            // character stays as it is (no copy).
            Value::String(s) if !s.bytes().any(|b| b == b'{' || b == b'<') => {}
            Value::String(s) => match self.apply(s) {
                Ok(new) => *s = new,
                Err(u) => failures.push((path.clone(), u)),
            },
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    path.0.push(Seg::Index(i));
                    self.walk(item, path, failures);
                    path.0.pop();
                }
            }
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    path.0.push(Seg::Key(k.clone()));
                    self.walk(v, path, failures);
                    path.0.pop();
                }
            }
            _ => {}
        }
    }
}

/// Every placeholder in `s`, as written, with the `--var` key that resolves it.
pub fn placeholders(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((start, len, key)) = next_placeholder(rest) {
        out.push((rest[start..start + len].to_string(), key));
        rest = &rest[start + len..];
    }
    out
}

/// Find the next placeholder in `s`: (byte offset, byte length, the `--var` key that resolves it).
fn next_placeholder(s: &str) -> Option<(usize, usize, String)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // `${{module.x.y}}`: Opta's escape for a Terraform reference.
            b'$' if s[i..].starts_with("${{") => {
                if let Some(end) = s[i + 3..].find("}}") {
                    let inner = &s[i + 3..i + 3 + end];
                    if is_reference(inner) {
                        return Some((i, end + 5, normalize(inner)));
                    }
                }
                i += 1;
            }
            // `{{ ... }}` is literal text (a Helm or Jinja template the user wants verbatim).
            b'{' if s[i..].starts_with("{{") => {
                i += match s[i + 2..].find("}}") {
                    Some(end) => end + 4,
                    None => 2,
                };
            }
            b'{' => {
                if let Some(end) = s[i + 1..].find('}') {
                    let inner = &s[i + 1..i + 1 + end];
                    if is_reference(inner) {
                        return Some((i, end + 2, normalize(inner)));
                    }
                }
                i += 1;
            }
            // `<<name::type::description>>`: a fill-in marker from Opta's example files.
            b'<' if s[i..].starts_with("<<") => {
                if let Some(end) = s[i + 2..].find(">>") {
                    let inner = &s[i + 2..i + 2 + end];
                    if let Some((name, _)) = inner.split_once("::")
                        && is_identifier(name)
                    {
                        return Some((i, end + 4, name.to_string()));
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `vars.x`, `parent[domain]`, `module.db.host`: a known root followed by `.name` or `[name]` parts.
fn is_reference(inner: &str) -> bool {
    let root_end = inner.find(['.', '[']).unwrap_or(inner.len());
    let (root, mut rest) = inner.split_at(root_end);
    if !ROOTS.contains(&root) {
        return false;
    }
    while !rest.is_empty() {
        let (part, next) = if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            (&r[..end], &r[end..])
        } else if let Some(r) = rest.strip_prefix('[') {
            match r.find(']') {
                Some(end) => (&r[..end], &r[end + 1..]),
                None => return false,
            }
        } else {
            return false;
        };
        if part.is_empty()
            || !part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return false;
        }
        rest = next;
    }
    true
}

/// The `--var` key for a reference: `vars.x` → `x`, `parent[domain]` → `parent.domain`.
fn normalize(inner: &str) -> String {
    let dotted = inner.replace('[', ".").replace(']', "");
    for prefix in ["vars.", "variables."] {
        if let Some(rest) = dotted.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    dotted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn resolves_every_opta_form() {
        let v = vars(&[
            ("domain", "example.com"),
            ("parent.domain", "p.example.com"),
            ("env", "staging"),
            ("module.db.host", "db:5432"),
            ("org", "acme"),
        ]);
        assert_eq!(v.apply("api.{vars.domain}/x").unwrap(), "api.example.com/x");
        assert_eq!(v.apply("{parent[domain]}").unwrap(), "p.example.com");
        assert_eq!(
            v.apply("{parent.domain}/{env}").unwrap(),
            "p.example.com/staging"
        );
        assert_eq!(v.apply("${{module.db.host}}").unwrap(), "db:5432");
        assert_eq!(v.apply("<<org::org_name::Your org>>-x").unwrap(), "acme-x");
    }

    #[test]
    fn unresolved_placeholders_name_the_flag() {
        let err = Vars::default().apply("a.{parent[domain]}").unwrap_err();
        assert_eq!(err.placeholder, "{parent[domain]}");
        assert_eq!(err.var, "parent.domain");
        assert!(err.message().contains("--var parent.domain=VALUE"));
        let err = Vars::default().apply("{module.dns.domain}").unwrap_err();
        assert_eq!(err.var, "module.dns.domain");
        let err = Vars::default()
            .apply("<<domain::string::Your domain>>")
            .unwrap_err();
        assert_eq!(err.var, "domain");
    }

    #[test]
    fn other_braces_are_left_exactly_as_written() {
        let v = Vars::default();
        for s in [
            "{{ .Release.Name }}",
            "{\"a\": 1}",
            "{foo}",
            "{}",
            "${HOME}",
            "a << b",
            "{{vars.x}}",
            "{vars.}",
            "<<x>>",
        ] {
            assert_eq!(v.apply(s).unwrap(), s, "{s}");
        }
    }

    #[test]
    fn trees_report_the_path_of_each_failure() {
        let mut t = serde_json::json!({"env_vars": [{"name": "A", "value": "{vars.x}"}], "n": 1});
        let fails = Vars::default().apply_tree(&mut t, &FieldPath::root());
        assert_eq!(fails.len(), 1);
        assert_eq!(fails[0].0.to_string(), "env_vars[0].value");
    }
}
