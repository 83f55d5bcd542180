//! pjprov's own settings: `pjprov.conf` in the config directory, in Asterisk's dialect (DESIGN.md §7).
//!
//! Every section is optional and so is the file:
//!
//! * `[general]`: `listen`, `tls_listen`, `admin_listen`, `prefix`, `plain_http`, `tls_cert`, `tls_key`,
//!   `tls_client_ca`;
//! * `[acl]`: `permit` / `deny` networks, as Asterisk's ACLs ([`Acl`]), and `acl = NAME` (named ACLs:
//!   `[acl:NAME]` sections here, or Asterisk's acl.conf; `named_acl.rs`);
//! * `[auth]`: how phones prove who they are ([`Policy`] defaults) and the HTTP authentication settings
//!   ([`AuthSettings`]);
//! * `[limits]`: scan throttling ([`Limits`]);
//! * `[tftp]`: `listen`, and the `profiles` whose files may go out over TFTP;
//! * `[realtime]`: how PostgreSQL is followed (`poll`, `listen`, `channel`, `connect_timeout`);
//! * `[profile:NAME]` and `[phone:MAC]`: the policy keys again, for one profile of phoneprov.conf or one
//!   phone;
//! * `[acl:NAME]`: a named ACL (`permit`, `deny`), for `acl = NAME`.
//!
//! These settings guard SIP passwords, so they fail closed: any error in pjprov.conf rejects the whole
//! configuration (a server keeps its last good one), where an error in pjsip.conf only skips an object.

mod acl;
mod ami;
mod enrol;
mod lobby;
mod named_acl;
mod policy;
mod realtime;
mod strictness;
mod values;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use asterisk_config::{Config, Entry, Section};
use rustc_hash::FxHashMap;

pub use acl::{Acl, ListVerdict, NamedList, Rule, Sense, unmap};
pub use ami::{Ami, DEFAULT_QUIET, NotifyMode};
pub use enrol::{Enrol, EnrolMode, Proofs, duration as parse_duration, show as show_duration};
pub use lobby::{Lobby, LobbySettings};
pub use named_acl::{ACL_CONF, AclRef};
pub use policy::{AuthKind, AuthSource, Binding, ClientCert, Patch, Policy, Schemes, Secret};
pub use realtime::Realtime;

use crate::error::{Diagnostic, Error};
use crate::mac::Mac;
use crate::model::{Phone, ProfileId};
use crate::profile::Profile;
use crate::suggest::closest;

/// The name of pjprov's settings file in the config directory.
pub const FILE_NAME: &str = "pjprov.conf";

/// Everything pjprov.conf says.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `[general]`.
    pub general: General,
    /// `[acl]`: who may connect at all (HTTP, HTTPS and TFTP).
    pub acl: Acl,
    /// `[auth]`: settings shared by every policy.
    pub auth: AuthSettings,
    /// `[limits]`.
    pub limits: Limits,
    /// `[tftp]`.
    pub tftp: Tftp,
    /// `[admin]`.
    pub admin: Admin,
    /// `[ami]`, when pjprov.conf has it.
    pub ami: Option<Ami>,
    /// `[realtime]`.
    pub realtime: Realtime,
    default_policy: Policy,
    /// `notify_event` of each profile's `[profile:NAME]`.
    profile_events: Vec<Option<String>>,
    profile_policies: Vec<Policy>,
    /// The name of each profile of `profile_policies` (to compare two snapshots' settings).
    profile_names: Vec<String>,
    /// `lobby` and `lobby_interval` of each profile's `[profile:NAME]`.
    profile_lobbies: Vec<LobbySettings>,
    phone_policies: FxHashMap<Mac, Policy>,
    /// Files besides pjprov.conf these settings were read from (acl.conf and its includes), to watch.
    watch: Vec<PathBuf>,
}

/// `[general]`: where to listen. Values not written are `None` or empty; the command line wins over them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct General {
    /// `listen`: plain HTTP addresses.
    pub listen: Vec<SocketAddr>,
    /// `tls_listen`: HTTPS addresses.
    pub tls_listen: Vec<SocketAddr>,
    /// `admin_listen`: `Some(None)` when written as `none`.
    pub admin_listen: Option<Option<SocketAddr>>,
    /// `prefix`: Asterisk's http.conf prefix.
    pub prefix: Option<String>,
    /// `plain_http = no` turns plain HTTP off.
    pub plain_http: Option<bool>,
    /// `tls_cert`, `tls_key`, `tls_client_ca`.
    pub tls: TlsFiles,
    /// The environment variables templates may read with `ENV`: `env_names`, when `allow_env = yes`
    /// (empty otherwise: ENV is off).
    pub allow_env: Vec<String>,
}

/// Certificate files (paths relative to the config directory are resolved against it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// The server's private key (PEM).
    pub key: Option<PathBuf>,
    /// CA certificates that sign phones' client certificates (PEM); client certificates are asked for only
    /// when this is set.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    /// Every file named (to watch).
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        [&self.cert, &self.key, &self.client_ca]
            .into_iter()
            .filter_map(|p| p.as_deref())
    }
}

/// A Digest algorithm (RFC 7616).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// `MD5`: what most phones support.
    Md5,
    /// `SHA-256`.
    Sha256,
}

impl DigestAlgorithm {
    /// The name used in `WWW-Authenticate`.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }
}

/// Which files need credentials (when a policy asks for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protect {
    /// Files rendered for a phone (they hold its secrets).
    Dynamic,
    /// Every file, static ones too.
    All,
}

/// `[auth]` settings that every policy shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// The Digest and Basic realm.
    pub realm: String,
    /// Digest algorithms offered, in order of preference.
    pub digest_algorithms: Vec<DigestAlgorithm>,
    /// Accept Basic credentials over plain HTTP (they travel in clear text).
    pub basic_without_tls: bool,
    /// Which files need credentials.
    pub protect: Protect,
    /// How long a Digest nonce stays valid.
    pub nonce_lifetime: Duration,
}

