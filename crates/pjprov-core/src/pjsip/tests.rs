//! One test per object rule.

use asterisk_config::{Loader, MemorySource};

use crate::error::Severity;

use super::*;

fn config(name: &str, text: &str) -> asterisk_config::Config {
    let src = MemorySource::new().with_file(format!("/etc/asterisk/{name}"), text);
    let loaded = Loader::with_source("/etc/asterisk", src).load(name);
    assert!(loaded.valid, "{:?}", loaded.diagnostics);
    loaded.config
}

fn read(pjsip: &str, wizard: Option<&str>) -> (Objects, Vec<Diagnostic>) {
    let pjsip = config("pjsip.conf", pjsip);
    let wizard = wizard.map(|w| config("pjsip_wizard.conf", w));
    let mut diags = Vec::new();
    // Objects own what they keep: the configurations are dropped here.
    let objects = Objects::read(&pjsip, wizard.as_ref(), &mut diags);
    (objects, diags)
}

fn errors(diags: &[Diagnostic]) -> Vec<&Error> {
    diags.iter().map(|d| &d.error).collect()
}

#[test]
fn an_unknown_option_rejects_the_object_and_suggests_the_nearest() {
    let (objects, diags) = read(
        "[1000]\ntype = endpoint\nauth = 1000\npassword = oops\n[1000]\ntype = auth\nusername = a\npasword = x\npassword = p\n",
        None,
    );
    assert!(objects.endpoint("1000").is_none());
    assert!(objects.auth("1000").is_none());
    assert_eq!(
        errors(&diags),
        [
            &Error::UnknownOption {
                kind: "auth".into(),
                id: "1000".into(),
                option: "pasword".into(),
                suggestion: Some("password".into()),
            },
            &Error::UnknownOption {
                kind: "endpoint".into(),
                id: "1000".into(),
                option: "password".into(),
                suggestion: None,
            },
        ]
    );
    assert_eq!(
        (diags[0].line, diags[1].line),
        (8, 4),
        "the line of the option"
    );
    assert!(diags[0].to_string().contains("did you mean 'password'?"));
}

