//! Enrolment against the real binary (issue #18): each `enrol` mode and each transition — a window
//! opened by `pjprov enrol open` or by `first_boot_window`, the phone fetching, the window closing, the
//! phone fetching again with its proof (Digest with curl, a client certificate) or getting the lobby
//! without one — with restarts in between (the state lives in the state directory), and `pjprov explain`
//! and `pjprov status` showing the decision.

use std::net::IpAddr;
use std::path::Path;

use rcgen::DnType;

use crate::pki::{Ca, write_pair};
use crate::util::{Fixture, Server, curl, request_from, run, stderr, stdout};

const PHONE: &str = "0004f2000100";
const LATER: &str = "0004f2000200";
const SECRET: &str = "Enrol-Sip-Pass-100!";
const SECRET_LATER: &str = "Enrol-Sip-Pass-200!";
const LOBBY: &str = "lobby mac={{MAC}} url={{PROVISIONING_URL}} every={{LOBBY_INTERVAL}}\n";

fn pjsip(with_later: bool) -> String {
    let mut text = format!(
        "[100]\ntype = endpoint\nauth = 100\n[100]\ntype = auth\nusername = 100\npassword = {SECRET}\n\
         [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = {PHONE}\nPROFILE = desk\n"
    );
    if with_later {
        text += &format!(
            "[200]\ntype = endpoint\nauth = 200\n[200]\ntype = auth\nusername = 200\npassword = {SECRET_LATER}\n\
             [200-pp]\ntype = phoneprov\nendpoint = 200\nMAC = {LATER}\nPROFILE = desk\n"
        );
    }
    text
}

fn fixture(pjprov_conf: &str) -> Fixture {
    let fx = Fixture::new();
    fx.config("pjsip.conf", &pjsip(false))
        .config("phoneprov.conf", "[desk]\n${MAC}.cfg => desk.cfg.hbs\n")
        .config("pjprov.conf", pjprov_conf)
        .template("desk.cfg.hbs", "user={{USERNAME}} secret={{SECRET}}\n")
        .template("lobby.cfg.hbs", LOBBY);
    fx
}

