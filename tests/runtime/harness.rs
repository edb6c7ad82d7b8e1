//! The machinery of the runtime tier (tests/runtime.rs): a private podman store, the test images,
//! charts rendered by both helms, the test's copy of a rendered pod for `podman kube play`, and
//! the checks run against the live pod. The module doc of tests/runtime.rs says what is brought in
//! which way and why.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common;

/// Time limits. Every child and every wait has one.
pub const PODMAN_LIMIT: Duration = Duration::from_secs(60);
pub const PLAY_LIMIT: Duration = Duration::from_secs(90);
pub const SERVE_LIMIT: Duration = Duration::from_secs(30);
pub const JOB_LIMIT: Duration = Duration::from_secs(30);
const HELM_LIMIT: Duration = Duration::from_secs(120);

/// Programs the examples name for init containers, cron jobs and exec probes. In the test image
/// each is a symlink to tests/runtime/image/hks-fake, so the example's own command runs as
/// written. A new example naming another program fails with "no such file or directory" in the
/// pod's logs: add the path here.
pub const FAKE_PROGRAMS: &[&str] = &[
    "/app/payments",
    "/app/catalog",
    "/app/ledger",
    "/app/orders",
    "/app/rollup",
    "/app/bin/send-invoices",
    "/bin/report",
    "/bin/cleanup",
    "/bin/grpc_health_probe",
    "/usr/bin/ledgerdb-init",
];

/// Files served by the test image from /www: every probe path the examples use (busybox httpd
/// ignores a query string).
const WWW_FILES: &[&str] = &[
    "index.html",
    "healthz",
    "health",
    "livez",
    "readyz",
    "started",
    "live",
    "ready",
];

// ---------------------------------------------------------------------------------------------
// Children with a time limit

pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub what: String,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
    /// The command, its exit and its output, without podman's harmless noise on this machine
    /// (no syslog, no systemd to run healthcheck timers).
    pub fn both(&self) -> String {
        format!(
            "$ {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
            self.what,
            self.code.map_or_else(
                || "none (killed at its time limit)".into(),
                |c| c.to_string()
            ),
            self.stdout,
            quiet(&self.stderr)
        )
    }
    pub fn expect_ok(self) -> Out {
        assert!(self.ok(), "command failed:\n{}", self.both());
        self
    }
}

