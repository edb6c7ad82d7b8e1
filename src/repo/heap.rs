//! Peak memory of `repo index`: each archive is read through buffers of 16–128 KiB (the
//! archive, the inflate window, the YAML reader's), freed while the archive's small metadata
//! lives on. glibc's malloc serves such buffers from its heap, where the survivors pin them
//! apart: 10,000 archives peaked at 480 MiB of resident memory for about 40 MiB live (massif).
//! Serving large buffers from their own mappings, returned when freed, kept the peak at what is
//! live (44 MiB). The threshold was 16 KiB; the archive and its inflated bytes are now one
//! reused buffer a thread (see `read_archive` and `gunzip`), and at 16 KiB the one large
//! transient left, the values.yaml line reader's event list (~100–140 KiB), was mapped, faulted
//! in page by page and unmapped for every archive: ~20 page faults and a TLB flush an archive,
//! 0.9–1.2 s of kernel time for 10,000. At 256 KiB it comes from the heap and is reused: the
//! same 10,000 took 2.8–3.1 s instead of 3.4–3.9 s (0.2 s in the kernel), and the peak stayed
//! 45 MiB.

/// glibc's `mallopt` parameter for the size from which allocations get their own mapping.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_MMAP_THRESHOLD: i32 = -3;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    fn mallopt(param: i32, value: i32) -> i32;
}

/// Buffers of 256 KiB and more go straight back to the system when freed (glibc only;
/// elsewhere the allocator's own policy stays).
pub fn return_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of glibc's allocator, which is always
    // present on this target; it is called before the workers start.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    }
}
