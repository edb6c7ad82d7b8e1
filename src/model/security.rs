//! What the pods may do and who may talk to them: the security context (a non-root user,
//! a read-only root filesystem, no privilege escalation, capabilities dropped, unless `security`
//! relaxes them or `security_profile: baseline` gives them up as a whole) and the NetworkPolicy
//! (`network_policy`: allowed sources and destinations).

use super::builder::Builder;
use super::rules;
use crate::diag::{FieldPath, printable};
use crate::spec::raw::RawService;

/// The Pod Security Standard the pods are built to meet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Profile {
    /// Everything "restricted" asks, with the `security` field's relaxations if any.
    Restricted,
    /// Only what "baseline" allows beyond it: the image's own user, a writable root filesystem,
    /// the runtime's default capabilities, privilege escalation. RuntimeDefault seccomp, nothing
    /// privileged, no host namespaces, ports or paths, as before.
    Baseline,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Security {
    pub profile: Profile,
    pub run_as_user: u32,
    pub run_as_group: u32,
    pub fs_group: u32,
    pub run_as_non_root: bool,
    pub read_only_root_filesystem: bool,
    pub allow_privilege_escalation: bool,
    pub add_capabilities: Vec<String>,
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

impl Builder<'_> {
    pub(super) fn security(&mut self, raw: &RawService) -> Security {
        let profile = self.security_profile(raw);
        let default = Security {
            profile,
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
            profile,
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

    /// `security_profile`: `restricted` (the default) or `baseline`, which is loud about what it
    /// gives up and cannot be combined with `security`'s finer relaxations.
    fn security_profile(&mut self, raw: &RawService) -> Profile {
        let Some(given) = &raw.security_profile else {
            return Profile::Restricted;
        };
        let path = self.path("security_profile");
        let profile = match given.trim() {
            "restricted" => Profile::Restricted,
            "baseline" => Profile::Baseline,
            other => {
                self.fail_help(
                    &path,
                    format!(
                        "unknown security_profile `{}`: it is `restricted` or `baseline`",
                        printable(other)
                    ),
                    "Pod Security Standards: `baseline` for images that need root, a writable root filesystem or the default capabilities",
                );
                return Profile::Restricted;
            }
        };
        if profile == Profile::Baseline {
            if raw.security.is_some() {
                self.fail_help(
                    &self.path("security"),
                    "`security` and `security_profile: baseline` cannot be combined",
                    "baseline runs the image as it was built (its own user, writable root filesystem, default capabilities); for finer relaxations keep the restricted profile and use `security` alone",
                );
            }
            self.warnings.push("security_profile: baseline: the pods run as the image's own user (root if the image says so), with a writable root filesystem, the runtime's default capabilities and privilege escalation allowed. They meet the Pod Security Standard \"baseline\" but NOT \"restricted\": a namespace that enforces restricted refuses them. Prefer `writable_paths` (and a port above 1023, or the default unprivileged-port sysctl) when the image allows it".into());
        }
        profile
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

    pub(super) fn network_policy(&mut self, raw: &RawService) -> NetworkPolicy {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::{model, problems};

    #[test]
    fn pods_are_restricted_unless_relaxed_with_a_warning() {
        let (s, warnings) = model("");
        assert_eq!(warnings, [crate::model::scaling::single_pod_floor(3)]);
        let sec = &s.security;
        assert_eq!(
            (sec.run_as_user, sec.run_as_group, sec.fs_group),
            (10001, 10001, 10001)
        );
        assert!(sec.run_as_non_root && sec.read_only_root_filesystem);
        assert!(!sec.allow_privilege_escalation && sec.add_capabilities.is_empty());
        let (_, warnings) = model(
            "min_containers: 2\nsecurity: {add_capabilities: [NET_BIND_SERVICE, SYS_TIME]}\n",
        );
        assert_eq!(
            warnings,
            [
                "security: the pods adds capabilities beyond NET_BIND_SERVICE, so they no longer meet the Pod Security Standard \"restricted\""
            ]
        );
    }

    #[test]
    fn the_baseline_profile_is_loud_and_alone() {
        let (s, warnings) = model("security_profile: baseline\n");
        assert_eq!(s.security.profile, Profile::Baseline);
        assert!(
            warnings.iter().any(|w| w
                .starts_with("security_profile: baseline: the pods run as the image's own user")
                && w.contains("NOT \"restricted\"")),
            "{warnings:?}"
        );
        let (s, _) = model("security_profile: restricted\n");
        assert_eq!(s.security.profile, Profile::Restricted);
        assert_eq!(
            problems("security_profile: privileged\n"),
            [(
                "security_profile".to_string(),
                "unknown security_profile `privileged`: it is `restricted` or `baseline`"
                    .to_string()
            )]
        );
        assert_eq!(
            problems("security_profile: baseline\nsecurity: {run_as_user: 1000}\n"),
            [(
                "security".to_string(),
                "`security` and `security_profile: baseline` cannot be combined".to_string()
            )]
        );
    }

    #[test]
    fn root_needs_run_as_non_root_false() {
        assert_eq!(
            problems("security: {run_as_user: 0, add_capabilities: [net_admin]}\n"),
            [
                (
                    "security.run_as_user".to_string(),
                    "run_as_user 0 is root, which run_as_non_root: true forbids".to_string()
                ),
                (
                    "security.add_capabilities[0]".to_string(),
                    "`net_admin` is not a capability name such as NET_BIND_SERVICE".to_string()
                ),
            ]
        );
    }

    #[test]
    fn peers_are_namespaces_or_networks() {
        let (s, _) =
            model("network_policy: {allow_from: [ingress-nginx, \"fd00:0::/8\"], egress_to: []}\n");
        let np = &s.network_policy;
        assert_eq!(
            np.allow_from,
            [
                Peer::Namespace("ingress-nginx".into()),
                Peer::Cidr("fd00::/8".into())
            ]
        );
        assert_eq!(np.egress_to, Some(vec![]));
        let got = problems("network_policy: {allow_from: [a, a, Bad_NS]}\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            got[0],
            (
                "network_policy.allow_from[1]".to_string(),
                "`a` is listed twice".to_string()
            )
        );
        assert!(
            got[1]
                .1
                .starts_with("`Bad_NS` is not a namespace name: it "),
            "{got:?}"
        );
    }
}
