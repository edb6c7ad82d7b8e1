//! The floor of a single `package`, for scripts/bench.py: a program that does nothing but what any
//! `package` of one spec must do to the file system, so the benchmark can show how much of helm's
//! time that alone takes on this machine.
//!
//! Usage: floor DEST_DIR SIZE [--no-sync]. It starts, makes DEST_DIR (a new directory, as every
//! benchmark run gets), writes SIZE bytes to a new temporary file in it, and renames that file to
//! `floor.tgz`; without `--no-sync` it also fsyncs the file before the rename and the directory
//! after it, as helm-k8s-service's durable write does (README "No partial files"). No spec is
//! read, nothing is rendered or compressed: whatever `package` takes beyond this is its work.
//!
//! Built by bench.py with the machine's rustc (std only, no crates), linked statically like the
//! release binary where the toolchain can.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dest, size, sync) = match args.as_slice() {
        [d, s] => (d, s, true),
        [d, s, flag] if flag == "--no-sync" => (d, s, false),
        _ => fail("usage: floor DEST_DIR SIZE [--no-sync]"),
    };
    let size: usize = size.parse().unwrap_or_else(|_| fail("SIZE must be a number of bytes"));
    if let Err(e) = write_durably(Path::new(dest), size, sync) {
        fail(&format!("floor: {dest}: {e}"));
    }
}

fn write_durably(dest: &Path, size: usize, sync: bool) -> std::io::Result<()> {
    fs::create_dir_all(dest)?;
    // Bytes that are not all alike, so no file system could store them specially.
    let data: Vec<u8> = (0..size).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let temp = dest.join(".floor.tgz.tmp");
    let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
    file.write_all(&data)?;
    if sync {
        file.sync_all()?;
    }
    drop(file);
    fs::rename(&temp, dest.join("floor.tgz"))?;
    if sync {
        File::open(dest)?.sync_all()?;
    }
    Ok(())
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}
