//! Named ACLs (issue #18): `acl = NAME` in pjprov.conf, the lists coming from `[acl:NAME]` sections or
//! from Asterisk's acl.conf, with Asterisk's semantics, and failing closed where Asterisk would carry on.

use std::net::IpAddr;
use std::path::Path;

use pjprov_core::{BuildOptions, Mac, Paths, Snapshot};

const PJSIP: &str = "[1000-phone]\ntype = phoneprov\nMAC = 0004f2aabbcc\nPROFILE = polycom\n";
const PHONEPROV: &str = "[polycom]\n${MAC}.cfg => mac.cfg\n";

fn setup(dir: &Path, pjprov: &str, acl_conf: Option<&str>) -> Paths {
    let (etc, data) = (dir.join("etc"), dir.join("data"));
    std::fs::create_dir_all(data.join("phoneprov")).unwrap();
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("pjsip.conf"), PJSIP).unwrap();
    std::fs::write(etc.join("phoneprov.conf"), PHONEPROV).unwrap();
    std::fs::write(data.join("phoneprov/mac.cfg"), "x\n").unwrap();
    std::fs::write(etc.join("pjprov.conf"), pjprov).unwrap();
    if let Some(text) = acl_conf {
        std::fs::write(etc.join("acl.conf"), text).unwrap();
    }
    Paths::new(etc, data)
}

fn build(
    pjprov: &str,
    acl_conf: Option<&str>,
) -> (tempfile::TempDir, Result<Snapshot, Vec<String>>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = setup(dir.path(), pjprov, acl_conf);
    let built = Snapshot::build(&paths, &BuildOptions::default())
        .map_err(|r| r.diagnostics.iter().map(ToString::to_string).collect());
    (dir, built)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn acl_conf_lists_with_asterisks_semantics() {
    let acl_conf = "\
[general]\n\
permit = 0.0.0.0/0\n\
[base](!)\n\
deny = 0.0.0.0/0\n\
[office](base)\n\
permit = 10.1.0.0/16\n\
deny = 10.1.9.0/24\n\
[lab]\n\
permit = !10.1.2.0/24\n";
    let (_dir, built) = build("[acl]\nacl = office, lab\n", Some(acl_conf));
    let snapshot = built.unwrap();
    let acl = &snapshot.settings().acl;
    // office: inherited deny-all, the office permitted, one subnet of it denied again (last match wins).
    assert!(acl.allows(ip("10.1.1.1")));
    assert!(!acl.allows(ip("10.1.9.1")));
    assert!(!acl.allows(ip("192.0.2.1")), "office's inherited deny");
    // lab: `!` inverts the rule; both lists must allow.
    assert!(!acl.allows(ip("10.1.2.3")), "refused by lab alone");
    let names: Vec<&str> = acl.named().iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        ["office", "lab"],
        "[general] and templates are no ACLs"
    );
    assert_eq!(acl.named()[0].defined_at, "acl.conf:5");
    assert!(
        snapshot.watch().iter().any(|p| p.ends_with("acl.conf")),
        "acl.conf is watched"
    );
}

#[test]
fn pjprov_conf_lists_for_profiles_and_phones() {
    let conf = "\
[acl:phones]\n\
deny = 0.0.0.0/0\n\
permit = 10.20.0.0/16\n\
[acl:desk]\n\
deny = 10.20.5.0/24\n\
[profile:polycom]\n\
acl = phones\n\
[phone:0004f2aabbcc]\n\
acl = phones\n\
acl = desk\n";
    let (_dir, built) = build(conf, None);
    let snapshot = built.unwrap();
    let settings = snapshot.settings();
    let polycom = snapshot.profile_id("polycom").unwrap();
    let profile = settings.policy(polycom, None);
    assert!(profile.acl.allows(ip("10.20.5.1")));
    assert!(!profile.acl.allows(ip("10.30.0.1")));
    // The phone's section replaces the profile's names; its two lines add up.
    let phone = settings.policy(polycom, Mac::parse("0004f2aabbcc"));
    assert!(!phone.acl.allows(ip("10.20.5.1")));
    assert!(phone.acl.allows(ip("10.20.6.1")));
    assert_eq!(profile.acl.named()[0].defined_at, "pjprov.conf:1");
    assert!(settings.acl.is_empty(), "[acl] itself is untouched");
}

