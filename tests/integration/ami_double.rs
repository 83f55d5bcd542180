//! An Asterisk manager interface double that speaks the real protocol: the banner, `Login`, `PJSIPNotify`
//! responses, and a dropped connection on demand. It records the NOTIFYs asked for.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One NOTIFY asked of "Asterisk".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    pub endpoint: String,
    pub event: String,
}

/// The double's state.
#[derive(Debug, Default)]
pub struct Recorded {
    pub notifies: Mutex<Vec<Notify>>,
    pub logins: AtomicUsize,
    /// Drop the connection when the next NOTIFY arrives (without answering it).
    pub drop_next: AtomicBool,
    /// Endpoints Asterisk does not know.
    pub unknown_endpoints: Mutex<Vec<String>>,
}

/// A running double.
pub struct Ami {
    pub addr: SocketAddr,
    pub recorded: Arc<Recorded>,
}

impl Ami {
    /// Listens on an ephemeral loopback port; `secret` is the only one accepted for user `pjprov`.
    pub fn start(secret: &'static str) -> Ami {
        Ami::start_on(0, secret)
    }

    /// Listens on `port` (0: an ephemeral one).
    pub fn start_on(port: u16, secret: &'static str) -> Ami {
        Ami::listen(port, secret, None)
    }

    /// Manager over TLS (as Asterisk's `tlsenable`), with `certificate` and `key` (PEM).
    pub fn start_tls(secret: &'static str, certificate: &str, key: &str) -> Ami {
        use rustls::pki_types::pem::PemObject;
        let chain = rustls::pki_types::CertificateDer::pem_slice_iter(certificate.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        Ami::listen(0, secret, Some(Arc::new(config)))
    }

    fn listen(port: u16, secret: &'static str, tls: Option<Arc<rustls::ServerConfig>>) -> Ami {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let addr = listener.local_addr().unwrap();
        let recorded = Arc::new(Recorded::default());
        let state = recorded.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = state.clone();
                let tls = tls.clone();
                std::thread::spawn(move || match tls {
                    None => session(stream, secret, &state),
                    Some(config) => {
                        let Ok(server) = rustls::ServerConnection::new(config) else {
                            return;
                        };
                        session(rustls::StreamOwned::new(server, stream), secret, &state);
                    }
                });
            }
        });
        Ami { addr, recorded }
    }

    pub fn notifies(&self) -> Vec<Notify> {
        self.recorded.notifies.lock().unwrap().clone()
    }

    /// Waits until `count` NOTIFYs arrived (or panics after `secs`).
    pub fn wait_for(&self, count: usize, secs: u64) -> Vec<Notify> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.notifies();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} NOTIFY(s) instead of {count}: {got:?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The `[ami]` section that reaches this double.
    pub fn section(&self, secret: &str) -> String {
        format!(
            "[ami]\nhost = 127.0.0.1\nport = {}\nusername = pjprov\nsecret = {secret}\nquiet = 0\nrate = 100\n",
            self.addr.port()
        )
    }
}

fn session(stream: impl Read + Write, secret: &str, state: &Recorded) {
    let mut reader = BufReader::new(stream);
    if write(&mut reader, b"Asterisk Call Manager/9.0.0\r\n").is_err() {
        return;
    }
    let mut logged_in = false;
    loop {
        let mut message: Vec<(String, String)> = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                message.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        if message.is_empty() {
            continue;
        }
        let get = |key: &str| {
            message
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let id = get("ActionID");
        let reply = match get("Action").to_ascii_lowercase().as_str() {
            "login" => {
                state.logins.fetch_add(1, Ordering::Relaxed);
                if get("Username") == "pjprov" && get("Secret") == secret {
                    logged_in = true;
                    // An event before the response, as Asterisk may send.
                    let _ = write(
                        &mut reader,
                        b"Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n",
                    );
                    format!(
                        "Response: Success\r\nActionID: {id}\r\nMessage: Authentication accepted\r\n\r\n"
                    )
                } else {
                    format!(
                        "Response: Error\r\nActionID: {id}\r\nMessage: Authentication failed\r\n\r\n"
                    )
                }
            }
            "pjsipnotify" if logged_in => {
                if state.drop_next.swap(false, Ordering::Relaxed) {
                    return;
                }
                let endpoint = get("Endpoint");
                if state.unknown_endpoints.lock().unwrap().contains(&endpoint) {
                    format!(
                        "Response: Error\r\nActionID: {id}\r\nMessage: Unable to retrieve endpoint {endpoint}\r\n\r\n"
                    )
                } else {
                    let event = get("Variable")
                        .strip_prefix("Event=")
                        .unwrap_or_default()
                        .to_owned();
                    state
                        .notifies
                        .lock()
                        .unwrap()
                        .push(Notify { endpoint, event });
                    format!("Response: Success\r\nActionID: {id}\r\nMessage: NOTIFY sent\r\n\r\n")
                }
            }
            _ => format!("Response: Error\r\nActionID: {id}\r\nMessage: Permission denied\r\n\r\n"),
        };
        if write(&mut reader, reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// Writes to the stream under `reader` (one stream both ways: a TLS one cannot be cloned).
fn write<S: Read + Write>(reader: &mut BufReader<S>, bytes: &[u8]) -> std::io::Result<()> {
    let stream = reader.get_mut();
    stream.write_all(bytes)?;
    stream.flush()
}
