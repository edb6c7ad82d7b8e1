//! Reading a spec file safely and turning YAML errors into diagnostics.
//!
//! The file is bounded before parsing (size, UTF-8) and the parser is bounded while parsing
//! (depth, nodes, aliases; duplicate keys are errors). Every later error is located through the
//! `SourceMap`, which maps field paths to lines and back.

use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;

use super::hints;
use super::source_map::{Shape, SourceMap};
use crate::diag::{Diagnostic, Error, FieldPath, Seg, printable};

/// A spec is a short hand-written file; anything bigger is a mistake or an attack.
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;

/// Parser budgets. A real spec has a depth under 10 and a few hundred nodes, so these leave
/// generous room while keeping an alias bomb or a pathological file well under a second.
pub(super) fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: Some(MAX_SPEC_BYTES),
            max_depth: 48,
            max_nodes: 100_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_documents: 1,
            max_total_scalar_bytes: 4 * MAX_SPEC_BYTES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
        },
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    }
}

/// The text of one spec file, with the name used in messages.
pub struct SpecSource {
    pub display: String,
    pub text: String,
    map: std::cell::OnceCell<Option<SourceMap>>,
}

impl SpecSource {
    /// Read `path`, refusing anything that is not a small regular UTF-8 file.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let display = path.display().to_string();
        let fail = |msg: String| Error::from(Diagnostic::new(&display, msg));
        let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        if !meta.is_file() {
            return Err(fail("not a regular file".into()));
        }
        let mut bytes = Vec::new();
        file.take(MAX_SPEC_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(format!("cannot read: {e}")))?;
        Self::from_bytes(&display, bytes)
    }

    pub fn from_bytes(display: &str, bytes: Vec<u8>) -> Result<Self, Error> {
        if bytes.len() > MAX_SPEC_BYTES {
            return Err(Diagnostic::new(
                display,
                format!(
                    "the spec is larger than {} KiB; a service spec is a short file",
                    MAX_SPEC_BYTES / 1024
                ),
            )
            .into());
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let before = &e.as_bytes()[..valid];
                let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
                let col = valid
                    - before
                        .iter()
                        .rposition(|b| *b == b'\n')
                        .map_or(0, |p| p + 1);
                let mut d = Diagnostic::new(display, "the spec is not valid UTF-8");
                d.line = Some(line);
                d.column = Some(col as u64 + 1);
                return Err(d
                    .with_help("save the file as UTF-8 (YAML requires a Unicode encoding)")
                    .into());
            }
        };
        Ok(SpecSource {
            display: display.to_string(),
            text,
            map: std::cell::OnceCell::new(),
        })
    }

    #[cfg(test)]
    pub fn from_str(display: &str, text: &str) -> Result<Self, Error> {
        Self::from_bytes(display, text.as_bytes().to_vec())
    }

    /// Deserialize the whole document into `T` with the bounded, duplicate-rejecting parser.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_saphyr::from_str_with_options(&self.text, yaml_options())
            .map_err(|e| Error::from(self.yaml_error(&e)))
    }

    /// Deserialize with a seed (context the derive cannot carry, e.g. which modules to read).
    pub fn parse_seed<'a, S>(&'a self, seed: S) -> Result<S::Value, Error>
    where
        S: serde::de::DeserializeSeed<'a>,
    {
        serde_saphyr::with_deserializer_from_str_with_options(&self.text, yaml_options(), |de| {
            seed.deserialize(de)
        })
        .map_err(|e| Error::from(self.yaml_error(&e)))
    }

    /// The map from field paths to positions; built lazily, only when an error needs a location.
    fn source_map(&self) -> Option<&SourceMap> {
        self.map
            .get_or_init(|| {
                // Duplicates are reported by the real parse; the map must still build to name them.
                let mut opts = yaml_options();
                opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
                SourceMap::build(&self.text, opts)
            })
            .as_ref()
    }

    /// A diagnostic for `path`, located at its value (or the nearest enclosing field that exists).
    pub fn diag(&self, path: &FieldPath, message: impl Into<String>) -> Diagnostic {
        let mut d = Diagnostic::new(&self.display, message);
        let (spelled, pos) = match self.source_map() {
            Some(m) => m.locate(path),
            None => (path.clone(), None),
        };
        if !spelled.is_root() {
            d.field = Some(spelled.to_string());
        }
        if let Some((line, col)) = pos {
            self.place(&mut d, line, col);
        }
        d
    }

    /// [`diag`](Self::diag) located at the key of `path` rather than its value: for a problem
    /// with the whole block (`meta:`), not with its first entry.
    pub fn diag_at_key(&self, path: &FieldPath, message: impl Into<String>) -> Diagnostic {
        let mut d = self.diag(path, message);
        if let Some((line, col)) = self.source_map().and_then(|m| m.key_pos(path)) {
            self.place(&mut d, line, col);
        }
        d
    }

    fn place(&self, d: &mut Diagnostic, line: u64, col: u64) {
        d.line = Some(line);
        d.column = Some(col);
        d.snippet = self
            .text
            .lines()
            .nth(line.saturating_sub(1) as usize)
            .map(|l| printable(&l.chars().take(160).collect::<String>()));
    }

    /// Translate a parser error into a diagnostic that names the field and suggests a fix.
    pub fn yaml_error(&self, err: &serde_saphyr::Error) -> Diagnostic {
        use serde_saphyr::Error as E;
        let inner = innermost(err);
        // Where the error belongs: a missing field belongs to the mapping that lacks it, a value
        // of the wrong shape to the field holding it, anything else to the innermost node.
        let mut anchor = Anchor::Innermost;
        let mut found = None;
        let (message, help) = match inner {
            E::SerdeUnknownField {
                field, expected, ..
            } => (
                format!("unknown field `{}`", printable(field)),
                Some(suggest(field, expected).unwrap_or_else(|| {
                    "run `helm k8s-service schema` to list every field".to_string()
                })),
            ),
            E::SerdeUnknownVariant {
                variant, expected, ..
            } => (
                format!("unknown value `{}`", printable(variant)),
                Some(match suggest(variant, expected) {
                    Some(s) => format!("{s}; expected one of: {}", expected.join(", ")),
                    None => format!("expected one of: {}", expected.join(", ")),
                }),
            ),
            E::SerdeMissingField { field, .. } => {
                anchor = Anchor::Parent;
                (format!("missing field `{field}`"), None)
            }
            E::NullIntoString { .. } => (
                "expected a string, found an empty value or null".to_string(),
                Some("write the value, or quote it (\"\") if it is meant to be empty".to_string()),
            ),
            E::DuplicateMappingKey { key, .. } => (
                match key {
                    Some(k) => format!("duplicate key `{}`", printable(k)),
                    None => "duplicate key".to_string(),
                },
                Some("a key may appear only once in a mapping; YAML tools disagree on which copy wins".to_string()),
            ),
            E::MultipleDocuments { .. } => (
                "the file holds more than one YAML document (`---`); a spec is one document".to_string(),
                None,
            ),
            E::Budget { breach, .. } => (budget_message(breach), None),
            other => {
                let text = strip_location(&other.to_string());
                // A value of the wrong shape ("invalid type: map, expected a sequence", "expected
                // string scalar") is the field's problem, not its first inner key's.
                if let Some(rest) = text.strip_prefix("invalid type: ") {
                    anchor = Anchor::Field;
                    found = Some(if rest.starts_with("map") {
                        Shape::Map
                    } else if rest.starts_with("sequence") {
                        Shape::Seq
                    } else {
                        Shape::Leaf
                    });
                } else if text.starts_with("expected ") {
                    anchor = Anchor::Field;
                    found = Some(Shape::Collection);
                }
                (self.quote_as_written(text, err), None)
            }
        };
        let mut d = Diagnostic::new(&self.display, message);
        d.help = help;
        let Some(loc) = err.location().filter(|l| l.line() > 0) else {
            return d;
        };
        let (mut line, mut col) = (loc.line(), loc.column());
        if let Some(map) = self.source_map() {
            let path = match anchor {
                Anchor::Innermost => map.path_at(line, col, None),
                Anchor::Field => map.path_at(line, col, found),
                Anchor::Parent => map.path_at(line, col, None).map(|mut p| {
                    p.0.pop();
                    p
                }),
            };
            if let Some(path) = path {
                let moved = match anchor {
                    Anchor::Parent => map.locate(&path).1,
                    Anchor::Field => map.key_pos(&path),
                    Anchor::Innermost => None,
                };
                if let Some(pos) = moved {
                    (line, col) = pos;
                }
                if !path.is_root() {
                    d.field = Some(path.to_string());
                }
                let expected = if d.message == "expected mapping start" {
                    Some(Shape::Map)
                } else if d.message == "expected sequence start" {
                    Some(Shape::Seq)
                } else {
                    None
                };
                if let Some(expected) = expected {
                    let key = match path.0.last() {
                        Some(Seg::Key(k)) => Some(k.as_str()),
                        _ => None,
                    };
                    let found = map.shape_of(&path);
                    let (message, help) = hints::shape(&hints::ShapeProblem {
                        key,
                        expected,
                        found,
                    });
                    d.message = message;
                    d.help = Some(help);
                }
            }
        }
        self.place(&mut d, line, col);
        self.explain_syntax(&mut d, line, col);
        d
    }

    /// A syntax error in the parser's words, said in the user's: where the tab is, which line
    /// lacks its colon (the parser notices only on the next one).
    fn explain_syntax(&self, d: &mut Diagnostic, line: u64, col: u64) {
        if d.message.starts_with("tabs disallowed") {
            if let Some((c, message, help)) = hints::tab(&self.text, line) {
                d.message = message;
                d.help = Some(help);
                self.place(d, line, c);
            }
        } else if d.message.starts_with("mapping values are not allowed")
            || d.message.contains("expected ':'")
        {
            let here = !d.message.starts_with("mapping values");
            if let Some((l, c, message, help)) = hints::missing_colon(&self.text, line, col, here) {
                d.message = message;
                d.help = Some(help);
                self.place(d, l, c);
            } else if !here && d.help.is_none() {
                d.help = Some(
                    "`: ` inside a value starts a mapping; quote the value, e.g. `name: \"a: b\"`"
                        .into(),
                );
            }
        }
    }

    /// Lenient numbers say "found {AS_WRITTEN}": put the scalar exactly as the user wrote it there
    /// (`8080.0`, `1e3`), not the float the parser made of it.
    fn quote_as_written(&self, text: String, err: &serde_saphyr::Error) -> String {
        if !text.contains(crate::spec::raw::AS_WRITTEN) {
            return text;
        }
        let written = err
            .location()
            .map(|l| l.span())
            .and_then(|s| Some((s.byte_offset()?, s.byte_len()?)))
            .and_then(|(o, n)| self.text.get(o as usize..(o + n) as usize))
            .map(|w| format!("`{}`", printable(w)))
            .unwrap_or_else(|| "a number with a fraction, an exponent or too many digits".into());
        text.replace(crate::spec::raw::AS_WRITTEN, &written)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Anchor {
    Innermost,
    Field,
    Parent,
}

/// The error itself, without the alias and snippet wrappers serde-saphyr puts around it.
pub(super) fn innermost(err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    let mut e = err;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = e
    {
        e = error;
    }
    e
}

fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Depth { .. } => "the spec nests deeper than 48 levels; a service spec is shallow".into(),
        B::Nodes { .. } | B::Events { .. } => {
            "the spec has more than 100,000 YAML nodes; a service spec is a short file".into()
        }
        B::Documents { .. } => {
            "the file holds more than one YAML document (`---`); a spec is one document".into()
        }
        B::InputBytes { .. } => {
            "the spec is larger than 1 MiB; a service spec is a short file".into()
        }
        B::Aliases { .. }
        | B::Anchors { .. }
        | B::AliasAnchorRatio { .. }
        | B::ScalarBytes { .. }
        | B::MergeKeys { .. } => {
            "the spec expands YAML aliases (`*name`) beyond what a spec needs (an alias bomb?)"
                .into()
        }
        _ => "the spec exceeds the parser's safety limits (size, depth or aliases)".into(),
    }
}

