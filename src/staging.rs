//! Many files written into one directory all together or not at all, holding none of them in
//! memory: a batch `package` of thousands of specs writes each archive as soon as it is built.
//!
//! The first files of a run (up to [`BESIDE`]: one spec's archive and its signature) are staged
//! beside their destinations, as `fsutil` stages a single file (`.<name>.<random>.k8s-service.tmp`,
//! locked): a single `package` then creates and removes no directory, which on ext4 costs an
//! inode allocated and freed per run (a later run that creates many files pays for recently
//! freed inodes; with `discard`, the freed block is trimmed too). The rest go to one locked
//! temporary directory inside the destination (`.k8s-service-batch.<random>.k8s-service.tmp`).
//! Either kind is cleaned up by the next run if this one is killed, as `fsutil`'s temporaries
//! are; every file is written and read back where it is staged. Only [`Staging::commit`] makes
//! them durable (all at once: see [`sync_staged`]; a large batch is written out by a thread of
//! `flush` while it is staged, so that little is left then), renames them into place, one
//! rename each, then syncs the directory; a staging dropped without a commit removes
//! everything it wrote, and the destination directory too when this run created it and it is
//! still empty. One lock for the whole batch, rather than one open temporary file per archive,
//! keeps the number of open files flat as well.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::diag::Error;
use crate::fsutil::{self, io_err};

mod flush;

/// The name the staging directory stands for in `fsutil`'s temporary-name pattern. It is never
/// an archive's (those end in `.tgz` or `.prov`), so a stale one is recognised as such.
const OWNER: &str = "k8s-service-batch";

/// How many files are staged beside their destinations before the staging directory is made.
const BESIDE: usize = 2;

pub struct Staging {
    dir: PathBuf,
    /// Made at the first file staged, so a run that fails (or is killed) while validating
    /// leaves nothing behind, not even the destination directory.
    area: Mutex<Option<Area>>,
}

struct Area {
    /// The destination directory, made with the area.
    dir: PathBuf,
    /// Files staged beside their destinations: (name, its locked temporary).
    beside: Vec<(String, tempfile::NamedTempFile)>,
    /// The staging directory once more than [`BESIDE`] files are staged (with its lock).
    tmp: Option<(tempfile::TempDir, Option<File>)>,
    /// Writes the staging directory's files out while the batch goes on (Linux).
    flusher: Option<flush::Flusher>,
    /// Every name staged, so a name staged twice is an error wherever it was staged.
    names: std::collections::HashSet<String>,
    /// The outermost directory this run created for `dir` (removed again if left empty).
    created: Option<PathBuf>,
}

impl Staging {
    /// A staging area for `dir`; nothing is created until a file is staged.
    pub fn new(dir: &Path) -> Self {
        Staging {
            dir: dir.to_path_buf(),
            area: Mutex::new(None),
        }
    }

    /// Run `f` on the staging area, made (with `dir` and its parents) on first use.
    fn with_area<T>(&self, f: impl FnOnce(&mut Area) -> Result<T, Error>) -> Result<T, Error> {
        let mut area = self.area.lock().unwrap_or_else(|p| p.into_inner());
        if area.is_none() {
            let created = missing_ancestor(&self.dir);
            create_dir(&self.dir)?;
            *area = Some(Area {
                dir: self.dir.clone(),
                beside: Vec::new(),
                tmp: None,
                flusher: None,
                names: Default::default(),
                created,
            });
        }
        match area.as_mut() {
            Some(a) => f(a),
            None => Err(Error::msg("internal error: no staging area")),
        }
    }