#[test]
fn option_names_compare_without_case() {
    let (objects, diags) = read(
        "[e]\ntype = endpoint\nCallerID = Bob <1>\nTransport = t\n",
        None,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let e = objects.endpoint("e").unwrap();
    assert_eq!(e.callerid.as_deref(), Some("Bob <1>"));
    assert_eq!(e.transport, "t");
}

#[test]
fn auth_needs_a_username_and_a_password() {
    let (objects, diags) = read(
        "[a]\ntype = auth\npassword = p\n[b]\ntype = auth\nusername = u\n[c]\ntype = auth\nauth_type = md5\nusername = u\nmd5_cred = 0123456789abcdef0123456789abcdef\n",
        None,
    );
    assert!(objects.auth("a").is_none());
    assert!(objects.auth("b").is_none());
    let c = objects.auth("c").unwrap();
    assert_eq!((c.username.as_str(), c.password.as_str()), ("u", ""));
    assert!(
        matches!(&diags[0].error, Error::InvalidAuth { id, reason } if id == "a" && reason.contains("no authentication username"))
    );
    assert!(matches!(&diags[1].error, Error::InvalidAuth { id, .. } if id == "b"));
}

#[test]
fn the_last_value_of_an_option_wins() {
    let (objects, _) = read(
        "[tpl](!)\ntype = endpoint\ntransport = a\nauth = x,y\n[e](tpl)\ntransport = b\nauth = z , w\n",
        None,
    );
    let e = objects.endpoint("e").unwrap();
    assert_eq!(e.transport, "b");
    assert_eq!(e.auths, ["z", "w"]);
}

#[test]
fn duplicate_ids_make_asterisk_refuse_every_object_of_that_type() {
    let (objects, diags) = read(
        "[1]\ntype = endpoint\n[2]\ntype = endpoint\n[1]\ntype = endpoint\n[1]\ntype = auth\nusername = u\npassword = p\n",
        None,
    );
    assert!(objects.endpoint("1").is_none() && objects.endpoint("2").is_none());
    assert!(
        objects.auth("1").is_some(),
        "another type with the same id is fine"
    );
    assert!(
        matches!(&diags[..], [Diagnostic { error: Error::DuplicateObject { kind, .. }, line: 5, .. }] if kind == "endpoint")
    );
}

#[test]
fn transport_ports() {
    let (objects, diags) = read(
        "[u]\ntype=transport\nbind=0.0.0.0:5080\n[t]\ntype=transport\nprotocol=tcp\nbind=127.0.0.1\n\
         [s]\ntype=transport\nprotocol=TLS\nbind=0.0.0.0\n[w]\ntype=transport\nprotocol=wss\nbind=[::]\n\
         [v6]\ntype=transport\nbind=[2001:db8::1]:5070\n[bare6]\ntype=transport\nbind=::\n\
         [nobind]\ntype=transport\nprotocol=udp\n[bad]\ntype=transport\nprotocol=sctp\nbind=0.0.0.0\n",
        None,
    );
    let port = |id: &str| objects.transports.get(id).map(|t| t.port);
    assert_eq!(port("u"), Some(5080));
    assert_eq!(port("t"), Some(5060));
    assert_eq!(port("s"), Some(5061));
    assert_eq!(port("w"), Some(5060), "Asterisk defaults only tls to 5061");
    assert_eq!(port("v6"), Some(5070));
    assert_eq!(port("bare6"), Some(5060));
    assert_eq!(port("nobind"), None);
    assert_eq!(port("bad"), None);
    assert_eq!(diags.len(), 2);
}

#[test]
fn bind_values() {
    assert_eq!(bind_port("0.0.0.0"), Ok(0));
    assert_eq!(bind_port("0.0.0.0:5061"), Ok(5061));
    assert_eq!(bind_port("[::1]:7"), Ok(7));
    assert!(bind_port("0.0.0.0:x").is_err());
    assert!(bind_port("[::1").is_err());
    assert!(bind_port("").is_err());
}

#[test]
fn unknown_types_warn_and_other_pjsip_types_are_ignored() {
    let (objects, diags) = read(
        "[x]\ntype = endpoit\n[r]\ntype = registration\nanything = goes\n[g]\ntype = global\nbogus = 1\n[notype]\nk = v\n",
        None,
    );
    assert!(objects.endpoint("x").is_none());
    assert!(
        matches!(&diags[0].error, Error::UnknownType { suggestion: Some(s), .. } if s == "endpoint")
    );
    assert!(matches!(&diags[1].error, Error::UnknownOption { kind, .. } if kind == "global"));
    assert_eq!(diags.len(), 2);
}

#[test]
fn phoneprov_objects_keep_every_entry_but_type() {
    let (objects, _) = read(
        "[pp-tpl](!)\ntype = phoneprov\nPROFILE = p\n[1-pp](pp-tpl)\nMAC = 00\nmac = lower\nTYPE = ignored\n",
        None,
    );
    let pp = &objects.phoneprovs[0];
    let keys: Vec<_> = pp.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["PROFILE", "MAC", "mac"]);
    assert!(!pp.wizard);
}

#[test]
fn a_wizard_makes_endpoint_auth_and_phoneprov() {
    let (objects, diags) = read(
        "[t]\ntype = transport\nbind = 0.0.0.0\n",
        Some(
            "[6001]\ntype = wizard\ntransport = t\naccepts_auth = yes\naccepts_registrations = yes\nhas_phoneprov = yes\n\
             inbound_auth/username = 6001\ninbound_auth/password = wizpw\nendpoint/callerid = \"Judy\" <6001>\n\
             phoneprov/MAC = 0004f2aabb06\nphoneprov/PROFILE = wiz\n",
        ),
    );
    assert!(diags.is_empty(), "{diags:?}");
    let e = objects.endpoint("6001").unwrap();
    assert_eq!(e.transport, "t");
    assert_eq!(e.auths, ["6001-iauth"]);
    let auth = objects.auth("6001-iauth").unwrap();
    assert_eq!(
        (auth.username.as_str(), auth.password.as_str()),
        ("6001", "wizpw")
    );
    let pp = &objects.phoneprovs[0];
    assert_eq!(pp.id, "6001-phoneprov");
    assert!(pp.wizard);
    let entries: Vec<_> = pp
        .entries
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            ("MAC", "0004f2aabb06"),
            ("PROFILE", "wiz"),
            ("endpoint", "6001")
        ]
    );
}

