//! Walking a chart archive's tar entries with Helm's loader rules (`LoadArchiveFiles`): paths,
//! the 5 MiB a file and 100 MiB a chart limits, and the two files the index needs. Two walks
//! over the same `tar` crate: over the whole decompressed archive in memory (the common case,
//! nothing copied), and streaming from the gzip decoder (what decides, and words, every refusal).

use std::io::Read;

/// Helm's loader limits, decompressed: a file, and a whole chart.
pub const MAX_FILE: u64 = 5 * 1024 * 1024;
pub const MAX_TOTAL: u64 = 100 * 1024 * 1024;

thread_local! {
    /// Where the streaming walk decompresses each file to be counted and dropped: one buffer a
    /// thread, large enough that the decoder runs in few, long calls.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 128 * 1024]);
}

/// The files the index needs, as the last entry of each name left them (`None`: no such entry).
pub struct Found<'a> {
    pub chart_yaml: Option<&'a [u8]>,
    pub values_yaml: Option<&'a [u8]>,
}

/// One entry admitted by Helm's path rules and the chart's size so far: its name in the chart.
fn admit(path: &[u8], header_size: u64, total: &mut u64) -> Result<String, String> {
    // Helm's LoadArchiveFiles: split off the first component (whatever it is), refuse an
    // absolute rest, clean it like Go's path.Clean, and refuse what escapes the chart.
    let name = String::from_utf8_lossy(path).into_owned();
    let delim = if name.contains('\\') { '\\' } else { '/' };
    let mut parts = name.split(delim);
    let first = parts.next().unwrap_or("").to_string();
    let n = parts.collect::<Vec<_>>().join("/");
    if n.starts_with('/') {
        return Err(format!("chart illegally contains absolute paths ({name})"));
    }
    let n = go_clean(&n);
    if n == "." {
        return Err(format!(
            "chart illegally contains content outside the base directory ({name})"
        ));
    }
    if n.starts_with("..") {
        return Err(format!(
            "chart illegally references parent directory ({name})"
        ));
    }
    let b = n.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
        return Err(format!("chart contains illegally named files ({name})"));
    }
    if first == "Chart.yaml" {
        return Err("chart illegally contains content outside the base directory".into());
    }
    if header_size > MAX_FILE {
        return Err(too_big(path));
    }
    *total += header_size;
    if *total >= MAX_TOTAL {
        return Err(format!(
            "decompressed chart is larger than the maximum size {MAX_TOTAL}"
        ));
    }
    Ok(n)
}

fn too_big(path: &[u8]) -> String {
    let name = String::from_utf8_lossy(path);
    format!("decompressed chart file {name:?} is larger than the maximum file size {MAX_FILE}")
}

/// Entries that are neither read nor kept: directories and pax headers.
fn skipped(kind: tar::EntryType) -> bool {
    kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions()
}

/// The walk over a whole decompressed archive: the same entries, in the same order, with the
/// same rules as `streaming` (the tar crate reads both), the two files borrowed where they lie.
/// `None` when anything is off (a refusal, a sparse file, an entry past the end): the streaming
/// walk then gives the verdict. Every file is in memory, so nothing is read to be dropped.
pub fn in_memory(tar_bytes: &[u8]) -> Option<Found<'_>> {
    let mut archive = tar::Archive::new(Slice {
        bytes: tar_bytes,
        pos: 0,
    });
    let mut total: u64 = 0;
    let mut found = Found {
        chart_yaml: None,
        values_yaml: None,
    };
    for entry in archive.entries_with_seek().ok()? {
        let entry = entry.ok()?;
        let kind = entry.header().entry_type();
        if skipped(kind) {
            continue;
        }
        // Sparse files read back other bytes than they hold; the streaming walk takes them.
        if kind.is_gnu_sparse() || entry.size() > MAX_FILE {
            return None;
        }
        let n = admit(&entry.path_bytes(), entry.header().size().ok()?, &mut total).ok()?;
        let start = usize::try_from(entry.raw_file_position()).ok()?;
        let end = start.checked_add(usize::try_from(entry.size()).ok()?)?;
        let data = tar_bytes.get(start..end)?;
        // Symlinks and hardlinks load as empty files in Helm; the last duplicate wins.
        let content = if kind.is_file() { data } else { &[] };
        if n == "Chart.yaml" {
            found.chart_yaml = Some(content);
        } else if n == "values.yaml" {
            found.values_yaml = Some(content);
        }
    }
    Some(found)
}

