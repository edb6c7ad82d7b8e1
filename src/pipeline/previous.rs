//! The previous version of a chart, for Artifact Hub's `artifacthub.io/changes`: its values,
//! read from the archive or chart directory that was published, or built from the spec as it was
//! (`git show v1.2.0:k8s-service.yaml > old.yaml`), and what changed since, value by value.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::chart::artifacthub::Change;
use crate::diag::{Error, printable};

/// values.yaml of a previous chart is read only up to this size (Helm's own limit for a file).
const MAX_VALUES: u64 = 5 * 1024 * 1024;

/// Builds a spec into each chart's (name, values).
pub type BuildValues<'a> = dyn Fn(&Path) -> Result<Vec<(String, Value)>, Error> + 'a;

/// The values of the previous version of chart `name`: `old` is a chart archive, a chart
/// directory, or a spec (built with `build`, which gives each chart's values by name).
pub fn previous_values(old: &Path, name: &str, build: &BuildValues) -> Result<Value, Error> {
    let shown = printable(&old.display().to_string());
    let text = if old.join("Chart.yaml").is_file() {
        std::fs::read_to_string(old.join("values.yaml"))
            .map_err(|e| Error::msg(format!("--changes-since {shown}: values.yaml: {e}")))?
    } else if super::chart_path::is_chart(old) {
        values_in_archive(old).map_err(|e| Error::msg(format!("--changes-since {shown}: {e}")))?
    } else {
        let charts = build(old)?;
        return charts
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| {
                Error::msg(format!(
                    "--changes-since {shown}: that spec makes no chart `{name}`"
                ))
            });
    };
    serde_saphyr::from_str(&text).map_err(|e| {
        Error::msg(format!(
            "--changes-since {shown}: values.yaml does not parse: {e}"
        ))
    })
}

/// values.yaml at the top of a chart archive (`NAME/values.yaml`).
fn values_in_archive(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
    let mut archive = tar::Archive::new(gz);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a chart archive: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("corrupt archive: {e}"))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mut parts = name.splitn(2, '/');
        let (_, rest) = (parts.next(), parts.next());
        if rest == Some("values.yaml") {
            let mut text = String::new();
            entry
                .take(MAX_VALUES)
                .read_to_string(&mut text)
                .map_err(|e| format!("values.yaml: {e}"))?;
            return Ok(text);
        }
    }
    Err("no values.yaml in the archive".into())
}

/// One Artifact Hub change per value that differs (lists of named items by name):
/// `image.tag: 2.7.1 → 2.8.0`.
pub fn changes_between(old: &Value, new: &Value) -> Vec<Change> {
    crate::plan::diff::deltas(Some(old), Some(new), "")
        .into_iter()
        .map(|d| {
            let kind = match (&d.old, &d.new) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            Change {
                kind,
                description: format!("{}: {}", d.path, d.brief()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_name_the_value_and_both_sides() {
        let old = json!({"image": {"tag": "2.7.1"}, "env": {"A": "1"}});
        let new = json!({"image": {"tag": "2.8.0"}, "env": {"B": "2"}});
        let c: Vec<(&str, String)> = changes_between(&old, &new)
            .into_iter()
            .map(|c| (c.kind, c.description))
            .collect();
        assert_eq!(
            c,
            [
                ("removed", "env.A: 1 → (none)".to_string()),
                ("added", "env.B: (none) → 2".to_string()),
                ("changed", "image.tag: 2.7.1 → 2.8.0".to_string()),
            ]
        );
    }
}
