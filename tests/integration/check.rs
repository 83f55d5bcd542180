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
    let etc = fx.etc().display().to_string();
    assert_eq!(
        out,
        format!(
            "{etc}/phoneprov.conf: error: '{etc}/phoneprov.conf' does not exist\n\
             1 error, 0 warnings; the configuration cannot be used (phoneprov.conf rejected as a whole): \
             phones would get nothing (503)\n"
        )
    );
}

/// Every line but the last is one problem, `FILE:LINE:` or `FILE:` (a whole file) and never `FILE:0:`;
/// the summary comes last.
fn assert_problems_then_summary(out: &str) {
    let lines: Vec<&str> = out.lines().collect();
    let (summary, problems) = lines.split_last().expect("a summary");
    assert!(
        summary.contains(" error") && summary.contains(" warning"),
        "the summary is last: {out}"
    );
    for line in problems {
        assert!(
            line.contains(": error: ") || line.contains(": warning: "),
            "{line}\nin:\n{out}"
        );
        assert!(!line.contains(":0:"), "no line 0: {line}");
    }
}

#[test]
fn every_file_is_checked_in_one_run_even_when_one_cannot_be_used() {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[1]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = p\n#include nothere.conf\n",
    )
    .config(
        "phoneprov.conf",
        "[p]\nstatic_file => firmware.bin\n${MAC}.cfg => p.cfg\n",
    )
    .config(
        "pjprov.conf",
        "[general]\nlisten = 8088\n[tftp]\nbogus = 1\n",
    )
    // A wizard naming pjsip.conf's transport: no error about it while pjsip.conf cannot be read.
    .config(
        "pjsip_wizard.conf",
        "[w]\ntype = wizard\ntransport = udp\nhas_phoneprov = yes\nphoneprov/MAC = 0004f2000009\n\
         phoneprov/PROFILE = p\n",
    );
    let (code, out) = check(&fx);
    assert_eq!(code, 1, "{out}");
    assert_problems_then_summary(&out);
    assert!(
        !out.contains("transport"),
        "no consequence of pjsip.conf is reported: {out}"
    );
    for expected in [
        "pjsip.conf:5: error: the file 'nothere.conf' was listed as a #include but it does not exist",
        "phoneprov.conf:2: error: profile 'p': static file",
        "pjprov.conf:2: error: pjprov.conf [general] listen: must be ADDR:PORT",
        "pjprov.conf:4: error: pjprov.conf [tftp]: unknown option 'bogus'",
    ] {
        assert!(out.contains(expected), "missing: {expected}\nin:\n{out}");
    }
    assert!(
        out.ends_with(
            "4 errors, 0 warnings; the configuration cannot be used (pjprov.conf, pjsip.conf rejected as a \
             whole): phones would get nothing (503)\n"
        ),
        "{out}"
    );

    // pjprov.conf unusable, and a template that cannot be read (a directory: EISDIR, even for root): the
    // phones, the profiles and the other templates are still checked.
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[1]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = p\n[2]\ntype = phoneprov\nPROFILE = p\n",
    )
    .config(
        "phoneprov.conf",
        "[p]\nstatic_file => firmware.bin\n${MAC}.cfg => p.cfg\n${MAC}.xml => missing.xml\n",
    )
    .config("pjprov.conf", "[acl\n");
    std::fs::create_dir_all(fx.data().join("phoneprov/p.cfg")).unwrap();
    let (code, out) = check(&fx);
    assert_eq!(code, 1, "{out}");
    assert_problems_then_summary(&out);
    for expected in [
        "pjprov.conf:1: error: parse error: no closing ']'",
        "pjsip.conf:5: error: phoneprov '2' must contain a MAC entry",
        "phoneprov.conf:2: error: profile 'p': static file",
        "phoneprov.conf:4: error: profile 'p': template",
        "p.cfg: error: template",
    ] {
        assert!(out.contains(expected), "missing: {expected}\nin:\n{out}");
    }
}

