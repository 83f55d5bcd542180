//! Counters for `/metrics` (Prometheus text format) and `/healthz`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::access::Refusal;

/// Every counter the server keeps. All atomics: the serving path never locks.
#[derive(Debug)]
pub struct Metrics {
    by_status: Vec<AtomicU64>,
    not_modified: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    generation: AtomicU64,
    phones: AtomicU64,
    routes: AtomicU64,
    config_errors: AtomicU64,
    config_warnings: AtomicU64,
    last_reload: AtomicI64,
    open_connections: AtomicI64,
    bytes_sent: AtomicU64,
    refusals: [AtomicU64; REFUSALS.len()],
    tftp: [AtomicU64; TFTP_RESULTS.len()],
    client_limit: AtomicU64,
    last_reload_ok: std::sync::atomic::AtomicBool,
    notifies: [AtomicU64; crate::notify::Outcome::ALL.len()],
    phones_changed: AtomicU64,
    /// Answers with the lobby (issue #18).
    lobbies: AtomicU64,
}

/// TFTP request results: (pseudo-status, label).
const TFTP_RESULTS: [(u16, &str); 5] = [
    (200, "sent"),
    (404, "not_found"),
    (403, "refused"),
    (405, "write_refused"),
    (503, "busy"),
];

/// Every refusal reason, in the order of `Metrics::refusals`.
const REFUSALS: [Refusal; 5] = [
    Refusal::Acl,
    Refusal::Throttled,
    Refusal::UserAgent,
    Refusal::Certificate,
    Refusal::NotOverTftp,
];

/// Gauges that live outside the counters (the throttle's table).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// Clients the scan throttle tracks.
    pub throttle_clients: usize,
    /// Clients refused right now.
    pub throttle_refused: usize,
    /// Log lines dropped because the log's reader did not keep up.
    pub log_dropped: u64,
    /// Configured phones by state (current, stale, never).
    pub phones_by_state: [u64; 3],
    /// Whether the database of realtime objects can be read (`None`: no object comes from one).
    pub database_up: Option<bool>,
    /// Fetches and polls of that database that failed.
    pub database_failures: u64,
    /// Digest nonces whose counts are tracked (issue #18: replay tracking).
    pub digest_nonces: usize,
    /// Replayed Digest requests refused.
    pub digest_replays: u64,
    /// Provisioning windows open now (issue #18).
    pub enrol_windows: usize,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            by_status: (0..600).map(|_| AtomicU64::new(0)).collect(),
            not_modified: AtomicU64::new(0),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            phones: AtomicU64::new(0),
            routes: AtomicU64::new(0),
            config_errors: AtomicU64::new(0),
            config_warnings: AtomicU64::new(0),
            last_reload: AtomicI64::new(0),
            open_connections: AtomicI64::new(0),
            bytes_sent: AtomicU64::new(0),
            refusals: Default::default(),
            tftp: Default::default(),
            client_limit: AtomicU64::new(0),
            last_reload_ok: std::sync::atomic::AtomicBool::new(false),
            notifies: Default::default(),
            phones_changed: AtomicU64::new(0),
            lobbies: AtomicU64::new(0),
        }
    }
}

