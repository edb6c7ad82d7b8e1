//! Reading chart archives (`repo index` reads every .tgz of a directory): any bytes must give
//! metadata or a reason, never a panic, a hang or unbounded memory (Helm's 5 MiB per file and
//! 100 MiB per chart limits apply while decompressing).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = helm_k8s_service::repo::chart_archive::read(data) {
        assert_eq!(info.digest.len(), 64);
    }
});
