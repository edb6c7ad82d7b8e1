//! Every file in `tests/bad-specs/` is a malformed or hostile spec. Each must be refused cleanly:
//! exit code 1, a diagnostic on one screen that starts with `error: `, the expected text, line and
//! field, no panic, nothing on stdout and nothing written to the destination.
//!
//! Header comments at the top of each file (or in a sidecar `NNN-name.expect` for files that
//! cannot carry comments, such as non-UTF-8 ones):
//!
//! ```text
//! # expect: <substring of stderr>          (required; repeat it for more than one)
//! # field: <field path>                    stderr contains "field `<field path>`"
//! # args: <extra CLI args, space separated>
//! # at: <LINE>                             the first `error:` line contains ":<LINE>:"
//! # note: <free text for humans>
//! ```
//!
//! Line numbers count the header lines. `expect` and `field` are matched with the spec's own path
//! masked out of stderr, so a file name cannot satisfy them.
//!
//! Besides the headers, every run must: exit with code 1 within 60 s (wall clock, a hang guard)
//! and 10 s of CPU (the real bound: load does not change it); peak at most 64 MiB of memory (max RSS of the child, from `wait4`);
//! print nothing on stdout;
//! leave the destination empty; start stderr with `error: `; keep it to 60 lines; never mention
//! "panicked" or "RUST_BACKTRACE"; never echo a raw control or bidi-override character; and give
//! a first error that is a sentence (not a Rust `Debug` dump such as `Depth { depth: 49 }`) and
//! not cut off (balanced parentheses outside backticks).
//!
//! All failures are collected and reported together, one line per problem, naming the file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_helm-k8s-service");
/// Wall clock: a hang guard only. Under a loaded CI machine (load 10 on 2 cores) a run needing
/// 2.5 s of CPU took over 10 s of wall time, so the wall bound is generous and the real budget
/// is `CPU_BUDGET`, which does not depend on what else the machine runs.
const TIMEOUT: Duration = Duration::from_secs(60);
/// CPU time of one run: the largest hostile spec (60 000 keys, an alias bomb) needs 2.5 s of the
/// debug binary; anything that grows worse than linearly with the input blows through this.
const CPU_BUDGET: Duration = Duration::from_secs(10);
/// Peak memory of one run. A refused spec costs the debug binary 10-35 MiB here (an alias
/// bomb, 60 000 keys or a 1 MiB file included); the budget leaves room for other allocators
/// and machines while still catching anything that grows with the input.
const MEMORY_BUDGET_KIB: u64 = 64 * 1024;
const MAX_STDERR_LINES: usize = 60;
const MIN_CORPUS_FILES: usize = 200;
const HEADER_KEYS: &[&str] = &["expect", "at", "field", "args", "note"];

#[derive(Debug, Default)]
struct Expectation {
    expect: String,
    /// Further `# expect:` lines: every one must appear too (problems reported together).
    also: Vec<String>,
    at: Option<u64>,
    field: Option<String>,
    args: Vec<String>,
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
    dest_entries: Vec<String>,
    /// Peak resident memory of the child in KiB, and its CPU time (user + system).
    max_rss_kib: u64,
    cpu: Duration,
    wall: Duration,
}

/// The most memory, CPU and wall time any run took, and which.
#[derive(Default)]
struct Usage {
    runs: usize,
    rss: (u64, String),
    cpu: (Duration, String),
    wall: (Duration, String),
}

impl Usage {
    fn add(&mut self, name: &str, out: &Outcome) {
        self.runs += 1;
        if out.max_rss_kib > self.rss.0 {
            self.rss = (out.max_rss_kib, name.to_string());
        }
        if out.cpu > self.cpu.0 {
            self.cpu = (out.cpu, name.to_string());
        }
        if out.wall > self.wall.0 {
            self.wall = (out.wall, name.to_string());
        }
    }
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "{} runs; peak memory {:.1} MiB ({}), most CPU {:?} ({}), longest {:?} ({})",
            self.runs,
            self.rss.0 as f64 / 1024.0,
            self.rss.1,
            self.cpu.0,
            self.cpu.1,
            self.wall.0,
            self.wall.1
        )
    }
}

