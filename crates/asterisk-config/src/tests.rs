//! One test per dialect rule, each on in-memory files.

use std::path::{Path, PathBuf};

use crate::{Error, Loaded, Loader, MemorySource, Section, Severity};

const DIR: &str = "/etc/asterisk";

fn load_files(files: &[(&str, &str)], main: &str) -> Loaded {
    let mut source = MemorySource::new();
    for (name, text) in files {
        source.insert(Path::new(DIR).join(name), text.as_bytes().to_vec());
    }
    Loader::with_source(DIR, source).load(main)
}

fn load(text: &str) -> Loaded {
    load_files(&[("test.conf", text)], "test.conf")
}

fn entries(section: &Section) -> Vec<(&str, &str)> {
    section
        .entries()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect()
}

fn names(loaded: &Loaded) -> Vec<&str> {
    loaded
        .config
        .sections()
        .iter()
        .map(|s| s.name.as_str())
        .collect()
}

fn errors(loaded: &Loaded) -> Vec<&Error> {
    loaded.diagnostics.iter().map(|d| &d.error).collect()
}

#[test]
fn same_name_sections_stay_separate() {
    let l = load("[1000]\ntype=endpoint\n[1000]\ntype=auth\n[1000]\ntype=aor\n");
    assert!(l.valid);
    assert_eq!(names(&l), ["1000", "1000", "1000"]);
    let types: Vec<_> = l
        .config
        .sections_named("1000")
        .map(|s| s.get("type").unwrap())
        .collect();
    assert_eq!(types, ["endpoint", "auth", "aor"]);
}

#[test]
fn templates_are_flagged_and_kept() {
    let l = load("[t](!)\ntype=endpoint\n[x](t)\ncontext=a\n");
    let s = l.config.sections();
    assert!(s[0].template);
    assert!(!s[1].template);
    assert_eq!(entries(&s[1]), [("type", "endpoint"), ("context", "a")]);
    assert_eq!(s[1].bases(), ["t"]);
    assert!(s[1].entries().next().unwrap().inherited);
    assert!(!s[1].entries().nth(1).unwrap().inherited);
    // The inherited entry still points at the template's line.
    assert_eq!(s[1].entries().next().unwrap().line, 2);
}

#[test]
fn inheritance_copies_the_first_section_of_that_name() {
    let l = load("[b]\nk=first\n[b](!)\nk=second\n[x](b)\n");
    assert_eq!(entries(&l.config.sections()[2]), [("k", "first")]);
    // Template or not, and compared without case.
    let l = load("[B](!)\nk=tpl\n[b]\nk=plain\n[x](b)\n");
    assert_eq!(entries(&l.config.sections()[2]), [("k", "tpl")]);
}

#[test]
fn several_bases_copy_in_order_then_own_entries() {
    let l = load("[a](!)\nx=1\n[b](!)\ny=2\n[c](a,b)\nz=3\n");
    assert_eq!(
        entries(&l.config.sections()[2]),
        [("x", "1"), ("y", "2"), ("z", "3")]
    );
}

#[test]
fn inherited_entries_are_shared_and_a_later_change_to_the_base_is_not_seen() {
    let l = load("[t]\nx=1\n[a](t)\n[b](t)\nown=2\n[d](t)\n[t](+)\ny=3\n[c](t)\n[b](+)\nx+=0\n");
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let s = l.config.sections();
    let [_, a, b, d, c] = s else { panic!("{s:?}") };
    // a and d inherited t at the same point: one copy of its entries.
    assert!(std::sync::Arc::ptr_eq(&a.inherited[0], &d.inherited[0]));
    assert_eq!(entries(a), [("x", "1")]);
    // c inherited t after it grew; b's += made its entries its own.
    assert_eq!(entries(c), [("x", "1"), ("y", "3")]);
    assert_eq!(entries(b), [("x", "10"), ("own", "2")]);
    assert!(b.inherited.is_empty());
    assert_eq!(entries(a), [("x", "1")], "a keeps what it copied");
    assert_eq!(c.entry_count(), 2);
}

#[test]
fn options_mix_template_and_bases() {
    let l = load("[a](!)\nx=1\n[c](a,!)\nz=3\n[d](!,a)\n");
    let s = l.config.sections();
    assert!(s[1].template && s[2].template);
    assert_eq!(entries(&s[2]), [("x", "1")]);
}

