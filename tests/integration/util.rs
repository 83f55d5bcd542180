//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
/// The binary, with no state directory of the machine's: a test that wants one passes `--state-dir`.
/// (`/dev/null/...` can never be created, so a command that would write state keeps it in memory.)
pub fn pjprov() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pjprov"));
    command.env("PJPROV_STATE_DIR", "/dev/null/pjprov-test-state");
    command
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
    stalled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The state directory, when the test gave none.
    _state: Option<tempfile::TempDir>,
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
        let mut options = Options::new(etc, data);
        options.cwd = cwd.map(Path::to_owned);
        options.extra = extra.iter().map(|s| s.to_string()).collect();
        options.log_filter = log_filter.to_owned();
        options.start()
    }

    fn spawn(options: &Options) -> Server {
        use std::io::BufRead;
        let extra: Vec<&str> = options.extra.iter().map(String::as_str).collect();
        let plain = options.listen && !extra.contains(&"--no-plain-http");
        let tls = extra.contains(&"--tls-listen");
        let tftp = extra.contains(&"--tftp-listen");
        let mut command = match &options.run_as {
            Some(wrapper) => {
                let mut command = Command::new(&wrapper[0]);
                command.args(&wrapper[1..]);
                command
            }
            None => pjprov(),
        };
        if let Some(cwd) = &options.cwd {
            command.current_dir(cwd);
        }
        command
            .arg("serve")
            .arg("--config-dir")
            .arg(&options.etc)
            .arg("--data-dir")
            .arg(&options.data)
            .args([
                "--admin-listen",
                &options.admin_listen,
                "--debounce-ms",
                "50",
            ]);
        // A state directory of its own, unless the test gives one (to keep it across a restart): never
        // next to the configuration, which may be the shared reference material or the repository.
        let state =
            (!extra.contains(&"--state-dir")).then(|| tempfile::tempdir().expect("state dir"));
        if let Some(state) = &state {
            command.arg("--state-dir").arg(state.path());
        }
        if plain {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = command
            .args(&extra)
            .env("RUST_LOG", &options.log_filter)
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start pjprov serve");
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (found, addresses) = std::sync::mpsc::channel();
        let sink = log.clone();
        let stalled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stall = stalled.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                while stall.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
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
        let phones = options.expect_phones;
        while (phones && plain && addr.is_none())
            || (phones && tls && tls_addr.is_none())
            || (phones && tftp && tftp_addr.is_none())
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
        let unbound: std::net::SocketAddr = "0.0.0.0:0".parse().unwrap();
        Server {
            child,
            addr: addr.or(tls_addr).unwrap_or(unbound),
            tls_addr,
            tftp_addr,
            admin,
            log,
            stalled,
            _state: state,
        }
    }

    /// Stops reading the server's stderr, as a stuck log reader would.
    pub fn stall_log(&self) {
        self.stalled
            .store(true, std::sync::atomic::Ordering::Relaxed);
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
        self.stalled
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// How to start a server: [`Server::start`] and friends, or this for more control.
#[derive(Debug, Clone)]
pub struct Options {
    pub etc: PathBuf,
    pub data: PathBuf,
    pub cwd: Option<PathBuf>,
    pub extra: Vec<String>,
    pub log_filter: String,
    /// Add `--listen 127.0.0.1:0` (unless `--no-plain-http` is among `extra`).
    pub listen: bool,
    /// Wait for the phone-facing listeners too (false: only for the admin address).
    pub expect_phones: bool,
    /// Run through this command (e.g. `setpriv ... pjprov`) instead of the binary itself.
    pub run_as: Option<Vec<String>>,
    /// `--admin-listen`.
    pub admin_listen: String,
}

impl Options {
    pub fn new(etc: &Path, data: &Path) -> Options {
        Options {
            etc: etc.to_owned(),
            data: data.to_owned(),
            cwd: None,
            extra: Vec::new(),
            log_filter: "info".into(),
            listen: true,
            expect_phones: true,
            run_as: None,
            admin_listen: "127.0.0.1:0".into(),
        }
    }

    pub fn args(mut self, args: &[&str]) -> Options {
        self.extra.extend(args.iter().map(|s| s.to_string()));
        self
    }

    pub fn start(&self) -> Server {
        Server::spawn(self)
    }
}

/// A free TCP port on loopback (bound and released: good enough for a test that binds it right away).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// When the tests run as root, a command that runs `pjprov` as `nobody` (from a copy of the binary anyone
/// may run, placed in `dir`), so that file permissions apply to it; `None` when the tests do not run as
/// root (pjprov then simply runs as the current user, for whom permissions apply anyway).
pub fn as_nobody(dir: &Path) -> Option<Vec<String>> {
    use std::os::unix::fs::PermissionsExt;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let euid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or("0");
    if euid != "0" {
        return None;
    }
    let copy = dir.join("pjprov-bin");
    std::fs::copy(env!("CARGO_BIN_EXE_pjprov"), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    Some(vec![
        "setpriv".into(),
        "--reuid=65534".into(),
        "--regid=65534".into(),
        "--clear-groups".into(),
        "--".into(),
        copy.display().to_string(),
    ])
}

/// Makes every directory under `dir` (and `dir` itself) searchable and every file readable by anyone.
pub fn open_to_all(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            open_to_all(&path);
        } else {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
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

/// Like [`request_from`], with a body (its `Content-Length` is added).
pub fn request_with_body(
    from: std::net::IpAddr,
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::new(from, 0).into())
        .unwrap();
    socket.connect(&addr.into()).unwrap();
    let length = body.len().to_string();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Content-Length", &length));
    exchange_with(socket.into(), addr, method, path, &all, body.as_bytes())
}

/// Writes one request on `stream` and reads the whole answer.
fn exchange(
    stream: std::net::TcpStream,
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    exchange_with(stream, addr, method, path, headers, b"")
}

fn exchange_with(
    mut stream: std::net::TcpStream,
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    use std::io::{Read, Write};
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        text.push_str(&format!("Host: {addr}\r\n"));
    }
    text.push_str("Connection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
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

/// Debian's chromium, for the tests that need a real browser. Missing: under CI (`CI` set) the test
/// fails, since `.ci/run` installs it; elsewhere it says so and the test is skipped.
pub fn chromium() -> Option<PathBuf> {
    for candidate in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(candidate).exists() {
            return Some(PathBuf::from(candidate));
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!("chromium is needed by this test (apt-get install chromium; .ci/run installs it)");
    }
    eprintln!("SKIPPED: chromium is not installed (apt-get install chromium)");
    None
}

/// The DOM a headless chromium builds from `url`.
pub fn browser_dom(chromium: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An address of this host that is not loopback (the one it would use to reach the outside), to play a
/// client from elsewhere; `None` (said) on a host with none.
pub fn host_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // No packet is sent: connecting a UDP socket only picks the route.
    socket.connect("192.0.2.1:9").ok()?;
    let address = socket.local_addr().ok()?.ip();
    if address.is_loopback() || address.is_unspecified() {
        eprintln!("SKIPPED: this host has no address other than loopback");
        return None;
    }
    Some(address)
}
