//! Reads Asterisk's configuration dialect exactly as Asterisk 22 does.
//!
//! Asterisk's `.conf` files look like INI but are not: a section name may appear many times (one `[1000]` is
//! the endpoint, another the auth), keys repeat, `[name](!)` declares a template, `[name](base)` copies a
//! base's entries, `[name](+)` appends to an earlier section, `;--` block comments nest, and `#include` /
//! `#tryinclude` pull in other files and glob patterns. This crate reproduces `main/config.c` line by line,
//! quirks included, and keeps the file and line of every section and entry.
//!
//! # Principal types
//!
//! * [`Loader`] reads a file and everything it includes, relative to a config directory, through a
//!   [`Source`] ([`FsSource`] for the disk, [`MemorySource`] for tests).
//! * [`Loaded`] is what comes back: the [`Config`], the [`Diagnostic`]s, the files read and the paths a
//!   reload watcher must watch. Loading never fails; [`Loaded::valid`] says whether Asterisk would accept
//!   the file at all.
//! * [`Config`] holds [`Section`]s in file order; each holds [`Entry`]s (inherited first) and points to its
//!   file with a [`FileId`].
//! * [`Diagnostic`] is `FILE:LINE: severity: message`; its [`Error`] is the one error enum of the crate.
//!
//! # Bytes and text
//!
//! Asterisk works on bytes. This crate splits lines at `\n`, strips a UTF-8 byte order mark on the first
//! line, treats every byte below `!` as blank when trimming (as `ast_strip` does), reads nothing after a NUL
//! on a line (as C strings do), skips lines of 8191 bytes or more (Asterisk's line buffer), and decodes the
//! remaining bytes as UTF-8; bytes that are not UTF-8 become U+FFFD with a warning naming the line.
//!
//! # Example
//!
//! ```
//! use asterisk_config::{Loader, MemorySource};
//!
//! let source = MemorySource::new().with_file(
//!     "/etc/asterisk/pjsip.conf",
//!     "[ep](!)\ntype = endpoint\ncontext = phones\n\n[1000](ep)\nauth = 1000\n\n[1000]\ntype = auth\nusername = alice\n",
//! );
//! let loaded = Loader::with_source("/etc/asterisk", source).load("pjsip.conf");
//! assert!(loaded.valid && loaded.diagnostics.is_empty());
//!
//! let sections: Vec<_> = loaded.config.sections_named("1000").collect();
//! assert_eq!(sections.len(), 2);
//! assert_eq!(sections[0].get("type"), Some("endpoint")); // inherited from the template
//! assert_eq!(sections[0].get("auth"), Some("1000"));
//! assert_eq!(sections[1].get("username"), Some("alice"));
//! assert_eq!(sections[1].line, 8);
//! ```

mod comments;
mod config;
mod error;
mod identity;
pub mod layout;
mod line;
mod loader;
mod source;

#[cfg(test)]
mod reread_tests;
#[cfg(test)]
mod tests;

pub use config::{Config, Entry, FileId, Section, Text};
pub use error::{Diagnostic, Error, HasSeverity, Severity};
pub use layout::Layout;
pub use line::strip as ast_strip;
pub use loader::{
    FilePrint, LoadOptions, Loaded, Loader, MAX_INCLUDE_LEVEL, MAX_LINE_LEN, MAX_SECTION_NAME,
    Reread,
};
pub use source::{FileKind, FsSource, MemorySource, Source};
