//! The `.hbs` templates of a snapshot: compiled once when it is built, rendered per request.
//!
//! A template that went missing or stopped compiling since the previous snapshot keeps its last good
//! compiled form (with an error in `check` and the log), so a broken save never turns a phone's file into a
//! 500 or a 404.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::Snapshot;
use super::render::{RenderFailure, server_string};
use super::routes::Route;
use crate::asterisk::RenderIssue;
use crate::error::{Diagnostic, Error};
use crate::model::PhoneId;
use crate::request::Request;
use crate::templates::{FileProblem, TemplateStore};

/// The compiled `.hbs` templates.
#[derive(Debug)]
pub(super) struct HbsTemplates {
    registry: ::handlebars::Handlebars<'static>,
    strict: OnceLock<::handlebars::Handlebars<'static>>,
    /// What each compiled template reads, from its source.
    meta: FxHashMap<String, Meta>,
}

/// What a template's source mentions.
#[derive(Debug, Clone)]
struct Meta {
    /// `users`: its context needs every phone.
    users: bool,
    /// A per-phone secret variable (`SECRET`, `*PASSWORD*`).
    secret: bool,
    /// Facts of the request.
    needs: crate::request::Needs,
    /// A digest of its source (see [`super::carry`]).
    digest: u64,
    /// The templates it names as partials (`{{> name}}`), which may be other files.
    partials: Vec<String>,
}

impl Meta {
    fn of(source: &str) -> Meta {
        Meta {
            users: crate::hbs::mentions_users(source),
            secret: crate::hbs::mentions_secret(source),
            needs: crate::request::Needs::of(source.as_bytes()),
            digest: super::carry::digest_bytes(source.as_bytes()),
            partials: partial_names(source),
        }
    }
}

/// The names after `{{>` and `{{#>` in `source`.
fn partial_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("{{") {
        rest = &rest[at + 2..];
        let inner = rest.trim_start_matches(['~', '#']).trim_start();
        if let Some(call) = inner.strip_prefix('>') {
            let name: String = call
                .trim_start()
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '}' && *c != '~')
                .collect();
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

impl Default for HbsTemplates {
    fn default() -> HbsTemplates {
        HbsTemplates {
            registry: crate::hbs::registry(false),
            strict: OnceLock::new(),
            meta: FxHashMap::default(),
        }
    }
}

impl HbsTemplates {
    /// Compiles the templates `names`; one that is missing or broken keeps its form from `previous`.
    /// Returns the names of templates that exist but cannot be read (the caller rejects the configuration).
    pub(super) fn compile<'n>(
        names: impl Iterator<Item = &'n str>,
        store: &TemplateStore,
        previous: Option<&HbsTemplates>,
        diags: &mut Vec<Diagnostic>,
    ) -> (HbsTemplates, Vec<(std::path::PathBuf, String)>) {
        let mut compiled = HbsTemplates::default();
        let mut unreadable = Vec::new();
        for name in names {
            if compiled.meta.contains_key(name) {
                continue;
            }
            let kept = |compiled: &mut HbsTemplates| {
                let old = previous.and_then(|p| {
                    Some((
                        p.registry.get_template(name)?.clone(),
                        p.meta.get(name)?.clone(),
                    ))
                });
                match old {
                    Some((template, meta)) => {
                        compiled.registry.register_template(name, template);
                        compiled.meta.insert(name.to_owned(), meta);
                        true
                    }
                    None => false,
                }
            };
            let path = match store.locate(name) {
                Ok(path) => path,
                Err(FileProblem::Outside) => continue, // reported by the route checks
                Err(FileProblem::Missing(_)) => {
                    if kept(&mut compiled) {
                        diags.push(Diagnostic::new(
                            store.roots()[0].join(name),
                            0,
                            Error::TemplateKept {
                                template: name.to_owned(),
                                reason: "it is missing".into(),
                            },
                        ));
                    }
                    continue;
                }
                Err(FileProblem::Unreadable(reason)) => {
                    unreadable.push((store.roots()[0].join(name), reason));
                    continue;
                }
            };
            let source = match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => text,
                    Err(_) => {
                        unreadable.push((path, "it is not UTF-8 text".into()));
                        continue;
                    }
                },
                Err(e) => {
                    let reason = match asterisk_config::Error::read(path.clone(), &e) {
                        asterisk_config::Error::Read { reason, .. } => reason,
                        other => other.to_string(),
                    };
                    unreadable.push((path, reason));
                    continue;
                }
            };
            match compiled.registry.register_template_string(name, &source) {
                Ok(()) => {
                    compiled.meta.insert(name.to_owned(), Meta::of(&source));
                }
                Err(error) => {
                    let line = error.pos().map_or(0, |(line, _)| line as u32);
                    let message = error.reason().to_string();
                    let error = if kept(&mut compiled) {
                        Error::TemplateKept {
                            template: name.to_owned(),
                            reason: format!("line {line}: {message}"),
                        }
                    } else {
                        Error::TemplateSyntax {
                            template: name.to_owned(),
                            line,
                            message,
                        }
                    };
                    diags.push(Diagnostic::new(path, line, error));
                }
            }
        }
        (compiled, unreadable)
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.registry.has_template(name)
    }

    /// Which facts of a request the template reads.
    pub(super) fn needs(&self, name: &str) -> crate::request::Needs {
        self.meta.get(name).map(|m| m.needs).unwrap_or_default()
    }

    /// A digest of what the template's output depends on besides its context: its source and the sources
    /// of the other templates it names as partials; and whether it reads `users` (every phone).
    pub(super) fn digest(&self, name: &str) -> Option<(u64, bool)> {
        let mut digest = 0u64;
        let mut users = false;
        let mut pending = vec![name];
        let mut seen: Vec<&str> = Vec::new();
        while let Some(name) = pending.pop() {
            if seen.contains(&name) {
                continue;
            }
            if seen.len() > 32 {
                return None;
            }
            seen.push(name);
            // A partial defined inline in the template is no file: it is part of the source already.
            let Some(meta) = self.meta.get(name) else {
                continue;
            };
            digest = super::carry::combine(digest, meta.digest);
            users |= meta.users;
            pending.extend(meta.partials.iter().map(String::as_str));
        }
        Some((digest, users))
    }

    /// Whether the template reads a per-phone secret variable (`{{SECRET}}`, `{{lines.0.SECRET}}`...).
    pub(super) fn reads_secret(&self, name: &str) -> bool {
        self.meta.get(name).is_some_and(|m| m.secret)
    }
}

