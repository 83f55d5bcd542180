//! Access control over real HTTP and HTTPS (issue 7, docs/security.md): the network ACL, Digest and Basic
//! checked by curl (an independent implementation), TLS with phones' client certificates made by a test
//! CA, User-Agent binding, scan throttling, the audit trail, and secrets kept out of every log.

use std::net::IpAddr;
use std::path::Path;

use rcgen::DnType;

use crate::pki::{Ca, write_pair};
use crate::util::{Fixture, Server, curl, request, request_from, run, stdout};

const PHONE_A: &str = "0004f2000100";
const PHONE_B: &str = "001565000b02";
const SECRET_A: &str = "Sip-Pass-100!";
const SECRET_B: &str = "Sip-Pass-200!";

fn fixture(pjprov_conf: Option<&str>) -> Fixture {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        &format!(
            "[udp]\ntype = transport\nbind = 0.0.0.0\n\
             [100]\ntype = endpoint\ntransport = udp\nauth = 100\n\
             [100]\ntype = auth\nusername = 100\npassword = {SECRET_A}\n\
             [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = {PHONE_A}\nPROFILE = polycom\n\
             [200]\ntype = endpoint\ntransport = udp\nauth = 200\n\
             [200]\ntype = auth\nusername = 200\npassword = {SECRET_B}\n\
             [200-pp]\ntype = phoneprov\nendpoint = 200\nMAC = {PHONE_B}\nPROFILE = yealink\n"
        ),
    )
    .config(
        "phoneprov.conf",
        "[polycom]\nstatic_file => 000000000000.cfg\n${MAC}.cfg => p.cfg\n\
         [yealink]\n${MAC}.cfg => y.cfg\n",
    )
    .template("p.cfg", "polycom user=${USERNAME} secret=${SECRET}\n")
    .template("y.cfg", "yealink user=${USERNAME} secret=${SECRET}\n")
    .template("000000000000.cfg", "<master/>\n");
    if let Some(text) = pjprov_conf {
        fx.config("pjprov.conf", text);
    }
    fx
}

fn url(server: &Server, name: &str) -> String {
    format!("http://{}/phoneprov/{name}", server.addr)
}

fn tls_url(server: &Server, name: &str) -> String {
    format!("https://{}/phoneprov/{name}", server.tls_addr.unwrap())
}

fn body(text: &[u8]) -> String {
    String::from_utf8_lossy(text).into_owned()
}

#[test]
fn the_acl_refuses_before_anything_else_and_reloads_live() {
    let fx = fixture(None);
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    assert_eq!(server.get(&format!("/phoneprov/{PHONE_A}.cfg")).status, 200);

    // Saving pjprov.conf locks 127.0.0.1 out: ACLs are hot-reloaded like everything else.
    fx.config(
        "pjprov.conf",
        "[acl]\ndeny = 0.0.0.0/0, ::/0\npermit = 127.0.0.2\n",
    );
    server.wait_for_log("generation=2", 10);
    let refused = server.get(&format!("/phoneprov/{PHONE_A}.cfg"));
    assert_eq!(refused.status, 403);
    assert!(!body(&refused.body).contains(SECRET_A));
    // Before the method check, before the route lookup.
    assert_eq!(request(server.addr, "PUT", "/phoneprov/x", &[]).status, 403);
    assert_eq!(server.get("/nowhere").status, 403);
    server.wait_for_log("refused by [acl]", 5);
    // The one permitted address still gets its file.
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    let allowed = request_from(
        other,
        server.addr,
        "GET",
        &format!("/phoneprov/{PHONE_A}.cfg"),
        &[],
    );
    assert_eq!(allowed.status, 200);

    // A broken ACL keeps the last good one: fail closed, never open.
    fx.config(
        "pjprov.conf",
        "[acl]\ndeny = 0.0.0.0/0\npermit = 10.0.0.0/33\n",
    );
    server.wait_for_log("pjprov.conf:3", 10);
    assert_eq!(server.get(&format!("/phoneprov/{PHONE_A}.cfg")).status, 403);
}