#[test]
fn unknown_base_rejects_the_file() {
    let l = load("[x](nope)\nk=v\n");
    assert!(!l.valid);
    assert_eq!(
        errors(&l),
        [&Error::UnknownBase {
            base: "nope".into()
        }]
    );
    assert_eq!(l.diagnostics[0].line, 1);
}

#[test]
fn plus_appends_to_the_first_section_of_that_name() {
    // p09: the append lands on the endpoint, not on the later auth.
    let l = load(
        "[9001]\ntype=endpoint\n[9001]\ntype=auth\npassword=pw\n[9001](+)\npassword += 9001\n[other]\n",
    );
    assert!(l.valid);
    let s = l.config.sections();
    assert_eq!(names(&l), ["9001", "9001", "other"]);
    assert_eq!(entries(&s[0]), [("type", "endpoint"), ("password", "9001")]);
    assert_eq!(entries(&s[1]), [("type", "auth"), ("password", "pw")]);
}

#[test]
fn plus_skips_templates_and_needs_a_target() {
    let l = load("[t](!)\nk=v\n[t](+)\nj=w\n");
    assert!(!l.valid);
    assert!(matches!(errors(&l)[0], Error::AppendTargetMissing { .. }));
    let l = load("[x](+)\nk=v\n");
    assert!(!l.valid);
}

#[test]
fn plus_filter_selects_by_key_and_value() {
    let l = load("[1000]\ntype=endpoint\n[1000]\ntype=auth\n[1000](+type=auth)\nusername=alice\n");
    assert!(l.valid);
    let s = l.config.sections();
    assert_eq!(entries(&s[0]), [("type", "endpoint")]);
    assert_eq!(entries(&s[1]), [("type", "auth"), ("username", "alice")]);
    let l = load("[1000]\ntype=endpoint\n[1000](+type=aor)\nk=v\n");
    assert!(!l.valid);
}

#[test]
fn later_lines_continue_the_appended_section() {
    let l = load("[a]\nx=1\n[b]\n[a](+)\ny=2\n");
    assert_eq!(entries(&l.config.sections()[0]), [("x", "1"), ("y", "2")]);
    assert!(l.config.sections()[1].entries().next().is_none());
}

#[test]
fn keys_and_values_are_trimmed_quotes_kept() {
    let l = load("[s]\n  callerid   =   \"Alice Smith\" <1000>  \nempty=\nobj => v\n");
    let s = &l.config.sections()[0];
    assert_eq!(
        entries(s),
        [
            ("callerid", "\"Alice Smith\" <1000>"),
            ("empty", ""),
            ("obj", "v")
        ]
    );
    assert!(!s.entries().next().unwrap().object);
    assert!(s.entries().nth(2).unwrap().object);
}

#[test]
fn repeated_keys_are_kept_in_order() {
    let l = load("[s]\nallow=ulaw\nallow=alaw\nallow=g722\n");
    let s = &l.config.sections()[0];
    let values: Vec<_> = s.entries_named("allow").map(|e| e.value.as_str()).collect();
    assert_eq!(values, ["ulaw", "alaw", "g722"]);
    assert_eq!(s.get("allow"), Some("ulaw"));
    assert_eq!(s.get_last("allow"), Some("g722"));
}

#[test]
fn plus_equals_appends_to_the_last_value_or_sets() {
    let l = load("[s]\nnote = part1\nnote += part2\nnew += fresh \n");
    assert_eq!(
        entries(&l.config.sections()[0]),
        [("note", "part1 part2"), ("new", "fresh")]
    );
    // The last of several keeps its place; its text is appended without a separator of its own.
    let l = load("[s]\nallow=ulaw\nallow=alaw\nallow+=,g722\n");
    assert_eq!(
        entries(&l.config.sections()[0]),
        [("allow", "ulaw"), ("allow", "alaw,g722")]
    );
}

#[test]
fn semicolons_comments_and_escapes() {
    let l = load(
        "; top\n[s] ; section comment\npassword = s3cr\\;et ; trailing\n;-- block\ntype=bogus\n--;\nafter=1\n",
    );
    assert!(l.valid, "{:?}", l.diagnostics);
    assert_eq!(
        entries(&l.config.sections()[0]),
        [("password", "s3cr;et"), ("after", "1")]
    );
}

