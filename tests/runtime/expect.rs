//! What a container should look like, from the rendered pod spec alone (`expect`: never fixed
//! numbers), including the Pod Security profile the spec asks for (`Profile`), and its comparison
//! with the kernel's view in /proc/PID/status (`check_status`); the Pod Security rules a spec
//! must meet (`pod_security`); with a kubelet's runAsNonRoot check, which podman 4.3 does not
//! make. Pure (no process, no podman): it uses no other part of the harness.

use std::collections::BTreeSet;

use serde_json::Value;

/// Linux capability numbers (include/uapi/linux/capability.h).
const CAPS: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The capabilities Pod Security "baseline" allows a container to add: one list for this tier
/// and tests/security.rs, in tests/common. It does not touch what the runtime gives by default
/// (containerd's and Docker's default set, podman 4.3's built-in one, is this list plus
/// NET_RAW): a container's bounding, permitted and effective sets stay within the runtime's
/// default set and the allowed adds.
pub use crate::common::BASELINE_CAPS;

/// The names of the capabilities in `mask`.
pub fn cap_names(mask: u64) -> Vec<&'static str> {
    CAPS.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1u64 << i) != 0)
        .map(|(_, c)| *c)
        .collect()
}

fn cap_mask(names: &[String]) -> u64 {
    names.iter().fold(0, |m, n| {
        let n = n.trim_start_matches("CAP_");
        let i = CAPS
            .iter()
            .position(|c| *c == n)
            .unwrap_or_else(|| panic!("unknown capability {n}"));
        m | (1u64 << i)
    })
}

/// The Pod Security profile a container's rendered spec asks for. `Restricted` as soon as it
/// asks for any of what "restricted" adds to "baseline" (runAsNonRoot, allowPrivilegeEscalation
/// false, capabilities drop ALL) or for this chart's read-only root filesystem; `Baseline` only
/// when it asks for none of them (`security_profile: baseline`). So a restricted render that
/// loses one of its settings is still checked, and fails, as restricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Restricted,
    Baseline,
}

/// The kernel's view of a container's process that the rendered spec implies.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub profile: Profile,
    /// The image's USER ("" when it has none) when the spec gives no runAsUser: the container
    /// runs as the image's user, and `podman inspect` says "" (the image's default) or that user.
    /// None when the spec gives the UID.
    pub image_user: Option<String>,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups: supplementalGroups and fsGroup (a kubelet adds fsGroup).
    pub groups: BTreeSet<u32>,
    /// Bounding set: the runtime's default set (none when the spec drops ALL) less the ones
    /// dropped, plus the added ones. None when privileged.
    pub cap_bnd: Option<u64>,
    /// Effective (and permitted) set: the bounding set for UID 0, none for any other UID when
    /// the spec drops ALL and adds nothing. Not checked for a non-root UID with added
    /// capabilities (containerd and CRI-O give it none, no ambient set; podman 4.3 gives it the
    /// added ones), nor for one that keeps the runtime's defaults.
    pub cap_eff: Option<u64>,
    /// no_new_privs, when allowPrivilegeEscalation is given.
    pub no_new_privs: Option<bool>,
    /// seccomp filter mode (2) for RuntimeDefault or Localhost; None when unset or Unconfined
    /// (podman 4.3 applies its default profile either way).
    pub seccomp: Option<u32>,
    pub read_only_root: bool,
    /// `privileged: true`.
    pub privileged: bool,
    /// The capabilities the spec adds.
    pub cap_add: u64,
    /// The runtime's default set (`Runtime::default_caps`).
    pub runtime_caps: u64,
    /// What the pod spec takes from the host: host namespaces (hostNetwork, hostPID, hostIPC),
    /// hostPath volumes, the container's hostPorts. Empty in every chart's render.
    pub host: Vec<String>,
}

fn sc_field<'a>(c: &'a Value, pod: &'a Value, key: &str) -> &'a Value {
    let own = &c["securityContext"][key];
    if own.is_null() {
        &pod["securityContext"][key]
    } else {
        own
    }
}

