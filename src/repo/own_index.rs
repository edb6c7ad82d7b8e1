//! A fast reader for the index.yaml files this program writes, so that `repo index --merge` of a
//! few charts into a large index is not dominated by parsing the old one with a general YAML
//! parser (about 200 ms for 10,000 chart versions).
//!
//! It reads only the layout our emitter produces and gives up (`None`) on anything else. Its
//! result is never trusted on its own: `load` keeps it only when emitting it gives back the
//! file byte for byte. Since the emitter's output parses back to what was emitted, that makes it
//! exactly what the general parser would have returned; any other file (written by Helm, edited
//! by hand, or beyond this reader) takes the general parser.

use std::collections::BTreeMap;

use super::index_file::{Entry, Index};
use crate::repo::chart_archive::Maintainer;

/// The index in `text`, if it is laid out the way our emitter writes indexes.
#[cfg(test)]
pub fn parse(text: &str) -> Option<Index> {
    parse_with_layout(text).map(|(index, _)| index)
}

/// Where the parts of an index in our layout are (byte offsets): the first name's section
/// starts at `entries_start`, right after the `entries:` line; each name's section (its key
/// line and its versions) at its offset in `sections`, in name order; the tail (the
/// `generated:` line, if any) at `tail`.
pub struct Layout {
    pub entries_start: usize,
    pub sections: Vec<(String, usize)>,
    pub tail: usize,
}

/// `parse`, and where each part of the index is in `text`.
pub fn parse_with_layout(text: &str) -> Option<(Index, Layout)> {
    let offset = |line: &str| line.as_ptr() as usize - text.as_ptr() as usize;
    let mut lines = Lines(text.lines().peekable());
    if !text.ends_with('\n') {
        return None;
    }
    let api_version = scalar(lines.next()?.strip_prefix("apiVersion: ")?)?;
    let mut entries = BTreeMap::new();
    let entries_line = lines.next()?;
    if entries_line != "entries:" {
        return None;
    }
    let mut layout = Layout {
        entries_start: offset(entries_line) + "entries:\n".len(),
        sections: Vec::new(),
        tail: text.len(),
    };
    while let Some(line) = lines.peek() {
        let Some(key) = line.strip_prefix("  ") else {
            break;
        };
        lines.next();
        let name = key_only(key)?;
        layout.sections.push((name.clone(), offset(line)));
        let mut versions = Vec::new();
        while let Some(first) = lines.peek().and_then(|l| l.strip_prefix("  - ")) {
            lines.next();
            versions.push(entry(first, &mut lines)?);
        }
        if versions.is_empty() {
            return None;
        }
        entries.insert(name, versions);
    }
    let generated = match lines.next() {
        Some(l) => {
            layout.tail = offset(l);
            Some(scalar(l.strip_prefix("generated: ")?)?)
        }
        None => None,
    };
    if lines.next().is_some() {
        return None;
    }
    let index = Index {
        api_version,
        annotations: BTreeMap::new(),
        entries,
        generated,
        public_keys: Vec::new(),
        server_info: None,
    };
    Some((index, layout))
}

/// The lines, read one ahead (not collected first: an index has hundreds of thousands).
struct Lines<'a>(std::iter::Peekable<std::str::Lines<'a>>);

impl<'a> Lines<'a> {
    fn peek(&mut self) -> Option<&'a str> {
        self.0.peek().copied()
    }
    fn next(&mut self) -> Option<&'a str> {
        self.0.next()
    }
    /// The following lines that start with `prefix`, without it.
    fn items(&mut self, prefix: &str) -> Vec<&'a str> {
        let mut out = Vec::new();
        while let Some(l) = self.peek().and_then(|l| l.strip_prefix(prefix)) {
            self.0.next();
            out.push(l);
        }
        out
    }
}

/// One chart version: its first field on the `- ` line, the others indented by four.
fn entry<'a>(first: &'a str, lines: &mut Lines<'a>) -> Option<Entry> {
    let mut e = Entry {
        annotations: BTreeMap::new(),
        api_version: String::new(),
        app_version: None,
        condition: None,
        created: None,
        dependencies: Vec::new(),
        deprecated: false,
        description: None,
        digest: None,
        home: None,
        icon: None,
        keywords: Vec::new(),
        kube_version: None,
        maintainers: Vec::new(),
        name: String::new(),
        removed: false,
        sources: Vec::new(),
        tags: None,
        chart_type: None,
        urls: Vec::new(),
        version: String::new(),
    };
    let mut field = first;
    loop {
        let (key, value) = field.split_once(':')?;
        let value = match value.strip_prefix(' ') {
            Some(v) => v,
            None if value.is_empty() => "",
            None => return None,
        };
        match key {
            "annotations" if value.is_empty() => {
                while let Some(l) = lines.peek().and_then(|l| l.strip_prefix("      ")) {
                    lines.next();
                    let (k, v) = l.split_once(':')?;
                    let v = match v {
                        // Artifact Hub's images and changes: a YAML document in a block scalar.
                        " |" | " |-" | " >-" => block(&v[1..], lines, "        ")?,
                        _ => scalar(v.strip_prefix(' ')?)?,
                    };
                    e.annotations.insert(scalar(k)?, v);
                }
            }
            "keywords" | "sources" | "urls" if value.is_empty() => {
                let items = lines
                    .items("    - ")
                    .into_iter()
                    .map(scalar)
                    .collect::<Option<Vec<_>>>()?;
                match key {
                    "keywords" => e.keywords = items,
                    "sources" => e.sources = items,
                    _ => e.urls = items,
                }
            }
            "maintainers" if value.is_empty() => {
                while let Some(first) = lines.peek().and_then(|l| l.strip_prefix("    - ")) {
                    lines.next();
                    let mut m = Maintainer::default();
                    for f in std::iter::once(first).chain(lines.items("      ")) {
                        let (k, v) = f.split_once(": ")?;
                        let v = scalar(v)?;
                        match k {
                            "email" => m.email = Some(v),
                            "name" => m.name = v,
                            "url" => m.url = Some(v),
                            _ => return None,
                        }
                    }
                    e.maintainers.push(m);
                }
            }
            "deprecated" if value == "true" => e.deprecated = true,
            "removed" if value == "true" => e.removed = true,
            _ => {
                let v = if value == "|-" || value == ">-" {
                    block(value, lines, "      ")?
                } else {
                    scalar(value)?
                };
                match key {
                    "apiVersion" => e.api_version = v,
                    "appVersion" => e.app_version = Some(v),
                    "condition" => e.condition = Some(v),
                    "created" => e.created = Some(v),
                    "description" => e.description = Some(v),
                    "digest" => e.digest = Some(v),
                    "home" => e.home = Some(v),
                    "icon" => e.icon = Some(v),
                    "kubeVersion" => e.kube_version = Some(v),
                    "name" => e.name = v,
                    "tags" => e.tags = Some(v),
                    "type" => e.chart_type = Some(v),
                    "version" => e.version = v,
                    _ => return None,
                }
            }
        }
        match lines.peek().and_then(|l| l.strip_prefix("    ")) {
            Some(next) if !next.starts_with(' ') && !next.starts_with('-') => {
                lines.next();
                field = next;
            }
            _ => return Some(e),
        }
    }
}

