//! Plain-language rewrites of the YAML parser's terse messages ("expected mapping start", "tabs
//! disallowed within this context", "mapping values are not allowed in this context"): each says
//! which field or line is wrong, what shape was expected and how to write it.

use super::source_map::Shape;
use crate::diag::printable;

/// The field a shape message is about, with what it holds now.
pub struct ShapeProblem<'a> {
    /// The last key of the field's path (`secrets`, `variables`), `None` for a list item.
    pub key: Option<&'a str>,
    pub expected: Shape,
    pub found: Option<Shape>,
}

/// "must be a list ..., not a mapping" and an example of the fix, for the field's usual content.
pub fn shape(p: &ShapeProblem) -> (String, String) {
    let (want, how) = match p.expected {
        Shape::Seq => (
            "a list",
            "one `- ITEM` line per entry, indented under the key, or `[a, b]`",
        ),
        _ => (
            "a mapping",
            "one `KEY: VALUE` line per entry, indented under the key, or `{a: 1}`",
        ),
    };
    let found = match p.found {
        Some(Shape::Map) => ", not a mapping",
        Some(Shape::Seq) => ", not a list",
        Some(Shape::Leaf) => ", not a single value",
        _ => "",
    };
    let example = p.key.and_then(example).map(|e| format!("; e.g. {e}"));
    let help = match (p.key, p.expected, p.found) {
        // The Opta habit that causes it: `- NAME: value` list items under `variables:`.
        (Some("variables" | "vars"), Shape::Map, Some(Shape::Seq)) => {
            "drop the `- ` before each entry".to_string() + &example.unwrap_or_default()
        }
        (Some("secrets"), Shape::Seq, Some(Shape::Map)) => format!(
            "`secrets` lists the key names of the service's Secret, without values (those go into the Secret: kubectl create secret generic NAME --from-literal=KEY=VALUE){}",
            example.unwrap_or_default()
        ),
        _ => format!("write {how}{}", example.unwrap_or_default()),
    };
    (format!("must be {want}{found}"), help)
}

/// How the fields people most often get the shape of are written.
fn example(key: &str) -> Option<&'static str> {
    Some(match key {
        "variables" | "vars" => "`variables: {max_containers: 4, log_level: debug}`",
        "secrets" => "`secrets: [DB_PASSWORD, API_KEY]`",
        "port" => "`port: {http: 8080}`",
        "ports" => "`ports: [{name: main, type: http, port: 8080}]`",
        "env_vars" => "`env_vars: {LOG_LEVEL: info}`",
        "environments" => "`environments: [{name: staging, path: ../env/staging.yaml}]`",
        "modules" => "`modules: [{type: k8s-service, name: api, image: AUTO}]`",
        "commands"
        | "healthcheck_command"
        | "liveness_probe_command"
        | "readiness_probe_command"
        | "startup_probe_command"
        | "args" => "`commands: [/app/server, --port, \"8080\"]`",
        "resource_request" | "resource_limits" => "`resource_request: {cpu: 100, memory: 128}`",
        "tolerations" => "`tolerations: [{key: workload, value: api, effect: NoSchedule}]`",
        "cron_jobs" => "`cron_jobs: [{schedule: \"0 * * * *\", commands: [/app/job]}]`",
        "persistent_storage" => "`persistent_storage: [{path: /data, size: 10}]`",
        "pod_labels" | "pod_annotations" | "node_selector" => "`pod_labels: {team: payments}`",
        "config_files" => "`config_files: {/etc/app/config.yaml: \"...\"}`",
        "image_pull_secrets" => "`image_pull_secrets: [acme-registry]`",
        "security" => "`security: {run_as_user: 1000}`",
        _ => return None,
    })
}

/// The first tab in the indentation of `line` (1-based), as (column, message, help).
pub fn tab(text: &str, line: u64) -> Option<(u64, String, String)> {
    let l = text.lines().nth(line.checked_sub(1)? as usize)?;
    let col = l
        .find('\t')
        .filter(|i| l[..*i].trim().is_empty() || l[..*i].trim() == "-")?
        + 1;
    Some((
        col as u64,
        format!("YAML does not allow tabs for indentation; replace the tab at line {line} column {col} with spaces"),
        "indent with spaces only (2 per level is usual); editors can convert tabs (\"indent using spaces\")".to_string(),
    ))
}

