//! The site key: 32 random bytes in pjprov's state directory, from which pjprov derives the per-phone
//! secrets an admin did not set, so that they are stable across restarts, reloads and `pjprov render`, and
//! differ between sites and between phones.
//!
//! Today it gives `ADMIN_PASSWORD`: a phone's web and keypad administrator password, for the Handlebars
//! templates of its own files (never a shared file) when neither its `type=phoneprov` section nor a
//! `setvar` sets one. The password is 16 characters: an upper-case letter, a digit, a lower-case letter,
//! then 13 lower-case letters or digits (about 77 bits; no `0 1 l o I O`, which read alike), which meets
//! the complexity rules of phone web interfaces and is easy to type on a keypad.
//!
//! Derivation: HMAC-SHA256 of the key over `pjprov/admin-password/v1` and the MAC's 12 lower-case hex
//! digits. Losing the key changes every generated password at the next provisioning.

use ring::hmac;

use crate::mac::Mac;

/// The key (its bytes never leave this type: `Debug` shows nothing).
pub struct SiteKey(hmac::Key);

impl std::fmt::Debug for SiteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SiteKey(..)")
    }
}

/// Upper-case letters without `I` and `O`.
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Lower-case letters without `l` and `o`.
const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
/// Digits without `0` and `1`.
const DIGITS: &[u8] = b"23456789";
/// Lower-case letters and digits: 32 symbols, five bits each.
const REST: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

impl SiteKey {
    /// The key of `bytes`.
    pub fn new(bytes: &[u8; 32]) -> SiteKey {
        SiteKey(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }

    /// The administrator password of the phone with `mac`.
    pub fn admin_password(&self, mac: Mac) -> String {
        let mut context = hmac::Context::with_key(&self.0);
        context.update(b"pjprov/admin-password/v1\0");
        context.update(mac.to_string().as_bytes());
        let tag = context.sign();
        let bits = tag.as_ref();
        // 256 bits: byte 0 → upper, 1 → digit, 2 → lower, then 5 bits per character from byte 3 on. The
        // modulo of 24 on a byte is biased by under 1 in 10; the other alphabets are powers of two.
        let mut out = String::with_capacity(16);
        out.push(char::from(UPPER[usize::from(bits[0]) % UPPER.len()]));
        out.push(char::from(DIGITS[usize::from(bits[1]) % DIGITS.len()]));
        out.push(char::from(LOWER[usize::from(bits[2]) % LOWER.len()]));
        let mut acc: u32 = 0;
        let mut have = 0;
        for &byte in &bits[3..] {
            acc = (acc << 8) | u32::from(byte);
            have += 8;
            while have >= 5 && out.len() < 16 {
                have -= 5;
                out.push(char::from(REST[((acc >> have) & 31) as usize]));
            }
            if out.len() == 16 {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(text: &str) -> Mac {
        Mac::parse(text).unwrap()
    }

    #[test]
    fn stable_per_key_and_phone() {
        let key = SiteKey::new(&[7; 32]);
        let a = key.admin_password(mac("805ec0a10001"));
        assert_eq!(a, key.admin_password(mac("80:5E:C0:A1:00:01")));
        assert_ne!(a, key.admin_password(mac("805ec0a10002")));
        assert_ne!(
            a,
            SiteKey::new(&[8; 32]).admin_password(mac("805ec0a10001"))
        );
    }

    #[test]
    fn the_shape_phones_accept() {
        for seed in 0..64u8 {
            let key = SiteKey::new(&[seed; 32]);
            let password = key.admin_password(mac("0004f2a1b2c3"));
            assert_eq!(password.len(), 16, "{password}");
            let bytes = password.as_bytes();
            assert!(bytes[0].is_ascii_uppercase(), "{password}");
            assert!(bytes[1].is_ascii_digit(), "{password}");
            assert!(bytes[2].is_ascii_lowercase(), "{password}");
            assert!(
                bytes[3..]
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{password}"
            );
            assert!(
                !password.contains(['0', '1', 'l', 'o', 'I', 'O']),
                "{password}"
            );
        }
    }

    #[test]
    fn debug_shows_nothing() {
        assert_eq!(format!("{:?}", SiteKey::new(&[1; 32])), "SiteKey(..)");
    }
}
