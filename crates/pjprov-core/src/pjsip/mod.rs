//! pjsip objects by `type=`, as res_pjsip's sorcery would create them from pjsip.conf and the config wizard
//! (pjsip_wizard.conf: a wizard in pjsip.conf is an error and makes nothing, as in Asterisk).
//!
//! Only what provisioning needs is kept (endpoints, auths, transports, phoneprov objects), but every object
//! type Asterisk validates is validated the same way: an option its type does not know rejects the whole
//! object, and so does a duplicate id (which makes Asterisk refuse every object of that type in the file).

mod mapped;
pub(crate) use mapped::Mapped;
pub(crate) mod options;
mod wizard;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use asterisk_config::{Config, Section, Text};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{Diagnostic, Error};
use crate::model::Location;

/// An endpoint, as far as provisioning cares.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// Its `transport=` (the last one; empty when absent).
    pub transport: Text,
    /// Its `callerid=` (the last one), unparsed.
    pub callerid: Option<Text>,
    /// Its inbound auths (the last `auth=`, split at commas). Inline strings: a fleet's endpoints need no
    /// allocation for these.
    pub auths: Vec<Text>,
}

/// An auth object.
#[derive(Debug, Clone)]
pub(crate) struct Auth {
    pub username: Text,
    pub password: Text,
}

/// A transport: what matters is its port.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub port: u16,
    /// `udp`, `tcp`, `tls`, `ws`, `wss` or `flow`.
    pub protocol: &'static str,
}

/// Where a value comes from: the file (shared with its `Config`, so cloning does not allocate) and the line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Src {
    pub file: Arc<Path>,
    pub line: u32,
}

impl Src {
    /// An owned location, for what outlives the configuration.
    pub fn location(&self) -> Location {
        Location {
            file: Arc::clone(&self.file),
            line: self.line,
        }
    }

    pub fn diag(&self, error: Error) -> Diagnostic {
        Diagnostic::new(&*self.file, self.line, error)
    }
}

/// An option as written: name, value, place.
pub(crate) type Opt<'a> = (&'a str, &'a str, Place<'a>);

/// Where an option is written: an entry of a parsed file (its `Src` made only when something keeps it or
/// reports on it: 100,000 endpoints' options are read on several cores, and cloning one file's `Arc` for
/// each of them would make the cores fight over its count), or a place already made.
#[derive(Debug, Clone)]
pub(crate) enum Place<'a> {
    /// An entry of `config`.
    Entry(&'a Config, asterisk_config::FileId, u32),
    /// A row, a wizard's derived option.
    Owned(Src),
}

impl Place<'_> {
    /// The place as a `Src`, to keep.
    pub fn src(&self) -> Src {
        match self {
            Place::Entry(config, file, line) => src(config, *file, *line),
            Place::Owned(src) => src.clone(),
        }
    }

    pub fn diag(&self, error: Error) -> Diagnostic {
        match self {
            Place::Entry(config, file, line) => Diagnostic::new(config.file(*file), *line, error),
            Place::Owned(src) => src.diag(error),
        }
    }
}

impl From<Src> for Place<'_> {
    fn from(src: Src) -> Self {
        Place::Owned(src)
    }
}

/// One entry of a phoneprov object.
#[derive(Debug, Clone)]
pub(crate) struct PpEntry {
    pub key: Text,
    pub value: Text,
    pub src: Src,
}

/// A `type=phoneprov` object (or the one a wizard makes).
#[derive(Debug, Clone)]
pub(crate) struct Phoneprov {
    pub id: Text,
    pub entries: Vec<PpEntry>,
    pub src: Src,
    /// Made by a wizard (res_pjsip's memory store) rather than read from pjsip.conf.
    pub wizard: bool,
}

