//! `pjprov man`: the manual page, generated from the command-line definitions so it never drifts.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;

pub fn run() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(ExitCode::SUCCESS)
}
