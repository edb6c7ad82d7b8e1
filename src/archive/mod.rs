//! The chart archive: a gzipped USTAR tar that Helm 3 and 4 load, byte-for-byte reproducible.
//!
//! Entries are `<chart>/<path>`, regular files only, mode 0644, uid/gid 0, no user or group
//! names, one fixed mtime (SOURCE_DATE_EPOCH or 0), in Helm's order; the gzip header has mtime 0
//! and no file name. The same chart therefore always gives the same bytes.
//!
//! Speed: most of a chart (the templates and values.schema.json, ~100 KB) is the same in every
//! chart, so build.rs compresses each of those files once; an archive compresses only its own
//! files and splices the rest in (see `build`). Each fixed file is compressed with the fixed
//! files before it as a preset dictionary (build.rs), so the templates' shared text costs little
//! more than in one stream over everything, and the work is saved. The tar
//! itself is never assembled: headers are written directly (`ustar`), those before fixed files
//! as small deflate blocks of our own (`fixed_block`), and the gzip CRC-32 is combined from the
//! per-chart bytes and the segments' CRCs computed at build time.

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

/// Deflate level of the per-chart parts (Chart.yaml, values.yaml, README.md, tar headers, ~40 KB
/// for examples/full.yaml). Level 1 (zlib-rs's "quick" strategy) compresses them ~3x faster than
/// level 6 (1.5 M rather than 4.1 M instructions) for ~5.7 KB more per archive (`level_costs`
/// below): the archive is dominated by this compression, and a few KB do not matter to Helm or a
/// registry. The fixed segments are compressed once, at build time (build.rs's level).
const LEVEL: u32 = 1;

mod fixed_block;
mod ustar;

use flate2::{Compress, Compression, FlushCompress};

// The fixed chart files, compressed by build.rs: `SEGMENTS`.
include!(concat!(env!("OUT_DIR"), "/segments.rs"));

/// A fixed file's precompressed segment (`SEGMENTS[index]`): the deflated bytes, the CRC-32 and
/// length of the bytes it holds, and how many fixed files right before it (in `SEGMENTS` order)
/// its dictionary refers to.
struct Segment {
    index: usize,
    deflated: &'static [u8],
    crc: u32,
    len: u64,
    back: usize,
}

/// The precompressed segment of a fixed chart file, when `content` is exactly the file build.rs
/// compressed (a chart could in principle carry other content under the same path). Files that
/// chart::build_unproven borrows from the binary are recognised by address, others by comparison.
/// `SEGMENTS[hint]` is tried first: a chart lists its fixed files in that order, so the one after
/// the previous fixed file is nearly always right, without a search by name.
fn segment_near(path: &str, content: &[u8], hint: usize) -> Option<Segment> {
    let index = match SEGMENTS.get(hint) {
        Some(s) if s.0 == path => hint,
        _ => SEGMENTS.iter().position(|s| s.0 == path)?,
    };
    let embedded = crate::chart::embedded::HELM_FILES
        .iter()
        .find(|(p, _)| *p == path)?
        .1
        .as_bytes();
    if !(std::ptr::eq(embedded, content) || embedded == content) {
        return None;
    }
    let (_, deflated, crc, len, back) = SEGMENTS[index];
    Some(Segment {
        index,
        deflated,
        crc,
        len,
        back,
    })
}

pub fn tgz(chart: &Chart, mtime: u64) -> Result<Vec<u8>, Error> {
    let mut total = 0;
    for (path, content) in &chart.files {
        if content.len() > MAX_FILE {
            return Err(Error::msg(format!(
                "{path} is larger than Helm's 5 MiB limit per file"
            )));
        }
        total += content.len();
    }
    if total > MAX_TOTAL {
        return Err(Error::msg("the chart is larger than Helm's 100 MiB limit"));
    }
    COMPRESS.with_borrow_mut(|state| {
        let (deflate, pending) = state
            .get_or_insert_with(|| (Compress::new(Compression::new(LEVEL), false), Vec::new()));
        deflate.reset();
        pending.clear();
        let built = build(chart, mtime, deflate, pending);
        // An unusually large chart does not pin its buffer for the rest of a batch.
        if pending.capacity() > KEPT_PENDING {
            *pending = Vec::new();
        }
        built
    })
}

