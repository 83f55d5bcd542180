//! The route table: every URI a snapshot answers, and what a name that is no route is about.
//!
//! Routes are built as res_phoneprov builds them: each profile's static files, then each phone's dynamic
//! files (its profile's patterns substituted with the variables of the line that created it). Two routes
//! with one URI: the first answers, as in Asterisk. A pattern without variables names one file that every
//! phone of the profile shares (a boot file, a common config): it is rendered with the variables of the
//! first phone that names it (Asterisk's bytes), but it is no phone's own file ([`Target::Shared`]).
//!
//! Names of per-phone routes with their MAC taken out are *shapes* (`prefix` + 12 hex digits + `suffix`):
//! a name of that shape that is no route is what a scanner asks for. Several profiles may share a shape;
//! access control then judges an unknown MAC by the strictest of their policies, so the answer does not
//! tell which profile, if any, the MAC belongs to.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use bytes::Bytes;
use rustc_hash::FxHashMap;

use super::Snapshot;
use super::carry::{Cached, TemplateDigest};
use super::wildcard::{Wildcard, WildcardIndex};
use crate::asterisk::Template;
use crate::asterisk::render::World;
use crate::error::{Diagnostic, Error};
use crate::mac::Mac;
use crate::model::{Location, PhoneId, ProfileId};
use crate::phones;
use crate::profile;
use crate::templates::{FileProblem, resolve_inside};
use crate::vars::Vars;

mod reuse;

/// What a route answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file sent as it is.
    Static {
        /// Its name under the phoneprov directory (`staticdir` + name), to resolve again at each request.
        relative: String,
        /// Where it was when the snapshot was built.
        path: std::path::PathBuf,
    },
    /// A template rendered for one phone: its file.
    Dynamic {
        /// The phone.
        phone: PhoneId,
        /// Index of the file in its profile's [`crate::Profile::dynamic_files`].
        file: usize,
    },
    /// A template whose name has no variables: one file shared by every phone of the profile, rendered with
    /// the variables of `phone`, the first phone that names it (as Asterisk renders it).
    Shared {
        /// The phone whose variables render it.
        phone: PhoneId,
        /// Index of the file in the profile's [`crate::Profile::dynamic_files`].
        file: usize,
    },
}

impl Target {
    /// The phone whose variables render this route, and the file of its profile: `None` for static files.
    pub fn rendered(&self) -> Option<(PhoneId, usize)> {
        match *self {
            Target::Dynamic { phone, file } | Target::Shared { phone, file } => Some((phone, file)),
            Target::Static { .. } => None,
        }
    }
}

/// One URI pjprov answers.
#[derive(Debug)]
pub struct Route {
    /// The URI below `/phoneprov/`.
    pub uri: String,
    /// Its content type, shared with the other routes of its profile file.
    mime: Arc<Mime>,
    /// The profile that defines it.
    pub profile: ProfileId,
    /// What it serves.
    pub target: Target,
    /// When its name has a `*`: what it matches.
    wildcard: Option<Box<Wildcard>>,
    /// Its place in its table: what a snapshot rendered for it is that snapshot's [`Bodies`] at this place.
    index: u32,
}

/// What one snapshot rendered for one route. Routes outlive a snapshot when the next one names the same
/// files (`reuse.rs`); their bodies never do, but for those carried by render key ([`super::carry`]).
#[derive(Debug, Default)]
pub(super) struct Bodies {
    /// Its rendered bodies, by request facts, with their render keys.
    pub cache: RwLock<Vec<Cached>>,
    /// The bodies the route of the same name in the previous snapshot had.
    pub carried: Mutex<Vec<Cached>>,
}

/// A content type, shared by every route of one profile file.
#[derive(Debug, Clone)]
pub(super) struct Mime {
    text: Arc<str>,
    bytes: Bytes,
}

impl Mime {
    fn new(mime: &str) -> Arc<Mime> {
        Arc::new(Mime {
            text: mime.into(),
            bytes: Bytes::from(mime.trim().to_owned()),
        })
    }
}

impl Route {
    fn new(uri: String, mime: &Arc<Mime>, profile: ProfileId, target: Target) -> Route {
        Route {
            wildcard: Wildcard::parse(&uri).ok().flatten().map(Box::new),
            uri,
            mime: mime.clone(),
            profile,
            target,
            index: 0,
        }
    }

