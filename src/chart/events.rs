//! The YAML parser's events as the fast paths (the values.yaml proof in `verify`, the
//! loadability check in `loadable`) read them: granit-parser, the parser under serde-saphyr,
//! with serde-saphyr's options and limits, optionally over the text without its comment lines.

use granit_parser::{Event, Parser, ScalarStyle, StrInput};

use super::block_lines;

/// Limits of the fast paths, far inside serde-saphyr's default budget (64 levels, a million
/// events, 64 MiB of scalars): a document the full check would refuse for size never passes.
pub(super) const MAX_TEXT: usize = 16 << 20;
pub(super) const MAX_DEPTH: usize = 32;
pub(super) const MAX_EVENTS: usize = 250_000;

/// serde-saphyr's parser options under its default `Options` (its `Options::parser_options`,
/// which is private): the same scanner limits, so both parsers see the same events.
pub(super) fn parser_options() -> granit_parser::Options {
    let saphyr = serde_saphyr::Options::default();
    let budget = saphyr.budget.unwrap_or_default();
    let mut options = granit_parser::Options::default();
    options.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    options.flow_nesting_limit = budget.flow_nesting_limit;
    options.block_nesting_limit = options
        .block_nesting_limit
        .max(budget.max_depth.saturating_add(1));
    options.emit_comments = false;
    options.strict_indentation = saphyr.strict_indentation;
    options.bom_inside_document_as_content = saphyr.bom_inside_document_as_content;
    options
}

/// Whether `root` says yes of `text` read as exactly one YAML document: `root` reads the
/// document's root node from its first event (`None`: not certain). First with
/// [`block_lines`] (the subset of block YAML our emitter writes, read line by line, comment
/// lines skipped); when it gives up, or `root` is not certain of its events, with granit over
/// the text without its comment lines (see [`without_comment_lines`]), then, if that is not
/// certain either (a quoted scalar over several lines, a block scalar), over the text as it
/// is. False means "not certain here": the caller's full parse decides.
pub(super) fn certain_of(
    text: &str,
    root: impl Fn(&mut Events<'_>, Event<'_>) -> Option<bool>,
) -> bool {
    if text.len() > MAX_TEXT {
        return false;
    }
    if lines_document(text, &root) {
        return true;
    }
    match without_comment_lines(text) {
        Some(stripped) => document(&stripped, true, &root) || document(text, false, &root),
        None => document(text, false, &root),
    }
}

/// [`certain_of`] of `text` read by granit (`stripped`: it is [`without_comment_lines`] of the
/// document).
pub(super) fn document(
    text: &str,
    stripped: bool,
    root: &impl Fn(&mut Events<'_>, Event<'_>) -> Option<bool>,
) -> bool {
    read(Events::parser(text, stripped), root)
}

/// [`certain_of`] of `text` read by [`block_lines`] alone (the tests use it to show that our
/// charts never need the fallback).
pub(super) fn lines_document(
    text: &str,
    root: &impl Fn(&mut Events<'_>, Event<'_>) -> Option<bool>,
) -> bool {
    block_lines::events(text, MAX_DEPTH, MAX_EVENTS)
        .is_some_and(|lines| read(Events::lines(lines), root))
}

/// Whether `root` says yes of the one document `events` hold.
fn read(
    mut events: Events<'_>,
    root: &impl Fn(&mut Events<'_>, Event<'_>) -> Option<bool>,
) -> bool {
    let mut read = || -> Option<bool> {
        matches!(events.next()?, Event::StreamStart).then_some(())?;
        // A `%YAML` directive could change how scalars read: not for the fast paths.
        matches!(events.next()?, Event::DocumentStart(_, None)).then_some(())?;
        let first = events.next()?;
        let yes = root(&mut events, first)?;
        matches!(events.next()?, Event::DocumentEnd).then_some(())?;
        matches!(events.next()?, Event::StreamEnd).then_some(())?;
        // Exactly one document: the stream is over.
        Some(yes && events.is_over())
    };
    read().unwrap_or(false)
}

/// The events the fast paths read, from either reader.
pub(super) struct Events<'a> {
    source: Source<'a>,
    count: usize,
}