/// `pjprov serve` with the fixture's own state directory (`state/`, kept across restarts).
fn serve(fx: &Fixture, extra: &[&str]) -> Server {
    let state = fx.dir.path().join("state");
    let mut args = vec!["--state-dir", state.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::start(&fx.etc(), &fx.data(), &args)
}

fn get(server: &Server, from: &str, mac: &str) -> (u16, String) {
    let client: IpAddr = from.parse().unwrap();
    let got = request_from(
        client,
        server.addr,
        "GET",
        &format!("/phoneprov/{mac}.cfg"),
        &[],
    );
    (got.status, String::from_utf8_lossy(&got.body).into_owned())
}

fn is_lobby(answer: &(u16, String), mac: &str) -> bool {
    answer.0 == 200
        && answer.1.starts_with(&format!("lobby mac={mac} "))
        && !answer.1.contains("secret")
}

fn admin(server: &Server) -> String {
    server.admin.unwrap().to_string()
}

fn enrol(server: &Server, args: &[&str]) -> String {
    let admin = admin(server);
    let mut all = vec!["enrol"];
    all.extend_from_slice(args);
    all.extend(["--admin", &admin]);
    let output = run(&all);
    assert!(
        output.status.success(),
        "pjprov {all:?}: {}",
        stderr(&output)
    );
    stdout(&output)
}

#[test]
fn an_admin_window_a_fetch_a_second_address_a_restart_and_the_window_closing() {
    let fx = fixture(
        "[profile:desk]\nenrol = window\nenrol_grace = 10m\nlobby = lobby.cfg.hbs\nlobby_interval = 2m\n",
    );
    let server = serve(&fx, &[]);
    // No window: the lobby, never the password.
    let before = get(&server, "127.0.0.1", PHONE);
    assert!(is_lobby(&before, PHONE), "{before:?}");
    assert!(before.1.contains("every=120"), "{before:?}");

    let opened = enrol(&server, &["open", PHONE, "--for", "30m"]);
    assert!(opened.starts_with("1 window(s) opened until "), "{opened}");
    // The phone fetches: its configuration, and the window is bound to its address.
    let fetched = get(&server, "127.0.0.1", PHONE);
    assert_eq!(fetched, (200, format!("user=100 secret={SECRET}\n")));
    server.wait_for_log("the window is bound to this client", 5);
    // Another address in the same window: the lobby, and a warning.
    assert!(is_lobby(&get(&server, "127.0.0.2", PHONE), PHONE));
    server.wait_for_log("a second address asked for a phone's credentials", 5);
    // The phone again, within enrol_grace: its configuration.
    assert_eq!(get(&server, "127.0.0.1", PHONE).0, 200);
    assert!(!get(&server, "127.0.0.1", PHONE).1.starts_with("lobby"));

    // A restart keeps all of it (the state directory).
    drop(server);
    let server = serve(&fx, &[]);
    assert_eq!(
        get(&server, "127.0.0.1", PHONE),
        (200, format!("user=100 secret={SECRET}\n"))
    );
    assert!(is_lobby(&get(&server, "127.0.0.2", PHONE), PHONE));
    let listed = enrol(&server, &["list"]);
    assert!(
        listed.contains(PHONE) && listed.contains("bound to 127.0.0.1"),
        "{listed}"
    );

    // Closed: the lobby for everyone, the phone included; after a restart too.
    let closed = enrol(&server, &["close", PHONE]);
    assert!(closed.starts_with("1 window(s) closed"), "{closed}");
    assert!(is_lobby(&get(&server, "127.0.0.1", PHONE), PHONE));
    drop(server);
    let server = serve(&fx, &[]);
    assert!(is_lobby(&get(&server, "127.0.0.1", PHONE), PHONE));
    // Opened again, it starts afresh: whoever fetches first binds it.
    enrol(&server, &["open", "--all", "--for", "60"]);
    assert_eq!(get(&server, "127.0.0.2", PHONE).0, 200);
    assert!(is_lobby(&get(&server, "127.0.0.1", PHONE), PHONE));
    assert!(
        !server.log().contains(SECRET),
        "a password never reaches the log"
    );
}

#[test]
fn first_boot_window_then_digest_as_the_proof_across_a_restart() {
    let fx = fixture(
        "[profile:desk]\nauth = sip\nenrol = window\nfirst_boot_window = 15m\nlobby = lobby.cfg.hbs\n",
    );
    let server = serve(&fx, &[]);
    // The phone configured when the state began gets no window by itself: auth = sip challenges it.
    assert_eq!(get(&server, "127.0.0.1", PHONE).0, 401);

    // A phone added to pjsip.conf: its first-boot window opens.
    fx.config("pjsip.conf", &pjsip(true));
    server.wait_for_log("the phone was just added to the configuration", 15);
    // Fresh out of its box, it has no password: the window stands in for it.
    assert_eq!(
        get(&server, "127.0.0.5", LATER),
        (200, format!("user=200 secret={SECRET_LATER}\n"))
    );
    // Anyone else in that window is challenged, as outside it.
    assert_eq!(get(&server, "127.0.0.6", LATER).0, 401);
    // With its own SIP credentials (curl's Digest), the phone is served from anywhere.
    let url = |server: &Server, mac: &str| format!("http://{}/phoneprov/{mac}.cfg", server.addr);
    let proven = curl(&[
        "--digest",
        "--user",
        &format!("200:{SECRET_LATER}"),
        &url(&server, LATER),
    ]);
    assert_eq!(proven.status, 200, "{proven:?}");
    assert!(String::from_utf8_lossy(&proven.body).contains(SECRET_LATER));
    // Another phone's credentials prove nothing.
    let wrong = curl(&[
        "--digest",
        "--user",
        &format!("100:{SECRET}"),
        &url(&server, LATER),
    ]);
    assert_eq!(wrong.status, 401);

    let status = run(&["status", "--admin", &admin(&server)]);
    let table = stdout(&status);
    let row = table
        .lines()
        .find(|l| l.contains(LATER))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("window: open") && row.contains("bound to 127.0.0.5"),
        "{row}"
    );

    drop(server);
    let server = serve(&fx, &[]);
    // After the restart: no new window (the phone is known now), the claim holds, the proof works.
    assert!(!server.log().contains("the phone was just added"));
    assert_eq!(get(&server, "127.0.0.6", LATER).0, 401);
    assert_eq!(get(&server, "127.0.0.5", LATER).0, 200);
    let proven = curl(&[
        "--digest",
        "--user",
        &format!("100:{SECRET}"),
        &url(&server, PHONE),
    ]);
    assert_eq!(proven.status, 200);
    assert!(!server.log().contains(SECRET_LATER));
}

