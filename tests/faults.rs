//! Writes survive crashes and full disks (reliability goal G8).
//!
//! - SIGKILL at random points while `package` writes an archive, a few hundred times: the
//!   destination always holds the previous archive or the new complete one (byte-identical to a
//!   clean run, and a gzip + tar that loads), never a partial one; the temporary a killed run
//!   leaves behind is removed by the next successful run. The test counts where the kills
//!   landed (before the temporary existed, while it existed, after the rename) and insists that
//!   many landed during the write.
//! - A full disk (a small tmpfs in a private mount namespace, where this machine allows it):
//!   exit code 1, a message naming the destination and the cause, the previous archive intact,
//!   no temporaries; the injected-error unit tests in `src/fsutil.rs` cover the same on any
//!   machine.
//! - The same for `generate`'s chart directory: after a kill it is the old or the new chart,
//!   whole, never missing or mixed, and the next run removes the temporary directory.
//! - A destination that is a symlink is replaced, never written through.
//!
//! Random choices come from a seeded xorshift; the seed is printed, and `FAULTS_SEED=<n>`
//! replays a run.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, text};

const TEMP_SUFFIX: &str = ".k8s-service.tmp";

struct Rng(u64);

impl Rng {
    fn from_env(var: &str) -> Self {
        let seed = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            })
            | 1;
        eprintln!("{var}={seed} (set it to replay this run)");
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A spec for the chart `crash` whose archive is about `kib` KiB: env values of random
/// alphanumerics (barely compressible). `flavour` makes two specs of the same size differ.
fn spec(rng: &mut Rng, kib: usize, flavour: &str) -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut s = format!(
        "name: crash\nimage: ghcr.io/acme/crash\ntag: \"{flavour}\"\nport:\n  http: 8080\nenv_vars:\n"
    );
    // ~100 bytes of value per entry compress to ~75 bytes.
    for i in 0..(kib * 1024 / 75).max(1) {
        let v: String = (0..100)
            .map(|_| ALNUM[rng.below(ALNUM.len() as u64) as usize] as char)
            .collect();
        s.push_str(&format!("  V{i}: \"{v}\"\n"));
    }
    s
}

/// `package` SPEC into DEST; the tests alternate two specs that make one archive name, so the
/// other spec's archive is replaced on purpose (`--force`).
fn package(spec: &Path, dest: &Path) -> std::process::Output {
    Command::new(bin())
        .arg("package")
        .arg(spec)
        .arg("--destination")
        .arg(dest)
        .arg("--force")
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(Stdio::null())
        .output()
        .expect("run helm-k8s-service")
}

