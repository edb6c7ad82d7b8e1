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
    let mut w = Bits { out, acc: 0, n: 0 };
    w.put(0b010, 3); // BFINAL 0, BTYPE 01 (fixed codes), low bit first
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        let run = data[i..].iter().take_while(|&&x| x == b).count();
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
        i += run;
    }
    w.code(0, 7); // end of block (256)
    w.put(0, 3); // BFINAL 0, BTYPE 00 (stored)
    w.align();
    w.out.extend_from_slice(&[0, 0, 0xff, 0xff]); // LEN 0, NLEN !0
}

struct Bits<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits<'_> {
    /// `bits` low bit first (header fields, extra bits).
    fn put(&mut self, bits: u32, len: u32) {
        self.acc |= u64::from(bits) << self.n;
        self.n += len;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code: written most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        self.put(code.reverse_bits() >> (32 - len), len);
    }

    fn literal(&mut self, b: u8) {
        match b {
            0..=143 => self.code(0x30 + u32::from(b), 8),
            _ => self.code(0x190 + u32::from(b) - 144, 9),
        }
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
        self.code(0, 5);
    }

    fn align(&mut self) {
        if self.n > 0 {
            self.put(0, 8 - self.n);
        }
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
