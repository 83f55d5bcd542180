//! The fleet measurement of issue 16, in one command: a generated fleet (`../shared/bench/gen_fleet.py`),
//! `pjprov serve` on it at its default settings, and
//!
//! * start: from spawning the server to the first file served;
//! * save → served: a phone's `callerid` edited in the fleet's include file, then the time until the new
//!   name is served (median and max of `--reloads`);
//! * RSS: sampled every 50 ms from spawning to the end of the reloads: after start, the peak while
//!   starting, and the peak across the reloads (and ÷ after start, the issue's measure);
//! * the boot storm (`boot-storm.sh`): pjprov, then nginx (2 workers, access log off) serving the same bytes,
//!   in the same run, and the ratios;
//! * the same saves again once every phone has fetched its file (every body cached): save → served, and
//!   RSS before, at its peak and after them;
//! * restart: with every phone seen (each fetched its file at least once), the server is stopped and
//!   started again on the same state directory, as after an upgrade: the first file served, RSS, and how
//!   long comparing every phone's files with what it last fetched took.
//!
//! ```text
//! cargo run --release --example fleet -- --phones 100000
//! cargo run --release --example fleet -- --phones 10000 --reloads 5
//! ```
//!
//! Options: `--phones N` (100000), `--reloads N` (20), `--storm-seconds N` (10, 0 for no storm),
//! `--shared DIR` (the reference material; `$PJPROV_SHARED_DIR`, else `../shared` of the repository),
//! `--keep DIR` (generate into DIR and keep it), `--lines-every K` (every K-th phone has a second line;
//! gen_fleet.py's 10, and 0, none, above 500,000 phones, where its second lines' extensions would repeat
//! the first lines'), `--` then more `pjprov serve` arguments.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Options {
    phones: usize,
    reloads: usize,
    storm_seconds: u64,
    shared: PathBuf,
    keep: Option<PathBuf>,
    lines_every: Option<usize>,
    serve_args: Vec<String>,
}

