//! What a request says about how the phone reached pjprov, for templates to write the URL the phone must
//! come back to (instead of a hard-coded `http://…:8088/phoneprov/`) and to choose settings per model.
//!
//! Handlebars templates see, besides the line's variables (which win), the variables below. Asterisk
//! templates do not: they see exactly Asterisk's variables, so that they give Asterisk's bytes.
//!
//! | variable | example |
//! |---|---|
//! | `PROVISIONING_URL` | `http://192.0.2.10:8088/phoneprov/`, `https://[2001:db8::1]:8443/asterisk/phoneprov/`, `tftp://192.0.2.10/` |
//! | `PROVISIONING_SCHEME` | `http`, `https`, `tftp` |
//! | `PROVISIONING_HOST` | `192.0.2.10`, `[2001:db8::1]`, `prov.example.com` (bracketed IPv6: ready for a URL) |
//! | `PROVISIONING_PORT` | `8088` |
//! | `PROVISIONING_PATH` | `/phoneprov/`, `/asterisk/phoneprov/` |
//! | `PROVISIONING_MATCH` | `D785` for `snomD785.htm` on the route `snom*.htm`: what its `*` stood for ([`crate::snapshot::wildcard`]); unset on other routes |
//! | `SERVER_URL_HOST` | `SERVER` as a URL needs it (IPv6 in brackets) |
//! | `UA_VENDOR`, `UA_MODEL`, `UA_FIRMWARE` | `yealink`, `T54W`, `96.86.0.100` (from the User-Agent; empty if unknown) |
//!
//! The host is the one the phone asked for (its `Host` header, when it is a plain host name or address),
//! else the address it connected to; the port likewise. `SERVER` itself keeps Asterisk's meaning (the
//! address, unbracketed).

use std::net::IpAddr;

use crate::agent::Agent;
use crate::vars::Vars;

/// How a request came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTPS.
    Https,
    /// TFTP.
    Tftp,
}

impl Scheme {
    /// `http`, `https`, `tftp`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Tftp => "tftp",
        }
    }
}

/// The facts of one request that a rendered file may depend on. Two requests with equal facts get the
/// same bytes, so the render cache keys on them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Request {
    /// The address the phone connected to (`SERVER`).
    pub server: IpAddr,
    /// How.
    pub scheme: Scheme,
    /// The host the phone asked for (`Host`), checked: a host name or address, without the port.
    pub host: Option<String>,
    /// The port it connected to (or named in `Host`).
    pub port: u16,
    /// Asterisk's http.conf prefix (`asterisk`), or empty.
    pub prefix: String,
    /// Vendor, model and firmware from the User-Agent.
    pub agent: Option<Agent>,
    /// What the `*` of a wildcard route stood for in the name asked.
    pub wildcard: Option<String>,
}

impl Request {
    /// A plain HTTP request to `server` on Asterisk's port, with no `Host` and no User-Agent (what
    /// `pjprov render --server-addr` shows).
    pub fn to_server(server: IpAddr) -> Request {
        Request {
            server: unmapped(server),
            scheme: Scheme::Http,
            host: None,
            port: 8088,
            prefix: String::new(),
            agent: None,
            wildcard: None,
        }
    }

    /// The same request, for a name of which a wildcard route's `*` stood for `matched`
    /// ([`crate::Route::wildcard_match`]).
    pub fn with_match(mut self, matched: Option<&str>) -> Request {
        self.wildcard = matched.map(str::to_owned);
        self
    }

    /// A request over `scheme` to `server`'s `local_port`, with the `Host` header and User-Agent it carried.
    pub fn new(
        server: IpAddr,
        scheme: Scheme,
        local_port: u16,
        host_header: Option<&str>,
        prefix: &str,
        user_agent: Option<&str>,
    ) -> Request {
        let (host, port) = match host_header.and_then(parse_host) {
            Some((host, port)) => (
                Some(host),
                port.unwrap_or(match scheme {
                    Scheme::Http => 80,
                    Scheme::Https => 443,
                    Scheme::Tftp => 69,
                }),
            ),
            None => (None, local_port),
        };
        Request {
            server: unmapped(server),
            scheme,
            host,
            port,
            prefix: prefix.trim_matches('/').to_owned(),
            agent: user_agent.and_then(Agent::parse),
            wildcard: None,
        }
    }

    /// The host as a URL writes it.
    pub fn url_host(&self) -> String {
        match &self.host {
            Some(host) => host.clone(),
            None => url_host(self.server),
        }
    }

    /// `/phoneprov/` or `/PREFIX/phoneprov/`.
    pub fn path(&self) -> String {
        if self.prefix.is_empty() {
            "/phoneprov/".to_owned()
        } else {
            format!("/{}/phoneprov/", self.prefix)
        }
    }

    /// The URL the phone must come back to.
    pub fn provisioning_url(&self) -> String {
        let default = match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
            Scheme::Tftp => 69,
        };
        let port = if self.port == default {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        match self.scheme {
            // TFTP names are route names: no /phoneprov/ needed.
            Scheme::Tftp => format!("tftp://{}{port}/", self.url_host()),
            scheme => format!(
                "{}://{}{port}{}",
                scheme.name(),
                self.url_host(),
                self.path()
            ),
        }
    }

