//! A reload that reads again only the sections of pjsip.conf that changed.
//!
//! A fleet of 100,000 phones is one or a few large files, and a save usually rewrites a value or two in
//! one section. Parsing the whole file and deriving every line again costs most of a second and a second
//! copy of everything in memory; instead, each build keeps a [`Basis`]: the digest and [`Layout`] of every
//! file pjsip.conf's load read, and the type of the section in each block. A reload then streams the files
//! (none is held whole), compares digests, parses the changed blocks alone
//! ([`asterisk_config::Loader::reread`]), finds the lines that read those sections (their phoneprov object,
//! endpoint or auth), reads every block of a section those lines read where the layout puts it (found by a
//! hash of each block's section name taken in the first reading, and checked against that reading's
//! digest), derives just those lines again, and shares every other phone with the previous snapshot.
//!
//! The result must be the snapshot a full build would make, so anything this cannot prove unchanged makes
//! [`Basis::patch`] answer `None` and the build reads everything as before: a file added, removed or
//! unreadable; more than one file changed; a changed line count (every later `file:line` would move); a
//! renamed section or changed header; a section inherited from or appended to; a changed `type`; a
//! transport; a problem to report (new, or already reported in a section read again); a line whose MAC,
//! `LINE` or profile changed, or that sets `AUTH_ID` itself; wizards; realtime mappings; `#exec`; glob
//! includes; block comments; setvars that read the time or the environment; time zone variables that
//! differ from the previous build's; a block read again that is not what the first reading saw; more than
//! [`MAX_CHANGED_BLOCKS`] changed sections.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use asterisk_config::{Config, FilePrint, Layout, Loaded, Loader, Text};
use compact_str::CompactString;
use rustc_hash::{FxHashMap, FxHashSet};

use super::Snapshot;
use crate::asterisk::render::World;
use crate::error::Diagnostic;
use crate::phones::{self, Phones};
use crate::pjsip::{Objects, Transport};
use crate::profile::Profile;

/// More changed sections than this: a full build (each one is parsed and its lines derived on one core).
pub(super) const MAX_CHANGED_BLOCKS: usize = 256;

/// What a build keeps of pjsip.conf's load so that the next reload can read only what changed.
#[derive(Debug, Clone)]
pub(super) struct Basis {
    /// Every file read, in order, each once (shared with the bases that follow while it is unchanged).
    prints: Vec<Arc<FilePrint>>,
    /// For each of `prints` with a layout, the type of each block's section (an index into `types`).
    kinds: Arc<[Vec<u8>]>,
    /// The types met; `types[0]` is none (no `type`, a template, or no section).
    types: Arc<[Text]>,
    /// `#tryinclude` targets that did not exist.
    absent: Arc<[PathBuf]>,
    /// The files and the sections inherited from, for rereading blocks.
    context: Arc<Config>,
    /// Names (lower case) inherited from or appended to.
    shared_names: Arc<FxHashSet<Text>>,
    /// The transports (a transport that changed makes a full build).
    transports: Arc<FxHashMap<Text, Transport>>,
    /// Every line's time zone ([`phones::zones`]).
    zones: Arc<FxHashSet<Option<CompactString>>>,
    /// What the load of pjsip.conf made the build watch.
    pub watch: Arc<[PathBuf]>,
    /// What the load of pjsip.conf reported.
    pub load_diagnostics: Arc<[Diagnostic]>,
    /// What reading the objects reported.
    pub object_diagnostics: Arc<[Diagnostic]>,
    /// What building the phones reported.
    pub phone_diagnostics: Arc<[Diagnostic]>,
}

/// The first half of a [`Basis`], made from the load before its configuration is dropped (the load's
/// prints join it in [`Started::finish`]).
pub(super) struct Started {
    kinds: Vec<Vec<u8>>,
    types: Vec<Text>,
    absent: Vec<PathBuf>,
    context: Config,
    shared_names: FxHashSet<Text>,
    watch: Vec<PathBuf>,
    load_diagnostics: Vec<Diagnostic>,
}