/// Wait for `child` (killing it after `TIMEOUT`), with its resource usage: `wait4` reports
/// the peak RSS and CPU time of exactly this child, whatever else runs in parallel.
#[cfg(unix)]
fn wait_with_usage(child: &mut std::process::Child) -> (Option<i32>, bool, u64, Duration) {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut timed_out = false;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: plain FFI call with valid pointers to local variables.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if timed_out { 0 } else { libc::WNOHANG };
        // SAFETY: `pid` is our own unreaped child; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if r == pid {
            let code = std::process::ExitStatus::from_raw(status).code();
            let tv = |t: libc::timeval| {
                Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
            };
            // Linux reports KiB, macOS bytes.
            let rss = usage.ru_maxrss as u64 / if cfg!(target_os = "macos") { 1024 } else { 1 };
            return (
                code,
                timed_out,
                rss,
                tv(usage.ru_utime) + tv(usage.ru_stime),
            );
        }
        if r < 0 {
            panic!("wait4: {}", std::io::Error::last_os_error());
        }
        if !timed_out && start.elapsed() > TIMEOUT {
            let _ = child.kill();
            timed_out = true;
            continue;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(not(unix))]
fn wait_with_usage(child: &mut std::process::Child) -> (Option<i32>, bool, u64, Duration) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return (status.code(), false, 0, start.elapsed());
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return (None, true, 0, start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("bad-specs")
}

/// Read the `# key: value` lines at the top of `text`; stops at the first other line.
fn parse_headers(text: &str, origin: &str) -> Result<Expectation, String> {
    let mut e = Expectation::default();
    let mut have_expect = false;
    for line in text.split(['\n', '\r']).filter(|l| !l.is_empty()) {
        let Some(rest) = line.strip_prefix("# ") else {
            break;
        };
        let Some((key, value)) = rest.split_once(':') else {
            break;
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase()) {
            break;
        }
        if !HEADER_KEYS.contains(&key) {
            return Err(format!(
                "{origin}: unknown header key `{key}` (known: {HEADER_KEYS:?})"
            ));
        }
        let value = value.strip_prefix(' ').unwrap_or(value).trim_end();
        match key {
            "expect" => {
                if value.trim().is_empty() {
                    return Err(format!("{origin}: `# expect:` is empty"));
                }
                if have_expect {
                    e.also.push(value.to_string());
                } else {
                    e.expect = value.to_string();
                }
                have_expect = true;
            }
            "at" => {
                e.at = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| format!("{origin}: `# at: {value}` is not a line number"))?,
                )
            }
            "field" => e.field = Some(value.to_string()),
            "args" => e.args = value.split_whitespace().map(str::to_string).collect(),
            _ => {} // note
        }
    }
    if !have_expect {
        return Err(format!("{origin}: no `# expect:` header"));
    }
    Ok(e)
}

/// The expectation of a corpus file: from its sidecar `.expect` file if there is one.
fn expectation_for(spec: &Path) -> Result<Expectation, String> {
    let sidecar = spec.with_extension("expect");
    let (origin, bytes) = if sidecar.exists() {
        (sidecar.clone(), fs::read(&sidecar))
    } else {
        (spec.to_path_buf(), fs::read(spec))
    };
    let name = origin.file_name().unwrap().to_string_lossy().into_owned();
    let bytes = bytes.map_err(|e| format!("{name}: cannot read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "{name}: not UTF-8; put its headers in a sidecar {}",
            sidecar.display()
        )
    })?;
    parse_headers(&text, &name)
}

/// Run `package SPEC --destination <fresh dir> ARGS`, killing it after `TIMEOUT`.
fn run_package(spec: &Path, args: &[String]) -> Outcome {
    let scratch = tempfile::tempdir().expect("temp dir");
    let dest = scratch.path().join("dest");
    fs::create_dir(&dest).expect("destination dir");
    let out_path = scratch.path().join("stdout");
    let err_path = scratch.path().join("stderr");
    let mut child = Command::new(BIN)
        .arg("package")
        .arg(spec)
        .arg("--destination")
        .arg(&dest)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).expect("stdout file"))
        .stderr(fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn helm-k8s-service");
    let start = Instant::now();
    let (code, timed_out, max_rss_kib, cpu) = wait_with_usage(&mut child);
    let wall = start.elapsed();
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
    let dest_entries = fs::read_dir(&dest)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_else(|e| vec![format!("<cannot read destination: {e}>")]);
    Outcome {
        code,
        stdout: read(&out_path),
        stderr: read(&err_path),
        timed_out,
        dest_entries,
        max_rss_kib,
        cpu,
        wall,
    }
}

