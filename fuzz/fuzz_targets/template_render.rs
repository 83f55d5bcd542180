//! Any bytes as an Asterisk template, rendered for a line with a few variables: parsing and rendering must
//! never panic or hang, and the output stays within `MAX_OUTPUT` (a template that expands itself forever
//! gets an error).

#![no_main]

use libfuzzer_sys::fuzz_target;
use pjprov_core::Vars;
use pjprov_core::asterisk::{MAX_OUTPUT, Template};

fuzz_target!(|data: &[u8]| {
    let mut vars = Vars::new();
    vars.set("MAC", "0004f2aabbcc");
    vars.set("USERNAME", "1000");
    vars.set("SECRET", "pw");
    vars.set("LOOP", "${LOOP}${LOOP}");
    let template = Template::parse("fuzz", data);
    let (result, _) = template.render_alone(&vars, Some("192.0.2.1"));
    if let Ok(out) = result {
        assert!(out.len() <= MAX_OUTPUT);
    }
});
