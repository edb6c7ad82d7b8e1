//! The service's own container: its image and its resources.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{Resources, Service};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageValues {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub pull_policy: String,
}

pub(super) fn image(s: &Service) -> ImageValues {
    ImageValues {
        repository: s.image.repository.clone().unwrap_or_default(),
        tag: s.image.tag.clone().unwrap_or_default(),
        digest: s.image.digest.clone().unwrap_or_default(),
        pull_policy: "Always".into(),
    }
}

/// Requests and limits as a container's `resources` (the service's and extra containers').
pub(super) fn resources(requests: &Resources, limits: &Resources) -> Value {
    let list = |r: &Resources| json!({"cpu": r.cpu(), "memory": r.memory(), "ephemeral-storage": r.ephemeral_storage()});
    json!({"requests": list(requests), "limits": list(limits)})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{load, model};

    #[test]
    fn an_auto_image_leaves_the_repository_empty() {
        let (s, _) = load("name: s\nimage: AUTO\n", &[]).unwrap();
        let v = serde_json::to_value(image(&s)).unwrap();
        assert_eq!(
            v,
            json!({"repository": "", "tag": "", "digest": "", "pullPolicy": "Always"})
        );
        let (s, _) = model("");
        assert_eq!(image(&s).repository, "ghcr.io/acme/api");
        assert_eq!(image(&s).tag, "1");
    }

    #[test]
    fn resources_are_kubernetes_quantities() {
        let (s, _) = model("resource_request: {cpu: 250, memory: 1Gi}\n");
        assert_eq!(
            resources(&s.requests, &s.limits),
            json!({
                "requests": {"cpu": "250m", "memory": "1Gi", "ephemeral-storage": "64Mi"},
                "limits": {"cpu": "500m", "memory": "2Gi", "ephemeral-storage": "1Gi"},
            })
        );
    }
}
