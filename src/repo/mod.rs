//! `repo index`: the `index.yaml` of a chart repository, as Helm 3.17 and 4.x read it.
//!
//! Unlike `helm repo index`, nothing is lost or silently skipped: every archive that cannot be
//! read is reported by name (exit 1, nothing written); `--merge` keeps every old entry and the
//! `created` and digest of unchanged archives, and refuses a changed archive under an existing
//! version unless forced; a lock file serializes concurrent runs on one directory; the index is
//! replaced atomically. Output is deterministic: the same archives give the same bytes.

pub mod artifacthub_repo;
pub mod chart_archive;
mod emit_check;
mod gunzip;
mod heap;
mod index_file;
mod own_index;
#[cfg(test)]
mod readers_agree;
mod splice;
mod tar_walk;
mod time;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diag::{Error, printable};
pub use index_file::{Entry, Index};

#[derive(Clone, Debug, Default)]
pub struct IndexOptions {
    pub url: Option<String>,
    pub merge: Option<PathBuf>,
    pub force: bool,
}

/// The outcome of a run, for the user.
#[derive(Debug, Default)]
pub struct Report {
    pub added: usize,
    pub unchanged: usize,
    pub replaced: Vec<String>,
    pub kept: usize,
    pub path: PathBuf,
}

/// The archives Helm indexes: `DIR/*.tgz` and `DIR/*/*.tgz`, as paths relative to DIR.
fn find_archives(dir: &Path) -> Result<Vec<String>, Error> {
    let read = |d: &Path| {
        std::fs::read_dir(d).map_err(|e| Error::msg(format!("cannot read {}: {e}", d.display())))
    };
    // (is a directory, is a file), following symlinks. The listing already gives the kind of
    // everything else, which saves a stat a file (two, for 10,000 archives, cost 20 ms).
    let kind = |e: &std::fs::DirEntry| match e.file_type() {
        Ok(t) if !t.is_symlink() => (t.is_dir(), t.is_file()),
        _ => {
            let p = e.path();
            (p.is_dir(), p.is_file())
        }
    };
    let mut out = Vec::new();
    for entry in read(dir)? {
        let entry = entry.map_err(|e| Error::msg(format!("cannot read {}: {e}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let (is_dir, is_file) = kind(&entry);
        if is_dir {
            for inner in read(&path)? {
                let inner = inner
                    .map_err(|e| Error::msg(format!("cannot read {}: {e}", path.display())))?;
                let inner_name = inner.file_name().to_string_lossy().into_owned();
                if inner_name.ends_with(".tgz") && kind(&inner).1 {
                    out.push(format!("{name}/{inner_name}"));
                }
            }
        } else if name.ends_with(".tgz") && is_file {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// One archive read: its metadata and digest and its mtime, or why Helm would refuse it.
type ReadResult = Result<(chart_archive::ArchiveInfo, std::time::SystemTime), String>;

/// Read every archive in parallel (the work is gunzip, YAML and sha256), each result by name.
fn read_archives(dir: &Path, names: &[String]) -> Vec<(String, ReadResult)> {
    crate::parallel::map(names, |name| (name.clone(), read_archive(&dir.join(name))))
}

fn read_archive(path: &Path) -> ReadResult {
    thread_local! {
        /// One read buffer a thread, reused rather than allocated (and, at this size, mapped and
        /// unmapped: see heap.rs) for every archive.
        static BYTES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BYTES.with_borrow_mut(|bytes| read_archive_into(path, bytes))
}

fn read_archive_into(path: &Path, bytes: &mut Vec<u8>) -> ReadResult {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read: {e}");
    // One open and one fstat give both the bytes and the mtime of the same file.
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    // Read into a buffer of the size fstat gave (one more byte, to see the end): `fs::read` and
    // `File::read_to_end` would stat and seek again to size it.
    bytes.clear();
    bytes.resize(
        usize::try_from(meta.len()).unwrap_or(0).saturating_add(1),
        0,
    );
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            bytes.resize(filled * 2, 0);
        }
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot(e)),
        }
    }
    bytes.truncate(filled);
    let mtime = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
    chart_archive::read(bytes).map(|info| (info, mtime))
}

/// Load an index strictly (what Helm would reject, we reject, naming the file).
pub fn load(path: &Path) -> Result<Index, Error> {
    load_keeping_text(path).map(|(index, _, _)| index)
}

/// `load`, also giving back the buffer the file was read into, with room to spare: a merge
/// writes its new index into it, whose pages are already mapped (a fresh buffer of several MiB
/// is mostly the kernel zeroing pages), and where its parts are when the fast reader read it.
fn load_keeping_text(path: &Path) -> Result<(Index, String, Option<own_index::Layout>), Error> {
    use std::io::Read;
    let cannot = |e: std::io::Error| Error::msg(format!("cannot read {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let len = file
        .metadata()
        .map(|m| usize::try_from(m.len()).unwrap_or(0))
        .unwrap_or(0);
    // Spare room for the entries a merge adds; untouched, it costs address space only.
    let mut text = String::with_capacity(len.saturating_add(len / 8).saturating_add(1 << 20));
    file.read_to_string(&mut text).map_err(cannot)?;
    // The default budget (250,000 nodes) is for hand-written YAML; an index has about 25 nodes a
    // chart version, so it refused indexes of 10,000 versions. Without aliases, node, event and
    // scalar-byte counts cannot outgrow the text (at least a byte a node, about two events a
    // node), so limits proportional to its length cost no protection; what aliases expand stays
    // bounded by the unchanged alias limits.
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_nodes = budget.max_nodes.max(text.len());
    budget.max_events = budget.max_events.max(text.len().saturating_mul(2));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(text.len());
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // An index we wrote is read back by a reader of our own layout, several times faster; the
    // emitter reproducing the file exactly is what shows it read what the YAML parser would.
    let fast = own_index::parse_with_layout(&text)
        .and_then(|(mut i, l)| emit_check::emits_exactly(&mut i, &text, &l).then_some((i, l)));
    let (index, layout) = match fast {
        Some((index, layout)) => (index, Some(layout)),
        None => (
            serde_saphyr::from_str_with_options(&text, options).map_err(|e| {
                Error::msg(format!(
                    "{} is not a valid chart repository index: {}",
                    path.display(),
                    e.without_snippet()
                ))
            })?,
            None,
        ),
    };
    if index.api_version.is_empty() {
        return Err(Error::msg(format!(
            "{}: apiVersion is required",
            path.display()
        )));
    }
    for (name, versions) in &index.entries {
        for v in versions {
            if v.name != *name || v.version.is_empty() {
                return Err(Error::msg(format!(
                    "{}: the entry {}/{} is invalid (every entry needs the name it is listed under and a version)",
                    path.display(),
                    printable(name),
                    printable(&v.version)
                )));
            }
        }
    }
    Ok((index, text, layout))
}

/// Build (or merge into) `DIR/index.yaml`.
pub fn index(dir: &Path, opts: &IndexOptions) -> Result<Report, Error> {
    if !dir.is_dir() {
        return Err(Error::msg(format!("{} is not a directory", dir.display())));
    }
    let out_path = dir.join("index.yaml");
    // One writer at a time: the lock covers scanning, merging and writing.
    let lock_path = dir.join("index.yaml.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            Error::msg(format!(
                "cannot create the lock file {}: {e}",
                lock_path.display()
            ))
        })?;
    lock.lock()
        .map_err(|e| Error::msg(format!("cannot lock {}: {e}", lock_path.display())))?;

    let (mut old, mut out, layout) = match &opts.merge {
        Some(p) if p.exists() => load_keeping_text(p)?,
        _ => (Index::default(), String::new(), None),
    };
    let names = find_archives(dir)?;
    heap::return_large_buffers();
    let mut bad = Vec::new();
    let mut report = Report {
        path: out_path.clone(),
        ..Report::default()
    };
    let mut fresh: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    let base = opts
        .url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_string());
    for (name, result) in read_archives(dir, &names) {
        match result {
            Err(why) => bad.push(format!("{name}: {why}")),
            Ok((info, mtime)) => {
                let url = match &base {
                    Some(b) => format!("{b}/{name}"),
                    None => name.clone(),
                };
                let entry =
                    Entry::from_archive(info.metadata, info.digest, url, time::rfc3339(mtime));
                fresh.entry(entry.name.clone()).or_default().push(entry);
            }
        }
    }
    if !bad.is_empty() {
        return Err(Error::msg(format!(
            "{} archive(s) in {} cannot be indexed; nothing was written:\n  {}",
            bad.len(),
            dir.display(),
            bad.join("\n  ")
        )));
    }
    // Two files holding the same chart version would give one name two meanings.
    for (name, versions) in &fresh {
        let mut seen: BTreeMap<&str, &Entry> = BTreeMap::new();
        for v in versions {
            if let Some(first) = seen.insert(&v.version, v) {
                return Err(Error::msg(format!(
                    "{name} {} is in two archives ({} and {}); keep one",
                    v.version,
                    first.urls.join(""),
                    v.urls.join("")
                )));
            }
        }
    }

    // Merge: exact (name, version) keys; an unchanged archive keeps its old entry verbatim.
    let mut merged: BTreeMap<String, Vec<Entry>> = std::mem::take(&mut old.entries);
    let old_keys: Vec<(String, String, Option<String>)> = merged
        .values()
        .flatten()
        .map(|e| (e.name.clone(), e.version.clone(), e.digest.clone()))
        .collect();
    // The names whose versions may differ from the old file's (see splice.rs).
    let mut changed: std::collections::BTreeSet<String> = fresh.keys().cloned().collect();
    let mut conflicts = Vec::new();
    for (name, versions) in fresh {
        let slot = merged.entry(name.clone()).or_default();
        for new in versions {
            match slot.iter_mut().find(|e| e.version == new.version) {
                None => {
                    report.added += 1;
                    slot.push(new);
                }
                Some(existing) if existing.digest == new.digest => report.unchanged += 1,
                Some(existing) if opts.force => {
                    report.replaced.push(format!("{name} {}", new.version));
                    *existing = new;
                }
                Some(_) => conflicts.push(format!("{name} {}", new.version)),
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(Error::msg(format!(
            "these versions are already in the index with a different digest: {}; a published version must not change (bump the version, or pass --force to replace it)",
            conflicts.join(", ")
        )));
    }
    report.kept = old_keys
        .len()
        .saturating_sub(report.unchanged + report.replaced.len());
    // The promise, checked before writing: every old (name, version) is still there, and with its
    // digest unless it was explicitly replaced.
    for (name, version, digest) in &old_keys {
        let still = merged
            .get(name)
            .and_then(|vs| vs.iter().find(|e| &e.version == version));
        let ok = match still {
            Some(e) => {
                &e.digest == digest || report.replaced.contains(&format!("{name} {version}"))
            }
            None => false,
        };
        if !ok {
            return Err(Error::msg(format!(
                "internal error: merging would lose {name} {version}"
            )));
        }
    }
    for (name, versions) in merged.iter_mut() {
        if sort_versions(versions) {
            changed.insert(name.clone());
        }
    }
    let generated = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| time::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s)))
        .or_else(|| {
            merged
                .values()
                .flatten()
                .filter_map(|e| e.created.clone())
                .max()
        });
    let mut index = Index {
        api_version: "v1".into(),
        annotations: BTreeMap::new(),
        entries: merged,
        generated,
        public_keys: old.public_keys,
        server_info: old.server_info,
    };
    let spliced = layout
        .as_ref()
        .and_then(|l| splice::emit(&mut index, &out, l, &changed));
    match spliced {
        Some(text) => out = text,
        None => {
            // Into the old index's buffer, when merging (see `load_keeping_text`).
            out.clear();
            serde_saphyr::to_fmt_writer(&mut out, &index)
                .map_err(|e| Error::msg(format!("internal error writing the index: {e}")))?;
        }
    }
    debug_assert_eq!(
        serde_saphyr::to_string(&index).ok().as_deref(),
        Some(out.as_str()),
        "the index put together from the old file is the one the emitter writes"
    );
    crate::fsutil::write_atomic(&out_path, out.as_bytes())?;
    drop(lock);
    Ok(report)
}

/// Newest first by SemVer, as Helm's `SortEntries`; unparsable versions last, by text.
/// Whether the order changed.
fn sort_versions(v: &mut Vec<Entry>) -> bool {
    // Each version is parsed once, not at every comparison (10,000 entries took 10 ms), and the
    // order is found on indexes: the entries (hundreds of bytes each) move only when it changes,
    // which for the old versions of a merge it does not.
    let keys: Vec<Option<semver::Version>> = v
        .iter()
        .map(|e| chart_archive::parse_version(&e.version))
        .collect();
    let mut order: Vec<usize> = (0..v.len()).collect();
    // A stable sort of the indexes, as the entries themselves were sorted before: ties keep
    // their order either way.
    order.sort_by(|&i, &j| match (&keys[i], &keys[j]) {
        (Some(x), Some(y)) => y.cmp(x).then_with(|| v[j].version.cmp(&v[i].version)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => v[i].version.cmp(&v[j].version),
    });
    if order.iter().enumerate().all(|(at, &i)| at == i) {
        return false;
    }
    let mut slots: Vec<Option<Entry>> = std::mem::take(v).into_iter().map(Some).collect();
    v.extend(order.into_iter().filter_map(|i| slots[i].take()));
    true
}
