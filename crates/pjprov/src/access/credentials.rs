//! HTTP authentication for phones: Digest (RFC 7616, MD5 and SHA-256, `qop=auth`, and RFC 2069's form
//! without `qop` that old phones send) and Basic (RFC 7617).
//!
//! Nonces carry no server state: a nonce is its issue time, a serial number (every nonce is unique) and an
//! HMAC of both under a key made at start-up, so any nonce this process issued within `nonce_lifetime`
//! verifies, and an older one is answered with `stale=true` (the phone retries without asking its user). Nonce counts are tracked once a response is
//! verified (`nonce.rs`): a replayed or decreasing `nc` is refused by the access decision.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use md5::Md5;
use pjprov_core::settings::{AuthSettings, DigestAlgorithm, Schemes};
use ring::hmac;
use sha2::{Digest, Sha256};

/// The process's nonce key.
#[derive(Debug)]
pub struct NonceKey {
    key: hmac::Key,
    opaque: String,
    /// Makes every nonce unique (two challenges in the same second must not share a nonce, or their
    /// counts would collide): a counter from a random start.
    serial: std::sync::atomic::AtomicU64,
}

/// What a nonce turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by this process and fresh.
    Fresh,
    /// Issued by this process, but too old: challenge again with `stale=true`.
    Stale,
    /// Not one of ours.
    Forged,
}

impl NonceKey {
    /// A fresh random key.
    pub fn generate() -> NonceKey {
        let rng = ring::rand::SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng).unwrap_or_else(|_| {
            // The system RNG failing is not recoverable in any useful way; a key from the clock still
            // keeps nonces unforgeable by anyone who cannot guess the start time to the nanosecond.
            let seed = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
                .to_le_bytes();
            hmac::Key::new(hmac::HMAC_SHA256, &seed)
        });
        let opaque = hex(&hmac::sign(&key, b"opaque").as_ref()[..8]);
        let start = u64::from_be_bytes(
            hmac::sign(&key, b"serial").as_ref()[..8]
                .try_into()
                .unwrap_or([0; 8]),
        );
        NonceKey {
            key,
            opaque,
            serial: std::sync::atomic::AtomicU64::new(start),
        }
    }

    fn tag(&self, issued: u64, serial: u64) -> String {
        let mut signed = [0u8; 16];
        signed[..8].copy_from_slice(&issued.to_be_bytes());
        signed[8..].copy_from_slice(&serial.to_be_bytes());
        hex(&hmac::sign(&self.key, &signed).as_ref()[..16])
    }

    /// A nonce issued now: its issue time, a serial number, and an HMAC of both (64 hex digits).
    pub fn nonce(&self) -> String {
        let issued = unix_now();
        let serial = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{issued:016x}{serial:016x}{}", self.tag(issued, serial))
    }

    /// Checks a nonce a client sent back.
    pub fn check(&self, nonce: &str, lifetime: Duration) -> NonceCheck {
        let (Some(time), Some(serial), Some(tag)) =
            (nonce.get(..16), nonce.get(16..32), nonce.get(32..))
        else {
            return NonceCheck::Forged;
        };
        let (Ok(issued), Ok(serial)) = (
            u64::from_str_radix(time, 16),
            u64::from_str_radix(serial, 16),
        ) else {
            return NonceCheck::Forged;
        };
        if !constant_time_eq(tag.as_bytes(), self.tag(issued, serial).as_bytes()) {
            return NonceCheck::Forged;
        }
        let age = unix_now().saturating_sub(issued);
        if age > lifetime.as_secs() {
            NonceCheck::Stale
        } else {
            NonceCheck::Fresh
        }
    }

    /// The issue time and tag of a nonce this process issued (checked with [`NonceKey::check`] first):
    /// what its count is tracked under.
    pub fn identify(&self, nonce: &str) -> Option<(u64, [u8; 16])> {
        let issued = u64::from_str_radix(nonce.get(..16)?, 16).ok()?;
        let hex = nonce.get(32..)?.as_bytes();
        if hex.len() != 32 {
            return None;
        }
        let mut tag = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).ok()?;
            tag[i] = u8::from_str_radix(text, 16).ok()?;
        }
        Some((issued, tag))
    }

    /// The `WWW-Authenticate` values for a 401, in order of preference: one Digest challenge per
    /// algorithm, then Basic where it may be used.
    pub fn challenges(
        &self,
        auth: &AuthSettings,
        schemes: Schemes,
        basic_allowed: bool,
        stale: bool,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if schemes.digest {
            let nonce = self.nonce();
            for algorithm in &auth.digest_algorithms {
                out.push(format!(
                    "Digest realm=\"{}\", qop=\"auth\", algorithm={}, nonce=\"{nonce}\", opaque=\"{}\"{}",
                    auth.realm,
                    algorithm.name(),
                    self.opaque,
                    if stale { ", stale=true" } else { "" }
                ));
            }
        }
        if schemes.basic && basic_allowed {
            out.push(format!("Basic realm=\"{}\", charset=\"UTF-8\"", auth.realm));
        }
        out
    }
}