#[test]
fn digest_with_the_phones_own_sip_credentials() {
    let fx = fixture(Some("[profile:polycom]\nauth = sip\n"));
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let file = url(&server, &format!("{PHONE_A}.cfg"));

    let got = curl(&["--digest", "--user", &format!("100:{SECRET_A}"), &file]);
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(
        body(&got.body),
        format!("polycom user=100 secret={SECRET_A}\n")
    );

    let wrong = curl(&["--digest", "--user", "100:wrong", &file]);
    assert_eq!(wrong.status, 401);
    // Another phone's credentials do not open this phone's file.
    let other = curl(&["--digest", "--user", &format!("200:{SECRET_B}"), &file]);
    assert_eq!(other.status, 401);

    // The challenge: MD5 first (what phones know), then SHA-256.
    let challenge = server.get(&format!("/phoneprov/{PHONE_A}.cfg"));
    assert_eq!(challenge.status, 401);
    let offers: Vec<&str> = challenge
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("www-authenticate"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(offers.len(), 2, "{offers:?}");
    assert!(offers[0].starts_with("Digest realm=\"pjprov\", qop=\"auth\", algorithm=MD5"));
    assert!(offers[1].contains("algorithm=SHA-256"));

    // An unknown MAC is challenged exactly like a known one: a 401 tells nothing about which MACs exist.
    let unknown = server.get("/phoneprov/0004f2999999.cfg");
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.body, challenge.body);
    let unknown_with_creds = curl(&[
        "--digest",
        "--user",
        &format!("100:{SECRET_A}"),
        &url(&server, "0004f2999999.cfg"),
    ]);
    assert_eq!(unknown_with_creds.status, 401);

    // The Yealink profile asks for nothing; static files neither (protect = dynamic).
    assert_eq!(server.get(&format!("/phoneprov/{PHONE_B}.cfg")).status, 200);
    assert_eq!(server.get("/phoneprov/000000000000.cfg").status, 200);
    server.wait_for_log("wrong credentials", 5);
}

#[test]
fn digest_sha_256_and_protecting_static_files() {
    let fx = fixture(Some(
        "[auth]\nauth = static\nusername = provisioning\npassword = Prov-Static-9\n\
         digest_algorithms = SHA-256\nprotect = all\n",
    ));
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let challenge = server.get("/phoneprov/000000000000.cfg");
    assert_eq!(challenge.status, 401);
    assert!(
        challenge
            .header("www-authenticate")
            .unwrap()
            .contains("algorithm=SHA-256")
    );
    for name in [
        "000000000000.cfg",
        &format!("{PHONE_A}.cfg"),
        &format!("{PHONE_B}.cfg"),
    ] {
        let got = curl(&[
            "--digest",
            "--user",
            "provisioning:Prov-Static-9",
            &url(&server, name),
        ]);
        assert_eq!(got.status, 200, "{name}: {got:?}");
    }
    let wrong = curl(&[
        "--digest",
        "--user",
        "provisioning:nope",
        &url(&server, "000000000000.cfg"),
    ]);
    assert_eq!(wrong.status, 401);
}

/// A TLS setup: a server certificate from `server_ca`, phones' certificates from `device_ca`.
struct Tls {
    dir: tempfile::TempDir,
    server_ca: Ca,
    device_ca: Ca,
}