fn options() -> Options {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut options = Options {
        phones: 100_000,
        reloads: 20,
        storm_seconds: 10,
        shared: std::env::var_os("PJPROV_SHARED_DIR")
            .map_or_else(|| repo.join("../shared"), PathBuf::from),
        keep: None,
        lines_every: None,
        serve_args: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--phones" => options.phones = value().parse().unwrap_or_else(|_| usage("--phones N")),
            "--reloads" => {
                options.reloads = value().parse().unwrap_or_else(|_| usage("--reloads N"))
            }
            "--storm-seconds" => {
                options.storm_seconds = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--storm-seconds N"))
            }
            "--shared" => options.shared = PathBuf::from(value()),
            "--keep" => options.keep = Some(PathBuf::from(value())),
            "--lines-every" => {
                options.lines_every =
                    Some(value().parse().unwrap_or_else(|_| usage("--lines-every K")))
            }
            "--" => {
                options.serve_args = args.by_ref().collect();
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    options
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "fleet: {problem}\nusage: fleet [--phones N] [--reloads N] [--storm-seconds N] [--shared DIR] [--keep DIR] [--lines-every K] [-- SERVE_ARGS...]"
    );
    std::process::exit(2)
}

fn main() {
    let options = options();
    let bench = options.shared.join("bench");
    if !bench.join("gen_fleet.py").is_file() {
        usage(&format!(
            "no {}: give --shared DIR or PJPROV_SHARED_DIR",
            bench.join("gen_fleet.py").display()
        ));
    }
    let pjprov = release_binary();
    let scratch = tempdir();
    let fleet = options
        .keep
        .clone()
        .unwrap_or_else(|| scratch.join("fleet"));
    let generated = Instant::now();
    // gen_fleet.py numbers a second line `first + 500000`: beyond 500,000 phones those would be taken.
    let lines_every = options
        .lines_every
        .unwrap_or(if options.phones > 500_000 { 0 } else { 10 });
    if options.phones > 500_000 && lines_every != 0 {
        usage(
            "above 500,000 phones gen_fleet.py's second lines repeat first lines' extensions: --lines-every 0",
        );
    }
    run(Command::new("python3")
        .arg(bench.join("gen_fleet.py"))
        .arg(&fleet)
        .args(["--phones", &options.phones.to_string()])
        .args(["--lines-every", &lines_every.to_string()]));
    println!(
        "fleet: {} phones (a second line every {lines_every}) in {} ({:.1} s to generate)",
        options.phones,
        fleet.display(),
        generated.elapsed().as_secs_f64()
    );
    let paths: Vec<String> = std::fs::read_to_string(fleet.join("paths"))
        .expect("paths")
        .lines()
        .map(str::to_owned)
        .collect();

    let port = free_port();
    let admin = free_port();
    let launch = Launch {
        pjprov: &pjprov,
        fleet: &fleet,
        scratch: &scratch,
        port,
        admin,
        serve_args: &options.serve_args,
    };
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let first = format!("/phoneprov/{}", paths[0]);
    let started = Instant::now();
    let mut server = launch.spawn("serve.log");
    let pid = server.0.id();
    let rss = Rss::sample(pid);
    let start = wait_for(addr, &first, started, &scratch.join("serve.log"));
    std::thread::sleep(Duration::from_millis(1000));
    let after_start = rss.now();
    let start_samples = rss.count();
    println!(
        "start: first file served {:.0} ms after spawning; RSS {} MB one second later",
        start.as_secs_f64() * 1000.0,
        after_start / 1024
    );

    let include = fleet.join("etc/pjsip_phones.conf");
    let mut text = std::fs::read_to_string(&include).expect("include file");
    let mut times = saves(addr, &include, &mut text, &paths, options.reloads, 0);
    let samples = rss.stop();
    let start_peak = samples[..start_samples].iter().copied().max().unwrap_or(0);
    let peak = samples[start_samples..].iter().copied().max().unwrap_or(0);
    if let Some((median, max)) = median_and_max(&mut times) {
        println!(
            "save -> served: median {median:.0} ms, max {max:.0} ms ({} saves)",
            times.len()
        );
    }
    println!(
        "RSS: {} MB after start (peak while starting {} MB); across the reloads peak {} MB ({:.2}x) over {} samples every 50 ms",
        after_start / 1024,
        start_peak / 1024,
        peak / 1024,
        peak as f64 / after_start.max(1) as f64,
        samples.len() - start_samples
    );

    // nginx serves the same bytes in the storm: a copy of each, made by the same fetches.
    let copy = (options.storm_seconds > 0).then(|| scratch.join("nginx/phoneprov"));
    fetch_every_phone(addr, &paths, copy.as_deref());
    // The same saves again, now that every phone's body is cached and every phone is compared.
    let before = rss_kb(pid).unwrap_or(0);
    let rss = Rss::sample(pid);
    let mut times = saves(
        addr,
        &include,
        &mut text,
        &paths,
        options.reloads,
        options.phones / 2,
    );
    let peak = rss.stop().into_iter().max().unwrap_or(0);
    let after = rss_kb(pid).unwrap_or(0);
    if let Some((median, max)) = median_and_max(&mut times) {
        println!(
            "every phone's body cached: save -> served median {median:.0} ms, max {max:.0} ms; RSS {} MB before the reloads, peak {} MB ({:.2}x), {} MB after",
            before / 1024,
            peak / 1024,
            peak as f64 / before.max(1) as f64,
            after / 1024
        );
    }
    if options.storm_seconds > 0 {
        storm(&options, &bench, &scratch, addr, pid, &paths);
    }
    restart(&launch, &mut server, addr, &first);
    if options.keep.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

/// The boot storm against pjprov, then against nginx serving the same bytes, and the ratios.
fn storm(
    options: &Options,
    bench: &Path,
    scratch: &Path,
    addr: SocketAddr,
    pid: u32,
    paths: &[String],
) {
    let list = scratch.join("paths.slash");
    let mut slashed = String::new();
    for path in paths {
        slashed.push('/');
        slashed.push_str(path);
        slashed.push('\n');
    }
    std::fs::write(&list, slashed).expect("paths list");
    let seconds = options.storm_seconds.to_string();
    let ours = output(
        Command::new(bench.join("boot-storm.sh"))
            .arg(format!("http://{addr}/phoneprov"))
            .arg(&list)
            .arg(&seconds)
            .env("SERVER_PIDS", pid.to_string()),
    );
    println!("pjprov: {ours}");
    let script = format!(
        "SERVER_PIDS=\"$NGINX_BASELINE_PID $NGINX_BASELINE_WORKER_PIDS\" '{}' \"$NGINX_BASELINE_URL/phoneprov\" '{}' {seconds}",
        bench.join("boot-storm.sh").display(),
        list.display()
    );
    let nginx = output(
        Command::new(bench.join("nginx-baseline.sh"))
            .arg(free_port().to_string())
            .arg(scratch.join("nginx"))
            .args(["--", "sh", "-c", &script])
            .env("NGINX_WORKERS", "2"),
    );
    let nginx = nginx
        .lines()
        .rfind(|l| l.starts_with("rps_keepalive="))
        .unwrap_or_default()
        .to_owned();
    println!("nginx:  {nginx}");
    let field = |line: &str, key: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    println!(
        "ratio pjprov / nginx: keep-alive {:.2}x, new-connection {:.2}x; p99 {:.2} ms vs {:.2} ms; errors {} / non2xx {}",
        field(&ours, "rps_keepalive") / field(&nginx, "rps_keepalive"),
        field(&ours, "rps_close") / field(&nginx, "rps_close"),
        field(&ours, "p99_ms"),
        field(&nginx, "p99_ms"),
        field(&ours, "errors"),
        field(&ours, "non2xx"),
    );
}

/// `reloads` saves, one phone's callerid each time (the first not saved yet from `from` on), the whole
/// file written as an editor writes it; how long each took to be served.
fn saves(
    addr: SocketAddr,
    include: &Path,
    text: &mut String,
    paths: &[String],
    reloads: usize,
    from: usize,
) -> Vec<Duration> {
    let phones = paths.len();
    let mut times = Vec::new();
    for n in 0..reloads {
        let original = |phone: usize| format!("\"Phone {phone} line 1\"");
        let phone = (0..phones)
            .map(|i| (from + n * 7919 + i) % phones)
            .find(|phone| text.contains(&original(*phone)))
            .expect("a phone not saved yet");
        let wanted = format!("Phone {phone} line 1 saved {n}");
        *text = text.replacen(&original(phone), &format!("\"{wanted}\""), 1);
        let uri = format!("/phoneprov/{}", paths[phone]);
        std::fs::write(include, &*text).expect("save");
        let saved = Instant::now();
        loop {
            if let Some((200, body)) = get(addr, &uri)
                && String::from_utf8_lossy(&body).contains(&wanted)
            {
                break;
            }
            if saved.elapsed() > Duration::from_secs(120) {
                panic!("save {n} not served after 2 minutes");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        times.push(saved.elapsed());
        std::thread::sleep(Duration::from_millis(300));
    }
    times
}

/// The median and the largest of `times`, in milliseconds (sorts them); `None` when there are none.
fn median_and_max(times: &mut [Duration]) -> Option<(f64, f64)> {
    times.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    Some((ms(times.get(times.len() / 2)?), ms(times.last()?)))
}

/// Every phone's file, fetched once (so the inventory has seen every phone), each written to `copy` when
/// given (what nginx serves in the storm).
fn fetch_every_phone(addr: SocketAddr, paths: &[String], copy: Option<&Path>) {
    if let Some(copy) = copy {
        std::fs::create_dir_all(copy).expect("copy dir");
    }
    for path in paths {
        let (status, body) = get(addr, &format!("/phoneprov/{path}")).expect("fetch");
        assert_eq!(status, 200, "{path}");
        if let Some(copy) = copy {
            std::fs::write(copy.join(path), body).expect("copy");
        }
    }
}

/// How the server is started: the same way each time, on the same state directory.
struct Launch<'a> {
    pjprov: &'a Path,
    fleet: &'a Path,
    scratch: &'a Path,
    port: u16,
    admin: u16,
    serve_args: &'a [String],
}

impl Launch<'_> {
    /// `pjprov serve` on the fleet, its log in `log` (in the scratch directory).
    fn spawn(&self, log: &str) -> Server {
        let log = std::fs::File::create(self.scratch.join(log)).expect("log file");
        Server(
            Command::new(self.pjprov)
                .arg("serve")
                .arg("--config-dir")
                .arg(self.fleet.join("etc"))
                .arg("--data-dir")
                .arg(self.fleet.join("data"))
                .arg("--state-dir")
                .arg(self.scratch.join("state"))
                .args(["--listen", &format!("127.0.0.1:{}", self.port)])
                .args(["--admin-listen", &format!("127.0.0.1:{}", self.admin)])
                .args(self.serve_args)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start pjprov serve"),
        )
    }
}

/// Waits until `first` is served; the time since `started`.
fn wait_for(addr: SocketAddr, first: &str, started: Instant, log: &Path) -> Duration {
    loop {
        match get(addr, first).map(|(status, _)| status) {
            Some(200) => return started.elapsed(),
            // The listeners open once the first configuration is built: it has no such phone.
            Some(status) => panic!(
                "the server answers {status} for {first}: the fleet's configuration is not usable; see {}",
                log.display()
            ),
            None => {}
        }
        if started.elapsed() > Duration::from_secs(600) {
            panic!("nothing served after 10 minutes; see {}", log.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Stops the server (as systemd does: SIGTERM, its last records written) and starts it again on the same
/// state directory, every phone seen: the first file served, RSS, and the comparison of every phone's
/// files with what it last fetched (the `compared every phone's files` log line).
fn restart(launch: &Launch<'_>, server: &mut Server, addr: SocketAddr, first: &str) {
    run(Command::new("kill").args(["-TERM", &server.0.id().to_string()]));
    let _ = server.0.wait();
    let log = launch.scratch.join("restart.log");
    let started = Instant::now();
    *server = launch.spawn("restart.log");
    let rss = Rss::sample(server.0.id());
    let served = wait_for(addr, first, started, &log);
    let compared = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(ms) = text
            .lines()
            .find(|l| l.contains("compared every phone's files"))
            .and_then(|l| l.split_whitespace().find_map(|kv| kv.strip_prefix("ms=")))
        {
            break ms.to_owned();
        }
        if started.elapsed() > Duration::from_secs(600) {
            panic!("no comparison after 10 minutes; see {}", log.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(1000));
    let after = rss.now();
    let peak = rss.stop().into_iter().max().unwrap_or(0).max(after);
    println!(
        "restart, every phone seen: first file served {:.0} ms after spawning; RSS {} MB one second after the comparison ({compared} ms; peak {} MB)",
        served.as_secs_f64() * 1000.0,
        after / 1024,
        peak / 1024
    );
}

/// The release `pjprov` next to this example, built first (`cargo run` says where cargo is).
fn release_binary() -> PathBuf {
    if let Some(cargo) = std::env::var_os("CARGO") {
        run(Command::new(cargo).args(["build", "--release", "--quiet", "--bin", "pjprov"]));
    }
    let exe = std::env::current_exe().expect("own path");
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("pjprov"))
        .expect("target dir");
    assert!(
        binary.is_file(),
        "no {}: run `cargo build --release` first",
        binary.display()
    );
    binary
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// RSS of a process, sampled every 50 ms by a thread.
struct Rss {
    pid: u32,
    samples: Arc<Mutex<Vec<u64>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Rss {
    fn sample(pid: u32) -> Rss {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (samples, stop) = (samples.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kb) = rss_kb(pid) {
                        samples.lock().unwrap().push(kb);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        Rss {
            pid,
            samples,
            stop,
            thread: Some(thread),
        }
    }

    fn now(&self) -> u64 {
        rss_kb(self.pid).unwrap_or(0)
    }

    /// How many samples so far.
    fn count(&self) -> usize {
        self.samples.lock().unwrap().len()
    }

    fn stop(mut self) -> Vec<u64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        std::mem::take(&mut *self.samples.lock().unwrap())
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// One GET over a new connection: the status and body.
fn get(addr: SocketAddr, path: &str) -> Option<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = std::str::from_utf8(&raw[..split])
        .ok()?
        .split(' ')
        .nth(1)?
        .parse()
        .ok()?;
    Some((status, raw[split + 4..].to_vec()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pjprov-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn run(command: &mut Command) {
    let status = command.status().expect("run a helper command");
    assert!(status.success(), "{command:?} failed: {status}");
}

fn output(command: &mut Command) -> String {
    let out = command.output().expect("run a helper command");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
