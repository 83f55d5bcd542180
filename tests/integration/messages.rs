//! What pjprov says when something is wrong at start-up or on the command line: each message says what to
//! fix. Also the command line's own output: `--version`, completions, manual pages.

use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Fixture, Server, pjprov, run, stderr, stdout};

/// A configuration with one phone that works.
fn working() -> Fixture {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        "[udp]\ntype = transport\nbind = 0.0.0.0\n[1]\ntype = phoneprov\nMAC = 0004f2abcdef\nPROFILE = p\n",
    )
    .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n")
    .template("p.cfg", "mac=${MAC}\n");
    fx
}

/// Runs `serve` with `args`, expecting it to exit by itself within 20 s; returns its exit code and stderr.
/// Its state goes into the fixture unless `args` says where.
fn serve_exits(command: Command, fx: &Fixture, args: &[&str]) -> (Option<i32>, String) {
    let mut command = command;
    if !args.contains(&"--state-dir") {
        command
            .arg("serve")
            .arg("--state-dir")
            .arg(fx.dir.path().join("state"));
    } else {
        command.arg("serve");
    }
    let mut child = command
        .arg("--config-dir")
        .arg(fx.etc())
        .arg("--data-dir")
        .arg(fx.data())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pjprov serve {args:?} kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), err)
}

#[test]
fn an_invalid_address_says_what_a_valid_one_looks_like() {
    for (option, value, hint) in [
        ("--listen", "8088", "did you mean 0.0.0.0:8088?"),
        (
            "--listen",
            "localhost:8088",
            "'localhost' is not an IP address",
        ),
        ("--tls-listen", "::1", "an IPv6 address goes in brackets"),
        ("--tftp-listen", "0.0.0.0:69x", "the port must be a number"),
        ("--admin-listen", "8089", "did you mean 0.0.0.0:8089?"),
    ] {
        let out = run(&["serve", option, value]);
        assert_eq!(out.status.code(), Some(2), "{option} {value}");
        let err = stderr(&out);
        assert!(err.contains(hint), "{option} {value}: {err}");
        assert!(
            err.contains("0.0.0.0:8088") && err.contains("[::]:8088"),
            "{option} {value}: the message shows valid values: {err}"
        );
    }
}

#[test]
fn a_port_in_use_says_who_usually_has_it() {
    let fx = working();
    // Port 8088 taken (by this test, or already by something else: either way pjprov cannot have it).
    let _held = std::net::TcpListener::bind("127.0.0.1:8088");
    let (code, err) = serve_exits(
        pjprov(),
        &fx,
        &["--listen", "127.0.0.1:8088", "--admin-listen", "none"],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cannot listen on 127.0.0.1:8088 (HTTP)")
            && err.contains("8088 is Asterisk's own HTTP port")
            && err.contains("noload => res_phoneprov.so"),
        "{err}"
    );
    // Said once, and nothing claims to be serving: pjprov stops.
    assert_eq!(err.matches("cannot listen on").count(), 1, "{err}");
    assert!(!err.contains("still serving"), "{err}");
    // Another port: which program has it.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let (code, err) = serve_exits(
        pjprov(),
        &fx,
        &[
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin-listen",
            "none",
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!("another program listens on port {port}")),
        "{err}"
    );
    assert!(!err.contains("Asterisk's own"), "{err}");
}