    /// Its content type, as phoneprov.conf gives it.
    pub fn mime(&self) -> &str {
        &self.mime.text
    }

    /// Its content type trimmed, as shared bytes (cheap to put in every response).
    pub fn mime_bytes(&self) -> Bytes {
        self.mime.bytes.clone()
    }

    /// For a route whose name has a `*` (see [`super::wildcard`]), the part of `name` it stands for.
    pub fn wildcard_match<'n>(&self, name: &'n str) -> Option<&'n str> {
        self.wildcard.as_ref()?.matches(name)
    }
}

/// One shape of per-phone names (its position in the snapshot's shape list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShapeId(u32);

/// A per-phone route name with its MAC taken out: `prefix` + 12 hex digits + `suffix` (lower case), and
/// every profile whose routes have it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    prefix: String,
    suffix: String,
    profiles: Vec<ProfileId>,
}

impl Shape {
    /// The MAC in `name` when `name` has this shape (a `*` in the prefix or suffix, from a wildcard route,
    /// matching as [`Wildcard`] does).
    fn mac_in(&self, name: &str) -> Option<Mac> {
        let part_matches = |pattern: &str, text: &str| match Wildcard::parse(pattern) {
            Ok(Some(wildcard)) => wildcard.matches(text).is_some(),
            _ => text.eq_ignore_ascii_case(pattern),
        };
        // The MAC sits after the prefix, or (when the prefix has the `*`) before the suffix.
        let at = if self.prefix.contains('*') {
            name.len().checked_sub(self.suffix.len() + 12)?
        } else {
            self.prefix.len()
        };
        let head = name.get(..at)?;
        let middle = name.get(at..at + 12)?;
        let tail = name.get(at + 12..)?;
        if !part_matches(&self.prefix, head) || !part_matches(&self.suffix, tail) {
            return None;
        }
        Mac::from_hex12(middle.as_bytes()).filter(|m| !m.is_placeholder())
    }
}

/// What a request is about, as access control needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A file rendered for one phone (it holds that phone's secrets).
    Phone {
        /// The phone.
        phone: PhoneId,
        /// Its profile.
        profile: ProfileId,
        /// Its MAC, when the configured MAC is a valid one.
        mac: Option<Mac>,
    },
    /// A file no single phone owns: a static file, or a dynamic file whose name has no variables.
    Shared {
        /// The profile that serves it.
        profile: ProfileId,
        /// Whether its template reads a per-phone secret (then it carries the first phone's secret, and is
        /// protected like a phone's file: `check` warns).
        secret: bool,
    },
    /// No route, but shaped like some phone's file: the MAC in it, and the phone with that MAC if there is
    /// one. Judged alike whether the phone exists or not.
    PhoneShaped {
        /// The MAC in the name.
        mac: Mac,
        /// The phone with that MAC, if any.
        phone: Option<PhoneId>,
        /// The shape: [`Snapshot::shape_profiles`] lists the profiles whose routes have it.
        shape: ShapeId,
    },
    /// Anything else: it answers 404 for everyone.
    Other,
}

/// The routes of a snapshot, how names find them, and what it rendered.
#[derive(Debug, Default)]
pub(super) struct RouteTable {
    /// The routes: those of the snapshot this one was patched from when they are the same ([`reuse`]).
    names: Arc<Names>,
    /// What this snapshot rendered, by [`Route::index`].
    bodies: Box<[Bodies]>,
    /// For each profile and dynamic file: whether its template reads a per-phone secret.
    pub secret_templates: Vec<Vec<bool>>,
    /// For each profile and dynamic file: which facts of a request its template reads.
    pub needs: Vec<Vec<crate::request::Needs>>,
    /// For each profile and dynamic file: what its template's output depends on besides its context
    /// (`None`: its bodies are never carried to the next snapshot).
    pub digests: Vec<Vec<Option<TemplateDigest>>>,
    /// Whether the routes are those of the snapshot this one was patched from ([`reuse`]).
    pub reused: bool,
}

impl RouteTable {
    /// What this snapshot rendered for `route`; `None` for a route of another table.
    pub fn bodies(&self, route: &Route) -> Option<&Bodies> {
        let index = route.index as usize;
        let ours = self
            .names
            .routes
            .get(index)
            .is_some_and(|r| std::ptr::eq(r, route));
        if ours { self.bodies.get(index) } else { None }
    }