/// stderr without the lines podman prints on every command here.
pub fn quiet(s: &str) -> String {
    s.lines()
        .filter(|l| {
            !l.contains("failed to connect to syslog")
                && !l.contains("unable to get systemd connection")
                && !l.contains("[conmon:d]: failed to write to /proc/self/oom_score_adj")
                && !l.trim().is_empty()
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Run `cmd` to the end, killing it after `limit`. Its output goes to files under `scratch`, so a
/// daemon that inherits them (conmon) cannot keep a pipe open.
pub fn run_limited(cmd: &mut Command, limit: Duration, scratch: &Path) -> Out {
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let (op, ep) = (
        scratch.join(format!("cmd-{n}.out")),
        scratch.join(format!("cmd-{n}.err")),
    );
    let what = format!("{cmd:?}");
    let o = fs::File::create(&op).unwrap_or_else(|e| panic!("{}: {e}", op.display()));
    let e = fs::File::create(&ep).unwrap_or_else(|e| panic!("{}: {e}", ep.display()));
    cmd.stdin(Stdio::null()).stdout(o).stderr(e);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let read = |p: &Path| {
        let t = fs::read(p).map(|b| common::text(&b)).unwrap_or_default();
        let _ = fs::remove_file(p);
        t
    };
    Out {
        code,
        stdout: read(&op),
        stderr: read(&ep),
        what,
    }
}

// ---------------------------------------------------------------------------------------------
// The private podman store of one test run

/// Paths of one run's private podman: its own storage (graph root, run root), its own libpod
/// state and file locks, its own network definitions. Nothing here touches the machine's
/// default store, so other users' containers are never seen, and parallel runs do not meet.
pub struct Store {
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub storage: PathBuf,
    pub network: String,
    scratch: PathBuf,
}

impl Store {
    fn at(dir: PathBuf) -> Store {
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

    fn write_confs(&self) {
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

    fn buildah(&self, args: &[&str]) -> Out {
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

// ---------------------------------------------------------------------------------------------
// The runtime: store, network, images

pub struct Image {
    pub repository: String,
    pub tag: String,
}

impl Image {
    pub fn reference(&self) -> String {
        format!("{}:{}", self.repository, self.tag)
    }
}

pub struct Runtime {
    pub store: Store,
    /// busybox, its applets, /www with the probe paths, the fake programs, hks-serve; its own
    /// command is `httpd -f -p 80 -h /www`, as root (no USER), like most public images.
    pub web: Image,
    /// The same files; its entrypoint (hks-writer) writes to /var/cache/app before serving.
    pub writer: Image,
    image_users: Mutex<HashMap<String, String>>,
}

/// The one runtime of this test binary, started on first use and torn down at exit.
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: registers a plain extern "C" function, once. libtest ends the process with
        // exit() (or by returning from main), which runs it, failures included.
        unsafe {
            libc::atexit(teardown_at_exit);
        }
    });
    RT.get_or_init(Runtime::start)
}

static TEARDOWN: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn teardown_at_exit() {
    if let Some(dir) = TEARDOWN.get() {
        Store::at(dir.clone()).teardown();
    }
}

const INSTALL: &str = "run scripts/install-test-services.sh (as root or with passwordless sudo; \
                       scripts/test.sh does): it installs podman, buildah, runc, netavark, \
                       catatonit, iptables and busybox-static from Debian";

/// Whether an ELF file names a program interpreter (is dynamically linked).
fn elf_has_interpreter(b: &[u8]) -> bool {
    let u16_at = |o: usize| {
        b.get(o..o + 2)
            .map(|x| u16::from_le_bytes([x[0], x[1]]) as usize)
    };
    let u64_at = |o: usize| {
        b.get(o..o + 8)
            .map(|x| u64::from_le_bytes(x.try_into().unwrap()) as usize)
    };
    if !b.starts_with(b"\x7fELF") {
        return false;
    }
    let (Some(off), Some(size), Some(n)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return false;
    };
    (0..n).any(|i| b.get(off + i * size..off + i * size + 4) == Some(&3u32.to_le_bytes()[..]))
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .any(|d| d.join(tool).is_file())
}

impl Runtime {
    fn start() -> Runtime {
        for tool in ["podman", "buildah", "runc"] {
            assert!(on_path(tool), "{tool} is not on PATH; {INSTALL}");
        }
        let busybox = Path::new("/bin/busybox");
        let bytes = fs::read(busybox).unwrap_or_else(|e| panic!("/bin/busybox: {e}; {INSTALL}"));
        assert!(
            !elf_has_interpreter(&bytes),
            "/bin/busybox is dynamically linked (Debian's busybox, not busybox-static): the \
             test images hold nothing but busybox; {INSTALL}"
        );
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        assert_eq!(
            euid, 0,
            "the runtime tests run podman as root (a bridge network the host reaches, as a \
             kubelet reaches pod IPs); run them as root"
        );

        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hks-runtime");
        fs::create_dir_all(&base).expect("runtime base dir");
        let me = std::process::id();
        // Stores of earlier runs that did not end normally (killed): their process is gone.
        for entry in fs::read_dir(&base)
            .expect("read runtime base dir")
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok(pid) = name.parse::<u32>()
                && pid != me
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                Store::at(entry.path()).teardown();
            }
        }

        let dir = base.join(me.to_string());
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("runtime dir");
        let _ = TEARDOWN.set(dir.clone());
        let mut store = Store::at(dir);
        store.write_confs();
        let info = store.podman(&["info", "--format", "{{.Store.GraphRoot}}"]);
        assert!(
            info.ok(),
            "podman does not start with the test's configuration:\n{}",
            info.both()
        );
        store.network = Self::make_network(&store, me);

        let tag = format!("run{me}");
        let rt = Runtime {
            web: Image {
                repository: "localhost/hks-test/web".into(),
                tag: tag.clone(),
            },
            writer: Image {
                repository: "localhost/hks-test/writer".into(),
                tag,
            },
            store,
            image_users: Mutex::new(HashMap::new()),
        };
        rt.build_images();
        // Build podman's pause image now, once, rather than in parallel pods.
        let warm = format!("hks-warm-{me}");
        rt.store
            .podman(&["pod", "create", "--name", &warm])
            .expect_ok();
        rt.store
            .podman(&["pod", "rm", "-f", "-t", "0", &warm])
            .expect_ok();
        rt
    }

    /// A bridge network of this run only, with DNS off, on a /24 the host does not use yet
    /// (podman refuses a subnet already on the host), and a bridge interface named after the
    /// run, so no other podman's `podmanN` bridge is shared.
    fn make_network(store: &Store, pid: u32) -> String {
        let name = format!("hks-rt-{pid}");
        fs::write(store.dir.join("network"), &name).expect("network file");
        let mut last = String::new();
        for i in 0..40u32 {
            let subnet = format!("10.213.{}.0/24", (pid + i * 7) % 250 + 1);
            let o = store.podman(&[
                "network",
                "create",
                "--disable-dns",
                "--subnet",
                &subnet,
                &name,
            ]);
            if o.ok() {
                let path = store.dir.join("networks").join(format!("{name}.json"));
                let mut net: Value =
                    serde_json::from_str(&fs::read_to_string(&path).expect("network json"))
                        .expect("network json parses");
                net["network_interface"] = json!(format!("hksrt{}", pid % 10_000_000));
                fs::write(&path, serde_json::to_string_pretty(&net).unwrap()).unwrap();
                return name;
            }
            last = o.both();
        }
        panic!("cannot create the test network:\n{last}");
    }

    fn build_images(&self) {
        let root = self.store.dir.join("rootfs");
        let _ = fs::remove_dir_all(&root);
        let mkdir = |p: &Path| fs::create_dir_all(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        for d in ["bin", "www", "app/bin", "usr/bin", "var/cache/app", "etc"] {
            mkdir(&root.join(d));
        }
        fs::copy("/bin/busybox", root.join("bin/busybox")).expect("copy busybox");
        let list = run_limited(
            Command::new("/bin/busybox").arg("--list"),
            PODMAN_LIMIT,
            &self.store.scratch,
        )
        .expect_ok();
        for applet in list.stdout.lines().map(str::trim) {
            if !applet.is_empty() && applet != "busybox" {
                std::os::unix::fs::symlink("busybox", root.join("bin").join(applet))
                    .unwrap_or_else(|e| panic!("applet {applet}: {e}"));
            }
        }
        let image_files = common::root().join("tests/runtime/image");
        for script in ["hks-serve", "hks-fake", "hks-writer"] {
            let to = root.join("bin").join(script);
            fs::copy(image_files.join(script), &to).expect("copy script");
            fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).unwrap();
        }
        for p in FAKE_PROGRAMS {
            let to = root.join(p.trim_start_matches('/'));
            let _ = fs::remove_file(&to);
            std::os::unix::fs::symlink("/bin/hks-fake", &to).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
        for f in WWW_FILES {
            fs::write(root.join("www").join(f), "ok\n").unwrap();
        }

        let from = self.store.buildah(&["from", "scratch"]).expect_ok();
        let ctr = from.stdout.trim().to_string();
        let root_arg = format!("{}/", root.display());
        self.store
            .buildah(&["copy", "--quiet", &ctr, &root_arg, "/"])
            .expect_ok();
        self.store
            .buildah(&[
                "config",
                "--workingdir",
                "/www",
                "--env",
                "PATH=/bin:/usr/bin",
                "--cmd",
                r#"["/bin/httpd","-f","-p","80","-h","/www"]"#,
                &ctr,
            ])
            .expect_ok();
        self.store
            .buildah(&["commit", "--quiet", &ctr, &self.web.reference()])
            .expect_ok();
        self.store
            .buildah(&["config", "--cmd", r#"["/bin/hks-writer","8080"]"#, &ctr])
            .expect_ok();
        self.store
            .buildah(&["commit", "--quiet", &ctr, &self.writer.reference()])
            .expect_ok();
        self.store.buildah(&["rm", &ctr]).expect_ok();
    }

    /// The image's USER ("" when it has none), as a kubelet gets it from the runtime.
    pub fn image_user(&self, image: &str) -> String {
        if let Some(u) = self.image_users.lock().unwrap().get(image) {
            return u.clone();
        }
        let o = self
            .store
            .podman(&["image", "inspect", "--format", "{{.Config.User}}", image])
            .expect_ok();
        let user = o.stdout.trim().to_string();
        self.image_users
            .lock()
            .unwrap()
            .insert(image.into(), user.clone());
        user
    }
}

// ---------------------------------------------------------------------------------------------
// Charts: generated by our binary, rendered by helm 3 and helm 4

pub struct Chart {
    pub name: String,
    pub dir: PathBuf,
    pub values: Value,
    tmp: PathBuf,
    _keep: std::sync::Arc<tempfile::TempDir>,
}

/// `helm-k8s-service generate SPEC -o DIR`: one chart per service of the spec. Err carries the
/// binary's message (e.g. an unknown field).
pub fn generate(spec: &Path, args: &[&str]) -> Result<Vec<Chart>, String> {
    let tmp = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    let out = tmp.path().join("charts");
    let o = run_limited(
        Command::new(common::bin())
            .arg("generate")
            .arg(spec)
            .arg("-o")
            .arg(&out)
            .args(args),
        HELM_LIMIT,
        tmp.path(),
    );
    if !o.ok() {
        return Err(o.both());
    }
    let mut dirs: Vec<PathBuf> = fs::read_dir(&out)
        .expect("generated charts")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Chart.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "generate wrote no chart:\n{}", o.both());
    Ok(dirs
        .into_iter()
        .map(|dir| {
            let values = yaml(&dir.join("values.yaml"));
            Chart {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                dir,
                values,
                tmp: tmp.path().to_path_buf(),
                _keep: tmp.clone(),
            }
        })
        .collect())
}

pub fn yaml(p: &Path) -> Value {
    let t = fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_saphyr::from_str(&t).unwrap_or_else(|e| panic!("{} does not parse: {e}", p.display()))
}

/// Values that run `chart` on the local test image: the image (no digest, never pulled); with
/// `serve`, the service's command replaced by hks-serve on its declared ports; sidecars and init
/// containers with an image of their own get the test image (sidecars serve their ports).
pub fn local_values(chart: &Chart, image: &Image, serve: bool) -> Value {
    let v = &chart.values;
    let mut o = json!({
        "image": {
            "repository": image.repository,
            "tag": image.tag,
            "digest": "",
            "pullPolicy": "Never",
        }
    });
    let ports = |list: &Value| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["containerPort"].as_i64())
            .map(|p| p.to_string())
            .collect()
    };
    if serve {
        o["command"] = json!(["/bin/hks-serve"]);
        o["args"] = json!(ports(&v["ports"]));
    }
    if let Some(list) = v["sidecars"].as_array().filter(|l| !l.is_empty()) {
        let patched: Vec<Value> = list
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s["image"] = json!(image.reference());
                s["command"] = json!(["/bin/hks-serve"]);
                s["args"] = json!(ports(&s["ports"]));
                s
            })
            .collect();
        o["sidecars"] = json!(patched);
    }
    if let Some(list) = v["initContainers"].as_array().filter(|l| !l.is_empty()) {
        let patched: Vec<Value> = list
            .iter()
            .map(|s| {
                let mut s = s.clone();
                if s["image"].as_str().is_some_and(|i| !i.is_empty()) {
                    s["image"] = json!(image.reference());
                }
                s
            })
            .collect();
        o["initContainers"] = json!(patched);
    }
    o
}

