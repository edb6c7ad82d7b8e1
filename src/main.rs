//! helm k8s-service: spec → validated model → chart values → chart files → archive.

mod archive;
mod chart;
mod cli;
mod complete;
mod deploy;
mod diag;
mod fsutil;
mod model;
mod repo;
mod sign;
mod spec;
mod values;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and --version succeed; any misuse is exit 1, as helm itself does.
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprint!("{}", e.render());
            ExitCode::from(1)
        }
    }
}
