//! Live reload: every way editors and tools save a file is picked up within a second; a broken save keeps
//! the last good configuration serving; SIGHUP reloads too.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::util::{Fixture, Server};

const PJSIP: &str = "[1]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = p\nNOTE = first\n";

fn fixture() -> Fixture {
    let fx = Fixture::new();
    fx.config("pjsip.conf", PJSIP)
        .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n")
        .template("p.cfg", "note=${NOTE}\n");
    fx
}

/// Polls the phone's file until it reads `want`; returns how long that took.
fn wait_for_body(server: &Server, want: &str) -> Duration {
    let started = Instant::now();
    loop {
        let body = server.get("/phoneprov/0004f2000001.cfg").body;
        if body == want.as_bytes() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "still '{}' instead of '{want}' after 1s\n{}",
            String::from_utf8_lossy(&body),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn note(n: &str) -> String {
    PJSIP.replace("first", n)
}

#[test]
fn write_in_place() {
    let fx = fixture();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    assert_eq!(
        server.get("/phoneprov/0004f2000001.cfg").body,
        b"note=first\n"
    );
    std::fs::write(fx.etc().join("pjsip.conf"), note("in-place")).unwrap();
    wait_for_body(&server, "note=in-place\n");
}

/// `--config-dir etc` as an admin types it: the watcher sees absolute paths in its events all the same.
#[test]
fn relative_directories_are_watched_too() {
    let fx = fixture();
    let server = Server::start_in(
        Some(fx.dir.path()),
        Path::new("etc"),
        Path::new("data"),
        &[],
        "info",
    );
    std::fs::write(fx.etc().join("pjsip.conf"), note("relative")).unwrap();
    wait_for_body(&server, "note=relative\n");
    std::fs::write(fx.data().join("phoneprov/p.cfg"), "template=${NOTE}\n").unwrap();
    wait_for_body(&server, "template=relative\n");
}

#[test]
fn write_a_temporary_file_and_rename_it_over() {
    let fx = fixture();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let tmp = fx.etc().join(".pjsip.conf.tmp");
    std::fs::write(&tmp, note("renamed")).unwrap();
    std::fs::rename(&tmp, fx.etc().join("pjsip.conf")).unwrap();
    wait_for_body(&server, "note=renamed\n");
}

#[test]
fn delete_and_recreate() {
    let fx = fixture();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    std::fs::remove_file(fx.etc().join("pjsip.conf")).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    std::fs::write(fx.etc().join("pjsip.conf"), note("recreated")).unwrap();
    wait_for_body(&server, "note=recreated\n");
}

#[test]
fn a_template_change_is_picked_up() {
    let fx = fixture();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    fx.template("p.cfg", "changed=${NOTE}\n");
    wait_for_body(&server, "changed=first\n");
}

#[test]
fn an_included_file_change_is_picked_up() {
    let fx = fixture();
    fx.config("pjsip.conf", "#include phones/*.conf\n")
        .config("phones/a.conf", PJSIP);
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    assert_eq!(
        server.get("/phoneprov/0004f2000001.cfg").body,
        b"note=first\n"
    );
    fx.config("phones/a.conf", &note("included"));
    wait_for_body(&server, "note=included\n");
}

/// Kubernetes mounts a ConfigMap as `name -> ..data/name`, `..data -> ..<timestamp>/`, and updates it by
/// writing a new timestamped directory and renaming a new `..data` symlink over the old one.
#[test]
fn kubernetes_configmap_symlink_swap() {
    let fx = Fixture::new();
    let etc = fx.etc();
    let write_version = |dir: &Path, n: &str| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("pjsip.conf"), note(n)).unwrap();
        std::fs::write(dir.join("phoneprov.conf"), "[p]\n${MAC}.cfg => p.cfg\n").unwrap();
    };
    write_version(&etc.join("..2026_11_23_01"), "first");
    std::os::unix::fs::symlink("..2026_11_23_01", etc.join("..data")).unwrap();
    for name in ["pjsip.conf", "phoneprov.conf"] {
        std::os::unix::fs::symlink(format!("..data/{name}"), etc.join(name)).unwrap();
    }
    fx.template("p.cfg", "note=${NOTE}\n");
    let server = Server::start(&etc, &fx.data(), &[]);
    assert_eq!(
        server.get("/phoneprov/0004f2000001.cfg").body,
        b"note=first\n"
    );

    write_version(&etc.join("..2026_11_23_02"), "swapped");
    std::os::unix::fs::symlink("..2026_11_23_02", etc.join("..data_tmp")).unwrap();
    std::fs::rename(etc.join("..data_tmp"), etc.join("..data")).unwrap();
    std::fs::remove_dir_all(etc.join("..2026_11_23_01")).unwrap();
    wait_for_body(&server, "note=swapped\n");
}

