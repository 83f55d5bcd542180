//! The lobby against the real binary (issue #18): an unknown phone gets the bundled lobby of its brand
//! and is listed by `pjprov status --unknown`; a lobby never turns a scanner's misses into hits; and, the
//! statistical test, a configured phone whose secrets are held back and an unknown MAC cannot be told
//! apart by an unauthenticated client: same status, same headers, bodies equal but for the MAC (so the
//! same length), and the same time (medians within 10% over 200 requests each).

use std::time::{Duration, Instant};

use crate::util::{Fixture, Server, copy_dir, request, run, stdout};

fn repo_templates() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates")
}

/// The Yealink sample profile with the bundled templates, one phone, and `pjprov_conf`.
fn yealink(pjprov_conf: &str) -> Fixture {
    let fx = Fixture::new();
    copy_dir(
        &repo_templates().join("yealink"),
        &fx.data().join("phoneprov/yealink"),
    );
    let sample =
        std::fs::read_to_string(repo_templates().join("yealink/phoneprov.conf.sample")).unwrap();
    fx.config("phoneprov.conf", &sample)
        .config(
            "pjsip.conf",
            "[1001]\ntype = endpoint\nauth = 1001\n[1001]\ntype = auth\nusername = 1001\npassword = Lobby-Pw-1!\n\
             [desk]\ntype = phoneprov\nendpoint = 1001\nMAC = 805ec0a1b2c3\nPROFILE = yealink\n",
        )
        .config("pjprov.conf", pjprov_conf);
    fx
}

const UA: &str = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:99:99:01";

