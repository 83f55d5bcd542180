//! Asterisk's own sample configs (read in place from the shared reference folder) parse without errors.

use std::path::PathBuf;

use asterisk_config::{Loader, Severity};

#[path = "../../../tests/support/reference.rs"]
mod reference;

fn samples_dir() -> Option<PathBuf> {
    reference::shared_subdir("asterisk-samples/configs")
}

#[test]
fn every_sample_parses_without_errors() {
    let Some(dir) = samples_dir() else { return };
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let loaded = Loader::new(&dir).load(&name);
        assert!(loaded.valid, "{name}: {:?}", loaded.diagnostics);
        let errors: Vec<_> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        seen += 1;
    }
    assert!(
        seen >= 3,
        "expected the three sample configs in {}",
        dir.display()
    );
}

#[test]
fn phoneprov_sample_has_its_profiles() {
    let Some(dir) = samples_dir() else { return };
    let loaded = Loader::new(&dir).load("phoneprov.conf.sample");
    let names: Vec<_> = loaded
        .config
        .sections()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["general", "polycom"]);
    let general = &loaded.config.sections()[0];
    assert_eq!(general.get("default_profile"), Some("polycom"));
    let polycom = &loaded.config.sections()[1];
    assert_eq!(polycom.entry_count(), 72);
    assert_eq!(polycom.get("staticdir"), Some("configs/"));
    assert_eq!(polycom.get("mime_type"), Some("text/xml"));
    assert!(
        polycom.entries().next().unwrap().object,
        "staticdir is written with =>"
    );
    assert_eq!(polycom.entries_named("static_file").count(), 64);
    assert_eq!(
        polycom.get("${MAC}.cfg"),
        Some("000000000000.cfg"),
        "dynamic files are entries keyed by their pattern"
    );
    assert_eq!(
        polycom.get("setvar"),
        Some("CUSTOM_CONFIG=/var/lib/asterisk/phoneprov/configs/custom.cfg")
    );
}

#[test]
fn pjsip_samples_are_all_commented_out() {
    let Some(dir) = samples_dir() else { return };
    for name in ["pjsip.conf.sample", "pjsip_wizard.conf.sample"] {
        let loaded = Loader::new(&dir).load(name);
        assert!(loaded.valid);
        assert_eq!(loaded.config.sections().len(), 0, "{name}");
        assert_eq!(loaded.files.len(), 1);
    }
}

#[test]
fn bundled_fixture_reads_like_asterisk() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let loaded = Loader::new(&dir).load("pjsip.conf");
    assert!(
        loaded.valid && loaded.diagnostics.is_empty(),
        "{:?}",
        loaded.diagnostics
    );
    let names: Vec<_> = loaded
        .config
        .sections()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "transport-udp",
            "desk-endpoint",
            "desk-auth",
            "desk-phone",
            "201",
            "201",
            "201",
            "202",
            "202"
        ]
    );
    let endpoint = loaded.config.sections_named("201").next().unwrap();
    assert_eq!(endpoint.get("allow"), Some("ulaw,g722"));
    assert_eq!(endpoint.get_last("mailboxes"), Some("201@default"));
    let auth = loaded.config.sections_named("201").nth(1).unwrap();
    assert_eq!(auth.get("password"), Some("r3cept;ion"));
    assert_eq!(loaded.files.len(), 2);
    assert!(loaded.watch.contains(&dir.join("pjsip.d")));
    assert!(loaded.watch.contains(&dir.join("pjsip_local.conf")));
}
