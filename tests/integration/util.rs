//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn pjprov() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pjprov"))
}

/// Runs `pjprov` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    pjprov().args(args).output().expect("run pjprov")
}

/// A temporary config dir and data dir.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::create_dir_all(dir.path().join("data/phoneprov")).unwrap();
        Fixture { dir }
    }

    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Writes `etc/<name>`.
    pub fn config(&self, name: &str, text: &str) -> &Self {
        write(&self.etc().join(name), text);
        self
    }

    /// Writes `data/phoneprov/<name>`.
    pub fn template(&self, name: &str, text: &str) -> &Self {
        write(&self.data().join("phoneprov").join(name), text);
        self
    }
}

pub fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// The shared reference folder (`$PJPROV_SHARED_DIR`, else `../shared` next to the workspace), if present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PJPROV_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
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

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
