//! Rendering a route, and the cache of rendered bodies (per route and server address).

use std::net::IpAddr;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::Snapshot;
use super::routes::{Route, Target};
use crate::asterisk::RenderIssue;
use crate::asterisk::render::{Renderer, World};
use crate::model::PhoneId;
use crate::request::{Needs, Request};

/// The most bodies one route keeps, for different request facts (addresses, hosts, models).
const MAX_VARIANTS: usize = 8;

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

/// What a render may add to the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// A body served: kept for the next request with the same facts.
    Served,
    /// A body rendered to compare its entity tag: kept only in place of the previous configuration's body
    /// for the same facts, so comparing never fills the cache with bodies no phone asked for.
    Compared,
}

impl Snapshot {
    /// The body of a dynamic route as served for `request` (the address the phone connected to, and what
    /// else the route's template reads of the request), rendered on first use and cached per request facts.
    pub fn render(
        &self,
        route: &Route,
        request: impl Into<Request>,
    ) -> Result<Rendered, RenderFailure> {
        self.render_keeping(route, request.into(), Keep::Served)
    }

    /// What [`Snapshot::render`] would serve for `request`, to compare its entity tag with what was served
    /// before. A body in memory answers (cached, or carried from the previous snapshot with the same
    /// render key); one the previous snapshot had for these facts but with another key is rendered again
    /// and takes its place; any other is rendered and not kept. After a restart, comparing every phone
    /// ever seen would otherwise cache a body for each (~2 KB a phone: 200 MB at 100,000 phones) before
    /// any of them asked.
    pub fn render_to_compare(
        &self,
        route: &Route,
        request: impl Into<Request>,
    ) -> Result<Rendered, RenderFailure> {
        self.render_keeping(route, request.into(), Keep::Compared)
    }

