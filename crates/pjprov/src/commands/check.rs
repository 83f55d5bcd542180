//! `pjprov check`: every problem Asterisk would log about the configuration, and pjprov's own findings,
//! one `FILE:LINE: error|warning: MESSAGE` a line (`FILE: ...` for a problem of a whole file), then a
//! summary (DESIGN.md §2); or all of it as one JSON document (`--format json`).
//!
//! One message per problem: what follows from another problem (a file rejected because of the errors in
//! it, every file of a directory pjprov cannot read) is said once, in the summary or for the directory.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pjprov_core::{Diagnostic, Error, RenderFailure, Severity, Snapshot, Target};
use serde::Serialize;

use crate::cli::{CheckArgs, CheckFormat};

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let report = gather(args);
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let summary = report.summary(errors, warnings);
    match args.format {
        CheckFormat::Text => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for problem in &report.problems {
                writeln!(out, "{problem}")?;
            }
            writeln!(out, "{summary}")?;
        }
        CheckFormat::Json => {
            let json = Json {
                usable: report.built.is_some(),
                errors,
                warnings,
                phones: report.built.map(|b| b.phones),
                routes: report.built.map(|b| b.routes),
                rejected: &report.rejected,
                problems: &report.problems,
                summary: &summary,
            };
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &json)?;
            use std::io::Write;
            writeln!(out)?;
        }
    }
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One problem, as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: PathBuf,
    /// `None` when the problem concerns the whole file (or directory).
    pub line: Option<u32>,
    #[serde(serialize_with = "severity_name")]
    pub severity: Severity,
    pub message: String,
}

fn severity_name<S: serde::Serializer>(severity: &Severity, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&severity.to_string())
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}: {}", self.severity, self.message)
    }
}

impl From<&Diagnostic> for Problem {
    fn from(d: &Diagnostic) -> Problem {
        Problem {
            file: d.file.clone(),
            line: (d.line > 0).then_some(d.line),
            severity: d.severity(),
            message: d.error.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Built {
    phones: usize,
    routes: usize,
}

/// What `check` found.
#[derive(Debug)]
struct Report {
    problems: Vec<Problem>,
    /// The files rejected as a whole because of the problems in them (said in the summary).
    rejected: Vec<String>,
    /// The snapshot's size, when the configuration can be used.
    built: Option<Built>,
}

#[derive(Serialize)]
struct Json<'a> {
    usable: bool,
    errors: usize,
    warnings: usize,
    phones: Option<usize>,
    routes: Option<usize>,
    rejected: &'a [String],
    problems: &'a [Problem],
    summary: &'a str,
}

impl Report {
    fn count(&self, severity: Severity) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == severity)
            .count()
    }

    fn summary(&self, errors: usize, warnings: usize) -> String {
        let counts = format!(
            "{errors} error{}, {warnings} warning{}",
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        );
        match self.built {
            Some(built) => format!("{counts}; {} phones, {} routes", built.phones, built.routes),
            None if self.rejected.is_empty() => {
                format!(
                    "{counts}; the configuration cannot be used: phones would get nothing (503)"
                )
            }
            None => format!(
                "{counts}; the configuration cannot be used ({} rejected as a whole): phones would get \
                 nothing (503)",
                self.rejected.join(", ")
            ),
        }
    }
}

fn gather(args: &CheckArgs) -> Report {
    let paths = args.dirs.paths();
    // Objects sorcery.conf maps to PostgreSQL are read too; a database that cannot be read is an error
    // (and the build then refuses the objects it would have given).
    let (options, unreadable) = match crate::realtime::build_options(&args.dirs) {
        Ok(options) => (options, None),
        Err(why) => (args.dirs.build_options(), Some(why)),
    };
    let (mut diagnostics, built) = match Snapshot::build(&paths, &options) {
        Ok(snapshot) => {
            let mut diagnostics = snapshot.diagnostics().to_vec();
            diagnostics.extend(render_everything(&snapshot));
            let built = Built {
                phones: snapshot.phones().len(),
                routes: snapshot.routes().len(),
            };
            (diagnostics, Some(built))
        }
        Err(rejected) => (rejected.diagnostics, None),
    };
    if let Some(message) = unreadable {
        diagnostics.push(Diagnostic::new(
            paths.config_dir.join(pjprov_core::realtime::PGSQL_FILE),
            0,
            Error::RealtimeProblem { message },
        ));
    }
    let (problems, rejected) = fold(&paths.config_dir, &diagnostics);
    Report {
        problems,
        rejected,
        built,
    }
}

/// One message per problem, sorted by file and line: a config directory that is missing or cannot be
/// read is one problem (not one per file in it), and a file rejected because of errors reported in it is
/// named in the summary rather than reported again.
fn fold(config_dir: &Path, diagnostics: &[Diagnostic]) -> (Vec<Problem>, Vec<String>) {
    let directory = directory_problem(config_dir);
    let in_config_dir = |file: &Path| file.parent() == Some(config_dir);
    let mut problems: Vec<Problem> = Vec::new();
    let mut rejected = Vec::new();
    if let Some(problem) = &directory {
        problems.push(problem.clone());
    }
    for d in diagnostics {
        let whole_file = matches!(
            &d.error,
            Error::Config(
                asterisk_config::Error::Read { .. } | asterisk_config::Error::NotFound { .. }
            ) | Error::FileRejected { .. }
        );
        if directory.is_some() && whole_file && in_config_dir(&d.file) {
            continue;
        }
        if let Error::FileRejected { file, .. } = &d.error {
            let explained = diagnostics.iter().any(|other| {
                other.file == d.file
                    && other.severity() == Severity::Error
                    && !matches!(other.error, Error::FileRejected { .. })
            });
            if explained || directory.is_some() {
                if !rejected.contains(file) {
                    rejected.push(file.clone());
                }
                continue;
            }
        }
        let problem = Problem::from(d);
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    rejected.sort();
    (problems, rejected)
}

/// The config directory itself, when it is missing or pjprov cannot list it.
fn directory_problem(dir: &Path) -> Option<Problem> {
    let message = match std::fs::read_dir(dir) {
        Ok(_) => return None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => format!(
            "the config directory does not exist: give the directory of pjsip.conf and phoneprov.conf \
             with --config-dir (Asterisk's is {})",
            crate::cli::DEFAULT_CONFIG_DIR
        ),
        Err(e) => {
            let reason = match asterisk_config::Error::read(dir.to_owned(), &e) {
                asterisk_config::Error::Read { reason, .. } => reason,
                other => other.to_string(),
            };
            format!("cannot read the config directory: {reason}")
        }
    };
    Some(Problem {
        file: dir.to_owned(),
        line: None,
        severity: Severity::Error,
        message,
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