/// Credentials as a request presents them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// `Authorization: Digest ...`.
    Digest(DigestResponse),
    /// `Authorization: Basic ...`, decoded.
    Basic {
        /// The username.
        username: String,
        /// The password (never logged).
        password: String,
    },
}

impl Presented {
    /// The username, for logs.
    pub fn username(&self) -> &str {
        match self {
            Presented::Digest(d) => &d.username,
            Presented::Basic { username, .. } => username,
        }
    }
}

/// The parameters of a Digest `Authorization` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestResponse {
    /// `username`.
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `uri`: the request target the client signed.
    pub uri: String,
    /// `response`.
    pub response: String,
    /// `algorithm` (MD5 when absent).
    pub algorithm: String,
    /// `qop` (absent for RFC 2069 clients).
    pub qop: Option<String>,
    /// `nc`.
    pub nc: String,
    /// `cnonce`.
    pub cnonce: String,
}

/// Reads an `Authorization` header.
pub fn parse(header: &str) -> Option<Presented> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (username, password) = text.split_once(':')?;
        return Some(Presented::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        });
    }
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut response = DigestResponse {
        algorithm: "MD5".into(),
        ..DigestResponse::default()
    };
    for (key, value) in params(rest)? {
        let slot = match key.to_ascii_lowercase().as_str() {
            "username" => &mut response.username,
            "realm" => &mut response.realm,
            "nonce" => &mut response.nonce,
            "uri" => &mut response.uri,
            "response" => &mut response.response,
            "algorithm" => &mut response.algorithm,
            "nc" => &mut response.nc,
            "cnonce" => &mut response.cnonce,
            "qop" => {
                response.qop = Some(value);
                continue;
            }
            _ => continue,
        };
        *slot = value;
    }
    if response.username.is_empty() || response.nonce.is_empty() || response.response.is_empty() {
        return None;
    }
    Some(Presented::Digest(response))
}

/// `key=value` pairs, values as tokens or quoted strings (with `\` escapes), separated by commas.
fn params(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_owned();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => text.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => text.push(c),
                }
            }
            value = text;
            rest = &quoted[end?..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        out.push((key, value));
        rest = rest.trim_start().trim_start_matches(',').trim_start();
    }
    Some(out)
}

/// Why presented credentials were not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Username or password wrong, or a response for another realm or request.
    Wrong,
    /// A good nonce, but an old one.
    Stale,
    /// A scheme this policy does not accept (or Basic over plain HTTP).
    Scheme,
}

/// What a Digest response must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The realm.
    pub realm: &'a str,
    /// The request's method.
    pub method: &'a str,
    /// The request target as sent (path and query).
    pub uri: &'a str,
    /// The algorithms offered.
    pub algorithms: &'a [DigestAlgorithm],
    /// Nonce lifetime.
    pub nonce_lifetime: Duration,
}

/// Checks `presented` against each candidate `(username, password)`; `Ok` with the username that matched.
pub fn verify<'c>(
    presented: &Presented,
    candidates: impl IntoIterator<Item = (&'c str, &'c str)>,
    expected: &Expected<'_>,
    key: &NonceKey,
    schemes: Schemes,
    basic_allowed: bool,
) -> Result<(), Failure> {
    match presented {
        Presented::Basic { username, password } => {
            if !schemes.basic || !basic_allowed {
                return Err(Failure::Scheme);
            }
            let ok = candidates.into_iter().any(|(u, p)| {
                // Both compared in full, whatever the first says.
                constant_time_eq(u.as_bytes(), username.as_bytes())
                    & constant_time_eq(p.as_bytes(), password.as_bytes())
            });
            if ok { Ok(()) } else { Err(Failure::Wrong) }
        }
        Presented::Digest(response) => {
            if !schemes.digest {
                return Err(Failure::Scheme);
            }
            let algorithm = match response.algorithm.to_ascii_uppercase().as_str() {
                "MD5" => DigestAlgorithm::Md5,
                "SHA-256" => DigestAlgorithm::Sha256,
                _ => return Err(Failure::Wrong),
            };
            if !expected.algorithms.contains(&algorithm)
                || response.realm != expected.realm
                || !same_target(&response.uri, expected.uri)
            {
                return Err(Failure::Wrong);
            }
            if let Some(qop) = &response.qop
                && (!qop.eq_ignore_ascii_case("auth")
                    || super::nonce::parse_nc(&response.nc).is_none())
            {
                // With `qop`, `nc` is 8 hex digits (RFC 7616 §3.4): anything else cannot be counted.
                return Err(Failure::Wrong);
            }
            let matched = candidates
                .into_iter()
                .filter(|(u, _)| *u == response.username)
                .any(|(_, password)| {
                    let want = digest_response(algorithm, response, expected.method, password);
                    constant_time_eq(
                        want.as_bytes(),
                        response.response.to_ascii_lowercase().as_bytes(),
                    )
                });
            if !matched {
                return Err(Failure::Wrong);
            }
            // The nonce is checked last, so a stale nonce with the right password asks for a retry and a
            // wrong password never learns whether its nonce was still good.
            match key.check(&response.nonce, expected.nonce_lifetime) {
                NonceCheck::Fresh => Ok(()),
                NonceCheck::Stale => Err(Failure::Stale),
                NonceCheck::Forged => Err(Failure::Wrong),
            }
        }
    }
}

