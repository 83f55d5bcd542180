//! `pjprov serve` over real sockets: golden cases, HTTP semantics, safety, timeouts, signals.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::reference::{CAPTURED, golden_cases, golden_rows};
use crate::util::{Fixture, Server, request};

fn serve_fixture() -> (Fixture, Server) {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[udp]\ntype = transport\nbind = 0.0.0.0:5062\n\
         [100]\ntype = endpoint\ntransport = udp\nauth = 100\ncallerid = \"Desk\" <100>\n\
         [100]\ntype = auth\nusername = 100\npassword = pw100\n\
         [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = 0004f2000100\nPROFILE = p\n",
    )
    .config(
        "phoneprov.conf",
        "[p]\nstaticdir = static/\nstatic_file => firmware.bin\n${MAC}.cfg => p.cfg\n",
    )
    .template(
        "p.cfg",
        "user=${USERNAME} server=${SERVER}:${SERVER_PORT}\n",
    )
    .template("static/firmware.bin", &"0123456789".repeat(1000));
    std::fs::write(fx.dir.path().join("secret.txt"), "outside").unwrap();
    let server = Server::start(&fx.etc(), &fx.data(), &["--header-timeout", "1"]);
    (fx, server)
}

#[test]
fn every_golden_case_over_http() {
    let mut failures = Vec::new();
    for case in golden_cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let server = Server::start(&case.join("etc"), &case.join("data"), &["--now", CAPTURED]);
        for row in golden_rows(&case) {
            let response = server.get(&format!("/phoneprov/{}", row.uri));
            if response.status != row.status {
                failures.push(format!(
                    "{name} {}: status {} want {}",
                    row.uri, response.status, row.status
                ));
                continue;
            }
            if row.status != 200 {
                continue;
            }
            let mime = response.header("content-type").unwrap_or_default();
            if mime.split(';').next().unwrap_or_default().trim() != row.content_type {
                failures.push(format!(
                    "{name} {}: content type {mime} want {}",
                    row.uri, row.content_type
                ));
            }
            if Some(&response.body) != row.body.as_ref() {
                failures.push(format!("{name} {}: body differs", row.uri));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dynamic_files_with_etag_304_and_head() {
    let (_fx, server) = serve_fixture();
    let response = server.get("/phoneprov/0004f2000100.cfg");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"user=100 server=127.0.0.1:5062\n");
    assert_eq!(response.header("content-type"), Some("text/plain"));
    assert_eq!(response.header("content-length"), Some("31"));
    assert_eq!(response.header("cache-control"), Some("no-cache, no-store"));
    let etag = response.header("etag").unwrap().to_owned();

    let again = request(
        server.addr,
        "GET",
        "/phoneprov/0004f2000100.cfg",
        &[("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    let head = request(server.addr, "HEAD", "/phoneprov/0004f2000100.cfg", &[]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("31"));
    assert_eq!(head.header("etag"), Some(etag.as_str()));

    // A phone asking with the MAC in upper case gets its file (pjprov differs from Asterisk).
    assert_eq!(server.get("/phoneprov/0004F2000100.cfg").status, 200);
    // The prefix matches in any case; a query string is ignored.
    assert_eq!(server.get("/PHONEPROV/0004f2000100.cfg?x=1").status, 200);
}

#[test]
fn server_is_the_address_the_phone_connected_to() {
    let (fx, one_address) = serve_fixture();
    let body =
        |addr: std::net::SocketAddr| request(addr, "GET", "/phoneprov/0004f2000100.cfg", &[]).body;
    // A listener on one address knows it without asking the connection.
    assert_eq!(one_address.addr.ip().to_string(), "127.0.0.1");
    assert_eq!(body(one_address.addr), b"user=100 server=127.0.0.1:5062\n");
    // A wildcard listener asks each connection: two loopback addresses, two answers.
    let mut options = crate::util::Options::new(&fx.etc(), &fx.data());
    options.listen = false;
    let wildcard = options.args(&["--listen", "0.0.0.0:0"]).start();
    assert!(wildcard.addr.ip().is_unspecified(), "{}", wildcard.addr);
    let port = wildcard.addr.port();
    assert_eq!(
        body(([127, 0, 0, 1], port).into()),
        b"user=100 server=127.0.0.1:5062\n"
    );
    assert_eq!(
        body(([127, 0, 0, 2], port).into()),
        b"user=100 server=127.0.0.2:5062\n"
    );
}

#[test]
fn static_files_with_ranges() {
    let (_fx, server) = serve_fixture();
    let full = server.get("/phoneprov/firmware.bin");
    assert_eq!(full.status, 200);
    assert_eq!(full.body.len(), 10_000);
    assert_eq!(
        full.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(full.header("last-modified").is_some());
    let part = request(
        server.addr,
        "GET",
        "/phoneprov/firmware.bin",
        &[("Range", "bytes=10-14")],
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, b"01234");
    assert_eq!(part.header("content-range"), Some("bytes 10-14/10000"));
    let tail = request(
        server.addr,
        "GET",
        "/phoneprov/firmware.bin",
        &[("Range", "bytes=-3")],
    );
    assert_eq!(tail.body, b"789");
    let bad = request(
        server.addr,
        "GET",
        "/phoneprov/firmware.bin",
        &[("Range", "bytes=20000-")],
    );
    assert_eq!(bad.status, 416);
    assert_eq!(bad.header("content-range"), Some("bytes */10000"));
    let etag = full.header("etag").unwrap();
    let cached = request(
        server.addr,
        "GET",
        "/phoneprov/firmware.bin",
        &[("If-None-Match", etag)],
    );
    assert_eq!(cached.status, 304);
    // The static path itself is no route.
    assert_eq!(server.get("/phoneprov/static/firmware.bin").status, 404);
}

#[test]
fn other_methods_get_501_with_allow() {
    let (_fx, server) = serve_fixture();
    for method in ["PUT", "POST", "DELETE", "OPTIONS"] {
        let response = request(
            server.addr,
            method,
            "/phoneprov/0004f2000100-app.log",
            &[("Content-Length", "0")],
        );
        assert_eq!(response.status, 501, "{method}");
        assert_eq!(response.header("allow"), Some("GET, HEAD"));
    }
    assert!(!server.log().contains("ERROR"), "{}", server.log());
}

#[test]
fn no_path_escapes_the_route_table() {
    let (fx, server) = serve_fixture();
    std::os::unix::fs::symlink(
        fx.dir.path().join("secret.txt"),
        fx.data().join("phoneprov/link.cfg"),
    )
    .unwrap();
    for path in [
        "/phoneprov/../secret.txt",
        "/phoneprov/%2e%2e/secret.txt",
        "/phoneprov/%2E%2E%2Fsecret.txt",
        "/phoneprov/..%2f..%2fsecret.txt",
        "/phoneprov//etc/passwd",
        "/phoneprov/%2Fetc%2Fpasswd",
        "/phoneprov/p.cfg",
        "/phoneprov/link.cfg",
        "/phoneprov/static/../p.cfg",
        "/etc/passwd",
        "/phoneprov",
        "/",
    ] {
        let response = server.get(path);
        assert_eq!(response.status, 404, "{path}");
        assert!(
            !String::from_utf8_lossy(&response.body).contains("outside"),
            "{path}"
        );
    }
}

#[test]
fn a_connection_that_never_finishes_its_headers_is_closed() {
    let (_fx, server) = serve_fixture();
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"GET /phoneprov/0004f2000100.cfg HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[test]
fn a_request_framed_two_ways_is_answered_once_and_its_connection_closed() {
    let (_fx, server) = serve_fixture();
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Chunked for pjprov, five bytes of body for a proxy that goes by Content-Length: the second request
    // would be one only pjprov sees. hyper goes by Transfer-Encoding (RFC 9112 §6.3), drops the
    // Content-Length and closes the connection after its answer, so nothing after the first body is read.
    stream
        .write_all(
            b"GET /phoneprov/0004f2000100.cfg HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\
              Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n\
              GET /phoneprov/0004f2000100.cfg HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{text}"
    );
    // Either framing alone is fine.
    let fine = request(server.addr, "GET", "/phoneprov/0004f2000100.cfg", &[]);
    assert_eq!(fine.status, 200);
}

#[test]
fn health_and_metrics_on_the_admin_address() {
    let (_fx, server) = serve_fixture();
    server.get("/phoneprov/0004f2000100.cfg");
    server.get("/phoneprov/nope.cfg");
    let admin = server.admin.unwrap();
    let health = request(admin, "GET", "/healthz", &[]);
    assert_eq!(health.status, 200);
    assert!(String::from_utf8_lossy(&health.body).starts_with("ok generation 1"));
    let metrics = String::from_utf8(request(admin, "GET", "/metrics", &[]).body).unwrap();
    for line in [
        "pjprov_http_requests_total{status=\"200\"} 1",
        "pjprov_http_requests_total{status=\"404\"} 1",
        "pjprov_reloads_total{result=\"ok\"} 1",
        "pjprov_snapshot_generation 1",
        "pjprov_phones{state=\"current\"} 1",
        "pjprov_routes 2",
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
    assert_eq!(
        request(admin, "GET", "/phoneprov/0004f2000100.cfg", &[]).status,
        404
    );
}

#[test]
fn one_access_line_per_request_and_no_secret_in_the_log() {
    let (_fx, server) = serve_fixture();
    let response = request(
        server.addr,
        "GET",
        "/phoneprov/0004f2000100.cfg",
        &[(
            "User-Agent",
            "Yealink SIP-T46U 108.86.0.20 00:04:f2:00:01:00",
        )],
    );
    assert_eq!(response.status, 200);
    // A phone's file: one line, under the audit target, with the access facts too. It may reach the log
    // a moment after the answer.
    server.wait_for_log("pjprov::audit", 5);
    assert_eq!(server.get("/phoneprov/nothing-here.cfg").status, 404);
    server.wait_for_log("pjprov::access", 5);
    let log = server.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("pjprov::audit") || l.contains("pjprov::access"))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    for part in [
        "INFO pjprov::audit: phone file client=127.0.0.1 method=GET",
        "uri=/phoneprov/0004f2000100.cfg",
        "status=200",
        "bytes=31",
        "ms=",
        "protocol=http",
        "mac=0004f2000100 proof=none",
        "user_agent=\"Yealink SIP-T46U 108.86.0.20 00:04:f2:00:01:00\"",
    ] {
        assert!(lines[0].contains(part), "{part} missing in {}", lines[0]);
    }
    assert!(
        lines[1].contains("INFO pjprov::access: request client=127.0.0.1")
            && lines[1].contains("status=404")
            && !lines[1].contains("mac="),
        "{}",
        lines[1]
    );
    assert!(!log.contains("pw100"), "{log}");
}

#[test]
fn sigterm_stops_cleanly_and_writes_every_queued_log_line() {
    let (_fx, mut server) = serve_fixture();
    // Log lines are written by a background thread: what is queued at exit must still reach stderr.
    let burst = 50;
    for _ in 0..burst {
        assert_eq!(server.get("/phoneprov/0004f2000100.cfg").status, 200);
    }
    server.signal("TERM");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // The test's reader of the server's stderr may lag the exit; lines arrive in order.
    server.wait_for_log("shutting down", 5);
    let log = server.log();
    let access = |l: &&str| l.contains("pjprov::audit") && l.contains("0004f2000100.cfg");
    assert_eq!(log.lines().filter(access).count(), burst, "{log}");
}

/// What a request says reaches the template: the URL the phone used (its `Host`, the prefix), its
/// User-Agent, what a wildcard's `*` stood for; and a doubled slash finds the file.
#[test]
fn templates_see_how_the_phone_came() {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[udp]\ntype = transport\nbind = 0.0.0.0\n\
         [a]\ntype = phoneprov\nMAC = 000413A11FA7\nPROFILE = snom\n",
    )
    .config(
        "phoneprov.conf",
        "[snom]\nsnom*.htm => model.htm.hbs\nsnom*-${MAC}.htm => mac.htm.hbs\n",
    )
    .template(
        "model.htm.hbs",
        "{{PROVISIONING_URL}} {{PROVISIONING_MATCH}} ua={{UA_VENDOR}}/{{UA_MODEL}}/{{UA_FIRMWARE}}\n",
    )
    .template(
        "mac.htm.hbs",
        "{{PROVISIONING_URL}}{{MAC}}.xml for {{PROVISIONING_MATCH}}\n",
    );
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let port = server.addr.port();
    let ua = "Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 000413A11FA7)";
    let model = request(
        server.addr,
        "GET",
        "/phoneprov/snomD785.htm",
        &[("User-Agent", ua)],
    );
    assert_eq!(model.status, 200);
    assert_eq!(
        String::from_utf8_lossy(&model.body),
        format!("http://127.0.0.1:{port}/phoneprov/ D785 ua=snom/D785/10.1.54.13\n")
    );
    // The host the phone asked for; a Host that is no plain host name is not written into a file.
    for (host, url) in [
        (
            "Prov.Example.com:8088",
            "http://prov.example.com:8088/phoneprov/",
        ),
        ("prov.example.com", "http://prov.example.com/phoneprov/"),
        ("evil\"><x", &*format!("http://127.0.0.1:{port}/phoneprov/")),
    ] {
        let response = request(
            server.addr,
            "GET",
            "/phoneprov//snomD385-000413a11fa7.htm",
            &[("Host", host)],
        );
        assert_eq!(response.status, 200, "{host}");
        assert_eq!(
            String::from_utf8_lossy(&response.body),
            format!("{url}000413A11FA7.xml for D385\n"),
            "{host}"
        );
    }
}
