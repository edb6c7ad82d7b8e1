//! Compresses the chart files that every chart carries unchanged (chart-template/templates/*
//! and values.schema.json) once, at build time, so `package` only compresses what differs per
//! chart (Chart.yaml, values.yaml, README.md and the tar headers). See src/archive.rs: each file
//! is a self-contained raw deflate segment ending in a full flush, which can be spliced into any
//! archive's deflate stream. With each segment go the CRC-32 and length of the bytes it holds,
//! so an archive's gzip trailer combines them instead of reading those bytes again.

use std::io::Write;
use std::path::Path;

use flate2::{Compress, Compression, FlushCompress};

/// Go's and gzip's default. Independent of `archive::LEVEL` (chosen for speed): any level
/// splices the same way, and 9 saved nothing measurable here.
const LEVEL: u32 = 6;

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
         /// that content and padding).\n",
    );
    index.push_str("pub const SEGMENTS: &[(&str, &[u8], u32, u64)] = &[\n");
    for (i, rel) in files.iter().enumerate() {
        println!("cargo::rerun-if-changed=chart-template/{rel}");
        let mut data = std::fs::read(Path::new("chart-template").join(rel)).expect("a chart file");
        // The tar entry's padding to the next 512-byte block belongs to the segment.
        data.resize(data.len().div_ceil(512) * 512, 0);
        let segment = full_flushed(&data);
        let mut crc = flate2::Crc::new();
        crc.update(&data);
        let name = format!("segment-{i}.deflate");
        std::fs::File::create(out.join(&name))
            .and_then(|mut f| f.write_all(&segment))
            .expect("write a segment");
        index.push_str(&format!(
            "    ({rel:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{name}\")), {:#010x}, {}),\n",
            crc.sum(),
            data.len()
        ));
    }
    index.push_str("];\n");
    std::fs::write(out.join("segments.rs"), index).expect("write segments.rs");
}

/// Raw deflate of `data`, ended by a full flush: byte-aligned, not final, and referring to
/// nothing before it, so it can stand anywhere in a deflate stream.
fn full_flushed(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::new(LEVEL), false);
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
