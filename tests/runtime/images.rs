//! The runtime of this test binary (`runtime()`, a `Runtime`): the tools it needs checked, the
//! private store and its bridge network made, and the test images built from a static busybox
//! and tests/runtime/image (the example programs faked are `FAKE_PROGRAMS`). Started once, on
//! first use, and torn down at exit, failures included. Uses store.rs and process.rs.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, Once, OnceLock};

use serde_json::{Value, json};

use super::process::{PODMAN_LIMIT, run_limited};
use super::store::Store;
use crate::common;

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
    "/app/bin/migrate",
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
    "status",
];

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
    /// The capabilities this podman gives a container that neither drops nor adds any (`podman
    /// info`'s Host.Security.DefaultCapabilities, without the CAP_ prefix). With the test's own
    /// containers.conf, podman 4.3 uses its compiled-in set, the one Docker and containerd give
    /// too: Pod Security baseline's list plus NET_RAW.
    pub default_caps: Vec<String>,
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
            default_caps: Self::default_caps(&store),
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

    fn default_caps(store: &Store) -> Vec<String> {
        let o = store
            .podman(&["info", "--format", "{{.Host.Security.DefaultCapabilities}}"])
            .expect_ok();
        let caps: Vec<String> = o
            .stdout
            .trim()
            .split(',')
            .map(|c| c.trim().trim_start_matches("CAP_").to_string())
            .filter(|c| !c.is_empty())
            .collect();
        assert!(
            !caps.is_empty(),
            "podman info gives no default capabilities: {}",
            o.both()
        );
        caps
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
