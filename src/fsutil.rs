//! Crash-safe writes. A destination holds its old content or its complete new content, never a
//! partial file: data goes to a temporary file in the same directory, is synced and read back,
//! then renamed over the destination, and the directory is synced. A symlink at the destination
//! is replaced, never written through.
//!
//! Temporary files (and the temporary directories of `replace_dir`) are named
//! `.<name>.<6 random characters>.k8s-service.tmp`. Every error path removes its own (tempfile's
//! Drop), but a process killed outright (SIGKILL, power loss) cannot: so each writer holds an
//! exclusive lock (`flock`) on its temporary while it exists, and the next write to the same
//! destination removes every temporary of that destination that nobody holds locked. A live
//! writer's temporary is never touched, and nothing but entries of exactly that name pattern is
//! ever removed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::diag::Error;

/// Suffix of every temporary `write_atomic` and `replace_dir` create (after `.<name>.<random>`).
pub const TEMP_SUFFIX: &str = ".k8s-service.tmp";
/// Length of the random part of a temporary file's name (tempfile's default).
const TEMP_RANDOM_LEN: usize = 6;

pub(crate) fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::msg(format!("cannot {what} {}: {e}", path.display()))
}

/// Atomically replace `dest` with `bytes` (mode 0644).
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_with(dest, bytes, |f, b| f.write_all(b))
}

/// Atomically create `dest` with `bytes` (mode 0644), never replacing anything: when `dest`
/// exists (a file, a directory, a symlink), or appears while the data is written, it is left as
/// it was and this fails. The check and the creation are one step (`renameat2(RENAME_NOREPLACE)`
/// or a hard link), so two concurrent writers cannot both succeed.
pub fn write_atomic_new(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_mode(dest, bytes, false, |f, b| f.write_all(b))
}

/// `write_atomic` with the step that writes the bytes given (the tests inject failures here).
fn write_atomic_with(
    dest: &Path,
    bytes: &[u8],
    write: impl Fn(&mut File, &[u8]) -> std::io::Result<()>,
) -> Result<(), Error> {
    write_atomic_mode(dest, bytes, true, write)
}

fn write_atomic_mode(
    dest: &Path,
    bytes: &[u8],
    replace: bool,
    write: impl Fn(&mut File, &[u8]) -> std::io::Result<()>,
) -> Result<(), Error> {
    let dir = parent_dir(dest);
    let file_name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Leftovers of killed writers first: on a full disk they may be what is in the way.
    remove_stale_temporaries(&dir, |owner| owner == file_name);
    let tmp = stage(&dir, &file_name, bytes, &write, true)?;
    let persisted = if replace {
        tmp.persist(dest)
    } else {
        tmp.persist_noclobber(dest)
    };
    persisted.map_err(|e| match e.error.kind() {
        std::io::ErrorKind::AlreadyExists if !replace => Error::msg(format!(
            "{} already exists; it was left as it was",
            dest.display()
        )),
        _ => io_err(if replace { "replace" } else { "create" }, dest, e.error),
    })?;
    sync_dir(&dir);
    Ok(())
}

/// The complete new content of `dir/<file_name>` in a locked temporary beside it: written,
/// synced (unless the caller syncs its staged files together later, as `staging` does), read
/// back and given mode 0644, ready to be renamed into place. Dropping it removes it.
pub(crate) fn stage(
    dir: &Path,
    file_name: &str,
    bytes: &[u8],
    write: &impl Fn(&mut File, &[u8]) -> std::io::Result<()>,
    sync: bool,
) -> Result<tempfile::NamedTempFile, Error> {
    let dest = dir.join(file_name);
    let mut tmp = locked_temp_file(dir, &format!(".{file_name}."))?;
    // Errors name the destination (the temporary is an implementation detail) and say that it
    // was left alone.
    let unchanged = |e: String| {
        Error::msg(format!(
            "cannot write {}: {e}; it was left as it was",
            dest.display()
        ))
    };
    write(tmp.as_file_mut(), bytes)
        .and_then(|()| {
            if sync {
                tmp.as_file().sync_all()
            } else {
                Ok(())
            }
        })
        .map_err(|e| unchanged(e.to_string()))?;
    tmp.as_file_mut()
        .seek(SeekFrom::Start(0))
        .map_err(|e| unchanged(format!("reading it back failed: {e}")))?;
    read_back(tmp.as_file_mut(), bytes).map_err(unchanged)?;
    set_mode_644(tmp.as_file()).map_err(|e| io_err("set permissions on", tmp.path(), e))?;
    Ok(tmp)
}

