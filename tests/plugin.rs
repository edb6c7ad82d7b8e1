//! The plugin as Helm runs it: `plugin.yaml`, the install/update hooks
//! (`scripts/install-binary.sh`), `plugin.complete` and the release tarball
//! (`scripts/release-tarball.sh`), installed and run with the real Helm 3.17 and Helm 4.1.
//!
//! Every case runs on both versions, each in its own HELM_CONFIG_HOME, HELM_DATA_HOME,
//! HELM_CACHE_HOME and HELM_PLUGINS, and every child process has a time limit.
//!
//! The hooks build the plugin with cargo into one target directory that outlives the run
//! (`target/tmp/plugin-cargo-target`), and the copies of the checkout keep the files' mtimes,
//! so only the very first build is slow (about a minute); later ones are no-ops for cargo.

mod common;

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// A command that may run the first (slow) cargo build of the plugin.
const BUILD: Duration = Duration::from_secs(1200);
/// Any other command.
const QUICK: Duration = Duration::from_secs(120);

const VERSION: &str = env!("CARGO_PKG_VERSION");
const SUBCOMMANDS: &[&str] = &[
    "package", "generate", "validate", "init", "install", "upgrade", "plan", "rollback",
    "template", "schema",
];
/// The user id of the throwaway signing key.
const SIGNER: &str = "k8s-service plugin test <plugin-test@example.invalid>";

// ---- running things ----------------------------------------------------------------------------

/// What a finished child process did.
struct Out {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\nexit: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn drain<R: Read + Send + 'static>(mut r: R) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// Run `cmd` (stdin closed, in its own process group) for at most `limit`. On timeout the whole
/// group (helm, the hook's sh, cargo, rustc...) is killed and the test fails with the output so far.
fn run(cmd: &mut Command, limit: Duration) -> Out {
    let what = describe(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    // A daemon the child left behind may hold the pipes open; do not wait for it forever.
    let grace = Duration::from_secs(5);
    let text =
        |rx: mpsc::Receiver<Vec<u8>>| common::text(&rx.recv_timeout(grace).unwrap_or_default());
    let o = Out {
        what,
        code: status.and_then(|s| s.code()),
        stdout: text(out),
        stderr: text(err),
    };
    assert!(status.is_some(), "timed out after {limit:?}:\n{o}");
    o
}

fn run_ok(cmd: &mut Command, limit: Duration) -> Out {
    let o = run(cmd, limit);
    assert!(o.ok(), "command failed:\n{o}");
    o
}

/// Environment for every child: cargo builds into the shared target directory without the
/// network, git reads no user or system configuration.
///
/// The hooks run `cargo build --release`, and cargo lets the environment override the release
/// profile. These tests prove what the hooks and the tarball script do (build, find, copy,
/// package and run the binary), not how well rustc optimizes, so the hooks' builds skip LTO and
/// optimization: each build of the crate from a new copy of the checkout (the install, the git
/// clone of the update test, the release tarballs) then takes seconds instead of a minute. The
/// real release profile is built and run by `scripts/bench.py`, which the test command runs.
fn hermetic(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HELM_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("CARGO_TARGET_DIR", cargo_target())
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_LTO", "off")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "false")
        .env("CARGO_NET_OFFLINE", "true")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("CARGO")
        .env_remove("KUBECONFIG")
        .env_remove("SOURCE_DATE_EPOCH")
}

fn git(dir: &Path, args: &[&str]) -> Out {
    run_ok(
        hermetic(&mut Command::new("git"))
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=Plugin Test",
                "-c",
                "user.email=t@example.invalid",
            ])
            .args(args),
        QUICK,
    )
}

// ---- the run's directory, the shared cargo target, the copy of the checkout ---------------------

/// `target/tmp/plugin-test/run-*`, removed by the next run once this one has ended (a run holds
/// a lock on its `lock` file while it lives).
fn run_dir() -> &'static Path {
    static DIR: OnceLock<(PathBuf, fs::File)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-test");
        fs::create_dir_all(&base).expect("create the test directory");
        for entry in fs::read_dir(&base)
            .expect("read the test directory")
            .flatten()
        {
            let done = entry.file_name().to_string_lossy().starts_with("run-")
                && fs::File::open(entry.path().join("lock")).is_ok_and(|f| f.try_lock().is_ok());
            if done {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        // Locked before it gets the name the clean-up above looks at.
        let tmp = tempfile::Builder::new()
            .prefix(".new-")
            .tempdir_in(&base)
            .expect("temp dir")
            .keep();
        let lock = fs::File::create(tmp.join("lock")).expect("create the lock file");
        lock.lock().expect("lock the run directory");
        let dir = base.join(format!("run-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::rename(&tmp, &dir).expect("name the run directory");
        (dir, lock)
    })
    .0
}

fn cargo_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cargo-target")
}

/// The files of the checkout a user would have: what git tracks plus untracked files it does not
/// ignore. Never `bin/` (the hook's output) or `dist/` (release-tarball.sh's).
fn checkout_files() -> Vec<PathBuf> {
    let root = common::root();
    let mut files: Vec<PathBuf> = if root.join(".git").exists() {
        let listed = run_ok(
            hermetic(&mut Command::new("git"))
                .arg("-C")
                .arg(&root)
                .args([
                    "ls-files",
                    "-z",
                    "--cached",
                    "--others",
                    "--exclude-standard",
                ]),
            QUICK,
        );
        listed
            .stdout
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect()
    } else {
        // Not a git checkout (e.g. an unpacked source archive): everything but build output.
        let mut found = Vec::new();
        walk(&root, Path::new(""), &mut found);
        found
    };
    files.retain(|f| {
        let first = f.components().next().map(|c| c.as_os_str().to_owned());
        !first
            .as_deref()
            .and_then(OsStr::to_str)
            .is_some_and(|d| NOT_SOURCES.contains(&d))
            && root.join(f).symlink_metadata().is_ok()
    });
    files
}

