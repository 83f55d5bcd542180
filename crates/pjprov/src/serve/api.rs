//! The admin API (`/api/v1/...`), JSON, documented in `docs/api.md`.

use std::sync::Arc;

use pjprov_core::{Mac, Snapshot};
use serde_json::{Value, json};

use super::http::State;
use crate::inventory::{Inventory, PhoneRecord, State as PhoneState};
use crate::notify::{Request as NotifyRequest, Which};

/// One configured phone, with what the inventory knows of it.
pub struct PhoneView<'a> {
    pub phone: &'a pjprov_core::Phone,
    pub mac: Option<Mac>,
    pub state: PhoneState,
    pub record: Option<PhoneRecord>,
}

/// Every configured phone, in configuration order, with its state.
pub fn phones<'s>(snapshot: &'s Snapshot, inventory: &Inventory) -> Vec<PhoneView<'s>> {
    snapshot
        .phones()
        .iter()
        .map(|phone| {
            let mac = Mac::parse(&phone.mac);
            PhoneView {
                phone,
                mac,
                state: mac.map_or(PhoneState::Never, |m| inventory.state(m)),
                record: mac.and_then(|m| inventory.phone(m)),
            }
        })
        .collect()
}

/// Configured phones by state: current, stale, never.
pub fn counts(views: &[PhoneView<'_>]) -> [u64; 3] {
    let mut counts = [0u64; 3];
    for view in views {
        let index = PhoneState::ALL
            .iter()
            .position(|s| *s == view.state)
            .unwrap_or(2);
        counts[index] += 1;
    }
    counts
}

/// A phone's enrolment as the API shows it (issue #18): its policy's `enrol`, its window for no client in
/// particular, and its record.
fn enrol_json(state: &State, snapshot: &Snapshot, mac: Mac, now: i64) -> Value {
    let record = state.access.enrolment().record(mac);
    let phone = snapshot.phone_id(mac).and_then(|id| snapshot.phone(id));
    let enrol = phone.map(|p| snapshot.settings().policy(p.profile, Some(mac)).enrol);
    let window = record.as_ref().and_then(|r| r.window);
    let window_state = match (enrol.map(|e| e.mode), window) {
        (Some(pjprov_core::settings::EnrolMode::Open) | None, _) => "-".to_owned(),
        (Some(pjprov_core::settings::EnrolMode::Proof), _) => "proof only".to_owned(),
        (_, Some(w)) if now < w.until => match w.claim {
            Some(claim) if now < claim.until => format!(
                "open {}s more, bound to {}",
                claim.until - now,
                claim.address
            ),
            Some(claim) => format!("spent (fetched by {})", claim.address),
            None => format!("open {}s more", w.until - now),
        },
        _ => "closed".to_owned(),
    };
    json!({
        "mac": mac.to_string(),
        "configured": phone.is_some(),
        "enrol": enrol.map(|e| e.mode.name()),
        "first_boot_window": enrol.and_then(|e| e.first_boot_window).map(|d| d.as_secs()),
        "enrol_proof": enrol.map(|e| e.proofs.names()),
        "window_state": window_state,
        "window": window,
        "first_fetch": record.as_ref().and_then(|r| r.first_fetch.clone()),
        "record": record,
    })
}

/// `GET /api/v1/enrol`: every phone's enrolment, and every window opened for a MAC not configured yet.
pub fn enrol_list(state: &State) -> Value {
    let snapshot = state.snapshot.load();
    let now = jiff::Timestamp::now().as_second();
    let mut macs: Vec<Mac> = snapshot
        .phones()
        .iter()
        .filter_map(|p| Mac::parse(&p.mac))
        .collect();
    for (mac, _) in state.access.enrolment().records() {
        if snapshot.phone_id(mac).is_none() {
            macs.push(mac);
        }
    }
    let phones: Vec<Value> = macs
        .into_iter()
        .map(|mac| enrol_json(state, &snapshot, mac, now))
        .collect();
    json!({
        "now": now,
        "problem": state.access.enrolment().problem(),
        "open": state.access.enrolment().open_windows(now),
        "phones": phones,
    })
}

/// The MACs of an enrol request (`{"all": true}` or `{"macs": [...]}`).
fn enrol_targets(request: &Value) -> Result<crate::access::enrol::Which, (u16, String)> {
    if request.get("all").and_then(Value::as_bool) == Some(true) {
        return Ok(crate::access::enrol::Which::All);
    }
    let Some(macs) = request.get("macs").and_then(Value::as_array) else {
        return Err((
            400,
            "name the phones: {\"macs\": [\"0004f2aabbcc\"]} or {\"all\": true}".into(),
        ));
    };
    let mut list = Vec::new();
    for mac in macs {
        let text = mac.as_str().unwrap_or_default();
        list.push(Mac::parse(text).ok_or((400, format!("'{text}' is not a MAC address")))?);
    }
    if list.is_empty() {
        return Err((400, "no MAC given".into()));
    }
    Ok(crate::access::enrol::Which::Macs(list))
}

/// `POST /api/v1/enrol/open` with the targets and `"seconds"`: the MACs whose window opened, written to
/// the state directory before this answers.
pub fn enrol_open(
    state: &State,
    admin: std::net::IpAddr,
    body: &[u8],
) -> Result<Value, (u16, String)> {
    let request: Value =
        serde_json::from_slice(body).map_err(|e| (400, format!("not JSON: {e}")))?;
    let which = enrol_targets(&request)?;
    let seconds = request
        .get("seconds")
        .and_then(Value::as_u64)
        .ok_or((400, "say how long: {\"seconds\": 1800}".to_owned()))?;
    let snapshot = state.snapshot.load();
    let now = jiff::Timestamp::now().as_second();
    let opened = state
        .access
        .enrolment()
        .open(
            &snapshot,
            &which,
            std::time::Duration::from_secs(seconds),
            Some(admin),
            now,
        )
        .map_err(|why| (503, why))?;
    let mut notes = Vec::new();
    for mac in &opened {
        match snapshot.phone_id(*mac).and_then(|id| snapshot.phone(id)) {
            None => notes.push(format!(
                "{mac}: no phone has this MAC yet; the window applies once pjsip.conf has it"
            )),
            Some(phone) => {
                let mode = snapshot
                    .settings()
                    .policy(phone.profile, Some(*mac))
                    .enrol
                    .mode;
                if mode != pjprov_core::settings::EnrolMode::Window {
                    notes.push(format!(
                        "{mac}: its policy has enrol = {}: the window changes nothing until it is enrol = window",
                        mode.name()
                    ));
                }
            }
        }
        tracing::info!(target: crate::access::SECURITY, mac = %mac, client = %admin, seconds,
            "provisioning window opened by the admin");
    }
    Ok(json!({
        "macs": opened.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "until": now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)),
        "notes": notes,
    }))
}

