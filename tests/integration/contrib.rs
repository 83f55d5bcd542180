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

/// The `key: |` block scalars of a Kubernetes manifest's `data:` or `stringData:` (four-space indented).
fn block_scalars(manifest: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in manifest.lines() {
        if let Some(text) = line.strip_prefix("    ") {
            if let Some((_, body)) = current.as_mut() {
                body.push_str(text);
                body.push('\n');
            }
            continue;
        }
        if line.trim().is_empty() {
            if let Some((_, body)) = current.as_mut() {
                body.push('\n');
            }
            continue;
        }
        files.extend(current.take());
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(": |")) {
            current = Some((name.to_owned(), String::new()));
        }
    }
    files.extend(current);
    files
}

/// The Kubernetes example's ConfigMap and Secret, as the pod mounts them in /etc/asterisk, check clean.
#[test]
fn the_kubernetes_configuration_checks_clean() {
    let etc = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for manifest in ["configmap.yaml", "secret.yaml"] {
        let text =
            std::fs::read_to_string(repo().join("contrib/kubernetes").join(manifest)).unwrap();
        for (name, body) in block_scalars(&text) {
            std::fs::write(etc.path().join(&name), body).unwrap();
            names.push(name);
        }
    }
    names.sort();
    assert_eq!(names, ["phoneprov.conf", "pjprov.conf", "pjsip.conf"]);
    let data = tempfile::tempdir().unwrap();
    let out = run(&[
        "check",
        "--config-dir",
        etc.path().to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
        "--templates-dir",
        repo().join("templates").to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("0 errors, 0 warnings; 1 phones"), "{text}");
}

/// The Kea snippet's vendor options win: Kea takes an option from a reservation, pool, subnet or shared
/// network before a client class, and a class before the global scope (Kea ARM, "Class Priority"). So no
/// option a class sets may also be set in one of those scopes, and the classes' options exist globally.
#[test]
fn the_kea_vendor_class_options_win() {
    let text = std::fs::read_to_string(repo().join("contrib/dhcp/kea-dhcp4.json")).unwrap();
    let json: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let config: serde_json::Value =
        serde_json::from_str(&json).expect("JSON once comments are gone");
    let dhcp4 = &config["Dhcp4"];
    let names = |scope: &serde_json::Value| -> Vec<String> {
        scope["option-data"]
            .as_array()
            .map(|options| {
                options
                    .iter()
                    .map(|o| o["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let classes = dhcp4["client-classes"].as_array().unwrap();
    assert!(!classes.is_empty());
    let global = names(dhcp4);
    // Every scope that wins over a class.
    let mut stronger = Vec::new();
    let subnets = dhcp4["subnet4"].as_array().unwrap();
    let shared = dhcp4["shared-networks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for subnet in subnets.iter().chain(
        shared
            .iter()
            .flat_map(|n| n["subnet4"].as_array().cloned().unwrap_or_default())
            .collect::<Vec<_>>()
            .iter(),
    ) {
        stronger.push(subnet.clone());
        for key in ["pools", "reservations"] {
            stronger.extend(subnet[key].as_array().cloned().unwrap_or_default());
        }
    }
    stronger.extend(shared);
    for class in classes {
        for option in names(class) {
            assert!(
                global.contains(&option),
                "class {}: {option} has no value for the other phones",
                class["name"]
            );
            for scope in &stronger {
                assert!(
                    !names(scope).contains(&option),
                    "class {}: {option} is also set in {scope}, which wins over the class",
                    class["name"]
                );
            }
        }
    }
}
