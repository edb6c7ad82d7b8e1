//! A line-by-line reader of a small subset of block YAML that yields exactly the events
//! granit-parser (the parser under serde-saphyr) yields for it, or gives up: the fast paths'
//! first reading of values.yaml (see [`super::events`]). granit spends ~330 instructions a byte
//! on our values.yaml; this spends a few, because in its subset every line is one entry.
//!
//! The subset is what our emitter writes: lines end in `\n` (or the end of the text), indents
//! are spaces, every character is printable and no BOM; blank lines and comment lines (spaces,
//! then `#`) are skipped; each other line is `key: value`, `key:`, `- value`, `-` or
//! `- key: value` (a mapping in a sequence item, continued at its key's column), where a key is
//! plain (ASCII letters, digits, `_ . / -`, led by a letter, digit or `_`) or double-quoted
//! with no escape but those of one character (`\n`, `\"`...), and a value is `[]`, `{}`, such a
//! double-quoted scalar (both with an optional ` # comment`) or a plain scalar that cannot be
//! anything but one plain scalar on its line. An entry awaiting its value (`key:`, `-`) gets a
//! block at a deeper indent, a block sequence at the key's own indent (`key:\n- a`), or an
//! empty value (granit's plain `~`).
//! Any other line, or a line at an indent that no open block has, and the reader gives up
//! (`None`): a multi-line scalar, a flow collection with content, an anchor, a tag, a tab...
//! It does not judge scalars (null, number, string): its caller does that on the events.
//!
//! Why the events are the same: in this subset no scalar spans lines, so a line is a comment
//! exactly when it looks like one, and every structural choice is made by the indent of the
//! line alone, as the YAML block rules make it. A differential test against granit over the
//! examples' values.yaml and random documents holds the two together.

use std::borrow::Cow;

use granit_parser::{Event, ScalarStyle, StructureStyle};

/// The longest key read here: far below the parser's simple-key lookahead (1,024 characters).
const MAX_KEY: usize = 200;

/// An open block collection.
#[derive(Clone, Copy)]
struct Block {
    indent: usize,
    sequence: bool,
    /// A block sequence at its parent key's indent (`key:\n- a`): a line at that indent that
    /// is not an item ends it.
    compact: bool,
}

/// An entry whose value is on the lines below (`key:` or `-`).
#[derive(Clone, Copy)]
struct Awaiting {
    /// The indent of the collection it belongs to; `None` for the document's root.
    indent: Option<usize>,
    after_key: bool,
}

/// The events of `text` (from `StreamStart` to `StreamEnd`, as granit yields them with
/// [`super::events`]'s options), or `None` when `text` is not in the subset, nests more than
/// `max_depth` blocks or has more than `max_events` events.
pub(super) fn events(text: &str, max_depth: usize, max_events: usize) -> Option<Vec<Event<'_>>> {
    let mut reader = Reader {
        out: Vec::with_capacity(text.len() / 24 + 8),
        stack: Vec::with_capacity(8),
        max_depth,
    };
    reader.out.push(Event::StreamStart);
    reader.out.push(Event::DocumentStart(false, None));
    let mut awaiting = Some(Awaiting {
        indent: None,
        after_key: false,
    });
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let end = line_end(bytes, start)?;
        let line = &text[start..end];
        start = end + 1;
        let indent = line.bytes().take_while(|&b| b == b' ').count();
        let rest = &line[indent..];
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        awaiting = reader.line(awaiting, indent, rest)?;
        if reader.out.len() > max_events {
            return None;
        }
    }
    match awaiting {
        // No content at all: granit reads no document; not for the fast paths.
        Some(Awaiting { indent: None, .. }) => return None,
        Some(_) => reader.out.push(empty()),
        None => {}
    }
    while let Some(block) = reader.stack.pop() {
        reader.out.push(block.end());
    }
    reader.out.push(Event::DocumentEnd);
    reader.out.push(Event::StreamEnd);
    Some(reader.out)
}

/// The end of the line starting at `start` (its `\n`, or the end of the text), when every
/// character of it is printable (YAML's `c-printable`), no tab, no `\r` and no BOM. Eight
/// bytes at a time while they are all printable ASCII (most of a values.yaml is comments).
fn line_end(bytes: &[u8], start: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = start;
    loop {
        while let Some(word) = bytes.get(i..i + 8) {
            let w = u64::from_le_bytes(word.try_into().ok()?);
            // A byte below 0x20 (a control or `\n`), or at or above 0x7f (DEL, non-ASCII).
            let below = w.wrapping_sub(0x20 * ONES) & !w & HIGH;
            let above = (w | w.wrapping_add(ONES)) & HIGH;
            if below | above != 0 {
                break;
            }
            i += 8;
        }
        match bytes.get(i) {
            None | Some(b'\n') => return Some(i),
            Some(0x20..=0x7e) => i += 1,
            Some(0x80..) => i += printable_non_ascii(&bytes[i..])?,
            Some(_) => return None,
        }
    }
}