#[test]
fn nested_block_comments() {
    let l = load("[s]\n;-- outer\n;-- inner --;\nhidden=1\n--;\nshown=1\n");
    assert_eq!(entries(&l.config.sections()[0]), [("shown", "1")]);
    let l = load("[s]\n;-- never closed\nk=v\n");
    assert_eq!(errors(&l), [&Error::UnterminatedComment { start_line: 2 }]);
}

#[test]
fn include_forms_resolve_against_the_config_dir() {
    for arg in [
        "inc.conf",
        "\"inc.conf\"",
        "<inc.conf>",
        "/etc/asterisk/inc.conf",
    ] {
        let l = load_files(
            &[
                ("main.conf", &format!("[a]\nx=1\n#include {arg}\n[c]\n")),
                ("inc.conf", "[b]\ny=2\n"),
            ],
            "main.conf",
        );
        assert!(l.valid, "{arg}: {:?}", l.diagnostics);
        assert_eq!(names(&l), ["a", "b", "c"], "{arg}");
        let b = &l.config.sections()[1];
        assert_eq!(l.config.file(b.file), Path::new("/etc/asterisk/inc.conf"));
        assert_eq!(b.line, 1);
    }
}

#[test]
fn included_file_continues_the_current_section_and_the_includer_keeps_its_own() {
    let l = load_files(
        &[
            ("main.conf", "[a]\n#include inc.conf\nafter=1\n"),
            ("inc.conf", "top=1\n[b]\ninner=1\n"),
        ],
        "main.conf",
    );
    assert!(l.valid);
    let s = l.config.sections();
    assert_eq!(entries(&s[0]), [("top", "1"), ("after", "1")]);
    assert_eq!(entries(&s[1]), [("inner", "1")]);
}

#[test]
fn glob_includes_take_every_match_sorted() {
    let l = load_files(
        &[
            ("pjsip.conf", "#include pjsip.d/*.conf\n"),
            ("pjsip.d/b.conf", "[b]\n"),
            ("pjsip.d/a.conf", "[a]\n"),
            ("pjsip.d/c.txt", "[c]\n"),
        ],
        "pjsip.conf",
    );
    assert!(l.valid, "{:?}", l.diagnostics);
    assert_eq!(names(&l), ["a", "b"]);
    assert!(l.watch.contains(&PathBuf::from("/etc/asterisk/pjsip.d")));
    assert_eq!(
        l.files,
        [
            PathBuf::from("/etc/asterisk/pjsip.conf"),
            PathBuf::from("/etc/asterisk/pjsip.d/a.conf"),
            PathBuf::from("/etc/asterisk/pjsip.d/b.conf"),
        ]
    );
    // Braces expand in order, as GLOB_BRACE does.
    let l = load_files(
        &[
            ("m.conf", "#include {y,x}.conf\n"),
            ("x.conf", "[x]\n"),
            ("y.conf", "[y]\n"),
        ],
        "m.conf",
    );
    assert_eq!(names(&l), ["y", "x"]);
}

#[test]
fn missing_include_rejects_missing_tryinclude_does_not() {
    let l = load("[a]\n#include nope.conf\n");
    assert!(!l.valid);
    assert_eq!(
        errors(&l),
        [&Error::IncludeNotFound {
            path: "nope.conf".into()
        }]
    );
    let l = load("[a]\n#tryinclude nope.conf\nk=v\n");
    assert!(l.valid);
    assert!(l.diagnostics.is_empty());
    assert_eq!(entries(&l.config.sections()[0]), [("k", "v")]);
    // Creating the missing file later must be noticed.
    assert!(l.watch.contains(&PathBuf::from("/etc/asterisk/nope.conf")));
    // A pattern that matches nothing is missing too.
    let l = load("[a]\n#include none.d/*.conf\n");
    assert!(!l.valid);
}

#[test]
fn include_cycles_are_errors_not_hangs() {
    let l = load_files(
        &[
            ("a.conf", "[a]\n#include b.conf\n"),
            ("b.conf", "[b]\n#include a.conf\n"),
        ],
        "a.conf",
    );
    assert_eq!(names(&l), ["a", "b"]);
    assert!(matches!(errors(&l)[..], [Error::IncludeCycle { .. }]));
    assert_eq!(l.diagnostics[0].file, Path::new("/etc/asterisk/b.conf"));
    assert_eq!(l.diagnostics[0].line, 2);
    let l = load("[a]\n#include test.conf\n");
    assert!(matches!(errors(&l)[..], [Error::IncludeCycle { .. }]));
}

