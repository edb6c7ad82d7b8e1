//! The spec language as written by users: the inputs of Opta's `k8s-service` module, plus a few
//! fields of ours. These types only describe shape; meaning and rules live in `model`.
//!
//! Numbers and booleans are `Lenient`: Opta accepted `"80"` and `"{vars.max}"` where a number was
//! meant, and interpolation must run before such a field can be read as a number.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

pub use super::scalars::{AS_WRITTEN, Lenient, LenientTarget, Quantity, RawResources};

/// Every field of one service (a standalone spec, or one module of an Opta file).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// Chart name (standalone) or module name (Opta file).
    pub name: Option<String>,
    /// Only inside an Opta `modules:` list.
    #[serde(rename = "type")]
    pub module_type: Option<String>,
    /// Opta module ordering; meaningless for a chart and ignored.
    pub depends_on: Option<Vec<String>>,
    /// Chart.yaml description (ours).
    pub description: Option<String>,

    pub image: Option<String>,
    pub tag: Option<String>,
    pub digest: Option<String>,

    pub port: Option<BTreeMap<String, Lenient<u32>>>,
    pub ports: Option<Vec<RawPort>>,
    pub probe_port: Option<String>,

    pub min_containers: Option<Lenient<u32>>,
    pub max_containers: Option<Lenient<u32>>,
    pub autoscaling_target_cpu_percentage: Option<Lenient<u32>>,
    pub autoscaling_target_mem_percentage: Option<Lenient<u32>>,

    pub env_vars: Option<EnvVars>,
    pub secrets: Option<Vec<String>>,
    /// Name of the Kubernetes Secret that holds `secrets` (ours; default `<release fullname>-secrets`).
    pub secret_name: Option<String>,
    /// Mount the `secrets` as files in this directory instead of environment variables (ours).
    pub secrets_mount_path: Option<String>,

    pub healthcheck_path: Option<String>,
    pub healthcheck_command: Option<Vec<String>>,
    pub liveness_probe_path: Option<String>,
    pub readiness_probe_path: Option<String>,
    pub liveness_probe_command: Option<Vec<String>>,
    pub readiness_probe_command: Option<Vec<String>>,
    pub initial_liveness_delay: Option<Lenient<u32>>,
    pub initial_readiness_delay: Option<Lenient<u32>>,

    pub resource_request: Option<RawResources>,
    pub resource_limits: Option<RawResources>,

    pub public_uri: Option<OneOrMany>,
    pub keep_path_prefix: Option<Lenient<bool>>,
    pub sticky_session: Option<Lenient<bool>>,
    pub sticky_session_max_age: Option<Lenient<u32>>,
    pub consistent_hash: Option<String>,
    pub ingress_extra_annotations: Option<BTreeMap<String, String>>,
    /// IngressClass name (ours; default `nginx`, as Opta's hard-coded annotation).
    pub ingress_class: Option<String>,
    /// The Ingress controller the Ingresses are written for (ours): `ingress-nginx` (default,
    /// Opta's annotations) or `portable` (plain `Prefix` paths, no controller annotations).
    pub ingress_controller: Option<String>,

    pub tolerations: Option<Vec<RawToleration>>,
    pub cron_jobs: Option<Vec<RawCronJob>>,
    pub persistent_storage: Option<Vec<RawStorage>>,
    /// What happens to the claims when the StatefulSet is deleted or scaled down (ours).
    pub persistent_storage_retention: Option<RawRetention>,
    pub pod_annotations: Option<BTreeMap<String, String>>,
    pub pod_labels: Option<BTreeMap<String, String>>,
    pub commands: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub timeout: Option<Lenient<u32>>,
    pub max_history: Option<Lenient<u32>>,
    /// The release phase (ours): a command run to completion in the service's image before
    /// every install and upgrade (a Helm hook Job), e.g. database migrations.
    pub release_command: Option<Vec<String>>,
    /// Seconds the release command may run (`activeDeadlineSeconds`); default `timeout`.
    pub release_timeout: Option<Lenient<u32>>,
    /// Times a failed release command is run again (`backoffLimit`); default 0.
    pub release_retries: Option<Lenient<u32>>,

    /// Pod Security Standards relaxations for images that need them (ours).
    pub security: Option<RawSecurity>,
    /// `restricted` (default) or `baseline`: the Pod Security Standard the pods meet (ours).
    pub security_profile: Option<String>,
    /// Size of the `/tmp` emptyDir (ours).
    pub tmp_size: Option<Quantity>,
    /// Extra writable directories, each an emptyDir: a path or `{path, size}` (ours).
    pub writable_paths: Option<Vec<super::raw_config::RawWritablePath>>,
    /// The PodDisruptionBudget (ours).
    pub pod_disruption_budget: Option<RawPdb>,
    /// The NetworkPolicy (ours).
    pub network_policy: Option<RawNetworkPolicy>,

    // Probes, availability and scheduling beyond Opta (ours; read by model/workload.rs).
    pub startup_probe_path: Option<String>,
    pub startup_probe_command: Option<Vec<String>>,
    pub initial_startup_delay: Option<Lenient<u32>>,
    /// Period, timeout and failure threshold per probe.
    pub probe_timing: Option<RawProbeTiming>,
    /// Native gRPC health checks (grpc.health.v1) on a grpc probe port.
    pub grpc_health_check: Option<Lenient<bool>>,
    pub grpc_health_service: Option<String>,
    /// `soft` (default), `strict` or `off`.
    pub topology_spread: Option<String>,
    pub autoscaling_behavior: Option<RawAutoscalingBehavior>,
    /// HPA pod and external metrics (ours; shapes in `raw_scaling`, rules in `model::hpa_metrics`).
    pub autoscaling_metrics: Option<Vec<super::raw_scaling::RawHpaMetric>>,
    /// KEDA triggers: a ScaledObject instead of the HPA (ours; shapes in `raw_scaling`).
    pub scale_on: Option<Vec<super::raw_scaling::RawTrigger>>,
    /// Replicas KEDA keeps while a trigger's metric source fails.
    pub scale_on_fallback: Option<Lenient<u32>>,
    /// A ServiceMonitor for one of the service's ports (ours; rules in `model::observe`).
    pub metrics: Option<super::raw_scaling::RawMetrics>,
    /// Datadog's unified service tags as labels (ours; Opta always set them).
    pub datadog_tags: Option<super::raw_scaling::RawDatadogTags>,
    /// The OpenTelemetry Operator's auto-instrumentation annotation (ours).
    pub opentelemetry: Option<super::raw_scaling::RawOpenTelemetry>,
    /// An opt-in VerticalPodAutoscaler (ours; rules in `model::right_sizing`).
    pub right_sizing: Option<super::raw_scaling::RawRightSizing>,
    pub termination_grace_period: Option<Lenient<u32>>,
    pub pre_stop_delay: Option<Lenient<u32>>,
    pub node_selector: Option<BTreeMap<String, String>>,
    /// A Kubernetes Affinity, passed through (only its three top-level keys are checked).
    pub affinity: Option<BTreeMap<String, serde_json::Value>>,
    pub priority_class_name: Option<String>,
    // Traffic and identity (ours): HTTPS for the public_uri hosts, Gateway API routes instead of
    // Ingresses, cloud workload identity and image pull Secrets.
    pub tls: Option<RawTls>,
    pub gateway: Option<RawGateway>,
    /// The Service's `trafficDistribution`: `PreferClose` or `PreferSameZone`.
    pub traffic_distribution: Option<String>,
    pub iam_role_arn: Option<String>,
    pub gcp_service_account: Option<String>,
    pub azure_client_id: Option<String>,
    pub image_pull_secrets: Option<Vec<String>>,
    // Configuration beyond Opta (ours; shapes in `raw_config`, rules in `model::config`).
    /// Env vars from single keys of existing Secrets and ConfigMaps.
    pub env_refs: Option<super::raw_config::EnvRefs>,
    /// Every key of existing Secrets and ConfigMaps as env vars.
    pub env_from: Option<Vec<super::raw_config::RawEnvFrom>>,
    /// Files mounted read-only from a generated ConfigMap: absolute path → content.
    pub config_files: Option<BTreeMap<String, String>>,
    pub init_containers: Option<Vec<super::raw_config::RawInitContainer>>,
    pub sidecars: Option<Vec<super::raw_config::RawSidecar>>,

    /// Opta's links (model/links.rs): each entry a module name, or a map of one module name to
    /// its permissions or variable renames; any shape here, checked with its field there.
    pub links: Option<Vec<serde_json::Value>>,
    /// Linked module name -> Opta module type, for a module this file does not list (ours).
    pub link_types: Option<BTreeMap<String, String>>,
    // Cloud-only inputs: a chart cannot honour them; we warn and ignore.
    pub additional_iam_policies: Option<Ignored>,
    pub additional_iam_roles: Option<Ignored>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPort {
    pub name: String,
    #[serde(rename = "type")]
    pub port_type: String,
    pub port: Option<Lenient<u32>>,
    pub service_port: Option<Lenient<u32>>,
    pub protocol: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToleration {
    pub key: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
    /// `Equal` (Opta's implicit operator) or `Exists` (ours).
    pub operator: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCronJob {
    /// Suffix of the CronJob's name (ours; default: the index, as Opta).
    pub name: Option<String>,
    pub commands: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub schedule: Option<String>,
    /// IANA time zone for the schedule (ours).
    pub time_zone: Option<String>,
    /// `Forbid` (default), `Allow` or `Replace` (ours).
    pub concurrency_policy: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub path: Option<String>,
    pub size: Option<Lenient<u32>>,
    /// StorageClass of the claim (ours; default: the cluster's default class).
    pub storage_class: Option<String>,
}

/// `persistent_storage_retention`: the StatefulSet's `persistentVolumeClaimRetentionPolicy`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    /// `Retain` (default) or `Delete`: the claims when the StatefulSet is deleted.
    pub when_deleted: Option<String>,
    /// `Retain` (default) or `Delete`: the claims of the pods a scale-down removes.
    pub when_scaled: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecurity {
    pub run_as_user: Option<Lenient<u32>>,
    pub run_as_group: Option<Lenient<u32>>,
    pub fs_group: Option<Lenient<u32>>,
    pub run_as_non_root: Option<Lenient<bool>>,
    pub read_only_root_filesystem: Option<Lenient<bool>>,
    pub allow_privilege_escalation: Option<Lenient<bool>>,
    pub add_capabilities: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPdb {
    pub enabled: Option<Lenient<bool>>,
    /// A number or a percentage such as `"25%"` (kept as text until the model reads it).
    pub max_unavailable: Option<Lenient<u32>>,
    pub min_available: Option<Lenient<u32>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetworkPolicy {
    pub enabled: Option<Lenient<bool>>,
    /// Namespace names or CIDRs allowed to reach the ports (default: any source).
    pub allow_from: Option<Vec<String>>,
    /// Namespace names or CIDRs the pods may reach, besides DNS (default: anywhere).
    pub egress_to: Option<Vec<String>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbeTiming {
    pub liveness: Option<RawTiming>,
    pub readiness: Option<RawTiming>,
    pub startup: Option<RawTiming>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTiming {
    pub period_seconds: Option<Lenient<u32>>,
    pub timeout_seconds: Option<Lenient<u32>>,
    pub failure_threshold: Option<Lenient<u32>>,
}

/// The HPA's scaling speed, in a short form (rendered as autoscaling/v2 `behavior`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscalingBehavior {
    pub scale_up_stabilization_seconds: Option<Lenient<u32>>,
    pub scale_up_max_percent_per_minute: Option<Lenient<u32>>,
    pub scale_up_max_pods_per_minute: Option<Lenient<u32>>,
    pub scale_down_stabilization_seconds: Option<Lenient<u32>>,
    pub scale_down_max_percent_per_minute: Option<Lenient<u32>>,
    pub scale_down_max_pods_per_minute: Option<Lenient<u32>>,
    /// HPA `tolerance` (KEP-4951, Kubernetes 1.35+): a fraction such as 0.05.
    pub scale_up_tolerance: Option<super::raw_scaling::RawNumber>,
    pub scale_down_tolerance: Option<super::raw_scaling::RawNumber>,
}

/// `tls`: where the certificate of the public_uri hosts comes from; exactly one key.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// An existing Secret (type kubernetes.io/tls) covering every host.
    pub secret_name: Option<String>,
    /// A cert-manager ClusterIssuer.
    pub cluster_issuer: Option<String>,
    /// A cert-manager Issuer in the release namespace.
    pub issuer: Option<String>,
}

/// `gateway`: the Gateway API Gateway the routes attach to.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGateway {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub section_name: Option<String>,
    /// `sticky_session` as HTTPRoute `sessionPersistence`, a field of the Experimental channel.
    pub experimental_session_persistence: Option<Lenient<bool>>,
    /// The pods serve TLS on the routed port: a BackendTLSPolicy.
    pub backend_tls: Option<RawBackendTls>,
}

/// `gateway.backend_tls`: how the Gateway checks the certificate of the pods' TLS port.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackendTls {
    /// The name the certificate must carry (and the SNI).
    pub hostname: Option<String>,
    /// A ConfigMap of the release namespace with the CA bundle in `ca.crt`; none: the
    /// implementation's well-known CAs (`wellKnownCACertificates: System`).
    pub ca_config_map: Option<String>,
}

/// `public_uri`: one string or a list of them.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMany::Many(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// `env_vars`: a mapping (order kept) or a list of `{name, value}`; both keep document order,
/// which matters for `$(VAR)` references between variables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvVars(pub Vec<(String, String)>);

impl Serialize for EnvVars {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            seq.serialize_element(&EnvEntry {
                name: name.clone(),
                value: value.clone(),
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvEntry {
    name: String,
    value: String,
}

impl<'de> Deserialize<'de> for EnvVars {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvVars;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of NAME: value, or a list of {name, value}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvVars, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(EnvVars(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EnvVars, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element::<EnvEntry>()? {
                    out.push((e.name, e.value));
                }
                Ok(EnvVars(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Accepts any YAML value and remembers only that the field was given.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ignored;

impl Serialize for Ignored {
    /// Not null: the interpolation round trip must keep `Some(Ignored)` (the field was given).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(true)
    }
}

impl<'de> Deserialize<'de> for Ignored {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de::IgnoredAny::deserialize(d).map(|_| Ignored)
    }
}

/// The names of every field of `RawService`, for suggestions and the cloud-only warning.
pub const CLOUD_ONLY_FIELDS: &[(&str, &str)] = &[
    (
        "additional_iam_policies",
        "attach the policies to an IAM role and give its ARN as `iam_role_arn` (the ServiceAccount's `eks.amazonaws.com/role-arn` annotation)",
    ),
    (
        "additional_iam_roles",
        "grant the roles to a Google service account and give its email as `gcp_service_account` (the ServiceAccount's `iam.gke.io/gcp-service-account` annotation)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(y: &str) -> RawService {
        serde_saphyr::from_str(y).unwrap()
    }

    #[test]
    fn numbers_may_be_written_as_text_for_interpolation() {
        let s = parse("max_containers: \"{vars.max}\"\nmin_containers: 2\n");
        assert_eq!(s.max_containers, Some(Lenient::Text("{vars.max}".into())));
        assert_eq!(s.min_containers, Some(Lenient::Value(2)));
    }

    #[test]
    fn env_vars_keep_document_order_in_both_forms() {
        let m = parse("env_vars:\n  Z: \"1\"\n  A: yes\n");
        assert_eq!(
            m.env_vars.unwrap().0,
            vec![("Z".into(), "1".into()), ("A".into(), "yes".into())]
        );
        let l = parse("env_vars:\n  - name: Z\n    value: 0755\n");
        assert_eq!(l.env_vars.unwrap().0, vec![("Z".into(), "0755".into())]);
    }

    #[test]
    fn env_var_values_keep_their_exact_spelling() {
        let m = parse("env_vars:\n  A: 1.10\n  B: 1e3\n  C: NO\n  D: 0x1F\n");
        let vals: Vec<_> = m.env_vars.unwrap().0.into_iter().map(|(_, v)| v).collect();
        assert_eq!(vals, vec!["1.10", "1e3", "NO", "0x1F"]);
    }

    #[test]
    fn links_are_read_in_any_shape_and_checked_by_the_model() {
        let s = parse("links:\n  - db: [read]\n  - cache\n  - 3\n");
        assert_eq!(s.links.map(|l| l.len()), Some(3));
    }
}