#[test]
fn one_message_per_problem() {
    // No config directory at all: one problem, which says what to do.
    let fx = Fixture::new();
    let missing = fx.dir.path().join("no-such-dir");
    let out = run(&[
        "check",
        "--config-dir",
        missing.to_str().unwrap(),
        "--data-dir",
        fx.data().to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.starts_with(&format!(
            "{}: error: the config directory does not exist: give the directory of pjsip.conf and \
             phoneprov.conf with --config-dir",
            missing.display()
        )),
        "{text}"
    );
    // A file rejected because of an error in it: the error, once; the rejection is in the summary.
    let fx = Fixture::new();
    fx.config("pjsip.conf", "[a](nosuchbase)\n")
        .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n");
    let (_, out) = check(&fx);
    assert_problems_then_summary(&out);
    assert_eq!(out.matches("pjsip.conf").count(), 2, "{out}");
    assert!(!out.contains("see the errors above"), "{out}");
}

#[test]
fn json_output_has_every_problem_and_the_counts() {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[1]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = p\nno equals\n",
    )
    .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n")
    .template("p.cfg", "mac=${MAC}\n");
    let out = run(&[
        "check",
        "--format",
        "json",
        "--config-dir",
        fx.etc().to_str().unwrap(),
        "--data-dir",
        fx.data().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["usable"], true);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["warnings"], 1);
    assert_eq!(report["phones"], 1);
    assert_eq!(report["routes"], 1);
    let problem = &report["problems"][0];
    assert_eq!(problem["line"], 5);
    assert_eq!(problem["severity"], "warning");
    assert!(problem["file"].as_str().unwrap().ends_with("pjsip.conf"));
    assert!(problem["message"].as_str().unwrap().starts_with("no '='"));
    assert_eq!(
        report["summary"], "0 errors, 1 warning; 1 phones, 1 routes",
        "{report}"
    );

    // A whole-file problem has no line.
    fx.config("phoneprov.conf", "[x](+)\n");
    let out = run(&[
        "check",
        "--format=json",
        "--config-dir",
        fx.etc().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["usable"], false);
    assert_eq!(report["phones"], serde_json::Value::Null);
    assert_eq!(report["rejected"], serde_json::json!(["phoneprov.conf"]));
}

/// A file pjprov may not read is "permission denied", with the user pjprov runs as; never "missing".
#[test]
fn an_unreadable_file_says_permission_denied_and_who_pjprov_runs_as() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[1]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = p\n",
    )
    .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n")
    .config("pjprov.conf", "[acl]\n")
    .template("p.cfg", "mac=${MAC}\n");
    crate::util::open_to_all(fx.dir.path());
    let runner = crate::util::as_nobody(fx.dir.path());
    let user = match &runner {
        Some(_) => "nobody".to_owned(),
        None => std::env::var("USER").unwrap_or_default(),
    };
    for file in [
        fx.etc().join("pjprov.conf"),
        fx.data().join("phoneprov/p.cfg"),
    ] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
        let mut command = match &runner {
            Some(wrapper) => {
                let mut command = std::process::Command::new(&wrapper[0]);
                command.args(&wrapper[1..]);
                command
            }
            None => crate::util::pjprov(),
        };
        let out = command
            .args(["check", "--config-dir"])
            .arg(fx.etc())
            .arg("--data-dir")
            .arg(fx.data())
            .output()
            .unwrap();
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert_problems_then_summary(&text);
        let line = text
            .lines()
            .find(|l| l.starts_with(file.to_str().unwrap()))
            .unwrap_or_else(|| panic!("{} is not reported:\n{text}", file.display()));
        assert!(
            line.contains("permission denied: pjprov runs as user '"),
            "{line}"
        );
        if !user.is_empty() {
            assert!(line.contains(&format!("user '{user}'")), "{line}");
        }
        assert!(line.contains("with mode 0000"), "{line}");
        assert!(
            !text.contains("does not exist") && !text.contains("missing"),
            "{text}"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}