impl Snapshot {
    pub(super) fn render_handlebars(
        &self,
        phone: PhoneId,
        name: &str,
        own: bool,
        request: &Request,
    ) -> (Result<Vec<u8>, RenderFailure>, Vec<RenderIssue>) {
        if !self.hbs.has(name) {
            let reason = format!("template '{name}' is missing or does not compile");
            return (Err(RenderFailure::Handlebars(reason)), Vec::new());
        }
        let context = self.handlebars_context(phone, name, own, request);
        let body = self
            .hbs
            .registry
            .render_with_context(name, &context)
            .map(String::into_bytes)
            .map_err(|e| RenderFailure::Handlebars(e.to_string()));
        (body, Vec::new())
    }

    /// The context of template `name` for `phone`: its variables, the request's, and (for the phone's
    /// `own` files) the secrets pjprov generates for it.
    fn handlebars_context(
        &self,
        phone: PhoneId,
        name: &str,
        own: bool,
        request: &Request,
    ) -> ::handlebars::Context {
        let with_users = self.hbs.meta.get(name).is_some_and(|m| m.users);
        let Some(owner) = self.phone(phone) else {
            return ::handlebars::Context::null();
        };
        let all = self
            .phones
            .phones
            .iter()
            .enumerate()
            .map(|(i, p)| (i == phone.index(), &**p));
        let mut extra = request.vars();
        if own && let Some(password) = self.generated_admin_password(phone) {
            extra.set("ADMIN_PASSWORD", &password);
        }
        let value = crate::hbs::context(
            owner,
            all,
            &server_string(request.server),
            with_users,
            &extra,
        );
        ::handlebars::Context::wraps(value).unwrap_or_else(|_| ::handlebars::Context::null())
    }

    /// What strict mode says about a `.hbs` route (a missing variable is an error there).
    pub(super) fn strict_issues(&self, route: &Route, request: &Request) -> Vec<RenderIssue> {
        let Some((phone, _)) = route.target.rendered() else {
            return Vec::new();
        };
        let Some(name) = self.template_name(route).filter(|n| n.ends_with(".hbs")) else {
            return Vec::new();
        };
        if !self.hbs.has(name) {
            return Vec::new();
        }
        let strict = self.hbs.strict.get_or_init(|| {
            let mut strict = self.hbs.registry.clone();
            strict.set_strict_mode(true);
            strict
        });
        let own = matches!(route.target, super::Target::Dynamic { .. });
        match strict.render_with_context(name, &self.handlebars_context(phone, name, own, request))
        {
            Ok(_) => Vec::new(),
            Err(error) => vec![RenderIssue {
                template: name.to_owned(),
                line: error.line_no.map_or(0, |l| l as u32),
                message: format!("{} (strict mode)", error.reason()),
            }],
        }
    }
}
