//! Where configuration bytes come from.
//!
//! The loader reads files only through [`Source`], so tests and the fuzzer feed strings ([`MemorySource`]) and
//! the server reads the disk ([`FsSource`]). Pattern expansion follows glibc's `glob(3)` with `GLOB_NOMAGIC |
//! GLOB_BRACE`, as Asterisk calls it: `{a,b}` alternatives expand in order, each alternative's matches are
//! sorted, and a pattern without `*?[` stands for itself whether or not it exists.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file (after following symlinks).
    Regular,
    /// A directory, device, socket...
    Other,
    /// Nothing: the path does not exist (or a component of it is not a directory).
    Missing,
}

/// A provider of configuration files.
pub trait Source {
    /// Reads a whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// What `path` is. An error means the source cannot tell (a directory on the way that cannot be
    /// searched, an I/O error): the loader then fails closed rather than take the file for absent.
    fn kind(&self, path: &Path) -> io::Result<FileKind>;

    /// Every existing path matching `pattern` (a glob without braces), sorted. Only called for patterns that
    /// contain `*`, `?` or `[`.
    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String>;

    /// Runs `command` through the shell and returns what it printed (`#exec`).
    fn exec(&self, command: &str) -> io::Result<Vec<u8>>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsSource;

impl Source for FsSource {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn kind(&self, path: &Path) -> io::Result<FileKind> {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => Ok(FileKind::Regular),
            Ok(_) => Ok(FileKind::Other),
            Err(e) if is_absent(&e) => Ok(FileKind::Missing),
            Err(e) => Err(e),
        }
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let paths = glob::glob_with(pattern, options).map_err(|e| e.to_string())?;
        // glibc skips directories it cannot read (Asterisk calls glob(3) without GLOB_ERR), which would make
        // the files in them silently vanish: pjprov refuses the pattern instead.
        let mut found = Vec::new();
        for path in paths {
            match path {
                Ok(path) => found.push(path),
                Err(e) if is_absent(e.error()) => {}
                Err(e) => return Err(format!("cannot read {}: {}", e.path().display(), e.error())),
            }
        }
        found.sort();
        Ok(found)
    }

    fn exec(&self, command: &str) -> io::Result<Vec<u8>> {
        let output = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::null())
            .output()?;
        if !output.status.success() {
            return Err(io::Error::other(format!("exited with {}", output.status)));
        }
        Ok(output.stdout)
    }
}

/// Whether an I/O error means "there is nothing at that path".
pub(crate) fn is_absent(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Files held in memory, for tests and fuzzing. Directories exist implicitly.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    files: BTreeMap<PathBuf, Vec<u8>>,
    unreadable: Vec<PathBuf>,
}

impl MemorySource {
    /// An empty file set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        self.insert(path, contents);
        self
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), contents.into());
    }

    /// Adds a file that exists but cannot be read (permission denied), as a file mode 600 of another user.
    pub fn with_unreadable(mut self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.files.insert(path.clone(), Vec::new());
        self.unreadable.push(path);
        self
    }
}

impl Source for MemorySource {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        if self.unreadable.iter().any(|p| p == path) {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn kind(&self, path: &Path) -> io::Result<FileKind> {
        Ok(if self.files.contains_key(path) {
            FileKind::Regular
        } else if self.files.keys().any(|f| f.starts_with(path)) {
            FileKind::Other
        } else {
            FileKind::Missing
        })
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let pattern = glob::Pattern::new(pattern).map_err(|e| e.to_string())?;
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        Ok(self
            .files
            .keys()
            .filter(|p| pattern.matches_path_with(p, options))
            .cloned()
            .collect())
    }

    fn exec(&self, _command: &str) -> io::Result<Vec<u8>> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no programs run in memory",
        ))
    }
}

/// True when `pattern` contains an unescaped glob metacharacter (`*`, `?`, `[`).
pub(crate) fn has_magic(pattern: &str) -> bool {
    let mut escaped = false;
    for c in pattern.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

/// Expands `{a,b}` alternatives the way `GLOB_BRACE` does: left to right, nested braces allowed, a brace
/// group without a comma or without its closing brace is kept literally.
pub(crate) fn expand_braces(pattern: &str) -> Vec<String> {
    const MAX_EXPANSIONS: usize = 4096;
    let mut out = Vec::new();
    expand_into(pattern, &mut out, MAX_EXPANSIONS);
    out
}

fn expand_into(pattern: &str, out: &mut Vec<String>, budget: usize) {
    if out.len() >= budget {
        return;
    }
    let bytes = pattern.as_bytes();
    let Some(open) = find_unescaped(bytes, 0, b'{') else {
        out.push(pattern.to_owned());
        return;
    };
    // Find the matching close brace and the top-level commas inside.
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut close = None;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    let Some(close) = close else {
        out.push(pattern.to_owned());
        return;
    };
    if commas.is_empty() {
        // "{x}" has no alternatives: keep the braces and expand what follows.
        let head = &pattern[..=close];
        let mut rest = Vec::new();
        expand_into(&pattern[close + 1..], &mut rest, budget);
        out.extend(rest.into_iter().map(|r| format!("{head}{r}")));
        return;
    }
    let prefix = &pattern[..open];
    let suffix = &pattern[close + 1..];
    let mut start = open + 1;
    for end in commas.into_iter().chain(std::iter::once(close)) {
        let alternative = format!("{prefix}{}{suffix}", &pattern[start..end]);
        expand_into(&alternative, out, budget);
        start = end + 1;
    }
}

fn find_unescaped(bytes: &[u8], mut from: usize, wanted: u8) -> Option<usize> {
    while from < bytes.len() {
        match bytes[from] {
            b'\\' => from += 2,
            b if b == wanted => return Some(from),
            _ => from += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_in_order() {
        assert_eq!(expand_braces("a{b,c}d"), ["abd", "acd"]);
        assert_eq!(expand_braces("{x,y}/{1,2}"), ["x/1", "x/2", "y/1", "y/2"]);
        assert_eq!(expand_braces("p{a,{b,c}}"), ["pa", "pb", "pc"]);
        assert_eq!(expand_braces("plain.conf"), ["plain.conf"]);
        assert_eq!(expand_braces("{single}.conf"), ["{single}.conf"]);
        assert_eq!(expand_braces("open{a,b"), ["open{a,b"]);
    }

    #[test]
    fn magic_is_detected() {
        assert!(has_magic("pjsip.d/*.conf"));
        assert!(has_magic("a?.conf"));
        assert!(has_magic("[ab].conf"));
        assert!(!has_magic("pjsip.conf"));
        assert!(!has_magic("a\\*.conf"));
    }

    #[test]
    fn memory_glob_matches_sorted() {
        let src = MemorySource::new()
            .with_file("/etc/asterisk/pjsip.d/b.conf", "")
            .with_file("/etc/asterisk/pjsip.d/a.conf", "")
            .with_file("/etc/asterisk/pjsip.d/c.txt", "");
        let found = src.glob("/etc/asterisk/pjsip.d/*.conf").unwrap();
        assert_eq!(
            found,
            [
                PathBuf::from("/etc/asterisk/pjsip.d/a.conf"),
                PathBuf::from("/etc/asterisk/pjsip.d/b.conf")
            ]
        );
        assert_eq!(
            src.kind(Path::new("/etc/asterisk/pjsip.d")).ok(),
            Some(FileKind::Other)
        );
    }
}
