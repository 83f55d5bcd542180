//! Who a phone must prove to be before it gets its files: the [`Policy`] of a profile or of one phone.
//!
//! A policy is merged from, in order, pjprov's defaults, `[auth]`, `[profile:NAME]` and `[phone:MAC]`: each
//! section sets only the keys it writes.

use std::fmt;

use super::acl::Acl;
use super::enrol::{Enrol, EnrolMode, Proofs};
use super::named_acl::AclRef;

/// A password from pjprov.conf. Its `Debug` form never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The password itself: only for checking credentials.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

/// Whose credentials a phone must present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSource {
    /// None: the file is served to anyone the network ACL lets in.
    None,
    /// One username and password from pjprov.conf.
    Static {
        /// The username.
        username: String,
        /// The password.
        password: Secret,
    },
    /// The phone's own SIP credentials: `USERNAME` and `SECRET` of any of its lines.
    Sip,
}

/// Which HTTP authentication schemes are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schemes {
    /// HTTP Digest (RFC 7616).
    pub digest: bool,
    /// HTTP Basic (RFC 7617): only over TLS unless `basic_without_tls = yes`.
    pub basic: bool,
}

/// What to do when evidence names another phone (a User-Agent carrying a MAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Ignore it.
    Off,
    /// Log it and serve the file.
    Log,
    /// Log it and refuse the file (403).
    Enforce,
}

/// What a TLS client certificate must prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCert {
    /// Certificates are not looked at.
    Off,
    /// A phone without a certificate is judged by the other controls; a certificate that is presented must
    /// name the phone whose file is asked for (a generic certificate or another MAC: 403).
    Optional,
    /// Only a TLS connection with a certificate naming this phone gets its files.
    Require,
}

/// The controls for a profile's or a phone's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Whose credentials are needed.
    pub auth: AuthSource,
    /// Accepted schemes.
    pub schemes: Schemes,
    /// User-Agent binding.
    pub user_agent: Binding,
    /// Client certificate binding.
    pub client_cert: ClientCert,
    /// `acl = NAME`: the named ACLs a client must pass for these files (checked per request; `[acl]` is
    /// checked at connect). Empty: no list of its own.
    pub acl: Acl,
    /// `enrol`, `first_boot_window`, `enrol_grace`, `enrol_proof`: when the phone's secrets go out without
    /// proof.
    pub enrol: Enrol,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            auth: AuthSource::None,
            schemes: Schemes {
                digest: true,
                basic: false,
            },
            user_agent: Binding::Enforce,
            client_cert: ClientCert::Optional,
            acl: Acl::default(),
            enrol: Enrol::default(),
        }
    }
}

impl Policy {
    /// True when a request must carry credentials.
    pub fn needs_credentials(&self) -> bool {
        self.auth != AuthSource::None
    }

    /// How strict the policy is, as what an unproven client gets shows it: a required certificate (403)
    /// beats credentials (401), which beat a User-Agent binding, which beats nothing.
    pub fn rank(&self) -> (u8, u8, u8, u8) {
        let cert = match self.client_cert {
            ClientCert::Require => 2,
            ClientCert::Optional => 1,
            ClientCert::Off => 0,
        };
        let agent = match self.user_agent {
            Binding::Enforce => 2,
            Binding::Log => 1,
            Binding::Off => 0,
        };
        // Digest alone is stricter than a list that also accepts Basic.
        let schemes = u8::from(!self.schemes.basic);
        (
            u8::from(cert == 2),
            u8::from(self.needs_credentials()),
            schemes.saturating_mul(2).saturating_add(agent),
            cert,
        )
    }
}

/// `auth =` as written, before the credentials are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `none`.
    None,
    /// `static`.
    Static,
    /// `sip`.
    Sip,
}

/// The policy keys one section writes.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    /// `auth`.
    pub auth: Option<AuthKind>,
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<Secret>,
    /// `scheme`.
    pub schemes: Option<Schemes>,
    /// `user_agent`.
    pub user_agent: Option<Binding>,
    /// `client_cert`.
    pub client_cert: Option<ClientCert>,
    /// `acl`: the named ACLs, resolved once every section is read ([`Patch::resolve`] leaves them out).
    pub acl: Option<Vec<AclRef>>,
    /// `enrol`.
    pub enrol: Option<EnrolMode>,
    /// `first_boot_window` (`Some(None)`: written as 0).
    pub first_boot_window: Option<Option<std::time::Duration>>,
    /// `enrol_grace`.
    pub enrol_grace: Option<std::time::Duration>,
    /// `enrol_proof`.
    pub enrol_proof: Option<Proofs>,
}

