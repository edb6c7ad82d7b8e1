//! The chart's values: the validated service expressed in the keys the templates read
//! (`chart-template/templates/*`). This is the only place user data enters the chart.
//!
//! `Values` declares its sections in the order `chart-template/values.yaml.tera` writes them.
//! Each section is built by a small function in the file of its concern (the same concerns as
//! `model`'s); this file only puts them together.

mod availability;
mod config;
mod container;
mod env;
mod extra_containers;
mod identity;
mod ingress;
mod jobs;
mod keda;
mod links;
mod observe;
mod placement;
mod ports;
mod preflight;
mod probes;
mod right_sizing;
mod scaling;
mod security;
mod storage;
mod traffic;
mod workload;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::model::Service;

pub use availability::PdbValues;
pub use config::ConfigFileValues;
pub use container::ImageValues;
pub use env::{EnvFromValues, EnvRefValues, SecretEnv};
pub use extra_containers::{ExtraContainerValues, ExtraPortValues};
pub use identity::ServiceAccount;
pub use ingress::{IngressValues, RouteValues, StickySession};
pub use jobs::{CronJobValues, ReleaseJobValues};
pub use keda::KedaValues;
pub use links::{LinkEnvValues, LinkValues};
pub use observe::{DatadogTagsValues, MetricsValues, OpenTelemetryValues};
pub use placement::TopologySpreadValues;
pub use ports::{PortValues, ServiceValues};
pub use preflight::PreflightValues;
pub use probes::{GrpcValues, ProbeValues};
pub use scaling::Autoscaling;
pub use security::{EgressValues, NetworkPolicyValues};
pub use storage::{ClaimRetention, Persistence, TmpDir, VolumeValues, WritablePathValues};
pub use traffic::{GatewayValues, TlsValues};
pub use workload::Workload;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub name_override: String,
    pub fullname_override: String,
    pub image: ImageValues,
    pub image_pull_secrets: Vec<String>,
    pub workload: Workload,
    pub autoscaling: Autoscaling,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub ports: BTreeMap<String, PortValues>,
    pub probe_port: String,
    pub env: BTreeMap<String, String>,
    pub secret_env: SecretEnv,
    pub liveness_probe: ProbeValues,
    pub readiness_probe: ProbeValues,
    pub startup_probe: ProbeValues,
    pub resources: Value,
    pub pod_security_context: Value,
    pub security_context: Value,
    pub tmp_dir: TmpDir,
    pub writable_paths: Vec<WritablePathValues>,
    pub service_account: ServiceAccount,
    pub automount_service_account_token: bool,
    pub pod_annotations: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub tolerations: Vec<Value>,
    pub node_selector: BTreeMap<String, String>,
    pub affinity: BTreeMap<String, Value>,
    pub priority_class_name: String,
    pub topology_spread: TopologySpreadValues,
    pub pod_disruption_budget: PdbValues,
    pub network_policy: NetworkPolicyValues,
    pub service: ServiceValues,
    pub ingress: IngressValues,
    pub gateway: GatewayValues,
    pub persistence: Persistence,
    pub cron_jobs: BTreeMap<String, CronJobValues>,
    pub release_job: ReleaseJobValues,
    // Configuration beyond Opta (`model::config`).
    pub env_refs: Vec<EnvRefValues>,
    pub env_from: Vec<EnvFromValues>,
    pub config_files: Vec<ConfigFileValues>,
    pub init_containers: Vec<ExtraContainerValues>,
    pub sidecars: Vec<ExtraContainerValues>,
    /// Opta's links: env vars from one user-made Secret per linked module.
    pub links: BTreeMap<String, LinkValues>,
    /// A ServiceMonitor, Datadog's tags, OpenTelemetry injection (`model::observe`).
    pub metrics: MetricsValues,
    pub datadog_tags: DatadogTagsValues,
    pub opentelemetry: OpenTelemetryValues,
    /// A VerticalPodAutoscaler (`model::right_sizing`).
    pub right_sizing: right_sizing::RightSizingValues,
    // Escape hatches for what the spec cannot say, set only at install time (always empty here):
    // raw Kubernetes structures, rendered with toYaml, never as template text.
    pub extra_env: Vec<Value>,
    pub extra_env_from: Vec<Value>,
    pub extra_volumes: Vec<Value>,
    pub extra_volume_mounts: Vec<Value>,
    pub extra_objects: Vec<Value>,
    pub preflight: PreflightValues,
    /// `auto`: the add-ons' APIs are checked when helm reads the cluster (_checks.tpl).
    pub crd_check: &'static str,
}

