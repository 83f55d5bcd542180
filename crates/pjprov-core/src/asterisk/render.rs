//! Rendering parsed templates against the phones of a snapshot.
//!
//! A [`Renderer`] is one substitution: a template served to a phone, a setvar, a route pattern. It holds the
//! budgets, the issues met and the variables the substitution assigned (`SET`, `INC`, `SHIFT`...), which
//! lookups consult before the line's own. What an assignment does depends on the [`Assignments`] mode:
//! in a template pjprov keeps it for the rest of the render; in a setvar or route pattern it does what
//! Asterisk does (see [`Assignments::Asterisk`]).
//!
//! Diagnostics never quote substituted text: an issue names the template, the line and the node as written
//! in the template (its `${...}` source, see [`Origin`]), never the values that went through it.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::path::Path;
use std::sync::Arc;

use compact_str::CompactString;
use rustc_hash::FxHashMap;

use super::functions;
use super::template::{Node, Template, parse_variable_name, substring};
use crate::model::Phone;
use crate::vars::Vars;

/// Largest body one render may produce.
pub const MAX_OUTPUT: usize = 32 << 20;
/// How deep templates may call templates (`PP_EACH_EXTENSION`, `PP_EACH_USER`, `CUT`).
pub const MAX_DEPTH: u32 = 32;
/// How much of a node's source a diagnostic quotes.
const EXCERPT_CHARS: usize = 60;

/// Where templates for `PP_EACH_EXTENSION` come from.
pub(crate) trait TemplateSource: Sync {
    /// The template file `name` (relative to the phoneprov data dir), parsed as an Asterisk template.
    fn asterisk_template(&self, name: &str) -> Result<Arc<Template>, String>;
}

/// A template source that has nothing (used before phones exist, and for templates rendered alone).
pub(crate) struct NoTemplates;

impl TemplateSource for NoTemplates {
    fn asterisk_template(&self, _: &str) -> Result<Arc<Template>, String> {
        Err("templates cannot be used here".into())
    }
}

impl Template {
    /// Renders the template by itself, with `vars` and `SERVER` = `server` (unless `vars` sets it), in a
    /// world without phones: `PP_EACH_USER` yields nothing and `PP_EACH_EXTENSION` finds no template; `ENV`
    /// is off. This is the way to try a template out.
    pub fn render_alone(
        &self,
        vars: &Vars,
        server: Option<&str>,
    ) -> (Result<Vec<u8>, RenderError>, Vec<RenderIssue>) {
        let by_mac = FxHashMap::default();
        let world = World {
            phones: &[],
            user_order: &[],
            by_mac: &by_mac,
            templates: &NoTemplates,
            config_dir: Path::new(""),
            data_dir: Path::new(""),
            epoch: jiff::Timestamp::now().as_second(),
            allowed_env: &[],
        };
        let renderer = Renderer::new(&world, None, server);
        let scope = Scope { vars, server };
        let mut out = Vec::new();
        let result = self
            .render_into(&renderer, &scope, &mut out, None)
            .map(|()| out);
        (result, renderer.take_issues())
    }
}

/// Everything a template can reach besides its own variables.
pub(crate) struct World<'a> {
    pub phones: &'a [std::sync::Arc<Phone>],
    /// Phones in the order of Asterisk's user table (what `PP_EACH_USER` walks).
    pub user_order: &'a [usize],
    pub by_mac: &'a FxHashMap<CompactString, usize>,
    pub templates: &'a dyn TemplateSource,
    pub config_dir: &'a Path,
    pub data_dir: &'a Path,
    /// `${EPOCH}`, and "now" for `STRFTIME`, `IFTIME`.
    pub epoch: i64,
    /// The environment variables `ENV` may read (pjprov.conf `[general] allow_env`); empty: `ENV` is off and
    /// renders empty. Asterisk reads any variable of its process, which may hold secrets of the host.
    pub allowed_env: &'a [String],
}

