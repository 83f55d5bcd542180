//! Log output: tracing to stderr, as text or JSON lines, written by a background thread.
//!
//! A boot storm logs one access line per request. Written straight to stderr, each line is a `write(2)`
//! on a request thread: about a tenth of the server's CPU at 45,000 requests/s. Instead, lines go through
//! a channel to one writer thread that drains whatever has queued, writes it as one buffered chunk, and
//! flushes before waiting again, so a quiet server still logs each line at once. No line is ever dropped
//! (an access line may be the audit record of a served password): if the reader of stderr stalls for
//! long enough to fill the channel, requests wait, as they would on a blocking write.

use std::io::IsTerminal;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Buffer of the writer thread: many lines per `write(2)` under load.
const WRITE_BUFFER: usize = 64 * 1024;

/// Lines queued for the writer thread before a request waits.
const QUEUED_LINES: usize = 8192;

/// Keeps the writer thread alive: dropping it writes what is queued and stops the thread.
#[must_use = "dropping the guard stops logging"]
pub struct Guard {
    _writer: WorkerGuard,
}

pub fn init(format: LogFormat, level: &str) -> anyhow::Result<Guard> {
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(level))?;
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        // The default (128,000 lines) preallocates 4 MB; a few thousand lines is already seconds of backlog.
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("pjprov-log")
        .finish(std::io::BufWriter::with_capacity(
            WRITE_BUFFER,
            std::io::stderr(),
        ));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(true)
        .with_ansi(std::io::stderr().is_terminal());
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))?;
    Ok(Guard { _writer: guard })
}