/// `helm template RELEASE CHART -f VALUES` with helm 3 and helm 4; the pod templates (and the
/// ConfigMaps the pods mount) of both must be identical. Returns helm 3's objects.
pub fn render(chart: &Chart, release: &str, values: &Value) -> Result<Vec<Value>, String> {
    let file = chart.tmp.join(format!("values-{release}.json"));
    fs::write(&file, serde_json::to_string_pretty(values).unwrap()).unwrap();
    let mut first: Option<(String, Vec<Value>)> = None;
    for (name, helm) in common::helms() {
        let mut cmd = Command::new(&helm);
        cmd.args(["template", release])
            .arg(&chart.dir)
            .args(["--namespace", "rt", "-f"])
            .arg(&file);
        let o = helm_run(&mut cmd, &chart.tmp);
        if !o.ok() {
            return Err(format!("{name}: {}", o.both()));
        }
        let docs: Vec<Value> = serde_saphyr::from_multiple(&o.stdout)
            .map_err(|e| format!("{name} output does not parse: {e}\n{}", o.stdout))?;
        let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
        match &first {
            None => first = Some((name.into(), docs)),
            Some((n0, d0)) => {
                let (a, b) = (pod_objects(d0), pod_objects(&docs));
                assert!(
                    a == b,
                    "{n0} and {name} render different pods for {}:\n{n0}: {}\n{name}: {}",
                    chart.name,
                    serde_json::to_string_pretty(&a).unwrap(),
                    serde_json::to_string_pretty(&b).unwrap()
                );
            }
        }
    }
    Ok(first.expect("two helms").1)
}