#[test]
fn an_unknown_phone_gets_its_brands_lobby_and_is_listed() {
    let fx = yealink("[profile:yealink]\nlobby = yes\n[limits]\nharvest_phones = 1\n");
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    for name in ["805ec0999901.boot", "805ec0999901.cfg"] {
        let got = request(
            server.addr,
            "GET",
            &format!("/phoneprov/{name}"),
            &[("User-Agent", UA)],
        );
        assert_eq!(got.status, 200, "{name}");
        let body = String::from_utf8_lossy(&got.body).into_owned();
        assert!(body.starts_with("#!version:1.0.0.1\n"), "{body}");
        assert!(
            !body.contains("Lobby-Pw-1!") && !body.contains("1001"),
            "{body}"
        );
        assert_eq!(got.header("cache-control"), Some("no-cache, no-store"));
        assert_eq!(got.header("etag"), None, "a lobby has no entity tag");
    }
    let cfg = request(
        server.addr,
        "GET",
        "/phoneprov/805ec0999901.cfg",
        &[("User-Agent", UA)],
    );
    let body = String::from_utf8_lossy(&cfg.body);
    assert!(
        body.contains(&format!(
            "static.auto_provision.server.url = http://{}/phoneprov/",
            server.addr
        )),
        "{body}"
    );
    assert!(body.contains("Not provisioned 80:5E:C0:99:99:01"), "{body}");
    // The configured phone (enrol = open) gets its own file, with its password.
    let own = request(server.addr, "GET", "/phoneprov/805ec0a1b2c3.cfg", &[]);
    assert!(String::from_utf8_lossy(&own.body).contains("Lobby-Pw-1!"));
    // A second unknown MAC: lobbies are no phones' files, so no harvesting is flagged (harvest_phones = 1).
    assert_eq!(
        request(server.addr, "GET", "/phoneprov/805ec0999902.cfg", &[]).status,
        200
    );
    assert!(!server.log().contains("harvesting"), "{}", server.log());
    // The audit line says it was a lobby.
    server.wait_for_log("proof=lobby", 5);

    // The inventory lists the unknown phones, with how many lobbies they got.
    std::thread::sleep(Duration::from_millis(300));
    let status = run(&[
        "status",
        "--unknown",
        "--admin",
        &server.admin.unwrap().to_string(),
    ]);
    let table = stdout(&status);
    let row = table
        .lines()
        .find(|l| l.starts_with("805ec0999901"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(table.lines().next().unwrap().contains("LOBBIES"), "{table}");
    let cells: Vec<&str> = row.split_whitespace().collect();
    // MAC, address, "0s ago" (two words), requests, lobbies...
    assert_eq!(cells[4..6], ["3", "3"], "{row}");
}

#[test]
fn a_lobby_never_turns_a_scanners_misses_into_hits() {
    let fx = yealink(
        "[profile:yealink]\nlobby = yes\n[limits]\nscan_slow_after = 2\nscan_refuse_after = 5\n",
    );
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let mut statuses = Vec::new();
    for n in 0..8 {
        let name = format!("/phoneprov/805ec0aa{n:04x}.cfg");
        statuses.push(request(server.addr, "GET", &name, &[]).status);
    }
    assert_eq!(
        statuses[..4],
        [200, 200, 200, 200],
        "lobbies while the misses add up"
    );
    assert_eq!(
        statuses[4..],
        [429, 429, 429, 429],
        "then refused, as without a lobby"
    );
    server.wait_for_log("too many unknown phones", 5);
    // Refused even for the configured phone, like any banned client.
    assert_eq!(
        request(server.addr, "GET", "/phoneprov/805ec0a1b2c3.cfg", &[]).status,
        429
    );
}

/// Phones `0004f200nnnn` (220 configured: 200 to measure, 20 to warm up with) and `0004f2ffnnnn` (none).
fn fleet() -> Fixture {
    let fx = Fixture::new();
    let mut pjsip = String::new();
    for n in 0..220u32 {
        pjsip += &format!(
            "[{n}]\ntype = endpoint\nauth = {n}\n[{n}]\ntype = auth\nusername = u{n}\npassword = Fleet-Pw-{n}!\n\
             [{n}-pp]\ntype = phoneprov\nendpoint = {n}\nMAC = 0004f200{n:04x}\nPROFILE = desk\n"
        );
    }
    fx.config("pjsip.conf", &pjsip)
        .config("phoneprov.conf", "[desk]\n${MAC}.cfg => desk.cfg.hbs\n")
        // Secrets held back from everyone who proves nothing; the scan throttle on, but not in the way of
        // 200 requests (it still counts every unknown MAC).
        .config(
            "pjprov.conf",
            "[profile:desk]\nenrol = proof\nlobby = lobby.cfg.hbs\n\
             [limits]\nscan_slow_after = 100000\nscan_refuse_after = 100000\nharvest_phones = 100000\n",
        )
        .template("desk.cfg.hbs", "user={{USERNAME}} secret={{SECRET}}\n")
        .template(
            "lobby.cfg.hbs",
            "lobby for {{mac MAC \":\" \"upper\"}}: come back to {{PROVISIONING_URL}}{{mac MAC \"\" \"lower\"}}.cfg in {{LOBBY_INTERVAL}} s\n",
        );
    fx
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[test]
fn known_and_unknown_macs_are_indistinguishable() {
    let fx = fleet();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let ask = |mac: &str| {
        let started = Instant::now();
        let got = request(server.addr, "GET", &format!("/phoneprov/{mac}.cfg"), &[]);
        (started.elapsed(), got)
    };
    // Warm up both paths with MACs not measured (every measured MAC is asked once: no lobby of it is in
    // the cache, known or not), then interleave known and unknown, each first in turn.
    for n in 0..20u32 {
        ask(&format!("0004f2fe{n:04x}"));
        ask(&format!("0004f200{:04x}", 200 + n));
    }
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for n in 0..200u32 {
        let (mac_k, mac_u) = (format!("0004f200{n:04x}"), format!("0004f2ff{n:04x}"));
        let ((tk, k), (tu, u)) = if n % 2 == 0 {
            (ask(&mac_k), ask(&mac_u))
        } else {
            let u = ask(&mac_u);
            (ask(&mac_k), u)
        };
        assert_eq!((k.status, u.status), (200, 200));
        // Same headers, names and values (but the date, which is the clock's).
        let headers = |r: &crate::util::Response| {
            let mut h: Vec<(String, String)> = r
                .headers
                .iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case("date"))
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect();
            h.sort();
            h
        };
        assert_eq!(headers(&k), headers(&u), "{mac_k} / {mac_u}");
        // Bodies equal once each MAC is taken out (so: the same length), and no secret.
        let strip = |body: &[u8], mac: &str| {
            let text = String::from_utf8_lossy(body).into_owned();
            let upper = pjprov_core::hbs::format_mac(mac, ":", "upper");
            text.replace(mac, "<mac>").replace(&upper, "<MAC>")
        };
        assert_eq!(strip(&k.body, &mac_k), strip(&u.body, &mac_u));
        assert_eq!(k.body.len(), u.body.len());
        assert!(!String::from_utf8_lossy(&k.body).contains("secret"));
        known.push(tk);
        unknown.push(tu);
    }
    let (mk, mu) = (median(known), median(unknown));
    let gap = mk.abs_diff(mu).as_secs_f64() / mk.max(mu).as_secs_f64();
    eprintln!(
        "lobby timing over 200 requests each: known-but-held-back median {mk:?}, unknown median {mu:?}, gap {:.1}%",
        gap * 100.0
    );
    assert!(
        gap < 0.10,
        "medians {mk:?} and {mu:?} differ by {:.1}%",
        gap * 100.0
    );
    // Every unknown MAC was counted by the throttle all the same.
    let metrics = request(server.admin.unwrap(), "GET", "/metrics", &[]);
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(text.contains("pjprov_lobby_answers_total 440"), "{text}");
}
