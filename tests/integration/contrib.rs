//! The files in `contrib/`: the example configuration serves every phone, the systemd unit is valid.

use std::path::PathBuf;

use crate::util::{Server, run, stdout};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_example_checks_clean_and_serves_every_route() {
    let etc = repo().join("contrib/example/etc");
    let data = repo().join("contrib/example/data");
    let out = run(&[
        "check",
        "--config-dir",
        etc.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("0 errors, 0 warnings; 6 phones"),
        "{}",
        stdout(&out)
    );

    let out = run(&[
        "list",
        "--format",
        "json",
        "--config-dir",
        etc.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The inventory goes to a scratch directory, never into the repository.
    let state = tempfile::tempdir().unwrap();
    let server = Server::start(
        &etc,
        &data,
        &["--state-dir", state.path().to_str().unwrap()],
    );
    let mut served = 0;
    for phone in listing["phones"].as_array().unwrap() {
        assert!(phone["lines"][0]["variables"]["SECRET"] == "********");
        for route in phone["routes"].as_array().unwrap() {
            let uri = route["uri"].as_str().unwrap();
            let response = server.get(&format!("/phoneprov/{uri}"));
            assert_eq!(response.status, 200, "{uri}");
            assert!(!response.body.is_empty(), "{uri}");
            served += 1;
        }
    }
    assert!(served >= 16, "{served}");
    // The two-line Yealink gets both accounts.
    let yealink = String::from_utf8(server.get("/phoneprov/805ec0a10001.cfg").body).unwrap();
    assert!(
        yealink.contains("account.1.auth_name = 201")
            && yealink.contains("account.2.auth_name = 202"),
        "{yealink}"
    );
}

#[test]
fn the_systemd_unit_verifies() {
    let Ok(version) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    else {
        crate::reference::skip("systemd-analyze is not installed (apt-get install systemd)");
        return;
    };
    assert!(version.status.success());
    // `verify` checks that ExecStart exists: point it at the binary under test.
    let unit = std::fs::read_to_string(repo().join("contrib/systemd/pjprov.service")).unwrap();
    let unit = unit.replace("/usr/bin/pjprov", env!("CARGO_BIN_EXE_pjprov"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pjprov.service");
    std::fs::write(&path, unit).unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_man_page_is_generated_from_the_cli() {
    let out = run(&["man"]);
    assert!(out.status.success());
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH pjprov"),
        "{}",
        &page[..200.min(page.len())]
    );
    for command in ["serve", "check", "list", "render", "dump"] {
        assert!(page.contains(&format!("pjprov\\-{command}")), "{command}");
    }
}

/// Every key the commented pjprov.conf sample documents is real: uncommented (with certificate files
/// that exist), it checks without errors.
#[test]
fn the_pjprov_conf_sample_is_valid_when_uncommented() {
    let etc = tempfile::tempdir().unwrap();
    let example = repo().join("contrib/example/etc");
    for name in ["pjsip.conf", "pjsip_wizard.conf", "phoneprov.conf"] {
        let text = std::fs::read_to_string(example.join(name)).unwrap();
        // The example includes the templates' samples through its data directory.
        let text = text.replace(
            "../data/phoneprov",
            repo().join("templates").to_str().unwrap(),
        );
        std::fs::write(etc.path().join(name), text).unwrap();
    }
    let ca = crate::pki::Ca::new("sample CA");
    crate::pki::write_pair(etc.path(), "cert", &ca.server());
    std::fs::write(etc.path().join("phone-cas.pem"), ca.pem()).unwrap();
    let sample = std::fs::read_to_string(example.join("pjprov.conf")).unwrap();
    let mut uncommented = String::new();
    for line in sample.lines() {
        let line = match line.strip_prefix(';') {
            Some(rest)
                if rest.starts_with('[') || rest.starts_with(|c: char| c.is_ascii_lowercase()) =>
            {
                rest
            }
            _ => line,
        };
        uncommented.push_str(line);
        uncommented.push('\n');
    }
    let uncommented = uncommented
        .replace("/etc/pjprov/cert.pem", "cert.pem")
        .replace("/etc/pjprov/key.pem", "cert.key")
        .replace("/etc/pjprov/phone-cas.pem", "phone-cas.pem");
    assert!(uncommented.contains("\n[limits]"), "{uncommented}");
    std::fs::write(etc.path().join("pjprov.conf"), &uncommented).unwrap();
    let data = repo().join("contrib/example/data");
    let out = run(&[
        "check",
        "--config-dir",
        etc.path().to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains(": error:"), "{text}");
    assert!(
        !text.contains("pjprov.conf:0:"),
        "the warnings point at their line: {text}"
    );
    assert!(
        !text.contains("change-me"),
        "check shows no password: {text}"
    );
}
