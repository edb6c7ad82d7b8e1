//! Resolving a service's placeholders, and what an unresolved one must not hide: the service is
//! still read with the unresolved fields left out, so the model reports the other problems of
//! the file in the same run (the fields left out are masked: no error is reported about them).

use super::credentials;
use super::interpolate::{EnvChoice, Vars};
use super::raw::RawService;
use super::source::SpecSource;
use super::unpassable::unpassable;
use super::untouched::untouched;
use crate::diag::FieldPath;
use crate::diag::{Diagnostic, Error, Seg, SegRef};

/// What reading a service's placeholders found besides the values.
#[derive(Default)]
pub struct Resolved {
    /// Errors that do not stop validation (unresolved placeholders).
    pub errors: Vec<Diagnostic>,
    /// Fields left out because a placeholder in them is unresolved, as diagnostics spell them.
    pub masked: Vec<String>,
    pub warnings: Vec<String>,
}

/// Resolve placeholders in every string of a service and re-read it, so numeric fields written
/// as `"{vars.max}"` become numbers. Env vars holding credentials move to the Secret first.
pub fn resolve(
    source: &SpecSource,
    base: &FieldPath,
    raw: &mut RawService,
    vars: &Vars,
    choice: Option<&EnvChoice>,
) -> Result<Resolved, Error> {
    resolve_with(source, base, raw, vars, choice, true)
}

/// [`resolve`]; `fast`: skip the JSON round trip when it can change and report nothing (see
/// `untouched`; the tests run both ways and compare).
pub(super) fn resolve_with(
    source: &SpecSource,
    base: &FieldPath,
    raw: &mut RawService,
    vars: &Vars,
    choice: Option<&EnvChoice>,
    fast: bool,
) -> Result<Resolved, Error> {
    let internal =
        |e: serde_json::Error| Error::msg(format!("internal error re-reading the spec: {e}"));
    let mut out = Resolved {
        warnings: credentials::move_to_secret(raw, vars),
        ..Resolved::default()
    };
    if fast && untouched(&*raw) {
        return Ok(out);
    }
    let mut tree = serde_json::to_value(&*raw).map_err(internal)?;
    let mut embedded = Vec::new();
    credentials::embedded(&tree, base, &mut embedded);
    let mut failures = vars.apply_tree(&mut tree, base);
    // A credential placeholder is reported as that, not as a missing --var.
    failures.retain(|(path, _)| !embedded.iter().any(|e| &e.path == path));
    let mut bad = Vec::new();
    find_unpassable(&tree, base, &mut bad);
    if !bad.is_empty() {
        return Err(Error::Spec(
            bad.iter()
                .map(|(p, why)| source.diag(p, why.clone()))
                .collect(),
        ));
    }
    for e in &embedded {
        let mut d = source.diag(&e.path, format!(
            "`{}` looks like a credential, and here it would be written into the chart's values.yaml",
            e.placeholder
        ));
        d.help = Some(
            "read it from a Secret: an env var whose whole value is the placeholder does so by itself; in a longer value, compose it with $(NAME) from `env_refs: {DB_PASSWORD: {secret: NAME, key: password}}` (`postgres://app:$(DB_PASSWORD)@db/app`), or put the whole value into the Secret (`secrets:`)".into(),
        );
        out.errors.push(d);
        out.masked.push(field_of(source, &e.path));
        // Nothing of it reaches the chart, even when the model would accept the rest.
        leave_out(&mut tree, &relative(&e.path, base));
    }
    if !failures.is_empty() {
        let mut diags: Vec<Diagnostic> = Vec::new();
        for (path, u) in &failures {
            diags.push(source.diag(path, u.message_in(choice)));
        }
        // The tree's keys are sorted by name; the user reads the file from the top.
        diags.sort_by_key(|d| (d.line, d.column));
        if (vars.0.is_empty() || diags.len() > 1)
            && choice.is_none()
            && let Some(last) = diags.last_mut()
        {
            last.help = Some(
                "Opta resolved these at deploy time; a chart needs their values now. Pass one --var per placeholder".into(),
            );
        }
        // Read the rest without the unresolved fields; if even that fails, the placeholders
        // alone are the report, as before.
        let mut rest = tree.clone();
        for (path, _) in &failures {
            leave_out(&mut rest, &relative(path, base));
            out.masked.push(field_of(source, path));
        }
        match serde_json::from_value(rest) {
            Ok(r) => *raw = r,
            Err(_) => return Err(Error::Spec(diags)),
        }
        out.errors.splice(0..0, diags);
        return Ok(out);
    }
    *raw = serde_json::from_value(tree).map_err(internal)?;
    Ok(out)
}

/// How a diagnostic spells `path` (the source map may spell keys differently).
fn field_of(source: &SpecSource, path: &FieldPath) -> String {
    source
        .diag(path, "")
        .field
        .unwrap_or_else(|| path.to_string())
}

fn relative(path: &FieldPath, base: &FieldPath) -> FieldPath {
    FieldPath(path.0.get(base.0.len()..).unwrap_or_default().to_vec())
}

/// Remove the value at `path` from the tree: a mapping's key goes (the field is then absent);
/// an item of a list, or a field of a mapping inside a list (`env_vars[0].value`), becomes ""
/// so that the positions of the items after it stay right.
fn leave_out(tree: &mut serde_json::Value, path: &FieldPath) {
    let Some((last, parents)) = path.0.split_last() else {
        return;
    };
    let in_list = matches!(parents.last(), Some(Seg::Index(_)));
    let mut node = tree;
    for seg in parents {
        node = match (seg, node) {
            (Seg::Key(k), serde_json::Value::Object(m)) => match m.get_mut(k) {
                Some(n) => n,
                None => return,
            },
            (Seg::Index(i), serde_json::Value::Array(a)) => match a.get_mut(*i) {
                Some(n) => n,
                None => return,
            },
            _ => return,
        };
    }
    match (last, node) {
        (Seg::Key(k), serde_json::Value::Object(m)) if !in_list => {
            m.remove(k);
        }
        (Seg::Key(k), serde_json::Value::Object(m)) => {
            if let Some(v) = m.get_mut(k) {
                *v = serde_json::Value::String(String::new());
            }
        }
        (Seg::Index(i), serde_json::Value::Array(a)) => {
            if let Some(v) = a.get_mut(*i) {
                *v = serde_json::Value::String(String::new());
            }
        }
        _ => {}
    }
}

/// Every string (or key) that cannot reach a pod, by path, with the reason.
fn find_unpassable(
    value: &serde_json::Value,
    path: &FieldPath,
    out: &mut Vec<(FieldPath, String)>,
) {
    unpassable_at(value, path, &mut Vec::new(), out);
}

/// [`find_unpassable`] below `base` + `segs`: the segments borrow the tree's keys, and a path is
/// built only for a string that cannot pass.
fn unpassable_at<'a>(
    value: &'a serde_json::Value,
    base: &FieldPath,
    segs: &mut Vec<SegRef<'a>>,
    out: &mut Vec<(FieldPath, String)>,
) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(why) = unpassable(s) {
                out.push((base.join(segs), why));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                segs.push(SegRef::Index(i));
                unpassable_at(v, base, segs, out);
                segs.pop();
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                segs.push(SegRef::Key(k));
                if let Some(why) = unpassable(k) {
                    out.push((base.join(segs), why));
                }
                unpassable_at(v, base, segs, out);
                segs.pop();
            }
        }
        _ => {}
    }
}
