//! pjprov.conf inside a snapshot: it is read with the rest, fails closed, and the names of per-phone files
//! are recognised for the access checks.

use std::path::Path;

use pjprov_core::settings::AuthSource;
use pjprov_core::{BuildOptions, Mac, Paths, Snapshot, Subject};

const PJSIP: &str = "\
[udp]\ntype = transport\nbind = 0.0.0.0\n\n\
[1000]\ntype = endpoint\ntransport = udp\nauth = 1000\n\n\
[1000]\ntype = auth\nusername = 1000\npassword = pw-1000\n\n\
[1000-phone]\ntype = phoneprov\nendpoint = 1000\nMAC = 0004f2aabbcc\nPROFILE = polycom\n";

const PHONEPROV: &str = "\
[polycom]\nstatic_file => 000000000000.cfg\n${MAC}.cfg => mac.cfg\n${MAC}-directory.xml => dir.xml\n\
cfg${MAC}.xml => gs.xml\n";

fn setup(dir: &Path, pjprov: Option<&str>) -> Paths {
    let (etc, data) = (dir.join("etc"), dir.join("data"));
    std::fs::create_dir_all(data.join("phoneprov")).unwrap();
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("pjsip.conf"), PJSIP).unwrap();
    std::fs::write(etc.join("phoneprov.conf"), PHONEPROV).unwrap();
    for file in ["000000000000.cfg", "mac.cfg", "dir.xml", "gs.xml"] {
        std::fs::write(data.join("phoneprov").join(file), "x\n").unwrap();
    }
    if let Some(text) = pjprov {
        std::fs::write(etc.join("pjprov.conf"), text).unwrap();
    }
    Paths::new(etc, data)
}

#[test]
fn pjprov_conf_is_read_and_watched() {
    let dir = tempfile::tempdir().unwrap();
    let paths = setup(dir.path(), Some("[profile:polycom]\nauth = sip\n"));
    let snapshot = Snapshot::build(&paths, &BuildOptions::default()).unwrap();
    assert!(
        snapshot
            .watch()
            .contains(&paths.config_dir.join("pjprov.conf"))
    );
    let mac = Mac::parse("0004f2aabbcc");
    let polycom = snapshot.profile_id("polycom").unwrap();
    assert_eq!(
        snapshot.settings().policy(polycom, mac).auth,
        AuthSource::Sip
    );
}

#[test]
fn a_missing_pjprov_conf_is_watched_too() {
    let dir = tempfile::tempdir().unwrap();
    let paths = setup(dir.path(), None);
    let snapshot = Snapshot::build(&paths, &BuildOptions::default()).unwrap();
    assert!(
        snapshot
            .watch()
            .contains(&paths.config_dir.join("pjprov.conf")),
        "creating it later must reload"
    );
    assert!(!snapshot.settings().any_credentials());
}

#[test]
fn an_error_in_pjprov_conf_rejects_everything() {
    let dir = tempfile::tempdir().unwrap();
    let paths = setup(
        dir.path(),
        Some("[acl]\ndeny = 0.0.0.0/0\npermit = 10.0.0/8\n"),
    );
    let rejected = Snapshot::build(&paths, &BuildOptions::default()).unwrap_err();
    let text: Vec<String> = rejected.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(text[0].contains("pjprov.conf:3: error"), "{text:?}");
    assert!(
        text.iter().any(|t| t.contains("used whole or not at all")),
        "{text:?}"
    );
    assert!(
        rejected
            .watch
            .contains(&paths.config_dir.join("pjprov.conf"))
    );
}

#[test]
fn names_shaped_like_a_phone_file() {
    let dir = tempfile::tempdir().unwrap();
    let paths = setup(dir.path(), None);
    let snapshot = Snapshot::build(&paths, &BuildOptions::default()).unwrap();
    let mac = Mac::parse("0004f2aabbcc").unwrap();
    // A route is a phone's file; the same name with another MAC is phone-shaped, known or not.
    let route = snapshot.route("0004F2AABBCC.cfg");
    assert!(matches!(
        snapshot.subject("0004F2AABBCC.cfg", route),
        Subject::Phone { mac: Some(m), .. } if m == mac
    ));
    let Subject::PhoneShaped { phone, shape, .. } =
        snapshot.subject("0004f2000001-directory.xml", None)
    else {
        panic!("phone-shaped");
    };
    assert_eq!(phone, None);
    assert_eq!(
        snapshot.shape_profiles(shape),
        [snapshot.profile_id("polycom").unwrap()]
    );
    let Subject::PhoneShaped { phone, .. } = snapshot.subject("0004f2aabbcc-directory.xml", None)
    else {
        panic!("phone-shaped");
    };
    assert_eq!(phone, snapshot.phone_id(mac), "a known MAC is named too");
    assert!(snapshot.phone_shaped("cfg0004f2000001.xml").is_some());
    // Names no per-phone route has the shape of reveal nothing, so they are not phone names.
    for name in [
        "0004f2000001.boot",
        "000000000000.cfg",
        "y000000000025.cfg",
        "0004f2000001",
        "0004f2000001.cfg.bak",
        "x0004f2000001.cfg",
    ] {
        assert_eq!(snapshot.phone_shaped(name), None, "{name}");
        assert_eq!(snapshot.subject(name, None), Subject::Other, "{name}");
    }
}
