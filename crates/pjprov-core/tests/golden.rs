//! The golden cases: what a real Asterisk 22.10.1 answered, and what pjprov must answer (`expected.tsv`).
//! Every case folder is walked, so new cases are picked up without code changes.

use pjprov_core::{BuildOptions, Paths, Snapshot, Target};
use std::net::{IpAddr, Ipv4Addr};

#[path = "../../../tests/support/reference.rs"]
mod reference;

use reference::{CAPTURED, golden_cases, golden_rows};

#[test]
fn every_golden_case_answers_as_expected() {
    if reference::shared_subdir("golden").is_none() {
        return;
    }
    let cases = golden_cases();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy();
        let paths = Paths::new(case.join("etc"), case.join("data"));
        let options = BuildOptions {
            now: Some(CAPTURED.parse().unwrap()),
            ..Default::default()
        };
        let snapshot = match Snapshot::build(&paths, &options) {
            Ok(s) => s,
            Err(r) => {
                failures.push(format!(
                    "{name}: configuration rejected: {:?}",
                    r.diagnostics
                ));
                continue;
            }
        };
        for row in golden_rows(case) {
            checked += 1;
            let uri = pjprov_core::uri::decode(&row.uri);
            let route = snapshot.route(&uri);
            let answer = route.map(|r| {
                let body = match r.target {
                    Target::Static { .. } => {
                        snapshot.render_fresh(r, IpAddr::V4(Ipv4Addr::LOCALHOST)).0
                    }
                    Target::Dynamic { .. } | Target::Shared { .. } => snapshot
                        .render(r, IpAddr::V4(Ipv4Addr::LOCALHOST))
                        .map(|b| b.body.to_vec()),
                };
                (r.mime().to_owned(), body)
            });
            match (row.status, answer) {
                (200, Some((mime, Ok(body)))) => {
                    let want = row.body.as_deref().unwrap_or_default();
                    if body != want {
                        failures.push(format!(
                            "{name} {}: body differs\n--- got\n{}\n--- want\n{}",
                            row.uri,
                            String::from_utf8_lossy(&body),
                            String::from_utf8_lossy(want)
                        ));
                    }
                    let mime = mime.split(';').next().unwrap_or_default().trim().to_owned();
                    if mime != row.content_type {
                        failures.push(format!(
                            "{name} {}: content type {mime}, want {}",
                            row.uri, row.content_type
                        ));
                    }
                }
                (200, Some((_, Err(e)))) => failures.push(format!("{name} {}: {e}", row.uri)),
                (200, None) => failures.push(format!("{name} {}: no route", row.uri)),
                (404, None) => {}
                (404, Some((_, Err(_)))) => {}
                (status, got) => failures.push(format!(
                    "{name} {}: want {status}, got {}",
                    row.uri,
                    if got.is_some() { "a route" } else { "no route" }
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
