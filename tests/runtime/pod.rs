//! A pod running in the private store (`Pod`, with its containers `Ctr` and volume files `File`)
//! and what can be asked of it live: state, logs, waits, connections and HTTP GETs from the host
//! to the pod IP, exec, inspect, the expectation of each container. Dropping a `Pod` removes it.
//! play.rs starts one; checks.rs checks it.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::expect::{Expect, expect};
use super::fixtures::Fixtures;
use super::images::Runtime;
use super::process::{Out, quiet};
use crate::common;

/// A file a volume puts in a container, as a kubelet would write it.
#[derive(Debug, Clone)]
pub struct File {
    pub path: String,
    pub content: Vec<u8>,
    pub mode: u32,
    pub gid: u32,
}

/// A container of the live pod: its rendered spec and where it ran.
#[derive(Debug, Clone)]
pub struct Ctr {
    pub name: String,
    pub spec: Value,
    /// A native sidecar of the rendered spec (an init container with restartPolicy Always),
    /// run as a regular container here.
    pub sidecar: bool,
}

/// A pod of a rendered chart, running in the private store. Dropping it removes the pod and its
/// secrets, by name, and its volumes' directories.
pub struct Pod {
    pub(super) rt: &'static Runtime,
    pub name: String,
    pub dir: PathBuf,
    /// The rendered pod spec, as the chart made it.
    pub spec: Value,
    /// App containers (sidecars included), in the rendered order.
    pub containers: Vec<Ctr>,
    /// Init containers (native sidecars excluded), in order.
    pub inits: Vec<Ctr>,
    pub fixtures: Fixtures,
    /// `name=value` of the pod's sysctls, given to podman as default_sysctls.
    pub sysctls: Vec<String>,
    /// Files of configMap and secret volumes, per container name.
    pub files: BTreeMap<String, Vec<File>>,
    /// Paths each container may write (emptyDir and claim mounts), per container name.
    pub writable: BTreeMap<String, Vec<String>>,
    /// Read-only mounts (config files, secrets), per container name.
    pub read_only: BTreeMap<String, Vec<String>>,
    pub ip: String,
    pub(super) secrets: Vec<String>,
}