/// The expectation for container `c` of `pod_spec`, whose image has the USER `image_user`, on a
/// runtime whose default capabilities are `runtime_caps`.
pub fn expect(pod_spec: &Value, c: &Value, image_user: &str, runtime_caps: &[String]) -> Expect {
    let num = |v: &Value| v.as_u64().map(|n| n as u32);
    let spec_uid = num(sc_field(c, pod_spec, "runAsUser"));
    let uid = spec_uid
        .or_else(|| image_user.split(':').next()?.parse().ok())
        .unwrap_or(0);
    let gid = num(sc_field(c, pod_spec, "runAsGroup"))
        .or_else(|| image_user.split(':').nth(1)?.parse().ok())
        .unwrap_or(0);
    let psc = &pod_spec["securityContext"];
    let mut groups: BTreeSet<u32> = psc["supplementalGroups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(num)
        .collect();
    if let Some(g) = num(&psc["fsGroup"]) {
        groups.insert(g);
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    };
    let caps = &c["securityContext"]["capabilities"];
    let drop = strings(&caps["drop"]);
    let drop_all = drop.iter().any(|d| d == "ALL");
    let dropped = cap_mask(&drop.into_iter().filter(|d| d != "ALL").collect::<Vec<_>>());
    let added = cap_mask(&strings(&caps["add"]));
    let runtime_caps = cap_mask(runtime_caps);
    let privileged = c["securityContext"]["privileged"].as_bool() == Some(true);
    let base = if drop_all { 0 } else { runtime_caps & !dropped };
    let (cap_bnd, cap_eff) = if privileged {
        (None, None)
    } else {
        let bnd = base | added;
        let eff = match (uid, bnd) {
            (0, b) => Some(b),
            (_, 0) => Some(0),
            _ => None,
        };
        (Some(bnd), eff)
    };
    let no_new_privs = c["securityContext"]["allowPrivilegeEscalation"]
        .as_bool()
        .map(|a| !a);
    let seccomp = match sc_field(c, pod_spec, "seccompProfile")["type"].as_str() {
        Some("RuntimeDefault") | Some("Localhost") => Some(2),
        _ => None,
    };
    let read_only_root = c["securityContext"]["readOnlyRootFilesystem"].as_bool() == Some(true);
    let run_as_non_root = sc_field(c, pod_spec, "runAsNonRoot").as_bool() == Some(true);
    let profile = if run_as_non_root || read_only_root || no_new_privs == Some(true) || drop_all {
        Profile::Restricted
    } else {
        Profile::Baseline
    };
    let mut host: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|k| pod_spec[*k].as_bool() == Some(true))
        .map(String::from)
        .collect();
    host.extend(
        pod_spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v.get("hostPath").is_some())
            .map(|v| format!("hostPath volume {}", v["name"])),
    );
    host.extend(
        c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["hostPort"].as_u64())
            .map(|p| format!("hostPort {p}")),
    );
    Expect {
        profile,
        image_user: spec_uid.is_none().then(|| image_user.to_string()),
        uid,
        gid,
        groups,
        cap_bnd,
        cap_eff,
        no_new_privs,
        seccomp,
        read_only_root,
        privileged,
        cap_add: added,
        runtime_caps,
        host,
    }
}

/// The Pod Security rules the rendered spec of a container meets, for its profile: "baseline"'s
/// for every container (not privileged, no capability added beyond `BASELINE_CAPS`, a seccomp
/// profile that is not Unconfined (the chart's RuntimeDefault), nothing of the host's), and
/// "restricted"'s on top for a restricted one (with this chart's read-only root filesystem):
/// whatever the numbers, a non-root UID, a read-only root filesystem, no_new_privs, no
/// capability. The live container is held to the same by `check_status` and the checks of
/// checks.rs.
pub fn pod_security(what: &str, e: &Expect) -> Vec<String> {
    let mut bad = Vec::new();
    if e.privileged {
        bad.push(format!("{what}: the spec makes it privileged"));
    }
    let beyond = e.cap_add & !cap_mask_of(BASELINE_CAPS);
    if beyond != 0 {
        bad.push(format!(
            "{what}: the spec adds capabilities beyond baseline's: {:?}",
            cap_names(beyond)
        ));
    }
    if e.seccomp != Some(2) {
        bad.push(format!("{what}: no RuntimeDefault seccomp profile"));
    }
    if !e.host.is_empty() {
        bad.push(format!(
            "{what}: the spec takes from the host: {:?}",
            e.host
        ));
    }
    if e.profile == Profile::Baseline {
        return bad;
    }
    if e.uid == 0 {
        bad.push(format!("{what}: the spec lets it run as root"));
    }
    if !e.read_only_root {
        bad.push(format!("{what}: the root filesystem is writable"));
    }
    if e.no_new_privs != Some(true) {
        bad.push(format!("{what}: privilege escalation is not off"));
    }
    if e.cap_bnd != Some(0) || e.cap_eff != Some(0) {
        bad.push(format!("{what}: capabilities are not all dropped ({e:?})"));
    }
    bad
}