/// The most a thread keeps of its per-chart buffer between archives (a chart of
/// examples/full.yaml needs ~40 KB).
const KEPT_PENDING: usize = 1024 * 1024;

thread_local! {
    /// One compressor per thread, reset per archive: a new one allocates and clears ~300 KB.
    /// With it, the buffer of per-chart bytes (`build`'s `pending`), reused likewise: a batch
    /// then allocates and frees no 64 KB block per archive.
    static COMPRESS: std::cell::RefCell<Option<(Compress, Vec<u8>)>> =
        const { std::cell::RefCell::new(None) };
}

/// The gzip member (mtime 0, no name, OS "unknown") of the chart's tar. Per-chart parts (tar
/// headers and contents of files that differ per chart) are deflated here, ending in a full
/// flush before each fixed file; a fixed file's header is its own small block
/// (`fixed_block`) and its content the segment build.rs made. A segment refers only to the
/// fixed files right before it (its dictionary, see build.rs), so it is spliced in only where
/// those are exactly there, one whole 512-byte header apart; elsewhere (a chart whose fixed
/// files differ, a path too long for one header block) the file is compressed here like a
/// per-chart one. Per-chart parts refer to no bytes but their own, so the result is one valid
/// deflate stream, the same for the same chart. The tar itself is never built: the CRC-32 of
/// the per-chart bytes is combined with the fixed segments' CRCs, computed at build time.
fn build(
    chart: &Chart,
    mtime: u64,
    deflate: &mut Compress,
    pending: &mut Vec<u8>,
) -> Result<Vec<u8>, Error> {
    let fail = |e: std::io::Error| Error::msg(format!("cannot build the archive: {e}"));
    let mut out = Vec::with_capacity(96 * 1024);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    let mut crc = 0u32;
    let mut len = 0u64;
    // Per-chart tar bytes not yet deflated (`pending`, empty, is this thread's buffer).
    pending.reserve(64 * 1024);
    // The fixed files right before the current entry: the `SEGMENTS` index of the last, and how
    // many of them are in `SEGMENTS` order with one 512-byte header between each two.
    let mut run: Option<(usize, usize)> = None;
    for (path, content) in &chart.files {
        let header = ustar::header(
            &format!("{}/{path}", chart.name),
            content.len() as u64,
            mtime,
        )
        .map_err(fail)?;
        let header = header.as_slice();
        let fixed = segment_near(path, content, run.map_or(0, |(last, _)| last + 1));
        // How many fixed files right before this one lie as build.rs laid them out.
        let behind = match (&fixed, run) {
            (Some(s), Some((last, n))) if header.len() == ustar::BLOCK && last + 1 == s.index => n,
            _ => 0,
        };
        run = fixed.as_ref().map(|s| (s.index, behind + 1));
        let splice = fixed.filter(|s| behind >= s.back);
        match splice {
            Some(segment) => {
                if !pending.is_empty() {
                    deflate_into(deflate, pending, FlushCompress::Full, &mut out);
                    crc = zlib_rs::crc32::crc32(crc, pending);
                    len += pending.len() as u64;
                    pending.clear();
                }
                fixed_block::append(&mut out, header);
                crc = zlib_rs::crc32::crc32(crc, header);
                out.extend_from_slice(segment.deflated);
                crc = zlib_rs::crc32::crc32_combine(crc, segment.crc, segment.len);
                len += header.len() as u64 + segment.len;
            }
            None => {
                pending.extend_from_slice(header);
                pending.extend_from_slice(content);
                let padded = content.len().div_ceil(ustar::BLOCK) * ustar::BLOCK;
                pending.resize(pending.len() + padded - content.len(), 0);
            }
        }
    }
    // The end of the archive: two zero blocks.
    pending.resize(pending.len() + 2 * ustar::BLOCK, 0);
    deflate_into(deflate, pending, FlushCompress::Finish, &mut out);
    crc = zlib_rs::crc32::crc32(crc, pending);
    len += pending.len() as u64;
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    Ok(out)
}

