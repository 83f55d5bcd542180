//! From phoneprov objects to phones and lines, exactly as res_pjsip_phoneprov_provider (`users_apply_handler`,
//! `load_endpoint`) and res_phoneprov (`ast_phoneprov_add_extension`, `build_extension`,
//! `add_user_extension`) do it, with the differences DESIGN.md §4 names.
//!
//! Objects are visited in the order sorcery hands them over (sorted by id, byte-wise). The first object with
//! a MAC creates the phone and gives it its profile; the phone joins Asterisk's user table then, which is
//! what `PP_EACH_USER` walks (563 buckets keyed by the MAC's djb2 hash, insertion order within a bucket).

use compact_str::{CompactString, ToCompactString};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::asterisk::render::{Renderer, Scope, World};
use crate::asterisk::{RenderIssue, Template};
use crate::callerid;
use crate::error::{Diagnostic, Error};
use crate::model::{Line, Phone, ProfileId};
use crate::pjsip::{Objects, Phoneprov};
use crate::profile::Profile;
use crate::tz;
use crate::vars::Vars;

/// Asterisk's `MAX_USER_BUCKETS`.
const USER_BUCKETS: u32 = 563;

/// The phones of a configuration.
#[derive(Debug, Default, Clone)]
pub(crate) struct Phones {
    /// Shared with the snapshots that follow when a reload leaves a phone as it is.
    pub phones: Vec<std::sync::Arc<Phone>>,
    /// The indexes are shared too: a reload that only changes variables keeps them.
    pub by_mac: std::sync::Arc<FxHashMap<CompactString, usize>>,
    /// The first phone of each 48-bit MAC (`0004F2AABBCC` and `0004f2aabbcc` are two phones to Asterisk).
    pub by_mac48: std::sync::Arc<FxHashMap<crate::mac::Mac, usize>>,
    /// Indices into `phones` in the order of Asterisk's user table.
    pub user_order: std::sync::Arc<[usize]>,
    /// Some line sets `AUTH_ID` itself, so a line's `AUTH_ID` does not always name the auth it read.
    pub auth_id_set: bool,
}

/// What building needs besides the objects.
pub(crate) struct Inputs<'a> {
    pub objects: &'a Objects,
    pub profiles: &'a [Profile],
    pub now: jiff::Timestamp,
    /// A world without phones, for substituting setvars (Asterisk's user table is still being filled).
    pub empty_world: &'a World<'a>,
}

pub(crate) fn build(inputs: &Inputs<'_>, diags: &mut Vec<Diagnostic>) -> Phones {
    let mut phoneprovs: Vec<&Phoneprov> = inputs.objects.phoneprovs.iter().collect();
    // Stable: for one id, the pjsip.conf object (read first) comes before the wizard's, and wins.
    phoneprovs.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    phoneprovs.dedup_by(|later, earlier| later.id == earlier.id);

    let setvars = parse_setvars(inputs.profiles);
    // Each line is derived on its own (on every core for a large fleet), as if its phone had the line's
    // own profile; a line whose phone was founded by an earlier line of another profile (rare) is derived
    // again with the phone's. Lines then join their phones in sorcery's order, one by one.
    let derived = crate::parallel::map_chunks(&phoneprovs, |chunk| {
        let mut zones = ZoneCache::default();
        let mut scratch = Scratch::default();
        chunk
            .iter()
            .map(|pp| derive(pp, None, inputs, &setvars, &mut zones, &mut scratch))
            .collect::<Vec<_>>()
    });
    let mut phones = Phones::default();
    phones.phones.reserve(phoneprovs.len());
    let mut zones = ZoneCache::default();
    let mut scratch = Scratch::default();
    let mut setvar_diags: Vec<Diagnostic> = Vec::new();
    for (pp, (mut line, mut line_diags)) in phoneprovs.iter().zip(derived.into_iter().flatten()) {
        if let Some(candidate) = &line {
            let phone_profile = phones
                .by_mac
                .get(candidate.mac.as_str())
                .map(|&p| phones.phones[p].profile);
            if let Some(profile) = phone_profile.filter(|p| *p != candidate.own_profile) {
                (line, line_diags) = derive(
                    pp,
                    Some(profile),
                    inputs,
                    &setvars,
                    &mut zones,
                    &mut scratch,
                );
            }
        }
        for diag in line_diags {
            // A setvar's problem is reported once, not once per line.
            let setvar = matches!(
                diag.error,
                Error::SetvarIssue { .. } | Error::SetvarDeletes { .. }
            );
            if setvar {
                if setvar_diags.contains(&diag) {
                    continue;
                }
                setvar_diags.push(diag.clone());
            }
            diags.push(diag);
        }
        if let Some(line) = line {
            phones.auth_id_set |= line.auth_id_set;
            place(&mut phones, pp, line, diags);
        }
    }
    let mut order: Vec<(u32, usize)> = phones
        .phones
        .iter()
        .enumerate()
        .map(|(i, p)| (user_bucket(p.mac.as_bytes()), i))
        .collect();
    order.sort();
    phones.user_order = order.into_iter().map(|(_, i)| i).collect();
    phones
}

