//! Reading a file and everything it includes, in one pass, as Asterisk's `config_text_file_load` does.
//!
//! Order matters in this dialect (a base must be defined above the section that inherits it, `(+)` and `+=`
//! act on what exists at that line, an included file continues the includer's current section), so the
//! loader is a single sequential pass over lines that applies each one to the growing [`Config`].

use std::borrow::Cow;
use std::collections::hash_map::Entry as Named;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::comments::{CommentEvent, CommentState, MAX_NESTED_COMMENTS};
use crate::config::{Config, Entry, FileId, Section, Text};
use crate::error::{Diagnostic, Error, Severity};
use crate::layout::Layout;
use crate::line::{self, Line, Op};
use crate::source::{self, FileKind, FsSource, Source};

/// Asterisk's `MAX_INCLUDE_LEVEL`: how deep `#include`s may nest below the file being loaded.
pub const MAX_INCLUDE_LEVEL: usize = 10;
/// Asterisk reads lines with an 8192-byte buffer: a line of this many bytes or more is skipped.
pub const MAX_LINE_LEN: usize = 8191;
/// Asterisk keeps section names in an 80-byte buffer.
pub const MAX_SECTION_NAME: usize = 79;

/// How to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Run `#exec` programs (Asterisk's `execincludes = yes`). Off by default.
    pub exec_includes: bool,
    /// Fill [`Loaded::prints`]: the digest and [`Layout`] of every file read, for [`Loader::reread`].
    pub layouts: bool,
}

/// Loads configuration files relative to a config directory.
#[derive(Debug, Clone)]
pub struct Loader<S = FsSource> {
    config_dir: PathBuf,
    source: S,
    options: LoadOptions,
}

impl Loader<FsSource> {
    /// A loader reading the file system, resolving relative names against `config_dir`.
    pub fn new(config_dir: impl Into<PathBuf>) -> Self {
        Loader::with_source(config_dir, FsSource)
    }
}

impl<S: Source> Loader<S> {
    /// A loader reading from `source`.
    pub fn with_source(config_dir: impl Into<PathBuf>, source: S) -> Self {
        Loader {
            config_dir: config_dir.into(),
            source,
            options: LoadOptions::default(),
        }
    }

    /// Sets the options.
    pub fn options(mut self, options: LoadOptions) -> Self {
        self.options = options;
        self
    }

    /// The config directory.
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    /// Where a name as written in an `#include` (or on the command line) points: absolute names as they are,
    /// others under the config directory.
    pub fn resolve(&self, name: &str) -> PathBuf {
        if name.starts_with('/') {
            PathBuf::from(name)
        } else {
            self.config_dir.join(name)
        }
    }

    /// Reads `name` (relative to the config directory, or absolute) with everything it includes.
    ///
    /// Never fails: problems are [`Diagnostic`]s, and [`Loaded::valid`] says whether Asterisk would accept
    /// the file at all.
    pub fn load(&self, name: &str) -> Loaded {
        let mut run = Run::new(self, Config::default(), false);
        let path = self.resolve(name);
        let outcome = run.load_pattern(name, None, 0);
        let missing = outcome == Outcome::NotFound;
        let valid = match outcome {
            Outcome::Loaded => true,
            Outcome::NotFound => {
                run.diagnostics.push(Diagnostic::new(
                    &path,
                    0,
                    Error::NotFound { path: path.clone() },
                ));
                false
            }
            Outcome::Invalid | Outcome::Unreadable => false,
        };
        Loaded {
            config: run.config,
            diagnostics: run.diagnostics,
            files: run.read,
            watch: run.watch,
            valid,
            missing,
            prints: run.prints,
            inherited: run.inherited,
            appended: run.appended,
            base_sections: run.base_sections,
        }
    }

