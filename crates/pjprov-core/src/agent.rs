//! What a phone's HTTP User-Agent says about it: vendor, model, firmware, and the MAC for the vendors that
//! send one. One parser for access control (the User-Agent binding), the inventory (`pjprov status`) and
//! templates (`UA_MODEL`, the firmware family).
//!
//! Each vendor's form is matched whole (forms from vendors' documentation and wazo-provd-plugins' extractors,
//! written anew), so a number in some other product's User-Agent is never taken for a MAC. Vendors that send
//! no MAC (Polycom, Linksys, old Yealink and Snom firmware, Cisco SPA525G) give `mac: None`.

use std::sync::LazyLock;

use regex::Regex;

use crate::mac::Mac;

/// A phone maker, as its User-Agent names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    /// Yealink.
    Yealink,
    /// Poly / Polycom.
    Polycom,
    /// Snom (desk phones and DECT bases).
    Snom,
    /// Grandstream.
    Grandstream,
    /// Fanvil.
    Fanvil,
    /// Cisco SPA and Linksys.
    CiscoSpa,
    /// Cisco multiplatform (MPP / 3PCC).
    CiscoMpp,
    /// Aastra / Mitel.
    Mitel,
}

impl Vendor {
    /// A short lower-case name (`yealink`, `cisco-mpp`): what templates and the inventory show.
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Yealink => "yealink",
            Vendor::Polycom => "polycom",
            Vendor::Snom => "snom",
            Vendor::Grandstream => "grandstream",
            Vendor::Fanvil => "fanvil",
            Vendor::CiscoSpa => "cisco-spa",
            Vendor::CiscoMpp => "cisco-mpp",
            Vendor::Mitel => "mitel",
        }
    }
}

/// What a User-Agent says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Agent {
    /// The maker.
    pub vendor: Vendor,
    /// The model as the phone writes it (`SIP-T46G` → `T46G`, `VVX_400`, `D785`, `GXP2170`, `8841`).
    pub model: String,
    /// The firmware version (`28.72.0.1`).
    pub firmware: String,
    /// The MAC, for vendors that send it.
    pub mac: Option<Mac>,
}

struct Form {
    vendor: Vendor,
    regex: Regex,
}

/// Every form, with named groups `model`, `fw` and, where the vendor sends it, `mac`.
static FORMS: LazyLock<Vec<Form>> = LazyLock::new(|| {
    [
        // Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37 / Yealink SIP VP-T49G ... / Yealink W52P ... / W52P ...
        (
            Vendor::Yealink,
            r"^(?:[Yy]ealink[ -]+)?(?:SIP(?: VP)?-)?(?P<model>[A-Z]{1,3}\w*?) +(?P<fw>\d+\.\d+\.\d+\.\d+) +(?P<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\s*$",
        ),
        // Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0 (no MAC)
        (
            Vendor::Yealink,
            r"^[Yy]ealink-(?P<model>\w+) (?P<fw>[\d.]+) [\d.]+\s*$",
        ),
        // FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application
        (
            Vendor::Polycom,
            r"^FileTransport Polycom[A-Za-z]+-(?P<model>[A-Za-z]+_\d+\w*)-UA/(?P<fw>\d+(?:\.\d+)+)",
        ),
        // Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)
        (
            Vendor::Snom,
            r"\bsnom(?P<model>[A-Z]?\d{3}[A-Z]?|PA1|MP)-SIP (?P<fw>\d+(?:\.\d+)+)(?:\s+\S+)?(?:\s+(?P<mac>[0-9A-Fa-f]{12})\b)?",
        ),
        // Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)
        (
            Vendor::Snom,
            r"\b[Ss]nom ?(?P<model>M\d{3}) (?P<fw>\d+(?:\.\d+)+) (?P<mac>[0-9A-Fa-f]{12})\b",
        ),
        // Grandstream Model HW GXP2170 SW 1.0.11.85 DevId 000b82865e6a (and a hardware revision before SW)
        (
            Vendor::Grandstream,
            r"^Grandstream Model HW (?P<model>[A-Z]+\d+[A-Z0-9]*) +(?:V[0-9A-Z.]+ +)?SW (?P<fw>[\d.]+) +DevId (?P<mac>[0-9A-Fa-f]{12})\b",
        ),
        // Fanvil X4 2.10.2.6887 0c383e07e16c / Fanvil X6U Pro 0.0.10 0c383e2cd782
        (
            Vendor::Fanvil,
            r"^Fanvil (?P<model>[A-Za-z]\w*(?:-V\d)?(?: ?Pro)?) (?P<fw>\d+(?:\.\d+)*) (?P<mac>[0-9A-Fa-f]{12})\s*$",
        ),
        // Aastra6731i MAC:00-08-5D-23-74-29 V:3.2.0.70-SIP / Mitel6940 MAC:14-00-E9-1B-45-24 V:6.4.0.140-SIP
        (
            Vendor::Mitel,
            r"^(?:Aastra|Mitel)(?P<model>\w*) MAC:(?P<mac>[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}) V:(?P<fw>[\d.]+)",
        ),
        // Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK) / Cisco/SPA525G-7.4.7 (CBT141900G7)
        (
            Vendor::CiscoSpa,
            r"^Cisco/(?P<model>[A-Z]+\d+[A-Z0-9]*)-(?P<fw>\S+) (?:\((?P<mac>[0-9A-Fa-f]{12})\))?\(\w+\)\s*$",
        ),
        // Linksys/SPA-942-6.1.5(a) (88019FA42805): the parenthesis is the serial number, not the MAC.
        (
            Vendor::CiscoSpa,
            r"^Linksys/(?P<model>[\w-]+?)-(?P<fw>[^\s-]+) \(\w+\)\s*$",
        ),
        // Cisco-CP-8841-3PCC/11.0 (00562b043615)
        (
            Vendor::CiscoMpp,
            r"^Cisco-(?:CP-)?(?P<model>\d{4}\w*?)(?:-3PCC)?/(?P<fw>\S+) \((?P<mac>[0-9A-Fa-f]{12})\)",
        ),
    ]
    .into_iter()
    .filter_map(|(vendor, form)| {
        Some(Form {
            vendor,
            regex: Regex::new(form).ok()?,
        })
    })
    .collect()
});

