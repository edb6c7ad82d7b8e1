//! The validated service: every Opta default applied, every rule checked, units normalised.
//! Nothing after this module needs to look at the raw spec or report a spec error.
//!
//! Each concern has a file of its own: its part of the model, the `Builder` methods that read and
//! check its spec fields, and its unit tests. This file holds the `Service` they make up, `build`,
//! and `Builder::service`, which reads the concerns in a fixed order: the order in which the
//! problems of one spec are reported. The concerns import `builder` (the `Builder` and its
//! reporting helpers) and each other's types, never this file, so the imports have no cycle.
//!
//! - `metadata`: the name, description, pod labels and annotations
//! - `container`: the image, command and args, CPU and memory
//! - `ports`: the ports and the probe port
//! - `probes`: liveness, readiness and startup probes, their timing; `grpc`: gRPC health checks
//! - `scaling`: replicas, the autoscaler's targets and speed; `keda`: `scale_on`, KEDA triggers
//! - `observe`: `metrics` (a ServiceMonitor or PodMonitor), `datadog_tags`, `opentelemetry`
//! - `right_sizing`: an opt-in VerticalPodAutoscaler that leaves the autoscaler's resources alone
//! - `availability`: the PodDisruptionBudget, graceful shutdown
//! - `placement`: tolerations, topology spread, node selector, affinity, priority class
//! - `ingress`: the `public_uri` routes and their Ingress settings
//! - `traffic`: TLS for the routes' hosts, Gateway API routes instead of Ingresses
//! - `storage`: persistent volumes, and what happens to their claims
//! - `scratch`: `/tmp`'s size, extra writable directories, the ephemeral-storage limit they need
//! - `jobs`: cron jobs, the release phase (`release_command`)
//! - `env`: env vars, secrets, variables from existing Secrets and ConfigMaps
//! - `config`: config files, and the `Config` that gathers what lies beyond Opta's fields
//! - `extra_containers`: init containers and sidecars
//! - `security`: the security context, the NetworkPolicy
//! - `identity`: workload identity, image pull Secrets, Opta's cloud-only fields
//! - `links`: Opta's links, as env vars read from one Secret per linked module
//! - `workload`: the pod settings beyond Opta, gathered from the concerns above
//! - `time_zone`: cron jobs' IANA time zone names
//! - `rules`: the syntax of names, keys, paths and schedules, shared by all; `units`: CPU, memory
//!   and sizes, and the unit mistakes they can hide
//! - `builder`: the `Builder` and its reporting helpers; `taken`: what the spec already claims,
//!   for the configuration concerns' collision checks

pub mod availability;
mod builder;
pub mod config;
pub mod container;
pub mod env;
pub mod extra_containers;
pub mod gateway;
pub mod grpc;
pub mod hpa_metrics;
pub mod identity;
pub mod ingress;
pub mod jobs;
pub mod keda;
pub mod links;
pub mod metadata;
pub mod observe;
pub mod placement;
pub mod ports;
pub mod probes;
pub mod right_sizing;
pub mod rules;
pub mod scaling;
pub mod scratch;
pub mod security;
pub mod storage;
mod taken;
pub mod time_zone;
pub mod traffic;
pub mod units;
pub mod workload;

use std::collections::BTreeMap;

use crate::diag::Error;
use crate::spec::LoadedService;
use crate::spec::raw::RawService;
use builder::Builder;

pub use availability::{IntOrPercent, Pdb};
pub use container::{Image, Overrides, Resources};
pub use ingress::{Ingress, Route};
pub use jobs::{CronJob, ReleaseJob};
pub use placement::Toleration;
pub use ports::{AppProtocol, Port, PortKind};
pub use probes::Probe;
pub use scratch::{Scratch, WritablePath};
pub use security::{NetworkPolicy, Peer, Profile, Security};
pub use storage::{Retention, Volume};

#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub description: Option<String>,
    pub image: Image,
    pub ports: Vec<Port>,
    pub probe_port: Option<String>,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub cpu_target: Option<u32>,
    pub memory_target: Option<u32>,
    /// `scale_on`: a KEDA ScaledObject instead of the HPA (keda.rs).
    pub keda: Option<keda::Keda>,
    pub env: Vec<(String, String)>,
    pub secret_keys: Vec<String>,
    pub secret_name: Option<String>,
    pub liveness: Probe,
    pub readiness: Probe,
    pub requests: Resources,
    pub limits: Resources,
    pub ingress: Ingress,
    pub tolerations: Vec<Toleration>,
    pub cron_jobs: Vec<CronJob>,
    /// `release_command`: a hook Job before every install and upgrade (jobs.rs).
    pub release: Option<ReleaseJob>,
    pub volumes: Vec<Volume>,
    /// What happens to the claims of `volumes` (storage.rs).
    pub claim_retention: Retention,
    pub pod_annotations: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub timeout_seconds: u32,
    pub max_history: u32,
    pub security: Security,
    /// `secrets` become files in this directory instead of environment variables.
    pub secrets_mount_path: Option<String>,
    /// `/tmp`'s size and the extra writable directories (scratch.rs).
    pub scratch: Scratch,
    pub pdb: Pdb,
    pub network_policy: NetworkPolicy,
    /// Startup probe, topology spread, HPA behaviour, shutdown and scheduling (workload.rs).
    pub workload: workload::Workload,
    /// TLS and Gateway API routes for `public_uri` (traffic.rs).
    pub traffic: traffic::Traffic,
    /// Workload identity and image pull Secrets (identity.rs).
    pub identity: identity::Identity,
    /// Env from existing Secrets/ConfigMaps, config files, init containers, sidecars (ours).
    pub config: config::Config,
    /// Opta's `links`: env vars from one user-made Secret per linked module (links.rs).
    pub links: Vec<links::Link>,
    /// A ServiceMonitor, Datadog's tags, OpenTelemetry injection (observe.rs).
    pub observe: observe::Observe,
    /// `right_sizing`: an opt-in VerticalPodAutoscaler (right_sizing.rs).
    pub right_sizing: Option<right_sizing::RightSizing>,
}