/// Top-level directories that are never part of the plugin's sources.
const NOT_SOURCES: &[&str] = &["bin", "dist", "target", ".tools", ".git"];

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(root.join(rel)).expect("read dir").flatten() {
        let path = rel.join(entry.file_name());
        if rel.as_os_str().is_empty()
            && NOT_SOURCES
                .iter()
                .any(|d| entry.file_name() == OsStr::new(d))
        {
            continue;
        }
        if entry.file_type().expect("file type").is_dir() {
            walk(root, &path, out);
        } else {
            out.push(path);
        }
    }
}

/// Copy the checkout to `dest`, keeping modes and mtimes (so cargo sees the same fresh sources).
fn copy_checkout(dest: &Path) {
    let root = common::root();
    for rel in checkout_files() {
        let (from, to) = (root.join(&rel), dest.join(&rel));
        fs::create_dir_all(to.parent().expect("parent")).expect("create dir");
        // Someone may be deleting files while we copy: what is gone is not part of the copy.
        let Ok(meta) = from.symlink_metadata() else {
            continue;
        };
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&from).expect("readlink"), &to)
                .expect("symlink");
            continue;
        }
        fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
        fs::File::options()
            .write(true)
            .open(&to)
            .and_then(|f| f.set_modified(meta.modified()?))
            .expect("set mtime");
    }
}

/// The checkout copy the local-directory installs share. Tests that install it or touch its
/// `bin/` hold `local_lock()`.
fn source() -> &'static Path {
    static SRC: OnceLock<PathBuf> = OnceLock::new();
    SRC.get_or_init(|| {
        let dir = run_dir().join("k8s-service-src");
        fs::create_dir_all(&dir).expect("create dir");
        copy_checkout(&dir);
        dir
    })
}

fn local_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn new_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(run_dir())
        .expect("temp dir")
}

// ---- helm in an isolated home --------------------------------------------------------------------

struct Helm {
    name: &'static str,
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl Helm {
    fn new(name: &'static str, bin: &Path) -> Helm {
        let home = new_dir(&format!("{name}-"));
        for d in ["cwd", "gnupg", "config", "data/plugins", "cache"] {
            fs::create_dir_all(home.path().join(d)).expect("create dir");
        }
        fs::set_permissions(home.path().join("gnupg"), fs::Permissions::from_mode(0o700))
            .expect("chmod");
        Helm {
            name,
            bin: bin.to_owned(),
            home,
        }
    }

    fn both() -> Vec<Helm> {
        common::helms()
            .into_iter()
            .map(|(name, bin)| Helm::new(name, &bin))
            .collect()
    }

    fn is4(&self) -> bool {
        self.name == "helm4"
    }

    /// `$HELM_PLUGINS`. It is `$HELM_DATA_HOME/plugins` because Helm 4.1 installs local and
    /// HTTP plugins there whatever `$HELM_PLUGINS` says (and loads them from `$HELM_PLUGINS`).
    fn plugins(&self) -> PathBuf {
        self.home.path().join("data/plugins")
    }

    /// Helm with this home; run from an empty directory (Helm 4's HTTP installer looks for
    /// getter plugins in `./*/plugin.yaml`), with an empty GNUPGHOME.
    fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let h = self.home.path();
        let mut c = Command::new(&self.bin);
        hermetic(&mut c)
            .args(args)
            .current_dir(h.join("cwd"))
            .env("HELM_CONFIG_HOME", h.join("config"))
            .env("HELM_DATA_HOME", h.join("data"))
            .env("HELM_CACHE_HOME", h.join("cache"))
            .env("HELM_PLUGINS", self.plugins())
            .env("GNUPGHOME", h.join("gnupg"));
        c
    }

    fn run<I, S>(&self, args: I, limit: Duration) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run(&mut self.cmd(args), limit)
    }

    fn ok<I, S>(&self, args: I, limit: Duration) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let o = self.run(args, limit);
        assert!(o.ok(), "[{}] failed:\n{o}", self.name);
        o
    }

    /// The `helm plugin list` row of k8s-service, split on whitespace.
    fn listed(&self) -> Option<Vec<String>> {
        let o = self.ok(["plugin", "list"], QUICK);
        o.stdout
            .lines()
            .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .find(|cols| cols.first().is_some_and(|c| c == "k8s-service"))
    }

    /// The installed plugin runs its commands, renders a chart and completes through helm.
    fn assert_works(&self) {
        let n = self.name;
        let v = self.ok(["k8s-service", "--version"], QUICK);
        assert_eq!(
            v.stdout.trim(),
            format!("k8s-service {VERSION}"),
            "[{n}]\n{v}"
        );
        let t = self.ok(
            [
                OsString::from("k8s-service"),
                "template".into(),
                "r".into(),
                hello().into(),
            ],
            QUICK,
        );
        assert!(
            t.stdout.contains("\nkind: Deployment\n"),
            "[{n}] no Deployment:\n{t}"
        );
        let c = self.ok(["__complete", "k8s-service", "package", ""], QUICK);
        assert_eq!(c.stdout, ":0\n", "[{n}] plugin.complete:\n{c}");
    }

    /// `helm plugin uninstall` removes the plugin completely.
    fn uninstall(&self) {
        let n = self.name;
        let o = self.ok(["plugin", "uninstall", "k8s-service"], QUICK);
        assert!(
            o.stdout.contains("Uninstalled plugin: k8s-service"),
            "[{n}]\n{o}"
        );
        assert_eq!(self.listed(), None, "[{n}] still listed after uninstall");
        let o = self.run(["k8s-service", "--help"], QUICK);
        assert!(
            !o.ok() && o.stderr.contains("unknown command \"k8s-service\""),
            "[{n}] the command survived uninstall:\n{o}"
        );
        let left: Vec<_> = fs::read_dir(self.plugins())
            .expect("read plugins dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "[{n}] left in HELM_PLUGINS: {left:?}");
    }
}

