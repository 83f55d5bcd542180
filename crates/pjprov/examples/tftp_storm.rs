//! A TFTP boot storm: `CLIENTS` clients, each fetching files from `NAMES` (one name per line) over and over
//! for `SECONDS`, then transfers per second and latency percentiles. Each transfer is a plain RFC 1350 read
//! with `blksize 1428` and `tsize`, as phones ask.
//!
//! ```text
//! cargo run --release --example tftp_storm -- 127.0.0.1:6969 names.txt 64 10
//! ```

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: tftp_storm SERVER:PORT NAMES_FILE [CLIENTS=64] [SECONDS=10]");
        std::process::exit(2);
    }
    let server: SocketAddr = args[1].parse().expect("SERVER:PORT");
    let names: Arc<Vec<String>> = Arc::new(
        std::fs::read_to_string(&args[2])
            .expect("names file")
            .lines()
            .map(|l| l.trim().trim_start_matches('/').to_owned())
            .filter(|l| !l.is_empty())
            .collect(),
    );
    let clients: usize = args.get(3).map_or(64, |a| a.parse().expect("CLIENTS"));
    let seconds: u64 = args.get(4).map_or(10, |a| a.parse().expect("SECONDS"));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|n| {
            let names = names.clone();
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let (mut bytes, mut errors) = (0usize, 0usize);
                let mut i = n * 7919;
                while Instant::now() < deadline {
                    let name = &names[i % names.len()];
                    i += 1;
                    let begun = Instant::now();
                    match fetch(server, name) {
                        Some(len) => {
                            bytes += len;
                            latencies.push(begun.elapsed());
                        }
                        None => errors += 1,
                    }
                }
                (latencies, bytes, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut bytes, mut errors) = (0, 0);
    for worker in workers {
        let (l, b, e) = worker.join().expect("worker");
        latencies.extend(l);
        bytes += b;
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{} transfers in {elapsed:.1} s: {:.0} transfers/s, {:.1} MB/s, {errors} failed; latency ms p50 {:.2} p90 {:.2} p99 {:.2}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        bytes as f64 / elapsed / 1e6,
        pct(0.5),
        pct(0.9),
        pct(0.99)
    );
}

/// One read; the number of bytes received, or `None` on an error packet or a timeout. Like a phone, the
/// request is sent again when nothing answers within a second (twice at most).
fn fetch(server: SocketAddr, name: &str) -> Option<usize> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    let mut request = vec![0, 1];
    for part in [name, "octet", "blksize", "1428", "tsize", "0"] {
        request.extend_from_slice(part.as_bytes());
        request.push(0);
    }
    socket.send_to(&request, server).ok()?;
    let mut buf = [0u8; 1600];
    let mut block_size = 512;
    let mut received = 0;
    let mut expected: u16 = 1;
    let mut retries = 0;
    loop {
        let (len, tid) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(_) if received == 0 && expected == 1 && retries < 2 => {
                retries += 1;
                socket.send_to(&request, server).ok()?;
                continue;
            }
            Err(_) => return None,
        };
        match buf.get(1)? {
            6 => {
                let fields: Vec<&[u8]> = buf[2..len].split(|&b| b == 0).collect();
                for pair in fields.chunks(2) {
                    if pair[0].eq_ignore_ascii_case(b"blksize") {
                        block_size = std::str::from_utf8(pair.get(1)?).ok()?.parse().ok()?;
                    }
                }
                socket.send_to(&[0, 4, 0, 0], tid).ok()?;
            }
            3 => {
                let block = u16::from_be_bytes([buf[2], buf[3]]);
                socket.send_to(&[0, 4, buf[2], buf[3]], tid).ok()?;
                if block == expected {
                    received += len - 4;
                    expected = expected.wrapping_add(1);
                    if len - 4 < block_size {
                        return Some(received);
                    }
                }
            }
            _ => return None,
        }
    }
}