impl Default for AuthSettings {
    fn default() -> AuthSettings {
        AuthSettings {
            realm: "pjprov".into(),
            // MD5 first: many phones take the first challenge and know no other algorithm.
            digest_algorithms: vec![DigestAlgorithm::Md5, DigestAlgorithm::Sha256],
            basic_without_tls: false,
            protect: Protect::Dynamic,
            nonce_lifetime: Duration::from_secs(300),
        }
    }
}

/// What happens to a client that harvests many phones' files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HarvestAction {
    /// Log a warning (once per window).
    Log,
    /// Log, and refuse that client as a scanner.
    Refuse,
}

/// `[limits]`: scan throttling. The defaults never trouble a real boot storm: a configured phone never
/// misses, and only distinct unknown MACs count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `throttle = no` turns scan throttling off.
    pub throttle: bool,
    /// The window misses are counted in.
    pub window: Duration,
    /// Misses (distinct unknown MACs, failed authentications) after which answers are delayed.
    pub slow_after: u32,
    /// Misses after which the client is refused.
    pub refuse_after: u32,
    /// Delay added per miss beyond `slow_after` (at most 2 s).
    pub delay: Duration,
    /// How long a refused client stays refused.
    pub ban: Duration,
    /// The status refused clients get: 429 (with `Retry-After`) or 403.
    pub refusal_status: u16,
    /// Distinct phones whose files one client may fetch within `harvest_window` before it is flagged.
    pub harvest_phones: u32,
    /// The harvest window.
    pub harvest_window: Duration,
    /// What flagging does.
    pub harvest_action: HarvestAction,
    /// IPv4 clients are counted per this prefix length.
    pub ipv4_prefix: u8,
    /// IPv6 clients are counted per this prefix length (a host usually owns a /64).
    pub ipv6_prefix: u8,
    /// Clients tracked at most (the least recently seen are forgotten first).
    pub max_clients: usize,
    /// Networks never throttled (a provisioning VLAN behind one NAT address, a monitoring host).
    pub exempt: Acl,
    /// Connections one client (counted per prefix, as above) may hold open at once.
    pub client_connections: u32,
    /// How long a response may wait for a client that does not read it (see `min_send_rate`).
    pub send_timeout: Duration,
    /// Bytes per second a client must read, on average over `send_timeout`, while a response waits for it.
    pub min_send_rate: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            throttle: true,
            window: Duration::from_secs(60),
            slow_after: 10,
            refuse_after: 30,
            delay: Duration::from_millis(200),
            ban: Duration::from_secs(600),
            refusal_status: 429,
            harvest_phones: 200,
            harvest_window: Duration::from_secs(600),
            harvest_action: HarvestAction::Log,
            ipv4_prefix: 32,
            ipv6_prefix: 64,
            max_clients: 65_536,
            exempt: Acl::default(),
            // One NAT'd office booting at once opens a few hundred connections from one address.
            client_connections: 512,
            send_timeout: Duration::from_secs(30),
            min_send_rate: 128,
        }
    }
}

/// `[tftp]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tftp {
    /// `listen`: TFTP addresses (TFTP is off when there are none, unless the command line gives one).
    pub listen: Vec<SocketAddr>,
    /// For each profile (by index), whether its files may be served over TFTP.
    pub profiles: Vec<bool>,
    /// Whether `profiles` was written at all (TFTP on without it serves nothing: a startup warning).
    pub profiles_set: bool,
    /// Transfers one client address may have running at once.
    pub client_transfers: u32,
    /// How long one transfer may take in all.
    pub transfer_lifetime: Duration,
}

impl Default for Tftp {
    fn default() -> Tftp {
        Tftp {
            listen: Vec::new(),
            profiles: Vec::new(),
            profiles_set: false,
            client_transfers: 64,
            transfer_lifetime: Duration::from_secs(600),
        }
    }
}

/// `[admin]`: the admin address (`/metrics`, `/healthz`, the API).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admin {
    /// `token`: a bearer token that lets a client other than loopback use what changes state.
    pub token: Option<Secret>,
}

impl Tftp {
    /// Whether `profile`'s files may be served over TFTP.
    pub fn allows(&self, profile: ProfileId) -> bool {
        self.profiles.get(profile.index()).copied().unwrap_or(false)
    }
}

impl Settings {
    /// The policy for a file of `profile`, asked for with `mac` (the phone's, or the MAC in the name).
    pub fn policy(&self, profile: ProfileId, mac: Option<Mac>) -> &Policy {
        mac.and_then(|mac| self.phone_policies.get(&mac))
            .or_else(|| self.profile_policies.get(profile.index()))
            .unwrap_or(&self.default_policy)
    }

    /// Whether any policy (`[auth]`, a profile's, a phone's) holds credentials back by enrolment
    /// (`enrol = window` or `proof`): without one there is no enrolment state to keep.
    pub fn uses_enrolment(&self) -> bool {
        std::iter::once(&self.default_policy)
            .chain(&self.profile_policies)
            .chain(self.phone_policies.values())
            .any(|policy| policy.enrol.mode != EnrolMode::Open)
    }

    /// The strictest of the policies of `profiles` (the profiles sharing a file-name shape): what a MAC that
    /// is no phone's is judged by, so that its answer is the one a real phone of the strictest of them would
    /// get, and tells nothing about which profile, if any, the MAC belongs to. Ties go to the first.
    pub fn strictest(&self, profiles: &[ProfileId]) -> (Option<ProfileId>, &Policy) {
        let mut best: (Option<ProfileId>, &Policy) = (None, &self.default_policy);
        for &profile in profiles {
            let policy = self.policy(profile, None);
            if best.0.is_none() || policy.rank() > best.1.rank() {
                best = (Some(profile), policy);
            }
        }
        best
    }

    /// The files besides pjprov.conf these settings come from (acl.conf, its includes), which a reload
    /// watcher must watch; acl.conf is listed even when it does not exist (creating it matters).
    pub fn watch_files(&self) -> &[PathBuf] {
        &self.watch
    }

    /// The lobby keys of `profile` (`[profile:NAME] lobby`, `lobby_interval`).
    pub fn lobby(&self, profile: ProfileId) -> &LobbySettings {
        static NONE: std::sync::OnceLock<LobbySettings> = std::sync::OnceLock::new();
        self.profile_lobbies
            .get(profile.index())
            .unwrap_or_else(|| NONE.get_or_init(LobbySettings::default))
    }

