//! A [`Snapshot`]: everything built from one reading of the configuration, immutable once built.
//!
//! It holds the phones, the profiles, the route table (URI → file), the parsed templates, every diagnostic
//! and the list of paths to watch. Bodies are rendered on first request and cached per (route, server
//! address) inside the snapshot, so a reload simply replaces the whole snapshot.

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{OnceLock, RwLock};

use asterisk_config::{LoadOptions, Loaded, Loader, Severity};
use bytes::Bytes;
use compact_str::CompactString;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};

use crate::asterisk::render::{Renderer, World};
use crate::asterisk::{RenderIssue, Template};
use crate::error::{Diagnostic, Error};
use crate::mac::Mac;
use crate::model::{Location, Phone};
use crate::phones::{self, Phones};
use crate::pjsip::{self, Objects};
use crate::profile::{self, Profile};
use crate::settings::{self, Settings};
use crate::templates::{FileProblem, TemplateStore, resolve_inside};
use crate::vars::Vars;

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
}

/// A configuration that cannot be used at all (Asterisk would load nothing from it).
#[derive(Debug, Clone)]
pub struct Rejected {
    /// Every problem found, the fatal ones included.
    pub diagnostics: Vec<Diagnostic>,
    /// Paths to watch: fixing one of them may make the next build succeed.
    pub watch: Vec<PathBuf>,
}

/// What a route answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file sent as it is.
    Static {
        /// Its name under the phoneprov directory (`staticdir` + name), to resolve again at each request.
        relative: String,
        /// Where it was when the snapshot was built.
        path: PathBuf,
    },
    /// A template rendered for a phone.
    Dynamic {
        /// Index of the phone in [`Snapshot::phones`].
        phone: usize,
        /// Index of the file in its profile's [`Profile::dynamic_files`].
        file: usize,
    },
}

/// One URI pjprov answers.
#[derive(Debug)]
pub struct Route {
    /// The URI below `/phoneprov/`.
    pub uri: String,
    /// Its content type.
    pub mime: String,
    /// The content type as shared bytes, trimmed (cheap to put in every response).
    pub mime_bytes: Bytes,
    /// Index of the profile that defines it.
    pub profile: usize,
    /// What it serves.
    pub target: Target,
    cache: RwLock<Vec<(IpAddr, Rendered)>>,
}

/// A rendered body and its entity tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The bytes.
    pub body: Bytes,
    /// A strong entity tag, quotes included (ASCII): the same bytes always give the same tag.
    pub etag: Bytes,
}

impl Rendered {
    /// Wraps `body` and computes its tag.
    pub fn new(body: Vec<u8>) -> Rendered {
        let digest = Sha256::digest(&body);
        let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
        // Rendering grows its buffer by doubling. A cached body gets an exact copy instead: shrinking in
        // place would leave the spare half as a hole between cached bodies, which the next (larger)
        // render cannot use; freed whole, the buffer is reused by the next render.
        let body = if body.capacity() == body.len() {
            Bytes::from(body)
        } else {
            Bytes::copy_from_slice(&body)
        };
        Rendered {
            body,
            etag: Bytes::from(format!("\"{hex}\"")),
        }
    }

    /// The entity tag as text.
    pub fn etag_str(&self) -> &str {
        std::str::from_utf8(&self.etag).unwrap_or_default()
    }
}

/// A route that could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderFailure {
    /// The template or static file is not on disk.
    #[error("{0}")]
    Missing(String),
    /// The template did something it may not (grew too large, nested too deep).
    #[error(transparent)]
    Template(#[from] crate::asterisk::RenderError),
    /// A Handlebars template that does not compile or fails.
    #[error("{0}")]
    Handlebars(String),
}