/// Every object of the kinds provisioning needs, by id. Objects of pjsip.conf are found before those a
/// wizard made, as sorcery asks its config store before the wizard's memory store.
///
/// Everything is owned, so the parsed configuration can be dropped before the phones are built: that keeps
/// the peak memory of a reload near the larger of the two rather than their sum.
#[derive(Debug, Default)]
pub(crate) struct Objects {
    endpoints: FxHashMap<Text, Endpoint>,
    auths: FxHashMap<Text, Auth>,
    pub transports: FxHashMap<Text, Transport>,
    wizard_endpoints: FxHashMap<Text, Endpoint>,
    wizard_auths: FxHashMap<Text, Auth>,
    pub phoneprovs: Vec<Phoneprov>,
}

impl Objects {
    /// The endpoint `id`.
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints
            .get(id)
            .or_else(|| self.wizard_endpoints.get(id))
    }

    /// The auth `id`.
    pub fn auth(&self, id: &str) -> Option<&Auth> {
        self.auths.get(id).or_else(|| self.wizard_auths.get(id))
    }

    /// Reads pjsip.conf (`pjsip`) and pjsip_wizard.conf (`wizards`, if present).
    pub fn read<'a>(
        pjsip: &'a Config,
        wizards: Option<&'a Config>,
        diags: &mut Vec<Diagnostic>,
    ) -> Objects {
        let mut objects = Objects::default();
        let mut wizard_sections = Vec::new();
        let by_type = sections_by_type(pjsip, diags);
        for (kind, sections) in &by_type {
            if has_duplicates(pjsip, kind, sections, diags) {
                continue;
            }
            match *kind {
                "endpoint" => objects.endpoints.reserve(sections.len()),
                "auth" => objects.auths.reserve(sections.len()),
                "phoneprov" => objects.phoneprovs.reserve(sections.len()),
                _ => {}
            }
            // A large fleet's objects are read on every core, in chunks whose results (objects and
            // diagnostics) are joined in file order: the same as reading them one by one.
            for (part, part_diags) in crate::parallel::map_chunks(sections, |chunk| {
                let mut part = Objects::default();
                let mut part_diags = Vec::new();
                let mut scratch = Scratch::default();
                for section in chunk {
                    part.add(pjsip, kind, section, &mut scratch, &mut part_diags);
                }
                (part, part_diags)
            }) {
                objects.absorb(part);
                diags.extend(part_diags);
            }
        }
        if let Some(wizards) = wizards {
            for section in wizards.sections().iter().filter(|s| !s.template) {
                if wizard::is_wizard(section) {
                    wizard_sections.push((wizards, section));
                }
            }
        }
        for (config, section) in wizard_sections {
            wizard::expand(config, section, &mut objects, diags);
        }
        objects
    }

    /// Takes the objects of `part` (read from later sections than those already here).
    fn absorb(&mut self, part: Objects) {
        self.endpoints.extend(part.endpoints);
        self.auths.extend(part.auths);
        self.transports.extend(part.transports);
        self.wizard_endpoints.extend(part.wizard_endpoints);
        self.wizard_auths.extend(part.wizard_auths);
        self.phoneprovs.extend(part.phoneprovs);
    }

    /// Adds one object of pjsip.conf (already known to be of type `kind`); `entries` is scratch space.
    fn add<'a>(
        &mut self,
        config: &'a Config,
        kind: &str,
        section: &'a Section,
        scratch: &mut Scratch<'a>,
        diags: &mut Vec<Diagnostic>,
    ) {
        let id = &section.name;
        scratch.entries.clear();
        scratch.entries.extend(options(config, section));
        let entries = &scratch.entries[..];
        if kind == "phoneprov" {
            self.phoneprovs.push(phoneprov_from(
                src(config, section.file, section.line),
                id,
                entries,
            ));
            return;
        }
        if !section_options_known(kind, id, section, entries, &mut scratch.known, diags) {
            return;
        }
        let here = src(config, section.file, section.line);
        match kind {
            "endpoint" => {
                self.endpoints.insert(id.clone(), endpoint_from(entries));
            }
            "auth" => {
                if let Some(auth) = auth_from(id, entries, &here, diags) {
                    self.auths.insert(id.clone(), auth);
                }
            }
            "transport" => {
                if let Some(transport) = transport_from(id, entries, &here, diags) {
                    self.transports.insert(id.clone(), transport);
                }
            }
            _ => {}
        }
    }
}

