//! Writing a batch's staged archives out while the batch is still being built.
//!
//! A batch makes all its archives durable at once before renaming any (`sync_staged`): one
//! `syncfs` that, for 1,000 archives (~70 MB), waited ~45 ms at the end of a ~680 ms run with
//! both cores idle. Here a thread calls `syncfs` each time another [`EVERY`] bytes have been
//! staged, so the device writes while the workers compress, and the final `syncfs` finds little
//! left to write. Those early calls are only a head start: their results are ignored, and the
//! final one goes through a handle opened when the staging directory was made, which reports
//! any writeback error of the filesystem since then (Linux keeps that per open file).
//! Elsewhere there is no flusher (no `syncfs`): the commit syncs file by file.

// Only Linux starts a flusher; elsewhere its fields and handles go unused.
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_variables))]

use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

/// Bytes staged between two early flushes.
pub(super) const EVERY: usize = 8 << 20;

pub(super) struct Flusher {
    /// Opened with the staging directory; the final `syncfs` goes through it.
    dir: File,
    /// Bytes staged since the last signal.
    pending: usize,
    /// Wakes the thread; `None` once finishing.
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Early flushes done, for the tests.
    #[cfg(test)]
    done: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Flusher {
    /// A flusher for the filesystem of `dir`, or `None` where there is no `syncfs` or no thread
    /// could be started (then the commit syncs everything itself, as before).
    pub(super) fn start(dir: &Path) -> Option<Flusher> {
        if !cfg!(target_os = "linux") {
            return None;
        }
        let handle = File::open(dir).ok()?;
        // A handle of its own, not a duplicate: `syncfs` consumes the error it reports for the
        // open file, and the early flushes must leave every error to the final one.
        let early = File::open(dir).ok()?;
        // One signal may wait while a flush runs; more would only repeat it.
        let (wake, signals) = sync_channel::<()>(1);
        #[cfg(test)]
        let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        #[cfg(test)]
        let counter = done.clone();
        let thread = std::thread::Builder::new()
            .name("flush".into())
            .spawn(move || {
                while signals.recv().is_ok() {
                    // Ignored on purpose: see the module's comment.
                    #[cfg(target_os = "linux")]
                    let _ = rustix::fs::syncfs(&early);
                    #[cfg(test)]
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
            .ok()?;
        Some(Flusher {
            dir: handle,
            pending: 0,
            wake: Some(wake),
            thread: Some(thread),
            #[cfg(test)]
            done,
        })
    }

    /// Another `len` bytes are being staged; starts an early flush every [`EVERY`] bytes.
    pub(super) fn staged(&mut self, len: usize) {
        self.pending += len;
        if self.pending < EVERY {
            return;
        }
        self.pending = 0;
        if let Some(wake) = &self.wake {
            // Full: a flush is already waiting, which will write these bytes too.
            let _: Result<(), TrySendError<()>> = wake.try_send(());
        }
    }

    /// Stops the early flushes and makes everything staged durable, reporting any writeback
    /// error since the staging directory was made.
    #[cfg(target_os = "linux")]
    pub(super) fn finish(&mut self) -> std::io::Result<()> {
        self.stop();
        rustix::fs::syncfs(&self.dir).map_err(std::io::Error::from)
    }

    /// Early flushes done so far (all signalled ones, once finished).
    #[cfg(test)]
    pub(super) fn flushes(&self) -> usize {
        self.done.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn stop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.stop();
    }
}
