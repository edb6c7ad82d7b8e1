//! Spec parsing and validation: any bytes go through exactly what `helm k8s-service validate`
//! and `package` run (bounded read, both spec forms, interpolation, the model's rules, chart
//! building with its values.yaml round-trip check). It must never panic, an error must render,
//! and an "internal error" (a bug, never a user mistake) is a crash. A spec that is accepted
//! must make an archive that reads back to the chart's files.
#![no_main]

use std::io::Read;

use helm_k8s_service::archive;
use helm_k8s_service::pipeline::{ChartMeta, SpecInput, build_charts_from};
use helm_k8s_service::spec::source::SpecSource;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let spec = SpecInput {
        path: "fuzz.yaml".into(),
        module: None,
        // So that some placeholders resolve and the re-read after interpolation runs.
        vars: vec![
            ("x".into(), "1".into()),
            ("env".into(), "dev".into()),
            ("parent.domain".into(), "example.com".into()),
        ],
        tag: None,
        digest: None,
        name: None,
    };
    let source = match SpecSource::from_bytes("fuzz.yaml", data.to_vec()) {
        Ok(s) => s,
        Err(e) => {
            let _ = e.render();
            return;
        }
    };
    match build_charts_from(source, &spec, &ChartMeta::default()) {
        Err(e) => {
            let text = e.render();
            assert!(!text.contains("internal error"), "{text}");
            assert!(text.starts_with("error: "), "{text}");
        }
        Ok((charts, _messages)) => {
            for chart in charts {
                let bytes = archive::tgz(&chart, 0).expect("an accepted chart must archive");
                let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
                let mut files = chart.files.iter();
                for entry in tar.entries().expect("tar") {
                    let mut entry = entry.expect("entry");
                    let (path, content) = files.next().expect("no extra entries");
                    let name = entry.path().expect("path").display().to_string();
                    assert_eq!(name, format!("{}/{path}", chart.name));
                    let mut got = Vec::new();
                    entry.read_to_end(&mut got).expect("content");
                    assert_eq!(got.as_slice(), content.as_ref(), "{name}");
                }
                assert!(files.next().is_none(), "missing entries");
            }
        }
    }
});