/// pjsip.conf's non-template sections with a type, grouped by type, in file order; a section of a type
/// pjsip does not have, or a wizard (which Asterisk reads only from pjsip_wizard.conf), is reported. A
/// large file's sections are sorted on every core, in chunks joined in file order.
fn sections_by_type<'a>(
    pjsip: &'a Config,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<&'a str, Vec<&'a Section>> {
    let mut by_type: BTreeMap<&'a str, Vec<&'a Section>> = BTreeMap::new();
    let sections: Vec<&'a Section> = pjsip.sections().iter().filter(|s| !s.template).collect();
    for (part, part_diags) in crate::parallel::map_chunks(&sections, |chunk| {
        let mut part: BTreeMap<&'a str, Vec<&'a Section>> = BTreeMap::new();
        let mut part_diags = Vec::new();
        for &section in chunk {
            if let Some(kind) = section.get("type") {
                sort_section(pjsip, section, kind, &mut part, &mut part_diags);
            }
        }
        (part, part_diags)
    }) {
        for (kind, sections) in part {
            by_type.entry(kind).or_default().extend(sections);
        }
        diags.extend(part_diags);
    }
    by_type
}

/// Files `section` of type `kind` under its type, or reports it.
fn sort_section<'a>(
    pjsip: &'a Config,
    section: &'a Section,
    kind: &'a str,
    by_type: &mut BTreeMap<&'a str, Vec<&'a Section>>,
    diags: &mut Vec<Diagnostic>,
) {
    match kind {
        // Asterisk's wizard reads pjsip_wizard.conf only: this section makes nothing.
        "wizard" => diags.push(diag(
            pjsip,
            section,
            Error::WizardInPjsipConf {
                id: section.name.to_string(),
            },
        )),
        _ if options::for_type(kind).is_some() || options::OTHER_TYPES.contains(&kind) => {
            by_type.entry(kind).or_default().push(section);
        }
        _ => {
            let known: Vec<&str> = [
                "endpoint",
                "auth",
                "aor",
                "transport",
                "contact",
                "domain_alias",
                "global",
                "system",
            ]
            .into_iter()
            .chain(options::OTHER_TYPES.iter().copied())
            .collect();
            diags.push(diag(
                pjsip,
                section,
                Error::UnknownType {
                    id: section.name.to_string(),
                    value: kind.to_owned(),
                    suggestion: crate::suggest::closest(kind, &known).map(str::to_owned),
                },
            ));
        }
    }
}

fn diag(config: &Config, section: &Section, error: Error) -> Diagnostic {
    Diagnostic::new(config.file(section.file), section.line, error)
}

pub(crate) fn location(config: &Config, file: asterisk_config::FileId, line: u32) -> Location {
    src(config, file, line).location()
}

pub(crate) fn src(config: &Config, file: asterisk_config::FileId, line: u32) -> Src {
    Src {
        file: Arc::clone(&config.files()[file.index()]),
        line,
    }
}

/// Every entry of a section as `(name, value, place)`.
pub(crate) fn options_of<'a>(config: &'a Config, section: &'a Section) -> Vec<Opt<'a>> {
    options(config, section).collect()
}

/// [`options_of`] without collecting.
fn options<'a>(config: &'a Config, section: &'a Section) -> impl Iterator<Item = Opt<'a>> + 'a {
    section.entries().map(|e| {
        (
            e.key.as_str(),
            e.value.as_str(),
            Place::Entry(config, e.file, e.line),
        )
    })
}

fn show(at: &Src) -> String {
    format!("{}:{}", at.file.display(), at.line)
}

/// Reports duplicate ids among `sections` (all of type `kind`); true when there are any.
fn has_duplicates(
    config: &Config,
    kind: &str,
    sections: &[&Section],
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let mut first: FxHashMap<&str, &Section> =
        FxHashMap::with_capacity_and_hasher(sections.len(), Default::default());
    let mut found = false;
    for section in sections {
        if let Some(earlier) = first.get(section.name.as_str()) {
            found = true;
            let file = config.file(section.file);
            diags.push(diag(
                config,
                section,
                Error::DuplicateObject {
                    kind: kind.to_owned(),
                    id: section.name.to_string(),
                    other: show(&src(config, earlier.file, earlier.line)),
                    file: file.file_name().map_or_else(
                        || file.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    ),
                },
            ));
        } else {
            first.insert(section.name.as_str(), section);
        }
    }
    found
}