/// `helm plugin install DIR`, which may run the first cargo build.
fn install(helm: &Helm, dir: &Path) -> Out {
    helm.ok(
        [OsStr::new("plugin"), "install".as_ref(), dir.as_os_str()],
        BUILD,
    )
}

/// Whether scripts/build-release.sh links glibc in here: Linux with glibc, and a C toolchain
/// holding glibc's static libraries (the script's own test).
fn glibc_links_statically() -> bool {
    if !cfg!(all(
        target_os = "linux",
        target_env = "gnu",
        target_endian = "little"
    )) {
        return false;
    }
    ["libc.a", "libgcc_eh.a"].iter().all(|lib| {
        Command::new("cc")
            .arg(format!("-print-file-name={lib}"))
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"/"))
    })
}

/// Whether the ELF executable at `path` names a dynamic loader (a PT_INTERP program header):
/// every dynamically linked program does, a static one (static PIE included) does not.
fn has_interpreter(path: &Path) -> bool {
    let elf = fs::read(path).expect("read the binary");
    assert_eq!(&elf[..4], b"\x7fELF", "{} is not ELF", path.display());
    assert_eq!(elf[4], 2, "not a 64-bit ELF");
    let word = |at: usize, n: usize| {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&elf[at..at + n]);
        u64::from_le_bytes(b) as usize
    };
    let (phoff, phentsize, phnum) = (word(0x20, 8), word(0x36, 2), word(0x38, 2));
    (0..phnum).any(|i| word(phoff + i * phentsize, 4) == 3) // PT_INTERP
}

fn hello() -> PathBuf {
    common::root().join("examples/hello.yaml")
}

/// The `namespace:` values of rendered manifests.
fn namespaces(manifests: &str) -> BTreeSet<String> {
    manifests
        .lines()
        .filter_map(|l| l.trim().strip_prefix("namespace: "))
        .map(str::to_owned)
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---- the manifest and the small scripts, without helm ----------------------------------------------

#[test]
fn plugin_yaml_is_the_subset_both_helms_load() {
    let text = fs::read_to_string(common::root().join("plugin.yaml")).expect("read plugin.yaml");
    let y: serde_json::Value = serde_saphyr::from_str(&text).expect("plugin.yaml parses");
    let keys: BTreeSet<&str> = y
        .as_object()
        .expect("a mapping")
        .keys()
        .map(String::as_str)
        .collect();
    let allowed = [
        "name",
        "version",
        "usage",
        "description",
        "ignoreFlags",
        "command",
        "hooks",
    ];
    // Helm 3 decodes strictly (an unknown key breaks every plugin); apiVersion, platformHooks and
    // args are unknown to it, downloaders turn the plugin into a getter on Helm 4, and
    // platformCommand entries without os never match on Helm 3.
    assert!(
        keys.iter().all(|k| allowed.contains(k)),
        "plugin.yaml keys {keys:?}, allowed {allowed:?}"
    );
    assert_eq!(y["name"], "k8s-service");
    assert_eq!(
        y["version"], VERSION,
        "plugin.yaml version must equal Cargo.toml's"
    );
    let v = semver::Version::parse(VERSION).expect("strict SemVer");
    assert_eq!(v.to_string(), VERSION);
    let usage = y["usage"].as_str().expect("usage");
    assert!(
        !usage.is_empty() && !usage.contains('\n'),
        "usage is one line: {usage:?}"
    );
    assert!(
        y["description"]
            .as_str()
            .is_some_and(|d| d.contains("helm k8s-service"))
    );
    assert_eq!(y["ignoreFlags"], false);
    assert_eq!(y["command"], "$HELM_PLUGIN_DIR/bin/helm-k8s-service");
    let hooks = y["hooks"].as_object().expect("hooks");
    assert_eq!(
        hooks.keys().map(String::as_str).collect::<Vec<_>>(),
        ["install", "update"]
    );
    assert_eq!(
        hooks["install"],
        "cd \"$HELM_PLUGIN_DIR\" && sh ./scripts/install-binary.sh"
    );
    assert_eq!(
        hooks["update"],
        "cd \"$HELM_PLUGIN_DIR\" && sh ./scripts/install-binary.sh -u"
    );
    assert!(
        text.ends_with('\n') && !text.contains("\n...\n"),
        "the .prov body needs this"
    );
}

#[test]
fn scripts_are_executable_posix_sh() {
    let root = common::root();
    for f in [
        "plugin.complete",
        "scripts/install-binary.sh",
        "scripts/release-tarball.sh",
    ] {
        let mode = fs::metadata(root.join(f)).expect(f).permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{f} is not executable ({mode:o})");
    }
    for sh in ["sh", "dash"] {
        for f in ["plugin.complete", "scripts/install-binary.sh"] {
            let found = std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(sh).is_file()));
            if found {
                run_ok(Command::new(sh).arg("-n").arg(root.join(f)), QUICK);
            }
        }
    }
}

