//! The data model of a repository's `index.yaml` (Helm's `IndexFile` and `ChartVersion`), shared
//! by the serde reader/writer in `repo` and the fast reader of our own layout in `own_index`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::chart_archive::{Dependency, Maintainer, Metadata};

/// One chart version in an index: Helm's `ChartVersion` (metadata + urls, created, digest).
/// Fields are in alphabetical order because Helm writes them that way (sigs.k8s.io/yaml).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entry {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintainers: Vec<Maintainer>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub removed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub chart_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default)]
    pub version: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `index.yaml` (Helm's `IndexFile`). Helm reads it strictly: an unknown key anywhere rejects
/// the whole repository, so this type is the exact key set.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Index {
    pub api_version: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<Entry>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_info: Option<BTreeMap<String, String>>,
}

impl Index {
    /// An index with this one's header and tail (`apiVersion`, `generated`) around `entries`,
    /// for emitting some of its names on their own (`splice`, `emit_check`): the emitter writes
    /// it as this index's header and tail around those names' sections. `None` when this index
    /// has other parts (annotations, public keys, server info), which that would leave out.
    pub(super) fn with_entries(&self, entries: BTreeMap<String, Vec<Entry>>) -> Option<Index> {
        let header_and_tail_only = self.annotations.is_empty()
            && self.public_keys.is_empty()
            && self.server_info.is_none();
        header_and_tail_only.then(|| Index {
            api_version: self.api_version.clone(),
            entries,
            generated: self.generated.clone(),
            ..Index::default()
        })
    }
}

impl Entry {
    pub(super) fn from_archive(m: Metadata, digest: String, url: String, created: String) -> Entry {
        Entry {
            annotations: m.annotations,
            // Helm's MustAdd: a chart without apiVersion is a v1 chart.
            api_version: if m.api_version.is_empty() {
                "v1".into()
            } else {
                m.api_version
            },
            app_version: m.app_version,
            condition: m.condition,
            created: Some(created),
            dependencies: m.dependencies,
            deprecated: m.deprecated,
            description: m.description,
            digest: Some(digest),
            home: m.home,
            icon: m.icon,
            keywords: m.keywords,
            kube_version: m.kube_version,
            maintainers: m.maintainers,
            name: m.name,
            removed: false,
            sources: m.sources,
            tags: m.tags,
            chart_type: m.chart_type,
            urls: vec![url],
            version: m.version,
        }
    }
}