/// Read what was just written and compare it with `bytes`: a filesystem that loses data
/// without an error must not replace a good file. The error is a phrase for the caller's message.
pub(crate) fn read_back(file: &mut impl Read, bytes: &[u8]) -> Result<(), String> {
    let mut back = Vec::with_capacity(bytes.len());
    file.read_to_end(&mut back)
        .map_err(|e| format!("reading it back failed: {e}"))?;
    if back != bytes {
        return Err(format!(
            "the data read back differs from the data written ({} of {} bytes)",
            back.len(),
            bytes.len()
        ));
    }
    Ok(())
}

/// A new temporary file `<prefix><random><TEMP_SUFFIX>` in `dir`, locked by this process.
fn locked_temp_file(dir: &Path, prefix: &str) -> Result<tempfile::NamedTempFile, Error> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(TEMP_SUFFIX)
            .rand_bytes(TEMP_RANDOM_LEN)
            .tempfile_in(dir)
            .map_err(|e| io_err("create a temporary file in", dir, e))?;
        match tmp.as_file().lock() {
            Ok(()) => {}
            // No locks on this filesystem: nothing can prove a temporary stale, so the cleanup
            // never removes one here either.
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => return Ok(tmp),
            Err(e) => return Err(io_err("lock", tmp.path(), e)),
        }
        // Another writer's cleanup may have found the file unlocked in the instant between its
        // creation and our lock, and removed it. Then the name is no longer ours: start again.
        if names_this_file(tmp.path(), tmp.as_file()) {
            return Ok(tmp);
        }
        let _ = tmp.keep(); // the path is gone (or someone else's): never remove it
        if attempts >= 5 {
            return Err(Error::msg(format!(
                "cannot create a temporary file in {}: it keeps disappearing",
                dir.display()
            )));
        }
    }
}

#[cfg(unix)]
fn names_this_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::symlink_metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn names_this_file(path: &Path, _: &File) -> bool {
    path.exists()
}

