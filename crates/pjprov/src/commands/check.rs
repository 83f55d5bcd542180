//! `pjprov check`: every problem Asterisk would log about the configuration, and pjprov's own findings,
//! one `FILE:LINE: error|warning: MESSAGE` a line, then a summary (DESIGN.md §2).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

use pjprov_core::{Diagnostic, Error, RenderFailure, Severity, Snapshot, Target};

use crate::cli::CheckArgs;

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let paths = args.dirs.paths();
    // Objects sorcery.conf maps to PostgreSQL are read too; a database that cannot be read is an error
    // (and the build then refuses the objects it would have given).
    let (options, unreadable) = match crate::realtime::build_options(&args.dirs) {
        Ok(options) => (options, None),
        Err(why) => (args.dirs.build_options(), Some(why)),
    };
    let (mut diagnostics, summary) = match Snapshot::build(&paths, &options) {
        Ok(snapshot) => {
            let mut diagnostics = snapshot.diagnostics().to_vec();
            diagnostics.extend(render_everything(&snapshot));
            let summary = format!(
                "{} phones, {} routes",
                snapshot.phones().len(),
                snapshot.routes().len()
            );
            (diagnostics, summary)
        }
        Err(rejected) => (
            rejected.diagnostics,
            "the configuration cannot be used".to_owned(),
        ),
    };
    if let Some(message) = unreadable {
        diagnostics.push(Diagnostic::new(
            paths.config_dir.join(pjprov_core::realtime::PGSQL_FILE),
            0,
            Error::RealtimeProblem { message },
        ));
    }
    diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    super::print_diagnostics_to_stdout(&diagnostics)?;
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    println!(
        "{errors} error{}, {warnings} warning{}; {summary}",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" }
    );
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Renders every dynamic route once and reports what the templates did wrong (once per template line).
fn render_everything(snapshot: &Snapshot) -> Vec<Diagnostic> {
    let dir = snapshot.paths().phoneprov_dir();
    let server = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for route in snapshot.routes() {
        if !matches!(route.target, Target::Dynamic { .. }) {
            continue;
        }
        let (body, issues) = snapshot.render_fresh(route, server);
        for issue in issues {
            if seen.insert((issue.template.clone(), issue.line, issue.message.clone())) {
                found.push(Diagnostic::new(
                    dir.join(&issue.template),
                    issue.line,
                    Error::Template {
                        template: issue.template,
                        line: issue.line,
                        uri: route.uri.clone(),
                        message: issue.message,
                    },
                ));
            }
        }
        // Missing files are reported where the profile names them.
        if let Err(failure @ RenderFailure::Template(_)) = body {
            let template = snapshot.template_name(route).unwrap_or_default();
            if seen.insert((template.to_owned(), 0, failure.to_string())) {
                found.push(Diagnostic::new(
                    dir.join(template),
                    0,
                    Error::RenderFailed {
                        uri: route.uri.clone(),
                        message: failure.to_string(),
                    },
                ));
            }
        }
    }
    found
}