/// Everything built from one reading of the configuration.
#[derive(Debug)]
pub struct Snapshot {
    paths: Paths,
    now: jiff::Timestamp,
    phones: Phones,
    profiles: Vec<Profile>,
    routes: Vec<Route>,
    exact: FxHashMap<String, usize>,
    folded: FxHashMap<String, usize>,
    templates: TemplateStore,
    hbs: handlebars::Handlebars<'static>,
    hbs_strict: OnceLock<handlebars::Handlebars<'static>>,
    /// `.hbs` templates that mention `users` (their context needs every phone).
    hbs_with_users: FxHashMap<String, bool>,
    diagnostics: Vec<Diagnostic>,
    watch: Vec<PathBuf>,
    settings: Settings,
    /// Where a MAC sits in the names of per-phone routes, to recognise a name that would be some phone's file.
    shapes: Vec<Shape>,
}

/// A per-phone route name with its MAC taken out: `prefix` + 12 hex digits + `suffix` (lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    prefix: String,
    suffix: String,
    profile: usize,
}

/// A name shaped like some phone's file, and the MAC in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneName {
    /// The MAC in the name.
    pub mac: Mac,
    /// The profile whose routes have this shape.
    pub profile: usize,
    /// The phone with that MAC, if there is one.
    pub phone: Option<usize>,
}

impl Snapshot {
    /// Reads pjsip.conf, pjsip_wizard.conf and phoneprov.conf from `paths` and builds everything.
    pub fn build(paths: &Paths, options: &BuildOptions) -> Result<Snapshot, Rejected> {
        let now = options.now.unwrap_or_else(jiff::Timestamp::now);
        let loader = Loader::new(&paths.config_dir).options(LoadOptions {
            exec_includes: options.exec_includes,
        });
        let mut diagnostics = Vec::new();
        let mut watch = Vec::new();
        let mut fatal = false;

        let mut load =
            |name: &str, required: bool, diagnostics: &mut Vec<Diagnostic>| -> Option<Loaded> {
                let loaded = loader.load(name);
                for path in &loaded.watch {
                    push_unique(&mut watch, path.clone());
                }
                let missing = !loaded.valid && loaded.files.is_empty();
                if missing && !required {
                    return None;
                }
                diagnostics.extend(
                    loaded
                        .diagnostics
                        .iter()
                        .cloned()
                        .map(|d| d.map(Error::Config)),
                );
                if !loaded.valid {
                    fatal = true;
                    diagnostics.push(pjsip::file_diag(
                        &loader.resolve(name),
                        Error::FileRejected {
                            file: name.to_owned(),
                            reason: if missing {
                                "it is missing".to_owned()
                            } else {
                                "Asterisk would reject the whole file (see the errors above)"
                                    .to_owned()
                            },
                        },
                    ));
                    return None;
                }
                Some(loaded)
            };
        let pjsip = load("pjsip.conf", true, &mut diagnostics);
        let wizard = load("pjsip_wizard.conf", false, &mut diagnostics);
        let phoneprov = load("phoneprov.conf", true, &mut diagnostics);
        let own = load(settings::FILE_NAME, false, &mut diagnostics);
        for root in paths.template_roots() {
            push_unique(&mut watch, root);
        }
        let (Some(pjsip), Some(phoneprov)) = (pjsip, phoneprov) else {
            return Err(Rejected { diagnostics, watch });
        };
        if fatal {
            return Err(Rejected { diagnostics, watch });
        }

        let objects = Objects::read(
            &pjsip.config,
            wizard.as_ref().map(|w| &w.config),
            &mut diagnostics,
        );
        // The objects own what they need: free the parsed pjsip configuration (the bulk of a large fleet's
        // memory) before the phones are built, so a reload peaks at the larger of the two, not their sum.
        drop((pjsip, wizard));
        let profiles = profile::read(&phoneprov.config, &mut diagnostics);
        if profiles.is_empty() {
            return Err(Rejected { diagnostics, watch });
        }
        let empty = empty_world_for(paths, now);
        let empty_world = empty.world();
        let phones = phones::build(
            &phones::Inputs {
                objects: &objects,
                profiles: &profiles,
                now,
                empty_world: &empty_world,
            },
            &mut diagnostics,
        );
        let settings = match Settings::read(
            own.as_ref().map(|l| &l.config),
            &paths.config_dir,
            &profiles,
            &phones.phones,
            &mut diagnostics,
        ) {
            Some(settings) => settings,
            None => {
                diagnostics.push(pjsip::file_diag(
                    &loader.resolve(settings::FILE_NAME),
                    Error::FileRejected {
                        file: settings::FILE_NAME.to_owned(),
                        reason:
                            "it guards access to SIP passwords, so it is used whole or not at all \
                                 (see the errors above)"
                                .to_owned(),
                    },
                ));
                return Err(Rejected { diagnostics, watch });
            }
        };
        for file in settings.general.tls.paths() {
            push_unique(&mut watch, file.to_owned());
        }
        let templates = TemplateStore::new(paths.template_roots());
        let mut snapshot = Snapshot {
            paths: paths.clone(),
            now,
            phones,
            profiles,
            routes: Vec::new(),
            exact: FxHashMap::default(),
            folded: FxHashMap::default(),
            templates,
            hbs: crate::hbs::registry(false),
            hbs_strict: OnceLock::new(),
            hbs_with_users: FxHashMap::default(),
            diagnostics,
            watch,
            settings,
            shapes: Vec::new(),
        };
        snapshot.compile_handlebars();
        snapshot.build_routes(&empty_world);
        Ok(snapshot)
    }

