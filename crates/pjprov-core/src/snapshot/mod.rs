//! A [`Snapshot`]: everything built from one reading of the configuration, immutable once built.
//!
//! It holds the phones, the profiles, the route table (URI → file), the parsed templates, every diagnostic
//! and the list of paths to watch. Bodies are rendered on first request and cached per (route, server
//! address) inside the snapshot, so a reload simply replaces the whole snapshot.
//!
//! * `build.rs`: reading the files and putting a snapshot together ([`Snapshot::build`],
//!   [`Snapshot::rebuild`], which keeps the last good form of templates that went missing or broke);
//! * `routes.rs`: the route table, the shapes of per-phone names and what a request is about
//!   ([`Subject`]);
//! * `render.rs`: rendering and its cache;
//! * `hbs.rs`: the `.hbs` templates.

mod build;
mod carry;
mod hbs;
mod lobby;
mod patch;
mod render;
mod routes;
pub mod wildcard;

use std::path::PathBuf;
use std::sync::OnceLock;

use asterisk_config::Severity;
use compact_str::CompactString;
use rustc_hash::FxHashMap;

use crate::error::Diagnostic;
use crate::mac::Mac;
use crate::model::{Phone, PhoneId, ProfileId};
use crate::phones::Phones;
use crate::profile::Profile;
use crate::settings::Settings;
use crate::templates::TemplateStore;

pub use lobby::{LobbyBody, bundled_name as bundled_lobby_name};
pub use render::{RenderFailure, Rendered, server_string};
pub use routes::{Route, ShapeId, Subject, Target};

/// Where Asterisk's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Holds pjsip.conf, pjsip_wizard.conf, phoneprov.conf (Asterisk's `astetcdir`).
    pub config_dir: PathBuf,
    /// Holds `phoneprov/` with templates and static files (Asterisk's `astdatadir`).
    pub data_dir: PathBuf,
    /// More directories holding templates (e.g. pjprov's bundled ones in `/usr/share/pjprov/templates`),
    /// searched after `DATA_DIR/phoneprov` for templates (never for static files).
    pub template_dirs: Vec<PathBuf>,
}

impl Paths {
    /// Asterisk's layout: templates and static files under `data_dir/phoneprov`.
    pub fn new(config_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Paths {
        Paths {
            config_dir: config_dir.into(),
            data_dir: data_dir.into(),
            template_dirs: Vec::new(),
        }
    }

    /// `DATA_DIR/phoneprov`.
    pub fn phoneprov_dir(&self) -> PathBuf {
        self.data_dir.join("phoneprov")
    }

    /// Where templates are looked for, in order.
    pub fn template_roots(&self) -> Vec<PathBuf> {
        std::iter::once(self.phoneprov_dir())
            .chain(self.template_dirs.iter().cloned())
            .collect()
    }
}

/// How to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// "Now" for the time zone variables; the current time when `None`.
    pub now: Option<jiff::Timestamp>,
    /// Run `#exec` in config files.
    pub exec_includes: bool,
    /// The key per-phone secrets the admin did not set are derived from ([`crate::SiteKey`]); without
    /// one, templates get no generated `ADMIN_PASSWORD`.
    pub site_key: Option<std::sync::Arc<crate::SiteKey>>,
    /// The rows of the tables [`crate::realtime::Plan::queries`] names, fetched by the caller (this crate
    /// has no network). A configuration whose objects come from PostgreSQL is rejected without them.
    pub realtime: Option<std::sync::Arc<crate::realtime::RealtimeRows>>,
}

/// A configuration that cannot be used at all (Asterisk would load nothing from it, or pjprov cannot read
/// a file it needs).
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Every problem found, the fatal ones included.
    pub diagnostics: Vec<Diagnostic>,
    /// Paths to watch: fixing one of them may make the next build succeed.
    pub watch: Vec<PathBuf>,
}

/// Everything built from one reading of the configuration.
#[derive(Debug)]
pub struct Snapshot {
    paths: Paths,
    now: jiff::Timestamp,
    phones: Phones,
    profiles: Vec<Profile>,
    routes: routes::RouteTable,
    templates: TemplateStore,
    hbs: hbs::HbsTemplates,
    diagnostics: Vec<Diagnostic>,
    watch: Vec<PathBuf>,
    settings: Settings,
    /// Each SIP username → the lines that have it, for `auth = sip` on files no single phone owns (built
    /// on first use).
    usernames: OnceLock<FxHashMap<CompactString, Vec<(PhoneId, usize)>>>,
    site_key: Option<std::sync::Arc<crate::SiteKey>>,
    /// A digest of every phone's first line, for directories' render keys (on first use).
    directory_digest: OnceLock<u64>,
    /// The lobby of each shape of per-phone names (issue #18, `lobby.rs`).
    lobbies: lobby::Lobbies,
    /// What the next reload needs to read only the sections of pjsip.conf that changed (`patch.rs`).
    basis: Option<patch::Basis>,
    /// How many sections of pjsip.conf a patched build read again (`None`: it read everything).
    reread: Option<usize>,
}

