//! The golden cases through the command line: `pjprov render` answers every row of `expected.tsv` (status
//! and body; content types are checked over HTTP and in pjprov-core's tests). The folder is walked, so new
//! cases are picked up without code changes.

use std::path::{Path, PathBuf};

use crate::util::{pjprov, shared_dir};

/// The day the golden answers were captured (the time zone variables depend on it).
pub const CAPTURED: &str = "2026-11-23T12:00:00Z";

/// Every golden case folder, sorted.
pub fn cases() -> Vec<PathBuf> {
    let Some(shared) = shared_dir() else {
        return Vec::new();
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(shared.join("golden"))
        .map(|dir| {
            dir.map(|e| e.unwrap().path())
                .filter(|p| p.join("expected.tsv").is_file())
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    cases
}

/// One row of `expected.tsv`.
pub struct Row {
    pub uri: String,
    pub status: u16,
    pub content_type: String,
    pub body: Option<Vec<u8>>,
}

pub fn rows(case: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(case.join("expected.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let body = cols.get(3).filter(|b| !b.is_empty());
            Row {
                uri: cols[0].to_owned(),
                status: cols[1].parse().unwrap(),
                content_type: cols.get(2).copied().unwrap_or_default().to_owned(),
                body: body.map(|b| std::fs::read(case.join("bodies").join(b)).unwrap()),
            }
        })
        .collect()
}

#[test]
fn render_answers_every_golden_row() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        for row in rows(&case) {
            checked += 1;
            let out = pjprov()
                .args(["render", "--now", CAPTURED, "--config-dir"])
                .arg(case.join("etc"))
                .arg("--data-dir")
                .arg(case.join("data"))
                .arg("--server-addr")
                .arg("127.0.0.1")
                .arg("--")
                .arg(&row.uri)
                .output()
                .unwrap();
            match (row.status, out.status.success()) {
                (200, true) if Some(&out.stdout) == row.body.as_ref() => {}
                (200, true) => failures.push(format!("{name} {}: body differs", row.uri)),
                (200, false) => failures.push(format!(
                    "{name} {}: failed: {}",
                    row.uri,
                    String::from_utf8_lossy(&out.stderr)
                )),
                (_, false) if out.status.code() == Some(1) => {}
                (status, _) => failures.push(format!(
                    "{name} {}: want {status}, render succeeded",
                    row.uri
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
