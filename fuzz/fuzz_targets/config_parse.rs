//! Any bytes, as a main file that may include a second file with the same bytes: the loader must never
//! panic, hang or blow the stack.

#![no_main]

use asterisk_config::{Loader, MemorySource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = MemorySource::new()
        .with_file("/etc/asterisk/main.conf", data.to_vec())
        .with_file("/etc/asterisk/a.conf", data.to_vec())
        .with_file("/etc/asterisk/d/b.conf", b"[b]\nk=v\n".to_vec());
    let loaded = Loader::with_source("/etc/asterisk", source).load("main.conf");
    for section in loaded.config.sections() {
        let _ = loaded.config.file(section.file);
    }
});
