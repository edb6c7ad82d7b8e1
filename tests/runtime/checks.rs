//! The checks run against a live pod, each returning the problems it found (a test reports them
//! all at once): identity, confinement, mounts, writes, volume files and environment seen from
//! inside a container and by `podman inspect`; the probes run as a kubelet runs them; the init
//! containers' markers; what hks-fake printed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::time::Duration;

use serde_json::Value;

use super::expect::{Expect, check_status};
use super::fixtures::Fixtures;
use super::images::FAKE_PROGRAMS;
use super::pod::{Ctr, Pod};
use super::process::PODMAN_LIMIT;
use crate::common;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// The namespaces a container must not share with the host (Pod Security baseline's "Host
/// Namespaces"; UTS, which hostNetwork brings along, too).
const HOST_NAMESPACES: &[&str] = &["net", "pid", "ipc", "uts"];

/// Mounts the runtime itself binds into every container (podman 4.3: the pod's hostname, hosts
/// and resolver files, its container marker). Read-only with a read-only root filesystem,
/// writable with a writable one, as the files of the root filesystem are.
const RUNTIME_MOUNTS: &[&str] = &[
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/run/.containerenv",
];

/// A directory a writable root filesystem lets the image's user create and write (a program
/// that writes all over its root filesystem, as `security_profile: baseline` allows).
const ROOT_WRITE_PROBE: &str = "/var/lib/hks-baseline-probe";

