//! Text files of the chart rendered with tera: the commented values.yaml and the chart README.
//! Every value goes through the `yaml` filter, which emits it with serde-saphyr: strings that
//! YAML 1.1 would read as something else (`yes`, `0755`, `1e3`, `~`) are quoted, multi-line
//! strings are double-quoted with escapes (never block scalars: Helm's YAML reader refuses a
//! block scalar whose first line starts with a tab, and keep-chomped `|+` trailing lines would
//! run into the template's blank lines), and nothing a user writes can add a key.

use serde_json::Value;
use tera::value::ValueKind;
use tera::{Context, Kwargs, State, Tera, TeraResult};

use super::{embedded, plain_yaml};
use crate::diag::Error;

/// One tera environment per template (values.yaml, README.md), each parsed once per process (a
/// batch of specs shares them across threads): two parses that can run on two cores.
static ENGINES: [std::sync::OnceLock<Result<Tera, String>>; embedded::TERA_TEMPLATES.len()] =
    [const { std::sync::OnceLock::new() }; embedded::TERA_TEMPLATES.len()];

/// The tera environment holding the template `name`, with the `yaml` filter. A caller arriving
/// while [`prepare`]'s thread parses it waits for that parse instead of starting another.
pub fn engine(name: &str) -> Result<&'static Tera, Error> {
    let i = embedded::TERA_TEMPLATES
        .iter()
        .position(|(n, _)| *n == name)
        .ok_or_else(|| Error::msg(format!("internal error: no embedded template {name}")))?;
    ENGINES[i]
        .get_or_init(|| build_engine(i).map_err(|e| e.render()))
        .as_ref()
        .map_err(|e| Error::msg(e.trim_start_matches("error: ").trim_end().to_string()))
}

/// Start parsing the templates, each on a thread of its own, for a command that will render:
/// the parses (together about a millisecond) then overlap reading and validating the spec
/// instead of following it. Only the first call starts threads; if none can be started,
/// [`engine`] parses when first asked, as without this. A process that stops early (a bad spec)
/// simply exits with the threads still running.
pub fn prepare() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        for (name, _) in embedded::TERA_TEMPLATES {
            let _ = std::thread::Builder::new()
                .name("templates".into())
                .spawn(|| engine(name).map(|_| ()));
        }
    });
}

