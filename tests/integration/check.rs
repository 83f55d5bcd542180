//! `pjprov check`: FILE:LINE: error|warning: MESSAGE, a summary, exit 1 on errors.

use crate::util::{Fixture, run, stdout};

fn check(fx: &Fixture) -> (i32, String) {
    let etc = fx.etc();
    let data = fx.data();
    let out = run(&[
        "check",
        "--config-dir",
        etc.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    (out.status.code().unwrap(), stdout(&out))
}

#[test]
fn a_clean_configuration_exits_0() {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[udp]\ntype = transport\nbind = 0.0.0.0\n[1]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = p\n",
    )
    .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n")
    .template("p.cfg", "mac=${MAC}\n");
    let (code, out) = check(&fx);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "0 errors, 0 warnings; 1 phones, 1 routes\n");
}

#[test]
fn every_kind_of_problem_is_reported_with_file_and_line() {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[udp]\ntype = transport\nbind = 0.0.0.0\n\
         [1000]\ntype = endpoint\ntransport = udp\nauth = 1000\npasword = x\n\
         [1000]\ntype = auth\npassword = p\n\
         [a]\ntype = phoneprov\nPROFILE = p\n\
         [b]\ntype = phoneprov\nMAC = 00:04:f2:00:00:02\nPROFILE = p\nendpoint = 1000\n\
         [c]\ntype = phoneprov\nMAC = 0004f2000003\nPROFILE = nope\n\
         [d]\ntype = phoneprov\nMAC = 0004f2000004\nPROFILE = p\nLINE = 1\n\
         [e]\ntype = phoneprov\nMAC = 0004f2000004\nPROFILE = p\nLINE = 1\n\
         #tryinclude missing.conf\nno equals\n",
    )
    .config(
        "phoneprov.conf",
        "[p]\nstatic_file => firmware.bin\n${MAC}.cfg => p.cfg\n${MAC}.xml => missing.xml\n",
    )
    .template("p.cfg", "${NOSUCHFUNC(x)}\n");
    let (code, out) = check(&fx);
    assert_eq!(code, 1, "{out}");
    let etc = fx.etc().display().to_string();
    let phoneprov_dir = fx.data().join("phoneprov").display().to_string();
    for expected in [
        format!(
            "{etc}/pjsip.conf:8: error: endpoint '1000': unknown option 'pasword'; Asterisk rejects the whole endpoint"
        ),
        format!("{etc}/pjsip.conf:9: error: auth '1000': no authentication username"),
        format!("{etc}/pjsip.conf:12: error: phoneprov 'a' must contain a MAC entry"),
        format!("{etc}/pjsip.conf:15: error: phoneprov 'b' contained invalid endpoint '1000'"),
        format!("{etc}/pjsip.conf:20: error: phoneprov 'c': could not look up profile 'nope'"),
        format!("{etc}/pjsip.conf:29: warning: duplicate LINE=1 for MAC 0004f2000004"),
        format!("{etc}/pjsip.conf:35: warning: no '='"),
        format!("{etc}/phoneprov.conf:2: error: profile 'p': static file"),
        format!("{etc}/phoneprov.conf:4: error: profile 'p': template"),
        format!("{phoneprov_dir}/p.cfg:1: warning: template 'p.cfg' line 1"),
    ] {
        assert!(out.contains(&expected), "missing: {expected}\nin:\n{out}");
    }
    assert!(out.contains("function NOSUCHFUNC not registered"), "{out}");
    let summary = out.lines().last().unwrap();
    assert!(summary.starts_with("7 errors, 3 warnings;"), "{summary}");
}

#[test]
fn an_unusable_configuration_is_an_error() {
    let fx = Fixture::new();
    fx.config("pjsip.conf", "[a](nosuchbase)\n")
        .config("phoneprov.conf", "[p]\n");
    let (code, out) = check(&fx);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "pjsip.conf:1: error: inheritance requested, but category 'nosuchbase' does not exist"
        ),
        "{out}"
    );
    assert!(out.contains("cannot be used"), "{out}");
    let fx = Fixture::new();
    fx.config("pjsip.conf", "");
    let (code, out) = check(&fx);
    assert_eq!(code, 1);
    assert!(
        out.contains("phoneprov.conf cannot be used: it is missing"),
        "{out}"
    );
}
