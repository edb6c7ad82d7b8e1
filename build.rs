//! Compresses the chart files that every chart carries unchanged (chart-template/templates/*
//! and values.schema.json) once, at build time, so `package` only compresses what differs per
//! chart (Chart.yaml, values.yaml, README.md and the tar headers). See src/archive/mod.rs: each
//! file is a raw deflate segment ending in a full flush, which can be spliced into an archive's
//! deflate stream. With each segment go the CRC-32 and length of the bytes it holds, so an
//! archive's gzip trailer combines them instead of reading those bytes again.
//!
//! The templates share much text, so each fixed file is compressed with a preset dictionary:
//! the up to 32 KiB of tar bytes that precede it in a chart where the fixed files follow one
//! another (values.schema.json, then templates/* in order). Those bytes are the same in every
//! chart except the 512-byte tar headers (chart name, mtime); in the dictionary each header is
//! 512 bytes of 0xFF, a byte the fixed files (UTF-8 text) never hold, so no match can cover it
//! and every back-reference lands in fixed content at a distance that is the same in every
//! chart. A decoder's window is not cleared by a full flush, so those references are valid
//! wherever the preceding files are really there; `archive::build` checks that (the segment's
//! `back`, the number of preceding fixed files its dictionary reaches).

use std::io::Write;
use std::path::Path;

use flate2::{Compress, Compression, FlushCompress};

/// Go's and gzip's default. Independent of `archive::LEVEL` (chosen for speed): any level
/// splices the same way, and 9 saved nothing measurable here.
const LEVEL: u32 = 6;

/// Deflate's window: no back-reference reaches further.
const WINDOW: usize = 32 * 1024;

/// One tar block: a header's size, and what contents are padded to.
const BLOCK: usize = 512;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out);
    println!("cargo::rerun-if-changed=chart-template");
    let mut files = vec!["values.schema.json".to_string()];
    let mut templates: Vec<String> = std::fs::read_dir("chart-template/templates")
        .expect("chart-template/templates")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .map(|n| format!("templates/{n}"))
        .collect();
    templates.sort();
    files.extend(templates);

    let mut index = String::from(
        "/// (path in the chart, raw deflate of its content and tar padding, CRC-32 and length of\n\
         /// that content and padding, how many fixed files right before it the segment refers to).\n",
    );
    index.push_str("pub const SEGMENTS: &[(&str, &[u8], u32, u64, usize)] = &[\n");
    // The tar bytes since values.schema.json (which follows values.yaml, a per-chart file, so
    // it has no dictionary), headers as 0xFF; and where each file's content and padding ends.
    let mut stream: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    for (i, rel) in files.iter().enumerate() {
        println!("cargo::rerun-if-changed=chart-template/{rel}");
        let mut data = std::fs::read(Path::new("chart-template").join(rel)).expect("a chart file");
        assert!(
            !data.contains(&0xff),
            "{rel} holds a 0xFF byte: the dictionary's header stand-in could then be matched"
        );
        // The tar entry's padding to the next 512-byte block belongs to the segment.
        data.resize(data.len().div_ceil(BLOCK) * BLOCK, 0);
        if i > 0 {
            stream.resize(stream.len() + BLOCK, 0xff);
        }
        let dictionary = &stream[stream.len().saturating_sub(WINDOW)..];
        let from = stream.len() - dictionary.len();
        // The files whose content or padding lies in the dictionary.
        let back = ends.iter().filter(|&&e| e > from).count();
        let segment = full_flushed(dictionary, &data);
        stream.extend_from_slice(&data);
        ends.push(stream.len());
        let mut crc = flate2::Crc::new();
        crc.update(&data);
        let name = format!("segment-{i}.deflate");
        std::fs::File::create(out.join(&name))
            .and_then(|mut f| f.write_all(&segment))
            .expect("write a segment");
        index.push_str(&format!(
            "    ({rel:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}\")), {:#010x}, {}, {back}),\n",
            crc.sum(),
            data.len()
        ));
    }
    index.push_str("];\n");
    std::fs::write(out.join("segments.rs"), index).expect("write segments.rs");
}

/// Raw deflate of `data` with the preset `dictionary`, ended by a full flush: byte-aligned, not
/// final, and referring to nothing before it but the dictionary's bytes.
fn full_flushed(dictionary: &[u8], data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::new(LEVEL), false);
    if !dictionary.is_empty() {
        c.set_dictionary(dictionary).expect("a preset dictionary");
    }
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = c.total_in() as usize;
        out.reserve(64 * 1024);
        c.compress_vec(&data[consumed..], &mut out, FlushCompress::Full)
            .expect("deflate");
        if c.total_in() as usize == data.len() && out.capacity() > out.len() {
            return out;
        }
    }
}
