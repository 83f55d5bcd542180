//! Fail closed (issue 12): every way the server could fail open, tried from outside. A file pjprov cannot
//! read, a setting it cannot parse, a save caught half-way: never a looser policy, never a wider listen
//! address, never a half-reloaded state.

use std::time::{Duration, Instant};

use crate::util::{
    Fixture, Options, Server, as_nobody, free_port, open_to_all, request, run, stdout,
};

const PHONE: &str = "0004f2000100";
const SECRET: &str = "Sip-Pass-100!";

fn fixture(pjprov_conf: Option<&str>) -> Fixture {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        &format!(
            "[udp]\ntype = transport\nbind = 0.0.0.0\n\
             [100]\ntype = endpoint\ntransport = udp\nauth = 100\n\
             [100]\ntype = auth\nusername = 100\npassword = {SECRET}\n\
             [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = {PHONE}\nPROFILE = polycom\n"
        ),
    )
    .config("phoneprov.conf", "[polycom]\n${MAC}.cfg => p.cfg\n")
    .template("p.cfg", "user=${USERNAME} secret=${SECRET}\n");
    if let Some(text) = pjprov_conf {
        fx.config("pjprov.conf", text);
    }
    fx
}

fn phone_file(server: &Server) -> crate::util::Response {
    server.get(&format!("/phoneprov/{PHONE}.cfg"))
}

fn health(server: &Server) -> (u16, String) {
    let response = request(server.admin.unwrap(), "GET", "/healthz", &[]);
    (
        response.status,
        String::from_utf8_lossy(&response.body).into_owned(),
    )
}

/// Item 1: an unreadable pjprov.conf is no pjprov.conf at all for an attacker: nothing is served.
#[test]
fn an_unreadable_pjprov_conf_serves_nothing() {
    let deny_all = "[acl]\ndeny = 0.0.0.0/0, ::/0\n";
    // As an I/O error, for anyone (even root): a link to a file whose reading fails.
    let fx = fixture(None);
    std::os::unix::fs::symlink("/proc/self/mem", fx.etc().join("pjprov.conf")).unwrap();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let answer = phone_file(&server);
    assert_eq!(answer.status, 503);
    assert!(!String::from_utf8_lossy(&answer.body).contains(SECRET));
    let (status, why) = health(&server);
    assert_eq!(status, 503);
    assert!(why.contains("pjprov.conf"), "{why}");
    drop(server);

    // As a permission problem: mode 600, owned by root, pjprov run as another user.
    let fx = fixture(Some(deny_all));
    open_to_all(fx.dir.path());
    let conf = fx.etc().join("pjprov.conf");
    let mut options = Options::new(&fx.etc(), &fx.data());
    options.run_as = as_nobody(fx.dir.path());
    // Owned by root, mode 600, pjprov run as nobody; or, not running as root, a mode no one can read.
    let mode = if options.run_as.is_some() {
        0o600
    } else {
        0o000
    };
    std::fs::set_permissions(&conf, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    let server = options.start();
    let answer = phone_file(&server);
    assert_eq!(answer.status, 503, "{}", server.log());
    assert!(!String::from_utf8_lossy(&answer.body).contains(SECRET));
    let (_, why) = health(&server);
    assert!(why.contains("permission denied"), "{why}");
    assert!(why.contains("pjprov runs as"), "{why}");

    // `check` says so too, and fails.
    let mut check = match &options.run_as {
        Some(wrapper) => {
            let mut command = std::process::Command::new(&wrapper[0]);
            command.args(&wrapper[1..]);
            command
        }
        None => crate::util::pjprov(),
    };
    check
        .arg("check")
        .arg("--config-dir")
        .arg(fx.etc())
        .arg("--data-dir")
        .arg(fx.data());
    let output = check.output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("permission denied"),
        "{}",
        stdout(&output)
    );
}

