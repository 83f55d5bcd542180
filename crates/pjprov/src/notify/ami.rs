//! A client of Asterisk's manager interface (AMI): just what `PJSIPNotify` needs.
//!
//! The protocol (Asterisk's `main/manager.c`): on connect the server sends one banner line
//! (`Asterisk Call Manager/9.0.0`); then messages go both ways, each a block of `Key: Value` lines ended by
//! an empty line (CRLF everywhere). An action carries an `ActionID`; its response (`Response: Success` or
//! `Error`, with a `Message`) carries it back, and events (`Event: ...`) may come in between. pjprov logs in
//! once (`Action: Login`) and keeps the connection.

use std::sync::Arc;
use std::time::Duration;

use pjprov_core::settings::Ami;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// Longest a message line may be (a response is small; anything longer is not Asterisk).
const MAX_LINE: usize = 8192;
/// How long connecting, logging in or one action may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why an action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AmiError {
    /// Asterisk could not be reached, or the connection broke.
    #[error("Asterisk's manager interface at {0} cannot be reached: {1}")]
    Unreachable(String, String),
    /// The login was refused.
    #[error(
        "Asterisk refused the manager login of user '{0}': {1} (check [ami] username/secret against manager.conf)"
    )]
    Login(String, String),
    /// The action was answered with an error.
    #[error("{0}")]
    Refused(String),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A logged-in manager connection.
pub struct Connection {
    stream: BufReader<Box<dyn Stream>>,
    next_id: u64,
    /// The banner (`Asterisk Call Manager/9.0.0`).
    pub banner: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("banner", &self.banner)
            .finish()
    }
}

/// One message: its `Key: Value` lines in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Message(pub Vec<(String, String)>);

impl Message {
    /// The first value of `key` (keys compare without case, as Asterisk's `astman_get_header`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

impl Connection {
    /// Connects to the manager interface `ami` names and logs in.
    pub async fn open(ami: &Ami) -> Result<Connection, AmiError> {
        // `[ami] host` is kept without brackets: an IPv6 address gets them back here.
        let target = if ami.host.contains(':') {
            format!("[{}]:{}", ami.host, ami.port)
        } else {
            format!("{}:{}", ami.host, ami.port)
        };
        let unreachable =
            |e: &dyn std::fmt::Display| AmiError::Unreachable(target.clone(), e.to_string());
        let tcp = tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect(&target))
            .await
            .map_err(|_| unreachable(&"connection timed out"))?
            .map_err(|e| unreachable(&e))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Stream> = if ami.tls {
            let config = tls_config(ami).map_err(|e| unreachable(&e))?;
            let name = rustls::pki_types::ServerName::try_from(ami.host.clone())
                .map_err(|e| unreachable(&e))?;
            let tls = tokio::time::timeout(
                TIMEOUT,
                tokio_rustls::TlsConnector::from(config).connect(name, tcp),
            )
            .await
            .map_err(|_| unreachable(&"TLS handshake timed out"))?
            .map_err(|e| unreachable(&e))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let mut connection = Connection {
            stream: BufReader::new(stream),
            next_id: 1,
            banner: String::new(),
        };
        connection.banner = tokio::time::timeout(TIMEOUT, connection.line())
            .await
            .map_err(|_| unreachable(&"no banner"))?
            .map_err(|e| unreachable(&e))?;
        if !connection.banner.starts_with("Asterisk Call Manager") {
            return Err(unreachable(&format!(
                "not a manager interface (it said '{}')",
                connection.banner.chars().take(60).collect::<String>()
            )));
        }
        let reply = connection
            .action(&[
                ("Action", "Login"),
                ("Username", &ami.username),
                ("Secret", ami.secret.expose()),
                // No events: only responses are wanted.
                ("Events", "off"),
            ])
            .await
            .map_err(|e| match e {
                AmiError::Refused(why) => AmiError::Login(ami.username.clone(), why),
                other => other,
            })?;
        let _ = reply;
        Ok(connection)
    }

