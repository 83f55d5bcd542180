//! Who may fetch what: the checks every request passes before a file is served, over HTTP, HTTPS and TFTP
//! alike (docs/security.md explains each one and why).
//!
//! In order: the network ACL ([`Access::admit`], which a server calls first, before it even reads the
//! request); then [`Access::decide`]: the scan throttle's verdict on the client and, for a file that
//! belongs to one phone (or a name shaped like one), the phone's policy: its TLS client certificate, its
//! User-Agent, its credentials. Unknown MACs are counted as misses. The answer is a [`Verdict`]; the server
//! turns it into a response and, once the status is known, calls [`Access::served`] and [`audit`].
//!
//! A name shaped like a phone's file answers the same whether the phone exists or not, as far as these
//! checks go: an unknown MAC is challenged for credentials like a known one (and no credentials can ever
//! succeed for it), so 401s reveal nothing about which MACs exist.

mod client_cert;
pub mod credentials;
mod throttle;
mod user_agent;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use pjprov_core::settings::{AuthSource, Binding, ClientCert, Policy, Protect};
use pjprov_core::{Mac, Route, Snapshot, Target};

pub use client_cert::CertIdentity;
use credentials::{Expected, Failure, NonceKey, Presented};
use throttle::{ClientKey, HarvestOutcome, MissOutcome, Standing, Throttle};

/// Log target of security events (refusals, bans, mismatches): fail2ban-friendly, one line each.
pub const SECURITY: &str = "pjprov::security";
/// Log target of the audit trail (one line per phone file asked for).
pub const AUDIT: &str = "pjprov::audit";

/// The access state kept across reloads.
#[derive(Debug)]
pub struct Access {
    throttle: Throttle,
    nonces: NonceKey,
}

/// How the request arrived.
#[derive(Debug, Clone, Copy)]
pub enum Transport<'a> {
    /// HTTP or HTTPS.
    Http(Http<'a>),
    /// TFTP (no credentials, no User-Agent, no certificate).
    Tftp,
}

/// What an HTTP request carries that access control looks at.
#[derive(Debug, Clone, Copy)]
pub struct Http<'a> {
    /// Over TLS.
    pub tls: bool,
    /// The verified client certificate, if one was presented.
    pub cert: Option<&'a CertIdentity>,
    /// The method (Digest signs it).
    pub method: &'a str,
    /// The request target as sent: path and query (Digest signs it).
    pub target: &'a str,
    /// `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// `Authorization`.
    pub authorization: Option<&'a str>,
}

/// One request, as access control sees it.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    /// The client's address.
    pub client: IpAddr,
    /// The name asked for (below `/phoneprov/`), for logs.
    pub name: &'a str,
    /// The route it names, if any.
    pub route: Option<&'a Route>,
    /// How it arrived.
    pub transport: Transport<'a>,
}

/// How the phone proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// It did not need to.
    None,
    /// Credentials (the username).
    Credentials(String),
    /// A client certificate naming it.
    Certificate,
}

impl std::fmt::Display for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Proof::None => f.write_str("none"),
            Proof::Credentials(user) => write!(f, "credentials:{user}"),
            Proof::Certificate => f.write_str("certificate"),
        }
    }
}

/// Why a request was refused (also a metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The network ACL.
    Acl,
    /// The scan throttle.
    Throttled,
    /// A User-Agent naming another phone.
    UserAgent,
    /// A client certificate that does not name this phone (or none where one is required).
    Certificate,
    /// A profile not allowed over TFTP.
    NotOverTftp,
}

impl Refusal {
    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Acl => "acl",
            Refusal::Throttled => "throttle",
            Refusal::UserAgent => "user_agent",
            Refusal::Certificate => "certificate",
            Refusal::NotOverTftp => "tftp_profile",
        }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Answer it (serve the route, or 404 when there is none).
    Proceed,
    /// 401 with these `WWW-Authenticate` values.
    Challenge(Vec<String>),
    /// Refuse it.
    Refuse {
        /// 403 or 429.
        status: u16,
        /// For 429: seconds until the client may try again.
        retry_after: Option<u64>,
        /// Why.
        why: Refusal,
    },
}

