//! func_md5.c and func_sha1.c: `MD5(data)` and `SHA1(data)`, lower-case hex digests of the argument's
//! bytes (32 and 40 characters, within their 33- and 42-byte buffers). Both fail on an empty argument.

use sha1::Digest;

use super::{Call, Outcome};

fn hex(digest: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in digest {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0xf)]);
    }
}

/// `MD5(data)`.
pub(crate) fn md5(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        call.issue("Syntax: MD5(<data>) - missing argument!");
        return Ok(false);
    }
    hex(&md5::Md5::digest(data), out);
    Ok(true)
}

/// `SHA1(data)`.
pub(crate) fn sha1(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        call.issue("Syntax: SHA1(<data>) - missing argument!");
        return Ok(false);
    }
    hex(&sha1::Sha1::digest(data), out);
    Ok(true)
}
