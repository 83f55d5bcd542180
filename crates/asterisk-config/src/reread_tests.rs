//! [`Loader::reread`]: a block parsed alone gives the section the whole file gives.

use std::path::Path;

use proptest::prelude::*;

use crate::{Layout, LoadOptions, Loaded, Loader, MemorySource};

const DIR: &str = "/etc/asterisk";
const FILE: &str = "/etc/asterisk/test.conf";

fn loader(text: &str) -> Loader<MemorySource> {
    let mut source = MemorySource::new();
    source.insert(Path::new(FILE), text.as_bytes().to_vec());
    Loader::with_source(DIR, source).options(LoadOptions {
        layouts: true,
        ..LoadOptions::default()
    })
}

fn load(text: &str) -> Loaded {
    loader(text).load("test.conf")
}

/// Rereads block `index` of `text` in the context of loading `text`.
fn reread(text: &str, index: usize) -> Option<crate::Reread> {
    let loaded = load(text);
    let layout = Layout::of(text.as_bytes()).unwrap();
    let block = &text.as_bytes()[layout.range(index)];
    let first_line = layout.blocks()[index].first_line;
    let context = loaded.reread_context()?;
    loader(text).reread(&context, &[(Path::new(FILE), first_line, block)])
}

const TEXT: &str = "\
[tpl](!)
type = endpoint
allow = ulaw

[1000](tpl)
allow += ,alaw
callerid = \"A\" <1000> ; comment

[1000]
type = auth
password = x
";

#[test]
fn a_block_reads_as_in_its_file() {
    let loaded = load(TEXT);
    assert!(loaded.diagnostics.is_empty());
    assert_eq!(loaded.prints.len(), 1);
    assert!(loaded.inherited.contains("tpl"));
    for (index, section) in [(1, 1), (2, 2)] {
        let again = reread(TEXT, index).unwrap();
        assert!(again.diagnostics.is_empty());
        assert_eq!(
            again.config.sections(),
            &loaded.config.sections()[section..=section]
        );
    }
}

#[test]
fn blocks_that_need_their_file_are_refused() {
    for text in [
        "[a]\nx = 1\n[a](+)\ny = 2\n",
        "[a]\nx = 1\n[b]\n#include other.conf\n",
    ] {
        let layout = Layout::of(text.as_bytes()).unwrap();
        let last = layout.blocks().len() - 1;
        assert!(reread(text, last).is_none(), "{text:?}");
    }
    // Two headers, or entries before the header: not one section.
    let context = load(TEXT).reread_context().unwrap();
    for block in ["[b]\n[c]\n", "x = 1\n[b]\n", ""] {
        let again = loader(TEXT).reread(&context, &[(Path::new(FILE), 20, block.as_bytes())]);
        assert!(again.is_none(), "{block:?}");
    }
}

#[test]
fn a_base_appended_to_gives_no_context() {
    let loaded = load("[t]\nx = 1\n[a](t)\n[t](+)\ny = 2\n");
    assert!(loaded.reread_context().is_none());
}

/// A file of sections built from a few templates, with comments and `+=`.
fn file() -> impl Strategy<Value = Vec<(String, Vec<(String, String)>)>> {
    let entry = ("[a-c]", "[a-z0-9 ]{0,6}").prop_map(|(k, v)| (k, v));
    let section = (
        prop_oneof![
            Just(String::new()),
            Just("(t1)".into()),
            Just("(t1,t2)".into())
        ],
        prop::collection::vec(entry, 0..4),
    );
    prop::collection::vec(section, 1..8)
}

fn render(sections: &[(String, Vec<(String, String)>)]) -> String {
    let mut text = String::from("[t1](!)\na = one\n[t2](!)\nb = two ; c\n");
    for (i, (bases, entries)) in sections.iter().enumerate() {
        text.push_str(&format!("[s{}]{bases}\n", i % 3));
        for (j, (key, value)) in entries.iter().enumerate() {
            let op = if j % 3 == 2 { "+=" } else { "=" };
            text.push_str(&format!("{key} {op} {value}\n"));
        }
    }
    text
}

proptest! {
    #[test]
    fn every_block_rereads_as_its_section(sections in file()) {
        let text = render(&sections);
        let loaded = load(&text);
        let layout = Layout::of(text.as_bytes()).unwrap();
        // Block 0 is [t1]; section i+2 is block i+2.
        for index in 2..layout.blocks().len() {
            let again = reread(&text, index).unwrap();
            prop_assert_eq!(&again.diagnostics, &Vec::new());
            prop_assert_eq!(again.config.sections(), &loaded.config.sections()[index..=index]);
        }
    }
}

/// A large file is printed beside its parse: its print is [`crate::layout::print`]'s, in its place before the
/// files it includes, and the parse is the one a small file gets.
#[test]
fn a_large_file_is_printed_beside_its_parse() {
    let mut big = String::from("; phones\n");
    let mut n = 0;
    while big.len() < crate::layout::PRINT_BESIDE + 4096 {
        big.push_str(&format!("[{n}]\ntype = aor\nmax_contacts = {}\n\n", n % 7));
        n += 1;
    }
    big.push_str("#include small.conf\n[last]\ntype = aor\n");
    let small = "[small]\ntype = auth\npassword = x\n";
    let mut source = MemorySource::new();
    source.insert(Path::new(FILE), big.as_bytes().to_vec());
    source.insert(
        Path::new("/etc/asterisk/small.conf"),
        small.as_bytes().to_vec(),
    );
    let loaded = Loader::with_source(DIR, source.clone())
        .options(LoadOptions {
            layouts: true,
            ..LoadOptions::default()
        })
        .load("test.conf");
    assert!(loaded.diagnostics.is_empty());
    let paths: Vec<&Path> = loaded.prints.iter().map(|p| p.path.as_path()).collect();
    assert_eq!(
        paths,
        [Path::new(FILE), Path::new("/etc/asterisk/small.conf")]
    );
    for (print, bytes) in loaded.prints.iter().zip([big.as_bytes(), small.as_bytes()]) {
        let (digest, layout) = crate::layout::print(bytes);
        assert_eq!((print.digest, &print.layout), (digest, &layout));
        assert!(layout.is_some());
    }
    // The same sections as without prints.
    let plain = Loader::with_source(DIR, source).load("test.conf");
    assert_eq!(loaded.config.sections(), plain.config.sections());
    assert_eq!(loaded.config.sections().len(), n + 2);
}
