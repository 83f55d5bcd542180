//! One module per subcommand, and the few helpers they share.

pub mod admin_client;
pub mod check;
pub mod completions;
pub mod dump;
pub mod enrol;
pub mod explain;
pub mod health;
pub mod list;
pub mod man;
pub mod notify;
pub mod render;
pub mod status;

use std::io::Write;

use pjprov_core::{Diagnostic, Severity};

/// Prints diagnostics of at least `min` severity to stderr.
pub fn print_diagnostics(diagnostics: &[Diagnostic], min: Severity) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    for d in diagnostics.iter().filter(|d| d.severity() >= min) {
        writeln!(err, "{d}")?;
    }
    Ok(())
}
