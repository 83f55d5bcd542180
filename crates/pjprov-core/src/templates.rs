//! Template files under `DATA_DIR/phoneprov/`: read and parsed once per snapshot.
//!
//! A name is always resolved inside the phoneprov directory: absolute names, `..` components and symlinks
//! that lead outside are refused, so neither a profile nor a template can make pjprov read another file.

use std::collections::hash_map::Entry;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustc_hash::FxHashMap;

use crate::asterisk::Template;
use crate::asterisk::render::TemplateSource;

/// Why a file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// Not on disk.
    Missing(String),
    /// On disk, but it (or a directory on the way) cannot be read: a permission or I/O problem.
    Unreadable(String),
    /// Outside the phoneprov directory.
    Outside,
}

impl FileProblem {
    /// What reading `path` failing with `error` means. "Permission denied" says who pjprov runs as and who
    /// owns the file, as for config files.
    fn from_io(error: &std::io::Error, path: &Path) -> FileProblem {
        match error.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => {
                FileProblem::Missing(error.to_string())
            }
            std::io::ErrorKind::PermissionDenied => {
                match asterisk_config::Error::read(path.to_owned(), error) {
                    asterisk_config::Error::Read { reason, .. } => FileProblem::Unreadable(reason),
                    other => FileProblem::Unreadable(other.to_string()),
                }
            }
            _ => FileProblem::Unreadable(error.to_string()),
        }
    }
}

/// Resolves `name` inside `dir`, refusing anything that leaves it.
pub fn resolve_inside(dir: &Path, name: &str) -> Result<PathBuf, FileProblem> {
    let relative = Path::new(name);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(FileProblem::Outside);
    }
    let path = dir.join(relative);
    let canonical = path
        .canonicalize()
        .map_err(|e| FileProblem::from_io(&e, &path))?;
    let root = dir
        .canonicalize()
        .map_err(|e| FileProblem::from_io(&e, dir))?;
    if canonical.starts_with(&root) {
        Ok(canonical)
    } else {
        Err(FileProblem::Outside)
    }
}

/// The parsed Asterisk templates of one snapshot, from the first of its roots that has the file.
///
/// The templates profiles name are read when the snapshot is built ([`TemplateStore::preload`]); others
/// (`PP_EACH_EXTENSION`'s) on first use. A template that is missing now but was used by the previous
/// snapshot keeps that parsed form (`fallback`): deleting and re-creating a file, or an editor's save in
/// two steps, never turns a phone's file into a 404.
#[derive(Debug)]
pub(crate) struct TemplateStore {
    roots: Vec<PathBuf>,
    parsed: RwLock<FxHashMap<String, Result<Arc<Template>, String>>>,
    fallback: FxHashMap<String, Arc<Template>>,
}

impl TemplateStore {
    pub fn new(roots: Vec<PathBuf>) -> Self {
        TemplateStore {
            roots,
            parsed: RwLock::new(FxHashMap::default()),
            fallback: FxHashMap::default(),
        }
    }

    /// A store for a new snapshot that falls back on what `previous` used (its last good forms).
    pub fn after(roots: Vec<PathBuf>, previous: Option<&TemplateStore>) -> Self {
        let mut store = TemplateStore::new(roots);
        if let Some(previous) = previous {
            let parsed = previous.parsed.read().unwrap_or_else(|e| e.into_inner());
            for (name, template) in parsed.iter() {
                match template {
                    Ok(template) => {
                        store.fallback.insert(name.clone(), template.clone());
                    }
                    Err(_) => {
                        if let Some(kept) = previous.fallback.get(name) {
                            store.fallback.insert(name.clone(), kept.clone());
                        }
                    }
                }
            }
        }
        store
    }

