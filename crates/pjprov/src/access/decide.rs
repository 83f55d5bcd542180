//! The access decision as a pure function: [`Facts`] in, a [`Verdict`] out, with the [`Effects`] the
//! caller applies (a miss to count, a ban, the security lines to log). No socket, no clock but the nonce
//! key's, no shared state: HTTP, HTTPS, TFTP and `pjprov explain` all call [`decide`], and table tests
//! cover protocol × subject × policy directly.
//!
//! The order of the checks, and why:
//! 1. a client the throttle refuses gets nothing, whatever it asks (a scanner learns nothing more);
//! 2. what the request is about ([`Subject`]): a name that is no route and no phone's shape is a 404 for
//!    everyone, and costs nothing;
//! 3. over TFTP, only the profiles `[tftp] profiles` lists; a MAC no phone has gets the answer of the
//!    strictest profile of its name's shape, so the answer tells nothing about which MACs exist;
//! 4. over HTTP: the client certificate first (it is the strongest proof, and a certificate naming another
//!    phone is refused even with good credentials), then the User-Agent binding (a phone that names itself
//!    asking for another phone's file), then credentials — skipped when a certificate proved the phone;
//! 5. a name with a MAC no phone has is a miss; enough misses and the client is refused;
//! 6. enrolment (issue #18): a phone's own file goes out under `enrol = window | proof` only with the
//!    phone's proof or inside its window (`enrol.rs`); otherwise, and for every name shaped like a phone's
//!    file that is no configured phone's, the answer is the lobby of the name's shape (or a 404 where it
//!    has none) — one answer, through one path, whether a phone has the MAC or not;
//! 7. a client past the slow-down point waits before every phone-shaped answer, known phone or not: delay
//!    by standing, never by existence.

use std::time::Duration;

use pjprov_core::settings::{
    AuthSource, Binding, ClientCert, EnrolMode, Policy, Protect, Settings,
};
use pjprov_core::{Mac, PhoneId, ProfileId, ShapeId, Snapshot, Subject};

use super::client_cert::CertIdentity;
use super::credentials::{self, Expected, Failure, NonceKey, Presented};
use super::enrol::{Record, WindowState};
use super::nonce::{Count, NonceCounts};
use super::throttle::Standing;

/// How a request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
    /// TFTP (no credentials, no User-Agent, no certificate).
    Tftp,
}

impl Protocol {
    /// `http`, `https`, `tftp`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Tftp => "tftp",
        }
    }
}

/// What an HTTP request carries that access control looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpFacts<'a> {
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

/// Everything the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The configuration (policies, phones, shapes).
    pub snapshot: &'a Snapshot,
    /// The client's address (IPv4-mapped addresses unmapped).
    pub client: std::net::IpAddr,
    /// The name asked for (below `/phoneprov/`).
    pub name: &'a str,
    /// What the request is about.
    pub subject: Subject,
    /// How it arrived.
    pub protocol: Protocol,
    /// What an HTTP request carries (`Default` for TFTP).
    pub http: HttpFacts<'a>,
    /// Whether the scan throttle applies to this client (it is on and the client is not exempt).
    pub throttled: bool,
    /// What the throttle knows of the client.
    pub standing: Standing,
    /// The Digest nonce key.
    pub nonces: &'a NonceKey,
    /// The counts of the nonces in use (a verified Digest response's `nc` is recorded there).
    pub nonce_counts: &'a NonceCounts,
    /// Now, in Unix seconds.
    pub now: i64,
    /// For a phone's own file under `enrol = window | proof`: what the enrolment state holds of it (`None`:
    /// nothing, no window).
    pub enrolment: Option<&'a Record>,
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
    /// Answer with the lobby of this shape ([`Snapshot::lobby`]), or 404 where it has none: what a name
    /// shaped like a phone's file gets when no secret may go with it. The same whether a phone has the
    /// MAC or not.
    Lobby {
        /// The name's shape (`None`: it has none, so 404).
        shape: Option<ShapeId>,
    },
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

impl Proof {
    /// `none`, `credentials:USER`, `certificate` (written without allocating but for credentials).
    pub fn text(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Proof::None => "none".into(),
            Proof::Credentials(user) => format!("credentials:{user}").into(),
            Proof::Certificate => "certificate".into(),
        }
    }
}

impl std::fmt::Display for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

/// A miss to count against the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// A name with a MAC no phone has.
    UnknownMac(Mac),
    /// Credentials that were wrong.
    FailedCredentials,
}

/// A security event to log (fail2ban-friendly lines; the caller adds client and URI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The client is refused by the throttle (a ban in force).
    Throttled,
    /// This request got the client banned.
    Banned {
        /// Misses in the window.
        misses: u32,
    },
    /// A profile not in `[tftp] profiles`, asked over TFTP.
    NotOverTftp,
    /// `client_cert = require` and none presented.
    CertificateRequired,
    /// A certificate naming no single phone.
    GenericCertificate {
        /// Its subject.
        subject: String,
    },
    /// A certificate naming another phone.
    OtherPhonesCertificate {
        /// Its subject.
        subject: String,
        /// The MAC it names.
        theirs: Mac,
    },
    /// A User-Agent naming another phone.
    OtherPhonesUserAgent {
        /// The User-Agent.
        user_agent: String,
        /// The MAC it names.
        theirs: Mac,
        /// Whether the request was refused for it.
        refused: bool,
    },
    /// Credentials that were wrong.
    WrongCredentials {
        /// The username presented.
        user: String,
    },
    /// The client is not allowed by the policy's `acl = NAME` (a profile's or a phone's named ACLs).
    PolicyAcl {
        /// The named ACLs that refuse it.
        lists: String,
    },
    /// Basic credentials over plain HTTP.
    BasicInClear {
        /// The username presented.
        user: String,
    },
    /// A phone's credentials served in its provisioning window, without proof: the window is bound to the
    /// client from now on.
    WindowUsed {
        /// The phone.
        mac: Mac,
    },
    /// A phone's window was bound to another address: this client gets the lobby.
    WindowClaimedByOther {
        /// The phone.
        mac: Mac,
        /// The address that fetched in the window first.
        claimed_by: std::net::IpAddr,
    },
    /// A right Digest response whose nonce count was used already (or went back): a replay.
    ReplayedNonceCount {
        /// The username presented.
        user: String,
    },
}

/// What the caller must do besides answering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// Count this miss.
    pub miss: Option<Miss>,
    /// Refuse the client from now on (for `[limits] scan_ban`).
    pub ban: bool,
    /// Log these.
    pub events: Vec<Event>,
    /// What the enrolment state must record; a claim must be written *before* the answer goes out (if it
    /// cannot be, the answer is the lobby).
    pub enrol: Option<EnrolEffect>,
}