/// Build and validate; every problem found is reported, not only the first.
pub fn build(
    loaded: &LoadedService,
    overrides: &Overrides,
) -> Result<(Service, Vec<String>), Error> {
    let mut b = Builder {
        loaded,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let service = b.service(&loaded.raw, overrides);
    // Shared fields (healthcheck_path feeds both probes) can raise the same problem twice.
    let mut seen = std::collections::BTreeSet::new();
    b.errors
        .retain(|d| seen.insert((d.line, d.column, d.field.clone(), d.message.clone())));
    b.warnings.dedup();
    // What reading already reported (unknown fields, unresolved placeholders) comes first; the
    // fields left out because of it raise nothing more (a missing value, a bound it breaks).
    // A field of the service itself (`max_containers`) also silences the rules that name it
    // from another field ("min_containers (5) must be ... max_containers").
    let base = format!("{}.", loaded.base);
    let masked = |d: &crate::diag::Diagnostic| {
        loaded.masked.iter().any(|m| {
            let own = m.strip_prefix(base.as_str()).unwrap_or(m);
            let top_level = own.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            d.field.as_deref().is_some_and(|f| {
                f == m || f.starts_with(&format!("{m}.")) || f.starts_with(&format!("{m}["))
            }) || (top_level && d.message.contains(own))
        })
    };
    b.errors.retain(|d| !masked(d));
    let mut warnings = loaded.warnings.clone();
    warnings.extend(b.warnings);
    if b.errors.is_empty() && loaded.errors.is_empty() {
        Ok((service, warnings))
    } else {
        let mut errors = loaded.errors.clone();
        errors.extend(b.errors);
        Err(Error::Spec(errors))
    }
}

impl Builder<'_> {
    /// Every concern in turn. The order of the calls is the order in which the problems of one
    /// spec are reported (`build` keeps it), so it changes only on purpose.
    fn service(&mut self, raw: &RawService, ov: &Overrides) -> Service {
        let name = self.name(raw);
        let image = self.image(raw, ov);
        let ports = self.ports(raw);
        let probe_port = self.probe_port(raw, &ports);
        let (min_replicas, max_replicas) = self.replicas(raw);
        let (cpu_target, memory_target) =
            self.autoscaling_targets(raw, (min_replicas, max_replicas));
        let keda = self.keda(
            raw,
            (min_replicas, max_replicas),
            (cpu_target, memory_target),
        );
        let (env, secret_keys, secret_name) = self.env(raw);
        let mut liveness = self.probe(raw, "liveness", &ports, &probe_port);
        let mut readiness = self.probe(raw, "readiness", &ports, &probe_port);
        let workload = self.workload(
            raw,
            &ports,
            &probe_port,
            (&mut liveness, &mut readiness),
            (min_replicas, max_replicas),
        );
        let (requests, mut limits) = self.resources(raw);
        let ingress = self.ingress(raw, &ports, max_replicas);
        let tolerations = self.tolerations(raw);
        let cron_jobs = self.cron_jobs(raw);
        let volumes = self.volumes(raw);
        let claim_retention = self.retention(raw, &volumes, (min_replicas, max_replicas));
        let pod_annotations =
            self.annotations(&self.path("pod_annotations"), raw.pod_annotations.as_ref());
        let pod_labels = self.labels(raw);
        let observe = self.observe(raw, &ports, (&pod_labels, &pod_annotations));
        let (command, args) = self.command(raw);
        let timeout_seconds = self.num(&self.path("timeout"), &raw.timeout, 300, (1, 86_400));
        let max_history = self.num(&self.path("max_history"), &raw.max_history, 25, (0, 10_000));
        let release = self.release_job(raw, timeout_seconds);
        let security = self.security(raw);
        let secrets_mount_path = self.secrets_mount_path(raw, &secret_keys, &volumes);
        let scratch = self.scratch(raw, secrets_mount_path.as_deref(), &volumes);
        self.fit_ephemeral_storage(raw, &scratch, &mut limits);
        let pdb = self.pdb(raw, min_replicas, max_replicas);
        let network_policy = self.network_policy(raw);
        let traffic = self.traffic(raw, &ingress);
        let grpc_probed = [Some(&liveness), Some(&readiness), workload.startup.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|p| p.grpc.as_ref().map(|g| g.port));
        self.backend_tls_probes(
            traffic.gateway.as_ref(),
            &ingress,
            probe_port.as_deref(),
            grpc_probed,
        );
        let identity = self.identity(raw, &pod_labels);
        let config = self.config(
            raw,
            &taken::Taken {
                env_names: env
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .chain(secret_keys.iter().map(String::as_str))
                    .collect(),
                secrets_mount_path: secrets_mount_path.as_deref(),
                volumes: &volumes,
                writable_paths: &scratch.writable,
                ports: &ports,
                requests: &requests,
                limits: &limits,
                max_replicas,
            },
        );
        let links = self.links(
            raw,
            &env.iter()
                .map(|(n, _)| n.as_str())
                .chain(secret_keys.iter().map(String::as_str))
                .chain(config.env_refs.iter().map(|r| r.name.as_str()))
                .collect::<Vec<_>>(),
        );
        let right_sizing = self.right_sizing(
            raw,
            &right_sizing::autoscaled(
                keda.as_ref(),
                (min_replicas, max_replicas),
                (cpu_target, memory_target),
            ),
        );
        self.cloud_only(raw);
        if max_replicas == 0 && cron_jobs.is_empty() && release.is_none() {
            self.warnings.push(
                "max_containers is 0 and there are no cron_jobs: the chart will deploy nothing but a ServiceAccount".into(),
            );
        }
        let description = self.description(raw);
        Service {
            name,
            description,
            image,
            ports,
            probe_port,
            min_replicas,
            max_replicas,
            cpu_target,
            memory_target,
            keda,
            env,
            secret_keys,
            secret_name,
            liveness,
            readiness,
            requests,
            limits,
            ingress,
            tolerations,
            cron_jobs,
            release,
            volumes,
            claim_retention,
            pod_annotations,
            pod_labels,
            command,
            args,
            timeout_seconds,
            max_history,
            security,
            secrets_mount_path,
            scratch,
            pdb,
            network_policy,
            workload,
            traffic,
            identity,
            config,
            links,
            observe,
            right_sizing,
        }
    }
}