    /// Stage `bytes` as the future `dir/<name>`: written, read back, mode 0644 (synced by
    /// [`Staging::commit`]). Safe to call from several threads; a name staged twice is an error
    /// (two charts of one run).
    pub fn add(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        let dest = self.dir.join(name);
        // Where this file goes: beside its destination, or into the staging directory (made now
        // if this is the first file beyond those beside). Decided under the lock, the writing
        // itself is not.
        let in_dir = self.with_area(|area| {
            if !area.names.insert(name.to_string()) {
                return Err(Error::msg(format!(
                    "two charts of this run are both written to {}; nothing was written",
                    dest.display()
                )));
            }
            if area.names.len() <= BESIDE {
                return Ok(None);
            }
            if area.tmp.is_none() {
                fsutil::remove_stale_temporaries(&area.dir, |owner| owner == OWNER);
                let tmp = fsutil::locked_temp_dir(&area.dir, &format!(".{OWNER}."))?;
                area.flusher = flush::Flusher::start(tmp.0.path());
                area.tmp = Some(tmp);
            }
            if let Some(flusher) = &mut area.flusher {
                flusher.staged(bytes.len());
            }
            Ok(area.tmp.as_ref().map(|(t, _)| t.path().join(name)))
        })?;
        let Some(path) = in_dir else {
            // Leftovers of killed writers of this name first, as fsutil's writes do.
            fsutil::remove_stale_temporaries(&self.dir, |owner| owner == name);
            let tmp = fsutil::stage(&self.dir, name, bytes, &|f, b| f.write_all(b), false)?;
            return self.with_area(|area| {
                area.beside.push((name.to_string(), tmp));
                Ok(())
            });
        };
        let unchanged = |e: String| {
            Error::msg(format!(
                "cannot write {}: {e}; it was left as it was",
                dest.display()
            ))
        };
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| unchanged(e.to_string()))?;
        f.write_all(bytes).map_err(|e| unchanged(e.to_string()))?;
        // Read it back through a new handle: a filesystem that loses data without an error
        // must not replace a good file.
        let mut reader =
            File::open(&path).map_err(|e| unchanged(format!("reading it back failed: {e}")))?;
        fsutil::read_back(&mut reader, bytes).map_err(unchanged)?;
        fsutil::set_mode_644(&f).map_err(|e| io_err("set permissions on", &path, e))
    }

    /// Move every staged file (`names`, each given to [`Staging::add`]) into place, in order.
    pub fn commit(self, names: &[String]) -> Result<(), Error> {
        let area = self.area.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(mut area) = area else {
            // Nothing staged: the destination is still made, as a run that writes does.
            return create_dir(&self.dir);
        };
        // Leftovers of killed writers of these names, and of killed batches, first (ours are
        // locked, so they stay).
        let set: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        fsutil::remove_stale_temporaries(&self.dir, |owner| owner == OWNER || set.contains(owner));
        sync_staged(&mut area, names).map_err(|e| {
            Error::msg(format!(
                "cannot write to {}: syncing the new files failed: {e}; nothing was replaced",
                self.dir.display()
            ))
        })?;
        for name in names {
            let dest = self.dir.join(name);
            match area.beside.iter().position(|(b, _)| b == name) {
                Some(i) => {
                    let (_, tmp) = area.beside.swap_remove(i);
                    tmp.persist(&dest)
                        .map_err(|e| io_err("replace", &dest, e.error))?;
                }
                None => {
                    let staged = area.tmp.as_ref().map(|(t, _)| t.path().join(name));
                    let staged = staged.unwrap_or_else(|| self.dir.join(name));
                    std::fs::rename(staged, &dest).map_err(|e| io_err("replace", &dest, e))?;
                }
            }
        }
        // The (now empty) staging directory goes before the sync, so its removal is durable too.
        area.created = None;
        drop(area);
        fsutil::sync_dir(&self.dir);
        Ok(())
    }
}