/// Checks every option name against the type's list; false (object rejected) when one is unknown.
/// Checks every option in `entries` against type `kind`'s, reporting each unknown one.
fn options_known(kind: &str, id: &str, entries: &[Opt<'_>], diags: &mut Vec<Diagnostic>) -> bool {
    match options::for_type(kind) {
        Some(known) => all_known(kind, id, known, entries, diags),
        None => true,
    }
}

/// [`options_known`] for the options of `section` (`entries`, inherited ones first): `checked` holds the
/// inherited blocks already found valid for a type, so 100,000 endpoints made from one template check
/// the template's options once.
fn section_options_known(
    kind: &str,
    id: &str,
    section: &Section,
    entries: &[Opt<'_>],
    checked: &mut FxHashSet<(usize, usize)>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let Some(known) = options::for_type(kind) else {
        return true;
    };
    let key_of =
        |block: &Arc<[asterisk_config::Entry]>| (block.as_ptr() as usize, known.as_ptr() as usize);
    let blocks = section.inherited_blocks();
    let skip: usize = blocks
        .iter()
        .take_while(|b| checked.contains(&key_of(b)))
        .map(|b| b.len())
        .sum();
    let ok = all_known(
        kind,
        id,
        known,
        entries.get(skip..).unwrap_or_default(),
        diags,
    );
    if ok {
        checked.extend(blocks.iter().map(key_of));
    }
    ok
}

fn all_known(
    kind: &str,
    id: &str,
    known: &'static [&'static str],
    entries: &[Opt<'_>],
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let mut ok = true;
    for (key, _, at) in entries {
        if !options::is_known(known, key) {
            ok = false;
            diags.push(at.diag(Error::UnknownOption {
                kind: kind.to_owned(),
                id: id.to_owned(),
                option: (*key).to_owned(),
                suggestion: crate::suggest::closest(key, known).map(str::to_owned),
            }));
        }
    }
    ok
}

/// What reading objects reuses from one section to the next.
#[derive(Default)]
pub(crate) struct Scratch<'a> {
    /// The options of the section being read (one buffer, not one allocation each).
    entries: Vec<Opt<'a>>,
    /// Inherited blocks whose options are all known to a type ([`options_known`]).
    known: FxHashSet<(usize, usize)>,
}

/// The last value of `key` (option names compare without case).
fn last<'a>(entries: &[Opt<'a>], key: &str) -> Option<&'a str> {
    entries
        .iter()
        .rev()
        .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v, _)| *v)
}