/// Helpers for the unit tests of every concern: build a spec, read its model or its problems.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Overrides, Service, build};
    use crate::diag::Error;
    use crate::spec::{LoadOptions, source::SpecSource};

    /// A valid service to extend: a test adds only the fields it is about.
    pub const BASE: &str = "name: svc\nimage: ghcr.io/acme/api\ntag: \"1\"\n";

    /// Load `text` (one service, `--var` values from `vars`) and build it.
    pub fn load(text: &str, vars: &[(&str, &str)]) -> Result<(Service, Vec<String>), Error> {
        let src = SpecSource::from_str("t.yaml", text).unwrap();
        let opts = LoadOptions {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        let (loaded, _) = crate::spec::load(src, &opts)?;
        build(&loaded[0], &Overrides::default())
    }

    /// The model and the warnings of `BASE` + `extra`; panics on any problem.
    pub fn model(extra: &str) -> (Service, Vec<String>) {
        match load(&format!("{BASE}{extra}"), &[]) {
            Ok(r) => r,
            Err(e) => panic!("{extra}: {}", e.render()),
        }
    }

    /// The problems of `BASE` + `extra` as (field, message), in the order they are reported;
    /// panics if the spec builds.
    pub fn problems(extra: &str) -> Vec<(String, String)> {
        problems_in(&format!("{BASE}{extra}"))
    }

    /// The problems of the whole spec `text`, as `problems` gives them.
    pub fn problems_in(text: &str) -> Vec<(String, String)> {
        match load(text, &[]) {
            Ok(_) => panic!("{text}: expected problems"),
            Err(Error::Spec(diags)) => diags
                .into_iter()
                .map(|d| (d.field.unwrap_or_default(), d.message))
                .collect(),
            Err(e) => panic!("{text}: {}", e.render()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{model, problems, problems_in};

    #[test]
    fn problems_of_several_concerns_come_in_the_order_they_are_read() {
        let got = problems_in(
            "description: \" \"\nmin_containers: 5\nmax_containers: 2\nport: {http: 0}\nname: Bad\nimage: r/i:1\n",
        );
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["name", "port.http", "min_containers", "description"],
            "{got:?}"
        );
    }

    #[test]
    fn a_problem_raised_twice_by_shared_fields_is_reported_once() {
        let got = problems("healthcheck_path: /h\n");
        assert_eq!(
            got,
            [(
                "healthcheck_path".to_string(),
                "an HTTP probe needs a port: add `port` or `ports`".to_string()
            )]
        );
    }

    #[test]
    fn a_service_without_pods_or_jobs_is_built_with_a_warning() {
        let (s, warnings) = model("min_containers: 0\nmax_containers: 0\n");
        assert_eq!((s.min_replicas, s.max_replicas), (0, 0));
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("max_containers is 0 and there are no cron_jobs")),
            "{warnings:?}"
        );
    }
}