    /// Every route, with what this snapshot rendered for it.
    pub fn with_bodies(&self) -> impl Iterator<Item = (&Route, &Bodies)> {
        self.names.routes.iter().zip(self.bodies.iter())
    }
}

/// Routes and how names find them: immutable once built, shared by the snapshots that name the same files.
#[derive(Debug, Default)]
struct Names {
    routes: Vec<Route>,
    /// Routes by the hash of their URI (and by the hash of its lower case): no copy of any URI.
    exact: UriIndex,
    folded: UriIndex,
    wildcards: WildcardIndex,
    shapes: Vec<Shape>,
    /// Each phone's own routes, built the first time they are asked for: going through every route for
    /// each phone made everything that visits every phone (the comparison after a reload, `pjprov list`)
    /// quadratic, 50 s for 100,000 phones.
    by_phone: OnceLock<PhoneRoutes>,
    /// How many routes are static files (they come first).
    statics: usize,
    /// Whether building the phones' routes reported anything (routes that did are never reused: what it
    /// reported depends on more than the phone it is about).
    phone_problems: bool,
}

/// Each profile's route patterns, parsed once, and the content type each profile file's routes share.
struct Patterns {
    parsed: Vec<Vec<Template>>,
    mimes: Vec<Vec<Arc<Mime>>>,
}

impl Patterns {
    fn of(profiles: &[crate::Profile]) -> Patterns {
        Patterns {
            parsed: profiles
                .iter()
                .map(|p| {
                    p.dynamic_files
                        .iter()
                        .map(|f| Template::parse("phoneprov.conf", f.pattern.as_bytes()))
                        .collect()
                })
                .collect(),
            mimes: profiles
                .iter()
                .map(|p| p.dynamic_files.iter().map(|f| Mime::new(&f.mime)).collect())
                .collect(),
        }
    }
}

/// The indices of each phone's dynamic routes, in route order: phone `p`'s are
/// `routes[starts[p]..starts[p + 1]]`.
#[derive(Debug, Default)]
struct PhoneRoutes {
    starts: Vec<u32>,
    routes: Vec<u32>,
}

impl PhoneRoutes {
    fn build(routes: &[Route]) -> PhoneRoutes {
        let phone_of = |route: &Route| match route.target {
            Target::Dynamic { phone, .. } => Some(phone.index()),
            _ => None,
        };
        let phones = routes
            .iter()
            .filter_map(phone_of)
            .max()
            .map_or(0, |p| p + 1);
        // Counts, then running sums: where each phone's indices start.
        let mut starts = vec![0u32; phones + 1];
        for phone in routes.iter().filter_map(phone_of) {
            starts[phone + 1] += 1;
        }
        for p in 0..phones {
            starts[p + 1] += starts[p];
        }
        let mut next = starts.clone();
        let mut indices = vec![0u32; starts[phones] as usize];
        for (index, route) in routes.iter().enumerate() {
            if let Some(phone) = phone_of(route) {
                indices[next[phone] as usize] = u32::try_from(index).unwrap_or(u32::MAX);
                next[phone] += 1;
            }
        }
        PhoneRoutes {
            starts,
            routes: indices,
        }
    }

    fn of(&self, phone: PhoneId) -> &[u32] {
        let p = phone.index();
        match (self.starts.get(p), self.starts.get(p + 1)) {
            (Some(&start), Some(&end)) => {
                self.routes.get(start as usize..end as usize).unwrap_or(&[])
            }
            _ => &[],
        }
    }
}

impl Names {
    /// The route for `uri`: exact first, then ignoring case, then the wildcards.
    ///
    /// A wildcard never stands in for a phone's own file: a name shaped like some phone's file
    /// (`snomD785-<MAC>.htm`, `f0a1b2c3d4e5.cfg`) finds only a per-phone route, so an unknown MAC in it
    /// answers 404 like every other unknown MAC, not the shared file `snom*.htm` or `f0*.cfg` names.
    fn find(&self, uri: &str) -> Option<&Route> {
        let index = match self.exact.get(&self.routes, uri, false) {
            Some(index) => Some(index),
            None => self.folded.get(&self.routes, uri, true).or_else(|| {
                if self.wildcards.is_empty() {
                    return None;
                }
                let index = self.wildcards.find(uri)?;
                let per_phone = matches!(self.routes[index].target, Target::Dynamic { .. });
                (per_phone || self.shaped(uri).is_none()).then_some(index)
            }),
        }?;
        self.routes.get(index)
    }