impl Tls {
    fn new() -> Tls {
        let tls = Tls {
            dir: tempfile::tempdir().unwrap(),
            server_ca: Ca::new("pjprov test server CA"),
            device_ca: Ca::new("Polycom Test Root CA"),
        };
        write_pair(tls.dir.path(), "server", &tls.server_ca.server());
        std::fs::write(tls.path("server-ca.pem"), tls.server_ca.pem()).unwrap();
        std::fs::write(tls.path("device-ca.pem"), tls.device_ca.pem()).unwrap();
        tls
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    fn phone(&self, name: &str, subject: &[(DnType, &str)]) -> (String, String) {
        let (cert, key) = write_pair(self.dir.path(), name, &self.device_ca.client(subject));
        (
            cert.to_string_lossy().into_owned(),
            key.to_string_lossy().into_owned(),
        )
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--tls-listen".into(),
            "127.0.0.1:0".into(),
            "--tls-cert".into(),
            self.path("server.pem"),
            "--tls-key".into(),
            self.path("server.key"),
            "--tls-client-ca".into(),
            self.path("device-ca.pem"),
        ]
    }
}

fn curl_tls(
    tls: &Tls,
    cert: Option<&(String, String)>,
    extra: &[&str],
    url: &str,
) -> crate::util::Curl {
    let ca = tls.path("server-ca.pem");
    let mut args = vec!["--cacert", ca.as_str()];
    if let Some((cert, key)) = cert {
        args.extend(["--cert", cert.as_str(), "--key", key.as_str()]);
    }
    args.extend(extra);
    args.push(url);
    curl(&args)
}

#[test]
fn client_certificates_must_name_the_phone() {
    let tls = Tls::new();
    let fx = fixture(Some("[profile:yealink]\nclient_cert = require\n"));
    let mut args = tls.args();
    args.push("--no-plain-http".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&fx.etc(), &fx.data(), &args);
    assert!(
        !server.log().contains("serving phones on http://"),
        "plain HTTP is off"
    );
    let a = tls_url(&server, &format!("{PHONE_A}.cfg"));
    let b = tls_url(&server, &format!("{PHONE_B}.cfg"));

    let polycom = tls.phone(
        "a",
        &[
            (DnType::CommonName, "0004F2000100"),
            (DnType::OrganizationName, "Polycom Inc."),
        ],
    );
    let yealink = tls.phone(
        "b",
        &[
            (DnType::CommonName, "yealink.com"),
            (
                DnType::CustomDnType(vec![2, 5, 4, 5]),
                "ffffffff-ffff-ffff-fff0-001565000b02",
            ),
        ],
    );
    let generic = tls.phone(
        "generic",
        &[(DnType::CommonName, "Yealink generic certificate")],
    );
    let cisco_generic = tls.phone(
        "cisco",
        &[
            (DnType::OrganizationalUnitName, "cisco.com"),
            (DnType::LocalityName, "ciscogeneric"),
            (DnType::StateOrProvinceName, "ciscogeneric"),
        ],
    );

    // client_cert = optional (the default): no certificate is fine, a certificate must name the phone.
    let plain = curl_tls(&tls, None, &[], &a);
    assert_eq!(plain.status, 200, "{plain:?}");
    assert_eq!(
        body(&plain.body),
        format!("polycom user=100 secret={SECRET_A}\n")
    );
    assert_eq!(curl_tls(&tls, Some(&polycom), &[], &a).status, 200);
    assert_eq!(
        curl_tls(&tls, Some(&yealink), &[], &a).status,
        403,
        "another phone's certificate"
    );
    assert_eq!(
        curl_tls(&tls, Some(&generic), &[], &a).status,
        403,
        "a generic certificate"
    );
    assert_eq!(curl_tls(&tls, Some(&cisco_generic), &[], &a).status, 403);

    // client_cert = require: only the phone's own certificate.
    assert_eq!(curl_tls(&tls, None, &[], &b).status, 403);
    assert_eq!(curl_tls(&tls, Some(&polycom), &[], &b).status, 403);
    let own = curl_tls(&tls, Some(&yealink), &[], &b);
    assert_eq!(own.status, 200, "{own:?}");

    // A certificate from a CA that is not trusted does not even get a connection.
    let stranger = Ca::new("Some Other CA");
    let (cert, key) = write_pair(
        tls.dir.path(),
        "stranger",
        &stranger.client(&[(DnType::CommonName, "001565000b02")]),
    );
    let pair = (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
    );
    let refused = curl_tls(&tls, Some(&pair), &[], &b);
    assert_eq!(refused.status, 0, "{refused:?}");

    server.wait_for_log("client_cert = require", 5);
    let log = server.log();
    assert!(log.contains("generic client certificate"), "{log}");
    assert!(log.contains("belongs to another phone"));
    assert!(log.contains("client_cert = require"));
}