/// A `key:` line's key (a mapping key alone on its line).
fn key_only(line: &str) -> Option<String> {
    scalar(line.strip_suffix(':')?)
}

/// A block scalar (`|` literal, `|-` literal with strip chomping, `>-` folded with strip
/// chomping), its lines indented by `indent`. A literal's lines may be indented further (the
/// nested YAML of Artifact Hub's annotations); a folded one's may not, and neither may hold an
/// empty line (whatever else is misread here is caught by the byte-for-byte check in `load`).
fn block(style: &str, lines: &mut Lines, indent: &str) -> Option<String> {
    let body = lines.items(indent);
    let literal = style.starts_with('|');
    if body.is_empty()
        || body.first().is_some_and(|l| l.starts_with(' '))
        || body
            .iter()
            .any(|l| l.is_empty() || (!literal && l.starts_with(' ')))
    {
        return None;
    }
    let mut text = body.join(if literal { "\n" } else { " " });
    if style == "|" {
        text.push('\n');
    }
    Some(text)
}

/// A one-line scalar: plain, or quoted without escapes.
fn scalar(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        if inner.contains(['"', '\\']) {
            return None;
        }
        return Some(inner.to_string());
    }
    if let Some(inner) = s.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'')?;
        if inner.replace("''", "").contains('\'') {
            return None;
        }
        return Some(inner.replace("''", "'"));
    }
    let first = s.chars().next()?;
    if "-?:,[]{}#&*!|>%@`".contains(first)
        || s.ends_with(' ')
        || s.contains(": ")
        || s.contains(" #")
    {
        return None;
    }
    Some(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_we_write_and_gives_up_on_the_rest() {
        let text = "apiVersion: v1\nentries:\n  a:\n  - annotations:\n      x/y: \"25\"\n    apiVersion: v2\n    created: \"2026-01-01T00:00:00Z\"\n    description: |-\n      one\n      two\n    maintainers:\n    - email: m@x\n      name: M\n    name: a\n    urls:\n    - a-1.0.0.tgz\n    version: \"1.0.0\"\ngenerated: \"2026-01-01T00:00:00Z\"\n";
        let i = parse(text).unwrap();
        let e = &i.entries["a"][0];
        assert_eq!(e.annotations["x/y"], "25");
        assert_eq!(e.description.as_deref(), Some("one\ntwo"));
        assert_eq!(e.maintainers[0].email.as_deref(), Some("m@x"));
        assert_eq!(e.urls, ["a-1.0.0.tgz"]);
        assert_eq!(e.version, "1.0.0");
        assert_eq!(i.generated.as_deref(), Some("2026-01-01T00:00:00Z"));
        // Layouts and values outside what we write.
        assert!(parse("apiVersion: v1\nentries: {}\n").is_none());
        assert!(parse(&text.replace("version: \"1.0.0\"", "version: \"1\\x\"")).is_none());
        assert!(parse(&text.replace("    name: a\n", "    name: a\n    unknown: 1\n")).is_none());
        assert!(parse(&text.replace("\ngenerated", "\n# c\ngenerated")).is_none());
    }

    #[test]
    fn reads_block_scalar_annotations_as_artifact_hub_writes_them() {
        let images = "- name: payments\n  image: >-\n    ghcr.io/acme/payments:2.7.1\n";
        let text = format!(
            "apiVersion: v1\nentries:\n  a:\n  - annotations:\n      artifacthub.io/images: |\n{}      x/y: \"25\"\n      z: |-\n        one\n        two\n    apiVersion: v2\n    name: a\n    version: \"1.0.0\"\n",
            images
                .lines()
                .map(|l| format!("        {l}\n"))
                .collect::<String>()
        );
        let i = parse(&text).unwrap();
        let a = &i.entries["a"][0].annotations;
        assert_eq!(a["artifacthub.io/images"], images);
        assert_eq!(a["x/y"], "25");
        assert_eq!(a["z"], "one\ntwo");
        // And it is what the emitter writes: `load` keeps the fast result only then.
        assert_eq!(serde_saphyr::to_string(&i).unwrap(), text);
        // A block whose first line is indented further is not read (its indentation would differ).
        assert!(parse(&text.replace("        - name", "          - name")).is_none());
    }
}
