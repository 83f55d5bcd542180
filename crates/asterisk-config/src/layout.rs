//! A file cut at its section headers, kept as digests: what lets a reload tell which sections of a large
//! file changed without keeping the old text.
//!
//! A *block* is a header line and the lines after it up to the next header (block 0: the lines before the
//! first header, possibly none). Two readings of a file whose blocks have the same digests at the same
//! lines parse to the same sections, except for the blocks whose digests differ: [`crate::Loader::reread`]
//! parses those alone.
//!
//! Telling headers apart without running the loader is only exact when no line's meaning depends on the
//! lines before it, so [`Layout::of`] gives up (`None`) on a file with a block comment (`;--`), a NUL byte
//! (the loader ignores what follows it on its line) or a line the loader skips for its length.

use std::hash::BuildHasher;
use std::ops::Range;

use crate::line;
use crate::loader::MAX_LINE_LEN;

/// The seed of every digest: digests are only compared within one process.
const SEED: u64 = 0x7068_6f6e_6570_726f;

/// A digest of `bytes` (foldhash's quality hasher: 64 bits, fast on long input).
pub fn digest(bytes: &[u8]) -> u64 {
    foldhash::quality::FixedState::with_seed(SEED).hash_one(bytes)
}

/// One block of a [`Layout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The digest of the block's bytes.
    pub digest: u64,
    /// The digest of its first line (its header: the section's name and options).
    pub header: u64,
    /// Where the block starts in the file (bytes).
    pub start: u32,
    /// The 1-based line it starts at (its header's line; 1 for block 0).
    pub first_line: u32,
}

/// A file's blocks, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    blocks: Vec<Block>,
    len: u32,
}

impl Layout {
    /// Cuts `bytes` (a whole file) at its headers; `None` when headers cannot be told line by line (see the
    /// module documentation) or the file is 4 GiB or more.
    pub fn of(bytes: &[u8]) -> Option<Layout> {
        print(bytes).1
    }

    /// The blocks, in file order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The byte range of block `index` in the file it was made from.
    pub fn range(&self, index: usize) -> Range<usize> {
        let start = self.blocks.get(index).map_or(self.len, |b| b.start) as usize;
        let end = self.blocks.get(index + 1).map_or(self.len, |b| b.start) as usize;
        start..end
    }
}

/// Files at least this large are printed on a thread of their own while they are parsed.
pub(crate) const PRINT_BESIDE: usize = 1 << 20;

/// [`print`] of `bytes`, and what `parse` returns. A file of [`PRINT_BESIDE`] bytes or more is printed on a
/// scoped thread of its own while `parse` runs on the calling thread (a 100,000-phone include file: 25 ms
/// beside a 250 ms parse); smaller ones, on one core, or when no thread can be started, one after the other. Either way
/// the results are the same.
pub(crate) fn print_beside<R>(
    bytes: &[u8],
    parse: impl FnOnce() -> R,
) -> ((u64, Option<Layout>), R) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if bytes.len() < PRINT_BESIDE || cores < 2 {
        return (print(bytes), parse());
    }
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new().name("config-print".into());
        match thread.spawn_scoped(scope, || print(bytes)) {
            Ok(handle) => {
                let parsed = parse();
                match handle.join() {
                    Ok(printed) => (printed, parsed),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Err(_) => (print(bytes), parse()),
        }
    })
}

/// The digest of the whole file `bytes` ([`digest_file`]) and its [`Layout`] ([`Layout::of`]), in one pass.
pub fn print(bytes: &[u8]) -> (u64, Option<Layout>) {
    let mut cutter = Cutter::new();
    for piece in bytes.chunks(PIECE) {
        cutter.write(piece);
    }
    cutter.finish()
}

/// How much of a file is read or digested at a time.
const PIECE: usize = 64 * 1024;

/// The digest of a whole file, the same whatever pieces its bytes come in: each 64 KiB piece digested,
/// the digests folded, then the length.
#[derive(Debug, Default)]
pub struct FileDigest {
    piece: Vec<u8>,
    folded: u64,
    len: u64,
}

impl FileDigest {
    /// Takes the next bytes of the file.
    pub fn write(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        while !bytes.is_empty() {
            if self.piece.is_empty() && bytes.len() >= PIECE {
                // A whole piece: digested where it is.
                let (whole, rest) = bytes.split_at(PIECE);
                self.fold_piece(digest(whole));
                bytes = rest;
                continue;
            }
            let room = PIECE - self.piece.len();
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.piece.extend_from_slice(now);
            bytes = rest;
            if self.piece.len() == PIECE {
                self.fold();
            }
        }
    }

    fn fold(&mut self) {
        self.fold_piece(digest(&self.piece));
        self.piece.clear();
    }

