//! Crash-safe writes. A destination holds its old content or its complete new content, never a
//! partial file: data goes to a temporary file in the same directory, is synced, then renamed
//! over the destination, and the directory is synced. A symlink at the destination is replaced,
//! never written through. Temporary files are removed on every error path (tempfile's Drop).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diag::Error;

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::msg(format!("cannot {what} {}: {e}", path.display()))
}

/// Atomically replace `dest` with `bytes` (mode 0644).
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = parent_dir(dest);
    let file_name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| io_err("create a temporary file in", &dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| io_err("write", tmp.path(), e))?;
    set_mode_644(tmp.as_file()).map_err(|e| io_err("set permissions on", tmp.path(), e))?;
    tmp.persist(dest)
        .map_err(|e| io_err("replace", dest, e.error))?;
    sync_dir(&dir);
    Ok(())
}

/// Replace the directory `dest` by a fully written new one: the files go to a sibling temporary
/// directory, which is renamed into place; an old `dest` is moved aside first, then removed.
pub fn replace_dir(dest: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Error> {
    let parent = parent_dir(dest);
    let tmp = tempfile::Builder::new()
        .prefix(".k8s-service-")
        .tempdir_in(&parent)
        .map_err(|e| io_err("create a temporary directory in", &parent, e))?;
    for (rel, content) in files {
        let path = tmp.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| io_err("create", p, e))?;
        }
        let mut f = std::fs::File::create(&path).map_err(|e| io_err("create", &path, e))?;
        f.write_all(content)
            .and_then(|_| f.sync_all())
            .map_err(|e| io_err("write", &path, e))?;
    }
    let old = match std::fs::symlink_metadata(dest) {
        Err(_) => None,
        Ok(m) if m.is_dir() => {
            let aside = parent.join(format!(
                ".{}.old-{}",
                dest.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                std::process::id()
            ));
            std::fs::rename(dest, &aside).map_err(|e| io_err("move aside", dest, e))?;
            Some(aside)
        }
        Ok(_) => {
            return Err(Error::msg(format!(
                "{} exists and is not a directory; not replacing it",
                dest.display()
            )));
        }
    };
    let kept = tmp.keep();
    if let Err(e) = std::fs::rename(&kept, dest) {
        // Put the old chart back so nothing is lost, and drop the new one.
        if let Some(aside) = &old {
            let _ = std::fs::rename(aside, dest);
        }
        let _ = std::fs::remove_dir_all(&kept);
        return Err(io_err("move into place", dest, e));
    }
    if let Some(aside) = old {
        let _ = std::fs::remove_dir_all(aside);
    }
    sync_dir(&parent);
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
fn set_mode_644(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_mode_644(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Make the rename durable. Best effort: not every filesystem can sync a directory.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
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