impl Started {
    /// From pjsip.conf's load (`diagnostics`: what it reported); `None` when no reload could be patched.
    /// It only reads the load, so it can run beside the reading of the objects.
    pub fn new(loaded: &Loaded, diagnostics: &[Diagnostic]) -> Option<Started> {
        if !loaded.valid
            || loaded.files.len() != loaded.prints.len()
            || loaded
                .files
                .iter()
                .any(|f| f.as_os_str().to_string_lossy().starts_with("#exec"))
        {
            return None;
        }
        let mut seen = FxHashSet::default();
        if !loaded.files.iter().all(|f| seen.insert(f)) {
            return None;
        }
        let mut absent = Vec::new();
        for path in loaded.watch.iter().filter(|p| !seen.contains(p)) {
            // A glob's directory: a file added there would be read.
            if path.is_dir() {
                return None;
            }
            absent.push(path.clone());
        }
        let context = loaded.reread_context()?;
        let mut shared_names = loaded.inherited.clone();
        shared_names.extend(loaded.appended.iter().cloned());
        let mut types: Vec<Text> = vec![Text::default()];
        let mut kinds: Vec<Vec<u8>> = loaded
            .prints
            .iter()
            .map(|p| vec![0; p.layout.as_ref().map_or(0, |l| l.blocks().len())])
            .collect();
        // FileId → print: the loader numbers files in the order it reads them.
        let by_file: FxHashMap<&Path, usize> = loaded
            .prints
            .iter()
            .enumerate()
            .map(|(i, p)| (p.path.as_path(), i))
            .collect();
        let print_of: Vec<Option<usize>> = loaded
            .config
            .files()
            .iter()
            .map(|f| by_file.get(&**f).copied())
            .collect();
        // Sections come in file order within each file: one cursor per file finds their blocks.
        let mut cursors = vec![0usize; loaded.prints.len()];
        for section in loaded.config.sections().iter().filter(|s| !s.template) {
            let Some(print) = print_of.get(section.file.index()).copied().flatten() else {
                continue;
            };
            let Some(layout) = &loaded.prints[print].layout else {
                continue;
            };
            let blocks = layout.blocks();
            let cursor = &mut cursors[print];
            while blocks
                .get(*cursor)
                .is_some_and(|b| b.first_line < section.line)
            {
                *cursor += 1;
            }
            // A section whose header starts no block (an include's continuation): only sections in their
            // own blocks are ever reread.
            if blocks
                .get(*cursor)
                .is_none_or(|b| b.first_line != section.line)
            {
                continue;
            }
            let block = *cursor;
            let Some(kind) = section.get("type") else {
                continue;
            };
            let code = match types.iter().position(|t| t == kind) {
                Some(code) => code,
                None => {
                    types.push(kind.into());
                    types.len() - 1
                }
            };
            kinds[print][block] = u8::try_from(code).ok()?;
        }
        Some(Started {
            kinds,
            types,
            absent,
            context,
            shared_names,
            watch: loaded.watch.clone(),
            load_diagnostics: diagnostics.to_vec(),
        })
    }

    /// The basis, once the objects and phones are built; `prints` are those of the load this was started
    /// from.
    pub fn finish(
        self,
        prints: Vec<FilePrint>,
        objects: &Objects,
        phones: &Phones,
        object_diagnostics: &[Diagnostic],
        phone_diagnostics: &[Diagnostic],
    ) -> Basis {
        Basis {
            prints: prints.into_iter().map(Arc::new).collect(),
            kinds: self.kinds.into(),
            types: self.types.into(),
            absent: self.absent.into(),
            context: Arc::new(self.context),
            shared_names: Arc::new(self.shared_names),
            transports: Arc::new(objects.transports.clone()),
            zones: Arc::new(phones::zones(phones.phones.iter().flat_map(|p| &p.lines))),
            watch: self.watch.into(),
            load_diagnostics: self.load_diagnostics.into(),
            object_diagnostics: object_diagnostics.to_vec().into(),
            phone_diagnostics: phone_diagnostics.to_vec().into(),
        }
    }
}

/// The phones of a patched reload, and the basis for the next one.
pub(super) struct Patched {
    pub phones: Phones,
    pub basis: Basis,
    /// How many sections were read again.
    pub sections: usize,
}

/// A block to read again: which print, which block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct BlockRef {
    print: usize,
    block: usize,
}

