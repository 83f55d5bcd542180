//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn pjprov() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pjprov"))
}

/// Runs `pjprov` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    pjprov().args(args).output().expect("run pjprov")
}

/// A temporary config dir and data dir.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::create_dir_all(dir.path().join("data/phoneprov")).unwrap();
        Fixture { dir }
    }

    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Writes `etc/<name>`.
    pub fn config(&self, name: &str, text: &str) -> &Self {
        write(&self.etc().join(name), text);
        self
    }

    /// Writes `data/phoneprov/<name>`.
    pub fn template(&self, name: &str, text: &str) -> &Self {
        write(&self.data().join("phoneprov").join(name), text);
        self
    }
}

pub fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A running `pjprov serve`, stopped (SIGTERM) when dropped.
pub struct Server {
    pub child: std::process::Child,
    /// The plain HTTP address (the HTTPS one when plain HTTP is off).
    pub addr: std::net::SocketAddr,
    /// The HTTPS address, when `--tls-listen` was given.
    pub tls_addr: Option<std::net::SocketAddr>,
    /// The TFTP address, when `--tftp-listen` was given.
    pub tftp_addr: Option<std::net::SocketAddr>,
    pub admin: Option<std::net::SocketAddr>,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts `pjprov serve` on an ephemeral loopback port with `extra` arguments.
    pub fn start(etc: &Path, data: &Path, extra: &[&str]) -> Server {
        Server::start_logging(etc, data, extra, "info")
    }

    /// Starts `pjprov serve` with `extra` arguments and the log filter `log`. Plain HTTP listens on an
    /// ephemeral loopback port unless `extra` has `--no-plain-http`; HTTPS when it has `--tls-listen`.
    pub fn start_logging(etc: &Path, data: &Path, extra: &[&str], log_filter: &str) -> Server {
        Server::start_in(None, etc, data, extra, log_filter)
    }

    /// Like [`Server::start_logging`], run from the directory `cwd` (so `etc` and `data` may be relative).
    pub fn start_in(
        cwd: Option<&Path>,
        etc: &Path,
        data: &Path,
        extra: &[&str],
        log_filter: &str,
    ) -> Server {
        use std::io::BufRead;
        let plain = !extra.contains(&"--no-plain-http");
        let tls = extra.contains(&"--tls-listen");
        let tftp = extra.contains(&"--tftp-listen");
        let mut command = pjprov();
        if let Some(cwd) = cwd {
            command.current_dir(cwd);
        }
        command
            .arg("serve")
            .arg("--config-dir")
            .arg(etc)
            .arg("--data-dir")
            .arg(data)
            .args(["--admin-listen", "127.0.0.1:0", "--debounce-ms", "50"]);
        if plain {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = command
            .args(extra)
            .env("RUST_LOG", log_filter)
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start pjprov serve");
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (found, addresses) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("serving phones on http://").nth(1) {
                    let addr = rest.split('/').next().unwrap().to_owned();
                    let _ = found.send(("http", addr));
                }
                if let Some(rest) = line.split("serving phones over TFTP on ").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap().to_owned();
                    let _ = found.send(("tftp", addr));
                }
                if let Some(rest) = line.split("serving phones on https://").nth(1) {
                    let addr = rest.split('/').next().unwrap().to_owned();
                    let _ = found.send(("https", addr));
                }
                if let Some(rest) = line.split("metrics on http://").nth(1) {
                    let addr = rest.split('/').next().unwrap().to_owned();
                    let _ = found.send(("admin", addr));
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut addr = None;
        let mut tls_addr = None;
        let mut tftp_addr = None;
        let mut admin = None;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while (plain && addr.is_none())
            || (tls && tls_addr.is_none())
            || (tftp && tftp_addr.is_none())
            || admin.is_none()
        {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match addresses.recv_timeout(left) {
                Ok(("http", a)) => addr = Some(a.parse().unwrap()),
                Ok(("https", a)) => tls_addr = Some(a.parse().unwrap()),
                Ok(("tftp", a)) => tftp_addr = Some(a.parse().unwrap()),
                Ok((_, a)) => admin = Some(a.parse().unwrap()),
                Err(_) => panic!("pjprov serve did not start:\n{}", log.lock().unwrap()),
            }
        }
        Server {
            child,
            addr: addr.or(tls_addr).unwrap(),
            tls_addr,
            tftp_addr,
            admin,
            log,
        }
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log contains `text` (or panics after `secs`).
    pub fn wait_for_log(&self, text: &str, secs: u64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if self.log().contains(text) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("'{text}' not logged within {secs}s:\n{}", self.log());
    }

    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn get(&self, path: &str) -> Response {
        request(self.addr, "GET", path, &[])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request with `Connection: close` and reads the whole answer (a minimal HTTP/1.1 client).
pub fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    exchange(
        std::net::TcpStream::connect(addr).unwrap(),
        addr,
        method,
        path,
        headers,
    )
}

/// Writes one request on `stream` and reads the whole answer.
fn exchange(
    mut stream: std::net::TcpStream,
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    use std::io::{Read, Write};
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse_response(&raw, method == "HEAD")
}

pub fn parse_response(raw: &[u8], head: bool) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head_text = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head_text.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = if head {
        Vec::new()
    } else {
        raw[split + 4..].to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

/// Like [`request`], from the local address `from` (any 127.x.y.z works on Linux): another client.
pub fn request_from(
    from: std::net::IpAddr,
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::new(from, 0).into())
        .unwrap();
    socket.connect(&addr.into()).unwrap();
    exchange(socket.into(), addr, method, path, headers)
}

/// What curl did.
#[derive(Debug)]
pub struct Curl {
    /// The HTTP status (0 when there was no response, e.g. a failed TLS handshake).
    pub status: u16,
    pub body: Vec<u8>,
    /// curl's exit code.
    pub code: i32,
    pub stderr: String,
}

/// Runs `curl` (an independent HTTP, TLS and Digest implementation) with `args`.
pub fn curl(args: &[&str]) -> Curl {
    let output = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "20",
            "--write-out",
            "\n%{http_code}",
        ])
        .args(args)
        .output()
        .expect("curl is needed by these tests: install it (apt-get install curl)");
    let mut out = output.stdout;
    let split = out.iter().rposition(|&b| b == b'\n').unwrap_or(0);
    let status = String::from_utf8_lossy(&out[split..])
        .trim()
        .parse()
        .unwrap_or(0);
    out.truncate(split);
    Curl {
        status,
        body: out,
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Copies the directory `from` (recursively, symlinks as the files they point to) to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
