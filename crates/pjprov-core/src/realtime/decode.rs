//! From a row to the variables sorcery applies, byte for byte as Asterisk 22.10.1 does it:
//!
//! * `res_config_pgsql.c` (`realtime_pgsql`, `realtime_multi_pgsql`): each column's text is split at every
//!   `;` (`strsep`); each chunk is `ast_strip`ped, `^XX`-decoded (`ast_realtime_decode_chunk`) and dropped
//!   when that leaves nothing. The variable keeps the chunk's *original* start, so leading blanks survive
//!   while trailing ones do not. A NULL reads as `""`, so NULL, `''` and blanks all mean "no variable".
//!   One column can therefore give several variables of one name (`allow=ulaw;alaw`): the realtime form of
//!   a repeated option.
//! * `main/config.c ast_load_realtime_fields` (the single-row path, used by retrieve-by-id): a value that is
//!   exactly `" "` (only a stored `^20` gives one) becomes `""` and is kept.
//! * `res_sorcery_realtime.c sorcery_realtime_filter_objectset`: the variable named exactly `id` is taken
//!   out and becomes the object's id (the last one, if `;` made several); rows without one are skipped.
//!
//! Lookups by id go through SQL (`WHERE id = '<v>'`) with the value escaped first (`ESCAPE_STRING`: `;` as
//! `^3B`, `^` as `^5E`), so the id a row answers to is the inverse of that escaping applied to the raw
//! column ([`lookup_key`]).

use super::rows::TableRows;

/// Which of res_config_pgsql's two read paths produced the variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadPath {
    /// `realtime_pgsql` through `ast_load_realtime_fields`: sorcery's retrieve by id (endpoints, auths and
    /// transports, which res_pjsip_phoneprov_provider looks up by id).
    Single,
    /// `realtime_multi_pgsql`: sorcery's retrieve of every object (phoneprov's `load_users`).
    Multi,
}

/// What decoding met that deserves a warning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Notes {
    /// A `^` followed by fewer than two characters at the end of a chunk: Asterisk's decoder then reads
    /// past the end of the value (undefined); pjprov keeps the characters as they are.
    pub undefined_escape: bool,
    /// A `^XX` gave bytes that are not UTF-8: they were replaced with U+FFFD.
    pub lossy: bool,
}

/// The variables one column value gives, in order.
pub(crate) fn chunks(value: &str, path: ReadPath, notes: &mut Notes) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in value.as_bytes().split(|&b| b == b';') {
        let lead = chunk.iter().take_while(|&&b| b < 33).count();
        let rest = &chunk[lead..];
        let trail = rest.iter().rev().take_while(|&&b| b < 33).count();
        let stripped = &rest[..rest.len() - trail];
        let mut decoded = decode_chunk(stripped, notes);
        // A C string ends at its first NUL (`^00`).
        if let Some(nul) = decoded.iter().position(|&b| b == 0) {
            decoded.truncate(nul);
        }
        if decoded.is_empty() {
            continue;
        }
        let mut bytes = chunk[..lead].to_vec();
        bytes.extend_from_slice(&decoded);
        if path == ReadPath::Single && bytes == b" " {
            bytes.clear();
        }
        out.push(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                notes.lossy = true;
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        });
    }
    out
}

/// `ast_realtime_decode_chunk`: `^` and two hex digits is that byte; one pass, left to right.
fn decode_chunk(chunk: &[u8], notes: &mut Notes) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len());
    let mut i = 0;
    while i < chunk.len() {
        let b = chunk[i];
        if b == b'^' {
            match (chunk.get(i + 1), chunk.get(i + 2)) {
                (Some(&high), Some(&low))
                    if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() =>
                {
                    out.push(hex(high) << 4 | hex(low));
                    i += 3;
                    continue;
                }
                // `strchr("0123…", '\0')` is true in C: Asterisk goes on past the end of the value.
                (None, _) => notes.undefined_escape = true,
                (Some(high), None) if high.is_ascii_hexdigit() => notes.undefined_escape = true,
                _ => {}
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

fn hex(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit.wrapping_sub(b'A').wrapping_add(10),
    }
}

/// The id a lookup must ask for to find a row whose raw `id` column is `raw`: the inverse of
/// `ESCAPE_STRING`. `None` when no id finds it (a raw `;`, or a `^` that is not `^3B` or `^5E`).
pub(crate) fn lookup_key(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b';' => return None,
            b'^' => match bytes.get(i + 1..i + 3) {
                Some(b"3B") => out.push(b';'),
                Some(b"5E") => out.push(b'^'),
                _ => return None,
            },
            b => {
                out.push(b);
                i += 1;
                continue;
            }
        }
        i += 3;
    }
    String::from_utf8(out).ok()
}

/// One row as sorcery sees it before the type's field filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjectSet<'a> {
    /// The object's id: the last `id` variable.
    pub id: Option<String>,
    /// Every other variable, in column order (names exactly as PostgreSQL reports them).
    pub vars: Vec<(&'a str, String)>,
    pub notes: Notes,
}

/// Row `index` of `rows`, decoded for `path`.
pub(crate) fn object_set(rows: &TableRows, index: usize, path: ReadPath) -> ObjectSet<'_> {
    let mut set = ObjectSet::default();
    for (column, value) in rows.row(index) {
        for chunk in chunks(value, path, &mut set.notes) {
            if column == "id" {
                set.id = Some(chunk);
            } else {
                set.vars.push((column, chunk));
            }
        }
    }
    set
}

/// The raw text of row `index`'s `id` column (what `WHERE id = …` compares).
pub(crate) fn raw_id(rows: &TableRows, index: usize) -> Option<&str> {
    rows.row(index)
        .find(|(column, _)| *column == "id")
        .map(|(_, value)| value)
}
