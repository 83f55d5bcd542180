//! From a save to the phones (issue 13): NOTIFYs to exactly the phones whose files changed (through an AMI
//! double that speaks the real protocol), the inventory across restarts and crashes, `pjprov status`,
//! `notify` and `explain`, and the status page in a real headless browser.

use std::time::{Duration, Instant};

use crate::ami_double::{Ami, Notify};
use crate::util::{Fixture, Server, request, request_with_body, run, stdout};

const SECRET: &str = "Ami-Secret-13";

/// `phones` phones, each with its endpoint `1NN` and a line key; Yealink-style templates.
fn fleet(phones: usize, pjprov_conf: &str) -> Fixture {
    let fx = Fixture::new();
    fx.config("pjsip.conf", &pjsip(phones, &[]))
        .config(
            "phoneprov.conf",
            "[yealink]\n${MAC}.cfg => yealink/mac.cfg\n",
        )
        .config("pjprov.conf", pjprov_conf)
        .template(
            "yealink/mac.cfg",
            "account.1.user_name = ${USERNAME}\naccount.1.display_name = ${DISPLAY_NAME}\n",
        );
    fx
}

fn mac(n: usize) -> String {
    format!("805ec0{n:06x}")
}

/// pjsip.conf for `phones` phones; the phones in `renamed` get another caller id name.
fn pjsip(phones: usize, renamed: &[usize]) -> String {
    let mut text = String::from("[udp]\ntype = transport\nbind = 0.0.0.0\n");
    for n in 0..phones {
        let name = if renamed.contains(&n) {
            format!("Renamed {n}")
        } else {
            format!("Phone {n}")
        };
        text.push_str(&format!(
            "[{e}]\ntype = endpoint\ntransport = udp\nauth = {e}\ncallerid = \"{name}\" <{e}>\n\
             [{e}]\ntype = auth\nusername = {e}\npassword = pw-{e}\n\
             [{e}-pp]\ntype = phoneprov\nendpoint = {e}\nMAC = {mac}\nPROFILE = yealink\n",
            e = 100 + n,
            mac = mac(n)
        ));
    }
    text
}

fn fetch_all(server: &Server, phones: usize) {
    for n in 0..phones {
        let agent = format!(
            "Yealink SIP-T54W 96.86.0.100 {}",
            pjprov_core::hbs::format_mac(&mac(n), ":", "lower")
        );
        let answer = request(
            server.addr,
            "GET",
            &format!("/phoneprov/{}.cfg", mac(n)),
            &[("User-Agent", &agent)],
        );
        assert_eq!(answer.status, 200);
    }
}

