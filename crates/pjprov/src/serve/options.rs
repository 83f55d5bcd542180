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

    pub fn is_empty(&self) -> bool {
        self.http.is_empty() && self.https.is_empty() && self.tftp.is_empty()
    }
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
