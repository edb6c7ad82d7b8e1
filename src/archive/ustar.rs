//! USTAR entry headers, byte for byte as the `tar` crate writes them for
//! `append_data(Header::new_ustar() + regular, 0644, uid/gid 0, mtime, size)`, without building
//! the archive around them.
//!
//! The common case (a path of at most 100 bytes made of plain components, numbers that fit the
//! octal fields) is written here directly; anything else (a longer path, which the tar crate
//! splits into prefix/name or precedes with a GNU long-name entry, or refuses) is handed to the
//! tar crate itself, so every path is treated exactly as before.

/// One tar block.
pub const BLOCK: usize = 512;

/// The largest number an 11-digit octal field holds; beyond it the tar crate switches to its
/// binary encoding (left to the tar crate).
const MAX_OCTAL_12: u64 = 8_589_934_591;

/// The header block(s) of a regular file at `path` (already prefixed with the chart name).
pub fn header(path: &str, size: u64, mtime: u64) -> std::io::Result<HeaderBytes> {
    if path.len() <= 100 && plain(path) && size <= MAX_OCTAL_12 && mtime <= MAX_OCTAL_12 {
        let mut h = [0u8; BLOCK];
        h[..path.len()].copy_from_slice(path.as_bytes());
        octal(&mut h[100..108], 0o644);
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], mtime);
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        // The checksum counts its own field as spaces.
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum::<u64>() + 8 * u64::from(b' ');
        octal(&mut h[148..156], sum);
        return Ok(HeaderBytes::One(h));
    }
    by_tar_crate(path, size, mtime).map(HeaderBytes::Other)
}

/// A header as written: one block, or what the tar crate wrote for an unusual path.
// One header at a time, on the stack: boxing the block would allocate per entry.
#[allow(clippy::large_enum_variant)]
pub enum HeaderBytes {
    One([u8; BLOCK]),
    Other(Vec<u8>),
}

impl HeaderBytes {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            HeaderBytes::One(h) => h,
            HeaderBytes::Other(v) => v,
        }
    }
}

/// Relative, and every component an ordinary name: what the tar crate copies unchanged (it
/// drops `.` components and `//`, refuses `..`, absolute paths and NUL).
fn plain(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\0')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// `field` as the tar crate fills it: octal digits, zero-padded, then one NUL.
fn octal(field: &mut [u8], mut value: u64) {
    let (last, digits) = field.split_last_mut().expect("a non-empty field");
    *last = 0;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (value & 7) as u8;
        value >>= 3;
    }
}

/// The tar crate's own header(s) for this entry: `append_data` with no content writes exactly
/// the header blocks (with a GNU long-name entry first when the path needs one).
pub fn by_tar_crate(path: &str, size: u64, mtime: u64) -> std::io::Result<Vec<u8>> {
    let mut header = tar_crate_header(size, mtime);
    let mut tar = tar::Builder::new(Vec::with_capacity(2 * BLOCK));
    tar.mode(tar::HeaderMode::Deterministic);
    tar.append_data(&mut header, path, std::io::empty())?;
    // Not into_inner: that would also end the archive.
    Ok(std::mem::take(tar.get_mut()))
}

/// The tar crate's header for a regular file as every chart entry has it (0644, uid/gid 0).
pub(super) fn tar_crate_header(size: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header.set_size(size);
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_the_tar_crates() {
        let long = format!("demo/templates/{}.yaml", "x".repeat(90));
        let very_long = format!("demo/{}", "y/".repeat(150)) + "z";
        let paths = [
            "demo/Chart.yaml",
            "a/b",
            &format!("demo/{}", "n".repeat(95)),
            &long,
            &very_long,
            "demo/./x",
            "demo//x",
        ];
        for path in paths {
            for size in [0, 1, 511, 512, 34_567, MAX_OCTAL_12, MAX_OCTAL_12 + 1] {
                for mtime in [0, 1_700_000_000, MAX_OCTAL_12 + 1] {
                    let ours = header(path, size, mtime).unwrap();
                    let theirs = by_tar_crate(path, size, mtime).unwrap();
                    assert_eq!(ours.as_slice(), theirs, "{path} {size} {mtime}");
                }
            }
        }
        // What the tar crate refuses is refused.
        assert!(header("demo/../x", 1, 0).is_err());
        assert!(
            header(&format!("demo/{}", "q".repeat(300)), 1, 0).is_ok_and(|h| {
                h.as_slice().len() > BLOCK // a GNU long-name entry, as before
            })
        );
    }
}
