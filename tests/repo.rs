//! Serving charts (issue 5) with the real clients: `repo index` served over loopback HTTP to
//! Helm 3 and Helm 4 (search, pull, template, provenance), the index format, the merge contract
//! (README "Chart repositories", reliability-security.md §4.4), concurrent runs, a real OCI
//! registry (Debian's docker-registry) for `push`, and a 2,000-archive repository.
//!
//! Every child has a time limit; every helm has its own config, data and cache homes; every
//! server listens on 127.0.0.1 on a port the kernel picks. gpg, python3 and docker-registry come
//! from scripts/install-test-services.sh; helm 3 and 4 from scripts/install-test-tools.sh.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{bin, helms, root, text};
use serde_json::Value;
use sha2::{Digest, Sha256};

const HELM_LIMIT: Duration = Duration::from_secs(180);
const OURS_LIMIT: Duration = Duration::from_secs(180);
const TOOL_LIMIT: Duration = Duration::from_secs(60);
const MIB: usize = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Running children with a time limit

struct Out {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    what: String,
}

impl Out {
    fn both(&self) -> String {
        format!(
            "$ {}\nexit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.what, self.code, self.stdout, self.stderr
        )
    }
    fn expect_ok(self) -> Out {
        assert!(self.ok, "command failed:\n{}", self.both());
        self
    }
    fn expect_fail(self) -> Out {
        assert!(
            !self.ok,
            "command succeeded but should have failed:\n{}",
            self.both()
        );
        self
    }
}

/// Run `cmd` to the end, killing it after `limit`. Output is collected by reader threads that
/// are not waited for beyond a short grace period (a daemon such as gpg-agent may inherit the
/// pipes and keep them open).
fn exec(cmd: &mut Command, limit: Duration) -> Out {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let collect = |mut r: Box<dyn Read + Send>| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let b = buf.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match r.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => b.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
            let _ = done_tx.send(());
        });
        (buf, done_rx)
    };
    let (out_buf, out_done) = collect(Box::new(child.stdout.take().unwrap()));
    let (err_buf, err_done) = collect(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = out_done.recv_timeout(Duration::from_secs(5));
    let _ = err_done.recv_timeout(Duration::from_secs(5));
    let out = Out {
        ok: status.is_some_and(|s| s.success()),
        code: status.and_then(|s| s.code()),
        stdout: text(&out_buf.lock().unwrap()),
        stderr: text(&err_buf.lock().unwrap()),
        what,
    };
    assert!(
        status.is_some(),
        "timed out after {limit:?} and was killed:\n{}",
        out.both()
    );
    out
}

fn args<I, S>(a: I) -> Vec<std::ffi::OsString>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    a.into_iter().map(|s| s.as_ref().to_owned()).collect()
}

/// Our binary, with nothing from the caller's environment that changes its output.
fn ours<I, S>(a: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(bin());
    c.args(args(a))
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("HELM_DEBUG")
        .env_remove("HELM_BIN");
    c
}

fn run_ours<I, S>(a: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    exec(&mut ours(a), OURS_LIMIT)
}

/// A tool installed by scripts/install-test-services.sh.
fn need(tool: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{tool} is not on PATH; run scripts/install-test-services.sh (scripts/test.sh does)"
            )
        })
}

// ---------------------------------------------------------------------------------------------
// helm, each with its own homes