/// The outcome of the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// What to do.
    pub decision: Decision,
    /// The phone the request concerns (the route's, or the MAC in the name).
    pub mac: Option<Mac>,
    /// How it proved itself.
    pub proof: Proof,
    /// Wait this long before answering (a client that keeps missing is slowed down).
    pub delay: Option<Duration>,
}

impl Verdict {
    fn new(decision: Decision, mac: Option<Mac>) -> Verdict {
        Verdict {
            decision,
            mac,
            proof: Proof::None,
            delay: None,
        }
    }
}

/// Which phone a request is about.
#[derive(Debug, Clone, Copy)]
enum Subject {
    /// A route rendered for phone `phone`.
    Phone {
        mac: Option<Mac>,
        phone: usize,
        profile: usize,
    },
    /// A name shaped like a phone's file that is not a route.
    Named {
        mac: Mac,
        phone: Option<usize>,
        profile: usize,
    },
    /// A static file of `profile`.
    Shared { profile: usize },
    /// Anything else (answers 404).
    Other,
}

impl Default for Access {
    fn default() -> Access {
        Access::new(pjprov_core::settings::Limits::default().max_clients)
    }
}

impl Access {
    /// Fresh state for at most `max_clients` throttled clients.
    pub fn new(max_clients: usize) -> Access {
        Access {
            throttle: Throttle::new(max_clients),
            nonces: NonceKey::generate(),
        }
    }

    /// Applies a new snapshot's limits to the state.
    pub fn configure(&self, snapshot: &Snapshot) {
        self.throttle.resize(snapshot.settings().limits.max_clients);
    }

    /// Clients tracked by the throttle and clients refused now (for metrics).
    pub fn throttle_gauges(&self) -> (usize, usize) {
        (self.throttle.tracked(), self.throttle.refused())
    }

    /// The network ACL: whether `client` may be answered at all (a refusal is logged). Servers call it
    /// before anything else, then [`Access::decide`] for what the request asks.
    pub fn admit(&self, snapshot: &Snapshot, client: IpAddr, what: &str) -> bool {
        let client = pjprov_core::settings::unmap(client);
        let allowed = snapshot.settings().acl.allows(client);
        if !allowed {
            tracing::warn!(target: SECURITY, client = %client, uri = %what, "refused by [acl]");
        }
        allowed
    }

