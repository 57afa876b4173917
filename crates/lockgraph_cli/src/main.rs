//! The `lockgraph` binary: clap CLI, file discovery, the check pipeline, output and exit codes.
//!
//! `main` parses arguments and dispatches to one function per subcommand in [`commands`]; every
//! subcommand returns an [`ExitCode`]-like integer (0 clean, 1 findings at or above `--fail-on`,
//! 2 tool or input error). Errors are `anyhow` here only; library crates return typed errors.

mod args;
mod check;
mod commands;
mod completions;
mod live;
mod logs;
mod merge;
mod output;
mod report_cmd;
mod store;
mod trace;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if output::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("lockgraph: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
