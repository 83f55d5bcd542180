//! The lobby (issue #18): the file a name shaped like a phone's file gets when no secret may go with it —
//! its MAC is no configured phone's, or its phone may not have its credentials yet (`enrol`). It sets the
//! provisioning URL, the clock and a label saying the phone is not provisioned yet, and asks the phone to
//! come back soon; it never holds a credential.
//!
//! **What a lobby depends on.** The *shape* of the name (the profile's file it looks like), the MAC in the
//! name, the request's facts (`PROVISIONING_URL`, `UA_MODEL`...: [`crate::request`]) and a few settings
//! of the shape's profile: never whether a phone has the MAC, and never a phone's variables. So a known
//! phone that may not have its file yet and a MAC nobody configured get the same bytes (but for the MAC),
//! through the same code, with the same headers: an unauthenticated client cannot tell them apart.
//!
//! The lobby's context (Handlebars, the helpers of [`crate::hbs`]):
//!
//! | variable | what |
//! |---|---|
//! | `MAC` | the 12 hex digits of the name, lower case (`{{mac MAC ":" "upper"}}` to format) |
//! | `PROVISIONING_URL`, `PROVISIONING_*`, `SERVER_URL_HOST`, `UA_*` | the request's facts |
//! | `SERVER` | the address the phone connected to |
//! | `LOBBY_INTERVAL`, `LOBBY_INTERVAL_MINUTES` | `[profile:NAME] lobby_interval`, in seconds and minutes |
//! | `NTP_SERVER`, `TIMEZONE`, `LANGUAGE`, `COUNTRY`, `PROVISIONING_URL` | the profile's `setvar`s of these names, when their value is plain text (no `${...}`: a substitution could reach a line's variables) |
//! | `TZOFFSET`, `DST_*` | from the profile's `TIMEZONE`, else the host's zone |
//!
//! Why these and no more: they are what a phone needs to find its way back and show the right time, they
//! are the same for every phone of the profile, and none is a secret. A line's own `TIMEZONE` is not used
//! (it would be a phone's variable, and would tell its MAC is configured).
//!
//! Which template: `[profile:NAME] lobby = yes` takes `DIR/lobby-NAME.hbs` next to each per-phone file's
//! template `DIR/NAME.hbs` (when it exists), `lobby = TEMPLATE` that template for every per-phone file.
//! Several profiles may share a shape; they must agree on its lobby (same template, same content type,
//! same interval and profile settings), else the shape has none (a warning says so): a lobby that depends
//! on which profile a MAC is in would tell it.
//!
//! Rendered lobbies are cached per (shape, MAC, request facts) in a bounded LRU ([`CACHE`] entries, each a
//! few hundred bytes): a scanner asking for many MACs only evicts, never grows memory.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use bytes::Bytes;
use lru::LruCache;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::Snapshot;
use super::render::{RenderFailure, server_string};
use super::routes::{ShapeId, Target};
use crate::error::{Diagnostic, Error};
use crate::mac::Mac;
use crate::model::ProfileId;
use crate::request::{Needs, Request};
use crate::settings::Lobby;

/// Rendered lobbies kept at most.
pub const CACHE: usize = 4096;

/// Profile settings a lobby may see (plain values only).
const PROFILE_VARS: [&str; 5] = [
    "NTP_SERVER",
    "TIMEZONE",
    "LANGUAGE",
    "COUNTRY",
    "PROVISIONING_URL",
];

/// The lobby of one shape.
#[derive(Debug, Clone)]
struct LobbyFile {
    /// The template (its name in the registry).
    template: String,
    /// The content type (that of the profile's file).
    mime: Bytes,
    /// The profile-level part of the context.
    base: Map<String, Value>,
    /// Which facts of a request the template reads.
    needs: Needs,
}

/// The lobbies of a snapshot.
pub(super) struct Lobbies {
    by_shape: FxHashMap<ShapeId, LobbyFile>,
    registry: ::handlebars::Handlebars<'static>,
    cache: Mutex<LruCache<(ShapeId, Mac, Request), Bytes>>,
}

