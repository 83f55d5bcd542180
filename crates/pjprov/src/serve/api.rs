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
        "user_agent": record.map(|r| r.user_agent.as_str()),
        "protocol": record.map(|r| r.protocol.as_str()),
        "changed_at": record.and_then(|r| r.changed_at),
        "notified_at": record.and_then(|r| r.notified_at),
        "notify_result": record.and_then(|r| r.notify_result.as_deref()),
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
    let phones: Vec<Value> = views
        .iter()
        .filter(|v| wanted.as_deref().is_none_or(|w| w == v.state.name()))
        .map(|v| phone_json(&snapshot, v, false))
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
    Some(phone_json(&snapshot, view, true))
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