/// The length of the character at the start of `bytes` (UTF-8, not ASCII) when it is printable
/// and no BOM: U+0085, U+00A0..=U+D7FF, U+E000..=U+FFFD but U+FEFF, and beyond U+FFFF.
fn printable_non_ascii(bytes: &[u8]) -> Option<usize> {
    // The text is a `str`: the sequence is well formed, and its lead byte gives its length.
    let (len, c) = match bytes[0] {
        0xc0..=0xdf => (
            2,
            u32::from(bytes[0] & 0x1f) << 6 | u32::from(bytes[1] & 0x3f),
        ),
        0xe0..=0xef => (
            3,
            u32::from(bytes[0] & 0x0f) << 12
                | u32::from(bytes[1] & 0x3f) << 6
                | u32::from(bytes[2] & 0x3f),
        ),
        _ => return Some(4),
    };
    let printable = matches!(c, 0x85 | 0xa0..=0xd7ff | 0xe000..=0xfffd) && c != 0xfeff;
    printable.then_some(len)
}

struct Reader<'a> {
    out: Vec<Event<'a>>,
    stack: Vec<Block>,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    /// Reads one content line (`rest` after `indent` spaces); what now awaits its value.
    fn line(
        &mut self,
        awaiting: Option<Awaiting>,
        indent: usize,
        rest: &'a str,
    ) -> Option<Option<Awaiting>> {
        let item = is_item(rest);
        if let Some(open) = awaiting {
            let deeper = open.indent.is_none_or(|parent| indent > parent);
            let compact = open.after_key && open.indent == Some(indent) && item;
            if deeper || compact {
                // The awaited value is a block collection starting on this line.
                self.open(indent, item, compact)?;
            } else {
                self.out.push(empty());
                self.close_to(indent, item)?;
            }
        } else {
            self.close_to(indent, item)?;
        }
        let top = *self.stack.last()?;
        if top.sequence != item {
            return None;
        }
        if item {
            self.item(indent, rest)
        } else {
            self.entry(indent, rest)
        }
    }

    fn open(&mut self, indent: usize, sequence: bool, compact: bool) -> Option<()> {
        if self.stack.len() >= self.max_depth {
            return None;
        }
        self.out.push(if sequence {
            Event::SequenceStart(StructureStyle::Block, 0, None)
        } else {
            Event::MappingStart(StructureStyle::Block, 0, None)
        });
        self.stack.push(Block {
            indent,
            sequence,
            compact,
        });
        Some(())
    }

    /// Ends the blocks a line at `indent` leaves; that line must then continue the innermost
    /// open one (a line deeper than it, or at an indent between two, is not in the subset).
    fn close_to(&mut self, indent: usize, item: bool) -> Option<()> {
        loop {
            let top = *self.stack.last()?;
            if top.indent > indent || (top.compact && top.indent == indent && !item) {
                self.stack.pop();
                self.out.push(top.end());
                continue;
            }
            return (top.indent == indent).then_some(());
        }
    }

    /// A sequence item (`-`, `- value`, `- key: value`) of the sequence at `indent`.
    fn item(&mut self, indent: usize, rest: &'a str) -> Option<Option<Awaiting>> {
        let content = rest[1..].trim_start_matches(' ');
        if content.is_empty() {
            return Some(Some(Awaiting {
                indent: Some(indent),
                after_key: false,
            }));
        }
        if let Some((key, after)) = key(content) {
            // A mapping inside the item, at its first key's column.
            let column = indent + (rest.len() - content.len());
            self.open(column, false, false)?;
            return self.value_of_key(column, key, after);
        }
        if is_item(content) {
            // `- - a`: a sequence in an item on one line; not in the subset.
            return None;
        }
        self.value(content)?;
        Some(None)
    }

    /// A `key: value` or `key:` line of the mapping at `indent`.
    fn entry(&mut self, indent: usize, rest: &'a str) -> Option<Option<Awaiting>> {
        let (key, after) = key(rest)?;
        self.value_of_key(indent, key, after)
    }

    fn value_of_key(
        &mut self,
        indent: usize,
        key: Event<'a>,
        after: &'a str,
    ) -> Option<Option<Awaiting>> {
        self.out.push(key);
        let value = after.trim_start_matches(' ');
        if value.is_empty() {
            return Some(Some(Awaiting {
                indent: Some(indent),
                after_key: true,
            }));
        }
        self.value(value)?;
        Some(None)
    }

    /// A value on its key's or item's line: `[]`, `{}`, a double-quoted or a plain scalar.
    fn value(&mut self, value: &'a str) -> Option<()> {
        if let Some(after) = value.strip_prefix("[]") {
            trailer(after)?;
            self.out
                .push(Event::SequenceStart(StructureStyle::Flow, 0, None));
            self.out.push(Event::SequenceEnd);
        } else if let Some(after) = value.strip_prefix("{}") {
            trailer(after)?;
            self.out
                .push(Event::MappingStart(StructureStyle::Flow, 0, None));
            self.out.push(Event::MappingEnd);
        } else if let Some((text, after)) = double_quoted(value) {
            trailer(after)?;
            self.out
                .push(Event::Scalar(text, ScalarStyle::DoubleQuoted, 0, None));
        } else {
            self.out.push(scalar(plain(value)?, ScalarStyle::Plain));
        }
        Some(())
    }
}

