//! MAC addresses as security checks compare them: 48 bits, whatever case or separators they were written
//! with.
//!
//! Asterisk compares a phone's `MAC` as a plain string (and so does the route table, for compatibility), but
//! a User-Agent (`00:15:65:4a:a9:37`), a certificate (`SEP0004F2AABBCC`) and a file name
//! (`0004F2AABBCC.cfg`) must all agree on one phone: they meet here.

use std::fmt;

/// A MAC address: six bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac([u8; 6]);

impl Mac {
    /// Reads 12 hex digits, alone or grouped by `:`, `-`, `.` or spaces (`0004f2aabbcc`, `00:04:F2:AA:BB:CC`,
    /// `0004.f2aa.bbcc`). Anything else is `None`.
    pub fn parse(text: &str) -> Option<Mac> {
        let mut digits = [0u8; 12];
        let mut count = 0;
        for byte in text.trim().bytes() {
            match byte {
                b':' | b'-' | b'.' | b' ' => continue,
                _ => {
                    let value = hex_value(byte)?;
                    *digits.get_mut(count)? = value;
                    count += 1;
                }
            }
        }
        (count == 12).then(|| Mac::from_digits(&digits))
    }

    /// Reads exactly 12 hex digits (no separators) from the start of `bytes`.
    pub fn from_hex12(bytes: &[u8]) -> Option<Mac> {
        let bytes = bytes.get(..12)?;
        let mut digits = [0u8; 12];
        for (digit, byte) in digits.iter_mut().zip(bytes) {
            *digit = hex_value(*byte)?;
        }
        Some(Mac::from_digits(&digits))
    }

    fn from_digits(digits: &[u8; 12]) -> Mac {
        let mut bytes = [0u8; 6];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = digits[2 * i] << 4 | digits[2 * i + 1];
        }
        Mac(bytes)
    }

    /// The MAC of these six bytes.
    pub fn from_octets(octets: [u8; 6]) -> Mac {
        Mac(octets)
    }

    /// The six bytes.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// The 12 hex digits, lower case, without allocating.
    pub fn hex(&self) -> [u8; 12] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 12];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0xf)];
        }
        hex
    }

    /// The 12 hex digits as text, without allocating (what `to_string` gives).
    pub fn text(&self) -> MacText {
        MacText(self.hex())
    }

    /// True for addresses no phone has: the vendor prefix is `00:00:00`. Polycom's `000000000000.cfg` and
    /// Yealink's `y0000000000XX.cfg` (a model code) are such names.
    pub fn is_placeholder(&self) -> bool {
        self.0[..3] == [0, 0, 0]
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Twelve lower-case hex digits, as most phones ask for their file.
impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

/// A MAC's 12 hex digits as text ([`Mac::text`]), held without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacText([u8; 12]);

impl MacText {
    /// The digits.
    pub fn as_str(&self) -> &str {
        // Hex digits are ASCII: never empty.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_one_address() {
        let mac = Mac::parse("0004f2aabbcc").unwrap();
        for text in [
            "0004F2AABBCC",
            "00:04:f2:aa:bb:cc",
            "00-04-F2-AA-BB-CC",
            "0004.f2aa.bbcc",
            " 0004f2aabbcc ",
        ] {
            assert_eq!(Mac::parse(text), Some(mac), "{text}");
        }
        assert_eq!(mac.to_string(), "0004f2aabbcc");
        assert_eq!(&mac.hex(), b"0004f2aabbcc");
        let high = Mac::from_octets([0xff, 0xa0, 0x0f, 0x10, 0x01, 0x9e]);
        assert_eq!(high.hex(), *high.to_string().as_bytes());
        assert_eq!(Mac::from_hex12(b"0004F2AABBCC.cfg"), Some(mac));
    }

    #[test]
    fn not_addresses() {
        for text in ["", "0004f2aabbc", "0004f2aabbccd", "0004f2aabbcg", "phone"] {
            assert_eq!(Mac::parse(text), None, "{text}");
        }
        assert_eq!(Mac::from_hex12(b"0004f2aabb"), None);
    }

    #[test]
    fn placeholders() {
        assert!(Mac::parse("000000000000").unwrap().is_placeholder());
        assert!(Mac::parse("000000000025").unwrap().is_placeholder());
        assert!(!Mac::parse("0004f2aabbcc").unwrap().is_placeholder());
    }
}