impl std::fmt::Debug for Lobbies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lobbies")
            .field("shapes", &self.by_shape.len())
            .finish_non_exhaustive()
    }
}

impl Default for Lobbies {
    fn default() -> Lobbies {
        Lobbies {
            by_shape: FxHashMap::default(),
            registry: crate::hbs::registry(false),
            cache: Mutex::new(LruCache::new(
                NonZeroUsize::new(CACHE).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

/// A rendered lobby.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LobbyBody {
    /// The bytes.
    pub body: Bytes,
    /// Its content type.
    pub mime: Bytes,
}

/// The bundled lobby of template `DIR/NAME.hbs`: `DIR/lobby-NAME.hbs`.
pub fn bundled_name(template: &str) -> Option<String> {
    if !template.ends_with(".hbs") {
        return None;
    }
    let (dir, file) = match template.rsplit_once('/') {
        Some((dir, file)) => (format!("{dir}/"), file),
        None => (String::new(), template),
    };
    Some(format!("{dir}lobby-{file}"))
}

/// What one profile's file asks of the shape's lobby.
#[derive(Debug, Clone, PartialEq)]
struct Choice {
    template: Option<String>,
    mime: String,
    base: Map<String, Value>,
}

impl Snapshot {
    /// Works out and compiles the lobby of every shape (after the routes are built).
    pub(super) fn build_lobbies(&mut self) {
        let mut lobbies = Lobbies::default();
        let mut diags = Vec::new();
        let settings = &self.settings;
        let any =
            (0..self.profiles.len()).any(|p| settings.lobby(ProfileId::new(p)).lobby != Lobby::Off);
        if !any {
            self.lobbies = lobbies;
            return;
        }
        // The shape of each per-phone file of each profile some phone uses: one route of each suffices.
        let mut used = vec![false; self.profiles.len()];
        for phone in &self.phones.phones {
            if let Some(slot) = used.get_mut(phone.profile.index()) {
                *slot = true;
            }
        }
        let mut wanted: Vec<(usize, usize)> = self
            .profiles
            .iter()
            .enumerate()
            .filter(|(p, _)| used[*p])
            .flat_map(|(p, profile)| {
                profile
                    .dynamic_files
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.pattern.contains('$'))
                    .map(move |(f, _)| (p, f))
            })
            .collect();
        let mut shapes: FxHashMap<ShapeId, (Vec<(usize, usize)>, String)> = FxHashMap::default();
        for route in self.routes() {
            if wanted.is_empty() {
                break;
            }
            let Target::Dynamic { file, .. } = route.target else {
                continue;
            };
            let pair = (route.profile.index(), file);
            let Some(at) = wanted.iter().position(|w| *w == pair) else {
                continue;
            };
            wanted.swap_remove(at);
            // A route with a `*` (`snom*-<MAC>.htm`) is found by the names it stands for: one of them.
            let name = route.uri.replace('*', "x");
            let Some((mac, shape)) = self.phone_shaped(&name) else {
                continue;
            };
            let example = shown_shape(&route.uri, mac);
            let entry = shapes.entry(shape).or_insert_with(|| (Vec::new(), example));
            entry.0.push(pair);
        }
        let mut compiled: FxHashMap<String, Option<Needs>> = FxHashMap::default();
        for (shape, (pairs, example)) in shapes {
            let choices: Vec<Choice> = pairs
                .iter()
                .map(|&(p, f)| self.lobby_choice(p, f))
                .collect();
            let first = &choices[0];
            let Some(template) = first.template.clone() else {
                if choices.iter().any(|c| c.template.is_some()) {
                    diags.push(self.disagreement(&pairs, &example));
                }
                continue;
            };
            if choices.iter().any(|c| c != first) {
                diags.push(self.disagreement(&pairs, &example));
                continue;
            }
            let needs = *compiled
                .entry(template.clone())
                .or_insert_with(|| self.compile_lobby(&template, &mut lobbies, &mut diags, &pairs));
            let Some(needs) = needs else {
                continue;
            };
            lobbies.by_shape.insert(
                shape,
                LobbyFile {
                    template,
                    mime: Bytes::from(first.mime.trim().to_owned()),
                    base: first.base.clone(),
                    needs,
                },
            );
        }
        self.diagnostics.extend(diags);
        self.lobbies = lobbies;
    }

    /// The lobby file `f` of profile `p` asks for: its template (`None`: none), content type and the
    /// profile's part of the context.
    fn lobby_choice(&self, p: usize, f: usize) -> Choice {
        let profile = &self.profiles[p];
        let file = &profile.dynamic_files[f];
        let settings = self.settings.lobby(ProfileId::new(p));
        let template = match &settings.lobby {
            Lobby::Off => None,
            Lobby::Template(name) => Some(name.clone()),
            Lobby::Bundled => {
                bundled_name(&file.template).filter(|name| self.templates.locate(name).is_ok())
            }
        };
        let mut base = Map::new();
        for (name, value) in &profile.setvars {
            if PROFILE_VARS.contains(&name.as_str()) && !value.contains('$') {
                base.insert(name.clone(), Value::from(value.as_str()));
            }
        }
        let zone = base
            .get("TIMEZONE")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let (tz, _) = crate::tz::timezone_vars(zone.as_deref(), self.now);
        for (name, value) in tz.variables() {
            base.insert(name.into(), Value::from(value.to_string()));
        }
        let seconds = settings.interval.as_secs();
        base.insert("LOBBY_INTERVAL".into(), Value::from(seconds.to_string()));
        base.insert(
            "LOBBY_INTERVAL_MINUTES".into(),
            Value::from(seconds.div_ceil(60).max(1).to_string()),
        );
        Choice {
            template,
            mime: file.mime.clone(),
            base,
        }
    }

    fn disagreement(&self, pairs: &[(usize, usize)], example: &str) -> Diagnostic {
        let names: Vec<&str> = pairs
            .iter()
            .map(|&(p, _)| self.profiles[p].name.as_str())
            .collect();
        let (p, _) = pairs[0];
        let at = self
            .settings
            .lobby(ProfileId::new(p))
            .at
            .clone()
            .unwrap_or_else(|| {
                let location = &self.profiles[p].location;
                (location.file.to_path_buf(), location.line)
            });
        Diagnostic::new(
            at.0,
            at.1,
            Error::LobbyNote {
                message: format!(
                    "profiles {} share the file name {example} but not its lobby (template, content type, \
                     lobby_interval or their NTP_SERVER/TIMEZONE/LANGUAGE/COUNTRY/PROVISIONING_URL setvars): \
                     that name gets no lobby, since its lobby would tell which profile a MAC is in; give them \
                     the same lobby",
                    names.join(", ")
                ),
            },
        )
    }

    /// Compiles lobby template `name`; its needs, or `None` (with an error) when it cannot serve.
    fn compile_lobby(
        &self,
        name: &str,
        lobbies: &mut Lobbies,
        diags: &mut Vec<Diagnostic>,
        pairs: &[(usize, usize)],
    ) -> Option<Needs> {
        let (p, _) = pairs[0];
        let at = self.settings.lobby(ProfileId::new(p)).at.clone();
        let report =
            |diags: &mut Vec<Diagnostic>, path: std::path::PathBuf, line: u32, message: String| {
                let (file, line) = match &at {
                    Some((file, written)) if line == 0 => (file.clone(), *written),
                    _ => (path, line),
                };
                diags.push(Diagnostic::new(
                    file,
                    line,
                    Error::LobbyTemplate {
                        template: name.to_owned(),
                        message,
                    },
                ));
            };
        let first_root = self.templates.roots()[0].join(name);
        let path = match self.templates.locate(name) {
            Ok(path) => path,
            Err(problem) => {
                report(
                    diags,
                    first_root,
                    0,
                    format!(
                        "{problem:?}: no lobby is served for these names (write an existing .hbs under {}, or \
                         lobby = yes for the bundled ones)",
                        self.templates.roots_text()
                    ),
                );
                return None;
            }
        };
        let source = match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                report(diags, path, 0, "it is not UTF-8 text".into());
                return None;
            }
            Err(e) => {
                report(diags, path, 0, format!("cannot be read: {e}"));
                return None;
            }
        };
        if crate::hbs::mentions_secret(&source) {
            report(
                diags,
                path,
                0,
                "a lobby must hold no secret, and this template names one (SECRET, a PASSWORD...): it is not served"
                    .into(),
            );
            return None;
        }
        if let Err(error) = lobbies.registry.register_template_string(name, &source) {
            let line = error.pos().map_or(0, |(line, _)| line as u32);
            report(diags, path, line, error.reason().to_string());
            return None;
        }
        Some(Needs::of(source.as_bytes()))
    }

    /// Whether names of `shape` get a lobby, and from which template.
    pub fn lobby_template(&self, shape: ShapeId) -> Option<&str> {
        self.lobbies
            .by_shape
            .get(&shape)
            .map(|l| l.template.as_str())
    }

    /// The lobby for a name of `shape` with `mac` in it, for `request`: `None` when the shape has none.
    /// Whether a phone has `mac` plays no part (the module documentation says why).
    pub fn lobby(
        &self,
        shape: ShapeId,
        mac: Mac,
        request: Request,
    ) -> Option<Result<LobbyBody, RenderFailure>> {
        let lobby = self.lobbies.by_shape.get(&shape)?;
        let request = request.with_match(None).narrowed(lobby.needs);
        let key = (shape, mac, request);
        let hit = self
            .lobbies
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let body = match hit {
            Some(body) => body,
            None => {
                let (shape, mac, request) = key;
                let mut context = lobby.base.clone();
                for (name, value) in request.vars().iter() {
                    // The profile's PROVISIONING_URL, when it sets one, wins over the request's.
                    context
                        .entry(name.to_owned())
                        .or_insert_with(|| Value::from(value));
                }
                context.insert("MAC".into(), Value::from(mac.to_string()));
                context.insert("SERVER".into(), Value::from(server_string(request.server)));
                let rendered = match self
                    .lobbies
                    .registry
                    .render(&lobby.template, &Value::Object(context))
                {
                    Ok(text) => Bytes::from(text),
                    Err(e) => return Some(Err(RenderFailure::Handlebars(e.to_string()))),
                };
                self.lobbies
                    .cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .put((shape, mac, request), rendered.clone());
                rendered
            }
        };
        Some(Ok(LobbyBody {
            body,
            mime: lobby.mime.clone(),
        }))
    }
}

/// `uri` with `mac`'s 12 digits shown as `<mac>` (for messages).
fn shown_shape(uri: &str, mac: Mac) -> String {
    let digits = mac.to_string();
    let lower = uri.to_ascii_lowercase();
    match lower.find(&digits) {
        Some(at) => format!("'{}<mac>{}'", &uri[..at], &uri[at + 12..]),
        None => format!("'{uri}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_names() {
        assert_eq!(
            bundled_name("yealink/mac.cfg.hbs").as_deref(),
            Some("yealink/lobby-mac.cfg.hbs")
        );
        assert_eq!(
            bundled_name("mac.cfg.hbs").as_deref(),
            Some("lobby-mac.cfg.hbs")
        );
        assert_eq!(
            bundled_name("polycom.cfg"),
            None,
            "Asterisk templates have none"
        );
    }

    #[test]
    fn shapes_are_shown_with_a_placeholder() {
        let mac = Mac::parse("0004f2aabbcc").unwrap();
        assert_eq!(shown_shape("0004F2AABBCC-web.cfg", mac), "'<mac>-web.cfg'");
        assert_eq!(shown_shape("cfg0004f2aabbcc.xml", mac), "'cfg<mac>.xml'");
    }
}