/// Deflates all of `input` into `out`, ending with `flush`.
fn deflate_into(deflate: &mut Compress, input: &[u8], flush: FlushCompress, out: &mut Vec<u8>) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn segment_for(path: &str, content: &[u8]) -> Option<Segment> {
        segment_near(path, content, 0)
    }

    fn chart() -> Chart {
        Chart {
            name: "demo".into(),
            version: "1.2.3".into(),
            timeout_seconds: 300,
            max_history: 25,
            files: vec![
                ("Chart.yaml".into(), b"apiVersion: v2\n".to_vec().into()),
                ("templates/x.yaml".into(), b"x: 1\n".to_vec().into()),
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
        let mut segments: Vec<&str> = SEGMENTS.iter().map(|s| s.0).collect();
        embedded.sort_unstable();
        segments.sort_unstable();
        assert_eq!(embedded, segments);
        for (path, content) in crate::chart::embedded::HELM_FILES {
            assert!(segment_for(path, content.as_bytes()).is_some(), "{path}");
        }
    }

    #[test]
    fn fixed_files_are_spliced_in_precompressed_and_unpack_exactly() {
        // values.schema.json: the first fixed file, whose segment refers to no file before it.
        let (path, fixed) = crate::chart::embedded::HELM_FILES
            .iter()
            .find(|(p, _)| *p == SEGMENTS[0].0)
            .copied()
            .unwrap();
        let segment = segment_for(path, fixed.as_bytes())
            .expect("build.rs compressed it")
            .deflated;
        let mut c = chart();
        c.files
            .insert(1, (path.to_string(), fixed.as_bytes().to_vec().into()));
        c.files
            .push(("templates/empty.yaml".into(), Vec::new().into()));
        let bytes = tgz(&c, 0).unwrap();
        assert!(
            bytes.windows(segment.len()).any(|w| w == segment),
            "the precompressed segment is in the archive"
        );
        let want: Vec<(String, Vec<u8>)> = c
            .files
            .iter()
            .map(|(p, d)| (format!("demo/{p}"), d.to_vec()))
            .collect();
        assert_eq!(unpack(&bytes), want);
        // The same path with other content is compressed, not taken from the build.
        let mut changed = c;
        changed.files[1]
            .1
            .to_mut()
            .extend_from_slice(b"# changed\n");
        assert!(segment_for(path, &changed.files[1].1).is_none());
        let bytes = tgz(&changed, 0).unwrap();
        assert_eq!(unpack(&bytes)[1].1, *changed.files[1].1);
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

    /// The tar as the tar crate builds it (what `tgz` did before it wrote headers itself).
    fn reference_tar(chart: &Chart, mtime: u64) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        tar.mode(tar::HeaderMode::Deterministic);
        for (path, content) in &chart.files {
            let mut header = ustar::tar_crate_header(content.len() as u64, mtime);
            let name = format!("{}/{path}", chart.name);
            tar.append_data(&mut header, name, content.as_ref())
                .unwrap();
        }
        tar.into_inner().unwrap()
    }

    /// A chart like chart::build_unproven's: per-chart files around the borrowed fixed ones.
    fn full_chart(name: &str, extra: &[(&str, &[u8])]) -> Chart {
        let mut c = chart();
        c.name = name.into();
        // In Helm's order, as chart::build_unproven lays them out (values.schema.json first).
        for (p, ..) in SEGMENTS {
            let (_, content) = crate::chart::embedded::HELM_FILES
                .iter()
                .find(|(q, _)| q == p)
                .unwrap();
            c.files.push((
                p.to_string(),
                std::borrow::Cow::Borrowed(content.as_bytes()),
            ));
        }
        for (p, content) in extra {
            c.files.push((p.to_string(), content.to_vec().into()));
        }
        c
    }

    #[test]
    fn uncompressed_tar_is_the_tar_crates() {
        let long = format!("templates/{}.yaml", "l".repeat(120));
        let big = vec![b'v'; 70_000];
        let charts = [
            chart(),
            full_chart("payments", &[("README.md", b"# hi\n")]),
            full_chart(&"n".repeat(63), &[("README.md", &big), (&long, b"x")]),
            full_chart("e", &[("templates/empty.yaml", b""), ("b", &[0; 512])]),
        ];
        for c in &charts {
            for mtime in [0, 1_700_000_000] {
                let bytes = tgz(c, mtime).unwrap();
                let mut tar = Vec::new();
                flate2::read::GzDecoder::new(bytes.as_slice())
                    .read_to_end(&mut tar)
                    .unwrap();
                assert!(tar == reference_tar(c, mtime), "{} {mtime}", c.name);
            }
        }
        // Fixed files were spliced in, not compressed again: the archive is far smaller than
        // a sum of its fixed segments' inputs would suggest only if they are there verbatim.
        let c = &charts[1];
        let bytes = tgz(c, 0).unwrap();
        for (_, segment, _, _, _) in SEGMENTS {
            assert!(bytes.windows(segment.len()).any(|w| w == *segment));
        }
    }

    /// Which fixed segments an archive holds verbatim.
    fn spliced(bytes: &[u8]) -> Vec<bool> {
        SEGMENTS
            .iter()
            .map(|s| bytes.windows(s.1.len()).any(|w| w == s.1))
            .collect()
    }

    /// A segment's dictionary holds the fixed files before it: where those are not exactly
    /// there (one removed, changed, or another file between), the segments that refer to them
    /// are left out and their files compressed per chart, and the archive still unpacks to the
    /// exact tar; segments whose dictionary does not reach back to the break are still spliced.
    #[test]
    fn segments_are_spliced_only_after_the_fixed_files_their_dictionary_holds() {
        let whole = full_chart("demo", &[]);
        assert!(spliced(&tgz(&whole, 0).unwrap()).iter().all(|&s| s));
        assert!(SEGMENTS[0].4 == 0 && SEGMENTS.iter().skip(1).all(|s| s.4 > 0));
        let first = |c: &Chart| {
            c.files
                .iter()
                .position(|(p, _)| p == SEGMENTS[0].0)
                .unwrap()
        };
        // (chart, the first SEGMENTS index the fixed files after the break count from).
        let mut cases = Vec::new();
        for r in [1, 5, 20, SEGMENTS.len() - 1] {
            let at = first(&whole) + r;
            let mut removed = full_chart("demo", &[]);
            removed.files.remove(at);
            cases.push((removed, r + 1));
            let mut changed = full_chart("demo", &[]);
            changed.files[at]
                .1
                .to_mut()
                .extend_from_slice(b"# changed\n");
            cases.push((changed, r + 1));
            let mut between = full_chart("demo", &[]);
            let own = (format!("{}-", SEGMENTS[r].0), b"x: 1\n".to_vec().into());
            between.files.insert(at, own);
            cases.push((between, r));
        }
        for (c, restart) in &cases {
            let bytes = tgz(c, 1_700_000_000).unwrap();
            let mut tar = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut tar)
                .unwrap();
            assert!(tar == reference_tar(c, 1_700_000_000), "restart {restart}");
            let got = spliced(&bytes);
            for (k, seg) in SEGMENTS.iter().enumerate() {
                let want = k < *restart || k - restart >= seg.4;
                let present = c
                    .files
                    .iter()
                    .any(|(p, d)| segment_for(p, d).is_some_and(|s| s.index == k));
                assert_eq!(got[k], want && present, "segment {k} restart {restart}");
            }
        }
        // A chart name so long that every header takes more than one block: only the segment
        // without a dictionary can be spliced.
        let long = full_chart(&"q".repeat(160), &[]);
        let bytes = tgz(&long, 0).unwrap();
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        assert!(tar == reference_tar(&long, 0));
        let got = spliced(&bytes);
        assert!(got[0] && got[1..].iter().all(|&s| !s));
    }

    /// The chart of examples/full.yaml, and how many times to repeat a measure (`SPEED_N`).
    fn full_yaml() -> (Chart, u32) {
        let input = crate::pipeline::SpecInput {
            path: "examples/full.yaml".into(),
            ..Default::default()
        };
        let (mut charts, _) =
            crate::pipeline::build_charts(&input, &crate::pipeline::ChartMeta::default()).unwrap();
        let n = std::env::var("SPEED_N").map_or(2000, |n| n.parse().unwrap());
        (charts.remove(0), n)
    }

    /// chart::build_unproven borrows the fixed files from `HELM_FILES` and `segment_near`
    /// recognises them by address: were the strings copied (as a `const` may have them), every archive would
    /// compare ~240 KB instead.
    #[test]
    fn built_charts_borrow_the_fixed_files_in_place() {
        let (chart, _) = full_yaml();
        let mut borrowed = 0;
        for (path, content) in &chart.files {
            if let Some((_, embedded)) = crate::chart::embedded::HELM_FILES
                .iter()
                .find(|(p, _)| p == path)
            {
                assert!(std::ptr::eq(embedded.as_bytes(), &content[..]), "{path}");
                borrowed += 1;
            }
        }
        assert_eq!(borrowed, SEGMENTS.len());
    }

    /// A micro-measure, not a check: `cargo test --release --lib archive::tests::speed --
    /// --ignored --nocapture` prints the cost of one archive of examples/full.yaml (for
    /// instruction counts: callgrind with two values of SPEED_N, and the difference).
    #[test]
    #[ignore]
    fn speed() {
        let (chart, n) = full_yaml();
        let start = std::time::Instant::now();
        let mut size = 0;
        for _ in 0..n {
            size = std::hint::black_box(tgz(&chart, 0).unwrap()).len();
        }
        let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!("tgz of examples/full.yaml: {per:.1} us/archive, {size} bytes");
    }

    /// What the level costs on the per-chart files of examples/full.yaml alone (`speed`'s
    /// companion, to choose `LEVEL`).
    #[test]
    #[ignore]
    fn level_costs() {
        let (chart, n) = full_yaml();
        let own: Vec<u8> = chart
            .files
            .iter()
            .filter(|(p, c)| segment_for(p, c).is_none())
            .flat_map(|(_, c)| c.iter().copied())
            .collect();
        let levels = std::env::var("SPEED_LEVELS").unwrap_or("1,2,3,4,5,6,7,8,9".into());
        for level in levels.split(',').map(|l| l.parse().unwrap()) {
            let mut c = Compress::new(Compression::new(level), false);
            let mut out = Vec::new();
            let start = std::time::Instant::now();
            for _ in 0..n {
                c.reset();
                out.clear();
                deflate_into(&mut c, &own, FlushCompress::Finish, &mut out);
            }
            let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
            println!(
                "level {level}: {per:.1} us, {} -> {} bytes",
                own.len(),
                out.len()
            );
        }
    }

    #[test]
    fn same_chart_same_bytes() {
        assert_eq!(tgz(&chart(), 0).unwrap(), tgz(&chart(), 0).unwrap());
        assert_ne!(tgz(&chart(), 0).unwrap(), tgz(&chart(), 1).unwrap());
    }
}