    fn render_keeping(
        &self,
        route: &Route,
        request: Request,
        keep: Keep,
    ) -> Result<Rendered, RenderFailure> {
        let request = request.narrowed(self.request_needs(route));
        // A route of another snapshot is rendered here, but nothing is kept.
        let bodies = self.routes.bodies(route);
        if let Some(bodies) = bodies
            && let Some((_, _, hit)) = bodies
                .cache
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|(key, _, _)| *key == request)
        {
            return Ok(hit.clone());
        }
        let key = self.render_key(route);
        // The previous snapshot's body for these facts: the very bytes when its key is this one (same body,
        // same entity tag); otherwise of the previous configuration, dropped once this one is rendered.
        let mut replaces = false;
        let carried = bodies.and_then(|bodies| {
            let mut carried = bodies.carried.lock().unwrap_or_else(|e| e.into_inner());
            let at = carried.iter().position(|(facts, _, _)| *facts == request)?;
            let (_, old, _) = &carried[at];
            if key.is_some() && *old == key {
                let body = carried.swap_remove(at).2;
                release_if_empty(&mut carried);
                return Some(body);
            }
            replaces = true;
            None
        });
        let had_body = replaces || carried.is_some();
        let rendered = match carried {
            Some(rendered) => rendered,
            None => Rendered::new(self.render_fresh(route, request.clone()).0?),
        };
        let Some(bodies) = bodies else {
            return Ok(rendered);
        };
        if replaces {
            let mut carried = bodies.carried.lock().unwrap_or_else(|e| e.into_inner());
            carried.retain(|(facts, _, _)| *facts != request);
            release_if_empty(&mut carried);
        }
        if keep == Keep::Compared && !had_body {
            return Ok(rendered);
        }
        let mut cache = bodies.cache.write().unwrap_or_else(|e| e.into_inner());
        if !cache.iter().any(|(facts, _, _)| *facts == request) {
            // Request facts come from the client (its Host header): a client sending a new one each time
            // must not grow the cache without end. Past the bound, the oldest variant goes.
            if cache.len() >= MAX_VARIANTS {
                cache.remove(0);
            }
            // Usually a single variant: do not reserve room for four.
            cache.reserve_exact(1);
            cache.push((request, key, rendered.clone()));
        }
        Ok(rendered)
    }

    /// A digest of what [`Snapshot::render`] gives `route` for `request`: its render key (every input
    /// its template reads, see `carry.rs`) and the request facts it reads. The same digest, from this
    /// snapshot or a later one, is the same body, so what was learnt of it (its entity tag) still holds.
    /// `None` when only rendering tells: a template that reads the clock, a file or the environment, or a
    /// route that is not rendered. The facts come from clients (a `Host` header), so they are hashed with
    /// SipHash, which nobody can aim at another phone's digest.
    pub fn render_digest(&self, route: &Route, request: &Request) -> Option<u64> {
        use std::hash::{Hash, Hasher};
        let key = self.render_key(route)?;
        let mut hasher = std::hash::DefaultHasher::new();
        key.hash(&mut hasher);
        request
            .clone()
            .narrowed(self.request_needs(route))
            .hash(&mut hasher);
        Some(hasher.finish())
    }

    /// How many rendered bodies `route` keeps in this snapshot (one per set of request facts its template
    /// reads, up to a bound).
    pub fn cached_variants(&self, route: &Route) -> usize {
        self.routes.bodies(route).map_or(0, |bodies| {
            bodies.cache.read().unwrap_or_else(|e| e.into_inner()).len()
        })
    }

    /// Which facts of a request the route's template reads.
    pub fn request_needs(&self, route: &Route) -> Needs {
        match route.target.rendered() {
            Some((_, file)) => self
                .routes
                .needs
                .get(route.profile.index())
                .and_then(|files| files.get(file))
                .copied()
                .unwrap_or_default(),
            None => Needs::default(),
        }
    }

    /// Renders without the cache and returns what the templates did that deserves a warning.
    pub fn render_fresh(
        &self,
        route: &Route,
        request: impl Into<Request>,
    ) -> (Result<Vec<u8>, RenderFailure>, Vec<RenderIssue>) {
        let request = request.into();
        match &route.target {
            Target::Static { path, .. } => {
                let body = std::fs::read(path)
                    .map_err(|e| RenderFailure::Missing(format!("{}: {e}", path.display())));
                (body, Vec::new())
            }
            Target::Dynamic { phone, file } | Target::Shared { phone, file } => {
                let own = matches!(route.target, Target::Dynamic { .. });
                let (body, mut issues) = self.render_file(*phone, *file, own, &request);
                issues.extend(self.strict_issues(route, &request));
                (body, issues)
            }
        }
    }

    /// Renders file `file` of `phone`'s profile with the phone's variables (`own`: as the phone's own file,
    /// not a shared one).
    fn render_file(
        &self,
        phone: PhoneId,
        file: usize,
        own: bool,
        request: &Request,
    ) -> (Result<Vec<u8>, RenderFailure>, Vec<RenderIssue>) {
        let Some(owner) = self.phone(phone) else {
            return (
                Err(RenderFailure::Missing("no such phone".into())),
                Vec::new(),
            );
        };
        let Some(name) = self
            .profiles
            .get(owner.profile.index())
            .and_then(|p| p.dynamic_files.get(file))
            .map(|f| f.template.as_str())
        else {
            return (
                Err(RenderFailure::Missing("no such file".into())),
                Vec::new(),
            );
        };
        if name.ends_with(".hbs") {
            return self.render_handlebars(phone, name, own, request);
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
        let first = owner.first_line();
        let address = server_string(request.server);
        let injected = (!first.vars.contains("SERVER")).then_some(address.as_str());
        let renderer = Renderer::new(&world, Some(phone.index()), injected);
        let scope = renderer.line_scope(phone.index(), 0);
        let mut out = Vec::new();
        let result = template
            .render_into(&renderer, &scope, &mut out, None)
            .map(|()| out)
            .map_err(RenderFailure::from);
        let mut issues = renderer.take_issues();
        if template.truncated_at_nul {
            issues.push(RenderIssue {
                template: name.to_owned(),
                line: 0,
                message: "NUL byte: Asterisk ignores the rest of the template".into(),
            });
        }
        (result, issues)
    }

    pub(super) fn world(&self) -> World<'_> {
        World {
            phones: &self.phones.phones,
            user_order: &self.phones.user_order,
            by_mac: &self.phones.by_mac,
            templates: &self.templates,
            config_dir: &self.paths.config_dir,
            data_dir: &self.paths.data_dir,
            epoch: jiff::Timestamp::now().as_second(),
            allowed_env: &self.settings.general.allow_env,
        }
    }
}

/// Frees the room of a list of carried bodies once the last has gone to the cache: a route is usually
/// asked for with one set of request facts, and an empty list would keep its room for the snapshot's life.
fn release_if_empty(carried: &mut Vec<super::carry::Cached>) {
    if carried.is_empty() {
        *carried = Vec::new();
    }
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
