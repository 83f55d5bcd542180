//! One test per rule of DESIGN.md §4 and asterisk-phoneprov-spec.md §D–F.

use asterisk_config::{Loader, MemorySource};

use super::*;
use crate::asterisk::render::TemplateSource;

struct NoFiles;

impl TemplateSource for NoFiles {
    fn asterisk_template(&self, _: &str) -> Result<std::sync::Arc<Template>, String> {
        Err("none".into())
    }
}

const TRANSPORT: &str = "[udp]\ntype = transport\nbind = 0.0.0.0:5060\n";

fn build_with(
    pjsip: &str,
    wizard: Option<&str>,
    phoneprov: &str,
    now: &str,
) -> (Phones, Vec<Profile>, Vec<Diagnostic>) {
    let mut src = MemorySource::new()
        .with_file("/etc/asterisk/pjsip.conf", format!("{TRANSPORT}{pjsip}"))
        .with_file("/etc/asterisk/phoneprov.conf", phoneprov);
    if let Some(w) = wizard {
        src.insert("/etc/asterisk/pjsip_wizard.conf", w);
    }
    let loader = Loader::with_source("/etc/asterisk", src);
    let pjsip = loader.load("pjsip.conf");
    let wiz = wizard.map(|_| loader.load("pjsip_wizard.conf"));
    let pp = loader.load("phoneprov.conf");
    let mut diags = Vec::new();
    let objects = Objects::read(&pjsip.config, wiz.as_ref().map(|w| &w.config), &mut diags);
    let profiles = crate::profile::read(&pp.config, &mut diags);
    let map = FxHashMap::default();
    let world = World {
        phones: &[],
        user_order: &[],
        by_mac: &map,
        templates: &NoFiles,
        config_dir: std::path::Path::new("/etc/asterisk"),
        data_dir: std::path::Path::new("/var/lib/asterisk"),
        epoch: 0,
        allowed_env: &[],
    };
    let inputs = Inputs {
        objects: &objects,
        profiles: &profiles,
        now: now.parse().unwrap(),
        empty_world: &world,
    };
    let phones = build(&inputs, &mut diags);
    (phones, profiles, diags)
}

fn build_simple(pjsip: &str) -> (Phones, Vec<Diagnostic>) {
    let (phones, _, diags) = build_with(
        pjsip,
        None,
        "[p]\n${MAC}.cfg => t.cfg\n",
        "2026-11-23T12:00:00Z",
    );
    (phones, diags)
}

const ALICE: &str = "[1000]\ntype = endpoint\ntransport = udp\nauth = 1000-auth\ncallerid = \"Alice Smith\" <1000>\n\
    [1000-auth]\ntype = auth\nusername = alice\npassword = s3cret!\n";

fn vars_of(phones: &Phones, mac: &str) -> Vec<(String, String)> {
    let phone = &phones.phones[phones.by_mac[mac]];
    phone.lines[0]
        .vars
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn get<'a>(phones: &'a Phones, mac: &str, name: &str) -> Option<&'a str> {
    phones.phones[phones.by_mac[mac]].lines[0].vars.get(name)
}

#[test]
fn the_variables_of_golden_case_p01_in_asterisk_order() {
    let (phones, diags) = build_simple(&format!(
        "{ALICE}[1000-pp]\ntype = phoneprov\nendpoint = 1000\nMAC = 0004f2aabb01\nPROFILE = p\n"
    ));
    assert!(diags.is_empty(), "{diags:?}");
    let names: Vec<String> = vars_of(&phones, "0004f2aabb01")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "endpoint",
            "MAC",
            "PROFILE",
            "ENDPOINT_ID",
            "TRANSPORT_ID",
            "CALLERID",
            "DISPLAY_NAME",
            "AUTH_ID",
            "USERNAME",
            "SECRET",
            "LABEL",
            "SERVER_PORT",
            "LINE",
            "LINEKEYS",
            "TZOFFSET"
        ]
    );
    let v = |n| get(&phones, "0004f2aabb01", n);
    assert_eq!(v("USERNAME"), Some("alice"));
    assert_eq!(v("SECRET"), Some("s3cret!"));
    assert_eq!(v("CALLERID"), Some("1000"));
    assert_eq!(v("DISPLAY_NAME"), Some("Alice Smith"));
    assert_eq!(v("LABEL"), Some("1000-pp"));
    assert_eq!(v("AUTH_ID"), Some("1000-auth"));
    assert_eq!(v("TRANSPORT_ID"), Some("udp"));
    assert_eq!(v("SERVER_PORT"), Some("5060"));
    assert_eq!((v("LINE"), v("LINEKEYS")), (Some("1"), Some("1")));
    assert_eq!(v("DST_ENABLE"), None);
}