    /// The SIP event `[profile:NAME] notify_event` names for `profile`'s phones, if any.
    pub fn notify_event(&self, profile: ProfileId) -> Option<&str> {
        self.profile_events.get(profile.index())?.as_deref()
    }

    /// The policy outside any profile (`[auth]` alone).
    pub fn default_policy(&self) -> &Policy {
        &self.default_policy
    }

    /// True when some policy asks for credentials.
    pub fn any_credentials(&self) -> bool {
        self.default_policy.needs_credentials()
            || self.profile_policies.iter().any(Policy::needs_credentials)
            || self.phone_policies.values().any(Policy::needs_credentials)
    }

    /// The names `ENV` may read, from pjprov.conf's `[general]` alone (`allow_env = yes` and `env_names`):
    /// what setvars and route patterns need before the rest of pjprov.conf can be read. Errors are
    /// reported by [`Settings::read`].
    pub fn allowed_env(config: &Config) -> Vec<String> {
        let mut on = false;
        let mut names = Vec::new();
        for section in config
            .sections()
            .iter()
            .filter(|s| !s.template && s.name.eq_ignore_ascii_case("general"))
        {
            for entry in section.entries() {
                if entry.key.eq_ignore_ascii_case("allow_env") {
                    on = values::boolean(&entry.value).unwrap_or(false);
                } else if entry.key.eq_ignore_ascii_case("env_names") {
                    names.extend(values::list(&entry.value).map(str::to_owned));
                }
            }
        }
        if on { names } else { Vec::new() }
    }

    /// Reads pjprov.conf by itself, before profiles and phones are known: what a server needs to start
    /// listening when the rest of the configuration is not usable yet. The defaults when there is no
    /// file; `None` when the file cannot be used.
    pub fn read_alone(config_dir: &Path) -> Option<Settings> {
        let loaded = asterisk_config::Loader::new(config_dir).load(FILE_NAME);
        if !loaded.valid {
            // Absent: the defaults. There but unreadable or invalid: nothing, never the defaults.
            return loaded.missing.then(Settings::default);
        }
        Settings::read(Some(&loaded.config), config_dir, &[], &[], &mut Vec::new())
    }