#[test]
fn turning_enrolment_on_takes_the_phones_configured_then_as_they_are() {
    // Every policy open: served as before, and no enrolment state is kept.
    let fx = fixture("[profile:desk]\nlobby = lobby.cfg.hbs\n");
    let server = serve(&fx, &[]);
    assert_eq!(
        get(&server, "127.0.0.1", PHONE),
        (200, format!("user=100 secret={SECRET}\n"))
    );
    let listed = enrol(&server, &["list"]);
    assert!(listed.contains(&format!("{PHONE}  open ")), "{listed}");
    // A phone added while enrolment is off is served at once.
    fx.config("pjsip.conf", &pjsip(true));
    server.wait_for_log("phones=2", 15);
    assert_eq!(get(&server, "127.0.0.1", LATER).0, 200);
    drop(server);

    // Enrolment turned on: both phones were there before it, so neither gets a first-boot window (they
    // were served without proof all along; `pjprov enrol open` is for that).
    fx.config(
        "pjprov.conf",
        "[profile:desk]\nenrol = window\nfirst_boot_window = 15m\nlobby = lobby.cfg.hbs\n",
    );
    let server = serve(&fx, &[]);
    assert!(is_lobby(&get(&server, "127.0.0.1", PHONE), PHONE));
    assert!(is_lobby(&get(&server, "127.0.0.1", LATER), LATER));
    assert!(!server.log().contains("the phone was just added"));
    let listed = enrol(&server, &["list"]);
    for mac in [PHONE, LATER] {
        let row = listed
            .lines()
            .find(|l| l.starts_with(mac))
            .unwrap_or_default();
        assert!(
            row.contains(" window ") && !row.contains("until"),
            "{listed}"
        );
    }
    // Taken out and put back (across a restart), a phone is no phone just added.
    fx.config("pjsip.conf", &pjsip(false));
    server.wait_for_log("phones=1", 15);
    drop(server);
    let server = serve(&fx, &[]);
    fx.config("pjsip.conf", &pjsip(true));
    server.wait_for_log("phones=2", 15);
    assert!(
        !server.log().contains("the phone was just added"),
        "a phone removed for a moment keeps its record: no window"
    );
    assert!(is_lobby(&get(&server, "127.0.0.1", LATER), LATER));
}

/// A server certificate, a device CA and a phone's certificate naming `mac`, in `dir`.
fn tls_files(dir: &Path, mac: &str) -> (Vec<String>, String, (String, String)) {
    let server_ca = Ca::new("enrol test server CA");
    let device_ca = Ca::new("enrol test device CA");
    write_pair(dir, "server", &server_ca.server());
    std::fs::write(dir.join("server-ca.pem"), server_ca.pem()).unwrap();
    std::fs::write(dir.join("device-ca.pem"), device_ca.pem()).unwrap();
    let (cert, key) = write_pair(
        dir,
        "phone",
        &device_ca.client(&[(DnType::CommonName, mac)]),
    );
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let args = vec![
        "--tls-listen".into(),
        "127.0.0.1:0".into(),
        "--tls-cert".into(),
        path("server.pem"),
        "--tls-key".into(),
        path("server.key"),
        "--tls-client-ca".into(),
        path("device-ca.pem"),
    ];
    (
        args,
        path("server-ca.pem"),
        (
            cert.to_string_lossy().into_owned(),
            key.to_string_lossy().into_owned(),
        ),
    )
}

