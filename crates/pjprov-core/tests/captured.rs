//! The cases of `tests/captured/`: what a real Asterisk 22.10.1 answered to templates, setvars and route
//! patterns full of dialplan functions, and what pjprov must answer. Every folder is walked.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use pjprov_core::{BuildOptions, Paths, Snapshot};

#[path = "../../../tests/support/reference.rs"]
mod reference;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captured");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("tests/captured")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("expected.tsv").is_file())
        .collect();
    cases.sort();
    cases
}

/// `asterisk.tsv`'s body file for `uri`'s `n`th row.
fn asterisk_body(case: &Path, row: usize) -> Option<Vec<u8>> {
    let text = std::fs::read_to_string(case.join("asterisk.tsv")).ok()?;
    let line = text.lines().nth(row + 1)?;
    let body = line.split('\t').nth(3).filter(|b| !b.is_empty())?;
    std::fs::read(case.join("bodies").join(body)).ok()
}

/// Whether `expected.tsv`'s row `n` has a note (pjprov differs from Asterisk there on purpose).
fn has_note(case: &Path, row: usize) -> bool {
    std::fs::read_to_string(case.join("expected.tsv"))
        .ok()
        .and_then(|t| t.lines().nth(row + 1).map(str::to_owned))
        .and_then(|l| l.split('\t').nth(4).map(|n| !n.is_empty()))
        .unwrap_or(false)
}

#[test]
fn every_captured_case_answers_as_expected() {
    let cases = cases();
    assert!(cases.len() >= 3, "{cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let paths = Paths::new(case.join("etc"), case.join("data"));
        let snapshot = Snapshot::build(&paths, &BuildOptions::default())
            .unwrap_or_else(|r| panic!("{name}: rejected: {:?}", r.diagnostics));
        for (i, row) in reference::golden_rows(case).iter().enumerate() {
            let want = row.body.clone().unwrap_or_default();
            if !has_note(case, i)
                && row.status == 200
                && asterisk_body(case, i).as_ref() != Some(&want)
            {
                failures.push(format!(
                    "{name} row {}: expected differs from Asterisk's answer without a note",
                    i + 1
                ));
            }
            let path = format!("/phoneprov/{}", row.uri);
            let uri = pjprov_core::uri::route_uri(&path, "");
            let route = uri.as_deref().and_then(|uri| snapshot.route(uri));
            let Some(route) = route else {
                if row.status != 404 {
                    failures.push(format!("{name} {}: no route", row.uri));
                }
                continue;
            };
            if row.status == 404 {
                failures.push(format!("{name} {}: a route, want 404", row.uri));
                continue;
            }
            match snapshot.render(route, IpAddr::V4(Ipv4Addr::LOCALHOST)) {
                Ok(body) if body.body[..] == want[..] => {}
                Ok(body) => failures.push(format!(
                    "{name} {} (row {}):\n--- got\n{}\n--- want\n{}",
                    row.uri,
                    i + 1,
                    String::from_utf8_lossy(&body.body),
                    String::from_utf8_lossy(&want)
                )),
                Err(e) => failures.push(format!("{name} {}: {e}", row.uri)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
