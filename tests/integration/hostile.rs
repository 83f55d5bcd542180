//! The hostile run of issue 12, replayed: each test is one way a client (or a slow log reader) tried to get
//! more than it should, or to stop the server serving others.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use crate::util::{Fixture, Options, Server, curl, request, request_from, run, stdout};

const PHONE: &str = "0004f2000100";
const OTHER: &str = "001565000200";
const SECRET: &str = "Sip-Pass-100!";

/// Two phones in two profiles whose files have one shape (`<mac>.cfg`), a shared file, a static file.
fn fixture(pjprov_conf: &str) -> Fixture {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        &format!(
            "[udp]\ntype = transport\nbind = 0.0.0.0\n\
             [100]\ntype = endpoint\ntransport = udp\nauth = 100\n\
             [100]\ntype = auth\nusername = 100\npassword = {SECRET}\n\
             [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = {PHONE}\nPROFILE = polycom\n\
             [200]\ntype = endpoint\ntransport = udp\nauth = 200\n\
             [200]\ntype = auth\nusername = 200\npassword = pw-200\n\
             [200-pp]\ntype = phoneprov\nendpoint = 200\nMAC = {OTHER}\nPROFILE = yealink\n"
        ),
    )
    .config(
        "phoneprov.conf",
        "[polycom]\nstatic_file => big.bin\n${MAC}.cfg => p.cfg.hbs\n\
         [yealink]\n${MAC}.cfg => y.cfg\ny000000000000.cfg => common.cfg\n",
    )
    .config("pjprov.conf", pjprov_conf)
    .template("p.cfg.hbs", "user={{USERNAME}} secret={{SECRET}}\n")
    .template("y.cfg", "user=${USERNAME} secret=${SECRET}\n")
    .template("common.cfg", "common for everyone\n");
    fx
}

fn big_file(fx: &Fixture, megabytes: usize) {
    let content: Vec<u8> = (0..megabytes << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(fx.data().join("phoneprov/big.bin"), content).unwrap();
}

/// Item 4: the ACL refuses at accept, before a TLS handshake: a denied HTTPS client is just closed.
#[test]
fn the_acl_refuses_before_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::pki::Ca::new("pjprov test server CA");
    crate::pki::write_pair(dir.path(), "server", &ca.server());
    let fx = fixture("[acl]\ndeny = 0.0.0.0/0, ::/0\n");
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    let server = Server::start(
        &fx.etc(),
        &fx.data(),
        &[
            "--tls-listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let tls = server.tls_addr.unwrap();
    let answer = curl(&[
        "--insecure",
        &format!("https://{tls}/phoneprov/{PHONE}.cfg"),
    ]);
    assert_eq!(answer.status, 0, "no TLS session at all: {answer:?}");
    assert_ne!(answer.code, 0);
    server.wait_for_log("refused by [acl] (at connect, before TLS or HTTP", 5);
    assert!(
        !server.log().contains("TLS handshake failed"),
        "no handshake was attempted:\n{}",
        server.log()
    );
}

/// Item 5: over TFTP a phone of a profile not served over TFTP, and a MAC no phone has, get the same
/// answer; over HTTP, profiles sharing a shape with different policies answer known and unknown alike.
#[test]
fn known_and_unknown_phones_answer_alike() {
    // polycom may go over TFTP, yealink may not: <mac>.cfg is the shape of both.
    let fx = fixture("[tftp]\nprofiles = polycom\n");
    let server = Server::start(&fx.etc(), &fx.data(), &["--tftp-listen", "127.0.0.1:0"]);
    let tftp = server.tftp_addr.unwrap();
    let yealink_phone = tftp_error(tftp, &format!("{OTHER}.cfg"));
    let unknown = tftp_error(tftp, "001565abcdef.cfg");
    assert_eq!(yealink_phone, Some(2), "a real phone not served over TFTP");
    assert_eq!(unknown, yealink_phone, "an unknown MAC of the same shape");
    drop(server);

    // [auth] asks for SIP credentials, the yealink profile for none; client_cert = require elsewhere.
    for pjprov_conf in [
        "[auth]\nauth = sip\n[profile:yealink]\nauth = none\n",
        "[profile:yealink]\nclient_cert = require\n",
    ] {
        let fx = fixture(pjprov_conf);
        let server = Server::start(&fx.etc(), &fx.data(), &[]);
        let known = server.get(&format!("/phoneprov/{PHONE}.cfg"));
        let unknown = server.get("/phoneprov/0004f2abcdef.cfg");
        let known_other = server.get(&format!("/phoneprov/{OTHER}.cfg"));
        // The strictest policy answers the unknown MAC: whichever real phone shares it.
        let strict = if known.status == 200 {
            &known_other
        } else {
            &known
        };
        assert_eq!(unknown.status, strict.status, "{pjprov_conf}");
        assert_eq!(
            unknown.header("www-authenticate").is_some(),
            strict.header("www-authenticate").is_some(),
            "{pjprov_conf}"
        );
    }
}

/// The TFTP error code a read request gets (`None` when the file comes).
fn tftp_error(server: SocketAddr, name: &str) -> Option<u16> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut packet = vec![0, 1];
    packet.extend_from_slice(name.as_bytes());
    packet.extend_from_slice(b"\0octet\0");
    socket.send_to(&packet, server).unwrap();
    let mut buf = [0u8; 1024];
    let (len, _) = socket.recv_from(&mut buf).unwrap();
    (len >= 4 && buf[1] == 5).then(|| u16::from_be_bytes([buf[2], buf[3]]))
}

/// Item 6: a file without a variable in its name is shared: any phone gets it, whatever its User-Agent
/// says, and no phone's MAC is put on it.
#[test]
fn a_shared_file_is_no_phones_own() {
    let fx = fixture("");
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let agent = "Yealink SIP-T46G 28.72.0.1 00:15:65:aa:bb:cc";
    let answer = request(
        server.addr,
        "GET",
        "/phoneprov/y000000000000.cfg",
        &[("User-Agent", agent)],
    );
    assert_eq!(answer.status, 200, "{}", server.log());
    assert_eq!(answer.body, b"common for everyone\n");
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log();
    assert!(
        !log.contains("a phone asked for another phone's file"),
        "{log}"
    );
    assert!(!log.contains(&format!("mac={OTHER}")), "{log}");
}

/// Item 9: SIGTERM lets a running download finish within the grace period.
#[test]
fn sigterm_lets_running_downloads_finish() {
    let fx = fixture("");
    big_file(&fx, 20);
    let server = Server::start(&fx.etc(), &fx.data(), &["--shutdown-grace", "20"]);
    let url = format!("http://{}/phoneprov/big.bin", server.addr);
    let out = fx.dir.path().join("got.bin");
    let download = std::process::Command::new("curl")
        .args(["--silent", "--limit-rate", "4M", "--output"])
        .arg(&out)
        .args(["--write-out", "%{http_code} %{size_download}", &url])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    server.signal("TERM");
    let output = download.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("200 {}", 20 << 20),
        "the download was cut"
    );
    server.wait_for_log("shutting down", 5);
}

