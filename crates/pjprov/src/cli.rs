//! The command line (DESIGN.md §2 is the contract: commands, options and exit codes only ever grow).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Phone provisioning for Asterisk: serves each phone its config file, built from pjsip.conf and
/// phoneprov.conf exactly as res_phoneprov would.
#[derive(Debug, Parser)]
#[command(name = "pjprov", version = crate::version::VERSION, about, max_term_width = 110)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve phones their files over HTTP, reloading whenever a config or template file changes.
    Serve(Box<ServeArgs>),
    /// Validate the configuration: print every problem as FILE:LINE: error|warning: MESSAGE.
    Check(CheckArgs),
    /// List every phone with its lines, variables and routes (secrets masked).
    List(ListArgs),
    /// Print exactly what GET /phoneprov/URI returns.
    Render(RenderArgs),
    /// Print a config file as Asterisk reads it (after includes, templates and appends), as JSON.
    Dump(DumpArgs),
    /// Explain why a request gets what it gets: route, phone, profile, template, every access rule.
    Explain(ExplainArgs),
    /// The fleet as the running server sees it: each phone's state, model, firmware, address, last seen.
    Status(StatusArgs),
    /// Ask the running server to tell phones to fetch their files again (SIP NOTIFY through Asterisk).
    Notify(NotifyArgs),
    /// Provisioning windows on the running server: open (`--for 30m`), close, list.
    Enrol(crate::commands::enrol::EnrolArgs),
    /// Whether the running server serves a usable configuration (its /healthz): exit 0 if so, else 1.
    Health(HealthArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) on standard output.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on standard output, or write one page per command to a directory.
    #[command(hide = true)]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell, e.g. bash (load with `source <(pjprov completions bash)`, or install the output as
    /// /usr/share/bash-completion/completions/pjprov).
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write pjprov.1 and a pjprov-COMMAND.1 for every command into DIR instead of printing pjprov.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Where Asterisk's configuration and data live.
#[derive(Debug, Clone, Args)]
pub struct Dirs {
    /// The Asterisk config directory (pjsip.conf, pjsip_wizard.conf, phoneprov.conf, pjprov.conf).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_CONFIG_DIR)]
    pub config_dir: PathBuf,
    /// The Asterisk data directory: templates and static files are under DIR/phoneprov/.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/asterisk")]
    pub data_dir: PathBuf,
    /// Another directory of templates (such as pjprov's bundled ones), searched after DATA_DIR/phoneprov/;
    /// repeat for several.
    #[arg(long, value_name = "DIR")]
    pub templates_dir: Vec<PathBuf>,
    /// Compute time zone variables as of this instant (RFC 3339) instead of now; for tests.
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<jiff::Timestamp>,
    /// pjprov's own state: the inventory of what phones fetch, and the site key generated passwords come
    /// from (site.key). `serve` creates it; without a writable one, it keeps the inventory in memory only.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/var/lib/pjprov",
        env = "PJPROV_STATE_DIR"
    )]
    pub state_dir: PathBuf,
}

impl Dirs {
    pub fn paths(&self) -> pjprov_core::Paths {
        pjprov_core::Paths {
            config_dir: self.config_dir.clone(),
            data_dir: self.data_dir.clone(),
            template_dirs: self.templates_dir.clone(),
        }
    }