impl Basis {
    /// The phones of `previous` (which this basis belongs to) with the files as they are now, or `None`
    /// when that needs a full build (see the module documentation). `profiles` are the new ones; they must
    /// be the previous snapshot's.
    pub fn patch(
        &self,
        previous: &Snapshot,
        loader: &Loader,
        profiles: &[Profile],
        now: jiff::Timestamp,
        empty_world: &World<'_>,
    ) -> Option<Patched> {
        if profiles != previous.profiles.as_slice() || !setvars_pure(profiles) {
            return None;
        }
        if self.absent.iter().any(|p| p.exists()) {
            return None;
        }
        // Each file read once, a piece at a time: its digest, its layout if it had one, and the bytes of
        // the blocks that changed.
        let mut captured: FxHashMap<BlockRef, Vec<u8>> = FxHashMap::default();
        // For each file, a hash of each block's section name: the blocks of the sections the changed ones
        // lead to are found by it below, without reading every file again.
        let mut names: Vec<Vec<u64>> = vec![Vec::new(); self.prints.len()];
        let mut changed_file = None;
        for (print, old) in self.prints.iter().enumerate() {
            let names = &mut names[print];
            let mut capture = |block: usize, now: &asterisk_config::layout::Block, bytes: &[u8]| {
                names.push(asterisk_config::layout::block_section_name(bytes).map_or(0, name_hash));
                let changed = old
                    .layout
                    .as_ref()
                    .and_then(|l| l.blocks().get(block))
                    .is_none_or(|b| b.digest != now.digest);
                if changed && captured.len() <= MAX_CHANGED_BLOCKS {
                    captured.insert(BlockRef { print, block }, bytes.to_vec());
                }
            };
            let (digest, layout) = cut(&old.path, old.layout.is_some(), &mut capture)?;
            if digest != old.digest {
                if changed_file.is_some() {
                    return None;
                }
                changed_file = Some((print, digest, layout));
            }
        }
        if !phones::zones_agree(&self.zones, previous.now, now) {
            return None;
        }
        let mut basis = self.clone();
        let Some((file, digest, new)) = changed_file else {
            return Some(Patched {
                phones: previous.phones.clone(),
                basis,
                sections: 0,
            });
        };
        let old = self.prints[file].layout.as_ref()?;
        let new = new?;
        if old.blocks().len() != new.blocks().len() {
            return None;
        }
        let mut changed = Vec::new();
        for (index, (a, b)) in old.blocks().iter().zip(new.blocks()).enumerate() {
            // Same lines (every later `file:line` in place), same headers (a renamed section would leave
            // the lines that named it unnoticed).
            if a.first_line != b.first_line || a.header != b.header {
                return None;
            }
            if a.digest != b.digest {
                changed.push(BlockRef {
                    print: file,
                    block: index,
                });
            }
        }
        // (Block 0 without a header, lines an included file adds to its includer's section, is refused by
        // the reread.)
        if changed.is_empty() || changed.len() > MAX_CHANGED_BLOCKS {
            return None;
        }
        let layouts: Vec<Option<&Layout>> = (0..self.prints.len())
            .map(|i| {
                if i == file {
                    Some(&new)
                } else {
                    self.prints[i].layout.as_ref()
                }
            })
            .collect();

        // The changed sections, alone: still one plain section each, of the same type, inherited by none,
        // and valid objects.
        let reread = self.reread(loader, &captured, &layouts, &changed)?;
        let mut by_kind: FxHashMap<&str, FxHashSet<&str>> = FxHashMap::default();
        for (section, at) in reread.sections().iter().zip(&changed) {
            let mut key = section.name.clone();
            key.make_ascii_lowercase();
            if section.template || self.shared_names.contains(&key) {
                return None;
            }
            let old_kind = &self.types[*self.kinds.get(at.print)?.get(at.block)? as usize];
            let new_kind = section.get("type").unwrap_or_default();
            if old_kind != new_kind {
                return None;
            }
            match new_kind {
                "transport" => return None,
                "phoneprov" | "endpoint" | "auth" => {
                    by_kind.entry(new_kind).or_default().insert(&section.name);
                }
                _ => {}
            }
        }
        let mut problems = Vec::new();
        Objects::read(&reread, None, &mut problems);
        if !problems.is_empty() {
            return None;
        }
        if by_kind.contains_key("auth") && previous.phones.auth_id_set {
            return None;
        }

        // The lines that read a changed section, and every section they read.
        let named = |kind: &str, name: Option<&str>| {
            name.is_some_and(|n| by_kind.get(kind).is_some_and(|names| names.contains(n)))
        };
        let (by_endpoint, by_auth) = (
            by_kind.contains_key("endpoint"),
            by_kind.contains_key("auth"),
        );
        let mut affected: Vec<(usize, usize)> = Vec::new();
        let mut needed: FxHashSet<&str> = FxHashSet::default();
        for (p, phone) in previous.phones.phones.iter().enumerate() {
            for (l, line) in phone.lines.iter().enumerate() {
                if named("phoneprov", Some(&line.id))
                    || (by_endpoint && named("endpoint", line.vars.get("endpoint")))
                    || (by_auth && named("auth", line.vars.get("AUTH_ID")))
                {
                    let endpoint = line.vars.get("endpoint");
                    let auth = line.vars.get("AUTH_ID");
                    affected.push((p, l));
                    needed.extend(
                        [Some(line.id.as_str()), endpoint, auth]
                            .into_iter()
                            .flatten(),
                    );
                }
            }
        }
        // The blocks of those sections, read where the layouts put them; each must be what the first
        // reading saw (its digest), so the patch is of the files as they were then.
        let wanted: FxHashSet<u64> = needed.iter().map(|n| name_hash(n.as_bytes())).collect();
        let mut blocks: Vec<BlockRef> = changed.clone();
        for (print, layout) in layouts.iter().enumerate() {
            let Some(layout) = layout else { continue };
            let mut file = None;
            for (block, name) in names[print].iter().enumerate() {
                let at = BlockRef { print, block };
                if !wanted.contains(name) || captured.contains_key(&at) {
                    continue;
                }
                let bytes = read_block(&mut file, &self.prints[print].path, layout, block)?;
                let named = asterisk_config::layout::block_section_name(&bytes)
                    .is_some_and(|n| std::str::from_utf8(n).is_ok_and(|n| needed.contains(n)));
                if named {
                    blocks.push(at);
                    captured.insert(at, bytes);
                }
            }
        }
        blocks.sort_unstable();
        blocks.dedup();
        if self.reported_in(&layouts, &blocks) {
            return None;
        }
        let sections = self.reread(loader, &captured, &layouts, &blocks)?;
        let mut problems = Vec::new();
        let mut objects = Objects::read(&sections, None, &mut problems);
        if !problems.is_empty() {
            return None;
        }
        objects.transports = (*self.transports).clone();

        // Those lines again; the other phones are shared.
        let inputs = phones::Inputs {
            objects: &objects,
            profiles,
            now,
            empty_world,
        };
        let setvars = phones::parse_setvars(profiles);
        let mut phones = previous.phones.clone();
        let mut zones: Option<FxHashSet<Option<CompactString>>> = None;
        for (p, l) in affected {
            let phone = &previous.phones.phones[p];
            let old = &phone.lines[l];
            let pp = objects.phoneprovs.iter().find(|pp| pp.id == old.id)?;
            let (line, mac, auth_id_set) = phones::rederive(pp, phone.profile, &inputs, &setvars)?;
            if auth_id_set
                || mac != phone.mac
                || line.index != old.index
                || line.vars.get("PROFILE") != old.vars.get("PROFILE")
                || line.location != old.location
            {
                return None;
            }
            let zone = line.vars.get("TIMEZONE");
            if !self.zones.contains(&zone.map(CompactString::from)) {
                zones
                    .get_or_insert_with(|| (*self.zones).clone())
                    .insert(zone.map(CompactString::from));
            }
            Arc::make_mut(&mut phones.phones[p]).lines[l] = line;
        }
        if let Some(zones) = zones {
            basis.zones = Arc::new(zones);
        }
        basis.prints[file] = Arc::new(FilePrint {
            path: self.prints[file].path.clone(),
            digest,
            layout: Some(new),
        });
        Some(Patched {
            phones,
            basis,
            sections: changed.len(),
        })
    }