struct Helm {
    name: &'static str,
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl Helm {
    fn all() -> Vec<Helm> {
        helms()
            .into_iter()
            .map(|(name, bin)| Helm {
                name,
                bin,
                home: tempfile::tempdir().unwrap(),
            })
            .collect()
    }

    /// Point `cmd` (helm, or our plugin that runs helm) at this helm's private homes.
    fn isolate<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        let h = self.home.path();
        cmd.env("HELM_CONFIG_HOME", h.join("config"))
            .env("HELM_DATA_HOME", h.join("data"))
            .env("HELM_CACHE_HOME", h.join("cache"));
        for var in [
            "KUBECONFIG",
            "HELM_NAMESPACE",
            "HELM_KUBECONTEXT",
            "HELM_DEBUG",
            "HELM_REPOSITORY_CONFIG",
            "HELM_REPOSITORY_CACHE",
            "HELM_REGISTRY_CONFIG",
            "HELM_PLUGINS",
            "SOURCE_DATE_EPOCH",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    fn run<I, S>(&self, a: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new(&self.bin);
        c.args(args(a));
        let mut out = exec(self.isolate(&mut c), HELM_LIMIT);
        out.what = format!("[{}] {}", self.name, out.what);
        out
    }

    fn ok<I, S>(&self, a: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.run(a).expect_ok()
    }

    /// `helm search repo KEYWORD -l --devel -o json` as (name, version) in helm's order.
    fn search(&self, keyword: &str) -> Vec<(String, String)> {
        let o = self.ok(["search", "repo", keyword, "-l", "--devel", "-o", "json"]);
        let v: Value = serde_json::from_str(&o.stdout)
            .unwrap_or_else(|e| panic!("helm search output is not JSON ({e}):\n{}", o.both()));
        v.as_array()
            .expect("a JSON array")
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["version"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Loopback servers

struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `cmd` and wait (at most 20 s) for the line naming the port: `marker` followed by digits,
/// on stdout or stderr. The stream keeps being drained into the log afterwards.
fn start_server(mut cmd: Command, on_stderr: bool, marker: &'static str) -> Server {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null());
    if on_stderr {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stream: Box<dyn Read + Send> = if on_stderr {
        Box::new(child.stderr.take().unwrap())
    } else {
        Box::new(child.stdout.take().unwrap())
    };
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel::<u16>();
    let l = log.clone();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if !sent && let Some(at) = line.find(marker) {
                let digits: String = line[at + marker.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                if let Ok(port) = digits.parse() {
                    let _ = tx.send(port);
                    sent = true;
                }
            }
            let mut l = l.lock().unwrap();
            if l.len() < 1 << 20 {
                l.push_str(&line);
                l.push('\n');
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(port) => Server { child, port, log },
        Err(_) => {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "{what} did not report its port within 20 s ({status:?}):\n{}",
                log.lock().unwrap()
            );
        }
    }
}

/// A static HTTP server for `dir` (python's http.server, threaded).
fn http_server(dir: &Path) -> Server {
    let mut cmd = Command::new(need("python3"));
    cmd.args([
        "-u",
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        "--directory",
    ])
    .arg(dir)
    .arg("0");
    start_server(cmd, false, " port ")
}

/// A real OCI registry (distribution 2.8, Debian's docker-registry) with storage in `dir`.
fn registry(dir: &Path) -> Server {
    let bin = need("docker-registry");
    let config = dir.join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:0\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("serve").arg(&config);
    start_server(cmd, true, "listening on 127.0.0.1:")
}

// ---------------------------------------------------------------------------------------------
// gpg: a throwaway key in a private home, without passphrase

struct Gpg {
    home: tempfile::TempDir,
    uid: String,
}

impl Gpg {
    fn new(uid: &str) -> Gpg {
        need("gpg");
        let g = Gpg {
            home: tempfile::tempdir().unwrap(),
            uid: uid.to_string(),
        };
        // RSA: Helm 3's x/crypto/openpgp does not read EdDSA keys.
        g.run([
            "--passphrase",
            "",
            "--quick-gen-key",
            uid,
            "rsa2048",
            "sign",
            "never",
        ]);
        g
    }

    fn run<I, S>(&self, a: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new("gpg");
        c.arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--quiet", "--pinentry-mode", "loopback"])
            .args(args(a));
        exec(&mut c, TOOL_LIMIT).expect_ok()
    }

    /// The public key in the legacy binary format Helm reads (`gpg --export`).
    fn export_public(&self, to: &Path) {
        let mut c = Command::new("gpg");
        c.arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--output"])
            .arg(to)
            .args(["--export", &self.uid]);
        exec(&mut c, TOOL_LIMIT).expect_ok();
        assert!(std::fs::metadata(to).unwrap().len() > 0);
    }

    fn export_secret(&self, to: &Path) {
        let mut c = Command::new("gpg");
        c.arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .arg("--output")
            .arg(to)
            .args(["--export-secret-keys", &self.uid]);
        exec(&mut c, TOOL_LIMIT).expect_ok();
        assert!(std::fs::metadata(to).unwrap().len() > 0);
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let mut c = Command::new("gpgconf");
        c.arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "all"]);
        let _ = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

// ---------------------------------------------------------------------------------------------
// Charts and archives

/// `package SPEC --destination DEST ARGS...`; returns the archive paths it printed.
fn package(spec: &str, dest: &Path, extra: &[&str]) -> Vec<PathBuf> {
    let mut a = args([
        "package".as_ref(),
        root().join("examples").join(spec).as_os_str(),
    ]);
    a.extend(args([OsStr::new("--destination"), dest.as_os_str()]));
    a.extend(args(extra));
    let o = run_ours(a).expect_ok();
    o.stdout
        .lines()
        .filter(|l| l.ends_with(".tgz"))
        .map(PathBuf::from)
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sha256_file(p: &Path) -> String {
    sha256_hex(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

/// A tar stream with entries named byte for byte as given (`..` and all): what a hostile or
/// hand-made archive may hold.
fn tar_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        let bytes = name.as_bytes();
        assert!(bytes.len() <= 100, "name too long for this helper: {name}");
        h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        h.set_cksum();
        t.append(&h, *data).unwrap();
    }
    t.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    // Not `fast()`: zlib-rs's level 1 barely compresses long runs of zeros (the bomb below).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    gzip(&tar_bytes(entries))
}

fn chart_yaml(name: &str, version: &str) -> String {
    format!("apiVersion: v2\nname: {name}\nversion: {version}\ndescription: test chart {name}\n")
}

/// The files of a chart archive (the first path component stripped), in order.
fn archive_files(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if !e.header().entry_type().is_file() {
            continue;
        }
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let inner = path.split_once('/').unwrap().1.to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((inner, data));
    }
    out
}

/// A copy of a packaged chart's files under another name and version (Chart.yaml rewritten).
fn rename_chart(files: &[(String, Vec<u8>)], name: &str, version: &str) -> Vec<u8> {
    let renamed: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, d)| {
            let data = if p == "Chart.yaml" {
                text(d)
                    .lines()
                    .map(|l| {
                        if l.starts_with("name:") {
                            format!("name: {name}")
                        } else if l.starts_with("version:") {
                            format!("version: \"{version}\"")
                        } else {
                            l.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes()
            } else {
                d.clone()
            };
            (format!("{name}/{p}"), data)
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = renamed
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    tgz(&refs)
}

/// hello.yaml packaged once (its files are the content of every generated archive).
fn hello_files() -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let p = package("hello.yaml", dir.path(), &[]);
    archive_files(&std::fs::read(&p[0]).unwrap())
}

/// Write `count` archives `gen{i % names}-1.{i / names}.0.tgz` into `dir`, on two threads.
fn generate_archives(dir: &Path, files: &[(String, Vec<u8>)], count: usize, names: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::thread::scope(|s| {
        for part in 0..2 {
            s.spawn(move || {
                for i in (part..count).step_by(2) {
                    let name = format!("gen{:03}", i % names);
                    let version = format!("1.{}.0", i / names);
                    std::fs::write(
                        dir.join(format!("{name}-{version}.tgz")),
                        rename_chart(files, &name, &version),
                    )
                    .unwrap();
                }
            });
        }
    });
}

fn set_mtime(p: &Path, secs: u64) {
    std::fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Reading an index

fn load_index(p: &Path) -> Value {
    let t = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_saphyr::from_str(&t)
        .unwrap_or_else(|e| panic!("{} does not parse: {e}\n{t}", p.display()))
}

/// (name, version) -> entry, for every entry of an index.
fn entries(index: &Value) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for (name, versions) in index["entries"].as_object().expect("entries") {
        for v in versions.as_array().expect("a list of versions") {
            let version = v["version"].as_str().expect("version").to_string();
            let prev = out.insert((name.clone(), version.clone()), v.clone());
            assert!(prev.is_none(), "{name} {version} is in the index twice");
        }
    }
    out
}

fn versions_of(index: &Value, name: &str) -> Vec<String> {
    index["entries"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no entry {name}"))
        .iter()
        .map(|v| v["version"].as_str().unwrap().to_string())
        .collect()
}

/// Every non-temporary file under `dir` (one level of subdirectories), with its bytes' digest
/// and mtime: "nothing was written" means this does not change.
fn snapshot(dir: &Path) -> BTreeMap<String, (String, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                if rel == "index.yaml.lock" {
                    continue; // the lock file is the one file a run may create
                }
                let m = std::fs::metadata(&p).unwrap().modified().unwrap();
                out.insert(rel, (sha256_file(&p), m));
            }
        }
    }
    out
}

// =============================================================================================
// 1. A served repository on Helm 3 and Helm 4

#[test]
fn a_served_repository_lists_every_version_and_serves_pull_and_template_on_helm_3_and_4() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    for v in ["0.1.0", "0.2.0", "0.10.0"] {
        package("hello.yaml", &repo, &["--version", v]);
    }
    // Another chart, one directory down (Helm indexes DIR/*/*.tgz as well).
    for v in ["1.0.0", "1.1.0-rc.1"] {
        package("full.yaml", &repo.join("payments"), &["--version", v]);
    }
    let helm = Helm::all();
    // A third-party chart, made by helm itself.
    let third = work.path().join("thirdparty");
    helm[0].ok(["create".as_ref(), third.as_os_str()]);
    for v in ["1.2.3", "1.10.0"] {
        helm[0].ok([
            "package".as_ref(),
            third.as_os_str(),
            "--version".as_ref(),
            v.as_ref(),
            "-d".as_ref(),
            repo.as_os_str(),
        ]);
    }
    let server = http_server(&repo);
    let url = server.url();
    run_ours([
        "repo".as_ref(),
        "index".as_ref(),
        repo.as_os_str(),
        "--url".as_ref(),
        url.as_ref(),
    ])
    .expect_ok();

    let expected: Vec<(String, String)> = [
        ("r/hello", "0.10.0"),
        ("r/hello", "0.2.0"),
        ("r/hello", "0.1.0"),
        ("r/payments", "1.1.0-rc.1"),
        ("r/payments", "1.0.0"),
        ("r/thirdparty", "1.10.0"),
        ("r/thirdparty", "1.2.3"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();

    for h in &helm {
        h.ok(["repo", "add", "r", &url]);
        h.ok(["repo", "update"]);
        // Every version, newest first by SemVer (0.10.0 before 0.2.0), nothing hidden.
        assert_eq!(h.search("r/"), expected, "{}: helm search repo -l", h.name);
        // Without --devel, the newest stable version of each chart.
        let o = h.ok(["search", "repo", "r/", "-o", "json"]);
        let latest: Vec<Value> = serde_json::from_str(&o.stdout).unwrap();
        let latest: Vec<(&str, &str)> = latest
            .iter()
            .map(|r| (r["name"].as_str().unwrap(), r["version"].as_str().unwrap()))
            .collect();
        assert_eq!(
            latest,
            [
                ("r/hello", "0.10.0"),
                ("r/payments", "1.0.0"),
                ("r/thirdparty", "1.10.0")
            ],
            "{}",
            h.name
        );

        // helm pull gets the very bytes that are served.
        for (chart, version, file) in [
            ("hello", "0.10.0", "hello-0.10.0.tgz"),
            ("hello", "0.2.0", "hello-0.2.0.tgz"),
            ("payments", "1.1.0-rc.1", "payments/payments-1.1.0-rc.1.tgz"),
            ("thirdparty", "1.10.0", "thirdparty-1.10.0.tgz"),
        ] {
            let dest = tempfile::tempdir_in(work.path()).unwrap();
            h.ok([
                "pull".as_ref(),
                format!("r/{chart}").as_ref(),
                "--version".as_ref(),
                version.as_ref(),
                "-d".as_ref(),
                dest.path().as_os_str(),
            ]);
            let base = Path::new(file).file_name().unwrap();
            assert_eq!(
                sha256_file(&dest.path().join(base)),
                sha256_file(&repo.join(file)),
                "{}: pulled {chart} {version}",
                h.name
            );
        }
        // The newest version without --version.
        let dest = tempfile::tempdir_in(work.path()).unwrap();
        h.ok([
            "pull".as_ref(),
            "r/hello".as_ref(),
            "-d".as_ref(),
            dest.path().as_os_str(),
        ]);
        assert!(dest.path().join("hello-0.10.0.tgz").is_file(), "{}", h.name);

        // helm template straight from the repository.
        let o = h.ok(["template", "demo", "r/hello", "--version", "0.2.0"]);
        assert!(
            o.stdout.contains("kind: Deployment"),
            "{}: {}",
            h.name,
            o.stdout
        );
        assert!(
            o.stdout.contains("hello-0.2.0"),
            "{}: chart label of 0.2.0\n{}",
            h.name,
            o.stdout
        );
        let o = h.ok(["template", "demo", "r/payments", "--version", "1.1.0-rc.1"]);
        assert!(o.stdout.contains("kind: Deployment"), "{}", h.name);
        let o = h.ok(["template", "demo", "r/thirdparty", "--version", "1.2.3"]);
        assert!(o.stdout.contains("kind: Deployment"), "{}", h.name);
    }
    drop(server);
}

#[test]
fn signed_charts_verify_on_helm_3_and_4_and_a_tampered_archive_does_not() {
    let work = tempfile::tempdir().unwrap();
    let signer = Gpg::new("Repo Test Signer <signer@example.invalid>");
    let pubring = work.path().join("pubring.gpg");
    let secring = work.path().join("secring.gpg");
    signer.export_public(&pubring);
    signer.export_secret(&secring);
    let stranger = Gpg::new("Someone Else <else@example.invalid>");
    let stranger_ring = work.path().join("stranger.gpg");
    stranger.export_public(&stranger_ring);

    let repo = work.path().join("repo");
    // The key from the gpg home (GNUPGHOME) ...
    let mut c = ours([
        "package".as_ref(),
        root().join("examples/hello.yaml").as_os_str(),
        "--destination".as_ref(),
        repo.as_os_str(),
        "--version".as_ref(),
        "0.3.0".as_ref(),
        "--sign".as_ref(),
        "--key".as_ref(),
        "Repo Test Signer".as_ref(),
    ]);
    c.env("GNUPGHOME", signer.home.path());
    exec(&mut c, OURS_LIMIT).expect_ok();
    // ... and from a legacy secret keyring (`gpg --export-secret-keys`), with a gpg home that
    // holds no key at all.
    let empty_home = tempfile::tempdir().unwrap();
    let mut c = ours([
        "package".as_ref(),
        root().join("examples/full.yaml").as_os_str(),
        "--destination".as_ref(),
        repo.as_os_str(),
        "--version".as_ref(),
        "0.3.0".as_ref(),
        "--sign".as_ref(),
        "--key".as_ref(),
        "signer@example.invalid".as_ref(),
        "--keyring".as_ref(),
        secring.as_os_str(),
    ]);
    c.env("GNUPGHOME", empty_home.path());
    exec(&mut c, OURS_LIMIT).expect_ok();
    for f in ["hello-0.3.0.tgz.prov", "payments-0.3.0.tgz.prov"] {
        let prov = std::fs::read_to_string(repo.join(f)).unwrap();
        assert!(
            prov.starts_with("-----BEGIN PGP SIGNED MESSAGE-----"),
            "{f}:\n{prov}"
        );
    }

    let server = http_server(&repo);
    let url = server.url();
    let index = |extra: &[&str]| {
        let mut a = args([
            "repo".as_ref(),
            "index".as_ref(),
            repo.as_os_str(),
            "--url".as_ref(),
            url.as_ref(),
        ]);
        a.extend(args(extra));
        run_ours(a)
    };
    index(&[]).expect_ok();

    let helm = Helm::all();
    for h in &helm {
        h.ok(["repo", "add", "s", &url]);
        for (chart, file) in [
            ("hello", "hello-0.3.0.tgz"),
            ("payments", "payments-0.3.0.tgz"),
        ] {
            let dest = tempfile::tempdir_in(work.path()).unwrap();
            let o = h.ok([
                "pull".as_ref(),
                format!("s/{chart}").as_ref(),
                "--version".as_ref(),
                "0.3.0".as_ref(),
                "--verify".as_ref(),
                "--keyring".as_ref(),
                pubring.as_os_str(),
                "-d".as_ref(),
                dest.path().as_os_str(),
            ]);
            assert!(
                o.stdout.contains("Chart Hash Verified") && o.stdout.contains("Repo Test Signer"),
                "{}",
                o.both()
            );
            h.ok([
                "verify".as_ref(),
                dest.path().join(file).as_os_str(),
                "--keyring".as_ref(),
                pubring.as_os_str(),
            ]);
            // A keyring without the signer's key does not verify it (the check means something).
            h.run([
                "verify".as_ref(),
                repo.join(file).as_os_str(),
                "--keyring".as_ref(),
                stranger_ring.as_os_str(),
            ])
            .expect_fail();
        }
    }

    // One byte changed (the gzip header's mtime: the archive stays a valid chart).
    let target = repo.join("hello-0.3.0.tgz");
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[4] ^= 0x01;
    std::fs::write(&target, &bytes).unwrap();
    // A published version whose bytes changed is refused until forced.
    let o = index(&["--merge", repo.join("index.yaml").to_str().unwrap()]).expect_fail();
    assert!(o.stderr.contains("hello 0.3.0"), "{}", o.both());
    index(&[
        "--merge",
        repo.join("index.yaml").to_str().unwrap(),
        "--force",
    ])
    .expect_ok();
    let idx = load_index(&repo.join("index.yaml"));
    assert_eq!(
        entries(&idx)[&("hello".to_string(), "0.3.0".to_string())]["digest"],
        sha256_hex(&bytes)
    );

    for h in &helm {
        h.ok(["repo", "update"]);
        let dest = tempfile::tempdir_in(work.path()).unwrap();
        let o = h
            .run([
                "pull".as_ref(),
                "s/hello".as_ref(),
                "--version".as_ref(),
                "0.3.0".as_ref(),
                "--verify".as_ref(),
                "--keyring".as_ref(),
                pubring.as_os_str(),
                "-d".as_ref(),
                dest.path().as_os_str(),
            ])
            .expect_fail();
        assert!(
            o.stderr.contains("sha256 sum does not match"),
            "{}",
            o.both()
        );
        let o = h
            .run([
                "verify".as_ref(),
                target.as_os_str(),
                "--keyring".as_ref(),
                pubring.as_os_str(),
            ])
            .expect_fail();
        assert!(
            o.stderr.contains("sha256 sum does not match"),
            "{}",
            o.both()
        );
        // The untouched chart still verifies.
        h.ok([
            "verify".as_ref(),
            repo.join("payments-0.3.0.tgz").as_os_str(),
            "--keyring".as_ref(),
            pubring.as_os_str(),
        ]);
    }
    drop(server);
}

// =============================================================================================
// 2. The index format

/// Helm's `ChartVersion` keys (Metadata inline, plus urls, created, removed, digest).
const ENTRY_KEYS: &[&str] = &[
    "annotations",
    "apiVersion",
    "appVersion",
    "condition",
    "created",
    "dependencies",
    "deprecated",
    "description",
    "digest",
    "home",
    "icon",
    "keywords",
    "kubeVersion",
    "maintainers",
    "name",
    "removed",
    "sources",
    "tags",
    "type",
    "urls",
    "version",
];

/// Every mapping's keys in the text are in strictly ascending (byte) order, as sigs.k8s.io/yaml
/// writes them.
fn assert_keys_sorted(yaml: &str) {
    let mut stack: Vec<(usize, String)> = Vec::new();
    // The indentation of a key whose value is a block scalar (`|`): its lines are text, not keys
    // (Artifact Hub's list annotations are YAML documents in strings).
    let mut block: Option<usize> = None;
    for (n, line) in yaml.lines().enumerate() {
        let trimmed = line.trim_start();
        let mut indent = line.len() - trimmed.len();
        if let Some(b) = block {
            if trimmed.is_empty() || indent > b {
                continue;
            }
            block = None;
        }
        let mut rest = trimmed;
        let mut new_item = false;
        while let Some(r) = rest.strip_prefix("- ") {
            indent += 2;
            rest = r;
            new_item = true;
        }
        if rest.is_empty() || rest.starts_with('-') {
            continue;
        }
        let Some(colon) = rest
            .find(": ")
            .or_else(|| rest.strip_suffix(':').map(|s| s.len()))
        else {
            continue;
        };
        let key = rest[..colon].trim_matches('"').to_string();
        if ["|", "|-", "|+", ">", ">-"].contains(&rest[colon..].trim_start_matches(':').trim()) {
            block = Some(indent);
        }
        while stack
            .last()
            .is_some_and(|(i, _)| *i > indent || (new_item && *i == indent))
        {
            stack.pop();
        }
        match stack.last_mut() {
            Some((i, last)) if *i == indent => {
                assert!(
                    key > *last,
                    "line {}: key `{key}` after `{last}`: keys are not sorted\n{yaml}",
                    n + 1
                );
                *last = key;
            }
            _ => stack.push((indent, key)),
        }
    }
}

#[test]
fn the_index_has_helms_format_digests_semver_order_and_is_reproducible() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    for v in ["0.1.0", "0.2.0", "0.10.0", "1.0.0-rc.1", "0.9.0"] {
        package("hello.yaml", &repo, &["--version", v]);
    }
    package(
        "stateful.yaml",
        &repo.join("nested"),
        &["--version", "2.0.0"],
    );
    // A hand-made chart whose strings YAML would read as something else: the index must carry
    // them as strings (helm reads them back unchanged).
    let quirky = tgz(&[(
        "quirky/Chart.yaml",
        b"apiVersion: v2\nname: quirky\nversion: 1.0.0\nappVersion: \"1.10\"\ndescription: \"yes\"\nkeywords: [\"null\", \"0755\"]\nannotations:\n  a: \"true\"\n  b: \"1e3\"\nhome: https://example.com\n",
    )]);
    std::fs::write(repo.join("quirky-1.0.0.tgz"), &quirky).unwrap();
    // Known mtimes: `created` comes from them.
    let t0 = 1_704_164_645; // 2024-01-02T03:04:05Z
    for (i, f) in [
        "hello-0.1.0.tgz",
        "hello-0.2.0.tgz",
        "hello-0.10.0.tgz",
        "hello-1.0.0-rc.1.tgz",
        "hello-0.9.0.tgz",
        "nested/chat-2.0.0.tgz",
        "quirky-1.0.0.tgz",
    ]
    .iter()
    .enumerate()
    {
        set_mtime(&repo.join(f), t0 + i as u64);
    }

    let server = http_server(&repo);
    let url = format!("{}/", server.url()); // a trailing slash must not double
    let index = |epoch: Option<&str>, merge: bool| {
        let mut a = args([
            "repo".as_ref(),
            "index".as_ref(),
            repo.as_os_str(),
            "--url".as_ref(),
            url.as_ref(),
        ]);
        if merge {
            a.extend(args([
                OsStr::new("--merge"),
                repo.join("index.yaml").as_os_str(),
            ]));
        }
        let mut c = ours(a);
        if let Some(e) = epoch {
            c.env("SOURCE_DATE_EPOCH", e);
        }
        exec(&mut c, OURS_LIMIT).expect_ok();
        std::fs::read(repo.join("index.yaml")).unwrap()
    };

    let first = index(Some("1700000000"), false);
    let text_index = text(&first);
    let idx = load_index(&repo.join("index.yaml"));

    // Only Helm's keys: Helm reads an index strictly and rejects it whole for one unknown key.
    let top: BTreeSet<&str> = idx
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        top,
        BTreeSet::from(["apiVersion", "entries", "generated"]),
        "{text_index}"
    );
    assert_eq!(idx["apiVersion"], "v1");
    assert_eq!(
        idx["generated"], "2023-11-14T22:13:20Z",
        "SOURCE_DATE_EPOCH sets generated"
    );
    let all = entries(&idx);
    assert_eq!(all.len(), 7, "{text_index}");
    for ((name, version), e) in &all {
        for k in e.as_object().unwrap().keys() {
            assert!(
                ENTRY_KEYS.contains(&k.as_str()),
                "{name} {version}: key {k} is not Helm's"
            );
        }
        // urls: URL/<file>, and the file's sha256 is the digest.
        let urls = e["urls"].as_array().unwrap();
        assert_eq!(urls.len(), 1);
        let u = urls[0].as_str().unwrap();
        let rel = u
            .strip_prefix(&format!("{}/", server.url()))
            .unwrap_or_else(|| panic!("{name} {version}: url {u}"));
        assert!(!rel.starts_with('/'), "{u}");
        assert_eq!(
            e["digest"],
            sha256_file(&repo.join(rel)),
            "{name} {version}"
        );
        assert!(e["apiVersion"] == "v2", "{name} {version}");
    }
    assert_eq!(
        versions_of(&idx, "hello"),
        ["1.0.0-rc.1", "0.10.0", "0.9.0", "0.2.0", "0.1.0"],
        "newest first by SemVer"
    );
    assert_eq!(
        all[&("chat".to_string(), "2.0.0".to_string())]["urls"][0],
        format!("{}/nested/chat-2.0.0.tgz", server.url())
    );
    assert_eq!(
        all[&("hello".to_string(), "0.1.0".to_string())]["created"],
        "2024-01-02T03:04:05Z"
    );
    assert_eq!(
        all[&("quirky".to_string(), "1.0.0".to_string())]["created"],
        "2024-01-02T03:04:11Z"
    );
    assert_keys_sorted(&text_index); // (no maintainers or dependencies: see the bug test)

    // Reproducible: the same archives give the same bytes, with or without merging into itself.
    assert_eq!(text(&index(Some("1700000000"), false)), text_index);
    assert_eq!(text(&index(Some("1700000000"), true)), text_index);
    let plain = index(None, false);
    assert_eq!(text(&index(None, false)), text(&plain));
    assert_eq!(text(&index(None, true)), text(&plain));
    // Without SOURCE_DATE_EPOCH, `generated` is the newest `created`.
    let idx = load_index(&repo.join("index.yaml"));
    assert_eq!(idx["generated"], "2024-01-02T03:04:11Z");

    // Helm reads it, and reads the quirky strings back as they were written.
    for h in Helm::all() {
        h.ok(["repo", "add", "f", &server.url()]);
        assert_eq!(h.search("f/").len(), 7, "{}", h.name);
        let o = h.ok(["search", "repo", "f/quirky", "-o", "json"]);
        let v: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(v[0]["app_version"], "1.10", "{}: {}", h.name, o.stdout);
        assert_eq!(v[0]["description"], "yes", "{}: {}", h.name, o.stdout);
        h.ok([
            "pull",
            "f/chat",
            "--version",
            "2.0.0",
            "-d",
            work.path().to_str().unwrap(),
        ]);
    }
}

// =============================================================================================
// 3. Merge rules

/// A directory with hello 0.1.0 and 0.2.0 and its index.
fn small_repo() -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    package("hello.yaml", &repo, &["--version", "0.1.0"]);
    package("hello.yaml", &repo, &["--version", "0.2.0"]);
    run_ours(["repo".as_ref(), "index".as_ref(), repo.as_os_str()]).expect_ok();
    (work, repo)
}

fn index_merge(repo: &Path, merge: &Path, extra: &[&str]) -> Out {
    let mut a = args([
        "repo".as_ref(),
        "index".as_ref(),
        repo.as_os_str(),
        "--merge".as_ref(),
        merge.as_os_str(),
    ]);
    a.extend(args(extra));
    run_ours(a)
}

#[test]
fn merge_keeps_every_entry_of_the_old_index_and_adds_the_new_archives() {
    let work = tempfile::tempdir().unwrap();
    // The old index: entries whose archives are elsewhere, including the versions `helm repo
    // index --merge` drops (helm/helm#30692: `2.0-SNAPSHOT` is lost when `2.0-SNAPSHOT-0320` is
    // added, and `v-bad` fails Helm's SemVer check).
    let old = work.path().join("old.yaml");
    let digest = |s: &str| sha256_hex(s.as_bytes());
    std::fs::write(
        &old,
        format!(
            r#"apiVersion: v1
entries:
  dummy:
  - apiVersion: v2
    created: "2020-01-01T00:00:00Z"
    digest: {d1}
    name: dummy
    urls:
    - https://charts.example.com/dummy-2.0-SNAPSHOT.tgz
    version: 2.0-SNAPSHOT
  - apiVersion: v2
    appVersion: "1.10"
    created: "2020-01-01T00:00:01+05:30"
    digest: {d2}
    name: dummy
    urls:
    - https://charts.example.com/dummy-1.0.0.tgz
    version: 1.0.0
  - apiVersion: v1
    created: "2019-01-01T00:00:00Z"
    digest: {d3}
    name: dummy
    urls:
    - https://charts.example.com/dummy-v-bad.tgz
    version: v-bad
  other:
  - apiVersion: v2
    description: kept verbatim
    digest: {d4}
    name: other
    urls:
    - other-1.0.0.tgz
    version: 1.0.0
generated: "2020-01-01T00:00:00Z"
"#,
            d1 = digest("1"),
            d2 = digest("2"),
            d3 = digest("3"),
            d4 = digest("4")
        ),
    )
    .unwrap();
    let old_text = std::fs::read(&old).unwrap();
    let repo = work.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join("dummy-2.0-SNAPSHOT-0320.tgz"),
        tgz(&[(
            "dummy/Chart.yaml",
            chart_yaml("dummy", "2.0-SNAPSHOT-0320").as_bytes(),
        )]),
    )
    .unwrap();
    package("hello.yaml", &repo, &[]);

    let o = index_merge(&repo, &old, &["--url", "https://charts.example.com"]).expect_ok();
    assert!(
        o.stderr.contains("2 added, 0 unchanged, 4 kept"),
        "{}",
        o.both()
    );
    assert_eq!(
        std::fs::read(&old).unwrap(),
        old_text,
        "the --merge file is only read"
    );
    let before = entries(&load_index(&old));
    let after = entries(&load_index(&repo.join("index.yaml")));
    for (key, e) in &before {
        assert_eq!(after.get(key), Some(e), "{key:?} must be kept verbatim");
    }
    let added: BTreeSet<_> = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect();
    assert_eq!(
        added,
        BTreeSet::from([
            ("dummy".to_string(), "2.0-SNAPSHOT-0320".to_string()),
            ("hello".to_string(), "0.1.0".to_string()),
        ])
    );
    assert_eq!(after.len(), 6);
    let idx = load_index(&repo.join("index.yaml"));
    assert_eq!(
        versions_of(&idx, "dummy"),
        ["2.0-SNAPSHOT-0320", "2.0-SNAPSHOT", "1.0.0", "v-bad"],
        "SemVer order, unparsable last"
    );
}

#[test]
fn merge_gives_the_same_bytes_from_our_own_layout_and_from_the_general_parser() {
    // Our own index takes the fast reader; the same index behind a comment takes the general
    // parser. Its versions are put out of order first (the fast reader reads our layout, not our
    // order), so the merge must sort them either way, and both merges must write the same bytes.
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    generate_archives(&repo, &hello_files(), 6, 2);
    run_ours(["repo".as_ref(), "index".as_ref(), repo.as_os_str()]).expect_ok();
    let ours = std::fs::read_to_string(repo.join("index.yaml")).unwrap();
    // gen000's versions, newest first: swap its first two entries.
    let at = |v: &str| {
        let line = [
            format!("    version: {v}\n"),
            format!("    version: \"{v}\"\n"),
        ]
        .into_iter()
        .find(|l| ours.contains(l.as_str()))
        .unwrap();
        let end = ours.find(&line).unwrap() + line.len();
        let start = ours[..end].rfind("\n  - ").unwrap() + 1;
        (start, end)
    };
    let (s2, e2) = at("1.2.0");
    let (s1, e1) = at("1.1.0");
    assert_eq!(e2, s1, "1.2.0 comes right before 1.1.0 in\n{ours}");
    let unsorted = format!(
        "{}{}{}{}",
        &ours[..s2],
        &ours[s1..e1],
        &ours[s2..e2],
        &ours[e1..]
    );
    assert_ne!(unsorted, ours);

    let new = work.path().join("new");
    package("hello.yaml", &new, &["--version", "9.9.9"]);
    let mut written = Vec::new();
    for (label, text) in [
        ("fast", unsorted.clone()),
        ("general", format!("# edited by hand\n{unsorted}")),
    ] {
        let old = work.path().join(format!("{label}.yaml"));
        std::fs::write(&old, &text).unwrap();
        let o = index_merge(&new, &old, &[]).expect_ok();
        assert!(
            o.stderr.contains("1 added, 0 unchanged, 6 kept"),
            "{}",
            o.both()
        );
        let merged = std::fs::read_to_string(new.join("index.yaml")).unwrap();
        assert_eq!(
            versions_of(&load_index(&new.join("index.yaml")), "gen000"),
            ["1.2.0", "1.1.0", "1.0.0"],
            "{label}: sorted again"
        );
        written.push(merged);
    }
    assert_eq!(written[0], written[1], "the same bytes from either reader");
}

#[test]
fn merge_keeps_created_and_digest_of_an_unchanged_archive() {
    let (work, repo) = small_repo();
    let archive = repo.join("hello-0.1.0.tgz");
    set_mtime(&archive, 1_704_164_645);
    set_mtime(&repo.join("hello-0.2.0.tgz"), 1_704_164_646);
    run_ours(["repo".as_ref(), "index".as_ref(), repo.as_os_str()]).expect_ok();
    let before = entries(&load_index(&repo.join("index.yaml")));
    let key = ("hello".to_string(), "0.1.0".to_string());
    assert_eq!(before[&key]["created"], "2024-01-02T03:04:05Z");

    // Packaged again: the same bytes (reproducible archives), a new mtime.
    package("hello.yaml", &repo, &["--version", "0.1.0"]);
    assert_eq!(
        sha256_file(&archive),
        before[&key]["digest"].as_str().unwrap()
    );
    let o = index_merge(&repo, &repo.join("index.yaml"), &[]).expect_ok();
    assert!(
        o.stderr.contains("0 added, 2 unchanged, 0 kept"),
        "{}",
        o.both()
    );
    let after = entries(&load_index(&repo.join("index.yaml")));
    assert_eq!(
        after, before,
        "created and digest of unchanged archives are kept"
    );

    // Without --merge the new mtime shows: the kept `created` came from the merge.
    let fresh = work.path().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::copy(&archive, fresh.join("hello-0.1.0.tgz")).unwrap();
    run_ours(["repo".as_ref(), "index".as_ref(), fresh.as_os_str()]).expect_ok();
    let f = entries(&load_index(&fresh.join("index.yaml")));
    assert_ne!(f[&key]["created"], before[&key]["created"]);
}

#[test]
fn merge_refuses_a_changed_archive_under_a_published_version_unless_forced() {
    let (work, repo) = small_repo();
    let index = repo.join("index.yaml");
    let before = entries(&load_index(&index));
    // Same name and version, different content.
    package(
        "hello.yaml",
        &repo,
        &["--version", "0.1.0", "--app-version", "9.9.9"],
    );
    let changed = sha256_file(&repo.join("hello-0.1.0.tgz"));
    let key = ("hello".to_string(), "0.1.0".to_string());
    assert_ne!(before[&key]["digest"], changed);

    let snap = snapshot(&repo);
    let o = index_merge(&repo, &index, &[]).expect_fail();
    assert_eq!(o.code, Some(1), "{}", o.both());
    assert!(
        o.stderr.contains("hello 0.1.0"),
        "the message names the chart and version:\n{}",
        o.both()
    );
    assert!(o.stderr.contains("--force"), "{}", o.both());
    assert_eq!(snapshot(&repo), snap, "nothing is written");
    // Also when the old index is another file.
    let old = work.path().join("old.yaml");
    std::fs::copy(&index, &old).unwrap();
    index_merge(&repo, &old, &[]).expect_fail();
    assert_eq!(snapshot(&repo), snap, "nothing is written");

    let o = index_merge(&repo, &index, &["--force"]).expect_ok();
    assert!(o.stderr.contains("replaced hello 0.1.0"), "{}", o.both());
    let after = entries(&load_index(&index));
    assert_eq!(after[&key]["digest"], changed);
    assert_eq!(after[&key]["appVersion"], "9.9.9");
    let other = ("hello".to_string(), "0.2.0".to_string());
    assert_eq!(after[&other], before[&other]);
    assert_eq!(after.len(), 2);
}

#[test]
fn merge_with_a_missing_merge_file_counts_it_as_empty() {
    let (work, repo) = small_repo();
    let plain = std::fs::read(repo.join("index.yaml")).unwrap();
    std::fs::remove_file(repo.join("index.yaml")).unwrap();
    let missing = work.path().join("no-such-index.yaml");
    let o = index_merge(&repo, &missing, &[]).expect_ok();
    assert!(
        o.stderr.contains("2 added, 0 unchanged, 0 kept"),
        "{}",
        o.both()
    );
    assert_eq!(std::fs::read(repo.join("index.yaml")).unwrap(), plain);
    assert!(
        !missing.exists(),
        "the missing --merge file is not created (helm creates it)"
    );
    // DIR/index.yaml itself, missing.
    std::fs::remove_file(repo.join("index.yaml")).unwrap();
    index_merge(&repo, &repo.join("index.yaml"), &[]).expect_ok();
    assert_eq!(std::fs::read(repo.join("index.yaml")).unwrap(), plain);
}

/// Archives Helm cannot load, as (file name, bytes).
fn corrupt_archives() -> Vec<(&'static str, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let good =
        std::fs::read(&package("hello.yaml", dir.path(), &["--version", "0.5.0"])[0]).unwrap();
    let chart = chart_yaml("bad", "1.0.0");
    let zeros = vec![0u8; 5 * MIB];
    let mut bomb: Vec<(String, &[u8])> = vec![("bad/Chart.yaml".into(), chart.as_bytes())];
    for i in 0..21 {
        bomb.push((format!("bad/files/zeros-{i:02}"), &zeros));
    }
    let bomb: Vec<(&str, &[u8])> = bomb.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    let bomb = tgz(&bomb);
    assert!(bomb.len() < MIB, "a bomb: {} bytes for 105 MiB", bomb.len());
    vec![
        ("truncated-0.5.0.tgz", good[..good.len() / 2].to_vec()),
        // A plain tar named .tgz (`tar cf`): a common mistake.
        (
            "not-gzip-1.0.0.tgz",
            tar_bytes(&[("bad/Chart.yaml", chart.as_bytes())]),
        ),
        ("bomb-1.0.0.tgz", bomb),
        (
            "escape-1.0.0.tgz",
            tgz(&[
                ("bad/Chart.yaml", chart.as_bytes()),
                ("bad/../../escaped.txt", b"outside"),
            ]),
        ),
        (
            "big-file-1.0.0.tgz",
            tgz(&[
                ("bad/Chart.yaml", chart.as_bytes()),
                ("bad/files/big", &vec![b'x'; 5 * MIB + 1]),
            ]),
        ),
        (
            "no-version-1.0.0.tgz",
            tgz(&[("bad/Chart.yaml", b"apiVersion: v2\nname: bad\n")]),
        ),
    ]
}

/// Does helm (3 and 4, which must agree) load this archive? `helm show chart` runs the loader.
fn helm_loads(helm: &[Helm], archive: &Path) -> (bool, String) {
    let verdicts: Vec<Out> = helm
        .iter()
        .map(|h| h.run(["show".as_ref(), "chart".as_ref(), archive.as_os_str()]))
        .collect();
    assert_eq!(
        verdicts[0].ok,
        verdicts[1].ok,
        "helm 3 and helm 4 disagree on {}:\n{}\n{}",
        archive.display(),
        verdicts[0].both(),
        verdicts[1].both()
    );
    (verdicts[0].ok, verdicts[1].stderr.trim().to_string())
}

#[test]
fn merge_reports_each_corrupted_archive_by_name_and_leaves_the_old_index_untouched() {
    let helm = Helm::all();
    let bad = corrupt_archives();
    let (_work, repo) = small_repo();
    let index = repo.join("index.yaml");
    for (name, bytes) in &bad {
        let path = repo.join(name);
        std::fs::write(&path, bytes).unwrap();
        let (loads, why) = helm_loads(&helm, &path);
        assert!(!loads, "the fixture {name} should be refused by helm");
        let snap = snapshot(&repo);
        let o = index_merge(&repo, &index, &[]).expect_fail();
        assert_eq!(o.code, Some(1), "{}", o.both());
        assert!(
            o.stderr.contains(name),
            "{name} must be named (helm: {why}):\n{}",
            o.both()
        );
        assert!(o.stderr.contains("nothing was written"), "{}", o.both());
        assert_eq!(
            snapshot(&repo),
            snap,
            "{name}: the old index.yaml must be untouched"
        );
        // The same without --merge.
        run_ours(["repo".as_ref(), "index".as_ref(), repo.as_os_str()]).expect_fail();
        assert_eq!(
            snapshot(&repo),
            snap,
            "{name}: the old index.yaml must be untouched"
        );
        std::fs::remove_file(&path).unwrap();
    }
    // All at once, in a subdirectory too: every one is named in one run.
    let sub = repo.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    for (i, (name, bytes)) in bad.iter().enumerate() {
        let dir = if i % 2 == 0 { &repo } else { &sub };
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let snap = snapshot(&repo);
    let o = index_merge(&repo, &index, &[]).expect_fail();
    for (name, _) in &bad {
        assert!(
            o.stderr.contains(name),
            "{name} must be named:\n{}",
            o.both()
        );
    }
    assert_eq!(snapshot(&repo), snap);
}

#[test]
fn merge_refuses_an_old_index_that_helm_would_refuse() {
    let helm = Helm::all();
    let (work, repo) = small_repo();
    let good = std::fs::read_to_string(repo.join("index.yaml")).unwrap();
    assert!(good.contains("\n    version: \"0.1.0\"\n"), "{good}");
    let cases: Vec<(&str, String)> = vec![
        ("unknown-top-level-key", format!("{good}foo: bar\n")),
        (
            "unknown-entry-key",
            good.replacen(
                "    version: \"0.1.0\"\n",
                "    version: \"0.1.0\"\n    colour: red\n",
                1,
            ),
        ),
        (
            "unknown-maintainer-key",
            good.replacen(
                "    version: \"0.1.0\"\n",
                "    version: \"0.1.0\"\n    maintainers:\n    - name: Jane\n      twitter: jane\n",
                1,
            ),
        ),
        (
            "urls-not-a-list",
            good.replacen(
                "    urls:\n    - hello-0.1.0.tgz\n",
                "    urls: hello-0.1.0.tgz\n",
                1,
            ),
        ),
        (
            "entries-not-lists",
            "apiVersion: v1\nentries:\n  hello:\n    name: hello\n    version: 0.1.0\n".to_string(),
        ),
        ("no-api-version", good.replacen("apiVersion: v1\n", "", 1)),
        (
            "duplicate-key",
            good.replacen("entries:\n", "entries:\n  hello: []\n", 1),
        ),
        ("empty", String::new()),
        ("not-yaml", "{ this is: [not yaml\n".to_string()),
    ];
    // Serve every case, to ask helm too.
    let served = work.path().join("served");
    for (name, body) in &cases {
        std::fs::create_dir_all(served.join(name)).unwrap();
        std::fs::write(served.join(name).join("index.yaml"), body).unwrap();
    }
    let server = http_server(&served);
    for (name, body) in &cases {
        assert_ne!(body, &good);
        let old = work.path().join(format!("{name}.yaml"));
        std::fs::write(&old, body).unwrap();
        let snap = snapshot(&repo);
        let o = index_merge(&repo, &old, &[]).expect_fail();
        assert_eq!(o.code, Some(1), "{name}: {}", o.both());
        assert!(
            o.stderr.contains(&format!("{name}.yaml")),
            "{name}: the message names the old index:\n{}",
            o.both()
        );
        assert_eq!(snapshot(&repo), snap, "{name}: nothing is written");
        for h in &helm {
            let o = h.run(["repo", "add", name, &format!("{}/{name}", server.url())]);
            assert!(
                !o.ok,
                "{}: helm accepts the `{name}` index, so refusing it is not like helm:\n{}",
                h.name,
                o.both()
            );
        }
    }
}

#[test]
fn concurrent_merges_on_one_directory_lose_nothing() {
    // A repository big enough that every run takes a while, so that runs overlap.
    let files = hello_files();
    let template = tempfile::tempdir().unwrap();
    generate_archives(template.path(), &files, 120, 12);
    let writers = 4;
    let rounds = 6;
    for round in 0..rounds {
        let work = tempfile::tempdir().unwrap();
        let repo = work.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        for e in std::fs::read_dir(template.path()).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, repo.join(p.file_name().unwrap())).unwrap();
        }
        run_ours(["repo".as_ref(), "index".as_ref(), repo.as_os_str()]).expect_ok();
        let old_entries = entries(&load_index(&repo.join("index.yaml")));
        assert_eq!(old_entries.len(), 120);
        // Even rounds merge into DIR/index.yaml itself; odd rounds all merge the same old file
        // (e.g. the index downloaded from the server), each adding its own archive.
        let merge = if round % 2 == 0 {
            repo.join("index.yaml")
        } else {
            let old = work.path().join("old-index.yaml");
            std::fs::copy(repo.join("index.yaml"), &old).unwrap();
            old
        };
        let staging = work.path().join("staging");
        std::fs::create_dir_all(&staging).unwrap();
        let new_names: Vec<String> = (0..writers).map(|w| format!("new{round}w{w}")).collect();
        for n in &new_names {
            std::fs::write(
                staging.join(format!("{n}-1.0.0.tgz")),
                rename_chart(&files, n, "1.0.0"),
            )
            .unwrap();
        }
        let barrier = Arc::new(Barrier::new(writers));
        let epoch = Instant::now();
        let runs: Vec<(Out, Duration, Duration)> = std::thread::scope(|s| {
            let handles: Vec<_> = new_names
                .iter()
                .map(|n| {
                    let barrier = barrier.clone();
                    let (staging, repo, merge) = (&staging, &repo, &merge);
                    s.spawn(move || {
                        let file = format!("{n}-1.0.0.tgz");
                        barrier.wait();
                        // Publish the archive atomically, then index.
                        std::fs::rename(staging.join(&file), repo.join(&file)).unwrap();
                        let start = epoch.elapsed();
                        let o = index_merge(repo, merge, &[]);
                        (o, start, epoch.elapsed())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (o, _, _) in &runs {
            assert!(
                o.ok,
                "round {round}: a concurrent run failed:\n{}",
                o.both()
            );
        }
        // The runs did run at the same time (else this round proves nothing).
        let overlapping = runs.iter().enumerate().any(|(i, (_, s1, e1))| {
            runs.iter()
                .skip(i + 1)
                .any(|(_, s2, e2)| s1 < e2 && s2 < e1)
        });
        assert!(overlapping, "round {round}: no two runs overlapped");
        let outs: Vec<&Out> = runs.iter().map(|(o, _, _)| o).collect();
        if round % 2 == 0 {
            // Serialized runs merging DIR/index.yaml each start from the previous run's index,
            // so every new archive is "added" by exactly one run. Two runs that read the same
            // index would both count it.
            let added: usize = outs
                .iter()
                .map(|o| {
                    let at = o
                        .stderr
                        .find(" added")
                        .unwrap_or_else(|| panic!("{}", o.both()));
                    let digits: String = o.stderr[..at]
                        .chars()
                        .rev()
                        .take_while(|c| c.is_ascii_digit())
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    digits.parse::<usize>().unwrap()
                })
                .sum();
            assert_eq!(
                added,
                writers,
                "round {round}: runs were not serialized:\n{}",
                outs.iter().map(|o| o.stderr.clone()).collect::<String>()
            );
        }
        let after = entries(&load_index(&repo.join("index.yaml")));
        for (key, e) in &old_entries {
            assert_eq!(
                after.get(key),
                Some(e),
                "round {round}: {key:?} lost or changed"
            );
        }
        for n in &new_names {
            assert!(
                after.contains_key(&(n.clone(), "1.0.0".to_string())),
                "round {round}: {n} 1.0.0 was lost; runs:\n{}",
                outs.iter().map(|o| o.stderr.clone()).collect::<String>()
            );
        }
        assert_eq!(after.len(), 120 + writers, "round {round}");
        // No temporary files left behind.
        let others: BTreeSet<String> = std::fs::read_dir(&repo)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".tgz"))
            .collect();
        assert_eq!(
            others,
            BTreeSet::from(["index.yaml".to_string(), "index.yaml.lock".to_string()])
        );
    }
}

// =============================================================================================
// 4. OCI: `push` to a real registry

#[test]
fn push_to_a_real_oci_registry_then_pull_and_template_on_helm_3_and_4() {
    let work = tempfile::tempdir().unwrap();
    // What `package` makes is what is pushed: archives are reproducible.
    let local = package("hello.yaml", &work.path().join("local"), &[]);
    let local_digest = sha256_file(&local[0]);
    for h in Helm::all() {
        let storage = tempfile::tempdir().unwrap();
        let reg = registry(storage.path());
        let remote = format!("oci://127.0.0.1:{}/charts", reg.port);
        let push = |extra_before: &[&str], spec: &str| {
            let mut a = args([
                "push".as_ref(),
                root().join("examples").join(spec).as_os_str(),
                remote.as_ref(),
            ]);
            a.extend(args(extra_before));
            a.extend(args(["--", "--plain-http"]));
            let mut c = ours(a);
            c.env("HELM_BIN", &h.bin);
            let mut o = exec(h.isolate(&mut c), OURS_LIMIT);
            o.what = format!("[{}] {}", h.name, o.what);
            o
        };
        let o = push(&[], "hello.yaml");
        assert!(o.ok, "{}\nregistry log:\n{}", o.both(), reg.log());
        let dest = tempfile::tempdir_in(work.path()).unwrap();
        h.ok([
            "pull".as_ref(),
            format!("{remote}/hello").as_ref(),
            "--version".as_ref(),
            "0.1.0".as_ref(),
            "--plain-http".as_ref(),
            "-d".as_ref(),
            dest.path().as_os_str(),
        ]);
        let pulled = dest.path().join("hello-0.1.0.tgz");
        assert_eq!(
            sha256_file(&pulled),
            local_digest,
            "{}: pulled bytes",
            h.name
        );
        let o = h.ok(["template".as_ref(), "demo".as_ref(), pulled.as_os_str()]);
        assert!(o.stdout.contains("kind: Deployment"), "{}", o.both());
        let o = h.ok([
            "template",
            "demo",
            &format!("{remote}/hello"),
            "--version",
            "0.1.0",
            "--plain-http",
        ]);
        assert!(o.stdout.contains("kind: Deployment"), "{}", o.both());

        // A spec with two services pushes both; --version applies.
        let o = push(
            &[
                "--var",
                "parent.domain=shop.example.com",
                "--version",
                "0.2.0",
            ],
            "opta-service.yaml",
        );
        assert!(o.ok, "{}\nregistry log:\n{}", o.both(), reg.log());
        for chart in ["shop-web", "shop-api"] {
            let o = h.ok([
                "show",
                "chart",
                &format!("{remote}/{chart}"),
                "--version",
                "0.2.0",
                "--plain-http",
            ]);
            assert!(o.stdout.contains(&format!("name: {chart}")), "{}", o.both());
        }
    }
    // A registry that is not there: helm push fails, and so do we, with helm's exit code.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    for h in Helm::all() {
        let mut c = ours([
            "push".as_ref(),
            root().join("examples/hello.yaml").as_os_str(),
            format!("oci://127.0.0.1:{port}/charts").as_ref(),
            "--".as_ref(),
            "--plain-http".as_ref(),
        ]);
        c.env("HELM_BIN", &h.bin);
        let o = exec(h.isolate(&mut c), OURS_LIMIT).expect_fail();
        assert_eq!(o.code, Some(1), "{}: {}", h.name, o.both());
        assert!(
            o.stderr.contains("connection refused"),
            "{}: {}",
            h.name,
            o.both()
        );
        // Not a registry at all.
        let mut c = ours([
            "push".as_ref(),
            root().join("examples/hello.yaml").as_os_str(),
            format!("http://127.0.0.1:{port}/charts").as_ref(),
        ]);
        c.env("HELM_BIN", &h.bin);
        let o = exec(h.isolate(&mut c), OURS_LIMIT).expect_fail();
        assert!(o.stderr.contains("oci://"), "{}: {}", h.name, o.both());
    }
}

/// GET a registry path over plain HTTP/1.0: (headers, body). An OCI manifest is asked for.
fn registry_get(port: u16, path: &str) -> (String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(TOOL_LIMIT)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: application/vnd.oci.image.manifest.v1+json\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    (
        String::from_utf8_lossy(&all[..split]).into_owned(),
        all[split + 4..].to_vec(),
    )
}

/// What Flux needs of a pushed chart (gitops/flux/): the manifest's single layer has the media
/// type the example OCIRepository's `layerSelector` selects, and it is the archive `package`
/// makes, byte for byte; the manifest digest `helm push` prints pins it, and helm pulls and
/// renders it by that digest on Helm 3 and 4.
#[test]
fn a_pushed_chart_is_what_fluxs_oci_repository_selects_and_pins_by_digest() {
    let work = tempfile::tempdir().unwrap();
    let local = package("hello.yaml", &work.path().join("local"), &[]);
    let local_digest = sha256_file(&local[0]);
    let flux = std::fs::read_to_string(root().join("gitops/flux/ocirepository.yaml")).unwrap();
    let flux: Value = serde_saphyr::from_str(&flux).unwrap();
    let selected = flux["spec"]["layerSelector"]["mediaType"].as_str().unwrap();
    for h in Helm::all() {
        let storage = tempfile::tempdir().unwrap();
        let reg = registry(storage.path());
        let remote = format!("oci://127.0.0.1:{}/charts", reg.port);
        let mut c = ours([
            "push".as_ref(),
            root().join("examples/hello.yaml").as_os_str(),
            OsStr::new(&remote),
            "--".as_ref(),
            "--plain-http".as_ref(),
        ]);
        c.env("HELM_BIN", &h.bin);
        let o = exec(h.isolate(&mut c), OURS_LIMIT);
        assert!(o.ok, "{}\nregistry log:\n{}", o.both(), reg.log());
        let printed = o
            .both()
            .lines()
            .find_map(|l| l.strip_prefix("Digest: ").map(|d| d.trim().to_string()))
            .unwrap_or_else(|| panic!("{}: helm push prints the digest: {}", h.name, o.both()));
        let (headers, body) = registry_get(reg.port, "/v2/charts/hello/manifests/0.1.0");
        assert!(
            headers.starts_with("HTTP/1.0 200") || headers.starts_with("HTTP/1.1 200"),
            "{headers}"
        );
        let manifest: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            format!("sha256:{}", sha256_hex(&body)),
            printed,
            "{}: the printed digest is the manifest's",
            h.name
        );
        assert_eq!(
            manifest["config"]["mediaType"], "application/vnd.cncf.helm.config.v1+json",
            "{}",
            h.name
        );
        let layers = manifest["layers"].as_array().unwrap();
        let charts: Vec<&Value> = layers
            .iter()
            .filter(|l| l["mediaType"] == selected)
            .collect();
        assert_eq!(
            charts.len(),
            1,
            "{}: one layer for the layerSelector: {manifest:#}",
            h.name
        );
        assert_eq!(
            charts[0]["digest"].as_str().unwrap(),
            format!("sha256:{local_digest}"),
            "{}: the layer is the packaged archive",
            h.name
        );
        // Pinned by digest, as the example's `ref.digest`.
        let pinned = format!("{remote}/hello@{printed}");
        let o = h.ok(["template", "demo", &pinned, "--plain-http"]);
        assert!(
            o.stdout.contains("kind: Deployment"),
            "{}: {}",
            h.name,
            o.both()
        );
    }
}

// =============================================================================================
// 5. Scale

#[test]
fn two_thousand_archives_are_indexed_and_one_more_is_merged_in() {
    let files = hello_files();
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    // 200 charts x 10 versions (1.0.0 ... 1.9.0), all at the top level.
    generate_archives(&repo, &files, 2000, 200);
    let o = run_ours([
        "repo".as_ref(),
        "index".as_ref(),
        repo.as_os_str(),
        "--url".as_ref(),
        "https://charts.example.com".as_ref(),
    ])
    .expect_ok();
    assert!(o.stderr.contains("2000 added"), "{}", o.both());
    let idx = load_index(&repo.join("index.yaml"));
    let old = entries(&idx);
    assert_eq!(old.len(), 2000);
    assert_eq!(idx["entries"].as_object().unwrap().len(), 200);
    let expected: Vec<String> = (0..10).rev().map(|m| format!("1.{m}.0")).collect();
    assert_eq!(versions_of(&idx, "gen000"), expected);
    assert_eq!(versions_of(&idx, "gen199"), expected);

    // One more chart, merged into the big index.
    std::fs::write(
        repo.join("newcomer-0.1.0.tgz"),
        rename_chart(&files, "newcomer", "0.1.0"),
    )
    .unwrap();
    let o = index_merge(
        &repo,
        &repo.join("index.yaml"),
        &["--url", "https://charts.example.com"],
    )
    .expect_ok();
    assert!(
        o.stderr.contains("1 added, 2000 unchanged, 0 kept"),
        "{}",
        o.both()
    );
    let new = entries(&load_index(&repo.join("index.yaml")));
    assert_eq!(new.len(), 2001);
    for (k, e) in &old {
        assert_eq!(new.get(k), Some(e), "{k:?}");
    }
    assert!(new.contains_key(&("newcomer".to_string(), "0.1.0".to_string())));

    // Helm reads the whole index: every version is listed.
    let server = http_server(&repo);
    for h in Helm::all() {
        h.ok(["repo", "add", "big", &server.url()]);
        assert_eq!(h.search("big/").len(), 2001, "{}", h.name);
    }
}

// =============================================================================================
// Archives are judged as Helm judges them. Each case is checked against helm 3 and 4 (which
// agree); a mismatch is a bug either way: an archive helm refuses ends up in the index (users
// get errors, or a bomb is served), or a chart helm loads is refused.

fn assert_judged_like_helm(cases: &[(&str, Vec<u8>)]) {
    let helm = Helm::all();
    let work = tempfile::tempdir().unwrap();
    let mut mismatches = Vec::new();
    for (name, bytes) in cases {
        let dir = work.path().join(name.trim_end_matches(".tgz"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let (helm_ok, helm_why) = helm_loads(&helm, &path);
        let o = run_ours(["repo".as_ref(), "index".as_ref(), dir.as_os_str()]);
        match (helm_ok, o.ok) {
            (true, false) => mismatches.push(format!(
                "{name}: helm loads it, but repo index refuses it: {}",
                o.stderr.trim()
            )),
            (false, true) => mismatches.push(format!(
                "{name}: helm refuses it ({helm_why}), but repo index indexes it"
            )),
            (false, false) => {
                if !o.stderr.contains(name) {
                    mismatches.push(format!("{name}: refused without naming it: {}", o.stderr));
                }
            }
            (true, true) => {}
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} archive(s) judged unlike helm:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

fn ok_chart() -> String {
    chart_yaml("c", "1.0.0")
}

/// Regression coverage: cases where we and helm agree today.
#[test]
fn archives_are_judged_like_helm() {
    let ch = ok_chart();
    let tpl = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
    let good = tgz(&[
        ("c/Chart.yaml", ch.as_bytes()),
        ("c/templates/cm.yaml", tpl),
    ]);
    let mut trailer_cut = good.clone();
    trailer_cut.truncate(good.len() - 8); // the gzip CRC and size: neither reader gets there
    let exactly_5 = vec![b'a'; 5 * MIB];
    let cases = vec![
        ("good.tgz", good.clone()),
        ("trailer-cut.tgz", trailer_cut),
        ("half.tgz", good[..good.len() / 2].to_vec()),
        ("empty.tgz", Vec::new()),
        ("any-prefix.tgz", tgz(&[("zzz/Chart.yaml", ch.as_bytes())])),
        ("no-prefix.tgz", tgz(&[("Chart.yaml", ch.as_bytes())])),
        (
            "absolute-inside.tgz",
            tgz(&[("c/Chart.yaml", ch.as_bytes()), ("c//etc/passwd", b"x")]),
        ),
        (
            "backslashes.tgz",
            tgz(&[
                ("c\\Chart.yaml", ch.as_bytes()),
                ("c\\templates\\cm.yaml", tpl),
            ]),
        ),
        (
            "file-of-5-mib.tgz",
            tgz(&[("c/Chart.yaml", ch.as_bytes()), ("c/files/big", &exactly_5)]),
        ),
        (
            "file-over-5-mib.tgz",
            tgz(&[
                ("c/Chart.yaml", ch.as_bytes()),
                ("c/files/big", &[&exactly_5[..], b"a"].concat()),
            ]),
        ),
        (
            "bad-semver.tgz",
            tgz(&[("c/Chart.yaml", chart_yaml("c", "one").as_bytes())]),
        ),
        (
            "bad-type.tgz",
            tgz(&[("c/Chart.yaml", format!("{ch}type: operator\n").as_bytes())]),
        ),
        ("no-chart-yaml.tgz", tgz(&[("c/values.yaml", b"a: 1\n")])),
    ];
    assert_judged_like_helm(&cases);
}

/// BUG: `chart_archive::read` uses `flate2::read::GzDecoder`, which stops after the first gzip
/// member; Go's gzip reader (helm) reads every member. A multi-member archive (`cat a.gz b.gz`,
/// BGZF, some streaming compressors) is therefore refused when valid, and a bomb or a `../`
/// path in a later member is indexed. Fix: `flate2::read::MultiGzDecoder`.
#[test]
fn multi_member_gzip_archives_are_read_to_the_end_like_helm() {
    let ch = ok_chart();
    let tpl = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
    let split = |t: Vec<u8>, at: usize| [gzip(&t[..at]), gzip(&t[at..])].concat();
    // Chart.yaml in the second member.
    let valid = split(
        tar_bytes(&[
            ("c/templates/cm.yaml", tpl),
            ("c/Chart.yaml", ch.as_bytes()),
        ]),
        512,
    );
    let zeros = vec![0u8; 5 * MIB];
    let mut bomb: Vec<(String, &[u8])> = vec![("c/Chart.yaml".into(), ch.as_bytes())];
    for i in 0..21 {
        bomb.push((format!("c/files/z{i:02}"), &zeros));
    }
    let bomb: Vec<(&str, &[u8])> = bomb.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    let bomb = split(tar_bytes(&bomb), 1024);
    let escape = split(
        tar_bytes(&[("c/Chart.yaml", ch.as_bytes()), ("c/../../evil", b"x")]),
        1024,
    );
    assert_judged_like_helm(&[
        ("two-members.tgz", valid),
        ("bomb-in-second-member.tgz", bomb),
        ("escape-in-second-member.tgz", escape),
    ]);
}

/// BUG: helm splits each name on `/`, drops exactly the first component (empty for `/c/...`),
/// cleans the rest (`path.Clean`) and refuses any cleaned path that starts with `..` (so also a
/// file named `..data`). We trim leading slashes and check raw components instead: `..data` and
/// `/c/Chart.yaml` and a file outside the chart directory (`README`, or a regular file `c/`) are
/// indexed though helm refuses the chart, while
/// `templates/../templates/x.yaml` and `./Chart.yaml` are refused though helm loads them. Fix:
/// do not trim leading `/`; split at the first `/`; refuse a rest starting with `/`; clean the
/// rest like Go's `path.Clean` (drop `.` and empty components, resolve `x/..`); refuse a result
/// of "." (content outside the base directory: never skip such a file) and any result starting
/// with ".."; compare the cleaned path with "Chart.yaml". (Helm 3.17/4.1 `LoadArchiveFiles`, with '\\' as the
/// separator when a name contains one.)
#[test]
fn archive_paths_are_cleaned_like_helm() {
    let ch = ok_chart();
    let tpl = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
    assert_judged_like_helm(&[
        (
            "dotdot-name.tgz",
            tgz(&[("c/Chart.yaml", ch.as_bytes()), ("c/..data", b"x")]),
        ),
        (
            "inner-dotdot.tgz",
            tgz(&[
                ("c/Chart.yaml", ch.as_bytes()),
                ("c/templates/../templates/cm.yaml", tpl),
            ]),
        ),
        (
            "dot-chart-yaml.tgz",
            tgz(&[("c/./Chart.yaml", ch.as_bytes())]),
        ),
        // Helm splits `/c/Chart.yaml` into "", "c", "Chart.yaml" and strips the empty first
        // component: the file is `c/Chart.yaml` inside the chart and Chart.yaml is missing.
        (
            "leading-slash.tgz",
            tgz(&[("/c/Chart.yaml", ch.as_bytes())]),
        ),
        // A file outside the chart directory: the cleaned rest is "." and helm refuses the
        // chart ("content outside the base directory"); we skip the file.
        (
            "top-level-file.tgz",
            tgz(&[("c/Chart.yaml", ch.as_bytes()), ("README", b"x")]),
        ),
        (
            "file-named-like-a-dir.tgz",
            tgz(&[("c/Chart.yaml", ch.as_bytes()), ("c/", b"x")]),
        ),
    ]);
}

/// BUG: helm refuses a chart whose files add up to exactly 100 MiB (its remaining budget reaches
/// 0: `if remainingSize <= 0`); we refuse only above it (`total > MAX_TOTAL`). 100 MiB - 1 loads.
/// Fix: `if total >= MAX_TOTAL` in the archive walk (src/repo/tar_walk.rs, `admit`).
#[test]
fn a_chart_of_exactly_100_mib_is_refused_like_helm() {
    let ch = ok_chart();
    let make = |total: usize| {
        let chunk = vec![0u8; 5 * MIB];
        let mut rest = total - ch.len();
        let mut names = Vec::new();
        let mut sizes = Vec::new();
        while rest > 0 {
            let n = rest.min(5 * MIB);
            names.push(format!("c/files/f{:02}", names.len()));
            sizes.push(n);
            rest -= n;
        }
        let mut entries: Vec<(&str, &[u8])> = vec![("c/Chart.yaml", ch.as_bytes())];
        for (n, s) in names.iter().zip(&sizes) {
            entries.push((n.as_str(), &chunk[..*s]));
        }
        tgz(&entries)
    };
    assert_judged_like_helm(&[
        ("under-100-mib.tgz", make(100 * MIB - 1)),
        ("exactly-100-mib.tgz", make(100 * MIB)),
    ]);
}

/// BUG: Chart.yaml is read with `Maintainer` and `Dependency` types that deny unknown fields and
/// with serde-saphyr's default duplicate-key policy (error). Helm reads Chart.yaml leniently
/// (unknown keys ignored, the last duplicate wins), so third-party charts with e.g. a maintainer's
/// `twitter:` or a dependency's `description:` are indexed by `helm repo index` and refused by
/// ours. Fix: separate lenient Chart.yaml types (or no `deny_unknown_fields` when reading
/// archives; keep it for reading old indexes) and `DuplicateKeyPolicy::LastWins` for Chart.yaml.
#[test]
fn third_party_chart_yaml_is_read_as_leniently_as_helm() {
    let ch = ok_chart();
    assert_judged_like_helm(&[
        (
            "maintainer-extra-key.tgz",
            tgz(&[(
                "c/Chart.yaml",
                format!("{ch}maintainers:\n- name: Jane\n  twitter: jane\n").as_bytes(),
            )]),
        ),
        (
            "dependency-extra-key.tgz",
            tgz(&[
                (
                    "c/Chart.yaml",
                    format!("{ch}dependencies:\n- name: d\n  version: 1.0.0\n  repository: https://example.com\n  description: extra\n").as_bytes(),
                ),
                ("c/charts/d/Chart.yaml", chart_yaml("d", "1.0.0").as_bytes()),
            ]),
        ),
        (
            "duplicate-key.tgz",
            tgz(&[("c/Chart.yaml", format!("{ch}description: again\n").as_bytes())]),
        ),
    ]);
}

/// BUG: only Chart.yaml is parsed, but helm's loader also refuses a chart whose values.yaml is
/// not YAML (`cannot load values.yaml`), so such an archive is indexed and every install of it
/// fails (`helm repo index` skips it). README: "An archive Helm could not load ... is reported
/// by name". Fix: parse values.yaml (top-level only; subcharts' too if charts/ is inspected) as
/// YAML in chart_archive::read and report `invalid values.yaml`.
#[test]
fn an_archive_with_an_invalid_values_yaml_is_reported() {
    let ch = ok_chart();
    assert_judged_like_helm(&[(
        "bad-values.tgz",
        tgz(&[
            ("c/Chart.yaml", ch.as_bytes()),
            ("c/values.yaml", b"a: [1, 2\n"),
        ]),
    )]);
}

/// BUG: README promises "keys sorted", and Helm (sigs.k8s.io/yaml) sorts every mapping's keys,
/// but `Maintainer` and `Dependency` are serialized in struct order (`name`, `email`, `url`;
/// `name`, `version`, `repository`, ...). Helm reads either order, so this is cosmetic, but the
/// index differs from Helm's own and from the documented format. Fix: declare those struct
/// fields alphabetically (`email`, `name`, `url`; `alias`, `condition`, `enabled`,
/// `import-values`, `name`, `repository`, `tags`, `version`).
#[test]
fn nested_keys_in_the_index_are_sorted_like_helm() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let ch = format!(
        "{}maintainers:\n- name: Jane\n  email: jane@example.com\n  url: https://example.com/jane\ndependencies:\n- name: d\n  version: 1.0.0\n  repository: https://example.com\n  alias: dd\n  condition: d.enabled\n",
        ok_chart()
    );
    std::fs::write(
        repo.join("c-1.0.0.tgz"),
        tgz(&[
            ("c/Chart.yaml", ch.as_bytes()),
            ("c/charts/d/Chart.yaml", chart_yaml("d", "1.0.0").as_bytes()),
        ]),
    )
    .unwrap();
    run_ours(["repo".as_ref(), "index".as_ref(), repo.as_os_str()]).expect_ok();
    assert_keys_sorted(&std::fs::read_to_string(repo.join("index.yaml")).unwrap());
}

#[test]
fn signing_with_a_passphrase_file_works_and_a_wrong_passphrase_writes_nothing() {
    need("gpg");
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    std::fs::create_dir(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let gpg = |a: &[&str]| {
        let mut c = Command::new("gpg");
        c.arg("--homedir")
            .arg(&home)
            .args(["--batch", "--quiet", "--pinentry-mode", "loopback"])
            .args(a);
        exec(&mut c, TOOL_LIMIT).expect_ok()
    };
    let uid = "Passphrase Test <pp@example.invalid>";
    gpg(&[
        "--passphrase",
        "s3cret",
        "--quick-gen-key",
        uid,
        "rsa2048",
        "sign",
        "never",
    ]);
    let pubring = work.path().join("pub.gpg");
    let secring = work.path().join("sec.gpg");
    gpg(&["--output", pubring.to_str().unwrap(), "--export", uid]);
    gpg(&[
        "--passphrase",
        "s3cret",
        "--output",
        secring.to_str().unwrap(),
        "--export-secret-keys",
        uid,
    ]);
    let kill_agent = || {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(&home)
            .args(["--kill", "all"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    };
    kill_agent(); // no passphrase cached from the key generation
    let good = work.path().join("good");
    let bad = work.path().join("bad");
    std::fs::write(&good, "s3cret\n").unwrap();
    std::fs::write(&bad, "wrong\n").unwrap();
    let sign = |dest: &str, pass: &Path, keyring: Option<&Path>| {
        let mut a = args([
            "package".as_ref(),
            root().join("examples/hello.yaml").as_os_str(),
            "--destination".as_ref(),
            work.path().join(dest).as_os_str(),
            "--sign".as_ref(),
            "--key".as_ref(),
            "pp@example.invalid".as_ref(),
            "--passphrase-file".as_ref(),
            pass.as_os_str(),
        ]);
        let mut c = if let Some(k) = keyring {
            a.extend(args([OsStr::new("--keyring"), k.as_os_str()]));
            let mut c = ours(a);
            c.env("GNUPGHOME", work.path().join("no-such-home"));
            c
        } else {
            let mut c = ours(a);
            c.env("GNUPGHOME", &home);
            c
        };
        exec(&mut c, OURS_LIMIT)
    };
    // A wrong passphrase first (gpg-agent would cache a right one): exit 1, nothing written.
    for keyring in [None, Some(secring.as_path())] {
        let o = sign("refused", &bad, keyring).expect_fail();
        assert_eq!(o.code, Some(1), "{}", o.both());
        assert!(o.stderr.contains("passphrase"), "{}", o.both());
        assert!(!work.path().join("refused").exists(), "nothing is written");
    }
    for (dest, keyring) in [
        ("from-home", None),
        ("from-keyring", Some(secring.as_path())),
    ] {
        sign(dest, &good, keyring).expect_ok();
        for h in Helm::all() {
            h.ok([
                "verify".as_ref(),
                work.path().join(dest).join("hello-0.1.0.tgz").as_os_str(),
                "--keyring".as_ref(),
                pubring.as_os_str(),
            ]);
        }
    }
    kill_agent();
}

/// gpg-agents left running for a temporary gpg home of ours that no longer exists, by pid.
fn orphaned_agents() -> BTreeMap<u32, String> {
    let mut out = BTreeMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(p.path().join("cmdline")) else {
            continue;
        };
        let argv: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if !argv.first().is_some_and(|a| a.ends_with("gpg-agent")) {
            continue;
        }
        if let Some(i) = argv.iter().position(|a| a == "--homedir")
            && let Some(home) = argv.get(i + 1)
            && home.contains("helm-k8s-service-gpg-")
            && !Path::new(home).exists()
        {
            out.insert(pid, argv.join(" "));
        }
    }
    out
}

/// `package --sign --keyring FILE` imports the key into a temporary gpg home, which starts a
/// gpg-agent for it; once the home is deleted that agent must not keep running (gpg 2.2's agent
/// watches its socket directory and exits; if this ever fails, the fix is to run
/// `gpgconf --homedir <home> --kill gpg-agent` before dropping the home in `sign::clearsign`).
#[test]
fn signing_with_a_keyring_leaves_no_gpg_agent_behind() {
    if !Path::new("/proc/self/cmdline").exists() {
        return; // no procfs to look at
    }
    let work = tempfile::tempdir().unwrap();
    let signer = Gpg::new("Agent Test <agent@example.invalid>");
    let secring = work.path().join("sec.gpg");
    signer.export_secret(&secring);
    let before = orphaned_agents();
    let mut c = ours([
        "package".as_ref(),
        root().join("examples/hello.yaml").as_os_str(),
        "--destination".as_ref(),
        work.path().join("out").as_os_str(),
        "--sign".as_ref(),
        "--key".as_ref(),
        "agent@example.invalid".as_ref(),
        "--keyring".as_ref(),
        secring.as_os_str(),
    ]);
    c.env("GNUPGHOME", work.path().join("no-such-home"));
    exec(&mut c, OURS_LIMIT).expect_ok();
    // Give an agent that was told to stop a moment to do so.
    let deadline = Instant::now() + Duration::from_secs(5);
    let left = loop {
        let left: BTreeMap<u32, String> = orphaned_agents()
            .into_iter()
            .filter(|(pid, _)| !before.contains_key(pid))
            .collect();
        if left.is_empty() || Instant::now() > deadline {
            break left;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        left.is_empty(),
        "gpg-agent(s) still running for deleted temporary homes:\n{}",
        left.values().cloned().collect::<Vec<_>>().join("\n")
    );
}
