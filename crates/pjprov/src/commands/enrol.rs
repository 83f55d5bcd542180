//! `pjprov enrol open MAC...|--all [--for 30m]`, `pjprov enrol close MAC...|--all`, `pjprov enrol list`:
//! provisioning windows (issue #18) on the running server, through its admin address (loopback, or the
//! `[admin] token`). Also where `pjprov explain` gets the enrolment state it judges by.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use pjprov_core::{Mac, Snapshot};
use serde_json::{Value, json};

use super::text_of;

use crate::access::enrol::{Enrolment, Record};
use crate::cli::{AdminClient, ListFormat};
use crate::inventory::Store;

#[derive(Debug, Args)]
pub struct EnrolArgs {
    #[command(subcommand)]
    pub action: EnrolAction,
}

#[derive(Debug, Subcommand)]
pub enum EnrolAction {
    /// Open a provisioning window: under `enrol = window`, the phones' credentials go out without proof
    /// until it closes, to the first address that fetches them (and only to it, for enrol_grace).
    Open(OpenArgs),
    /// Close provisioning windows now.
    Close(Targets),
    /// Every phone's enrolment: its window, who fetched in it, when its credentials first went out.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct Targets {
    #[command(flatten)]
    pub admin: AdminClient,
    /// Every configured phone.
    #[arg(long, conflicts_with = "macs")]
    pub all: bool,
    /// These phones (any MAC spelling).
    #[arg(value_name = "MAC", value_parser = super::explain::parse_mac, required_unless_present = "all")]
    pub macs: Vec<Mac>,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    #[command(flatten)]
    pub targets: Targets,
    /// How long the window stays open: seconds, or with s, m, h or d (at most 7d).
    #[arg(long = "for", value_name = "DURATION", default_value = "15m", value_parser = window_length)]
    pub length: Duration,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub admin: AdminClient,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

fn window_length(text: &str) -> Result<Duration, String> {
    pjprov_core::settings::parse_duration(
        text,
        Duration::from_secs(1),
        crate::access::enrol::MAX_WINDOW,
    )
}

fn body(targets: &Targets) -> Value {
    if targets.all {
        json!({"all": true})
    } else {
        json!({"macs": targets.macs.iter().map(ToString::to_string).collect::<Vec<_>>()})
    }
}

pub fn run(args: &EnrolArgs) -> anyhow::Result<ExitCode> {
    match &args.action {
        EnrolAction::Open(open) => {
            let mut request = body(&open.targets);
            request["seconds"] = json!(open.length.as_secs());
            change(&open.targets.admin, "/api/v1/enrol/open", request, "opened")
        }
        EnrolAction::Close(targets) => change(
            &targets.admin,
            "/api/v1/enrol/close",
            body(targets),
            "closed",
        ),
        EnrolAction::List(list) => self::list(list),
    }
}

fn change(admin: &AdminClient, path: &str, request: Value, done: &str) -> anyhow::Result<ExitCode> {
    let (status, text) = super::admin_client::call(admin, "POST", path, Some(request.to_string()))?;
    let value: Value = serde_json::from_str(&text).unwrap_or_default();
    if status != 200 {
        let why = value["error"].as_str().unwrap_or(text.trim());
        eprintln!("pjprov: the server said {status}: {why}");
        return Ok(ExitCode::from(1));
    }
    let macs: Vec<&str> = value["macs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let until = value["until"]
        .as_i64()
        .and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| format!(" until {t}"))
        .unwrap_or_default();
    println!(
        "{} window(s) {done}{until}: {}",
        macs.len(),
        macs.join(", ")
    );
    for note in value["notes"].as_array().into_iter().flatten() {
        if let Some(note) = note.as_str() {
            eprintln!("pjprov: {note}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let Some(value) = super::admin_client::get_json(&args.admin, "/api/v1/enrol")? else {
        return Ok(ExitCode::from(1));
    };
    let mut out = std::io::stdout().lock();
    if args.format == ListFormat::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(problem) = value["problem"].as_str() {
        writeln!(out, "every window is closed: {problem}")?;
    }
    let mut rows = vec![
        ["MAC", "ENROL", "WINDOW", "FIRST FETCH"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for record in value["phones"].as_array().into_iter().flatten() {
        rows.push(vec![
            text_of(&record["mac"]),
            text_of(&record["enrol"]),
            text_of(&record["window_state"]),
            match &record["first_fetch"] {
                Value::Null => "-".into(),
                fetch => format!(
                    "{} from {} ({})",
                    time(&fetch["at"]),
                    text_of(&fetch["address"]),
                    text_of(&fetch["how"])
                ),
            },
        ]);
    }
    super::write_table(&mut out, &rows)?;
    Ok(ExitCode::SUCCESS)
}

fn time(value: &Value) -> String {
    value
        .as_i64()
        .and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map_or_else(|| "-".into(), |t| t.to_string())
}

/// The enrolment state `pjprov explain` judges by, and where it came from: the state directory when no
/// server holds it, else the running server's admin address, else none (every window closed: the answer
/// explain gives is then the strictest one).
pub fn state_for_explain(snapshot: &Snapshot, state_dir: &Path) -> (Enrolment, String) {
    match Store::open_existing(state_dir) {
        Ok(None) => {
            return (
                Enrolment::snapshot_of(Vec::new()),
                format!(
                    "no state in {} (no server has run with it): no window is open",
                    state_dir.display()
                ),
            );
        }
        Ok(Some(store)) => {
            return match store.load_enrolment() {
                Ok((_, rows)) => {
                    let mut records = Vec::new();
                    for (octets, value) in rows {
                        match serde_json::from_slice::<Record>(&value) {
                            Ok(record) => records.push((Mac::from_octets(octets), record)),
                            Err(e) => {
                                return (
                                    Enrolment::unavailable(format!("unreadable: {e}")),
                                    format!(
                                        "the state in {} cannot be read ({e}): as the server, every window counts as closed",
                                        state_dir.display()
                                    ),
                                );
                            }
                        }
                    }
                    (
                        Enrolment::snapshot_of(records),
                        format!("read from {}", state_dir.display()),
                    )
                }
                Err(why) => (
                    Enrolment::unavailable(why.clone()),
                    format!("{why}: every window counts as closed"),
                ),
            };
        }
        // The running server holds the database: ask it.
        Err(_) => {}
    }
    let admin = match snapshot.settings().general.admin_listen {
        Some(Some(addr)) => addr,
        _ => ([127, 0, 0, 1], 8089).into(),
    };
    let client = AdminClient {
        admin,
        token: std::env::var("PJPROV_ADMIN_TOKEN").ok(),
    };
    let asked = super::admin_client::call(&client, "GET", "/api/v1/enrol", None)
        .ok()
        .filter(|(status, _)| *status == 200)
        .and_then(|(_, text)| serde_json::from_str::<Value>(&text).ok());
    let asked = asked.filter(|v| v["problem"].is_null());
    let Some(value) = asked else {
        return (
            Enrolment::unavailable("not reachable".into()),
            format!(
                "{} is held by a running server and its admin address {admin} did not answer: every window counts as closed",
                state_dir.display()
            ),
        );
    };
    let records = value["phones"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let mac = Mac::parse(p["mac"].as_str()?)?;
            let record: Record = serde_json::from_value(p["record"].clone()).ok()?;
            Some((mac, record))
        })
        .collect();
    (
        Enrolment::snapshot_of(records),
        format!("as the running server at {admin} holds it"),
    )
}
