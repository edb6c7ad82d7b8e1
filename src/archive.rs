//! The chart archive: a gzipped USTAR tar that Helm 3 and 4 load, byte-for-byte reproducible.
//!
//! Entries are `<chart>/<path>`, regular files only, mode 0644, uid/gid 0, no user or group
//! names, one fixed mtime (SOURCE_DATE_EPOCH or 0), in Helm's order; the gzip header has mtime 0
//! and no file name. The same chart therefore always gives the same bytes.
//!
//! Speed: most of a chart (the templates and values.schema.json, ~100 KB) is the same in every
//! chart, so build.rs compresses each of those files once; an archive compresses only its own
//! files and tar headers and splices the rest in (see `gzip_spliced`). Compressing each fixed
//! file on its own costs about a fifth more bytes than one stream over everything (34 KB rather
//! than 28 KB for examples/full.yaml) and saves about three quarters of the compression work.

use crate::chart::Chart;
use crate::diag::Error;

/// Helm refuses any file over 5 MiB and any chart over 100 MiB decompressed.
const MAX_FILE: usize = 5 * 1024 * 1024;
const MAX_TOTAL: usize = 100 * 1024 * 1024;

/// The archive's file name: `<name>-<version>.tgz`, as `helm package` names it.
pub fn file_name(chart: &Chart) -> String {
    format!("{}-{}.tgz", chart.name, chart.version)
}

/// The mtime of every entry: `SOURCE_DATE_EPOCH` when set (reproducible-builds.org), else 0.
pub fn source_date_epoch() -> Result<u64, Error> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(0),
        Ok(v) => v.trim().parse::<u64>().map_err(|_| {
            Error::msg(format!(
                "SOURCE_DATE_EPOCH={}: must be a number of seconds since 1970",
                crate::diag::printable(&v)
            ))
        }),
    }
}

/// gzip level of every archive (Go's and gzip's default). build.rs uses the same.
const LEVEL: u32 = 6;

// The fixed chart files, compressed by build.rs: `SEGMENTS`.
include!(concat!(env!("OUT_DIR"), "/segments.rs"));

/// The precompressed segment of a fixed chart file, when `content` is exactly the file build.rs
/// compressed (a chart could in principle carry other content under the same path).
fn segment_for(path: &str, content: &[u8]) -> Option<&'static [u8]> {
    let embedded = crate::chart::embedded::HELM_FILES
        .iter()
        .find(|(p, _)| *p == path)?;
    (embedded.1.as_bytes() == content)
        .then(|| SEGMENTS.iter().find(|(p, _)| *p == path).map(|(_, s)| *s))
        .flatten()
}