    /// Sends one action and waits for its response: `Ok` for `Response: Success`, `Refused` with Asterisk's
    /// message for an error.
    pub async fn action(&mut self, fields: &[(&str, &str)]) -> Result<Message, AmiError> {
        let id = self.next_id.to_string();
        self.next_id += 1;
        let mut text = String::new();
        for (key, value) in fields {
            // A value cannot carry a line break: it would end the message.
            let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            text.push_str(&format!("{key}: {value}\r\n"));
        }
        text.push_str(&format!("ActionID: {id}\r\n\r\n"));
        let broken = |e: &dyn std::fmt::Display| {
            AmiError::Unreachable("the manager connection".into(), e.to_string())
        };
        tokio::time::timeout(TIMEOUT, self.stream.get_mut().write_all(text.as_bytes()))
            .await
            .map_err(|_| broken(&"write timed out"))?
            .map_err(|e| broken(&e))?;
        loop {
            let message = tokio::time::timeout(TIMEOUT, self.message())
                .await
                .map_err(|_| broken(&"no response"))?
                .map_err(|e| broken(&e))?;
            if message.get("ActionID") != Some(id.as_str()) || message.get("Response").is_none() {
                continue; // an event, or another action's response
            }
            return match message.get("Response") {
                Some(r) if r.eq_ignore_ascii_case("Success") => Ok(message),
                _ => Err(AmiError::Refused(
                    message.get("Message").unwrap_or("error").to_owned(),
                )),
            };
        }
    }

    async fn line(&mut self) -> std::io::Result<String> {
        let mut line = Vec::new();
        let read = (&mut self.stream)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "Asterisk closed the connection",
            ));
        }
        if !line.ends_with(b"\n") {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a line too long for the manager protocol",
            ));
        }
        Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
    }

    async fn message(&mut self) -> std::io::Result<Message> {
        let mut message = Message::default();
        loop {
            let line = self.line().await?;
            if line.is_empty() {
                if message.0.is_empty() {
                    continue;
                }
                return Ok(message);
            }
            if message.0.len() > 256 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "a message too long for the manager protocol",
                ));
            }
            if let Some((key, value)) = line.split_once(':') {
                message
                    .0
                    .push((key.trim().to_owned(), value.trim().to_owned()));
            }
        }
    }
}

use tokio::io::AsyncReadExt as _;

/// TLS to the manager interface: Asterisk's certificate verified against `[ami] tls_ca` (its CA, or the
/// very certificate Asterisk shows, self-signed), else the system's CA certificates; a CA-signed one must
/// name `[ami] host`.
fn tls_config(ami: &Ami) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let mut pinned = Vec::new();
    match &ami.tls_ca {
        Some(file) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(file)
                .map_err(|e| format!("cannot read [ami] tls_ca {}: {e}", file.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("[ami] tls_ca {}: {e}", file.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs.iter().cloned());
            if added == 0 {
                return Err(format!(
                    "[ami] tls_ca {} holds no certificate (PEM) to verify Asterisk's with",
                    file.display()
                ));
            }
            pinned = certs;
        }
        None => {
            for bundle in [
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/pki/tls/certs/ca-bundle.crt",
            ] {
                if let Ok(iter) = CertificateDer::pem_file_iter(bundle) {
                    let certs: Vec<_> = iter.filter_map(Result::ok).collect();
                    roots.add_parsable_certificates(certs);
                }
            }
            if roots.is_empty() {
                return Err(
                    "no CA certificates on this system to verify Asterisk's certificate (set [ami] tls_ca)"
                        .into(),
                );
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedOrWebPki { pinned, webpki }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A certificate listed in `tls_ca` is trusted as it is (Asterisk's own self-signed one, which webpki
/// would refuse as a CA used for a server); any other must chain to one of them (or to the system's CAs)
/// and name the host. The handshake's signatures are checked either way.
#[derive(Debug)]
struct PinnedOrWebPki {
    pinned: Vec<rustls::pki_types::CertificateDer<'static>>,
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
