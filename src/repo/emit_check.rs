//! The proof that `own_index`'s reader read an index file exactly: the emitter, given what it
//! read, writes the file byte for byte (see `own_index`). For 10,000 chart versions that
//! emission is most of a merge's time, so a large index is emitted in two halves, on two cores.
//!
//! The emitter writes an index as a header, one section a name (in name order, at fixed
//! indentation) and a tail, and a section depends on its name's versions alone (what `splice`
//! relies on too): so the file is the emission of the whole index exactly when the emission of
//! the first half of the names is the file without the second half's sections, and that of
//! the second half is the file without the first half's. Debug builds (every test) also compare
//! with one emission of the whole.

use super::index_file::Index;
use super::own_index::Layout;

/// Below this many chart versions one emission is cheap enough; no thread is started.
const SPLIT_FROM: usize = 1000;

/// Whether the emitter writes `index` as exactly `text`, laid out as `layout` says. `index` is
/// split and put back together on the way.
pub fn emits_exactly(index: &mut Index, text: &str, layout: &Layout) -> bool {
    let versions: usize = index.entries.values().map(Vec::len).sum();
    let halves = versions >= SPLIT_FROM
        && layout.sections.len() >= 2
        && layout.sections.len() == index.entries.len();
    if !halves {
        return matches(index, &[text]);
    }
    // The first name of the second half: the first one with at least half of the versions
    // before it (names, and so sections, are in the same order in the file and in the map).
    // None when one name holds most of them: then one emission.
    let mut before = 0;
    let middle = index
        .entries
        .values()
        .zip(&layout.sections)
        .find(|(v, _)| {
            let half = before > 0 && before * 2 >= versions;
            before += v.len();
            half
        })
        .map(|(_, section)| section);
    let Some((first_late, late_start)) = middle else {
        return matches(index, &[text]);
    };
    let (Some(head), Some(late), Some(early), Some(tail)) = (
        text.get(..layout.entries_start),
        text.get(*late_start..),
        text.get(..*late_start),
        text.get(layout.tail..),
    ) else {
        return false;
    };
    // An index with parts beyond the header and tail is not split.
    let Some(mut second) = index.with_entries(std::collections::BTreeMap::new()) else {
        return matches(index, &[text]);
    };
    second.entries = index.entries.split_off(first_late);
    let both = std::thread::scope(|s| {
        let late_half = s.spawn(|| matches(&second, &[head, late]));
        let early_half = matches(index, &[early, tail]);
        // A panic in the emitter is a failed proof, as an error is.
        late_half.join().unwrap_or(false) && early_half
    });
    index.entries.append(&mut second.entries);
    debug_assert!(
        !both || serde_saphyr::to_string(&*index).ok().as_deref() == Some(text),
        "the halves' emissions agree with one emission of the whole"
    );
    both
}

/// Whether emitting `index` writes exactly the concatenation of `parts`. Each piece the
/// emitter writes is compared as it comes (no string is built), and the first difference
/// stops it. (`to_string` is `to_fmt_writer` into a `String` in serde-saphyr 2.2, so these
/// are the bytes it would give.)
fn matches(index: &Index, parts: &[&str]) -> bool {
    struct Matching<'a> {
        parts: std::slice::Iter<'a, &'a str>,
        rest: &'a [u8],
    }
    impl std::fmt::Write for Matching<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let mut s = s.as_bytes();
            while !s.is_empty() {
                while self.rest.is_empty() {
                    self.rest = self.parts.next().ok_or(std::fmt::Error)?.as_bytes();
                }
                let n = s.len().min(self.rest.len());
                if s[..n] != self.rest[..n] {
                    return Err(std::fmt::Error);
                }
                (s, self.rest) = (&s[n..], &self.rest[n..]);
            }
            Ok(())
        }
    }
    let mut sink = Matching {
        parts: parts.iter(),
        rest: &[],
    };
    serde_saphyr::to_fmt_writer(&mut sink, index).is_ok()
        && sink.rest.is_empty()
        && sink.parts.all(|p| p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::index_file::Entry;
    use crate::repo::own_index;
    use std::collections::BTreeMap;

    fn index(names: usize, versions: usize) -> Index {
        let mut entries = BTreeMap::new();
        for i in 0..names {
            let name = format!("svc{i:04}");
            let entry = |v: usize| -> Entry {
                serde_saphyr::from_str(&format!(
                    "name: {name}\nversion: \"1.{v}.0\"\ndescription: |-\n  two\n  lines\nurls:\n- {name}.tgz\n"
                ))
                .unwrap()
            };
            entries.insert(name.clone(), (0..versions).map(entry).collect());
        }
        Index {
            api_version: "v1".into(),
            entries,
            generated: Some("2026-01-01T00:00:00Z".into()),
            ..Index::default()
        }
    }

    #[test]
    fn halves_prove_what_one_emission_proves() {
        for (names, versions) in [
            (1, 1),
            (1, SPLIT_FROM),
            (2, SPLIT_FROM / 2),
            (3, 400),
            (50, 40),
        ] {
            let text = serde_saphyr::to_string(&index(names, versions)).unwrap();
            let (mut read, layout) = own_index::parse_with_layout(&text).unwrap();
            assert!(emits_exactly(&mut read, &text, &layout), "{names}");
            assert_eq!(
                read.entries.len(),
                names,
                "the halves are put back together"
            );
            // One byte different anywhere (in either half, the head or the tail): no proof.
            for at in [
                10,
                text.len() / 4,
                text.len() / 2 + 7,
                text.len() * 3 / 4,
                text.len() - 3,
            ] {
                let mut bytes = text.clone().into_bytes();
                bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
                let other = String::from_utf8(bytes).unwrap();
                assert!(
                    !emits_exactly(&mut read, &other, &layout),
                    "{names} at {at}"
                );
                assert_eq!(read.entries.len(), names);
            }
            // Text missing at the end, or more of it: no proof.
            assert!(!emits_exactly(&mut read, &text[..text.len() - 1], &layout));
            assert!(!emits_exactly(&mut read, &format!("{text}x"), &layout));
        }
    }
}
