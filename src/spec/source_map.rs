//! Where each field of a YAML document is: field path → (line, column) and back.
//!
//! Validation works on plain typed structs and reports problems by field path; this map, built
//! only when an error is being reported, puts the line and column on them. It is parsed with the
//! same bounded parser as the spec itself.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diag::{FieldPath, Seg};

type Pos = (u64, u64);

pub struct SourceMap {
    root: Node,
}

struct Node {
    pos: Pos,
    kind: Kind,
}

enum Kind {
    Map(Vec<(String, Pos, Node)>),
    Seq(Vec<Node>),
    Leaf,
}

impl SourceMap {
    /// `None` when the text is not valid YAML: then the parser's own error carries the position.
    pub fn build(text: &str, options: serde_saphyr::Options) -> Option<SourceMap> {
        let root: Spanned<Kind> = serde_saphyr::from_str_with_options(text, options).ok()?;
        Some(SourceMap {
            root: Node::from(root),
        })
    }

    /// Position of the value at `path`, or of the deepest enclosing field that exists, and the
    /// path as the document spells it. Validation sees `env_vars` as a list even when the user
    /// wrote a mapping, so an index into a mapping means its i-th key: `env_vars[2].value`
    /// becomes `env_vars.DATABASE_URL`.
    pub fn locate(&self, path: &FieldPath) -> (FieldPath, Option<Pos>) {
        fn entry((key, key_pos, child): &(String, Pos, Node)) -> (Seg, Pos, &Node) {
            // A null value has no useful position of its own; point at its key.
            let p = if matches!(child.kind, Kind::Leaf) && child.pos.0 != key_pos.0 {
                *key_pos
            } else {
                child.pos
            };
            (Seg::Key(key.clone()), p, child)
        }
        let mut node = &self.root;
        let mut pos = None;
        let mut spelled = FieldPath::root();
        for seg in &path.0 {
            let next = match (seg, &node.kind) {
                (Seg::Key(k), Kind::Map(entries)) => {
                    entries.iter().find(|(key, _, _)| key == k).map(entry)
                }
                (Seg::Index(i), Kind::Map(entries)) => entries.get(*i).map(entry),
                (Seg::Index(i), Kind::Seq(items)) => {
                    items.get(*i).map(|c| (Seg::Index(*i), c.pos, c))
                }
                _ => None,
            };
            match next {
                Some((seg, p, child)) => {
                    spelled.0.push(seg);
                    pos = Some(p);
                    node = child;
                }
                None => {
                    // The rest does not exist (yet): keep naming it as asked.
                    if !matches!(node.kind, Kind::Leaf) {
                        spelled.0.push(seg.clone());
                    }
                    break;
                }
            }
        }
        if spelled.0.len() < path.0.len() && !matches!(node.kind, Kind::Leaf) {
            spelled.0.extend(path.0[spelled.0.len()..].iter().cloned());
        }
        (spelled, pos.or(Some(self.root.pos)).filter(|p| p.0 > 0))
    }

    /// Position of the key that holds the value at `path` (None for list items and the root).
    pub fn key_pos(&self, path: &FieldPath) -> Option<Pos> {
        let (last, parent) = path.0.split_last()?;
        let Seg::Key(k) = last else { return None };
        let parent = FieldPath(parent.to_vec());
        let mut node = &self.root;
        for seg in &parent.0 {
            node = match (seg, &node.kind) {
                (Seg::Key(k), Kind::Map(entries)) => {
                    &entries.iter().find(|(key, _, _)| key == k)?.2
                }
                (Seg::Index(i), Kind::Seq(items)) => items.get(*i)?,
                (Seg::Index(i), Kind::Map(entries)) => &entries.get(*i)?.2,
                _ => return None,
            };
        }
        match &node.kind {
            Kind::Map(entries) => entries.iter().find(|(key, _, _)| key == k).map(|e| e.1),
            _ => None,
        }
    }

