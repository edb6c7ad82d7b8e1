//! The notes and warnings a build gives, kept until the command knows it succeeded.

/// Notes and warnings for stderr. They are printed only when the command succeeds: on failure
/// the errors come first and alone, so the first line of the output is always the problem.
#[derive(Default)]
pub struct Messages(pub Vec<Message>);

/// One note or warning; `chart` names the service it is about when a file makes several.
#[derive(Clone, Debug)]
pub struct Message {
    pub kind: MessageKind,
    pub chart: Option<String>,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    Note,
    Warning,
}

impl Messages {
    pub(super) fn add(
        &mut self,
        kind: MessageKind,
        chart: Option<&str>,
        lines: impl IntoIterator<Item = String>,
    ) {
        self.0.extend(lines.into_iter().map(|text| Message {
            kind,
            chart: chart.map(str::to_string),
            text,
        }));
    }

    pub fn print(&self) {
        for m in &self.0 {
            let kind = match m.kind {
                MessageKind::Note => "note",
                MessageKind::Warning => "warning",
            };
            match &m.chart {
                Some(chart) => crate::say!("{kind}: {chart}: {}", m.text),
                None => crate::say!("{kind}: {}", m.text),
            }
        }
    }
}