/// helm with its own config, data and cache homes (as tests/common's `run`) and a time limit.
fn helm_run(cmd: &mut Command, scratch: &Path) -> Out {
    for var in [
        "KUBECONFIG",
        "HELM_NAMESPACE",
        "HELM_KUBECONTEXT",
        "HELM_DEBUG",
        "SOURCE_DATE_EPOCH",
    ] {
        cmd.env_remove(var);
    }
    let home = helm_home();
    cmd.env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_CACHE_HOME", home.join("cache"));
    run_limited(cmd, HELM_LIMIT, scratch)
}

fn helm_home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// Every pod template and ConfigMap, by kind and name: what the runtime tier runs.
fn pod_objects(docs: &[Value]) -> Vec<(String, String, Value)> {
    let mut out: Vec<(String, String, Value)> = docs
        .iter()
        .filter_map(|d| {
            let kind = d["kind"].as_str()?.to_string();
            let name = d["metadata"]["name"].as_str()?.to_string();
            let body = match kind.as_str() {
                "Deployment" | "StatefulSet" => d["spec"]["template"].clone(),
                "CronJob" => d["spec"]["jobTemplate"]["spec"]["template"].clone(),
                "ConfigMap" => d["data"].clone(),
                _ => return None,
            };
            Some((kind, name, body))
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

/// A pod the chart makes: the workload's template or a CronJob's.
pub struct Source {
    pub kind: String,
    pub name: String,
    pub template: Value,
    /// volumeClaimTemplates of a StatefulSet.
    pub claims: Vec<String>,
}

pub fn sources(docs: &[Value]) -> Vec<Source> {
    docs.iter()
        .filter_map(|d| {
            let kind = d["kind"].as_str()?;
            let name = d["metadata"]["name"].as_str()?.to_string();
            let (template, claims) = match kind {
                "Deployment" | "StatefulSet" => (
                    d["spec"]["template"].clone(),
                    d["spec"]["volumeClaimTemplates"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c["metadata"]["name"].as_str().map(String::from))
                        .collect(),
                ),
                "CronJob" => (
                    d["spec"]["jobTemplate"]["spec"]["template"].clone(),
                    Vec::new(),
                ),
                _ => return None,
            };
            Some(Source {
                kind: kind.into(),
                name,
                template,
                claims,
            })
        })
        .collect()
}

/// The workload (Deployment or StatefulSet) among `sources`, if the chart has one.
pub fn workload(sources: &[Source]) -> Option<&Source> {
    sources.iter().find(|s| s.kind != "CronJob")
}

pub fn cron_jobs(sources: &[Source]) -> Vec<&Source> {
    sources.iter().filter(|s| s.kind == "CronJob").collect()
}

// ---------------------------------------------------------------------------------------------
// What a container should look like, from the rendered pod spec

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

// ---------------------------------------------------------------------------------------------
// The test's copy of a rendered pod, and the live pod

/// Secrets and ConfigMaps the pod refers to but the chart does not make (they exist beforehand
/// in a cluster): made up by the test, key by key.
#[derive(Default, Debug)]
pub struct Fixtures {
    pub secrets: BTreeMap<String, BTreeMap<String, String>>,
    pub config_maps: BTreeMap<String, BTreeMap<String, String>>,
}

impl Fixtures {
    fn value(kind: &str, name: &str, key: &str) -> String {
        format!("hks-{kind}:{name}:{key}")
    }
    /// The key an envFrom-only object gets.
    pub fn from_key(name: &str) -> String {
        let s: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        format!("HKS_FROM_{s}")
    }
    fn add(&mut self, secret: bool, name: &str, key: Option<&str>) {
        let (map, kind) = if secret {
            (&mut self.secrets, "secret")
        } else {
            (&mut self.config_maps, "cm")
        };
        let e = map.entry(name.to_string()).or_default();
        if let Some(k) = key {
            e.insert(k.to_string(), Self::value(kind, name, k));
        }
    }
    /// Every object the containers and volumes need (optional references get none: the pod
    /// must start without them).
    fn collect(spec: &Value, chart_config_maps: &BTreeMap<String, Value>) -> Fixtures {
        let mut f = Fixtures::default();
        let containers = spec["containers"]
            .as_array()
            .into_iter()
            .chain(spec["initContainers"].as_array())
            .flatten();
        for c in containers {
            for e in c["env"].as_array().into_iter().flatten() {
                for (field, secret) in [("secretKeyRef", true), ("configMapKeyRef", false)] {
                    let r = &e["valueFrom"][field];
                    if let (Some(n), Some(k)) = (r["name"].as_str(), r["key"].as_str())
                        && r["optional"].as_bool() != Some(true)
                        && !chart_config_maps.contains_key(n)
                    {
                        f.add(secret, n, Some(k));
                    }
                }
            }
            for e in c["envFrom"].as_array().into_iter().flatten() {
                for (field, secret) in [("secretRef", true), ("configMapRef", false)] {
                    let r = &e[field];
                    if let Some(n) = r["name"].as_str()
                        && r["optional"].as_bool() != Some(true)
                        && !chart_config_maps.contains_key(n)
                    {
                        f.add(secret, n, Some(&Self::from_key(n)));
                    }
                }
            }
        }
        for v in spec["volumes"].as_array().into_iter().flatten() {
            if let Some(n) = v["secret"]["secretName"].as_str() {
                let items: Vec<&str> = v["secret"]["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["key"].as_str())
                    .collect();
                for k in items {
                    f.add(true, n, Some(k));
                }
            }
            if let Some(n) = v["configMap"]["name"].as_str()
                && !chart_config_maps.contains_key(n)
            {
                for k in v["configMap"]["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["key"].as_str())
                {
                    f.add(false, n, Some(k));
                }
            }
        }
        f
    }
    pub fn get(&self, secret: bool, name: &str, key: &str) -> Option<&String> {
        let m = if secret {
            &self.secrets
        } else {
            &self.config_maps
        };
        m.get(name)?.get(key)
    }
}

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

pub struct Options {
    /// Apply kubelet's runAsNonRoot check (podman has none) before starting anything.
    pub kubelet_checks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kubelet_checks: true,
        }
    }
}

static PODS: AtomicUsize = AtomicUsize::new(0);

/// A pod of a rendered chart, running in the private store. Dropping it removes the pod and its
/// secrets, by name, and its volumes' directories.
pub struct Pod {
    rt: &'static Runtime,
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
    secrets: Vec<String>,
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

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// JSON with every non-ASCII character escaped as YAML escapes it (`\\uXXXX`, `\\UXXXXXXXX`):
/// podman reads the file as YAML 1.1, where a raw NEL (U+0085) inside a string is a line break
/// and would be folded into a space, and where a JSON surrogate pair is an error.
fn ascii_json(v: &Value) -> String {
    let mut out = String::new();
    for c in serde_json::to_string(v).unwrap().chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            n @ 0x80..=0xffff => out += &format!("\\u{n:04x}"),
            n => out += &format!("\\U{n:08x}"),
        }
    }
    out
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// Quote for sh.
pub fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Runtime {
    /// Run the pod of `source` (rendered with `docs`) with `podman kube play`, after turning the
    /// rendered pod into what podman 4.3 honours (see tests/runtime.rs). `label` names the pod.
    pub fn play(
        &'static self,
        label: &str,
        source: &Source,
        docs: &[Value],
        opts: Options,
    ) -> Result<Pod, String> {
        let n = PODS.fetch_add(1, Ordering::SeqCst);
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(24)
            .collect();
        let name = format!("hks{n}-{}", label.trim_matches('-'));
        let dir = self.store.dir.join("pods").join(&name);
        fs::create_dir_all(&dir).expect("pod dir");
        let rendered = source.template["spec"].clone();
        let chart_cms: BTreeMap<String, Value> = docs
            .iter()
            .filter(|d| d["kind"] == "ConfigMap")
            .filter_map(|d| Some((d["metadata"]["name"].as_str()?.to_string(), d.clone())))
            .collect();
        let fixtures = Fixtures::collect(&rendered, &chart_cms);
        let mut pod = Pod {
            rt: self,
            name: name.clone(),
            dir: dir.clone(),
            spec: rendered.clone(),
            containers: Vec::new(),
            inits: Vec::new(),
            fixtures,
            sysctls: rendered["securityContext"]["sysctls"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| {
                    let value = match &s["value"] {
                        Value::String(v) => v.clone(),
                        Value::Null => return None,
                        other => other.to_string(),
                    };
                    Some(format!("{}={value}", s["name"].as_str()?))
                })
                .collect(),
            files: BTreeMap::new(),
            writable: BTreeMap::new(),
            read_only: BTreeMap::new(),
            ip: String::new(),
            secrets: Vec::new(),
        };
        for c in rendered["initContainers"].as_array().into_iter().flatten() {
            let ctr = Ctr {
                name: c["name"].as_str().unwrap_or("").into(),
                spec: c.clone(),
                sidecar: c["restartPolicy"] == "Always",
            };
            if ctr.sidecar {
                pod.containers.push(ctr);
            } else {
                pod.inits.push(ctr);
            }
        }
        let mut app: Vec<Ctr> = rendered["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| Ctr {
                name: c["name"].as_str().unwrap_or("").into(),
                spec: c.clone(),
                sidecar: false,
            })
            .collect();
        app.append(&mut pod.containers);
        pod.containers = app;

        if opts.kubelet_checks {
            for c in pod.containers.iter().chain(&pod.inits) {
                let image = c.spec["image"].as_str().unwrap_or("");
                kubelet_run_as_non_root(&name, &rendered, &c.spec, &self.image_user(image))
                    .map_err(|m| format!("CreateContainerConfigError: {m}"))?;
            }
        }

        let copy = pod.copy_for_podman(source, &chart_cms);
        for (sname, data) in &pod.fixtures.secrets {
            // podman 4.3's kube play reads secretKeyRef/secretRef from a podman secret holding a
            // JSON map of base64 values (a Secret object in the YAML is stored in a form its own
            // reader rejects: "secret ... is not valid JSON").
            let m: BTreeMap<&String, String> =
                data.iter().map(|(k, v)| (k, b64(v.as_bytes()))).collect();
            let file = dir.join(format!("secret-{sname}.json"));
            fs::write(&file, serde_json::to_string(&m).unwrap()).unwrap();
            let o = self
                .store
                .podman(&["secret", "create", sname, &file.display().to_string()]);
            if !o.ok() {
                return Err(format!(
                    "cannot create the podman secret {sname}:\n{}",
                    o.both()
                ));
            }
            pod.secrets.push(sname.clone());
        }
        let mut yaml = String::new();
        for cm in chart_cms.values() {
            yaml += &ascii_json(cm);
            yaml += "\n---\n";
        }
        for (cname, data) in &pod.fixtures.config_maps {
            yaml += &ascii_json(&json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": cname}, "data": data,
            }));
            yaml += "\n---\n";
        }
        yaml += &ascii_json(&copy);
        yaml.push('\n');
        let play = dir.join("play.yaml");
        fs::write(&play, yaml).unwrap();
        let conf = dir.join("containers.conf");
        fs::write(&conf, self.store.containers_conf(&conf, &pod.sysctls)).unwrap();
        let o = self.store.podman_with(
            &conf,
            &[
                "kube",
                "play",
                "--network",
                &self.store.network,
                &play.display().to_string(),
            ],
            PLAY_LIMIT,
        );
        if !o.ok() {
            return Err(format!(
                "podman kube play failed:\n{}\n{}",
                o.both(),
                pod.report()
            ));
        }
        let infra = self
            .store
            .podman(&["pod", "inspect", "--format", "{{.InfraContainerID}}", &name])
            .expect_ok();
        let ip = self
            .store
            .podman(&[
                "inspect",
                "--format",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                infra.stdout.trim(),
            ])
            .expect_ok();
        pod.ip = ip.stdout.trim().to_string();
        Ok(pod)
    }
}