    /// Runs every check for `asked`, a client [`Access::admit`] let in.
    pub fn decide(&self, snapshot: &Snapshot, asked: &Asked<'_>) -> Verdict {
        let settings = snapshot.settings();
        let client = pjprov_core::settings::unmap(asked.client);
        let limits = &settings.limits;
        let throttled = limits.throttle && !limits.exempt.matches(client);
        let key = ClientKey::new(client, limits);
        let now = Instant::now();
        if throttled && let Standing::Refused { retry_after } = self.throttle.standing(&key, now) {
            tracing::debug!(target: SECURITY, client = %client, uri = %asked.name, "refused: throttled");
            let retry = (limits.refusal_status == 429).then_some(retry_after);
            return Verdict::new(
                refuse(limits.refusal_status, retry, Refusal::Throttled),
                None,
            );
        }

        let subject = subject(snapshot, asked);
        let (mac, profile, phone) = match subject {
            Subject::Phone {
                mac,
                phone,
                profile,
            } => (mac, profile, Some(phone)),
            Subject::Named {
                mac,
                phone,
                profile,
            } => (Some(mac), profile, phone),
            Subject::Shared { profile } => {
                return self.shared(snapshot, asked, profile, &key, throttled, now);
            }
            Subject::Other => return Verdict::new(Decision::Proceed, None),
        };
        let mut verdict = Verdict::new(Decision::Proceed, mac);

        match asked.transport {
            Transport::Tftp => {
                if let Some(route) = asked.route
                    && !settings.tftp.allows(route.profile)
                {
                    tracing::info!(target: SECURITY, client = %client, uri = %asked.name,
                        "refused over TFTP: its profile is not in [tftp] profiles");
                    return Verdict::new(refuse(403, None, Refusal::NotOverTftp), mac);
                }
            }
            Transport::Http(http) => {
                let policy = settings.policy(profile, mac);
                if let Some(refused) = check_certificate(policy, http, mac, client, asked.name) {
                    return Verdict::new(refused, mac);
                }
                if http.cert.is_some() && policy.client_cert != ClientCert::Off {
                    verdict.proof = Proof::Certificate;
                }
                if let Some(refused) = check_user_agent(policy, http, mac, client, asked.name) {
                    return Verdict::new(refused, mac);
                }
                if policy.needs_credentials() && verdict.proof != Proof::Certificate {
                    let candidates = phone_credentials(snapshot, policy, phone);
                    match self.credentials(snapshot, policy, http, &candidates) {
                        Ok(user) => verdict.proof = Proof::Credentials(user),
                        Err(challenge) => {
                            if challenge.failed {
                                tracing::info!(target: SECURITY, client = %client, uri = %asked.name,
                                    user = %challenge.user, "wrong credentials");
                                match self.count_miss(&key, None, throttled, now, asked, limits) {
                                    Ok(delay) => verdict.delay = delay,
                                    Err(refused) => return refused,
                                }
                            }
                            verdict.decision = Decision::Challenge(challenge.headers);
                        }
                    }
                }
            }
        }

        // A name with a MAC no phone has: what a scanner asks for.
        if let Subject::Named {
            mac, phone: None, ..
        } = subject
        {
            match self.count_miss(&key, Some(mac), throttled, now, asked, limits) {
                Ok(delay) => verdict.delay = delay,
                Err(refused) => return refused,
            }
        }
        verdict
    }

    /// Counts a miss: `Ok` with how long to delay the answer, `Err` when it got the client refused.
    fn count_miss(
        &self,
        key: &ClientKey,
        mac: Option<Mac>,
        throttled: bool,
        now: Instant,
        asked: &Asked<'_>,
        limits: &pjprov_core::settings::Limits,
    ) -> Result<Option<Duration>, Verdict> {
        if !throttled {
            return Ok(None);
        }
        match self.throttle.miss(key, mac, limits, now) {
            MissOutcome::Refused { misses } => {
                tracing::warn!(target: SECURITY, client = %key.ip(), uri = %asked.name, misses,
                    window_s = limits.window.as_secs(), ban_s = limits.ban.as_secs(),
                    "client refused: too many unknown phones or failed credentials (scan)");
                let retry = (limits.refusal_status == 429).then_some(limits.ban.as_secs());
                Err(Verdict::new(
                    refuse(limits.refusal_status, retry, Refusal::Throttled),
                    mac,
                ))
            }
            MissOutcome::Slowed(delay) => Ok(Some(delay)),
            MissOutcome::Counted => Ok(None),
        }
    }