/// Characters that must never reach a terminal raw: C0/C1 controls (except newline) and the
/// bidirectional overrides that can make text display differently from what it is.
fn is_hostile_char(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `Depth { depth: 49 }`: a Rust Debug dump instead of a sentence.
fn looks_like_debug_dump(s: &str) -> bool {
    let b = s.as_bytes();
    s.match_indices(" { ").any(|(i, _)| {
        let word_start = s[..i]
            .rfind(|c: char| !c.is_ascii_alphanumeric())
            .map_or(0, |p| p + 1);
        let word = &s[word_start..i];
        let after = &s[i + 3..];
        let field_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(0);
        word.len() > 1
            && b[word_start].is_ascii_uppercase()
            && field_len > 0
            && after[field_len..].starts_with(": ")
    })
}

/// Parentheses outside backticks must balance: a message cut in the middle does not.
fn parens_balance(line: &str) -> bool {
    let mut depth = 0i32;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '`' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// Every problem with one run, as short sentences. `spec` is masked out of stderr before the
/// `expect` and `field` texts are looked for, so that a file name cannot satisfy them.
fn check(exp: &Expectation, out: &Outcome, spec: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let err = &out.stderr;
    let masked = err.replace(&spec.display().to_string(), "<SPEC>");
    if out.timed_out {
        problems.push(format!(
            "timed out after {}s and was killed",
            TIMEOUT.as_secs()
        ));
    }
    if out.max_rss_kib > MEMORY_BUDGET_KIB {
        problems.push(format!(
            "peaked at {} MiB of memory (budget {} MiB)",
            out.max_rss_kib / 1024,
            MEMORY_BUDGET_KIB / 1024
        ));
    }
    if out.cpu > CPU_BUDGET {
        problems.push(format!("used {:?} of CPU (bound {CPU_BUDGET:?})", out.cpu));
    }
    if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        problems.push("panicked".to_string());
    }
    if !out.timed_out && out.code != Some(1) {
        problems.push(match out.code {
            Some(c) => format!("exit code {c}, expected 1"),
            None => "killed by a signal, expected exit code 1".to_string(),
        });
    }
    if !err.starts_with("error: ") {
        let first = err.lines().next().unwrap_or("<empty stderr>");
        problems.push(format!(
            "stderr does not start with `error: ` (first line: {first:?})"
        ));
    }
    for want in std::iter::once(&exp.expect).chain(&exp.also) {
        if !masked.contains(want) {
            problems.push(format!("stderr lacks {want:?}"));
        }
    }
    let first_error = err.lines().find(|l| l.starts_with("error: "));
    if let Some(line) = exp.at {
        let want = format!(":{line}:");
        match first_error {
            Some(l) if l.contains(&want) => {}
            Some(l) => problems.push(format!("first error is not at line {line}: {l:?}")),
            None => problems.push(format!("no `error:` line (expected one at line {line})")),
        }
    }
    if let Some(field) = &exp.field {
        let want = format!("field `{field}`");
        if !masked.contains(&want) {
            problems.push(format!("stderr lacks {want:?}"));
        }
    }
    let lines = err.lines().count();
    if lines > MAX_STDERR_LINES {
        problems.push(format!(
            "stderr has {lines} lines (at most {MAX_STDERR_LINES})"
        ));
    }
    if let Some(c) = err.chars().find(|c| is_hostile_char(*c)) {
        problems.push(format!(
            "stderr contains the raw character {:?}",
            c.escape_unicode().to_string()
        ));
    }
    if let Some(l) = first_error {
        if looks_like_debug_dump(l) {
            problems.push(format!("message is a Rust Debug dump: {l:?}"));
        }
        if !parens_balance(l) {
            problems.push(format!(
                "message looks truncated (unbalanced parentheses): {l:?}"
            ));
        }
    }
    if !out.stdout.is_empty() {
        problems.push(format!(
            "stdout is not empty: {:?}",
            out.stdout.lines().next().unwrap_or("")
        ));
    }
    if !out.dest_entries.is_empty() {
        problems.push(format!("destination is not empty: {:?}", out.dest_entries));
    }
    problems
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .expect("tests/bad-specs exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// One line per problem: `NNN-name.yaml: problem`, plus the stderr of each failing file.
fn report(failures: &[(String, Vec<String>, String)], total: usize) -> String {
    let mut msg = format!(
        "{} of {total} bad specs were not refused as expected:\n",
        failures.len()
    );
    for (name, problems, _) in failures {
        for p in problems {
            msg.push_str(&format!("  {name}: {p}\n"));
        }
    }
    msg.push_str("\n--- stderr of each failing case ---\n");
    for (name, _, stderr) in failures {
        let shown: Vec<&str> = stderr.lines().take(8).collect();
        msg.push_str(&format!("[{name}]\n{}\n", shown.join("\n")));
    }
    msg
}

#[test]
fn every_bad_spec_is_refused_cleanly() {
    let files = corpus_files();
    assert!(
        files.len() >= MIN_CORPUS_FILES,
        "only {} files in {}",
        files.len(),
        corpus_dir().display()
    );

    // Names must follow NNN-short-name.yaml with unique numbers, and every sidecar needs a spec.
    let mut failures: Vec<(String, Vec<String>, String)> = Vec::new();
    let mut numbers = std::collections::BTreeSet::new();
    for entry in fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // .gitattributes
        }
        let ok_name = name.len() > 9
            && name.as_bytes()[..3].iter().all(u8::is_ascii_digit)
            && name.as_bytes()[3] == b'-';
        let is_spec = name.ends_with(".yaml");
        let is_sidecar = name.ends_with(".expect");
        if !ok_name || !(is_spec || is_sidecar) {
            failures.push((
                name.clone(),
                vec!["not named NNN-short-name.yaml / .expect".into()],
                String::new(),
            ));
        }
        if is_sidecar && !path.with_extension("yaml").exists() {
            failures.push((
                name.clone(),
                vec!["sidecar without a .yaml spec".into()],
                String::new(),
            ));
        }
        if is_spec && ok_name && !numbers.insert(name[..3].to_string()) {
            failures.push((
                name.clone(),
                vec!["number used twice".into()],
                String::new(),
            ));
        }
    }

    // The cases are independent processes; run a few at a time.
    let workers = std::thread::available_parallelism()
        .map_or(4, |n| n.get())
        .min(8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    let usage = std::sync::Mutex::new(Usage::default());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(spec) = files.get(i) else { break };
                    let name = spec.file_name().unwrap().to_string_lossy().into_owned();
                    let result = match expectation_for(spec) {
                        Err(e) => (name, vec![format!("bad corpus header: {e}")], String::new()),
                        Ok(exp) => {
                            let out = run_package(spec, &exp.args);
                            usage.lock().unwrap().add(&name, &out);
                            (name, check(&exp, &out, spec), out.stderr)
                        }
                    };
                    results.lock().unwrap().push(result);
                }
            });
        }
    });
    eprintln!("corpus: {}", usage.into_inner().unwrap());
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    failures.extend(
        results
            .into_iter()
            .filter(|(_, problems, _)| !problems.is_empty()),
    );
    failures.sort_by(|a, b| a.0.cmp(&b.0));

    if !failures.is_empty() {
        panic!("{}", report(&failures, files.len()));
    }
}

