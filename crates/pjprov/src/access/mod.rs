//! Who may fetch what: the checks every request passes before a file is served, over HTTP, HTTPS and TFTP
//! alike (docs/security.md explains each one and why).
//!
//! The network ACL comes first ([`Access::admit`]): HTTP and HTTPS call it when a connection is accepted,
//! before a TLS handshake or a request is read; TFTP for each read request. Then, per request, the pure
//! decision of `decide.rs` ([`decide::decide`]) turns the facts (what was asked, who asks, the policy, the
//! client's standing with the scan throttle) into a [`Verdict`] and its effects; [`Access::check`] gathers
//! the facts, and applies the effects (misses and bans to the throttle, security lines to the log, a
//! provisioning window's claim to the enrolment state, written before the answer goes out). Once the
//! status is known, the server calls [`Access::served`] and [`audit`].
//!
//! A name shaped like a phone's file answers the same whether the phone exists or not, as far as these
//! checks go: an unknown MAC is challenged for credentials like a known one (and no credentials can ever
//! succeed for it), under the strictest policy of the profiles with that name's shape, and delayed by the
//! client's standing alone, so neither status nor timing tells which MACs exist.

mod client_cert;
pub mod credentials;
pub mod decide;
pub mod enrol;
pub mod nonce;
mod throttle;

use std::net::IpAddr;
use std::time::Instant;

use pjprov_core::settings::Settings;
use pjprov_core::{Mac, Snapshot, Subject};

pub use client_cert::{CertIdentity, describe_ca};
use credentials::NonceKey;
pub use decide::{Decision, Event, HttpFacts, Proof, Protocol, Refusal, Verdict};
use decide::{EnrolEffect, Facts, NoTrace, Step, Trace};
use enrol::Enrolment;
use throttle::{ClientKey, HarvestOutcome, Throttle};

/// Log target of security events (refusals, bans, mismatches): fail2ban-friendly, one line each.
pub const SECURITY: &str = "pjprov::security";
// The audit trail (one line per phone file asked for) is the request line: crate::logging::RequestLine.

/// The access state kept across reloads.
#[derive(Debug)]
pub struct Access {
    throttle: Throttle,
    nonces: NonceKey,
    nonce_counts: nonce::NonceCounts,
    /// Provisioning windows (issue #18): unusable (every window closed) until the state directory is
    /// attached ([`Access::with_enrolment`]).
    enrolment: Enrolment,
}