    /// Parses blocks of files again ([`Layout`]), each alone, in the context of an earlier [`Loader::load`]:
    /// `context` holds that load's files and the sections blocks may inherit from
    /// ([`Loaded::reread_context`]). Each block must be one plain section: a header without `(+)`, and
    /// entries; `None` when one is anything else (a directive, a second header, an append, an error
    /// Asterisk rejects the file for), since its meaning would depend on the rest of the file.
    ///
    /// The sections come back in the order of `blocks`, with the same files and lines as the whole file
    /// would give them.
    pub fn reread(&self, context: &Config, blocks: &[(&Path, u32, &[u8])]) -> Option<Reread> {
        let mut run = Run::new(self, context.clone(), true);
        for (id, path) in context.files.iter().enumerate() {
            run.file_ids.insert(
                path.to_path_buf(),
                FileId(u32::try_from(id).unwrap_or(u32::MAX)),
            );
        }
        for index in 0..run.config.sections.len() {
            run.index_section(index);
        }
        let context_sections = run.config.sections.len();
        for (done, &(path, first_line, bytes)) in blocks.iter().enumerate() {
            run.current = None;
            let mut comments = CommentState::default();
            let lines_before = first_line.checked_sub(1)?;
            if run.parse_from(path, bytes, &mut comments, 0, lines_before) != Outcome::Loaded
                || comments.in_comment()
                || run.config.sections.len() != context_sections + done + 1
            {
                return None;
            }
        }
        run.config.sections.drain(..context_sections);
        Some(Reread {
            config: run.config,
            diagnostics: run.diagnostics,
        })
    }
}

/// What [`Loader::reread`] parsed.
#[derive(Debug, Clone)]
pub struct Reread {
    /// The blocks' sections, in order (the context's files, none of its sections).
    pub config: Config,
    /// Every problem, in the order met.
    pub diagnostics: Vec<Diagnostic>,
}

/// A file as [`Loader::load`] read it, when [`LoadOptions::layouts`] asks.
#[derive(Debug, Clone)]
pub struct FilePrint {
    /// The file.
    pub path: PathBuf,
    /// The digest of its bytes ([`crate::layout::digest_file`]).
    pub digest: u64,
    /// Its blocks, when they can be told apart line by line.
    pub layout: Option<Layout>,
}

/// The result of [`Loader::load`].
#[derive(Debug, Clone)]
pub struct Loaded {
    /// What was parsed. When [`Loaded::valid`] is false, Asterisk would use none of it.
    pub config: Config,
    /// Every problem, in the order met.
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read, in order.
    pub files: Vec<PathBuf>,
    /// What a reload watcher must watch: the files read, include targets that did not exist (so creating
    /// them is noticed), and the directories glob patterns scanned.
    pub watch: Vec<PathBuf>,
    /// False when the file is missing, cannot be read, or has an error for which Asterisk rejects the whole
    /// file.
    pub valid: bool,
    /// True when there is no such file (nor any file matching the pattern). A file that exists but cannot
    /// be read is not missing: it is invalid.
    pub missing: bool,
    /// With [`LoadOptions::layouts`]: every file read, in order, with its digest and layout.
    pub prints: Vec<FilePrint>,
    /// The names (lower case) sections inherited from: a change to a section of one of these names changes
    /// the sections that inherit it.
    pub inherited: FxHashSet<Text>,
    /// The names (lower case) `(+)` appended to.
    pub appended: FxHashSet<Text>,
    /// The sections inherited from, by index (the first of each name).
    base_sections: FxHashSet<usize>,
}

impl Loaded {
    /// What [`Loader::reread`] needs of this load: its files, and the first section of each name sections
    /// inherited from (what the loader's lookup finds), unless such a section was appended to (its entries
    /// at the time it was inherited could differ from its last ones): `None` then.
    pub fn reread_context(&self) -> Option<Config> {
        if self
            .inherited
            .iter()
            .any(|name| self.appended.contains(name))
        {
            return None;
        }
        let mut bases: Vec<usize> = self.base_sections.iter().copied().collect();
        bases.sort_unstable();
        Some(Config {
            files: self.config.files.clone(),
            sections: bases
                .into_iter()
                .filter_map(|i| self.config.sections.get(i).cloned())
                .collect(),
        })
    }

