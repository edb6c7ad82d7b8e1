//! `artifacthub-repo.yml`, the file Artifact Hub reads next to a chart repository's index.yaml:
//! the repository's ID (for the Verified publisher badge) and its owners (to claim it).

use std::path::Path;

use serde::Serialize;

use crate::diag::{Error, printable};

#[derive(Serialize)]
struct RepoFile<'a> {
    #[serde(rename = "repositoryID", skip_serializing_if = "Option::is_none")]
    repository_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    owners: Vec<Owner<'a>>,
}

#[derive(Serialize)]
struct Owner<'a> {
    name: &'a str,
    email: &'a str,
}

/// The file's text; the ID must be the UUID Artifact Hub gave the repository, each owner
/// `NAME=EMAIL`.
pub fn render(repository_id: Option<&str>, owners: &[(String, String)]) -> Result<String, Error> {
    if let Some(id) = repository_id.filter(|id| !is_uuid(id)) {
        return Err(Error::msg(format!(
            "--artifacthub-id {}: not a UUID such as 9d3c7b0e-7a4f-4a4b-9a3b-2d1e6f0c8a11 (Artifact Hub shows it in the repository's settings)",
            printable(id)
        )));
    }
    for (name, email) in owners {
        let email_ok = email.split_once('@').is_some_and(|(u, d)| {
            !u.is_empty() && d.contains('.') && !email.chars().any(|c| c.is_whitespace())
        });
        if name.trim().is_empty() || name.chars().any(char::is_control) || !email_ok {
            return Err(Error::msg(format!(
                "--artifacthub-owner {}={}: give NAME=EMAIL, e.g. --artifacthub-owner platform=platform@example.com",
                printable(name),
                printable(email)
            )));
        }
    }
    let file = RepoFile {
        repository_id,
        owners: owners
            .iter()
            .map(|(name, email)| Owner { name, email })
            .collect(),
    };
    let body = serde_saphyr::to_string(&file)
        .map_err(|e| Error::msg(format!("internal error writing artifacthub-repo.yml: {e}")))?;
    Ok(format!(
        "# Artifact Hub repository metadata, written by helm k8s-service repo index.\n{body}"
    ))
}

/// Write DIR/artifacthub-repo.yml atomically.
pub fn write(dir: &Path, text: &str) -> Result<std::path::PathBuf, Error> {
    let path = dir.join("artifacthub-repo.yml");
    crate::fsutil::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_and_owners() {
        let t = render(
            Some("9d3c7b0e-7a4f-4a4b-9a3b-2d1e6f0c8a11"),
            &[("platform".into(), "platform@example.com".into())],
        )
        .unwrap();
        assert!(
            t.contains("repositoryID: 9d3c7b0e-7a4f-4a4b-9a3b-2d1e6f0c8a11"),
            "{t}"
        );
        assert!(
            t.contains("- name: platform\n  email: platform@example.com"),
            "{t}"
        );
        assert!(
            render(Some("nope"), &[])
                .unwrap_err()
                .render()
                .contains("not a UUID")
        );
        assert!(
            render(None, &[("a".into(), "not-an-email".into())])
                .unwrap_err()
                .render()
                .contains("NAME=EMAIL")
        );
    }
}