/// Item 13: clients that never read are disconnected once the send timeout passes, and one client's
/// sockets are capped so they cannot lock every phone out.
#[test]
fn clients_that_never_read_cannot_hold_the_server() {
    let fx = fixture("[limits]\nclient_connections = 8\nsend_timeout = 2\nmin_send_rate = 1024\n");
    big_file(&fx, 64);
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let ask = b"GET /phoneprov/big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut stalled = Vec::new();
    for _ in 0..12 {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        let _ = stream.write_all(ask);
        stalled.push(stream);
    }
    // Another client is served all along.
    let other: IpAddr = "127.0.0.3".parse().unwrap();
    let phone = request_from(
        other,
        server.addr,
        "GET",
        &format!("/phoneprov/{PHONE}.cfg"),
        &[],
    );
    assert_eq!(phone.status, 200);
    server.wait_for_log("already holds [limits] client_connections connections", 5);
    // Never reading for twice the send timeout: the server gives up on them.
    std::thread::sleep(Duration::from_secs(5));
    let mut cut = 0;
    let mut refused = 0;
    for mut stream in stalled {
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut total = 0usize;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        match total {
            0 => refused += 1,
            n if n < 64 << 20 => cut += 1,
            _ => panic!(
                "a client that did not read got the whole file:\n{}",
                server.log()
            ),
        }
    }
    assert_eq!(
        refused, 4,
        "the connections past the cap were closed at once"
    );
    assert_eq!(cut, 8);
}

/// Item 14: a TFTP client that never acknowledges holds its transfer seconds, not minutes; one client
/// cannot take every slot; a spoofable request draws a bounded number of packets.
#[test]
fn tftp_transfers_are_bounded() {
    let fx = fixture("[tftp]\nprofiles = *\nclient_transfers = 4\n");
    big_file(&fx, 1);
    let server = Server::start(&fx.etc(), &fx.data(), &["--tftp-listen", "127.0.0.1:0"]);
    let tftp = server.tftp_addr.unwrap();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    silent
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut packet = vec![0, 1];
    packet.extend_from_slice(b"big.bin\x00octet\x00timeout\x00255\x00");
    silent.send_to(&packet, tftp).unwrap();
    let started = Instant::now();
    let mut received = 0;
    let mut buf = [0u8; 2048];
    while started.elapsed() < Duration::from_secs(20) {
        if silent.recv_from(&mut buf).is_ok() {
            received += 1;
        } else if received > 0 && started.elapsed() > Duration::from_secs(12) {
            break;
        }
    }
    // The first block, 4 retransmissions, and the error that ends the transfer.
    assert!(
        (1..=6).contains(&received),
        "one request, never acknowledged, drew {received} packets"
    );

    // Five transfers from one client: the fifth is refused while four stall.
    let sockets: Vec<UdpSocket> = (0..5)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut busy = 0;
    for socket in &sockets {
        socket
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let mut packet = vec![0, 1];
        packet.extend_from_slice(b"big.bin\0octet\0");
        socket.send_to(&packet, tftp).unwrap();
        let (len, _) = socket.recv_from(&mut buf).unwrap();
        if len > 4 && buf[1] == 5 && String::from_utf8_lossy(&buf[4..len]).contains("busy") {
            busy += 1;
        }
    }
    assert_eq!(busy, 1, "{}", server.log());
}

