mod diag;
mod spec;
fn main() {}
