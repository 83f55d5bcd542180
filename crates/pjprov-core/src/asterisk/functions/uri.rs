//! func_uri.c: `URIENCODE` and `URIDECODE`, with `ast_uri_encode` and `ast_uri_decode` (main/utils.c) in
//! the `ast_uri_http` mode.
//!
//! `URIENCODE` keeps letters, digits and RFC 2396's marks `-_.!~*'()` and writes every other byte as
//! `%XX` (upper-case hex), stopping before an escape that would not fit in the 4096-byte buffer.
//! `URIDECODE` first copies its argument into that buffer (4095 bytes at most), then decodes `%XX` the way
//! `sscanf("%2x")` reads it; `+` stays a `+`. A decoded NUL ends the result.

use super::{Call, Outcome};

const MARKS: &[u8] = b"-_.!~*'()";

/// `URIENCODE(data)`.
pub(crate) fn encode(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let size = call.len();
    let start = out.len();
    for &b in data {
        let written = out.len() - start;
        if written + 1 >= size {
            break;
        }
        if b.is_ascii_alphanumeric() || MARKS.contains(&b) {
            out.push(b);
        } else {
            if written + 3 >= size {
                break;
            }
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    Ok(true)
}

/// `URIDECODE(data)`.
pub(crate) fn decode(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let copied = &data[..data.len().min(call.len().saturating_sub(1))];
    out.extend_from_slice(&crate::uri::decode_bytes(copied, false));
    Ok(true)
}
