//! Everything that can be wrong with a configuration file, as data.
//!
//! The parser never stops at the first problem: each one becomes a [`Diagnostic`] that names the file, the
//! line, how serious it is and what to fix. [`Error`] is the one error enum of this crate; its messages follow
//! the wording of Asterisk's own log lines where Asterisk has one, so an admin who knows those recognises them.

use std::fmt;
use std::path::PathBuf;

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Asterisk would log a warning and carry on; so do we.
    Warning,
    /// Asterisk would log an error: a line, a section or the whole file is lost.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem found while reading configuration files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file exists but could not be opened or read (pjprov differs: Asterisk takes it for absent).
    #[error("cannot read '{path}': {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        reason: String,
    },
    /// A file that must exist does not.
    #[error("'{path}' does not exist")]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// `[name` without the closing bracket.
    #[error("parse error: no closing ']' in the section header; the whole file is rejected")]
    NoClosingBracket,
    /// `[name](opts` without the closing parenthesis.
    #[error("parse error: no closing ')' after the section options; the whole file is rejected")]
    NoClosingParen,
    /// `[name](+)` but no earlier section of that name exists.
    #[error(
        "category addition requested, but category '{name}' does not exist{}; define [{name}] before appending to it (the whole file is rejected)",
        filter_note(filter)
    )]
    AppendTargetMissing {
        /// The section name.
        name: String,
        /// The `+key=value&...` filter, if any.
        filter: String,
    },
    /// `[name](base)` but no earlier section called `base` exists.
    #[error(
        "inheritance requested, but category '{base}' does not exist; define [{base}] (or [{base}](!)) above this line (the whole file is rejected)"
    )]
    UnknownBase {
        /// The missing base.
        base: String,
    },
    /// A `key = value` line before any section header.
    #[error(
        "parse error: no category context for this line; add a [section] header above it (the whole file is rejected)"
    )]
    NoCategory,
    /// [`crate::Loader::reread`] met a line that needs the rest of its file to be understood.
    #[error("not one plain section: this part of the file cannot be read on its own")]
    NotPlainSection,
    /// A line starting with `\` followed by a blank.
    #[error(
        "invalid escape: '\\' at the start of a line must be followed by a visible character (the whole file is rejected)"
    )]
    InvalidEscape,
    /// `#include` of a file that does not exist (or a pattern that matches nothing).
    #[error(
        "the file '{path}' was listed as a #include but it does not exist; create it or use #tryinclude (the whole file is rejected)"
    )]
    IncludeNotFound {
        /// The include argument as written.
        path: String,
    },
    /// `#include` or `#tryinclude` of a file that exists but cannot be read (pjprov differs: Asterisk skips
    /// it). Whatever it holds (phones, access rules) would silently vanish, so the whole file is refused.
    #[error(
        "'{path}' is included but cannot be read (see the error above); the whole file is rejected until it can be"
    )]
    IncludeUnreadable {
        /// The include argument as written.
        path: String,
    },
    /// A file includes itself, directly or through others.
    #[error("#include cycle: '{path}' is already being read ({chain}); the #include is skipped")]
    IncludeCycle {
        /// The include argument as written.
        path: String,
        /// The files on the include stack.
        chain: String,
    },
    /// Includes nested deeper than Asterisk allows.
    #[error("maximum include level ({max}) exceeded at '{path}'; the #include is skipped")]
    IncludeTooDeep {
        /// The include argument as written.
        path: String,
        /// The limit.
        max: usize,
    },
    /// An included file had a fatal error; like Asterisk, its remaining lines are ignored.
    #[error(
        "'{path}' has an error that stops Asterisk reading it; the rest of that file is ignored"
    )]
    IncludedFileInvalid {
        /// The included file.
        path: PathBuf,
    },
    /// `#exec` while program execution is not enabled.
    #[error("cannot perform #exec '{command}' unless execincludes is enabled; the line is ignored")]
    ExecDisabled {
        /// The command as written.
        command: String,
    },
    /// `#exec` of a program that failed.
    #[error("#exec '{command}' failed: {reason} (the whole file is rejected)")]
    ExecFailed {
        /// The command as written.
        command: String,
        /// Why.
        reason: String,
    },
    /// `#something` that is not a known directive.
    #[error(
        "unknown directive '#{name}'; the line is ignored (known: #include, #tryinclude, #exec)"
    )]
    UnknownDirective {
        /// The directive name.
        name: String,
    },
    /// `#include` with nothing after it.
    #[error("directive '#{directive}' needs an argument; the line is ignored")]
    MissingDirectiveArgument {
        /// The directive name.
        directive: String,
    },
    /// A glob match that is a directory or a device.
    #[error("'{path}' is not a regular file, ignoring")]
    NotRegularFile {
        /// The path.
        path: PathBuf,
    },
    /// A malformed glob pattern.
    #[error("bad #include pattern '{pattern}': {reason}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
    /// A line without `=`.
    #[error("no '=' (equal sign) in this line; it is ignored")]
    NoEquals,
    /// A line `= value`.
    #[error("no variable name before '='; the line is ignored")]
    NoVariableName,
    /// A line longer than Asterisk's 8 KiB line buffer. Its text is never shown: it may be a password.
    #[error("line too long ({len} bytes, Asterisk reads at most 8190), skipping it")]
    LineTooLong {
        /// The line's length in bytes.
        len: usize,
    },
    /// `;--` never closed.
    #[error("unterminated block comment starting on line {start_line}")]
    UnterminatedComment {
        /// Where the comment opened.
        start_line: u32,
    },
    /// `--;` outside a block comment.
    #[error(
        "'--;' ends a block comment that was never opened: Asterisk then treats every following line as a comment until a ';--'; use ';' for a line comment"
    )]
    StrayCommentEnd,
    /// Block comments nested too deep.
    #[error("maximum block comment nesting of {max} reached")]
    CommentNestTooDeep {
        /// The limit.
        max: usize,
    },
    /// Text after `]` that is not an option list. The text is not shown: it may be a `password = ...` that
    /// belonged on the next line.
    #[error(
        "{len} bytes of text after ']' are ignored; options must follow ']' directly, as in [name](!), and an entry needs a line of its own"
    )]
    IgnoredAfterHeader {
        /// How much was ignored.
        len: usize,
    },
    /// A section name longer than Asterisk keeps.
    #[error("section name longer than {max} bytes is truncated to '{truncated}'")]
    NameTruncated {
        /// The limit.
        max: usize,
        /// The name Asterisk keeps.
        truncated: String,
    },
    /// Bytes that are not UTF-8.
    #[error(
        "invalid UTF-8: each bad byte is read as U+FFFD (Asterisk would pass the raw bytes through); save the file as UTF-8"
    )]
    InvalidUtf8,
    /// A NUL byte inside a line.
    #[error("NUL byte in line: Asterisk reads nothing after it on this line")]
    NulByte,
}