impl Pod {
    /// The rendered pod turned into what podman 4.3's `kube play` runs as a kubelet would (each
    /// change is listed in tests/runtime.rs's module doc).
    fn copy_for_podman(&mut self, source: &Source, chart_cms: &BTreeMap<String, Value>) -> Value {
        let mut spec = self.spec.clone();
        spec["restartPolicy"] = json!("Never");
        // Native sidecars become regular containers; the rest stay init containers.
        let mut containers: Vec<Value> = spec["containers"].as_array().cloned().unwrap_or_default();
        let mut inits = Vec::new();
        for c in spec["initContainers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if c["restartPolicy"] == "Always" {
                let mut c = c;
                c.as_object_mut().unwrap().remove("restartPolicy");
                containers.push(c);
            } else {
                inits.push(c);
            }
        }
        // fsGroup as a supplementary group, as a kubelet gives it.
        if let Some(g) = spec["securityContext"]["fsGroup"].as_u64() {
            let mut sup: Vec<Value> = spec["securityContext"]["supplementalGroups"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !sup.iter().any(|x| x.as_u64() == Some(g)) {
                sup.push(json!(g));
            }
            spec["securityContext"]["supplementalGroups"] = json!(sup);
        }
        let fs_group = spec["securityContext"]["fsGroup"]
            .as_u64()
            .map(|g| g as u32);

        // A directory as a kubelet makes one for a volume: group fsGroup with g+rwx and setgid
        // (SetVolumeOwnership), `mode` otherwise.
        let volume_dir = |name: String, mode: u32| -> PathBuf {
            let p = self.dir.join(name);
            fs::create_dir_all(&p).unwrap();
            std::os::unix::fs::chown(&p, Some(0), Some(fs_group.unwrap_or(0))).unwrap();
            let mode = if fs_group.is_some() {
                mode | 0o2070
            } else {
                mode
            };
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
            p
        };

        let mut volumes = Vec::new();
        let mut materialized: BTreeMap<String, (PathBuf, Vec<(String, File)>)> = BTreeMap::new();
        let mut writable_vols = BTreeSet::new();
        for v in spec["volumes"].as_array().cloned().unwrap_or_default() {
            let vname = v["name"].as_str().unwrap_or("").to_string();
            if v.get("emptyDir").is_some() {
                // podman 4.3 makes an emptyDir a named volume called after the pod's volume
                // ("tmp"), shared by every pod that has one, and fills it with the image's
                // directory at that path, owner and mode included. A kubelet's is empty, 0777.
                let host = volume_dir(format!("empty-{vname}"), 0o777);
                writable_vols.insert(vname.clone());
                volumes
                    .push(json!({"name": vname, "hostPath": {"path": host, "type": "Directory"}}));
            } else if v.get("configMap").is_some() || v.get("secret").is_some() {
                // podman 4.3 ignores subPath and defaultMode on these: write the files as a
                // kubelet does and bind them in (hostPath).
                let secret = v.get("secret").is_some();
                let src = if secret {
                    &v["secret"]
                } else {
                    &v["configMap"]
                };
                let oname = if secret {
                    src["secretName"].as_str()
                } else {
                    src["name"].as_str()
                }
                .unwrap_or("")
                .to_string();
                let data: BTreeMap<String, String> = if let Some(cm) = chart_cms.get(&oname) {
                    cm["data"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                } else if secret {
                    self.fixtures
                        .secrets
                        .get(&oname)
                        .cloned()
                        .unwrap_or_default()
                } else {
                    self.fixtures
                        .config_maps
                        .get(&oname)
                        .cloned()
                        .unwrap_or_default()
                };
                let default_mode = src["defaultMode"].as_u64().unwrap_or(0o644) as u32;
                let items: Vec<(String, String, u32)> = match src["items"].as_array() {
                    Some(items) => items
                        .iter()
                        .map(|i| {
                            (
                                i["key"].as_str().unwrap_or("").to_string(),
                                i["path"].as_str().unwrap_or("").to_string(),
                                i["mode"].as_u64().map_or(default_mode, |m| m as u32),
                            )
                        })
                        .collect(),
                    None => data
                        .keys()
                        .map(|k| (k.clone(), k.clone(), default_mode))
                        .collect(),
                };
                let host = self.dir.join(format!("vol-{vname}"));
                fs::create_dir_all(&host).unwrap();
                fs::set_permissions(&host, fs::Permissions::from_mode(0o755)).unwrap();
                let mut files = Vec::new();
                for (key, path, mode) in items {
                    let content = data.get(&key).cloned().unwrap_or_default();
                    let p = host.join(&path);
                    fs::write(&p, &content).unwrap();
                    // A kubelet gives the files group fsGroup and g+r (SetVolumeOwnership).
                    let mode = if fs_group.is_some() {
                        mode | 0o440
                    } else {
                        mode
                    };
                    let gid = fs_group.unwrap_or(0);
                    std::os::unix::fs::chown(&p, Some(0), Some(gid)).unwrap();
                    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
                    files.push((
                        path.clone(),
                        File {
                            path,
                            content: content.into_bytes(),
                            mode,
                            gid,
                        },
                    ));
                }
                materialized.insert(vname.clone(), (host, files));
            } else {
                volumes.push(v.clone());
            }
        }
        for claim in &source.claims {
            // A StatefulSet's claim: a fresh filesystem's root (root, 0755) given to fsGroup, as
            // a kubelet does for a volume that supports ownership management.
            let host = volume_dir(format!("claim-{claim}"), 0o755);
            writable_vols.insert(claim.clone());
            volumes.push(json!({"name": claim, "hostPath": {"path": host, "type": "Directory"}}));
        }

        let mut host_volumes: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut fix_container = |c: &mut Value, pod: &mut Pod| {
            let obj = c.as_object_mut().unwrap();
            let cname = obj["name"].as_str().unwrap_or("").to_string();
            // podman 4.3 publishes every containerPort on the host's 0.0.0.0 (a kubelet never
            // does): gone from the copy; the tests reach the pod IP.
            obj.remove("ports");
            // Probes: the test runs them itself, from the host, as a kubelet does.
            for p in ["livenessProbe", "readinessProbe", "startupProbe"] {
                obj.remove(p);
            }
            let mut mounts = Vec::new();
            for m in obj
                .get("volumeMounts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let vname = m["name"].as_str().unwrap_or("").to_string();
                let path = m["mountPath"].as_str().unwrap_or("").to_string();
                let ro = m["readOnly"].as_bool() == Some(true);
                if ro {
                    pod.read_only
                        .entry(cname.clone())
                        .or_default()
                        .push(path.clone());
                } else if writable_vols.contains(&vname) {
                    pod.writable
                        .entry(cname.clone())
                        .or_default()
                        .push(path.clone());
                }
                let mut m = m.clone();
                if let Some((host, files)) = materialized.get(&vname) {
                    let sub = m["subPath"].as_str().unwrap_or("").to_string();
                    let n = host_volumes.len();
                    let key = (vname.clone(), sub.clone());
                    let fresh = !host_volumes.contains_key(&key);
                    let new = host_volumes
                        .entry(key)
                        .or_insert_with(|| format!("{vname}-{n}"))
                        .clone();
                    let (hp, kind) = if sub.is_empty() {
                        (host.clone(), "Directory")
                    } else {
                        (host.join(&sub), "File")
                    };
                    for (p, f) in files {
                        if sub.is_empty() || *p == sub {
                            let mut f = f.clone();
                            f.path = if sub.is_empty() {
                                format!("{}/{p}", path.trim_end_matches('/'))
                            } else {
                                path.clone()
                            };
                            pod.files.entry(cname.clone()).or_default().push(f);
                        }
                    }
                    if fresh {
                        volumes.push(json!({"name": new, "hostPath": {"path": hp, "type": kind}}));
                    }
                    let o = m.as_object_mut().unwrap();
                    o.remove("subPath");
                    o.insert("name".into(), json!(new));
                    mounts.push(m);
                } else {
                    mounts.push(m);
                }
            }
            if !mounts.is_empty() {
                obj.insert("volumeMounts".into(), json!(mounts));
            }
        };
        for c in containers.iter_mut().chain(inits.iter_mut()) {
            fix_container(c, self);
        }
        let o = spec.as_object_mut().unwrap();
        o.insert("containers".into(), json!(containers));
        if inits.is_empty() {
            o.remove("initContainers");
        } else {
            o.insert("initContainers".into(), json!(inits));
        }
        if volumes.is_empty() {
            o.remove("volumes");
        } else {
            o.insert("volumes".into(), json!(volumes));
        }
        let meta = &source.template["metadata"];
        // podman 4.3 refuses an annotation value longer than 63 characters ("value length exceeds
        // Kubernetetes max 63"; Kubernetes has no such limit), e.g. the chart's checksum/config
        // (a sha256): such annotations are left out. They mean nothing to a runtime.
        let annotations: serde_json::Map<String, Value> = meta["annotations"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.as_str().is_some_and(|v| v.len() <= 63))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": self.name,
                "labels": meta["labels"],
                "annotations": annotations,
            },
            "spec": spec,
        })
    }

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
        expect(&self.spec, &c.spec, &self.rt.image_user(image))
    }

    /// The problems with a running container, seen from inside (PID 1's status, mounts and
    /// environment; writes everywhere; the volume files) and by `podman inspect`.
    pub fn check_container(&self, c: &Ctr) -> Vec<String> {
        let e = self.expectation(c);
        let writable = self.writable.get(&c.name).cloned().unwrap_or_default();
        let read_only = self.read_only.get(&c.name).cloned().unwrap_or_default();
        let files = self.files.get(&c.name).cloned().unwrap_or_default();
        let mut script = String::from(
            "echo '== status'; cat /proc/1/status\n\
             echo '== mounts'; cat /proc/1/mounts\n\
             echo '== environ'; od -An -tx1 -v /proc/1/environ | tr -d ' \\n'; echo\n\
             echo '== rootfs'\n\
             find / -xdev -type d 2>/dev/null | while read -r d; do t=\"${d%/}/.hks-probe\"; \
             if out=$(touch \"$t\" 2>&1); then rm -f \"$t\"; echo \"WRITABLE $d\"; \
             else echo \"DENIED $d: $out\"; fi; done\n\
             echo '== volumes'\n",
        );
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
        let system = |p: &str| {
            ["/proc", "/sys", "/dev"]
                .iter()
                .any(|s| p == *s || p.starts_with(&format!("{s}/")))
        };
        for (p, opts) in &mounts {
            if p != "/" && !system(p) && opts.split(',').any(|o| o == "rw") && !writable.contains(p)
            {
                bad.push(format!(
                    "{what}: {p} is a writable mount the rendered spec does not make writable"
                ));
            }
        }
        if e.read_only_root {
            let mountpoints: BTreeSet<&str> = mounts.iter().map(|(p, _)| p.as_str()).collect();
            let mut seen = 0;
            for l in sec("rootfs").lines() {
                let (verdict, rest) = l.split_once(' ').unwrap_or((l, ""));
                let dir = rest.split(": ").next().unwrap_or(rest);
                if mountpoints.contains(dir) || system(dir) {
                    continue;
                }
                seen += 1;
                if verdict != "DENIED" || !rest.contains("Read-only file system") {
                    bad.push(format!(
                        "{what}: a write in {dir} is not refused as read-only: {l}"
                    ));
                }
            }
            if seen == 0 {
                bad.push(format!(
                    "{what}: found no directory of the root filesystem to try"
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
        if user != format!("{}:{}", e.uid, e.gid) && user != e.uid.to_string() {
            bad.push(format!(
                "{what}: podman inspect User is {user:?}, want {}:{}",
                e.uid, e.gid
            ));
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
                if !p["httpGet"].is_null() {
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
