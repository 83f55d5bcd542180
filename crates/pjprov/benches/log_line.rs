//! What logging costs a request: the one line of a phone's file, formatted and queued for the writer
//! thread (`cargo bench -p pjprov --bench log_line`), next to the same facts through tracing's own text
//! formatter, as pjprov wrote them before (two lines: audit and access).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../src/logging/request_line.rs"]
#[allow(dead_code, unused_imports)]
mod request_line;
#[path = "../src/logging/sink.rs"]
#[allow(dead_code, unused_imports)]
mod sink;

use request_line::{Clock, RequestLine, Style};

fn line() -> RequestLine<'static> {
    RequestLine {
        client: IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
        method: "GET",
        uri: "/phoneprov/0004f2000100.cfg",
        status: 200,
        bytes: 1934,
        micros: 87,
        protocol: "http",
        user_agent: "Yealink SIP-T46U 108.86.0.20 00:04:f2:00:01:00",
        phone: Some(("0004f2000100", "credentials:100")),
    }
}

fn request_line(c: &mut Criterion) {
    // The sink as the server runs it: a writer thread draining to a discarding stderr.
    let sink = sink::Sink::new(8 << 20);
    let writer = {
        let sink = sink.clone();
        std::thread::spawn(move || sink.run(&mut std::io::sink(), &|_| Vec::new()))
    };
    let mut buffer = Vec::with_capacity(512);
    let mut clock = Clock::default();
    for (name, style) in [("text", Style::Text), ("json", Style::Json)] {
        c.bench_function(
            &format!("request line, {name}, formatted and queued"),
            |b| {
                b.iter(|| {
                    buffer.clear();
                    let time = clock.format(jiff::Timestamp::now());
                    black_box(line()).write(style, time, &mut buffer);
                    sink.push(&buffer);
                })
            },
        );
    }
    sink.close();
    writer.join().unwrap();
}

/// The same facts through tracing's text formatter into a buffer, as two events (audit, then access).
fn tracing_fmt(c: &mut Criterion) {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut inner = self.0.lock().unwrap();
            if inner.len() > 1 << 20 {
                inner.clear();
            }
            inner.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let make = move || buffer.clone();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(make)
            .with_ansi(false),
    );
    tracing::subscriber::with_default(subscriber, || {
        c.bench_function("tracing fmt, audit + access events (before)", |b| {
            b.iter(|| {
                let l = black_box(line());
                let (mac, proof) = l.phone.unwrap();
                tracing::info!(target: "pjprov::audit", mac = %mac, client = %l.client,
                    user_agent = %l.user_agent, uri = %l.uri, status = l.status, protocol = l.protocol,
                    proof = %proof, "phone file");
                tracing::info!(target: "pjprov::access", client = %l.client, method = %l.method,
                    uri = %l.uri, status = l.status, bytes = l.bytes,
                    ms = format_args!("{:.3}", l.micros as f64 / 1000.0),
                    user_agent = %l.user_agent, "request");
            })
        });
    });
}

criterion_group!(benches, request_line, tracing_fmt);
criterion_main!(benches);
