//! From a save to the phones: after each reload, tell exactly the phones whose files changed to fetch them
//! again (a SIP NOTIFY, sent by Asterisk for pjprov through the manager interface's `PJSIPNotify`).
//!
//! Reloads are coalesced: comparing and notifying wait until no reload has come for `[ami] quiet` (2 s
//! without `[ami]`; saves in quick succession are one change). The comparison (`diff.rs`) runs on the blocking pool, never on the serving
//! path. NOTIFYs go out from one task at `[ami] rate` per second over one logged-in manager connection,
//! which is re-opened with a growing delay when Asterisk is down; a phone already waiting is not queued
//! twice; a failure is logged once per endpoint and counted. Serving never waits for any of it.

mod ami;
pub mod diff;

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;
use pjprov_core::settings::{Ami, NotifyMode};
use pjprov_core::{Mac, Snapshot, Vendor};
use rustc_hash::FxHashSet;
use tokio::sync::mpsc;

use crate::inventory::{Current, Inventory, State};
use crate::serve::http::State as ServerState;
pub use ami::{AmiError, Connection};

/// What the notifier is asked to do.
#[derive(Debug, Clone)]
pub enum Request {
    /// A new configuration is served: compare, then notify what changed.
    Reloaded,
    /// Notify these phones now (`pjprov notify`).
    Phones(Which),
}

/// Which phones `pjprov notify` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// Those whose files changed since they fetched them (state `stale`).
    Changed,
    /// Every phone that has fetched its files.
    All,
    /// These.
    Macs(Vec<Mac>),
}

/// A NOTIFY to send.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Job {
    mac: Mac,
    endpoint: String,
    event: String,
}

/// How notifying went, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Asterisk sent the NOTIFY.
    Sent,
    /// Asterisk refused it (no such endpoint, no contact).
    Refused,
    /// Asterisk could not be reached.
    Unreachable,
    /// The phone has no endpoint to notify.
    NoEndpoint,
}

impl Outcome {
    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Refused => "refused",
            Outcome::Unreachable => "unreachable",
            Outcome::NoEndpoint => "no_endpoint",
        }
    }

    /// Every outcome, in metrics order.
    pub const ALL: [Outcome; 4] = [
        Outcome::Sent,
        Outcome::Refused,
        Outcome::Unreachable,
        Outcome::NoEndpoint,
    ];
}

/// Starts the notifier; returns where to send it requests.
pub fn start(state: Arc<ServerState>, inventory: Arc<Inventory>) -> mpsc::UnboundedSender<Request> {
    let (requests, incoming) = mpsc::unbounded_channel();
    tokio::spawn(run(state, inventory, incoming));
    requests
}

