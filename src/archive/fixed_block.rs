//! A tar header as one small deflate block of its own, without zlib: the header of each fixed
//! file stands right before that file's precompressed segment, so it must end byte-aligned and
//! refer to nothing before it. zlib gets there only with a full flush, which clears its whole
//! hash table (128 KiB) each time; a 512-byte header that is mostly zeros needs no search.
//!
//! The encoding (RFC 1951): one block with the fixed Huffman codes (3.2.6), literals for the
//! bytes, and every run of 4 or more equal bytes as the byte followed by copies at distance 1
//! (the zero padding of a header is ~400 bytes); then an empty stored block, which byte-aligns
//! the stream exactly as zlib's full flush does (`00 00 ff ff`). Neither block is final.

/// Appends `data` (at most 32 KiB, so distance 1 is always valid) to the deflate stream `out`,
/// which must be byte-aligned; `out` ends byte-aligned again.
pub fn append(out: &mut Vec<u8>, data: &[u8]) {
    // A header is ~40 bytes of codes: room for it (and the stored block) in one reservation.
    out.reserve(data.len() / 4 + 16);
    let mut w = Bits { out, acc: 0, n: 0 };
    w.put(0b010, 3); // BFINAL 0, BTYPE 01 (fixed codes), low bit first
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        let end = run_end(data, i);
        let run = end - i;
        w.literal(b);
        let mut left = run - 1;
        if run >= 4 {
            while left >= 3 {
                let len = left.min(258);
                w.copy_at_distance_1(len);
                left -= len;
            }
        }
        for _ in 0..left {
            w.literal(b);
        }
        i = end;
    }
    w.put(0, 7); // end of block (256): seven zero bits
    w.put(0, 3); // BFINAL 0, BTYPE 00 (stored)
    w.align();
    w.out.extend_from_slice(&[0, 0, 0xff, 0xff]); // LEN 0, NLEN !0
}

/// Where the run of bytes equal to `data[start]` ends: eight bytes at a time while they all
/// are (a header's zero padding is runs of 100 to 250 bytes), then byte by byte.
fn run_end(data: &[u8], start: usize) -> usize {
    let b = data[start];
    let word = u64::from_ne_bytes([b; 8]);
    let mut end = start + 1;
    while let Some(chunk) = data.get(end..end + 8) {
        if chunk.try_into().map(u64::from_ne_bytes).ok() != Some(word) {
            break;
        }
        end += 8;
    }
    while end < data.len() && data[end] == b {
        end += 1;
    }
    end
}

/// The fixed literal code of each byte (RFC 1951 3.2.6), bit-reversed so that it is written low
/// bit first as `put` writes, and its length: a header's ~150 literals then cost a table look-up
/// each rather than a bit reversal.
const LITERALS: [(u16, u8); 256] = {
    let mut table = [(0u16, 0u8); 256];
    let mut b = 0;
    while b < 256 {
        let (code, len) = if b <= 143 {
            (0x30 + b as u32, 8)
        } else {
            (0x190 + b as u32 - 144, 9)
        };
        table[b] = (reversed(code, len) as u16, len as u8);
        b += 1;
    }
    table
};

/// The `len` low bits of `code`, most significant first, as bits to write low bit first.
const fn reversed(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

struct Bits<'a> {
    out: &'a mut Vec<u8>,
    /// Bits not yet written, the first at bit 0; fewer than 32 between calls.
    acc: u64,
    n: u32,
}

impl Bits<'_> {
    /// `bits` (at most 32 of them) low bit first (header fields, extra bits); whole 32-bit
    /// words go out as soon as they are complete.
    fn put(&mut self, bits: u32, len: u32) {
        self.acc |= u64::from(bits) << self.n;
        self.n += len;
        if self.n >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    /// A Huffman code: written most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        self.put(reversed(code, len), len);
    }

    fn literal(&mut self, b: u8) {
        let (code, len) = LITERALS[usize::from(b)];
        self.put(u32::from(code), u32::from(len));
    }

    /// Length `len` (3..=258) at distance 1 (distance code 0, five zero bits).
    fn copy_at_distance_1(&mut self, len: usize) {
        const BASE: [u16; 29] = [
            3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
            115, 131, 163, 195, 227, 258,
        ];
        const EXTRA: [u32; 29] = [
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
        ];
        let len = len as u16;
        let i = BASE.iter().rposition(|&b| b <= len).unwrap_or(0);
        let symbol = 257 + i as u32;
        match symbol {
            257..=279 => self.code(symbol - 256, 7),
            _ => self.code(0xc0 + symbol - 280, 8),
        }
        self.put(u32::from(len - BASE[i]), EXTRA[i]);
        self.put(0, 5); // distance code 0
    }

    /// Pads to a whole byte and writes out every bit held.
    fn align(&mut self) {
        let bytes = self.n.div_ceil(8);
        self.out
            .extend_from_slice(&self.acc.to_le_bytes()[..bytes as usize]);
        self.acc = 0;
        self.n = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Our blocks followed by a final empty block, inflated by flate2.
    fn inflate(pieces: &[&[u8]]) -> Vec<u8> {
        let mut stream = Vec::new();
        for p in pieces {
            append(&mut stream, p);
        }
        stream.extend_from_slice(&[3, 0]); // a final empty fixed block
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(stream.as_slice())
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn runs_end_where_the_byte_changes() {
        let data = [[7u8; 21].as_slice(), &[0; 9], &[7], &[0; 16]].concat();
        for start in 0..data.len() {
            let by_byte = start
                + data[start..]
                    .iter()
                    .take_while(|&&x| x == data[start])
                    .count();
            assert_eq!(run_end(&data, start), by_byte, "from {start}");
        }
    }

    #[test]
    fn blocks_inflate_to_their_input() {
        assert_eq!(inflate(&[b""]), b"");
        assert_eq!(inflate(&[b"a"]), b"a");
        let header =
            super::super::ustar::header("demo/templates/x.yaml", 1234, 1_700_000_000).unwrap();
        let h = header.as_slice();
        assert_eq!(inflate(&[h]), h);
        assert!(
            {
                let mut v = Vec::new();
                append(&mut v, h);
                v.len()
            } < 120,
            "a header compresses well"
        );
    }

    /// Property-style: random bytes with random runs (every run length 1..=600, every byte
    /// value), several blocks in a row.
    #[test]
    fn random_runs_inflate_exactly() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let mut pieces = Vec::new();
            for _ in 0..1 + next() % 3 {
                let mut data = Vec::new();
                while data.len() < (next() % 2000) as usize {
                    let b = next() as u8;
                    let run = match next() % 4 {
                        0 => 1 + next() % 600,
                        _ => 1 + next() % 6,
                    };
                    data.extend(std::iter::repeat_n(b, run as usize));
                }
                pieces.push(data);
            }
            let refs: Vec<&[u8]> = pieces.iter().map(|p| p.as_slice()).collect();
            assert_eq!(inflate(&refs), pieces.concat());
        }
        for run in 1..=600 {
            let data = vec![0u8; run];
            assert_eq!(inflate(&[&data]), data, "run {run}");
        }
    }
}
