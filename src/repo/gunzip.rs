//! Whole-buffer gunzip for `repo index`: every member of an archive inflated in one call into a
//! per-thread buffer sized from the gzip trailer, instead of streaming through the decoder's
//! window and a scratch buffer (a third of the CPU of reading an archive was those copies).
//!
//! It only ever says "these are the bytes" or "not sure": it accepts a strict subset of what
//! `flate2::bufread::MultiGzDecoder` accepts (no header CRC, no reserved flags, every member's
//! CRC-32 and length checked, nothing after the last member), and inflates with the same
//! zlib-rs, so whatever it returns is exactly the stream the streaming reader would see.
//! Anything else goes back to the streaming reader, which gives the verdict and its words.

use flate2::{Decompress, FlushDecompress, Status};

/// The most this reader inflates before handing an archive back to the streaming reader, which
/// stops at Helm's limits as it goes: Helm's 100 MiB a chart, plus tar's headers and padding.
pub const MAX_OUT: usize = super::tar_walk::MAX_TOTAL as usize + 16 * 1024 * 1024;

/// A buffer larger than this is not kept for the next archive: one large chart must not pin
/// its size in every worker for the rest of the run.
const KEEP_CAPACITY: usize = 8 * 1024 * 1024;

thread_local! {
    /// The decompressed archive, reused from archive to archive (buffers this large are their own
    /// mappings: see heap.rs), and one inflate state.
    static OUT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    static INFLATE: std::cell::RefCell<Option<Decompress>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` on the decompressed bytes of `gz`, or on `None` when this reader is not sure of them
/// (corrupt, truncated, larger than `MAX_OUT`, or gzip it does not handle).
pub fn with_gunzipped<T>(gz: &[u8], f: impl FnOnce(Option<&[u8]>) -> T) -> T {
    let mut out = OUT.with_borrow_mut(std::mem::take);
    let ok = INFLATE.with_borrow_mut(|inflate| {
        let inflate = inflate.get_or_insert_with(|| Decompress::new(false));
        gunzip_into(gz, &mut out, inflate).is_some()
    });
    let result = f(ok.then_some(out.as_slice()));
    out.clear();
    if out.capacity() <= KEEP_CAPACITY {
        OUT.with_borrow_mut(|o| *o = out);
    }
    result
}

/// Inflate every member of `gz` into `out`, checking each trailer; `None` if not sure.
fn gunzip_into(gz: &[u8], out: &mut Vec<u8>, inflate: &mut Decompress) -> Option<()> {
    out.clear();
    // The last member's ISIZE (the whole length when there is one member): a hint only, it may
    // lie or wrap; the buffer grows when it is short and never beyond MAX_OUT.
    let hint = match gz.len().checked_sub(4) {
        Some(at) => u32::from_le_bytes(gz[at..].try_into().ok()?) as usize,
        None => return None,
    };
    out.reserve(hint.clamp(64 * 1024, MAX_OUT));
    let mut rest = gz;
    loop {
        rest = &rest[header_len(rest)?..];
        let start = out.len();
        inflate.reset(false);
        loop {
            let before = inflate.total_in();
            let status = inflate
                .decompress_vec(rest, out, FlushDecompress::Finish)
                .ok()?;
            rest = &rest[usize::try_from(inflate.total_in() - before).ok()?..];
            match status {
                Status::StreamEnd => break,
                // Out of room: more (the hint was short), up to the bound.
                _ if out.len() == out.capacity() && out.len() < MAX_OUT => {
                    let more = out.capacity().min(MAX_OUT - out.len());
                    out.reserve_exact(more);
                }
                // Out of input (truncated) or over the bound.
                _ => return None,
            }
        }
        let trailer = rest.get(..8)?;
        let crc = u32::from_le_bytes(trailer[..4].try_into().ok()?);
        let isize = u32::from_le_bytes(trailer[4..].try_into().ok()?);
        let member = &out[start..];
        if crc != zlib_rs::crc32::crc32(0, member) || isize != member.len() as u32 {
            return None;
        }
        rest = &rest[8..];
        if rest.is_empty() {
            return Some(());
        }
    }
}

/// The length of the gzip member header at the start of `b`, if it is one this reader takes.
fn header_len(b: &[u8]) -> Option<usize> {
    const FEXTRA: u8 = 1 << 2;
    const FNAME: u8 = 1 << 3;
    const FCOMMENT: u8 = 1 << 4;
    // FTEXT is informational; FHCRC and the reserved bits go to the streaming reader.
    if b.len() < 10 || b[..3] != [0x1f, 0x8b, 8] || b[3] & !(1 | FEXTRA | FNAME | FCOMMENT) != 0 {
        return None;
    }
    let mut at = 10;
    if b[3] & FEXTRA != 0 {
        let xlen = u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize;
        at += 2 + xlen;
    }
    for flag in [FNAME, FCOMMENT] {
        if b[3] & flag != 0 {
            at += b.get(at..)?.iter().position(|&c| c == 0)? + 1;
        }
    }
    (at <= b.len()).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn gunzip(b: &[u8]) -> Option<Vec<u8>> {
        with_gunzipped(b, |o| o.map(<[u8]>::to_vec))
    }

    #[test]
    fn members_headers_and_lies() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(gunzip(&gz(&data)).as_deref(), Some(&data[..]));
        // Two members: both, in order.
        let mut two = gz(b"first ");
        two.extend(gz(b"second"));
        assert_eq!(gunzip(&two).as_deref(), Some(&b"first second"[..]));
        // A lying ISIZE in the last trailer: fails that member's check, not a panic.
        let mut lie = gz(&data);
        let n = lie.len();
        lie[n - 4..].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(gunzip(&lie), None);
        // ISIZE short only as a hint (first member large, last one tiny): the buffer grows.
        let mut grow = gz(&data);
        grow.extend(gz(b"!"));
        let mut want = data.clone();
        want.push(b'!');
        assert_eq!(gunzip(&grow).as_deref(), Some(&want[..]));
        // Name and comment fields.
        let mut named = Vec::new();
        let mut e = flate2::GzBuilder::new()
            .filename("a.tar")
            .comment("c")
            .extra(vec![1, 2, 3])
            .write(&mut named, flate2::Compression::fast());
        e.write_all(b"x").unwrap();
        e.finish().unwrap();
        assert_eq!(gunzip(&named).as_deref(), Some(&b"x"[..]));
        // Truncated, a bad CRC, trailing bytes, a header CRC: not sure.
        let whole = gz(&data);
        for cut in [whole.len() - 1, whole.len() - 8, whole.len() / 2, 10, 3] {
            assert_eq!(gunzip(&whole[..cut]), None, "cut at {cut}");
        }
        let mut crc = whole.clone();
        crc[n - 8] ^= 1;
        assert_eq!(gunzip(&crc), None);
        let mut trailing = whole.clone();
        trailing.push(0);
        assert_eq!(gunzip(&trailing), None);
        let mut fhcrc = gz(b"x");
        fhcrc[3] |= 2;
        assert_eq!(gunzip(&fhcrc), None);
    }
}