#[test]
fn plugin_complete_runs_the_binary_and_never_writes_to_stderr() {
    let dir = new_dir("complete-");
    let script = common::root().join("plugin.complete");
    // No binary: it fails, silently (Helm 4 would show stderr as completions).
    let o = run(
        Command::new(&script)
            .args(["package", ""])
            .env("HELM_PLUGIN_DIR", dir.path()),
        QUICK,
    );
    assert!(!o.ok() && o.stdout.is_empty() && o.stderr.is_empty(), "{o}");
    fs::create_dir(dir.path().join("bin")).expect("mkdir");
    std::os::unix::fs::symlink(common::bin(), dir.path().join("bin/helm-k8s-service"))
        .expect("symlink");
    let o = run_ok(
        Command::new(&script)
            .args(["pa"])
            .env("HELM_PLUGIN_DIR", dir.path()),
        QUICK,
    );
    assert!(
        o.stdout.contains("package\t") && o.stdout.ends_with(":4\n"),
        "{o}"
    );
    assert!(o.stderr.is_empty(), "{o}");
    // Flags come from completion.yaml through helm; the script only says "no file names".
    let o = run_ok(
        Command::new(&script)
            .args(["package", "--dest"])
            .env("HELM_PLUGIN_DIR", dir.path()),
        QUICK,
    );
    assert_eq!(o.stdout, ":4\n", "{o}");
    assert!(o.stderr.is_empty(), "{o}");
}

// ---- a. install from a checkout ---------------------------------------------------------------------

#[test]
fn installs_from_a_checkout_builds_and_runs() {
    let src = source();
    let _lock = local_lock();
    for helm in Helm::both() {
        let n = helm.name;
        let _ = fs::remove_dir_all(src.join("bin"));
        let o = install(&helm, src);
        assert!(
            o.stdout
                .contains(&format!("k8s-service: installed k8s-service {VERSION} at "))
                && o.stdout.contains("Installed plugin: k8s-service"),
            "[{n}] the install hook did not build the binary:\n{o}"
        );
        assert!(src.join("bin/helm-k8s-service").is_file());
        if glibc_links_statically() {
            // The check itself: the test build (plain cargo) is dynamically linked.
            assert!(
                has_interpreter(&common::bin()),
                "PT_INTERP check finds nothing"
            );
            assert!(
                !has_interpreter(&src.join("bin/helm-k8s-service")),
                "[{n}] the hook built a dynamically linked binary; scripts/build-release.sh links glibc in"
            );
        }
        let row = helm
            .listed()
            .unwrap_or_else(|| panic!("[{n}] not in helm plugin list"));
        assert_eq!(row[1], VERSION, "[{n}] {row:?}");

        let help = helm.ok(["k8s-service", "--help"], QUICK);
        for sub in SUBCOMMANDS {
            assert!(
                help.stdout.contains(&format!("  {sub} ")),
                "[{n}] --help lacks {sub}:\n{help}"
            );
        }
        helm.assert_works();

        // The namespace given to helm reaches the rendered objects: before the plugin name,
        // after it (helm takes it out of the arguments), and from the environment.
        let spec = hello();
        let t = |args: &[&OsStr], env: Option<&str>| {
            let mut c = helm.cmd(args);
            if let Some(ns) = env {
                c.env("HELM_NAMESPACE", ns);
            }
            run_ok(&mut c, QUICK).stdout
        };
        let (p, tr, r, s) = (
            OsStr::new("k8s-service"),
            OsStr::new("template"),
            OsStr::new("r"),
            spec.as_os_str(),
        );
        let want = |ns: &str| BTreeSet::from([format!("\"{ns}\"")]);
        let shop = t(&["-n".as_ref(), "shop".as_ref(), p, tr, r, s], None);
        assert_eq!(
            namespaces(&shop),
            want("shop"),
            "[{n}] helm -n shop k8s-service template:\n{shop}"
        );
        let after = t(
            &[p, tr, r, s, "--namespace".as_ref(), "after".as_ref()],
            None,
        );
        assert_eq!(
            namespaces(&after),
            want("after"),
            "[{n}] --namespace after the name:\n{after}"
        );
        let env = t(&[p, tr, r, s], Some("fromenv"));
        assert_eq!(
            namespaces(&env),
            want("fromenv"),
            "[{n}] HELM_NAMESPACE:\n{env}"
        );

        // Installing the same checkout again elsewhere finds the binary and builds nothing.
        let again = Helm::new(n, &helm.bin);
        let o = install(&again, src);
        assert!(
            o.stdout
                .contains(&format!("k8s-service {VERSION} is ready")),
            "[{n}]\n{o}"
        );
        assert!(!o.stderr.contains("Compiling"), "[{n}] rebuilt:\n{o}");
    }
}

// ---- b. no cargo ----------------------------------------------------------------------------------------

/// A `$PATH` of one directory with links to the tools helm's hook and install-binary.sh use,
/// and no cargo (wherever this machine keeps it).
fn path_without_cargo(dir: &Path) -> OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).expect("mkdir");
    for tool in [
        "sh", "cat", "chmod", "cp", "dirname", "find", "head", "mkdir", "mv", "rm", "sed", "tail",
        "uname",
    ] {
        let found = std::env::split_paths(&path)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} is not on PATH"));
        std::os::unix::fs::symlink(found, bin.join(tool)).expect("symlink");
    }
    bin.into_os_string()
}