/// Hostile inputs too big (or too odd) to keep in the corpus, generated here in a temp dir.
#[test]
fn generated_hostile_specs_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = "name: svc\nimage: ghcr.io/acme/api\ntag: \"1\"\nport:\n  http: 8080\n";
    let exp = |expect: &str| Expectation {
        expect: expect.into(),
        ..Default::default()
    };
    let mut cases: Vec<(String, PathBuf, Expectation)> = Vec::new();

    // Over 1 MiB: refused before parsing, whatever it holds (here a valid spec + comments).
    let huge = dir.path().join("huge.yaml");
    let mut f = fs::File::create(&huge).expect("create");
    f.write_all(head.as_bytes()).unwrap();
    let filler = format!("# {}\n", "x".repeat(1021)); // 1 KiB per line
    for _ in 0..1025 {
        f.write_all(filler.as_bytes()).unwrap();
    }
    drop(f);
    assert!(fs::metadata(&huge).unwrap().len() > 1024 * 1024);
    cases.push((
        "huge.yaml (> 1 MiB)".into(),
        huge,
        exp("larger than 1024 KiB"),
    ));

    // Exactly one byte over the limit.
    let edge = dir.path().join("edge.yaml");
    let mut text = head.to_string();
    text.push_str(&"#".repeat(1024 * 1024 + 1 - text.len()));
    fs::write(&edge, &text).unwrap();
    cases.push((
        "edge.yaml (1 MiB + 1 byte)".into(),
        edge,
        exp("larger than 1024 KiB"),
    ));

    // Under 1 MiB but over the parser's node budget: 60 000 env vars.
    let nodes = dir.path().join("nodes.yaml");
    let mut text = format!("{head}env_vars:\n");
    for i in 0..60_000 {
        text.push_str(&format!("  K{i}: v\n"));
    }
    assert!(text.len() < 1024 * 1024);
    fs::write(&nodes, &text).unwrap();
    cases.push(("nodes.yaml (60 000 keys)".into(), nodes, exp("nodes")));

    // A directory is a set of specs (its *.yaml); one without any is refused, and so is one
    // whose only `*.yaml` is itself a directory.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    cases.push((
        "a directory without specs".into(),
        empty,
        exp("holds no *.yaml or *.yml spec"),
    ));
    let tricky = dir.path().join("tricky");
    fs::create_dir_all(tricky.join("sub.yaml")).unwrap();
    cases.push((
        "a directory whose *.yaml is a directory".into(),
        tricky,
        exp("holds no *.yaml or *.yml spec"),
    ));
    // Not a regular file.
    if Path::new("/dev/zero").exists() {
        cases.push((
            "/dev/zero".into(),
            PathBuf::from("/dev/zero"),
            exp("not a regular file"),
        ));
    }
    cases.push((
        "a missing file".into(),
        dir.path().join("missing.yaml"),
        exp("cannot open"),
    ));

    let mut failures = Vec::new();
    let mut usage = Usage::default();
    for (name, spec, exp) in &cases {
        // No timed assertion (the machines are noisy); run_package's kill timeout catches hangs.
        let out = run_package(spec, &exp.args);
        usage.add(name, &out);
        let problems = check(exp, &out, spec);
        if !problems.is_empty() {
            failures.push((name.clone(), problems, out.stderr));
        }
    }
    eprintln!("generated: {usage}");
    if !failures.is_empty() {
        panic!("{}", report(&failures, cases.len()));
    }
}