/// The environment of the `i`th embedded template.
pub(super) fn build_engine(i: usize) -> Result<Tera, Error> {
    let mut tera = Tera::default();
    // These are YAML and Markdown files: tera's HTML escaping must never touch them.
    tera.autoescape_on(Vec::<&'static str>::new());
    tera.register_filter("yaml", yaml_filter);
    tera.add_raw_templates(embedded::TERA_TEMPLATES[i..=i].iter().copied())
        .map_err(|e| Error::msg(format!("internal error in an embedded template: {e}")))?;
    Ok(tera)
}

/// The embedded template `name` rendered with `context`.
pub fn render(name: &str, context: &Context) -> Result<String, Error> {
    engine(name)?
        .render(name, context)
        .map_err(|e| Error::msg(format!("internal error rendering {name}: {e:?}")))
}

/// The templates' `yaml` filter: `value` as the YAML that follows `key:` (see [`yaml_fragment`]),
/// `indent` the key's column.
fn yaml_filter(value: &tera::Value, kwargs: Kwargs, _: &State) -> TeraResult<tera::Value> {
    let indent = kwargs.get::<i64>("indent")?.unwrap_or(0);
    let indent = usize::try_from(indent).map_err(tera::Error::message)?;
    // Most values are short names, numbers, flags and small mappings of them: written without
    // the serializer when certain (see plain_yaml); anything else goes through serde-saphyr.
    // A scalar is written into this thread's buffer: tera copies the text into its own string
    // (inline when short), so no String is allocated per call.
    thread_local! {
        static SCALAR: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    let scalar = SCALAR.with(|buf| {
        let mut out = buf.borrow_mut();
        out.clear();
        out.push(' ');
        plain_yaml::scalar(value, &mut out).then(|| tera::Value::from(out.as_str()))
    });
    if let Some(scalar) = scalar {
        return Ok(scalar);
    }
    let nested = match value.kind() {
        ValueKind::Array => value.as_array().is_some_and(|a| !a.is_empty()),
        ValueKind::Map => value.as_map().is_some_and(|m| !m.is_empty()),
        _ => false,
    };
    if nested && let Some(text) = plain_yaml::block(value) {
        return Ok(indented(&text, true, indent).into());
    }
    // tera's Value serializes as the serde_json one it was made from would (same order, same
    // scalars), so no round trip through serde_json.
    fragment(value, nested, indent)
        .map(tera::Value::from)
        .map_err(tera::Error::message)
}

/// `value` as the YAML that follows `key:` on a line indented by `indent` columns: ` scalar`
/// on the same line, or a block collection starting on the next line (no trailing spaces).
pub fn yaml_fragment(value: &Value, indent: usize) -> Result<String, String> {
    let nested = match value {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    };
    fragment(value, nested, indent)
}

/// [`yaml_fragment`] of any serializable value; `nested` says it is a non-empty collection.
fn fragment<T: serde::Serialize>(value: &T, nested: bool, indent: usize) -> Result<String, String> {
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    let text = serde_saphyr::to_string_with_options(value, options).map_err(|e| e.to_string())?;
    Ok(indented(&text, nested, indent))
}

/// The serializer's `text` placed after `key:` at `indent` columns (see [`yaml_fragment`]).
fn indented(text: &str, nested: bool, indent: usize) -> String {
    let text = text.trim_end_matches('\n');
    let lines = text.lines();
    // A block collection starts on the next line, two columns in from its key; a scalar stays on
    // the key's line, its continuation lines indented past the key.
    let pad = if nested { indent + 2 } else { indent };
    let mut out = String::with_capacity(text.len() + (pad + 1) * (1 + text.matches('\n').count()));
    if !nested {
        out.push(' ');
    }
    for (i, line) in lines.enumerate() {
        if nested || i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line);
    }
    out
}

/// The templates' context: the values as `v`, and the chart's named strings. Built part by part
/// (no serde_json object around the values, which cost a deep copy of them).
pub fn context<const N: usize>(
    values: &Value,
    strings: [(&'static str, &str); N],
) -> Result<Context, Error> {
    let values = tera::Value::try_from_serializable(values)
        .map_err(|e| Error::msg(format!("internal error building a template context: {e}")))?;
    let mut context = Context::new();
    context.insert_value("v", values);
    for (name, text) in strings {
        context.insert_value(name, tera::Value::from(text));
    }
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reparse(doc: &str) -> Value {
        serde_saphyr::from_str(doc).unwrap()
    }

    #[test]
    fn fragments_round_trip_at_any_indent() {
        let tricky = json!([
            "yes",
            "NO",
            "0755",
            "a\nb",
            "  lead\ntrail  ",
            "{{ .Release.Name }}",
            "a: b",
            "#",
            "*x",
            "~",
            "",
            // Block scalars went wrong here: trailing newlines (`|+`), a tab after blank lines.
            "\n",
            "x\n\n\n",
            "\n\n\t",
            "\ta\nb",
            "a\u{7f}\u{85}\u{2028}\u{feff}b",
            "long words ".repeat(30).as_str()
        ]);
        for indent in [0usize, 2, 4] {
            for v in tricky.as_array().unwrap().iter().chain([
                &tricky,
                &json!({"k": tricky.clone()}),
                &json!([]),
            ]) {
                let doc = format!(
                    "{}key:{}\n",
                    " ".repeat(indent),
                    yaml_fragment(v, indent).unwrap()
                );
                let wrapped = if indent == 0 {
                    doc
                } else {
                    format!("outer:\n{doc}")
                };
                let back = reparse(&wrapped);
                let got = if indent == 0 {
                    &back["key"]
                } else {
                    &back["outer"]["key"]
                };
                assert_eq!(got, v, "indent {indent}:\n{wrapped}");
            }
        }
    }
}
