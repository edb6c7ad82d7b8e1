//! The config files, mounted from the chart's ConfigMap.

use serde::Serialize;

use crate::model::config::ConfigFile;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigFileValues {
    pub key: String,
    pub mount_path: String,
    pub content: String,
}

pub(super) fn config_file(f: &ConfigFile) -> ConfigFileValues {
    ConfigFileValues {
        key: f.key.clone(),
        mount_path: f.path.clone(),
        content: f.content.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;
    use serde_json::json;

    #[test]
    fn a_file_is_its_key_path_and_content() {
        let (s, _) = model("config_files:\n  /etc/app/a.yaml: \"x: 1\"\n");
        assert_eq!(
            serde_json::to_value(config_file(&s.config.files[0])).unwrap(),
            json!({"key": "etc_app_a.yaml", "mountPath": "/etc/app/a.yaml", "content": "x: 1"})
        );
    }
}