/// `POST /api/v1/enrol/close` with the targets: the MACs whose window was open.
pub fn enrol_close(state: &State, body: &[u8]) -> Result<Value, (u16, String)> {
    let request: Value =
        serde_json::from_slice(body).map_err(|e| (400, format!("not JSON: {e}")))?;
    let which = enrol_targets(&request)?;
    let snapshot = state.snapshot.load();
    let closed = state
        .access
        .enrolment()
        .close(&snapshot, &which, jiff::Timestamp::now().as_second())
        .map_err(|why| (503, why))?;
    Ok(json!({"macs": closed.iter().map(ToString::to_string).collect::<Vec<_>>()}))
}

fn phone_json(snapshot: &Snapshot, view: &PhoneView<'_>, detail: bool) -> Value {
    let record = view.record.as_ref();
    let lines: Vec<Value> = view
        .phone
        .lines
        .iter()
        .map(|line| {
            json!({
                "line": line.index,
                "id": line.id.as_str(),
                "username": line.vars.get("USERNAME"),
                "endpoint": line.vars.get("ENDPOINT_ID"),
                "label": line.vars.get("LABEL"),
            })
        })
        .collect();
    let mut value = json!({
        "mac": view.mac.map_or_else(|| view.phone.mac.to_string(), |m| m.to_string()),
        "state": view.state.name(),
        "profile": snapshot.profile(view.phone.profile).map(|p| p.name.as_str()),
        "vendor": record.and_then(|r| r.vendor.as_deref()),
        "model": record.and_then(|r| r.model.as_deref()),
        "firmware": record.and_then(|r| r.firmware.as_deref()),
        "address": record.and_then(|r| r.address).map(|a| a.to_string()),
        "first_seen": record.map(|r| r.first_seen),
        "last_seen": record.map(|r| r.last_seen),
        "user_agent": record.map(|r| &*r.user_agent),
        "protocol": record.map(|r| r.protocol.name()),
        "changed_at": record.and_then(|r| r.changed_at),
        "notified_at": record.and_then(|r| r.notified_at),
        "notify_result": record.and_then(|r| r.notify_result.as_deref()),
        "lobby_at": record.and_then(|r| r.lobby_at),
        "lines": lines,
    });
    if detail && let Some(record) = record {
        value["files"] = record
            .files
            .iter()
            .map(|f| json!({"uri": f.uri, "etag": f.etag, "at": f.at, "status": f.status}))
            .collect();
    }
    value
}