/// An enrolment change a decision makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolEffect {
    /// Bind the phone's window to the client (for `grace`), before serving.
    Claim {
        /// The phone.
        mac: Mac,
        /// `enrol_grace`.
        grace: Duration,
        /// The lobby to answer with if the claim cannot be made.
        shape: Option<ShapeId>,
    },
    /// The phone proved itself (`how`): note its first fetch.
    Proven {
        /// The phone.
        mac: Mac,
        /// `credentials`, `certificate`, `user agent`.
        how: &'static str,
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
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// What to apply.
    pub effects: Effects,
}

impl Verdict {
    fn new(decision: Decision, mac: Option<Mac>) -> Verdict {
        Verdict {
            decision,
            mac,
            proof: Proof::None,
            delay: None,
            effects: Effects::default(),
        }
    }

    fn refused(mut self, status: u16, retry_after: Option<u64>, why: Refusal) -> Verdict {
        self.decision = Decision::Refuse {
            status,
            retry_after,
            why,
        };
        self
    }
}

/// Where the policy a request was judged by came from (for `explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFrom {
    /// The phone's profile, or its `[phone:MAC]` section.
    Phone(ProfileId),
    /// The profile serving a shared file.
    Profile(ProfileId),
    /// The strictest of the profiles with the name's shape (`None`: `[auth]` alone).
    Strictest(Option<ProfileId>),
}