    /// Reads pjprov.conf (`config`, `None` when there is none) for these profiles and phones. Any error
    /// makes it `None`: the diagnostics say why.
    pub fn read(
        config: Option<&Config>,
        config_dir: &Path,
        profiles: &[Profile],
        phones: &[std::sync::Arc<Phone>],
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Settings> {
        let mut settings = Settings {
            profile_policies: vec![Policy::default(); profiles.len()],
            profile_names: profiles.iter().map(|p| p.name.clone()).collect(),
            profile_lobbies: vec![LobbySettings::default(); profiles.len()],
            ..Settings::default()
        };
        settings.tftp.profiles = vec![false; profiles.len()];
        let mut acls = named_acl::Definitions::new(config_dir);
        settings.watch = acls.watch().to_vec();
        let Some(config) = config else {
            return Some(settings);
        };
        let mut reader = Reader {
            config,
            config_dir,
            diags,
            errors: 0,
        };
        let mut auth_patch = Patch::default();
        let mut profile_patches: Vec<(&Section, String, Patch, ProfileOnly)> = Vec::new();
        let mut phone_patches: Vec<(&Section, Mac, Patch)> = Vec::new();
        let mut tftp_profiles: Option<(&Entry, String)> = None;
        // `acl = NAME` of [acl]: resolved once every [acl:NAME] section is known.
        let mut global_acls: Vec<AclRef> = Vec::new();
        for section in config.sections().iter().filter(|s| !s.template) {
            let name = section.name.as_str();
            match name.to_ascii_lowercase().as_str() {
                "general" => reader.general(section, &mut settings.general),
                "acl" => reader.acl(section, &mut settings.acl, &mut global_acls),
                lower if lower.starts_with("acl:") => reader.named_acl_section(section, &mut acls),
                "auth" => {
                    auth_patch = reader.auth(section, &mut settings.auth);
                }
                "limits" => reader.limits(section, &mut settings.limits),
                "tftp" => {
                    for entry in section.entries() {
                        match entry.key.to_ascii_lowercase().as_str() {
                            "listen" => {
                                if let Some(addrs) =
                                    reader.value(section, entry, values::socket_addrs)
                                {
                                    settings.tftp.listen.extend(addrs);
                                }
                            }
                            "profiles" => tftp_profiles = Some((entry, entry.value.to_string())),
                            "client_transfers" => set(
                                &mut settings.tftp.client_transfers,
                                reader.value(section, entry, |t| count(t, 1)),
                            ),
                            "transfer_lifetime" => set(
                                &mut settings.tftp.transfer_lifetime,
                                reader.value(section, entry, |t| values::seconds(t, 5, 86_400)),
                            ),
                            _ => reader.unknown_key(section, entry, TFTP_KEYS),
                        }
                    }
                }
                "realtime" => reader.realtime(section, &mut settings.realtime),
                "admin" => {
                    for entry in section.entries() {
                        match entry.key.to_ascii_lowercase().as_str() {
                            "token" => {
                                let token = entry.value.trim();
                                if token.len() < 16 {
                                    let at = entry_location(config, entry);
                                    reader.error(
                                        at,
                                        "[admin]",
                                        "token",
                                        "must be at least 16 characters (make one with: head -c 24 /dev/urandom | base64)"
                                            .into(),
                                    );
                                } else {
                                    settings.admin.token = Some(Secret::new(token));
                                }
                            }
                            _ => reader.unknown_key(section, entry, &["token"]),
                        }
                    }
                }
                lower if lower.starts_with("profile:") => {
                    let profile = name["profile:".len()..].trim().to_owned();
                    let (patch, own) = reader.profile_section(section);
                    profile_patches.push((section, profile, patch.implied_auth(), own));
                }
                "ami" => {
                    let at = section_location(config, section);
                    match reader.ami(section).resolve() {
                        Ok(ami) => settings.ami = Some(ami),
                        Err((key, why)) => reader.error(at, "[ami]", key, why),
                    }
                }
                lower if lower.starts_with("phone:") => {
                    let text = name["phone:".len()..].trim();
                    match Mac::parse(text) {
                        Some(mac) => {
                            let patch = reader.patch(section).implied_auth();
                            phone_patches.push((section, mac, patch));
                        }
                        None => reader.error(
                            section_location(config, section),
                            &format!("[{name}]"),
                            "",
                            format!("'{text}' is not a MAC address (write [phone:0004f2aabbcc])"),
                        ),
                    }
                }
                _ => {
                    let at = section_location(config, section);
                    reader.errors += 1;
                    reader.diags.push(Diagnostic::new(
                        at.0,
                        at.1,
                        Error::UnknownSettingsSection {
                            name: name.to_owned(),
                            suggestion: closest(
                                name,
                                &[
                                    "general",
                                    "acl",
                                    "acl:NAME",
                                    "auth",
                                    "limits",
                                    "tftp",
                                    "admin",
                                    "ami",
                                    "realtime",
                                    "profile:NAME",
                                    "phone:MAC",
                                ],
                            )
                            .map(str::to_owned),
                        },
                    ));
                }
            }
        }

        // Named ACLs: those [acl] names, then each policy's below.
        reader.resolve_acls(&global_acls, &mut settings.acl, &mut acls);
        // Policies: defaults, then [auth], then [profile:NAME], then [phone:MAC].
        match auth_patch.clone().implied_auth().resolve() {
            Ok(mut policy) => {
                if let Some(refs) = &auth_patch.acl {
                    reader.resolve_acls(refs, &mut policy.acl, &mut acls);
                }
                settings.default_policy = policy;
            }
            Err(why) => {
                let at = config
                    .section("auth")
                    .map_or((config_file(config), 0), |s| section_location(config, s));
                reader.error(at, "[auth]", "auth", why);
            }
        }
        let auth_patch = auth_patch.implied_auth();
        settings.profile_policies = vec![settings.default_policy.clone(); profiles.len()];
        let mut merged_profiles: Vec<Patch> = vec![auth_patch.clone(); profiles.len()];
        settings.profile_events = vec![None; profiles.len()];
        for (section, name, patch, own) in &profile_patches {
            let at = section_location(config, section);
            match profiles
                .iter()
                .position(|p| p.name.eq_ignore_ascii_case(name))
            {
                Some(index) => {
                    settings.profile_events[index] = own.event.clone();
                    settings.profile_lobbies[index] = own.lobby.clone();
                    let merged = auth_patch.then(patch);
                    match merged.resolve() {
                        Ok(mut policy) => {
                            if let Some(refs) = &merged.acl {
                                reader.resolve_acls(refs, &mut policy.acl, &mut acls);
                            }
                            settings.profile_policies[index] = policy;
                        }
                        Err(why) => reader.error(at, &format!("[profile:{name}]"), "auth", why),
                    }
                    merged_profiles[index] = merged;
                }
                None => reader.warn(
                    at,
                    &format!("[profile:{name}]"),
                    format!(
                        "phoneprov.conf has no profile '{name}'{}; this section applies to nothing",
                        closest(
                            name,
                            &profiles.iter().map(|p| p.name.as_str()).collect::<Vec<_>>()
                        )
                        .map(|s| format!(" (did you mean '{s}'?)"))
                        .unwrap_or_default()
                    ),
                ),
            }
        }
        for (section, mac, patch) in &phone_patches {
            let at = section_location(config, section);
            let label = format!("[{}]", section.name);
            let Some(phone) = phones.iter().find(|p| Mac::parse(&p.mac) == Some(*mac)) else {
                reader.warn(
                    at,
                    &label,
                    format!(
                        "no phone in pjsip.conf has MAC {mac}; this section applies to nothing"
                    ),
                );
                continue;
            };
            let base = merged_profiles
                .get(phone.profile.index())
                .cloned()
                .unwrap_or_else(|| auth_patch.clone());
            let merged = base.then(patch);
            match merged.resolve() {
                Ok(mut policy) => {
                    if let Some(refs) = &merged.acl {
                        reader.resolve_acls(refs, &mut policy.acl, &mut acls);
                    }
                    settings.phone_policies.insert(*mac, policy);
                }
                Err(why) => reader.error(at, &label, "auth", why),
            }
        }

        let tftp_at = tftp_profiles
            .as_ref()
            .map(|(entry, _)| entry_location(config, entry));
        settings.tftp.profiles_set = tftp_profiles.is_some();
        if let Some((entry, text)) = tftp_profiles {
            let at = entry_location(config, entry);
            for name in values::list(&text) {
                if name == "*" {
                    settings.tftp.profiles.iter_mut().for_each(|p| *p = true);
                    continue;
                }
                match profiles
                    .iter()
                    .position(|p| p.name.eq_ignore_ascii_case(name))
                {
                    Some(index) => settings.tftp.profiles[index] = true,
                    None => reader.warn(
                        at.clone(),
                        "[tftp]",
                        format!("profiles: phoneprov.conf has no profile '{name}'"),
                    ),
                }
            }
        }
        reader.unused_acls(&acls);
        settings.watch = acls.watch().to_vec();
        reader.consistency(&settings, profiles, phones, tftp_at);
        (reader.errors == 0).then_some(settings)
    }
}

type At = (PathBuf, u32);

fn config_file(config: &Config) -> PathBuf {
    config
        .files()
        .first()
        .map(|f| f.to_path_buf())
        .unwrap_or_default()
}

fn section_location(config: &Config, section: &Section) -> At {
    (config.file(section.file).to_owned(), section.line)
}

fn entry_location(config: &Config, entry: &Entry) -> At {
    (config.file(entry.file).to_owned(), entry.line)
}

/// The keys of `[profile:NAME]` that are no policy keys.
#[derive(Debug, Default)]
struct ProfileOnly {
    event: Option<String>,
    lobby: LobbySettings,
}

/// Reads sections, counting errors.
struct Reader<'a> {
    config: &'a Config,
    config_dir: &'a Path,
    diags: &'a mut Vec<Diagnostic>,
    errors: usize,
}

