//! What a container should look like, from the rendered pod spec alone (`expect`: never fixed
//! numbers), and its comparison with the kernel's view in /proc/PID/status (`check_status`);
//! with a kubelet's runAsNonRoot check, which podman 4.3 does not make. Pure (no process, no
//! podman): it uses no other part of the harness.

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

/// The kernel's view of a container's process that the rendered spec implies.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups: supplementalGroups and fsGroup (a kubelet adds fsGroup).
    pub groups: BTreeSet<u32>,
    /// Bounding set when the spec drops ALL (then exactly the added ones); None otherwise.
    pub cap_bnd: Option<u64>,
    /// Effective (and permitted) set: the added ones for UID 0, none for any other UID when
    /// nothing is added. Not checked for a non-root UID with added capabilities: containerd
    /// and CRI-O give it none (no ambient set), podman 4.3 gives it the added ones.
    pub cap_eff: Option<u64>,
    /// no_new_privs, when allowPrivilegeEscalation is given.
    pub no_new_privs: Option<bool>,
    /// seccomp filter mode (2) for RuntimeDefault or Localhost; None when unset or Unconfined
    /// (podman 4.3 applies its default profile either way).
    pub seccomp: Option<u32>,
    pub read_only_root: bool,
}

fn sc_field<'a>(c: &'a Value, pod: &'a Value, key: &str) -> &'a Value {
    let own = &c["securityContext"][key];
    if own.is_null() {
        &pod["securityContext"][key]
    } else {
        own
    }
}

pub fn expect(pod_spec: &Value, c: &Value, image_user: &str) -> Expect {
    let num = |v: &Value| v.as_u64().map(|n| n as u32);
    let uid = num(sc_field(c, pod_spec, "runAsUser"))
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
    let drop_all = strings(&caps["drop"]).iter().any(|d| d == "ALL");
    let added = cap_mask(&strings(&caps["add"]));
    let privileged = c["securityContext"]["privileged"].as_bool() == Some(true);
    let (cap_bnd, cap_eff) = if drop_all && !privileged {
        let eff = match (uid, added) {
            (0, a) => Some(a),
            (_, 0) => Some(0),
            _ => None,
        };
        (Some(added), eff)
    } else {
        (None, None)
    };
    let no_new_privs = c["securityContext"]["allowPrivilegeEscalation"]
        .as_bool()
        .map(|a| !a);
    let seccomp = match sc_field(c, pod_spec, "seccompProfile")["type"].as_str() {
        Some("RuntimeDefault") | Some("Localhost") => Some(2),
        _ => None,
    };
    Expect {
        uid,
        gid,
        groups,
        cap_bnd,
        cap_eff,
        no_new_privs,
        seccomp,
        read_only_root: c["securityContext"]["readOnlyRootFilesystem"].as_bool() == Some(true),
    }
}

/// Compare the `Key:\tvalue` lines of /proc/PID/status with `e`; the problems found.
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