impl Snapshot {
    /// The paths this snapshot was built from.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The `ADMIN_PASSWORD` pjprov generates for phone `phone` ([`crate::SiteKey`]): `None` when the phone
    /// sets one itself (its first line, or its profile's setvars), has no valid MAC, or there is no key.
    pub fn generated_admin_password(&self, phone: PhoneId) -> Option<String> {
        let key = self.site_key.as_ref()?;
        let phone = self.phone(phone)?;
        if phone.first_line().vars.contains("ADMIN_PASSWORD") {
            return None;
        }
        Some(key.admin_password(crate::Mac::parse(&phone.mac)?))
    }

    /// For a snapshot built by [`Snapshot::rebuild`] from the sections of pjsip.conf that changed alone,
    /// how many there were (0: none, only other files changed); `None` when everything was read.
    pub fn reread_sections(&self) -> Option<usize> {
        self.reread
    }

    /// Whether its phones' routes are those of the snapshot it was patched from (they name the same
    /// files; see [`Snapshot::reread_sections`]), rather than built again.
    pub fn reused_routes(&self) -> bool {
        self.routes.reused
    }

    /// "Now" as used for the time zone variables.
    pub fn now(&self) -> jiff::Timestamp {
        self.now
    }

    /// Every problem found while building, in the order found.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// True when a diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity() == Severity::Error)
    }

    /// Every path a reload watcher must watch: config files and includes (missing ones included), glob
    /// directories and the phoneprov data directory.
    pub fn watch(&self) -> &[PathBuf] {
        &self.watch
    }

    /// The phones, in the order they were created.
    pub fn phones(&self) -> &[std::sync::Arc<Phone>] {
        &self.phones.phones
    }

    /// Every phone with its id, in the order they were created.
    pub fn phone_ids(&self) -> impl Iterator<Item = (PhoneId, &Phone)> {
        self.phones
            .phones
            .iter()
            .enumerate()
            .map(|(i, p)| (PhoneId::new(i), &**p))
    }

    /// The profile `id`.
    pub fn profile(&self, id: ProfileId) -> Option<&Profile> {
        self.profiles.get(id.index())
    }

    /// The phone `id`.
    pub fn phone(&self, id: PhoneId) -> Option<&Phone> {
        self.phones.phones.get(id.index()).map(|p| &**p)
    }

    /// The phones in the order of Asterisk's user table (`PP_EACH_USER`'s order).
    pub fn user_order(&self) -> impl Iterator<Item = &Phone> {
        self.phones
            .user_order
            .iter()
            .map(|&i| &*self.phones.phones[i])
    }

    /// The profiles of phoneprov.conf.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// The profile called `name` (the first of that name, as Asterisk finds it).
    pub fn profile_id(&self, name: &str) -> Option<ProfileId> {
        self.profiles
            .iter()
            .position(|p| p.name == name)
            .map(ProfileId::new)
    }

    /// pjprov.conf's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The phone with exactly this MAC (as configured, case included).
    pub fn phone_by_mac(&self, mac: &str) -> Option<&Phone> {
        self.phones
            .by_mac
            .get(mac)
            .map(|&i| &*self.phones.phones[i])
    }

    /// The phone whose MAC is `mac`, whatever case or separators it was written with.
    pub fn phone_id(&self, mac: Mac) -> Option<PhoneId> {
        self.phones.by_mac48.get(&mac).map(|&i| PhoneId::new(i))
    }

    /// The MACs of all phones, for quick membership tests.
    pub fn macs(&self) -> impl Iterator<Item = &CompactString> {
        self.phones.phones.iter().map(|p| &p.mac)
    }

    /// The `(username, password)` of every line whose SIP username is `username`: what `auth = sip`
    /// accepts for a file that is no single phone's.
    pub fn sip_credentials(&self, username: &str) -> impl Iterator<Item = (&str, &str)> {
        let index = self.usernames.get_or_init(|| {
            let mut index: FxHashMap<CompactString, Vec<(PhoneId, usize)>> = FxHashMap::default();
            for (p, phone) in self.phones.phones.iter().enumerate() {
                for (l, line) in phone.lines.iter().enumerate() {
                    if let Some(user) = line.vars.get("USERNAME") {
                        index
                            .entry(user.into())
                            .or_default()
                            .push((PhoneId::new(p), l));
                    }
                }
            }
            index
        });
        index
            .get(username)
            .into_iter()
            .flatten()
            .filter_map(|&(phone, line)| {
                let vars = &self.phones.phones.get(phone.index())?.lines.get(line)?.vars;
                let secret = vars.get("SECRET").filter(|s| !s.is_empty())?;
                Some((vars.get("USERNAME")?, secret))
            })
    }
}