/// Each profile's setvars, parsed once.
pub(crate) fn parse_setvars(profiles: &[Profile]) -> Vec<Vec<(&str, Template)>> {
    profiles
        .iter()
        .map(|p| {
            p.setvars
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str(),
                        Template::parse("phoneprov.conf", value.as_bytes()),
                    )
                })
                .collect()
        })
        .collect()
}

/// A line derived again for a reload that changed only its objects ([`crate::snapshot`]'s patch): the line
/// as [`build`] would make it for a phone of profile `phone_profile`, its MAC and whether it sets
/// `AUTH_ID` itself; `None` when Asterisk would skip it or it has anything to report (the caller then
/// builds everything).
pub(crate) fn rederive(
    pp: &Phoneprov,
    phone_profile: ProfileId,
    inputs: &Inputs<'_>,
    setvars: &[Vec<(&str, Template)>],
) -> Option<(Line, CompactString, bool)> {
    let mut zones = ZoneCache::default();
    let mut scratch = Scratch::default();
    let (derived, diags) = derive(
        pp,
        Some(phone_profile),
        inputs,
        setvars,
        &mut zones,
        &mut scratch,
    );
    let derived = derived.filter(|_| diags.is_empty())?;
    Some((derived.line, derived.mac, derived.auth_id_set))
}

/// Every `TIMEZONE` the lines of `phones` have, and `None` (a line without one, before its setvars, gets
/// the default zone's variables).
pub(crate) fn zones<'a>(
    phones: impl IntoIterator<Item = &'a Line>,
) -> FxHashSet<Option<CompactString>> {
    let mut zones: FxHashSet<Option<&str>> = FxHashSet::default();
    zones.insert(None);
    for line in phones {
        zones.insert(line.vars.get("TIMEZONE"));
    }
    zones
        .into_iter()
        .map(|z| z.map(CompactString::from))
        .collect()
}

/// Whether the time zone variables of every zone of `zones` are the same at `now` as at `then` (a
/// reload that keeps lines must not keep last year's daylight saving dates).
pub(crate) fn zones_agree(
    zones: &FxHashSet<Option<CompactString>>,
    then: jiff::Timestamp,
    now: jiff::Timestamp,
) -> bool {
    let (mut before, mut after) = (ZoneCache::default(), ZoneCache::default());
    zones
        .iter()
        .all(|zone| before.vars(zone.as_deref(), then) == after.vars(zone.as_deref(), now))
}

/// What building a line reuses from the line before.
#[derive(Default)]
struct Scratch {
    vars: Vars,
    out: Vec<u8>,
}

