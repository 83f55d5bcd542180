//! Log output: tracing to stderr, as text or JSON lines, through a bounded queue written by one thread
//! (`sink.rs`): a request never writes to stderr itself, and a log reader that stalls never stalls serving.
//!
//! Records from dependencies are capped at `info`, and the Handlebars crate's are dropped at every level:
//! it logs the values it renders at `debug`, and those are SIP passwords. `--log-level trace` (or
//! `RUST_LOG=trace`) therefore shows pjprov's own detail, never a rendered value.

mod request_line;
mod sink;

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, OnceLock};

use tracing::Metadata;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterFn, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::LogFormat;
pub use request_line::RequestLine;
use request_line::{Clock, Style};
pub use sink::Sink;

/// Where request lines go, once logging is set up.
static REQUESTS: OnceLock<(Arc<Sink>, Style)> = OnceLock::new();

thread_local! {
    static REQUEST_BUFFER: RefCell<(Vec<u8>, Clock)> = RefCell::new((Vec::with_capacity(512), Clock::default()));
}

/// Logs the line of one request (under `pjprov::audit` for a phone's file, else `pjprov::access`), when
/// the log filter lets that target through at `info`.
pub fn request(line: &RequestLine<'_>) {
    let Some((sink, style)) = REQUESTS.get() else {
        return;
    };
    let enabled = if line.phone.is_some() {
        tracing::enabled!(target: "pjprov::audit", tracing::Level::INFO)
    } else {
        tracing::enabled!(target: "pjprov::access", tracing::Level::INFO)
    };
    if !enabled {
        return;
    }
    REQUEST_BUFFER.with(|cell| {
        let (buffer, clock) = &mut *cell.borrow_mut();
        buffer.clear();
        line.write(*style, clock.format(jiff::Timestamp::now()), buffer);
        sink.push(buffer);
    });
}

/// Keeps the writer thread alive: dropping it writes what is queued and stops the thread.
#[must_use = "dropping the guard stops logging"]
#[derive(Debug)]
pub struct Guard {
    sink: Arc<Sink>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Guard {
    /// The queue, for the servers' metrics.
    pub fn sink(&self) -> Arc<Sink> {
        self.sink.clone()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.sink.close();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Whether a record may be logged at all, whatever the filter the admin asked for.
fn allowed(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    if target.starts_with("pjprov") {
        return true;
    }
    // The Handlebars crate logs rendered values (passwords) at debug: never.
    if target.starts_with("handlebars") {
        return false;
    }
    *meta.level() <= LevelFilter::INFO
}

/// Sets up logging; `queue_bytes` of lines may wait for stderr (8 MiB by default: tens of thousands of
/// lines, seconds of a boot storm, minutes of normal traffic) before new ones are dropped.
pub fn init(format: LogFormat, level: &str, queue_bytes: usize) -> anyhow::Result<Guard> {
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(level))?;
    let sink = Sink::new(queue_bytes);
    let writer = {
        let sink = sink.clone();
        std::thread::Builder::new()
            .name("pjprov-log".into())
            .spawn(move || {
                let mut out = std::io::stderr().lock();
                let notice = |dropped: u64| dropped_notice(format, dropped);
                sink.run(&mut out, &notice);
            })?
    };
    let make = Lines { sink: sink.clone() };
    let ansi = std::io::stderr().is_terminal();
    let result = match format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(make)
                    .with_target(true)
                    .with_ansi(ansi)
                    .with_filter(filter)
                    .with_filter(FilterFn::new(allowed)),
            )
            .try_init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(make)
                    .with_filter(filter)
                    .with_filter(FilterFn::new(allowed)),
            )
            .try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))?;
    let style = match format {
        LogFormat::Text => Style::Text,
        LogFormat::Json => Style::Json,
    };
    let _ = REQUESTS.set((sink.clone(), style));
    Ok(Guard {
        sink,
        writer: Some(writer),
    })
}

/// The line that reports lost lines, in the log's own format.
fn dropped_notice(format: LogFormat, dropped: u64) -> Vec<u8> {
    let now = jiff::Timestamp::now();
    let message =
        "log lines were dropped: the reader of the log did not keep up (serving did not wait)";
    match format {
        LogFormat::Text => {
            format!("{now}  WARN pjprov::log: {message} dropped={dropped}\n").into_bytes()
        }
        LogFormat::Json => {
            let line = serde_json::json!({
                "timestamp": now.to_string(),
                "level": "WARN",
                "target": "pjprov::log",
                "message": message,
                "dropped": dropped,
            });
            let mut out = line.to_string().into_bytes();
            out.push(b'\n');
            out
        }
    }
}

/// tracing's writer: each record is formatted into a per-thread buffer, then queued whole.
#[derive(Debug, Clone)]
struct Lines {
    sink: Arc<Sink>,
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
    /// Records being written on this thread (a record formatted while another one is gets its own buffer).
    static OPEN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// One record being written.
#[derive(Debug)]
struct Line {
    sink: Arc<Sink>,
    /// The record's own buffer when another record is being written on this thread.
    own: Option<Vec<u8>>,
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match &mut self.own {
            Some(own) => own.extend_from_slice(bytes),
            None => LINE.with(|line| line.borrow_mut().extend_from_slice(bytes)),
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        OPEN.with(|open| open.set(open.get().saturating_sub(1)));
        match self.own.take() {
            Some(own) => {
                self.sink.push(&own);
            }
            None => LINE.with(|line| {
                let mut line = line.borrow_mut();
                if !line.is_empty() {
                    self.sink.push(&line);
                    line.clear();
                }
                if line.capacity() > 64 * 1024 {
                    line.shrink_to(512);
                }
            }),
        }
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        let nested = OPEN.with(|open| {
            let before = open.get();
            open.set(before + 1);
            before > 0
        });
        Line {
            sink: self.sink.clone(),
            own: nested.then(|| Vec::with_capacity(256)),
        }
    }
}