/// The variables a piece of template sees.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub vars: &'a Vars,
    /// `SERVER` when the line does not set it (only for the lines of the phone being served).
    pub server: Option<&'a str>,
}

/// Something worth a `check` warning, met while rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderIssue {
    /// The template.
    pub template: String,
    /// Line in the template.
    pub line: u32,
    /// What happened: the node as written in the template and what went wrong with it, never a value.
    pub message: String,
}

/// A render that had to stop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The body grew past [`MAX_OUTPUT`].
    #[error("template '{template}' produces more than {limit} bytes; rendering stopped")]
    TooLarge {
        /// The template.
        template: String,
        /// The limit.
        limit: usize,
    },
    /// Templates called templates deeper than [`MAX_DEPTH`].
    #[error(
        "template '{template}' line {line}: templates nest deeper than {limit} (does one include itself?)"
    )]
    TooDeep {
        /// The template.
        template: String,
        /// Where.
        line: u32,
        /// The limit.
        limit: u32,
    },
}

/// The node of a file template being evaluated: what an issue points at. Derived templates (made from
/// substituted text) inherit the origin of the node that made them.
#[derive(Clone, Copy)]
pub(crate) struct Origin<'t> {
    pub template: &'t Template,
    pub line: u32,
    span: (u32, u32),
}

impl Origin<'_> {
    /// The node as written, shortened, on one line.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(self.template.text(self.span.0, self.span.1));
        let mut shown: String = text
            .chars()
            .take(EXCERPT_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if text.chars().count() > EXCERPT_CHARS {
            shown.push_str("...");
        }
        shown
    }

    /// Whether `name` is written as such in the node (so a message may name it without revealing a value).
    pub fn shows(&self, name: &[u8]) -> bool {
        let text = self.template.text(self.span.0, self.span.1);
        !name.is_empty() && memchr::memmem::find(text, name).is_some()
    }
}

/// What assigning a variable (`SET`, `INC`, `DEC`, `SHIFT`, `POP`) does in this substitution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Assignments {
    /// A template served to a phone: the line being substituted holds the value for the rest of this
    /// render (another phone's line in `PP_EACH_USER`, or another line in `PP_EACH_EXTENSION`, keeps its
    /// own); nothing outlives the render. **pjprov differs**: Asterisk assigns on a throw-away channel
    /// (below), so a later `${VAR}` never sees the value, and the line loses its own `VAR` for good.
    Render,
    /// A setvar or a route pattern, as Asterisk substitutes them: the function runs on a dummy channel whose
    /// variable list starts as the line's (`ast_str_substitute_variables_full2`), so the new value vanishes
    /// with that channel, while an existing variable of the name is unlinked from the line's list for good
    /// (`pbx_builtin_setvar_helper`). Later `${VAR}` in the substitution, and everything after it, see no
    /// such variable; [`Renderer::take_deleted`] lists the names so the line can lose them too.
    Asterisk,
}

/// One assignment of a substitution.
struct Assigned {
    /// Which line's variables: the address of its [`Vars`].
    line: usize,
    name: String,
    value: Option<String>,
}

fn line_of(scope: &Scope<'_>) -> usize {
    std::ptr::from_ref(scope.vars) as usize
}

/// One substitution: budgets, assignments and the issues met.
pub(crate) struct Renderer<'a> {
    pub world: &'a World<'a>,
    /// The phone being served, whose lines see `server`.
    pub requesting: Option<usize>,
    pub server: Option<&'a str>,
    assignments: Assignments,
    /// Variables assigned in this substitution: the line's variables (by identity), the name, and `Some`
    /// value or `None` for a variable made unset.
    assigned: RefCell<Vec<Assigned>>,
    depth: Cell<u32>,
    issues: RefCell<Vec<RenderIssue>>,
}

/// The names [`Renderer::lookup`] answers itself, before the line's variables.
pub(crate) fn is_built_in(name: &str) -> bool {
    matches!(
        name,
        "EPOCH" | "SYSTEMNAME" | "ASTETCDIR" | "ASTDATADIR" | "ASTVARLIBDIR"
    )
}