    /// The shape of the value at `path`, if it exists.
    pub fn shape_of(&self, path: &FieldPath) -> Option<Shape> {
        let mut node = &self.root;
        for seg in &path.0 {
            node = match (seg, &node.kind) {
                (Seg::Key(k), Kind::Map(entries)) => {
                    &entries.iter().find(|(key, _, _)| key == k)?.2
                }
                (Seg::Index(i), Kind::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(shape(node))
    }

    /// The field at a position reported by the parser: among the keys and values that start at
    /// the last position at or before it (YAML nodes appear in document order), the innermost
    /// one; or, for a value of the wrong shape, the field whose value has that shape (`found`),
    /// or failing that the outermost field holding a collection. A block mapping starts where
    /// its first key does, so "invalid type: map" there means the field, not the key.
    pub fn path_at(&self, line: u64, col: u64, found: Option<Shape>) -> Option<FieldPath> {
        let target = (line, col);
        let mut best: Option<Pos> = None;
        let mut candidates: Vec<(FieldPath, Shape)> = Vec::new();
        visit(&self.root, &FieldPath::root(), &mut |pos, path, shape| {
            if pos > target || best.is_some_and(|b| pos < b) {
                return;
            }
            if best != Some(pos) {
                best = Some(pos);
                candidates.clear();
            }
            candidates.push((path.clone(), shape));
        });
        let pick = match found {
            None => candidates.last(),
            Some(Shape::Leaf) => candidates.last(),
            Some(shape) => candidates
                .iter()
                .find(|(_, s)| *s == shape)
                .or_else(|| candidates.iter().find(|(_, s)| *s != Shape::Leaf))
                .or(candidates.last()),
        };
        pick.map(|(p, _)| p.clone())
    }
}

/// The shape of a YAML node, as far as error placement cares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Map,
    Seq,
    Leaf,
    /// A collection of either kind.
    Collection,
}

fn shape(node: &Node) -> Shape {
    match node.kind {
        Kind::Map(_) => Shape::Map,
        Kind::Seq(_) => Shape::Seq,
        Kind::Leaf => Shape::Leaf,
    }
}

/// Every key and value in document order, with its path and the shape of the value.
fn visit(node: &Node, path: &FieldPath, f: &mut impl FnMut(Pos, &FieldPath, Shape)) {
    match &node.kind {
        Kind::Map(entries) => {
            for (key, key_pos, child) in entries {
                let child_path = path.key(key);
                f(*key_pos, &child_path, shape(child));
                f(child.pos, &child_path, shape(child));
                visit(child, &child_path, f);
            }
        }
        Kind::Seq(items) => {
            for (i, child) in items.iter().enumerate() {
                let child_path = path.index(i);
                f(child.pos, &child_path, shape(child));
                visit(child, &child_path, f);
            }
        }
        Kind::Leaf => {}
    }
}

impl From<Spanned<Kind>> for Node {
    fn from(s: Spanned<Kind>) -> Self {
        Node {
            pos: (s.referenced.line(), s.referenced.column()),
            kind: s.value,
        }
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

macro_rules! leaf {
    ($($name:ident: $ty:ty),*) => {$(
        fn $name<E: de::Error>(self, _: $ty) -> Result<Kind, E> { Ok(Kind::Leaf) }
    )*};
}

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }

    leaf!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128, visit_u128: u128,
          visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);

    fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Leaf)
    }

    fn visit_none<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Leaf)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(KindVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Kind>>()? {
            items.push(Node::from(item));
        }
        Ok(Kind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value: Spanned<Kind> = map.next_value()?;
            let pos = (key.referenced.line(), key.referenced.column());
            entries.push((key.value.0, pos, Node::from(value)));
        }
        Ok(Kind::Map(entries))
    }
}

/// A mapping key of any scalar type, as text (`1: x` has the key "1").
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText(String::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyText, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(KeyText("[…]".into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyText, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(KeyText("{…}".into()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> SourceMap {
        SourceMap::build(text, serde_saphyr::Options::default()).unwrap()
    }

    #[test]
    fn locates_nested_values() {
        let m = map("name: a\ncron_jobs:\n  - schedule: \"x\"\n    commands: [a]\n");
        let p = FieldPath::root().key("cron_jobs").index(0).key("commands");
        assert_eq!(m.locate(&p).1, Some((4, 15)));
        let at = |l, c, shape| m.path_at(l, c, shape).unwrap().to_string();
        assert_eq!(at(4, 15, None), "cron_jobs[0].commands");
        assert_eq!(at(3, 5, None), "cron_jobs[0].schedule");
        // A mapping starts at its first key: "found a map" there means the mapping itself.
        assert_eq!(at(3, 5, Some(Shape::Map)), "cron_jobs[0]");
        assert_eq!(at(4, 15, Some(Shape::Seq)), "cron_jobs[0].commands");
    }

    #[test]
    fn missing_fields_fall_back_to_the_nearest_parent() {
        let m = map("name: a\nresource_request:\n  cpu: 5\n");
        let p = FieldPath::root().key("resource_request").key("memory");
        let (spelled, pos) = m.locate(&p);
        assert_eq!(pos, Some((3, 3)));
        assert_eq!(spelled.to_string(), "resource_request.memory");
    }

    #[test]
    fn list_paths_into_a_mapping_use_its_keys() {
        let m = map("env_vars:\n  A: x\n  B: \"{vars.y}\"\n");
        let p = FieldPath::root().key("env_vars").index(1).key("value");
        let (spelled, pos) = m.locate(&p);
        assert_eq!(spelled.to_string(), "env_vars.B");
        assert_eq!(pos, Some((3, 6)));
    }
}
