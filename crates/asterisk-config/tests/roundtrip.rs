//! Property tests: a generated config written out in the dialect parses back to the same sections and
//! entries, and no input at all makes the loader panic.

use asterisk_config::{Loader, MemorySource};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct GenSection {
    name: String,
    template: bool,
    entries: Vec<(String, String, bool)>,
}

fn key() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_/.-]{0,12}"
}

fn value() -> impl Strategy<Value = String> {
    // Visible text with inner blanks, quotes, '=', ';' and brackets; no leading or trailing blanks.
    prop_oneof![
        Just(String::new()),
        "[!-~&&[^\\\\;]]([ -~&&[^\\\\]]{0,20}[!-~&&[^\\\\;]])?",
        "[A-Za-z0-9]{1,5};[A-Za-z0-9]{1,5}",
    ]
}

fn section() -> impl Strategy<Value = GenSection> {
    (
        "[A-Za-z0-9_-][A-Za-z0-9_ .-]{0,10}",
        any::<bool>(),
        prop::collection::vec((key(), value(), any::<bool>()), 0..8),
    )
        .prop_map(|(name, template, entries)| GenSection {
            name,
            template,
            entries,
        })
}

fn write(sections: &[GenSection], noise: &[bool]) -> String {
    let mut out = String::from("; generated\n");
    let mut n = noise.iter().copied().cycle();
    for s in sections {
        if n.next().unwrap_or(false) {
            out.push_str(";-- a block\n   comment --;\n");
        }
        out.push('[');
        out.push_str(&s.name);
        out.push(']');
        if s.template {
            out.push_str("(!)");
        }
        out.push('\n');
        for (k, v, object) in &s.entries {
            let v = v.replace(';', "\\;");
            let op = if *object { "=>" } else { "=" };
            if n.next().unwrap_or(false) {
                out.push_str(&format!("  {k}\t{op}  {v}   ; trailing comment\n"));
            } else {
                // A space after the operator keeps a value starting with `>` from reading as `=>`.
                out.push_str(&format!("{k}{op} {v}\n"));
            }
            if n.next().unwrap_or(false) {
                out.push('\n');
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn written_config_parses_back(
        sections in prop::collection::vec(section(), 0..12),
        noise in prop::collection::vec(any::<bool>(), 1..16),
    ) {
        let text = write(&sections, &noise);
        let source = MemorySource::new().with_file("/etc/asterisk/gen.conf", text.clone());
        let loaded = Loader::with_source("/etc/asterisk", source).load("gen.conf");
        prop_assert!(loaded.valid, "{:?}\n{}", loaded.diagnostics, text);
        prop_assert!(loaded.diagnostics.is_empty(), "{:?}\n{}", loaded.diagnostics, text);
        let parsed = loaded.config.sections();
        prop_assert_eq!(parsed.len(), sections.len());
        for (got, want) in parsed.iter().zip(&sections) {
            prop_assert_eq!(&got.name, &want.name);
            prop_assert_eq!(got.template, want.template);
            let got_entries: Vec<_> = got
                .entries()
                .map(|e| (e.key.to_string(), e.value.to_string(), e.object))
                .collect();
            prop_assert_eq!(&got_entries, &want.entries);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let source = MemorySource::new()
            .with_file("/etc/asterisk/x.conf", bytes.clone())
            .with_file("/etc/asterisk/y.conf", bytes);
        let _ = Loader::with_source("/etc/asterisk", source).load("x.conf");
    }

    #[test]
    fn dialect_shaped_noise_never_panics(
        lines in prop::collection::vec(
            prop_oneof![
                "\\[[a-z(),!+=]{0,6}\\]?(\\([a-z!+,=]{0,6}\\)?)?",
                "#(include|tryinclude|exec|x) [a-z.*{},\"<>]{0,8}",
                "[a-z]{0,3} ?\\+?=>? ?[a-z;\\\\-]{0,6}",
                ";--|--;|\\\\;",
            ],
            0..40,
        )
    ) {
        let text = lines.join("\n");
        let source = MemorySource::new()
            .with_file("/etc/asterisk/x.conf", text.clone())
            .with_file("/etc/asterisk/a.conf", text);
        let _ = Loader::with_source("/etc/asterisk", source).load("x.conf");
    }
}