fn endpoint_from(entries: &[Opt<'_>]) -> Endpoint {
    let auths = last(entries, "auth")
        .map(|list| {
            list.split(',')
                .map(|a| a.trim_matches(|c: char| (c as u32) < 33))
                .filter(|a| !a.is_empty())
                .map(Text::from)
                .collect()
        })
        .unwrap_or_default();
    Endpoint {
        transport: Text::from(last(entries, "transport").unwrap_or_default()),
        callerid: last(entries, "callerid").map(Text::from),
        auths,
    }
}

fn auth_from(
    id: &str,
    entries: &[Opt<'_>],
    here: &Src,
    diags: &mut Vec<Diagnostic>,
) -> Option<Auth> {
    let reject = |reason: &str, diags: &mut Vec<Diagnostic>| {
        diags.push(here.diag(Error::InvalidAuth {
            id: id.to_owned(),
            reason: reason.to_owned(),
        }));
    };
    let username = last(entries, "username").unwrap_or_default();
    if username.is_empty() {
        reject("no authentication username", diags);
        return None;
    }
    let password = last(entries, "password").unwrap_or_default();
    let auth_type = last(entries, "auth_type").unwrap_or("userpass");
    if auth_type.eq_ignore_ascii_case("google_oauth") {
        for option in ["refresh_token", "oauth_clientid", "oauth_secret"] {
            if last(entries, option).unwrap_or_default().is_empty() {
                reject(
                    "'google_oauth' authentication needs refresh_token, oauth_clientid and oauth_secret",
                    diags,
                );
                return None;
            }
        }
    } else if password.is_empty()
        && last(entries, "md5_cred").unwrap_or_default().is_empty()
        && last(entries, "password_digest")
            .unwrap_or_default()
            .is_empty()
    {
        reject(
            "no plain text or digest password found for algorithm MD5 (set password or md5_cred)",
            diags,
        );
        return None;
    }
    Some(Auth {
        username: Text::from(username),
        password: Text::from(password),
    })
}

fn transport_from(
    id: &str,
    entries: &[Opt<'_>],
    here: &Src,
    diags: &mut Vec<Diagnostic>,
) -> Option<Transport> {
    let reject = |reason: String, diags: &mut Vec<Diagnostic>| {
        diags.push(here.diag(Error::InvalidTransport {
            id: id.to_owned(),
            reason,
        }));
    };
    let protocol = last(entries, "protocol")
        .unwrap_or("udp")
        .to_ascii_lowercase();
    if protocol == "flow" {
        return Some(Transport {
            port: 0,
            protocol: "flow",
        });
    }
    if !["udp", "tcp", "tls", "ws", "wss"].contains(&protocol.as_str()) {
        reject(
            format!("unknown protocol '{protocol}' (udp, tcp, tls, ws, wss or flow)"),
            diags,
        );
        return None;
    }
    let Some(bind) = last(entries, "bind") else {
        reject(
            "it could not be started as binding not specified (add bind = 0.0.0.0)".into(),
            diags,
        );
        return None;
    };
    let port = match bind_port(bind) {
        Ok(port) => port,
        Err(reason) => {
            reject(format!("bind '{bind}': {reason}"), diags);
            return None;
        }
    };
    let port = match port {
        0 if protocol == "tls" => 5061,
        0 => 5060,
        p => p,
    };
    let protocol = ["udp", "tcp", "tls", "ws", "wss"]
        .into_iter()
        .find(|p| *p == protocol)
        .unwrap_or("udp");
    Some(Transport { port, protocol })
}

/// The port of a `bind=` value (`host`, `host:port`, `[v6]`, `[v6]:port`, `v6`); 0 when none is given.
pub(crate) fn bind_port(bind: &str) -> Result<u16, String> {
    let bind = bind.trim();
    if bind.is_empty() {
        return Err("empty address".into());
    }
    let port = if let Some(rest) = bind.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Err("missing ']'".into());
        };
        let host = &rest[..close];
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("'{host}' is not an IPv6 address"));
        }
        match &rest[close + 1..] {
            "" => None,
            tail => Some(tail.strip_prefix(':').ok_or("unexpected text after ']'")?),
        }
    } else if bind.matches(':').count() > 1 {
        // A bare IPv6 address has no port.
        bind.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("'{bind}' is not an address"))?;
        None
    } else {
        bind.split_once(':').map(|(_, port)| port)
    };
    match port {
        None => Ok(0),
        Some(p) => p.parse::<u16>().map_err(|_| format!("'{p}' is not a port")),
    }
}

/// A phoneprov object from its entries; `type` is not a variable.
fn phoneprov_from(here: Src, id: &str, entries: &[Opt<'_>]) -> Phoneprov {
    Phoneprov {
        wizard: false,
        id: Text::from(id),
        entries: entries
            .iter()
            .filter(|(k, _, _)| !k.eq_ignore_ascii_case("type"))
            .map(|(key, value, at)| PpEntry {
                key: Text::from(*key),
                value: Text::from(*value),
                src: at.src(),
            })
            .collect(),
        src: here,
    }
}

/// For diagnostics about a file as a whole.
pub(crate) fn file_diag(file: &Path, error: Error) -> Diagnostic {
    Diagnostic::new(file, 0, error)
}

#[cfg(test)]
mod tests;