#[test]
fn a_privileged_port_without_the_capability_says_so() {
    let unprivileged_from: u16 =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(1024);
    if unprivileged_from <= 69 {
        crate::reference::skip(
            "this host lets anyone bind ports below 1024 (net.ipv4.ip_unprivileged_port_start)",
        );
        return;
    }
    let fx = working();
    crate::util::open_to_all(fx.dir.path());
    let command = match crate::util::as_nobody(fx.dir.path()) {
        Some(wrapper) => {
            let mut command = Command::new(&wrapper[0]);
            command.args(&wrapper[1..]);
            command
        }
        None => pjprov(),
    };
    let state = fx.dir.path().join("state");
    let (code, err) = serve_exits(
        command,
        &fx,
        &[
            "--listen",
            "127.0.0.1:0",
            "--tftp-listen",
            "127.0.0.1:69",
            "--admin-listen",
            "none",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cannot listen on 127.0.0.1:69 (TFTP)")
            && err.contains("port 69 is privileged")
            && err.contains("CAP_NET_BIND_SERVICE")
            && err.contains("setcap cap_net_bind_service=+ep"),
        "{err}"
    );
}

#[test]
fn tftp_without_profiles_warns_naming_the_setting() {
    let fx = working();
    let server = Server::start(&fx.etc(), &fx.data(), &["--tftp-listen", "127.0.0.1:0"]);
    server.wait_for_log("TFTP is on but pjprov.conf has no [tftp] profiles", 10);
    // Named, it says nothing.
    let fx = working();
    fx.config("pjprov.conf", "[tftp]\nprofiles = p\n");
    let server = Server::start(&fx.etc(), &fx.data(), &["--tftp-listen", "127.0.0.1:0"]);
    server.wait_for_log("configuration loaded", 10);
    assert!(
        !server.log().contains("[tftp] profiles"),
        "{}",
        server.log()
    );
}

/// The `STATUS=` lines pjprov sends systemd (through `$NOTIFY_SOCKET`) until READY, and its log.
fn start_under_systemd(fx: &Fixture) -> (Vec<String>, std::process::Child, UnixDatagram) {
    let socket_dir = tempfile::tempdir().unwrap();
    let path = socket_dir.path().join("notify");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let child = pjprov()
        .arg("serve")
        .arg("--state-dir")
        .arg(fx.dir.path().join("state"))
        .arg("--config-dir")
        .arg(fx.etc())
        .arg("--data-dir")
        .arg(fx.data())
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .env("NOTIFY_SOCKET", &path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut messages = Vec::new();
    let mut buf = [0u8; 4096];
    while !messages.iter().any(|m: &String| m.contains("READY=1")) {
        let n = socket.recv(&mut buf).expect("a notification from pjprov");
        messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    // The socket's directory must outlive the server's use of it.
    std::mem::forget(socket_dir);
    (messages, child, socket)
}

fn stop(mut child: std::process::Child) -> String {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    log
}

#[test]
fn no_usable_configuration_at_start_is_said_to_systemd_and_in_the_log() {
    let fx = Fixture::new();
    fx.config("pjsip.conf", "[a](nosuchbase)\n")
        .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n");
    let (messages, child, _socket) = start_under_systemd(&fx);
    let ready = messages.last().unwrap();
    let status = ready
        .lines()
        .find_map(|l| l.strip_prefix("STATUS="))
        .unwrap_or_else(|| panic!("no STATUS with READY: {messages:?}"));
    assert!(
        status
            .starts_with("no usable configuration: nothing is served to phones until it is fixed")
            && status.contains("pjsip.conf:1: error: inheritance requested"),
        "{status}"
    );
    let log = stop(child);
    assert!(log.contains("no usable configuration"), "{log}");
    assert!(
        log.contains("every request answers 503 until the configuration can be used"),
        "{log}"
    );
    assert!(
        !log.contains("keeps serving") && !log.contains("previous one"),
        "there is no previous configuration: {log}"
    );

    // A working one: READY says it serves.
    let fx = working();
    let (messages, child, _socket) = start_under_systemd(&fx);
    assert!(
        messages.last().unwrap().contains("STATUS=serving"),
        "{messages:?}"
    );
    stop(child);
}

/// Every field of every JSON log line that holds a number holds it as a number, not as a string of digits.
#[test]
fn json_logs_write_numbers_as_numbers() {
    let fx = working();
    let state = fx.dir.path().join("state");
    let server = Server::start(
        &fx.etc(),
        &fx.data(),
        &[
            "--log-format",
            "json",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    assert_eq!(server.get("/phoneprov/0004f2abcdef.cfg").status, 200);
    assert_eq!(server.get("/phoneprov/0004f2000000.cfg").status, 404);
    server.wait_for_log("\"status\":404", 10);
    // A reload, for the reload's own numbers.
    fx.template("p.cfg", "mac=${MAC} again\n");
    server.wait_for_log("\"generation\":2", 10);
    let log = server.log();
    let mut numbers = 0;
    for line in log.lines() {
        let record: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let fields = record["fields"].as_object().or(record.as_object()).unwrap();
        for (name, value) in fields {
            if let Some(text) = value.as_str() {
                assert!(
                    text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()),
                    "'{name}' is a number written as a string: {line}"
                );
            }
            numbers += usize::from(value.is_number());
        }
    }
    assert!(numbers >= 8, "{log}");
}

#[test]
fn version_names_the_commit() {
    let out = run(&["--version"]);
    assert!(out.status.success());
    let version = stdout(&out);
    let package = env!("CARGO_PKG_VERSION");
    let commit = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short=12",
            "HEAD",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match (std::env::var("PJPROV_COMMIT").ok(), commit) {
        (Some(set), _) if !set.is_empty() => {
            assert_eq!(version.trim(), format!("pjprov {package} (commit {set})"))
        }
        (_, Some(commit)) => {
            assert_eq!(
                version.trim(),
                format!("pjprov {package} (commit {commit})")
            )
        }
        // Built outside a checkout: the version alone.
        (_, None) => assert_eq!(version.trim(), format!("pjprov {package}")),
    }
}

const COMMANDS: [&str; 10] = [
    "serve",
    "check",
    "list",
    "render",
    "dump",
    "explain",
    "status",
    "notify",
    "health",
    "completions",
];

#[test]
fn completions_know_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for command in COMMANDS {
            assert!(script.contains(command), "{shell}: {command}");
        }
        assert!(script.contains("config-dir"), "{shell}");
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_command_has_a_manual_page() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert!(page("pjprov.1").contains(".TH pjprov 1"));
    for command in COMMANDS {
        let text = page(&format!("pjprov-{command}.1"));
        assert!(
            text.contains(&format!(".TH pjprov-{command} 1")),
            "{command}"
        );
        assert!(text.contains("\\-\\-"), "{command}: its options are in it");
    }
    assert!(page("pjprov-serve.1").contains("\\-\\-listen"));
    assert!(page("pjprov-check.1").contains("\\-\\-format"));
    let hidden = Path::new("pjprov-man.1");
    assert!(!dir.path().join(hidden).exists(), "`man` itself is hidden");
}

#[test]
fn health_is_an_exit_code() {
    let fx = working();
    let server = Server::start(&fx.etc(), &fx.data(), &[]);
    let admin = server.admin.unwrap().to_string();
    let out = run(&["health", "--admin", &admin]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("ok"), "{}", stdout(&out));
    drop(server);

    let fx = Fixture::new();
    fx.config("pjsip.conf", "[a](nosuchbase)\n")
        .config("phoneprov.conf", "[p]\n${MAC}.cfg => p.cfg\n");
    let mut options = crate::util::Options::new(&fx.etc(), &fx.data());
    options.expect_phones = false;
    let server = options.start();
    let admin = server.admin.unwrap().to_string();
    let out = run(&["health", "--admin", &admin]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("pjsip.conf:1: error: inheritance requested"),
        "{}",
        stderr(&out)
    );
    drop(server);

    let out = run(&["health", "--admin", &admin]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is `pjprov serve` running?"),
        "{}",
        stderr(&out)
    );
}