pub fn tgz(chart: &Chart, mtime: u64) -> Result<Vec<u8>, Error> {
    let fail = |e: std::io::Error| Error::msg(format!("cannot build the archive: {e}"));
    // The tar stream, uncompressed, noting where each fixed file's content (with its padding)
    // lies: those ranges are spliced in precompressed instead of being compressed again.
    let mut total = 0;
    let mut tar = tar::Builder::new(Vec::with_capacity(256 * 1024));
    tar.mode(tar::HeaderMode::Deterministic);
    let mut fixed: Vec<(std::ops::Range<usize>, &'static [u8])> = Vec::new();
    for (path, content) in &chart.files {
        if content.len() > MAX_FILE {
            return Err(Error::msg(format!(
                "{path} is larger than Helm's 5 MiB limit per file"
            )));
        }
        total += content.len();
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_size(content.len() as u64);
        tar.append_data(
            &mut header,
            format!("{}/{path}", chart.name),
            content.as_slice(),
        )
        .map_err(fail)?;
        if let Some(segment) = segment_for(path, content) {
            let end = tar.get_ref().len();
            fixed.push((end - content.len().div_ceil(512) * 512..end, segment));
        }
    }
    if total > MAX_TOTAL {
        return Err(Error::msg("the chart is larger than Helm's 100 MiB limit"));
    }
    let tar = tar.into_inner().map_err(fail)?;
    Ok(gzip_spliced(&tar, &fixed))
}

/// A gzip member (mtime 0, no name, OS "unknown", as before) of `data`, whose `fixed` ranges
/// are given as precompressed full-flushed deflate segments. The per-chart parts are compressed
/// here, each ended by a full flush too, so no part refers to bytes of another: the result is one
/// valid deflate stream, the same for the same input, whatever produced the segments' neighbours.
fn gzip_spliced(data: &[u8], fixed: &[(std::ops::Range<usize>, &'static [u8])]) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut out = Vec::with_capacity(data.len() / 4 + 1024);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    let mut deflate = Compress::new(Compression::new(LEVEL), false);
    let mut compress = |input: &[u8], flush: FlushCompress, out: &mut Vec<u8>| {
        let start = deflate.total_in();
        loop {
            let done = (deflate.total_in() - start) as usize;
            out.reserve(input.len() / 2 + 1024);
            // Compressing into a Vec with spare room cannot fail (no dictionary, no bad state).
            let _ = deflate.compress_vec(&input[done..], out, flush);
            if (deflate.total_in() - start) as usize == input.len() && out.capacity() > out.len() {
                break;
            }
        }
    };
    let mut at = 0;
    for (range, segment) in fixed {
        compress(&data[at..range.start], FlushCompress::Full, &mut out);
        out.extend_from_slice(segment);
        at = range.end;
    }
    compress(&data[at..], FlushCompress::Finish, &mut out);
    let mut crc = flate2::Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn chart() -> Chart {
        Chart {
            name: "demo".into(),
            version: "1.2.3".into(),
            timeout_seconds: 300,
            max_history: 25,
            files: vec![
                ("Chart.yaml".into(), b"apiVersion: v2\n".to_vec()),
                ("templates/x.yaml".into(), b"x: 1\n".to_vec()),
            ],
        }
    }

    #[test]
    fn entries_are_plain_prefixed_files_with_fixed_metadata() {
        let bytes = tgz(&chart(), 1_700_000_000).unwrap();
        assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0], "gzip, no FNAME flag");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "gzip mtime 0");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut e = entry.unwrap();
            let h = e.header();
            assert_eq!(h.entry_type(), tar::EntryType::Regular);
            assert_eq!(h.mode().unwrap(), 0o644);
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            assert_eq!(h.mtime().unwrap(), 1_700_000_000);
            assert!(h.username().unwrap().unwrap_or("").is_empty());
            names.push(e.path().unwrap().display().to_string());
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
        }
        assert_eq!(names, ["demo/Chart.yaml", "demo/templates/x.yaml"]);
    }

    /// The files in an archive, as (path, content).
    fn unpack(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        let mut out = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut e = entry.unwrap();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            out.push((e.path().unwrap().display().to_string(), data));
        }
        out
    }

    /// build.rs finds the fixed files by listing chart-template/; chart/embedded.rs lists them by
    /// hand. A file in one list only would silently be compressed per chart (or never used).
    #[test]
    fn every_embedded_file_has_its_precompressed_segment() {
        let mut embedded: Vec<&str> = crate::chart::embedded::HELM_FILES
            .iter()
            .map(|(p, _)| *p)
            .collect();
        let mut segments: Vec<&str> = SEGMENTS.iter().map(|(p, _)| *p).collect();
        embedded.sort_unstable();
        segments.sort_unstable();
        assert_eq!(embedded, segments);
        for (path, content) in crate::chart::embedded::HELM_FILES {
            assert!(segment_for(path, content.as_bytes()).is_some(), "{path}");
        }
    }

    #[test]
    fn fixed_files_are_spliced_in_precompressed_and_unpack_exactly() {
        let (path, fixed) = crate::chart::embedded::HELM_FILES[1];
        let segment = segment_for(path, fixed.as_bytes()).expect("build.rs compressed it");
        let mut c = chart();
        c.files
            .insert(1, (path.to_string(), fixed.as_bytes().to_vec()));
        c.files.push(("templates/empty.yaml".into(), Vec::new()));
        let bytes = tgz(&c, 0).unwrap();
        assert!(
            bytes.windows(segment.len()).any(|w| w == segment),
            "the precompressed segment is in the archive"
        );
        let want: Vec<(String, Vec<u8>)> = c
            .files
            .iter()
            .map(|(p, d)| (format!("demo/{p}"), d.clone()))
            .collect();
        assert_eq!(unpack(&bytes), want);
        // The same path with other content is compressed, not taken from the build.
        let mut changed = c;
        changed.files[1].1.extend_from_slice(b"# changed\n");
        assert!(segment_for(path, &changed.files[1].1).is_none());
        let bytes = tgz(&changed, 0).unwrap();
        assert_eq!(unpack(&bytes)[1].1, changed.files[1].1);
        // gzip's own check (CRC32 and length) passes: the decoder read to the end above, and
        // a corrupted trailer is refused.
        let mut bad = bytes.clone();
        let n = bad.len();
        bad[n - 8] ^= 1;
        let mut out = Vec::new();
        assert!(
            flate2::read::GzDecoder::new(bad.as_slice())
                .read_to_end(&mut out)
                .is_err()
        );
    }

    #[test]
    fn same_chart_same_bytes() {
        assert_eq!(tgz(&chart(), 0).unwrap(), tgz(&chart(), 0).unwrap());
        assert_ne!(tgz(&chart(), 0).unwrap(), tgz(&chart(), 1).unwrap());
    }
}