impl Block {
    fn end(self) -> Event<'static> {
        if self.sequence {
            Event::SequenceEnd
        } else {
            Event::MappingEnd
        }
    }
}

fn scalar<'a>(text: impl Into<Cow<'a, str>>, style: ScalarStyle) -> Event<'a> {
    Event::Scalar(text.into(), style, 0, None)
}

/// The value of an entry with nothing after its indicator: granit gives it as a plain `~`.
fn empty() -> Event<'static> {
    scalar("~", ScalarStyle::Plain)
}

/// A sequence item's line: `-` then a space or the line's end.
fn is_item(rest: &str) -> bool {
    matches!(rest.as_bytes(), [b'-'] | [b'-', b' ', ..])
}

/// A key at the start of `text` followed by `:` and a space or the line's end: its event and
/// what follows the `:`. Plain keys are made of characters that are never special (and do not
/// start as `-x`, `...` or `.5` could); quoted ones have only the escapes [`double_quoted`]
/// reads.
fn key(text: &str) -> Option<(Event<'_>, &str)> {
    let bytes = text.as_bytes();
    let (event, len) = if bytes.first() == Some(&b'"') {
        let (key, after) = double_quoted(text)?;
        (
            scalar(key, ScalarStyle::DoubleQuoted),
            text.len() - after.len(),
        )
    } else {
        let len = bytes
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
            .count();
        let first = *bytes.first()?;
        if len == 0 || !(first.is_ascii_alphanumeric() || first == b'_') {
            return None;
        }
        (scalar(&text[..len], ScalarStyle::Plain), len)
    };
    if len > MAX_KEY {
        return None;
    }
    let after = text[len..].strip_prefix(':')?;
    (after.is_empty() || after.starts_with(' ')).then_some((event, after))
}

/// A double-quoted scalar at the start of `text`: its content and the rest of the line. Of the
/// escapes, those of one character (`\n`, `\"`, `\N`...: what the emitter writes of a
/// multi-line string or a line separator), not `\x`, `\u`, `\U` or an escaped space or line
/// break; a scalar without one is borrowed.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let inner = text.strip_prefix('"')?;
    let bytes = inner.as_bytes();
    let mut i = inner.find(['"', '\\'])?;
    if bytes[i] == b'"' {
        return Some((Cow::Borrowed(&inner[..i]), &inner[i + 1..]));
    }
    let mut out = String::with_capacity(inner.len());
    out.push_str(&inner[..i]);
    loop {
        if bytes[i] == b'"' {
            return Some((Cow::Owned(out), &inner[i + 1..]));
        }
        out.push(match bytes.get(i + 1)? {
            b'\\' => '\\',
            b'"' => '"',
            b'/' => '/',
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'0' => '\0',
            b'a' => '\u{7}',
            b'b' => '\u{8}',
            b'e' => '\u{1b}',
            b'f' => '\u{c}',
            b'v' => '\u{b}',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            _ => return None,
        });
        i += 2;
        let next = i + inner[i..].find(['"', '\\'])?;
        out.push_str(&inner[i..next]);
        i = next;
    }
}

/// What may follow a value on its line: nothing, spaces, or spaces and a comment.
fn trailer(after: &str) -> Option<()> {
    let rest = after.trim_start_matches(' ');
    (rest.is_empty() || (rest.len() < after.len() && rest.starts_with('#'))).then_some(())
}

/// `value` when it is one plain scalar that ends at the line's end: no indicator first (but
/// `-` before a non-space, as in `--port`), no `: ` or ` #` inside, no `:` or space last.
fn plain(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    let first = *bytes.first()?;
    let indicator = matches!(
        first,
        b'?' | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
    );
    if indicator || (first == b'-' && matches!(bytes.get(1), None | Some(b' '))) {
        return None;
    }
    if matches!(bytes.last(), Some(b':' | b' ')) {
        return None;
    }
    let special = bytes.windows(2).any(|w| w == b": " || w == b" #");
    (!special).then_some(value)
}

#[cfg(test)]
mod tests;