/// One rule consulted, in order: what `pjprov explain` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The throttle's view of the client.
    Standing {
        /// Whether the throttle applies to this client.
        throttled: bool,
        /// What it knows.
        standing: Standing,
    },
    /// What the request is about.
    Subject(Subject),
    /// The policy that applies.
    Policy {
        /// Where it comes from.
        from: PolicyFrom,
        /// The policy.
        policy: Policy,
    },
    /// The policy's named ACLs (`acl = NAME`), when it has some.
    Acl {
        /// Whether every list allows the client.
        allowed: bool,
        /// Each list, and whether it allows the client.
        lists: Vec<(String, bool)>,
    },
    /// `[tftp] profiles`.
    Tftp {
        /// Whether the profile(s) may be served over TFTP.
        allowed: bool,
    },
    /// The client certificate rule and what it found.
    Certificate(&'static str),
    /// The User-Agent rule and what it found.
    UserAgent(&'static str),
    /// Credentials.
    Credentials(&'static str),
    /// Enrolment: what the phone's window and proofs say.
    Enrol(String),
    /// A miss counted, with the client's total.
    Miss {
        /// Misses after this one.
        misses: u32,
        /// The refusal point.
        refuse_after: u32,
    },
    /// A delay, by standing.
    Delay(Duration),
}

/// Where the steps of a decision go: nowhere for the servers, a list for `explain`.
pub trait Trace {
    /// Records one step.
    fn step(&mut self, step: Step);
}

/// Records nothing.
#[derive(Debug, Default)]
pub struct NoTrace;

impl Trace for NoTrace {
    fn step(&mut self, _: Step) {}
}

impl Trace for Vec<Step> {
    fn step(&mut self, step: Step) {
        self.push(step);
    }
}

/// Decides what `facts` get.
pub fn decide(facts: &Facts<'_>, trace: &mut impl Trace) -> Verdict {
    let settings = facts.snapshot.settings();
    let limits = &settings.limits;
    trace.step(Step::Standing {
        throttled: facts.throttled,
        standing: facts.standing,
    });
    if facts.throttled
        && let Some(retry) = facts.standing.refused_for
    {
        let retry = (limits.refusal_status == 429).then_some(retry);
        let mut verdict = Verdict::new(Decision::Proceed, None).refused(
            limits.refusal_status,
            retry,
            Refusal::Throttled,
        );
        verdict.effects.events.push(Event::Throttled);
        return verdict;
    }
    trace.step(Step::Subject(facts.subject));
    match facts.subject {
        Subject::Other => Verdict::new(Decision::Proceed, None),
        Subject::Shared { profile, secret } => shared(facts, settings, profile, secret, trace),
        Subject::Phone {
            phone,
            profile,
            mac,
        } => {
            let policy = settings.policy(profile, mac);
            trace.step(Step::Policy {
                from: PolicyFrom::Phone(profile),
                policy: policy.clone(),
            });
            if let Some(refused) = policy_acls(facts, &[policy], mac, trace) {
                return refused;
            }
            let allowed_over_tftp = settings.tftp.allows(profile);
            // The shape the lobby would come from: the name's own, as for any MAC.
            let shape = facts.snapshot.phone_shaped(facts.name).map(|(_, s)| s);
            phone_file(
                facts,
                policy,
                mac,
                Some(phone),
                allowed_over_tftp,
                None,
                Gate::Own { shape },
                trace,
            )
        }
        Subject::PhoneShaped { mac, phone, shape } => {
            let profiles = facts.snapshot.shape_profiles(shape);
            let (strictest, policy) = settings.strictest(profiles);
            trace.step(Step::Policy {
                from: PolicyFrom::Strictest(strictest),
                policy: policy.clone(),
            });
            // Every profile of the shape's ACLs: a MAC is refused wherever any phone of its shape would be.
            let all: Vec<&Policy> = profiles.iter().map(|&p| settings.policy(p, None)).collect();
            if let Some(refused) = policy_acls(facts, &all, Some(mac), trace) {
                return refused;
            }
            // Over TFTP, the strictest answer is a refusal as soon as one of the profiles is not served.
            let allowed_over_tftp = profiles.iter().all(|&p| settings.tftp.allows(p));
            let miss = phone.is_none().then_some(Miss::UnknownMac(mac));
            phone_file(
                facts,
                policy,
                Some(mac),
                phone,
                allowed_over_tftp,
                miss,
                Gate::Shaped { shape },
                trace,
            )
        }
    }
}

/// What a request for a phone's file is: the phone's own route, or a name that is only shaped like one.
#[derive(Debug, Clone, Copy)]
enum Gate {
    /// A configured phone's own file: enrolment decides whether it goes out.
    Own {
        /// Its name's shape, for the lobby.
        shape: Option<ShapeId>,
    },
    /// No route: the lobby of the shape, whoever has the MAC.
    Shaped {
        /// The shape.
        shape: ShapeId,
    },
}

/// A phone's file, or a name shaped like one (`miss` set when no phone has its MAC).
#[allow(clippy::too_many_arguments)]
fn phone_file(
    facts: &Facts<'_>,
    policy: &Policy,
    mac: Option<Mac>,
    phone: Option<PhoneId>,
    allowed_over_tftp: bool,
    miss: Option<Miss>,
    gate: Gate,
    trace: &mut impl Trace,
) -> Verdict {
    let mut verdict = Verdict::new(Decision::Proceed, mac);
    // Issue #18: how the phone's provisioning window stands for this client (its own file only).
    let enrolled = match (gate, policy.enrol.mode) {
        (Gate::Own { .. }, EnrolMode::Window) => facts.enrolment.map_or(WindowState::Closed, |r| {
            r.window_for(facts.client, facts.now)
        }),
        _ => WindowState::Closed,
    };
    let window_open = matches!(
        enrolled,
        WindowState::Open { .. } | WindowState::Claimed { .. }
    );
    let mut own_credentials = false;
    if facts.protocol == Protocol::Tftp {
        trace.step(Step::Tftp {
            allowed: allowed_over_tftp,
        });
        if !allowed_over_tftp {
            verdict.effects.events.push(Event::NotOverTftp);
            verdict = verdict.refused(403, None, Refusal::NotOverTftp);
            // A refusal over TFTP still counts the MAC when no phone has it.
            count(facts, &mut verdict, miss, trace);
            return verdict;
        }
    } else {
        if let Some(event) = check_certificate(policy, facts.http.cert, mac, trace) {
            verdict.effects.events.push(event);
            return verdict.refused(403, None, Refusal::Certificate);
        }
        if facts.http.cert.is_some() && policy.client_cert != ClientCert::Off {
            verdict.proof = Proof::Certificate;
        }
        if let Some(event) = check_user_agent(policy, facts.http.user_agent, mac, trace) {
            let refused = matches!(event, Event::OtherPhonesUserAgent { refused: true, .. });
            verdict.effects.events.push(event);
            if refused {
                return verdict.refused(403, None, Refusal::UserAgent);
            }
        }
        // A phone in its box cannot know its own SIP password: inside its window, `auth = sip` is waived
        // (the window is the credential of first boot). Never outside it, never for another phone.
        let waived = window_open && policy.auth == AuthSource::Sip;
        if policy.needs_credentials() && verdict.proof != Proof::Certificate && !waived {
            let mut candidates = phone_credentials(facts.snapshot, policy, phone);
            let sip = sip_credentials(facts.snapshot, phone);
            if policy.enrol.mode != EnrolMode::Open
                && matches!(policy.auth, AuthSource::Static { .. })
            {
                // Under enrolment the phone's own SIP credentials are accepted as well: they prove it.
                candidates.extend(sip.iter().copied());
            }
            authenticate(facts, policy, &candidates, &mut verdict, trace);
            if matches!(verdict.decision, Decision::Refuse { .. }) {
                return verdict;
            }
            own_credentials = matches!(verdict.proof, Proof::Credentials(_))
                && (policy.auth == AuthSource::Sip || verifies(facts, policy, &sip, false));
        } else if waived {
            trace.step(Step::Credentials(
                "auth = sip waived: the phone's provisioning window is open for this client",
            ));
        } else {
            trace.step(Step::Credentials(if policy.needs_credentials() {
                "not needed: the certificate proved the phone"
            } else {
                "none asked (auth = none)"
            }));
            // Credentials sent unasked still prove the phone under enrolment (nothing challenges for them).
            if matches!(gate, Gate::Own { .. })
                && policy.enrol.mode != EnrolMode::Open
                && policy.enrol.proofs.credentials
                && facts.http.authorization.is_some()
            {
                let sip = sip_credentials(facts.snapshot, phone);
                own_credentials = verifies(facts, policy, &sip, true);
                if !own_credentials {
                    // Guessing a phone's password unasked is throttled like any failed credentials.
                    let user = facts
                        .http
                        .authorization
                        .and_then(credentials::parse)
                        .map(|p| p.username().to_owned())
                        .unwrap_or_default();
                    trace.step(Step::Credentials(
                        "sent unasked and not the phone's own (or replayed): counted as a miss",
                    ));
                    verdict
                        .effects
                        .events
                        .push(Event::WrongCredentials { user });
                    if count(facts, &mut verdict, Some(Miss::FailedCredentials), trace) {
                        return verdict;
                    }
                }
            }
        }
    }
    if count(facts, &mut verdict, miss, trace) {
        return verdict;
    }
    if verdict.decision == Decision::Proceed {
        enrolment_gate(
            facts,
            policy,
            mac,
            gate,
            enrolled,
            own_credentials,
            &mut verdict,
            trace,
        );
    }
    slow_down(facts, &mut verdict, trace);
    verdict
}

/// Issue #18: whether a phone's own file may go out (`enrol`), and the lobby for everything else shaped
/// like a phone's file. Called once every other check let the request through.
#[allow(clippy::too_many_arguments)]
fn enrolment_gate(
    facts: &Facts<'_>,
    policy: &Policy,
    mac: Option<Mac>,
    gate: Gate,
    enrolled: WindowState,
    own_credentials: bool,
    verdict: &mut Verdict,
    trace: &mut impl Trace,
) {
    let shape = match gate {
        Gate::Shaped { shape } => {
            trace.step(Step::Enrol(
                "not a configured phone's own file: the lobby of the name's shape".into(),
            ));
            verdict.decision = Decision::Lobby { shape: Some(shape) };
            return;
        }
        Gate::Own { shape } => shape,
    };
    let enrol = &policy.enrol;
    if enrol.mode == EnrolMode::Open {
        trace.step(Step::Enrol("enrol = open: served".into()));
        return;
    }
    let Some(mac) = mac else {
        // A phone whose configured MAC is no valid MAC: nothing can be proven about it.
        trace.step(Step::Enrol(format!(
            "enrol = {}: the phone's MAC is not a valid one, so nothing proves it: the lobby",
            enrol.mode.name()
        )));
        verdict.decision = Decision::Lobby { shape };
        return;
    };
    let names_phone = |agent: Option<&str>| agent.and_then(pjprov_core::agent::mac_in) == Some(mac);
    let proof = if enrol.proofs.certificate && verdict.proof == Proof::Certificate {
        Some("certificate")
    } else if enrol.proofs.credentials && own_credentials {
        Some("credentials")
    } else if enrol.proofs.user_agent
        && policy.user_agent != Binding::Off
        && names_phone(facts.http.user_agent)
    {
        Some("user agent")
    } else {
        None
    };
    if let Some(how) = proof {
        trace.step(Step::Enrol(format!(
            "enrol = {}: the phone proved itself ({how}; enrol_proof = {}): served",
            enrol.mode.name(),
            enrol.proofs.names()
        )));
        verdict.effects.enrol = Some(EnrolEffect::Proven { mac, how });
        return;
    }
    let first = facts.enrolment.and_then(|r| r.first_fetch.as_ref());
    let history = first.map_or_else(String::new, |f| {
        format!(
            "; its credentials first went out to {} ({})",
            f.address, f.how
        )
    });
    match (enrol.mode, enrolled) {
        (EnrolMode::Window, WindowState::Open { until }) => {
            trace.step(Step::Enrol(format!(
                "enrol = window: its window is open until {} and nobody fetched in it yet: served without                  proof, and the window is bound to {} (for enrol_grace = {} at most){history}",
                when(until),
                facts.client,
                pjprov_core::settings::show_duration(enrol.grace)
            )));
            verdict.effects.events.push(Event::WindowUsed { mac });
            verdict.effects.enrol = Some(EnrolEffect::Claim {
                mac,
                grace: enrol.grace,
                shape,
            });
        }
        (EnrolMode::Window, WindowState::Claimed { until }) => {
            trace.step(Step::Enrol(format!(
                "enrol = window: its window is bound to this client until {}: served without proof{history}",
                when(until)
            )));
        }
        (EnrolMode::Window, WindowState::ClaimedByOther { address }) => {
            trace.step(Step::Enrol(format!(
                "enrol = window: its window is bound to {address}, which fetched in it first; no proof                  (enrol_proof = {}): the lobby",
                enrol.proofs.names()
            )));
            verdict.effects.events.push(Event::WindowClaimedByOther {
                mac,
                claimed_by: address,
            });
            verdict.decision = Decision::Lobby { shape };
        }
        (mode, _) => {
            let why = if mode == EnrolMode::Window {
                "no provisioning window is open for it"
            } else {
                "enrol = proof"
            };
            trace.step(Step::Enrol(format!(
                "enrol = {}: {why}, and no proof (enrol_proof = {}): the lobby{history}",
                mode.name(),
                enrol.proofs.names()
            )));
            verdict.decision = Decision::Lobby { shape };
        }
    }
}

/// A Unix time as `2026-11-23T12:00:00Z`.
fn when(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map_or_else(|_| unix.to_string(), |t| t.to_string())
}

/// The `(username, password)` of every line of `phone`: its own SIP credentials.
fn sip_credentials(snapshot: &Snapshot, phone: Option<PhoneId>) -> Vec<(&str, &str)> {
    phone
        .and_then(|p| snapshot.phone(p))
        .map(|phone| {
            phone
                .lines
                .iter()
                .filter_map(|line| Some((line.vars.get("USERNAME")?, line.vars.get("SECRET")?)))
                .filter(|(_, secret)| !secret.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the request's credentials are right for one of `candidates`; with `counted`, a Digest
/// response's nonce count is recorded (and a replay is no proof). Without: [`authenticate`] recorded it.
fn verifies(
    facts: &Facts<'_>,
    policy: &Policy,
    candidates: &[(&str, &str)],
    counted: bool,
) -> bool {
    let Some(presented) = facts.http.authorization.and_then(credentials::parse) else {
        return false;
    };
    let auth = &facts.snapshot.settings().auth;
    let expected = Expected {
        realm: &auth.realm,
        method: facts.http.method,
        uri: facts.http.target,
        algorithms: &auth.digest_algorithms,
        nonce_lifetime: auth.nonce_lifetime,
    };
    let basic_allowed = facts.protocol == Protocol::Https || auth.basic_without_tls;
    credentials::verify(
        &presented,
        candidates.iter().copied(),
        &expected,
        facts.nonces,
        policy.schemes,
        basic_allowed,
    )
    .is_ok()
        && (!counted || count_nonce(facts, &presented) == Count::Fresh)
}

/// A file no single phone owns: credentials only with `protect = all`, or when its template reads a
/// secret (then it is protected like a phone's file).
fn shared(
    facts: &Facts<'_>,
    settings: &Settings,
    profile: ProfileId,
    secret: bool,
    trace: &mut impl Trace,
) -> Verdict {
    let policy = settings.policy(profile, None);
    trace.step(Step::Policy {
        from: PolicyFrom::Profile(profile),
        policy: policy.clone(),
    });
    if let Some(refused) = policy_acls(facts, &[policy], None, trace) {
        return refused;
    }
    let mut verdict = Verdict::new(Decision::Proceed, None);
    if facts.protocol == Protocol::Tftp {
        let allowed = settings.tftp.allows(profile);
        trace.step(Step::Tftp { allowed });
        if !allowed {
            verdict.effects.events.push(Event::NotOverTftp);
            return verdict.refused(403, None, Refusal::NotOverTftp);
        }
        return verdict;
    }
    // Any verified certificate proves a phone of the vendor: which one does not matter for a shared file.
    if policy.client_cert == ClientCert::Require && facts.http.cert.is_none() {
        trace.step(Step::Certificate("required, none presented"));
        verdict.effects.events.push(Event::CertificateRequired);
        return verdict.refused(403, None, Refusal::Certificate);
    }
    let protected = settings.auth.protect == Protect::All || secret;
    if !protected || !policy.needs_credentials() {
        trace.step(Step::Credentials(
            "none asked (a shared file, protect = dynamic)",
        ));
        return verdict;
    }
    let presented = facts.http.authorization.and_then(credentials::parse);
    let candidates: Vec<(&str, &str)> = match (&policy.auth, &presented) {
        (AuthSource::Static { username, password }, _) => {
            vec![(username.as_str(), password.expose())]
        }
        (AuthSource::Sip, Some(p)) => facts.snapshot.sip_credentials(p.username()).collect(),
        _ => Vec::new(),
    };
    authenticate(facts, policy, &candidates, &mut verdict, trace);
    if !matches!(verdict.decision, Decision::Refuse { .. }) {
        count(facts, &mut verdict, None, trace);
    }
    verdict
}

/// The named ACLs of `policies` (`acl = NAME`): `Some` refusal (403) when one of them does not allow the
/// client. Policies without lists say nothing.
fn policy_acls(
    facts: &Facts<'_>,
    policies: &[&Policy],
    mac: Option<Mac>,
    trace: &mut impl Trace,
) -> Option<Verdict> {
    let mut lists: Vec<(String, bool)> = Vec::new();
    for policy in policies {
        for verdict in policy.acl.verdicts(facts.client) {
            let name = verdict
                .name
                .map_or("(rules)", |n| n.name.as_str())
                .to_owned();
            if !lists.iter().any(|(n, _)| *n == name) {
                lists.push((name, verdict.allowed));
            }
        }
    }
    if lists.is_empty() {
        return None;
    }
    let allowed = lists.iter().all(|(_, ok)| *ok);
    trace.step(Step::Acl {
        allowed,
        lists: lists.clone(),
    });
    if allowed {
        return None;
    }
    let refusing: Vec<&str> = lists
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| n.as_str())
        .collect();
    let mut verdict = Verdict::new(Decision::Proceed, mac).refused(403, None, Refusal::Acl);
    verdict.effects.events.push(Event::PolicyAcl {
        lists: refusing.join(", "),
    });
    Some(verdict)
}

/// Checks the request's credentials against `candidates`: a proof, or a 401 (and a miss when they were
/// wrong).
fn authenticate(
    facts: &Facts<'_>,
    policy: &Policy,
    candidates: &[(&str, &str)],
    verdict: &mut Verdict,
    trace: &mut impl Trace,
) {
    let auth = &facts.snapshot.settings().auth;
    let basic_allowed = facts.protocol == Protocol::Https || auth.basic_without_tls;
    let challenge = |stale: bool| {
        Decision::Challenge(
            facts
                .nonces
                .challenges(auth, policy.schemes, basic_allowed, stale),
        )
    };
    let Some(presented) = facts.http.authorization.and_then(credentials::parse) else {
        trace.step(Step::Credentials("needed, none presented: 401"));
        verdict.decision = challenge(false);
        return;
    };
    let expected = Expected {
        realm: &auth.realm,
        method: facts.http.method,
        uri: facts.http.target,
        algorithms: &auth.digest_algorithms,
        nonce_lifetime: auth.nonce_lifetime,
    };
    let user = presented.username().to_owned();
    match credentials::verify(
        &presented,
        candidates.iter().copied(),
        &expected,
        facts.nonces,
        policy.schemes,
        basic_allowed,
    ) {
        Ok(()) => {
            match count_nonce(facts, &presented) {
                Count::Fresh => {}
                Count::Replayed => {
                    // RFC 7616 §3.4: the same count twice is a replay. A fresh challenge (not stale: the
                    // client has to sign anew), and a miss, as wrong credentials are.
                    trace.step(Step::Credentials(
                        "right, but its nonce count was used already (a replay): 401, counted as a miss",
                    ));
                    verdict
                        .effects
                        .events
                        .push(Event::ReplayedNonceCount { user });
                    verdict.decision = challenge(false);
                    count(facts, verdict, Some(Miss::FailedCredentials), trace);
                    return;
                }
                Count::Forgotten => {
                    trace.step(Step::Credentials(
                        "right, but its nonce can no longer be counted: 401 stale=true",
                    ));
                    verdict.decision = challenge(true);
                    return;
                }
            }
            trace.step(Step::Credentials("accepted"));
            verdict.proof = Proof::Credentials(user);
        }
        Err(Failure::Stale) => {
            trace.step(Step::Credentials(
                "right, but the nonce is stale: 401 stale=true",
            ));
            verdict.decision = challenge(true);
        }
        Err(failure) => {
            let event = if failure == Failure::Scheme
                && matches!(presented, Presented::Basic { .. })
                && !basic_allowed
            {
                Event::BasicInClear { user }
            } else {
                Event::WrongCredentials { user }
            };
            trace.step(Step::Credentials("wrong: 401, counted as a miss"));
            verdict.effects.events.push(event);
            verdict.decision = challenge(false);
            count(facts, verdict, Some(Miss::FailedCredentials), trace);
        }
    }
}

/// Records the nonce count of a verified Digest response with `qop` (responses without one carry no count).
fn count_nonce(facts: &Facts<'_>, presented: &Presented) -> Count {
    let Presented::Digest(response) = presented else {
        return Count::Fresh;
    };
    if response.qop.is_none() {
        return Count::Fresh;
    }
    let (Some((issued, tag)), Some(nc)) = (
        facts.nonces.identify(&response.nonce),
        super::nonce::parse_nc(&response.nc),
    ) else {
        // `verify` checked both: unreachable in practice, and refused if it ever were reached.
        return Count::Replayed;
    };
    let now = u64::try_from(facts.now).unwrap_or(0);
    let lifetime = facts.snapshot.settings().auth.nonce_lifetime.as_secs();
    facts.nonce_counts.admit(tag, issued, nc, now, lifetime)
}

/// Counts `miss`; returns true when it got the client refused (the verdict then says so).
fn count(
    facts: &Facts<'_>,
    verdict: &mut Verdict,
    miss: Option<Miss>,
    trace: &mut impl Trace,
) -> bool {
    let Some(miss) = miss else {
        return false;
    };
    if !facts.throttled {
        return false;
    }
    let limits = &facts.snapshot.settings().limits;
    let misses = misses_after(facts, Some(miss));
    trace.step(Step::Miss {
        misses,
        refuse_after: limits.refuse_after,
    });
    verdict.effects.miss = Some(miss);
    if misses >= limits.refuse_after {
        verdict.effects.ban = true;
        verdict.effects.events.push(Event::Banned { misses });
        let retry = (limits.refusal_status == 429).then_some(limits.ban.as_secs());
        verdict.decision = Decision::Refuse {
            status: limits.refusal_status,
            retry_after: retry,
            why: Refusal::Throttled,
        };
        return true;
    }
    false
}

/// A client past the slow-down point waits, whatever the phone-shaped name it asks for.
fn slow_down(facts: &Facts<'_>, verdict: &mut Verdict, trace: &mut impl Trace) {
    if !facts.throttled {
        return;
    }
    let limits = &facts.snapshot.settings().limits;
    let misses = misses_after(facts, verdict.effects.miss);
    if misses > limits.slow_after {
        let delay = limits
            .delay
            .saturating_mul(misses - limits.slow_after)
            .min(Duration::from_secs(2));
        trace.step(Step::Delay(delay));
        verdict.delay = Some(delay);
    }
}

/// The client's misses once `miss` is counted (a MAC already counted in the window is no new one).
fn misses_after(facts: &Facts<'_>, miss: Option<Miss>) -> u32 {
    let new = match miss {
        Some(Miss::UnknownMac(_)) => !facts.standing.counted,
        Some(Miss::FailedCredentials) => true,
        None => false,
    };
    facts.standing.misses.saturating_add(u32::from(new))
}

/// The `(username, password)` pairs that open phone `phone`'s files under `policy`.
fn phone_credentials<'s>(
    snapshot: &'s Snapshot,
    policy: &'s Policy,
    phone: Option<PhoneId>,
) -> Vec<(&'s str, &'s str)> {
    match &policy.auth {
        AuthSource::None => Vec::new(),
        AuthSource::Static { username, password } => vec![(username.as_str(), password.expose())],
        AuthSource::Sip => sip_credentials(snapshot, phone),
    }
}

fn check_certificate(
    policy: &Policy,
    cert: Option<&CertIdentity>,
    mac: Option<Mac>,
    trace: &mut impl Trace,
) -> Option<Event> {
    match (policy.client_cert, cert) {
        (ClientCert::Off, _) => {
            trace.step(Step::Certificate("off: not looked at"));
            None
        }
        (ClientCert::Optional, None) => {
            trace.step(Step::Certificate("optional, none presented"));
            None
        }
        (ClientCert::Require, None) => {
            trace.step(Step::Certificate("required, none presented: 403"));
            Some(Event::CertificateRequired)
        }
        (_, Some(cert)) => match (cert.mac, mac) {
            (Some(theirs), Some(wanted)) if theirs == wanted => {
                trace.step(Step::Certificate("names this phone: proof"));
                None
            }
            (None, _) => {
                trace.step(Step::Certificate("generic (no single MAC in it): 403"));
                Some(Event::GenericCertificate {
                    subject: cert.subject.clone(),
                })
            }
            (Some(theirs), _) => {
                trace.step(Step::Certificate("names another phone: 403"));
                Some(Event::OtherPhonesCertificate {
                    subject: cert.subject.clone(),
                    theirs,
                })
            }
        },
    }
}

fn check_user_agent(
    policy: &Policy,
    agent: Option<&str>,
    mac: Option<Mac>,
    trace: &mut impl Trace,
) -> Option<Event> {
    if policy.user_agent == Binding::Off {
        trace.step(Step::UserAgent("off: not looked at"));
        return None;
    }
    let (Some(wanted), Some(agent)) = (mac, agent) else {
        trace.step(Step::UserAgent("no MAC to compare"));
        return None;
    };
    let Some(theirs) = pjprov_core::agent::mac_in(agent) else {
        trace.step(Step::UserAgent("carries no MAC"));
        return None;
    };
    if theirs == wanted {
        trace.step(Step::UserAgent("names this phone"));
        return None;
    }
    let refused = policy.user_agent == Binding::Enforce;
    trace.step(Step::UserAgent(if refused {
        "names another phone: 403 (enforce)"
    } else {
        "names another phone: logged (log)"
    }));
    Some(Event::OtherPhonesUserAgent {
        user_agent: agent.to_owned(),
        theirs,
        refused,
    })
}

#[cfg(test)]
mod tests {
    //! The decision as a table: protocol × subject × policy, from real snapshots and no socket.

    use super::*;
    use pjprov_core::{BuildOptions, Paths};

    const PHONE: &str = "0004f2000100";
    const YEALINK: &str = "805ec0000200";

    /// Two profiles sharing the shape `<mac>.cfg`, a shared file and a static file.
    fn snapshot(pjprov_conf: &str) -> (tempfile::TempDir, Snapshot) {
        let dir = tempfile::tempdir().unwrap();
        let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
        std::fs::create_dir_all(data.join("phoneprov")).unwrap();
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("pjsip.conf"),
            format!(
                "[udp]\ntype = transport\nbind = 0.0.0.0\n\
                 [100]\ntype = endpoint\ntransport = udp\nauth = 100\n\
                 [100]\ntype = auth\nusername = 100\npassword = pw-100\n\
                 [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = {PHONE}\nPROFILE = polycom\n\
                 [200-pp]\ntype = phoneprov\nMAC = {YEALINK}\nPROFILE = yealink\n"
            ),
        )
        .unwrap();
        std::fs::write(
            etc.join("phoneprov.conf"),
            "[polycom]\nstatic_file => fw.bin\n${MAC}.cfg => p.cfg\nboot.cfg => boot.cfg\n\
             [yealink]\n${MAC}.cfg => p.cfg\n",
        )
        .unwrap();
        std::fs::write(etc.join("pjprov.conf"), pjprov_conf).unwrap();
        for file in ["p.cfg", "boot.cfg", "fw.bin"] {
            std::fs::write(data.join("phoneprov").join(file), "x").unwrap();
        }
        let snapshot = Snapshot::build(&Paths::new(etc, data), &BuildOptions::default())
            .expect("a usable configuration");
        (dir, snapshot)
    }

    struct Case<'a> {
        client: std::net::IpAddr,
        protocol: Protocol,
        name: &'a str,
        user_agent: Option<&'a str>,
        cert: Option<CertIdentity>,
        standing: Standing,
        record: Option<Record>,
        authorization: Option<String>,
    }

    impl<'a> Case<'a> {
        fn http(name: &'a str) -> Case<'a> {
            Case {
                client: "192.0.2.1".parse().unwrap(),
                protocol: Protocol::Http,
                name,
                user_agent: None,
                cert: None,
                standing: Standing::default(),
                record: None,
                authorization: None,
            }
        }
    }

    fn run(snapshot: &Snapshot, case: &Case<'_>) -> Verdict {
        let nonces = NonceKey::generate();
        let counts = NonceCounts::default();
        let route = snapshot.route(case.name);
        let facts = Facts {
            snapshot,
            client: case.client,
            name: case.name,
            subject: snapshot.subject(case.name, route),
            protocol: case.protocol,
            http: HttpFacts {
                cert: case.cert.as_ref(),
                method: "GET",
                target: "/phoneprov/x",
                user_agent: case.user_agent,
                authorization: case.authorization.as_deref(),
            },
            throttled: snapshot.settings().limits.throttle,
            standing: case.standing,
            nonces: &nonces,
            nonce_counts: &counts,
            now: NOW,
            enrolment: case.record.as_ref(),
        };
        decide(&facts, &mut NoTrace)
    }

    /// A short word for a decision, to compare rows.
    fn outcome(verdict: &Verdict) -> &'static str {
        match &verdict.decision {
            Decision::Proceed => "go",
            Decision::Challenge(_) => "401",
            Decision::Refuse { status: 403, .. } => "403",
            Decision::Refuse { status: 429, .. } => "429",
            Decision::Refuse { .. } => "refused",
            Decision::Lobby { shape: Some(_) } => "lobby",
            Decision::Lobby { shape: None } => "lobby404",
        }
    }

    /// "Now" for the enrolment cases.
    const NOW: i64 = 1_800_000_000;

    fn mac(text: &str) -> Mac {
        Mac::parse(text).unwrap()
    }

    #[test]
    fn subjects_by_policy() {
        let phone = format!("{PHONE}.cfg");
        let unknown = "0004f2abcdef.cfg";
        let rows: &[(&str, &str, &str, &str, &str)] = &[
            // pjprov.conf, phone file, unknown of that shape, shared file, static file
            // An unknown MAC that passes everything gets the lobby of its name's shape (or 404 without one).
            ("", "go", "lobby", "go", "go"),
            ("[auth]\nauth = sip\n", "401", "401", "go", "go"),
            (
                "[auth]\nauth = sip\nprotect = all\n",
                "401",
                "401",
                "401",
                "401",
            ),
            (
                "[profile:polycom]\nclient_cert = require\n",
                "403",
                "403",
                "403",
                "403",
            ),
            // The yealink profile asks for nothing, polycom for credentials: an unknown MAC gets the
            // strictest answer (polycom's).
            (
                "[auth]\nauth = sip\n[profile:yealink]\nauth = none\n",
                "401",
                "401",
                "go",
                "go",
            ),
        ];
        for (conf, phone_file, unknown_file, shared, fixed) in rows {
            let (_dir, snapshot) = snapshot(conf);
            let got = [
                outcome(&run(&snapshot, &Case::http(&phone))),
                outcome(&run(&snapshot, &Case::http(unknown))),
                outcome(&run(&snapshot, &Case::http("boot.cfg"))),
                outcome(&run(&snapshot, &Case::http("fw.bin"))),
            ];
            assert_eq!(
                got,
                [*phone_file, *unknown_file, *shared, *fixed],
                "{conf:?}"
            );
        }
    }

    #[test]
    fn tftp_by_profiles() {
        let phone = format!("{PHONE}.cfg");
        let yealink = format!("{YEALINK}.cfg");
        let rows: &[(&str, [&str; 4])] = &[
            ("", ["403", "403", "403", "403"]),
            // polycom only: the yealink phone and an unknown MAC of the shared shape alike are refused.
            ("[tftp]\nprofiles = polycom\n", ["go", "403", "403", "go"]),
            ("[tftp]\nprofiles = *\n", ["go", "go", "lobby", "go"]),
        ];
        for (conf, want) in rows {
            let (_dir, snapshot) = snapshot(conf);
            let tftp = |name: &str| {
                let mut case = Case::http(name);
                case.protocol = Protocol::Tftp;
                outcome(&run(&snapshot, &case))
            };
            let got = [
                tftp(&phone),
                tftp(&yealink),
                tftp("0004f2abcdef.cfg"),
                tftp("boot.cfg"),
            ];
            assert_eq!(got, *want, "{conf:?}");
        }
    }

    #[test]
    fn certificates_and_user_agents() {
        let phone = format!("{PHONE}.cfg");
        let (_dir, snapshot) = snapshot("");
        let named = |m: &str| CertIdentity {
            mac: Some(mac(m)),
            subject: String::new(),
        };
        let generic = CertIdentity {
            mac: None,
            subject: "CN=generic".into(),
        };
        let mut case = Case::http(&phone);
        case.protocol = Protocol::Https;
        case.cert = Some(named(PHONE));
        let verdict = run(&snapshot, &case);
        assert_eq!(
            (outcome(&verdict), &verdict.proof),
            ("go", &Proof::Certificate)
        );
        case.cert = Some(named(YEALINK));
        assert_eq!(
            outcome(&run(&snapshot, &case)),
            "403",
            "another phone's certificate"
        );
        case.cert = Some(generic.clone());
        assert_eq!(
            outcome(&run(&snapshot, &case)),
            "403",
            "a generic certificate"
        );
        // For a shared file any verified certificate is fine.
        let mut shared = Case::http("boot.cfg");
        shared.cert = Some(named(YEALINK));
        assert_eq!(outcome(&run(&snapshot, &shared)), "go");

        let mut agent = Case::http(&phone);
        agent.user_agent = Some("Yealink SIP-T46G 28.72.0.1 80:5e:c0:00:02:00");
        assert_eq!(
            outcome(&run(&snapshot, &agent)),
            "403",
            "enforce by default"
        );
        agent.user_agent = Some("Yealink SIP-T46G 28.72.0.1 00:04:f2:00:01:00");
        assert_eq!(outcome(&run(&snapshot, &agent)), "go");
        let (_dir, logged) = self::snapshot("[auth]\nuser_agent = log\n");
        agent.user_agent = Some("Yealink SIP-T46G 28.72.0.1 80:5e:c0:00:02:00");
        let verdict = run(&logged, &agent);
        assert_eq!(outcome(&verdict), "go");
        assert!(matches!(
            verdict.effects.events[..],
            [Event::OtherPhonesUserAgent { refused: false, .. }]
        ));
    }

    #[test]
    fn misses_slow_down_then_refuse_by_standing_not_existence() {
        let (_dir, snapshot) = snapshot("[limits]\nscan_slow_after = 2\nscan_refuse_after = 4\n");
        let phone = format!("{PHONE}.cfg");
        let unknown = "0004f2abcdef.cfg";
        // A fresh client: the unknown MAC is a miss, nothing else happens.
        let verdict = run(&snapshot, &Case::http(unknown));
        assert_eq!(
            verdict.effects.miss,
            Some(Miss::UnknownMac(mac("0004f2abcdef")))
        );
        assert_eq!(verdict.delay, None);
        // Past the slow-down point, a known phone's file is delayed as much as an unknown one.
        let mut suspect = Case::http(&phone);
        suspect.standing = Standing {
            misses: 3,
            ..Standing::default()
        };
        let known = run(&snapshot, &suspect);
        assert_eq!(known.effects.miss, None);
        suspect.name = unknown;
        suspect.standing.counted = true;
        let again = run(&snapshot, &suspect);
        assert_eq!(known.delay, again.delay);
        assert!(known.delay.is_some());
        // The miss that reaches the refusal point refuses and bans.
        suspect.standing.counted = false;
        let refused = run(&snapshot, &suspect);
        assert_eq!(outcome(&refused), "429");
        assert!(refused.effects.ban);
        // A banned client gets nothing, whatever it asks.
        let mut banned = Case::http(&phone);
        banned.standing.refused_for = Some(60);
        assert_eq!(outcome(&run(&snapshot, &banned)), "429");
        // Names no phone has the shape of cost nothing.
        let probe = run(&snapshot, &Case::http("y000000000025.cfg"));
        assert_eq!((outcome(&probe), probe.effects.miss), ("go", None));
    }

    fn window(until: i64, claim: Option<std::net::IpAddr>) -> Record {
        Record {
            first_configured: 1,
            last_configured: 1,
            window: Some(crate::access::enrol::Window {
                opened_at: NOW - 60,
                until,
                opener: crate::access::enrol::Opener::FirstBoot,
                claim: claim.map(|address| crate::access::enrol::Claim {
                    address,
                    at: NOW - 30,
                    until,
                }),
            }),
            first_fetch: None,
        }
    }

    #[test]
    fn enrolment_windows_and_proofs() {
        let phone = format!("{PHONE}.cfg");
        let unknown = "0004f2abcdef.cfg";
        let other: std::net::IpAddr = "192.0.2.99".parse().unwrap();
        let me: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        let named = |m: &str| CertIdentity {
            mac: Some(mac(m)),
            subject: String::new(),
        };
        // (pjprov.conf, record, certificate, User-Agent) → phone file, unknown MAC of its shape
        let ua = "Yealink SIP-T46G 28.72.0.1 00:04:f2:00:01:00";
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            &str,
            Option<Record>,
            Option<CertIdentity>,
            Option<&str>,
            &str,
        )> = vec![
            ("[auth]\nenrol = proof\n", None, None, None, "lobby"),
            (
                "[auth]\nenrol = proof\n",
                None,
                Some(named(PHONE)),
                None,
                "go",
            ),
            ("[auth]\nenrol = proof\n", None, None, Some(ua), "lobby"),
            (
                "[auth]\nenrol = proof\nenrol_proof = user_agent\n",
                None,
                None,
                Some(ua),
                "go",
            ),
            ("[auth]\nenrol = window\n", None, None, None, "lobby"),
            (
                "[auth]\nenrol = window\n",
                Some(window(NOW + 600, None)),
                None,
                None,
                "go",
            ),
            (
                "[auth]\nenrol = window\n",
                Some(window(NOW - 1, None)),
                None,
                None,
                "lobby",
            ),
            (
                "[auth]\nenrol = window\n",
                Some(window(NOW + 600, Some(me))),
                None,
                None,
                "go",
            ),
            (
                "[auth]\nenrol = window\n",
                Some(window(NOW + 600, Some(other))),
                None,
                None,
                "lobby",
            ),
            // A window changes nothing under enrol = proof.
            (
                "[auth]\nenrol = proof\n",
                Some(window(NOW + 600, None)),
                None,
                None,
                "lobby",
            ),
            // auth = sip: inside the window the password is waived; outside, the challenge asks for it.
            (
                "[auth]\nauth = sip\nenrol = window\n",
                Some(window(NOW + 600, None)),
                None,
                None,
                "go",
            ),
            (
                "[auth]\nauth = sip\nenrol = window\n",
                None,
                None,
                None,
                "401",
            ),
            (
                "[auth]\nauth = sip\nenrol = window\n",
                Some(window(NOW + 600, Some(other))),
                None,
                None,
                "401",
            ),
        ];
        for (conf, record, cert, agent, want) in rows {
            let (_dir, snapshot) = snapshot(conf);
            let mut case = Case::http(&phone);
            case.record = record.clone();
            case.cert = cert.clone();
            case.user_agent = agent;
            if case.cert.is_some() {
                case.protocol = Protocol::Https;
            }
            let verdict = run(&snapshot, &case);
            assert_eq!(
                outcome(&verdict),
                want,
                "{conf:?} {record:?} {cert:?} {agent:?}"
            );
            match (want, &record) {
                ("go", Some(r))
                    if r.window.is_some_and(|w| w.claim.is_none()) && case.cert.is_none() =>
                {
                    assert!(
                        matches!(verdict.effects.enrol, Some(EnrolEffect::Claim { .. })),
                        "{conf:?}: served in a fresh window claims it"
                    );
                }
                ("go", _) if case.cert.is_some() || agent.is_some() => {
                    assert!(matches!(
                        verdict.effects.enrol,
                        Some(EnrolEffect::Proven { .. })
                    ));
                }
                _ => {}
            }
            // The unknown MAC of the same shape, however the request comes, gets what a phone whose
            // window is closed and that proves nothing gets.
            let mut stranger = Case::http(unknown);
            stranger.user_agent = agent.map(|_| "Yealink SIP-T46G 28.72.0.1 00:04:f2:ab:cd:ef");
            let got = outcome(&run(&snapshot, &stranger));
            let closed = outcome(&run(&snapshot, &Case::http(&phone)));
            if conf.contains("auth = sip") {
                assert_eq!((got, closed), ("401", "401"), "{conf:?}");
            } else {
                assert_eq!((got, closed), ("lobby", "lobby"), "{conf:?}");
            }
        }
        // Over TFTP there is no proof: the window or the lobby.
        let (_dir, snapshot) = snapshot("[auth]\nenrol = window\n[tftp]\nprofiles = *\n");
        let mut tftp = Case::http(&phone);
        tftp.protocol = Protocol::Tftp;
        assert_eq!(outcome(&run(&snapshot, &tftp)), "lobby");
        tftp.record = Some(window(NOW + 600, None));
        assert_eq!(outcome(&run(&snapshot, &tftp)), "go");
    }
}

#[cfg(test)]
mod replay_tests {
    //! Nonce counts in the decision: a right response is accepted once per count.

    use super::*;
    use crate::access::credentials::{DigestResponse, digest_response};
    use pjprov_core::settings::DigestAlgorithm;
    use pjprov_core::{BuildOptions, Paths};

    #[test]
    fn a_replayed_nonce_count_gets_a_fresh_challenge_and_counts_as_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
        std::fs::create_dir_all(data.join("phoneprov")).unwrap();
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("pjsip.conf"),
            "[100]\ntype = endpoint\nauth = 100\n[100]\ntype = auth\nusername = 100\npassword = pw-100\n\
             [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = 0004f2000100\nPROFILE = p\n",
        )
        .unwrap();
        std::fs::write(etc.join("phoneprov.conf"), "[p]\n${MAC}.cfg => p.cfg\n").unwrap();
        std::fs::write(etc.join("pjprov.conf"), "[auth]\nauth = sip\n").unwrap();
        std::fs::write(data.join("phoneprov/p.cfg"), "x").unwrap();
        let snapshot = Snapshot::build(&Paths::new(etc, data), &BuildOptions::default()).unwrap();
        let nonces = NonceKey::generate();
        let counts = NonceCounts::default();
        let target = "/phoneprov/0004f2000100.cfg";
        let signed = |nc: &str| DigestResponse {
            username: "100".into(),
            realm: "pjprov".into(),
            nonce: nonces.nonce(),
            uri: target.into(),
            algorithm: "MD5".into(),
            qop: Some("auth".into()),
            nc: nc.into(),
            cnonce: "c".into(),
            ..DigestResponse::default()
        };
        let mut first = signed("00000001");
        first.response = digest_response(DigestAlgorithm::Md5, &first, "GET", "pw-100");
        let header = |r: &DigestResponse| {
            format!(
                "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", algorithm=MD5, qop=auth, \
                 nc={}, cnonce=\"{}\", response=\"{}\"",
                r.username, r.realm, r.nonce, r.uri, r.nc, r.cnonce, r.response
            )
        };
        let judge = |authorization: &str| {
            let facts = Facts {
                snapshot: &snapshot,
                client: "192.0.2.1".parse().unwrap(),
                name: "0004f2000100.cfg",
                enrolment: None,
                subject: snapshot.subject("0004f2000100.cfg", snapshot.route("0004f2000100.cfg")),
                protocol: Protocol::Http,
                http: HttpFacts {
                    cert: None,
                    method: "GET",
                    target,
                    user_agent: None,
                    authorization: Some(authorization),
                },
                throttled: true,
                standing: Standing::default(),
                nonces: &nonces,
                nonce_counts: &counts,
                now: jiff::Timestamp::now().as_second(),
            };
            decide(&facts, &mut NoTrace)
        };
        let once = judge(&header(&first));
        assert_eq!(once.decision, Decision::Proceed);
        assert_eq!(once.proof, Proof::Credentials("100".into()));
        let again = judge(&header(&first));
        let Decision::Challenge(challenges) = &again.decision else {
            panic!("a replay must be challenged: {again:?}");
        };
        assert!(!challenges[0].contains("stale=true"), "{challenges:?}");
        assert_eq!(again.effects.miss, Some(Miss::FailedCredentials));
        assert!(matches!(
            again.effects.events[..],
            [Event::ReplayedNonceCount { .. }]
        ));
        // The next count with the same nonce is fine; a count that goes back is not.
        let mut next = first.clone();
        next.nc = "00000002".into();
        next.response = digest_response(DigestAlgorithm::Md5, &next, "GET", "pw-100");
        assert_eq!(judge(&header(&next)).decision, Decision::Proceed);
        assert!(matches!(
            judge(&header(&first)).decision,
            Decision::Challenge(_)
        ));
        // A count that is not 8 hex digits is no right response.
        let mut odd = first.clone();
        odd.nc = "3".into();
        odd.response = digest_response(DigestAlgorithm::Md5, &odd, "GET", "pw-100");
        assert!(matches!(
            judge(&header(&odd)).effects.events[..],
            [Event::WrongCredentials { .. }]
        ));
        assert_eq!(counts.replays(), 2);
    }
}
