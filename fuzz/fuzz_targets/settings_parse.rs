//! Any bytes as pjprov.conf: reading the settings must never panic, and a file that is accepted has no
//! error diagnostic (pjprov.conf fails closed).

#![no_main]

use std::path::Path;

use asterisk_config::{Loader, MemorySource};
use libfuzzer_sys::fuzz_target;
use pjprov_core::{Settings, Severity};

fuzz_target!(|data: &[u8]| {
    let source = MemorySource::new().with_file("/etc/asterisk/pjprov.conf", data.to_vec());
    let loaded = Loader::with_source("/etc/asterisk", source).load("pjprov.conf");
    let mut diagnostics = Vec::new();
    let settings = Settings::read(
        Some(&loaded.config),
        Path::new("/etc/asterisk"),
        &[],
        &[],
        &mut diagnostics,
    );
    if settings.is_some() {
        assert!(diagnostics.iter().all(|d| d.severity() != Severity::Error));
    }
});