    /// The MAC and shape of a name shaped like a per-phone route.
    fn shaped(&self, name: &str) -> Option<(Mac, ShapeId)> {
        self.shapes.iter().enumerate().find_map(|(index, shape)| {
            let mac = shape.mac_in(name)?;
            Some((mac, ShapeId(u32::try_from(index).unwrap_or(u32::MAX))))
        })
    }

    /// Room for `additional` more routes, in the list and in both name indexes: a table of 100,000 phones
    /// is not rehashed 17 times over as it grows.
    fn reserve(&mut self, additional: usize) {
        self.routes.reserve(additional);
        self.exact.by_hash.reserve(additional);
        self.folded.by_hash.reserve(additional);
    }

    fn add(&mut self, mut route: Route) {
        let index = self.routes.len();
        route.index = u32::try_from(index).unwrap_or(u32::MAX);
        self.exact.insert(&self.routes, &route.uri, index, false);
        self.folded.insert(&self.routes, &route.uri, index, true);
        if let Some(wildcard) = &route.wildcard {
            self.wildcards.add(Wildcard::clone(wildcard), index);
        }
        self.routes.push(route);
    }
}

/// Route indices by the hash of a URI, exactly or ignoring ASCII case. Names that collide keep the first
/// route in the map and the others in a small list checked after it.
#[derive(Debug, Default)]
struct UriIndex {
    by_hash: FxHashMap<u64, u32>,
    collided: Vec<u32>,
}

impl UriIndex {
    fn hash(uri: &str, fold: bool) -> u64 {
        use std::hash::Hasher;
        let mut hasher = rustc_hash::FxHasher::default();
        if fold {
            for b in uri.bytes() {
                hasher.write_u8(b.to_ascii_lowercase());
            }
        } else {
            hasher.write(uri.as_bytes());
        }
        hasher.write_usize(uri.len());
        hasher.finish()
    }

    fn same(route: &str, uri: &str, fold: bool) -> bool {
        if fold {
            route.eq_ignore_ascii_case(uri)
        } else {
            route == uri
        }
    }

    /// Adds route `index` named `uri`, unless a route of that name (in that sense) is there already.
    fn insert(&mut self, routes: &[Route], uri: &str, index: usize, fold: bool) {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        match self.by_hash.entry(Self::hash(uri, fold)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
            }
            std::collections::hash_map::Entry::Occupied(slot) => {
                let first = &routes[*slot.get() as usize].uri;
                if !Self::same(first, uri, fold) && self.get(routes, uri, fold).is_none() {
                    self.collided.push(index);
                }
            }
        }
    }

    fn get(&self, routes: &[Route], uri: &str, fold: bool) -> Option<usize> {
        let at = *self.by_hash.get(&Self::hash(uri, fold))? as usize;
        if Self::same(&routes.get(at)?.uri, uri, fold) {
            return Some(at);
        }
        self.collided
            .iter()
            .map(|&i| i as usize)
            .find(|&i| routes.get(i).is_some_and(|r| Self::same(&r.uri, uri, fold)))
    }
}

impl Snapshot {
    /// Every route, static ones first.
    pub fn routes(&self) -> &[Route] {
        &self.routes.names.routes
    }

    /// The route for `uri` (below `/phoneprov/`): exact first, then ignoring case (pjprov differs: Asterisk
    /// matches exactly).
    pub fn route(&self, uri: &str) -> Option<&Route> {
        self.routes.names.find(uri)
    }

    /// The routes rendered for phone `phone` (its own files, and the shared files it renders).
    pub fn routes_of(&self, phone: PhoneId) -> impl Iterator<Item = &Route> {
        let names = &*self.routes.names;
        names
            .by_phone
            .get_or_init(|| PhoneRoutes::build(&names.routes))
            .of(phone)
            .iter()
            .filter_map(|&index| names.routes.get(index as usize))
    }

    /// The template of a dynamic or shared route.
    pub fn template_name(&self, route: &Route) -> Option<&str> {
        let (_, file) = route.target.rendered()?;
        let profile = self.profiles.get(route.profile.index())?;
        Some(&profile.dynamic_files.get(file)?.template)
    }

