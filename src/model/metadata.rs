//! What names and describes the service: its `name` (the chart's and every object's), its
//! `description`, and the labels and annotations it adds to its pods (and, for annotations, to
//! its Ingresses).

use std::collections::BTreeMap;

use super::builder::Builder;
use super::rules;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::RawService;

impl Builder<'_> {
    pub(super) fn name(&mut self, raw: &RawService) -> String {
        // An Opta file's chart is named after the file (spec/opta.rs), `--name` after the flag.
        let (path, given) = match &self.loaded.chart_name {
            Some(c) => (c.path.clone(), Some(c.name.clone())),
            None => (self.path("name"), raw.name.clone()),
        };
        let Some(name) = given else {
            self.fail_help(
                &FieldPath::root(),
                "missing field `name`",
                "add `name: my-service`: it names the chart and every object it creates",
            );
            return "invalid".into();
        };
        // Opta module names may be mixed-case (`myApp`); Kubernetes names may not.
        let name = if self.loaded.from_opta_file && name.bytes().any(|b| b.is_ascii_uppercase()) {
            let lower = name.to_ascii_lowercase();
            self.warnings.push(format!(
                "`{name}` becomes the chart `{lower}` (Kubernetes names are lowercase)"
            ));
            lower
        } else {
            name
        };
        if let Err(e) = rules::dns_label(&name, 53) {
            self.fail_help(
                &path,
                format!("`{}` is not a valid chart name: it {e}", printable(&name)),
                "the name is used for the chart and its Kubernetes objects, e.g. `payments-api`",
            );
        }
        name
    }

    /// The chart's description, when the spec gives one.
    pub(super) fn description(&mut self, raw: &RawService) -> Option<String> {
        let description = raw.description.clone();
        if let Some(d) = &description {
            if d.trim().is_empty() || d.len() > 1000 {
                self.fail(
                    &self.path("description"),
                    "must be one line of 1 to 1000 characters",
                );
            } else if let Err(e) = rules::printable_text(d) {
                self.fail(&self.path("description"), e);
            }
        }
        description
    }

    pub(super) fn annotations(
        &mut self,
        path: &FieldPath,
        map: Option<&BTreeMap<String, String>>,
    ) -> BTreeMap<String, String> {
        let map = map.cloned().unwrap_or_default();
        let mut total = 0;
        for (k, v) in &map {
            total += k.len() + v.len();
            if let Err(e) = rules::qualified_name(k) {
                self.fail(
                    &path.key(k),
                    format!("annotation key `{}`: {e}", printable(k)),
                );
            }
        }
        if total > 256 * 1024 {
            self.fail(path, "annotations may hold at most 256 KiB in total");
        }
        map
    }

    pub(super) fn labels(&mut self, raw: &RawService) -> BTreeMap<String, String> {
        let path = self.path("pod_labels");
        let map = raw.pod_labels.clone().unwrap_or_default();
        for (k, v) in &map {
            if let Err(e) = rules::qualified_name(k) {
                self.fail(&path.key(k), format!("label key `{}`: {e}", printable(k)));
            } else if let Err(e) = rules::label_value(v) {
                self.fail(&path.key(k), format!("label value `{}` {e}", printable(v)));
            } else if [
                "app.kubernetes.io/name",
                "app.kubernetes.io/instance",
                "app.kubernetes.io/component",
            ]
            .contains(&k.as_str())
            {
                self.fail(
                    &path.key(k),
                    format!(
                        "`{k}` is set by the chart and used in selectors; choose another label"
                    ),
                );
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use crate::model::testing::{load, model, problems};

    #[test]
    fn the_name_must_be_a_dns_label() {
        let e = load("name: Pay_Ments\nimage: r/i:1\n", &[]).unwrap_err();
        let crate::diag::Error::Spec(d) = e else {
            panic!("{e:?}")
        };
        assert_eq!(d[0].field.as_deref(), Some("name"));
        assert!(
            d[0].message
                .starts_with("`Pay_Ments` is not a valid chart name: it "),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn a_missing_name_is_blamed_on_the_document() {
        let e = load("image: r/i:1\n", &[]).unwrap_err();
        let crate::diag::Error::Spec(d) = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            (d[0].field.as_deref(), d[0].message.as_str()),
            (None, "missing field `name`")
        );
    }

    #[test]
    fn a_blank_description_is_refused_and_a_given_one_kept() {
        assert_eq!(
            problems("description: \"  \"\n"),
            [(
                "description".to_string(),
                "must be one line of 1 to 1000 characters".to_string()
            )]
        );
        let (s, _) = model("description: Takes payments\n");
        assert_eq!(s.description.as_deref(), Some("Takes payments"));
    }

    #[test]
    fn pod_labels_may_not_take_the_chart_selector_labels() {
        assert_eq!(
            problems("pod_labels: {app.kubernetes.io/name: x, team: a}\n"),
            [(
                "pod_labels[\"app.kubernetes.io/name\"]".to_string(),
                "`app.kubernetes.io/name` is set by the chart and used in selectors; choose another label".to_string()
            )]
        );
        let (s, _) = model("pod_labels: {team: a}\n");
        assert_eq!(s.pod_labels.get("team").map(String::as_str), Some("a"));
    }

    #[test]
    fn annotation_keys_are_qualified_names() {
        let got = problems("pod_annotations: {\"bad key\": x, ok/fine: y}\n");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].1.starts_with("annotation key `bad key`: "),
            "{got:?}"
        );
    }
}
