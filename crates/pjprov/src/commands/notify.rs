//! `pjprov notify [--changed | --all | MAC...]`: asks the running server to send SIP NOTIFYs now.

use std::process::ExitCode;

use crate::cli::NotifyArgs;

pub fn run(args: &NotifyArgs) -> anyhow::Result<ExitCode> {
    let body = if args.all {
        serde_json::json!({"all": true})
    } else if !args.macs.is_empty() {
        serde_json::json!({"macs": args.macs.iter().map(|m| m.to_string()).collect::<Vec<_>>()})
    } else {
        serde_json::json!({"changed": true})
    };
    let (status, text) = super::admin_client::call(
        &args.admin,
        "POST",
        "/api/v1/notify",
        Some(body.to_string()),
    )?;
    match status {
        200 | 202 => {
            let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            println!(
                "{} phone(s) queued for a NOTIFY",
                value.get("queued").and_then(|v| v.as_u64()).unwrap_or(0)
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            eprintln!("pjprov: the server said {status}: {}", text.trim());
            Ok(ExitCode::from(1))
        }
    }
}
