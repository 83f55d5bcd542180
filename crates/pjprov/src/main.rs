//! The `pjprov` binary: glue between the command line and the library crates.

mod access;
mod cli;
mod commands;
mod inventory;
mod logging;
mod memory;
mod notify;
mod realtime;
mod serve;
mod site_key;
mod version;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    // Every command but a few reads a configuration, which can be a large one.
    memory::grow_heaps_in_large_steps();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::List(args) => commands::list::run(args),
        Command::Render(args) => commands::render::run(args),
        Command::Dump(args) => commands::dump::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Status(args) => commands::status::run(args),
        Command::Notify(args) => commands::notify::run(args),
        Command::Enrol(args) => commands::enrol::run(args),
        Command::Health(args) => commands::health::run(args),
        Command::Completions(args) => commands::completions::run(args),
        Command::Man(args) => commands::man::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            eprintln!("pjprov: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// `pjprov dump ... | head` closes the pipe early: that is not a failure.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
