//! The pods' and the container's security contexts, and the NetworkPolicy.

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{Peer, Profile, Service};

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

/// The sysctl every pod sets: a process without privileges may bind any port (80 included),
/// the way a root one may. It is in Kubernetes' safe set (namespaced to the pod's network), which
/// Pod Security "baseline" and "restricted" allow.
pub const UNPRIVILEGED_PORTS_SYSCTL: &str = "net.ipv4.ip_unprivileged_port_start";

pub(super) fn pod_security_context(s: &Service) -> Value {
    let sec = &s.security;
    let sysctls = json!([{"name": UNPRIVILEGED_PORTS_SYSCTL, "value": "0"}]);
    match sec.profile {
        Profile::Restricted => json!({
            "runAsNonRoot": sec.run_as_non_root,
            "runAsUser": sec.run_as_user,
            "runAsGroup": sec.run_as_group,
            "fsGroup": sec.fs_group,
            "seccompProfile": {"type": "RuntimeDefault"},
            "sysctls": sysctls,
        }),
        // The image's own user and group; fsGroup still makes the mounted files readable.
        Profile::Baseline => json!({
            "fsGroup": sec.fs_group,
            "seccompProfile": {"type": "RuntimeDefault"},
            "sysctls": sysctls,
        }),
    }
}

pub(super) fn security_context(s: &Service) -> Value {
    let sec = &s.security;
    if sec.profile == Profile::Baseline {
        // The runtime's default capabilities (no drop, none added) and a writable root filesystem.
        return json!({
            "allowPrivilegeEscalation": true,
            "privileged": false,
            "readOnlyRootFilesystem": false,
        });
    }
    let mut capabilities = json!({"drop": ["ALL"]});
    if !sec.add_capabilities.is_empty() {
        capabilities["add"] = json!(sec.add_capabilities);
    }
    json!({
        "allowPrivilegeEscalation": sec.allow_privilege_escalation,
        "privileged": false,
        "readOnlyRootFilesystem": sec.read_only_root_filesystem,
        "runAsNonRoot": sec.run_as_non_root,
        "capabilities": capabilities,
    })
}

pub(super) fn network_policy(s: &Service) -> NetworkPolicyValues {
    NetworkPolicyValues {
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
    }
}

fn peer(p: &Peer) -> Value {
    match p {
        Peer::Namespace(ns) => json!({
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}
        }),
        Peer::Cidr(cidr) => json!({"ipBlock": {"cidr": cidr}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::model;

    #[test]
    fn capabilities_are_dropped_and_only_added_when_asked() {
        let (s, _) = model("");
        assert_eq!(
            security_context(&s)["capabilities"],
            json!({"drop": ["ALL"]})
        );
        assert_eq!(pod_security_context(&s)["runAsUser"], json!(10001));
        let (s, _) = model("security: {add_capabilities: [NET_BIND_SERVICE]}\n");
        assert_eq!(
            security_context(&s)["capabilities"],
            json!({"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})
        );
    }

    #[test]
    fn every_pod_may_bind_low_ports_and_baseline_keeps_the_image_user() {
        let (s, _) = model("");
        let want = json!([{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]);
        assert_eq!(pod_security_context(&s)["sysctls"], want);
        let (s, _) = model("security_profile: baseline\n");
        assert_eq!(
            pod_security_context(&s),
            json!({"fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}, "sysctls": want})
        );
        assert_eq!(
            security_context(&s),
            json!({"allowPrivilegeEscalation": true, "privileged": false, "readOnlyRootFilesystem": false})
        );
    }

    #[test]
    fn peers_become_network_policy_peers() {
        let (s, _) =
            model("network_policy: {allow_from: [ingress-nginx], egress_to: [10.0.0.0/8]}\n");
        assert_eq!(
            serde_json::to_value(network_policy(&s)).unwrap(),
            json!({
                "enabled": true,
                "ingressFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
                "egress": {"allowAll": false, "allowDns": true, "to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]},
            })
        );
        let (s, _) = model("");
        assert!(network_policy(&s).egress.allow_all);
    }
}