/// Every staged file on disk before any is renamed into place, so that a crash never leaves a
/// torn file under a final name. A few files are synced one by one; a batch, where that was a
/// tenth of the run (an fsync each, every one a write of its inode), with one `syncfs` of the
/// filesystem on Linux, which writes them all out together and reports a failed writeback of
/// any (it also flushes other programs' pending writes there; that costs time, not safety).
/// While the batch is staged, `flush` has written most of it out already.
fn sync_staged(area: &mut Area, names: &[String]) -> std::io::Result<()> {
    /// Up to this many files, one fsync each (no waiting for anyone else's writes).
    const ONE_BY_ONE: usize = 8;
    for (_, tmp) in &area.beside {
        tmp.as_file().sync_all()?;
    }
    let Some((dir, _)) = &area.tmp else {
        return Ok(());
    };
    let in_dir: Vec<&String> = names
        .iter()
        .filter(|n| !area.beside.iter().any(|(b, _)| b == *n))
        .collect();
    #[cfg(target_os = "linux")]
    if in_dir.len() > ONE_BY_ONE {
        if let Some(flusher) = &mut area.flusher {
            return flusher.finish();
        }
        return rustix::fs::syncfs(File::open(dir.path())?).map_err(std::io::Error::from);
    }
    for name in in_dir {
        File::open(dir.path().join(name))?.sync_all()?;
    }
    Ok(())
}

impl Drop for Area {
    fn drop(&mut self) {
        // The temporaries go first (their Drop), then what this run created.
        self.beside.clear();
        drop(self.tmp.take());
        remove_created(&self.dir, self.created.take().as_deref());
    }
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::msg(format!("cannot create {}: {e}", dir.display())))
}

/// The outermost missing directory of `dir` (what `create_dir_all` would create first).
fn missing_ancestor(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .filter(|a| !a.as_os_str().is_empty() && !a.exists())
        .last()
        .map(Path::to_path_buf)
}