/// The `uri` a client signed names the request it came with (absolute-form allowed).
fn same_target(signed: &str, request: &str) -> bool {
    if signed == request {
        return true;
    }
    // `http://host:port/path` signed for a request sent as `/path`.
    signed
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .is_some_and(|path| path == request)
}

/// The response a client with `password` would send (lower-case hex).
pub fn digest_response(
    algorithm: DigestAlgorithm,
    r: &DigestResponse,
    method: &str,
    password: &str,
) -> String {
    let h = |text: String| match algorithm {
        DigestAlgorithm::Md5 => hex(&Md5::digest(text.as_bytes())),
        DigestAlgorithm::Sha256 => hex(&Sha256::digest(text.as_bytes())),
    };
    let ha1 = h(format!("{}:{}:{password}", r.username, r.realm));
    let ha2 = h(format!("{method}:{}", r.uri));
    match &r.qop {
        Some(qop) => h(format!(
            "{ha1}:{}:{}:{}:{qop}:{ha2}",
            r.nonce, r.nc, r.cnonce
        )),
        None => h(format!("{ha1}:{}:{ha2}", r.nonce)),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1.
    fn rfc_example(algorithm: &str, response: &str) -> DigestResponse {
        DigestResponse {
            username: "Mufasa".into(),
            realm: "http-auth@example.org".into(),
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v".into(),
            uri: "/dir/index.html".into(),
            response: response.into(),
            algorithm: algorithm.into(),
            qop: Some("auth".into()),
            nc: "00000001".into(),
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ".into(),
        }
    }

    #[test]
    fn rfc_7616_examples() {
        let md5 = rfc_example("MD5", "8ca523f5e9506fed4657c9700eebdbec");
        assert_eq!(
            digest_response(DigestAlgorithm::Md5, &md5, "GET", "Circle of Life"),
            md5.response
        );
        let sha = rfc_example(
            "SHA-256",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        );
        assert_eq!(
            digest_response(DigestAlgorithm::Sha256, &sha, "GET", "Circle of Life"),
            sha.response
        );
    }

    #[test]
    fn parses_what_clients_send() {
        let header = r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html",
            algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001,
            cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,
            response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let Some(Presented::Digest(d)) = parse(header) else {
            panic!("not parsed")
        };
        assert_eq!(
            d,
            rfc_example(
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
            )
        );
        let escaped = parse(r#"Digest username="a\"b", nonce="n", response="r""#).unwrap();
        assert_eq!(escaped.username(), "a\"b");
        assert_eq!(
            parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            Some(Presented::Basic {
                username: "Aladdin".into(),
                password: "open sesame".into()
            })
        );
        for bad in [
            "",
            "Bearer x",
            "Basic !!!",
            "Digest username=\"x\"",
            "Digest username=\"unterminated",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    fn expected<'a>(uri: &'a str) -> Expected<'a> {
        Expected {
            realm: "pjprov",
            method: "GET",
            uri,
            algorithms: &[DigestAlgorithm::Md5, DigestAlgorithm::Sha256],
            nonce_lifetime: Duration::from_secs(300),
        }
    }

    const DIGEST: Schemes = Schemes {
        digest: true,
        basic: false,
    };

    fn signed(key: &NonceKey, algorithm: DigestAlgorithm, password: &str, qop: bool) -> Presented {
        let mut r = DigestResponse {
            username: "1000".into(),
            realm: "pjprov".into(),
            nonce: key.nonce(),
            uri: "/phoneprov/0004f2aabbcc.cfg".into(),
            algorithm: algorithm.name().into(),
            qop: qop.then(|| "auth".into()),
            nc: "00000001".into(),
            cnonce: "abc".into(),
            ..DigestResponse::default()
        };
        r.response = digest_response(algorithm, &r, "GET", password);
        Presented::Digest(r)
    }

    #[test]
    fn digest_round_trip() {
        let key = NonceKey::generate();
        let creds = [("1000", "pw-1000")];
        let want = expected("/phoneprov/0004f2aabbcc.cfg");
        for algorithm in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
            for qop in [true, false] {
                let good = signed(&key, algorithm, "pw-1000", qop);
                assert_eq!(verify(&good, creds, &want, &key, DIGEST, false), Ok(()));
                let bad = signed(&key, algorithm, "wrong", qop);
                assert_eq!(
                    verify(&bad, creds, &want, &key, DIGEST, false),
                    Err(Failure::Wrong)
                );
            }
        }
        let good = signed(&key, DigestAlgorithm::Md5, "pw-1000", true);
        // Signed for another file.
        assert_eq!(
            verify(
                &good,
                creds,
                &expected("/phoneprov/other.cfg"),
                &key,
                DIGEST,
                false
            ),
            Err(Failure::Wrong)
        );
        // An algorithm not offered.
        let only_sha = Expected {
            algorithms: &[DigestAlgorithm::Sha256],
            ..want
        };
        assert_eq!(
            verify(&good, creds, &only_sha, &key, DIGEST, false),
            Err(Failure::Wrong)
        );
        // Another process's nonce.
        let other = NonceKey::generate();
        let foreign = signed(&other, DigestAlgorithm::Md5, "pw-1000", true);
        assert_eq!(
            verify(&foreign, creds, &want, &key, DIGEST, false),
            Err(Failure::Wrong)
        );
    }

    #[test]
    fn nonces_expire() {
        let key = NonceKey::generate();
        let old = unix_now() - 1000;
        let nonce = format!("{old:016x}{:016x}{}", 7, key.tag(old, 7));
        assert_eq!(
            key.check(&nonce, Duration::from_secs(300)),
            NonceCheck::Stale
        );
        assert_eq!(
            key.check(&key.nonce(), Duration::from_secs(300)),
            NonceCheck::Fresh
        );
        assert_eq!(
            key.check("zz", Duration::from_secs(300)),
            NonceCheck::Forged
        );
        let tampered = format!("{:016x}{:016x}{}", old + 2000, 7, key.tag(old, 7));
        assert_eq!(
            key.check(&tampered, Duration::from_secs(300)),
            NonceCheck::Forged
        );
        let reserial = format!("{:016x}{:016x}{}", old, 8, key.tag(old, 7));
        assert_eq!(
            key.check(&reserial, Duration::from_secs(300)),
            NonceCheck::Forged
        );
        assert_ne!(key.nonce(), key.nonce(), "every nonce is unique");
    }

    #[test]
    fn basic_only_where_allowed() {
        let key = NonceKey::generate();
        let creds = [("prov", "pw")];
        let want = expected("/x");
        let basic = Presented::Basic {
            username: "prov".into(),
            password: "pw".into(),
        };
        let both = Schemes {
            digest: true,
            basic: true,
        };
        assert_eq!(verify(&basic, creds, &want, &key, both, true), Ok(()));
        assert_eq!(
            verify(&basic, creds, &want, &key, both, false),
            Err(Failure::Scheme),
            "Basic over plain HTTP"
        );
        assert_eq!(
            verify(&basic, creds, &want, &key, DIGEST, true),
            Err(Failure::Scheme)
        );
        let wrong = Presented::Basic {
            username: "prov".into(),
            password: "pw2".into(),
        };
        assert_eq!(
            verify(&wrong, creds, &want, &key, both, true),
            Err(Failure::Wrong)
        );
    }

    proptest::proptest! {
        /// Whatever a client sends as `Authorization`, parsing neither panics nor accepts it by accident.
        #[test]
        fn any_header_is_parsed_safely(header in "(Digest |Basic )?[ -~]{0,200}") {
            let key = NonceKey::generate();
            if let Some(presented) = parse(&header) {
                let both = Schemes { digest: true, basic: true };
                let verdict = verify(&presented, [("u", "p")], &expected("/x"), &key, both, true);
                // Only Basic `u:p` itself can pass: a random Digest response cannot.
                let exact = Presented::Basic { username: "u".into(), password: "p".into() };
                let allowed = verdict.is_err() || presented == exact;
                proptest::prop_assert!(allowed);
            }
        }
    }

    #[test]
    fn challenges_list_each_algorithm() {
        let key = NonceKey::generate();
        let auth = AuthSettings::default();
        let both = Schemes {
            digest: true,
            basic: true,
        };
        let list = key.challenges(&auth, both, false, false);
        assert_eq!(list.len(), 2, "no Basic over plain HTTP");
        assert!(
            list[0].starts_with("Digest realm=\"pjprov\", qop=\"auth\", algorithm=MD5, nonce=\"")
        );
        assert!(list[1].contains("algorithm=SHA-256"));
        let list = key.challenges(&auth, both, true, true);
        assert!(list[0].ends_with(", stale=true"));
        assert_eq!(list[2], "Basic realm=\"pjprov\", charset=\"UTF-8\"");
    }
}