#[test]
fn without_cargo_the_install_fails_and_says_what_to_do() {
    let src = new_dir("nocargo-");
    copy_checkout(src.path());
    let no_home = new_dir("nohome-");
    let path = path_without_cargo(no_home.path());
    for helm in Helm::both() {
        let n = helm.name;
        let _ = fs::remove_dir_all(src.path().join("bin"));
        let o = run(
            helm.cmd([
                OsStr::new("plugin"),
                "install".as_ref(),
                src.path().as_os_str(),
            ])
            .env("PATH", &path)
            .env("HOME", no_home.path())
            .env("CARGO_HOME", no_home.path().join("cargo")),
            QUICK,
        );
        assert!(!o.ok(), "[{n}] install without cargo succeeded:\n{o}");
        let plugin_dir = helm.plugins().join(src.path().file_name().expect("name"));
        let script = plugin_dir.join("scripts/install-binary.sh");
        for needle in [
            "k8s-service: cannot install the plugin: helm-k8s-service is not built and cargo",
            "install Rust from https://rustup.rs",
            &format!("sh \"{}\"", script.display()),
            "install a release tarball",
            "helm plugin install <URL of k8s-service-<version>.tgz>",
            "--verify=false",
        ] {
            assert!(
                o.stderr.contains(needle),
                "[{n}] the message lacks {needle:?}:\n{o}"
            );
        }
        assert!(
            o.stderr
                .contains("plugin install hook for \"k8s-service\" exited with error"),
            "[{n}]\n{o}"
        );
        // What helm does then (3.17 and 4.1 alike): the plugin stays installed, unusable.
        assert!(
            helm.listed().is_some(),
            "[{n}] a failed hook removed the plugin"
        );
        let o = helm.run(["k8s-service", "--version"], QUICK);
        assert!(!o.ok(), "[{n}] runs without a binary?\n{o}");

        // The way out the message gives: with cargo back, run the script it names.
        run_ok(
            hermetic(&mut Command::new("sh"))
                .arg(&script)
                .current_dir(helm.home.path()),
            BUILD,
        );
        helm.assert_works();
    }
}

// ---- c. the release tarball over HTTP ----------------------------------------------------------------

struct Release {
    /// Served over HTTP: `unsigned/`, `signed/` (GNUPGHOME key), `keyring/` (--keyring, epoch).
    web: PathBuf,
    /// `<os>-<arch>`
    platform: String,
    pubring: PathBuf,
    /// gpgv's verdict on each .prov.
    gpgv: Vec<Out>,
}

impl Release {
    fn tgz(&self, kind: &str) -> PathBuf {
        self.web
            .join(kind)
            .join(&self.platform)
            .join(format!("k8s-service-{VERSION}.tgz"))
    }
}

fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    format!("{}-{arch}", std::env::consts::OS)
}

/// release-tarball.sh run three times from the checkout copy: unsigned; signed with a throwaway
/// key in GNUPGHOME; signed with `--keyring secring.gpg` and SOURCE_DATE_EPOCH=1700000000.
fn release() -> &'static Release {
    static R: OnceLock<Release> = OnceLock::new();
    R.get_or_init(|| {
        for tool in ["gpg", "gpgv", "gpgconf"] {
            assert!(
                run(Command::new(tool).arg("--version"), QUICK).ok(),
                "{tool} not found: install GnuPG (Debian: apt-get install gnupg)"
            );
        }
        let src = source();
        let dir = run_dir().join("release");
        let web = dir.join("web");
        fs::create_dir_all(&web).expect("mkdir");
        // GnuPG puts its agent's socket in GNUPGHOME: keep the path short.
        let gnupg = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir()
            .expect("temp dir");
        let empty_gnupg = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir()
            .expect("temp dir");
        for d in [gnupg.path(), empty_gnupg.path()] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        let gpg = |args: &[&str]| {
            run_ok(
                Command::new("gpg")
                    .env("GNUPGHOME", gnupg.path())
                    .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
                    .args(args),
                QUICK,
            )
        };
        gpg(&["--quick-gen-key", SIGNER, "ed25519", "sign", "never"]);
        // Helm reads legacy keyrings only (not GnuPG 2.1's pubring.kbx).
        let pubring = dir.join("pubring.gpg");
        let secring = dir.join("secring.gpg");
        for (what, to) in [("--export", &pubring), ("--export-secret-keys", &secring)] {
            gpg(&["--output", to.to_str().expect("utf-8 path"), what]);
        }

        let script = src.join("scripts/release-tarball.sh");
        let make = |kind: &str, args: &[&OsStr], gnupghome: &Path, epoch: Option<&str>| {
            let out = web.join(kind);
            let mut c = Command::new(&script);
            hermetic(&mut c)
                .args(args)
                .arg("--out")
                .arg(&out)
                .current_dir(&dir)
                .env("GNUPGHOME", gnupghome);
            if let Some(e) = epoch {
                c.env("SOURCE_DATE_EPOCH", e);
            }
            let o = run_ok(&mut c, BUILD);
            let tgz = out
                .join(platform())
                .join(format!("k8s-service-{VERSION}.tgz"));
            let mut want = format!("{}\n", tgz.display());
            if !args.is_empty() {
                want.push_str(&format!("{}.prov\n", tgz.display()));
            }
            assert_eq!(
                o.stdout, want,
                "release-tarball.sh prints the paths it wrote:\n{o}"
            );
        };
        make("unsigned", &[], empty_gnupg.path(), None);
        make(
            "signed",
            &["--sign".as_ref(), "plugin-test@example.invalid".as_ref()],
            gnupg.path(),
            None,
        );
        make(
            "keyring",
            &[
                "--sign".as_ref(),
                SIGNER.as_ref(),
                "--keyring".as_ref(),
                secring.as_os_str(),
            ],
            empty_gnupg.path(),
            Some("1700000000"),
        );
        let mut gpgv = Vec::new();
        for kind in ["signed", "keyring"] {
            let prov = web
                .join(kind)
                .join(platform())
                .join(format!("k8s-service-{VERSION}.tgz.prov"));
            gpgv.push(run(
                Command::new("gpgv")
                    .env("GNUPGHOME", empty_gnupg.path())
                    .arg("--keyring")
                    .arg(&pubring)
                    .arg(&prov),
                QUICK,
            ));
        }
        for d in [gnupg.path(), empty_gnupg.path()] {
            let _ = run(
                Command::new("gpgconf")
                    .args(["--kill", "all"])
                    .env("GNUPGHOME", d),
                QUICK,
            );
        }
        Release {
            web,
            platform: platform(),
            pubring,
            gpgv,
        }
    })
}

