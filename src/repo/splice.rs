//! The new index of a merge, mostly copied from the old file rather than emitted again.
//!
//! Emitting 10,000 chart versions is most of a merge's time (the emitter checks every scalar
//! for what would need quoting), and the old file was already emitted once in `load`, to prove
//! the fast reader. The emitter writes an index as a header, one section a name (its key line
//! and its versions, at fixed indentation, in name order) and a tail; a section depends on that
//! name's versions alone. So the sections of names a merge did not change are the old file's
//! bytes, and only the changed names, the header and the tail are emitted, as a small index of
//! their own. Debug builds (every test) check the result against a full emission.

use std::collections::{BTreeMap, BTreeSet};

use super::index_file::Index;
use super::own_index::{self, Layout};

/// `index` as the emitter writes it, put together from `old` (laid out as `layout` says) and an
/// emission of the names in `changed` (those whose versions may differ from `old`'s); `None`
/// when it cannot be, and the caller emits it all.
pub fn emit(
    index: &mut Index,
    old: &str,
    layout: &Layout,
    changed: &BTreeSet<String>,
) -> Option<String> {
    // What the fast reader reads has no other parts; an index with them is emitted in full.
    let mut small = index.with_entries(BTreeMap::new())?;
    for name in changed {
        if let Some(versions) = index.entries.get_mut(name) {
            small.entries.insert(name.clone(), std::mem::take(versions));
        }
    }
    let emitted = serde_saphyr::to_string(&small);
    // Back where they were, whatever happens next.
    for (name, versions) in std::mem::take(&mut small.entries) {
        if let Some(slot) = index.entries.get_mut(&name) {
            *slot = versions;
        }
    }
    let emitted = emitted.ok()?;
    // An empty `entries` is written `{}`, without sections to put the old ones between.
    let (_, small_layout) = own_index::parse_with_layout(&emitted)?;
    let new_sections = sections(&emitted, &small_layout);
    let old_sections = sections(old, layout);
    let mut out = String::with_capacity(old.len() + emitted.len());
    out.push_str(emitted.get(..small_layout.entries_start)?);
    for name in index.entries.keys() {
        let part = if changed.contains(name) {
            new_sections.get(name.as_str())?
        } else {
            old_sections.get(name.as_str())?
        };
        out.push_str(part);
    }
    out.push_str(emitted.get(small_layout.tail..)?);
    Some(out)
}

/// Each name's section of `text`, by name.
fn sections<'a>(text: &'a str, layout: &'a Layout) -> BTreeMap<&'a str, &'a str> {
    let ends = layout
        .sections
        .iter()
        .skip(1)
        .map(|(_, start)| *start)
        .chain([layout.tail]);
    layout
        .sections
        .iter()
        .zip(ends)
        .filter_map(|((name, start), end)| Some((name.as_str(), text.get(*start..end)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::index_file::Entry;

    fn entry(name: &str, version: &str) -> Entry {
        serde_saphyr::from_str(&format!(
            "name: {name}\nversion: \"{version}\"\ndescription: |-\n  two\n  lines\nurls:\n- {name}-{version}.tgz\n"
        ))
        .unwrap()
    }

    fn index(entries: BTreeMap<String, Vec<Entry>>, generated: &str) -> Index {
        Index {
            api_version: "v1".into(),
            entries,
            generated: Some(generated.into()),
            ..Index::default()
        }
    }

    #[test]
    fn puts_together_what_the_emitter_writes() {
        let mut entries = BTreeMap::new();
        for n in ["b", "d", "f"] {
            entries.insert(n.to_string(), vec![entry(n, "1.0.0"), entry(n, "0.9.0")]);
        }
        let text =
            serde_saphyr::to_string(&index(entries.clone(), "2026-01-01T00:00:00Z")).unwrap();
        let (_, layout) = own_index::parse_with_layout(&text).unwrap();
        // A new version of an old name, or a new name, before, between and after the old ones.
        for name in ["a", "b", "c", "d", "e", "f", "g"] {
            let mut more = entries.clone();
            more.entry(name.to_string())
                .or_default()
                .insert(0, entry(name, "2.0.0"));
            let mut new = index(more.clone(), "2027-01-01T00:00:00Z");
            let changed = BTreeSet::from([name.to_string()]);
            let got = emit(&mut new, &text, &layout, &changed).unwrap();
            assert_eq!(got, serde_saphyr::to_string(&new).unwrap(), "{name}");
            assert_eq!(new.entries, more, "{name}: the entries are given back");
        }
        // Nothing changed: the emitter writes `entries: {}`, without sections to go between.
        let mut same = index(entries.clone(), "2026-01-01T00:00:00Z");
        assert!(emit(&mut same, &text, &layout, &BTreeSet::new()).is_none());
        // An unchanged name the old file does not hold cannot be copied from it.
        let mut more = entries.clone();
        more.insert("z".into(), vec![entry("z", "1.0.0")]);
        let changed = BTreeSet::from(["b".to_string()]);
        let mut new = index(more.clone(), "2026-01-01T00:00:00Z");
        assert!(emit(&mut new, &text, &layout, &changed).is_none());
        assert_eq!(new.entries, more);
    }
}
