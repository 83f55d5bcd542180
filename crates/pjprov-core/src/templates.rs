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
    /// Not on disk (or not readable).
    Missing(String),
    /// Outside the phoneprov directory.
    Outside,
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
        .map_err(|e| FileProblem::Missing(e.to_string()))?;
    let root = dir
        .canonicalize()
        .map_err(|e| FileProblem::Missing(e.to_string()))?;
    if canonical.starts_with(&root) {
        Ok(canonical)
    } else {
        Err(FileProblem::Outside)
    }
}

/// The parsed Asterisk templates of one snapshot, loaded on first use, from the first of its roots that has
/// the file.
#[derive(Debug)]
pub(crate) struct TemplateStore {
    roots: Vec<PathBuf>,
    parsed: RwLock<FxHashMap<String, Result<Arc<Template>, String>>>,
}

impl TemplateStore {
    pub fn new(roots: Vec<PathBuf>) -> Self {
        TemplateStore {
            roots,
            parsed: RwLock::new(FxHashMap::default()),
        }
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
    /// (even if another root would accept it).
    pub fn locate(&self, name: &str) -> Result<PathBuf, FileProblem> {
        let mut missing = FileProblem::Missing("no such template".into());
        for root in &self.roots {
            match resolve_inside(root, name) {
                Ok(path) => return Ok(path),
                Err(FileProblem::Outside) => return Err(FileProblem::Outside),
                Err(problem) => missing = problem,
            }
        }
        Err(missing)
    }

    /// Reads a template file's bytes.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, FileProblem> {
        let path = self.locate(name)?;
        std::fs::read(&path).map_err(|e| FileProblem::Missing(e.to_string()))
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
            Err(FileProblem::Missing(reason)) => Err(reason),
            Err(FileProblem::Outside) => Err("it is outside the phoneprov directory".to_owned()),
        };
        let mut parsed = self.parsed.write().unwrap_or_else(|e| e.into_inner());
        match parsed.entry(name.to_owned()) {
            Entry::Occupied(found) => found.get().clone(),
            Entry::Vacant(slot) => slot.insert(loaded).clone(),
        }
    }
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