#[test]
fn basic_only_over_tls_and_certificates_reload() {
    let tls = Tls::new();
    let fx = fixture(Some(
        "[auth]\nauth = static\nusername = prov\npassword = Basic-Pass-7\nscheme = digest, basic\n",
    ));
    let args = tls.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&fx.etc(), &fx.data(), &args);
    let name = format!("{PHONE_A}.cfg");

    // Over plain HTTP, Basic is neither offered nor accepted.
    let challenge = server.get(&format!("/phoneprov/{name}"));
    assert!(
        challenge
            .headers
            .iter()
            .all(|(_, v)| !v.starts_with("Basic"))
    );
    let plain = curl(&[
        "--basic",
        "--user",
        "prov:Basic-Pass-7",
        &url(&server, &name),
    ]);
    assert_eq!(plain.status, 401);
    server.wait_for_log("Basic credentials over plain HTTP refused", 5);
    // Over TLS it is.
    let secure = curl_tls(
        &tls,
        None,
        &["--basic", "--user", "prov:Basic-Pass-7"],
        &tls_url(&server, &name),
    );
    assert_eq!(secure.status, 200, "{secure:?}");
    // Digest works on both.
    let digest = curl(&[
        "--digest",
        "--user",
        "prov:Basic-Pass-7",
        &url(&server, &name),
    ]);
    assert_eq!(digest.status, 200);

    // A renewed certificate (another CA here, to tell them apart) is served without a restart.
    let renewed = Ca::new("pjprov renewed CA");
    std::fs::write(tls.path("renewed-ca.pem"), renewed.pem()).unwrap();
    let (cert, key) = renewed.server();
    std::fs::write(tls.path("server.key"), key).unwrap();
    std::fs::write(tls.path("server.pem"), cert).unwrap();
    server.wait_for_log("generation=2", 10);
    let ca = tls.path("renewed-ca.pem");
    // Two files are written one after the other: a reload may see the new key with the old certificate
    // for a moment (and keep the previous pair); the next one sees both.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let fresh = loop {
        let fresh = curl(&[
            "--cacert",
            &ca,
            "--basic",
            "--user",
            "prov:Basic-Pass-7",
            &tls_url(&server, &name),
        ]);
        if fresh.status == 200 || std::time::Instant::now() > deadline {
            break fresh;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(fresh.status, 200, "{fresh:?}");
    let old = curl_tls(&tls, None, &[], &tls_url(&server, &name));
    assert_eq!(old.status, 0, "the old CA no longer matches");
}

#[test]
fn a_user_agent_naming_another_phone() {
    let fx = fixture(Some("[profile:polycom]\nuser_agent = log\n"));
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let own = "Yealink SIP-T46G 28.72.0.1 00:15:65:00:0b:02";
    let get = |name: &str, ua: &str| {
        request(
            server.addr,
            "GET",
            &format!("/phoneprov/{name}"),
            &[("User-Agent", ua)],
        )
        .status
    };
    // Enforced by default: the Yealink asking for its own file gets it, for another's is refused.
    assert_eq!(get(&format!("{PHONE_B}.cfg"), own), 200);
    let thief = "Yealink SIP-T46G 28.72.0.1 00:15:65:aa:bb:cc";
    assert_eq!(get(&format!("{PHONE_B}.cfg"), thief), 403);
    // Polycom's profile only logs (Polycom phones send no MAC; a mismatch there is worth a look only).
    assert_eq!(get(&format!("{PHONE_A}.cfg"), thief), 200);
    // A User-Agent without a MAC binds nothing.
    assert_eq!(
        get(
            &format!("{PHONE_B}.cfg"),
            "FileTransport PolycomVVX-VVX_400-UA/6.4.0"
        ),
        200
    );
    server.wait_for_log("refused=false", 5);
    let log = server.log();
    assert!(log.contains("a phone asked for another phone's file"));
    assert!(
        log.contains("user_agent_mac=001565aabbcc refused=true"),
        "{log}"
    );
    assert!(log.contains("user_agent_mac=001565aabbcc refused=false"));
}

