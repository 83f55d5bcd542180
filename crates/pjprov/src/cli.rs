//! The command line (DESIGN.md §2 is the contract: commands, options and exit codes only ever grow).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Phone provisioning for Asterisk: serves each phone its config file, built from pjsip.conf and
/// phoneprov.conf exactly as res_phoneprov would.
#[derive(Debug, Parser)]
#[command(name = "pjprov", version, about, max_term_width = 110)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a config file as Asterisk reads it (after includes, templates and appends), as JSON.
    Dump(DumpArgs),
}

/// Where Asterisk's configuration lives.
#[derive(Debug, Clone, Args)]
pub struct ConfigDir {
    /// The Asterisk config directory (pjsip.conf, phoneprov.conf, pjprov.conf).
    #[arg(long, value_name = "DIR", default_value = "/etc/asterisk")]
    pub config_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub config: ConfigDir,
    /// The file: a name relative to the config directory, or an absolute path.
    #[arg(value_name = "FILE")]
    pub file: String,
}
