//! Reading past unknown fields. The spec's structs refuse unknown fields (a misspelt field must
//! not be silently ignored), and serde stops at the first one, which used to hide every other
//! problem of the file. Here an unknown field is reported, then its lines are blanked out of a
//! working copy of the text (kept the same length in lines, so every later position is still
//! right) and the document is read again, until it reads or fails for another reason.

use serde::de::DeserializeOwned;

use super::source::{SpecSource, innermost, yaml_options};
use crate::diag::{Diagnostic, Error};

/// More unknown fields than this in one file is not a spec with typos.
const MAX_UNKNOWN: usize = 32;
/// Each unknown field costs a parse of the whole file: a hostile 1 MiB file gets few re-reads.
const MAX_REREAD_BYTES: usize = 2 * 1024 * 1024;

/// `source.parse()` that does not stop at an unknown field: each one is reported and left out,
/// and the rest of the document is still read. The unknown fields are returned with the value.
pub fn parse_as<T: DeserializeOwned>(source: &SpecSource) -> Result<(T, Vec<Diagnostic>), Error> {
    parse(source, |text| {
        serde_saphyr::from_str_with_options(text, yaml_options())
    })
}

/// Read with `read`, reporting and skipping unknown fields; any other error ends the reading
/// and is reported after the unknown fields found before it.
pub fn parse<T>(
    source: &SpecSource,
    read: impl Fn(&str) -> Result<T, serde_saphyr::Error>,
) -> Result<(T, Vec<Diagnostic>), Error> {
    let mut text = source.text.clone();
    let max_unknown = (MAX_REREAD_BYTES / text.len().max(1)).clamp(1, MAX_UNKNOWN);
    let mut unknown: Vec<Diagnostic> = Vec::new();
    loop {
        match read(&text) {
            Ok(v) => return Ok((v, unknown)),
            Err(e) => {
                let d = source.yaml_error(&e);
                let is_unknown =
                    matches!(innermost(&e), serde_saphyr::Error::SerdeUnknownField { .. });
                let blanked = match (is_unknown, d.line, d.column) {
                    (true, Some(line), Some(col)) if unknown.len() < max_unknown => {
                        blank_entry(&text, line, col)
                    }
                    _ => None,
                };
                unknown.push(d);
                match blanked {
                    Some(t) => text = t,
                    None => return Err(Error::Spec(unknown)),
                }
            }
        }
    }
}

/// `text` without the block mapping entry whose key starts at (line, col): the key's line from
/// the key on, and the more indented lines under it. `None` when the entry is not in block style
/// on a line of its own (a flow mapping `{a: 1, b: 2}`), or the file has old Mac line endings.
fn blank_entry(text: &str, line: u64, col: u64) -> Option<String> {
    if text.contains('\r') && !text.contains("\r\n") {
        return None;
    }
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let at = usize::try_from(line).ok()?.checked_sub(1)?;
    let key_line = lines.get(at)?;
    let start = key_line
        .char_indices()
        .nth(usize::try_from(col).ok()?.checked_sub(1)?)?
        .0;
    let before = key_line[..start].trim_start();
    if !(before.is_empty() || before.trim_end() == "-") || key_line[..start].contains('\t') {
        return None;
    }
    // The key's column counts characters; indentation before it is ASCII (spaces, `- `).
    let indent = start;
    let cr = |l: &str| if l.ends_with('\r') { "\r" } else { "" };
    let kept = format!("{}{}", &key_line[..start], cr(key_line));
    lines[at] = kept;
    for l in lines.iter_mut().skip(at + 1) {
        let body = l.trim_end_matches('\r');
        let own_indent = body.len() - body.trim_start_matches(' ').len();
        let blank = body.trim().is_empty() || body.trim_start().starts_with('#');
        if !blank && own_indent <= indent {
            break;
        }
        *l = cr(l).to_string();
    }
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_and_its_block_are_blanked_keeping_the_line_count() {
        let text = "a: 1\nbad:\n  x: 1\n\n  y: [1,\n    2]\nb: 2\n";
        let out = blank_entry(text, 2, 1).unwrap();
        assert_eq!(out, "a: 1\n\n\n\n\n\nb: 2\n");
        let item = "l:\n  - bad: 1\n    ok: 2\n  - ok: 3\n";
        assert_eq!(
            blank_entry(item, 2, 5).unwrap(),
            "l:\n  - \n    ok: 2\n  - ok: 3\n"
        );
        assert_eq!(blank_entry("m: {a: 1, bad: 2}\n", 1, 11), None);
    }
}