fn wait_for_log_count(server: &Server, text: &str, count: usize, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while server.log().matches(text).count() < count {
        assert!(
            Instant::now() < deadline,
            "'{text}' x{count}:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_save_notifies_exactly_the_phones_that_changed() {
    let ami = Ami::start(SECRET);
    let fx = fleet(50, &ami.section(SECRET));
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    fetch_all(&server, 50);
    // The baseline comparison of generation 1 runs once the phones are known.
    server.wait_for_log("compared every phone's files", 10);

    // Two phones renamed: exactly two NOTIFYs, to their endpoints, with Yealink's event.
    fx.config("pjsip.conf", &pjsip(50, &[7, 31]));
    ami.wait_for(2, 10);
    std::thread::sleep(Duration::from_millis(500));
    let mut got = ami.notifies();
    got.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    assert_eq!(
        got,
        [
            Notify {
                endpoint: "107".into(),
                event: "check-sync".into()
            },
            Notify {
                endpoint: "131".into(),
                event: "check-sync".into()
            },
        ],
        "{got:?}"
    );
    // The two are stale until they fetch again.
    let status = run(&[
        "status",
        "--admin",
        &server.admin.unwrap().to_string(),
        "--state",
        "stale",
        "--format",
        "json",
    ]);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(listed["phones"].as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(listed["counts"]["stale"], 2);
    assert_eq!(listed["phones"][0]["model"], "T54W");
    assert_eq!(listed["phones"][0]["notify_result"], "sent");
    fetch_all(&server, 50);
    let current = run(&["status", "--admin", &server.admin.unwrap().to_string()]);
    assert!(
        stdout(&current).contains("50 phones: 50 current, 0 stale, 0 never"),
        "{}",
        stdout(&current)
    );

    // A save that changes no phone's bytes (a comment) sends nothing.
    let before = ami.notifies().len();
    let mut text = pjsip(50, &[7, 31]);
    text.push_str("; a comment\n");
    fx.config("pjsip.conf", &text);
    wait_for_log_count(&server, "compared every phone's files", 3, 10);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        ami.notifies().len(),
        before,
        "nothing changed, nothing sent"
    );
}

#[test]
fn a_burst_of_saves_is_one_notify_per_changed_phone() {
    let ami = Ami::start(SECRET);
    let conf = ami.section(SECRET).replace("quiet = 0", "quiet = 2");
    let fx = fleet(10, &conf);
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    fetch_all(&server, 10);
    server.wait_for_log("compared every phone's files", 10);
    // Ten saves within a second, each renaming phone 3 again, the last one phone 5 too.
    for round in 0..10 {
        let mut text = pjsip(10, if round == 9 { &[3, 5] } else { &[3] });
        text = text.replace("Renamed 3", &format!("Renamed 3 (take {round})"));
        fx.config("pjsip.conf", &text);
        std::thread::sleep(Duration::from_millis(100));
    }
    let got = ami.wait_for(2, 15);
    std::thread::sleep(Duration::from_millis(1000));
    let mut endpoints: Vec<String> = ami.notifies().into_iter().map(|n| n.endpoint).collect();
    endpoints.sort();
    assert_eq!(endpoints, ["103", "105"], "{got:?}");
}

#[test]
fn asterisk_down_never_slows_a_fetch_and_notifies_follow_when_it_is_back() {
    // A port nobody listens on: Asterisk is down.
    let port = crate::util::free_port();
    let conf = format!(
        "[ami]\nhost = 127.0.0.1\nport = {port}\nusername = pjprov\nsecret = {SECRET}\nquiet = 0\n"
    );
    let fx = fleet(5, &conf);
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    fetch_all(&server, 5);
    server.wait_for_log("compared every phone's files", 10);
    fx.config("pjsip.conf", &pjsip(5, &[1]));
    server.wait_for_log("cannot notify phones yet", 10);
    // Fetches stay fast while the notifier retries.
    for _ in 0..50 {
        let started = Instant::now();
        assert_eq!(
            server.get(&format!("/phoneprov/{}.cfg", mac(2))).status,
            200
        );
        assert!(started.elapsed() < Duration::from_millis(500));
    }
    assert!(
        server.log().matches("cannot notify phones yet").count() == 1,
        "logged once"
    );
    // Asterisk is back: the NOTIFY kept waiting goes out.
    let ami = Ami::start_on(port, SECRET);
    let got = ami.wait_for(1, 40);
    assert_eq!(got[0].endpoint, "101");
}

#[test]
fn a_dropped_manager_connection_is_reopened() {
    let ami = Ami::start(SECRET);
    let fx = fleet(4, &ami.section(SECRET));
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    fetch_all(&server, 4);
    server.wait_for_log("compared every phone's files", 10);
    ami.recorded
        .drop_next
        .store(true, std::sync::atomic::Ordering::Relaxed);
    fx.config("pjsip.conf", &pjsip(4, &[0, 2]));
    let got = ami.wait_for(2, 15);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        ami.recorded
            .logins
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 2
    );
    server.wait_for_log("reconnecting", 5);
}

#[test]
fn the_manager_interface_over_tls_with_its_own_certificate() {
    // Asterisk's manager certificate is often self-signed, and made as `openssl req -x509` makes one (a
    // CA certificate, which webpki alone refuses for a server): [ami] tls_ca names it, and it is trusted
    // as it is.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let ami = Ami::start_tls(SECRET, &cert.pem(), &key.serialize_pem());
    let section = |tls_ca: &str| format!("{}tls = yes\n{tls_ca}", ami.section(SECRET));
    let fx = fleet(2, &section("tls_ca = asterisk.pem\n"));
    fx.config("asterisk.pem", &cert.pem());
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    fetch_all(&server, 2);
    let admin = server.admin.unwrap().to_string();
    let output = run(&["notify", "--admin", &admin, "--all"]);
    assert!(
        stdout(&output).contains("2 phone(s) queued"),
        "{}",
        stdout(&output)
    );
    let got = ami.wait_for(2, 10);
    assert!(got.iter().all(|n| n.event == "check-sync"), "{got:?}");
    assert_eq!(
        ami.recorded
            .logins
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    drop(server);

    // Without tls_ca, the system's CAs do not vouch for it: nothing is sent, and the log says why.
    let fx = fleet(2, &section(""));
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    fetch_all(&server, 2);
    let admin = server.admin.unwrap().to_string();
    run(&["notify", "--admin", &admin, "--all"]);
    server.wait_for_log("invalid peer certificate", 10);
    assert_eq!(ami.notifies().len(), 2, "no NOTIFY over an unverified link");
}

#[test]
fn notify_on_demand_and_only_from_loopback_or_with_the_token() {
    let ami = Ami::start(SECRET);
    let token = "a-long-admin-token-123";
    let fx = fleet(
        3,
        &format!("{}[admin]\ntoken = {token}\n", ami.section(SECRET)),
    );
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    fetch_all(&server, 3);
    let admin = server.admin.unwrap().to_string();
    let output = run(&["notify", "--admin", &admin, "--all"]);
    assert!(
        stdout(&output).contains("3 phone(s) queued"),
        "{}",
        stdout(&output)
    );
    ami.wait_for(3, 10);
    let output = run(&["notify", "--admin", &admin, &mac(1)]);
    assert!(stdout(&output).contains("1 phone(s) queued"));
    ami.wait_for(4, 10);

    ami.wait_for(4, 1);
}

/// From an address other than loopback, changing state needs the `[admin] token`.
#[test]
fn changes_from_elsewhere_need_the_admin_token() {
    let Some(host) = crate::util::host_address() else {
        return;
    };
    let ami = Ami::start(SECRET);
    let token = "a-long-admin-token-123";
    let fx = fleet(
        3,
        &format!("{}[admin]\ntoken = {token}\n", ami.section(SECRET)),
    );
    let mut options = crate::util::Options::new(&fx.etc(), &fx.data());
    options.admin_listen = format!("{host}:0");
    let server = options.start();
    fetch_all(&server, 3);
    let admin = server.admin.unwrap();
    let body = r#"{"macs": ["805ec0000002"]}"#;
    let post = |headers: &[(&str, &str)]| {
        request_with_body(host, admin, "POST", "/api/v1/notify", headers, body).status
    };
    assert_eq!(post(&[]), 403, "no token");
    assert_eq!(
        post(&[("Authorization", "Bearer not-the-token-at-all")]),
        403
    );
    let bearer = format!("Bearer {token}");
    assert_eq!(post(&[("Authorization", &bearer)]), 202);
    ami.wait_for(1, 10);
    // Reading needs nothing.
    let list = request_with_body(host, admin, "GET", "/api/v1/phones", &[], "");
    assert_eq!(list.status, 200);
}

#[test]
fn the_inventory_survives_a_restart_and_a_crash() {
    let fx = fleet(3, "");
    let state = fx.dir.path().join("state");
    let keep = ["--state-dir", state.to_str().unwrap()];
    let server = Server::start(&fx.etc(), &fx.data(), &keep);
    fetch_all(&server, 2);
    // Past the batch interval, a crash loses nothing.
    std::thread::sleep(Duration::from_millis(600));
    server.signal("KILL");
    drop(server);
    let server = Server::start(&fx.etc(), &fx.data(), &keep);
    let admin = server.admin.unwrap().to_string();
    let output = run(&["status", "--admin", &admin, "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(listed["counts"]["current"], 2, "{listed}");
    assert_eq!(listed["counts"]["never"], 1);
    let one = request(
        server.admin.unwrap(),
        "GET",
        &format!("/api/v1/phones/{}", mac(0)),
        &[],
    );
    let detail: serde_json::Value = serde_json::from_slice(&one.body).unwrap();
    assert_eq!(detail["files"][0]["uri"], format!("{}.cfg", mac(0)));
    assert!(detail["files"][0]["etag"].as_str().is_some());

    // A MAC no phone has is listed among the unknown.
    server.get("/phoneprov/805ec0abcdef.cfg");
    let unknown = run(&["status", "--admin", &admin, "--unknown"]);
    assert!(
        stdout(&unknown).contains("805ec0abcdef"),
        "{}",
        stdout(&unknown)
    );
}

#[test]
fn explain_says_why() {
    let fx = fleet(
        2,
        "[acl]\ndeny = 0.0.0.0/0\npermit = 192.0.2.0/24\n[auth]\nauth = sip\n[limits]\nscan_slow_after = 0\nscan_refuse_after = 1\n",
    );
    let (etc, data) = (fx.etc(), fx.data());
    let explain = |args: &[&str]| {
        let mut all = vec![
            "explain",
            "--config-dir",
            etc.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ];
        all.extend(args);
        stdout(&run(&all))
    };
    let phone = format!("{}.cfg", mac(0));
    let text = explain(&[&phone]);
    assert!(text.contains("exact match"), "{text}");
    assert!(
        text.contains("template yealink/mac.cfg (Asterisk ${})"),
        "{text}"
    );
    assert!(text.contains("answer:      401"), "{text}");
    let text = explain(&[&phone, "--client", "198.51.100.1"]);
    assert!(
        text.contains("answer:      403 Forbidden, at connect"),
        "{text}"
    );
    let text = explain(&[
        &phone,
        "--user-agent",
        &format!(
            "Yealink SIP-T54W 96.86.0.100 {}",
            pjprov_core::hbs::format_mac(&mac(1), ":", "lower")
        ),
    ]);
    assert!(
        text.contains("answer:      403 Forbidden (user_agent)"),
        "{text}"
    );
    let text = explain(&[&phone, "--protocol", "https", "--client-cert-mac", &mac(1)]);
    assert!(text.contains("(certificate)"), "{text}");
    let text = explain(&[&format!("{}.cfgg", mac(0))]);
    assert!(text.contains("nearest:"), "{text}");
    assert!(text.contains("answer:      404"), "{text}");
    let text = explain(&["805ec0abcdef.cfg"]);
    assert!(text.contains("answer:      429"), "{text}");
    // A phone's file, allowed: 200 with its size.
    let open = Fixture::new();
    crate::util::copy_dir(&fx.dir.path().join("etc"), &open.etc());
    crate::util::copy_dir(&fx.dir.path().join("data"), &open.data());
    open.config("pjprov.conf", "");
    let text = stdout(&run(&[
        "explain",
        "--config-dir",
        open.etc().to_str().unwrap(),
        "--data-dir",
        open.data().to_str().unwrap(),
        &phone,
    ]));
    assert!(text.contains("answer:      200 OK (text/plain)"), "{text}");
}

/// The status page, in a real headless browser (Debian's chromium): counts, the phones, the filter.
#[test]
fn the_status_page_in_a_browser() {
    let Some(chromium) = crate::util::chromium() else {
        return;
    };
    let fx = fleet(3, "");
    let state = fx.dir.path().join("state");
    let keep = ["--state-dir", state.to_str().unwrap()];
    let server = Server::start(&fx.etc(), &fx.data(), &keep);
    fetch_all(&server, 2);
    let admin = server.admin.unwrap();
    let dom = crate::util::browser_dom(&chromium, &format!("http://{admin}/"));
    assert!(dom.contains("id=\"count-current\">2 current"), "{dom}");
    assert!(dom.contains("id=\"count-never\">1 never"), "{dom}");
    assert!(dom.contains(&mac(0)), "{dom}");
    assert!(dom.contains("T54W"), "{dom}");
    // The filter narrows the table (a GET form: the browser submits it as the URL below).
    let filtered = crate::util::browser_dom(&chromium, &format!("http://{admin}/?state=never&q="));
    assert!(filtered.contains(&mac(2)), "{filtered}");
    assert!(
        !filtered.contains(&format!("<td>{}</td>", mac(0))),
        "{filtered}"
    );
}
