//! The golden cases: what a real Asterisk 22.10.1 answered, and what pjprov must answer (`expected.tsv`).
//! Every case folder is walked, so new cases are picked up without code changes.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use pjprov_core::{BuildOptions, Paths, Snapshot, Target};

fn golden_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("PJPROV_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("golden");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: {} not found (set PJPROV_SHARED_DIR)",
            dir.display()
        );
        None
    }
}

/// The golden captures were made on this day; the time zone variables depend on it.
const CAPTURED: &str = "2026-11-23T12:00:00Z";

struct Row {
    uri: String,
    status: u16,
    content_type: String,
    body: String,
}

fn rows(case: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(case.join("expected.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Row {
                uri: cols[0].to_owned(),
                status: cols[1].parse().unwrap(),
                content_type: cols.get(2).unwrap_or(&"").to_owned().to_owned(),
                body: cols.get(3).unwrap_or(&"").to_owned().to_owned(),
            }
        })
        .collect()
}

#[test]
fn every_golden_case_answers_as_expected() {
    let Some(golden) = golden_dir() else { return };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.tsv").is_file())
        .collect();
    cases.sort();
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
        for row in rows(case) {
            checked += 1;
            let uri = pjprov_core::uri::decode(&row.uri);
            let route = snapshot.route(&uri);
            let answer = route.map(|r| {
                let body = match r.target {
                    Target::Static { .. } => {
                        snapshot.render_fresh(r, IpAddr::V4(Ipv4Addr::LOCALHOST)).0
                    }
                    Target::Dynamic { .. } => snapshot
                        .render(r, IpAddr::V4(Ipv4Addr::LOCALHOST))
                        .map(|b| b.body.to_vec()),
                };
                (r.mime.clone(), body)
            });
            match (row.status, answer) {
                (200, Some((mime, Ok(body)))) => {
                    let want = std::fs::read(case.join("bodies").join(&row.body)).unwrap();
                    if body != want {
                        failures.push(format!(
                            "{name} {}: body differs\n--- got\n{}\n--- want\n{}",
                            row.uri,
                            String::from_utf8_lossy(&body),
                            String::from_utf8_lossy(&want)
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
