//! Digest nonce counts over real HTTP (RFC 7616 §3.4): curl signs a request, the test sends the very same
//! `Authorization` again, and pjprov refuses the replay with a fresh challenge, logs it under
//! `pjprov::security` without the password, and counts it in `/metrics`.

use crate::util::{Fixture, Server, curl, request};

const PHONE: &str = "0004f2000100";
const SECRET: &str = "Replay-Pass-100!";

#[test]
fn a_replayed_digest_request_is_refused_with_a_fresh_challenge() {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        &format!(
            "[100]\ntype = endpoint\nauth = 100\n[100]\ntype = auth\nusername = 100\npassword = {SECRET}\n\
             [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = {PHONE}\nPROFILE = p\n"
        ),
    )
    .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n")
    .config("pjprov.conf", "[auth]\nauth = sip\n")
    .template("p.cfg", "secret=${SECRET}\n");
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let path = format!("/phoneprov/{PHONE}.cfg");
    let url = format!("http://{}{path}", server.addr);

    // curl answers the challenge (nc=00000001) and gets the file; -v shows what it sent.
    let signed = curl(&["-v", "--digest", "--user", &format!("100:{SECRET}"), &url]);
    assert_eq!(signed.status, 200, "{signed:?}");
    let authorization = signed
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("> "))
        .find_map(|l| l.strip_prefix("Authorization: "))
        .expect("curl's -v shows the Authorization it sent")
        .trim()
        .to_owned();
    assert!(authorization.contains("nc=00000001"), "{authorization}");

    // The same request again: a replay. 401 with a new nonce, not stale (the client must sign anew).
    let replayed = request(
        server.addr,
        "GET",
        &path,
        &[("Authorization", &authorization)],
    );
    assert_eq!(replayed.status, 401);
    assert!(!String::from_utf8_lossy(&replayed.body).contains(SECRET));
    let challenge = replayed.header("www-authenticate").unwrap();
    assert!(!challenge.contains("stale=true"), "{challenge}");
    server.wait_for_log("replayed Digest request refused", 5);

    // A fresh signature still works.
    assert_eq!(
        curl(&["--digest", "--user", &format!("100:{SECRET}"), &url]).status,
        200
    );

    let metrics = request(server.admin.unwrap(), "GET", "/metrics", &[]);
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(text.contains("pjprov_digest_replays_total 1"), "{text}");
    assert!(text.contains("pjprov_digest_nonces 2"), "{text}");
    assert!(
        !server.log().contains(SECRET),
        "the password never reaches the log"
    );
}