/// Package once, cleanly, and return the archive's bytes.
fn reference_archive(spec: &Path, scratch: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir_in(scratch).unwrap();
    let o = package(spec, dir.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    fs::read(dir.path().join("crash-0.1.0.tgz")).unwrap()
}

/// The archive must be a gzip holding a tar whose entries all read to the end.
fn assert_loads(bytes: &[u8]) {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut n = 0;
    for entry in archive.entries().expect("a tar") {
        let mut e = entry.expect("a complete tar entry");
        let mut sink = Vec::new();
        e.read_to_end(&mut sink).expect("entry data");
        n += 1;
    }
    assert!(n >= 5, "only {n} entries");
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn temporaries(dir: &Path) -> Vec<(String, u64)> {
    names(dir)
        .into_iter()
        .filter(|n| n.ends_with(TEMP_SUFFIX))
        .map(|n| {
            // A batch's staging directory stands for the archives inside it.
            let path = dir.join(&n);
            let len = match fs::read_dir(&path) {
                Ok(d) => d
                    .flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum(),
                Err(_) => fs::metadata(&path).map_or(0, |m| m.len()),
            };
            (n, len)
        })
        .collect()
}

/// Where a kill landed, judged from what it left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Landed {
    /// Before the temporary file existed: nothing changed.
    BeforeWrite,
    /// The temporary existed and was empty.
    WriteEmpty,
    /// The temporary held part of the archive.
    WritePartial,
    /// The temporary held the whole archive, not yet renamed.
    WriteComplete,
    /// After the rename (syncing the directory, exiting).
    AfterRename,
    /// The run had finished before the signal.
    Finished,
}

impl Landed {
    fn during_write(self) -> bool {
        matches!(
            self,
            Landed::WriteEmpty | Landed::WritePartial | Landed::WriteComplete
        )
    }
}

#[test]
fn sigkill_at_random_points_never_leaves_a_partial_archive() {
    let mut rng = Rng::from_env("FAULTS_SEED");
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let s = scratch.path();
    // Two versions of the same archive name, ~24 KiB each.
    let spec_a = s.join("a.yaml");
    let spec_b = s.join("b.yaml");
    fs::write(&spec_a, spec(&mut rng, 16, "a")).unwrap();
    fs::write(&spec_b, spec(&mut rng, 16, "b")).unwrap();
    let versions = [reference_archive(&spec_a, s), reference_archive(&spec_b, s)];
    assert_ne!(versions[0], versions[1]);
    for v in &versions {
        assert_loads(v);
    }
    let dest = s.join("dest");
    fs::create_dir(&dest).unwrap();
    let archive = dest.join("crash-0.1.0.tgz");

    // How long a clean run takes, to spread blind delays over it.
    let mut runs = Vec::new();
    for i in 0..5 {
        let t = Instant::now();
        let o = package(if i % 2 == 0 { &spec_a } else { &spec_b }, &dest);
        runs.push(t.elapsed());
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    runs.sort();
    let typical = runs[2];
    fs::remove_file(&archive).unwrap();

    const MIN_TRIALS: usize = 240;
    const MIN_DURING_WRITE: usize = 50;
    const MAX_TRIALS: usize = 900;
    let mut landed: BTreeMap<Landed, usize> = BTreeMap::new();
    let mut problems: Vec<String> = Vec::new();
    let mut cleanups_checked = 0;
    let mut trial = 0;
    while trial < MAX_TRIALS
        && (trial < MIN_TRIALS
            || landed
                .iter()
                .filter(|(l, _)| l.during_write())
                .map(|(_, n)| n)
                .sum::<usize>()
                < MIN_DURING_WRITE)
    {
        trial += 1;
        let before = fs::read(&archive).ok();
        // Write the version that is not there, so "old" and "new" always differ.
        let new_idx = usize::from(before.as_deref() == Some(versions[0].as_slice()));
        let new = &versions[new_idx];
        let spec = if new_idx == 0 { &spec_a } else { &spec_b };
        let stale_before = temporaries(&dest);

        // The other spec's archive is replaced on purpose (`--force`).
        let mut child = Command::new(bin())
            .arg("package")
            .arg(spec)
            .arg("--destination")
            .arg(&dest)
            .arg("--force")
            .env_remove("SOURCE_DATE_EPOCH")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let start = Instant::now();
        if trial % 2 == 0 {
            // Blind: anywhere in a typical run (and a little past it).
            let delay = Duration::from_micros(rng.below(typical.as_micros() as u64 * 11 / 10));
            while start.elapsed() < delay {
                std::hint::spin_loop();
            }
        } else {
            // Aimed: as soon as a new temporary appears, then a random 0-2 ms more (writing,
            // syncing and renaming take about that long on a disk).
            let deadline = start + typical * 4;
            loop {
                let now_tmp = temporaries(&dest);
                if now_tmp
                    .iter()
                    .any(|t| !stale_before.iter().any(|s| s.0 == t.0))
                    || Instant::now() > deadline
                    || child.try_wait().ok().flatten().is_some()
                {
                    break;
                }
            }
            let extra = Duration::from_micros(rng.below(2000));
            let t = Instant::now();
            while t.elapsed() < extra {
                std::hint::spin_loop();
            }
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().expect("wait");

        let after = fs::read(&archive).ok();
        let new_tmp: Vec<(String, u64)> = temporaries(&dest)
            .into_iter()
            .filter(|t| !stale_before.iter().any(|s| s.0 == t.0))
            .collect();
        let where_ = if status.success() {
            Landed::Finished
        } else if after.as_deref() == Some(new.as_slice()) {
            Landed::AfterRename
        } else if let Some((_, len)) = new_tmp.first() {
            match *len {
                0 => Landed::WriteEmpty,
                n if n < new.len() as u64 => Landed::WritePartial,
                _ => Landed::WriteComplete,
            }
        } else {
            Landed::BeforeWrite
        };
        *landed.entry(where_).or_default() += 1;

        // The invariant: the previous archive or the new complete one, nothing else.
        match &after {
            Some(a) if a == new => {}
            Some(a) if Some(a) == before.as_ref() => {}
            None if before.is_none() => {}
            Some(a) => problems.push(format!(
                "trial {trial} ({where_:?}): the archive is neither the previous nor the new one ({} bytes)",
                a.len()
            )),
            None => problems.push(format!(
                "trial {trial} ({where_:?}): the previous archive is gone"
            )),
        }
        if let Some(a) = &after {
            assert_loads(a);
        }
        if new_tmp.len() > 1 {
            problems.push(format!(
                "trial {trial}: one run left {} temporaries",
                new_tmp.len()
            ));
        }
        let rest: Vec<String> = names(&dest)
            .into_iter()
            .filter(|n| n != "crash-0.1.0.tgz" && !n.ends_with(TEMP_SUFFIX))
            .collect();
        if !rest.is_empty() {
            problems.push(format!("trial {trial}: unexpected files {rest:?}"));
        }
        // A run that finished removed every temporary earlier kills left.
        if where_ == Landed::Finished || where_ == Landed::AfterRename {
            cleanups_checked += 1;
            // A kill after the rename may leave the run's own staging directory, empty (the
            // archive is already in place); the next run removes it (checked below).
            let left: Vec<(String, u64)> = temporaries(&dest)
                .into_iter()
                .filter(|(n, len)| {
                    !(where_ == Landed::AfterRename
                        && *len == 0
                        && n.starts_with(".k8s-service-batch.")
                        && new_tmp.iter().any(|t| &t.0 == n))
                })
                .collect();
            if !left.is_empty() {
                problems.push(format!(
                    "trial {trial}: a successful run left temporaries {left:?}"
                ));
            }
        }
        // Now and then, a clean run: it must remove whatever the kills left.
        if trial % 10 == 0 {
            let o = package(spec, &dest);
            assert!(o.status.success(), "{}", text(&o.stderr));
            cleanups_checked += 1;
            let left = temporaries(&dest);
            if !left.is_empty() {
                problems.push(format!(
                    "trial {trial}: the next successful run left temporaries {left:?}"
                ));
            }
        }
    }

    // Finally a clean run: the newest version, complete, and nothing else in the directory.
    let o = package(&spec_a, &dest);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(names(&dest), ["crash-0.1.0.tgz"]);
    assert_eq!(fs::read(&archive).unwrap(), versions[0]);

    let during: usize = landed
        .iter()
        .filter(|(l, _)| l.during_write())
        .map(|(_, n)| n)
        .sum();
    eprintln!(
        "{trial} SIGKILL trials (typical run {typical:?}): {during} landed while the temporary existed; {landed:?}; {cleanups_checked} cleanups checked"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(trial >= MIN_TRIALS);
    assert!(
        during >= MIN_DURING_WRITE,
        "only {during} of {trial} kills landed during the write: {landed:?}"
    );
}

/// Can this process make a private mount namespace with a tmpfs? (root, or a permissive
/// user-namespace setup; not on every CI machine.)
fn tmpfs_available() -> Result<(), String> {
    let probe = tempfile::tempdir().unwrap();
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs -o size=64k tmpfs \"$1\" && touch \"$1/x\"")
        .arg("sh")
        .arg(probe.path())
        .output();
    match o {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(text(&o.stderr).trim().to_string()),
        Err(e) => Err(format!("cannot run unshare: {e}")),
    }
}

/// The script that runs inside the mount namespace. It fills the tmpfs so that exactly
/// `free` KiB are left, runs `package`, and reports exit code, stderr and the directory. The new
/// spec replaces the old spec's archive on purpose (`--force`: without it `package` refuses
/// before writing, since another spec made that archive).
const FULL_DISK_SCRIPT: &str = r#"
set -u
mnt=$1; bin=$2; old=$3; new=$4; out=$5; shift 5
mount -t tmpfs -o size=512k,nr_inodes=1000 tmpfs "$mnt" || exit 90
mkdir "$mnt/dest"
"$bin" package "$old" --destination "$mnt/dest" >/dev/null 2>"$out/old.err" || exit 91
for free in "$@"; do
  rm -f "$mnt/fill"
  avail=$(df -B1 --output=avail "$mnt" | tail -n 1 | tr -d ' ')
  fill=$((avail - free * 1024))
  if [ "$fill" -gt 0 ]; then head -c "$fill" /dev/zero >"$mnt/fill" 2>/dev/null; fi
  "$bin" package "$new" --destination "$mnt/dest" --force >"$out/$free.out" 2>"$out/$free.err"
  echo $? >"$out/$free.rc"
  ls -A "$mnt/dest" >"$out/$free.ls"
  cp "$mnt/dest/crash-0.1.0.tgz" "$out/$free.tgz" 2>/dev/null
done
rm -f "$mnt/fill"
"$bin" package "$new" --destination "$mnt/dest" --force >/dev/null 2>"$out/final.err"
echo $? >"$out/final.rc"
ls -A "$mnt/dest" >"$out/final.ls"
cp "$mnt/dest/crash-0.1.0.tgz" "$out/final.tgz"
"#;

#[test]
fn a_full_disk_fails_cleanly_and_keeps_the_previous_archive() {
    if let Err(why) = tmpfs_available() {
        // The unit tests in src/fsutil.rs inject the same ENOSPC on any machine.
        eprintln!(
            "SKIPPED: no private tmpfs here ({why}); src/fsutil.rs covers ENOSPC by injection"
        );
        return;
    }
    let mut rng = Rng::from_env("FAULTS_SEED");
    let scratch = tempfile::tempdir().unwrap();
    let s = scratch.path();
    let old_spec = s.join("old.yaml");
    let new_spec = s.join("new.yaml");
    fs::write(&old_spec, spec(&mut rng, 8, "old")).unwrap();
    fs::write(&new_spec, spec(&mut rng, 64, "new")).unwrap();
    let old = reference_archive(&old_spec, s);
    let new = reference_archive(&new_spec, s);
    assert!(new.len() > 64 * 1024, "{}", new.len());
    let out = s.join("out");
    let mnt = s.join("mnt");
    fs::create_dir(&out).unwrap();
    fs::create_dir(&mnt).unwrap();
    // Free space from none to just short of the new archive, in pages and odd amounts.
    let mut frees: Vec<usize> = vec![0, 1, 4, 8, 12, 16, 24, 32, 48, 64];
    frees.extend((0..6).map(|_| 1 + rng.below(new.len() as u64 / 1024 - 8) as usize));
    frees.retain(|f| f * 1024 + 4096 < new.len());
    frees.sort();
    frees.dedup();
    let o = Command::new("unshare")
        .args([
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            FULL_DISK_SCRIPT,
            "sh",
        ])
        .arg(&mnt)
        .arg(bin())
        .arg(&old_spec)
        .arg(&new_spec)
        .arg(&out)
        .args(frees.iter().map(|f| f.to_string()))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "namespace script failed ({:?}): {}",
        o.status.code(),
        text(&o.stderr)
    );
    let read = |name: &str| fs::read_to_string(out.join(name)).unwrap_or_default();
    let mut problems = Vec::new();
    for free in &frees {
        let rc = read(&format!("{free}.rc"));
        let err = read(&format!("{free}.err"));
        let ls = read(&format!("{free}.ls"));
        let kept = fs::read(out.join(format!("{free}.tgz"))).unwrap_or_default();
        if rc.trim() != "1" {
            problems.push(format!("{free} KiB free: exit code {}", rc.trim()));
        }
        let first = err.lines().next().unwrap_or("");
        if !(first.starts_with("error: cannot write ")
            && first.contains("crash-0.1.0.tgz: No space left on device")
            && first.contains("left as it was"))
        {
            problems.push(format!("{free} KiB free: unclear message {err:?}"));
        }
        if err.lines().count() > 3 || err.contains("panicked") {
            problems.push(format!("{free} KiB free: stderr {err:?}"));
        }
        if !read(&format!("{free}.out")).is_empty() {
            problems.push(format!(
                "{free} KiB free: printed a path although it failed"
            ));
        }
        if ls.trim() != "crash-0.1.0.tgz" {
            problems.push(format!("{free} KiB free: directory holds {ls:?}"));
        }
        if kept != old {
            problems.push(format!(
                "{free} KiB free: the previous archive changed ({} bytes)",
                kept.len()
            ));
        }
    }
    assert_eq!(read("final.rc").trim(), "0", "{}", read("final.err"));
    assert_eq!(read("final.ls").trim(), "crash-0.1.0.tgz");
    assert_eq!(fs::read(out.join("final.tgz")).unwrap(), new);
    eprintln!(
        "full disk: {} runs with {:?} KiB free all failed cleanly; archive {} bytes",
        frees.len(),
        frees,
        new.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[cfg(unix)]
#[test]
fn a_symlink_at_the_destination_is_replaced_not_written_through() {
    let scratch = tempfile::tempdir().unwrap();
    let s = scratch.path();
    let mut rng = Rng(7);
    let spec_path = s.join("spec.yaml");
    fs::write(&spec_path, spec(&mut rng, 2, "1")).unwrap();
    let dest = s.join("dest");
    let outside = s.join("outside");
    fs::create_dir(&dest).unwrap();
    fs::create_dir(&outside).unwrap();
    let precious = outside.join("precious.txt");
    fs::write(&precious, b"precious").unwrap();
    let archive = dest.join("crash-0.1.0.tgz");

    // A link to an existing file, a dangling link, a link to a directory.
    for target in [precious.clone(), outside.join("missing"), outside.clone()] {
        let _ = fs::remove_file(&archive);
        std::os::unix::fs::symlink(&target, &archive).unwrap();
        let o = package(&spec_path, &dest);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let meta = fs::symlink_metadata(&archive).unwrap();
        assert!(meta.file_type().is_file(), "still a link to {target:?}");
        assert_loads(&fs::read(&archive).unwrap());
        assert_eq!(fs::read(&precious).unwrap(), b"precious");
        assert_eq!(names(&outside), ["precious.txt"], "target {target:?}");
        assert_eq!(names(&dest), ["crash-0.1.0.tgz"]);
    }

    // A directory where the archive should go is not replaced.
    fs::remove_file(&archive).unwrap();
    fs::create_dir(&archive).unwrap();
    fs::write(archive.join("keep"), b"x").unwrap();
    let o = package(&spec_path, &dest);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.starts_with("error: cannot replace "), "{err}");
    assert_eq!(fs::read(archive.join("keep")).unwrap(), b"x");
    assert_eq!(names(&dest), ["crash-0.1.0.tgz"]);
}

/// Every file under `dir` with its content, by relative path.
fn read_tree(dir: &Path) -> Option<BTreeMap<String, Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
        for e in fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() {
                walk(base, &p, out)?;
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, fs::read(&p)?);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out).ok()?;
    Some(out)
}

fn generate(spec: &Path, out: &Path) -> std::process::Output {
    Command::new(bin())
        .arg("generate")
        .arg(spec)
        .arg("--output")
        .arg(out)
        .stdin(Stdio::null())
        .output()
        .expect("run helm-k8s-service")
}

#[test]
fn sigkill_during_generate_never_loses_or_mixes_the_chart_directory() {
    let mut rng = Rng::from_env("FAULTS_SEED");
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let s = scratch.path();
    let specs = [s.join("a.yaml"), s.join("b.yaml")];
    fs::write(&specs[0], spec(&mut rng, 4, "a")).unwrap();
    fs::write(&specs[1], spec(&mut rng, 4, "b")).unwrap();
    let versions: Vec<BTreeMap<String, Vec<u8>>> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let dir = s.join(format!("ref{i}"));
            let o = generate(spec, &dir);
            assert!(o.status.success(), "{}", text(&o.stderr));
            read_tree(&dir.join("crash")).unwrap()
        })
        .collect();
    assert_ne!(versions[0], versions[1]);
    let out = s.join("out");
    let chart = out.join("crash");
    let o = generate(&specs[0], &out);
    assert!(o.status.success(), "{}", text(&o.stderr));

    const TRIALS: usize = 80;
    let mut during = 0;
    let mut problems = Vec::new();
    for trial in 1..=TRIALS {
        let before = read_tree(&chart);
        let new_idx = usize::from(before.as_ref() == Some(&versions[0]));
        let mut child = Command::new(bin())
            .arg("generate")
            .arg(&specs[new_idx])
            .arg("--output")
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // Aimed: once the temporary directory appears, a random 0-10 ms more (it syncs a file
        // per chart file, so the window is wider than for an archive).
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if !temporaries(&out).is_empty() {
                break;
            }
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
        }
        let extra = Duration::from_micros(rng.below(10_000));
        let t = Instant::now();
        while t.elapsed() < extra {
            std::hint::spin_loop();
        }
        let _ = child.kill();
        let status = child.wait().unwrap();
        let left = temporaries(&out);
        if !status.success() && !left.is_empty() {
            during += 1;
        }
        let now = read_tree(&chart);
        match &now {
            Some(t) if versions.contains(t) => {}
            Some(t) => problems.push(format!(
                "trial {trial}: the chart directory is mixed or partial ({} files)",
                t.len()
            )),
            None => problems.push(format!("trial {trial}: the chart directory is gone")),
        }
        let strays: Vec<String> = names(&out)
            .into_iter()
            .filter(|n| n != "crash" && !n.ends_with(TEMP_SUFFIX))
            .collect();
        if !strays.is_empty() {
            problems.push(format!("trial {trial}: stray entries {strays:?}"));
        }
        if status.success() && !left.is_empty() {
            problems.push(format!("trial {trial}: a successful run left {left:?}"));
        }
        if trial % 8 == 0 {
            let o = generate(&specs[trial % 2], &out);
            assert!(o.status.success(), "{}", text(&o.stderr));
            let left = temporaries(&out);
            if !left.is_empty() {
                problems.push(format!("trial {trial}: the next run left {left:?}"));
            }
        }
    }
    eprintln!("{TRIALS} SIGKILL trials of generate: {during} landed while its temporary existed");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        during >= TRIALS / 4,
        "only {during} of {TRIALS} kills landed mid-write"
    );
}