    /// Reads and parses `name` now. `Err` when it exists but cannot be read (the configuration must be
    /// rejected); `Ok(false)` when it is missing and no last good form exists (its routes answer 404);
    /// `Ok(true)` when it is usable (perhaps in its last good form, said by `kept`).
    pub fn preload(&self, name: &str, kept: &mut bool) -> Result<bool, String> {
        *kept = false;
        let loaded = match self.read(name) {
            Ok(bytes) => Ok(Arc::new(Template::parse(name, &bytes))),
            Err(FileProblem::Unreadable(reason)) => return Err(reason),
            Err(FileProblem::Missing(reason)) => match self.fallback.get(name) {
                Some(template) => {
                    *kept = true;
                    Ok(template.clone())
                }
                None => Err(reason),
            },
            Err(FileProblem::Outside) => Err("it is outside the phoneprov directory".to_owned()),
        };
        let usable = loaded.is_ok();
        self.parsed
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), loaded);
        Ok(usable)
    }

    /// The directories searched, in order.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    pub fn roots_text(&self) -> String {
        self.roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Where the template `name` is: the first root that has it. A name that leaves its root is refused
    /// (even if another root would accept it), and so is one a root has but cannot let pjprov read (a later
    /// root must not stand in for it).
    pub fn locate(&self, name: &str) -> Result<PathBuf, FileProblem> {
        let mut missing = FileProblem::Missing("no such template".into());
        for root in &self.roots {
            match resolve_inside(root, name) {
                Ok(path) => return Ok(path),
                Err(problem @ (FileProblem::Outside | FileProblem::Unreadable(_))) => {
                    return Err(problem);
                }
                Err(problem) => missing = problem,
            }
        }
        Err(missing)
    }

    /// Reads a template file's bytes.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, FileProblem> {
        let path = self.locate(name)?;
        std::fs::read(&path).map_err(|e| FileProblem::from_io(&e, &path))
    }

    /// Loads (once) and returns the parsed template `name`.
    pub fn get(&self, name: &str) -> Result<Arc<Template>, String> {
        if let Some(found) = self
            .parsed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return found.clone();
        }
        let loaded = match self.read(name) {
            Ok(bytes) => Ok(Arc::new(Template::parse(name, &bytes))),
            Err(FileProblem::Missing(reason) | FileProblem::Unreadable(reason)) => {
                match self.fallback.get(name) {
                    Some(template) => Ok(template.clone()),
                    None => Err(reason),
                }
            }
            Err(FileProblem::Outside) => Err("it is outside the phoneprov directory".to_owned()),
        };
        let mut parsed = self.parsed.write().unwrap_or_else(|e| e.into_inner());
        match parsed.entry(name.to_owned()) {
            Entry::Occupied(found) => found.get().clone(),
            Entry::Vacant(slot) => slot.insert(loaded).clone(),
        }
    }
}

/// Whether some expression of `source` (between `open` and `close`: `${`…`}`, `{{`…`}}`) has a word that
/// [`crate::is_secret_variable`] calls secret. What `check` uses to tell that a file shared by many phones
/// would carry one phone's secret.
pub(crate) fn expressions_mention_secret(source: &[u8], open: &[u8], close: &[u8]) -> bool {
    let mut rest = source;
    while let Some(start) = memchr::memmem::find(rest, open) {
        let inside = &rest[start + open.len()..];
        let end = memchr::memmem::find(inside, close).unwrap_or(inside.len());
        let expression = &inside[..end];
        let secret = expression
            .split(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .filter(|word| !word.is_empty())
            .any(|word| std::str::from_utf8(word).is_ok_and(crate::is_secret_variable));
        if secret {
            return true;
        }
        rest = &inside[end..];
    }
    false
}

impl TemplateSource for TemplateStore {
    fn asterisk_template(&self, name: &str) -> Result<Arc<Template>, String> {
        self.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("phoneprov");
        std::fs::create_dir_all(inner.join("sub")).unwrap();
        std::fs::write(inner.join("sub/a.cfg"), "a").unwrap();
        std::fs::write(dir.path().join("secret.conf"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.conf"), inner.join("link.cfg")).unwrap();
        assert!(resolve_inside(&inner, "sub/a.cfg").is_ok());
        assert!(resolve_inside(&inner, "./sub/a.cfg").is_ok());
        assert_eq!(
            resolve_inside(&inner, "../secret.conf"),
            Err(FileProblem::Outside)
        );
        assert_eq!(
            resolve_inside(&inner, "sub/../../secret.conf"),
            Err(FileProblem::Outside)
        );
        assert_eq!(
            resolve_inside(&inner, dir.path().join("secret.conf").to_str().unwrap()),
            Err(FileProblem::Outside)
        );
        assert_eq!(
            resolve_inside(&inner, "link.cfg"),
            Err(FileProblem::Outside)
        );
        assert!(matches!(
            resolve_inside(&inner, "nope.cfg"),
            Err(FileProblem::Missing(_))
        ));
    }

    #[test]
    fn templates_are_parsed_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.cfg"), "x=${X}").unwrap();
        let store = TemplateStore::new(vec![dir.path().to_owned()]);
        let a = store.get("t.cfg").unwrap();
        std::fs::write(dir.path().join("t.cfg"), "changed").unwrap();
        let b = store.get("t.cfg").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(store.get("missing.cfg").is_err());
    }
}
