//! Artifact Hub's Chart.yaml annotations (`artifacthub.io/*`), so a repository of generated
//! charts shows up properly there: the images the chart runs (for its vulnerability scanning),
//! the license, links, and the changes since the previous version when one is given. Each
//! annotation whose value is a list is a YAML document in a string, as Artifact Hub reads it,
//! written by the YAML emitter (never by hand), so no user text can break out of it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{Error, printable};
use crate::model::Service;

pub const IMAGES: &str = "artifacthub.io/images";
pub const LICENSE: &str = "artifacthub.io/license";
pub const LINKS: &str = "artifacthub.io/links";
pub const CHANGES: &str = "artifacthub.io/changes";

/// At most this many changes are listed; a last entry says how many more there were.
const MAX_CHANGES: usize = 30;

/// What the command line says about the chart for Artifact Hub.
#[derive(Clone, Debug, Default)]
pub struct HubMeta {
    /// An SPDX license identifier or expression (`Apache-2.0`, `MIT OR Apache-2.0`).
    pub license: Option<String>,
    /// (name, URL) pairs, in the order given.
    pub links: Vec<(String, String)>,
    /// The changes since the previous version, computed by the caller (kind, description).
    pub changes: Vec<Change>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// Artifact Hub's kinds: added, changed, removed (ours never claim fixed or security).
    pub kind: &'static str,
    pub description: String,
}

#[derive(Serialize)]
struct ImageEntry<'a> {
    name: &'a str,
    image: String,
}

#[derive(Serialize)]
struct LinkEntry<'a> {
    name: &'a str,
    url: &'a str,
}

/// Check `--license` and `--link` before anything is built.
pub fn check(meta: &HubMeta) -> Result<(), Error> {
    if let Some(l) = &meta.license {
        let ok = !l.is_empty()
            && l.len() <= 200
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || " .+-()".contains(c));
        if !ok {
            return Err(Error::msg(format!(
                "--license {}: not an SPDX license identifier or expression such as Apache-2.0 or \"MIT OR Apache-2.0\"",
                printable(l)
            )));
        }
    }
    for (name, url) in &meta.links {
        let url_ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > "https://".len()
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if name.trim().is_empty() || name.chars().any(char::is_control) || !url_ok {
            return Err(Error::msg(format!(
                "--link {}={}: give NAME=URL, an http(s) URL without spaces, e.g. --link source=https://github.com/acme/payments",
                printable(name),
                printable(url)
            )));
        }
    }
    Ok(())
}

/// The annotations for this chart.
pub fn annotations(
    service: &Service,
    meta: &HubMeta,
) -> Result<BTreeMap<&'static str, String>, Error> {
    let mut out = BTreeMap::new();
    let images = images(service);
    if !images.is_empty() {
        out.insert(IMAGES, yaml(&images)?);
    }
    if let Some(l) = &meta.license {
        out.insert(LICENSE, l.clone());
    }
    if !meta.links.is_empty() {
        let links: Vec<LinkEntry> = meta
            .links
            .iter()
            .map(|(name, url)| LinkEntry { name, url })
            .collect();
        out.insert(LINKS, yaml(&links)?);
    }
    if !meta.changes.is_empty() {
        let mut changes: Vec<Change> = meta.changes.iter().take(MAX_CHANGES).cloned().collect();
        if meta.changes.len() > MAX_CHANGES {
            changes.push(Change {
                kind: "changed",
                description: format!("{} more values", meta.changes.len() - MAX_CHANGES),
            });
        }
        out.insert(CHANGES, yaml(&changes)?);
    }
    Ok(out)
}

/// Every image the chart runs with a known repository: the service's (none for `image: AUTO`,
/// given at install time), then each init container's and sidecar's of its own.
fn images(service: &Service) -> Vec<ImageEntry<'_>> {
    let mut out = Vec::new();
    let main = &service.image;
    if let Some(repo) = &main.repository {
        let mut image = repo.clone();
        if let Some(t) = &main.tag {
            image.push(':');
            image.push_str(t);
        }
        if let Some(d) = &main.digest {
            image.push('@');
            image.push_str(d);
        }
        out.push(ImageEntry {
            name: &service.name,
            image,
        });
    }
    let extra = service
        .config
        .init_containers
        .iter()
        .chain(&service.config.sidecars);
    for c in extra {
        if let Some(image) = &c.image {
            out.push(ImageEntry {
                name: &c.name,
                image: image.clone(),
            });
        }
    }
    out
}

fn yaml<T: Serialize>(v: &T) -> Result<String, Error> {
    serde_saphyr::to_string(v).map_err(|e| {
        Error::msg(format!(
            "internal error writing an Artifact Hub annotation: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_and_links_are_checked() {
        let ok = HubMeta {
            license: Some("MIT OR Apache-2.0".into()),
            links: vec![("source".into(), "https://github.com/acme/x".into())],
            changes: vec![],
        };
        assert!(check(&ok).is_ok());
        let bad_license = HubMeta {
            license: Some("MIT\nfoo: bar".into()),
            ..HubMeta::default()
        };
        assert!(check(&bad_license).unwrap_err().render().contains("SPDX"));
        let bad_link = HubMeta {
            links: vec![("docs".into(), "javascript:alert(1)".into())],
            ..HubMeta::default()
        };
        assert!(check(&bad_link).unwrap_err().render().contains("NAME=URL"));
    }
}