impl<'a> Renderer<'a> {
    /// A render of a template for a phone.
    pub fn new(world: &'a World<'a>, requesting: Option<usize>, server: Option<&'a str>) -> Self {
        Renderer {
            world,
            requesting,
            server,
            assignments: Assignments::Render,
            assigned: RefCell::new(Vec::new()),
            depth: Cell::new(0),
            issues: RefCell::new(Vec::new()),
        }
    }

    /// A substitution of phoneprov.conf text (a setvar, a route pattern) as Asterisk does it.
    pub fn for_config(world: &'a World<'a>) -> Self {
        Renderer {
            assignments: Assignments::Asterisk,
            ..Renderer::new(world, None, None)
        }
    }

    /// The issues met so far.
    pub fn take_issues(&self) -> Vec<RenderIssue> {
        std::mem::take(&mut self.issues.borrow_mut())
    }

    /// The line variables an [`Assignments::Asterisk`] substitution unlinked.
    pub fn take_deleted(&self) -> Vec<String> {
        if self.assignments != Assignments::Asterisk {
            return Vec::new();
        }
        std::mem::take(&mut *self.assigned.borrow_mut())
            .into_iter()
            .map(|assigned| assigned.name)
            .collect()
    }

    /// Reports `message` about the node at `origin`.
    pub(crate) fn issue(&self, origin: Origin<'_>, message: impl std::fmt::Display) {
        self.issues.borrow_mut().push(RenderIssue {
            template: origin.template.name().to_owned(),
            line: origin.line,
            message: format!("{}: {message}", origin.excerpt()),
        });
    }

