//! Rendered bodies across reloads: a reload that changes one phone leaves every other phone's cached body
//! (the same bytes in memory) and entity tag as they were, and a reload that changes a template re-renders
//! exactly the phones that use it.

use std::net::IpAddr;
use std::path::Path;

use bytes::Bytes;
use pjprov_core::{BuildOptions, Paths, Rendered, Snapshot};

const PHONES: usize = 30;

/// A fleet: phones 0..PHONES, even ones on profile `a` (Asterisk template with PP_EACH_EXTENSION), odd
/// ones on profile `b` (Handlebars), one directory file per phone on profile `a`.
fn write(dir: &Path, callerid_of_7: &str, a_template: &str, b_template: &str) -> Paths {
    let (etc, data) = (dir.join("etc"), dir.join("data"));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(data.join("phoneprov")).unwrap();
    let mut pjsip = String::from("[udp]\ntype = transport\nbind = 0.0.0.0\n");
    for n in 0..PHONES {
        let callerid = if n == 7 {
            callerid_of_7.to_owned()
        } else {
            format!("\"Phone {n}\" <{}>", 100 + n)
        };
        let profile = if n % 2 == 0 { "a" } else { "b" };
        pjsip.push_str(&format!(
            "[{e}]\ntype = endpoint\ntransport = udp\nauth = {e}\ncallerid = {callerid}\n\
             [{e}]\ntype = auth\nusername = {e}\npassword = pw{e}\n\
             [{e}-pp]\ntype = phoneprov\nendpoint = {e}\nMAC = 0004f2{n:06x}\nPROFILE = {profile}\n",
            e = 100 + n
        ));
    }
    std::fs::write(etc.join("pjsip.conf"), pjsip).unwrap();
    std::fs::write(
        etc.join("phoneprov.conf"),
        "[a]\n${MAC}.cfg => a.cfg\n${MAC}-directory.xml => dir.xml\n[b]\n${MAC}.cfg => b.cfg.hbs\n",
    )
    .unwrap();
    let phoneprov = data.join("phoneprov");
    std::fs::write(phoneprov.join("a.cfg"), a_template).unwrap();
    std::fs::write(phoneprov.join("line.cfg"), "line ${LINE} ${DISPLAY_NAME}\n").unwrap();
    std::fs::write(phoneprov.join("b.cfg.hbs"), b_template).unwrap();
    std::fs::write(
        phoneprov.join("dir.xml"),
        "${PP_EACH_USER(<e>%{DISPLAY_NAME}</e>|${MAC})}\n",
    )
    .unwrap();
    Paths::new(etc, data)
}

const A: &str = "a ${MAC} ${PP_EACH_EXTENSION(${MAC},line.cfg)}";
const B: &str = "b {{MAC}} {{DISPLAY_NAME}}\n";

fn server() -> IpAddr {
    "192.0.2.1".parse().unwrap()
}

/// Every phone file's body, by name.
fn render_all(snapshot: &Snapshot) -> Vec<(String, Rendered)> {
    snapshot
        .routes()
        .iter()
        .map(|route| {
            (
                route.uri.clone(),
                snapshot.render(route, server()).expect("renders"),
            )
        })
        .collect()
}

fn same_bytes(a: &Bytes, b: &Bytes) -> bool {
    a.as_ptr() == b.as_ptr() && a.len() == b.len()
}

fn mac_file(n: usize) -> String {
    format!("0004f2{n:06x}.cfg")
}

fn directory(n: usize) -> String {
    format!("0004f2{n:06x}-directory.xml")
}