/// Quote for sh.
pub fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Pod {
    /// The problems with a running container, seen from inside (PID 1's status, namespaces,
    /// mounts and environment; writes everywhere; the volume files) and by `podman inspect`.
    /// A read-only root filesystem must refuse every write outside the volumes; a writable one
    /// (Pod Security "baseline") must take them, as the image's user can.
    pub fn check_container(&self, c: &Ctr) -> Vec<String> {
        let e = self.expectation(c);
        let writable = self.writable.get(&c.name).cloned().unwrap_or_default();
        let read_only = self.read_only.get(&c.name).cloned().unwrap_or_default();
        let files = self.files.get(&c.name).cloned().unwrap_or_default();
        let mut script = String::from(
            "echo '== status'; cat /proc/1/status\n\
             echo '== mounts'; cat /proc/1/mounts\n\
             echo '== environ'; od -An -tx1 -v /proc/1/environ | tr -d ' \\n'; echo\n\
             echo '== ns'; for n in net pid ipc uts; do echo \"$n $(readlink /proc/1/ns/$n)\"; done\n\
             echo '== rootfs'\n\
             find / -xdev -type d 2>/dev/null | while read -r d; do t=\"${d%/}/.hks-probe\"; \
             if out=$(touch \"$t\" 2>&1); then rm -f \"$t\"; echo \"WRITABLE $d\"; \
             else echo \"DENIED $d: $out\"; fi; done\n",
        );
        if !e.read_only_root {
            script += &format!(
                "echo '== rootwrite'; d={d}; if out=$( (mkdir -p \"$d\" && echo ok > \"$d/f\") 2>&1); \
                 then echo \"WRITABLE $d\"; else echo \"DENIED $d: $out\"; fi; rm -rf \"$d\"\n",
                d = sh(ROOT_WRITE_PROBE)
            );
        }
        script += "echo '== volumes'\n";
        for p in &writable {
            script += &format!(
                "t={}; if out=$(touch \"$t\" 2>&1); then rm -f \"$t\"; echo \"WRITABLE {p}\"; \
                 else echo \"DENIED {p}: $out\"; fi\n",
                sh(&format!("{}/.hks-probe", p.trim_end_matches('/')))
            );
        }
        for p in &read_only {
            script += &format!(
                "p={}; if [ -d \"$p\" ]; then t=\"$p/.hks-probe\"; else t=\"$p\"; fi; \
                 if out=$( (: >> \"$t\") 2>&1); then echo \"WRITABLE {p}\"; \
                 else echo \"DENIED {p}: $out\"; fi\n",
                sh(p)
            );
        }
        for f in &files {
            script += &format!(
                "echo '== file {}'; stat -c '%a %u %g' {q}; od -An -tx1 -v {q} | tr -d ' \\n'; echo\n",
                f.path,
                q = sh(&f.path)
            );
        }
        let o = self.exec(
            &c.name,
            &["/bin/busybox", "sh", "-c", &script],
            PODMAN_LIMIT,
        );
        let what = self.ctr(&c.name);
        if !o.ok() {
            return vec![format!("{what}: cannot look inside:\n{}", o.both())];
        }
        let mut sections: BTreeMap<String, String> = BTreeMap::new();
        let mut cur = String::new();
        for line in o.stdout.lines() {
            if let Some(h) = line.strip_prefix("== ") {
                cur = h.to_string();
                sections.entry(cur.clone()).or_default();
            } else {
                let s = sections.entry(cur.clone()).or_default();
                s.push_str(line);
                s.push('\n');
            }
        }
        let sec = |k: &str| sections.get(k).cloned().unwrap_or_default();
        let mut bad = check_status(&what, &sec("status"), &e);

        // Namespaces: the pod's own, none of the host's (this test runs podman, so its own
        // namespaces are what a host namespace would be).
        for n in HOST_NAMESPACES {
            let host = fs::read_link(format!("/proc/self/ns/{n}"))
                .map(|l| l.display().to_string())
                .unwrap_or_default();
            let got = sec("ns")
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{n} ")).map(str::to_string))
                .unwrap_or_default();
            if got.is_empty() || host.is_empty() {
                bad.push(format!(
                    "{what}: cannot compare the {n} namespace: container {got:?}, host {host:?}"
                ));
            } else if got == host {
                bad.push(format!("{what}: shares the host's {n} namespace ({got})"));
            }
        }

        // Mounts: the root filesystem read-only, and no writable mount but the volumes.
        let mounts: Vec<(String, String)> = sec("mounts")
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some((f.get(1)?.to_string(), f.get(3)?.to_string()))
            })
            .collect();
        let root_opts = mounts
            .iter()
            .rfind(|(p, _)| p == "/")
            .map(|(_, o)| o.clone())
            .unwrap_or_default();
        if e.read_only_root && !root_opts.split(',').any(|o| o == "ro") {
            bad.push(format!("{what}: / is mounted {root_opts}, not read-only"));
        }
        if !e.read_only_root && !root_opts.split(',').any(|o| o == "rw") {
            bad.push(format!("{what}: / is mounted {root_opts}, not writable"));
        }
        let system = |p: &str| {
            ["/proc", "/sys", "/dev"]
                .iter()
                .any(|s| p == *s || p.starts_with(&format!("{s}/")))
        };
        for (p, opts) in &mounts {
            let runtime_file = !e.read_only_root && RUNTIME_MOUNTS.contains(&p.as_str());
            if p != "/"
                && !system(p)
                && opts.split(',').any(|o| o == "rw")
                && !writable.contains(p)
                && !runtime_file
            {
                bad.push(format!(
                    "{what}: {p} is a writable mount the rendered spec does not make writable"
                ));
            }
        }
        let mountpoints: BTreeSet<&str> = mounts.iter().map(|(p, _)| p.as_str()).collect();
        let rootfs_lines = sec("rootfs");
        let rootfs: Vec<(&str, &str, &str)> = rootfs_lines
            .lines()
            .filter_map(|l| {
                let (verdict, rest) = l.split_once(' ').unwrap_or((l, ""));
                let dir = rest.split(": ").next().unwrap_or(rest);
                (!mountpoints.contains(dir) && !system(dir)).then_some((verdict, dir, l))
            })
            .collect();
        if rootfs.is_empty() {
            bad.push(format!(
                "{what}: found no directory of the root filesystem to try"
            ));
        }
        if e.read_only_root {
            for (verdict, dir, l) in &rootfs {
                if *verdict != "DENIED" || !l.contains("Read-only file system") {
                    bad.push(format!(
                        "{what}: a write in {dir} is not refused as read-only: {l}"
                    ));
                }
            }
        } else {
            // Writable: never refused as read-only (the kernel says so before it checks
            // permissions); as root (the test image's user), never refused at all, and a new
            // directory can be made and written.
            for (verdict, dir, l) in &rootfs {
                if l.contains("Read-only file system") || (e.uid == 0 && *verdict != "WRITABLE") {
                    bad.push(format!(
                        "{what}: the root filesystem is writable in the spec, yet a write in {dir}: {l}"
                    ));
                }
            }
            let probe = sec("rootwrite");
            let probe = probe.trim();
            if probe != format!("WRITABLE {ROOT_WRITE_PROBE}")
                && (e.uid == 0 || probe.contains("Read-only file system"))
            {
                bad.push(format!(
                    "{what}: the root filesystem is writable in the spec, yet making and writing {ROOT_WRITE_PROBE}: {probe:?}"
                ));
            }
        }
        for l in sec("volumes").lines() {
            let (verdict, rest) = l.split_once(' ').unwrap_or((l, ""));
            let p = rest.split(": ").next().unwrap_or(rest).to_string();
            if writable.contains(&p) && verdict != "WRITABLE" {
                bad.push(format!("{what}: cannot write {p}, a writable volume: {l}"));
            }
            if read_only.contains(&p) && verdict != "DENIED" {
                bad.push(format!(
                    "{what}: {p} is mounted read-only in the spec, yet: {l}"
                ));
            }
        }
        // A read-only bind mount: a write is refused with EROFS, or with EACCES first when the
        // file is not writable by the user anyway (a kubelet's subPath mounts behave the same).
        for p in &read_only {
            match mounts.iter().rfind(|(m, _)| m == p) {
                Some((_, opts)) if opts.split(',').any(|o| o == "ro") => {}
                m => bad.push(format!("{what}: {p} should be a read-only mount: {m:?}")),
            }
        }

        // Volume files: content, mode, group, readable by the container's user.
        for f in &files {
            let body = sec(&format!("file {}", f.path));
            let mut lines = body.lines();
            let stat = lines.next().unwrap_or("");
            let content = unhex(lines.next().unwrap_or("").trim());
            let want = format!("{:o} 0 {}", f.mode, f.gid);
            if stat != want {
                bad.push(format!(
                    "{what}: {} is `{stat}` (mode uid gid), want `{want}`",
                    f.path
                ));
            }
            if content != f.content {
                bad.push(format!(
                    "{what}: {} holds {:?}, want {:?}",
                    f.path,
                    common::text(&content),
                    common::text(&f.content)
                ));
            }
        }

        // Environment: plain values byte for byte; references from the fixtures.
        let env_raw = unhex(sec("environ").trim());
        let env: BTreeMap<String, String> = env_raw
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .filter_map(|kv| {
                let kv = common::text(kv);
                let (k, v) = kv.split_once('=')?;
                Some((k.to_string(), v.to_string()))
            })
            .collect();
        bad.extend(self.check_env(&what, &c.spec, &env));

        bad.extend(self.check_inspect(c, &e));
        bad
    }

    /// podman's own record of container `c` against the expectation.
    pub fn check_inspect(&self, c: &Ctr, e: &Expect) -> Vec<String> {
        let what = self.ctr(&c.name);
        let mut bad = Vec::new();
        let i = self.inspect(&c.name);
        let user = i["Config"]["User"].as_str().unwrap_or("");
        match &e.image_user {
            // No runAsUser: the image's user, which podman records as "" (the image's default)
            // or as the image gives it. The kernel's Uid is checked against it in check_status.
            Some(image) => {
                if !user.is_empty() && user != image {
                    bad.push(format!(
                        "{what}: podman inspect User is {user:?}, want the image's user ({image:?}; \"\" is the image's default): the spec gives no runAsUser"
                    ));
                }
            }
            None => {
                if user != format!("{}:{}", e.uid, e.gid) && user != e.uid.to_string() {
                    bad.push(format!(
                        "{what}: podman inspect User is {user:?}, want {}:{}",
                        e.uid, e.gid
                    ));
                }
            }
        }
        if i["HostConfig"]["ReadonlyRootfs"].as_bool() != Some(e.read_only_root) {
            bad.push(format!(
                "{what}: podman inspect ReadonlyRootfs is {}, want {}",
                i["HostConfig"]["ReadonlyRootfs"], e.read_only_root
            ));
        }
        if i["HostConfig"]["Privileged"].as_bool() == Some(true) {
            bad.push(format!("{what}: runs privileged"));
        }
        let nnp = i["HostConfig"]["SecurityOpt"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s == "no-new-privileges");
        if let Some(n) = e.no_new_privs
            && n != nnp
        {
            bad.push(format!(
                "{what}: podman inspect no-new-privileges is {nnp}, want {n}"
            ));
        }
        bad
    }

    /// The environment of a container against its rendered `env` and `envFrom`.
    fn check_env(&self, what: &str, c: &Value, env: &BTreeMap<String, String>) -> Vec<String> {
        let mut bad = Vec::new();
        for e in c["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().unwrap_or("");
            let want: Option<String> = if let Some(v) = e["value"].as_str() {
                if v.contains("$(") {
                    // A kubelet expands $(VAR); podman 4.3 does not. Not checked.
                    continue;
                }
                Some(v.to_string())
            } else if e.get("value").is_some() && e["valueFrom"].is_null() {
                Some(String::new())
            } else {
                let mut w = None;
                for (field, secret) in [("secretKeyRef", true), ("configMapKeyRef", false)] {
                    let r = &e["valueFrom"][field];
                    if let (Some(n), Some(k)) = (r["name"].as_str(), r["key"].as_str()) {
                        w = self.fixtures.get(secret, n, k).cloned();
                    }
                }
                w
            };
            match (want, env.get(name)) {
                (Some(w), Some(g)) if w == *g => {}
                (None, None) => {}
                (w, g) => bad.push(format!("{what}: environment {name} is {g:?}, want {w:?}")),
            }
        }
        for e in c["envFrom"].as_array().into_iter().flatten() {
            let prefix = e["prefix"].as_str().unwrap_or("");
            for (field, secret) in [("secretRef", true), ("configMapRef", false)] {
                let Some(n) = e[field]["name"].as_str() else {
                    continue;
                };
                let key = Fixtures::from_key(n);
                let want = self.fixtures.get(secret, n, &key);
                // A kubelet prefixes the names; podman 4.3 ignores `prefix`. Either is accepted.
                let got = env.get(&format!("{prefix}{key}")).or_else(|| env.get(&key));
                if want != got {
                    bad.push(format!(
                        "{what}: envFrom {field} {n} (prefix {prefix:?}): {key} is {got:?}, want {want:?}"
                    ));
                }
            }
        }
        bad
    }

    /// Run every probe of the app containers as a kubelet would: httpGet and tcpSocket from the
    /// host to the pod IP, exec inside the container, gRPC as a TCP connection (no gRPC client
    /// here). The problems found.
    pub fn check_probes(&self) -> Vec<String> {
        let mut bad = Vec::new();
        for c in &self.containers {
            let port_of = |p: &Value| -> Option<u16> {
                if let Some(n) = p.as_u64() {
                    return Some(n as u16);
                }
                let name = p.as_str()?;
                c.spec["ports"]
                    .as_array()?
                    .iter()
                    .find(|x| x["name"] == name)?["containerPort"]
                    .as_u64()
                    .map(|n| n as u16)
            };
            for kind in ["startupProbe", "livenessProbe", "readinessProbe"] {
                let p = &c.spec[kind];
                if p.is_null() {
                    continue;
                }
                let what = format!("{} {kind}", self.ctr(&c.name));
                if p["httpGet"]["scheme"] == "HTTPS" {
                    // The harness speaks plain HTTP only: an example with HTTPS probes needs a
                    // TLS client here first, rather than a probe that proves nothing.
                    bad.push(format!(
                        "{what}: HTTPS probes are not run by this harness yet"
                    ));
                } else if !p["httpGet"].is_null() {
                    let path = p["httpGet"]["path"].as_str().unwrap_or("/");
                    let Some(port) = port_of(&p["httpGet"]["port"]) else {
                        bad.push(format!(
                            "{what}: port {} is not declared",
                            p["httpGet"]["port"]
                        ));
                        continue;
                    };
                    match self.http_get(port, path) {
                        Ok((code, _)) if (200..400).contains(&code) => {}
                        Ok((code, text)) => bad.push(format!(
                            "{what}: GET {path} on {port} answered {code}:\n{text}"
                        )),
                        Err(e) => bad.push(format!("{what}: GET {path} on {port}: {e}")),
                    }
                } else if !p["tcpSocket"].is_null() || !p["grpc"].is_null() {
                    let port = if p["grpc"].is_null() {
                        port_of(&p["tcpSocket"]["port"])
                    } else {
                        port_of(&p["grpc"]["port"])
                    };
                    match port.map(|n| self.connect(n)) {
                        Some(Ok(_)) => {}
                        Some(Err(e)) => bad.push(format!("{what}: connect: {e}")),
                        None => bad.push(format!("{what}: no port")),
                    }
                } else if let Some(cmd) = p["exec"]["command"].as_array() {
                    let argv: Vec<&str> = cmd.iter().filter_map(Value::as_str).collect();
                    let limit = Duration::from_secs(p["timeoutSeconds"].as_u64().unwrap_or(1) + 10);
                    let o = self.exec(&c.name, &argv, limit);
                    if !o.ok() {
                        bad.push(format!("{what}: exec {argv:?} failed:\n{}", o.both()));
                    }
                }
            }
        }
        bad
    }

    /// What hks-fake printed: (argv line, status lines) for each run.
    pub fn fake_runs(logs: &str) -> Vec<(String, String)> {
        let mut runs: Vec<(String, String)> = Vec::new();
        for l in logs.lines() {
            if let Some(r) = l.strip_prefix("hks-fake: ran ") {
                runs.push((r.trim_end().to_string(), String::new()));
            } else if let Some(s) = l.strip_prefix("hks-fake: ")
                && let Some(last) = runs.last_mut()
            {
                last.1.push_str(s);
                last.1.push('\n');
            }
        }
        runs
    }

    /// The command line of a container spec, as hks-fake prints it.
    pub fn command_line(c: &Value) -> String {
        c["command"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(c["args"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn is_fake(c: &Value) -> bool {
        c["command"][0]
            .as_str()
            .is_some_and(|p| FAKE_PROGRAMS.contains(&p))
    }

    /// Every check of a serving pod: each running container inside and out, the ports from the
    /// host, the probes, the init containers (ran first, as the service's user). The problems.
    pub fn check_serving(&self) -> Vec<String> {
        let mut bad = Vec::new();
        for (c, name, port) in self.ports() {
            if let Err(e) = self.connect(port) {
                bad.push(format!("{c}: port {name} ({port}) does not accept: {e}"));
            }
        }
        for c in &self.containers {
            bad.extend(self.check_container(c));
        }
        bad.extend(self.check_probes());
        let app = &self.containers[0];
        let app_logs = self.logs(&app.name);
        for i in &self.inits {
            let what = self.ctr(&i.name);
            if !Self::is_fake(&i.spec) {
                continue;
            }
            // The init container wrote its marker into the pod's /tmp before the service
            // started: the service's first lines name it. podman removes an init container once
            // it has run; its identity is in the marker.
            let line = Self::command_line(&i.spec);
            if !app_logs.contains(&format!("hks-serve: init ran: {line}")) {
                bad.push(format!(
                    "{what}: the service did not find the init container's marker ({line}) when it started"
                ));
            }
            let prog = i.spec["command"][0].as_str().unwrap_or("");
            let base = prog.rsplit('/').next().unwrap_or(prog);
            let marker = format!("/tmp/hks-ran.{base}");
            let o = self.exec(&app.name, &["/bin/busybox", "cat", &marker], PODMAN_LIMIT);
            if o.ok() {
                let status: String = o.stdout.lines().skip(1).map(|l| format!("{l}\n")).collect();
                bad.extend(check_status(&what, &status, &self.expectation(i)));
            } else {
                bad.push(format!("{what}: no marker {marker}:\n{}", o.both()));
            }
        }
        bad
    }
}