    fn fold_piece(&mut self, piece: u64) {
        self.folded = digest_pair(self.folded, piece);
    }

    /// The digest.
    pub fn finish(mut self) -> u64 {
        if !self.piece.is_empty() {
            self.fold();
        }
        digest_pair(self.folded, self.len)
    }
}

/// The digest of two numbers' 16 little-endian bytes.
fn digest_pair(first: u64, second: u64) -> u64 {
    let mut pair = [0; 16];
    pair[..8].copy_from_slice(&first.to_le_bytes());
    pair[8..].copy_from_slice(&second.to_le_bytes());
    digest(&pair)
}

/// The digest of the whole file `bytes` ([`FileDigest`]).
pub fn digest_file(bytes: &[u8]) -> u64 {
    let mut file = FileDigest::default();
    file.write(bytes);
    file.finish()
}

/// What [`Cutter::capturing`] calls with each block as it completes: its index, the block, its bytes.
pub type Capture<'c> = &'c mut dyn FnMut(usize, &Block, &[u8]);

/// Cuts a file into blocks as its bytes arrive, in pieces of any size, so that a large file is never held
/// whole; [`Cutter::finish`] gives the file's digest ([`FileDigest`]) and its [`Layout`]. A cutter made with
/// [`Cutter::capturing`] also hands each block's bytes, as it completes, to a function.
pub struct Cutter<'c> {
    blocks: Vec<Block>,
    /// Bytes not yet part of a completed block: `buf[block..]` is the block being read.
    buf: Vec<u8>,
    block: usize,
    /// Where in `buf` the line being read starts (the bytes before this write's have no newline after it).
    line: usize,
    /// Where `buf[0]` is in the file.
    offset: u64,
    /// Lines completed so far, and the line the block being read starts at.
    lines: u32,
    block_line: u32,
    file: FileDigest,
    /// False once the file turned out to have no layout.
    usable: bool,
    capture: Option<Capture<'c>>,
}

impl std::fmt::Debug for Cutter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cutter")
            .field("blocks", &self.blocks.len())
            .field("lines", &self.lines)
            .field("usable", &self.usable)
            .finish_non_exhaustive()
    }
}

impl Default for Cutter<'_> {
    fn default() -> Self {
        Cutter {
            blocks: Vec::new(),
            buf: Vec::new(),
            block: 0,
            line: 0,
            offset: 0,
            lines: 0,
            block_line: 1,
            file: FileDigest::default(),
            usable: true,
            capture: None,
        }
    }
}

impl<'c> Cutter<'c> {
    /// A cutter.
    pub fn new() -> Cutter<'c> {
        Cutter::default()
    }

    /// A cutter that gives `capture` each block (its index, the block, its bytes) as it completes.
    pub fn capturing(capture: Capture<'c>) -> Cutter<'c> {
        Cutter {
            capture: Some(capture),
            ..Cutter::default()
        }
    }

    /// Takes the next bytes of the file.
    pub fn write(&mut self, bytes: &[u8]) {
        self.file.write(bytes);
        if !self.usable {
            return;
        }
        // A block comment or a NUL anywhere: no layout. `;--` may straddle two pieces, whose line is
        // still in `buf`.
        let from = self.buf.len().saturating_sub(2);
        self.buf.extend_from_slice(bytes);
        if memchr::memchr(0, bytes).is_some()
            || memchr::memmem::find(&self.buf[from..], b";--").is_some()
        {
            self.usable = false;
            return;
        }
        let written = self.buf.len() - bytes.len();
        for found in memchr::memchr_iter(b'\n', bytes) {
            let end = written + found;
            self.end_line(end);
            self.line = end + 1;
            if !self.usable {
                return;
            }
        }
        // A line already too long to be read: no layout, and no need to hold more of it.
        if self.buf.len() - self.line >= MAX_LINE_LEN {
            self.usable = false;
            return;
        }
        // Keep only the block being read.
        if self.block > 0 {
            self.buf.drain(..self.block);
            self.offset += self.block as u64;
            self.line -= self.block;
            self.block = 0;
        }
    }

    /// The line `buf[self.line..end]` is complete.
    fn end_line(&mut self, end: usize) {
        let raw = &self.buf[self.line..end];
        let text = match self.lines {
            0 => raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw),
            _ => raw,
        };
        if raw.len() >= MAX_LINE_LEN {
            self.usable = false;
            return;
        }
        if first_visible(text) == Some(b'[') && self.line > self.block {
            self.end_block(self.line);
            self.block_line = self.lines + 1;
        }
        self.lines += 1;
    }

    /// The block being read ends where `buf[end..]` starts.
    fn end_block(&mut self, end: usize) {
        let bytes = &self.buf[self.block..end];
        let header = memchr::memchr(b'\n', bytes).map_or(bytes, |e| &bytes[..e]);
        let Ok(start) = u32::try_from(self.offset + self.block as u64) else {
            self.usable = false;
            return;
        };
        let block = Block {
            digest: digest(bytes),
            header: digest(header),
            start,
            first_line: self.block_line,
        };
        if let Some(capture) = self.capture.as_mut() {
            capture(self.blocks.len(), &block, bytes);
        }
        self.blocks.push(block);
        self.block = end;
    }

    /// The file's digest, and its layout (`None`: see [`Layout::of`]).
    pub fn finish(mut self) -> (u64, Option<Layout>) {
        if self.usable {
            // The piece after the last newline is a line too.
            let end = self.buf.len();
            self.end_line(end);
        }
        if self.usable {
            let end = self.buf.len();
            self.end_block(end);
        }
        let len = u32::try_from(self.file.len).ok();
        let digest = self.file.finish();
        match (self.usable, len) {
            (true, Some(len)) => (
                digest,
                Some(Layout {
                    blocks: self.blocks,
                    len,
                }),
            ),
            _ => (digest, None),
        }
    }
}

