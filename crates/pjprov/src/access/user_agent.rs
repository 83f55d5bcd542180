//! The MAC a phone puts in its HTTP User-Agent, for the vendors that do (peers.md §3).
//!
//! Each vendor's form is matched whole, so a number in some other product's User-Agent is never taken for a
//! MAC. Vendors that send no MAC (Polycom, Linksys, old Yealink and Snom firmware) give `None`, and then the
//! User-Agent binds nothing.

use std::sync::LazyLock;

use pjprov_core::Mac;
use regex::Regex;

/// The vendors' User-Agent forms; the first capture is the MAC.
static FORMS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37 / Yealink W52P 25.80.0.15 00:15:65:b8:60:05
        r"^[Yy]ealink[ -].*\s([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\s*$",
        // Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)
        r"snom\w+-SIP\s\S+\s\S+\s([0-9A-Fa-f]{12})\b",
        // Grandstream Model HW GXP2170 SW 1.0.11.85 DevId 000b82865e6a
        r"^Grandstream Model HW .* DevId ([0-9A-Fa-f]{12})\b",
        // Fanvil X4 2.10.2.6887 0c383e07e16c
        r"^Fanvil .*\s([0-9A-Fa-f]{12})\s*$",
        // Aastra6731i MAC:00-08-5D-23-74-29 V:3.2.0.70-SIP / Mitel6940 MAC:14-00-E9-1B-45-24 V:...
        r"^(?:Aastra|Mitel)\w* MAC:([0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}) ",
        // Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)
        r"^Cisco/\S+ \(([0-9A-Fa-f]{12})\)\(",
        // Cisco-CP-8841-3PCC/11.0 (00562b043615)
        r"^Cisco-\S+/\S+ \(([0-9A-Fa-f]{12})\)",
    ]
    .iter()
    .filter_map(|form| Regex::new(form).ok())
    .collect()
});

/// Cheap test before the regular expressions: does the User-Agent name a vendor that sends its MAC?
fn may_carry_mac(user_agent: &str) -> bool {
    let head = user_agent.get(..12).unwrap_or(user_agent);
    head.starts_with("Yealink")
        || head.starts_with("yealink")
        || head.starts_with("Grandstream")
        || head.starts_with("Fanvil")
        || head.starts_with("Aastra")
        || head.starts_with("Mitel")
        || head.starts_with("Cisco")
        || user_agent.contains("snom")
}

/// The MAC in `user_agent`, when the phone's vendor sends one.
pub fn mac_in(user_agent: &str) -> Option<Mac> {
    if !may_carry_mac(user_agent) {
        return None;
    }
    FORMS.iter().find_map(|form| {
        let mac = form.captures(user_agent)?.get(1)?;
        Mac::parse(mac.as_str()).filter(|m| !m.is_placeholder())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(text: &str) -> Option<String> {
        mac_in(text).map(|m| m.to_string())
    }

    #[test]
    fn vendors_that_send_their_mac() {
        for (ua, want) in [
            (
                "Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37",
                "0015654aa937",
            ),
            (
                "Yealink SIP VP-T49G 51.80.0.100 00:15:65:aa:bb:01",
                "001565aabb01",
            ),
            ("Yealink W52P 25.80.0.15 00:15:65:b8:60:05", "001565b86005"),
            (
                "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)",
                "000413922d24",
            ),
            (
                "Grandstream Model HW GXP2170 SW 1.0.11.85 DevId 000b82865e6a",
                "000b82865e6a",
            ),
            (
                "Grandstream Model HW GXV3240 V1.6B SW 1.0.3.30 DevId 000b82aabbcc",
                "000b82aabbcc",
            ),
            ("Fanvil X4 2.10.2.6887 0c383e07e16c", "0c383e07e16c"),
            ("Fanvil X6U Pro 0.0.10 0c383e2cd782", "0c383e2cd782"),
            (
                "Aastra6731i MAC:00-08-5D-23-74-29 V:3.2.0.70-SIP",
                "00085d237429",
            ),
            (
                "Mitel6940 MAC:14-00-E9-1B-45-24 V:6.4.0.140-SIP",
                "1400e91b4524",
            ),
            (
                "Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)",
                "0002fdff2103",
            ),
            ("Cisco-CP-8841-3PCC/11.0 (00562b043615)", "00562b043615"),
        ] {
            assert_eq!(mac(ua).as_deref(), Some(want), "{ua}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_user_agent_is_safe(ua in "(Yealink |Fanvil |Grandstream Model HW |Cisco/)?[ -~]{0,120}") {
            if let Some(mac) = mac_in(&ua) {
                proptest::prop_assert!(!mac.is_placeholder());
            }
        }
    }

    #[test]
    fn user_agents_without_a_mac() {
        for ua in [
            "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application",
            "Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0",
            "snom320-SIP 8.4.18 1.1.3-s",
            "Cisco/SPA525G-7.4.7 (CBT141900G7)",
            "Linksys/SPA-942-6.1.5(a) (88019FA42805)",
            "curl/8.5.0",
            "Mozilla/5.0 (X11; Linux x86_64) 0004f2aabbcc",
            "",
        ] {
            assert_eq!(mac(ua), None, "{ua}");
        }
    }
}
