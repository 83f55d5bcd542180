//! func_base64.c: `BASE64_ENCODE` and `BASE64_DECODE` (both `.read2`: unbounded), with
//! `ast_base64encode` and `ast_base64decode` (main/utils.c).
//!
//! Encoding is standard base64 with `=` padding. Decoding is Asterisk's lenient one: it stops at the
//! first `=` (or the end), reads every other byte as six bits, any byte outside the alphabet as 63 (the
//! table's -1 masked to six bits), drops left-over bits, and the result ends at its first NUL. Bytes from
//! 0x80 up index before Asterisk's table (a signed `char`); pjprov reads them as 63 too. Both fail on an
//! empty argument.

use base64::Engine;

use super::{Call, Outcome};

/// `BASE64_ENCODE(string)`.
pub(crate) fn encode(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        call.issue("Syntax: BASE64_ENCODE(<data>) - missing argument!");
        return Ok(false);
    }
    out.extend_from_slice(
        base64::engine::general_purpose::STANDARD
            .encode(data)
            .as_bytes(),
    );
    Ok(true)
}

fn sextet(b: u8) -> u32 {
    u32::from(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => 63,
    })
}

/// `ast_base64decode`.
fn lenient_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4 + 2);
    let (mut byte, mut bits) = (0u32, 0u32);
    for &c in text.iter().take_while(|&&c| c != b'=') {
        byte = (byte << 6) | sextet(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((byte >> bits) as u8);
        }
    }
    out
}

/// `BASE64_DECODE(string)`.
pub(crate) fn decode(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        call.issue("Syntax: BASE64_DECODE(<data>) - missing argument!");
        return Ok(false);
    }
    out.extend_from_slice(&lenient_decode(data));
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::lenient_decode;

    #[test]
    fn decoding_is_asterisks_lenient_one() {
        assert_eq!(lenient_decode(b"aGVsbG8="), b"hello");
        assert_eq!(lenient_decode(b"aGVsbG8"), b"hello");
        assert_eq!(lenient_decode(b"aGVs=bG8"), b"hel", "stops at the first =");
        assert_eq!(
            lenient_decode(b"aGV sbG8"),
            lenient_decode(b"aGV/sbG8"),
            "junk is 63"
        );
        assert_eq!(lenient_decode(b"QQ"), b"A");
        assert_eq!(lenient_decode(b"Q"), b"");
    }
}
