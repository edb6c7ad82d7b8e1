//! A rerunnable micro-measure of the phases of `chart::build_unproven` (and its proof) on
//! examples/full.yaml (issue 18):
//! `cargo test --release --lib measure_phases -- --ignored --nocapture`. It asserts nothing
//! about time (the machine is shared); it prints the mean per phase and checks that each phase
//! still produces what the build uses.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use super::{render, verify};
use crate::model::{self, Overrides};
use crate::spec::{self, LoadOptions, source::SpecSource};
use crate::values::Values;

fn time<T>(label: &str, n: u32, mut f: impl FnMut() -> T) -> T {
    let mut last = f();
    let start = Instant::now();
    for _ in 0..n {
        last = black_box(f());
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{label:<28} {us:>9.1} µs");
    last
}

#[test]
#[ignore = "a measure, not a test: run it on a release build"]
fn measure_phases() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/full.yaml");
    let n = 300;
    let services = time("spec load", n, || {
        let source = SpecSource::read(&path).unwrap();
        spec::load(source, &LoadOptions::default()).unwrap().0
    });
    let service = time("model", n, || {
        model::build(&services[0], &Overrides::default()).unwrap().0
    });
    let values = time("Values::from_service", n, || Values::from_service(&service));
    let values_json = time("values to JSON", n, || {
        serde_json::to_value(&values).unwrap()
    });
    let context = time("tera context", n, || {
        render::context(
            &values_json,
            [
                ("chart_name", service.name.as_str()),
                ("chart_version", "0.1.0"),
                ("app_version", "1.0"),
                ("description", "d"),
                ("spec_file", "full.yaml"),
                ("docs_url", "https://example.com"),
            ],
        )
        .unwrap()
    });
    time("tera engine parse", n / 10, || {
        (
            render::build_engine(0).unwrap(),
            render::build_engine(1).unwrap(),
        )
    });
    let text = time("render values.yaml", n, || {
        render::render("values.yaml", &context).unwrap()
    });
    time("render README.md", n, || {
        render::render("README.md", &context).unwrap()
    });
    assert!(time("proof (fast path)", n, || verify::matches_exactly(
        &text,
        &values_json
    )));
    let full: serde_json::Value = time("proof (full parse)", n, || {
        serde_saphyr::from_str(&text).unwrap()
    });
    assert_eq!(full, values_json);
}
