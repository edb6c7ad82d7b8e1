//! The check of each rule in [`super::rules::RULES`]: whether a pair of objects breaks it, and
//! what to say and do about it, by the objects they look at.

mod common;
mod ingress;
mod objects;
mod services;
mod storage;
mod workloads;

pub use ingress::tls_secret;
pub use objects::{added, in_place, kind_switch, removed};
pub use services::{cluster_ip, load_balancer_class};
pub use storage::{
    claim_spec, claim_templates, pod_management_policy, service_name, statefulset_spec,
};
pub use workloads::{job_template, pod_template, replicas_dropped, selector};