/// The walk decompressing as it goes (`MultiGzDecoder` into the tar crate), as Helm's loader
/// reads: every file decompressed to its end (that is what finds a truncated or corrupt
/// archive), only the two files the rules need kept, in `kept`.
pub fn streaming<'k>(gz: &[u8], kept: &'k mut (Vec<u8>, Vec<u8>)) -> Result<Found<'k>, String> {
    // `&[u8]` is a `BufRead`: the decoder inflates straight from the archive's bytes instead of
    // copying them through a buffer of its own.
    let mut archive = tar::Archive::new(Forward {
        inner: flate2::bufread::MultiGzDecoder::new(gz),
        pos: 0,
    });
    let mut total: u64 = 0;
    let (chart_buf, values_buf) = kept;
    // Whether each was found (its content is in `kept`).
    let (mut chart_yaml, mut values_yaml) = (false, false);
    let entries = archive
        .entries_with_seek()
        .map_err(|e| format!("not a tar archive: {e}"))?;
    // Stays empty: what is not kept is counted, not copied.
    let mut unkept = Vec::new();
    SCRATCH.with_borrow_mut(|scratch| -> Result<(), String> {
        for entry in entries {
            let mut entry = entry.map_err(|e| format!("corrupt archive: {e}"))?;
            let kind = entry.header().entry_type();
            if skipped(kind) {
                continue;
            }
            let path = entry.path_bytes().into_owned();
            let n = admit(&path, entry.header().size().unwrap_or(0), &mut total)?;
            let keep = kind.is_file() && (n == "Chart.yaml" || n == "values.yaml");
            let content = if n == "Chart.yaml" {
                chart_yaml = true;
                &mut *chart_buf
            } else if n == "values.yaml" {
                values_yaml = true;
                &mut *values_buf
            } else {
                &mut unkept
            };
            // Symlinks and hardlinks load as empty files in Helm; the last duplicate wins.
            content.clear();
            let mut read: u64 = 0;
            loop {
                let k = entry
                    .read(scratch)
                    .map_err(|e| format!("corrupt archive: {e}"))?;
                if k == 0 {
                    break;
                }
                read += k as u64;
                if read > MAX_FILE {
                    return Err(too_big(&path));
                }
                if keep {
                    content.extend_from_slice(&scratch[..k]);
                }
            }
        }
        Ok(())
    })?;
    Ok(Found {
        chart_yaml: chart_yaml.then_some(chart_buf.as_slice()),
        values_yaml: values_yaml.then_some(values_buf.as_slice()),
    })
}

/// The decompressed archive as tar reads it: seeking past the end fails, as it does for the
/// streaming reader (`Forward`), instead of leaving a cursor past the end that reads as EOF.
struct Slice<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Read for Slice<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl std::io::Seek for Slice<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let to = match to {
            std::io::SeekFrom::Current(n) => u64::try_from(n)
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| self.pos.checked_add(n))
                .filter(|&to| to <= self.bytes.len()),
            _ => None,
        };
        self.pos = to.ok_or_else(|| std::io::Error::other("unexpected EOF during skip"))?;
        Ok(self.pos as u64)
    }
}

/// A forward-only `Seek` over a stream, for `tar::Archive::entries_with_seek`: tar's own skip
/// between entries zeroes a 32 KiB buffer for every entry (600 KiB of memset for a 130 KiB
/// chart). Seeking forward reads and drops the bytes, so every byte is still decompressed.
struct Forward<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Read for Forward<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> std::io::Seek for Forward<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let mut left = match to {
            std::io::SeekFrom::Current(n) if n >= 0 => n as u64,
            _ => return Err(std::io::Error::other("only seeking forward is supported")),
        };
        let mut drop = [0u8; 512];
        while left > 0 {
            let n = self.read(&mut drop[..left.min(512) as usize])?;
            if n == 0 {
                return Err(std::io::Error::other("unexpected EOF during skip"));
            }
            left -= n as u64;
        }
        Ok(self.pos)
    }
}

/// Go's `path.Clean`.
fn go_clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    let s = out.join("/");
    if rooted {
        format!("/{s}")
    } else if s.is_empty() {
        ".".into()
    } else {
        s
    }
}
