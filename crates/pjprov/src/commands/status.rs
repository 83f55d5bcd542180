//! `pjprov status`: the fleet as the running server sees it, as a table like `pjsip show endpoints`, or JSON.

use std::io::Write;
use std::process::ExitCode;

use serde_json::Value;

use super::text_of;

use crate::cli::{ListFormat, StatusArgs};

pub fn run(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let path = match (&args.state, args.unknown) {
        (_, true) => "/api/v1/unknown".to_owned(),
        (Some(state), false) => format!("/api/v1/phones?state={state}"),
        (None, false) => "/api/v1/phones".to_owned(),
    };
    let Some(value) = super::admin_client::get_json(&args.admin, &path)? else {
        return Ok(ExitCode::from(1));
    };
    let mut out = std::io::stdout().lock();
    if args.format == ListFormat::Json {
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = if args.unknown {
        let header = [
            "MAC",
            "ADDRESS",
            "LAST SEEN",
            "REQUESTS",
            "LOBBIES",
            "LAST FILE",
            "USER-AGENT",
        ];
        std::iter::once(header.map(str::to_owned).to_vec())
            .chain(value["unknown"].as_array().into_iter().flatten().map(|u| {
                vec![
                    text_of(&u["mac"]),
                    text_of(&u["address"]),
                    ago(&u["last_seen"]),
                    text_of(&u["requests"]),
                    text_of(&u["lobbies"]),
                    text_of(&u["uri"]),
                    text_of(&u["user_agent"]),
                ]
            }))
            .collect()
    } else {
        let header = [
            "STATE",
            "MAC",
            "MODEL",
            "FIRMWARE",
            "ADDRESS",
            "LAST SEEN",
            "LINES",
            "ENROL",
        ];
        std::iter::once(header.map(str::to_owned).to_vec())
            .chain(value["phones"].as_array().into_iter().flatten().map(|p| {
                let lines: Vec<String> = p["lines"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| text_of(&l["username"]))
                    .collect();
                vec![
                    text_of(&p["state"]),
                    text_of(&p["mac"]),
                    text_of(&p["model"]),
                    text_of(&p["firmware"]),
                    text_of(&p["address"]),
                    ago(&p["last_seen"]),
                    lines.join(","),
                    enrolment(p),
                ]
            }))
            .collect()
    };
    super::write_table(&mut out, &rows)?;
    if !args.unknown {
        let counts = &value["counts"];
        writeln!(
            out,
            "\n{} phones: {} current, {} stale, {} never",
            value["phones"].as_array().map_or(0, Vec::len),
            text_of(&counts["current"]),
            text_of(&counts["stale"]),
            text_of(&counts["never"]),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The ENROL column (issue #18): `enrol` and the window, and whether the phone was last given the lobby.
fn enrolment(phone: &Value) -> String {
    let enrolment = &phone["enrolment"];
    let mode = enrolment["enrol"].as_str().unwrap_or("open");
    let mut text = match mode {
        "open" => "open".to_owned(),
        mode => format!("{mode}: {}", text_of(&enrolment["window_state"])),
    };
    if phone["lobby_at"].as_i64().is_some() {
        text.push_str(&format!(" (lobby {})", ago(&phone["lobby_at"])));
    }
    text
}

/// `12s ago`, `5m ago`, `3h ago`, `2d ago` from a Unix time.
fn ago(value: &Value) -> String {
    let Some(then) = value.as_i64() else {
        return "-".into();
    };
    let seconds = (jiff::Timestamp::now().as_second() - then).max(0);
    match seconds {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86_400 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}