/// The section name in a block's header, as the loader reads it: the bytes between the `[` and the first
/// `]`. `None` for block 0 without a header, a header without `]`, or a name with a `;` (which the loader
/// reads as a comment, or as an escaped `;` when written `\;`).
pub fn block_section_name(block: &[u8]) -> Option<&[u8]> {
    let start = block.iter().position(|&b| !line::is_blank(b))?;
    let header = block[start..].strip_prefix(b"[")?;
    let end = memchr::memchr3(b']', b';', b'\n', header)?;
    (header[end] == b']').then(|| &header[..end])
}

/// The first byte of `text` that is not blank (what `ast_strip` would leave first).
fn first_visible(text: &[u8]) -> Option<u8> {
    text.iter().copied().find(|&b| !line::is_blank(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_digest_is_the_same_however_its_bytes_arrive() {
        // Over several pieces, so that whole pieces are digested in place and others are gathered first.
        let bytes: Vec<u8> = (0..3 * PIECE + 123).map(|i| (i % 251) as u8).collect();
        let whole = digest_file(&bytes);
        for cut in [1, 1000, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE + 7] {
            let mut file = FileDigest::default();
            for piece in bytes.chunks(cut) {
                file.write(piece);
            }
            assert_eq!(file.finish(), whole, "pieces of {cut}");
        }
        let mut file = FileDigest::default();
        file.write(&bytes[..10]);
        file.write(&bytes[10..]);
        assert_eq!(file.finish(), whole, "a short piece, then the rest at once");
        assert_ne!(digest_file(&bytes[1..]), whole);
        assert_eq!(print(&bytes).0, whole);
    }

    #[test]
    fn blocks_start_at_headers() {
        let text = b"; top\n[a]\nx = 1\n\n  [b](t) ; c\ny = 2\n";
        let layout = Layout::of(text).unwrap();
        let starts: Vec<u32> = layout.blocks().iter().map(|b| b.first_line).collect();
        assert_eq!(starts, [1, 2, 5]);
        assert_eq!(&text[layout.range(1)], b"[a]\nx = 1\n\n");
        let name = |index| block_section_name(&text[layout.range(index)]);
        assert_eq!(name(1), Some(&b"a"[..]));
        assert_eq!(name(2), Some(&b"b"[..]));
        assert_eq!(name(0), None);
        for (text, name) in [
            (&b"[a](t)\n"[..], Some(&b"a"[..])),
            (b"  [a b] ; c\n", Some(b"a b")),
            (b"[a;b]\n", None),
            (b"[a\n", None),
        ] {
            let layout = Layout::of(text).unwrap();
            assert_eq!(block_section_name(&text[layout.range(0)]), name, "{text:?}");
        }
    }

    #[test]
    fn a_header_on_the_first_line_is_block_zero() {
        let text = b"\xEF\xBB\xBF[a]\nx = 1\n[b]\n";
        let layout = Layout::of(text).unwrap();
        assert_eq!(layout.blocks().len(), 2);
        assert_eq!(layout.blocks()[0].first_line, 1);
        assert_eq!(layout.blocks()[1].first_line, 3);
    }

    #[test]
    fn an_edit_changes_only_its_block() {
        let before = Layout::of(b"[a]\nx = 1\n[b]\ny = 2\n[c]\n").unwrap();
        let after = Layout::of(b"[a]\nx = 1\n[b]\ny = 3\n[c]\n").unwrap();
        let changed: Vec<(bool, bool)> = before
            .blocks()
            .iter()
            .zip(after.blocks())
            .map(|(a, b)| (a.digest != b.digest, a.header != b.header))
            .collect();
        assert_eq!(changed, [(false, false), (true, false), (false, false)]);
        let renamed = Layout::of(b"[a]\nx = 1\n[B]\ny = 2\n[c]\n").unwrap();
        assert_ne!(renamed.blocks()[1].header, before.blocks()[1].header);
    }

    proptest::proptest! {
        /// Any pieces give the layout and digest of the whole, and each block's bytes to a capture.
        #[test]
        fn pieces_cut_as_the_whole(
            lines in proptest::collection::vec(proptest::sample::select(sample_lines()), 0..12),
            cuts in proptest::collection::vec(proptest::prop_oneof![1..9usize, 4000..9000usize], 1..6),
            newline_at_end in proptest::bool::ANY,
        ) {
            let mut text = lines.join("\n");
            if newline_at_end {
                text.push('\n');
            }
            let bytes = text.as_bytes();
            let whole = Layout::of(bytes);
            let mut captured: Vec<(usize, Vec<u8>)> = Vec::new();
            let mut capture = |index: usize, _: &Block, block: &[u8]| captured.push((index, block.to_vec()));
            let mut cutter = Cutter::capturing(&mut capture);
            let mut rest = bytes;
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, after) = rest.split_at((*cut).min(rest.len()));
                cutter.write(piece);
                rest = after;
            }
            let (file_digest, layout) = cutter.finish();
            proptest::prop_assert_eq!(file_digest, digest_file(bytes));
            proptest::prop_assert_eq!(&layout, &whole);
            let starts = layout
                .as_ref()
                .map(|l| l.blocks().iter().map(|b| (b.start, b.first_line)).collect::<Vec<_>>());
            proptest::prop_assert_eq!(starts, reference(bytes));
            if let Some(layout) = layout {
                proptest::prop_assert_eq!(captured.len(), layout.blocks().len());
                for (index, block) in captured {
                    proptest::prop_assert_eq!(&block[..], &bytes[layout.range(index)]);
                    proptest::prop_assert_eq!(digest(&block), layout.blocks()[index].digest);
                }
            }
        }
    }

    /// Lines the cutter must tell apart: headers (also after blanks, a BOM, or with a second `[`), `[`s that
    /// start no header, what gives no layout, and the longest line the loader reads and one longer.
    fn sample_lines() -> Vec<String> {
        let mut lines: Vec<String> = [
            "[a]",
            "  [b](t) ; c",
            "x = 1",
            "",
            "; note",
            "\u{feff}[c]",
            "y=[z]",
            " \t",
            ";-- x",
            "\0",
            " [d]x[e]",
            "\t\r[f][g]",
            "x[",
            "[",
        ]
        .map(str::to_owned)
        .into();
        lines.push(format!("x = {}", "y".repeat(MAX_LINE_LEN - 5)));
        lines.push("y".repeat(MAX_LINE_LEN));
        lines
    }

    /// The blocks' starts and lines, line by line as the loader reads lines: the oracle of the cutter.
    fn reference(bytes: &[u8]) -> Option<Vec<(u32, u32)>> {
        if memchr::memmem::find(bytes, b";--").is_some()
            || bytes.contains(&0)
            || bytes
                .split(|&b| b == b'\n')
                .any(|l| l.len() >= MAX_LINE_LEN)
        {
            return None;
        }
        let mut starts = vec![(0, 1)];
        let mut offset = 0;
        for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let text = if index == 0 {
                raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
            } else {
                raw
            };
            if line::strip(text).first() == Some(&b'[') {
                if offset == 0 {
                    starts[0] = (0, 1);
                } else {
                    starts.push((offset as u32, index as u32 + 1));
                }
            }
            offset += raw.len() + 1;
        }
        Some(starts)
    }

    #[test]
    fn headers_that_need_context_give_no_layout() {
        assert!(Layout::of(b"[a]\n;-- [b]\n--;\n").is_none());
        assert!(Layout::of(b"[a]\nx = 1\0[b]\n").is_none());
        let long = format!("[a]\nx = {}\n", "y".repeat(MAX_LINE_LEN));
        assert!(Layout::of(long.as_bytes()).is_none());
        // Found while the line is still being read, so a file without newlines is never held whole.
        let mut cutter = Cutter::new();
        cutter.write(b"[a]\n");
        cutter.write(&vec![b'y'; MAX_LINE_LEN]);
        assert!(!cutter.usable && cutter.buf.len() <= MAX_LINE_LEN + 4);
        assert!(cutter.finish().1.is_none());
    }
}
