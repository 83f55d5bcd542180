//! The parsed result: sections in file order, each with its entries, every one carrying its file and line.

use std::path::Path;
use std::sync::Arc;

use smallvec::SmallVec;

pub use compact_str::CompactString as Text;

/// Index of a file in [`Config::files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub(crate) u32);

impl FileId {
    /// The position of the file in [`Config::files`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A whole configuration file after includes, inheritance and `(+)` appends: what Asterisk sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub(crate) files: Vec<Arc<Path>>,
    pub(crate) sections: Vec<Section>,
}

impl Config {
    /// Every section in file order (templates included; check [`Section::template`]).
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The files sections and entries point into, by [`FileId`]. They are shared, so that what is derived
    /// from a configuration can keep its `file:line` after the configuration itself is dropped.
    pub fn files(&self) -> &[Arc<Path>] {
        &self.files
    }

    /// The path of a file.
    pub fn file(&self, id: FileId) -> &Path {
        &self.files[id.index()]
    }

    /// Every section called `name` (compared without case, as Asterisk does), templates included.
    pub fn sections_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections
            .iter()
            .filter(move |s| s.name.eq_ignore_ascii_case(name))
    }

    /// The first section called `name` that is not a template: what `ast_variable_browse` returns.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| !s.template && s.name.eq_ignore_ascii_case(name))
    }
}

/// One `[name]` section.
///
/// Entries copied from a base (`[name](base)`) are shared: every section that inherits a base at the same
/// point of the file points to one copy of its entries. A fleet of 100,000 endpoints made from one
/// template holds that template's entries once, not 100,000 times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name between the brackets, as written (Asterisk keeps at most 79 bytes).
    pub name: Text,
    /// `(!)`: a template, kept for inheritance and never an object.
    pub template: bool,
    /// Where the header is.
    pub file: FileId,
    /// Line of the header.
    pub line: u32,
    /// The sections it inherited from, in order. Nearly every section has at most one base, held in the
    /// section itself (as its inherited block is): two allocations fewer for each of a large fleet's sections.
    bases: SmallVec<[Text; 1]>,
    /// The entries of each base, in order, as they were when this section inherited them.
    pub(crate) inherited: SmallVec<[Arc<[Entry]>; 1]>,
    /// Its own entries (and any appended with `(+)`).
    own: Vec<Entry>,
    /// All its entries marked inherited, once some section inherits it (until it changes again).
    shared: Option<Arc<[Entry]>>,
}

impl Section {
    pub(crate) fn new(name: Text, file: FileId, line: u32) -> Self {
        Section {
            name,
            template: false,
            file,
            line,
            bases: SmallVec::new(),
            inherited: SmallVec::new(),
            own: Vec::new(),
            shared: None,
        }
    }

    /// The sections it inherited from (`[name](base1,base2)`), in order.
    pub fn bases(&self) -> &[Text] {
        &self.bases
    }

    /// Every entry in order: inherited ones first, then the section's own, then any appended with `(+)`.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> + Clone {
        self.inherited
            .iter()
            .flat_map(|base| base.iter())
            .chain(self.own.iter())
    }

    /// The blocks of entries it inherited, in order (each shared with every section that inherited the
    /// same base at the same point: comparing their addresses tells such sections apart cheaply).
    pub fn inherited_blocks(&self) -> &[Arc<[Entry]>] {
        &self.inherited
    }

    /// How many entries [`Section::entries`] gives.
    pub fn entry_count(&self) -> usize {
        self.inherited.iter().map(|b| b.len()).sum::<usize>() + self.own.len()
    }

    /// The entries a section inheriting this one copies (all of them, marked inherited), shared.
    pub(crate) fn for_inheritance(&mut self) -> Arc<[Entry]> {
        if let Some(shared) = &self.shared {
            return shared.clone();
        }
        let copied: Arc<[Entry]> = self
            .entries()
            .map(|e| Entry {
                inherited: true,
                ..e.clone()
            })
            .collect();
        self.shared = Some(copied.clone());
        copied
    }

    /// Takes the entries of base `name`.
    pub(crate) fn inherit(&mut self, name: Text, entries: Arc<[Entry]>) {
        self.shared = None;
        self.bases.push(name);
        if self.own.is_empty() {
            self.inherited.push(entries);
        } else {
            // Inherited after entries of its own (a `(+)` naming a base): keep the order.
            self.own.extend(entries.iter().cloned());
        }
    }

    /// Gives back the spare room of its own entries (no more are expected).
    pub(crate) fn seal(&mut self) {
        self.own.shrink_to_fit();
    }

    /// Adds an entry of its own.
    pub(crate) fn push(&mut self, entry: Entry) {
        self.shared = None;
        self.own.push(entry);
    }

    /// Appends every entry of `other` (`[name](+)`).
    pub(crate) fn append(&mut self, other: Section) {
        self.shared = None;
        self.own.extend(other.entries().cloned());
        self.bases.extend(other.bases);
    }

    /// Its entries as one list it owns, to change one of them (`+=` on an inherited entry).
    pub(crate) fn entries_mut(&mut self) -> &mut Vec<Entry> {
        self.shared = None;
        if !self.inherited.is_empty() {
            let mut all: Vec<Entry> = self
                .inherited
                .iter()
                .flat_map(|base| base.iter().cloned())
                .collect();
            all.append(&mut self.own);
            self.own = all;
            self.inherited.clear();
        }
        &mut self.own
    }

    /// The first value of `key` (compared without case, as `ast_variable_retrieve` does).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries()
            .find(|e| e.key.eq_ignore_ascii_case(key))
            .map(|e| e.value.as_str())
    }

    /// The last value of `key` (compared without case): what a sorcery object ends up with.
    pub fn get_last(&self, key: &str) -> Option<&str> {
        self.entries()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key))
            .map(|e| e.value.as_str())
    }

    /// The entry holding the last value of `key` (compared without case).
    pub fn entry_last(&self, key: &str) -> Option<&Entry> {
        self.entries()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key))
    }

    /// Every entry named `key` (compared without case), in order.
    pub fn entries_named<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries()
            .filter(move |e| e.key.eq_ignore_ascii_case(key))
    }
}

/// One `key = value` (or `key => value`) line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, trimmed.
    pub key: Text,
    /// The value, trimmed; quotes are kept as written.
    pub value: Text,
    /// Where the line is (for inherited entries: where the base section has it).
    pub file: FileId,
    /// Its line number.
    pub line: u32,
    /// Written with `=>`.
    pub object: bool,
    /// Copied from a base section.
    pub inherited: bool,
}