async fn run(
    state: Arc<ServerState>,
    inventory: Arc<Inventory>,
    mut incoming: mpsc::UnboundedReceiver<Request>,
) {
    let mut previous: Option<Arc<Current>> = None;
    let mut compare_at: Option<tokio::time::Instant> = None;
    let mut queue: VecDeque<Job> = VecDeque::new();
    let mut queued: FxHashSet<Mac> = FxHashSet::default();
    let mut sender = Sender::default();
    loop {
        let ami = state.snapshot.load().settings().ami.clone();
        let next_send = sender.next_send(&ami, queue.is_empty());
        tokio::select! {
            request = incoming.recv() => match request {
                None => return,
                Some(Request::Reloaded) => {
                    // Without [ami] too: each comparison of 100,000 seen phones is a few hundred ms of
                    // CPU, which a burst of saves would spend again and again beside its rebuilds.
                    let quiet = ami
                        .as_ref()
                        .map_or(pjprov_core::settings::DEFAULT_QUIET, |a| a.quiet);
                    compare_at = Some(tokio::time::Instant::now() + quiet);
                }
                Some(Request::Phones(which)) => {
                    let snapshot = state.snapshot.load_full();
                    for job in jobs_for(&snapshot, &inventory, &which, &state) {
                        if queued.insert(job.mac) {
                            queue.push_back(job);
                        }
                    }
                }
            },
            _ = sleep_until(compare_at), if compare_at.is_some() => {
                compare_at = None;
                let snapshot = state.snapshot.load_full();
                let started = Instant::now();
                let inventory_now = inventory.clone();
                let prefix = crate::serve::options_prefix(&state, &snapshot);
                let before = previous.clone();
                let computed = tokio::task::spawn_blocking(move || {
                    let current = diff::current(&snapshot, &inventory_now, &prefix, before.as_deref());
                    (snapshot, current)
                })
                .await;
                let Ok((snapshot, current)) = computed else { continue };
                let current = Arc::new(current);
                let changed = previous
                    .as_ref()
                    .map_or_else(
                        || diff::changed(&Current::default(), &current, &inventory),
                        |before| diff::changed(before, &current, &inventory),
                    );
                inventory.set_current(current.clone());
                previous = Some(current);
                let now = jiff::Timestamp::now().as_second();
                for mac in &changed {
                    inventory.changed(*mac, now);
                }
                tracing::info!(target: "pjprov::notify", changed = changed.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "compared every phone's files with the previous configuration");
                state.metrics.phones_changed(changed.len());
                let enabled = ami.as_ref().is_some_and(|a| a.notify == NotifyMode::Changed);
                if enabled && !changed.is_empty() {
                    for job in jobs_for(&snapshot, &inventory, &Which::Macs(changed), &state) {
                        if queued.insert(job.mac) {
                            queue.push_back(job);
                        }
                    }
                }
            }
            _ = sleep_until(next_send), if next_send.is_some() => {
                let Some(ami) = ami else { continue };
                let Some(job) = queue.pop_front() else { continue };
                let outcome = sender.send(&ami, &job).await;
                match outcome {
                    Outcome::Unreachable => {
                        // Kept: it goes out once Asterisk is back.
                        queue.push_front(job);
                    }
                    outcome => {
                        queued.remove(&job.mac);
                        state.metrics.notified(outcome);
                        inventory.notified(job.mac, jiff::Timestamp::now().as_second(), outcome.label());
                    }
                }
            }
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The NOTIFYs for `which`: to each phone's first line's endpoint, with the event its vendor expects.
fn jobs_for(
    snapshot: &Snapshot,
    inventory: &Inventory,
    which: &Which,
    state: &ServerState,
) -> Vec<Job> {
    let wanted = |mac: Mac| match which {
        Which::Macs(macs) => macs.contains(&mac),
        Which::All => inventory.state(mac) != State::Never,
        Which::Changed => inventory.state(mac) == State::Stale,
    };
    let mut jobs = Vec::new();
    for phone in snapshot.phones() {
        let Some(mac) = Mac::parse(&phone.mac).filter(|m| wanted(*m)) else {
            continue;
        };
        let Some(endpoint) = phone.first_line().vars.get("ENDPOINT_ID") else {
            state.metrics.notified(Outcome::NoEndpoint);
            tracing::warn!(target: "pjprov::notify", mac = %mac,
                "cannot notify: the phone's first line has no endpoint");
            continue;
        };
        let vendor = inventory
            .phone(mac)
            .and_then(|r| r.vendor.map(String::from))
            .or_else(|| vendor_of_templates(snapshot, phone));
        let event = snapshot
            .settings()
            .notify_event(phone.profile)
            .map(str::to_owned)
            .or_else(|| {
                snapshot
                    .settings()
                    .ami
                    .as_ref()
                    .and_then(|a| a.event.clone())
            })
            .unwrap_or_else(|| event_for(vendor.as_deref()).to_owned());
        jobs.push(Job {
            mac,
            endpoint: endpoint.to_owned(),
            event,
        });
    }
    jobs
}

/// The vendor a profile's templates are for, from pjprov's own layout (`yealink/mac.cfg.hbs`).
fn vendor_of_templates(snapshot: &Snapshot, phone: &pjprov_core::Phone) -> Option<String> {
    let profile = snapshot.profile(phone.profile)?;
    let template = &profile.dynamic_files.first()?.template;
    let dir = template.split('/').next()?;
    [
        "yealink",
        "polycom",
        "snom",
        "grandstream",
        "fanvil",
        "cisco",
    ]
    .contains(&dir)
    .then(|| dir.to_owned())
}

/// The event each vendor's firmware re-fetches its files on without rebooting (vendors' documentation;
/// wazo-provd's plugins): `check-sync` for most (Yealink's own templates turn its reboot off), Snom's with
/// `reboot=false`, Cisco's `resync`.
pub fn event_for(vendor: Option<&str>) -> &'static str {
    match vendor {
        Some(v) if v == Vendor::Snom.name() => "check-sync;reboot=false",
        Some(v) if v.starts_with("cisco") => "resync",
        _ => "check-sync",
    }
}

/// The manager connection and its pace.
#[derive(Default)]
struct Sender {
    connection: Option<(Ami, Connection)>,
    /// When the next NOTIFY may go (the rate), or the next connection attempt (the back-off).
    not_before: Option<tokio::time::Instant>,
    backoff: Duration,
    unreachable_logged: bool,
    refused_logged: Option<LruCache<String, ()>>,
}

impl Sender {
    fn next_send(&self, ami: &Option<Ami>, empty: bool) -> Option<tokio::time::Instant> {
        if empty || ami.is_none() {
            return None;
        }
        Some(self.not_before.unwrap_or_else(tokio::time::Instant::now))
    }

    async fn send(&mut self, ami: &Ami, job: &Job) -> Outcome {
        let interval = Duration::from_secs(1) / ami.rate.max(1);
        if self
            .connection
            .as_ref()
            .is_some_and(|(used, _)| used != ami)
        {
            self.connection = None;
        }
        if self.connection.is_none() {
            match Connection::open(ami).await {
                Ok(connection) => {
                    tracing::info!(target: "pjprov::notify", banner = %connection.banner,
                        "logged in to Asterisk's manager interface");
                    self.connection = Some((ami.clone(), connection));
                    self.backoff = Duration::ZERO;
                    self.unreachable_logged = false;
                }
                Err(e) => {
                    self.backoff =
                        (self.backoff * 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
                    if !self.unreachable_logged {
                        tracing::warn!(target: "pjprov::notify", error = %e,
                            "cannot notify phones yet; retrying with a growing delay (serving is not affected)");
                        self.unreachable_logged = true;
                    }
                    self.not_before = Some(tokio::time::Instant::now() + self.backoff);
                    return Outcome::Unreachable;
                }
            }
        }
        self.not_before = Some(tokio::time::Instant::now() + interval);
        let Some((_, connection)) = self.connection.as_mut() else {
            return Outcome::Unreachable;
        };
        let variable = format!("Event={}", job.event);
        let result = connection
            .action(&[
                ("Action", "PJSIPNotify"),
                ("Endpoint", &job.endpoint),
                ("Variable", &variable),
            ])
            .await;
        match result {
            Ok(_) => {
                tracing::info!(target: "pjprov::notify", mac = %job.mac, endpoint = %job.endpoint,
                    event = %job.event, "NOTIFY sent");
                Outcome::Sent
            }
            Err(AmiError::Refused(why)) => {
                let logged = self.refused_logged.get_or_insert_with(|| {
                    LruCache::new(NonZeroUsize::new(4096).unwrap_or(NonZeroUsize::MIN))
                });
                if logged.put(job.endpoint.clone(), ()).is_none() {
                    tracing::warn!(target: "pjprov::notify", mac = %job.mac, endpoint = %job.endpoint,
                        reason = %why, "Asterisk did not send the NOTIFY (logged once per endpoint)");
                }
                Outcome::Refused
            }
            Err(e) => {
                tracing::warn!(target: "pjprov::notify", error = %e, "the manager connection broke; reconnecting");
                self.connection = None;
                Outcome::Unreachable
            }
        }
    }
}
