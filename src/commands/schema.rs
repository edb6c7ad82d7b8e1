//! `helm k8s-service schema`: the JSON Schema of the spec language, for editors.

pub fn run() -> i32 {
    super::out(crate::spec::SPEC_SCHEMA);
    0
}