/// One request, as access control sees it.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    /// The client's address.
    pub client: IpAddr,
    /// The name asked for (below `/phoneprov/`), for logs.
    pub name: &'a str,
    /// What it is about ([`Snapshot::subject`]).
    pub subject: Subject,
    /// How it arrived.
    pub protocol: Protocol,
    /// What an HTTP request carries (`Default` for TFTP).
    pub http: HttpFacts<'a>,
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
            nonce_counts: nonce::NonceCounts::default(),
            enrolment: Enrolment::default(),
        }
    }

    /// Uses `enrolment` for provisioning windows (the state directory's, or explain's copy).
    pub fn with_enrolment(mut self, enrolment: Enrolment) -> Access {
        self.enrolment = enrolment;
        self
    }

    /// The enrolment state.
    pub fn enrolment(&self) -> &Enrolment {
        &self.enrolment
    }

    /// Applies a new snapshot's limits to the state, and takes in its phones (first-boot windows open for
    /// phones just added): called once the snapshot is about to be served, after the settle time.
    pub fn configure(&self, snapshot: &Snapshot) {
        self.throttle.resize(snapshot.settings().limits.max_clients);
        for mac in self
            .enrolment
            .observe(snapshot, jiff::Timestamp::now().as_second())
        {
            tracing::info!(target: SECURITY, mac = %mac,
                "provisioning window opened: the phone was just added to the configuration (first_boot_window)");
        }
    }

    /// Clients tracked and clients refused right now (for metrics).
    pub fn throttle_gauges(&self) -> (usize, usize) {
        (self.throttle.tracked(), self.throttle.refused())
    }

    /// Digest nonces whose counts are tracked, and replayed counts refused since start (for metrics).
    /// Expired entries are dropped first: the gauge counts live nonces.
    pub fn nonce_gauges(&self, snapshot: &Snapshot) -> (usize, u64) {
        let now = u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0);
        let lifetime = snapshot.settings().auth.nonce_lifetime.as_secs();
        self.nonce_counts.expire(now, lifetime);
        (self.nonce_counts.tracked(), self.nonce_counts.replays())
    }

    /// The network ACL: whether `client` may talk to pjprov at all. Servers call it before anything else
    /// (at accept time for HTTP and HTTPS), then [`Access::check`] for what each request asks.
    pub fn admit(settings: &Settings, client: IpAddr) -> bool {
        settings.acl.allows(pjprov_core::settings::unmap(client))
    }

    /// Runs every check for `asked`, a client [`Access::admit`] let in, and applies the effects.
    pub fn check(&self, snapshot: &Snapshot, asked: &Asked<'_>) -> Verdict {
        let mut verdict = self.evaluate(snapshot, asked, &mut NoTrace);
        self.apply(snapshot, asked, &mut verdict);
        verdict
    }

    /// What [`Access::check`] would answer, with every rule consulted, and nothing applied (for
    /// `pjprov explain`).
    pub fn explain(&self, snapshot: &Snapshot, asked: &Asked<'_>) -> (Verdict, Vec<Step>) {
        let mut steps = Vec::new();
        let verdict = self.evaluate(snapshot, asked, &mut steps);
        (verdict, steps)
    }

    fn evaluate(&self, snapshot: &Snapshot, asked: &Asked<'_>, trace: &mut impl Trace) -> Verdict {
        let limits = &snapshot.settings().limits;
        let client = pjprov_core::settings::unmap(asked.client);
        let throttled = limits.throttle && !limits.exempt.matches(client);
        let named = match asked.subject {
            Subject::PhoneShaped { mac, .. } => Some(mac),
            _ => None,
        };
        let standing = if throttled {
            self.throttle.standing(
                &ClientKey::new(client, limits),
                named,
                limits,
                Instant::now(),
            )
        } else {
            throttle::Standing::default()
        };
        let now = jiff::Timestamp::now().as_second();
        // Issue #18: the enrolment state of a phone's own file, when its policy has one.
        let record = match asked.subject {
            Subject::Phone {
                profile,
                mac: Some(mac),
                ..
            } if snapshot.settings().policy(profile, Some(mac)).enrol.mode
                != pjprov_core::settings::EnrolMode::Open =>
            {
                self.enrolment.record(mac)
            }
            _ => None,
        };
        let facts = Facts {
            snapshot,
            client,
            name: asked.name,
            enrolment: record.as_ref(),
            subject: asked.subject,
            protocol: asked.protocol,
            http: asked.http,
            throttled,
            standing,
            nonces: &self.nonces,
            nonce_counts: &self.nonce_counts,
            now,
        };
        decide::decide(&facts, trace)
    }

    fn apply(&self, snapshot: &Snapshot, asked: &Asked<'_>, verdict: &mut Verdict) {
        let limits = &snapshot.settings().limits;
        let client = pjprov_core::settings::unmap(asked.client);
        let key = ClientKey::new(client, limits);
        let now = Instant::now();
        // A claim is a precondition of serving, not a consequence: written first, or nothing is served.
        match verdict.effects.enrol.clone() {
            Some(EnrolEffect::Claim { mac, grace, shape }) => {
                let unix = jiff::Timestamp::now().as_second();
                if let Err(refused) = self.enrolment.claim(mac, client, grace, unix) {
                    verdict.decision = Decision::Lobby { shape };
                    verdict
                        .effects
                        .events
                        .retain(|e| !matches!(e, Event::WindowUsed { .. }));
                    match refused {
                        enrol::ClaimRefused::Gone => {
                            tracing::info!(target: SECURITY, client = %client, uri = %asked.name, mac = %mac,
                                "provisioning window closed or taken meanwhile: the lobby");
                        }
                        enrol::ClaimRefused::Unwritable(why) => {
                            tracing::error!(target: SECURITY, client = %client, uri = %asked.name, mac = %mac,
                                "{why}: the phone's credentials are not served (the lobby) and its window is closed");
                        }
                    }
                }
            }
            Some(EnrolEffect::Proven { mac, how }) => {
                self.enrolment
                    .proven(mac, client, how, jiff::Timestamp::now().as_second());
            }
            None => {}
        }
        if let Some(miss) = verdict.effects.miss {
            let mac = match miss {
                decide::Miss::UnknownMac(mac) => Some(mac),
                decide::Miss::FailedCredentials => None,
            };
            self.throttle.record_miss(&key, mac, limits, now);
        }
        if verdict.effects.ban {
            self.throttle.ban(&key, limits, now);
        }
        for event in &verdict.effects.events {
            log_event(event, client, asked.name, limits);
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

/// The address a client is counted under (its /32, or its IPv6 /64): for the throttle and the per-client
/// connection cap alike.
pub fn client_key(ip: IpAddr, limits: &pjprov_core::settings::Limits) -> IpAddr {
    ClientKey::new(ip, limits).ip()
}

/// One fail2ban-friendly line per security event, each with `client=`.
fn log_event(event: &Event, client: IpAddr, uri: &str, limits: &pjprov_core::settings::Limits) {
    match event {
        Event::Throttled => {
            tracing::debug!(target: SECURITY, client = %client, uri = %uri, "refused: throttled");
        }
        Event::Banned { misses } => {
            tracing::warn!(target: SECURITY, client = %client, uri = %uri, misses,
                window_s = limits.window.as_secs(), ban_s = limits.ban.as_secs(),
                "client refused: too many unknown phones or failed credentials (scan)");
        }
        Event::NotOverTftp => {
            tracing::info!(target: SECURITY, client = %client, uri = %uri,
                "refused over TFTP: its profile is not in [tftp] profiles");
        }
        Event::CertificateRequired => {
            tracing::warn!(target: SECURITY, client = %client, uri = %uri,
                "refused: client_cert = require and no client certificate was presented");
        }
        Event::GenericCertificate { subject } => {
            tracing::warn!(target: SECURITY, client = %client, uri = %uri, certificate = %subject,
                "refused: a generic client certificate (no single MAC in it) cannot prove which phone this is");
        }
        Event::OtherPhonesCertificate { subject, theirs } => {
            tracing::warn!(target: SECURITY, client = %client, uri = %uri, certificate = %subject,
                certificate_mac = %theirs, "refused: the client certificate belongs to another phone");
        }
        Event::OtherPhonesUserAgent {
            user_agent,
            theirs,
            refused,
        } => {
            tracing::warn!(target: SECURITY, client = %client, uri = %uri, user_agent = %user_agent,
                user_agent_mac = %theirs, refused, "a phone asked for another phone's file");
        }
        Event::WrongCredentials { user } => {
            tracing::info!(target: SECURITY, client = %client, uri = %uri, user = %user,
                "wrong credentials");
        }
        Event::BasicInClear { user } => {
            tracing::warn!(target: SECURITY, client = %client, uri = %uri, user = %user,
                "Basic credentials over plain HTTP refused (they travel in clear text; use HTTPS or Digest)");
        }
        Event::PolicyAcl { lists } => {
            tracing::warn!(target: SECURITY, client = %client, uri = %uri, acl = %lists,
                "refused by the named ACL(s) of the file's policy (acl = NAME)");
        }
        Event::WindowUsed { mac } => {
            tracing::info!(target: SECURITY, client = %client, uri = %uri, mac = %mac,
                "credentials served in the phone's provisioning window, without proof: the window is bound to this client");
        }
        Event::WindowClaimedByOther { mac, claimed_by } => {
            tracing::warn!(target: SECURITY, client = %client, uri = %uri, mac = %mac, claimed_by = %claimed_by,
                "a second address asked for a phone's credentials in its provisioning window: the lobby (check which one is the phone)");
        }
        Event::ReplayedNonceCount { user } => {
            tracing::warn!(target: SECURITY, client = %client, uri = %uri, user = %user,
                "replayed Digest request refused: its nonce count was used already");
        }
    }
}