#[test]
fn a_name_that_does_not_exist_rejects_the_configuration() {
    let (_dir, built) = build(
        "[general]\n[profile:polycom]\nacl = nope\n",
        Some("[office]\npermit = 10.0.0.0/8\n"),
    );
    let errors = built.expect_err("fail closed");
    let line = errors
        .iter()
        .find(|e| e.contains("no named ACL 'nope'"))
        .unwrap_or_else(|| panic!("{errors:#?}"));
    assert!(line.contains("pjprov.conf:3: error:"), "{line}");
    assert!(line.contains("[profile:polycom] acl"), "{line}");

    // Asterisk compares names with their case: a near miss is pointed out.
    let (_dir, built) = build(
        "[acl]\nacl = office\n",
        Some("[Office]\npermit = 10.0.0.0/8\n"),
    );
    let errors = built.err().unwrap();
    assert!(
        errors.iter().any(|e| e.contains("did you mean 'Office'")),
        "{errors:#?}"
    );

    // No acl.conf at all.
    let (_dir, built) = build("[acl]\nacl = office\n", None);
    assert!(
        built
            .err()
            .unwrap()
            .iter()
            .any(|e| e.contains("there is no acl.conf")),
    );
}

#[test]
fn what_asterisk_refuses_pjprov_refuses() {
    // A name twice in one ACL.
    let (_dir, built) = build("[acl:a]\ndeny = 10.0.0.0/8\n[acl]\nacl = a, a\n", None);
    assert!(
        built
            .err()
            .unwrap()
            .iter()
            .any(|e| e.contains("occurs more than once"))
    );
    // acl.conf with an option named ACLs do not have: Asterisk refuses the whole file.
    let (_dir, built) = build(
        "[acl]\nacl = office\n",
        Some("[office]\npermit = 10.0.0.0/8\nallow = ulaw\n"),
    );
    let errors = built.err().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("acl.conf:3: error:") && e.contains("only permit and deny")),
        "{errors:#?}"
    );
    // A bad network in acl.conf.
    let (_dir, built) = build(
        "[acl]\nacl = office\n",
        Some("[office]\npermit = 10.0.0.0/33\n"),
    );
    assert!(
        built
            .err()
            .unwrap()
            .iter()
            .any(|e| e.contains("acl.conf:2: error:"))
    );
    // Defined in both files: which one would be a guess.
    let (_dir, built) = build(
        "[acl:office]\ndeny = 10.0.0.0/8\n[acl]\nacl = office\n",
        Some("[office]\npermit = 10.0.0.0/8\n"),
    );
    assert!(
        built
            .err()
            .unwrap()
            .iter()
            .any(|e| e.contains("defined both"))
    );
    // An unused [acl:NAME] is only a warning.
    let (_dir, built) = build("[acl:spare]\ndeny = 10.0.0.0/8\n", None);
    let snapshot = built.unwrap();
    assert!(
        snapshot
            .diagnostics()
            .iter()
            .any(|d| d.to_string().contains("no ACL names 'spare'"))
    );
}

#[test]
fn a_changed_named_acl_is_looser_until_proven_otherwise() {
    let conf = "[acl]\nacl = office\n";
    let (_a, before) = build(
        conf,
        Some("[office]\ndeny = 0.0.0.0/0\npermit = 10.1.0.0/16\n"),
    );
    let (_b, widened) = build(
        conf,
        Some("[office]\ndeny = 0.0.0.0/0\npermit = 10.0.0.0/8\n"),
    );
    let (_c, more) = build(
        "[acl]\nacl = office, lab\n",
        Some("[office]\ndeny = 0.0.0.0/0\npermit = 10.1.0.0/16\n[lab]\ndeny = 10.1.9.0/24\n"),
    );
    let before = before.unwrap();
    assert!(
        !widened
            .unwrap()
            .settings()
            .no_looser_than(before.settings())
    );
    assert!(more.unwrap().settings().no_looser_than(before.settings()));
}