fn filter_note(filter: &str) -> String {
    if filter.is_empty() {
        String::new()
    } else {
        format!(" with '{filter}'")
    }
}

/// What a [`Diagnostic`]'s error must tell: how serious it is.
pub trait HasSeverity {
    /// How serious this problem is.
    fn severity(&self) -> Severity;
}

impl HasSeverity for Error {
    fn severity(&self) -> Severity {
        match self {
            Error::Read { .. }
            | Error::NotFound { .. }
            | Error::NoClosingBracket
            | Error::NoClosingParen
            | Error::AppendTargetMissing { .. }
            | Error::UnknownBase { .. }
            | Error::NoCategory
            | Error::InvalidEscape
            | Error::IncludeNotFound { .. }
            | Error::IncludeUnreadable { .. }
            | Error::BadPattern { .. }
            | Error::IncludeCycle { .. }
            | Error::IncludeTooDeep { .. }
            | Error::ExecFailed { .. }
            | Error::CommentNestTooDeep { .. } => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

impl Error {
    /// A file that exists but cannot be read. Permission problems say who pjprov runs as and who owns the
    /// file, since that is what an admin has to change.
    pub fn read(path: PathBuf, error: &std::io::Error) -> Error {
        let reason = if error.kind() == std::io::ErrorKind::PermissionDenied {
            crate::identity::permission_denied(&path)
        } else {
            error.to_string()
        };
        Error::Read { path, reason }
    }

    /// True when Asterisk rejects the whole file that contains this line.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::NoClosingBracket
                | Error::NoClosingParen
                | Error::AppendTargetMissing { .. }
                | Error::UnknownBase { .. }
                | Error::NoCategory
                | Error::InvalidEscape
                | Error::IncludeNotFound { .. }
                | Error::IncludeUnreadable { .. }
                | Error::ExecFailed { .. }
        )
    }
}

/// A problem with its place: `FILE:LINE: severity: message`.
///
/// Generic over the error, so that a crate built on this one keeps its own error enum (with this crate's
/// errors as one of its variants, see [`Diagnostic::map`]) and the same diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic<E = Error> {
    /// The file, as the loader resolved it.
    pub file: PathBuf,
    /// 1-based line number; 0 when the problem concerns the whole file.
    pub line: u32,
    /// The problem.
    pub error: E,
}

impl<E> Diagnostic<E> {
    /// Creates a diagnostic.
    pub fn new(file: impl Into<PathBuf>, line: u32, error: E) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            error,
        }
    }

    /// The same diagnostic with its error converted (into a wider error enum, say).
    pub fn map<F>(self, convert: impl FnOnce(E) -> F) -> Diagnostic<F> {
        Diagnostic {
            file: self.file,
            line: self.line,
            error: convert(self.error),
        }
    }
}

impl<E: HasSeverity> Diagnostic<E> {
    /// How serious it is.
    pub fn severity(&self) -> Severity {
        self.error.severity()
    }
}

/// `FILE:LINE: severity: message`, or `FILE: severity: message` for a problem of the whole file (line 0
/// is no line: it is never shown).
impl<E: HasSeverity + fmt::Display> fmt::Display for Diagnostic<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": {}: {}", self.severity(), self.error)
    }
}

impl<E: HasSeverity + std::error::Error + 'static> std::error::Error for Diagnostic<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_file_problem_shows_no_line() {
        let whole = Diagnostic::new("pjsip.conf", 0, Error::NoCategory);
        assert!(
            whole.to_string().starts_with("pjsip.conf: error: "),
            "{whole}"
        );
        let line = Diagnostic::new("pjsip.conf", 7, Error::NoCategory);
        assert!(
            line.to_string().starts_with("pjsip.conf:7: error: "),
            "{line}"
        );
    }
}
