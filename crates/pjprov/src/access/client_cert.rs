//! What a phone's TLS client certificate says about which phone it is.
//!
//! The TLS layer has already verified the chain against `tls_client_ca`; here the end-entity certificate's
//! subject is read for the MAC. Vendors put it in different places (scratch research, peers.md §5):
//! Polycom in the CN (`CN=0004F28B54F4, O=Polycom Inc.`), Cisco SPA/MPP in ST (`OU=CP-8841-3PCC,
//! L=<serial>, S=000e08abcdef`), Snom in the CN, Yealink in the CN or at the end of `serialNumber`, Cisco
//! enterprise phones as `SEP<MAC>`. So CN, ST, OU and serialNumber are all searched, and the certificate
//! identifies a phone only when exactly one MAC is found in them. A certificate with none (Cisco's
//! `L=ciscogeneric`, Yealink's generic certificate) or with several is *generic*: it proves the phone is
//! some vendor's phone, not which one.

use std::fmt;

use pjprov_core::Mac;
use x509_cert::Certificate;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, Tag, Tagged};

const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const ST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.8");
const OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");

/// A verified client certificate, as far as access control cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertIdentity {
    /// The phone the certificate names, when it names exactly one.
    pub mac: Option<Mac>,
    /// The subject, for logs (RFC 4514 form).
    pub subject: String,
}

impl CertIdentity {
    /// Reads the end-entity certificate (DER). A certificate that cannot be read is treated as generic.
    pub fn from_der(der: &[u8]) -> CertIdentity {
        let Ok(cert) = Certificate::from_der(der) else {
            return CertIdentity {
                mac: None,
                subject: "(unreadable certificate)".into(),
            };
        };
        let subject = cert.tbs_certificate().subject();
        let mut found: Vec<Mac> = Vec::new();
        for atv in subject.iter() {
            if ![CN, SERIAL_NUMBER, ST, OU].contains(&atv.oid) {
                continue;
            }
            let text = match atv.value.tag() {
                Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::TeletexString => {
                    std::str::from_utf8(atv.value.value()).unwrap_or_default()
                }
                _ => continue,
            };
            for mac in macs_in(text) {
                if !found.contains(&mac) {
                    found.push(mac);
                }
            }
        }
        CertIdentity {
            mac: (found.len() == 1).then(|| found[0]),
            subject: subject.to_string(),
        }
    }
}

impl fmt::Display for CertIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.subject)
    }
}

/// The MACs written in `text`: 12 hex digits standing alone (`SEP0004F2AABBCC` counts: `P` is no hex
/// digit), or six pairs joined by `:` or `-`. Pieces of longer hex runs and placeholders (`000000…`) are not
/// MACs.
pub fn macs_in(text: &str) -> Vec<Mac> {
    let mut macs = Vec::new();
    let is_part = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '-';
    for token in text.split(|c: char| !is_part(c)).filter(|t| !t.is_empty()) {
        let grouped = token.len() == 17
            && token.char_indices().all(|(i, c)| {
                if i % 3 == 2 {
                    c == ':' || c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            });
        if grouped {
            macs.extend(Mac::parse(token));
            continue;
        }
        for piece in token.split([':', '-']) {
            if piece.len() == 12 {
                macs.extend(Mac::from_hex12(piece.as_bytes()));
            }
        }
    }
    macs.retain(|m| !m.is_placeholder());
    macs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn macs(text: &str) -> Vec<String> {
        macs_in(text).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn where_vendors_write_the_mac() {
        assert_eq!(macs("0004F28B54F4"), ["0004f28b54f4"]);
        assert_eq!(macs("000e08abcdef"), ["000e08abcdef"]);
        assert_eq!(macs("SEP0004F2AABBCC"), ["0004f2aabbcc"]);
        assert_eq!(macs("00:15:65:4a:a9:37"), ["0015654aa937"]);
        assert_eq!(
            macs("ffffffff-ffff-ffff-fff0-001565000062"),
            ["001565000062"]
        );
    }

    #[test]
    fn what_is_not_a_mac() {
        assert!(macs("ciscogeneric").is_empty());
        assert!(macs("yealink.com").is_empty());
        assert!(macs("CP-8841-3PCC").is_empty());
        assert!(macs("88012BA012345").is_empty(), "13 hex digits");
        assert!(macs("A0004F28B54F4").is_empty(), "13 hex digits");
        assert!(macs("000000000000").is_empty());
    }

    #[test]
    fn identity_from_a_certificate() {
        let der = |dn: &[(rcgen::DnType, &str)]| {
            let mut params = rcgen::CertificateParams::default();
            params.distinguished_name = rcgen::DistinguishedName::new();
            for (kind, value) in dn {
                params.distinguished_name.push(kind.clone(), *value);
            }
            let key = rcgen::KeyPair::generate().unwrap();
            params.self_signed(&key).unwrap().der().to_vec()
        };
        let polycom = CertIdentity::from_der(&der(&[
            (rcgen::DnType::CommonName, "0004F28B54F4"),
            (rcgen::DnType::OrganizationName, "Polycom Inc."),
        ]));
        assert_eq!(polycom.mac, Mac::parse("0004f28b54f4"));
        assert!(
            polycom.subject.contains("CN=0004F28B54F4"),
            "{}",
            polycom.subject
        );

        let cisco = CertIdentity::from_der(&der(&[
            (rcgen::DnType::OrganizationalUnitName, "CP-8841-3PCC"),
            (rcgen::DnType::LocalityName, "88012BA01234"),
            (rcgen::DnType::StateOrProvinceName, "000e08abcdef"),
        ]));
        assert_eq!(
            cisco.mac,
            Mac::parse("000e08abcdef"),
            "the serial in L is not read"
        );

        let generic = CertIdentity::from_der(&der(&[
            (rcgen::DnType::OrganizationalUnitName, "cisco.com"),
            (rcgen::DnType::LocalityName, "ciscogeneric"),
            (rcgen::DnType::StateOrProvinceName, "ciscogeneric"),
        ]));
        assert_eq!(generic.mac, None);

        let two = CertIdentity::from_der(&der(&[
            (rcgen::DnType::CommonName, "0004F28B54F4"),
            (rcgen::DnType::StateOrProvinceName, "000e08abcdef"),
        ]));
        assert_eq!(two.mac, None, "two MACs name no single phone");

        assert_eq!(CertIdentity::from_der(b"junk").mac, None);
    }
}
