//! Named ACLs against the real binary (issue #18): `[acl] acl = NAME` from Asterisk's acl.conf applied at
//! connect, a profile's `acl = NAME` applied per request, a change to acl.conf reloaded (after the settle
//! time: a changed list counts as looser), a missing name failing closed, and `pjprov explain` showing
//! each list.

use std::net::IpAddr;

use crate::util::{Fixture, Server, request_from, run, stdout};

const PHONE: &str = "0004f2000100";

fn fixture(pjprov_conf: &str, acl_conf: &str) -> Fixture {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        &format!("[100-pp]\ntype = phoneprov\nMAC = {PHONE}\nPROFILE = polycom\n"),
    )
    .config("phoneprov.conf", "[polycom]\n${MAC}.cfg => p.cfg\n")
    .config("pjprov.conf", pjprov_conf)
    .config("acl.conf", acl_conf)
    .template("p.cfg", "config\n");
    fx
}

fn from(server: &Server, address: &str) -> u16 {
    let client: IpAddr = address.parse().unwrap();
    request_from(
        client,
        server.addr,
        "GET",
        &format!("/phoneprov/{PHONE}.cfg"),
        &[],
    )
    .status
}

#[test]
fn acl_conf_at_connect_and_a_profiles_list_per_request() {
    let fx = fixture(
        "[acl]\nacl = loopback\n[acl:desk]\ndeny = 127.0.0.3\n[profile:polycom]\nacl = desk\n",
        "[loopback]\ndeny = 0.0.0.0/0\npermit = 127.0.0.0/29\n",
    );
    let server = Server::start(&fx.etc(), &fx.data(), &["--settle-ms", "300"]);
    assert_eq!(from(&server, "127.0.0.1"), 200);
    assert_eq!(
        from(&server, "127.0.0.9"),
        403,
        "refused at connect by acl.conf's list"
    );
    assert_eq!(
        from(&server, "127.0.0.3"),
        403,
        "refused by the profile's list"
    );
    server.wait_for_log("refused by the named ACL(s) of the file's policy", 5);

    // acl.conf is watched: narrowing the list there reloads (after the settle time) and applies.
    fx.config(
        "acl.conf",
        "[loopback]\ndeny = 0.0.0.0/0\npermit = 127.0.0.2\n",
    );
    server.wait_for_log("generation=2", 15);
    assert_eq!(from(&server, "127.0.0.1"), 403);
    assert_eq!(from(&server, "127.0.0.2"), 200);

    // A name that does not exist: the configuration is refused, the last good one keeps serving.
    fx.config("pjprov.conf", "[acl]\nacl = loopback, nowhere\n");
    server.wait_for_log("no named ACL 'nowhere'", 15);
    assert_eq!(from(&server, "127.0.0.2"), 200);
    assert_eq!(from(&server, "127.0.0.1"), 403);
}

#[test]
fn explain_shows_every_list() {
    let fx = fixture(
        "[acl]\ndeny = 192.0.2.66\nacl = office\n[profile:polycom]\nacl = office\n",
        "[office]\ndeny = 0.0.0.0/0\npermit = 192.0.2.0/24\n",
    );
    let etc = fx.etc();
    let data = fx.data();
    let args = |client: &str| {
        run(&[
            "explain",
            "--config-dir",
            etc.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--client",
            client,
            &format!("{PHONE}.cfg"),
        ])
    };
    let allowed = stdout(&args("192.0.2.10"));
    assert!(
        allowed.contains("acl:         named ACL 'office' (acl.conf:1): rule 2 (permit = 192.0.2.0/24) is the last that matches 192.0.2.10: allowed"),
        "{allowed}"
    );
    assert!(
        allowed.contains("policy acl:  office allows: allowed"),
        "{allowed}"
    );
    assert!(allowed.contains("answer:      200 OK"), "{allowed}");
    let refused = stdout(&args("198.51.100.1"));
    assert!(
        refused.contains("named ACL 'office' (acl.conf:1): rule 1 (deny = 0.0.0.0/0)"),
        "{refused}"
    );
    assert!(refused.contains("refused by [acl]"), "{refused}");
    let own_rule = stdout(&args("192.0.2.66"));
    assert!(
        own_rule.contains("acl:         [acl]: rule 1 (deny = 192.0.2.66/32) is the last that matches 192.0.2.66: refused"),
        "{own_rule}"
    );
}