    /// The variables a template sees from this request.
    pub fn vars(&self) -> Vars {
        let mut vars = Vars::new();
        vars.set("PROVISIONING_URL", &self.provisioning_url());
        vars.set("PROVISIONING_SCHEME", self.scheme.name());
        vars.set("PROVISIONING_HOST", &self.url_host());
        vars.set("PROVISIONING_PORT", &self.port.to_string());
        vars.set("PROVISIONING_PATH", &self.path());
        vars.set("SERVER_URL_HOST", &url_host(self.server));
        if let Some(matched) = &self.wildcard {
            vars.set("PROVISIONING_MATCH", matched);
        }
        if let Some(agent) = &self.agent {
            vars.set("UA_VENDOR", agent.vendor.name());
            vars.set("UA_MODEL", &agent.model);
            vars.set("UA_FIRMWARE", &agent.firmware);
        }
        vars.shrink_to_fit();
        vars
    }
}

impl From<IpAddr> for Request {
    fn from(server: IpAddr) -> Request {
        Request::to_server(server)
    }
}

/// Which facts of a request a template reads (so that the render cache keys on those alone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// The URL facts (`PROVISIONING_*`, `SERVER_URL_HOST`).
    pub url: bool,
    /// The User-Agent facts (`UA_*`).
    pub agent: bool,
}

impl Needs {
    /// What a template's source reads.
    pub fn of(source: &[u8]) -> Needs {
        let has = |word: &[u8]| memchr::memmem::find(source, word).is_some();
        Needs {
            url: has(b"PROVISIONING_") || has(b"SERVER_URL_HOST"),
            agent: has(b"UA_VENDOR") || has(b"UA_MODEL") || has(b"UA_FIRMWARE"),
        }
    }

    /// Both.
    pub fn or(self, other: Needs) -> Needs {
        Needs {
            url: self.url || other.url,
            agent: self.agent || other.agent,
        }
    }
}

impl Request {
    /// The same request with only the facts `needs` names (the others set to what
    /// [`Request::to_server`] has), so that requests differing only in what the file does not read share
    /// a cached body.
    pub fn narrowed(mut self, needs: Needs) -> Request {
        if !needs.url {
            self.scheme = Scheme::Http;
            self.host = None;
            self.port = 8088;
            self.prefix.clear();
            self.wildcard = None;
        }
        if !needs.agent {
            self.agent = None;
        }
        self
    }
}

/// An address as a URL writes it: IPv6 in brackets.
pub fn url_host(address: IpAddr) -> String {
    match unmapped(address) {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

fn unmapped(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// A `Host` header's host and port, when it is a plain host name, IPv4 address or bracketed IPv6 address
/// (anything else is not written into a phone's file).
fn parse_host(header: &str) -> Option<(String, Option<u16>)> {
    let header = header.trim();
    if header.is_empty() || header.len() > 255 {
        return None;
    }
    let (host, port) = if let Some(rest) = header.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let _: std::net::Ipv6Addr = inside.parse().ok()?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (format!("[{inside}]"), port)
    } else {
        let (host, port) = match header.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse().ok()?)),
            None => (header, None),
        };
        let valid = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !valid {
            return None;
        }
        (host.to_ascii_lowercase(), port)
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_a_phone_comes_back_to() {
        let v4: IpAddr = "192.0.2.10".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let plain = Request::new(v4, Scheme::Http, 8088, None, "", None);
        assert_eq!(
            plain.provisioning_url(),
            "http://192.0.2.10:8088/phoneprov/"
        );
        let named = Request::new(
            v4,
            Scheme::Https,
            8443,
            Some("Prov.Example.com"),
            "asterisk",
            None,
        );
        assert_eq!(
            named.provisioning_url(),
            "https://prov.example.com/asterisk/phoneprov/"
        );
        let bracketed = Request::new(v6, Scheme::Http, 8088, None, "", None);
        assert_eq!(
            bracketed.provisioning_url(),
            "http://[2001:db8::1]:8088/phoneprov/"
        );
        let host6 = Request::new(v6, Scheme::Http, 8088, Some("[2001:db8::1]:8088"), "", None);
        assert_eq!(
            host6.provisioning_url(),
            "http://[2001:db8::1]:8088/phoneprov/"
        );
        let tftp = Request::new(v4, Scheme::Tftp, 69, None, "", None);
        assert_eq!(tftp.provisioning_url(), "tftp://192.0.2.10/");
        let mapped = Request::to_server("::ffff:192.0.2.7".parse().unwrap());
        assert_eq!(mapped.url_host(), "192.0.2.7");
    }

    #[test]
    fn a_host_header_that_is_no_plain_host_is_ignored() {
        let v4: IpAddr = "192.0.2.10".parse().unwrap();
        for bad in [
            "evil.com/\"><x>",
            "a b",
            "host:port",
            "[not-an-address]",
            "[::1]x",
            "",
        ] {
            let request = Request::new(v4, Scheme::Http, 8088, Some(bad), "", None);
            assert_eq!(request.host, None, "{bad}");
            assert_eq!(request.port, 8088);
        }
    }

    #[test]
    fn user_agent_facts() {
        let request = Request::new(
            "192.0.2.10".parse().unwrap(),
            Scheme::Http,
            8088,
            None,
            "",
            Some("Yealink SIP-T54W 96.86.0.100 80:5e:c0:a1:00:01"),
        );
        let vars = request.vars();
        assert_eq!(vars.get("UA_VENDOR"), Some("yealink"));
        assert_eq!(vars.get("UA_MODEL"), Some("T54W"));
        assert_eq!(vars.get("SERVER_URL_HOST"), Some("192.0.2.10"));
    }
}
