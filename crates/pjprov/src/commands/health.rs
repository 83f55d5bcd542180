//! `pjprov health`: what the running server's `/healthz` says, as an exit code (for a container's health
//! check, or a script): 0 when it serves a usable configuration, 1 when it does not or cannot be reached.

use std::process::ExitCode;

use crate::cli::HealthArgs;

pub fn run(args: &HealthArgs) -> anyhow::Result<ExitCode> {
    let (status, body) = super::admin_client::call(&args.admin, "GET", "/healthz", None)?;
    let text = body.trim_end();
    if status == 200 {
        println!("{text}");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("pjprov: {text}");
        Ok(ExitCode::from(1))
    }
}