impl Patch {
    /// `self` with `over`'s keys written on top.
    pub fn then(&self, over: &Patch) -> Patch {
        Patch {
            auth: over.auth.or(self.auth),
            username: over.username.clone().or_else(|| self.username.clone()),
            password: over.password.clone().or_else(|| self.password.clone()),
            schemes: over.schemes.or(self.schemes),
            user_agent: over.user_agent.or(self.user_agent),
            client_cert: over.client_cert.or(self.client_cert),
            acl: over.acl.clone().or_else(|| self.acl.clone()),
            enrol: over.enrol.or(self.enrol),
            first_boot_window: over.first_boot_window.or(self.first_boot_window),
            enrol_grace: over.enrol_grace.or(self.enrol_grace),
            enrol_proof: over.enrol_proof.or(self.enrol_proof),
        }
    }

    /// A section that gives a username and password but no `auth` means `auth = static`.
    pub fn implied_auth(mut self) -> Patch {
        if self.auth.is_none() && self.username.is_some() && self.password.is_some() {
            self.auth = Some(AuthKind::Static);
        }
        self
    }

    /// The policy, or why it cannot be made (`auth = static` without credentials). Its ACL is empty: the
    /// caller adds the named lists of `acl` (they need every section of the file).
    pub fn resolve(&self) -> Result<Policy, String> {
        let defaults = Policy::default();
        let auth = match self.auth.unwrap_or(AuthKind::None) {
            AuthKind::None => AuthSource::None,
            AuthKind::Sip => AuthSource::Sip,
            AuthKind::Static => match (&self.username, &self.password) {
                (Some(username), Some(password)) if !username.is_empty() => AuthSource::Static {
                    username: username.clone(),
                    password: password.clone(),
                },
                _ => {
                    return Err(
                        "auth = static needs both username and password (here or in [auth])".into(),
                    );
                }
            },
        };
        Ok(Policy {
            auth,
            schemes: self.schemes.unwrap_or(defaults.schemes),
            user_agent: self.user_agent.unwrap_or(defaults.user_agent),
            client_cert: self.client_cert.unwrap_or(defaults.client_cert),
            acl: Acl::default(),
            enrol: Enrol {
                mode: self.enrol.unwrap_or(defaults.enrol.mode),
                first_boot_window: self
                    .first_boot_window
                    .unwrap_or(defaults.enrol.first_boot_window),
                grace: self.enrol_grace.unwrap_or(defaults.enrol.grace),
                proofs: self.enrol_proof.unwrap_or(defaults.enrol.proofs),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_sections_win_key_by_key() {
        let auth = Patch {
            auth: Some(AuthKind::Static),
            username: Some("prov".into()),
            password: Some(Secret::new("pw")),
            ..Patch::default()
        };
        let profile = Patch {
            user_agent: Some(Binding::Log),
            ..Patch::default()
        };
        let phone = Patch {
            auth: Some(AuthKind::Sip),
            ..Patch::default()
        };
        let merged = auth.then(&profile);
        let policy = merged.resolve().unwrap();
        assert_eq!(
            policy.auth,
            AuthSource::Static {
                username: "prov".into(),
                password: Secret::new("pw")
            }
        );
        assert_eq!(policy.user_agent, Binding::Log);
        let policy = merged.then(&phone).resolve().unwrap();
        assert_eq!(policy.auth, AuthSource::Sip);
        assert_eq!(policy.user_agent, Binding::Log);
    }

    #[test]
    fn static_needs_credentials() {
        let patch = Patch {
            auth: Some(AuthKind::Static),
            username: Some("prov".into()),
            ..Patch::default()
        };
        assert!(patch.resolve().is_err());
        let implied = Patch {
            username: Some("prov".into()),
            password: Some(Secret::new("pw")),
            ..Patch::default()
        }
        .implied_auth();
        assert_eq!(implied.auth, Some(AuthKind::Static));
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        let policy = Patch {
            username: Some("u".into()),
            password: Some(secret),
            ..Patch::default()
        }
        .implied_auth()
        .resolve()
        .unwrap();
        assert!(!format!("{policy:?}").contains("hunter2"));
    }
}
