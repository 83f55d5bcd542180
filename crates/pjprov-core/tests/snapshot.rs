//! A snapshot fails closed and keeps what worked: files it cannot read reject the configuration, templates
//! that break or vanish keep their last good form, files without a variable in their name are shared, and
//! a MAC no phone has is judged by the strictest profile of its name's shape.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use pjprov_core::settings::{AuthSource, ClientCert};
use pjprov_core::{BuildOptions, Error, Paths, Snapshot, Subject, Target};

const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

const PJSIP: &str = "\
[udp]\ntype = transport\nbind = 0.0.0.0\n\n\
[1000]\ntype = endpoint\ntransport = udp\nauth = 1000\n\n\
[1000]\ntype = auth\nusername = 1000\npassword = pw-1000\n\n\
[1000-phone]\ntype = phoneprov\nendpoint = 1000\nMAC = 0004f2aabbcc\nPROFILE = polycom\n\n\
[2000]\ntype = endpoint\ntransport = udp\nauth = 2000\n\n\
[2000]\ntype = auth\nusername = 2000\npassword = pw-2000\n\n\
[2000-phone]\ntype = phoneprov\nendpoint = 2000\nMAC = 805ec0aabbcc\nPROFILE = yealink\n";

const PHONEPROV: &str = "\
[polycom]\n${MAC}.cfg => mac.cfg\nboot.cfg => boot.cfg\n\
[yealink]\n${MAC}.cfg => y.cfg.hbs\ny000000000000.cfg => common.cfg\n";