#[test]
fn wizard_templates_and_has_phoneprov_no() {
    let (objects, _) = read(
        "",
        Some(
            "[tpl](!)\ntype = wizard\naccepts_auth = yes\nhas_phoneprov = yes\nphoneprov/PROFILE = p\n\
             [a](tpl)\ninbound_auth/username = a\ninbound_auth/password = pa\nphoneprov/MAC = 0004f2000001\n\
             [b](tpl)\nhas_phoneprov = no\ninbound_auth/username = b\ninbound_auth/password = pb\nphoneprov/MAC = 0004f2000002\n",
        ),
    );
    let ids: Vec<_> = objects.phoneprovs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        ["a-phoneprov"],
        "the template is no wizard; b has has_phoneprov = no"
    );
    assert!(objects.endpoint("b").is_some());
}

#[test]
fn incomplete_wizards_lose_only_the_object_concerned() {
    let (objects, diags) = read(
        "",
        Some(
            "[w]\ntype = wizard\naccepts_auth = yes\nhas_phoneprov = yes\nphoneprov/PROFILE = p\nendpoint/bogus = 1\nfrobnicate = 2\n",
        ),
    );
    assert!(objects.auth("w-iauth").is_none());
    assert!(objects.endpoint("w").is_none());
    assert!(objects.phoneprovs.is_empty());
    let kinds: Vec<_> = diags
        .iter()
        .map(|d| match &d.error {
            Error::UnknownWizardOption { option, .. } => format!("unknown {option}"),
            Error::WizardIncomplete { option, .. } => format!("incomplete {option}"),
            Error::WizardObjectFailed { object, .. } => format!("failed {object}"),
            Error::UnknownOption { option, .. } => format!("endpoint option {option}"),
            other => format!("{other}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "unknown frobnicate",
            "incomplete inbound_auth/username",
            "endpoint option bogus",
            "failed identify",
            "incomplete phoneprov/MAC"
        ]
    );
}

#[test]
fn a_wizard_in_pjsip_conf_makes_nothing_and_is_an_error() {
    let (objects, diags) = read(
        "[7]\ntype = wizard\naccepts_auth = yes\ninbound_auth/username = 7\ninbound_auth/password = p\n\
         has_phoneprov = yes\nphoneprov/MAC = 0004f2000007\nphoneprov/PROFILE = p\n",
        None,
    );
    assert!(objects.phoneprovs.is_empty());
    assert!(objects.endpoint("7").is_none());
    assert!(objects.auth("7-iauth").is_none());
    let [diag] = &diags[..] else {
        panic!("one diagnostic: {diags:?}");
    };
    assert!(matches!(diag.error, Error::WizardInPjsipConf { .. }));
    assert_eq!(diag.severity(), Severity::Error);
    assert!(diag.error.to_string().contains("move the section there"));
}

#[test]
fn a_wizard_asterisk_logs_as_failed_still_makes_its_endpoint_and_phone() {
    let (objects, diags) = read(
        "",
        Some(
            "[8]\ntype = wizard\nsends_registrations = yes\nsends_auth = yes\nhas_phoneprov = yes\n\
             phoneprov/MAC = 0004f2000008\nphoneprov/PROFILE = p\n",
        ),
    );
    assert!(objects.endpoint("8").is_some());
    assert_eq!(objects.phoneprovs.len(), 1);
    let failed: Vec<String> = diags
        .iter()
        .map(|d| {
            assert_eq!(d.severity(), Severity::Warning, "{}", d.error);
            match &d.error {
                Error::WizardObjectFailed { option, object, .. } => format!("{object} {option}"),
                other => other.to_string(),
            }
        })
        .collect();
    assert_eq!(
        failed,
        [
            "outbound auth outbound_auth/username",
            "identify remote_hosts",
            "registration remote_hosts"
        ]
    );
    // With accepts_registrations there is no identify to make, and without sends_* nothing else fails.
    let (_, diags) = read(
        "",
        Some("[9]\ntype = wizard\naccepts_registrations = yes\n"),
    );
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn pjsip_conf_objects_shadow_wizard_ones() {
    let (objects, _) = read(
        "[x]\ntype = endpoint\ncallerid = From conf <1>\n",
        Some("[x]\ntype = wizard\nendpoint/callerid = From wizard <2>\n"),
    );
    assert_eq!(
        objects.endpoint("x").unwrap().callerid.as_deref(),
        Some("From conf <1>")
    );
}
