//! The parameters of an Argo CD Application for this plugin, as Argo CD passes them to the
//! plugin's commands: JSON in `ARGOCD_APP_PARAMETERS`, a list of `{name, string | array | map}`.
//! Argo CD sends only what the Application sets (never the announced defaults), so every
//! parameter is optional here and its default is applied by [`super::CmpRequest`].

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::diag::{Error, printable};

/// One parameter as Argo CD sends it. Exactly one of the three value kinds is set.
#[derive(Debug, Deserialize)]
struct Raw {
    name: String,
    #[serde(default)]
    string: Option<String>,
    #[serde(default)]
    array: Option<Vec<String>>,
    #[serde(default)]
    map: Option<BTreeMap<String, String>>,
}

/// The parameters this plugin announces (`gitops/argocd/plugin.yaml`), read and checked.
#[derive(Debug, Default, PartialEq)]
pub struct Params {
    /// The spec file, relative to the application's source directory.
    pub spec: Option<String>,
    /// The environment of an Opta service file (`--var env=NAME`).
    pub environment: Option<String>,
    /// The k8s-service module of an Opta file that makes several charts.
    pub module: Option<String>,
    /// The image repository (`image.repository`): what an `image: AUTO` spec leaves to deploy time.
    pub image: Option<String>,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// Helm values, `--set KEY=VALUE` each, in key order.
    pub values: BTreeMap<String, String>,
    /// Helm values files, relative to the source directory.
    pub value_files: Vec<String>,
    /// Values for Opta placeholders (`--var KEY=VALUE`), e.g. `parent.domain`.
    pub vars: BTreeMap<String, String>,
}

/// The names this plugin announces, for the error on any other.
pub const NAMES: [&str; 9] = [
    "spec",
    "environment",
    "module",
    "image",
    "tag",
    "digest",
    "values",
    "valueFiles",
    "vars",
];

/// Parse `ARGOCD_APP_PARAMETERS` (empty or absent: no parameters).
pub fn parse(json: &str) -> Result<Params, Error> {
    let mut out = Params::default();
    if json.trim().is_empty() {
        return Ok(out);
    }
    let raw: Vec<Raw> = serde_json::from_str(json).map_err(|e| {
        Error::msg(format!(
            "ARGOCD_APP_PARAMETERS is not the JSON Argo CD sends (a list of {{name, string|array|map}}): {e}"
        ))
    })?;
    for p in raw {
        let name = p.name.as_str();
        let kind = |want: &str| {
            Error::msg(format!(
                "Argo CD parameter `{}` must be a {want} (`{}` in the Application's plugin.parameters)",
                printable(name),
                match want {
                    "map" => "map: {KEY: VALUE}",
                    "list" => "array: [...]",
                    _ => "string: VALUE",
                }
            ))
        };
        match name {
            "values" => out.values = p.map.ok_or_else(|| kind("map"))?,
            "vars" => out.vars = p.map.ok_or_else(|| kind("map"))?,
            "valueFiles" => out.value_files = p.array.ok_or_else(|| kind("list"))?,
            "spec" | "environment" | "module" | "image" | "tag" | "digest" => {
                let v = p.string.ok_or_else(|| kind("string"))?;
                let v = Some(v).filter(|v| !v.is_empty());
                match name {
                    "spec" => out.spec = v,
                    "environment" => out.environment = v,
                    "module" => out.module = v,
                    "image" => out.image = v,
                    "tag" => out.tag = v,
                    _ => out.digest = v,
                }
            }
            other => {
                let hint = crate::spec::source::suggest(other, &NAMES)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(Error::msg(format!(
                    "unknown Argo CD parameter `{}`{hint}: this plugin takes {}",
                    printable(other),
                    NAMES.join(", ")
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_as_argo_cd_sends_it() {
        let p = parse(
            r#"[{"name":"environment","string":"prod"},
                {"name":"values","map":{"image.tag":"2.0","autoscaling.maxReplicas":"9"}},
                {"name":"valueFiles","array":["prod.yaml"]},
                {"name":"tag","string":""}]"#,
        )
        .unwrap();
        assert_eq!(p.environment.as_deref(), Some("prod"));
        assert_eq!(p.values["autoscaling.maxReplicas"], "9");
        assert_eq!(p.value_files, ["prod.yaml"]);
        assert_eq!(p.tag, None, "an empty string is no value");
        assert_eq!(parse("").unwrap(), Params::default());
    }

    #[test]
    fn wrong_shapes_and_names_are_refused_with_the_fix() {
        let e = parse(r#"[{"name":"values","string":"a=b"}]"#)
            .unwrap_err()
            .render();
        assert!(e.contains("`values` must be a map"), "{e}");
        let e = parse(r#"[{"name":"enviroment","string":"x"}]"#)
            .unwrap_err()
            .render();
        assert!(e.contains("did you mean `environment`"), "{e}");
        let e = parse("{").unwrap_err().render();
        assert!(e.contains("ARGOCD_APP_PARAMETERS is not the JSON"), "{e}");
    }
}