#[test]
fn an_invalid_included_file_stops_but_the_includer_goes_on() {
    let l = load_files(
        &[
            ("main.conf", "[a]\n#include bad.conf\n[c]\n"),
            ("bad.conf", "[b]\n[x](missing)\n[lost]\n"),
        ],
        "main.conf",
    );
    assert!(l.valid);
    assert_eq!(names(&l), ["a", "b", "c"]);
    assert!(matches!(
        errors(&l)[..],
        [Error::UnknownBase { .. }, Error::IncludedFileInvalid { .. }]
    ));
}

#[test]
fn exec_is_refused_unless_enabled_and_unknown_directives_warn() {
    let l = load("[a]\n#exec /bin/echo hi\n#frobnicate x\n#include\nk=v\n");
    assert!(l.valid);
    assert_eq!(
        errors(&l),
        [
            &Error::ExecDisabled {
                command: "/bin/echo hi".into()
            },
            &Error::UnknownDirective {
                name: "frobnicate".into()
            },
            &Error::MissingDirectiveArgument {
                directive: "include".into()
            },
        ]
    );
    assert!(
        l.diagnostics
            .iter()
            .all(|d| d.severity() == Severity::Warning)
    );
    assert_eq!(entries(&l.config.sections()[0]), [("k", "v")]);
}

#[test]
fn entry_before_any_section_rejects_the_file() {
    let l = load("k=v\n[a]\n");
    assert!(!l.valid);
    assert_eq!(errors(&l), [&Error::NoCategory]);
}

#[test]
fn header_errors_reject_the_file() {
    assert!(!load("[a\n").valid);
    assert!(!load("[a](!\n").valid);
}