    /// The scope of phone `index`'s line `line`.
    pub(crate) fn line_scope(&self, phone: usize, line: usize) -> Scope<'a> {
        let world = self.world;
        Scope {
            vars: &world.phones[phone].lines[line].vars,
            server: if self.requesting == Some(phone) {
                self.server
            } else {
                None
            },
        }
    }

    /// Renders `template` in `scope` one level deeper (for functions that render templates). A derived
    /// template reports its issues at `origin`.
    pub(crate) fn nested(
        &self,
        template: &Template,
        origin: Origin<'_>,
        scope: &Scope<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return Err(RenderError::TooDeep {
                template: origin.template.name().to_owned(),
                line: origin.line,
                limit: MAX_DEPTH,
            });
        }
        self.depth.set(depth + 1);
        let result = template.render_into(self, scope, out, Some(origin));
        self.depth.set(depth);
        result
    }

    /// Fails once `out` holds more than a render may produce (for functions whose output grows in loops).
    pub(crate) fn check_size(&self, origin: Origin<'_>, out: &[u8]) -> Result<(), RenderError> {
        if out.len() > MAX_OUTPUT {
            Err(RenderError::TooLarge {
                template: origin.template.name().to_owned(),
                limit: MAX_OUTPUT,
            })
        } else {
            Ok(())
        }
    }

    pub(crate) fn render_nodes(
        &self,
        template: &Template,
        nodes: &[Node],
        scope: &Scope<'_>,
        out: &mut Vec<u8>,
        inherited: Option<Origin<'_>>,
    ) -> Result<(), RenderError> {
        for node in nodes {
            let (sub, is_variable) = match node {
                Node::Text(start, end) => {
                    out.extend_from_slice(template.text(*start, *end));
                    continue;
                }
                Node::Var(sub) => (sub, true),
                Node::Expr(sub) => (sub, false),
            };
            let own = Origin {
                template,
                line: sub.line,
                span: sub.span,
            };
            let origin = match inherited {
                Some(origin) if template.derived => origin,
                _ => own,
            };
            if sub.unterminated && !template.derived {
                self.issue(
                    origin,
                    if is_variable {
                        "missing '}': the rest of the template is read as a variable name"
                    } else {
                        "missing ']': the rest of the template is read as an expression"
                    },
                );
            }
            let mut text = Vec::new();
            self.render_nodes(template, &sub.inside, scope, &mut text, inherited)?;
            if is_variable {
                self.variable(origin, &text, scope, out)?;
            } else {
                let result = super::expr::evaluate(&text);
                if let Some(summary) = result.summary {
                    self.issue(origin, format_args!("expression: {summary}"));
                }
                out.extend_from_slice(&result.value);
            }
            self.check_size(origin, out)?;
        }
        Ok(())
    }

    /// `${text}`: a variable or a function call, with an optional `:offset:length`.
    fn variable(
        &self,
        origin: Origin<'_>,
        text: &[u8],
        scope: &Scope<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        let name = parse_variable_name(text);
        if name.is_function {
            let mut result = Vec::new();
            if functions::call(self, origin, name.name, scope, &mut result)? {
                out.extend_from_slice(substring(&result, name.offset, name.length));
            }
        } else if let Some(value) = self.lookup(name.name, scope) {
            out.extend_from_slice(substring(value.as_bytes(), name.offset, name.length));
        }
        Ok(())
    }

    /// `ast_str_retrieve_variable` without a channel: a few built-in names first, then the variables.
    pub(crate) fn lookup<'s>(&'s self, name: &[u8], scope: &Scope<'s>) -> Option<Cow<'s, str>> {
        let name = std::str::from_utf8(name).ok()?;
        let world = self.world;
        if !is_built_in(name) {
            return self.variable_value(name, scope);
        }
        match name {
            "EPOCH" => return Some(Cow::Owned(world.epoch.to_string())),
            "SYSTEMNAME" => return Some(Cow::Borrowed("")),
            "ASTETCDIR" => return Some(Cow::Owned(world.config_dir.display().to_string())),
            "ASTDATADIR" | "ASTVARLIBDIR" => {
                return Some(Cow::Owned(world.data_dir.display().to_string()));
            }
            _ => {}
        }
        self.variable_value(name, scope)
    }

    /// `pbx_builtin_getvar_helper`: the variable `name` (what this substitution assigned first, then the
    /// line's, then `SERVER`), without built-in names.
    pub(crate) fn variable_value<'s>(
        &'s self,
        name: &str,
        scope: &Scope<'s>,
    ) -> Option<Cow<'s, str>> {
        let line = line_of(scope);
        if let Some(assigned) = self
            .assigned
            .borrow()
            .iter()
            .find(|a| a.line == line && a.name == name)
        {
            return assigned.value.clone().map(Cow::Owned);
        }
        if let Some(value) = scope.vars.get(name) {
            return Some(Cow::Borrowed(value));
        }
        if name == "SERVER" {
            return scope.server.map(Cow::Borrowed);
        }
        None
    }

    /// `pbx_builtin_setvar_helper(chan, name, value)` on the channel a function runs on, for the line of
    /// `scope`: up to two leading `_` (Asterisk's inheritance marks) are not part of the name.
    pub(crate) fn assign(&self, scope: &Scope<'_>, name: &[u8], value: &[u8]) {
        let name = String::from_utf8_lossy(strip_inheritance(name)).into_owned();
        let value = match self.assignments {
            Assignments::Render => Some(String::from_utf8_lossy(value).into_owned()),
            Assignments::Asterisk => None,
        };
        let line = line_of(scope);
        let mut assigned = self.assigned.borrow_mut();
        match assigned
            .iter_mut()
            .find(|a| a.line == line && a.name == name)
        {
            Some(old) => old.value = value,
            None => assigned.push(Assigned { line, name, value }),
        }
    }
}

/// A variable's name without the one or two leading `_` that mark inheritance.
pub(crate) fn strip_inheritance(name: &[u8]) -> &[u8] {
    let name = name.strip_prefix(b"_").unwrap_or(name);
    name.strip_prefix(b"_").unwrap_or(name)
}