/// Cheap test before the regular expressions: does the User-Agent name a vendor pjprov knows?
fn may_match(user_agent: &str) -> bool {
    let head = user_agent.get(..14).unwrap_or(user_agent);
    head.starts_with("Yealink")
        || head.starts_with("yealink")
        || head.starts_with("FileTransport")
        || head.starts_with("Grandstream")
        || head.starts_with("Fanvil")
        || head.starts_with("Aastra")
        || head.starts_with("Mitel")
        || head.starts_with("Cisco")
        || head.starts_with("Linksys")
        || user_agent.contains("snom")
        || user_agent.contains("Snom")
        // Yealink DECT bases without the vendor name: `W52P 25.80.0.15 00:15:65:b8:60:05`.
        || user_agent.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
}

impl Agent {
    /// Reads `user_agent`; `None` for a User-Agent of no vendor pjprov knows.
    pub fn parse(user_agent: &str) -> Option<Agent> {
        if user_agent.len() > 512 || !may_match(user_agent) {
            return None;
        }
        FORMS.iter().find_map(|form| {
            let captures = form.regex.captures(user_agent)?;
            let model = captures.name("model")?.as_str().replace(' ', "-");
            let firmware = captures.name("fw")?.as_str().to_owned();
            let mac = captures
                .name("mac")
                .and_then(|m| Mac::parse(m.as_str()))
                .filter(|m| !m.is_placeholder());
            Some(Agent {
                vendor: form.vendor,
                model,
                firmware,
                mac,
            })
        })
    }
}

/// The MAC in `user_agent`, when the phone's vendor sends one.
pub fn mac_in(user_agent: &str) -> Option<Mac> {
    Agent::parse(user_agent)?.mac
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
            ("W52P 25.30.0.2 00:15:65:44:b3:7c", "00156544b37c"),
            (
                "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)",
                "000413922d24",
            ),
            (
                "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)",
                "000413b60680",
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

    #[test]
    fn models_and_firmware() {
        for (ua, vendor, model, firmware) in [
            (
                "Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37",
                Vendor::Yealink,
                "T46G",
                "28.72.0.1",
            ),
            (
                "Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0",
                Vendor::Yealink,
                "T46G",
                "28.71.0.81",
            ),
            (
                "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application",
                Vendor::Polycom,
                "VVX_400",
                "4.1.4.7430",
            ),
            (
                "FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078",
                Vendor::Polycom,
                "SPIP_335",
                "3.2.1.0078",
            ),
            (
                "Mozilla/4.0 (compatible; snom320-SIP 8.4.18 1.1.3-s)",
                Vendor::Snom,
                "320",
                "8.4.18",
            ),
            (
                "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)",
                Vendor::Snom,
                "D785",
                "10.1.33.33",
            ),
            (
                "Fanvil X6U Pro 0.0.10 0c383e2cd782",
                Vendor::Fanvil,
                "X6U-Pro",
                "0.0.10",
            ),
            (
                "Cisco/SPA525G-7.4.7 (CBT141900G7)",
                Vendor::CiscoSpa,
                "SPA525G",
                "7.4.7",
            ),
            (
                "Linksys/SPA-942-6.1.5(a) (88019FA42805)",
                Vendor::CiscoSpa,
                "SPA-942",
                "6.1.5(a)",
            ),
            (
                "Cisco-CP-8841-3PCC/11.0 (00562b043615)",
                Vendor::CiscoMpp,
                "8841",
                "11.0",
            ),
        ] {
            let agent = Agent::parse(ua).unwrap_or_else(|| panic!("{ua}"));
            assert_eq!(
                (agent.vendor, agent.model.as_str(), agent.firmware.as_str()),
                (vendor, model, firmware),
                "{ua}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_user_agent_is_safe(ua in "(Yealink |Fanvil |Grandstream Model HW |Cisco/|snom)?[ -~]{0,120}") {
            if let Some(agent) = Agent::parse(&ua)
                && let Some(mac) = agent.mac
            {
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