#[test]
fn lines_without_equals_or_name_warn_and_are_skipped() {
    let l = load("[a]\njust words\n= value\nk=v\n");
    assert!(l.valid);
    assert_eq!(errors(&l), [&Error::NoEquals, &Error::NoVariableName]);
    assert_eq!(
        l.diagnostics.iter().map(|d| d.line).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(entries(&l.config.sections()[0]), [("k", "v")]);
}

#[test]
fn lines_and_files_are_tracked() {
    let l = load_files(
        &[
            (
                "pjsip.conf",
                "\n; c\n[t](!)\na=1\n\n[x](t)\nb=2\n#include more.conf\n",
            ),
            ("more.conf", "\n\n[y]\nc=3\n"),
        ],
        "pjsip.conf",
    );
    let s = l.config.sections();
    assert_eq!((s[0].line, s[1].line, s[2].line), (3, 6, 3));
    assert_eq!(s[1].entries().next().unwrap().line, 4);
    assert_eq!(s[1].entries().nth(1).unwrap().line, 7);
    assert_eq!(
        l.config.file(s[2].file),
        Path::new("/etc/asterisk/more.conf")
    );
    assert_eq!(s[2].entries().next().unwrap().line, 4);
}

#[test]
fn crlf_bom_and_tabs() {
    let l = load("\u{feff}[a]\r\n\tk\t=\tv\r\n");
    assert!(l.valid);
    assert_eq!(entries(&l.config.sections()[0]), [("k", "v")]);
}

#[test]
fn missing_main_file_is_not_valid() {
    let l = load_files(&[], "pjsip.conf");
    assert!(!l.valid);
    assert!(matches!(errors(&l)[..], [Error::NotFound { .. }]));
}

#[test]
fn garbage_does_not_panic() {
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    junk.extend_from_slice(b"\n[a]\nk=\xff\xfe\n");
    let mut source = MemorySource::new();
    source.insert("/etc/asterisk/x.conf", junk);
    let l = Loader::with_source(DIR, source).load("x.conf");
    assert!(!l.diagnostics.is_empty());
}

#[test]
fn invalid_utf8_is_replaced_with_a_warning() {
    let mut source = MemorySource::new();
    source.insert("/etc/asterisk/x.conf", b"[a]\nname=M\xfcller\n".to_vec());
    let l = Loader::with_source(DIR, source).load("x.conf");
    assert!(l.valid);
    assert_eq!(l.config.sections()[0].get("name"), Some("M\u{fffd}ller"));
    assert_eq!(errors(&l), [&Error::InvalidUtf8]);
    assert_eq!(l.diagnostics[0].line, 2);
}

#[test]
fn huge_lines_are_skipped_like_asterisk() {
    let mut text = String::from("[a]\nk=");
    text.push_str(&"x".repeat(20_000_000));
    text.push_str("\nok=1\n");
    let l = load(&text);
    assert!(l.valid);
    assert_eq!(entries(&l.config.sections()[0]), [("ok", "1")]);
    assert!(matches!(errors(&l)[..], [Error::LineTooLong { .. }]));
    // 8190 bytes fit, 8191 do not.
    let fits = format!("[a]\n{}\n", "k".repeat(8188) + "=1");
    assert_eq!(load(&fits).config.sections()[0].entry_count(), 1);
    let too_long = format!("[a]\n{}\n", "k".repeat(8189) + "=1");
    assert!(
        load(&too_long).config.sections()[0]
            .entries()
            .next()
            .is_none()
    );
}

#[test]
fn nul_bytes_end_the_line() {
    let l = load("[a]\nk=v\0hidden\n");
    assert_eq!(entries(&l.config.sections()[0]), [("k", "v")]);
    assert_eq!(errors(&l), [&Error::NulByte]);
    // Before or after a comment, and with a `;` that only the NUL hides.
    let l = load("[a]\nk=v ; c\0x\nj=w\0;x\\\ni=u\\\0;\n");
    assert_eq!(
        entries(&l.config.sections()[0]),
        [("k", "v"), ("j", "w"), ("i", "u\\")]
    );
    assert_eq!(errors(&l), [&Error::NulByte; 3]);
}

#[test]
fn text_after_the_header_bracket_is_ignored_with_a_warning() {
    let l = load("[a] (!)\n");
    assert!(!l.config.sections()[0].template);
    assert!(matches!(errors(&l)[..], [Error::IgnoredAfterHeader { .. }]));
}

#[test]
fn diagnostics_display_as_file_line_severity_message() {
    let l = load("[a]\nwords\n");
    let text = l.diagnostics[0].to_string();
    assert!(
        text.starts_with("/etc/asterisk/test.conf:2: warning: no '='"),
        "{text}"
    );
}

#[test]
fn an_unreadable_file_is_invalid_not_missing() {
    // pjprov differs: Asterisk takes a file it cannot open for absent.
    let source = MemorySource::new().with_unreadable("/etc/asterisk/pjprov.conf");
    let l = Loader::with_source(DIR, source).load("pjprov.conf");
    assert!(!l.valid);
    assert!(!l.missing, "a file that exists is not missing");
    assert!(matches!(errors(&l)[..], [Error::Read { .. }]));
    let absent = load_files(&[], "pjprov.conf");
    assert!(absent.missing && !absent.valid);
}

#[test]
fn an_unreadable_include_rejects_the_file_even_with_tryinclude() {
    for directive in ["#include", "#tryinclude"] {
        let source = MemorySource::new()
            .with_file(
                "/etc/asterisk/pjsip.conf",
                format!("[a]\nk=v\n{directive} secret.conf\n"),
            )
            .with_unreadable("/etc/asterisk/secret.conf");
        let l = Loader::with_source(DIR, source).load("pjsip.conf");
        assert!(!l.valid, "{directive}");
        assert!(!l.missing);
        assert!(
            errors(&l).iter().any(|e| matches!(e, Error::Read { .. })),
            "{directive}: {:?}",
            l.diagnostics
        );
    }
}

#[test]
fn diagnostics_never_show_the_text_of_a_line() {
    let secret = "hunter2-very-secret";
    let mut long = format!("[a]\npassword = {secret}");
    long.push_str(&"x".repeat(9000));
    long.push('\n');
    let after = format!("[b] password = {secret}\nk=v\n");
    for text in [long, after] {
        let l = load(&text);
        assert!(!l.diagnostics.is_empty());
        for d in &l.diagnostics {
            assert!(!d.to_string().contains(secret), "{d}");
        }
    }
}
