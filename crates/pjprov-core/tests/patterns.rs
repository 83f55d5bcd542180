//! Functions in phoneprov.conf: setvars and route patterns are substituted when phones are built, with
//! the line's variables, and `check` says when a pattern names nothing or a function misbehaves there.

use std::path::Path;

use pjprov_core::{BuildOptions, Error, Paths, Severity, Snapshot};

const PJSIP: &str = "[udp]\ntype = transport\nbind = 0.0.0.0\n\
    [a]\ntype = phoneprov\nMAC = 00-04-F2-AA-BB-01\nPROFILE = p\nLIST = x,y,z\n\
    [b]\ntype = phoneprov\nMAC = 00-04-F2-AA-BB-02\nPROFILE = p\nLIST = x\n";

fn build(dir: &Path, phoneprov: &str, template: &str) -> Snapshot {
    let (etc, data) = (dir.join("etc"), dir.join("data"));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(data.join("phoneprov")).unwrap();
    std::fs::write(etc.join("pjsip.conf"), PJSIP).unwrap();
    std::fs::write(etc.join("phoneprov.conf"), phoneprov).unwrap();
    std::fs::write(data.join("phoneprov/t.cfg"), template).unwrap();
    Snapshot::build(&Paths::new(etc, data), &BuildOptions::default()).expect("builds")
}

fn body(snapshot: &Snapshot, uri: &str) -> String {
    let route = snapshot.route(uri).unwrap_or_else(|| {
        let uris: Vec<&str> = snapshot.routes().iter().map(|r| r.uri.as_str()).collect();
        panic!("no route {uri}: {uris:?}")
    });
    let rendered = snapshot
        .render(route, "192.0.2.1".parse::<std::net::IpAddr>().unwrap())
        .unwrap();
    String::from_utf8(rendered.body.to_vec()).unwrap()
}

#[test]
fn route_patterns_and_setvars_call_functions_with_the_line_variables() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = build(
        dir.path(),
        "[p]\n${TOLOWER(${FILTER(0-9a-fA-F,${MAC})})}.cfg => t.cfg\n\
         phone-${CUT(MAC,-,6)}.xml => t.cfg\n\
         setvar => MAC_DASH=${REPLACE(MAC,-,:)}\nsetvar => FIRST=${CUT(LIST,\\,,1)}\n\
         setvar => COUNT=${FIELDQTY(LIST,\\,)}\n",
        "${MAC_DASH} ${FIRST} ${COUNT}\n",
    );
    assert_eq!(
        body(&snapshot, "0004f2aabb01.cfg"),
        "00:04:F2:AA:BB:01 x 3\n"
    );
    assert_eq!(body(&snapshot, "phone-02.xml"), "00:04:F2:AA:BB:02 x 1\n");
}

#[test]
fn a_pattern_naming_nothing_or_twice_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = build(
        dir.path(),
        "[p]\n${NOSUCH(${MAC})} => t.cfg\n${CUT(LIST,\\,,1)}.cfg => t.cfg\nsetvar => X=${NOSUCH(x)}\n",
        "x\n",
    );
    let found: Vec<(String, u32, &str, Severity)> = snapshot
        .diagnostics()
        .iter()
        .filter_map(|d| {
            let kind = match &d.error {
                Error::EmptyRoute { .. } => "empty",
                Error::DuplicateRoute { .. } => "duplicate",
                Error::RoutePatternIssue { .. } => "route issue",
                Error::SetvarIssue { .. } => "setvar issue",
                _ => return None,
            };
            let file = d.file.file_name().unwrap().to_string_lossy().into_owned();
            Some((file, d.line, kind, d.severity()))
        })
        .collect();
    let at = |file: &str, line, kind, severity| (file.to_owned(), line, kind, severity);
    use Severity::Warning;
    // A duplicate is reported at the phone that loses the name (phone b, pjsip.conf line 9).
    assert_eq!(
        found,
        [
            at("phoneprov.conf", 4, "setvar issue", Warning),
            at("phoneprov.conf", 2, "route issue", Warning),
            at("phoneprov.conf", 2, "empty", Warning),
            at("phoneprov.conf", 2, "empty", Warning),
            at("pjsip.conf", 9, "duplicate", Warning),
            at("pjsip.conf", 9, "duplicate", Warning),
        ],
        "{:#?}",
        snapshot.diagnostics()
    );
    // The messages show the pattern as written, not what it gave.
    let issue = snapshot
        .diagnostics()
        .iter()
        .find(|d| matches!(d.error, Error::RoutePatternIssue { .. }))
        .unwrap();
    assert!(issue.error.to_string().contains("${NOSUCH(${MAC})}"));
    assert!(!issue.error.to_string().contains("BB"));
}