/// What a loaded snapshot contains.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotFacts {
    pub generation: u64,
    pub phones: usize,
    pub routes: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Metrics {
    pub fn request(&self, status: u16, bytes: u64) {
        if let Some(counter) = self.by_status.get(usize::from(status)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if status == 304 {
            self.not_modified.fetch_add(1, Ordering::Relaxed);
        }
        self.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A request answered with the lobby (or the 404 of a shape without one).
    pub fn lobby(&self) {
        self.lobbies.fetch_add(1, Ordering::Relaxed);
    }

    pub fn refused(&self, why: Refusal) {
        if let Some(i) = REFUSALS.iter().position(|r| *r == why) {
            self.refusals[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A TFTP request answered with this pseudo-status (200 sent, 404, 403, 405 for a write).
    pub fn tftp(&self, status: u16) {
        if let Some(i) = TFTP_RESULTS.iter().position(|(s, _)| *s == status) {
            self.tftp[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A NOTIFY's outcome.
    pub fn notified(&self, outcome: crate::notify::Outcome) {
        if let Some(i) = crate::notify::Outcome::ALL
            .iter()
            .position(|o| *o == outcome)
        {
            self.notifies[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Phones whose files a reload changed.
    pub fn phones_changed(&self, count: usize) {
        self.phones_changed
            .fetch_add(count as u64, Ordering::Relaxed);
    }

    /// A connection closed at once: its client already held `[limits] client_connections`.
    pub fn connection_refused_per_client(&self) {
        self.client_limit.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_opened(&self) {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.open_connections.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn reloaded(&self, facts: SnapshotFacts) {
        self.reloads_ok.fetch_add(1, Ordering::Relaxed);
        self.generation.store(facts.generation, Ordering::Relaxed);
        self.phones.store(facts.phones as u64, Ordering::Relaxed);
        self.routes.store(facts.routes as u64, Ordering::Relaxed);
        self.config_errors
            .store(facts.errors as u64, Ordering::Relaxed);
        self.config_warnings
            .store(facts.warnings as u64, Ordering::Relaxed);
        self.last_reload
            .store(jiff::Timestamp::now().as_second(), Ordering::Relaxed);
        self.last_reload_ok.store(true, Ordering::Relaxed);
    }

    pub fn reload_failed(&self) {
        self.reloads_failed.fetch_add(1, Ordering::Relaxed);
        self.last_reload_ok.store(false, Ordering::Relaxed);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
            let _ = writeln!(
                out,
                "# HELP pjprov_{name} {help}\n# TYPE pjprov_{name} {kind}"
            );
            for (labels, value) in samples {
                let _ = writeln!(out, "pjprov_{name}{labels} {value}");
            }
        };
        let statuses: Vec<(String, u64)> = self
            .by_status
            .iter()
            .enumerate()
            .filter_map(|(status, count)| {
                let count = count.load(Ordering::Relaxed);
                (count > 0).then(|| (format!("{{status=\"{status}\"}}"), count))
            })
            .collect();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        metric(
            "http_requests_total",
            "counter",
            "HTTP requests answered, by status code.",
            &statuses,
        );
        metric(
            "http_not_modified_total",
            "counter",
            "Requests answered 304 Not Modified.",
            &[(String::new(), load(&self.not_modified))],
        );
        metric(
            "http_sent_bytes_total",
            "counter",
            "Body bytes sent.",
            &[(String::new(), load(&self.bytes_sent))],
        );
        metric(
            "http_open_connections",
            "gauge",
            "Connections currently open.",
            &[(
                String::new(),
                self.open_connections.load(Ordering::Relaxed).max(0) as u64,
            )],
        );
        metric(
            "reloads_total",
            "counter",
            "Configuration reloads, by result.",
            &[
                ("{result=\"ok\"}".into(), load(&self.reloads_ok)),
                ("{result=\"failed\"}".into(), load(&self.reloads_failed)),
            ],
        );
        metric(
            "snapshot_generation",
            "gauge",
            "Generation of the configuration being served.",
            &[(String::new(), load(&self.generation))],
        );

        metric(
            "routes",
            "gauge",
            "Routes (URIs) in the configuration being served.",
            &[(String::new(), load(&self.routes))],
        );
        metric(
            "config_diagnostics",
            "gauge",
            "Problems found in the configuration being served, by severity.",
            &[
                ("{severity=\"error\"}".into(), load(&self.config_errors)),
                ("{severity=\"warning\"}".into(), load(&self.config_warnings)),
            ],
        );
        metric(
            "last_reload_timestamp_seconds",
            "gauge",
            "When the configuration being served was loaded (Unix time).",
            &[(
                String::new(),
                self.last_reload.load(Ordering::Relaxed).max(0) as u64,
            )],
        );
        let refusals: Vec<(String, u64)> = REFUSALS
            .iter()
            .zip(&self.refusals)
            .map(|(why, count)| (format!("{{reason=\"{}\"}}", why.label()), load(count)))
            .collect();
        metric(
            "refused_total",
            "counter",
            "Requests refused by access control, by reason.",
            &refusals,
        );
        let tftp: Vec<(String, u64)> = TFTP_RESULTS
            .iter()
            .zip(&self.tftp)
            .map(|((_, label), count)| (format!("{{result=\"{label}\"}}"), load(count)))
            .collect();
        metric(
            "tftp_requests_total",
            "counter",
            "TFTP requests, by result.",
            &tftp,
        );
        metric(
            "connections_refused_total",
            "counter",
            "Connections closed at once, by reason (the ACL's are in refused_total).",
            &[(
                "{reason=\"client_connections\"}".into(),
                load(&self.client_limit),
            )],
        );
        metric(
            "last_reload_success",
            "gauge",
            "1 when the last reload was adopted, 0 when it was rejected (the previous configuration serves).",
            &[(
                String::new(),
                u64::from(self.last_reload_ok.load(Ordering::Relaxed)),
            )],
        );
        let states: Vec<(String, u64)> = crate::inventory::State::ALL
            .iter()
            .zip(gauges.phones_by_state)
            .map(|(state, count)| (format!("{{state=\"{}\"}}", state.name()), count))
            .collect();
        metric(
            "phones",
            "gauge",
            "Phones in the configuration being served, by what they have: current (fetched the current bytes of every file), stale (a reload changed them since), never (never fetched).",
            &states,
        );
        let notifies: Vec<(String, u64)> = crate::notify::Outcome::ALL
            .iter()
            .zip(&self.notifies)
            .map(|(outcome, count)| (format!("{{result=\"{}\"}}", outcome.label()), load(count)))
            .collect();
        metric(
            "notifies_total",
            "counter",
            "SIP NOTIFYs asked of Asterisk, by result.",
            &notifies,
        );
        metric(
            "phones_changed_total",
            "counter",
            "Phones whose files a reload changed (compared by entity tag).",
            &[(String::new(), load(&self.phones_changed))],
        );
        metric(
            "log_dropped_total",
            "counter",
            "Log lines dropped because the reader of the log did not keep up (serving never waits for it).",
            &[(String::new(), gauges.log_dropped)],
        );
        if let Some(up) = gauges.database_up {
            metric(
                "database_up",
                "gauge",
                "1 when the PostgreSQL database of realtime objects can be read, 0 when it cannot (the last good configuration serves).",
                &[(String::new(), u64::from(up))],
            );
        }
        metric(
            "database_failures_total",
            "counter",
            "Fetches and polls of the PostgreSQL database of realtime objects that failed.",
            &[(String::new(), gauges.database_failures)],
        );
        metric(
            "build_info",
            "gauge",
            "The running version (always 1).",
            &[(format!("{{version=\"{}\"}}", env!("CARGO_PKG_VERSION")), 1)],
        );
        metric(
            "throttle_clients",
            "gauge",
            "Clients the scan throttle keeps counts for.",
            &[(String::new(), gauges.throttle_clients as u64)],
        );
        metric(
            "throttle_refused_clients",
            "gauge",
            "Clients refused by the scan throttle right now.",
            &[(String::new(), gauges.throttle_refused as u64)],
        );
        metric(
            "lobby_answers_total",
            "counter",
            "Requests for a phone's file answered with the lobby (no secret): unknown MACs, phones outside their window or without proof.",
            &[(String::new(), self.lobbies.load(Ordering::Relaxed))],
        );
        metric(
            "enrol_windows_open",
            "gauge",
            "Provisioning windows open now.",
            &[(String::new(), gauges.enrol_windows as u64)],
        );
        metric(
            "digest_nonces",
            "gauge",
            "Live Digest nonces whose nonce counts are tracked.",
            &[(String::new(), gauges.digest_nonces as u64)],
        );
        metric(
            "digest_replays_total",
            "counter",
            "Digest requests refused because their nonce count was used already (replays).",
            &[(String::new(), gauges.digest_replays)],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.request(200, 10);
        m.request(200, 5);
        m.request(304, 0);
        m.reload_failed();
        m.reloaded(SnapshotFacts {
            generation: 3,
            phones: 2,
            routes: 4,
            errors: 0,
            warnings: 1,
        });
        m.refused(Refusal::Throttled);
        m.lobby();
        let text = m.render(Gauges {
            throttle_clients: 7,
            throttle_refused: 1,
            log_dropped: 3,
            phones_by_state: [1, 2, 3],
            database_up: Some(false),
            database_failures: 4,
            digest_nonces: 5,
            digest_replays: 6,
            enrol_windows: 7,
        });
        for line in [
            "pjprov_http_requests_total{status=\"200\"} 2",
            "pjprov_http_requests_total{status=\"304\"} 1",
            "pjprov_http_not_modified_total 1",
            "pjprov_http_sent_bytes_total 15",
            "pjprov_reloads_total{result=\"ok\"} 1",
            "pjprov_reloads_total{result=\"failed\"} 1",
            "pjprov_snapshot_generation 3",
            "pjprov_routes 4",
            "pjprov_config_diagnostics{severity=\"warning\"} 1",
            "pjprov_refused_total{reason=\"throttle\"} 1",
            "pjprov_refused_total{reason=\"acl\"} 0",
            "pjprov_throttle_clients 7",
            "pjprov_throttle_refused_clients 1",
            "pjprov_log_dropped_total 3",
            "pjprov_phones{state=\"stale\"} 2",
            "pjprov_notifies_total{result=\"sent\"} 0",
            "pjprov_last_reload_success 1",
            "pjprov_database_up 0",
            "pjprov_database_failures_total 4",
            "pjprov_digest_nonces 5",
            "pjprov_digest_replays_total 6",
            "pjprov_enrol_windows_open 7",
            "pjprov_lobby_answers_total 1",
            "pjprov_build_info{version=",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