const GENERAL_KEYS: &[&str] = &[
    "allow_env",
    "env_names",
    "listen",
    "tls_listen",
    "admin_listen",
    "prefix",
    "plain_http",
    "tls_cert",
    "tls_key",
    "tls_client_ca",
];
const POLICY_KEYS: &[&str] = &[
    "acl",
    "auth",
    "enrol",
    "enrol_grace",
    "enrol_proof",
    "first_boot_window",
    "username",
    "password",
    "scheme",
    "user_agent",
    "client_cert",
];
const AUTH_ONLY_KEYS: &[&str] = &[
    "realm",
    "digest_algorithms",
    "basic_without_tls",
    "protect",
    "nonce_lifetime",
];
const TFTP_KEYS: &[&str] = &[
    "listen",
    "profiles",
    "client_transfers",
    "transfer_lifetime",
];
const LIMIT_KEYS: &[&str] = &[
    "throttle",
    "scan_window",
    "scan_slow_after",
    "scan_refuse_after",
    "scan_delay_ms",
    "scan_ban",
    "scan_status",
    "harvest_phones",
    "harvest_window",
    "harvest_action",
    "ipv4_prefix",
    "ipv6_prefix",
    "max_clients",
    "exempt",
    "client_connections",
    "send_timeout",
    "min_send_rate",
];