    /// How to build a snapshot, with the site key if there is one (never creating it: only `serve` does).
    pub fn build_options(&self) -> pjprov_core::BuildOptions {
        pjprov_core::BuildOptions {
            now: self.now,
            site_key: crate::site_key::read(&self.state_dir).ok(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub dirs: Dirs,
    /// Output format: text (FILE:LINE: error|warning: MESSAGE lines, then a summary) or one JSON document.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// One problem a line, then a summary, for people.
    Text,
    /// {"usable", "errors", "warnings", "phones", "routes", "rejected", "problems": [{"file", "line",
    /// "severity", "message"}], "summary"}, for programs.
    Json,
}

/// Where Asterisk keeps its configuration.
pub const DEFAULT_CONFIG_DIR: &str = "/etc/asterisk";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One block per phone, for people.
    Table,
    /// Everything, for programs.
    Json,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub dirs: Dirs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Show passwords instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub dirs: Dirs,
    /// The address the phone is taken to have connected to (the SERVER variable).
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub server_addr: std::net::IpAddr,
    /// The phone's User-Agent, for templates that choose by model or firmware (UA_MODEL...).
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,
    /// The URI below /phoneprov/, e.g. 0004f2aabbcc.cfg.
    #[arg(value_name = "URI")]
    pub uri: String,
}

/// Where Asterisk's configuration lives.
#[derive(Debug, Clone, Args)]
pub struct ConfigDir {
    /// The Asterisk config directory (pjsip.conf, phoneprov.conf, pjprov.conf).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_CONFIG_DIR)]
    pub config_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub config: ConfigDir,
    /// The file: a name relative to the config directory, or an absolute path.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Show the values of secret keys (password, md5_cred, secret...) instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `--admin-listen`: an address, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminListen {
    /// No admin listener.
    Off,
    /// Listen here.
    On(std::net::SocketAddr),
}

fn admin_listen(text: &str) -> Result<AdminListen, String> {
    if matches!(text.to_ascii_lowercase().as_str(), "none" | "off") {
        return Ok(AdminListen::Off);
    }
    socket_addr(text)
        .map(AdminListen::On)
        .map_err(|why| format!("{why}, or none"))
}

/// An `ADDR:PORT` option: on a mistake, says what a valid value looks like (and what was probably meant).
pub fn socket_addr(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::{IpAddr, SocketAddr};
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    const VALID: &str = "a valid one is an IP address and a port, such as 0.0.0.0:8088 (every IPv4 \
                         address), [::]:8088 (every address) or 192.0.2.10:8088";
    let hint = if let Ok(port) = text.strip_prefix(':').unwrap_or(text).parse::<u16>() {
        format!("a port alone is not enough: did you mean 0.0.0.0:{port}?")
    } else if let Ok(ip) = text.parse::<IpAddr>() {
        match ip {
            IpAddr::V4(_) => format!("the port is missing: did you mean {ip}:8088?"),
            IpAddr::V6(_) => {
                "an IPv6 address goes in brackets, followed by the port: [ADDRESS]:PORT".to_owned()
            }
        }
    } else if let Some((host, _)) = text.rsplit_once(':') {
        if host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok()
        {
            "the port must be a number from 0 to 65535".to_owned()
        } else {
            format!(
                "'{host}' is not an IP address (host names are not looked up: use the address, \
                 e.g. 127.0.0.1 for localhost)"
            )
        }
    } else {
        "no port".to_owned()
    };
    Err(format!("{hint}; {VALID}"))
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub dirs: Dirs,
    /// Address to serve phones plain HTTP on (repeat for several: IPv4 and IPv6). Default: pjprov.conf's
    /// [general] listen, else 0.0.0.0:8088 (Asterisk's HTTP port).
    #[arg(long, value_name = "ADDR:PORT", value_parser = socket_addr)]
    pub listen: Vec<std::net::SocketAddr>,
    /// Serve no plain HTTP (only HTTPS and TFTP), whatever pjprov.conf says.
    #[arg(long)]
    pub no_plain_http: bool,
    /// Address to serve HTTPS on (repeatable); needs a certificate and key.
    #[arg(long, value_name = "ADDR:PORT", value_parser = socket_addr)]
    pub tls_listen: Vec<std::net::SocketAddr>,
    /// The server's certificate chain (PEM); overrides pjprov.conf's tls_cert.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The server's private key (PEM); overrides pjprov.conf's tls_key.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// CA certificates for phones' client certificates (PEM); overrides pjprov.conf's tls_client_ca.
    #[arg(long, value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Address to serve TFTP on (repeatable, e.g. 0.0.0.0:69). TFTP is off unless this or pjprov.conf's
    /// [tftp] listen is given.
    #[arg(long, value_name = "ADDR:PORT", value_parser = socket_addr)]
    pub tftp_listen: Vec<std::net::SocketAddr>,
    /// Address for /metrics and /healthz, or `none`. Default: pjprov.conf's [general] admin_listen, else
    /// 127.0.0.1:8089.
    #[arg(long, value_name = "ADDR:PORT|none", value_parser = admin_listen)]
    pub admin_listen: Option<AdminListen>,
    /// Asterisk's http.conf `prefix`: serve under /PREFIX/phoneprov/ instead of /phoneprov/. Default:
    /// pjprov.conf's [general] prefix, else none.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Seconds a client may take to send a request's headers (or finish a TLS handshake); also how long a
    /// kept-alive connection may stay idle waiting for its next request.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub header_timeout: u64,
    /// Connections open at once.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_connections: usize,
    /// Milliseconds of quiet after a file change before reloading (a file counts as changed once it is
    /// closed after writing, so this only gathers the files of one save).
    #[arg(long, value_name = "MS", default_value_t = 20)]
    pub debounce_ms: u64,
    /// Milliseconds a change that loosens access control (or drops phones) must stay unchanged before it
    /// is served: a file saved in two steps never opens a gap.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub settle_ms: u64,
    /// Seconds open connections may take to finish on SIGTERM.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub shutdown_grace: u64,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (tracing's env-filter syntax); RUST_LOG wins when set.
    #[arg(long, value_name = "FILTER", default_value = "info")]
    pub log_level: String,
    /// KiB of log lines queued for stderr before new ones are dropped (and counted): a stalled log reader
    /// never stalls serving.
    #[arg(long, value_name = "KIB", default_value_t = 8192, hide = true)]
    pub log_queue_kib: usize,
}

/// How the request arrives, for `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainProtocol {
    /// Plain HTTP.
    Http,
    /// HTTPS.
    Https,
    /// TFTP.
    Tftp,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub dirs: Dirs,
    /// The request: a path (/phoneprov/0004f2aabbcc.cfg) or a name below /phoneprov/ (0004f2aabbcc.cfg);
    /// over TFTP, the file name as the phone asks for it.
    #[arg(value_name = "URI")]
    pub uri: String,
    /// The client's address.
    #[arg(long, value_name = "IP", default_value = "192.0.2.1")]
    pub client: std::net::IpAddr,
    /// The client's User-Agent header.
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,
    /// The client presents a verified TLS certificate naming this MAC.
    #[arg(long, value_name = "MAC", value_parser = crate::commands::explain::parse_mac)]
    pub client_cert_mac: Option<pjprov_core::Mac>,
    /// The client's Authorization header (Digest or Basic credentials).
    #[arg(long, value_name = "HEADER")]
    pub authorization: Option<String>,
    /// How the request arrives.
    #[arg(long, value_enum, default_value_t = ExplainProtocol::Http)]
    pub protocol: ExplainProtocol,
    /// The HTTP method.
    #[arg(long, value_name = "METHOD", default_value = "GET")]
    pub method: String,
    /// The address the phone connected to (SERVER).
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub server_addr: std::net::IpAddr,
}

/// How to reach the running server's admin address.
#[derive(Debug, Clone, Args)]
pub struct AdminClient {
    /// The server's admin address (its --admin-listen).
    #[arg(
        long = "admin",
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:8089",
        value_parser = socket_addr
    )]
    pub admin: std::net::SocketAddr,
    /// The [admin] token, for an admin address other than loopback (or set PJPROV_ADMIN_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PJPROV_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub admin: AdminClient,
    /// The clients that asked for files of MACs no phone has, instead of the phones.
    #[arg(long)]
    pub unknown: bool,
    /// Only phones in this state.
    #[arg(long, value_name = "STATE", value_parser = ["current", "stale", "never"])]
    pub state: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub admin: AdminClient,
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    #[command(flatten)]
    pub admin: AdminClient,
    /// The phones whose files changed since they fetched them (the default).
    #[arg(long, conflicts_with_all = ["all", "macs"])]
    pub changed: bool,
    /// Every phone that has fetched its files.
    #[arg(long, conflicts_with = "macs")]
    pub all: bool,
    /// These phones.
    #[arg(value_name = "MAC", value_parser = crate::commands::explain::parse_mac)]
    pub macs: Vec<pjprov_core::Mac>,
}