impl Values {
    pub fn from_service(s: &Service) -> Values {
        Values {
            name_override: String::new(),
            fullname_override: String::new(),
            image: container::image(s),
            image_pull_secrets: s.identity.image_pull_secrets.clone(),
            workload: workload::workload(s),
            autoscaling: scaling::autoscaling(s),
            command: s.command.clone(),
            args: s.args.clone(),
            ports: ports::ports(s),
            probe_port: s.probe_port.clone().unwrap_or_default(),
            env: env::env(s),
            secret_env: env::secret_env(s),
            liveness_probe: probes::probe(&s.liveness),
            readiness_probe: probes::probe(&s.readiness),
            startup_probe: probes::startup_probe(s),
            resources: container::resources(&s.requests, &s.limits),
            pod_security_context: security::pod_security_context(s),
            security_context: security::security_context(s),
            tmp_dir: storage::tmp_dir(s),
            writable_paths: storage::writable_paths(s),
            service_account: identity::service_account(s),
            automount_service_account_token: false,
            pod_annotations: s.pod_annotations.clone(),
            pod_labels: identity::pod_labels(s),
            tolerations: placement::tolerations(s),
            node_selector: s.workload.node_selector.clone(),
            affinity: s.workload.affinity.clone(),
            priority_class_name: s.workload.priority_class_name.clone().unwrap_or_default(),
            topology_spread: placement::topology_spread(s),
            pod_disruption_budget: availability::pod_disruption_budget(s),
            network_policy: security::network_policy(s),
            service: ports::service(s),
            ingress: ingress::ingress(s),
            gateway: GatewayValues::from(s),
            persistence: storage::persistence(s),
            cron_jobs: jobs::cron_jobs(s),
            release_job: jobs::release_job(s),
            env_refs: s.config.env_refs.iter().map(env::env_ref).collect(),
            env_from: s.config.env_from.iter().map(env::env_from).collect(),
            config_files: s.config.files.iter().map(config::config_file).collect(),
            init_containers: s
                .config
                .init_containers
                .iter()
                .map(|c| extra_containers::extra_container(c, false))
                .collect(),
            sidecars: s
                .config
                .sidecars
                .iter()
                .map(|c| extra_containers::extra_container(c, true))
                .collect(),
            links: links::links(&s.links),
            metrics: observe::metrics(s),
            datadog_tags: observe::datadog_tags(s),
            opentelemetry: observe::opentelemetry(s),
            right_sizing: right_sizing::right_sizing(s),
            extra_env: Vec::new(),
            extra_env_from: Vec::new(),
            extra_volumes: Vec::new(),
            extra_volume_mounts: Vec::new(),
            extra_objects: Vec::new(),
            preflight: preflight::preflight(),
            crd_check: "auto",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Values;
    use crate::model::testing::model;

    #[test]
    fn sections_are_declared_in_the_order_values_yaml_writes_them() {
        let (s, _) = model("");
        // Top-level keys are the unindented lines of the YAML serde writes field by field.
        let yaml = serde_saphyr::to_string(&Values::from_service(&s)).unwrap();
        let keys: Vec<&str> = yaml
            .lines()
            .filter(|l| !l.starts_with([' ', '-']))
            .filter_map(|l| l.split_once(':').map(|(k, _)| k))
            .collect();
        assert_eq!(
            keys,
            [
                "nameOverride",
                "fullnameOverride",
                "image",
                "imagePullSecrets",
                "workload",
                "autoscaling",
                "command",
                "args",
                "ports",
                "probePort",
                "env",
                "secretEnv",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
                "resources",
                "podSecurityContext",
                "securityContext",
                "tmpDir",
                "writablePaths",
                "serviceAccount",
                "automountServiceAccountToken",
                "podAnnotations",
                "podLabels",
                "tolerations",
                "nodeSelector",
                "affinity",
                "priorityClassName",
                "topologySpread",
                "podDisruptionBudget",
                "networkPolicy",
                "service",
                "ingress",
                "gateway",
                "persistence",
                "cronJobs",
                "releaseJob",
                "envRefs",
                "envFrom",
                "configFiles",
                "initContainers",
                "sidecars",
                "links",
                "metrics",
                "datadogTags",
                "opentelemetry",
                "rightSizing",
                "extraEnv",
                "extraEnvFrom",
                "extraVolumes",
                "extraVolumeMounts",
                "extraObjects",
                "preflight",
                "crdCheck",
            ]
        );
    }
}