#[test]
fn a_broken_save_keeps_the_last_good_configuration() {
    let fx = fixture();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    std::fs::write(
        fx.etc().join("pjsip.conf"),
        format!("{}\n[2](nosuchtemplate)\n", note("broken")),
    )
    .unwrap();
    server.wait_for_log("inheritance requested", 2);
    assert!(
        server.log().contains("pjsip.conf:7:"),
        "file:line in the log\n{}",
        server.log()
    );
    server.wait_for_log("previous one keeps serving", 2);
    assert_eq!(
        server.get("/phoneprov/0004f2000001.cfg").body,
        b"note=first\n"
    );
    // Fixing it is picked up as usual.
    std::fs::write(fx.etc().join("pjsip.conf"), note("fixed")).unwrap();
    wait_for_body(&server, "note=fixed\n");
    let metrics = crate::util::request(server.admin.unwrap(), "GET", "/metrics", &[]);
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(
        text.contains("pjprov_reloads_total{result=\"failed\"} 1"),
        "{text}"
    );
}

#[test]
fn sections_with_errors_are_skipped_and_the_rest_served() {
    let fx = fixture();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    std::fs::write(
        fx.etc().join("pjsip.conf"),
        format!(
            "{}[2]\ntype = phoneprov\nMAC = 0004f2000002\n",
            note("partial")
        ),
    )
    .unwrap();
    wait_for_body(&server, "note=partial\n");
    server.wait_for_log("phoneprov '2' must contain a PROFILE entry", 2);
}

#[test]
fn sighup_reloads() {
    let fx = fixture();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    server.signal("HUP");
    server.wait_for_log("SIGHUP: reloading", 2);
    server.wait_for_log("generation=2", 2);
}

#[test]
fn a_configuration_unusable_at_start_is_served_once_fixed() {
    let fx = fixture();
    std::fs::write(fx.etc().join("pjsip.conf"), "[x](missing)\n").unwrap();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    // Nothing is served without a usable configuration: phones are told to come back.
    let waiting = server.get("/phoneprov/0004f2000001.cfg");
    assert_eq!(waiting.status, 503);
    assert_eq!(waiting.header("retry-after"), Some("30"));
    let health = crate::util::request(server.admin.unwrap(), "GET", "/healthz", &[]);
    assert_eq!(health.status, 503);
    // It says why, with the file and line to fix.
    assert!(
        String::from_utf8_lossy(&health.body).contains("pjsip.conf:1"),
        "{}",
        String::from_utf8_lossy(&health.body)
    );
    std::fs::write(fx.etc().join("pjsip.conf"), PJSIP).unwrap();
    wait_for_body(&server, "note=first\n");
    assert_eq!(
        crate::util::request(server.admin.unwrap(), "GET", "/healthz", &[]).status,
        200
    );
}

/// A save that rewrites a value reads that section again and derives its line alone (the log says so);
/// adding a phone changes the file's shape, so everything is read. Either way what is served is the new
/// configuration.
#[test]
fn a_value_edit_reads_only_its_section() {
    let fx = Fixture::new();
    let phone = |n: u32, note: &str| {
        format!(
            "[{n}](ep)\ncallerid = \"Phone {n}\" <{n}>\n\n[{n}-pp](pp)\nendpoint = {n}\n\
             MAC = 0004f200000{n}\nNOTE = {note}\n\n"
        )
    };
    let phones =
        |notes: &[&str]| -> String { (1..).zip(notes).map(|(n, note)| phone(n, note)).collect() };
    fx.config(
        "pjsip.conf",
        "[udp]\ntype = transport\nbind = 0.0.0.0\n\n[ep](!)\ntype = endpoint\ntransport = udp\n\n\
         [pp](!)\ntype = phoneprov\nPROFILE = p\n\n#include phones.conf\n",
    )
    .config("phones.conf", &phones(&["a", "b"]))
    .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n")
    .template("p.cfg", "note=${NOTE} name=${DISPLAY_NAME}\n");
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let file = |n: u32| server.get(&format!("/phoneprov/0004f200000{n}.cfg")).body;
    assert_eq!(file(2), b"note=b name=Phone 2\n");

    // The reload line of generation `n`.
    let loaded = |n: u32| {
        let needle = format!("configuration loaded generation={n} ");
        server.wait_for_log(&needle, 5);
        let log = server.log();
        log.lines()
            .find(|l| l.contains(&needle))
            .unwrap()
            .to_owned()
    };
    assert!(loaded(1).contains("read=everything"), "{}", loaded(1));

    fx.config("phones.conf", &phones(&["a", "edited"]));
    assert!(
        loaded(2).contains("read=1 changed sections of pjsip.conf"),
        "{}",
        loaded(2)
    );
    assert_eq!(file(2), b"note=edited name=Phone 2\n");
    assert_eq!(file(1), b"note=a name=Phone 1\n");

    fx.config("phones.conf", &phones(&["a", "edited", "new"]));
    assert!(loaded(3).contains("read=everything"), "{}", loaded(3));
    assert_eq!(file(3), b"note=new name=Phone 3\n");
}