#[test]
fn proof_only_a_certificate_naming_the_phone_gets_its_file() {
    let fx = fixture("[profile:desk]\nenrol = proof\nlobby = lobby.cfg.hbs\n");
    let tls = tempfile::tempdir().unwrap();
    let (args, server_ca, phone) = tls_files(tls.path(), "0004F2000100");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = serve(&fx, &args);
    let url = format!("https://{}/phoneprov/{PHONE}.cfg", server.tls_addr.unwrap());
    let without = curl(&["--cacert", &server_ca, &url]);
    assert_eq!(without.status, 200);
    assert!(
        String::from_utf8_lossy(&without.body).starts_with("lobby mac=0004f2000100 url=https://")
    );
    let with = curl(&[
        "--cacert", &server_ca, "--cert", &phone.0, "--key", &phone.1, &url,
    ]);
    assert_eq!(
        (
            with.status,
            String::from_utf8_lossy(&with.body).into_owned()
        ),
        (200, format!("user=100 secret={SECRET}\n"))
    );
    // An admin window changes nothing under enrol = proof (and the admin is told).
    let opened = run(&["enrol", "open", PHONE, "--admin", &admin(&server)]);
    assert!(
        stderr(&opened).contains("enrol = proof"),
        "{}",
        stderr(&opened)
    );
    assert_eq!(curl(&["--cacert", &server_ca, &url]).body, without.body);
    // Over plain HTTP: the lobby too.
    assert!(is_lobby(&get(&server, "127.0.0.1", PHONE), PHONE));
}

#[test]
fn explain_shows_the_enrolment_decision() {
    // explain finds the running server at pjprov.conf's admin_listen.
    let port = crate::util::free_port();
    let fx = fixture(&format!(
        "[general]\nadmin_listen = 127.0.0.1:{port}\n[profile:desk]\nenrol = window\nlobby = lobby.cfg.hbs\n"
    ));
    let etc = fx.etc();
    let data = fx.data();
    let state = fx.dir.path().join("state");
    let explain = |client: &str| {
        stdout(&run(&[
            "explain",
            "--config-dir",
            etc.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--client",
            client,
            &format!("{PHONE}.cfg"),
        ]))
    };
    // No server has run: no state, no window.
    let none = explain("127.0.0.1");
    assert!(none.contains("enrolment:   no state in"), "{none}");
    assert!(
        none.contains("enrol:       enrol = window: no provisioning window is open for it"),
        "{none}"
    );
    assert!(
        none.contains("answer:      200 OK (the lobby, from lobby.cfg.hbs"),
        "{none}"
    );

    let mut options = crate::util::Options::new(&fx.etc(), &fx.data())
        .args(&["--state-dir", state.to_str().unwrap()]);
    options.admin_listen = format!("127.0.0.1:{port}");
    let server = options.start();
    enrol(&server, &["open", PHONE, "--for", "30m"]);
    let open = explain("127.0.0.1");
    assert!(
        open.contains("enrolment:   as the running server at"),
        "{open}"
    );
    assert!(
        open.contains("its window is open until") && open.contains("nobody fetched in it yet"),
        "{open}"
    );
    assert!(open.contains("answer:      200 OK (text/plain"), "{open}");
    assert_eq!(get(&server, "127.0.0.1", PHONE).0, 200);
    let other = explain("127.0.0.9");
    assert!(
        other.contains("its window is bound to 127.0.0.1"),
        "{other}"
    );
    assert!(other.contains("the lobby"), "{other}");
    // Stopped: read from the state directory itself.
    drop(server);
    let read = explain("127.0.0.1");
    assert!(read.contains("enrolment:   read from"), "{read}");
    assert!(read.contains("bound to this client"), "{read}");
}