/// The destination a temporary is for: `.<name>.<TEMP_RANDOM_LEN alphanumerics><TEMP_SUFFIX>`
/// gives `<name>`; any other name gives nothing.
fn temp_owner(temp_name: &str) -> Option<&str> {
    let rest = temp_name.strip_prefix('.')?.strip_suffix(TEMP_SUFFIX)?;
    let (owner, random) = rest.split_at_checked(rest.len().checked_sub(TEMP_RANDOM_LEN + 1)?)?;
    let random = random.strip_prefix('.')?;
    (!owner.is_empty() && random.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(owner)
}

/// Remove the temporaries left in `dir` by writers that died, for the destinations `owned`
/// accepts: regular files and directories named like ours that no live process holds locked.
/// Best effort; an error only means a temporary stays.
pub(crate) fn remove_stale_temporaries(dir: &Path, owned: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().and_then(temp_owner).is_some_and(&owned) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let kind = meta.file_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue; // never follow a symlink, never touch a device or a socket
        }
        let Ok(file) = File::open(&path) else {
            continue;
        };
        // Holding the lock while removing: a writer that locks after us sees its name gone.
        if file.try_lock().is_ok() && names_this_file(&path, &file) {
            let _ = if kind.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Replace the directory `dest` by a fully written new one. The files go to a temporary
/// directory beside it (`.<name>.<random>.k8s-service.tmp`, locked like a temporary file, so the
/// next run removes it if this one is killed), which then takes `dest`'s place: on Linux in one
/// atomic exchange (`renameat2(RENAME_EXCHANGE)`), so `dest` is never missing, and the old
/// directory, now at the temporary name, is removed. Elsewhere, or where the filesystem cannot
/// exchange, the old `dest` is moved aside to `.<name>.old-<pid>` first.
pub fn replace_dir<B: AsRef<[u8]>>(dest: &Path, files: &[(String, B)]) -> Result<(), Error> {
    let parent = parent_dir(dest);
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_temporaries(&parent, |owner| owner == name);
    let (tmp, _lock) = locked_temp_dir(&parent, &format!(".{name}."))?;
    for (rel, content) in files {
        let path = tmp.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| io_err("create", p, e))?;
        }
        let mut f = File::create(&path).map_err(|e| io_err("create", &path, e))?;
        f.write_all(content.as_ref())
            .and_then(|_| f.sync_all())
            .map_err(|e| io_err("write", &path, e))?;
    }
    sync_dir(tmp.path());
    match std::fs::symlink_metadata(dest) {
        Err(_) => {
            std::fs::rename(tmp.path(), dest).map_err(|e| io_err("move into place", dest, e))?;
            let _ = tmp.keep();
        }
        Ok(m) if m.is_dir() => {
            if exchange(tmp.path(), dest).is_ok() {
                // `tmp` now names the old directory; its Drop removes it.
                drop(tmp);
            } else {
                replace_by_moving_aside(tmp, dest, &parent, &name)?;
            }
        }
        Ok(_) => {
            return Err(Error::msg(format!(
                "{} exists and is not a directory; not replacing it",
                dest.display()
            )));
        }
    }
    sync_dir(&parent);
    Ok(())
}

/// Swap two paths atomically.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Without an atomic exchange: move the old directory aside, the new one in, then drop the old.
fn replace_by_moving_aside(
    tmp: tempfile::TempDir,
    dest: &Path,
    parent: &Path,
    name: &str,
) -> Result<(), Error> {
    let aside = parent.join(format!(".{name}.old-{}", std::process::id()));
    std::fs::rename(dest, &aside).map_err(|e| io_err("move aside", dest, e))?;
    if let Err(e) = std::fs::rename(tmp.path(), dest) {
        // Put the old chart back so nothing is lost; `tmp`'s Drop removes the new one.
        let _ = std::fs::rename(&aside, dest);
        return Err(io_err("move into place", dest, e));
    }
    let _ = tmp.keep();
    let _ = std::fs::remove_dir_all(aside);
    Ok(())
}

