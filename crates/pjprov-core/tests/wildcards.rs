//! Route names with a `*` (pjprov differs from Asterisk, which matches names exactly): one route answers
//! every model's name, a per-phone one every model's name with that phone's MAC, and an unknown MAC in such
//! a name is judged like any other phone-shaped name.

use std::net::IpAddr;
use std::path::Path;

use pjprov_core::{BuildOptions, Error, Paths, Request, Snapshot, Subject};

const PJSIP: &str = "[udp]\ntype = transport\nbind = 0.0.0.0\n\
    [a]\ntype = phoneprov\nMAC = 000413A11FA7\nPROFILE = snom\n\
    [b]\ntype = phoneprov\nMAC = 000413B22FB8\nPROFILE = snom\n";

fn build(dir: &Path, phoneprov: &str) -> Snapshot {
    let (etc, data) = (dir.join("etc"), dir.join("data"));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(data.join("phoneprov")).unwrap();
    std::fs::write(etc.join("pjsip.conf"), PJSIP).unwrap();
    std::fs::write(etc.join("phoneprov.conf"), phoneprov).unwrap();
    std::fs::write(
        data.join("phoneprov/list.htm"),
        "${MAC} ${PROVISIONING_MATCH}-\n",
    )
    .unwrap();
    std::fs::write(
        data.join("phoneprov/list.htm.hbs"),
        "{{MAC}} model={{PROVISIONING_MATCH}}\n",
    )
    .unwrap();
    std::fs::write(data.join("phoneprov/m900.htm"), "the M900's own\n").unwrap();
    Snapshot::build(&Paths::new(etc, data), &BuildOptions::default()).expect("builds")
}

/// The body of `name` as a phone asking for it gets, or `None` when it is no route.
fn fetch(snapshot: &Snapshot, name: &str) -> Option<String> {
    let route = snapshot.route(name)?;
    let server: IpAddr = "192.0.2.1".parse().unwrap();
    let request = Request::to_server(server).with_match(route.wildcard_match(name));
    let rendered = snapshot.render(route, request).unwrap();
    Some(String::from_utf8(rendered.body.to_vec()).unwrap())
}

#[test]
fn a_star_answers_every_model() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = build(
        dir.path(),
        "[snom]\nsnomM900.htm => m900.htm\nsnom*.htm => list.htm.hbs\nsnom*-${MAC}.htm => list.htm.hbs\nold*.htm => list.htm\n",
    );
    assert!(
        snapshot.diagnostics().is_empty(),
        "{:?}",
        snapshot.diagnostics()
    );
    // Shared: rendered with the first phone's variables, for the model asked.
    assert_eq!(
        fetch(&snapshot, "snomD785.htm").as_deref(),
        Some("000413A11FA7 model=D785\n")
    );
    assert_eq!(
        fetch(&snapshot, "SNOM320.HTM").as_deref(),
        Some("000413A11FA7 model=320\n")
    );
    // An exact name wins over the wildcard.
    assert_eq!(
        fetch(&snapshot, "snomM900.htm").as_deref(),
        Some("the M900's own\n")
    );
    // Per phone: any model, that phone's MAC, in either case.
    assert_eq!(
        fetch(&snapshot, "snomD345-000413B22FB8.htm").as_deref(),
        Some("000413B22FB8 model=D345\n")
    );
    assert_eq!(
        fetch(&snapshot, "snomm900-000413a11fa7.htm").as_deref(),
        Some("000413A11FA7 model=m900\n")
    );
    let route = snapshot.route("snomD345-000413B22FB8.htm").unwrap();
    assert!(matches!(
        snapshot.subject("snomD345-000413B22FB8.htm", Some(route)),
        Subject::Phone { mac: Some(mac), .. } if mac.to_string() == "000413b22fb8"
    ));
    // An Asterisk template sees only Asterisk's variables.
    assert_eq!(
        fetch(&snapshot, "oldD785.htm").as_deref(),
        Some("000413A11FA7 -\n")
    );
    // An unknown MAC in a per-phone name is no model: 404, not the shared list.
    assert_eq!(fetch(&snapshot, "snomD785-000413FFFFFF.htm"), None);
    // Not a model: nothing, or a slash.
    assert_eq!(fetch(&snapshot, "snom.htm"), None);
    assert_eq!(fetch(&snapshot, "snom../x.htm"), None);
}

#[test]
fn an_unknown_mac_in_a_wildcard_name_is_phone_shaped() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = build(dir.path(), "[snom]\nsnom*-${MAC}.htm => list.htm.hbs\n");
    let name = "snomD785-000413FFFFFF.htm";
    // The model wildcard of `snom*.htm` is absent here, so the name finds no route...
    assert!(snapshot.route(name).is_none());
    // ...and is about a MAC, judged like every phone-shaped name.
    match snapshot.subject(name, None) {
        Subject::PhoneShaped { mac, phone, .. } => {
            assert_eq!(mac.to_string(), "000413ffffff");
            assert_eq!(phone, None);
        }
        other => panic!("{other:?}"),
    }
    match snapshot.subject("snomD785-000413b22fb8.htm", None) {
        Subject::PhoneShaped { phone, .. } => assert!(phone.is_some()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        snapshot.subject("snom-000413FFFFFF.htm", None),
        Subject::Other
    ));
}

#[test]
fn two_stars_are_an_error_at_the_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = build(dir.path(), "[snom]\n*-*.htm => list.htm\n");
    let errors: Vec<_> = snapshot
        .diagnostics()
        .iter()
        .filter(|d| matches!(d.error, Error::RouteWildcards { .. }))
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", snapshot.diagnostics());
    assert!(errors[0].file.ends_with("phoneprov.conf"));
    assert_eq!(errors[0].line, 2);
    assert!(snapshot.route("a-b.htm").is_none());
}

#[test]
fn the_render_cache_of_a_route_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = build(dir.path(), "[snom]\nsnom*.htm => list.htm.hbs\n");
    let route = snapshot.route("snomD785.htm").unwrap();
    let server: IpAddr = "192.0.2.1".parse().unwrap();
    for n in 0..100 {
        let model = format!("D{n}");
        let request = Request::to_server(server).with_match(Some(&model));
        let body = snapshot.render(route, request).unwrap().body;
        assert!(body.ends_with(format!("model={model}\n").as_bytes()));
    }
    assert_eq!(snapshot.cached_variants(route), 8);
    // A file that reads no request fact is cached once, whatever the request.
    let plain = build(dir.path(), "[snom]\nsnom*.htm => m900.htm\n");
    let route = plain.route("snomD785.htm").unwrap();
    for n in 0..10 {
        let model = format!("D{n}");
        plain
            .render(route, Request::to_server(server).with_match(Some(&model)))
            .unwrap();
    }
    assert_eq!(plain.cached_variants(route), 1);
}
