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
//!
//! The subjectAltName extension is searched too, for device certificates that name the device there:
//! the MAC address `otherName` of the IETF LAMPS WG (`id-on-MACAddress`, 1.3.6.1.5.5.7.8.12: the six
//! octets of an EUI-48), IEEE 802.1AR DevID's `hardwareModuleName` (RFC 4108: its serial number, when
//! it is text holding a MAC), other `otherName`s holding text (a UPN such as `0004f2aabbcc@vendor`),
//! `dNSName` (`SEP0004F2AABBCC.example`), `uniformResourceIdentifier` (RFC 9039's
//! `urn:dev:mac:0004f2aabbcc`), `rfc822Name`, and a `directoryName` (its CN, ST, OU and serialNumber, as
//! for the subject). MACs found in the subject and in the subjectAltName count together: two different
//! ones make the certificate generic. Which vendors put the MAC where, and what is verified, is in
//! `docs/security.md` (client certificates).

use std::fmt;

use pjprov_core::Mac;
use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Tag, Tagged};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::{GeneralName, HardwareModuleName};
use x509_cert::name::Name;

const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const ST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.8");
const OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
/// `id-ce-subjectAltName`.
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// `id-on-MACAddress` (IETF LAMPS, "MAC Addresses in X.509 Certificates"): an OCTET STRING of 6 (EUI-48)
/// or 8 (EUI-64) octets.
const ID_ON_MAC_ADDRESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.8.12");

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
        macs_in_name(subject, &mut found);
        let mut text = subject.to_string();
        let alt_names = cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .filter(|e| e.extn_id == SUBJECT_ALT_NAME);
        for extension in alt_names {
            // A subjectAltName that cannot be read names nothing: the certificate is then as generic as
            // its subject makes it (never more specific).
            let Ok(SubjectAltName(names)) =
                SubjectAltName::from_der(extension.extn_value.as_bytes())
            else {
                text.push_str(" (unreadable subjectAltName)");
                continue;
            };
            let mut shown = Vec::new();
            for name in &names {
                if let Some(label) = macs_in_general_name(name, &mut found) {
                    shown.push(label);
                }
            }
            if !shown.is_empty() {
                text.push_str(&format!(" (subjectAltName: {})", shown.join(", ")));
            }
        }
        CertIdentity {
            mac: (found.len() == 1).then(|| found[0]),
            subject: text,
        }
    }
}

fn push_unique(found: &mut Vec<Mac>, macs: impl IntoIterator<Item = Mac>) {
    for mac in macs {
        if !found.contains(&mac) {
            found.push(mac);
        }
    }
}

/// The MACs in a name's CN, ST, OU and serialNumber attributes.
fn macs_in_name(name: &Name, found: &mut Vec<Mac>) {
    for atv in name.iter() {
        if ![CN, SERIAL_NUMBER, ST, OU].contains(&atv.oid) {
            continue;
        }
        let text = match atv.value.tag() {
            Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::TeletexString => {
                std::str::from_utf8(atv.value.value()).unwrap_or_default()
            }
            _ => continue,
        };
        push_unique(found, macs_in(text));
    }
}

/// The MACs in one subjectAltName entry; returns how to show the entry in logs (`None`: nothing of
/// interest in it).
fn macs_in_general_name(name: &GeneralName, found: &mut Vec<Mac>) -> Option<String> {
    let (label, text) = match name {
        GeneralName::DnsName(dns) => ("DNS", dns.as_str().to_owned()),
        GeneralName::UniformResourceIdentifier(uri) => ("URI", uri.as_str().to_owned()),
        GeneralName::Rfc822Name(mail) => ("email", mail.as_str().to_owned()),
        GeneralName::DirectoryName(dir) => {
            macs_in_name(dir, found);
            return Some(format!("dirName:{dir}"));
        }
        GeneralName::OtherName(other) if other.type_id == ID_ON_MAC_ADDRESS => {
            let octets = other.value.decode_as::<OctetString>().ok()?;
            let mac = <[u8; 6]>::try_from(octets.as_bytes())
                .ok()
                .map(Mac::from_octets)
                .filter(|m| !m.is_placeholder());
            let shown = match mac {
                Some(mac) => format!("MACAddress:{mac}"),
                None => "MACAddress:(not an EUI-48)".to_owned(),
            };
            push_unique(found, mac);
            return Some(shown);
        }
        GeneralName::OtherName(other) => match HardwareModuleName::from_other_name(other) {
            Ok(Some(module)) => (
                "hardwareModuleName",
                String::from_utf8_lossy(module.hw_serial_num.as_bytes()).into_owned(),
            ),
            Ok(None) => match other.value.tag() {
                Tag::Utf8String | Tag::Ia5String | Tag::PrintableString => (
                    "otherName",
                    String::from_utf8_lossy(other.value.value()).into_owned(),
                ),
                _ => return None,
            },
            Err(_) => return None,
        },
        GeneralName::IpAddress(_) | GeneralName::RegisteredId(_) | GeneralName::EdiPartyName(_) => {
            return None;
        }
    };
    let macs = macs_in(&text);
    push_unique(found, macs);
    // Text a certificate carries is shown escaped: it must never forge a log line.
    Some(format!("{label}:{}", text.escape_default()))
}