    /// A snapshot with no phones and no routes: what a server serves before a usable configuration exists.
    pub fn empty(paths: &Paths) -> Snapshot {
        Snapshot {
            paths: paths.clone(),
            now: jiff::Timestamp::now(),
            phones: Phones::default(),
            profiles: Vec::new(),
            routes: Vec::new(),
            exact: FxHashMap::default(),
            folded: FxHashMap::default(),
            templates: TemplateStore::new(paths.template_roots()),
            hbs: crate::hbs::registry(false),
            hbs_strict: OnceLock::new(),
            hbs_with_users: FxHashMap::default(),
            diagnostics: Vec::new(),
            watch: Vec::new(),
            settings: Settings::default(),
            shapes: Vec::new(),
        }
    }

    fn build_routes(&mut self, world: &World<'_>) {
        let dir = self.paths.phoneprov_dir();
        let mut diags = Vec::new();
        let mut routes: Vec<Route> = Vec::new();
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
                    Err(FileProblem::Missing(_)) => {
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
                routes.push(Route::new(
                    file.uri.clone(),
                    file.mime.clone(),
                    p,
                    Target::Static {
                        relative: file.path.clone(),
                        path,
                    },
                ));
            }
        }
        // Each profile's URI patterns, parsed once; each template checked once.
        let patterns: Vec<Vec<Template>> = self
            .profiles
            .iter()
            .map(|p| {
                p.dynamic_files
                    .iter()
                    .map(|f| Template::parse("phoneprov.conf", f.pattern.as_bytes()))
                    .collect()
            })
            .collect();
        let mut checked = vec![Vec::new(); self.profiles.len()];
        // Variables a pattern unlinked from a phone's first line (Asterisk's `SET` in a route pattern).
        let mut unlinked: Vec<(usize, Vars)> = Vec::new();
        for (index, phone) in self.phones.phones.iter().enumerate() {
            let profile = &self.profiles[phone.profile];
            let mut vars = Cow::Borrowed(&phone.lines[phone.founding_line].vars);
            for (f, file) in profile.dynamic_files.iter().enumerate() {
                if !checked[phone.profile].contains(&f) {
                    checked[phone.profile].push(f);
                    check_template(&self.templates, profile, file, &mut diags);
                }
                let substituted = phones::substitute(world, &patterns[phone.profile][f], &vars);
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
                routes.push(Route::new(
                    uri,
                    file.mime.clone(),
                    phone.profile,
                    Target::Dynamic {
                        phone: index,
                        file: f,
                    },
                ));
            }
            if let Cow::Owned(vars) = vars {
                unlinked.push((index, vars));
            }
        }
        for (index, mut vars) in unlinked {
            let phone = &mut self.phones.phones[index];
            vars.shrink_to_fit();
            phone.lines[phone.founding_line].vars = vars;
        }
        let mut kept: Vec<Route> = Vec::with_capacity(routes.len());
        for route in routes {
            if let Some(&first) = self.exact.get(&route.uri) {
                // A pattern without variables is one file shared by the whole profile (a common config,
                // a boot file): every phone names it, the first one answers, and that is no mistake.
                let shared = matches!(
                    (&route.target, &kept[first].target),
                    (Target::Dynamic { file: a, .. }, Target::Dynamic { file: b, .. })
                        if a == b && route.profile == kept[first].profile
                            && !self.profiles[route.profile].dynamic_files[*a].pattern.contains('$')
                );
                if shared {
                    continue;
                }
                let at = self.route_location(&route);
                diags.push(diag_at(
                    &at,
                    Error::DuplicateRoute {
                        uri: route.uri.clone(),
                        first: self.describe(&kept[first]),
                    },
                ));
                continue;
            }
            let index = kept.len();
            self.exact.insert(route.uri.clone(), index);
            self.folded.entry(route.uri.to_lowercase()).or_insert(index);
            kept.push(route);
        }
        self.routes = kept;
        self.diagnostics.extend(diags);
        self.collect_shapes();
    }

    fn collect_shapes(&mut self) {
        let mut shapes: Vec<Shape> = Vec::new();
        for route in &self.routes {
            let Target::Dynamic { phone, .. } = route.target else {
                continue;
            };
            let Some(mac) = Mac::parse(&self.phones.phones[phone].mac) else {
                continue;
            };
            let Some(at) = find_mac(&route.uri, mac) else {
                continue;
            };
            let (prefix, suffix) = (&route.uri[..at], &route.uri[at + 12..]);
            let known = shapes.iter().any(|s| {
                s.profile == route.profile
                    && s.prefix.eq_ignore_ascii_case(prefix)
                    && s.suffix.eq_ignore_ascii_case(suffix)
            });
            if !known {
                shapes.push(Shape {
                    prefix: prefix.to_ascii_lowercase(),
                    suffix: suffix.to_ascii_lowercase(),
                    profile: route.profile,
                });
            }
        }
        self.shapes = shapes;
    }

    /// Compiles every `.hbs` template the profiles name.
    fn compile_handlebars(&mut self) {
        for profile in &self.profiles {
            for file in &profile.dynamic_files {
                let name = &file.template;
                if !name.ends_with(".hbs") || self.hbs_with_users.contains_key(name) {
                    continue;
                }
                let Ok(path) = self.templates.locate(name) else {
                    continue; // reported as missing or outside by `check_template`
                };
                let Ok(source) = std::fs::read_to_string(&path) else {
                    continue;
                };
                self.hbs_with_users
                    .insert(name.clone(), crate::hbs::mentions_users(&source));
                if let Err(error) = self.hbs.register_template_string(name, &source) {
                    let line = error.pos().map_or(0, |(line, _)| line as u32);
                    self.diagnostics.push(Diagnostic::new(
                        path,
                        line,
                        Error::TemplateSyntax {
                            template: name.clone(),
                            line,
                            message: error.reason().to_string(),
                        },
                    ));
                }
            }
        }
    }

    fn route_location(&self, route: &Route) -> Location {
        let profile = &self.profiles[route.profile];
        match &route.target {
            Target::Static { .. } => profile
                .static_files
                .iter()
                .find(|f| f.uri == route.uri)
                .map_or_else(|| profile.location.clone(), |f| f.location.clone()),
            Target::Dynamic { phone, .. } => {
                let phone = &self.phones.phones[*phone];
                phone.lines[phone.founding_line].location.clone()
            }
        }
    }

    fn describe(&self, route: &Route) -> String {
        match &route.target {
            Target::Static { path, .. } => format!("static file {}", path.display()),
            Target::Dynamic { phone, .. } => format!("phone {}", self.phones.phones[*phone].mac),
        }
    }

    /// The paths this snapshot was built from.
    pub fn paths(&self) -> &Paths {
        &self.paths
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
    pub fn phones(&self) -> &[Phone] {
        &self.phones.phones
    }

    /// The phones in the order of Asterisk's user table (`PP_EACH_USER`'s order).
    pub fn user_order(&self) -> impl Iterator<Item = &Phone> {
        self.phones
            .user_order
            .iter()
            .map(|&i| &self.phones.phones[i])
    }

    /// The profiles of phoneprov.conf.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// Every route, static ones first.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route for `uri` (below `/phoneprov/`): exact first, then ignoring case (pjprov differs: Asterisk
    /// matches exactly).
    pub fn route(&self, uri: &str) -> Option<&Route> {
        let index = self
            .exact
            .get(uri)
            .or_else(|| self.folded.get(&uri.to_lowercase()))?;
        Some(&self.routes[*index])
    }

    /// The routes of phone `index` (by [`Snapshot::phones`] position).
    pub fn routes_of(&self, index: usize) -> impl Iterator<Item = &Route> {
        self.routes
            .iter()
            .filter(move |r| matches!(r.target, Target::Dynamic { phone, .. } if phone == index))
    }

    /// The template of a dynamic route.
    pub fn template_name(&self, route: &Route) -> Option<&str> {
        match route.target {
            Target::Dynamic { phone, file } => {
                let profile = self.phones.phones[phone].profile;
                Some(&self.profiles[profile].dynamic_files[file].template)
            }
            Target::Static { .. } => None,
        }
    }

    /// The body of a dynamic route as served to a phone that connected to `server`, rendered on first use
    /// and cached per server address.
    pub fn render(&self, route: &Route, server: IpAddr) -> Result<Rendered, RenderFailure> {
        if let Some((_, hit)) = route
            .cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(addr, _)| *addr == server)
        {
            return Ok(hit.clone());
        }
        let (body, _) = self.render_fresh(route, server);
        let rendered = Rendered::new(body?);
        let mut cache = route.cache.write().unwrap_or_else(|e| e.into_inner());
        if !cache.iter().any(|(addr, _)| *addr == server) {
            // Usually a single server address: do not reserve room for four.
            cache.reserve_exact(1);
            cache.push((server, rendered.clone()));
        }
        Ok(rendered)
    }

    /// Renders without the cache and returns what the templates did that deserves a warning.
    pub fn render_fresh(
        &self,
        route: &Route,
        server: IpAddr,
    ) -> (Result<Vec<u8>, RenderFailure>, Vec<RenderIssue>) {
        match &route.target {
            Target::Static { path, .. } => {
                let body = std::fs::read(path)
                    .map_err(|e| RenderFailure::Missing(format!("{}: {e}", path.display())));
                (body, Vec::new())
            }
            Target::Dynamic { phone, file } => {
                let (body, mut issues) = self.render_dynamic(*phone, *file, server);
                issues.extend(self.strict_issues(route, server));
                (body, issues)
            }
        }
    }

    fn render_dynamic(
        &self,
        phone: usize,
        file: usize,
        server: IpAddr,
    ) -> (Result<Vec<u8>, RenderFailure>, Vec<RenderIssue>) {
        let profile = &self.profiles[self.phones.phones[phone].profile];
        let name = &profile.dynamic_files[file].template;
        if name.ends_with(".hbs") {
            return self.render_handlebars(phone, name, server);
        }
        let template = match self.templates.get(name) {
            Ok(t) => t,
            Err(reason) => {
                return (
                    Err(RenderFailure::Missing(format!(
                        "template '{name}': {reason}"
                    ))),
                    Vec::new(),
                );
            }
        };
        let world = self.world();
        let first = &self.phones.phones[phone].lines[0];
        let address = server_string(server);
        let injected = (!first.vars.contains("SERVER")).then_some(address.as_str());
        let renderer = Renderer::new(&world, Some(phone), injected);
        let scope = renderer.line_scope(phone, 0);
        let mut out = Vec::new();
        let result = template
            .render_into(&renderer, &scope, &mut out, None)
            .map(|()| out)
            .map_err(RenderFailure::from);
        let mut issues = renderer.take_issues();
        if template.truncated_at_nul {
            issues.push(RenderIssue {
                template: name.clone(),
                line: 0,
                message: "NUL byte: Asterisk ignores the rest of the template".into(),
            });
        }
        (result, issues)
    }

    fn render_handlebars(
        &self,
        phone: usize,
        name: &str,
        server: IpAddr,
    ) -> (Result<Vec<u8>, RenderFailure>, Vec<RenderIssue>) {
        if !self.hbs.has_template(name) {
            let reason = format!("template '{name}' is missing or does not compile");
            return (Err(RenderFailure::Handlebars(reason)), Vec::new());
        }
        let context = self.handlebars_context(phone, name, server);
        let body = self
            .hbs
            .render_with_context(name, &context)
            .map(String::into_bytes)
            .map_err(|e| RenderFailure::Handlebars(e.to_string()));
        (body, Vec::new())
    }

    fn handlebars_context(&self, phone: usize, name: &str, server: IpAddr) -> handlebars::Context {
        let with_users = self.hbs_with_users.get(name).copied().unwrap_or(false);
        let all = self
            .phones
            .phones
            .iter()
            .enumerate()
            .map(|(i, p)| (i == phone, p));
        let value = crate::hbs::context(
            &self.phones.phones[phone],
            all,
            &server_string(server),
            with_users,
        );
        handlebars::Context::wraps(value).unwrap_or_else(|_| handlebars::Context::null())
    }

    /// What strict mode says about a `.hbs` route (a missing variable is an error there).
    fn strict_issues(&self, route: &Route, server: IpAddr) -> Vec<RenderIssue> {
        let Target::Dynamic { phone, .. } = route.target else {
            return Vec::new();
        };
        let Some(name) = self.template_name(route).filter(|n| n.ends_with(".hbs")) else {
            return Vec::new();
        };
        if !self.hbs.has_template(name) {
            return Vec::new();
        }
        let strict = self.hbs_strict.get_or_init(|| {
            let mut strict = self.hbs.clone();
            strict.set_strict_mode(true);
            strict
        });
        match strict.render_with_context(name, &self.handlebars_context(phone, name, server)) {
            Ok(_) => Vec::new(),
            Err(error) => vec![RenderIssue {
                template: name.to_owned(),
                line: error.line_no.map_or(0, |l| l as u32),
                message: format!("{} (strict mode)", error.reason()),
            }],
        }
    }

    fn world(&self) -> World<'_> {
        World {
            phones: &self.phones.phones,
            user_order: &self.phones.user_order,
            by_mac: &self.phones.by_mac,
            templates: &self.templates,
            config_dir: &self.paths.config_dir,
            data_dir: &self.paths.data_dir,
            epoch: jiff::Timestamp::now().as_second(),
            allowed_env: ALLOWED_ENV,
        }
    }

    /// The phone with exactly this MAC.
    pub fn phone_by_mac(&self, mac: &str) -> Option<&Phone> {
        self.phones.by_mac.get(mac).map(|&i| &self.phones.phones[i])
    }

    /// pjprov.conf's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The index of the phone whose MAC is `mac`, whatever case or separators it was written with.
    pub fn phone_index(&self, mac: Mac) -> Option<usize> {
        self.phones.by_mac48.get(&mac).copied()
    }

    /// The MAC of a per-phone route's phone.
    pub fn route_mac(&self, route: &Route) -> Option<Mac> {
        match route.target {
            Target::Dynamic { phone, .. } => Mac::parse(&self.phones.phones[phone].mac),
            Target::Static { .. } => None,
        }
    }

    /// Whether `name` (a URI below `/phoneprov/`) is shaped like a per-phone route of some profile (the
    /// name of a phone's file with another MAC in it), and the MAC it names. Names no route has the
    /// shape of (vendor probes such as `y000000000025.cfg`, `<mac>.boot` when nothing serves `.boot`)
    /// are not: they answer 404 for every MAC, so they reveal nothing.
    pub fn phone_name(&self, name: &str) -> Option<PhoneName> {
        self.shapes.iter().find_map(|shape| {
            if name.len() != shape.prefix.len() + 12 + shape.suffix.len() {
                return None;
            }
            let (head, rest) = name.split_at_checked(shape.prefix.len())?;
            let (middle, tail) = rest.split_at_checked(12)?;
            if !head.eq_ignore_ascii_case(&shape.prefix)
                || !tail.eq_ignore_ascii_case(&shape.suffix)
            {
                return None;
            }
            let mac = Mac::from_hex12(middle.as_bytes()).filter(|m| !m.is_placeholder())?;
            Some(PhoneName {
                mac,
                profile: shape.profile,
                phone: self.phone_index(mac),
            })
        })
    }

    /// The MACs of all phones, for quick membership tests.
    pub fn macs(&self) -> impl Iterator<Item = &CompactString> {
        self.phones.phones.iter().map(|p| &p.mac)
    }
}

