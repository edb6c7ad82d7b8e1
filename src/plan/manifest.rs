//! Multi-document manifests (`helm template`, `helm get manifest`) as objects keyed the way the
//! API server knows them: (API group, kind, namespace, name). Helm hooks are set apart: `helm get
//! manifest` leaves them out and helm recreates them on every upgrade, so they are not compared.

use serde::Serialize;
use serde_json::Value;

use crate::diag::{Error, printable};

/// Which object this is to the API server. The API version is left out (an object keeps its
/// identity from `autoscaling/v2beta2` to `autoscaling/v2`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// `apps`, `batch`...; empty for the core group (`v1`).
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// One object of a manifest.
#[derive(Clone, Debug)]
pub struct Object {
    pub key: ObjectKey,
    pub api_version: String,
    pub doc: Value,
    /// The template it came from (`templates/deployment.yaml`), from helm's `# Source:` line.
    pub template: Option<String>,
}

/// How an object is named in reports and JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Object {
    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.key.kind.clone(),
            namespace: self.key.namespace.clone(),
            name: self.key.name.clone(),
        }
    }

    /// `Kind/name`, as kubectl writes it.
    pub fn label(&self) -> String {
        format!("{}/{}", self.key.kind, self.key.name)
    }

    /// The value at a path of keys, e.g. `at(&["spec", "replicas"])`.
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(&self.doc, |v, k| v.get(*k))
    }

    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.key.group == group && self.key.kind == kind
    }
}

/// The objects of a manifest, and the hooks set apart.
#[derive(Debug, Default)]
pub struct Manifest {
    pub objects: Vec<Object>,
    pub hooks: Vec<Object>,
}

/// Parse a manifest. `origin` names it in errors (`helm get manifest shop`); objects without a
/// namespace get `namespace` (the release's), as helm installs them there.
pub fn parse(text: &str, origin: &str, namespace: &str) -> Result<Manifest, Error> {
    let mut out = Manifest::default();
    for (line, chunk) in documents(text) {
        let template = chunk.lines().find_map(|l| {
            l.strip_prefix("# Source: ")
                .map(|s| s.trim().split_once('/').map_or(s, |(_, t)| t).to_string())
        });
        let doc: Value = serde_saphyr::from_str_with_options(chunk, options()).map_err(|e| {
            Error::msg(format!(
                "{origin}: the document at line {line} is not valid YAML: {}",
                printable(&e.to_string())
            ))
        })?;
        if doc.is_null() {
            continue;
        }
        let text_at = |path: &[&str]| {
            path.iter()
                .try_fold(&doc, |v, k| v.get(*k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (Some(api_version), Some(kind), Some(name)) = (
            text_at(&["apiVersion"]),
            text_at(&["kind"]),
            text_at(&["metadata", "name"]),
        ) else {
            return Err(Error::msg(format!(
                "{origin}: the document at line {line} is not a Kubernetes object (it needs apiVersion, kind and metadata.name)"
            )));
        };
        let group = api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_string();
        let key = ObjectKey {
            group,
            kind,
            namespace: text_at(&["metadata", "namespace"]).unwrap_or_else(|| namespace.into()),
            name,
        };
        let hook = doc.pointer("/metadata/annotations/helm.sh~1hook").is_some();
        let object = Object {
            key,
            api_version,
            doc,
            template,
        };
        if hook {
            out.hooks.push(object);
        } else {
            out.objects.push(object);
        }
    }
    Ok(out)
}

/// Duplicate keys are allowed, the last one winning, as the API server's parser does.
fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    o
}

/// The documents of a YAML stream with the line each starts on. A document starts after a line
/// `---` (alone or followed by a space), as in YAML itself.
fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") {
            out.push((start_line, &text[start..offset]));
            start = offset + line.len();
            start_line = n + 2;
        }
        offset += line.len();
    }
    out.push((start_line, &text[start..]));
    out.retain(|(_, d)| !d.trim().is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "---\n# Source: web/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  ports: []\n---\n# Source: web/templates/hpa.yaml\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n---\n# Source: web/templates/job.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-upgrade\n---\n# only a comment\n";

    #[test]
    fn objects_are_keyed_by_group_kind_namespace_and_name() {
        let m = parse(TEXT, "test", "default").unwrap();
        assert_eq!(m.objects.len(), 2);
        assert_eq!(
            m.objects[0].key,
            ObjectKey {
                group: "".into(),
                kind: "Service".into(),
                namespace: "prod".into(),
                name: "web".into()
            }
        );
        assert_eq!(
            m.objects[0].template.as_deref(),
            Some("templates/service.yaml")
        );
        // No namespace in the document: the release's.
        assert_eq!(m.objects[1].key.group, "autoscaling");
        assert_eq!(m.objects[1].key.namespace, "default");
        assert_eq!(m.hooks.len(), 1);
        assert_eq!(m.hooks[0].label(), "Job/migrate");
    }

    #[test]
    fn bad_documents_are_named_by_line() {
        let e = parse("a: 1\n---\nkind: [\n", "helm template", "d")
            .unwrap_err()
            .render();
        assert!(e.contains("helm template") && e.contains("line 1"), "{e}");
        let e = parse("apiVersion: v1\nkind: X\n---\nb: [\n", "m", "d")
            .unwrap_err()
            .render();
        assert!(
            e.contains("line 1") && e.contains("Kubernetes object"),
            "{e}"
        );
        let e = parse(
            "---\napiVersion: v1\nkind: X\nmetadata: {name: a}\n---\nb: [\n",
            "m",
            "d",
        )
        .unwrap_err()
        .render();
        assert!(e.contains("line 6"), "{e}");
        assert!(parse("", "m", "d").unwrap().objects.is_empty());
    }
}