/// A failed run leaves no directory it made; one holding anything stays.
fn remove_created(dir: &Path, top: Option<&Path>) {
    let Some(top) = top else { return };
    for d in dir.ancestors() {
        if std::fs::remove_dir(d).is_err() || d == top {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fsutil::tests::entries;

    #[test]
    fn committed_files_replace_the_old_and_leave_no_temporaries() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.tgz"), b"old").unwrap();
        let s = Staging::new(d.path());
        s.add("a.tgz", b"new a").unwrap();
        s.add("b.tgz", b"new b").unwrap();
        assert!(s.add("b.tgz", b"again").is_err(), "a name staged twice");
        assert_eq!(std::fs::read(d.path().join("a.tgz")).unwrap(), b"old");
        s.commit(&["a.tgz".into(), "b.tgz".into()]).unwrap();
        assert_eq!(entries(d.path()), ["a.tgz", "b.tgz"]);
        assert_eq!(std::fs::read(d.path().join("b.tgz")).unwrap(), b"new b");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_large_batch_is_written_out_while_it_is_staged() {
        // Files of a quarter of the early-flush step: the flusher is woken at every fourth file
        // staged in the staging directory.
        let d = tempfile::tempdir().unwrap();
        let s = Staging::new(d.path());
        let size = flush::EVERY / 4;
        let names: Vec<String> = (0..BESIDE + 9).map(|i| format!("f{i:02}.tgz")).collect();
        for (i, n) in names.iter().enumerate() {
            s.add(n, &vec![i as u8; size]).unwrap();
        }
        let flushes = |s: &Staging| {
            s.with_area(|a| Ok(a.flusher.as_ref().map(|f| f.flushes())))
                .unwrap()
        };
        assert!(flushes(&s).is_some(), "a staging directory has a flusher");
        // Finish the flusher as the commit will, then look: 9 files, 2 steps of 4, 2 wakes
        // (the second is dropped if the first was still waiting: it would write the same).
        s.with_area(|a| Ok(a.flusher.as_mut().map(|f| f.finish())))
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(matches!(flushes(&s), Some(1 | 2)), "{:?}", flushes(&s));
        s.commit(&names).unwrap();
        assert_eq!(entries(d.path()), names);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(
                std::fs::read(d.path().join(n)).unwrap(),
                vec![i as u8; size]
            );
        }
    }

    #[test]
    fn a_batch_is_synced_together_and_committed_whole() {
        // More files than are synced one by one: the whole-filesystem sync path on Linux.
        let d = tempfile::tempdir().unwrap();
        let s = Staging::new(d.path());
        let names: Vec<String> = (0..20).map(|i| format!("c{i:02}.tgz")).collect();
        for n in &names {
            s.add(n, n.as_bytes()).unwrap();
        }
        s.commit(&names).unwrap();
        assert_eq!(entries(d.path()), names);
        for n in &names {
            assert_eq!(std::fs::read(d.path().join(n)).unwrap(), n.as_bytes());
        }
        // A staged file that vanished before the commit fails it, with nothing moved.
        let sub = d.path().join("sub");
        let s = Staging::new(&sub);
        for n in ["a.tgz", "b.tgz", "c.tgz"] {
            s.add(n, b"a").unwrap();
        }
        let area = s.with_area(|a| Ok(a.tmp.as_ref().unwrap().0.path().to_path_buf()));
        std::fs::remove_file(area.unwrap().join("c.tgz")).unwrap();
        let names = ["a.tgz".into(), "b.tgz".into(), "c.tgz".into()];
        let e = s.commit(&names).unwrap_err().render();
        assert!(
            e.contains("syncing the new files failed") && e.contains("nothing was replaced"),
            "{e}"
        );
        assert!(
            !sub.exists(),
            "the destination this run made is removed again"
        );
    }

    #[test]
    fn one_specs_files_are_staged_beside_their_destinations() {
        // A single package (an archive and its signature) makes no staging directory: its
        // files wait as locked temporaries next to where they go.
        let d = tempfile::tempdir().unwrap();
        let s = Staging::new(d.path());
        s.add("a.tgz", b"archive").unwrap();
        s.add("a.tgz.prov", b"signature").unwrap();
        let staged = entries(d.path());
        assert_eq!(staged.len(), 2, "{staged:?}");
        assert!(
            staged
                .iter()
                .all(|n| n.starts_with(".a.tgz") && n.ends_with(".k8s-service.tmp")),
            "{staged:?}"
        );
        // The third file of a run opens the staging directory; a name is still staged once.
        s.add("b.tgz", b"b").unwrap();
        assert!(
            entries(d.path())
                .iter()
                .any(|n| n.starts_with(".k8s-service-batch."))
        );
        for again in ["a.tgz", "b.tgz"] {
            let e = s.add(again, b"x").unwrap_err().render();
            assert!(e.contains("two charts of this run"), "{e}");
        }
        s.commit(&["a.tgz".into(), "a.tgz.prov".into(), "b.tgz".into()])
            .unwrap();
        assert_eq!(entries(d.path()), ["a.tgz", "a.tgz.prov", "b.tgz"]);
        assert_eq!(
            std::fs::read(d.path().join("a.tgz.prov")).unwrap(),
            b"signature"
        );
        // Dropped without a commit: the temporaries beside go too, and a directory it made.
        let deep = d.path().join("x/y");
        let s = Staging::new(&deep);
        s.add("a.tgz", b"new").unwrap();
        assert_eq!(entries(&deep).len(), 1);
        drop(s);
        assert!(!d.path().join("x").exists());
    }

    #[test]
    fn a_staging_dropped_without_commit_writes_nothing() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.tgz"), b"old").unwrap();
        let s = Staging::new(d.path());
        s.add("a.tgz", b"new").unwrap();
        drop(s);
        assert_eq!(entries(d.path()), ["a.tgz"]);
        assert_eq!(std::fs::read(d.path().join("a.tgz")).unwrap(), b"old");
        // A destination this run created is removed again, with its new parents.
        let deep = d.path().join("x/y/z");
        let s = Staging::new(&deep);
        s.add("a.tgz", b"new").unwrap();
        drop(s);
        assert_eq!(entries(d.path()), ["a.tgz"]);
    }
}
