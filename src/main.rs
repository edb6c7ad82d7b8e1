//! The `helm-k8s-service` program; everything it does lives in the library. Declare new modules
//! in `src/lib.rs`, not here.

use std::process::ExitCode;

use clap::Parser;
use helm_k8s_service::cli;

fn main() -> ExitCode {
    cli::warm_up(std::env::args_os());
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
            helm_k8s_service::say_raw!("{}", e.render());
            ExitCode::from(1)
        }
    }
}
