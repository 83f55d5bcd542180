//! Noticing database changes without reloading for nothing: every `[realtime] poll` seconds the change
//! detector's value is compared with the one the last reload read, and a `NOTIFY` on `[realtime] channel`
//! (the contrib trigger's) asks for a reload at once. Either only sends the reload trigger.
//!
//! The watcher has a connection of its own (a `LISTEN` must stay open); when it breaks, the watcher
//! reconnects every poll interval (2 s at least), then looks at the detector at once, since a change may
//! have come while it was away. That is also how a server whose database was down at start (or since)
//! gets its configuration once the database is back.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{Health, Target};
use crate::realtime::{Link, connect, detect};

/// How long one look at the detector may take.
const DETECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Watches until the reloader goes away.
pub async fn run(
    mut targets: watch::Receiver<Target>,
    trigger: mpsc::Sender<()>,
    health: std::sync::Arc<Health>,
) {
    let mut link: Option<Link> = None;
    // The detector value a reload was asked for (not asked again until the reloader answers).
    let mut asked_for: Option<String> = None;
    let mut look_now = false;
    loop {
        let target = targets.borrow_and_update().clone();
        let Some(connection) = target.connection.clone() else {
            link = None;
            if targets.changed().await.is_err() {
                return;
            }
            continue;
        };
        let retry = target
            .settings
            .poll
            .unwrap_or(Duration::from_secs(2))
            .max(Duration::from_secs(2));
        if !link.as_ref().is_some_and(|l| l.serves(&connection)) {
            link = None;
            match open(&connection, &target).await {
                Ok(opened) => {
                    link = Some(opened);
                    look_now = true;
                }
                Err(why) => {
                    health.failed(&why);
                    tokio::select! {
                        changed = targets.changed() => if changed.is_err() { return },
                        () = tokio::time::sleep(retry) => {}
                    }
                    continue;
                }
            }
        }
        let Some(open_link) = link.as_mut() else {
            continue;
        };
        let wait = if look_now {
            Duration::ZERO
        } else {
            // Without polling, only NOTIFYs (and changes of target) wake the watcher.
            target
                .settings
                .poll
                .unwrap_or(Duration::from_secs(86_400 * 365))
        };
        tokio::select! {
            changed = targets.changed() => {
                if changed.is_err() {
                    return;
                }
                asked_for = None;
            }
            notified = open_link.notifications.recv() => match notified {
                Some(()) => {
                    // Several NOTIFYs in a row make one reload (the reloader debounces too).
                    while open_link.notifications.try_recv().is_ok() {}
                    let _ = trigger.try_send(());
                }
                None => {
                    health.failed(&format!("the database {} closed the connection", connection.describe()));
                    link = None;
                }
            },
            () = tokio::time::sleep(wait) => {
                look_now = false;
                let tables: Vec<&str> = target.tables.iter().map(String::as_str).collect();
                match tokio::time::timeout(DETECT_TIMEOUT, detect::fingerprint(&open_link.client, &tables)).await {
                    Ok(Ok(now)) => {
                        health.ok();
                        if target.fingerprint.as_ref() != Some(&now) && asked_for.as_ref() != Some(&now) {
                            asked_for = Some(now);
                            let _ = trigger.try_send(());
                        }
                    }
                    Ok(Err(e)) => {
                        health.failed(&format!("the database {} cannot be read: {e}", connection.describe()));
                        link = None;
                    }
                    Err(_) => {
                        health.failed(&format!("the database {} did not answer within {DETECT_TIMEOUT:?}", connection.describe()));
                        link = None;
                    }
                }
            }
        }
    }
}

/// A connection that listens on the target's channel.
async fn open(
    connection: &pjprov_core::realtime::Connection,
    target: &Target,
) -> Result<Link, String> {
    let link = connect(connection, target.settings.connect_timeout)
        .await
        .map_err(|e| {
            format!(
                "the database {} cannot be reached: {e}",
                connection.describe()
            )
        })?;
    if let Some(channel) = target.settings.listen_channel() {
        // A plain identifier (pjprov.conf checks it).
        link.client
            .batch_execute(&format!("LISTEN {channel}"))
            .await
            .map_err(|e| {
                format!(
                    "the database {} refused LISTEN {channel}: {}",
                    connection.describe(),
                    crate::realtime::DbError::from(e)
                )
            })?;
    }
    Ok(link)
}
