//! `[ami]`: how pjprov reaches Asterisk's manager interface to tell phones to re-fetch their files (SIP
//! NOTIFY through `PJSIPNotify`), and `notify_event` in `[profile:NAME]`.

use std::time::Duration;

use super::Secret;

/// `[ami]`: present when pjprov.conf has the section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ami {
    /// Asterisk's host.
    pub host: String,
    /// The manager port: 5038, or 5039 with TLS.
    pub port: u16,
    /// The manager user (a `manager.conf` section with `write = originate` or `system`).
    pub username: String,
    /// Its secret.
    pub secret: Secret,
    /// AMI over TLS.
    pub tls: bool,
    /// `tls_ca`: the certificates (PEM) Asterisk's manager certificate is verified against (its CA, or the
    /// self-signed certificate itself), instead of the system's CA bundle.
    pub tls_ca: Option<std::path::PathBuf>,
    /// Notify the phones whose files changed (`changed`), or none (`off`).
    pub notify: NotifyMode,
    /// Notifies per second at most.
    pub rate: u32,
    /// Saves closer together than this (`quiet`, seconds) are notified once, after the last.
    pub quiet: Duration,
    /// The event sent, unless the phone's profile (or vendor) says otherwise.
    pub event: Option<String>,
}

/// `[ami] quiet` when it is not set; also how long the comparison after a reload waits for the next one
/// when there is no `[ami]` (saves in quick succession are compared once, after the last).
pub const DEFAULT_QUIET: Duration = Duration::from_secs(2);

/// `[ami] notify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyMode {
    /// The phones whose files changed, after each reload.
    Changed,
    /// None (`pjprov notify` still works).
    Off,
}

/// The keys of `[ami]`.
pub const AMI_KEYS: &[&str] = &[
    "host", "port", "username", "secret", "tls", "tls_ca", "notify", "rate", "quiet", "event",
];

/// What `[ami]` wrote, before defaults.
#[derive(Debug, Default)]
pub(super) struct AmiPatch {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub secret: Option<Secret>,
    pub tls: Option<bool>,
    pub tls_ca: Option<std::path::PathBuf>,
    pub notify: Option<NotifyMode>,
    pub rate: Option<u32>,
    pub quiet: Option<Duration>,
    pub event: Option<String>,
}

impl AmiPatch {
    /// The settings, or the key at fault and what is wrong.
    pub fn resolve(self) -> Result<Ami, (&'static str, String)> {
        let username = self.username.filter(|u| !u.is_empty()).ok_or((
            "username",
            "username is needed (a user of Asterisk's manager.conf)".to_owned(),
        ))?;
        let secret = self.secret.ok_or((
            "secret",
            "secret is needed (that manager user's secret)".to_owned(),
        ))?;
        let tls = self.tls.unwrap_or(false);
        if self.tls_ca.is_some() && !tls {
            return Err((
                "tls_ca",
                "tls_ca is set but tls is not: say tls = yes (or remove tls_ca)".to_owned(),
            ));
        }
        Ok(Ami {
            host: self.host.unwrap_or_else(|| "127.0.0.1".into()),
            port: self.port.unwrap_or(if tls { 5039 } else { 5038 }),
            username,
            secret,
            tls,
            tls_ca: self.tls_ca,
            notify: self.notify.unwrap_or(NotifyMode::Changed),
            rate: self.rate.unwrap_or(20),
            quiet: self.quiet.unwrap_or(DEFAULT_QUIET),
            event: self.event,
        })
    }
}

/// A SIP event name as `pjsip_notify.conf` and `PJSIPNotify` take it (`check-sync`, `check-sync;reboot=false`,
/// `resync`): a token, optionally with `;param=value` parts.
pub(super) fn event(text: &str) -> Result<String, String> {
    let text = text.trim();
    let valid = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.;=!%*+'~".contains(&b));
    if valid {
        Ok(text.to_owned())
    } else {
        Err("must be a SIP event name such as check-sync, check-sync;reboot=false or resync".into())
    }
}