/// The variables a zone gives (`TZOFFSET`, `DST_*`), formatted.
type ZoneVars = Vec<(&'static str, CompactString)>;

/// Time zone variables per zone name (empty: none given): every line of a zone gets the same answer for
/// one "now", formatted once.
#[derive(Default)]
struct ZoneCache(FxHashMap<Option<CompactString>, (ZoneVars, bool)>);

impl ZoneCache {
    /// The variables of `zone`, and whether it is unknown.
    fn vars(&mut self, zone: Option<&str>, now: jiff::Timestamp) -> &(ZoneVars, bool) {
        let key = zone.map(CompactString::from);
        self.0.entry(key).or_insert_with(|| {
            let (tz, problem) = tz::timezone_vars(zone, now);
            let vars: ZoneVars = tz
                .variables()
                .into_iter()
                .map(|(name, value)| (name, value.to_compact_string()))
                .collect();
            (vars, problem.is_some())
        })
    }
}

/// The bucket of Asterisk's user table: `ast_str_hash` (djb2 with xor) modulo 563.
pub(crate) fn user_bucket(mac: &[u8]) -> u32 {
    let mut hash: u32 = 5381;
    for &b in mac {
        hash = hash.wrapping_mul(33) ^ u32::from(b);
    }
    (hash & 0x7fff_ffff) % USER_BUCKETS
}

/// The variables of one phoneprov object, into `vars`, and its transport's protocol; `None` when Asterisk
/// would skip it.
fn line_vars(
    pp: &Phoneprov,
    inputs: &Inputs<'_>,
    vars: &mut Vars,
    auth_id_set: &mut bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<Option<&'static str>> {
    vars.clear();
    // Every key but `type` is a variable; empty values are dropped; the last value wins (pjprov differs).
    let mut repeats = false;
    for entry in pp.entries.iter().filter(|e| !e.value.is_empty()) {
        repeats |= vars.contains(&entry.key);
        vars.set(&entry.key, &entry.value);
    }
    if repeats {
        warn_repeated(pp, diags);
    }
    if !vars.contains("MAC") {
        diags.push(pp.src.diag(Error::MissingMac {
            id: pp.id.to_string(),
        }));
        return None;
    }
    if !vars.contains("PROFILE") {
        diags.push(pp.src.diag(Error::MissingProfile {
            id: pp.id.to_string(),
        }));
        return None;
    }
    let mut transport: Option<(u16, &'static str)> = None;
    if let Some(endpoint) = vars.get("endpoint").map(CompactString::from) {
        transport = endpoint_vars(pp, &endpoint, inputs.objects, vars, auth_id_set, diags)?;
    }
    let port = transport.map(|(port, _)| port);
    vars.set_default("USERNAME", &pp.id);
    vars.set_default("LABEL", &pp.id);
    vars.set_default("SERVER_PORT", &port.unwrap_or(5060).to_compact_string());
    Some(transport.map(|(_, protocol)| protocol))
}

/// Warns about keys set more than once with different values (Asterisk uses the first, pjprov the last).
fn warn_repeated(pp: &Phoneprov, diags: &mut Vec<Diagnostic>) {
    let entries: Vec<_> = pp.entries.iter().filter(|e| !e.value.is_empty()).collect();
    let mut done: Vec<&str> = Vec::new();
    for (i, first) in entries.iter().enumerate() {
        if done.contains(&first.key.as_str()) {
            continue;
        }
        done.push(&first.key);
        let same: Vec<_> = entries[i..].iter().filter(|e| e.key == first.key).collect();
        let last = same[same.len() - 1];
        if same.len() > 1 && first.value != last.value {
            let show = |at: &crate::pjsip::Src| format!("{}:{}", at.file.display(), at.line);
            diags.push(last.src.diag(Error::RepeatedKey {
                id: pp.id.to_string(),
                key: first.key.to_string(),
                count: same.len(),
                first: show(&first.src),
                last: show(&last.src),
            }));
        }
    }
}

/// `load_endpoint`: the variables an endpoint gives. Returns the transport's port and protocol (`None` when
/// the endpoint has no transport), or `None` overall when Asterisk would skip the line.
fn endpoint_vars(
    pp: &Phoneprov,
    name: &str,
    objects: &Objects,
    vars: &mut Vars,
    auth_id_set: &mut bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<Option<(u16, &'static str)>> {
    let Some(endpoint) = objects.endpoint(name) else {
        diags.push(pp.src.diag(Error::UnknownEndpoint {
            id: pp.id.to_string(),
            endpoint: name.to_owned(),
        }));
        return None;
    };
    vars.set_default("ENDPOINT_ID", name);
    vars.set_default("TRANSPORT_ID", &endpoint.transport);
    if let Some(cid) = &endpoint.callerid {
        let (cid_name, number) = callerid::split(cid);
        vars.set_default("CALLERID", &number);
        vars.set_default("DISPLAY_NAME", &cid_name);
    }
    let port = if endpoint.transport.is_empty() {
        diags.push(pp.src.diag(Error::NoTransport {
            id: pp.id.to_string(),
            endpoint: name.to_owned(),
        }));
        None
    } else {
        match objects.transports.get(endpoint.transport.as_str()) {
            Some(transport) => Some((transport.port, transport.protocol)),
            None => {
                diags.push(pp.src.diag(Error::UnknownTransport {
                    id: pp.id.to_string(),
                    endpoint: name.to_owned(),
                    transport: endpoint.transport.to_string(),
                }));
                return None;
            }
        }
    };
    if let Some(auth_name) = endpoint.auths.first() {
        let Some(auth) = objects.auth(auth_name) else {
            diags.push(pp.src.diag(Error::UnknownAuth {
                id: pp.id.to_string(),
                endpoint: name.to_owned(),
                auth: auth_name.to_string(),
            }));
            return None;
        };
        vars.set_default("AUTH_ID", auth_name);
        *auth_id_set = vars.get("AUTH_ID") != Some(auth_name.as_str());
        vars.set_default("USERNAME", &auth.username);
        vars.set_default("SECRET", &auth.password);
    }
    Some(port)
}

/// A line ready to join its phone.
struct Derived {
    line: Line,
    mac: CompactString,
    /// The line's own `PROFILE`.
    own_profile: ProfileId,
    /// The profile whose setvars it got.
    profile: ProfileId,
    /// The object sets `AUTH_ID` to something else than its endpoint's auth.
    auth_id_set: bool,
}

/// One phoneprov object as a line (`None` when Asterisk would skip it), with its diagnostics in the order
/// Asterisk meets them: `load_endpoint`, then `ast_phoneprov_add_extension`'s `build_extension` and
/// `add_user_extension` with the setvars of `phone_profile` (the profile of the phone it joins; its own
/// when `None`).
fn derive(
    pp: &Phoneprov,
    phone_profile: Option<ProfileId>,
    inputs: &Inputs<'_>,
    setvars: &[Vec<(&str, Template)>],
    zones: &mut ZoneCache,
    scratch: &mut Scratch,
) -> (Option<Derived>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut auth_id_set = false;
    let Some(transport_protocol) =
        line_vars(pp, inputs, &mut scratch.vars, &mut auth_id_set, &mut diags)
    else {
        return (None, diags);
    };
    let Scratch { vars, out } = scratch;
    let mac = CompactString::from(vars.get("MAC").unwrap_or_default());
    let profile_name = CompactString::from(vars.get("PROFILE").unwrap_or_default());
    let Some(line_profile) = inputs.profiles.iter().position(|p| p.name == profile_name) else {
        let names: Vec<&str> = inputs.profiles.iter().map(|p| p.name.as_str()).collect();
        diags.push(pp.src.diag(Error::UnknownProfile {
            id: pp.id.to_string(),
            profile: profile_name.to_string(),
            suggestion: crate::suggest::closest(&profile_name, &names).map(str::to_owned),
        }));
        return (None, diags);
    };
    check_mac(pp, &mac, &mut diags);
    let own_profile = ProfileId::new(line_profile);
    let profile = phone_profile.unwrap_or(own_profile);

    // build_extension: LINE and LINEKEYS default to 1, then the time zone.
    let index = match vars.get("LINE") {
        Some(text) => crate::asterisk::scan_int(text.as_bytes()).map_or(0, |(n, _)| n),
        None => {
            vars.set("LINE", "1");
            1
        }
    };
    vars.set_default("LINEKEYS", "1");
    let zone = vars.get("TIMEZONE").map(CompactString::from);
    let (tz, unknown) = zones.vars(zone.as_deref(), inputs.now);
    if *unknown {
        diags.push(pp.src.diag(Error::UnknownTimezone {
            id: pp.id.to_string(),
            zone: zone.map(|z| z.to_string()).unwrap_or_default(),
        }));
    }
    for (name, value) in tz {
        vars.set_default(name, value);
    }

    // add_user_extension: the phone's profile's setvars, substituted with the line's variables so far.
    for (i, (name, template)) in setvars[profile.index()].iter().enumerate() {
        if vars.contains(name) {
            continue;
        }
        // Plain text (most setvars) needs no substitution.
        if let Some(text) = template.as_plain_text() {
            vars.set(name, text);
            continue;
        }
        let substituted = substitute_into(inputs.empty_world, template, vars, out);
        let at = inputs.profiles[profile.index()].setvar_locations.get(i);
        let mut report = |error: Error| {
            let diag = match at {
                Some(at) => Diagnostic::new(&*at.file, at.line, error),
                None => pp.src.diag(error),
            };
            if !diags.contains(&diag) {
                diags.push(diag);
            }
        };
        for issue in substituted.issues {
            report(Error::SetvarIssue {
                name: (*name).to_owned(),
                message: issue.message,
            });
        }
        for deleted in &substituted.deleted {
            if vars.remove(deleted) {
                report(Error::SetvarDeletes {
                    name: (*name).to_owned(),
                    variable: deleted.clone(),
                });
            }
        }
        vars.set(name, &String::from_utf8_lossy(out));
    }
    let line = Line {
        id: pp.id.as_str().into(),
        index,
        vars: vars.exact_copy(),
        transport_protocol,
        location: pp.src.location(),
    };
    let derived = Derived {
        line,
        mac,
        own_profile,
        profile,
        auth_id_set,
    };
    (Some(derived), diags)
}

/// `ast_phoneprov_add_extension`'s last step: the line joins the phone with its MAC (making it when there
/// is none yet), unless that phone has a line with its `LINE` already.
fn place(phones: &mut Phones, pp: &Phoneprov, derived: Derived, diags: &mut Vec<Diagnostic>) {
    let Derived {
        line: new_line,
        mac,
        profile,
        ..
    } = derived;
    let index = new_line.index;
    match phones.by_mac.get(mac.as_str()).copied() {
        None => {
            let at = phones.phones.len();
            if let Some(mac48) = crate::mac::Mac::parse(mac.as_str()) {
                std::sync::Arc::make_mut(&mut phones.by_mac48)
                    .entry(mac48)
                    .or_insert(at);
            }
            std::sync::Arc::make_mut(&mut phones.by_mac).insert(mac.clone(), at);
            phones.phones.push(std::sync::Arc::new(Phone {
                mac,
                profile,
                lines: vec![new_line],
                founding_line: 0,
            }));
        }
        Some(p) => {
            // Not shared yet: no copy.
            let phone = std::sync::Arc::make_mut(&mut phones.phones[p]);
            if let Some(kept) = phone.lines.iter().find(|l| l.index == index) {
                diags.push(pp.src.diag(Error::DuplicateLine {
                    id: pp.id.to_string(),
                    mac: mac.to_string(),
                    line: index,
                    kept: kept.id.to_string(),
                }));
                return;
            }
            let position = phone
                .lines
                .iter()
                .position(|l| index < l.index)
                .unwrap_or(phone.lines.len());
            phone.lines.insert(position, new_line);
            if position <= phone.founding_line {
                phone.founding_line += 1;
            }
        }
    }
}

/// What substituting a setvar or a route pattern gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Substituted {
    /// The text.
    pub text: String,
    /// What the substitution did that deserves a warning.
    pub issues: Vec<RenderIssue>,
    /// Variables it unlinked from the line, as Asterisk's `SET`, `INC`, `DEC`, `SHIFT` and `POP` do
    /// there (see [`crate::asterisk::render::Assignments::Asterisk`]).
    pub deleted: Vec<String>,
}

/// Substitutes `template` with `vars` and no phones, as Asterisk substitutes setvars and route patterns,
/// into `out` (cleared first, so one buffer serves many); the `text` returned is empty.
pub(crate) fn substitute_into(
    world: &World<'_>,
    template: &Template,
    vars: &Vars,
    out: &mut Vec<u8>,
) -> Substituted {
    // `${MAC}.cfg`, `admin-${LABEL}`: most patterns and setvars need no renderer.
    if template.render_plain_variables(vars, out) {
        return Substituted {
            text: String::new(),
            issues: Vec::new(),
            deleted: Vec::new(),
        };
    }
    let renderer = Renderer::for_config(world);
    let scope = Scope { vars, server: None };
    let result = template.render_into(&renderer, &scope, out, None);
    let mut issues = renderer.take_issues();
    if let Err(error) = result {
        out.clear();
        issues.push(RenderIssue {
            template: template.name().to_owned(),
            line: 1,
            message: format!("{error}; it is taken as empty"),
        });
    }
    Substituted {
        text: String::new(),
        issues,
        deleted: renderer.take_deleted(),
    }
}

fn check_mac(pp: &Phoneprov, mac: &str, diags: &mut Vec<Diagnostic>) {
    let problem = if mac.contains([':', '-', '.']) {
        Some(
            "has separators: phones ask for the 12 hex digits alone (write it as 0004f2aabbcc)"
                .to_owned(),
        )
    } else if mac.len() != 12 || !mac.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(format!("is not 12 hex digits ({} characters)", mac.len()))
    } else {
        None
    };
    if let Some(problem) = problem {
        diags.push(pp.src.diag(Error::MacFormat {
            id: pp.id.to_string(),
            mac: mac.to_owned(),
            problem,
        }));
    }
}

#[cfg(test)]
mod tests;