    /// Parses `blocks` alone.
    fn reread(
        &self,
        loader: &Loader,
        captured: &FxHashMap<BlockRef, Vec<u8>>,
        layouts: &[Option<&Layout>],
        blocks: &[BlockRef],
    ) -> Option<Config> {
        let mut pieces: Vec<(&Path, u32, &[u8])> = Vec::with_capacity(blocks.len());
        for at in blocks {
            let layout = layouts.get(at.print).copied().flatten()?;
            let bytes = captured.get(at)?;
            pieces.push((
                self.prints[at.print].path.as_path(),
                layout.blocks()[at.block].first_line,
                bytes,
            ));
        }
        let reread = loader.reread(&self.context, &pieces)?;
        reread.diagnostics.is_empty().then_some(reread.config)
    }

    /// Whether the previous build reported something inside one of `blocks`.
    fn reported_in(&self, layouts: &[Option<&Layout>], blocks: &[BlockRef]) -> bool {
        let lines_of = |at: &BlockRef| {
            let layout = layouts[at.print]?;
            let first = layout.blocks()[at.block].first_line;
            let end = layout
                .blocks()
                .get(at.block + 1)
                .map_or(u32::MAX, |b| b.first_line);
            Some((self.prints[at.print].path.as_path(), first..end))
        };
        let ranges: Vec<_> = blocks.iter().filter_map(lines_of).collect();
        self.load_diagnostics
            .iter()
            .chain(self.object_diagnostics.iter())
            .chain(self.phone_diagnostics.iter())
            .any(|d| {
                ranges
                    .iter()
                    .any(|(path, lines)| d.file == *path && lines.contains(&d.line))
            })
    }
}

