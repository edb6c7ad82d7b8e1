//! Strings that cannot reach a pod: characters Kubernetes, the container runtime or Helm 3
//! refuse. A leaf: `resolve` reports them, and `untouched` sends a spec holding one to it.

/// Characters no string of a spec may hold, because they cannot reach a pod: NUL (Kubernetes and
/// the container runtime refuse it), and those Helm 3 cannot carry in chart values: DEL, the C1
/// controls but NEL, U+FFFE and U+FFFF (Helm 3's values-schema check re-encodes the values with
/// go-yaml v2, which then refuses to read them back: "control characters are not allowed").
/// Found by tests/property.rs through real Helm 3.17.
pub fn is_unpassable(c: char) -> bool {
    matches!(c, '\0' | '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

/// Why `s` cannot reach a pod, if it cannot: an unpassable character, or a NEL (U+0085) right
/// before `--- ` or `... `, which Helm 3's re-encoding turns into a YAML document marker
/// ("found unexpected document indicator"; also found by tests/property.rs).
pub fn unpassable(s: &str) -> Option<String> {
    // Every character named below but NUL and DEL is outside ASCII: most strings pass here.
    if s.bytes().all(|b| b.is_ascii() && b != 0 && b != 0x7f) {
        return None;
    }
    if let Some(c) = s.chars().find(|c| is_unpassable(*c)) {
        return Some(if c == '\0' {
            "contains a NUL character, which cannot reach a container (Kubernetes and the container runtime refuse it)".into()
        } else {
            format!(
                "contains the character U+{:04X}, which Helm 3 cannot carry in chart values (installing fails with \"control characters are not allowed\"); remove it",
                c as u32
            )
        });
    }
    let marker = s.match_indices('\u{85}').any(|(i, _)| {
        let rest = &s[i + '\u{85}'.len_utf8()..];
        (rest.starts_with("---") || rest.starts_with("..."))
            && matches!(rest[3..].chars().next(), Some(' ' | '\u{85}'))
    });
    marker.then(|| {
        "contains a NEL line break (U+0085) followed by `---` or `...`, which Helm 3 reads as the start of a new YAML document (installing fails); use \\n for the line break".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_helm_cannot_carry_are_named() {
        for ok in [
            "plain",
            "\u{85}",
            "a\u{85}---",
            "a\u{85}---b",
            "a\u{2028}--- b",
            "\u{1b}[31m",
            "\u{a0}",
            "\u{fffd}",
        ] {
            assert_eq!(unpassable(ok), None, "{ok:?}");
        }
        for (bad, want) in [
            ("a\0b", "NUL"),
            ("\u{7f}", "U+007F"),
            ("\u{80}", "U+0080"),
            ("\u{9f}", "U+009F"),
            ("\u{fffe}", "U+FFFE"),
            ("\u{ffff}", "U+FFFF"),
            ("a\u{85}--- b", "NEL"),
            ("a\u{85}...\u{85}", "NEL"),
        ] {
            let why = unpassable(bad).unwrap_or_default();
            assert!(why.contains(want), "{bad:?}: {why}");
        }
    }
}