#[test]
fn header_parser_reads_only_the_leading_block() {
    let e = parse_headers("# expect: boom\n# at: 3\n# field: a.b\n# args: --var x=1 --module m\nname: x\n# expect: later\n", "t").unwrap();
    assert_eq!(e.expect, "boom");
    assert_eq!(e.at, Some(3));
    assert_eq!(e.field.as_deref(), Some("a.b"));
    assert_eq!(e.args, vec!["--var", "x=1", "--module", "m"]);
    assert!(
        e.also.is_empty(),
        "an expect after the header block is the spec's own comment"
    );
    let two = parse_headers("# expect: one\n# expect: two\nname: x\n", "t").unwrap();
    assert_eq!(
        (two.expect.as_str(), two.also.clone()),
        ("one", vec!["two".to_string()])
    );
    assert!(parse_headers("# expect: \n", "t").is_err());
    assert!(parse_headers("# exepct: x\n", "t").is_err());
    assert!(parse_headers("name: x\n", "t").is_err());
    let cr = parse_headers("# expect: a\r# at: 2\rname: x\r", "t").unwrap();
    assert_eq!(cr.at, Some(2));
    assert!(looks_like_debug_dump(
        "error: f:1:2: budget breached: Depth { depth: 49 }"
    ));
    assert!(!looks_like_debug_dump(
        "error: f: expected a mapping of NAME: value, or a list of {name, value}"
    ));
    assert!(parens_balance("path `/v(1)` contains `(`; ok (yes)"));
    assert!(!parens_balance("limit exceeded (defined at line 3) (used"));
}