enum Source<'a> {
    /// [`block_lines`]' events of the whole document, read to its end.
    Lines(std::vec::IntoIter<Event<'a>>),
    Parser {
        parser: Box<Parser<'a, StrInput<'a>>>,
        /// The text read is [`without_comment_lines`] of the document: every scalar must then
        /// lie on one line and not be a block scalar.
        stripped: bool,
    },
}

impl<'a> Events<'a> {
    fn lines(events: Vec<Event<'a>>) -> Self {
        Events {
            source: Source::Lines(events.into_iter()),
            count: 0,
        }
    }

    fn parser(text: &'a str, stripped: bool) -> Self {
        Events {
            source: Source::Parser {
                parser: Box::new(Parser::with_options(StrInput::new(text), parser_options())),
                stripped,
            },
            count: 0,
        }
    }

    /// The next event; `None` on a parse error or past the event limit (not proven here).
    pub(super) fn next(&mut self) -> Option<Event<'a>> {
        self.count += 1;
        if self.count > MAX_EVENTS {
            return None;
        }
        let (parser, stripped) = match &mut self.source {
            Source::Lines(events) => return events.next(),
            Source::Parser { parser, stripped } => (parser, *stripped),
        };
        let (event, span) = parser.next()?.ok()?;
        if stripped
            && let Event::Scalar(_, style, ..) = &event
            && (matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                || span.start.line() != span.end.line())
        {
            return None;
        }
        Some(event)
    }

    /// No event is left: the stream held one document.
    fn is_over(&mut self) -> bool {
        match &mut self.source {
            Source::Lines(events) => events.next().is_none(),
            Source::Parser { parser, .. } => parser.next().is_none(),
        }
    }
}

/// `text` without its comment lines (spaces, then `#`), for the fast paths: ~27 KB of our
/// values.yaml is documentation, which the scanner otherwise walks character by character.
/// `None` when there is none, or when a line could hold a line break other than `\n` (a `\r`)
/// or the parser's end of input (a NUL), which would make a "line" more than one.
///
/// A removed line is a comment of the original unless it lies inside a quoted or block scalar
/// (inside a plain scalar or a flow collection, `#` after a line break always starts a
/// comment). So the stripped text is read with two conditions ([`Events::next`]): no block
/// scalar, and every scalar on one line. A quoted scalar that had a removed line inside it
/// still starts and ends on different lines (or lost its closing quote, which leaves it
/// running on, or the text not parsing): either way the fast path gives up and the original
/// text decides. A plain scalar that a removed comment used to end, and that now runs on into
/// the next line, is caught the same way.
pub(super) fn without_comment_lines(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // In blocks the compiler can vectorize (an early-exit search is byte by byte).
    if bytes.chunks(64).any(|chunk| {
        chunk
            .iter()
            .fold(false, |hit, &b| hit | (b == b'\r') | (b == 0))
    }) {
        return None;
    }
    // Runs of kept lines are copied at once; the copy is made at the first comment line.
    let mut out: Option<String> = None;
    let (mut kept_from, mut start) = (0, 0);
    while start < bytes.len() {
        let end = text[start..]
            .find('\n')
            .map_or(bytes.len(), |i| start + i + 1);
        let first = bytes[start..end].iter().position(|&b| b != b' ');
        if first.is_some_and(|i| bytes[start + i] == b'#') {
            out.get_or_insert_with(|| String::with_capacity(text.len()))
                .push_str(&text[kept_from..start]);
            kept_from = end;
        }
        start = end;
    }
    let mut out = out?;
    out.push_str(&text[kept_from..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines_go_and_nothing_else() {
        let doc = "# head\na: 1 # kept\n   # indented\n\t# tab-led: kept\nb: \"#x\"\n";
        assert_eq!(
            without_comment_lines(doc).as_deref(),
            Some("a: 1 # kept\n\t# tab-led: kept\nb: \"#x\"\n")
        );
        assert_eq!(without_comment_lines("a: 1\n"), None, "nothing to remove");
        assert_eq!(
            without_comment_lines("# c\ra: 1\n"),
            None,
            "a \\r may break a line"
        );
        assert_eq!(
            without_comment_lines("# c\0\na: 1\n"),
            None,
            "a NUL ends the input"
        );
    }
}
