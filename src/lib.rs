//! helm k8s-service: spec → validated model → chart values → chart files → archive.
//!
//! The command-line program (`src/main.rs`) is a thin wrapper around [`cli`]. The modules are a
//! library so that the fuzz targets in `fuzz/` can drive the same code paths as the program; they
//! are not a stable API.

pub mod archive;
pub mod chart;
pub mod cli;
pub mod complete;
pub mod deploy;
pub mod diag;
pub mod fsutil;
pub mod helm;
pub mod init;
pub mod model;
pub mod parallel;
pub mod pipeline;
pub mod repo;
pub mod sign;
pub mod spec;
pub mod validate;
pub mod values;