impl Route {
    fn new(uri: String, mime: String, profile: usize, target: Target) -> Route {
        Route {
            uri,
            mime_bytes: Bytes::from(mime.trim().to_owned()),
            mime,
            profile,
            target,
            cache: RwLock::new(Vec::new()),
        }
    }
}

/// Where the 12 hex digits of `mac` are in `uri` (any case).
fn find_mac(uri: &str, mac: Mac) -> Option<usize> {
    let text = mac.to_string();
    let bytes = uri.as_bytes();
    (0..bytes.len().checked_sub(11)?)
        .find(|&i| bytes[i..i + 12].eq_ignore_ascii_case(text.as_bytes()))
}

/// `SERVER` for a connection's local address (IPv4-mapped IPv6 addresses are shown as IPv4).
pub fn server_string(addr: IpAddr) -> String {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        IpAddr::V4(v4) => v4.to_string(),
    }
}

fn push_unique(list: &mut Vec<PathBuf>, path: PathBuf) {
    if !list.contains(&path) {
        list.push(path);
    }
}

fn diag_at(location: &Location, error: Error) -> Diagnostic {
    Diagnostic::new(&location.file, location.line, error)
}

fn check_template(
    templates: &TemplateStore,
    profile: &Profile,
    file: &profile::DynamicFile,
    diags: &mut Vec<Diagnostic>,
) {
    match templates.locate(&file.template) {
        Ok(_) => {}
        Err(FileProblem::Outside) => diags.push(diag_at(
            &file.location,
            Error::OutsideDataDir {
                profile: profile.name.clone(),
                path: file.template.clone(),
                dir: templates.roots_text(),
            },
        )),
        Err(FileProblem::Missing(_)) => diags.push(diag_at(
            &file.location,
            Error::TemplateMissing {
                profile: profile.name.clone(),
                path: templates.roots()[0]
                    .join(&file.template)
                    .display()
                    .to_string(),
                uri: file.pattern.clone(),
            },
        )),
    }
}

/// The environment variables `ENV` may read. Empty: `ENV` is off. pjprov.conf's `[general] allow_env`
/// (not read yet) is meant to fill this, for both worlds below.
const ALLOWED_ENV: &[String] = &[];

/// A world without phones or templates, owned.
struct EmptyWorld {
    map: FxHashMap<CompactString, usize>,
    paths: Paths,
    epoch: i64,
}

impl EmptyWorld {
    fn world(&self) -> World<'_> {
        World {
            phones: &[],
            user_order: &[],
            by_mac: &self.map,
            templates: &crate::asterisk::render::NoTemplates,
            config_dir: &self.paths.config_dir,
            data_dir: &self.paths.data_dir,
            epoch: self.epoch,
            allowed_env: ALLOWED_ENV,
        }
    }
}

fn empty_world_for(paths: &Paths, now: jiff::Timestamp) -> EmptyWorld {
    EmptyWorld {
        map: FxHashMap::default(),
        paths: paths.clone(),
        epoch: now.as_second(),
    }
}
