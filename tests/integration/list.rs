//! `pjprov list`: snapshots of `--format json` for every golden case (the folder is walked), and the rules
//! about secrets.

use serde_json::Value;

use crate::reference::{CAPTURED, golden_cases};
use crate::util::{Fixture, pjprov, run, stdout};

fn list_json(etc: &std::path::Path, data: &std::path::Path, extra: &[&str]) -> Value {
    let out = pjprov()
        .args([
            "list",
            "--format",
            "json",
            "--now",
            CAPTURED,
            "--config-dir",
        ])
        .arg(etc)
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn list_json_snapshots_of_every_golden_case() {
    let snapshots =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/integration/snapshots");
    for case in golden_cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let mut value = list_json(&case.join("etc"), &case.join("data"), &[]);
        // Static file paths are absolute; the shared folder lives elsewhere on every machine.
        let canonical = case.canonicalize().unwrap();
        redact_prefix(&mut value, &canonical.to_string_lossy(), "[case]");
        let snapshot_name = format!("list_{name}");
        let file = snapshots.join(format!("integration__list__{snapshot_name}.snap"));
        if !file.exists() && std::env::var_os("INSTA_UPDATE").is_none() {
            // A golden case added after the snapshots were recorded: render must still pass; record its
            // listing with `INSTA_UPDATE=always cargo test`.
            eprintln!("no recorded listing for new golden case {name}; skipping its snapshot");
            continue;
        }
        insta::with_settings!({ snapshot_path => &snapshots, prepend_module_to_snapshot => true }, {
            insta::assert_json_snapshot!(snapshot_name, value);
        });
    }
}

/// Replaces `prefix` at the start of every string in `value` with `by`.
fn redact_prefix(value: &mut Value, prefix: &str, by: &str) {
    match value {
        Value::String(s) => {
            if let Some(rest) = s.strip_prefix(prefix) {
                *s = format!("{by}{rest}");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact_prefix(v, prefix, by)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_prefix(v, prefix, by)),
        _ => {}
    }
}

const CONFIG: &str = "[udp]\ntype = transport\nbind = 0.0.0.0\n\
    [100]\ntype = endpoint\ntransport = udp\nauth = 100\ncallerid = \"Desk\" <100>\n\
    [100]\ntype = auth\nusername = 100\npassword = Very-Secret-1\n\
    [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = 0004f2000100\nPROFILE = p\nADMIN_PASSWORD = Admin-Secret-2\n";

#[test]
fn secrets_are_masked_unless_asked() {
    let fx = Fixture::new();
    fx.config("pjsip.conf", CONFIG)
        .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n")
        .template("p.cfg", "x\n");
    let json = list_json(&fx.etc(), &fx.data(), &[]);
    let text = json.to_string();
    assert!(
        !text.contains("Very-Secret-1") && !text.contains("Admin-Secret-2"),
        "{text}"
    );
    let vars = &json["phones"][0]["lines"][0]["variables"];
    assert_eq!(vars["SECRET"], "********");
    assert_eq!(vars["ADMIN_PASSWORD"], "********");
    assert_eq!(vars["USERNAME"], "100");
    let json = list_json(&fx.etc(), &fx.data(), &["--show-secrets"]);
    assert_eq!(
        json["phones"][0]["lines"][0]["variables"]["SECRET"],
        "Very-Secret-1"
    );

    let etc = fx.etc();
    let data = fx.data();
    let out = run(&[
        "list",
        "--config-dir",
        etc.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let table = stdout(&out);
    assert!(
        table.contains("0004f2000100") && table.contains("0004f2000100.cfg"),
        "{table}"
    );
    assert!(!table.contains("Very-Secret-1"), "{table}");
}