impl Reader<'_> {
    fn error(&mut self, at: At, section: &str, key: &str, message: String) {
        self.errors += 1;
        self.diags.push(Diagnostic::new(
            at.0,
            at.1,
            Error::InvalidSetting {
                section: section.to_owned(),
                key: key.to_owned(),
                message,
            },
        ));
    }

    fn warn(&mut self, at: At, section: &str, message: String) {
        self.diags.push(Diagnostic::new(
            at.0,
            at.1,
            Error::SettingNote {
                section: section.to_owned(),
                message,
            },
        ));
    }

    /// Parses an entry's value; an error is reported (without the value when the key is a password).
    fn value<T>(
        &mut self,
        section: &Section,
        entry: &Entry,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(&entry.value) {
            Ok(value) => Some(value),
            Err(message) => {
                let at = entry_location(self.config, entry);
                self.error(at, &format!("[{}]", section.name), &entry.key, message);
                None
            }
        }
    }

    fn unknown_key(&mut self, section: &Section, entry: &Entry, known: &[&str]) {
        self.errors += 1;
        let at = entry_location(self.config, entry);
        self.diags.push(Diagnostic::new(
            at.0,
            at.1,
            Error::UnknownSetting {
                section: section.name.to_string(),
                key: entry.key.to_string(),
                suggestion: closest(&entry.key, known).map(str::to_owned),
            },
        ));
    }

    fn general(&mut self, section: &Section, general: &mut General) {
        let mut env_on: Option<bool> = None;
        let mut env_names: Vec<String> = Vec::new();
        for entry in section.entries() {
            match entry.key.to_ascii_lowercase().as_str() {
                "listen" => {
                    if let Some(addrs) = self.value(section, entry, values::socket_addrs) {
                        general.listen.extend(addrs);
                    }
                }
                "tls_listen" => {
                    if let Some(addrs) = self.value(section, entry, values::socket_addrs) {
                        general.tls_listen.extend(addrs);
                    }
                }
                "admin_listen" => {
                    let parsed = self.value(section, entry, |text| {
                        if matches!(
                            text.trim().to_ascii_lowercase().as_str(),
                            "none" | "off" | "no"
                        ) {
                            Ok(None)
                        } else {
                            values::socket_addr(text).map(Some)
                        }
                    });
                    if let Some(addr) = parsed {
                        general.admin_listen = Some(addr);
                    }
                }
                "prefix" => general.prefix = Some(entry.value.trim().to_owned()),
                "allow_env" => {
                    if let Some(on) = self.value(section, entry, values::boolean) {
                        env_on = Some(on);
                    }
                }
                "env_names" => {
                    let names: Vec<String> =
                        values::list(&entry.value).map(str::to_owned).collect();
                    if names
                        .iter()
                        .any(|n| !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                    {
                        let at = entry_location(self.config, entry);
                        self.error(
                            at,
                            "[general]",
                            "env_names",
                            "must be environment variable names, comma-separated (letters, digits, _)".into(),
                        );
                    } else {
                        env_names.extend(names);
                    }
                }
                "plain_http" => {
                    general.plain_http = self
                        .value(section, entry, values::boolean)
                        .or(general.plain_http);
                }
                "tls_cert" => {
                    general.tls.cert = self.value(section, entry, |t| self_path(self.config_dir, t))
                }
                "tls_key" => {
                    general.tls.key = self.value(section, entry, |t| self_path(self.config_dir, t))
                }
                "tls_client_ca" => {
                    general.tls.client_ca =
                        self.value(section, entry, |t| self_path(self.config_dir, t));
                }
                _ => self.unknown_key(section, entry, GENERAL_KEYS),
            }
        }
        if env_on == Some(true) {
            general.allow_env = env_names;
        }
        let tls = general.tls.clone();
        let at = section_location(self.config, section);
        match (&tls.cert, &tls.key) {
            (Some(_), None) => self.error(
                at.clone(),
                "[general]",
                "tls_key",
                "tls_cert is set but tls_key is not: both are needed".into(),
            ),
            (None, Some(_)) => self.error(
                at.clone(),
                "[general]",
                "tls_cert",
                "tls_key is set but tls_cert is not: both are needed".into(),
            ),
            _ => {}
        }
        if !general.tls_listen.is_empty() && tls.cert.is_none() {
            self.error(
                at.clone(),
                "[general]",
                "tls_listen",
                "HTTPS needs tls_cert and tls_key".into(),
            );
        }
        for (key, path) in [
            ("tls_cert", &tls.cert),
            ("tls_key", &tls.key),
            ("tls_client_ca", &tls.client_ca),
        ] {
            if let Some(path) = path
                && let Err(e) = std::fs::File::open(path)
            {
                self.error(
                    at.clone(),
                    "[general]",
                    key,
                    format!("cannot read {}: {e}", path.display()),
                );
            }
        }
    }

    fn acl(&mut self, section: &Section, acl: &mut Acl, named: &mut Vec<AclRef>) {
        for entry in section.entries() {
            let sense = match entry.key.to_ascii_lowercase().as_str() {
                "permit" => Sense::Permit,
                "deny" => Sense::Deny,
                "acl" => {
                    self.acl_names(section, entry, named);
                    continue;
                }
                _ => {
                    self.unknown_key(section, entry, &["permit", "deny", "acl"]);
                    continue;
                }
            };
            self.value(section, entry, |text| acl.push(sense, text));
        }
        if acl.only_permits() {
            let at = section_location(self.config, section);
            self.warn(
                at,
                "[acl]",
                "only permit rules: an address no rule matches is allowed (as in Asterisk), so this list allows \
                 everyone; put 'deny = 0.0.0.0/0' and 'deny = ::/0' first"
                    .into(),
            );
        }
    }

    /// A `[profile:NAME]` section: the policy keys, `notify_event`, `lobby` and `lobby_interval`.
    fn profile_section(&mut self, section: &Section) -> (Patch, ProfileOnly) {
        let mut patch = Patch::default();
        let mut own = ProfileOnly::default();
        for entry in section.entries() {
            if self.policy_key(section, entry, &mut patch) {
                continue;
            }
            match entry.key.to_ascii_lowercase().as_str() {
                "notify_event" => {
                    own.event = self.value(section, entry, ami::event).or(own.event);
                }
                // Issue #18: the lobby of the profile's per-phone files.
                "lobby" => {
                    if let Some(lobby) = self.value(section, entry, lobby::lobby) {
                        own.lobby.lobby = lobby;
                        own.lobby.at = Some(entry_location(self.config, entry));
                    }
                }
                "lobby_interval" => set(
                    &mut own.lobby.interval,
                    self.value(section, entry, |t| {
                        enrol::duration(t, Duration::from_secs(60), Duration::from_secs(86_400))
                    }),
                ),
                _ => {
                    let known: Vec<&str> = POLICY_KEYS
                        .iter()
                        .copied()
                        .chain(["notify_event", "lobby", "lobby_interval"])
                        .collect();
                    self.unknown_key(section, entry, &known);
                }
            }
        }
        (patch, own)
    }

    /// `[ami]`.
    fn ami(&mut self, section: &Section) -> ami::AmiPatch {
        let mut patch = ami::AmiPatch::default();
        for entry in section.entries() {
            match entry.key.to_ascii_lowercase().as_str() {
                "host" => {
                    patch.host = self
                        .value(section, entry, |t| {
                            let t = t.trim().trim_start_matches('[').trim_end_matches(']');
                            if t.is_empty() || t.contains(char::is_whitespace) {
                                Err("must be a host name or an address".to_owned())
                            } else {
                                Ok(t.to_owned())
                            }
                        })
                        .or(patch.host);
                }
                "port" => {
                    patch.port = self
                        .value(section, entry, |t| {
                            values::number(t, 1, 65_535).map(|n| n as u16)
                        })
                        .or(patch.port);
                }
                "username" => patch.username = Some(entry.value.trim().to_owned()),
                "secret" => patch.secret = Some(Secret::new(entry.value.to_string())),
                "tls" => patch.tls = self.value(section, entry, values::boolean).or(patch.tls),
                "tls_ca" => {
                    patch.tls_ca = self
                        .value(section, entry, |t| self_path(self.config_dir, t))
                        .or(patch.tls_ca);
                }
                "notify" => {
                    patch.notify = self
                        .value(section, entry, |t| {
                            values::choice(
                                t,
                                &[("changed", NotifyMode::Changed), ("off", NotifyMode::Off)],
                            )
                        })
                        .or(patch.notify);
                }
                "rate" => {
                    patch.rate = self.value(section, entry, |t| count(t, 1)).or(patch.rate);
                }
                "quiet" => {
                    patch.quiet = self
                        .value(section, entry, |t| values::seconds(t, 0, 3_600))
                        .or(patch.quiet);
                }
                "event" => patch.event = self.value(section, entry, ami::event).or(patch.event),
                _ => self.unknown_key(section, entry, ami::AMI_KEYS),
            }
        }
        patch
    }

    /// The policy keys of a section; other keys are errors.
    fn patch(&mut self, section: &Section) -> Patch {
        let mut patch = Patch::default();
        for entry in section.entries() {
            if !self.policy_key(section, entry, &mut patch) {
                self.unknown_key(section, entry, POLICY_KEYS);
            }
        }
        patch
    }

    /// Reads one policy key into `patch`; false when `entry` is not one.
    fn policy_key(&mut self, section: &Section, entry: &Entry, patch: &mut Patch) -> bool {
        match entry.key.to_ascii_lowercase().as_str() {
            "acl" => {
                // Several `acl =` lines of one section add up; a later section's replace them.
                let refs = patch.acl.get_or_insert_with(Vec::new);
                self.acl_names(section, entry, refs);
            }
            // Issue #18: enrolment.
            "enrol" => patch.enrol = self.value(section, entry, enrol::mode).or(patch.enrol),
            "first_boot_window" => {
                patch.first_boot_window = self
                    .value(section, entry, enrol::window)
                    .map(Some)
                    .unwrap_or(patch.first_boot_window);
            }
            "enrol_grace" => {
                patch.enrol_grace = self
                    .value(section, entry, |t| {
                        enrol::duration(t, Duration::from_secs(10), Duration::from_secs(86_400))
                    })
                    .or(patch.enrol_grace);
            }
            "enrol_proof" => {
                patch.enrol_proof = self
                    .value(section, entry, enrol::proofs)
                    .or(patch.enrol_proof);
            }
            "auth" => {
                patch.auth = self
                    .value(section, entry, |t| {
                        values::choice(
                            t,
                            &[
                                ("none", AuthKind::None),
                                ("static", AuthKind::Static),
                                ("sip", AuthKind::Sip),
                            ],
                        )
                    })
                    .or(patch.auth);
            }
            "username" => patch.username = Some(entry.value.trim().to_owned()),
            "password" => patch.password = Some(Secret::new(entry.value.to_string())),
            "scheme" => {
                patch.schemes = self.value(section, entry, schemes).or(patch.schemes);
            }
            "user_agent" => {
                patch.user_agent = self
                    .value(section, entry, |t| {
                        values::choice(
                            t,
                            &[
                                ("off", Binding::Off),
                                ("log", Binding::Log),
                                ("enforce", Binding::Enforce),
                            ],
                        )
                    })
                    .or(patch.user_agent);
            }
            "client_cert" => {
                patch.client_cert = self
                    .value(section, entry, |t| {
                        values::choice(
                            t,
                            &[
                                ("off", ClientCert::Off),
                                ("optional", ClientCert::Optional),
                                ("require", ClientCert::Require),
                            ],
                        )
                    })
                    .or(patch.client_cert);
            }
            _ => return false,
        }
        true
    }

    fn auth(&mut self, section: &Section, auth: &mut AuthSettings) -> Patch {
        let mut patch = Patch::default();
        for entry in section.entries() {
            if self.policy_key(section, entry, &mut patch) {
                continue;
            }
            match entry.key.to_ascii_lowercase().as_str() {
                "realm" => {
                    if let Some(realm) = self.value(section, entry, realm) {
                        auth.realm = realm;
                    }
                }
                "digest_algorithms" => {
                    if let Some(list) = self.value(section, entry, algorithms) {
                        auth.digest_algorithms = list;
                    }
                }
                "basic_without_tls" => {
                    if let Some(yes) = self.value(section, entry, values::boolean) {
                        auth.basic_without_tls = yes;
                    }
                }
                "protect" => {
                    if let Some(p) = self.value(section, entry, |t| {
                        values::choice(t, &[("dynamic", Protect::Dynamic), ("all", Protect::All)])
                    }) {
                        auth.protect = p;
                    }
                }
                "nonce_lifetime" => {
                    if let Some(d) = self.value(section, entry, |t| values::seconds(t, 10, 86_400))
                    {
                        auth.nonce_lifetime = d;
                    }
                }
                _ => {
                    let known: Vec<&str> =
                        POLICY_KEYS.iter().chain(AUTH_ONLY_KEYS).copied().collect();
                    self.unknown_key(section, entry, &known);
                }
            }
        }
        patch
    }

    fn realtime(&mut self, section: &Section, out: &mut Realtime) {
        for entry in section.entries() {
            match entry.key.to_ascii_lowercase().as_str() {
                "poll" => set(&mut out.poll, self.value(section, entry, realtime::poll)),
                "listen" => set(&mut out.listen, self.value(section, entry, values::boolean)),
                "channel" => set(
                    &mut out.channel,
                    self.value(section, entry, realtime::channel),
                ),
                "connect_timeout" => set(
                    &mut out.connect_timeout,
                    self.value(section, entry, |t| values::seconds(t, 1, 300)),
                ),
                _ => self.unknown_key(section, entry, realtime::KEYS),
            }
        }
    }

    fn limits(&mut self, section: &Section, limits: &mut Limits) {
        for entry in section.entries() {
            let key = entry.key.to_ascii_lowercase();
            match key.as_str() {
                "throttle" => set(
                    &mut limits.throttle,
                    self.value(section, entry, values::boolean),
                ),
                "scan_window" => set(
                    &mut limits.window,
                    self.value(section, entry, |t| values::seconds(t, 1, 86_400)),
                ),
                "scan_slow_after" => set(
                    &mut limits.slow_after,
                    self.value(section, entry, |t| count(t, 0)),
                ),
                "scan_refuse_after" => set(
                    &mut limits.refuse_after,
                    self.value(section, entry, |t| count(t, 1)),
                ),
                "scan_delay_ms" => set(
                    &mut limits.delay,
                    self.value(section, entry, |t| {
                        values::number(t, 0, 2_000).map(Duration::from_millis)
                    }),
                ),
                "scan_ban" => set(
                    &mut limits.ban,
                    self.value(section, entry, |t| values::seconds(t, 1, 7 * 86_400)),
                ),
                "scan_status" => set(
                    &mut limits.refusal_status,
                    self.value(section, entry, |t| {
                        values::choice(t, &[("429", 429), ("403", 403)])
                    }),
                ),
                "harvest_phones" => set(
                    &mut limits.harvest_phones,
                    self.value(section, entry, |t| count(t, 1)),
                ),
                "harvest_window" => {
                    set(
                        &mut limits.harvest_window,
                        self.value(section, entry, |t| values::seconds(t, 1, 86_400)),
                    );
                }
                "harvest_action" => set(
                    &mut limits.harvest_action,
                    self.value(section, entry, |t| {
                        values::choice(
                            t,
                            &[
                                ("log", HarvestAction::Log),
                                ("refuse", HarvestAction::Refuse),
                            ],
                        )
                    }),
                ),
                "ipv4_prefix" => set(
                    &mut limits.ipv4_prefix,
                    self.value(section, entry, |t| {
                        values::number(t, 8, 32).map(|n| n as u8)
                    }),
                ),
                "ipv6_prefix" => set(
                    &mut limits.ipv6_prefix,
                    self.value(section, entry, |t| {
                        values::number(t, 16, 128).map(|n| n as u8)
                    }),
                ),
                "max_clients" => set(
                    &mut limits.max_clients,
                    self.value(section, entry, |t| {
                        values::number(t, 16, 10_000_000).map(|n| n as usize)
                    }),
                ),
                "exempt" => {
                    self.value(section, entry, |t| limits.exempt.push(Sense::Permit, t));
                }
                "client_connections" => set(
                    &mut limits.client_connections,
                    self.value(section, entry, |t| {
                        values::number(t, 1, 1_000_000).map(|n| n as u32)
                    }),
                ),
                "send_timeout" => set(
                    &mut limits.send_timeout,
                    self.value(section, entry, |t| values::seconds(t, 1, 3_600)),
                ),
                "min_send_rate" => set(
                    &mut limits.min_send_rate,
                    self.value(section, entry, |t| values::number(t, 1, 1 << 30)),
                ),
                _ => self.unknown_key(section, entry, LIMIT_KEYS),
            }
        }
        if limits.slow_after > limits.refuse_after {
            let at = section_location(self.config, section);
            self.error(
                at,
                "[limits]",
                "scan_slow_after",
                format!(
                    "scan_slow_after ({}) is above scan_refuse_after ({}): clients would be refused before being slowed",
                    limits.slow_after, limits.refuse_after
                ),
            );
        }
    }

    /// Warnings about settings that cannot work together.
    fn consistency(
        &mut self,
        settings: &Settings,
        profiles: &[Profile],
        phones: &[std::sync::Arc<Phone>],
        tftp_at: Option<At>,
    ) {
        let file = config_file(self.config);
        let tls = !settings.general.tls_listen.is_empty() || settings.general.tls.cert.is_some();
        let policies = settings
            .profile_policies
            .iter()
            .chain(settings.phone_policies.values())
            .chain(std::iter::once(&settings.default_policy));
        let mut basic_only = false;
        let mut require_cert = false;
        for policy in policies {
            basic_only |= policy.needs_credentials() && !policy.schemes.digest;
            require_cert |= policy.client_cert == ClientCert::Require;
        }
        if basic_only && !tls && !settings.auth.basic_without_tls {
            self.warn(
                (file.clone(), 0),
                "[auth]",
                "scheme = basic is accepted only over TLS and no TLS is set up: these phones cannot authenticate \
                 (add tls_cert/tls_key and tls_listen, or scheme = digest)"
                    .into(),
            );
        }
        if require_cert && settings.general.tls.client_ca.is_none() {
            self.warn(
                (file.clone(), 0),
                "[auth]",
                "client_cert = require without tls_client_ca: no certificate can be verified, so these files are \
                 refused to everyone"
                    .into(),
            );
        }
        // Issue #18: enrolment settings that cannot work as written.
        let mut unreachable_proof = false;
        let mut blind_agent = false;
        for policy in settings
            .profile_policies
            .iter()
            .chain(settings.phone_policies.values())
            .chain(std::iter::once(&settings.default_policy))
        {
            let enrol = &policy.enrol;
            if enrol.mode == EnrolMode::Open {
                continue;
            }
            unreachable_proof |= enrol.proofs.credentials
                && !enrol.proofs.certificate
                && !enrol.proofs.user_agent
                && !policy.needs_credentials();
            blind_agent |= enrol.proofs.user_agent && policy.user_agent == Binding::Off;
        }
        if unreachable_proof {
            self.warn(
                (file.clone(), 0),
                "enrol_proof",
                "enrol = window or proof with auth = none and only credentials as proof: pjprov never challenges                  for credentials under auth = none, so only phones that send them unasked can prove themselves                  (set auth = sip: the window then stands in for the password a phone in its box does not have)"
                    .into(),
            );
        }
        if blind_agent {
            self.warn(
                (file.clone(), 0),
                "enrol_proof",
                "enrol_proof names user_agent where user_agent = off: the User-Agent is not looked at, so it proves                  nothing"
                    .into(),
            );
        }
        for phone in phones {
            let mac = Mac::parse(&phone.mac);
            if settings.policy(phone.profile, mac).auth == AuthSource::Sip
                && !phone
                    .lines
                    .iter()
                    .any(|l| l.vars.get("SECRET").is_some_and(|s| !s.is_empty()))
            {
                let line = &phone.lines[0];
                self.warn(
                    (line.location.file.to_path_buf(), line.location.line),
                    "auth = sip",
                    format!(
                        "phone {} (phoneprov '{}') has no SIP password on any line: it can never authenticate",
                        phone.mac, line.id
                    ),
                );
            }
        }
        for (index, profile) in profiles.iter().enumerate() {
            if settings.tftp.allows(ProfileId::new(index))
                && settings.profile_policies[index].needs_credentials()
            {
                self.warn(
                    tftp_at.clone().unwrap_or_else(|| (file.clone(), 0)),
                    "[tftp]",
                    format!(
                        "profile '{}' needs credentials over HTTP, but TFTP cannot authenticate: its files go out over TFTP \
                         to anyone the ACL lets in",
                        profile.name
                    ),
                );
            }
        }
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

fn count(text: &str, min: u64) -> Result<u32, String> {
    values::number(text, min, 100_000).map(|n| n as u32)
}

fn self_path(config_dir: &Path, text: &str) -> Result<PathBuf, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty path".into());
    }
    Ok(config_dir.join(text))
}