/// A hash of a section name, to find its blocks ([`Basis::patch`]).
fn name_hash(name: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(name);
    hasher.finish()
}

/// Block `block` of `layout`, read from the file at `path` (opened into `file` on first use); `None` when
/// it cannot be read or is no longer the block the layout describes.
fn read_block(
    file: &mut Option<std::fs::File>,
    path: &Path,
    layout: &Layout,
    block: usize,
) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let file = match file {
        Some(file) => file,
        None => file.insert(open_regular(path)?),
    };
    let range = layout.range(block);
    let mut bytes = vec![0u8; range.len()];
    file.seek(SeekFrom::Start(range.start as u64)).ok()?;
    file.read_exact(&mut bytes).ok()?;
    let digest = layout.blocks().get(block)?.digest;
    (asterisk_config::layout::digest(&bytes) == digest).then_some(bytes)
}

/// The file at `path`, opened for reading if it is a regular file, as the loader reads them (opening a FIFO
/// would wait for a writer); `None` otherwise or when it cannot be opened.
fn open_regular(path: &Path) -> Option<std::fs::File> {
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    std::fs::File::open(path).ok()
}

/// Reads the file at `path` a piece at a time: its digest ([`asterisk_config::layout::FileDigest`]), and
/// with `layout` its layout, giving `capture` each block as it completes. `None` when it cannot be read.
fn cut(
    path: &Path,
    layout: bool,
    capture: &mut dyn FnMut(usize, &asterisk_config::layout::Block, &[u8]),
) -> Option<(u64, Option<Layout>)> {
    use std::io::Read;
    let mut file = open_regular(path)?;
    let mut piece = vec![0u8; 256 * 1024];
    if !layout {
        let mut digest = asterisk_config::layout::FileDigest::default();
        loop {
            match file.read(&mut piece) {
                Ok(0) => return Some((digest.finish(), None)),
                Ok(n) => digest.write(&piece[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
    }
    let mut cutter = asterisk_config::layout::Cutter::capturing(capture);
    loop {
        match file.read(&mut piece) {
            Ok(0) => return Some(cutter.finish()),
            Ok(n) => cutter.write(&piece[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// Whether every setvar's value depends only on the line's variables (not on the time, files or the
/// environment): lines kept from the previous build have the values it gave them.
fn setvars_pure(profiles: &[Profile]) -> bool {
    profiles
        .iter()
        .flat_map(|p| &p.setvars)
        .all(|(_, value)| super::carry::pure(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block is read where the layout puts it, and only while it is the block the layout was made from.
    #[test]
    fn a_block_is_read_only_while_it_is_what_the_layout_saw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phones.conf");
        let text = b"; fleet\n[a]\ntype = aor\n\n[b]\ntype = auth\npassword = x\n[c]\ntype = aor\n";
        std::fs::write(&path, text).unwrap();
        let layout = Layout::of(text).unwrap();
        let mut file = None;
        let b = read_block(&mut file, &path, &layout, 2).unwrap();
        assert_eq!(b, b"[b]\ntype = auth\npassword = x\n");
        assert_eq!(
            asterisk_config::layout::block_section_name(&b),
            Some(&b"b"[..])
        );
        assert_eq!(
            read_block(&mut file, &path, &layout, 3).unwrap(),
            b"[c]\ntype = aor\n"
        );
        // Same length, another byte: the digest tells.
        std::fs::write(
            &path,
            text.to_vec()
                .iter()
                .map(|&c| if c == b'x' { b'y' } else { c })
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let mut file = None;
        assert_eq!(read_block(&mut file, &path, &layout, 2), None);
        assert!(read_block(&mut file, &path, &layout, 3).is_some());
        // Shorter: the block is no longer all there.
        std::fs::write(&path, &text[..text.len() - 4]).unwrap();
        assert_eq!(read_block(&mut None, &path, &layout, 3), None);
        // No longer a regular file.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert_eq!(read_block(&mut None, &path, &layout, 1), None);
    }
}
