//! `pjprov man`: the manual pages, generated from the command-line definitions so they never drift.
//!
//! Without `--dir`, pjprov(1) on standard output. With `--dir DIR`, pjprov.1 and one pjprov-COMMAND.1 per
//! command (what the Debian package installs), each with its own options.

use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};

pub fn run(args: &ManArgs) -> anyhow::Result<ExitCode> {
    let command = Cli::command();
    match &args.dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(command).render(&mut out)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the pages into {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
