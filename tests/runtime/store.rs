//! The private podman store of one test run (`Store`): its own storage, libpod state, file locks
//! and network definitions, given to podman and buildah by a containers.conf and storage.conf of
//! its own, so the tests never see or touch the machine's default store and parallel runs never
//! meet; and its teardown, by name. Uses process.rs only.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::{Out, PODMAN_LIMIT, run_limited};

/// Paths of one run's private podman: its own storage (graph root, run root), its own libpod
/// state and file locks, its own network definitions. Nothing here touches the machine's
/// default store, so other users' containers are never seen, and parallel runs do not meet.
pub struct Store {
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub storage: PathBuf,
    pub network: String,
    pub(super) scratch: PathBuf,
}

impl Store {
    pub(super) fn at(dir: PathBuf) -> Store {
        let network = fs::read_to_string(dir.join("network"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        Store {
            conf: dir.join("containers.conf"),
            storage: dir.join("storage.conf"),
            scratch: dir.join("scratch"),
            network,
            dir,
        }
    }

    /// containers.conf for this store; `sysctls` become default_sysctls (how a pod's sysctls
    /// reach `podman kube play`, which ignores spec.securityContext.sysctls).
    pub fn containers_conf(&self, path: &Path, sysctls: &[String]) -> String {
        let list = |v: &[String]| v.iter().map(|s| toml_str(s)).collect::<Vec<_>>().join(", ");
        format!(
            "# Written by tests/runtime.rs for one test run (never /etc): see its module doc.\n\
             [containers]\n\
             # The sandbox's hard limits are nofile 20000 and nproc ~96000; podman's defaults ask\n\
             # for more and every container would fail with setrlimit: Operation not permitted.\n\
             default_ulimits = [\"nofile=20000:20000\", \"nproc=4096:4096\"]\n\
             # From the rendered pod spec's securityContext.sysctls, never added otherwise.\n\
             default_sysctls = [{}]\n\
             [network]\n\
             network_config_dir = {}\n\
             [engine]\n\
             runtime = \"runc\"\n\
             cgroup_manager = \"cgroupfs\"\n\
             events_logger = \"file\"\n\
             # File locks in the private tmp_dir: the machine's shared-memory locks are never used.\n\
             lock_type = \"file\"\n\
             tmp_dir = {}\n\
             # conmon runs `podman container cleanup` when a container exits: it must see this\n\
             # configuration too, or it would use the machine's default locks and directories.\n\
             conmon_env_vars = [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", {}, {}]\n",
            list(sysctls),
            toml_str(&self.dir.join("networks").display().to_string()),
            toml_str(&self.dir.join("libpod").display().to_string()),
            toml_str(&format!("CONTAINERS_CONF={}", path.display())),
            toml_str(&format!(
                "CONTAINERS_STORAGE_CONF={}",
                self.storage.display()
            )),
        )
    }

    pub(super) fn write_confs(&self) {
        fs::create_dir_all(&self.scratch).expect("scratch dir");
        fs::write(&self.conf, self.containers_conf(&self.conf, &[])).expect("containers.conf");
        fs::write(
            &self.storage,
            format!(
                "[storage]\ndriver = \"overlay\"\ngraphroot = {}\nrunroot = {}\n",
                toml_str(&self.dir.join("storage").display().to_string()),
                toml_str(&self.dir.join("run").display().to_string()),
            ),
        )
        .expect("storage.conf");
    }

    fn command(&self, tool: &str, conf: &Path) -> Command {
        let mut c = Command::new(tool);
        c.env("CONTAINERS_CONF", conf)
            .env("CONTAINERS_STORAGE_CONF", &self.storage)
            .env_remove("CONTAINER_HOST")
            .env_remove("CONTAINER_CONNECTION")
            .env_remove("CONTAINERS_REGISTRIES_CONF");
        c
    }

    pub fn podman_with(&self, conf: &Path, args: &[&str], limit: Duration) -> Out {
        run_limited(
            self.command("podman", conf).args(args),
            limit,
            &self.scratch,
        )
    }

    pub fn podman(&self, args: &[&str]) -> Out {
        self.podman_with(&self.conf, args, PODMAN_LIMIT)
    }

    pub(super) fn buildah(&self, args: &[&str]) -> Out {
        run_limited(
            self.command("buildah", &self.conf).args(args),
            PODMAN_LIMIT,
            &self.scratch,
        )
    }

    fn names(&self, args: &[&str]) -> Vec<String> {
        let o = self.podman(args);
        o.stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.contains("<none>"))
            .map(String::from)
            .collect()
    }

    /// Remove what this store holds, each by name (pods, volumes, secrets, images, the network),
    /// then the store itself. Everything listed lives in this private store, so it is ours.
    pub fn teardown(&self) {
        if !self.conf.is_file() {
            let _ = fs::remove_dir_all(&self.dir);
            return;
        }
        let _ = fs::create_dir_all(&self.scratch);
        let pods = self.names(&["pod", "ps", "--format", "{{.Name}}"]);
        if !pods.is_empty() {
            let mut a = vec!["pod", "rm", "-f", "-t", "0"];
            a.extend(pods.iter().map(String::as_str));
            self.podman(&a);
        }
        let ctrs = self.names(&["ps", "-a", "--format", "{{.Names}}"]);
        if !ctrs.is_empty() {
            let mut a = vec!["rm", "-f", "-t", "0"];
            a.extend(ctrs.iter().map(String::as_str));
            self.podman(&a);
        }
        for (list, rm) in [
            (
                &["volume", "ls", "--format", "{{.Name}}"][..],
                &["volume", "rm", "-f"][..],
            ),
            (
                &["secret", "ls", "--format", "{{.Name}}"][..],
                &["secret", "rm"][..],
            ),
            (
                &["images", "--format", "{{.Repository}}:{{.Tag}}"][..],
                &["rmi", "-f"][..],
            ),
        ] {
            let names = self.names(list);
            if !names.is_empty() {
                let mut a = rm.to_vec();
                a.extend(names.iter().map(String::as_str));
                self.podman(&a);
            }
        }
        if !self.network.is_empty() {
            self.podman(&["network", "rm", "-f", &self.network]);
        }
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!(
                "runtime tests: could not remove {}: {e}",
                self.dir.display()
            );
        }
    }
}

fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