#[test]
fn a_scan_of_1000_unknown_macs_is_refused_while_phones_keep_working() {
    let fx = fixture(Some(
        "[limits]\nscan_refuse_after = 20\nscan_slow_after = 10\nscan_delay_ms = 5\nscan_ban = 300\n",
    ));
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let scanner: IpAddr = "127.0.0.3".parse().unwrap();
    let phone: IpAddr = "127.0.0.4".parse().unwrap();
    let get = |from: IpAddr, name: &str| {
        request_from(from, server.addr, "GET", &format!("/phoneprov/{name}"), &[])
    };

    // The names phones probe and may not find never count: the scanner's own probes included.
    for n in 0..100 {
        for name in [
            format!("y0000000000{:02}.cfg", n % 100),
            format!("0004f2{n:06x}.boot"),
            format!("cfg0004f2{n:06x}.bin"),
            format!("snomD345-0004F2{n:06X}.htm"),
        ] {
            assert_eq!(get(scanner, &name).status, 404, "{name}");
        }
    }
    // One unconfigured phone rebooting in a loop is one miss, not many.
    for _ in 0..50 {
        assert_eq!(get(scanner, "0004f2ffffff.cfg").status, 404);
    }

    let mut first_refusal = None;
    for n in 0..1000u32 {
        let response = get(scanner, &format!("0004f2{:06x}.cfg", 0x10000 + n));
        match response.status {
            404 => assert!(first_refusal.is_none(), "404 after a refusal at {n}"),
            429 => {
                first_refusal.get_or_insert(n);
                assert!(response.header("retry-after").is_some());
            }
            other => panic!("status {other} at {n}"),
        }
        // A legitimate phone elsewhere keeps working throughout.
        if n % 100 == 0 {
            let ok = get(phone, &format!("{PHONE_A}.cfg"));
            assert_eq!(ok.status, 200);
        }
    }
    // Refused at the configured count: the unconfigured phone above was the first miss.
    assert_eq!(
        first_refusal,
        Some(18),
        "refused after 20 distinct unknown MACs"
    );
    // Refused for everything now, its found MACs included.
    assert_eq!(get(scanner, &format!("{PHONE_A}.cfg")).status, 429);
    assert_eq!(get(phone, &format!("{PHONE_A}.cfg")).status, 200);

    server.wait_for_log("client refused: too many unknown phones", 5);
    let log = server.log();
    assert_eq!(
        log.matches("client refused: too many unknown phones")
            .count(),
        1,
        "one line per ban"
    );
    assert!(log.contains("client=127.0.0.3"));
    let metrics = request(server.admin.unwrap(), "GET", "/metrics", &[]);
    let text = body(&metrics.body);
    assert!(text.contains("pjprov_throttle_refused_clients 1"), "{text}");
    assert!(text.contains("pjprov_refused_total{reason=\"throttle\"}"));
}

