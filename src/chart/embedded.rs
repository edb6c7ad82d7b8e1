//! The files of `chart-template/`, compiled into the binary so the plugin is one file.
//! `every_template_file_is_embedded` fails if a file is added there but not here.

/// Helm templates, copied into every chart unchanged (path inside the chart, content). A
/// static, not a const: chart::build_unproven borrows these strings and the archive recognises
/// them by address, which needs one copy of each (a const's strings may be duplicated per use).
pub static HELM_FILES: &[(&str, &str)] = &[
    (
        "templates/NOTES.txt",
        include_str!("../../chart-template/templates/NOTES.txt"),
    ),
    (
        "templates/_checks.tpl",
        include_str!("../../chart-template/templates/_checks.tpl"),
    ),
    (
        "templates/_container.tpl",
        include_str!("../../chart-template/templates/_container.tpl"),
    ),
    (
        "templates/_helpers.tpl",
        include_str!("../../chart-template/templates/_helpers.tpl"),
    ),
    (
        "templates/_hooks.tpl",
        include_str!("../../chart-template/templates/_hooks.tpl"),
    ),
    (
        "templates/_image.tpl",
        include_str!("../../chart-template/templates/_image.tpl"),
    ),
    (
        "templates/_labels.tpl",
        include_str!("../../chart-template/templates/_labels.tpl"),
    ),
    (
        "templates/_links.tpl",
        include_str!("../../chart-template/templates/_links.tpl"),
    ),
    (
        "templates/_names.tpl",
        include_str!("../../chart-template/templates/_names.tpl"),
    ),
    (
        "templates/_pod.tpl",
        include_str!("../../chart-template/templates/_pod.tpl"),
    ),
    (
        "templates/_probes.tpl",
        include_str!("../../chart-template/templates/_probes.tpl"),
    ),
    (
        "templates/_rightsizing.tpl",
        include_str!("../../chart-template/templates/_rightsizing.tpl"),
    ),
    (
        "templates/_routes.tpl",
        include_str!("../../chart-template/templates/_routes.tpl"),
    ),
    (
        "templates/_service.tpl",
        include_str!("../../chart-template/templates/_service.tpl"),
    ),
    (
        "templates/configmap.yaml",
        include_str!("../../chart-template/templates/configmap.yaml"),
    ),
    (
        "templates/cronjob.yaml",
        include_str!("../../chart-template/templates/cronjob.yaml"),
    ),
    (
        "templates/deployment.yaml",
        include_str!("../../chart-template/templates/deployment.yaml"),
    ),
    (
        "templates/extra-objects.yaml",
        include_str!("../../chart-template/templates/extra-objects.yaml"),
    ),
    (
        "templates/hpa.yaml",
        include_str!("../../chart-template/templates/hpa.yaml"),
    ),
    (
        "templates/httproute.yaml",
        include_str!("../../chart-template/templates/httproute.yaml"),
    ),
    (
        "templates/ingress.yaml",
        include_str!("../../chart-template/templates/ingress.yaml"),
    ),
    (
        "templates/networkpolicy.yaml",
        include_str!("../../chart-template/templates/networkpolicy.yaml"),
    ),
    (
        "templates/poddisruptionbudget.yaml",
        include_str!("../../chart-template/templates/poddisruptionbudget.yaml"),
    ),
    (
        "templates/podmonitor.yaml",
        include_str!("../../chart-template/templates/podmonitor.yaml"),
    ),
    (
        "templates/release-job.yaml",
        include_str!("../../chart-template/templates/release-job.yaml"),
    ),
    (
        "templates/scaledobject.yaml",
        include_str!("../../chart-template/templates/scaledobject.yaml"),
    ),
    (
        "templates/service-headless.yaml",
        include_str!("../../chart-template/templates/service-headless.yaml"),
    ),
    (
        "templates/service.yaml",
        include_str!("../../chart-template/templates/service.yaml"),
    ),
    (
        "templates/serviceaccount.yaml",
        include_str!("../../chart-template/templates/serviceaccount.yaml"),
    ),
    (
        "templates/statefulset.yaml",
        include_str!("../../chart-template/templates/statefulset.yaml"),
    ),
    (
        "templates/triggerauthentication.yaml",
        include_str!("../../chart-template/templates/triggerauthentication.yaml"),
    ),
    (
        "templates/validate.yaml",
        include_str!("../../chart-template/templates/validate.yaml"),
    ),
    (
        "templates/vpa.yaml",
        include_str!("../../chart-template/templates/vpa.yaml"),
    ),
    (
        "values.schema.json",
        include_str!("../../chart-template/values.schema.json"),
    ),
];

/// Tera templates for the files that differ per spec.
pub const TERA_TEMPLATES: &[(&str, &str)] = &[
    (
        "values.yaml",
        include_str!("../../chart-template/values.yaml.tera"),
    ),
    (
        "README.md",
        include_str!("../../chart-template/README.md.tera"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                files_under(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push(name);
            }
        }
    }

    #[test]
    fn every_template_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("chart-template");
        let mut on_disk = Vec::new();
        files_under(&root, "", &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = HELM_FILES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.extend(TERA_TEMPLATES.iter().map(|(p, _)| format!("{p}.tera")));
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn embedded_helm_files_are_listed_in_helm_order() {
        let paths: Vec<&str> = HELM_FILES.iter().map(|(p, _)| *p).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
    }
}

#[cfg(test)]
mod values_template_tests {
    /// Every key the values.yaml template writes itself has a `# --` comment above it.
    #[test]
    fn every_key_of_values_yaml_is_commented() {
        let text = super::TERA_TEMPLATES[0].1;
        let mut prev = "";
        let mut missing = Vec::new();
        for line in text.lines() {
            let t = line.trim_start();
            if t.starts_with("{%") {
                continue;
            }
            let is_key = t.split_once(':').is_some_and(|(k, _)| {
                !k.is_empty() && !k.contains(' ') && !k.starts_with('#') && !k.starts_with('{')
            });
            if is_key && !prev.trim_start().starts_with('#') {
                missing.push(line.to_string());
            }
            prev = line;
        }
        assert!(
            missing.is_empty(),
            "keys without a comment:\n{}",
            missing.join("\n")
        );
    }
}
