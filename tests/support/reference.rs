//! The shared reference folder (`$PJPROV_SHARED_DIR`, else `../shared` next to the workspace) and its golden
//! cases, for the tests and benchmarks of every crate (included with `#[path]`). Without the folder the
//! callers skip, saying so on stderr.

// Each test crate that includes this file uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The day the golden answers were captured (the time zone variables depend on it).
pub const CAPTURED: &str = "2026-11-23T12:00:00Z";

/// The shared reference folder, if present.
pub fn shared_dir() -> Option<PathBuf> {
    shared_subdir(".")
}

/// The folder `sub` of the shared reference folder, if present.
pub fn shared_subdir(sub: &str) -> Option<PathBuf> {
    let shared = std::env::var_os("PJPROV_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join(sub);
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

/// Every golden case folder, sorted. The folder is walked, so new cases are picked up without code changes.
pub fn golden_cases() -> Vec<PathBuf> {
    let Some(golden) = shared_subdir("golden") else {
        return Vec::new();
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden)
        .map(|dir| {
            dir.map(|e| e.unwrap().path())
                .filter(|p| p.join("expected.tsv").is_file())
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    cases
}

/// One row of a case's `expected.tsv`.
pub struct GoldenRow {
    pub uri: String,
    pub status: u16,
    pub content_type: String,
    /// The expected body (from `bodies/`), when the row names one.
    pub body: Option<Vec<u8>>,
}

/// The rows of `case`'s `expected.tsv`.
pub fn golden_rows(case: &Path) -> Vec<GoldenRow> {
    let text = std::fs::read_to_string(case.join("expected.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let body = cols.get(3).filter(|b| !b.is_empty());
            GoldenRow {
                uri: cols[0].to_owned(),
                status: cols[1].parse().unwrap(),
                content_type: cols.get(2).copied().unwrap_or_default().to_owned(),
                body: body.map(|b| std::fs::read(case.join("bodies").join(b)).unwrap()),
            }
        })
        .collect()
}