    /// A static file: credentials only when `protect = all` and the profile's policy asks for them.
    fn shared(
        &self,
        snapshot: &Snapshot,
        asked: &Asked<'_>,
        profile: usize,
        key: &ClientKey,
        throttled: bool,
        now: Instant,
    ) -> Verdict {
        let settings = snapshot.settings();
        let policy = settings.policy(profile, None);
        let mut verdict = Verdict::new(Decision::Proceed, None);
        let Transport::Http(http) = asked.transport else {
            if asked
                .route
                .is_some_and(|r| !settings.tftp.allows(r.profile))
            {
                return Verdict::new(refuse(403, None, Refusal::NotOverTftp), None);
            }
            return verdict;
        };
        if settings.auth.protect != Protect::All || !policy.needs_credentials() {
            return verdict;
        }
        let presented = http.authorization.and_then(credentials::parse);
        let candidates: Vec<(&str, &str)> = match (&policy.auth, &presented) {
            (AuthSource::Static { username, password }, _) => {
                vec![(username.as_str(), password.expose())]
            }
            (AuthSource::Sip, Some(p)) => snapshot
                .phones()
                .iter()
                .flat_map(|phone| &phone.lines)
                .filter(|line| line.vars.get("USERNAME") == Some(p.username()))
                .filter_map(|line| Some((p.username(), line.vars.get("SECRET")?)))
                .collect(),
            _ => Vec::new(),
        };
        match self.credentials(snapshot, policy, http, &candidates) {
            Ok(user) => verdict.proof = Proof::Credentials(user),
            Err(challenge) => {
                if challenge.failed {
                    match self.count_miss(key, None, throttled, now, asked, &settings.limits) {
                        Ok(delay) => verdict.delay = delay,
                        Err(refused) => return refused,
                    }
                }
                verdict.decision = Decision::Challenge(challenge.headers);
            }
        }
        verdict
    }

    /// Checks the request's credentials against `candidates`.
    fn credentials(
        &self,
        snapshot: &Snapshot,
        policy: &Policy,
        http: Http<'_>,
        candidates: &[(&str, &str)],
    ) -> Result<String, Challenge> {
        let auth = &snapshot.settings().auth;
        let basic_allowed = http.tls || auth.basic_without_tls;
        let challenge = |stale: bool, failed: bool, user: &str| Challenge {
            headers: self
                .nonces
                .challenges(auth, policy.schemes, basic_allowed, stale),
            failed,
            user: user.to_owned(),
        };
        let Some(presented) = http.authorization.and_then(credentials::parse) else {
            return Err(challenge(false, false, ""));
        };
        let expected = Expected {
            realm: &auth.realm,
            method: http.method,
            uri: http.target,
            algorithms: &auth.digest_algorithms,
            nonce_lifetime: auth.nonce_lifetime,
        };
        match credentials::verify(
            &presented,
            candidates.iter().copied(),
            &expected,
            &self.nonces,
            policy.schemes,
            basic_allowed,
        ) {
            Ok(()) => Ok(presented.username().to_owned()),
            Err(Failure::Stale) => Err(challenge(true, false, presented.username())),
            Err(Failure::Scheme)
                if matches!(presented, Presented::Basic { .. }) && !basic_allowed =>
            {
                tracing::warn!(target: SECURITY, user = %presented.username(),
                    "Basic credentials over plain HTTP refused (they travel in clear text; use HTTPS or Digest)");
                Err(challenge(false, true, presented.username()))
            }
            Err(_) => Err(challenge(false, true, presented.username())),
        }
    }

    /// Called once a phone's file was answered with `status`: counts it towards harvesting.
    pub fn served(&self, snapshot: &Snapshot, client: IpAddr, mac: Mac, status: u16) {
        if !(200..400).contains(&status) {
            return;
        }
        let limits = &snapshot.settings().limits;
        let client = pjprov_core::settings::unmap(client);
        if !limits.throttle || limits.exempt.matches(client) {
            return;
        }
        let key = ClientKey::new(client, limits);
        if let HarvestOutcome::Flagged { phones, refused } =
            self.throttle.served(&key, mac, limits, Instant::now())
        {
            tracing::warn!(target: SECURITY, client = %key.ip(), phones,
                window_s = limits.harvest_window.as_secs(), refused,
                "client fetched the files of many different phones (harvesting?)");
        }
    }
}

/// A 401 to send.
struct Challenge {
    headers: Vec<String>,
    /// Credentials were presented and were wrong.
    failed: bool,
    user: String,
}