fn realm(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.contains(['"', '\\']) || text.chars().any(char::is_control) {
        return Err("a realm is non-empty text without quotes or backslashes".into());
    }
    Ok(text.to_owned())
}

fn schemes(text: &str) -> Result<Schemes, String> {
    let mut schemes = Schemes {
        digest: false,
        basic: false,
    };
    for item in values::list(text) {
        match item.to_ascii_lowercase().as_str() {
            "digest" => schemes.digest = true,
            "basic" => schemes.basic = true,
            _ => return Err("must be digest, basic or both (digest, basic)".into()),
        }
    }
    if !schemes.digest && !schemes.basic {
        return Err("name digest, basic or both".into());
    }
    Ok(schemes)
}

fn algorithms(text: &str) -> Result<Vec<DigestAlgorithm>, String> {
    let mut list = Vec::new();
    for item in values::list(text) {
        let algorithm = match item.to_ascii_uppercase().as_str() {
            "MD5" => DigestAlgorithm::Md5,
            "SHA-256" | "SHA256" => DigestAlgorithm::Sha256,
            _ => return Err("must be MD5, SHA-256 or both (MD5, SHA-256)".into()),
        };
        if !list.contains(&algorithm) {
            list.push(algorithm);
        }
    }
    if list.is_empty() {
        return Err("name MD5, SHA-256 or both".into());
    }
    Ok(list)
}

#[cfg(test)]
mod tests;
