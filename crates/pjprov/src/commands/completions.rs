//! `pjprov completions SHELL`: the shell's completion script, generated from the command-line definitions.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    clap_complete::generate(
        args.shell,
        &mut command,
        name,
        &mut std::io::stdout().lock(),
    );
    Ok(ExitCode::SUCCESS)
}