    /// The MAC of a per-phone route's phone.
    pub fn route_mac(&self, route: &Route) -> Option<Mac> {
        match route.target {
            Target::Dynamic { phone, .. } => Mac::parse(&self.phone(phone)?.mac),
            Target::Shared { .. } | Target::Static { .. } => None,
        }
    }

    /// What a request for `name` (below `/phoneprov/`, with `route` its route if it has one) is about.
    pub fn subject(&self, name: &str, route: Option<&Route>) -> Subject {
        match route {
            Some(route) => match route.target {
                Target::Dynamic { phone, .. } => Subject::Phone {
                    phone,
                    profile: route.profile,
                    mac: self.route_mac(route),
                },
                Target::Shared { file, .. } => Subject::Shared {
                    profile: route.profile,
                    secret: self
                        .routes
                        .secret_templates
                        .get(route.profile.index())
                        .and_then(|files| files.get(file))
                        .copied()
                        .unwrap_or(false),
                },
                Target::Static { .. } => Subject::Shared {
                    profile: route.profile,
                    secret: false,
                },
            },
            None => match self.phone_shaped(name) {
                Some((mac, shape)) => Subject::PhoneShaped {
                    mac,
                    phone: self.phone_id(mac),
                    shape,
                },
                None => Subject::Other,
            },
        }
    }

    /// The profiles whose per-phone routes have `shape`, in phoneprov.conf order.
    pub fn shape_profiles(&self, shape: ShapeId) -> &[ProfileId] {
        self.routes
            .names
            .shapes
            .get(shape.0 as usize)
            .map_or(&[], |s| &s.profiles)
    }

    /// Whether `name` is shaped like a per-phone route of some profile (the name of a phone's file with
    /// another MAC in it), and the MAC it names. Names no route has the shape of (vendor probes such as
    /// `y000000000025.cfg`, `<mac>.boot` when nothing serves `.boot`) are not: they answer 404 for every
    /// MAC, so they reveal nothing.
    pub fn phone_shaped(&self, name: &str) -> Option<(Mac, ShapeId)> {
        self.routes.names.shaped(name)
    }

    /// Builds the route table (static files, then each phone's dynamic files) and the shapes. After a
    /// patched reload (`patched_from`: the snapshot it was patched from), the phones' routes are that
    /// snapshot's when they name the same files ([`reuse`]). Returns whether a route pattern changed a
    /// phone's variables (`SET` & co.).
    pub(super) fn build_routes(
        &mut self,
        world: &World<'_>,
        patched_from: Option<&Snapshot>,
    ) -> bool {
        let mut diags = Vec::new();
        let mut names = Names::default();
        self.add_static_routes(&mut names, &mut diags);
        names.statics = names.routes.len();
        let patterns = Patterns::of(&self.profiles);
        let reused = patched_from
            .and_then(|previous| self.routes_to_reuse(previous, &names, &patterns, world));
        let mut unlinked = Vec::new();
        let mut table = RouteTable {
            reused: reused.is_some(),
            ..RouteTable::default()
        };
        let names = match reused {
            Some(names) => names,
            None => {
                let before = diags.len();
                unlinked = self.add_phone_routes(&mut names, &patterns, world, &mut diags);
                names.phone_problems = diags.len() > before;
                names.shapes = self.shapes_of(&names.routes);
                Arc::new(names)
            }
        };
        table.bodies = names.routes.iter().map(|_| Bodies::default()).collect();
        table.names = names;
        self.template_facts(&mut table);
        let unlinked_any = !unlinked.is_empty();
        for (index, mut vars) in unlinked {
            let phone = Arc::make_mut(&mut self.phones.phones[index]);
            vars.shrink_to_fit();
            phone.lines[phone.founding_line].vars = vars;
        }
        self.shared_secret_warnings(&table, &mut diags);
        self.routes = table;
        self.diagnostics.extend(diags);
        unlinked_any
    }

