//! Reading chart archives (`repo index` reads every .tgz of a directory): any bytes must give
//! metadata or a reason, never a panic, a hang or unbounded memory (Helm's 5 MiB per file and
//! 100 MiB per chart limits apply while decompressing). Whatever the in-memory reader decides
//! alone, the streaming reader it stands in for must decide the same, to the byte.
#![no_main]

use helm_k8s_service::repo::chart_archive::{read, read_in_memory, read_streaming};
use libfuzzer_sys::fuzz_target;

fn show(r: Result<helm_k8s_service::repo::chart_archive::ArchiveInfo, String>) -> String {
    match r {
        Ok(info) => {
            assert_eq!(info.digest.len(), 64);
            format!("{:?} {}", info.metadata, info.digest)
        }
        Err(why) => why,
    }
}

fuzz_target!(|data: &[u8]| {
    let verdict = show(read(data));
    if let Some(alone) = read_in_memory(data) {
        assert_eq!(show(alone), verdict);
        assert_eq!(show(read_streaming(data)), verdict);
    }
});
