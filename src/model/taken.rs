//! What the rest of the spec already claims (env names, mount paths, volumes, ports, the
//! requests), handed to the configuration concerns for their collision checks.

use super::container::Resources;
use super::ports::Port;
use super::storage::Volume;

/// What the rest of the spec already claims, for collision checks.
pub(super) struct Taken<'a> {
    pub env_names: Vec<&'a str>,
    pub secrets_mount_path: Option<&'a str>,
    pub volumes: &'a [Volume],
    pub ports: &'a [Port],
    pub requests: &'a Resources,
    pub max_replicas: u32,
}