    /// Each profile's static files.
    fn add_static_routes(&self, names: &mut Names, diags: &mut Vec<Diagnostic>) {
        let dir = self.paths.phoneprov_dir();
        for (p, profile) in self.profiles.iter().enumerate() {
            for file in &profile.static_files {
                let path = match resolve_inside(&dir, &file.path) {
                    Ok(path) => path,
                    Err(FileProblem::Outside) => {
                        diags.push(diag_at(
                            &file.location,
                            Error::OutsideDataDir {
                                profile: profile.name.clone(),
                                path: file.path.clone(),
                                dir: dir.display().to_string(),
                            },
                        ));
                        continue;
                    }
                    Err(FileProblem::Missing(_) | FileProblem::Unreadable(_)) => {
                        diags.push(diag_at(
                            &file.location,
                            Error::StaticFileMissing {
                                profile: profile.name.clone(),
                                path: dir.join(&file.path).display().to_string(),
                                uri: file.uri.clone(),
                            },
                        ));
                        dir.join(&file.path)
                    }
                };
                if Wildcard::parse(&file.uri).is_err() {
                    diags.push(diag_at(
                        &file.location,
                        Error::RouteWildcards {
                            uri: file.uri.clone(),
                        },
                    ));
                    continue;
                }
                let route = Route::new(
                    file.uri.clone(),
                    &Mime::new(&file.mime),
                    ProfileId::new(p),
                    Target::Static {
                        relative: file.path.clone(),
                        path,
                    },
                );
                self.add_route(names, route, diags);
            }
        }
    }

    /// For each profile's dynamic files: whether its template reads a secret, which request facts it
    /// reads, and its digest.
    fn template_facts(&self, table: &mut RouteTable) {
        table.secret_templates = per_file(&self.profiles, |name| self.template_reads_secret(name));
        table.needs = per_file(&self.profiles, |name| self.template_needs(name));
        table.digests = per_file(&self.profiles, |name| self.template_digest(name));
    }

    /// Each phone's dynamic files, in phone order; returns the variables a pattern unlinked from a phone's
    /// first line (Asterisk's `SET` in a route pattern), by phone.
    fn add_phone_routes(
        &self,
        names: &mut Names,
        patterns: &Patterns,
        world: &World<'_>,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<(usize, Vars)> {
        let mut shared_done: Vec<(ProfileId, usize)> = Vec::new();
        let mut unlinked: Vec<(usize, Vars)> = Vec::new();
        // One buffer for every substitution.
        let mut out = Vec::new();
        names.reserve(
            self.phones.phones.len() * patterns.parsed.iter().map(Vec::len).max().unwrap_or(0),
        );
        for (index, phone) in self.phones.phones.iter().enumerate() {
            let profile_id = phone.profile;
            let Some(profile) = self.profiles.get(profile_id.index()) else {
                continue;
            };
            let mut vars = Cow::Borrowed(&phone.lines[phone.founding_line].vars);
            for (f, file) in profile.dynamic_files.iter().enumerate() {
                let pattern = &patterns.parsed[profile_id.index()][f];
                let shared = !file.pattern.contains('$');
                if shared {
                    if shared_done.contains(&(profile_id, f)) {
                        // Every phone of the profile names it; the first one answers, and that is no
                        // mistake.
                        continue;
                    }
                    shared_done.push((profile_id, f));
                }
                let substituted = match pattern.as_plain_text() {
                    Some(text) => phones::Substituted {
                        text: text.to_owned(),
                        issues: Vec::new(),
                        deleted: Vec::new(),
                    },
                    None => {
                        let mut done = phones::substitute_into(world, pattern, &vars, &mut out);
                        done.text = String::from_utf8_lossy(&out).into_owned();
                        done
                    }
                };
                let mut report = |error: Error| {
                    let diag = diag_at(&file.location, error);
                    if !diags.contains(&diag) {
                        diags.push(diag);
                    }
                };
                for issue in substituted.issues {
                    report(Error::RoutePatternIssue {
                        pattern: file.pattern.clone(),
                        message: issue.message,
                    });
                }
                for deleted in &substituted.deleted {
                    if vars.to_mut().remove(deleted) {
                        report(Error::RoutePatternDeletes {
                            pattern: file.pattern.clone(),
                            mac: phone.mac.to_string(),
                            variable: deleted.clone(),
                        });
                    }
                }
                let uri = substituted.text;
                if uri.is_empty() {
                    report(Error::EmptyRoute {
                        pattern: file.pattern.clone(),
                        mac: phone.mac.to_string(),
                    });
                }
                if Wildcard::parse(&uri).is_err() {
                    report(Error::RouteWildcards { uri });
                    continue;
                }
                let phone_id = PhoneId::new(index);
                let target = if shared {
                    Target::Shared {
                        phone: phone_id,
                        file: f,
                    }
                } else {
                    Target::Dynamic {
                        phone: phone_id,
                        file: f,
                    }
                };
                let route = Route::new(
                    uri,
                    &patterns.mimes[profile_id.index()][f],
                    profile_id,
                    target,
                );
                self.add_route(names, route, diags);
            }
            if let Cow::Owned(vars) = vars {
                unlinked.push((index, vars));
            }
        }
        unlinked
    }

