//! Loading an existing index.yaml (`repo index --merge`): any bytes must load or give an error
//! that names the file, never a panic.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(data).expect("write");
    if let Err(e) = helm_k8s_service::repo::load(f.path()) {
        let text = e.render();
        assert!(text.starts_with("error: "), "{text}");
    }
});