    /// True when some diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity() == Severity::Error)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Loaded,
    NotFound,
    Invalid,
    /// A file exists but cannot be read: the whole configuration is refused, whoever included it.
    Unreadable,
}

/// Where `process_text_line`'s `*cat` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Current {
    /// The header being processed, not yet appended.
    New,
    /// A section of the config.
    At(usize),
}

struct Run<'l, S> {
    loader: &'l Loader<S>,
    config: Config,
    /// Lower-cased section name → (first, last) index of sections with that name.
    by_name: FxHashMap<Text, (usize, usize)>,
    /// For each section, the next section with the same name (`usize::MAX`: none).
    next_same_name: Vec<usize>,
    /// `cfg->current`: the section an included file starts in.
    current: Option<usize>,
    diagnostics: Vec<Diagnostic>,
    read: Vec<PathBuf>,
    watch: Vec<PathBuf>,
    /// Files being read, outermost first.
    stack: Vec<PathBuf>,
    file_ids: FxHashMap<PathBuf, FileId>,
    prints: Vec<FilePrint>,
    inherited: FxHashSet<Text>,
    appended: FxHashSet<Text>,
    base_sections: FxHashSet<usize>,
    /// [`Loader::reread`]: only a header (no append) and entries are accepted.
    plain: bool,
}

/// The file a line is in.
struct At<'a> {
    path: &'a Path,
    file: FileId,
    /// The whole file, when it is valid UTF-8.
    text: Option<&'a str>,
}

/// A fatal problem on a line: the file is invalid from here.
struct Fatal(Error);

impl<'l, S: Source> Run<'l, S> {
    /// A pass over `config` (empty for a load; a reread's context), accepting only plain sections when
    /// `plain`.
    fn new(loader: &'l Loader<S>, config: Config, plain: bool) -> Self {
        Run {
            loader,
            config,
            by_name: FxHashMap::default(),
            next_same_name: Vec::new(),
            current: None,
            diagnostics: Vec::new(),
            read: Vec::new(),
            watch: Vec::new(),
            stack: Vec::new(),
            file_ids: FxHashMap::default(),
            prints: Vec::new(),
            inherited: FxHashSet::default(),
            appended: FxHashSet::default(),
            base_sections: FxHashSet::default(),
            plain,
        }
    }

    fn diag(&mut self, file: &Path, line: u32, error: Error) {
        self.diagnostics.push(Diagnostic::new(file, line, error));
    }

    fn file_id(&mut self, path: &Path) -> FileId {
        if let Some(&id) = self.file_ids.get(path) {
            return id;
        }
        let id = FileId(u32::try_from(self.config.files.len()).unwrap_or(u32::MAX));
        self.config.files.push(Arc::from(path));
        self.file_ids.insert(path.to_owned(), id);
        id
    }

    fn add_watch(&mut self, path: PathBuf) {
        if !self.watch.contains(&path) {
            self.watch.push(path);
        }
    }

