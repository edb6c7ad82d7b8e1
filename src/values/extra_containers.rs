//! The init containers and sidecars.

use serde::Serialize;
use serde_json::{Value, json};

use super::container::resources;
use crate::model::extra_containers::ExtraContainer;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtraContainerValues {
    pub name: String,
    /// "" runs the service's image.
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// `{}` shares the service's `resources`.
    pub resources: Value,
    /// Sidecars only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<ExtraPortValues>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtraPortValues {
    pub name: String,
    pub container_port: u32,
}

pub(super) fn extra_container(c: &ExtraContainer, sidecar: bool) -> ExtraContainerValues {
    ExtraContainerValues {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        command: c.command.clone(),
        args: c.args.clone(),
        resources: match &c.resources {
            None => json!({}),
            Some((req, lim)) => resources(req, lim),
        },
        ports: sidecar.then(|| {
            c.ports
                .iter()
                .map(|(name, port)| ExtraPortValues {
                    name: name.clone(),
                    container_port: *port,
                })
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;

    #[test]
    fn only_sidecars_have_ports_and_only_given_resources_are_written() {
        let (s, _) = model(
            "init_containers:\n  - {name: i, commands: [/bin/i]}\nsidecars:\n  - {name: p, image: \"e:1\", resource_request: {cpu: 50}, ports: [{name: admin, port: 9901}]}\n",
        );
        let init =
            serde_json::to_value(extra_container(&s.config.init_containers[0], false)).unwrap();
        assert_eq!(
            init,
            json!({"name": "i", "image": "", "command": ["/bin/i"], "args": [], "resources": {}})
        );
        let sidecar = serde_json::to_value(extra_container(&s.config.sidecars[0], true)).unwrap();
        assert_eq!(
            sidecar["ports"],
            json!([{"name": "admin", "containerPort": 9901}])
        );
        assert_eq!(
            sidecar["resources"],
            // Ephemeral storage is the service's, request and limit, unless given.
            json!({
                "requests": {"cpu": "50m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
                "limits": {"cpu": "100m", "memory": "256Mi", "ephemeral-storage": "1Gi"},
            })
        );
    }
}