    /// A warning for each file whose name has no variables (one file every phone of the profile shares)
    /// whose template reads a per-phone secret.
    fn shared_secret_warnings(&self, table: &RouteTable, diags: &mut Vec<Diagnostic>) {
        for (p, profile) in self.profiles.iter().enumerate() {
            for (f, file) in profile.dynamic_files.iter().enumerate() {
                if table.secret_templates[p][f]
                    && !file.pattern.contains('$')
                    && table.names.routes.iter().any(|r| {
                        matches!(r.target, Target::Shared { file, .. } if file == f)
                            && r.profile.index() == p
                    })
                {
                    diags.push(diag_at(
                        &file.location,
                        Error::SharedFileWithSecret {
                            profile: profile.name.clone(),
                            uri: file.pattern.clone(),
                            template: file.template.clone(),
                        },
                    ));
                }
            }
        }
    }

    /// Adds `route` unless its URI is taken (the first route of a URI answers, as in Asterisk).
    fn add_route(&self, names: &mut Names, route: Route, diags: &mut Vec<Diagnostic>) {
        if let Some(first) = names.exact.get(&names.routes, &route.uri, false) {
            let at = self.route_location(&route);
            diags.push(diag_at(
                &at,
                Error::DuplicateRoute {
                    uri: route.uri.clone(),
                    first: self.describe(&names.routes[first]),
                },
            ));
            return;
        }
        names.add(route);
    }

    fn shapes_of(&self, routes: &[Route]) -> Vec<Shape> {
        let mut shapes: Vec<Shape> = Vec::new();
        for route in routes {
            let Target::Dynamic { phone, .. } = route.target else {
                continue;
            };
            let Some(mac) = self.phone(phone).and_then(|p| Mac::parse(&p.mac)) else {
                continue;
            };
            let Some(at) = find_mac(&route.uri, mac) else {
                continue;
            };
            let (prefix, suffix) = (&route.uri[..at], &route.uri[at + 12..]);
            match shapes.iter_mut().find(|s| {
                s.prefix.eq_ignore_ascii_case(prefix) && s.suffix.eq_ignore_ascii_case(suffix)
            }) {
                Some(shape) => {
                    if !shape.profiles.contains(&route.profile) {
                        shape.profiles.push(route.profile);
                        shape.profiles.sort();
                    }
                }
                None => shapes.push(Shape {
                    prefix: prefix.to_ascii_lowercase(),
                    suffix: suffix.to_ascii_lowercase(),
                    profiles: vec![route.profile],
                }),
            }
        }
        shapes
    }

    fn route_location(&self, route: &Route) -> Location {
        let profile = &self.profiles[route.profile.index()];
        match &route.target {
            Target::Static { .. } => profile
                .static_files
                .iter()
                .find(|f| f.uri == route.uri)
                .map_or_else(|| profile.location.clone(), |f| f.location.clone()),
            Target::Dynamic { phone, .. } | Target::Shared { phone, .. } => {
                let phone = &self.phones.phones[phone.index()];
                phone.lines[phone.founding_line].location.clone()
            }
        }
    }

    fn describe(&self, route: &Route) -> String {
        match &route.target {
            Target::Static { path, .. } => format!("static file {}", path.display()),
            Target::Dynamic { phone, .. } => {
                format!("phone {}", self.phones.phones[phone.index()].mac)
            }
            Target::Shared { .. } => {
                format!(
                    "the shared file of profile '{}'",
                    self.profiles[route.profile.index()].name
                )
            }
        }
    }
}

/// `fact` of each profile's dynamic files' templates, by profile and file.
fn per_file<T>(profiles: &[crate::Profile], fact: impl Fn(&str) -> T) -> Vec<Vec<T>> {
    profiles
        .iter()
        .map(|p| p.dynamic_files.iter().map(|f| fact(&f.template)).collect())
        .collect()
}