#[test]
fn release_tarball_has_layout_a_and_is_reproducible() {
    let rel = release();
    let src = source();
    let unsigned = fs::read(rel.tgz("unsigned")).expect("read");
    let signed = fs::read(rel.tgz("signed")).expect("read");
    assert!(unsigned == signed, "two builds of the same sources differ");
    // gzip header: no file name, no time.
    assert_eq!(&unsigned[..3], &[0x1f, 0x8b, 8]);
    assert_eq!(unsigned[3] & 0x08, 0, "gzip header has a file name");
    assert_eq!(&unsigned[4..8], &[0, 0, 0, 0], "gzip header has a time");

    for (kind, mtime) in [("unsigned", 0), ("keyring", 1_700_000_000)] {
        let data = fs::read(rel.tgz(kind)).expect("read");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&data[..]));
        let mut names = Vec::new();
        for entry in archive.entries().expect("a tar") {
            let mut entry = entry.expect("an entry");
            let h = entry.header().clone();
            let name = String::from_utf8(h.path_bytes().into_owned()).expect("utf-8 name");
            assert_eq!(h.mtime().expect("mtime"), mtime, "{kind}: {name}");
            assert_eq!(
                (h.uid().expect("uid"), h.gid().expect("gid")),
                (0, 0),
                "{name}"
            );
            assert!(
                h.username().ok().flatten().is_none_or(str::is_empty),
                "{name} has a user name"
            );
            let exec = name.ends_with('/')
                || [
                    "bin/helm-k8s-service",
                    "plugin.complete",
                    "scripts/install-binary.sh",
                ]
                .contains(&name.as_str());
            let mode = if exec { 0o755 } else { 0o644 };
            assert_eq!(h.mode().expect("mode"), mode, "{kind}: mode of {name}");
            if !name.ends_with('/') && name != "bin/helm-k8s-service" {
                let mut body = Vec::new();
                entry.read_to_end(&mut body).expect("read entry");
                assert!(
                    body == fs::read(src.join(&name)).expect("read"),
                    "{name} differs from the checkout"
                );
            }
            names.push(name);
        }
        // Layout (a): plugin.yaml at the root, each directory entry before its files, no `./`.
        assert_eq!(
            names,
            [
                "README.md",
                "bin/",
                "bin/helm-k8s-service",
                "completion.yaml",
                "plugin.complete",
                "plugin.yaml",
                "scripts/",
                "scripts/install-binary.sh",
            ],
            "{kind}"
        );
    }

    // The .prov: clear-signed plugin.yaml, "...", and the archive's digest; gpg accepts it.
    let yaml = fs::read_to_string(src.join("plugin.yaml")).expect("read");
    for (kind, gpgv) in ["signed", "keyring"].iter().zip(&rel.gpgv) {
        assert!(
            gpgv.ok() && gpgv.stderr.contains("Good signature"),
            "{kind}: gpgv:\n{gpgv}"
        );
        let tgz = rel.tgz(kind);
        let prov = fs::read_to_string(format!("{}.prov", tgz.display())).expect("read .prov");
        let body = format!(
            "{yaml}...\nfiles:\n  k8s-service-{VERSION}.tgz: sha256:{}\n",
            sha256_hex(&fs::read(&tgz).expect("read"))
        );
        assert!(
            prov.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"),
            "{prov}"
        );
        assert!(
            prov.contains(&body),
            "{kind}: .prov body is not plugin.yaml + files:\n{prov}"
        );
    }
}

/// A loopback HTTP server for a directory: `.tgz` as application/gzip (Helm 3 decides that a URL
/// is an archive by the Content-Type alone), `.prov` as text/plain.
struct Server {
    child: Child,
    port: u16,
}

const SERVER_PY: &str = r#"
import functools, http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".tgz": "application/gzip", ".prov": "text/plain"}
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

