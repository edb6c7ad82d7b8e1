//! What the rest of the spec already claims (env names, mount paths, volumes, ports, the
//! requests and limits), handed to the configuration concerns for their collision checks.

use super::container::Resources;
use super::ports::Port;
use super::scratch::WritablePath;
use super::storage::Volume;

/// What the rest of the spec already claims, for collision checks.
pub(super) struct Taken<'a> {
    pub env_names: Vec<&'a str>,
    pub secrets_mount_path: Option<&'a str>,
    pub volumes: &'a [Volume],
    pub writable_paths: &'a [WritablePath],
    pub ports: &'a [Port],
    pub requests: &'a Resources,
    pub limits: &'a Resources,
    pub max_replicas: u32,
}