fn refuse(status: u16, retry_after: Option<u64>, why: Refusal) -> Decision {
    Decision::Refuse {
        status,
        retry_after,
        why,
    }
}

fn subject(snapshot: &Snapshot, asked: &Asked<'_>) -> Subject {
    match asked.route {
        Some(route) => match route.target {
            Target::Dynamic { phone, .. } => Subject::Phone {
                mac: snapshot.route_mac(route),
                phone,
                profile: route.profile,
            },
            Target::Static { .. } => Subject::Shared {
                profile: route.profile,
            },
        },
        None => match snapshot.phone_name(asked.name) {
            Some(named) => Subject::Named {
                mac: named.mac,
                phone: named.phone,
                profile: named.profile,
            },
            None => Subject::Other,
        },
    }
}

/// The `(username, password)` pairs that open phone `phone`'s files under `policy`.
fn phone_credentials<'s>(
    snapshot: &'s Snapshot,
    policy: &'s Policy,
    phone: Option<usize>,
) -> Vec<(&'s str, &'s str)> {
    match &policy.auth {
        AuthSource::None => Vec::new(),
        AuthSource::Static { username, password } => vec![(username.as_str(), password.expose())],
        AuthSource::Sip => phone
            .and_then(|p| snapshot.phones().get(p))
            .map(|phone| {
                phone
                    .lines
                    .iter()
                    .filter_map(|line| Some((line.vars.get("USERNAME")?, line.vars.get("SECRET")?)))
                    .filter(|(_, secret)| !secret.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn check_certificate(
    policy: &Policy,
    http: Http<'_>,
    mac: Option<Mac>,
    client: IpAddr,
    name: &str,
) -> Option<Decision> {
    match (policy.client_cert, http.cert) {
        (ClientCert::Off, _) | (ClientCert::Optional, None) => None,
        (ClientCert::Require, None) => {
            tracing::warn!(target: SECURITY, client = %client, uri = %name,
                "refused: client_cert = require and no client certificate was presented");
            Some(refuse(403, None, Refusal::Certificate))
        }
        (_, Some(cert)) => match (cert.mac, mac) {
            (Some(theirs), Some(wanted)) if theirs == wanted => None,
            (None, _) => {
                tracing::warn!(target: SECURITY, client = %client, uri = %name, certificate = %cert,
                    "refused: a generic client certificate (no single MAC in it) cannot prove which phone this is");
                Some(refuse(403, None, Refusal::Certificate))
            }
            (Some(theirs), _) => {
                tracing::warn!(target: SECURITY, client = %client, uri = %name, certificate = %cert,
                    certificate_mac = %theirs, "refused: the client certificate belongs to another phone");
                Some(refuse(403, None, Refusal::Certificate))
            }
        },
    }
}

fn check_user_agent(
    policy: &Policy,
    http: Http<'_>,
    mac: Option<Mac>,
    client: IpAddr,
    name: &str,
) -> Option<Decision> {
    if policy.user_agent == Binding::Off {
        return None;
    }
    let (Some(wanted), Some(agent)) = (mac, http.user_agent) else {
        return None;
    };
    let theirs = user_agent::mac_in(agent)?;
    if theirs == wanted {
        return None;
    }
    let enforce = policy.user_agent == Binding::Enforce;
    tracing::warn!(target: SECURITY, client = %client, uri = %name, user_agent = %agent,
        user_agent_mac = %theirs, refused = enforce, "a phone asked for another phone's file");
    enforce.then(|| refuse(403, None, Refusal::UserAgent))
}

/// Logs the audit line of a phone's file.
pub fn audit(
    protocol: &str,
    client: IpAddr,
    mac: Mac,
    user_agent: &str,
    uri: &str,
    status: u16,
    proof: &Proof,
) {
    tracing::info!(target: AUDIT, mac = %mac, client = %pjprov_core::settings::unmap(client),
        user_agent = %user_agent, uri = %uri, status, protocol, proof = %proof, "phone file");
}