impl Server {
    fn start(dir: &Path) -> Server {
        let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
        let mut child = Command::new(&python)
            .args([OsStr::new("-c"), SERVER_PY.as_ref(), dir.as_os_str()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python:?} (set PYTHON): {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let port = match line.trim().parse() {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the HTTP server did not start (printed {line:?})");
            }
        };
        Server { child, port }
    }

    fn url(&self, rel: &Release, kind: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{kind}/{}/k8s-service-{VERSION}.tgz",
            self.port, rel.platform
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn installs_the_release_tarball_over_http() {
    let rel = release();
    let server = Server::start(&rel.web);
    let signed = server.url(rel, "signed");
    let unsigned = server.url(rel, "unsigned");
    let digest = sha256_hex(&fs::read(rel.tgz("signed")).expect("read"));
    for helm in Helm::both() {
        let n = helm.name;
        let installed = |o: &Out| {
            assert!(
                o.stdout
                    .contains(&format!("k8s-service: k8s-service {VERSION} is ready"))
                    && o.stdout.contains("Installed plugin: k8s-service"),
                "[{n}] the hook did not find the bundled binary:\n{o}"
            );
        };
        if helm.is4() {
            // Helm 4 verifies by default: with no keyring, or no .prov, nothing is installed.
            let o = helm.run(["plugin", "install", &signed], QUICK);
            assert!(
                !o.ok() && o.stderr.contains("plugin verification failed"),
                "[{n}]\n{o}"
            );
            assert!(
                o.stderr.contains("pubring.gpg"),
                "[{n}] names the keyring:\n{o}"
            );
            let o = helm.run(["plugin", "install", &unsigned], QUICK);
            assert!(
                !o.ok() && o.stderr.contains("no provenance file"),
                "[{n}]\n{o}"
            );
            assert_eq!(
                helm.listed(),
                None,
                "[{n}] a refused install left the plugin"
            );

            let o = helm.ok(["plugin", "install", &unsigned, "--verify=false"], QUICK);
            installed(&o);
            helm.assert_works();
            helm.uninstall();

            let keyring = rel.pubring.to_str().expect("utf-8 path");
            let o = helm.ok(["plugin", "install", &signed, "--keyring", keyring], QUICK);
            installed(&o);
            for needle in [
                format!("Signed by: {SIGNER}"),
                format!("Plugin Hash Verified: sha256:{digest}"),
            ] {
                assert!(o.all().contains(&needle), "[{n}] lacks {needle:?}:\n{o}");
            }
            let row = helm.listed().expect("listed");
            assert_eq!(
                (row[1].as_str(), row[4].as_str()),
                (VERSION, "signed"),
                "[{n}] {row:?}"
            );
        } else {
            let o = helm.ok(["plugin", "install", &signed], QUICK);
            installed(&o);
            let row = helm.listed().expect("listed");
            assert_eq!(row[1], VERSION, "[{n}] {row:?}");
        }
        // Installed as k8s-service (the archive name without -<version>).
        assert!(
            helm.plugins().join("k8s-service/plugin.yaml").is_file(),
            "[{n}]"
        );
        helm.assert_works();

        // helm cannot update an HTTP install (both versions look for a VCS checkout); the
        // plugin is left as it was.
        let o = helm.run(["plugin", "update", "k8s-service"], QUICK);
        assert!(
            !o.ok()
                && o.stderr
                    .contains("cannot get information about plugin source"),
            "[{n}]\n{o}"
        );
        helm.assert_works();
        helm.uninstall();

        // The same archive as a local file: Helm 3 installs only directories, and Helm 4.1
        // looks for a local archive's files under <name>/ (the layout Helm 3 cannot install
        // over HTTP). Unpacked into a directory, it installs on both.
        let local = Helm::new(n, &helm.bin);
        let tgz = rel.tgz("signed");
        let keyring = rel.pubring.as_os_str();
        let (args, why): (Vec<&OsStr>, _) = if helm.is4() {
            let args = vec![
                "plugin".as_ref(),
                "install".as_ref(),
                tgz.as_os_str(),
                "--keyring".as_ref(),
                keyring,
            ];
            (args, "plugin.yaml not found in expected directory")
        } else {
            let args = vec!["plugin".as_ref(), "install".as_ref(), tgz.as_os_str()];
            (args, "expected plugin to be a folder")
        };
        let o = local.run(&args, QUICK);
        assert!(!o.ok() && o.stderr.contains(why), "[{n}]\n{o}");
        let unpacked = new_dir("unpacked-");
        let dir = unpacked.path().join("k8s-service");
        let data = fs::read(&tgz).expect("read");
        tar::Archive::new(flate2::read::GzDecoder::new(&data[..]))
            .unpack(&dir)
            .expect("unpack");
        let o = install(&local, &dir);
        assert!(
            o.stdout
                .contains(&format!("k8s-service {VERSION} is ready")),
            "[{n}]\n{o}"
        );
        local.assert_works();
    }
}

// ---- d. update and uninstall of checkout installs ------------------------------------------------------

#[test]
fn update_rebuilds_a_git_checkout_and_uninstall_removes_the_plugin() {
    // A checkout that is not a git repository: helm cannot update it (both versions), and the
    // plugin keeps working.
    {
        let src = source();
        let _lock = local_lock();
        for helm in Helm::both() {
            let n = helm.name;
            install(&helm, src);
            let o = helm.run(["plugin", "update", "k8s-service"], QUICK);
            assert!(
                !o.ok()
                    && o.stderr
                        .contains("cannot get information about plugin source"),
                "[{n}]\n{o}"
            );
            helm.assert_works();
            helm.uninstall();
            assert!(
                src.join("plugin.yaml").is_file(),
                "[{n}] uninstall removed the checkout"
            );
        }
    }

    // A clone with an upstream. `helm plugin update` finds the plugin's git repository, pulls,
    // runs `git clean -x -d -f -f` there (Masterminds/vcs; bin/ and any untracked or ignored
    // file go), then the update hook, which builds the binary again.
    let work = new_dir("git-");
    let checkout = work.path().join("k8s-service");
    copy_checkout(&checkout);
    git(&checkout, &["init", "-q", "-b", "main"]);
    git(&checkout, &["add", "-A"]);
    git(&checkout, &["commit", "-q", "-m", "import"]);
    let remotes = work.path().join("remote");
    fs::create_dir(&remotes).expect("mkdir");
    let url = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    // Both helm versions look for the plugin at $HELM_PLUGINS/<last part of the remote URL>:
    // `k8s-service` matches the checkout's directory, `k8s-service.git` does not.
    let origin = url(&remotes.join("k8s-service"));
    let origin_git = url(&remotes.join("k8s-service.git"));
    for bare in [&origin, &origin_git] {
        git(work.path(), &["clone", "-q", "--bare", "k8s-service", bare]);
    }
    git(&checkout, &["remote", "add", "origin", &origin]);
    git(&checkout, &["fetch", "-q", "origin"]);
    git(
        &checkout,
        &["branch", "-q", "--set-upstream-to=origin/main"],
    );
    let upstream = work.path().join("upstream");
    git(work.path(), &["clone", "-q", &origin, "upstream"]);
    let push = |marker: &str| {
        fs::write(upstream.join(marker), "new upstream commit\n").expect("write");
        git(&upstream, &["add", marker]);
        git(&upstream, &["commit", "-q", "-m", marker]);
        git(&upstream, &["push", "-q", "origin", "main"]);
    };
    let installed = format!("k8s-service: installed k8s-service {VERSION} at ");

    for helm in Helm::both() {
        let n = helm.name;
        install(&helm, &checkout);
        helm.assert_works();

        let marker = format!("src/pulled-by-{n}-update.txt");
        push(&marker);
        fs::write(checkout.join("scratch.txt"), "untracked\n").expect("write");
        let o = helm.ok(["plugin", "update", "k8s-service"], BUILD);
        assert!(
            o.stdout.contains("Updated plugin: k8s-service"),
            "[{n}]\n{o}"
        );
        assert!(
            checkout.join(&marker).is_file(),
            "[{n}] helm did not pull:\n{o}"
        );
        assert!(
            o.stdout.contains(&installed),
            "[{n}] the update hook did not build:\n{o}"
        );
        assert!(
            !checkout.join("scratch.txt").exists(),
            "[{n}] helm no longer runs git clean -xdff on update; adjust the README"
        );
        helm.assert_works();

        // A remote URL whose last part is not the directory's name (a clone of `....git`):
        // helm gives up before pulling.
        git(&checkout, &["remote", "set-url", "origin", &origin_git]);
        let o = helm.run(["plugin", "update", "k8s-service"], QUICK);
        assert!(
            !o.ok() && o.stderr.contains("plugin does not exist"),
            "[{n}]\n{o}"
        );
        git(&checkout, &["remote", "set-url", "origin", &origin]);

        // The README's way: git pull, then the script with -u rebuilds only when a source is
        // newer than the binary.
        let marker = format!("src/pulled-by-{n}-git.txt");
        push(&marker);
        git(&checkout, &["pull", "-q", "--ff-only"]);
        let update = || {
            run_ok(
                hermetic(&mut Command::new("sh"))
                    .args(["scripts/install-binary.sh", "-u"])
                    .current_dir(&checkout),
                BUILD,
            )
        };
        let o = update();
        let rebuilt = format!("k8s-service: {marker} is newer than helm-k8s-service: rebuilding");
        assert!(
            o.stdout.contains(&rebuilt) && o.stdout.contains(&installed),
            "{o}"
        );
        let o = update();
        let ready = format!("k8s-service: k8s-service {VERSION} is ready");
        assert!(
            o.stdout.contains(&ready) && !o.stdout.contains("building"),
            "{o}"
        );
        helm.assert_works();

        helm.uninstall();
        assert!(
            checkout.join("plugin.yaml").is_file(),
            "[{n}] uninstall removed the checkout"
        );
    }
}

// ---- e. completion through helm ----------------------------------------------------------------------

#[test]
fn completes_through_helm() {
    let src = source();
    let _lock = local_lock();
    for helm in Helm::both() {
        let n = helm.name;
        install(&helm, src);
        let lines = |args: &[&str]| -> Vec<String> {
            let o = helm.ok(args, QUICK);
            o.stdout.lines().map(str::to_owned).collect()
        };

        let subs = lines(&["__complete", "k8s-service", ""]);
        for sub in SUBCOMMANDS {
            assert!(subs.iter().any(|l| l == sub), "[{n}] no {sub} in {subs:?}");
        }
        assert!(
            !subs.iter().any(|l| l.starts_with("__")),
            "[{n}] hidden commands: {subs:?}"
        );
        assert_eq!(
            subs.last().map(String::as_str),
            Some(":4"),
            "[{n}] {subs:?}"
        );

        let flags = lines(&["__complete", "k8s-service", "package", "--de"]);
        assert!(
            flags
                .iter()
                .any(|l| l.split('\t').next() == Some("--destination")),
            "[{n}] {flags:?}"
        );
        assert_eq!(
            flags.last().map(String::as_str),
            Some(":4"),
            "[{n}] {flags:?}"
        );

        // A spec file: the shell's file completion (directive 0), no candidates.
        let files = lines(&["__complete", "k8s-service", "package", ""]);
        assert_eq!(files, [":0"], "[{n}]");
        let files = lines(&["__complete", "k8s-service", "template", "r", ""]);
        assert_eq!(files, [":0"], "[{n}]");
    }
}