/// Item 1 too: an unreadable pjsip_wizard.conf does not make its phones vanish silently.
#[test]
fn an_unreadable_wizard_file_rejects_the_configuration() {
    let fx = fixture(None);
    std::os::unix::fs::symlink("/proc/self/mem", fx.etc().join("pjsip_wizard.conf")).unwrap();
    let output = run(&[
        "check",
        "--config-dir",
        fx.etc().to_str().unwrap(),
        "--data-dir",
        fx.data().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("pjsip_wizard.conf"),
        "{}",
        stdout(&output)
    );
}

/// Items 2 and 3: a pjprov.conf that cannot be used never widens where pjprov listens, and once fixed
/// the addresses it names are opened without a restart.
#[test]
fn an_unusable_pjprov_conf_opens_no_default_listener() {
    for broken in [
        // An invalid listen address.
        "[general]\nlisten = 0.0.0.0:80x88\n".to_owned(),
        // Plain HTTP off, and a TLS certificate not there yet.
        "[general]\nplain_http = no\ntls_listen = 127.0.0.1:0\ntls_cert = cert.pem\ntls_key = key.pem\n"
            .to_owned(),
    ] {
        let fx = fixture(Some(&broken));
        let mut options = Options::new(&fx.etc(), &fx.data());
        options.listen = false;
        options.expect_phones = false;
        let server = options.start();
        server.wait_for_log("pjprov.conf cannot be used", 10);
        assert!(
            !server.log().contains("serving phones on"),
            "{broken}: no listener may open:\n{}",
            server.log()
        );
        let (status, why) = health(&server);
        assert_eq!(status, 503);
        assert!(why.contains("pjprov.conf"), "{why}");

        // Fixed: the address pjprov.conf names is opened, and nothing else.
        let port = free_port();
        fx.config(
            "pjprov.conf",
            &format!("[general]\nlisten = 127.0.0.1:{port}\n"),
        );
        server.wait_for_log(&format!("serving phones on http://127.0.0.1:{port}"), 10);
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        let answer = request(addr, "GET", &format!("/phoneprov/{PHONE}.cfg"), &[]);
        assert_eq!(answer.status, 200);
        assert_eq!(
            server.log().matches("serving phones on").count(),
            1,
            "{}",
            server.log()
        );
    }
}

/// A reload naming an address that cannot be opened closes nothing: the addresses open keep serving, and
/// the log says so.
#[test]
fn a_reload_to_an_address_in_use_keeps_serving_where_it_was() {
    let first = free_port();
    let fx = fixture(Some(&format!("[general]\nlisten = 127.0.0.1:{first}\n")));
    let mut options = Options::new(&fx.etc(), &fx.data());
    options.listen = false;
    let server = options.start();
    server.wait_for_log(&format!("serving phones on http://127.0.0.1:{first}"), 10);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{first}").parse().unwrap();
    assert_eq!(
        request(addr, "GET", &format!("/phoneprov/{PHONE}.cfg"), &[]).status,
        200
    );

    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = held.local_addr().unwrap().port();
    fx.config(
        "pjprov.conf",
        &format!("[general]\nlisten = 127.0.0.1:{taken}\n"),
    );
    server.wait_for_log(&format!("cannot listen on 127.0.0.1:{taken}"), 15);
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains(&format!("cannot listen on 127.0.0.1:{taken}")))
        .unwrap_or_default();
    assert!(
        line.contains("still serving on the addresses already open"),
        "{log}"
    );
    assert_eq!(
        request(addr, "GET", &format!("/phoneprov/{PHONE}.cfg"), &[]).status,
        200
    );
    drop(held);
}

/// Item 7: dump masks the values of secret keys unless asked.
#[test]
fn dump_masks_secrets_unless_asked() {
    let fx = fixture(Some(
        "[auth]\nauth = static\nusername = prov\npassword = Static-Pass-7\n",
    ));
    for file in ["pjsip.conf", "pjprov.conf"] {
        let masked = run(&["dump", "--config-dir", fx.etc().to_str().unwrap(), file]);
        let text = stdout(&masked);
        assert!(
            !text.contains(SECRET) && !text.contains("Static-Pass-7"),
            "{text}"
        );
        assert!(text.contains("********"), "{text}");
        let shown = run(&[
            "dump",
            "--config-dir",
            fx.etc().to_str().unwrap(),
            "--show-secrets",
            file,
        ]);
        let text = stdout(&shown);
        assert!(
            text.contains(SECRET) || text.contains("Static-Pass-7"),
            "{text}"
        );
    }
}

/// Item 8: a broken `.hbs` save keeps the working template serving.
#[test]
fn a_broken_handlebars_save_keeps_the_last_good_template() {
    let fx = fixture(None);
    fx.config("phoneprov.conf", "[polycom]\n${MAC}.cfg => p.cfg.hbs\n")
        .template("p.cfg.hbs", "user={{USERNAME}}\n");
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    assert_eq!(phone_file(&server).body, b"user=100\n");
    fx.template("p.cfg.hbs", "user={{#if USERNAME}}\n");
    server.wait_for_log("last good version keeps serving", 10);
    let answer = phone_file(&server);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, b"user=100\n");
    // Deleted and re-created: the last good form serves in between.
    std::fs::remove_file(fx.data().join("phoneprov/p.cfg.hbs")).unwrap();
    server.wait_for_log("it is missing", 10);
    assert_eq!(phone_file(&server).status, 200);
    fx.template("p.cfg.hbs", "again={{USERNAME}}\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while phone_file(&server).body != b"again=100\n" {
        assert!(Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Item 12: a save caught half-way never loosens access control: truncate, pause, write — an ACL-denied
/// client never gets the file, and the fleet never 404s.
#[test]
fn a_half_written_save_opens_no_gap() {
    let acl = "[acl]\ndeny = 0.0.0.0/0, ::/0\npermit = 127.0.0.2\n";
    let fx = fixture(Some(acl));
    let server = Server::start(&fx.etc(), &fx.data(), &["--settle-ms", "3000"]);
    let allowed: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let path = format!("/phoneprov/{PHONE}.cfg");
    let ask = |from: std::net::IpAddr| {
        crate::util::request_from(from, server.addr, "GET", &path, &[]).status
    };
    assert_eq!(ask(allowed), 200);
    assert_eq!(server.get(&path).status, 403);

    // Truncate (a completed write: the file is empty for a while), pause, then write it back.
    for file in ["pjprov.conf", "pjsip.conf"] {
        let full = std::fs::read(fx.etc().join(file)).unwrap();
        std::fs::write(fx.etc().join(file), "").unwrap();
        let until = Instant::now() + Duration::from_millis(1500);
        let mut asked = 0;
        while Instant::now() < until {
            assert_eq!(server.get(&path).status, 403, "{file}: the ACL never opens");
            assert_eq!(ask(allowed), 200, "{file}: the phone never 404s");
            asked += 1;
        }
        assert!(asked > 10);
        std::fs::write(fx.etc().join(file), &full).unwrap();
    }
    // A real removal of the ACL is adopted, once it stays so.
    fx.config("pjprov.conf", "");
    server.wait_for_log("adopted once its files stay as they are", 10);
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.get(&path).status != 200 {
        assert!(Instant::now() < deadline, "{}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}
