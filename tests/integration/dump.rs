//! `pjprov dump FILE`: the parsed file as JSON (DESIGN.md §2).

use serde_json::Value;

use crate::util::{Fixture, run, stderr, stdout};

#[test]
fn dump_prints_sections_after_includes_templates_and_appends() {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[ep](!)\ntype = endpoint\ncontext = phones\n\n[1000](ep)\nauth = 1000\n#include more.conf\n[1000](+)\naors = 1000\n",
    )
    .config("more.conf", "[1000]\ntype = auth\nusername = alice\n");
    let etc = fx.etc();
    let out = run(&["dump", "--config-dir", etc.to_str().unwrap(), "pjsip.conf"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let expected = serde_json::json!([
        {"name": "ep", "template": true, "file": "pjsip.conf", "line": 1,
         "entries": [["type", "endpoint"], ["context", "phones"]]},
        {"name": "1000", "template": false, "file": "pjsip.conf", "line": 5,
         "entries": [["type", "endpoint"], ["context", "phones"], ["auth", "1000"], ["aors", "1000"]]},
        {"name": "1000", "template": false, "file": "more.conf", "line": 1,
         "entries": [["type", "auth"], ["username", "alice"]]},
    ]);
    assert_eq!(json, expected);
}

#[test]
fn dump_accepts_absolute_paths_and_reports_diagnostics_on_stderr() {
    let fx = Fixture::new();
    fx.config("x.conf", "[a]\nno equals here\nk = v\n");
    let path = fx.etc().join("x.conf");
    let out = run(&["dump", path.to_str().unwrap()]);
    assert!(out.status.success());
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json[0]["entries"], serde_json::json!([["k", "v"]]));
    assert!(
        stderr(&out).contains("x.conf:2: warning: no '='"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn dump_exits_1_when_asterisk_would_reject_the_file() {
    let fx = Fixture::new();
    fx.config("bad.conf", "[a](missing)\n");
    let etc = fx.etc();
    let out = run(&["dump", "--config-dir", etc.to_str().unwrap(), "bad.conf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("bad.conf:1: error: inheritance requested"),
        "{}",
        stderr(&out)
    );
    let out = run(&[
        "dump",
        "--config-dir",
        etc.to_str().unwrap(),
        "missing.conf",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["dump"]).status.code(), Some(2));
    assert_eq!(run(&["no-such-command"]).status.code(), Some(2));
}
