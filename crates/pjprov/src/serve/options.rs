//! What `pjprov serve` listens on and which certificate it uses: the command line wins over pjprov.conf,
//! which wins over the defaults.

use std::net::SocketAddr;

use pjprov_core::Settings;

use crate::cli::{AdminListen, ServeArgs};
use pjprov_core::settings::TlsFiles;

/// Asterisk's HTTP port, on every IPv4 address.
const DEFAULT_LISTEN: &str = "0.0.0.0:8088";
const DEFAULT_ADMIN: &str = "127.0.0.1:8089";

/// Every socket to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listeners {
    pub http: Vec<SocketAddr>,
    pub https: Vec<SocketAddr>,
    pub tftp: Vec<SocketAddr>,
    pub admin: Option<SocketAddr>,
}

impl Listeners {
    pub fn resolve(args: &ServeArgs, settings: &Settings) -> Listeners {
        let general = &settings.general;
        let plain_off =
            args.no_plain_http || (args.listen.is_empty() && general.plain_http == Some(false));
        let http = if plain_off {
            Vec::new()
        } else if !args.listen.is_empty() {
            args.listen.clone()
        } else if !general.listen.is_empty() {
            general.listen.clone()
        } else {
            vec![DEFAULT_LISTEN.parse().expect("a valid default")]
        };
        let pick = |cli: &Vec<SocketAddr>, conf: &Vec<SocketAddr>| {
            if cli.is_empty() {
                conf.clone()
            } else {
                cli.clone()
            }
        };
        let admin = match args.admin_listen {
            Some(AdminListen::Off) => None,
            Some(AdminListen::On(addr)) => Some(addr),
            None => match general.admin_listen {
                Some(addr) => addr,
                None => Some(DEFAULT_ADMIN.parse().expect("a valid default")),
            },
        };
        Listeners {
            http,
            https: pick(&args.tls_listen, &general.tls_listen),
            tftp: pick(&args.tftp_listen, &settings.tftp.listen),
            admin,
        }
    }

    /// What to open when pjprov.conf exists but cannot be used: only what the command line names (and the
    /// admin address, loopback unless the command line says otherwise). Never a default wider than what
    /// the admin wrote.
    pub fn command_line_only(args: &ServeArgs) -> Listeners {
        let admin = match args.admin_listen {
            Some(AdminListen::Off) => None,
            Some(AdminListen::On(addr)) => Some(addr),
            None => Some(DEFAULT_ADMIN.parse().expect("a valid default")),
        };
        Listeners {
            http: if args.no_plain_http {
                Vec::new()
            } else {
                args.listen.clone()
            },
            https: args.tls_listen.clone(),
            tftp: args.tftp_listen.clone(),
            admin,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.http.is_empty() && self.https.is_empty() && self.tftp.is_empty()
    }
}

/// What an admin can do about an address that cannot be bound.
pub fn bind_hints(addr: SocketAddr, udp: bool, error: &std::io::Error) -> Vec<String> {
    let mut hints = Vec::new();
    match error.kind() {
        std::io::ErrorKind::AddrInUse => {
            if addr.port() == 8088 && !udp {
                hints.push(
                    "8088 is Asterisk's own HTTP port: stop Asterisk serving it (noload => res_phoneprov.so, \
                     or bindport= another port in http.conf), or give pjprov another (--listen 0.0.0.0:8090)"
                        .to_owned(),
                );
            } else {
                hints.push(format!(
                    "another program listens on port {} (ss -lntup | grep :{} shows which)",
                    addr.port(),
                    addr.port()
                ));
            }
        }
        std::io::ErrorKind::PermissionDenied if addr.port() < 1024 => hints.push(format!(
            "port {} is privileged: pjprov needs the CAP_NET_BIND_SERVICE capability for it (the systemd \
             unit grants it; elsewhere `setcap cap_net_bind_service=+ep {}`), or use a port above 1023",
            addr.port(),
            std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "/usr/bin/pjprov".to_owned())
        )),
        std::io::ErrorKind::AddrNotAvailable => hints.push(
            "this host has no such address: listen on one of its addresses, or 0.0.0.0 / [::] for all".to_owned(),
        ),
        _ => {}
    }
    hints
}

/// The certificate files: each one from the command line when given there, else from pjprov.conf.
pub fn tls_files(args: &ServeArgs, settings: &Settings) -> TlsFiles {
    let conf = &settings.general.tls;
    TlsFiles {
        cert: args.tls_cert.clone().or_else(|| conf.cert.clone()),
        key: args.tls_key.clone().or_else(|| conf.key.clone()),
        client_ca: args
            .tls_client_ca
            .clone()
            .or_else(|| conf.client_ca.clone()),
    }
}

/// The URL prefix: the command line's, else pjprov.conf's, else none.
pub fn prefix<'a>(cli: Option<&'a str>, settings: &'a Settings) -> &'a str {
    cli.or(settings.general.prefix.as_deref()).unwrap_or("")
}
