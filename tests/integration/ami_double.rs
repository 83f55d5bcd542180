//! An Asterisk manager interface double that speaks the real protocol: the banner, `Login`, `PJSIPNotify`
//! responses, and a dropped connection on demand. It records the NOTIFYs asked for.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
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
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let addr = listener.local_addr().unwrap();
        let recorded = Arc::new(Recorded::default());
        let state = recorded.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = state.clone();
                std::thread::spawn(move || session(stream, secret, &state));
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

fn session(stream: TcpStream, secret: &str, state: &Recorded) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    if writer
        .write_all(b"Asterisk Call Manager/9.0.0\r\n")
        .is_err()
    {
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
                    let _ = writer.write_all(b"Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n");
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
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}
