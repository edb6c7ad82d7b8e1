//! The validated service: every Opta default applied, every rule checked, units normalised.
//! Nothing after this module needs to look at the raw spec or report a spec error.

pub mod config;
pub mod identity;
pub mod rules;
pub mod traffic;
pub mod workload;

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Error, FieldPath, printable};
use crate::spec::LoadedService;
use crate::spec::raw::{Lenient, LenientTarget, RawService};
use crate::spec::source::suggest;

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
    pub volumes: Vec<Volume>,
    pub pod_annotations: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub timeout_seconds: u32,
    pub max_history: u32,
    pub security: Security,
    /// `secrets` become files in this directory instead of environment variables.
    pub secrets_mount_path: Option<String>,
    pub pdb: Pdb,
    pub network_policy: NetworkPolicy,
    /// Startup probe, topology spread, HPA behaviour, shutdown and scheduling (model/workload.rs).
    pub workload: workload::Workload,
    /// TLS and Gateway API routes for `public_uri` (traffic.rs).
    pub traffic: traffic::Traffic,
    /// Workload identity and image pull Secrets (identity.rs).
    pub identity: identity::Identity,
    /// Env from existing Secrets/ConfigMaps, config files, init containers, sidecars (ours).
    pub config: config::Config,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// `None` for Opta's `AUTO`: the repository is given at install time.
    pub repository: Option<String>,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Port {
    pub name: String,
    pub container_port: u32,
    pub service_port: u32,
    pub kind: PortKind,
    pub protocol: Option<AppProtocol>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PortKind {
    Http,
    Tcp,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AppProtocol {
    Grpc,
    Websocket,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Probe {
    pub path: Option<String>,
    pub command: Vec<String>,
    pub initial_delay: u32,
    pub timing: workload::ProbeTiming,
    /// Set when neither a path nor a command is given and grpc_health_check asks for it.
    pub grpc: Option<workload::GrpcCheck>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    pub cpu_millis: u64,
    pub memory: (u64, &'static str),
}

impl Resources {
    pub fn cpu(&self) -> String {
        format!("{}m", self.cpu_millis)
    }
    pub fn memory(&self) -> String {
        format!("{}{}", self.memory.0, self.memory.1)
    }
    fn memory_bytes(&self) -> u64 {
        self.memory
            .0
            .saturating_mul(rules::unit_bytes(self.memory.1))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Ingress {
    pub routes: Vec<Route>,
    pub class_name: String,
    pub keep_path_prefix: bool,
    pub sticky_session: bool,
    pub sticky_max_age: u32,
    pub consistent_hash: Option<String>,
    pub annotations: BTreeMap<String, String>,
    /// The http port's name and protocol, when there is an http port.
    pub port: Option<String>,
    pub protocol: Option<AppProtocol>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// `None`: any host.
    pub host: Option<String>,
    pub path: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Toleration {
    pub key: Option<String>,
    pub operator: String,
    pub value: Option<String>,
    /// `None`: every effect.
    pub effect: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CronJob {
    pub name: String,
    pub schedule: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub time_zone: Option<String>,
    pub concurrency_policy: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    pub name: String,
    pub path: String,
    pub size_gb: u32,
    pub storage_class: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Security {
    pub run_as_user: u32,
    pub run_as_group: u32,
    pub fs_group: u32,
    pub run_as_non_root: bool,
    pub read_only_root_filesystem: bool,
    pub allow_privilege_escalation: bool,
    pub add_capabilities: Vec<String>,
}

/// A PodDisruptionBudget bound: a number of pods or a percentage of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IntOrPercent {
    Int(u32),
    Percent(u32),
}

impl IntOrPercent {
    /// Pods it stands for out of `n`, rounded up as the disruption controller does.
    pub fn of(self, n: u32) -> u32 {
        match self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => (u64::from(p) * u64::from(n)).div_ceil(100) as u32,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pdb {
    pub enabled: bool,
    pub max_unavailable: IntOrPercent,
    /// When set, used instead of `max_unavailable`.
    pub min_available: Option<IntOrPercent>,
}

/// Who may talk to the pods, or whom they may reach.
#[derive(Clone, Debug, PartialEq)]
pub enum Peer {
    /// Every pod of a namespace (by its `kubernetes.io/metadata.name` label).
    Namespace(String),
    /// An IP block in canonical form (`10.0.0.0/8`).
    Cidr(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkPolicy {
    pub enabled: bool,
    /// Empty: any source.
    pub allow_from: Vec<Peer>,
    /// `None`: any destination; otherwise these (and DNS, and the release's own pods).
    pub egress_to: Option<Vec<Peer>>,
}

/// Where a value came from: a spec field or a command-line flag.
#[derive(Clone, Copy)]
enum Origin {
    Field(&'static str),
    Flag(&'static str),
}

/// Values given on the command line that win over the spec.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub tag: Option<String>,
    pub digest: Option<String>,
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
    if b.errors.is_empty() {
        Ok((service, b.warnings))
    } else {
        Err(Error::Spec(b.errors))
    }
}

struct Builder<'a> {
    loaded: &'a LoadedService,
    errors: Vec<Diagnostic>,
    warnings: Vec<String>,
}

const VALID_LEGACY_PORT_KEYS: &[&str] = &["http", "tcp", "grpc", "websocket"];

impl Builder<'_> {
    fn path(&self, field: &str) -> FieldPath {
        self.loaded.base.key(field)
    }

    fn err(&self, path: &FieldPath, msg: impl Into<String>) -> Diagnostic {
        self.loaded.source.diag(path, msg)
    }

    fn fail(&mut self, path: &FieldPath, msg: impl Into<String>) {
        let d = self.err(path, msg);
        self.errors.push(d);
    }

    fn fail_help(&mut self, path: &FieldPath, msg: impl Into<String>, help: impl Into<String>) {
        let d = self.err(path, msg).with_help(help);
        self.errors.push(d);
    }

    fn check(&mut self, path: &FieldPath, result: Result<(), String>) -> bool {
        match result {
            Ok(()) => true,
            Err(e) => {
                self.fail(path, e);
                false
            }
        }
    }

    /// Read a lenient number or flag, with a default and an inclusive range.
    fn num<T>(&mut self, path: &FieldPath, v: &Option<Lenient<T>>, default: T, range: (T, T)) -> T
    where
        T: LenientTarget + Copy + PartialOrd + std::fmt::Display,
    {
        let value = match v {
            None => return default,
            Some(Lenient::Value(x)) => *x,
            Some(Lenient::Text(t)) => match T::parse(t) {
                Some(x) => x,
                None => {
                    self.fail(
                        path,
                        format!("expected {}, found `{}`", T::EXPECTING, printable(t)),
                    );
                    return default;
                }
            },
        };
        if value < range.0 || value > range.1 {
            self.fail(
                path,
                format!(
                    "must be between {} and {} (found {value})",
                    range.0, range.1
                ),
            );
            return default;
        }
        value
    }

    fn flag(&mut self, path: &FieldPath, v: &Option<Lenient<bool>>, default: bool) -> bool {
        self.num(path, v, default, (false, true))
    }

    fn service(&mut self, raw: &RawService, ov: &Overrides) -> Service {
        let name = self.name(raw);
        let image = self.image(raw, ov);
        let ports = self.ports(raw);
        let probe_port = self.probe_port(raw, &ports);
        let (min_replicas, max_replicas) = self.replicas(raw);
        let cpu_target = self.num(
            &self.path("autoscaling_target_cpu_percentage"),
            &raw.autoscaling_target_cpu_percentage,
            80,
            (0, 100),
        );
        let memory_target = self.num(
            &self.path("autoscaling_target_mem_percentage"),
            &raw.autoscaling_target_mem_percentage,
            80,
            (0, 100),
        );
        if min_replicas < max_replicas && cpu_target == 0 && memory_target == 0 {
            self.fail(
                &self.path("autoscaling_target_cpu_percentage"),
                "autoscaling needs a CPU or a memory target above 0",
            );
        }
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
        let (requests, limits) = self.resources(raw);
        let ingress = self.ingress(raw, &ports, max_replicas);
        let tolerations = self.tolerations(raw);
        let cron_jobs = self.cron_jobs(raw);
        let volumes = self.volumes(raw);
        let pod_annotations =
            self.annotations(&self.path("pod_annotations"), raw.pod_annotations.as_ref());
        let pod_labels = self.labels(raw);
        let command = raw.commands.clone().unwrap_or_default();
        if command.first().is_some_and(|c| c.trim().is_empty()) {
            self.fail(
                &self.path("commands").index(0),
                "the command must start with a program",
            );
        }
        let args = raw.args.clone().unwrap_or_default();
        let timeout_seconds = self.num(&self.path("timeout"), &raw.timeout, 300, (1, 86_400));
        let max_history = self.num(&self.path("max_history"), &raw.max_history, 25, (0, 10_000));
        let security = self.security(raw);
        let secrets_mount_path = self.secrets_mount_path(raw, &secret_keys, &volumes);
        let pdb = self.pdb(raw, min_replicas, max_replicas);
        let network_policy = self.network_policy(raw);
        let traffic = self.traffic(raw, &name, &ingress);
        let identity = self.identity(raw, &pod_labels);
        let config = self.config(
            raw,
            &config::Taken {
                env_names: env
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .chain(secret_keys.iter().map(String::as_str))
                    .collect(),
                secrets_mount_path: secrets_mount_path.as_deref(),
                volumes: &volumes,
                ports: &ports,
                requests: &requests,
                max_replicas,
            },
        );
        self.cloud_only(raw);
        if max_replicas == 0 && cron_jobs.is_empty() {
            self.warnings.push(
                "max_containers is 0 and there are no cron_jobs: the chart will deploy nothing but a ServiceAccount".into(),
            );
        }
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
        Service {
            name,
            description,
            image,
            ports,
            probe_port,
            min_replicas,
            max_replicas,
            cpu_target: (cpu_target > 0).then_some(cpu_target),
            memory_target: (memory_target > 0).then_some(memory_target),
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
            volumes,
            pod_annotations,
            pod_labels,
            command,
            args,
            timeout_seconds,
            max_history,
            security,
            secrets_mount_path,
            pdb,
            network_policy,
            workload,
            traffic,
            identity,
            config,
        }
    }

    fn name(&mut self, raw: &RawService) -> String {
        let path = self.path("name");
        let Some(name) = raw.name.clone() else {
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
                "module `{name}` becomes the chart `{lower}` (Kubernetes names are lowercase)"
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

    fn image(&mut self, raw: &RawService, ov: &Overrides) -> Image {
        let path = self.path("image");
        let Some(image) = raw.image.as_deref() else {
            self.fail_help(
                &path,
                "missing field `image`",
                "set `image: REPOSITORY` (e.g. `ghcr.io/acme/api`), or `image: AUTO` to give it at install time",
            );
            return Image {
                repository: None,
                tag: None,
                digest: None,
            };
        };
        let image = image.trim();
        // Where each part came from, so a bad one is blamed on the field or flag that gave it.
        let (mut repository, mut tag, mut digest) = (None, None, None);
        if !image.eq_ignore_ascii_case("AUTO") {
            let (rest, d) = match image.split_once('@') {
                Some((r, d)) => (r, Some((d.to_string(), Origin::Field("image")))),
                None => (image, None),
            };
            let (repo, t) = match rest.rfind(':') {
                Some(i) if !rest[i..].contains('/') => (
                    &rest[..i],
                    Some((rest[i + 1..].to_string(), Origin::Field("image"))),
                ),
                _ => (rest, None),
            };
            if let Err(e) = rules::image_repository(repo) {
                self.fail(
                    &path,
                    format!("`{}` is not a valid image: {e}", printable(image)),
                );
            }
            repository = Some(repo.to_string());
            tag = t;
            digest = d;
        }
        for (field, inline, given) in [
            ("tag", &mut tag, &raw.tag),
            ("digest", &mut digest, &raw.digest),
        ] {
            if let Some(g) = given {
                if inline.is_some() {
                    self.fail(
                        &self.path(field),
                        format!("the image already carries a {field}; give it in one place only"),
                    );
                }
                *inline = Some((g.trim().to_string(), Origin::Field(field)));
            }
        }
        if let Some(t) = &ov.tag {
            tag = Some((t.clone(), Origin::Flag("--tag")));
        }
        if let Some(d) = &ov.digest {
            digest = Some((d.clone(), Origin::Flag("--digest")));
        }
        for (what, part, check) in [
            (
                "tag",
                &tag,
                rules::image_tag as fn(&str) -> Result<(), String>,
            ),
            ("digest", &digest, rules::image_digest),
        ] {
            if let Some((value, origin)) = part
                && let Err(e) = check(value)
            {
                let msg = format!("`{}` is not a valid image {what}: it {e}", printable(value));
                match origin {
                    Origin::Field(f) => self.fail(&self.path(f), msg),
                    Origin::Flag(flag) => self.errors.push(Diagnostic::new(
                        &self.loaded.source.display,
                        format!("{flag}: {msg}"),
                    )),
                }
            }
        }
        if repository.is_some() && tag.is_none() && digest.is_none() {
            self.warnings.push("the image has no tag or digest, so every pod pulls whatever `latest` is at that moment; set `tag` or `digest`".into());
        }
        Image {
            repository,
            tag: tag.map(|t| t.0),
            digest: digest.map(|d| d.0),
        }
    }

    fn ports(&mut self, raw: &RawService) -> Vec<Port> {
        let mut ports = Vec::new();
        match (&raw.port, &raw.ports) {
            (Some(_), Some(_)) => {
                self.fail(
                    &self.path("ports"),
                    "cannot specify both `port` and `ports`",
                );
                return ports;
            }
            (Some(legacy), None) => {
                let path = self.path("port");
                if legacy.len() != 1 {
                    self.fail_help(
                        &path,
                        "`port` takes exactly one of http, tcp, grpc or websocket",
                        "for several ports use `ports:`",
                    );
                    return ports;
                }
                let Some((key, value)) = legacy.iter().next() else {
                    return ports;
                };
                let kpath = path.key(key);
                // Opta's legacy mapping, quirks included: a legacy `tcp` port is http + websocket.
                let protocol = match key.as_str() {
                    "http" => None,
                    "grpc" => Some(AppProtocol::Grpc),
                    "websocket" | "tcp" => Some(AppProtocol::Websocket),
                    other => {
                        let hint = suggest(other, VALID_LEGACY_PORT_KEYS).unwrap_or_default();
                        self.fail_help(
                            &kpath,
                            format!("unknown port type `{}`", printable(other)),
                            format!("{hint} expected one of: http, tcp, grpc, websocket")
                                .trim()
                                .to_string(),
                        );
                        return ports;
                    }
                };
                let number = self.num(&kpath, &Some(value.clone()), 80, (1, 65535));
                ports.push(Port {
                    name: "main".into(),
                    container_port: number,
                    service_port: 80,
                    kind: PortKind::Http,
                    protocol,
                });
            }
            (None, Some(list)) => {
                for (i, p) in list.iter().enumerate() {
                    let path = self.path("ports").index(i);
                    self.check(
                        &path.key("name"),
                        rules::port_name(&p.name)
                            .map_err(|e| format!("port name `{}` {e}", printable(&p.name))),
                    );
                    let kind = match p.port_type.as_str() {
                        "http" => PortKind::Http,
                        "tcp" => PortKind::Tcp,
                        other => {
                            self.fail_help(
                                &path.key("type"),
                                format!("unknown port type `{}`", printable(other)),
                                "expected http or tcp",
                            );
                            continue;
                        }
                    };
                    let protocol = match p.protocol.as_deref() {
                        None => None,
                        Some("grpc") => Some(AppProtocol::Grpc),
                        Some("websocket") => Some(AppProtocol::Websocket),
                        Some(other) => {
                            self.fail_help(
                                &path.key("protocol"),
                                format!("unknown protocol `{}`", printable(other)),
                                "expected grpc or websocket",
                            );
                            None
                        }
                    };
                    if kind == PortKind::Tcp && protocol.is_some() {
                        self.fail(&path.key("protocol"), "a tcp port cannot have a protocol; grpc and websocket are for http ports");
                    }
                    if p.port.is_none() {
                        self.fail(&path, "missing field `port` (the container port number)");
                    }
                    let number = self.num(&path.key("port"), &p.port, 1, (1, 65535));
                    let default_service = if kind == PortKind::Http { 80 } else { number };
                    let service_port = self.num(
                        &path.key("service_port"),
                        &p.service_port,
                        default_service,
                        (1, 65535),
                    );
                    ports.push(Port {
                        name: p.name.clone(),
                        container_port: number,
                        service_port,
                        kind,
                        protocol,
                    });
                }
                if ports.iter().filter(|p| p.kind == PortKind::Http).count() > 1 {
                    self.fail(
                        &self.path("ports"),
                        "multiple `type: http` ports are not supported; make the others tcp",
                    );
                }
                for (what, key) in [("name", 0), ("port number", 1), ("service port number", 2)] {
                    let mut seen = std::collections::BTreeSet::new();
                    for (i, p) in ports.iter().enumerate() {
                        let v = match key {
                            0 => p.name.clone(),
                            1 => p.container_port.to_string(),
                            _ => p.service_port.to_string(),
                        };
                        if !seen.insert(v.clone()) {
                            self.fail(
                                &self.path("ports").index(i),
                                format!("duplicate {what} `{v}`"),
                            );
                        }
                    }
                }
            }
            (None, None) => {}
        }
        ports
    }

    fn probe_port(&mut self, raw: &RawService, ports: &[Port]) -> Option<String> {
        match &raw.probe_port {
            Some(name) => {
                if !ports.iter().any(|p| &p.name == name) {
                    let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
                    let hint = suggest(name, &names).unwrap_or_default();
                    self.fail_help(
                        &self.path("probe_port"),
                        format!("`{}` is not the name of a port", printable(name)),
                        format!("{hint} ports: {}", names.join(", "))
                            .trim()
                            .to_string(),
                    );
                }
                Some(name.clone())
            }
            None => ports.first().map(|p| p.name.clone()),
        }
    }

    fn replicas(&mut self, raw: &RawService) -> (u32, u32) {
        let min = self.num(
            &self.path("min_containers"),
            &raw.min_containers,
            1,
            (0, 10_000),
        );
        let max = self.num(
            &self.path("max_containers"),
            &raw.max_containers,
            3,
            (0, 10_000),
        );
        if min > max {
            self.fail(
                &self.path("min_containers"),
                format!(
                    "min_containers ({min}) must be less than or equal to max_containers ({max})"
                ),
            );
        } else if min == 0 && max != 0 {
            self.fail_help(
                &self.path("min_containers"),
                "min_containers can only be 0 if max_containers is 0",
                "max_containers: 0 makes a cron-only service with no pods",
            );
        }
        (min, max)
    }

    fn env(&mut self, raw: &RawService) -> (Vec<(String, String)>, Vec<String>, Option<String>) {
        let mut seen = std::collections::BTreeSet::new();
        let env = raw.env_vars.clone().map(|e| e.0).unwrap_or_default();
        for (i, (name, _)) in env.iter().enumerate() {
            let path = self.path("env_vars").index(i);
            if let Err(e) = rules::env_name(name) {
                self.fail(&path, format!("env var name `{}` {e}", printable(name)));
            } else if !seen.insert(name.clone()) {
                self.fail(&path, format!("env var `{name}` is given twice"));
            }
        }
        let secrets = raw.secrets.clone().unwrap_or_default();
        for (i, name) in secrets.iter().enumerate() {
            let path = self.path("secrets").index(i);
            if let Err(e) = rules::env_name(name) {
                self.fail(&path, format!("secret `{}` {e}", printable(name)));
            } else if !seen.insert(name.clone()) {
                self.fail(
                    &path,
                    format!("`{name}` is both an env var and a secret, or listed twice"),
                );
            }
        }
        if let Some(name) = &raw.secret_name {
            let r = rules::dns_subdomain(name)
                .map_err(|e| format!("secret_name `{}`: {e}", printable(name)));
            self.check(&self.path("secret_name"), r);
        }
        (env, secrets, raw.secret_name.clone())
    }

    fn probe(
        &mut self,
        raw: &RawService,
        kind: &str,
        ports: &[Port],
        probe_port: &Option<String>,
    ) -> Probe {
        let (specific_path, specific_cmd, delay) = if kind == "liveness" {
            (
                &raw.liveness_probe_path,
                &raw.liveness_probe_command,
                &raw.initial_liveness_delay,
            )
        } else {
            (
                &raw.readiness_probe_path,
                &raw.readiness_probe_command,
                &raw.initial_readiness_delay,
            )
        };
        let path_field = format!("{kind}_probe_path");
        let cmd_field = format!("{kind}_probe_command");
        // Opta: the specific field wins over healthcheck_*; a path and a command may not meet.
        let path_given = [
            ("healthcheck_path", &raw.healthcheck_path),
            (path_field.as_str(), specific_path),
        ]
        .into_iter()
        .find(|(_, v)| v.is_some())
        .map(|(f, _)| f);
        let cmd_given = [
            ("healthcheck_command", &raw.healthcheck_command),
            (cmd_field.as_str(), specific_cmd),
        ]
        .into_iter()
        .find(|(_, v)| v.is_some())
        .map(|(f, _)| f);
        // healthcheck_path + healthcheck_command breaks both probes: say it once.
        let shared =
            path_given == Some("healthcheck_path") && cmd_given == Some("healthcheck_command");
        if let (Some(pf), Some(cf), false) = (path_given, cmd_given, shared && kind == "readiness")
        {
            let what = if shared {
                "probes".to_string()
            } else {
                format!("{kind} probe")
            };
            self.fail_help(
                &self.path(cf),
                format!("invalid {what}: `{pf}` and `{cf}` are both set"),
                "a probe is either an HTTP GET of a path or a command, not both",
            );
        }
        let (path_from, path) = match specific_path {
            Some(p) => (path_field.clone(), Some(p.clone())),
            None => ("healthcheck_path".to_string(), raw.healthcheck_path.clone()),
        };
        let (cmd_from, command) = match specific_cmd.as_ref().filter(|c| !c.is_empty()) {
            Some(c) => (cmd_field.clone(), c.clone()),
            None => (
                "healthcheck_command".to_string(),
                raw.healthcheck_command.clone().unwrap_or_default(),
            ),
        };
        let mut path = path;
        if let Some(p) = path.clone() {
            let r = rules::probe_path(&p).map_err(|e| format!("probe path {e}"));
            self.check(&self.path(&path_from), r);
            match probe_port
                .as_ref()
                .and_then(|n| ports.iter().find(|x| &x.name == n))
            {
                None => self.fail(
                    &self.path(&path_from),
                    "an HTTP probe needs a port: add `port` or `ports`",
                ),
                Some(port) if port.kind == PortKind::Tcp => {
                    // Opta: a path probe on a tcp port is a TCP check.
                    self.warnings.push(format!(
                        "the probe port `{}` is a tcp port, so the {kind} probe is a TCP check and `{path_from}` is not used (as in Opta)",
                        port.name
                    ));
                    path = None;
                }
                Some(_) => {}
            }
        }
        if !command.is_empty() && command[0].trim().is_empty() {
            self.fail(
                &self.path(&cmd_from),
                "the probe command must start with a program",
            );
        }
        let initial_delay = self.num(
            &self.path(&format!("initial_{kind}_delay")),
            delay,
            30,
            (0, 3600),
        );
        Probe {
            path,
            command,
            initial_delay,
            ..Probe::default()
        }
    }

    fn resources(&mut self, raw: &RawService) -> (Resources, Resources) {
        let req_path = self.path("resource_request");
        let lim_path = self.path("resource_limits");
        let mut cpu = 100;
        let mut mem = (128, "Mi");
        if let Some(r) = &raw.resource_request {
            match &r.cpu {
                Some(q) => match rules::cpu_millis(q) {
                    Ok(v) => cpu = v,
                    Err(e) => self.fail(&req_path.key("cpu"), e),
                },
                None => self.fail(&req_path, "missing field `cpu` (millicores, e.g. 100)"),
            }
            match &r.memory {
                Some(q) => match rules::memory(q) {
                    Ok(v) => mem = v,
                    Err(e) => self.fail(&req_path.key("memory"), e),
                },
                None => self.fail(&req_path, "missing field `memory` (megabytes, e.g. 128)"),
            }
        }
        let requests = Resources {
            cpu_millis: cpu,
            memory: mem,
        };
        // Limits are twice the requests unless the spec says otherwise, for CPU and memory both.
        let mut limits = Resources {
            cpu_millis: cpu.saturating_mul(2),
            memory: (mem.0.saturating_mul(2), mem.1),
        };
        if let Some(l) = &raw.resource_limits {
            if let Some(q) = &l.cpu {
                match rules::cpu_millis(q) {
                    Ok(v) => limits.cpu_millis = v,
                    Err(e) => self.fail(&lim_path.key("cpu"), e),
                }
            }
            if let Some(q) = &l.memory {
                match rules::memory(q) {
                    Ok(v) => limits.memory = v,
                    Err(e) => self.fail(&lim_path.key("memory"), e),
                }
            }
        }
        if limits.cpu_millis < requests.cpu_millis {
            self.fail(
                &lim_path.key("cpu"),
                format!(
                    "the CPU limit ({}) is below the request ({})",
                    limits.cpu(),
                    requests.cpu()
                ),
            );
        }
        if limits.memory_bytes() < requests.memory_bytes() {
            self.fail(
                &lim_path.key("memory"),
                format!(
                    "the memory limit ({}) is below the request ({})",
                    limits.memory(),
                    requests.memory()
                ),
            );
        }
        (requests, limits)
    }

    fn ingress(&mut self, raw: &RawService, ports: &[Port], max_replicas: u32) -> Ingress {
        let http = ports.iter().find(|p| p.kind == PortKind::Http);
        let uris = raw
            .public_uri
            .clone()
            .map(|u| u.into_vec())
            .unwrap_or_default();
        let multi = matches!(raw.public_uri, Some(crate::spec::raw::OneOrMany::Many(_)));
        let mut routes: Vec<Route> = Vec::new();
        for (i, uri) in uris.iter().enumerate() {
            let path = if multi {
                self.path("public_uri").index(i)
            } else {
                self.path("public_uri")
            };
            let Some(route) = self.route(&path, uri) else {
                continue;
            };
            if routes.contains(&route) {
                self.fail(&path, format!("`{}` is listed twice", printable(uri)));
                continue;
            }
            routes.push(route);
        }
        if !routes.is_empty() && http.is_none() {
            self.fail_help(
                &self.path("public_uri"),
                "public_uri needs an http port to route to",
                "add `port: {http: 8080}` or a `ports` entry with `type: http`",
            );
        }
        if !routes.is_empty() && max_replicas == 0 {
            self.fail(
                &self.path("public_uri"),
                "public_uri needs running containers, but max_containers is 0",
            );
        }
        let class_name = raw.ingress_class.clone().unwrap_or_else(|| "nginx".into());
        let r = rules::dns_subdomain(&class_name)
            .map_err(|e| format!("ingress class `{}`: {e}", printable(&class_name)));
        self.check(&self.path("ingress_class"), r);
        let consistent_hash = raw.consistent_hash.clone();
        if let Some(h) = &consistent_hash
            && (h.trim().is_empty() || h.chars().any(|c| c.is_control()))
        {
            self.fail(
                &self.path("consistent_hash"),
                "must be an nginx variable such as `$request_uri`, without control characters",
            );
        }
        let annotations = self.annotations(
            &self.path("ingress_extra_annotations"),
            raw.ingress_extra_annotations.as_ref(),
        );
        for key in annotations.keys().filter(|k| k.ends_with("-snippet")) {
            self.warnings.push(format!("ingress annotation `{key}`: current ingress-nginx refuses snippet annotations unless the controller allows them"));
        }
        Ingress {
            routes,
            class_name,
            keep_path_prefix: self.flag(
                &self.path("keep_path_prefix"),
                &raw.keep_path_prefix,
                false,
            ),
            sticky_session: self.flag(&self.path("sticky_session"), &raw.sticky_session, false),
            sticky_max_age: self.num(
                &self.path("sticky_session_max_age"),
                &raw.sticky_session_max_age,
                86_400,
                (1, 31_536_000),
            ),
            consistent_hash,
            annotations,
            port: http.map(|p| p.name.clone()),
            protocol: http.and_then(|p| p.protocol),
        }
    }

    /// `domain/path`; a leading `/` (or Opta's `*` / `all`) means any host.
    fn route(&mut self, path: &FieldPath, uri: &str) -> Option<Route> {
        let uri = uri.trim();
        if uri.is_empty() {
            self.fail_help(
                path,
                "a public_uri must not be empty",
                "write `domain/path`, or `/path` for any host",
            );
            return None;
        }
        if uri.contains("://") {
            self.fail_help(
                path,
                format!("`{}` has a scheme", printable(uri)),
                "write public_uri as `domain/path`, e.g. `api.example.com/v1`",
            );
            return None;
        }
        let (host, rest) = if let Some(r) = uri.strip_prefix('/') {
            ("", format!("/{r}"))
        } else if uri == "*" || uri.starts_with("*/") {
            ("", uri[1..].to_string())
        } else {
            match uri.split_once('/') {
                Some((h, r)) => (h, format!("/{r}")),
                None => (uri, "/".to_string()),
            }
        };
        let host = host.to_ascii_lowercase();
        let host = if host.is_empty() || host == "all" {
            None
        } else {
            Some(host)
        };
        if let Some(h) = &host
            && let Err(e) = rules::ingress_host(h)
        {
            self.fail(path, format!("`{}` is not a valid host: {e}", printable(h)));
            return None;
        }
        let mut p = if rest.is_empty() {
            "/".to_string()
        } else {
            rest
        };
        while p.len() > 1 && p.ends_with('/') {
            p.pop();
        }
        if let Err(e) = rules::url_path(&p) {
            self.fail(path, format!("path `{}` {e}", printable(&p)));
            return None;
        }
        Some(Route { host, path: p })
    }

    fn annotations(
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

    fn labels(&mut self, raw: &RawService) -> BTreeMap<String, String> {
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

    fn tolerations(&mut self, raw: &RawService) -> Vec<Toleration> {
        let mut out = Vec::new();
        for (i, t) in raw.tolerations.iter().flatten().enumerate() {
            let path = self.path("tolerations").index(i);
            // Opta's bare form, `{key: x}`, gets Opta's defaults, value `opta` and effect
            // `NoSchedule` (the taints of Opta's node groups). As soon as a value, an effect or an
            // operator is written, the toleration is taken as Kubernetes reads it: nothing is
            // filled in (`{key: x, effect: NoExecute}` is `x` with an empty value, that effect).
            let opta_form = t.operator.is_none() && t.value.is_none() && t.effect.is_none();
            let operator = t.operator.clone().unwrap_or_else(|| "Equal".into());
            if !["Equal", "Exists"].contains(&operator.as_str()) {
                self.fail_help(
                    &path.key("operator"),
                    format!("unknown operator `{}`", printable(&operator)),
                    "expected Equal or Exists",
                );
            }
            match &t.key {
                Some(k) => {
                    if let Err(e) = rules::qualified_name(k) {
                        self.fail(
                            &path.key("key"),
                            format!("toleration key `{}`: {e}", printable(k)),
                        );
                    }
                }
                None if operator == "Exists" => {}
                None => self.fail(&path, "missing field `key`"),
            }
            let value = if operator == "Exists" {
                if t.value.is_some() {
                    self.fail(
                        &path.key("value"),
                        "a toleration with operator Exists takes no value",
                    );
                }
                None
            } else {
                let v = t.value.clone().or_else(|| opta_form.then(|| "opta".into()));
                if let Some(v) = &v
                    && let Err(e) = rules::label_value(v)
                {
                    self.fail(
                        &path.key("value"),
                        format!("toleration value `{}` {e}", printable(v)),
                    );
                }
                v
            };
            let effect = t
                .effect
                .clone()
                .or_else(|| opta_form.then(|| "NoSchedule".into()));
            if let Some(effect) = &effect
                && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect.as_str())
            {
                let hint = suggest(effect, &["NoSchedule", "PreferNoSchedule", "NoExecute"])
                    .unwrap_or_default();
                self.fail_help(
                    &path.key("effect"),
                    format!("unknown effect `{}`", printable(effect)),
                    format!("{hint} expected NoSchedule, PreferNoSchedule or NoExecute")
                        .trim()
                        .to_string(),
                );
            }
            out.push(Toleration {
                key: t.key.clone(),
                operator,
                value,
                effect,
            });
        }
        out
    }

    fn cron_jobs(&mut self, raw: &RawService) -> Vec<CronJob> {
        let mut out: Vec<CronJob> = Vec::new();
        for (i, c) in raw.cron_jobs.iter().flatten().enumerate() {
            let path = self.path("cron_jobs").index(i);
            let name = c.name.clone().unwrap_or_else(|| i.to_string());
            if let Err(e) = rules::dns_label(&name, 20) {
                self.fail(
                    &path.key("name"),
                    format!("cron job name `{}` {e}", printable(&name)),
                );
            } else if out.iter().any(|o| o.name == name) {
                self.fail(
                    &path.key("name"),
                    format!("two cron jobs are named `{name}`"),
                );
            }
            let command = c.commands.clone().unwrap_or_default();
            if command.is_empty() || command[0].trim().is_empty() {
                self.fail_help(
                    &path.key("commands"),
                    "a cron job needs `commands` (the program to run and its arguments)",
                    "e.g. commands: [\"/app/report\", \"--daily\"]",
                );
            }
            let schedule = match &c.schedule {
                Some(s) => {
                    if let Err(e) = rules::cron_schedule(s) {
                        self.fail(
                            &path.key("schedule"),
                            format!("invalid schedule `{}`: {e}", printable(s)),
                        );
                    }
                    s.trim().to_string()
                }
                None => {
                    self.fail_help(
                        &path,
                        "missing field `schedule`",
                        "e.g. schedule: \"*/15 * * * *\"",
                    );
                    String::new()
                }
            };
            if let Some(tz) = &c.time_zone {
                let ok = !tz.is_empty()
                    && tz.len() <= 64
                    && tz.split('/').all(|p| {
                        !p.is_empty()
                            && p.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-')
                            })
                    });
                if !ok {
                    self.fail(
                        &path.key("time_zone"),
                        format!(
                            "`{}` is not an IANA time zone name such as Europe/Paris",
                            printable(tz)
                        ),
                    );
                }
            }
            let policy = c
                .concurrency_policy
                .clone()
                .unwrap_or_else(|| "Forbid".into());
            if !["Allow", "Forbid", "Replace"].contains(&policy.as_str()) {
                self.fail_help(
                    &path.key("concurrency_policy"),
                    format!("unknown policy `{}`", printable(&policy)),
                    "expected Allow, Forbid or Replace",
                );
            }
            out.push(CronJob {
                name,
                schedule,
                command,
                args: c.args.clone().unwrap_or_default(),
                time_zone: c.time_zone.clone(),
                concurrency_policy: policy,
            });
        }
        out
    }

    fn volumes(&mut self, raw: &RawService) -> Vec<Volume> {
        let mut out: Vec<Volume> = Vec::new();
        for (i, s) in raw.persistent_storage.iter().flatten().enumerate() {
            let path = self.path("persistent_storage").index(i);
            let mount = match &s.path {
                Some(p) => {
                    let p = p.trim();
                    let p = if p == "/" {
                        p.to_string()
                    } else {
                        p.trim_end_matches('/').to_string()
                    };
                    if !p.starts_with('/')
                        || p.split('/').any(|c| c == ".." || c == ".")
                        || p.chars().any(|c| c.is_control())
                    {
                        self.fail(
                            &path.key("path"),
                            format!(
                                "`{}` must be an absolute path without `.` or `..`",
                                printable(&p)
                            ),
                        );
                    } else if p == "/" || p == "/tmp" {
                        self.fail(&path.key("path"), "cannot mount a volume at `/` or `/tmp`");
                    } else if out.iter().any(|o| o.path == p) {
                        self.fail(
                            &path.key("path"),
                            format!("two volumes are mounted at `{p}`"),
                        );
                    }
                    p
                }
                None => {
                    self.fail(&path, "missing field `path` (where the volume is mounted)");
                    String::new()
                }
            };
            if s.size.is_none() {
                self.fail(&path, "missing field `size` (in GB)");
            }
            let size_gb = self.num(&path.key("size"), &s.size, 1, (1, 65_536));
            if let Some(c) = &s.storage_class {
                let r = rules::dns_subdomain(c)
                    .map_err(|e| format!("storage class `{}`: {e}", printable(c)));
                self.check(&path.key("storage_class"), r);
            }
            out.push(Volume {
                name: format!("data-{i}"),
                path: mount,
                size_gb,
                storage_class: s.storage_class.clone(),
            });
        }
        out
    }

    fn security(&mut self, raw: &RawService) -> Security {
        let default = Security {
            run_as_user: 10001,
            run_as_group: 10001,
            fs_group: 10001,
            run_as_non_root: true,
            read_only_root_filesystem: true,
            allow_privilege_escalation: false,
            add_capabilities: Vec::new(),
        };
        let Some(s) = &raw.security else {
            return default;
        };
        let path = self.path("security");
        let out = Security {
            run_as_user: self.num(
                &path.key("run_as_user"),
                &s.run_as_user,
                10001,
                (0, 2_147_483_647),
            ),
            run_as_group: self.num(
                &path.key("run_as_group"),
                &s.run_as_group,
                10001,
                (0, 2_147_483_647),
            ),
            fs_group: self.num(
                &path.key("fs_group"),
                &s.fs_group,
                10001,
                (0, 2_147_483_647),
            ),
            run_as_non_root: self.flag(&path.key("run_as_non_root"), &s.run_as_non_root, true),
            read_only_root_filesystem: self.flag(
                &path.key("read_only_root_filesystem"),
                &s.read_only_root_filesystem,
                true,
            ),
            allow_privilege_escalation: self.flag(
                &path.key("allow_privilege_escalation"),
                &s.allow_privilege_escalation,
                false,
            ),
            add_capabilities: s.add_capabilities.clone().unwrap_or_default(),
        };
        if out.run_as_user == 0 && out.run_as_non_root {
            self.fail_help(
                &path.key("run_as_user"),
                "run_as_user 0 is root, which run_as_non_root: true forbids",
                "set run_as_non_root: false too if the image really needs root",
            );
        }
        for (i, cap) in out.add_capabilities.iter().enumerate() {
            let ok = !cap.is_empty()
                && cap.len() <= 64
                && cap
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit());
            if !ok {
                self.fail(
                    &path.key("add_capabilities").index(i),
                    format!(
                        "`{}` is not a capability name such as NET_BIND_SERVICE",
                        printable(cap)
                    ),
                );
            }
        }
        let mut relaxed = Vec::new();
        if !out.run_as_non_root || out.run_as_user == 0 {
            relaxed.push("runs as root");
        }
        if out.allow_privilege_escalation {
            relaxed.push("allows privilege escalation");
        }
        if out.add_capabilities.iter().any(|c| c != "NET_BIND_SERVICE") {
            relaxed.push("adds capabilities beyond NET_BIND_SERVICE");
        }
        if !relaxed.is_empty() {
            self.warnings.push(format!("security: the pods {}, so they no longer meet the Pod Security Standard \"restricted\"", relaxed.join(", ")));
        }
        out
    }

    fn secrets_mount_path(
        &mut self,
        raw: &RawService,
        keys: &[String],
        volumes: &[Volume],
    ) -> Option<String> {
        let given = raw.secrets_mount_path.as_deref()?;
        let path = self.path("secrets_mount_path");
        let p = given.trim();
        let p = if p.len() > 1 {
            p.trim_end_matches('/')
        } else {
            p
        };
        if keys.is_empty() {
            self.fail_help(
                &path,
                "secrets_mount_path needs `secrets` to mount",
                "list the keys of the Secret under `secrets`, or remove secrets_mount_path",
            );
        }
        if !p.starts_with('/')
            || p.split('/').any(|c| c == ".." || c == ".")
            || p.chars().any(|c| c.is_control())
            || p.len() > 1024
        {
            self.fail(
                &path,
                format!(
                    "`{}` must be an absolute path without `.` or `..`",
                    printable(p)
                ),
            );
        } else if p == "/" || p == "/tmp" {
            self.fail(&path, "cannot mount the secrets at `/` or `/tmp`");
        } else if volumes.iter().any(|v| v.path == p) {
            self.fail(
                &path,
                format!("`{p}` is also the path of a persistent_storage volume"),
            );
        }
        for (i, key) in keys.iter().enumerate() {
            if key == "." || key.starts_with("..") {
                self.fail(
                    &self.path("secrets").index(i),
                    format!("`{key}` cannot be a file name under secrets_mount_path"),
                );
            }
        }
        Some(p.to_string())
    }

    /// `max_unavailable` / `min_available`: a whole number or a percentage such as `"25%"`.
    fn int_or_percent(&mut self, path: &FieldPath, v: &Lenient<u32>) -> Option<IntOrPercent> {
        let parsed = match v {
            Lenient::Value(n) => Some(IntOrPercent::Int(*n)),
            Lenient::Text(t) => {
                let t = t.trim();
                match t.strip_suffix('%') {
                    Some(p) => <u32 as LenientTarget>::parse(p)
                        .filter(|p| *p <= 100)
                        .map(IntOrPercent::Percent),
                    None => <u32 as LenientTarget>::parse(t).map(IntOrPercent::Int),
                }
            }
        };
        if parsed.is_none() {
            let shown = match v {
                Lenient::Value(n) => n.to_string(),
                Lenient::Text(t) => t.clone(),
            };
            self.fail(
                path,
                format!(
                    "expected a whole number or a percentage such as \"25%\", found `{}`",
                    printable(&shown)
                ),
            );
        }
        parsed
    }

    fn pdb(&mut self, raw: &RawService, min_replicas: u32, max_replicas: u32) -> Pdb {
        let mut pdb = Pdb {
            enabled: true,
            max_unavailable: IntOrPercent::Int(1),
            min_available: None,
        };
        let Some(r) = &raw.pod_disruption_budget else {
            return pdb;
        };
        let path = self.path("pod_disruption_budget");
        pdb.enabled = self.flag(&path.key("enabled"), &r.enabled, true);
        if r.max_unavailable.is_some() && r.min_available.is_some() {
            self.fail_help(
                &path.key("min_available"),
                "give max_unavailable or min_available, not both",
                "max_unavailable (default 1) keeps working whatever the replica count",
            );
        }
        if let Some(v) = &r.max_unavailable
            && let Some(m) = self.int_or_percent(&path.key("max_unavailable"), v)
        {
            if matches!(m, IntOrPercent::Int(0) | IntOrPercent::Percent(0)) {
                self.fail_help(
                    &path.key("max_unavailable"),
                    "max_unavailable 0 blocks every voluntary eviction (node drains, cluster upgrades)",
                    "use 1 or more, or disable the budget with `enabled: false`",
                );
            } else if let IntOrPercent::Int(n) = m
                && n > 10_000
            {
                self.fail(&path.key("max_unavailable"), "must be at most 10000");
            }
            pdb.max_unavailable = m;
        }
        let runs_several = max_replicas > 1;
        if let Some(v) = &r.min_available
            && let Some(m) = self.int_or_percent(&path.key("min_available"), v)
        {
            // At the fewest replicas, the budget must still allow one eviction.
            let fewest = min_replicas.max(1);
            let alone = r.max_unavailable.is_none();
            if alone && pdb.enabled && runs_several && m.of(fewest) >= fewest {
                self.fail_help(
                    &path.key("min_available"),
                    format!(
                        "min_available {} would block every voluntary eviction (node drains, cluster upgrades) while {fewest} replica(s) run",
                        match m {
                            IntOrPercent::Int(n) => n.to_string(),
                            IntOrPercent::Percent(p) => format!("{p}%"),
                        }
                    ),
                    if fewest > 1 {
                        format!(
                            "use at most {} (min_containers is {fewest}), or max_unavailable",
                            fewest - 1
                        )
                    } else {
                        "with min_containers 1 use max_unavailable instead".to_string()
                    },
                );
            }
            pdb.min_available = Some(m);
        }
        let configured = r.max_unavailable.is_some() || r.min_available.is_some();
        if pdb.enabled && configured && !runs_several {
            self.warnings.push(format!(
                "pod_disruption_budget: no PodDisruptionBudget is generated, since max_containers is {max_replicas} (a budget needs two replicas or more)"
            ));
        }
        pdb
    }

    fn peers(&mut self, path: &FieldPath, list: &[String]) -> Vec<Peer> {
        let mut out: Vec<Peer> = Vec::new();
        for (i, entry) in list.iter().enumerate() {
            let path = path.index(i);
            let e = entry.trim();
            let peer = if e.contains('/')
                || e.contains(':')
                || e.parse::<std::net::IpAddr>().is_ok()
            {
                match rules::cidr(e) {
                    Ok(c) => Peer::Cidr(c),
                    Err(msg) => {
                        self.fail(&path, format!("`{}` {msg}", printable(e)));
                        continue;
                    }
                }
            } else {
                if let Err(msg) = rules::dns_label(e, 63) {
                    self.fail_help(
                        &path,
                        format!("`{}` is not a namespace name: it {msg}", printable(e)),
                        "write a namespace name such as `ingress-nginx`, or a CIDR such as `10.0.0.0/8`",
                    );
                    continue;
                }
                Peer::Namespace(e.to_string())
            };
            if out.contains(&peer) {
                self.fail(&path, format!("`{}` is listed twice", printable(e)));
                continue;
            }
            out.push(peer);
        }
        out
    }

    fn network_policy(&mut self, raw: &RawService) -> NetworkPolicy {
        let Some(r) = &raw.network_policy else {
            return NetworkPolicy {
                enabled: true,
                allow_from: Vec::new(),
                egress_to: None,
            };
        };
        let path = self.path("network_policy");
        let enabled = self.flag(&path.key("enabled"), &r.enabled, true);
        let allow_from = self.peers(
            &path.key("allow_from"),
            r.allow_from.as_deref().unwrap_or_default(),
        );
        let egress_to = r
            .egress_to
            .as_ref()
            .map(|l| self.peers(&path.key("egress_to"), l));
        if !enabled && (r.allow_from.is_some() || r.egress_to.is_some()) {
            self.warnings.push(
                "network_policy: allow_from and egress_to are ignored, since enabled is false"
                    .into(),
            );
        }
        NetworkPolicy {
            enabled,
            allow_from,
            egress_to,
        }
    }

    fn cloud_only(&mut self, raw: &RawService) {
        let given = [
            raw.links.is_some(),
            raw.additional_iam_policies.is_some(),
            raw.additional_iam_roles.is_some(),
        ];
        for ((field, instead), present) in crate::spec::raw::CLOUD_ONLY_FIELDS.iter().zip(given) {
            if present {
                self.warnings.push(format!("`{field}` needs Opta's cloud provisioning and is ignored by the chart: {instead}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IntOrPercent;

    #[test]
    fn disruption_budget_percentages_round_up_like_the_controller() {
        assert_eq!(IntOrPercent::Percent(50).of(2), 1);
        assert_eq!(IntOrPercent::Percent(51).of(2), 2);
        assert_eq!(IntOrPercent::Percent(10).of(3), 1);
        assert_eq!(IntOrPercent::Percent(100).of(3), 3);
        assert_eq!(IntOrPercent::Percent(0).of(3), 0);
        assert_eq!(IntOrPercent::Int(2).of(5), 2);
    }
}
