//! The YAML parser's events as the fast paths (the values.yaml proof in `verify`, the
//! loadability check in `loadable`) read them: granit-parser, the parser under serde-saphyr,
//! with serde-saphyr's options and limits, optionally over the text without its comment lines.

use granit_parser::{Event, Parser, ScalarStyle, StrInput};

/// Limits of the fast paths, far inside serde-saphyr's default budget (64 levels, a million
/// events, 64 MiB of scalars): a document the full check would refuse for size never passes.
pub(super) const MAX_TEXT: usize = 16 << 20;
pub(super) const MAX_DEPTH: usize = 32;
const MAX_EVENTS: usize = 250_000;

/// serde-saphyr's parser options under its default `Options` (its `Options::parser_options`,
/// which is private): the same scanner limits, so both parsers see the same events.
fn parser_options() -> granit_parser::Options {
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
/// document's root node from its first event (`None`: not certain). First over the text without
/// its comment lines (see [`without_comment_lines`]), then, if that is not certain (a quoted
/// scalar over several lines, a block scalar), over the text as it is. False means "not certain
/// here": the caller's full parse decides.
pub(super) fn certain_of(
    text: &str,
    root: impl Fn(&mut Events<'_>, Event<'_>) -> Option<bool>,
) -> bool {
    if text.len() > MAX_TEXT {
        return false;
    }
    match without_comment_lines(text) {
        Some(stripped) => document(&stripped, true, &root) || document(text, false, &root),
        None => document(text, false, &root),
    }
}

/// [`certain_of`] of `text` read one way (`stripped`: it is [`without_comment_lines`] of the
/// document).
pub(super) fn document(
    text: &str,
    stripped: bool,
    root: &impl Fn(&mut Events<'_>, Event<'_>) -> Option<bool>,
) -> bool {
    let mut events = Events::new(text, stripped);
    let mut read = || -> Option<bool> {
        matches!(events.next()?, Event::StreamStart).then_some(())?;
        // A `%YAML` directive could change how scalars read: not for the fast paths.
        matches!(events.next()?, Event::DocumentStart(_, None)).then_some(())?;
        let first = events.next()?;
        let yes = root(&mut events, first)?;
        matches!(events.next()?, Event::DocumentEnd).then_some(())?;
        matches!(events.next()?, Event::StreamEnd).then_some(())?;
        // Exactly one document: the stream is over.
        Some(yes && events.parser.next().is_none())
    };
    read().unwrap_or(false)
}

pub(super) struct Events<'a> {
    parser: Parser<'a, StrInput<'a>>,
    count: usize,
    /// The text read is [`without_comment_lines`] of the document: every scalar must then lie
    /// on one line and not be a block scalar.
    stripped: bool,
}

impl<'a> Events<'a> {
    fn new(text: &'a str, stripped: bool) -> Self {
        Events {
            parser: Parser::with_options(StrInput::new(text), parser_options()),
            count: 0,
            stripped,
        }
    }

    /// The next event; `None` on a parse error or past the event limit (not proven here).
    pub(super) fn next(&mut self) -> Option<Event<'a>> {
        self.count += 1;
        if self.count > MAX_EVENTS {
            return None;
        }
        let (event, span) = self.parser.next()?.ok()?;
        if self.stripped
            && let Event::Scalar(_, style, ..) = &event
            && (matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                || span.start.line() != span.end.line())
        {
            return None;
        }
        Some(event)
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
    if text.contains(['\r', '\0']) {
        return None;
    }
    let is_comment = |line: &str| line.trim_start_matches(' ').starts_with('#');
    if !text.split_inclusive('\n').any(is_comment) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if !is_comment(line) {
            out.push_str(line);
        }
    }
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
