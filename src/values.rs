//! The chart's values: the validated service expressed in the keys the templates read
//! (`chart-template/templates/*`). This is the only place user data enters the chart.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::placement::Spread;
use crate::model::workload::Workload as PodSettings;
use crate::model::{AppProtocol, PortKind, Service};

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
    pub ports: Vec<PortValues>,
    pub probe_port: String,
    pub env: Vec<EnvValue>,
    pub secret_env: SecretEnv,
    pub liveness_probe: ProbeValues,
    pub readiness_probe: ProbeValues,
    pub startup_probe: ProbeValues,
    pub resources: Value,
    pub pod_security_context: Value,
    pub security_context: Value,
    pub tmp_dir: TmpDir,
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
    pub cron_jobs: Vec<CronJobValues>,
    // Configuration beyond Opta (`model::config`).
    pub env_refs: Vec<EnvRefValues>,
    pub env_from: Vec<EnvFromValues>,
    pub config_files: Vec<ConfigFileValues>,
    pub init_containers: Vec<ExtraContainerValues>,
    pub sidecars: Vec<ExtraContainerValues>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageValues {
    pub repository: String,
    pub tag: String,
    pub digest: String,
    pub pull_policy: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    pub enabled: bool,
    pub replicas: u32,
    pub revision_history_limit: u32,
    pub rolling_update: Value,
    pub pod_management_policy: String,
    pub termination_grace_period_seconds: u32,
    /// Seconds of `lifecycle.preStop.sleep` before SIGTERM; 0: no hook.
    pub pre_stop_delay_seconds: u32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaling {
    pub enabled: bool,
    pub min_replicas: u32,
    pub max_replicas: u32,
    #[serde(rename = "targetCPUUtilizationPercentage")]
    pub target_cpu: Option<u32>,
    pub target_memory_utilization_percentage: Option<u32>,
    /// autoscaling/v2 `behavior`; `{}`: Kubernetes' defaults.
    pub behavior: Value,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortValues {
    pub name: String,
    pub container_port: u32,
    pub service_port: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub protocol: String,
}

#[derive(Debug, Serialize)]
pub struct EnvValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretEnv {
    pub secret_name: String,
    pub keys: Vec<String>,
    /// Non-empty: the keys are files in this directory instead of environment variables.
    pub mount_path: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbValues {
    pub enabled: bool,
    /// An integer or a percentage string; used unless `min_available` is set.
    pub max_unavailable: Value,
    /// `""` (unset), an integer or a percentage string.
    pub min_available: Value,
    pub unhealthy_pod_eviction_policy: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicyValues {
    pub enabled: bool,
    /// NetworkPolicyPeers allowed to reach the declared ports; empty: any source.
    pub ingress_from: Vec<Value>,
    pub egress: EgressValues,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressValues {
    pub allow_all: bool,
    pub allow_dns: bool,
    pub to: Vec<Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeValues {
    pub enabled: bool,
    pub path: String,
    pub command: Vec<String>,
    pub initial_delay_seconds: u32,
    pub period_seconds: u32,
    pub timeout_seconds: u32,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub grpc: GrpcValues,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrpcValues {
    pub enabled: bool,
    pub service: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadValues {
    pub enabled: bool,
    pub max_skew: u32,
    pub when_unsatisfiable: String,
    pub topology_keys: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TmpDir {
    pub enabled: bool,
    pub mount_path: String,
    pub size_limit: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    pub create: bool,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceValues {
    #[serde(rename = "type")]
    pub kind: String,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressValues {
    pub enabled: bool,
    pub class_name: String,
    pub annotations: BTreeMap<String, String>,
    pub port: String,
    pub backend_protocol: String,
    pub keep_path_prefix: bool,
    pub sticky_session: StickySession,
    pub consistent_hash: String,
    pub routes: Vec<RouteValues>,
    pub tls: TlsValues,
}

/// HTTPS for the routes' hosts (the spec's `tls`).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsValues {
    pub enabled: bool,
    pub cluster_issuer: String,
    pub issuer: String,
    /// host -> Secret holding its certificate.
    pub secrets: BTreeMap<String, String>,
}

impl TlsValues {
    fn from(tls: Option<&crate::model::traffic::Tls>) -> TlsValues {
        use crate::model::traffic::CertSource;
        let Some(t) = tls else {
            return TlsValues::default();
        };
        let (cluster_issuer, issuer) = match &t.source {
            CertSource::Secret(_) => (String::new(), String::new()),
            CertSource::ClusterIssuer(i) => (i.clone(), String::new()),
            CertSource::Issuer(i) => (String::new(), i.clone()),
        };
        TlsValues {
            enabled: true,
            cluster_issuer,
            issuer,
            secrets: t.secrets.clone(),
        }
    }
}

/// Gateway API HTTPRoutes instead of Ingresses (the spec's `gateway`).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayValues {
    pub enabled: bool,
    pub name: String,
    pub namespace: String,
    pub section_name: String,
}

impl GatewayValues {
    fn from(g: Option<&crate::model::traffic::Gateway>) -> GatewayValues {
        g.map_or_else(GatewayValues::default, |g| GatewayValues {
            enabled: true,
            name: g.name.clone(),
            namespace: g.namespace.clone().unwrap_or_default(),
            section_name: g.section_name.clone().unwrap_or_default(),
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StickySession {
    pub enabled: bool,
    pub cookie_name: String,
    pub max_age: u32,
}

#[derive(Debug, Serialize)]
pub struct RouteValues {
    pub host: String,
    pub path: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Persistence {
    pub storage_class_name: String,
    pub access_mode: String,
    pub volumes: Vec<VolumeValues>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeValues {
    pub name: String,
    pub mount_path: String,
    pub size: String,
    pub storage_class_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CronJobValues {
    pub name: String,
    pub schedule: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub time_zone: String,
    pub suspend: bool,
    pub concurrency_policy: String,
    pub starting_deadline_seconds: u32,
    pub active_deadline_seconds: Option<u32>,
    pub backoff_limit: u32,
    pub successful_jobs_history_limit: u32,
    pub failed_jobs_history_limit: u32,
    pub ttl_seconds_after_finished: Option<u32>,
}

fn int_or_percent(v: crate::model::IntOrPercent) -> Value {
    match v {
        crate::model::IntOrPercent::Int(n) => json!(n),
        crate::model::IntOrPercent::Percent(p) => json!(format!("{p}%")),
    }
}

fn peer(p: &crate::model::Peer) -> Value {
    match p {
        crate::model::Peer::Namespace(ns) => json!({
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}
        }),
        crate::model::Peer::Cidr(cidr) => json!({"ipBlock": {"cidr": cidr}}),
    }
}

fn protocol_name(p: Option<AppProtocol>) -> String {
    match p {
        None => String::new(),
        Some(AppProtocol::Grpc) => "grpc".into(),
        Some(AppProtocol::Websocket) => "websocket".into(),
    }
}

/// A probe's values; the timing defaults live in `model::workload`.
fn probe(p: &crate::model::Probe) -> ProbeValues {
    ProbeValues {
        enabled: true,
        path: p.path.clone().unwrap_or_default(),
        command: p.command.clone(),
        initial_delay_seconds: p.initial_delay,
        period_seconds: p.timing.period,
        timeout_seconds: p.timing.timeout,
        failure_threshold: p.timing.failure_threshold,
        success_threshold: 1,
        grpc: GrpcValues {
            enabled: p.grpc.is_some(),
            service: p
                .grpc
                .as_ref()
                .and_then(|g| g.service.clone())
                .unwrap_or_default(),
        },
    }
}

/// The HPA `behavior` from the spec's short form; each policy counts per minute. With both a
/// percentage and a pod count, both are caps, so the smaller change wins (`selectPolicy: Min`).
fn hpa_behavior(w: &PodSettings) -> Value {
    let mut out = serde_json::Map::new();
    for (key, r) in [("scaleUp", &w.scale_up), ("scaleDown", &w.scale_down)] {
        if r.is_empty() {
            continue;
        }
        let mut rule = serde_json::Map::new();
        if let Some(s) = r.stabilization_seconds {
            rule.insert("stabilizationWindowSeconds".into(), json!(s));
        }
        let mut policies = Vec::new();
        if let Some(p) = r.max_percent_per_minute {
            policies.push(json!({"type": "Percent", "value": p, "periodSeconds": 60}));
        }
        if let Some(p) = r.max_pods_per_minute {
            policies.push(json!({"type": "Pods", "value": p, "periodSeconds": 60}));
        }
        if policies.len() > 1 {
            rule.insert("selectPolicy".into(), json!("Min"));
        }
        if !policies.is_empty() {
            rule.insert("policies".into(), json!(policies));
        }
        out.insert(key.into(), Value::Object(rule));
    }
    Value::Object(out)
}

/// A disabled probe (no startup probe): the timing is the chart's default should
/// `--set startupProbe.enabled=true` turn it on.
fn no_probe() -> ProbeValues {
    let t = crate::model::probes::STARTUP_TIMING;
    ProbeValues {
        enabled: false,
        path: String::new(),
        command: Vec::new(),
        initial_delay_seconds: 0,
        period_seconds: t.period,
        timeout_seconds: t.timeout,
        failure_threshold: t.failure_threshold,
        success_threshold: 1,
        grpc: GrpcValues {
            enabled: false,
            service: String::new(),
        },
    }
}

impl Values {
    pub fn from_service(s: &Service) -> Values {
        let autoscaled = s.min_replicas < s.max_replicas;
        let sec = &s.security;
        let mut capabilities = json!({"drop": ["ALL"]});
        if !sec.add_capabilities.is_empty() {
            capabilities["add"] = json!(sec.add_capabilities);
        }
        Values {
            name_override: String::new(),
            fullname_override: String::new(),
            image: ImageValues {
                repository: s.image.repository.clone().unwrap_or_default(),
                tag: s.image.tag.clone().unwrap_or_default(),
                digest: s.image.digest.clone().unwrap_or_default(),
                pull_policy: "Always".into(),
            },
            image_pull_secrets: s.identity.image_pull_secrets.clone(),
            workload: Workload {
                enabled: s.max_replicas > 0,
                replicas: s.min_replicas.max(1),
                revision_history_limit: 10,
                rolling_update: json!({"maxSurge": "25%", "maxUnavailable": 0}),
                pod_management_policy: "Parallel".into(),
                termination_grace_period_seconds: s.workload.termination_grace_period,
                pre_stop_delay_seconds: s.workload.pre_stop_delay,
            },
            autoscaling: Autoscaling {
                enabled: autoscaled,
                min_replicas: s.min_replicas.max(1),
                max_replicas: s.max_replicas.max(1),
                target_cpu: s.cpu_target,
                target_memory_utilization_percentage: s.memory_target,
                behavior: hpa_behavior(&s.workload),
            },
            command: s.command.clone(),
            args: s.args.clone(),
            ports: s
                .ports
                .iter()
                .map(|p| PortValues {
                    name: p.name.clone(),
                    container_port: p.container_port,
                    service_port: p.service_port,
                    kind: match p.kind {
                        PortKind::Http => "http".into(),
                        PortKind::Tcp => "tcp".into(),
                    },
                    protocol: protocol_name(p.protocol),
                })
                .collect(),
            probe_port: s.probe_port.clone().unwrap_or_default(),
            env: s
                .env
                .iter()
                .map(|(name, value)| EnvValue {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            secret_env: SecretEnv {
                secret_name: s.secret_name.clone().unwrap_or_default(),
                keys: s.secret_keys.clone(),
                mount_path: s.secrets_mount_path.clone().unwrap_or_default(),
            },
            liveness_probe: probe(&s.liveness),
            readiness_probe: probe(&s.readiness),
            startup_probe: s.workload.startup.as_ref().map_or_else(no_probe, probe),
            resources: json!({
                "requests": {"cpu": s.requests.cpu(), "memory": s.requests.memory()},
                "limits": {"cpu": s.limits.cpu(), "memory": s.limits.memory()},
            }),
            pod_security_context: json!({
                "runAsNonRoot": sec.run_as_non_root,
                "runAsUser": sec.run_as_user,
                "runAsGroup": sec.run_as_group,
                "fsGroup": sec.fs_group,
                "seccompProfile": {"type": "RuntimeDefault"},
            }),
            security_context: json!({
                "allowPrivilegeEscalation": sec.allow_privilege_escalation,
                "privileged": false,
                "readOnlyRootFilesystem": sec.read_only_root_filesystem,
                "runAsNonRoot": sec.run_as_non_root,
                "capabilities": capabilities,
            }),
            tmp_dir: TmpDir {
                enabled: true,
                mount_path: "/tmp".into(),
                size_limit: String::new(),
            },
            service_account: ServiceAccount {
                create: true,
                name: String::new(),
                annotations: s.identity.service_account_annotations(),
            },
            automount_service_account_token: false,
            pod_annotations: s.pod_annotations.clone(),
            pod_labels: {
                let mut labels = s.pod_labels.clone();
                labels.extend(s.identity.pod_labels());
                labels
            },
            tolerations: s
                .tolerations
                .iter()
                .map(|t| {
                    let mut v = json!({"operator": t.operator});
                    if let Some(e) = &t.effect {
                        v["effect"] = json!(e);
                    }
                    if let Some(k) = &t.key {
                        v["key"] = json!(k);
                    }
                    if let Some(val) = &t.value {
                        v["value"] = json!(val);
                    }
                    v
                })
                .collect(),
            node_selector: s.workload.node_selector.clone(),
            affinity: s.workload.affinity.clone(),
            priority_class_name: s.workload.priority_class_name.clone().unwrap_or_default(),
            // Nodes, then zones; rendered only when more than one replica can run.
            topology_spread: TopologySpreadValues {
                enabled: s.workload.spread != Spread::Off,
                max_skew: 1,
                when_unsatisfiable: if s.workload.spread == Spread::Strict {
                    "DoNotSchedule".into()
                } else {
                    "ScheduleAnyway".into()
                },
                topology_keys: vec![
                    "kubernetes.io/hostname".into(),
                    "topology.kubernetes.io/zone".into(),
                ],
            },
            pod_disruption_budget: PdbValues {
                enabled: s.pdb.enabled,
                max_unavailable: int_or_percent(s.pdb.max_unavailable),
                min_available: s.pdb.min_available.map_or(json!(""), int_or_percent),
                unhealthy_pod_eviction_policy: "AlwaysAllow".into(),
            },
            network_policy: NetworkPolicyValues {
                enabled: s.network_policy.enabled,
                ingress_from: s.network_policy.allow_from.iter().map(peer).collect(),
                egress: EgressValues {
                    allow_all: s.network_policy.egress_to.is_none(),
                    allow_dns: true,
                    to: s
                        .network_policy
                        .egress_to
                        .iter()
                        .flatten()
                        .map(peer)
                        .collect(),
                },
            },
            service: ServiceValues {
                kind: "ClusterIP".into(),
                annotations: BTreeMap::new(),
            },
            ingress: IngressValues {
                enabled: !s.ingress.routes.is_empty(),
                class_name: s.ingress.class_name.clone(),
                annotations: s.ingress.annotations.clone(),
                port: s.ingress.port.clone().unwrap_or_default(),
                backend_protocol: protocol_name(s.ingress.protocol),
                keep_path_prefix: s.ingress.keep_path_prefix,
                sticky_session: StickySession {
                    enabled: s.ingress.sticky_session,
                    // Opta's cookie name, so clients keep their affinity across the migration.
                    cookie_name: "opta-cookie".into(),
                    max_age: s.ingress.sticky_max_age,
                },
                consistent_hash: s.ingress.consistent_hash.clone().unwrap_or_default(),
                routes: s
                    .ingress
                    .routes
                    .iter()
                    .map(|r| RouteValues {
                        host: r.host.clone().unwrap_or_default(),
                        path: r.path.clone(),
                    })
                    .collect(),
                tls: TlsValues::from(s.traffic.tls.as_ref()),
            },
            gateway: GatewayValues::from(s.traffic.gateway.as_ref()),
            persistence: Persistence {
                storage_class_name: String::new(),
                access_mode: "ReadWriteOnce".into(),
                volumes: s
                    .volumes
                    .iter()
                    .map(|v| VolumeValues {
                        name: v.name.clone(),
                        mount_path: v.path.clone(),
                        size: format!("{}Gi", v.size_gb),
                        storage_class_name: v.storage_class.clone().unwrap_or_default(),
                    })
                    .collect(),
            },
            cron_jobs: s
                .cron_jobs
                .iter()
                .map(|c| CronJobValues {
                    name: c.name.clone(),
                    schedule: c.schedule.clone(),
                    command: c.command.clone(),
                    args: c.args.clone(),
                    time_zone: c.time_zone.clone().unwrap_or_default(),
                    suspend: false,
                    concurrency_policy: c.concurrency_policy.clone(),
                    starting_deadline_seconds: 300,
                    active_deadline_seconds: None,
                    backoff_limit: 2,
                    successful_jobs_history_limit: 3,
                    failed_jobs_history_limit: 1,
                    ttl_seconds_after_finished: Some(86_400),
                })
                .collect(),
            env_refs: s.config.env_refs.iter().map(env_ref).collect(),
            env_from: s.config.env_from.iter().map(env_from).collect(),
            config_files: s
                .config
                .files
                .iter()
                .map(|f| ConfigFileValues {
                    key: f.key.clone(),
                    mount_path: f.path.clone(),
                    content: f.content.clone(),
                })
                .collect(),
            init_containers: s
                .config
                .init_containers
                .iter()
                .map(|c| extra_container(c, false))
                .collect(),
            sidecars: s
                .config
                .sidecars
                .iter()
                .map(|c| extra_container(c, true))
                .collect(),
        }
    }
}

// ---- Configuration beyond Opta: env from existing objects, config files, extra containers ----

/// One key of an existing Secret or ConfigMap; exactly one of `secret` and `configMap` is set.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvRefValues {
    pub name: String,
    pub secret: String,
    pub config_map: String,
    pub key: String,
    pub optional: bool,
}

/// Every key of an existing Secret or ConfigMap (`envFrom`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvFromValues {
    pub secret: String,
    pub config_map: String,
    pub prefix: String,
    pub optional: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigFileValues {
    pub key: String,
    pub mount_path: String,
    pub content: String,
}

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

fn source_names(s: &crate::model::env::Source) -> (String, String) {
    match s {
        crate::model::env::Source::Secret(n) => (n.clone(), String::new()),
        crate::model::env::Source::ConfigMap(n) => (String::new(), n.clone()),
    }
}

fn env_ref(r: &crate::model::env::EnvRef) -> EnvRefValues {
    let (secret, config_map) = source_names(&r.source);
    EnvRefValues {
        name: r.name.clone(),
        secret,
        config_map,
        key: r.key.clone(),
        optional: r.optional,
    }
}

fn env_from(r: &crate::model::env::EnvFrom) -> EnvFromValues {
    let (secret, config_map) = source_names(&r.source);
    EnvFromValues {
        secret,
        config_map,
        prefix: r.prefix.clone(),
        optional: r.optional,
    }
}

fn extra_container(
    c: &crate::model::extra_containers::ExtraContainer,
    sidecar: bool,
) -> ExtraContainerValues {
    ExtraContainerValues {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        command: c.command.clone(),
        args: c.args.clone(),
        resources: match &c.resources {
            None => json!({}),
            Some((req, lim)) => json!({
                "requests": {"cpu": req.cpu(), "memory": req.memory()},
                "limits": {"cpu": lim.cpu(), "memory": lim.memory()},
            }),
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
