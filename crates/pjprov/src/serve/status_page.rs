//! The status page at `/` on the admin address: counts by state, the phones (filtered by the form, on the
//! server: no script, no external asset), the last reload's result and its diagnostics.

use std::fmt::Write as _;

use pjprov_core::hbs::escape_xml as escape;

use super::api::{self, PhoneView};
use super::http::State;
use crate::inventory::State as PhoneState;

/// The last reload, as the page shows it.
#[derive(Debug, Clone, Default)]
pub struct ReloadReport {
    /// The generation served.
    pub generation: u64,
    /// When the last attempt was (Unix seconds).
    pub at: i64,
    /// Whether it was adopted.
    pub adopted: bool,
    /// One line about it.
    pub summary: String,
    /// Its diagnostics (file:line: severity: message), at most a few hundred.
    pub diagnostics: Vec<String>,
}

/// The page for `query` (`state=stale&q=0004f2`).
pub fn render(state: &State, query: &str) -> String {
    let snapshot = state.snapshot.load();
    let views = api::phones(&snapshot, &state.inventory);
    let counts = api::counts(&views);
    let wanted_state = api::query_value(query, "state");
    let needle = api::query_value(query, "q").map(|q| q.to_lowercase());
    let shown: Vec<&PhoneView<'_>> = views
        .iter()
        .filter(|v| wanted_state.as_deref().is_none_or(|w| w == v.state.name()))
        .filter(|v| needle.as_deref().is_none_or(|n| matches(v, n)))
        .collect();
    let report = state.reload_report.load();
    let mut page = String::with_capacity(16 * 1024 + shown.len() * 256);
    page.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>pjprov</title><style>\
         body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}\
         table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd}\
         .current{color:#176117}.stale{color:#9a5b00}.never{color:#777}.error{color:#a11}\
         .counts span{margin-right:1.5rem;font-size:1.2rem}form{margin:1rem 0}\
         </style></head><body>\n",
    );
    let _ = writeln!(
        page,
        "<h1>pjprov</h1>\n<p id=\"reload\" class=\"{}\">Configuration generation {} ({}): {}</p>",
        if report.adopted { "current" } else { "error" },
        report.generation,
        jiff::Timestamp::from_second(report.at).map_or_else(|_| "-".to_owned(), |t| t.to_string()),
        escape(&report.summary)
    );
    let _ = writeln!(page, "<p class=\"counts\" id=\"counts\">");
    for (state_name, count) in PhoneState::ALL.iter().zip(counts) {
        let _ = write!(
            page,
            "<span class=\"{0}\" id=\"count-{0}\">{1} {0}</span>",
            state_name.name(),
            count
        );
    }
    let _ = writeln!(page, "</p>");
    // The filter: a plain GET form.
    let _ = write!(
        page,
        "<form method=\"get\" action=\"/\"><label>State <select name=\"state\">\
         <option value=\"\">all</option>"
    );
    for state_name in PhoneState::ALL {
        let selected = if wanted_state.as_deref() == Some(state_name.name()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            page,
            "<option value=\"{0}\"{selected}>{0}</option>",
            state_name.name()
        );
    }
    let _ = writeln!(
        page,
        "</select></label> <label>Search <input name=\"q\" value=\"{}\"></label> \
         <button type=\"submit\">Filter</button></form>",
        escape(needle.as_deref().unwrap_or(""))
    );
    let _ = writeln!(
        page,
        "<table id=\"phones\"><thead><tr><th>State</th><th>MAC</th><th>Model</th><th>Firmware</th>\
         <th>Address</th><th>Last seen</th><th>Lines</th></tr></thead><tbody>"
    );
    for view in &shown {
        let record = view.record.as_ref();
        let lines: Vec<String> = view
            .phone
            .lines
            .iter()
            .map(|l| l.vars.get("USERNAME").unwrap_or(&l.id).to_owned())
            .collect();
        let _ = writeln!(
            page,
            "<tr class=\"phone {state}\"><td>{state}</td><td>{mac}</td><td>{model}</td><td>{firmware}</td>\
             <td>{address}</td><td>{seen}</td><td>{lines}</td></tr>",
            state = view.state.name(),
            mac = escape(
                &view
                    .mac
                    .map_or_else(|| view.phone.mac.to_string(), |m| m.to_string())
            ),
            model = escape(record.and_then(|r| r.model.as_deref()).unwrap_or("-")),
            firmware = escape(record.and_then(|r| r.firmware.as_deref()).unwrap_or("-")),
            address = record
                .and_then(|r| r.address)
                .map_or_else(|| "-".to_owned(), |a| a.to_string()),
            seen = record.map_or_else(
                || "never".to_owned(),
                |r| {
                    jiff::Timestamp::from_second(r.last_seen)
                        .map_or_else(|_| "-".to_owned(), |t| t.to_string())
                }
            ),
            lines = escape(&lines.join(", ")),
        );
    }
    let _ = writeln!(page, "</tbody></table>");
    if !report.diagnostics.is_empty() {
        let _ = writeln!(
            page,
            "<h2>Diagnostics of the last reload</h2><ul id=\"diagnostics\">"
        );
        for line in &report.diagnostics {
            let class = if line.contains(": error: ") {
                "error"
            } else {
                ""
            };
            let _ = writeln!(page, "<li class=\"{class}\">{}</li>", escape(line));
        }
        let _ = writeln!(page, "</ul>");
    }
    page.push_str("</body></html>\n");
    page
}

fn matches(view: &PhoneView<'_>, needle: &str) -> bool {
    let record = view.record.as_ref();
    let mut fields: Vec<String> = vec![view.phone.mac.as_str().to_lowercase()];
    if let Some(mac) = view.mac {
        fields.push(mac.to_string());
    }
    if let Some(record) = record {
        fields.extend(record.model.iter().map(|m| m.to_lowercase()));
        fields.extend(record.address.iter().map(|a| a.to_string()));
    }
    for line in &view.phone.lines {
        fields.extend(line.vars.get("USERNAME").map(str::to_lowercase));
        fields.push(line.id.as_str().to_lowercase());
    }
    fields.iter().any(|f| f.contains(needle))
}