#[test]
fn a_value_set_in_the_section_wins_over_a_derived_one() {
    let (phones, _) = build_simple(&format!(
        "{ALICE}[x]\ntype = phoneprov\nendpoint = 1000\nMAC = 0004f2000001\nPROFILE = p\nUSERNAME = override\nLABEL = Desk\nSERVER_PORT = 7000\n"
    ));
    assert_eq!(get(&phones, "0004f2000001", "USERNAME"), Some("override"));
    assert_eq!(get(&phones, "0004f2000001", "LABEL"), Some("Desk"));
    assert_eq!(get(&phones, "0004f2000001", "SERVER_PORT"), Some("7000"));
}

#[test]
fn defaults_without_an_endpoint() {
    let (phones, diags) = build_simple(
        "[noendpoint]\ntype = phoneprov\nMAC = 0004f2aabb29\nPROFILE = p\nDISPLAY_NAME = Static Name\n",
    );
    assert!(diags.is_empty());
    assert_eq!(get(&phones, "0004f2aabb29", "USERNAME"), Some("noendpoint"));
    assert_eq!(get(&phones, "0004f2aabb29", "LABEL"), Some("noendpoint"));
    assert_eq!(get(&phones, "0004f2aabb29", "SERVER_PORT"), Some("5060"));
    assert_eq!(get(&phones, "0004f2aabb29", "CALLERID"), None);
}

#[test]
fn the_last_value_wins_with_a_warning_where_asterisk_takes_the_first() {
    let (phones, diags) = build_simple(
        "[tpl](!)\ntype = phoneprov\nPROFILE = p\nCOMPANY = Tpl\n[x](tpl)\nMAC = 0004f2000001\nCOMPANY = Own\nNOTE = a\nNOTE = a\n",
    );
    assert_eq!(get(&phones, "0004f2000001", "COMPANY"), Some("Own"));
    assert!(
        matches!(
            &diags[..],
            [Diagnostic { error: Error::RepeatedKey { key, count: 2, .. }, line: 10, .. }] if key == "COMPANY"
        ),
        "{diags:?}"
    );
    assert!(
        !diags[0].to_string().contains("Own"),
        "no values in messages"
    );
}

#[test]
fn empty_values_are_dropped() {
    let (phones, _) = build_simple(
        "[x]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = p\nEMPTY =\nNOTE = a\nNOTE =\n",
    );
    assert_eq!(get(&phones, "0004f2000001", "EMPTY"), None);
    assert_eq!(get(&phones, "0004f2000001", "NOTE"), Some("a"));
}

#[test]
fn mac_and_profile_are_required_and_case_sensitive() {
    let (phones, diags) = build_simple(
        "[nomac]\ntype = phoneprov\nPROFILE = p\n[noprofile]\ntype = phoneprov\nMAC = 0004f2000001\n\
         [lower]\ntype = phoneprov\nmac = 0004f2000002\nPROFILE = p\n",
    );
    assert!(phones.phones.is_empty());
    let kinds: Vec<_> = diags.iter().map(|d| d.error.clone()).collect();
    assert_eq!(
        kinds,
        [
            Error::MissingMac { id: "lower".into() },
            Error::MissingMac { id: "nomac".into() },
            Error::MissingProfile {
                id: "noprofile".into()
            },
        ]
    );
}