fn cap_mask_of(names: &[&str]) -> u64 {
    cap_mask(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

/// Compare the `Key:\tvalue` lines of /proc/PID/status with `e`, and with Pod Security
/// baseline's limits, which hold for every profile (capabilities within the runtime's default
/// set and the adds `BASELINE_CAPS` allows, a seccomp filter); the problems found.
pub fn check_status(what: &str, status: &str, e: &Expect) -> Vec<String> {
    let field = |k: &str| -> Option<String> {
        status.lines().find_map(|l| {
            l.strip_prefix(&format!("{k}:"))
                .map(|v| v.trim().to_string())
        })
    };
    let mut bad = Vec::new();
    let mut want =
        |k: &str, got: Option<String>, ok: &dyn Fn(&str) -> bool, expected: String| match got {
            Some(g) if ok(&g) => {}
            g => bad.push(format!(
                "{what}: {k} is {g:?}, the rendered spec wants {expected}"
            )),
        };
    let all4 = |n: u32| move |g: &str| g.split_whitespace().all(|x| x == n.to_string());
    want(
        "Uid",
        field("Uid"),
        &all4(e.uid),
        format!("{} (real, effective, saved, fs)", e.uid),
    );
    want(
        "Gid",
        field("Gid"),
        &all4(e.gid),
        format!("{} (real, effective, saved, fs)", e.gid),
    );
    let groups = e.groups.clone();
    let gid = e.gid;
    want(
        "Groups",
        field("Groups"),
        &move |g: &str| {
            let got: BTreeSet<u32> = g
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            groups.iter().all(|x| got.contains(x))
                && got.iter().all(|x| groups.contains(x) || *x == gid)
        },
        format!("{:?} (and the primary group)", e.groups),
    );
    let hex = |n: u64| move |g: &str| u64::from_str_radix(g, 16).ok() == Some(n);
    if let Some(b) = e.cap_bnd {
        want("CapBnd", field("CapBnd"), &hex(b), format!("{b:016x}"));
    }
    if let Some(x) = e.cap_eff {
        want("CapPrm", field("CapPrm"), &hex(x), format!("{x:016x}"));
        want("CapEff", field("CapEff"), &hex(x), format!("{x:016x}"));
    }
    if let Some(n) = e.no_new_privs {
        let v = if n { "1" } else { "0" };
        want(
            "NoNewPrivs",
            field("NoNewPrivs"),
            &move |g: &str| g == v,
            v.into(),
        );
    }
    if let Some(s) = e.seccomp {
        let v = s.to_string();
        want(
            "Seccomp",
            field("Seccomp"),
            &move |g: &str| g == v,
            format!("{s} (filter)"),
        );
    }
    // Pod Security baseline, for every profile and whatever the spec expects: nothing beyond
    // the runtime's default set and the adds baseline allows (a restricted container has none
    // at all, checked above).
    let allowed = e.runtime_caps | (e.cap_add & cap_mask_of(BASELINE_CAPS));
    for k in ["CapBnd", "CapPrm", "CapEff"] {
        match field(k).and_then(|g| u64::from_str_radix(&g, 16).ok()) {
            Some(g) if g & !allowed == 0 => {}
            Some(g) => bad.push(format!(
                "{what}: {k} holds capabilities beyond the runtime's default set and the adds \
                 Pod Security baseline allows: {:?}",
                cap_names(g & !allowed)
            )),
            None => bad.push(format!("{what}: no {k} in the process status")),
        }
    }
    // And a seccomp filter, whatever the spec says (podman applies its default profile even
    // for Unconfined; the spec's own profile is pod_security's).
    if e.seccomp.is_none() && field("Seccomp").as_deref() != Some("2") {
        bad.push(format!(
            "{what}: Seccomp is {:?}, want 2 (filter)",
            field("Seccomp")
        ));
    }
    bad
}

/// kubelet's verifyRunAsNonRoot (pkg/kubelet/kuberuntime/security_context_others.go), which
/// podman 4.3 does not implement: the message a kubelet gives (CreateContainerConfigError).
pub fn kubelet_run_as_non_root(
    pod_name: &str,
    pod_spec: &Value,
    c: &Value,
    image_user: &str,
) -> Result<(), String> {
    if sc_field(c, pod_spec, "runAsNonRoot").as_bool() != Some(true) {
        return Ok(());
    }
    let cname = c["name"].as_str().unwrap_or("");
    let pod = format!("rt/{pod_name}");
    if let Some(uid) = sc_field(c, pod_spec, "runAsUser").as_u64() {
        return if uid == 0 {
            Err(format!(
                "container's runAsUser breaks non-root policy (pod: \"{pod}\", container: {cname})"
            ))
        } else {
            Ok(())
        };
    }
    let user = image_user.split(':').next().unwrap_or("");
    match user.parse::<u64>() {
        Ok(0) => Err(format!(
            "container has runAsNonRoot and image will run as root (pod: \"{pod}\", container: {cname})"
        )),
        Ok(_) => Ok(()),
        Err(_) if user.is_empty() => Err(format!(
            "container has runAsNonRoot and image will run as root (pod: \"{pod}\", container: {cname})"
        )),
        Err(_) => Err(format!(
            "container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is non-root (pod: \"{pod}\", container: {cname})"
        )),
    }
}
