//! Whether a path names a chart rather than a spec.

use std::path::Path;

/// A chart directory (with a Chart.yaml) or archive rather than a spec: what `plan`, its `--from`
/// and `--changes-since` also take.
pub fn is_chart(path: &Path) -> bool {
    let name = path.to_string_lossy();
    path.join("Chart.yaml").is_file() || name.ends_with(".tgz") || name.ends_with(".tar.gz")
}
