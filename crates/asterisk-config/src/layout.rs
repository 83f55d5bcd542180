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
use crate::loader::{MAX_LINE_LEN, lines};

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
        let len = u32::try_from(bytes.len()).ok()?;
        if memchr::memmem::find(bytes, b";--").is_some() || memchr::memchr(0, bytes).is_some() {
            return None;
        }
        let mut starts: Vec<(u32, u32)> = vec![(0, 1)];
        let mut offset = 0usize;
        for (index, raw) in lines(bytes).enumerate() {
            if raw.len() >= MAX_LINE_LEN {
                return None;
            }
            let mut text = raw;
            if index == 0 {
                text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
            }
            if first_visible(text) == Some(b'[') {
                let at = (u32::try_from(offset).ok()?, u32::try_from(index + 1).ok()?);
                if at.0 == 0 {
                    starts[0] = at;
                } else {
                    starts.push(at);
                }
            }
            offset += raw.len() + 1;
        }
        let mut blocks = Vec::with_capacity(starts.len());
        for (i, &(start, first_line)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(len, |next| next.0);
            let block = &bytes[start as usize..end as usize];
            let header = lines(block).next().unwrap_or_default();
            blocks.push(Block {
                digest: digest(block),
                header: digest(header),
                start,
                first_line,
            });
        }
        Some(Layout { blocks, len })
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

    /// The block whose header is at `line`.
    pub fn block_at_line(&self, line: u32) -> Option<usize> {
        let index = self
            .blocks
            .binary_search_by_key(&line, |b| b.first_line)
            .ok()?;
        Some(index)
    }

    /// The section name in block `index`'s header, as the loader reads it (`bytes`: the file the layout was
    /// made from): the bytes between the `[` and the first `]`. `None` for block 0 without a header, a
    /// header without `]`, or a name with a `;` (which the loader reads as a comment, or as an escaped
    /// `;` when written `\;`).
    pub fn section_name<'a>(&self, bytes: &'a [u8], index: usize) -> Option<&'a [u8]> {
        let block = bytes.get(self.range(index))?;
        let start = block.iter().position(|&b| !line::is_blank(b))?;
        let header = block[start..].strip_prefix(b"[")?;
        let end = memchr::memchr3(b']', b';', b'\n', header)?;
        (header[end] == b']').then(|| &header[..end])
    }
}

/// The first byte of `text` that is not blank (what `ast_strip` would leave first).
fn first_visible(text: &[u8]) -> Option<u8> {
    text.iter().copied().find(|&b| !line::is_blank(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_start_at_headers() {
        let text = b"; top\n[a]\nx = 1\n\n  [b](t) ; c\ny = 2\n";
        let layout = Layout::of(text).unwrap();
        let starts: Vec<u32> = layout.blocks().iter().map(|b| b.first_line).collect();
        assert_eq!(starts, [1, 2, 5]);
        assert_eq!(&text[layout.range(1)], b"[a]\nx = 1\n\n");
        assert_eq!(layout.section_name(text, 1), Some(&b"a"[..]));
        assert_eq!(layout.section_name(text, 2), Some(&b"b"[..]));
        assert_eq!(layout.section_name(text, 0), None);
        assert_eq!(layout.block_at_line(5), Some(2));
        assert_eq!(layout.block_at_line(3), None);
        for (text, name) in [
            (&b"[a](t)\n"[..], Some(&b"a"[..])),
            (b"  [a b] ; c\n", Some(b"a b")),
            (b"[a;b]\n", None),
            (b"[a\n", None),
        ] {
            let layout = Layout::of(text).unwrap();
            assert_eq!(layout.section_name(text, 0), name, "{text:?}");
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

    #[test]
    fn headers_that_need_context_give_no_layout() {
        assert!(Layout::of(b"[a]\n;-- [b]\n--;\n").is_none());
        assert!(Layout::of(b"[a]\nx = 1\0[b]\n").is_none());
        let long = format!("[a]\nx = {}\n", "y".repeat(MAX_LINE_LEN));
        assert!(Layout::of(long.as_bytes()).is_none());
    }
}
