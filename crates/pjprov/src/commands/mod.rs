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

use pjprov_core::{Diagnostic, Severity, Snapshot};

use crate::cli::Dirs;

/// The snapshot `list`, `render` and `explain` work on, built as `serve` builds it (objects sorcery.conf
/// maps to PostgreSQL read first: never the files alone). `None` once the reason is on stderr, ending
/// with `unusable` when the configuration is rejected.
pub fn build_snapshot(dirs: &Dirs, unusable: &str) -> std::io::Result<Option<Snapshot>> {
    let options = match crate::realtime::build_options(dirs) {
        Ok(options) => options,
        Err(why) => {
            eprintln!("pjprov: {why}");
            return Ok(None);
        }
    };
    match Snapshot::build(&dirs.paths(), &options) {
        Ok(snapshot) => Ok(Some(snapshot)),
        Err(rejected) => {
            print_diagnostics(&rejected.diagnostics, Severity::Error)?;
            eprintln!("pjprov: the configuration cannot be used{unusable}");
            Ok(None)
        }
    }
}

/// Prints diagnostics of at least `min` severity to stderr.
pub fn print_diagnostics(diagnostics: &[Diagnostic], min: Severity) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    for d in diagnostics.iter().filter(|d| d.severity() >= min) {
        writeln!(err, "{d}")?;
    }
    Ok(())
}

/// Writes `rows` (the first is the header) as columns two spaces apart, without trailing blanks.
pub fn write_table<R: AsRef<[String]>>(out: &mut impl Write, rows: &[R]) -> std::io::Result<()> {
    let columns = rows.first().map_or(0, |r| r.as_ref().len());
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .map(|r| r.as_ref().get(c).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (cell, width) in row.as_ref().iter().zip(&widths) {
            line.push_str(&format!("{cell:<width$}  "));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A JSON value from the admin API as a table cell: `-` for null, strings without quotes.
pub fn text_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