/// `GET /api/v1/phones[?state=STATE]`.
pub fn list(state: &State, query: &str) -> Value {
    let snapshot = state.snapshot.load();
    let views = phones(&snapshot, &state.inventory);
    let counts = counts(&views);
    let wanted = query_value(query, "state");
    let now = jiff::Timestamp::now().as_second();
    let phones: Vec<Value> = views
        .iter()
        .filter(|v| wanted.as_deref().is_none_or(|w| w == v.state.name()))
        .map(|v| {
            let mut value = phone_json(&snapshot, v, false);
            if let Some(mac) = v.mac {
                value["enrolment"] = enrol_json(state, &snapshot, mac, now);
            }
            value
        })
        .collect();
    json!({
        "generation": state.metrics.generation(),
        "counts": {"current": counts[0], "stale": counts[1], "never": counts[2]},
        "phones": phones,
    })
}

/// `GET /api/v1/phones/{mac}`: `None` when no phone has it.
pub fn one(state: &State, mac: &str) -> Option<Value> {
    let mac = Mac::parse(mac)?;
    let snapshot = state.snapshot.load();
    let views = phones(&snapshot, &state.inventory);
    let view = views.iter().find(|v| v.mac == Some(mac))?;
    let mut value = phone_json(&snapshot, view, true);
    value["enrolment"] = enrol_json(state, &snapshot, mac, jiff::Timestamp::now().as_second());
    Some(value)
}

/// `GET /api/v1/unknown`.
pub fn unknown(state: &State) -> Value {
    let unknown: Vec<Value> = state
        .inventory
        .unknown()
        .into_iter()
        .map(|(mac, r)| {
            json!({
                "mac": mac.to_string(),
                "address": r.address.map(|a| a.to_string()),
                "first_seen": r.first_seen,
                "last_seen": r.last_seen,
                "requests": r.requests,
                "uri": r.uri,
                "user_agent": r.user_agent,
                "lobbies": r.lobbies,
            })
        })
        .collect();
    json!({"unknown": unknown})
}

/// `POST /api/v1/notify` with `{"changed": true}`, `{"all": true}` or `{"macs": [...]}`: the number of phones
/// queued, or what is wrong with the request.
pub fn notify(state: &Arc<State>, body: &[u8]) -> Result<Value, (u16, String)> {
    let request: Value =
        serde_json::from_slice(body).map_err(|e| (400, format!("not JSON: {e}")))?;
    let which = if request.get("all").and_then(Value::as_bool) == Some(true) {
        Which::All
    } else if let Some(macs) = request.get("macs").and_then(Value::as_array) {
        let mut list = Vec::new();
        for mac in macs {
            let text = mac.as_str().unwrap_or_default();
            list.push(Mac::parse(text).ok_or((400, format!("'{text}' is not a MAC address")))?);
        }
        Which::Macs(list)
    } else {
        Which::Changed
    };
    let snapshot = state.snapshot.load();
    let targets: Vec<Mac> = phones(&snapshot, &state.inventory)
        .iter()
        .filter_map(|v| v.mac.map(|m| (m, v.state)))
        .filter(|(mac, phone_state)| match &which {
            Which::All => *phone_state != PhoneState::Never,
            Which::Changed => *phone_state == PhoneState::Stale,
            Which::Macs(macs) => macs.contains(mac),
        })
        .map(|(mac, _)| mac)
        .collect();
    if snapshot.settings().ami.is_none() {
        return Err((
            409,
            "no [ami] in pjprov.conf: pjprov cannot reach Asterisk to send NOTIFYs".into(),
        ));
    }
    let queued = targets.len();
    if let Some(notifier) = state.notifier.get() {
        let _ = notifier.send(NotifyRequest::Phones(Which::Macs(targets)));
    }
    Ok(json!({"queued": queued}))
}

/// The value of `key` in a query string (`a=1&state=stale`), percent-decoded.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| pjprov_core::uri::decode(v))
        .filter(|v| !v.is_empty())
}