/// A vendor's factory CA, from `data/device-cas.tsv` (sources there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownCa {
    /// The vendor.
    pub vendor: &'static str,
    /// The CA's name.
    pub name: &'static str,
    /// Where it is published.
    pub source: &'static str,
    /// Its SHA-256 fingerprint, once verified.
    pub sha256: Option<[u8; 32]>,
}

const DEVICE_CAS: &str = include_str!("../../data/device-cas.tsv");

/// The table of vendors' factory CAs. A line that does not read is skipped (the unit test keeps the file
/// well formed).
pub fn known_cas() -> Vec<KnownCa> {
    DEVICE_CAS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let mut cells = line.split('\t');
            let (vendor, name, source, sha256) =
                (cells.next()?, cells.next()?, cells.next()?, cells.next()?);
            let sha256 = match sha256 {
                "-" => None,
                hex => Some(fingerprint_from_hex(hex)?),
            };
            Some(KnownCa {
                vendor,
                name,
                source,
                sha256,
            })
        })
        .collect()
}

fn fingerprint_from_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.replace(':', "");
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A CA certificate of `tls_client_ca`, as the log describes it: its subject, its SHA-256 fingerprint
/// (hex), and the vendor's CA of [`known_cas`] with that fingerprint, if any.
pub fn describe_ca(der: &[u8]) -> (String, String, Option<KnownCa>) {
    use sha2::Digest;
    let digest: [u8; 32] = sha2::Sha256::digest(der).into();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let subject = Certificate::from_der(der).map_or_else(
        |_| "(unreadable certificate)".to_owned(),
        |c| c.tbs_certificate().subject().to_string(),
    );
    let known = known_cas().into_iter().find(|ca| ca.sha256 == Some(digest));
    (subject, hex, known)
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

    /// A self-signed certificate with subject `dn` and these subjectAltNames (and raw SAN DER, if any).
    fn with_san(
        dn: &[(rcgen::DnType, &str)],
        names: Vec<rcgen::SanType>,
        raw_san: Option<Vec<u8>>,
    ) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (kind, value) in dn {
            params.distinguished_name.push(kind.clone(), *value);
        }
        params.subject_alt_names = names;
        if let Some(der) = raw_san {
            params
                .custom_extensions
                .push(rcgen::CustomExtension::from_oid_content(
                    &[2, 5, 29, 17],
                    der,
                ));
        }
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    /// GeneralNames holding one `id-on-MACAddress` otherName with these octets.
    fn mac_address_other_name(octets: &[u8]) -> Vec<u8> {
        let oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x0c];
        let mut value = vec![0x04, octets.len() as u8];
        value.extend_from_slice(octets);
        let mut explicit = vec![0xa0, value.len() as u8];
        explicit.extend(value);
        let mut other = vec![0xa0, (oid.len() + explicit.len()) as u8];
        other.extend_from_slice(&oid);
        other.extend(explicit);
        let mut names = vec![0x30, other.len() as u8];
        names.extend(other);
        names
    }

    #[test]
    fn the_mac_in_the_subject_alt_name() {
        use rcgen::{DnType, SanType};
        let ia5 = |t: &str| SanType::DnsName(t.try_into().unwrap());
        let o = [(DnType::OrganizationName, "Vendor Inc.")];

        let dns = CertIdentity::from_der(&with_san(
            &o,
            vec![ia5("SEP0004F2AABBCC.vendor.example")],
            None,
        ));
        assert_eq!(dns.mac, Mac::parse("0004f2aabbcc"));
        assert!(
            dns.subject.contains("subjectAltName: DNS:SEP0004F2AABBCC"),
            "{}",
            dns.subject
        );

        let urn = CertIdentity::from_der(&with_san(
            &o,
            vec![SanType::URI("urn:dev:mac:0004f2aabbcc".try_into().unwrap())],
            None,
        ));
        assert_eq!(urn.mac, Mac::parse("0004f2aabbcc"), "RFC 9039 device URN");

        let upn = CertIdentity::from_der(&with_san(
            &o,
            vec![SanType::OtherName((
                vec![1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
                "00:04:f2:aa:bb:cc@phones.example".into(),
            ))],
            None,
        ));
        assert_eq!(upn.mac, Mac::parse("0004f2aabbcc"), "a text otherName");

        let octets = CertIdentity::from_der(&with_san(
            &o,
            vec![],
            Some(mac_address_other_name(&[
                0x00, 0x04, 0xf2, 0xaa, 0xbb, 0xcc,
            ])),
        ));
        assert_eq!(octets.mac, Mac::parse("0004f2aabbcc"), "id-on-MACAddress");
        assert!(
            octets.subject.contains("MACAddress:0004f2aabbcc"),
            "{}",
            octets.subject
        );
        // An EUI-64 is no phone's MAC; the placeholder neither.
        let eui64 = with_san(
            &o,
            vec![],
            Some(mac_address_other_name(&[
                0, 4, 0xf2, 0xff, 0xfe, 0xaa, 0xbb, 0xcc,
            ])),
        );
        assert_eq!(CertIdentity::from_der(&eui64).mac, None);
        let zero = with_san(&o, vec![], Some(mac_address_other_name(&[0; 6])));
        assert_eq!(CertIdentity::from_der(&zero).mac, None);

        // The same MAC in the subject and the SAN is one phone; two different ones are none.
        let same = with_san(
            &[(DnType::CommonName, "0004F2AABBCC")],
            vec![ia5("0004f2aabbcc.phones.example")],
            None,
        );
        assert_eq!(
            CertIdentity::from_der(&same).mac,
            Mac::parse("0004f2aabbcc")
        );
        let two = with_san(
            &[(DnType::CommonName, "0004F2AABBCC")],
            vec![ia5("001565000b02.phones.example")],
            None,
        );
        assert_eq!(
            CertIdentity::from_der(&two).mac,
            None,
            "two MACs name no single phone"
        );
        // A broken subjectAltName adds nothing and is said.
        let broken = CertIdentity::from_der(&with_san(
            &[(DnType::CommonName, "0004F2AABBCC")],
            vec![],
            Some(vec![0x30, 0x05, 0xa0]),
        ));
        assert_eq!(broken.mac, Mac::parse("0004f2aabbcc"));
        assert!(broken.subject.contains("unreadable subjectAltName"));
        // Text from a certificate cannot forge a log line.
        let sneaky = CertIdentity::from_der(&with_san(&o, vec![ia5("a\nb")], None));
        assert!(!sneaky.subject.contains('\n'));
    }

    #[test]
    fn the_table_of_factory_cas_reads() {
        let lines = DEVICE_CAS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        let cas = known_cas();
        assert_eq!(cas.len(), lines, "every line of data/device-cas.tsv reads");
        for ca in &cas {
            assert!(
                !ca.vendor.is_empty() && !ca.name.is_empty() && !ca.source.is_empty(),
                "{ca:?}"
            );
        }
        assert!(cas.iter().any(|c| c.vendor == "Poly"));
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Test Device CA");
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        let (subject, hex, known) = describe_ca(&der);
        assert!(subject.contains("Test Device CA"));
        assert_eq!(hex.len(), 64);
        assert_eq!(known, None);
        assert_eq!(fingerprint_from_hex(&hex).map(|f| f.to_vec()), {
            use sha2::Digest;
            Some(sha2::Sha256::digest(&der).to_vec())
        });
    }
}