/// A new temporary directory `<prefix><random><TEMP_SUFFIX>` in `dir`, locked by this process
/// (the returned `File` holds the lock).
pub(crate) fn locked_temp_dir(
    dir: &Path,
    prefix: &str,
) -> Result<(tempfile::TempDir, Option<File>), Error> {
    for _ in 0..5 {
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(TEMP_SUFFIX)
            .rand_bytes(TEMP_RANDOM_LEN)
            .tempdir_in(dir)
            .map_err(|e| io_err("create a temporary directory in", dir, e))?;
        let Ok(handle) = File::open(tmp.path()) else {
            return Ok((tmp, None)); // cannot lock directories here: never cleaned either
        };
        match handle.lock() {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => return Ok((tmp, None)),
            Err(e) => return Err(io_err("lock", tmp.path(), e)),
        }
        if names_this_file(tmp.path(), &handle) {
            return Ok((tmp, Some(handle)));
        }
        let _ = tmp.keep(); // removed by another run's cleanup in the meantime: not ours now
    }
    Err(Error::msg(format!(
        "cannot create a temporary directory in {}: it keeps disappearing",
        dir.display()
    )))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
pub(crate) fn set_mode_644(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
pub(crate) fn set_mode_644(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Make the rename durable. Best effort: not every filesystem can sync a directory.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn replaces_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tgz");
        write_atomic(&dest, b"old").unwrap();
        write_atomic(&dest, b"new").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_destination_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"precious").unwrap();
        let dest = dir.path().join("a.tgz");
        std::os::unix::fs::symlink(&target, &dest).unwrap();
        write_atomic(&dest, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"precious");
        assert!(
            !std::fs::symlink_metadata(&dest)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    /// The names in `dir`, sorted (staging.rs's tests use it too).
    pub(crate) fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A writer that accepts `n` bytes, then fails as a full disk does.
    fn fail_after(n: usize) -> impl Fn(&mut File, &[u8]) -> std::io::Result<()> {
        move |f, b| {
            let k = n.min(b.len());
            f.write_all(&b[..k])?;
            if k < b.len() {
                return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
            }
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a-0.1.0.tgz");
        write_atomic(&dest, b"old complete archive").unwrap();
        let new = vec![7u8; 100_000];
        for n in [0, 1, 4095, 4096, 65_536, 99_999] {
            let err = write_atomic_with(&dest, &new, fail_after(n))
                .unwrap_err()
                .render();
            let want = format!("error: cannot write {}: ", dest.display());
            assert!(err.starts_with(&want), "{err}");
            assert!(err.contains("it was left as it was"), "{err}");
            #[cfg(target_os = "linux")]
            assert!(err.contains("No space left on device"), "{err}");
            assert_eq!(std::fs::read(&dest).unwrap(), b"old complete archive");
            assert_eq!(entries(dir.path()), ["a-0.1.0.tgz"], "after failing at {n}");
        }
        write_atomic_with(&dest, &new, fail_after(usize::MAX)).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), new);
    }

    #[test]
    fn write_atomic_new_never_replaces_anything() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("spec.yaml");
        write_atomic_new(&dest, b"first").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        let err = write_atomic_new(&dest, b"second").unwrap_err().render();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        // A dangling symlink is something too: it is neither followed nor replaced.
        #[cfg(unix)]
        {
            let link = dir.path().join("link.yaml");
            std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
            assert!(write_atomic_new(&link, b"x").is_err());
            assert!(!dir.path().join("nowhere").exists());
        }
        assert!(
            entries(dir.path())
                .iter()
                .all(|e| !e.ends_with(TEMP_SUFFIX)),
            "{:?}",
            entries(dir.path())
        );
    }

    #[test]
    fn data_that_does_not_read_back_is_not_renamed_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.tgz");
        write_atomic(&dest, b"old").unwrap();
        // A "successful" short write, as a broken filesystem might report.
        let err = write_atomic_with(&dest, b"new content", |f, b| f.write_all(&b[..3]))
            .unwrap_err()
            .render();
        assert!(err.contains("read back differs"), "{err}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        assert_eq!(entries(dir.path()), ["a.tgz"]);
    }

    #[test]
    fn temp_names_are_recognised_exactly() {
        let is_temp_name = |n| temp_owner(n) == Some("a-0.1.0.tgz");
        assert!(is_temp_name(".a-0.1.0.tgz.Ab3xY9.k8s-service.tmp"));
        for other in [
            ".a-0.1.0.tgz.Ab3xY.k8s-service.tmp",
            ".a-0.1.0.tgz.Ab3xY99.k8s-service.tmp",
            ".a-0.1.0.tgz.Ab-xY9.k8s-service.tmp",
            ".a-0.1.0.tgz.Ab3xY9.tmp",
            ".b-0.1.0.tgz.Ab3xY9.k8s-service.tmp",
            "a-0.1.0.tgz",
            ".a-0.1.0.tgz.backup",
        ] {
            assert!(!is_temp_name(other), "{other}");
        }
    }

    #[test]
    fn stale_temporaries_of_the_destination_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let dest = d.join("a-0.1.0.tgz");
        // Left by a killed writer: right name, nobody holds it.
        std::fs::write(d.join(".a-0.1.0.tgz.dead01.k8s-service.tmp"), b"partial").unwrap();
        // A live writer's: locked.
        let live_path = d.join(".a-0.1.0.tgz.live01.k8s-service.tmp");
        let live = File::create(&live_path).unwrap();
        live.lock().unwrap();
        // A stale temporary directory of the same name is removed too.
        std::fs::create_dir(d.join(".a-0.1.0.tgz.dir001.k8s-service.tmp")).unwrap();
        // Not ours to touch: another destination's, other names, a symlink.
        std::fs::write(d.join(".b-0.1.0.tgz.dead02.k8s-service.tmp"), b"x").unwrap();
        std::fs::write(d.join(".a-0.1.0.tgz.keep.me"), b"x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            d.join("a-0.1.0.tgz"),
            d.join(".a-0.1.0.tgz.link01.k8s-service.tmp"),
        )
        .unwrap();

        write_atomic(&dest, b"new").unwrap();
        let mut want = vec![
            ".a-0.1.0.tgz.keep.me",
            ".a-0.1.0.tgz.live01.k8s-service.tmp",
            ".b-0.1.0.tgz.dead02.k8s-service.tmp",
            "a-0.1.0.tgz",
        ];
        if cfg!(unix) {
            want.insert(1, ".a-0.1.0.tgz.link01.k8s-service.tmp");
        }
        assert_eq!(entries(d), want);
        // Once its writer is gone, the next write removes it too.
        drop(live);
        write_atomic(&dest, b"newer").unwrap();
        assert!(!live_path.exists());
        assert_eq!(std::fs::read(&dest).unwrap(), b"newer");
    }

    #[test]
    fn stale_temporary_directories_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let dest = d.join("chart");
        replace_dir(&dest, &[("Chart.yaml".into(), b"1".to_vec())]).unwrap();
        let dead = d.join(".chart.dead01.k8s-service.tmp");
        std::fs::create_dir_all(dead.join("templates")).unwrap();
        std::fs::write(dead.join("templates/x.yaml"), b"x").unwrap();
        let live = d.join(".chart.live01.k8s-service.tmp");
        std::fs::create_dir(&live).unwrap();
        let holder = File::open(&live).unwrap();
        holder.lock().unwrap();
        let other = d.join(".other.dead02.k8s-service.tmp");
        std::fs::create_dir(&other).unwrap();
        replace_dir(&dest, &[("Chart.yaml".into(), b"2".to_vec())]).unwrap();
        assert_eq!(
            entries(d),
            [
                ".chart.live01.k8s-service.tmp",
                ".other.dead02.k8s-service.tmp",
                "chart"
            ]
        );
        assert_eq!(std::fs::read(dest.join("Chart.yaml")).unwrap(), b"2");
        drop(holder);
        replace_dir(&dest, &[("Chart.yaml".into(), b"3".to_vec())]).unwrap();
        assert_eq!(entries(d), [".other.dead02.k8s-service.tmp", "chart"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn directories_are_exchanged_atomically_on_linux() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(a.join("f"), b"a").unwrap();
        exchange(&a, &b).unwrap();
        assert_eq!(std::fs::read(b.join("f")).unwrap(), b"a");
        assert!(!a.join("f").exists());
    }

    #[test]
    fn directories_are_swapped_whole() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("chart");
        replace_dir(
            &dest,
            &[("a".into(), b"1".to_vec()), ("t/b".into(), b"2".to_vec())],
        )
        .unwrap();
        replace_dir(&dest, &[("c".into(), b"3".to_vec())]).unwrap();
        assert!(!dest.join("a").exists());
        assert_eq!(std::fs::read(dest.join("c")).unwrap(), b"3");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
