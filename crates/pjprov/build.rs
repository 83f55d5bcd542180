//! Puts the commit pjprov is built from into `pjprov --version` (`PJPROV_VERSION`).
//!
//! From `git` when building in a checkout; from `$PJPROV_COMMIT` when a packager sets it (a tarball has no
//! `.git`); otherwise the version alone. Never fails the build: a missing or broken `git` only means a
//! shorter version line.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PJPROV_COMMIT");
    let version = env!("CARGO_PKG_VERSION");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = std::env::var("PJPROV_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.trim().to_owned())
        .or_else(|| git_commit(&manifest_dir));
    let full = match commit {
        Some(commit) => format!("{version} (commit {commit})"),
        None => version.to_owned(),
    };
    println!("cargo:rustc-env=PJPROV_VERSION={full}");
}

/// The abbreviated commit of `HEAD`; asks cargo to run this again when `HEAD` moves. (Uncommitted changes
/// are not marked: noticing them would mean running this on every build.)
fn git_commit(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    // HEAD itself, the branch it names, and packed refs (where a branch may live after `git gc`).
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
    }
    if let (Some(common), Some(branch)) = (
        git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]),
        git(&["symbolic-ref", "-q", "HEAD"]),
    ) {
        println!("cargo:rerun-if-changed={common}/{branch}");
        println!("cargo:rerun-if-changed={common}/packed-refs");
    }
    Some(commit)
}