#[test]
fn a_reload_keeps_the_bodies_of_unchanged_phones_and_a_template_change_re_renders_its_users() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), "\"Phone 7\" <107>", A, B);
    let first = Snapshot::build(&paths, &BuildOptions::default()).unwrap();
    let before = render_all(&first);

    // Phone 7 (profile b) gets a new callerid.
    write(dir.path(), "\"Seven\" <107>", A, B);
    let second = first.rebuild(&paths, &BuildOptions::default()).unwrap();
    drop(first);
    let after = render_all(&second);
    assert_eq!(before.len(), after.len());
    let mut kept = Vec::new();
    let mut rendered = Vec::new();
    for ((uri, old), (new_uri, new)) in before.iter().zip(&after) {
        assert_eq!(uri, new_uri);
        if same_bytes(&old.body, &new.body) {
            assert_eq!(old.etag, new.etag);
            kept.push(uri.clone());
        } else {
            rendered.push(uri.clone());
        }
    }
    // Phone 7's file, and every directory (they list phone 7's name), and nothing else.
    let mut expected: Vec<String> = vec![mac_file(7)];
    expected.extend((0..PHONES).step_by(2).map(directory));
    expected.sort();
    rendered.sort();
    assert_eq!(rendered, expected);
    let seven = after.iter().find(|(u, _)| *u == mac_file(7)).unwrap();
    assert!(String::from_utf8_lossy(&seven.1.body).contains("Seven"));

    // A change to profile a's template re-renders profile a's phone files, not b's nor the directories.
    write(dir.path(), "\"Seven\" <107>", &format!("{A}v2\n"), B);
    let third = second.rebuild(&paths, &BuildOptions::default()).unwrap();
    let again = render_all(&third);
    let changed: Vec<&str> = after
        .iter()
        .zip(&again)
        .filter(|((_, old), (_, new))| !same_bytes(&old.body, &new.body))
        .map(|((uri, _), _)| uri.as_str())
        .collect();
    let mut expected: Vec<String> = (0..PHONES).step_by(2).map(mac_file).collect();
    expected.sort();
    let mut changed: Vec<String> = changed.into_iter().map(str::to_owned).collect();
    changed.sort();
    assert_eq!(changed, expected);
}

#[test]
fn a_template_that_reads_the_clock_is_rendered_again() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), "\"Phone 7\" <107>", "now ${EPOCH} ${MAC}\n", B);
    let first = Snapshot::build(&paths, &BuildOptions::default()).unwrap();
    let route = first.route(&mac_file(0)).unwrap();
    let old = first.render(route, server()).unwrap();
    let b = first
        .render(first.route(&mac_file(1)).unwrap(), server())
        .unwrap();
    let second = first.rebuild(&paths, &BuildOptions::default()).unwrap();
    let route = second.route(&mac_file(0)).unwrap();
    let new = second.render(route, server()).unwrap();
    assert!(!same_bytes(&old.body, &new.body), "rendered again");
    // The Handlebars phones are carried.
    let third = second.rebuild(&paths, &BuildOptions::default()).unwrap();
    drop(second);
    let b_later = third
        .render(third.route(&mac_file(1)).unwrap(), server())
        .unwrap();
    // `first`'s body for phone 1 was never asked of `second`, but carried through it.
    assert!(same_bytes(&b.body, &b_later.body));
}

#[test]
fn comparing_keeps_only_the_bodies_that_were_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), "\"Phone 7\" <107>", A, B);
    let first = Snapshot::build(&paths, &BuildOptions::default()).unwrap();
    // Nothing served yet (a restart): comparing renders, keeps nothing, and gives what a fetch serves.
    let route = first.route(&mac_file(0)).unwrap();
    let compared = first.render_to_compare(route, server()).unwrap();
    assert_eq!(first.cached_variants(route), 0);
    let served = first.render(route, server()).unwrap();
    assert_eq!(compared, served);
    assert_eq!(first.cached_variants(route), 1);
    // Served before the reload: phones 6 and 7. Phone 7 changes, phone 6 does not.
    let six = first
        .render(first.route(&mac_file(6)).unwrap(), server())
        .unwrap();
    let seven = first
        .render(first.route(&mac_file(7)).unwrap(), server())
        .unwrap();
    write(dir.path(), "\"Seven\" <107>", A, B);
    let second = first.rebuild(&paths, &BuildOptions::default()).unwrap();
    drop(first);
    // Phone 6's carried body answers, the very bytes, and stays in memory.
    let route = second.route(&mac_file(6)).unwrap();
    let again = second.render_to_compare(route, server()).unwrap();
    assert!(same_bytes(&six.body, &again.body));
    assert_eq!(second.cached_variants(route), 1);
    // Phone 7's is rendered again and takes the old one's place: what the NOTIFY makes it fetch is ready.
    let route = second.route(&mac_file(7)).unwrap();
    let new = second.render_to_compare(route, server()).unwrap();
    assert_ne!(new.etag, seven.etag);
    assert!(String::from_utf8_lossy(&new.body).contains("Seven"));
    assert_eq!(second.cached_variants(route), 1);
    assert!(same_bytes(
        &new.body,
        &second.render(route, server()).unwrap().body
    ));
    // A phone no one fetched stays out of memory across the reload too.
    let route = second.route(&mac_file(8)).unwrap();
    second.render_to_compare(route, server()).unwrap();
    assert_eq!(second.cached_variants(route), 0);
    // The next snapshot carries the new body.
    let third = second.rebuild(&paths, &BuildOptions::default()).unwrap();
    let route = third.route(&mac_file(7)).unwrap();
    assert!(same_bytes(
        &new.body,
        &third.render_to_compare(route, server()).unwrap().body
    ));
}