/// serde-saphyr appends " at line N, column M"; we print the position ourselves.
fn strip_location(msg: &str) -> String {
    if let Some(i) = msg.rfind(" at line ") {
        let tail = &msg[i + " at line ".len()..];
        if let Some((l, c)) = tail.split_once(", column ")
            && !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_digit())
            && !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_digit())
        {
            return msg[..i].to_string();
        }
    }
    msg.to_string()
}

/// "did you mean" for a misspelled field or value, as cargo does for subcommands.
pub fn suggest(given: &str, candidates: &[&str]) -> Option<String> {
    let lower = given.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase()),
                *c,
            )
        })
        .filter(|(dist, c)| *dist <= (c.len() / 3).max(1))
        .min_by_key(|(dist, _)| *dist)
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        name: String,
        min_containers: Option<u32>,
        inner: Option<Vec<Inner>>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        schedule: String,
    }

    fn err_of(text: &str) -> Diagnostic {
        let src = SpecSource::from_str("s.yaml", text).unwrap();
        match src.parse::<T>() {
            Err(Error::Spec(mut d)) => d.remove(0),
            other => panic!("expected a spec error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_are_located_and_get_a_suggestion() {
        let d = err_of("name: a\nmin_contaners: 3\n");
        assert_eq!((d.line, d.column), (Some(2), Some(1)));
        assert_eq!(d.field.as_deref(), Some("min_contaners"));
        assert_eq!(d.help.as_deref(), Some("did you mean `min_containers`?"));
    }

    #[test]
    fn type_errors_name_the_nested_field() {
        let d = err_of("name: a\ninner:\n  - schedule: [1]\n");
        assert_eq!(d.line, Some(3));
        assert_eq!(d.field.as_deref(), Some("inner[0].schedule"));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let d = err_of("name: a\nname: b\n");
        assert!(d.message.contains("duplicate"), "{}", d.message);
        assert_eq!(d.line, Some(2));
    }

    #[test]
    fn negative_numbers_are_rejected_with_the_field() {
        let d = err_of("name: a\nmin_containers: -3\n");
        assert_eq!(d.field.as_deref(), Some("min_containers"));
        assert_eq!(d.line, Some(2));
    }

    #[test]
    fn alias_bombs_are_cut_short() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let src = SpecSource::from_str("bomb.yaml", &s).unwrap();
        let start = std::time::Instant::now();
        assert!(src.parse::<serde_json::Value>().is_err());
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn non_utf8_is_located() {
        let e = SpecSource::from_bytes("x.yaml", b"name: a\nb: \xff\n".to_vec());
        match e {
            Err(Error::Spec(d)) => {
                assert_eq!((d[0].line, d[0].column), (Some(2), Some(4)));
            }
            _ => panic!("expected an error"),
        }
    }

    #[test]
    fn oversized_files_are_refused_before_parsing() {
        let big = vec![b'#'; MAX_SPEC_BYTES + 1];
        assert!(SpecSource::from_bytes("big.yaml", big).is_err());
    }
}
