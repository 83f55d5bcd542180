//! The golden cases through the command line: `pjprov render` answers every row of `expected.tsv` (status
//! and body; content types are checked over HTTP and in pjprov-core's tests). The folder is walked, so new
//! cases are picked up without code changes.

use crate::reference::{CAPTURED, golden_cases, golden_rows};
use crate::util::pjprov;

#[test]
fn render_answers_every_golden_row() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in golden_cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        for row in golden_rows(&case) {
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
