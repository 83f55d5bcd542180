//! The sockets pjprov listens on, kept in line with the configuration being served.
//!
//! Fail closed: the addresses come from the command line, else pjprov.conf, else the defaults — and the
//! defaults only when pjprov.conf does not exist. When it exists but cannot be used (unreadable, invalid,
//! a TLS file it names missing), only the addresses the command line names are opened for phones (none
//! when it names none), so a broken save can never widen where pjprov listens; the addresses open then
//! follow the first usable configuration. After every reload the set is reconciled: new addresses are
//! opened first, and only once all of them are open are the ones no longer wanted closed (gracefully), so
//! an address that cannot be bound leaves the old set serving.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::http::{self, State};
use super::listen::{self, Audience, Serving};
use super::options::Listeners;
use super::{admin, show, tftp};

/// What a socket is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Plain HTTP for phones.
    Http,
    /// HTTPS for phones.
    Https,
    /// TFTP for phones.
    Tftp,
    /// `/metrics`, `/healthz`, the API.
    Admin,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Http => "HTTP",
            Role::Https => "HTTPS",
            Role::Tftp => "TFTP",
            Role::Admin => "admin",
        }
    }
}

/// A socket bound, not yet served.
enum Bound {
    Tcp(tokio::net::TcpListener),
    Udp(std::net::UdpSocket),
}

/// A socket being served.
struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// How to serve the sockets.
#[derive(Debug, Clone)]
pub struct Setup {
    pub limits: listen::Limits,
    pub grace: Duration,
    pub prefix: String,
}

/// The sockets open, by role and the address asked for (`127.0.0.1:0` stays one socket across reloads).
pub struct ListenerSet {
    state: Arc<State>,
    setup: Setup,
    open: BTreeMap<(Role, SocketAddr), Running>,
}

/// An address that could not be opened.
#[derive(Debug)]
pub struct Failed {
    pub role: Role,
    pub addr: SocketAddr,
    pub error: std::io::Error,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot listen on {} ({}): {}",
            show(self.addr),
            self.role.name(),
            self.error
        )?;
        for hint in super::options::bind_hints(self.addr, self.role == Role::Tftp, &self.error) {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl ListenerSet {
    pub fn new(state: Arc<State>, setup: Setup) -> ListenerSet {
        ListenerSet {
            state,
            setup,
            open: BTreeMap::new(),
        }
    }

    /// Whether any socket is open.
    pub fn any_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Makes the open sockets those of `wanted`. Nothing is closed unless everything wanted could be
    /// opened; the failures are returned.
    pub fn reconcile(&mut self, wanted: &Listeners) -> Vec<Failed> {
        let wanted: Vec<(Role, SocketAddr)> = wanted
            .http
            .iter()
            .map(|a| (Role::Http, *a))
            .chain(wanted.https.iter().map(|a| (Role::Https, *a)))
            .chain(wanted.tftp.iter().map(|a| (Role::Tftp, *a)))
            .chain(wanted.admin.iter().map(|a| (Role::Admin, *a)))
            .collect();
        let mut bound = Vec::new();
        let mut failed = Vec::new();
        for &(role, addr) in &wanted {
            if self.open.contains_key(&(role, addr))
                || bound.iter().any(|(k, _)| *k == (role, addr))
            {
                continue;
            }
            let result = match role {
                Role::Tftp => tftp::bind(addr).map(Bound::Udp),
                _ => listen::bind(addr).map(Bound::Tcp),
            };
            match result {
                Ok(socket) => bound.push(((role, addr), socket)),
                Err(error) => failed.push(Failed { role, addr, error }),
            }
        }
        if !failed.is_empty() {
            // Keep serving what is open; the sockets just bound close as they drop.
            return failed;
        }
        for (key, socket) in bound {
            let running = self.start(key.0, socket);
            self.open.insert(key, running);
        }
        let gone: Vec<(Role, SocketAddr)> = self
            .open
            .keys()
            .filter(|key| !wanted.contains(key))
            .copied()
            .collect();
        for key in gone {
            if let Some(running) = self.open.remove(&key) {
                tracing::info!(
                    "no longer listening on {} ({}): pjprov.conf no longer names it",
                    show(key.1),
                    key.0.name()
                );
                let _ = running.stop.send(true);
                // It drains in the background; its task ends by itself.
                drop(running.task);
            }
        }
        failed
    }

    fn start(&self, role: Role, socket: Bound) -> Running {
        let (stop, stopped) = watch::channel(false);
        let state = self.state.clone();
        let setup = &self.setup;
        let task = match socket {
            Bound::Udp(socket) => {
                if let Ok(addr) = socket.local_addr() {
                    if state.is_ready() {
                        tracing::info!("serving phones over TFTP on {}", show(addr));
                    } else {
                        tracing::warn!(
                            "serving phones over TFTP on {} (every request is refused until the configuration can be used)",
                            show(addr)
                        );
                    }
                }
                tokio::spawn(tftp::serve(
                    socket,
                    state,
                    setup.limits.max_connections,
                    stopped,
                ))
            }
            Bound::Tcp(listener) => {
                let local = listener.local_addr().ok();
                match role {
                    Role::Admin => {
                        if let Some(addr) = local {
                            tracing::info!(
                                "metrics on http://{}/metrics, health on /healthz, the API on /api/v1/",
                                show(addr)
                            );
                        }
                        tokio::spawn(listen::serve(
                            listener,
                            Serving {
                                state,
                                handler: admin::handle,
                                limits: setup.limits,
                                tls: false,
                                audience: Audience::Admin,
                                stop: stopped,
                                grace: setup.grace,
                            },
                        ))
                    }
                    _ => {
                        let tls = role == Role::Https;
                        if let Some(addr) = local {
                            let url = format!(
                                "{}://{}/{}phoneprov/",
                                if tls { "https" } else { "http" },
                                show(addr),
                                setup.prefix
                            );
                            if state.is_ready() {
                                tracing::info!("serving phones on {url}");
                            } else {
                                tracing::warn!(
                                    "serving phones on {url}: every request answers 503 until the configuration can be used"
                                );
                            }
                        }
                        tokio::spawn(listen::serve(
                            listener,
                            Serving {
                                state,
                                handler: http::handle,
                                limits: setup.limits,
                                tls,
                                audience: Audience::Phones,
                                stop: stopped,
                                grace: setup.grace,
                            },
                        ))
                    }
                }
            }
        };
        Running { stop, task }
    }

    /// Stops every socket: no new connection, open ones finish (within the grace period).
    pub async fn stop(self) {
        let mut tasks = Vec::new();
        for (_, running) in self.open {
            let _ = running.stop.send(true);
            tasks.push(running.task);
        }
        for task in tasks {
            let _ = task.await;
        }
    }
}
