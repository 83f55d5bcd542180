//! Phones from PostgreSQL (issue 19): a throwaway cluster with Asterisk's tables, `sorcery.conf` mapping
//! endpoints, auths, transports and phoneprov objects to it, and `pjprov serve` reading them.
//!
//! Timings here are functional bounds (the mechanism works, at about the speed it should), measured by
//! polling the HTTP answer; speed itself is measured elsewhere (docs/realtime.md).

use std::time::{Duration, Instant};

use crate::postgres::{Postgres, SCHEMA, notify_trigger};
use crate::util::{Fixture, Options, Server, request, run, stderr, stdout};

const MAC: &str = "0004f2aabbcc";
const PASSWORD: &str = "s3cret";

const SORCERY: &str = "[res_pjsip]\nendpoint = realtime,ps_endpoints\nauth = realtime,ps_auths\naor = realtime,ps_aors\ntransport = realtime,ps_transports\n\n[res_pjsip_phoneprov_provider]\nphoneprov = realtime,ps_phoneprovs\n";
const EXTCONFIG: &str = "[settings]\nps_endpoints => pgsql,asterisk\nps_auths => pgsql,asterisk\nps_aors => pgsql,asterisk\nps_transports => pgsql,asterisk\nps_phoneprovs => pgsql,asterisk\n";
const TEMPLATE: &str = "user=${USERNAME} secret=${SECRET} cid=${CALLERID} name=${DISPLAY_NAME} port=${SERVER_PORT} line=${LINE} tz=${TIMEZONE}\n";

/// Two phones' worth of rows.
const ROWS: &str = r#"
INSERT INTO ps_transports (id, bind, protocol) VALUES ('udp', '0.0.0.0:5062', 'udp');
INSERT INTO ps_auths (id, auth_type, username, password) VALUES ('1000', 'userpass', 'alice', 'pw-alice'),
  ('1001', 'userpass', 'bob', 'pw-bob');
INSERT INTO ps_aors (id, max_contacts) VALUES ('1000', 1), ('1001', 1);
INSERT INTO ps_endpoints (id, transport, aors, auth, callerid, context) VALUES
  ('1000', 'udp', '1000', '1000', '"Alice" <1000>', 'phones'),
  ('1001', 'udp', '1001', '1001', '"Bob" <1001>', 'phones');
INSERT INTO ps_phoneprovs (id, endpoint, "MAC", "PROFILE", "LINE") VALUES
  ('1000-phone', '1000', '0004f2aabbcc', 'basic', 1),
  ('1001-phone', '1001', '0004f2aabbdd', 'basic', 1);
"#;

/// A cluster with the schema and the rows, and a config dir reading it over TCP (with a password).
fn setup(pjprov_conf: &str) -> Option<(Postgres, Fixture)> {
    setup_on(Postgres::start()?, pjprov_conf)
}

/// Like [`setup`], on the Unix socket alone (for tests that stop and restart the server).
fn setup_socket(pjprov_conf: &str) -> Option<(Postgres, Fixture)> {
    let (pg, fx) = setup_on(Postgres::start_socket_only()?, pjprov_conf)?;
    fx.config("res_pgsql.conf", &socket(&pg));
    Some((pg, fx))
}

fn setup_on(pg: Postgres, pjprov_conf: &str) -> Option<(Postgres, Fixture)> {
    pg.psql(SCHEMA);
    pg.psql(ROWS);
    let fx = Fixture::new();
    fx.config("sorcery.conf", SORCERY)
        .config("extconfig.conf", EXTCONFIG)
        .config("res_pgsql.conf", &tcp(&pg))
        .config("pjsip.conf", "")
        .config("phoneprov.conf", "[basic]\n${MAC}.cfg => basic.cfg\n")
        .config("pjprov.conf", pjprov_conf)
        .template("basic.cfg", TEMPLATE);
    Some((pg, fx))
}

fn tcp(pg: &Postgres) -> String {
    format!(
        "[general]\ndbhost = 127.0.0.1\ndbport = {}\ndbname = asterisk\ndbuser = asterisk\ndbpass = {PASSWORD}\n",
        pg.port
    )
}

/// res_pgsql.conf for the socket (a directory; trust, so no password).
fn socket(pg: &Postgres) -> String {
    format!(
        "[general]\ndbsock = {}\ndbport = {}\ndbname = asterisk\ndbuser = asterisk\ndbpass =\n",
        pg.socket_dir.display(),
        pg.port
    )
}

/// How the socket's database is named in messages.
fn socket_name(pg: &Postgres) -> String {
    format!(
        "asterisk@{}/.s.PGSQL.{}/asterisk",
        pg.socket_dir.display(),
        pg.port
    )
}

fn phone(server: &Server) -> crate::util::Response {
    server.get(&format!("/phoneprov/{MAC}.cfg"))
}