#[test]
fn a_client_fetching_many_phones_is_flagged() {
    let fx = fixture(Some(
        "[limits]\nharvest_phones = 1\nharvest_action = refuse\n",
    ));
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    assert_eq!(server.get(&format!("/phoneprov/{PHONE_A}.cfg")).status, 200);
    assert_eq!(
        server.get(&format!("/phoneprov/{PHONE_A}.cfg")).status,
        200,
        "the same phone again"
    );
    // The second phone's file is still served (the flag comes with it), then the client is refused.
    assert_eq!(server.get(&format!("/phoneprov/{PHONE_B}.cfg")).status, 200);
    assert_eq!(server.get(&format!("/phoneprov/{PHONE_A}.cfg")).status, 429);
    server.wait_for_log("harvesting", 5);
}

/// One line per phone file; and no secret in any log line of a run that tried everything.
#[test]
fn the_audit_trail_and_no_secret_in_any_log() {
    let tls = Tls::new();
    let fx = fixture(Some(
        "[auth]\nscheme = digest, basic\n\
         [profile:polycom]\nauth = sip\n\
         [profile:yealink]\nauth = static\nusername = yl\npassword = Yealink-Static-3\n\
         [limits]\nscan_refuse_after = 5\nscan_slow_after = 5\n",
    ));
    let mut args = tls.args();
    args.extend(["--log-format".into(), "json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_logging(&fx.etc(), &fx.data(), &args, "trace");
    let a = format!("{PHONE_A}.cfg");
    let b = format!("{PHONE_B}.cfg");
    let agent = "Yealink SIP-T46G 28.72.0.1 00:15:65:00:0b:02";

    assert_eq!(
        curl(&[
            "--digest",
            "--user",
            &format!("100:{SECRET_A}"),
            &url(&server, &a)
        ])
        .status,
        200
    );
    assert_eq!(
        curl(&[
            "--digest",
            "--user",
            &format!("100:{SECRET_B}"),
            &url(&server, &a)
        ])
        .status,
        401
    );
    assert_eq!(
        curl(&[
            "--basic",
            "--user",
            &format!("100:{SECRET_A}"),
            &url(&server, &a)
        ])
        .status,
        401
    );
    assert_eq!(
        curl_tls(
            &tls,
            None,
            &["--basic", "--user", &format!("100:{SECRET_A}")],
            &tls_url(&server, &a)
        )
        .status,
        200
    );
    assert_eq!(
        curl(&[
            "--digest",
            "-A",
            agent,
            "--user",
            "yl:Yealink-Static-3",
            &url(&server, &b)
        ])
        .status,
        200
    );
    assert_eq!(
        curl(&[
            "--digest",
            "--user",
            "yl:wrong-Yealink-Static-3",
            &url(&server, &b)
        ])
        .status,
        401
    );
    for n in 0..10 {
        server.get(&format!("/phoneprov/0004f2{n:06x}.cfg"));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));

    let log = server.log();
    let audit: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "pjprov::audit")
        .collect();
    let served = audit
        .iter()
        .find(|v| v["status"] == 200 && v["mac"] == PHONE_B)
        .unwrap_or_else(|| panic!("no audit line for {PHONE_B}:\n{log}"));
    assert_eq!(served["client"], "127.0.0.1");
    assert_eq!(served["user_agent"], agent);
    assert_eq!(served["uri"], format!("/phoneprov/{b}"));
    assert_eq!(served["proof"], "credentials:yl");
    assert!(
        audit
            .iter()
            .any(|v| v["status"] == 401 && v["mac"] == PHONE_A)
    );
    assert!(audit.iter().any(|v| v["protocol"] == "https"));

    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("100:{SECRET_A}"));
    for secret in [SECRET_A, SECRET_B, "Yealink-Static-3", &basic] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
    // Nor in what `list` and `check` print.
    let (etc, data) = (fx.etc(), fx.data());
    let dirs = ["--config-dir", path(&etc), "--data-dir", path(&data)];
    for command in ["list", "check"] {
        let mut args = vec![command];
        args.extend(dirs);
        let out = stdout(&run(&args));
        for secret in [SECRET_A, SECRET_B, "Yealink-Static-3"] {
            assert!(!out.contains(secret), "{command} shows {secret}:\n{out}");
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A phone whose admin sets no ADMIN_PASSWORD gets one derived from the site key: the same across
/// restarts and in `pjprov render`, different per phone, never in a shared file, masked in `list`.
#[test]
fn a_generated_admin_password_is_stable_and_stays_in_the_phones_own_files() {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[udp]\ntype = transport\nbind = 0.0.0.0\n\
         [a]\ntype = phoneprov\nMAC = 805ec0a10001\nPROFILE = y\n\
         [b]\ntype = phoneprov\nMAC = 805ec0a10002\nPROFILE = y\n\
         [c]\ntype = phoneprov\nMAC = 805ec0a10003\nPROFILE = y\nADMIN_PASSWORD = chosen-by-admin\n",
    )
    .config(
        "phoneprov.conf",
        "[y]\n${MAC}.cfg => mac.cfg.hbs\ncommon.cfg => common.cfg.hbs\n",
    )
    .template("mac.cfg.hbs", "admin={{ADMIN_PASSWORD}}\n")
    .template("common.cfg.hbs", "admin={{ADMIN_PASSWORD}}\n");
    let state = fx.dir.path().join("my-state");
    let state_arg = state.to_str().unwrap();
    let etc = fx.etc();
    let data = fx.data();
    let password_of = |server: &Server, mac: &str| {
        let response = server.get(&format!("/phoneprov/{mac}.cfg"));
        assert_eq!(response.status, 200);
        String::from_utf8(response.body)
            .unwrap()
            .trim_end()
            .strip_prefix("admin=")
            .unwrap()
            .to_owned()
    };
    let (a, b) = {
        let server = Server::start(&etc, &data, &["--state-dir", state_arg]);
        let a = password_of(&server, "805ec0a10001");
        let b = password_of(&server, "805ec0a10002");
        assert_eq!(password_of(&server, "805ec0a10003"), "chosen-by-admin");
        // A shared file is rendered with the first phone's variables: it must not carry its password.
        assert_eq!(server.get("/phoneprov/common.cfg").body, b"admin=\n");
        (a, b)
    };
    assert_eq!(a.len(), 16, "{a}");
    assert_ne!(a, b);
    let key = std::fs::read_to_string(state.join("site.key")).unwrap();
    assert_eq!(key.trim_end().len(), 64);
    // The same after a restart, and in `pjprov render` with the same state directory.
    let server = Server::start(&etc, &data, &["--state-dir", state_arg]);
    assert_eq!(password_of(&server, "805ec0a10001"), a);
    let dirs = [
        "--config-dir",
        etc.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--state-dir",
        state_arg,
    ];
    let rendered = run(&[&["render", "805ec0a10001.cfg"][..], &dirs].concat());
    assert_eq!(stdout(&rendered), format!("admin={a}\n"));
    // Masked in `list` unless asked.
    let listed = stdout(&run(&[&["list", "--format", "json"][..], &dirs].concat()));
    assert!(!listed.contains(&a) && listed.contains("\"ADMIN_PASSWORD\": \"********\""));
    let shown = stdout(&run(&[
        &["list", "--format", "json", "--show-secrets"][..],
        &dirs,
    ]
    .concat()));
    assert!(shown.contains(&format!("\"ADMIN_PASSWORD\": \"{a}\"")));
    // Never in the log.
    assert!(!server.log().contains(&a));
    drop(server);
    // A key that is damaged is kept, and no password is generated.
    std::fs::write(state.join("site.key"), "damaged\n").unwrap();
    let server = Server::start(&etc, &data, &["--state-dir", state_arg]);
    assert_eq!(password_of(&server, "805ec0a10001"), "");
    assert!(
        server.log().contains("not 64 hex digits"),
        "{}",
        server.log()
    );
    assert!(!server.log().contains(&a));
    assert_eq!(
        std::fs::read_to_string(state.join("site.key")).unwrap(),
        "damaged\n"
    );
}
