//! User-facing errors: every problem with a spec is reported as a `Diagnostic` that names the file,
//! the line and column, and the field, on one screen, in the style of cargo and rustc.

use std::fmt;

/// `crate::say!` that cannot panic. The standard macro panics when stderr is closed or its reader
/// is gone (`2>&-`, a supervisor that stopped reading); a warning nobody can read must not turn
/// a finished command into exit 101. Output to a lost stderr is dropped; the exit status still
/// tells the caller what happened.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `crate::say_raw!` (no newline) that cannot panic; see [`say!`].
#[macro_export]
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

/// A position inside a YAML document as a path of mapping keys and sequence indexes,
/// e.g. `cron_jobs[0].schedule`. Validation speaks in paths; the source map turns them into lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        FieldPath(segs)
    }

    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        FieldPath(segs)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// This path extended by borrowed segments: a walk over a tree keeps a stack of these and
    /// builds a path only for what it reports (most walks report nothing).
    pub fn join(&self, segs: &[SegRef<'_>]) -> Self {
        let mut out = self.0.clone();
        out.extend(segs.iter().map(|s| match s {
            SegRef::Key(k) => Seg::Key((*k).to_string()),
            SegRef::Index(i) => Seg::Index(*i),
        }));
        FieldPath(out)
    }
}

/// A [`Seg`] that borrows its key, see [`FieldPath::join`].
#[derive(Clone, Copy, Debug)]
pub enum SegRef<'a> {
    Key(&'a str),
    Index(usize),
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                // Keys such as env var names with dots or spaces stay unambiguous when quoted.
                Seg::Key(k) => write!(f, "[{}]", serde_json::Value::String(printable(k)))?,
            }
        }
        Ok(())
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 64
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Replace control characters so that a hostile key or value cannot rewrite the terminal.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().take(200) {
        // Control characters, line separators and bidi overrides (which reorder what the terminal
        // shows) are printed as escapes.
        if c.is_control()
            || matches!(
                c,
                '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
            )
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
        {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if s.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// One problem found in a spec file.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub field: Option<String>,
    pub message: String,
    pub help: Option<String>,
    /// The offending source line, shown under the message with a caret.
    pub snippet: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            help: None,
            snippet: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "error: {}", self.file);
        if let Some(line) = self.line {
            let _ = write!(out, ":{line}");
            if let Some(col) = self.column {
                let _ = write!(out, ":{col}");
            }
        }
        out.push_str(": ");
        if let Some(field) = &self.field {
            let _ = write!(out, "field `{field}`: ");
        }
        out.push_str(&self.message);
        out.push('\n');
        if let (Some(line), Some(snippet)) = (self.line, &self.snippet) {
            let number = line.to_string();
            let pad = " ".repeat(number.len());
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {snippet}");
            if let Some(col) = self.column {
                let offset: usize = snippet
                    .chars()
                    .take(col.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { 4 } else { 1 })
                    .sum();
                let _ = writeln!(out, "{pad} | {}^", " ".repeat(offset));
            }
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
    }
}

/// Everything that can make a command fail. Every variant maps to exit code 1, except helm's own
/// exit status, which is passed through unchanged.
#[derive(Debug)]
pub enum Error {
    /// Problems in the user's spec: reported together, at most `MAX_SHOWN` of them.
    Spec(Vec<Diagnostic>),
    /// Anything else, already phrased for the user (I/O, bad flags, a missing tool).
    Message(String),
}

/// Enough to fix a file in one go, few enough to fit on one screen.
const MAX_SHOWN: usize = 5;

impl Error {
    pub fn msg(message: impl Into<String>) -> Self {
        Error::Message(message.into())
    }

    pub fn render(&self) -> String {
        match self {
            Error::Message(m) => format!("error: {m}\n"),
            Error::Spec(diags) => {
                let mut out = String::new();
                for d in diags.iter().take(MAX_SHOWN) {
                    d.render(&mut out);
                }
                if diags.len() > MAX_SHOWN {
                    out.push_str(&more_line(&diags[MAX_SHOWN..]));
                }
                out
            }
        }
    }
}

/// The line that stands for the problems not shown: how many, and in which files.
fn more_line(rest: &[Diagnostic]) -> String {
    let mut files: Vec<(&str, usize)> = Vec::new();
    for d in rest {
        match files.iter_mut().find(|(f, _)| *f == d.file) {
            Some((_, n)) => *n += 1,
            None => files.push((&d.file, 1)),
        }
    }
    let plural = |n: usize| if n == 1 { "problem" } else { "problems" };
    let where_ = if files.len() == 1 {
        format!("in {}", printable(files[0].0))
    } else {
        let mut parts: Vec<String> = files
            .iter()
            .take(8)
            .map(|(f, n)| format!("{n} in {}", printable(f)))
            .collect();
        if files.len() > 8 {
            parts.push(format!("more in {} other files", files.len() - 8));
        }
        format!("({})", parts.join(", "))
    };
    format!(
        "error: … and {} more {} {where_}; fix these first, or run `helm k8s-service validate --output json` to see every one\n",
        rest.len(),
        plural(rest.len())
    )
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::Spec(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_jq_and_quote_odd_keys() {
        let p = FieldPath::root().key("cron_jobs").index(0).key("schedule");
        assert_eq!(p.to_string(), "cron_jobs[0].schedule");
        let q = FieldPath::root().key("env_vars").key("A.B C");
        assert_eq!(q.to_string(), "env_vars[\"A.B C\"]");
    }

    #[test]
    fn the_problems_not_shown_are_counted_by_file() {
        let d = |f: &str| Diagnostic::new(f, "bad");
        let mut diags: Vec<Diagnostic> = (0..5).map(|_| d("a.yaml")).collect();
        diags.extend([d("a.yaml"), d("b.yaml"), d("b.yaml")]);
        let text = Error::Spec(diags).render();
        assert!(
            text.ends_with("error: … and 3 more problems (1 in a.yaml, 2 in b.yaml); fix these first, or run `helm k8s-service validate --output json` to see every one\n"),
            "{text}"
        );
        let one: Vec<Diagnostic> = (0..6).map(|_| d("a.yaml")).collect();
        assert!(
            Error::Spec(one)
                .render()
                .contains("… and 1 more problem in a.yaml;")
        );
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(printable("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
        assert_eq!(printable("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn diagnostics_show_file_line_column_field_and_caret() {
        let d = Diagnostic {
            file: "svc.yaml".into(),
            line: Some(3),
            column: Some(17),
            field: Some("min_containers".into()),
            message: "must not exceed max_containers (2)".into(),
            help: Some("lower min_containers".into()),
            snippet: Some("min_containers: 5".into()),
        };
        let text = Error::from(d).render();
        assert!(text.starts_with(
            "error: svc.yaml:3:17: field `min_containers`: must not exceed max_containers (2)\n"
        ));
        assert!(text.contains("3 | min_containers: 5\n  |                 ^\n"));
        assert!(text.contains("= help: lower min_containers"));
    }
}
