//! Reading any Helm chart archive the way Helm's loader does, with Helm's limits: at most
//! 5 MiB per file and 100 MiB per chart decompressed, the first path component stripped, no
//! parent or absolute paths. Only `Chart.yaml` is kept; everything else is read and counted.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use super::tar_walk::{MAX_FILE, MAX_TOTAL};

/// sha256 of each values.yaml found valid in this process by the full parse (a set of digests,
/// not of contents, so it stays small), at most `MAX_REMEMBERED` of them.
static VALID_VALUES: std::sync::Mutex<std::collections::BTreeSet<[u8; 32]>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());
const MAX_REMEMBERED: usize = 1 << 20;

thread_local! {
    /// The streaming walk's Chart.yaml and values.yaml, reused from archive to archive rather
    /// than grown anew for each (buffers this large are mapped and unmapped each time: see
    /// repo/heap.rs).
    static KEPT: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const {
        std::cell::RefCell::new((Vec::new(), Vec::new()))
    };
}

/// Chart.yaml as Helm defines it (`pkg/chart/metadata.go`); unknown keys are ignored on read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub api_version: String,
    pub app_version: Option<String>,
    pub description: Option<String>,
    pub home: Option<String>,
    pub icon: Option<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default, deserialize_with = "lenient_maintainers")]
    pub maintainers: Vec<Maintainer>,
    pub condition: Option<String>,
    pub tags: Option<String>,
    #[serde(default)]
    pub deprecated: bool,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
    pub kube_version: Option<String>,
    #[serde(default, deserialize_with = "lenient_dependencies")]
    pub dependencies: Vec<Dependency>,
    #[serde(rename = "type")]
    pub chart_type: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maintainer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Dependency {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_values: Option<serde_json::Value>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Chart.yaml's maintainers and dependencies, read without rejecting keys Helm ignores; the
/// strict types above are for writing and for reading our own index.
#[derive(Deserialize)]
struct LenientMaintainer {
    #[serde(default)]
    name: String,
    email: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct LenientDependency {
    #[serde(default)]
    name: String,
    version: Option<String>,
    repository: Option<String>,
    condition: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    enabled: Option<bool>,
    import_values: Option<serde_json::Value>,
    alias: Option<String>,
}

fn lenient_maintainers<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<Maintainer>, D::Error> {
    let v: Option<Vec<LenientMaintainer>> = Deserialize::deserialize(d)?;
    Ok(v.unwrap_or_default()
        .into_iter()
        .map(|m| Maintainer {
            email: m.email,
            name: m.name,
            url: m.url,
        })
        .collect())
}

fn lenient_dependencies<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<Dependency>, D::Error> {
    let v: Option<Vec<LenientDependency>> = Deserialize::deserialize(d)?;
    Ok(v.unwrap_or_default()
        .into_iter()
        .map(|x| Dependency {
            alias: x.alias,
            condition: x.condition,
            enabled: x.enabled,
            import_values: x.import_values,
            name: x.name,
            repository: x.repository,
            tags: x.tags,
            version: x.version,
        })
        .collect())
}

/// What the index needs from one archive.
#[derive(Debug)]
pub struct ArchiveInfo {
    pub metadata: Metadata,
    /// sha256 of the archive's bytes, lowercase hex.
    pub digest: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Read a chart archive's metadata; `Err` says why Helm would refuse it.
///
/// The archive is inflated whole into memory and its entries walked there; only when that is
/// not sure of the bytes (corrupt, truncated, unusual gzip) or of a rule (any refusal) does the
/// streaming reader read it again, and decide. Both walks see the same bytes and apply the
/// same rules, so the verdict and its words are the streaming reader's (tests and the fuzz
/// target `archive_read` compare the two).
pub fn read(bytes: &[u8]) -> Result<ArchiveInfo, String> {
    // Not gzip at all: the in-memory reader is not sure of it, the streaming one says so.
    read_in_memory(bytes).unwrap_or_else(|| read_streaming(bytes))
}

/// `read` by the streaming reader alone (for the tests and the fuzz target comparing the two).
#[doc(hidden)]
pub fn read_streaming(bytes: &[u8]) -> Result<ArchiveInfo, String> {
    if bytes.len() < 2 || bytes[..2] != [0x1f, 0x8b] {
        return Err("not a gzipped archive".into());
    }
    let mut kept = KEPT.with_borrow_mut(std::mem::take);
    let result =
        super::tar_walk::streaming(bytes, &mut kept).and_then(|found| finish(bytes, found));
    kept.0.clear();
    kept.1.clear();
    KEPT.with_borrow_mut(|k| *k = kept);
    result
}

/// The in-memory reader's verdict, if it is sure of `bytes` (`None`: the streaming reader decides).
#[doc(hidden)]
pub fn read_in_memory(bytes: &[u8]) -> Option<Result<ArchiveInfo, String>> {
    super::gunzip::with_gunzipped(bytes, |tar| {
        tar.and_then(super::tar_walk::in_memory)
            .map(|found| finish(bytes, found))
    })
}

/// The verdict on the two files an archive's walk found.
fn finish(bytes: &[u8], found: super::tar_walk::Found<'_>) -> Result<ArchiveInfo, String> {
    // Third-party charts are read as leniently as Helm reads them (go-yaml: last duplicate
    // wins), but a values.yaml Helm cannot parse makes the chart unloadable, so it is refused.
    let opts = || {
        let mut o = serde_saphyr::Options::default();
        o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
        o
    };
    if let Some(v) = found.values_yaml {
        // Invalid UTF-8 is read as before (replacement characters); valid UTF-8, nearly always,
        // is checked by the faster `from_utf8` and never copied.
        let t = match std::str::from_utf8(v) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(v),
        };
        let t = t.trim_start_matches('\u{feff}');
        // Most values.yaml files are certainly loadable by their events alone; any other goes
        // through the full parse, which decides. That parse is the costly part, and the
        // versions of one chart often ship the same values.yaml (the verdict depends on the
        // bytes alone): a valid one is remembered by digest, so each is parsed once. The
        // certain ones are cheaper to read again than to hash.
        if !crate::chart::loadable::certainly_loads(t) {
            let key: [u8; 32] = Sha256::digest(v).into();
            let known = VALID_VALUES
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&key);
            if !known {
                serde_saphyr::from_str_with_options::<Option<serde::de::IgnoredAny>>(t, opts())
                    .map_err(|e| format!("invalid values.yaml: {}", e.without_snippet()))?;
                let mut valid = VALID_VALUES.lock().unwrap_or_else(|p| p.into_inner());
                if valid.len() < MAX_REMEMBERED {
                    valid.insert(key);
                }
            }
        }
    }
    let Some(chart) = found.chart_yaml else {
        return Err("Chart.yaml file is missing".into());
    };
    let text = std::str::from_utf8(chart).map_err(|_| "Chart.yaml is not UTF-8".to_string())?;
    let text = text.trim_start_matches('\u{feff}');
    let metadata: Metadata = serde_saphyr::from_str_with_options(text, opts())
        .map_err(|e| format!("invalid Chart.yaml: {}", e.without_snippet()))?;
    validate(&metadata)?;
    Ok(ArchiveInfo {
        metadata,
        digest: sha256_hex(bytes),
    })
}

/// Helm's `Metadata.Validate`, which `helm repo add` applies to every entry: an index entry
/// that fails it is silently hidden from users, so we refuse to write one.
pub fn validate(m: &Metadata) -> Result<(), String> {
    if m.name.is_empty() {
        return Err("Chart.yaml: name is required".into());
    }
    if m.name.contains(['/', '\\']) || m.name == "." || m.name == ".." {
        return Err(format!(
            "Chart.yaml: chart name {:?} is not allowed",
            m.name
        ));
    }
    if m.version.is_empty() {
        return Err("Chart.yaml: version is required".into());
    }
    if parse_version(&m.version).is_none() {
        return Err(format!(
            "Chart.yaml: version {:?} is not a valid SemVer",
            m.version
        ));
    }
    if !matches!(
        m.chart_type.as_deref(),
        None | Some("") | Some("application") | Some("library")
    ) {
        return Err("Chart.yaml: type must be application or library".into());
    }
    if m.maintainers.iter().any(|x| x.name.is_empty()) {
        return Err("Chart.yaml: each maintainer requires a name".into());
    }
    if m.dependencies.iter().any(|d| d.name.is_empty()) {
        return Err("Chart.yaml: each dependency requires a name".into());
    }
    Ok(())
}

/// Versions as Helm (Masterminds semver) reads them: an optional `v`, and a missing minor or
/// patch counts as 0 (`1.0` is 1.0.0).
pub fn parse_version(v: &str) -> Option<semver::Version> {
    let v = v.strip_prefix('v').unwrap_or(v);
    if let Ok(p) = semver::Version::parse(v) {
        return Some(p);
    }
    let split = v.find(['-', '+']).unwrap_or(v.len());
    let (core, rest) = v.split_at(split);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut padded = parts
        .iter()
        .map(|p| p.trim_start_matches('0'))
        .map(|p| if p.is_empty() { "0" } else { p })
        .collect::<Vec<_>>();
    while padded.len() < 3 {
        padded.push("0");
    }
    semver::Version::parse(&format!("{}{rest}", padded.join("."))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut t = tar::Builder::new(gz);
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            // set_path refuses `..`; write the raw name the way a hostile archive would.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_cksum();
            t.append(&h, *data).unwrap();
        }
        t.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn reads_metadata_and_digest() {
        let bytes = tgz(&[(
            "demo/Chart.yaml",
            b"apiVersion: v2\nname: demo\nversion: 1.0\nappVersion: 1.10\nfoo: bar\n",
        )]);
        let info = read(&bytes).unwrap();
        assert_eq!(info.metadata.name, "demo");
        assert_eq!(info.metadata.version, "1.0");
        assert_eq!(info.metadata.app_version.as_deref(), Some("1.10"));
        assert_eq!(info.digest, sha256_hex(&bytes));
    }

    #[test]
    fn refuses_what_helm_refuses() {
        assert!(read(b"not gzip").unwrap_err().contains("gzip"));
        assert!(
            read(&tgz(&[("Chart.yaml", b"name: x\nversion: 1.0.0\n")]))
                .unwrap_err()
                .contains("outside")
        );
        assert!(
            read(&tgz(&[
                ("c/../../evil", b"x"),
                ("c/Chart.yaml", b"name: x\nversion: 1.0.0\n")
            ]))
            .unwrap_err()
            .contains("parent")
        );
        assert!(
            read(&tgz(&[("c/values.yaml", b"a: 1\n")]))
                .unwrap_err()
                .contains("missing")
        );
        assert!(
            read(&tgz(&[("c/Chart.yaml", b"name: x\nversion: one\n")]))
                .unwrap_err()
                .contains("SemVer")
        );
        assert!(
            read(&tgz(&[("c/Chart.yaml", b"name: ..\nversion: 1.0.0\n")]))
                .unwrap_err()
                .contains("not allowed")
        );
        let big = vec![b'a'; (MAX_FILE + 1) as usize];
        assert!(
            read(&tgz(&[
                ("c/Chart.yaml", b"name: x\nversion: 1.0.0\n"),
                ("c/big", &big)
            ]))
            .unwrap_err()
            .contains("maximum file size")
        );
        let mut truncated = tgz(&[("c/Chart.yaml", b"name: x\nversion: 1.0.0\n")]);
        truncated.truncate(truncated.len() / 2);
        assert!(read(&truncated).is_err());
    }

    #[test]
    fn versions_parse_like_helm() {
        assert_eq!(parse_version("1.0").unwrap().to_string(), "1.0.0");
        assert_eq!(parse_version("v2").unwrap().to_string(), "2.0.0");
        assert_eq!(
            parse_version("1.2.3-rc.1+b5").unwrap().to_string(),
            "1.2.3-rc.1+b5"
        );
        assert!(parse_version("one").is_none());
        assert!(parse_version("1.2.3.4").is_none());
    }
}
