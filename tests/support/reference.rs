//! The shared reference folder (`$PJPROV_SHARED_DIR`, else `../shared` next to the workspace) and its golden
//! cases, for the tests and benchmarks of every crate (included with `#[path]`).
//!
//! Without the folder the callers skip what needs it, and a skip is never silent: under CI (`CI` set, as
//! `.ci/run` does) it is a failure; elsewhere the test binary ends with one line on stderr counting the
//! tests that skipped and saying why (libtest would hide a message printed by the test itself).

// Each test crate that includes this file uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// The day the golden answers were captured (the time zone variables depend on it).
pub const CAPTURED: &str = "2026-11-23T12:00:00Z";

/// The shared reference folder, if present.
#[track_caller]
pub fn shared_dir() -> Option<PathBuf> {
    shared_subdir(".")
}

/// The folder `sub` of the shared reference folder, if present; if not, the caller skips ([`skip`]).
#[track_caller]
pub fn shared_subdir(sub: &str) -> Option<PathBuf> {
    let shared = std::env::var_os("PJPROV_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!(
            "{} not found (clone the shared reference folder next to the workspace, or set PJPROV_SHARED_DIR)",
            dir.display()
        ));
        None
    }
}

/// The tests that skipped something, and why.
static SKIPPED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
static SUMMARY: Once = Once::new();

/// Records that the calling test skips what needs something missing (`why`). Under CI, panics instead: CI
/// installs everything, so a skip there is a broken setup.
#[track_caller]
pub fn skip(why: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false") {
        panic!("CI is set, so this test may not skip: {why}");
    }
    // libtest names each test's thread after the test; with one test thread the call site tells them apart.
    let test = match std::thread::current().name() {
        Some(name) if name != "main" => name.to_owned(),
        _ => std::panic::Location::caller().to_string(),
    };
    let mut skipped = SKIPPED.lock().unwrap_or_else(|e| e.into_inner());
    if !skipped.iter().any(|(t, w)| *t == test && w == why) {
        skipped.push((test, why.to_owned()));
    }
    drop(skipped);
    SUMMARY.call_once(|| {
        // SAFETY: atexit(3) only stores the pointer of a function that lives as long as the program.
        #[allow(unsafe_code)]
        unsafe {
            atexit(print_skip_summary);
        }
    });
}

#[allow(unsafe_code)]
unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

/// Runs when the test binary exits, after libtest's own summary: one line, straight to stderr.
extern "C" fn print_skip_summary() {
    let skipped = SKIPPED.lock().unwrap_or_else(|e| e.into_inner());
    let tests: std::collections::BTreeSet<&str> = skipped.iter().map(|(t, _)| t.as_str()).collect();
    let mut reasons: Vec<&str> = skipped.iter().map(|(_, w)| w.as_str()).collect();
    reasons.sort();
    reasons.dedup();
    let line = format!(
        "SKIPPED: {} test{} skipped checks: {} (CI=true makes this a failure)\n",
        tests.len(),
        if tests.len() == 1 { "" } else { "s" },
        reasons.join("; ")
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// Every golden case folder, sorted. The folder is walked, so new cases are picked up without code changes.
#[track_caller]
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