/// A line that lacks the `:` after its key. The parser notices it only where the next key
/// starts (`mapping values are not allowed` on the line after), so look back from `line` for
/// a line of bare words. `col` is where the parser stopped: if a `:` comes before it on its own
/// line, that line is complete and the colon is a stray one in a value (not this case).
pub fn missing_colon(
    text: &str,
    line: u64,
    col: u64,
    here: bool,
) -> Option<(u64, u64, String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let at = line.checked_sub(1)? as usize;
    let current = lines.get(at)?;
    let before: String = current
        .chars()
        .take(col.saturating_sub(1) as usize)
        .collect();
    let candidate = if here {
        at
    } else {
        if has_key_colon(&before) {
            return None;
        }
        (0..at)
            .rev()
            .find(|i| !lines[*i].trim().is_empty() && !lines[*i].trim_start().starts_with('#'))?
    };
    let l = lines[candidate];
    let body = l.trim_start();
    let mut indent = l.len() - body.len();
    let body = match body.strip_prefix("- ") {
        Some(rest) => {
            indent += 2 + (rest.len() - rest.trim_start().len());
            rest.trim_start()
        }
        None => body,
    };
    let body = body.split(" #").next().unwrap_or(body).trim_end();
    if body.is_empty() || has_key_colon(body) || body.starts_with(['"', '\'', '[', '{', '|', '>']) {
        return None;
    }
    let fix = match body.split_once([' ', '\t']) {
        Some((key, value)) => format!("{key}: {}", value.trim_start()),
        None => format!("{body}: VALUE"),
    };
    let n = candidate as u64 + 1;
    Some((
        n,
        indent as u64 + 1,
        format!("line {n} has no `:` after its key: `{}`", printable(body)),
        format!(
            "write `{}` (a key, a colon and a space, then the value)",
            printable(&fix)
        ),
    ))
}

/// `key: value` or `key:` outside quotes.
fn has_key_colon(s: &str) -> bool {
    let mut quote = None;
    let chars: Vec<char> = s.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(*c),
            (Some(q), c) if q == *c => quote = None,
            (None, ':') if chars.get(i + 1).is_none_or(|n| n.is_whitespace()) => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_colon_is_found_on_the_line_that_lacks_it() {
        let text = "name: a\nenv_vars:\n  A 1\n  B: 2\n";
        let (line, col, msg, help) = missing_colon(text, 4, 4, false).unwrap();
        assert_eq!((line, col), (3, 3));
        assert!(
            msg.contains("line 3 has no `:` after its key: `A 1`"),
            "{msg}"
        );
        assert!(help.contains("write `A: 1`"), "{help}");
        // A stray colon inside a value is not this mistake.
        assert!(missing_colon("name: svc: api\n", 1, 10, false).is_none());
        let (line, col, _, help) = missing_colon(
            "cron_jobs:\n  - schedule \"* * * * *\"\n    commands: [a]\n",
            3,
            13,
            false,
        )
        .unwrap();
        assert_eq!((line, col), (2, 5));
        assert!(help.contains("`schedule: \"* * * * *\"`"), "{help}");
    }

    #[test]
    fn tabs_are_located_exactly() {
        let (col, msg, _) = tab("port:\n\thttp: 8080\n", 2).unwrap();
        assert_eq!(col, 1);
        assert!(
            msg.contains("replace the tab at line 2 column 1 with spaces"),
            "{msg}"
        );
        assert!(tab("a: \"x\ty\"\n", 1).is_none());
    }

    #[test]
    fn shapes_name_the_expected_form_and_an_example() {
        let (m, h) = shape(&ShapeProblem {
            key: Some("secrets"),
            expected: Shape::Seq,
            found: Some(Shape::Map),
        });
        assert_eq!(m, "must be a list, not a mapping");
        assert!(h.contains("`secrets: [DB_PASSWORD, API_KEY]`"), "{h}");
        let (m, h) = shape(&ShapeProblem {
            key: Some("variables"),
            expected: Shape::Map,
            found: Some(Shape::Seq),
        });
        assert_eq!(m, "must be a mapping, not a list");
        assert!(h.starts_with("drop the `- `"), "{h}");
    }
}