impl Drop for Pod {
    fn drop(&mut self) {
        let s = &self.rt.store;
        s.podman(&["pod", "rm", "-f", "-t", "0", &self.name]);
        for sec in &self.secrets {
            s.podman(&["secret", "rm", sec]);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Pod {
    /// The podman name of container `c`.
    pub fn ctr(&self, c: &str) -> String {
        format!("{}-{c}", self.name)
    }

    pub fn podman(&self, args: &[&str]) -> Out {
        self.rt.store.podman(args)
    }

    /// (state, exit code) of container `c`: "running", "exited", "created"...
    pub fn state(&self, c: &str) -> (String, i64) {
        let o = self.podman(&[
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
            &self.ctr(c),
        ]);
        let mut it = o.stdout.split_whitespace();
        (
            it.next().unwrap_or("missing").to_string(),
            it.next().and_then(|x| x.parse().ok()).unwrap_or(-1),
        )
    }

    pub fn logs(&self, c: &str) -> String {
        let o = self.podman(&["logs", &self.ctr(c)]);
        format!("{}{}", o.stdout, quiet(&o.stderr))
    }

    /// `podman ps -a` for this pod and every container's logs, for failure messages.
    pub fn report(&self) -> String {
        let ps = self.podman(&["ps", "-a", "--filter", &format!("pod={}", self.name)]);
        let mut s = format!("--- podman ps -a (pod {})\n{}", self.name, ps.stdout);
        for c in self.inits.iter().chain(&self.containers) {
            let logs = if self.state(&c.name).0 == "missing" {
                "(no such container: podman removes an init container once it has run)\n".into()
            } else {
                self.logs(&c.name)
            };
            s += &format!("--- logs of {}\n{logs}", self.ctr(&c.name));
        }
        s
    }

    /// Wait until container `c` has exited; its exit code.
    pub fn wait_exit(&self, c: &str, limit: Duration) -> Result<i64, String> {
        let start = Instant::now();
        loop {
            let (state, code) = self.state(c);
            if state == "exited" || state == "stopped" {
                return Ok(code);
            }
            if start.elapsed() > limit {
                return Err(format!(
                    "{} still {state} after {limit:?}\n{}",
                    self.ctr(c),
                    self.report()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every declared containerPort of every app container (sidecars included): (container,
    /// port name, number).
    pub fn ports(&self) -> Vec<(String, String, u16)> {
        self.containers
            .iter()
            .flat_map(|c| {
                c.spec["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        (
                            c.name.clone(),
                            p["name"].as_str().unwrap_or("").to_string(),
                            p["containerPort"].as_u64().unwrap_or(0) as u16,
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Wait until every app container runs and every declared port accepts a connection from
    /// the host on the pod IP. Err (with the logs) as soon as a container has exited.
    pub fn wait_serving(&self, limit: Duration) -> Result<(), String> {
        let start = Instant::now();
        let ports = self.ports();
        loop {
            let open = ports.iter().all(|(_, _, p)| self.connect(*p).is_ok());
            let mut down = Vec::new();
            for c in &self.containers {
                let (state, code) = self.state(&c.name);
                if state != "running" {
                    down.push(format!(
                        "{} is {state} (exit code {code})",
                        self.ctr(&c.name)
                    ));
                }
            }
            if open && down.is_empty() {
                return Ok(());
            }
            let pending = |d: &String| d.contains(" is created") || d.contains(" is configured");
            if down.iter().any(|d| !pending(d)) || start.elapsed() > limit {
                let closed: Vec<String> = ports
                    .iter()
                    .filter(|(_, _, p)| self.connect(*p).is_err())
                    .map(|(c, n, p)| format!("{c}:{n}={p}"))
                    .collect();
                return Err(format!(
                    "the pod does not serve (after {:?}): {}; ports not accepting on {}: {:?}\n{}",
                    start.elapsed(),
                    if down.is_empty() {
                        "every container runs".into()
                    } else {
                        down.join(", ")
                    },
                    self.ip,
                    closed,
                    self.report()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn connect(&self, port: u16) -> std::io::Result<TcpStream> {
        let ip: IpAddr = self
            .ip
            .parse()
            .map_err(|e| std::io::Error::other(format!("pod IP {:?}: {e}", self.ip)))?;
        TcpStream::connect_timeout(&SocketAddr::new(ip, port), Duration::from_millis(500))
    }

    /// HTTP GET from the host to the pod IP, as a kubelet's httpGet probe: the status code.
    pub fn http_get(&self, port: u16, path: &str) -> Result<(u16, String), String> {
        let mut s = self
            .connect(port)
            .map_err(|e| format!("connect {}:{port}: {e}", self.ip))?;
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.0\r\nHost: {}:{port}\r\nUser-Agent: kube-probe/1.33\r\n\r\n",
            self.ip
        )
        .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
        let text = common::text(&buf);
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("no HTTP status in {text:?}"))?;
        Ok((code, text))
    }

    pub fn exec(&self, c: &str, argv: &[&str], limit: Duration) -> Out {
        let ctr = self.ctr(c);
        let mut a = vec!["exec", ctr.as_str()];
        a.extend_from_slice(argv);
        self.rt.store.podman_with(&self.rt.store.conf, &a, limit)
    }

    pub fn inspect(&self, c: &str) -> Value {
        let o = self
            .podman(&["inspect", "--format", "json", &self.ctr(c)])
            .expect_ok();
        let v: Value = serde_json::from_str(&o.stdout).expect("inspect json");
        v[0].clone()
    }

    pub fn expectation(&self, c: &Ctr) -> Expect {
        let image = c.spec["image"].as_str().unwrap_or("");
        expect(
            &self.spec,
            &c.spec,
            &self.rt.image_user(image),
            &self.rt.default_caps,
        )
    }
}