struct Setup {
    _dir: tempfile::TempDir,
    paths: Paths,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
        std::fs::create_dir_all(data.join("phoneprov")).unwrap();
        std::fs::create_dir_all(&etc).unwrap();
        let setup = Setup {
            paths: Paths::new(etc, data),
            _dir: dir,
        };
        setup.etc("pjsip.conf", PJSIP);
        setup.etc("phoneprov.conf", PHONEPROV);
        setup.template("mac.cfg", "user=${USERNAME} pw=${SECRET}\n");
        setup.template("boot.cfg", "boot for ${MAC}\n");
        setup.template("y.cfg.hbs", "user={{USERNAME}}\n");
        setup.template("common.cfg", "common\n");
        setup
    }

    fn etc(&self, name: &str, text: &str) -> PathBuf {
        let path = self.paths.config_dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn template(&self, name: &str, text: &str) -> PathBuf {
        let path = self.paths.phoneprov_dir().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn build(&self) -> Snapshot {
        Snapshot::build(&self.paths, &BuildOptions::default()).expect("usable")
    }
}

/// A file that exists but whose reading fails (EIO), even for root: a link to `/proc/self/mem`.
fn make_unreadable(path: &Path) {
    let _ = std::fs::remove_file(path);
    std::os::unix::fs::symlink("/proc/self/mem", path).unwrap();
}

fn body(snapshot: &Snapshot, uri: &str) -> String {
    let route = snapshot.route(uri).expect(uri);
    String::from_utf8(snapshot.render(route, SERVER).expect(uri).body.to_vec()).unwrap()
}

fn messages(diagnostics: &[pjprov_core::Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn an_unreadable_optional_file_rejects_the_configuration() {
    for name in ["pjprov.conf", "pjsip_wizard.conf"] {
        let setup = Setup::new();
        make_unreadable(&setup.paths.config_dir.join(name));
        let rejected = Snapshot::build(&setup.paths, &BuildOptions::default())
            .expect_err("an unreadable file is not an absent one");
        let text = messages(&rejected.diagnostics);
        assert!(text.contains("cannot read"), "{name}: {text}");
        assert!(
            text.contains(&format!("{name} cannot be used")),
            "{name}: {text}"
        );
    }
}

#[test]
fn an_unreadable_template_rejects_the_configuration() {
    for name in ["mac.cfg", "y.cfg.hbs"] {
        let setup = Setup::new();
        // Inside the phoneprov directory, but no file one can read (EISDIR, even for root).
        let path = setup.paths.phoneprov_dir().join(name);
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let rejected = Snapshot::build(&setup.paths, &BuildOptions::default())
            .expect_err("an unreadable template");
        assert!(
            rejected
                .diagnostics
                .iter()
                .any(|d| matches!(d.error, Error::TemplateUnreadable { .. })),
            "{name}: {}",
            messages(&rejected.diagnostics)
        );
    }
}

#[test]
fn a_template_that_breaks_or_vanishes_keeps_its_last_good_form() {
    let setup = Setup::new();
    let first = setup.build();
    assert_eq!(body(&first, "0004f2aabbcc.cfg"), "user=1000 pw=pw-1000\n");
    assert_eq!(body(&first, "805ec0aabbcc.cfg"), "user=2000\n");

    // The Asterisk template is deleted, the Handlebars one saved broken.
    std::fs::remove_file(setup.paths.phoneprov_dir().join("mac.cfg")).unwrap();
    setup.template("y.cfg.hbs", "user={{#if USERNAME}}\n");
    let second = first
        .rebuild(&setup.paths, &BuildOptions::default())
        .unwrap();
    assert_eq!(body(&second, "0004f2aabbcc.cfg"), "user=1000 pw=pw-1000\n");
    assert_eq!(body(&second, "805ec0aabbcc.cfg"), "user=2000\n");
    let kept: Vec<_> = second
        .diagnostics()
        .iter()
        .filter(|d| matches!(d.error, Error::TemplateKept { .. }))
        .collect();
    assert_eq!(kept.len(), 2, "{}", messages(second.diagnostics()));
    assert!(second.has_errors(), "check must say so");

    // Still kept one generation later; a fresh build (a restart) has no last good form.
    let third = second
        .rebuild(&setup.paths, &BuildOptions::default())
        .unwrap();
    assert_eq!(body(&third, "0004f2aabbcc.cfg"), "user=1000 pw=pw-1000\n");
    let fresh = setup.build();
    assert!(
        fresh
            .render(fresh.route("0004f2aabbcc.cfg").unwrap(), SERVER)
            .is_err()
    );

    // Fixed: the new bytes are served.
    setup.template("mac.cfg", "new ${USERNAME}\n");
    setup.template("y.cfg.hbs", "new {{USERNAME}}\n");
    let fourth = third
        .rebuild(&setup.paths, &BuildOptions::default())
        .unwrap();
    assert_eq!(body(&fourth, "0004f2aabbcc.cfg"), "new 1000\n");
    assert_eq!(body(&fourth, "805ec0aabbcc.cfg"), "new 2000\n");
}

#[test]
fn a_file_without_a_variable_in_its_name_is_shared() {
    let setup = Setup::new();
    let snapshot = setup.build();
    let route = snapshot.route("boot.cfg").unwrap();
    assert!(matches!(route.target, Target::Shared { .. }));
    assert!(matches!(
        snapshot.subject("boot.cfg", Some(route)),
        Subject::Shared { secret: false, .. }
    ));
    // Rendered with the first phone's variables, as Asterisk renders it.
    assert_eq!(body(&snapshot, "boot.cfg"), "boot for 0004f2aabbcc\n");
    assert_eq!(snapshot.route_mac(route), None, "it is no phone's own file");
    assert!(
        !snapshot
            .diagnostics()
            .iter()
            .any(|d| matches!(d.error, Error::SharedFileWithSecret { .. }))
    );

    // A shared file whose template reads a secret is flagged: every phone would get the first one's.
    setup.template("boot.cfg", "pw=${SECRET}\n");
    let snapshot = setup.build();
    let route = snapshot.route("boot.cfg").unwrap();
    assert!(matches!(
        snapshot.subject("boot.cfg", Some(route)),
        Subject::Shared { secret: true, .. }
    ));
    assert!(
        snapshot
            .diagnostics()
            .iter()
            .any(|d| matches!(d.error, Error::SharedFileWithSecret { .. })),
        "{}",
        messages(snapshot.diagnostics())
    );
}

#[test]
fn an_unknown_mac_is_judged_by_the_strictest_profile_of_its_shape() {
    let setup = Setup::new();
    setup.etc(
        "pjprov.conf",
        "[auth]\nauth = sip\n[profile:yealink]\nauth = none\n",
    );
    let snapshot = setup.build();
    let Subject::PhoneShaped { phone, shape, .. } = snapshot.subject("0004f2000001.cfg", None)
    else {
        panic!("phone-shaped");
    };
    assert_eq!(phone, None);
    let profiles = snapshot.shape_profiles(shape);
    assert_eq!(profiles.len(), 2, "both profiles name <mac>.cfg");
    let (strictest, policy) = snapshot.settings().strictest(profiles);
    assert_eq!(strictest, snapshot.profile_id("polycom"));
    assert_eq!(policy.auth, AuthSource::Sip);

    setup.etc(
        "pjprov.conf",
        "[auth]\nauth = sip\n[profile:yealink]\nclient_cert = require\n",
    );
    let snapshot = setup.build();
    let Subject::PhoneShaped { shape, .. } = snapshot.subject("0004f2000001.cfg", None) else {
        panic!("phone-shaped");
    };
    let (strictest, policy) = snapshot
        .settings()
        .strictest(snapshot.shape_profiles(shape));
    assert_eq!(strictest, snapshot.profile_id("yealink"));
    assert_eq!(policy.client_cert, ClientCert::Require);
}