/// Where the 12 hex digits of `mac` are in `uri` (any case).
fn find_mac(uri: &str, mac: Mac) -> Option<usize> {
    let hex = mac.hex();
    let bytes = uri.as_bytes();
    (0..bytes.len().checked_sub(11)?).find(|&i| bytes[i..i + 12].eq_ignore_ascii_case(&hex))
}

pub(super) fn diag_at(location: &Location, error: Error) -> Diagnostic {
    Diagnostic::new(&*location.file, location.line, error)
}

/// Checks that a profile's template exists and can be used (once per profile and file).
pub(super) fn check_template(
    located: Result<std::path::PathBuf, FileProblem>,
    roots: &str,
    first_root: &std::path::Path,
    profile: &crate::Profile,
    file: &profile::DynamicFile,
    diags: &mut Vec<Diagnostic>,
) {
    match located {
        Ok(_) => {}
        Err(FileProblem::Outside) => diags.push(diag_at(
            &file.location,
            Error::OutsideDataDir {
                profile: profile.name.clone(),
                path: file.template.clone(),
                dir: roots.to_owned(),
            },
        )),
        Err(FileProblem::Missing(_) | FileProblem::Unreadable(_)) => diags.push(diag_at(
            &file.location,
            Error::TemplateMissing {
                profile: profile.name.clone(),
                path: first_root.join(&file.template).display().to_string(),
                uri: file.pattern.clone(),
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(uri: &str) -> Route {
        Route::new(
            uri.to_owned(),
            &Mime::new("text/plain"),
            ProfileId::new(0),
            Target::Static {
                relative: uri.to_owned(),
                path: uri.into(),
            },
        )
    }

    #[test]
    fn names_are_found_exactly_or_ignoring_case_and_collisions_are_told_apart() {
        let mut table = Names::default();
        for uri in ["0004f2aabb01.cfg", "a.cfg", "A.cfg"] {
            table.add(route(uri));
        }
        assert_eq!(table.find("A.cfg").map(|r| r.uri.as_str()), Some("A.cfg"));
        assert_eq!(table.find("a.cfg").map(|r| r.uri.as_str()), Some("a.cfg"));
        // Folded, the first of the two wins, as before.
        assert_eq!(
            table.folded.get(&table.routes, "a.CFG", true),
            Some(1),
            "first of the folded names"
        );
        assert_eq!(
            table.find("0004F2AABB01.CFG").map(|r| r.uri.as_str()),
            Some("0004f2aabb01.cfg")
        );
        assert!(table.find("nothing.cfg").is_none());

        // Two names whose hashes collide: make "b.cfg" hash like "a.cfg" does.
        let mut index = UriIndex::default();
        let routes = vec![route("a.cfg"), route("b.cfg")];
        index.insert(&routes, "a.cfg", 0, false);
        index.by_hash.insert(UriIndex::hash("b.cfg", false), 0);
        index.insert(&routes, "b.cfg", 1, false);
        assert_eq!(index.get(&routes, "a.cfg", false), Some(0));
        assert_eq!(index.get(&routes, "b.cfg", false), Some(1));
        assert_eq!(index.collided, [1]);
        // The same name again is no second entry.
        index.insert(&routes, "b.cfg", 1, false);
        assert_eq!(index.collided, [1]);
    }

    #[test]
    fn each_phone_finds_its_own_routes_in_order() {
        let dynamic = |uri: &str, phone: usize, file: usize| {
            Route::new(
                uri.to_owned(),
                &Mime::new("text/plain"),
                ProfileId::new(0),
                Target::Dynamic {
                    phone: PhoneId::new(phone),
                    file,
                },
            )
        };
        let routes = vec![
            route("static.bin"),
            dynamic("a-2.cfg", 2, 0),
            dynamic("a-0.cfg", 0, 0),
            route("other.bin"),
            dynamic("b-2.cfg", 2, 1),
        ];
        let index = PhoneRoutes::build(&routes);
        assert_eq!(index.of(PhoneId::new(0)), [2]);
        assert_eq!(
            index.of(PhoneId::new(1)),
            [] as [u32; 0],
            "a phone without routes"
        );
        assert_eq!(index.of(PhoneId::new(2)), [1, 4]);
        assert_eq!(
            index.of(PhoneId::new(3)),
            [] as [u32; 0],
            "past the last phone"
        );
        assert!(PhoneRoutes::build(&[]).of(PhoneId::new(0)).is_empty());
    }
}
