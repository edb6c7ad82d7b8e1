//! helm k8s-service: spec → validated model → chart values → chart files → archive.
//!
//! The command-line program (`src/main.rs`) is a thin wrapper around [`cli`]. The modules are a
//! library so that the fuzz targets in `fuzz/` can drive the same code paths as the program; they
//! are not a stable API.
//!
//! The layout, in the order a command flows through it (each layer imports only later ones):
//! - [`cli`]: the clap root and the dispatch; [`commands`]: one module per subcommand, its
//!   arguments and a short `run`.
//! - [`pipeline`]: spec files → built charts, for every command that makes one.
//! - [`spec`] (read and interpolate) → [`model`] (validate) → [`values`] (values.yaml) →
//!   [`chart`] (chart files) → [`archive`] (the .tgz).
//! - Beside the flow: [`helm`] (running helm for install, upgrade, template and push), [`repo`]
//!   (index.yaml), [`sign`] (provenance files), [`fsutil`] (atomic writes), [`diag`] (errors
//!   and their rendering), [`parallel`].

pub mod archive;
pub mod argocd;
pub mod chart;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod fsutil;
pub mod helm;
pub mod model;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod repo;
pub mod sign;
pub mod spec;
pub mod staging;
pub mod values;