#[test]
fn unknown_endpoint_auth_transport_and_profile_skip_the_line() {
    let (phones, diags) = build_simple(
        "[e1]\ntype = endpoint\ntransport = nope\n[e2]\ntype = endpoint\ntransport = udp\nauth = missing\n\
         [a]\ntype = phoneprov\nendpoint = does-not-exist\nMAC = 0004f2000001\nPROFILE = p\n\
         [b]\ntype = phoneprov\nendpoint = e1\nMAC = 0004f2000002\nPROFILE = p\n\
         [c]\ntype = phoneprov\nendpoint = e2\nMAC = 0004f2000003\nPROFILE = p\n\
         [d]\ntype = phoneprov\nMAC = 0004f2000004\nPROFILE = nosuch\n",
    );
    assert!(phones.phones.is_empty());
    let kinds: Vec<_> = diags
        .iter()
        .map(|d| match &d.error {
            Error::UnknownEndpoint { .. } => "endpoint",
            Error::UnknownTransport { .. } => "transport",
            Error::UnknownAuth { .. } => "auth",
            Error::UnknownProfile { .. } => "profile",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["endpoint", "transport", "auth", "profile"]);
}

#[test]
fn a_named_transport_that_does_not_exist_or_was_rejected_skips_the_phone() {
    // `tcp` has no bind: Asterisk rejects it, so naming it is naming nothing.
    let (phones, diags) = build_simple(
        "[tcp]\ntype = transport\nprotocol = tcp\n\
         [e1]\ntype = endpoint\ntransport = typo\n[e2]\ntype = endpoint\ntransport = tcp\n\
         [x]\ntype = phoneprov\nendpoint = e1\nMAC = 0004f2000001\nPROFILE = p\n\
         [y]\ntype = phoneprov\nendpoint = e2\nMAC = 0004f2000002\nPROFILE = p\n",
    );
    assert!(phones.phones.is_empty(), "Asterisk provisions neither");
    let skipped: Vec<(&str, &str)> = diags
        .iter()
        .filter_map(|d| match &d.error {
            Error::UnknownTransport { id, transport, .. } => {
                assert_eq!(d.severity(), crate::Severity::Error);
                Some((id.as_str(), transport.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(skipped, [("x", "typo"), ("y", "tcp")]);
}

#[test]
fn an_endpoint_without_transport_is_provisioned_with_a_warning() {
    let (phones, diags) = build_simple(
        "[e]\ntype = endpoint\nauth = e\n[e]\ntype = auth\nusername = u\npassword = p\n\
         [x]\ntype = phoneprov\nendpoint = e\nMAC = 0004f2000001\nPROFILE = p\n",
    );
    assert_eq!(get(&phones, "0004f2000001", "TRANSPORT_ID"), None);
    assert_eq!(get(&phones, "0004f2000001", "SERVER_PORT"), Some("5060"));
    assert_eq!(get(&phones, "0004f2000001", "USERNAME"), Some("u"));
    assert!(matches!(
        &diags[..],
        [Diagnostic {
            error: Error::NoTransport { .. },
            ..
        }]
    ));
    assert_eq!(diags[0].severity(), crate::Severity::Warning);
}

#[test]
fn the_port_comes_from_the_transport() {
    let (phones, _) = build_simple(
        "[t]\ntype = transport\nprotocol = tls\nbind = 0.0.0.0\n[e]\ntype = endpoint\ntransport = t\n\
         [x]\ntype = phoneprov\nendpoint = e\nMAC = 0004f2000001\nPROFILE = p\n",
    );
    assert_eq!(get(&phones, "0004f2000001", "SERVER_PORT"), Some("5061"));
}

#[test]
fn the_first_auth_of_a_list_and_md5_auths_without_secret() {
    let (phones, _) = build_simple(
        "[e]\ntype = endpoint\ntransport = udp\nauth = m, other\n\
         [m]\ntype = auth\nauth_type = md5\nusername = mu\nmd5_cred = 0123456789abcdef0123456789abcdef\n\
         [x]\ntype = phoneprov\nendpoint = e\nMAC = 0004f2000001\nPROFILE = p\n",
    );
    assert_eq!(get(&phones, "0004f2000001", "AUTH_ID"), Some("m"));
    assert_eq!(get(&phones, "0004f2000001", "USERNAME"), Some("mu"));
    assert_eq!(get(&phones, "0004f2000001", "SECRET"), None);
}

#[test]
fn lines_of_one_phone_in_line_order_and_duplicates_dropped() {
    let (phones, _, diags) = build_with(
        "[b-2]\ntype = phoneprov\nMAC = 0004f2000002\nPROFILE = p\nLINE = 2\n\
         [a-1]\ntype = phoneprov\nMAC = 0004f2000002\nPROFILE = p\n\
         [c-dup]\ntype = phoneprov\nMAC = 0004f2000002\nPROFILE = p\nLINE = 2\n\
         [d-3]\ntype = phoneprov\nMAC = 0004f2000002\nPROFILE = p\nLINE = 3\n",
        None,
        "[p]\n${MAC}.cfg => t.cfg\n",
        "2026-11-23T12:00:00Z",
    );
    let phone = &phones.phones[0];
    let ids: Vec<_> = phone
        .lines
        .iter()
        .map(|l| (l.index, l.id.as_str()))
        .collect();
    assert_eq!(ids, [(1, "a-1"), (2, "b-2"), (3, "d-3")]);
    assert_eq!(
        phone.lines[phone.founding_line].id, "a-1",
        "objects are visited sorted by id"
    );
    assert!(matches!(
        &diags[..],
        [Diagnostic { error: Error::DuplicateLine { id, kept, line: 2, .. }, .. }] if id == "c-dup" && kept == "b-2"
    ));
}

#[test]
fn a_phone_takes_the_profile_and_setvars_of_its_first_line() {
    let (phones, profiles, _) = build_with(
        "[a]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = one\n[b]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = two\nLINE = 2\n",
        None,
        "[one]\nsetvar => WHO=one\n[two]\nsetvar => WHO=two\nsetvar => ONLY_TWO=x\n",
        "2026-11-23T12:00:00Z",
    );
    let phone = &phones.phones[0];
    assert_eq!(profiles[phone.profile.index()].name, "one");
    assert_eq!(phone.lines[1].vars.get("WHO"), Some("one"));
    assert_eq!(phone.lines[1].vars.get("ONLY_TWO"), None);
}

#[test]
fn setvars_are_substituted_and_never_override() {
    let (phones, _, _) = build_with(
        &format!(
            "{ALICE}[x]\ntype = phoneprov\nendpoint = 1000\nMAC = 0004f2AABB01\nPROFILE = p\nSITE = own\n"
        ),
        None,
        "[p]\nsetvar => GREETING=Hello ${DISPLAY_NAME}\nsetvar => SITE=default\nsetvar => LOWER=${TOLOWER(${MAC})}\n",
        "2026-11-23T12:00:00Z",
    );
    assert_eq!(
        get(&phones, "0004f2AABB01", "GREETING"),
        Some("Hello Alice Smith")
    );
    assert_eq!(get(&phones, "0004f2AABB01", "SITE"), Some("own"));
    assert_eq!(get(&phones, "0004f2AABB01", "LOWER"), Some("0004f2aabb01"));
}

#[test]
fn line_numbers_that_are_not_numbers_count_as_zero() {
    let (phones, _) =
        build_simple("[x]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = p\nLINE = two\n");
    assert_eq!(phones.phones[0].lines[0].index, 0);
    assert_eq!(get(&phones, "0004f2000001", "LINE"), Some("two"));
}

#[test]
fn time_zone_variables_from_timezone_at_an_injected_now() {
    let (phones, _, diags) = build_with(
        "[x]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = p\nTIMEZONE = America/New_York\n\
         [y]\ntype = phoneprov\nMAC = 0004f2000002\nPROFILE = p\nTIMEZONE = Nowhere/Land\n",
        None,
        "[p]\n",
        "2026-11-23T12:00:00Z",
    );
    let v = |n| get(&phones, "0004f2000001", n);
    assert_eq!(v("TZOFFSET"), Some("-18000"));
    assert_eq!(v("DST_ENABLE"), Some("1"));
    assert_eq!(
        (
            v("DST_START_MONTH"),
            v("DST_START_MDAY"),
            v("DST_START_HOUR")
        ),
        (Some("3"), Some("14"), Some("3"))
    );
    assert_eq!(
        (v("DST_END_MONTH"), v("DST_END_MDAY"), v("DST_END_HOUR")),
        (Some("11"), Some("1"), Some("1"))
    );
    assert_eq!(get(&phones, "0004f2000002", "TZOFFSET"), Some("0"));
    assert!(matches!(
        &diags[..],
        [Diagnostic {
            error: Error::UnknownTimezone { .. },
            ..
        }]
    ));
}

#[test]
fn the_user_table_order_of_golden_case_p03() {
    let macs = [
        "0004f2cc0000",
        "0004f2cc0001",
        "0004f2cc0002",
        "0004f2cc0003",
        "0004f2cc0004",
    ];
    let pjsip: String = macs
        .iter()
        .enumerate()
        .map(|(i, m)| format!("[{i}]\ntype = phoneprov\nMAC = {m}\nPROFILE = p\n"))
        .collect();
    let (phones, _) = build_simple(&pjsip);
    let order: Vec<&str> = phones
        .user_order
        .iter()
        .map(|&i| phones.phones[i].mac.as_str())
        .collect();
    // Asterisk answered Grace(0004), Dave(0001), Carol(0000), Eve(0002)... with Frank (0003) excluded.
    assert_eq!(
        order,
        [
            "0004f2cc0004",
            "0004f2cc0001",
            "0004f2cc0000",
            "0004f2cc0003",
            "0004f2cc0002"
        ]
    );
}

#[test]
fn djb2_buckets() {
    assert_eq!(user_bucket(b""), 5381 % 563);
    let mut h: u32 = 5381;
    for b in b"0004f2aabb01" {
        h = h.wrapping_mul(33) ^ u32::from(*b);
    }
    assert_eq!(user_bucket(b"0004f2aabb01"), (h & 0x7fff_ffff) % 563);
}

#[test]
fn mac_format_warnings() {
    let (phones, diags) = build_simple(
        "[a]\ntype = phoneprov\nMAC = 00:04:f2:00:00:01\nPROFILE = p\n[b]\ntype = phoneprov\nMAC = 0004f2\nPROFILE = p\n",
    );
    assert_eq!(phones.phones.len(), 2, "served as configured");
    assert!(
        diags
            .iter()
            .all(|d| matches!(d.error, Error::MacFormat { .. }))
    );
    assert_eq!(diags.len(), 2);
}

#[test]
fn wizard_lines_are_labelled_with_the_phoneprov_id() {
    let (phones, _, diags) = build_with(
        "",
        Some(
            "[6001]\ntype = wizard\ntransport = udp\naccepts_auth = yes\naccepts_registrations = yes\nhas_phoneprov = yes\n\
             inbound_auth/username = 6001\ninbound_auth/password = wizpw\nendpoint/callerid = \"Judy\" <6001>\n\
             phoneprov/MAC = 0004f2aabb06\nphoneprov/PROFILE = p\nphoneprov/EXTRA = x1\n",
        ),
        "[p]\n",
        "2026-11-23T12:00:00Z",
    );
    assert!(diags.is_empty(), "{diags:?}");
    let v = |n| get(&phones, "0004f2aabb06", n);
    assert_eq!(v("LABEL"), Some("6001-phoneprov"));
    assert_eq!(v("AUTH_ID"), Some("6001-iauth"));
    assert_eq!(v("USERNAME"), Some("6001"));
    assert_eq!(v("SECRET"), Some("wizpw"));
    assert_eq!(v("EXTRA"), Some("x1"));
    assert_eq!(v("TRANSPORT_ID"), Some("udp"));
}

/// A fleet large enough to be built on every core gives the phones and diagnostics, in the same order, as
/// one thread does: unknown endpoints and zones, a setvar problem, a line whose phone another profile
/// founded, duplicate lines, sections of a type pjsip does not have, wizards in pjsip.conf.
#[test]
fn on_every_core_as_on_one() {
    let mut pjsip = String::new();
    for n in 0..6000 {
        let endpoint = if n % 997 == 0 {
            "missing".to_owned()
        } else {
            format!("e{n}")
        };
        let zone = if n % 1499 == 0 {
            "Nowhere/Zone"
        } else {
            "Europe/Paris"
        };
        // Pairs of lines share a MAC; the second line of some pairs names the other profile.
        let mac = format!("0004f2{:06x}", n / 2);
        let profile = if n % 2 == 1 && n % 7 == 0 { "b" } else { "a" };
        let line = if n % 1201 == 0 { 1 } else { n % 2 + 1 };
        pjsip.push_str(&format!(
            "[e{n}]\ntype = endpoint\ntransport = udp\ncallerid = \"P {n}\" <{n}>\n\
             [p{n:05}]\ntype = phoneprov\nendpoint = {endpoint}\nMAC = {mac}\nPROFILE = {profile}\n\
             LINE = {line}\nTIMEZONE = {zone}\n"
        ));
        if n % 1733 == 0 {
            pjsip.push_str(&format!("[odd{n}]\ntype = endpiont\n"));
        }
        if n % 2311 == 0 {
            pjsip.push_str(&format!("[w{n}]\ntype = wizard\n"));
        }
    }
    let phoneprov = "[a]\n${MAC}.cfg => a.cfg\nsetvar => X=${NOSUCH(${MAC})}\nsetvar => Y=plain\n\
                     [b]\n${MAC}.cfg => b.cfg\nsetvar => Z=${LEN(${MAC})}\n";
    let now = "2026-06-01T12:00:00Z";
    crate::parallel::SEQUENTIAL.store(true, std::sync::atomic::Ordering::Relaxed);
    let (one, _, one_diags) = build_with(&pjsip, None, phoneprov, now);
    crate::parallel::SEQUENTIAL.store(false, std::sync::atomic::Ordering::Relaxed);
    let (many, _, many_diags) = build_with(&pjsip, None, phoneprov, now);
    assert_eq!(one_diags, many_diags);
    assert!(one_diags.len() > 10, "{}", one_diags.len());
    for kind in ["endpiont", "wizard"] {
        assert!(
            one_diags.iter().any(|d| d.to_string().contains(kind)),
            "{kind}: {one_diags:?}"
        );
    }
    assert_eq!(one.phones.len(), many.phones.len());
    for (a, b) in one.phones.iter().zip(&many.phones) {
        assert_eq!(a.mac, b.mac);
        assert_eq!(a.profile, b.profile);
        assert_eq!(a.founding_line, b.founding_line);
        assert_eq!(a.lines.len(), b.lines.len());
        for (x, y) in a.lines.iter().zip(&b.lines) {
            assert_eq!((&x.id, x.index, &x.vars), (&y.id, y.index, &y.vars));
        }
    }
    assert_eq!(one.user_order, many.user_order);
    // A line joining a phone of the other profile got that profile's setvars.
    let mixed = many
        .phones
        .iter()
        .find(|p| p.lines.iter().any(|l| l.vars.get("PROFILE") == Some("b")))
        .expect("a phone with a line of profile b");
    assert!(mixed.lines.iter().all(|l| l.vars.contains("Y")));
}