/// Item 15: past the slow-down point, known and unknown MACs are delayed alike (by the client's standing).
#[test]
fn a_suspect_client_is_slowed_down_whatever_it_asks() {
    let fx =
        fixture("[limits]\nscan_slow_after = 3\nscan_refuse_after = 100\nscan_delay_ms = 300\n");
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    for n in 0..6 {
        server.get(&format!("/phoneprov/0004f2ab00{n:02}.cfg"));
    }
    let time = |path: &str| {
        let started = Instant::now();
        let status = server.get(path).status;
        (status, started.elapsed())
    };
    let (known_status, known) = time(&format!("/phoneprov/{PHONE}.cfg"));
    let (unknown_status, unknown) = time("/phoneprov/0004f2ab0099.cfg");
    assert_eq!((known_status, unknown_status), (200, 404));
    assert!(known >= Duration::from_millis(300), "known: {known:?}");
    assert!(
        unknown >= Duration::from_millis(300),
        "unknown: {unknown:?}"
    );
    // Another client is not slowed.
    let other: IpAddr = "127.0.0.4".parse().unwrap();
    let started = Instant::now();
    request_from(
        other,
        server.addr,
        "GET",
        &format!("/phoneprov/{PHONE}.cfg"),
        &[],
    );
    assert!(started.elapsed() < Duration::from_millis(250));
}

/// Item 11: no level of logging shows a secret, Handlebars routes included.
#[test]
fn trace_logging_shows_no_secret() {
    let fx = fixture("");
    let server = Server::start_logging(&fx.etc(), &fx.data(), &[], "trace");
    for path in [
        format!("/phoneprov/{PHONE}.cfg"),
        format!("/phoneprov/{OTHER}.cfg"),
    ] {
        assert_eq!(server.get(&path).status, 200);
    }
    std::thread::sleep(Duration::from_millis(300));
    let log = server.log();
    assert!(log.contains("pjprov::audit"), "trace logging is on");
    assert!(!log.contains(SECRET), "{log}");
    assert!(!log.contains("pw-200"), "{log}");
}

/// Item 16: diagnostics name keys and places, never the values of secret keys or substituted text.
#[test]
fn diagnostics_never_show_secrets() {
    let secret = "hunter2-Top-Secret";
    let fx = fixture(&format!("[auth]\nauth = {secret}\n"));
    let long = format!("password = {secret}{}\n", "x".repeat(9000));
    fx.config(
        "pjsip.conf",
        &format!(
            "[udp]\ntype = transport\nbind = 0.0.0.0\n\
             [100] password = {secret}\ntype = endpoint\ntransport = udp\nauth = 100\n\
             [100]\ntype = auth\nusername = 100\n{long}\
             [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = {PHONE}\nPROFILE = polycom\n"
        ),
    )
    .config(
        "phoneprov.conf",
        &format!(
            "[polycom]\n${{MAC}}.cfg => p.cfg\nsetvar => ADMIN_PASSWORD {secret}\n\
             [yealink]\n${{MAC}}.cfg => y.cfg\n"
        ),
    );
    let output = run(&[
        "check",
        "--config-dir",
        fx.etc().to_str().unwrap(),
        "--data-dir",
        fx.data().to_str().unwrap(),
    ]);
    let text = format!(
        "{}{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("auth"), "the key is named: {text}");
    assert!(!text.contains(secret), "{text}");
}

/// Item 17: a log reader that stalls never freezes the server; the lines lost are counted.
#[test]
fn a_stalled_log_reader_never_stalls_serving() {
    let fx = fixture("");
    let mut options = Options::new(&fx.etc(), &fx.data()).args(&["--log-queue-kib", "64"]);
    options.log_filter = "debug".into();
    let server = options.start();
    server.stall_log();
    for _ in 0..3000 {
        assert_eq!(server.get(&format!("/phoneprov/{PHONE}.cfg")).status, 200);
    }
    let metrics = request(server.admin.unwrap(), "GET", "/metrics", &[]);
    assert_eq!(metrics.status, 200);
    let text = String::from_utf8_lossy(&metrics.body);
    let dropped: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("pjprov_log_dropped_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(dropped > 0, "{text}");
}