fn body(response: &crate::util::Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

fn health(server: &Server) -> (u16, String) {
    let response = request(server.admin.unwrap(), "GET", "/healthz", &[]);
    (response.status, body(&response))
}

fn metrics(server: &Server) -> String {
    body(&request(server.admin.unwrap(), "GET", "/metrics", &[]))
}

/// Polls `check` every 10 ms until it holds; how long that took, or `None` after `limit`.
fn until(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn set_callerid(pg: &Postgres, callerid: &str) {
    pg.psql(&format!(
        "UPDATE ps_endpoints SET callerid = '{callerid}' WHERE id = '1000'"
    ));
}

#[test]
fn phones_are_served_from_rows() {
    let Some((pg, fx)) = setup("") else { return };
    // Debug logging: not even then may the database password show.
    let server = Server::start_logging(&fx.etc(), &fx.data(), &[], "debug");
    let answer = phone(&server);
    assert_eq!(answer.status, 200, "{}", server.log());
    assert_eq!(
        body(&answer),
        "user=alice secret=pw-alice cid=1000 name=Alice port=5062 line=1 tz=\n"
    );
    let other = server.get("/phoneprov/0004f2aabbdd.cfg");
    assert!(body(&other).starts_with("user=bob secret=pw-bob cid=1001 name=Bob"));
    let (status, text) = health(&server);
    assert_eq!((status, text.trim()), (200, "ok generation 1"));
    assert!(metrics(&server).contains("pjprov_database_up 1"));
    assert!(
        !server.log().contains(PASSWORD),
        "the database password was logged"
    );

    // Rows are input: a value Asterisk splits, a NULL, a column sorcery ignores.
    pg.psql(
        "ALTER TABLE ps_phoneprovs ADD COLUMN \"TIMEZONE\" VARCHAR(40); UPDATE ps_phoneprovs SET \"TIMEZONE\" = 'America/New_York;Europe/Paris' WHERE id = '1000-phone'; UPDATE ps_endpoints SET context = NULL",
    );
    until(Duration::from_secs(10), || {
        body(&phone(&server)).contains("tz=Europe/Paris")
    })
    .expect(
        "a new column is a new variable (the last of a ';' list, as pjprov takes repeated keys)",
    );
}

#[test]
fn a_database_that_requires_tls_is_read_over_tls() {
    // res_pgsql.conf has no TLS option: libpq's default (TLS when the server offers it) is what Asterisk
    // gets, and a server that takes only TLS connections serves it. So must it serve pjprov.
    let Some(pg) = Postgres::start_tls_only() else {
        return;
    };
    let Some((pg, fx)) = setup_on(pg, "") else {
        return;
    };
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let answer = phone(&server);
    assert_eq!(answer.status, 200, "{}\n{}", server.log(), pg.log());
    assert!(body(&answer).starts_with("user=alice secret=pw-alice"));
    // Plain TCP is refused by this server: what pjprov read came over TLS.
    let refused = pg.log();
    assert!(!refused.contains("no encryption"), "{refused}");
    assert!(!server.log().contains(PASSWORD));
}

#[test]
fn an_update_is_served_within_two_seconds_by_polling() {
    let Some((pg, fx)) = setup("[realtime]\npoll = 1\nlisten = no\n") else {
        return;
    };
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    assert!(body(&phone(&server)).contains("cid=1000 name=Alice"));
    set_callerid(&pg, "\"Alice Smith\" <2000>");
    let took = until(Duration::from_secs(10), || {
        body(&phone(&server)).contains("cid=2000 name=Alice Smith")
    })
    .unwrap_or_else(|| panic!("the update was never served:\n{}", server.log()));
    eprintln!("polling: served {took:?} after the UPDATE");
    assert!(took < Duration::from_secs(2), "polling took {took:?}");
    // A poll that sees nothing new reloads nothing.
    let generation = health(&server).1;
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(health(&server).1, generation, "no change, no reload");
}

#[test]
fn an_update_is_served_at_once_with_listen_notify() {
    let Some((pg, fx)) = setup("[realtime]\npoll = 0\n") else {
        return;
    };
    pg.psql(&notify_trigger());
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    assert!(body(&phone(&server)).contains("cid=1000"));
    // Polling is off: only the NOTIFY can bring a change. Best of three, each within 5 s at worst.
    let mut best = Duration::MAX;
    for (i, number) in ["3001", "3002", "3003"].into_iter().enumerate() {
        set_callerid(&pg, &format!("\"Alice\" <{number}>"));
        let took = until(Duration::from_secs(5), || {
            body(&phone(&server)).contains(&format!("cid={number} "))
        })
        .unwrap_or_else(|| panic!("update {i} was never served:\n{}", server.log()));
        best = best.min(took);
    }
    assert!(
        best < Duration::from_millis(200),
        "LISTEN/NOTIFY took {best:?} at best"
    );
}

#[test]
fn a_database_that_stops_keeps_the_last_good_files_serving_and_recovers() {
    let Some((pg, fx)) = setup_socket("[realtime]\npoll = 1\nlisten = no\n") else {
        return;
    };
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let before = phone(&server);
    assert_eq!(before.status, 200);
    pg.stop();
    until(Duration::from_secs(10), || {
        health(&server).1.starts_with("degraded")
    })
    .unwrap_or_else(|| panic!("never degraded: {:?}\n{}", health(&server), server.log()));
    let (status, text) = health(&server);
    assert_eq!(status, 200, "a good configuration still serves");
    assert!(text.contains(&socket_name(&pg)), "{text}");
    assert!(metrics(&server).contains("pjprov_database_up 0"));
    // A file change while it is down: the reload cannot read the rows, the last good snapshot serves.
    fx.config(
        "phoneprov.conf",
        "[basic]\n${MAC}.cfg => basic.cfg\n; touched\n",
    );
    std::thread::sleep(Duration::from_millis(2500));
    let during = phone(&server);
    assert_eq!(during.status, 200);
    assert_eq!(during.body, before.body);
    assert_eq!(during.header("ETag"), before.header("ETag"));
    // The watcher failed every second meanwhile: one error says so (the reload says why it did not).
    let errors = server.log().matches("ERROR pjprov::realtime").count();
    assert_eq!(errors, 1, "logged once:\n{}", server.log());
    assert!(server.log().contains("not reloaded: the database"));
    assert!(!metrics(&server).contains("pjprov_database_failures_total 0\n"));

    pg.restart();
    set_callerid(&pg, "\"Alice\" <4000>");
    until(Duration::from_secs(10), || {
        body(&phone(&server)).contains("cid=4000 ")
    })
    .unwrap_or_else(|| panic!("never recovered:\n{}", server.log()));
    assert_eq!(health(&server).1.split_whitespace().next(), Some("ok"));
    assert!(server.log().contains("the database can be read again"));
}

#[test]
fn without_the_database_at_start_nothing_is_served_until_it_comes() {
    let Some((pg, fx)) = setup_socket("[realtime]\npoll = 1\n") else {
        return;
    };
    pg.stop();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let answer = phone(&server);
    assert_eq!(answer.status, 503, "fail closed: {}", body(&answer));
    let (status, why) = health(&server);
    assert_eq!(status, 503);
    assert!(why.contains("cannot be"), "{why}");
    assert!(why.contains(&socket_name(&pg)), "{why}");
    pg.restart();
    until(Duration::from_secs(15), || phone(&server).status == 200)
        .unwrap_or_else(|| panic!("never served once the database came:\n{}", server.log()));
    assert!(body(&phone(&server)).contains("user=alice"));
}

#[test]
fn two_replicas_on_one_database_serve_the_same_bytes_and_etags() {
    let Some((pg, fx)) = setup("[realtime]\npoll = 1\n") else {
        return;
    };
    pg.psql(&notify_trigger());
    let one = Server::start(&fx.etc(), &fx.data(), &[]);
    let two = Options::new(&fx.etc(), &fx.data())
        .args(&[
            "--state-dir",
            fx.dir.path().join("state2").to_str().unwrap(),
        ])
        .start();
    let same = |uri: &str| {
        let (a, b) = (one.get(uri), two.get(uri));
        assert_eq!(a.status, 200);
        assert_eq!(a.body, b.body, "{uri}");
        assert_eq!(a.header("ETag"), b.header("ETag"), "{uri}");
        a
    };
    let before = same(&format!("/phoneprov/{MAC}.cfg"));
    same("/phoneprov/0004f2aabbdd.cfg");
    set_callerid(&pg, "\"Alice\" <5000>");
    for server in [&one, &two] {
        until(Duration::from_secs(10), || {
            body(&phone(server)).contains("cid=5000 ")
        })
        .expect("both follow the database");
    }
    let after = same(&format!("/phoneprov/{MAC}.cfg"));
    assert_ne!(after.header("ETag"), before.header("ETag"));
}

#[test]
fn check_list_and_render_read_the_rows_and_name_a_database_they_cannot_read() {
    // Over the Unix socket this time (the socket is a directory, as libpq and Asterisk take it).
    let Some((pg, fx)) = setup_socket("") else {
        return;
    };
    let (etc, data) = (fx.etc(), fx.data());
    let dirs = [
        "--config-dir",
        etc.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ];
    let check = run(&[&["check"], &dirs[..]].concat());
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    assert!(stdout(&check).contains("2 phones"), "{}", stdout(&check));
    let render = run(&[&["render"], &dirs[..], &[&format!("{MAC}.cfg")]].concat());
    assert!(
        stdout(&render).starts_with("user=alice secret=pw-alice"),
        "{}",
        stderr(&render)
    );
    let list = run(&[&["list"], &dirs[..], &["--format", "json"]].concat());
    assert!(list.status.success());
    assert!(stdout(&list).contains("0004f2aabbdd"));
    assert!(!stdout(&list).contains("pw-bob"), "secrets masked");

    pg.stop();
    let check = run(&[&["check"], &dirs[..]].concat());
    assert_eq!(check.status.code(), Some(1));
    let out = stdout(&check);
    assert!(out.contains("cannot be read from asterisk@"), "{out}");
    assert!(out.contains(&pg.socket_dir.display().to_string()), "{out}");
    let render = run(&[&["render"], &dirs[..], &[&format!("{MAC}.cfg")]].concat());
    assert_eq!(render.status.code(), Some(1));
    assert!(stdout(&render).is_empty(), "never the files alone");
    assert!(
        stderr(&render).contains("cannot be read from"),
        "{}",
        stderr(&render)
    );
}