    /// `config_text_file_load`: expands `name` and reads every match.
    fn load_pattern(&mut self, name: &str, at: Option<(&Path, u32)>, depth: usize) -> Outcome {
        let full = self.loader.resolve(name);
        let full = full.to_string_lossy().into_owned();
        let mut matches = Vec::new();
        for pattern in source::expand_braces(&full) {
            if source::has_magic(&pattern) {
                self.add_watch(glob_root(&pattern));
                match self.loader.source.glob(&pattern) {
                    Ok(found) => matches.extend(found),
                    Err(reason) => {
                        // A pattern glob(3) cannot expand matches nothing for Asterisk, which rejects an
                        // #include that matches nothing; a directory that cannot be read must not make its
                        // files silently vanish either.
                        let (file, line) = at.unwrap_or((Path::new(&full), 0));
                        let (file, line) = (file.to_owned(), line);
                        self.diag(&file, line, Error::BadPattern { pattern, reason });
                        return Outcome::Unreadable;
                    }
                }
            } else {
                let path = PathBuf::from(pattern);
                self.add_watch(path.clone());
                matches.push(path);
            }
        }

        let mut count = 0usize;
        let mut comments = CommentState::default();
        for path in matches {
            match self.loader.source.kind(&path) {
                Ok(FileKind::Missing) => continue,
                Ok(FileKind::Other) => {
                    let (file, line) = at.map_or((path.clone(), 0), |(f, l)| (f.to_owned(), l));
                    self.diag(&file, line, Error::NotRegularFile { path });
                    continue;
                }
                Ok(FileKind::Regular) => {}
                Err(e) => {
                    // pjprov differs: Asterisk takes a file it cannot open for absent. A file that may hold
                    // access rules or phones must not vanish because of a permission problem.
                    self.diag(&path.clone(), 0, Error::read(path, &e));
                    return Outcome::Unreadable;
                }
            }
            if let Some((file, line)) = at
                && self.stack.contains(&path)
            {
                let chain = self
                    .stack
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" -> ");
                self.diag(
                    file,
                    line,
                    Error::IncludeCycle {
                        path: name.to_owned(),
                        chain,
                    },
                );
                count += 1;
                continue;
            }
            let bytes = match self.loader.source.read(&path) {
                Ok(bytes) => bytes,
                // Removed between the two looks: it is simply not there.
                Err(e) if source::is_absent(&e) => continue,
                Err(e) => {
                    self.diag(&path.clone(), 0, Error::read(path, &e));
                    return Outcome::Unreadable;
                }
            };
            count += 1;
            self.read.push(path.clone());
            self.stack.push(path.clone());
            let outcome = if self.loader.options.layouts {
                // Its place comes before the files it includes.
                let slot = self.prints.len();
                self.prints.push(FilePrint {
                    path: path.clone(),
                    digest: 0,
                    layout: None,
                });
                let ((digest, layout), outcome) = crate::layout::print_beside(&bytes, || {
                    self.parse(&path, &bytes, &mut comments, depth)
                });
                let print = &mut self.prints[slot];
                (print.digest, print.layout) = (digest, layout);
                outcome
            } else {
                self.parse(&path, &bytes, &mut comments, depth)
            };
            self.stack.pop();
            if matches!(outcome, Outcome::Invalid | Outcome::Unreadable) {
                return outcome;
            }
        }
        if count == 0 {
            Outcome::NotFound
        } else {
            Outcome::Loaded
        }
    }

    /// Reads the lines of one file.
    fn parse(
        &mut self,
        path: &Path,
        bytes: &[u8],
        comments: &mut CommentState,
        depth: usize,
    ) -> Outcome {
        self.parse_from(path, bytes, comments, depth, 0)
    }

    /// Reads lines that follow `lines_before` lines of their file (0: a whole file).
    fn parse_from(
        &mut self,
        path: &Path,
        bytes: &[u8],
        comments: &mut CommentState,
        depth: usize,
        lines_before: u32,
    ) -> Outcome {
        let file = self.file_id(path);
        let at = At {
            path,
            file,
            text: std::str::from_utf8(bytes).ok(),
        };
        // One section per header line, roughly: reserve once instead of growing a large vector many times.
        let headers = memchr::memmem::find_iter(bytes, b"\n[").count();
        self.config.sections.reserve(headers + 1);
        self.next_same_name.reserve(headers + 1);
        // An included file starts in the includer's current section.
        let mut cat = self.current;
        let mut events = Vec::new();
        for (index, raw) in lines(bytes).enumerate() {
            let lineno = u32::try_from(index + 1)
                .unwrap_or(u32::MAX)
                .saturating_add(lines_before);
            let mut text = raw;
            if index == 0 && lines_before == 0 {
                text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            }
            if text.len() >= MAX_LINE_LEN {
                self.diag(path, lineno, Error::LineTooLong { len: text.len() });
                continue;
            }
            // Most lines have neither a NUL nor a `;`: one search tells.
            let mut semicolon = false;
            if let Some(at) = memchr::memchr2(0, b';', text) {
                semicolon = text[at] == b';';
                let nul = if semicolon {
                    memchr::memchr(0, &text[at..]).map(|n| at + n)
                } else {
                    Some(at)
                };
                if let Some(nul) = nul {
                    self.diag(path, lineno, Error::NulByte);
                    text = &text[..nul];
                }
            }
            let stripped = if !comments.in_comment() && !semicolon {
                Some(Cow::Borrowed(text))
            } else {
                comments.strip(text, lineno, &mut events)
            };
            for event in events.drain(..) {
                let error = match event {
                    CommentEvent::StrayEnd => Error::StrayCommentEnd,
                    CommentEvent::TooDeep => Error::CommentNestTooDeep {
                        max: MAX_NESTED_COMMENTS,
                    },
                };
                self.diagnostics.push(Diagnostic::new(path, lineno, error));
            }
            let Some(content) = stripped else { continue };
            let content = line::strip(&content);
            if content.is_empty() {
                continue;
            }
            if let Err(Fatal(error)) = self.line(&at, lineno, content, &mut cat, depth) {
                self.diag(path, lineno, error);
                return Outcome::Invalid;
            }
        }
        if let Some(start_line) = comments.unterminated() {
            self.diag(path, start_line, Error::UnterminatedComment { start_line });
        }
        Outcome::Loaded
    }

    /// `process_text_line`.
    fn line(
        &mut self,
        at: &At<'_>,
        lineno: u32,
        content: &[u8],
        cat: &mut Option<usize>,
        depth: usize,
    ) -> Result<(), Fatal> {
        let classified = line::classify(content);
        if self.plain {
            let plain = match &classified {
                Line::Directive { .. } => false,
                Line::Header { options, .. } => {
                    cat.is_none() && !options.is_some_and(|o| o.contains(&b'+'))
                }
                _ => true,
            };
            if !plain {
                return Err(Fatal(Error::NotPlainSection));
            }
        }
        match classified {
            Line::HeaderWithoutBracket => Err(Fatal(Error::NoClosingBracket)),
            Line::HeaderWithoutParen => Err(Fatal(Error::NoClosingParen)),
            Line::Header {
                name,
                options,
                ignored,
            } => {
                if !ignored.is_empty() {
                    self.diag(
                        at.path,
                        lineno,
                        Error::IgnoredAfterHeader { len: ignored.len() },
                    );
                }
                self.header(at, lineno, name, options, cat)
            }
            Line::Directive { name, argument } => self.directive(at, lineno, name, argument, depth),
            Line::Entry { key, op, value } => self.entry(at, lineno, key, op, value, *cat),
            Line::NoEquals => {
                if cat.is_none() {
                    return Err(Fatal(Error::NoCategory));
                }
                self.diag(at.path, lineno, Error::NoEquals);
                Ok(())
            }
            Line::InvalidEscape => {
                if cat.is_none() {
                    return Err(Fatal(Error::NoCategory));
                }
                Err(Fatal(Error::InvalidEscape))
            }
        }
    }

    /// Bytes to text: UTF-8, with a warning (and U+FFFD) where the bytes are not. Bytes of a file that is
    /// valid UTF-8 as a whole (checked once) are a slice of it, checked no more.
    fn text<'b>(&mut self, at: &At<'b>, lineno: u32, bytes: &'b [u8]) -> Cow<'b, str> {
        if let Some(whole) = at.text {
            // Where `bytes` sits in the file, when it is a piece of it (not of a line rebuilt without its
            // comments).
            let start = (bytes.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
            if let Some(piece) = start
                .checked_add(bytes.len())
                .and_then(|end| whole.get(start..end))
            {
                return Cow::Borrowed(piece);
            }
        }
        let path = at.path;
        match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                if !self.diagnostics.last().is_some_and(|d| {
                    d.line == lineno && d.error == Error::InvalidUtf8 && d.file == path
                }) {
                    self.diag(path, lineno, Error::InvalidUtf8);
                }
                String::from_utf8_lossy(bytes)
            }
        }
    }

    fn header(
        &mut self,
        at: &At<'_>,
        lineno: u32,
        name: &[u8],
        options: Option<&[u8]>,
        cat: &mut Option<usize>,
    ) -> Result<(), Fatal> {
        let mut name = Text::from(self.text(at, lineno, name));
        if name.len() > MAX_SECTION_NAME {
            let mut cut = MAX_SECTION_NAME;
            while !name.is_char_boundary(cut) {
                cut -= 1;
            }
            name.truncate(cut);
            self.diag(
                at.path,
                lineno,
                Error::NameTruncated {
                    max: MAX_SECTION_NAME,
                    truncated: name.to_string(),
                },
            );
        }
        let mut new = Some(Section::new(name.clone(), at.file, lineno));
        let mut target = Current::New;
        if let Some(options) = options {
            let options = self.text(at, lineno, options).into_owned();
            for option in options.split(',') {
                if option.eq_ignore_ascii_case("!") {
                    self.section_mut(target, &mut new).template = true;
                } else if let Some(filter) = option.strip_prefix('+') {
                    let Some(found) = self.find(&name, filter, '&') else {
                        return Err(Fatal(Error::AppendTargetMissing {
                            name: name.to_string(),
                            filter: filter.to_owned(),
                        }));
                    };
                    let mut key = name.clone();
                    key.make_ascii_lowercase();
                    self.appended.insert(key);
                    if let Some(appended) = new.take() {
                        self.current = Some(found);
                        let section = &mut self.config.sections[found];
                        section.template |= appended.template;
                        section.append(appended);
                    }
                    target = Current::At(found);
                } else {
                    let Some(base) = self.find(option, "TEMPLATES=include", ',') else {
                        return Err(Fatal(Error::UnknownBase {
                            base: option.to_owned(),
                        }));
                    };
                    let name = self.config.sections[base].name.clone();
                    let mut key = name.clone();
                    key.make_ascii_lowercase();
                    self.inherited.insert(key);
                    self.base_sections.insert(base);
                    let entries = self.config.sections[base].for_inheritance();
                    self.section_mut(target, &mut new).inherit(name, entries);
                }
            }
        }
        match new {
            Some(section) => {
                // The section before is complete (unless a later `(+)` appends to it): give back the room
                // its entries' vector grew by.
                if let Some(previous) = self.current.and_then(|i| self.config.sections.get_mut(i)) {
                    previous.seal();
                }
                let index = self.config.sections.len();
                self.config.sections.push(section);
                self.index_section(index);
                self.current = Some(index);
                *cat = Some(index);
            }
            None => {
                if let Current::At(found) = target {
                    *cat = Some(found);
                }
            }
        }
        Ok(())
    }

    /// Makes section `index` (the last one) findable by name.
    fn index_section(&mut self, index: usize) {
        let mut key = self.config.sections[index].name.clone();
        key.make_ascii_lowercase();
        self.next_same_name.push(usize::MAX);
        match self.by_name.entry(key) {
            Named::Occupied(mut found) => {
                let last = &mut found.get_mut().1;
                self.next_same_name[*last] = index;
                *last = index;
            }
            Named::Vacant(room) => {
                room.insert((index, index));
            }
        }
    }

    fn section_mut<'a>(
        &'a mut self,
        target: Current,
        new: &'a mut Option<Section>,
    ) -> &'a mut Section {
        match (target, new) {
            (Current::At(i), _) => &mut self.config.sections[i],
            (Current::New, Some(section)) => section,
            // A new section is only taken away by `+`, which switches the target.
            (Current::New, None) => unreachable!("new section taken without a target"),
        }
    }

    /// `category_get_sep`: the first section called `name` that passes `filter`.
    fn find(&self, name: &str, filter: &str, sep: char) -> Option<usize> {
        let mut key = Text::from(name);
        key.make_ascii_lowercase();
        let mut index = self.by_name.get(&key)?.0;
        while index != usize::MAX {
            if category_matches(&self.config.sections[index], filter, sep) {
                return Some(index);
            }
            index = self.next_same_name[index];
        }
        None
    }

    fn entry(
        &mut self,
        at: &At<'_>,
        lineno: u32,
        key: &[u8],
        op: Op,
        value: &[u8],
        cat: Option<usize>,
    ) -> Result<(), Fatal> {
        let Some(cat) = cat else {
            return Err(Fatal(Error::NoCategory));
        };
        let key = Text::from(self.text(at, lineno, key));
        if op == Op::Append {
            let raw = self.text(at, lineno, value).into_owned();
            let section = &mut self.config.sections[cat];
            let entries = section.entries_mut();
            if let Some(last) = entries.iter().rposition(|e| e.key == key) {
                // ast_variable_update: the first entry with that name and value (without case) gets the sum.
                let old_name = entries[last].key.clone();
                let old_value = entries[last].value.clone();
                let joined = format!("{old_value}{raw}");
                let joined = Text::from(String::from_utf8_lossy(line::strip(joined.as_bytes())));
                if let Some(target) = entries.iter_mut().find(|e| {
                    e.key.eq_ignore_ascii_case(&old_name)
                        && (old_value.is_empty() || e.value.eq_ignore_ascii_case(&old_value))
                }) {
                    target.key = old_name;
                    target.value = joined;
                }
                return Ok(());
            }
            let value = Text::from(String::from_utf8_lossy(line::strip(raw.as_bytes())));
            return self.push_entry(at.path, at.file, lineno, cat, key, value, false);
        }
        let value = Text::from(self.text(at, lineno, value));
        self.push_entry(at.path, at.file, lineno, cat, key, value, op == Op::Object)
    }

    #[allow(clippy::too_many_arguments)]
    fn push_entry(
        &mut self,
        path: &Path,
        file: FileId,
        lineno: u32,
        cat: usize,
        key: Text,
        value: Text,
        object: bool,
    ) -> Result<(), Fatal> {
        if key.is_empty() {
            self.diag(path, lineno, Error::NoVariableName);
            return Ok(());
        }
        self.config.sections[cat].push(Entry {
            key,
            value,
            file,
            line: lineno,
            object,
            inherited: false,
        });
        Ok(())
    }

    fn directive(
        &mut self,
        at: &At<'_>,
        lineno: u32,
        name: &[u8],
        argument: Option<&[u8]>,
        depth: usize,
    ) -> Result<(), Fatal> {
        let path = at.path;
        let name = self.text(at, lineno, name).into_owned();
        let kind = if name.eq_ignore_ascii_case("include") {
            Directive::Include
        } else if name.eq_ignore_ascii_case("tryinclude") {
            Directive::TryInclude
        } else if name.eq_ignore_ascii_case("exec") {
            Directive::Exec
        } else {
            self.diag(path, lineno, Error::UnknownDirective { name });
            return Ok(());
        };
        if kind == Directive::Exec && !self.loader.options.exec_includes {
            let command = argument
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .unwrap_or_default();
            self.diag(path, lineno, Error::ExecDisabled { command });
            return Ok(());
        }
        let Some(argument) = argument else {
            self.diag(
                path,
                lineno,
                Error::MissingDirectiveArgument { directive: name },
            );
            return Ok(());
        };
        let argument = self.text(at, lineno, dequote(argument)).into_owned();
        if depth >= MAX_INCLUDE_LEVEL {
            self.diag(
                path,
                lineno,
                Error::IncludeTooDeep {
                    path: argument,
                    max: MAX_INCLUDE_LEVEL,
                },
            );
            return Ok(());
        }
        let outcome = match kind {
            Directive::Exec => self.exec(&argument, depth)?,
            Directive::Include | Directive::TryInclude => {
                self.load_pattern(&argument, Some((path, lineno)), depth + 1)
            }
        };
        match outcome {
            Outcome::Loaded => Ok(()),
            Outcome::NotFound if kind == Directive::TryInclude => Ok(()),
            Outcome::NotFound => Err(Fatal(Error::IncludeNotFound { path: argument })),
            Outcome::Unreadable => Err(Fatal(Error::IncludeUnreadable { path: argument })),
            Outcome::Invalid => {
                // Asterisk carries on with the includer; the included file stopped at its error.
                let included = self.loader.resolve(&argument);
                self.diag(path, lineno, Error::IncludedFileInvalid { path: included });
                Ok(())
            }
        }
    }

    fn exec(&mut self, command: &str, depth: usize) -> Result<Outcome, Fatal> {
        let output = self.loader.source.exec(command).map_err(|e| {
            Fatal(Error::ExecFailed {
                command: command.to_owned(),
                reason: e.to_string(),
            })
        })?;
        let pseudo = PathBuf::from(format!("#exec {command}"));
        self.read.push(pseudo.clone());
        let mut comments = CommentState::default();
        Ok(self.parse(&pseudo, &output, &mut comments, depth + 1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Include,
    TryInclude,
    Exec,
}

/// The lines of a file, split at `\n` (a final empty piece after the last newline is harmless: it is blank).
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(b'\n', current) {
            Some(end) => {
                rest = Some(&current[end + 1..]);
                Some(&current[..end])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Strips one pair of `"..."` or `<...>` around a directive argument.
fn dequote(argument: &[u8]) -> &[u8] {
    let close = match argument.first() {
        Some(b'"') => b'"',
        Some(b'<') => b'>',
        _ => return argument,
    };
    if argument.last() == Some(&close) {
        if argument.len() == 1 {
            return b"";
        }
        &argument[1..argument.len() - 1]
    } else {
        argument
    }
}

/// The directory a glob pattern scans: the part before the first component with a metacharacter.
fn glob_root(pattern: &str) -> PathBuf {
    let mut root = PathBuf::new();
    for component in Path::new(pattern).components() {
        let text = component.as_os_str().to_string_lossy();
        if source::has_magic(&text) {
            break;
        }
        root.push(component);
    }
    root
}

/// `does_category_match` for a name that already matched: `filter` is `key=regex` pairs separated by `sep`,
/// or `TEMPLATES=include|restrict`. An empty filter matches sections that are not templates.
fn category_matches(section: &Section, filter: &str, sep: char) -> bool {
    match filter {
        "" => return !section.template,
        "TEMPLATES=include" => return true,
        _ => {}
    }
    let mut expressions = 0;
    let mut found = 0;
    let mut template_ok = false;
    for pair in filter.split(sep) {
        expressions += 1;
        let Some((key, value)) = pair.split_once('=') else {
            break;
        };
        let (key, value) = (key.trim(), value.trim());
        if key == "TEMPLATES" {
            if value.eq_ignore_ascii_case("include") {
                template_ok |= section.template;
                found += 1;
            } else if value.eq_ignore_ascii_case("restrict") {
                if section.template {
                    found += 1;
                    template_ok = true;
                } else {
                    break;
                }
            }
            continue;
        }
        let (Ok(key_re), Ok(value_re)) = (Regex::new(key), Regex::new(value)) else {
            return false;
        };
        if section
            .entries()
            .any(|e| key_re.is_match(&e.key) && value_re.is_match(&e.value))
        {
            found += 1;
        }
    }
    found == expressions && (!section.template || template_ok)
}
