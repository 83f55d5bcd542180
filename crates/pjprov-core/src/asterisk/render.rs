//! Rendering parsed templates against the phones of a snapshot.

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

/// Where templates for `PP_EACH_EXTENSION` come from.
pub(crate) trait TemplateSource {
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
    /// world without phones: `PP_EACH_USER` yields nothing and `PP_EACH_EXTENSION` finds no template. This
    /// is what setvars and route patterns get; it is also the way to try a template out.
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
        };
        let renderer = Renderer::new(&world, None, server);
        let scope = Scope { vars, server };
        let mut out = Vec::new();
        let result = self.render_into(&renderer, &scope, &mut out).map(|()| out);
        (result, renderer.take_issues())
    }
}

/// Everything a template can reach besides its own variables.
pub(crate) struct World<'a> {
    pub phones: &'a [Phone],
    /// Phones in the order of Asterisk's user table (what `PP_EACH_USER` walks).
    pub user_order: &'a [usize],
    pub by_mac: &'a FxHashMap<CompactString, usize>,
    pub templates: &'a dyn TemplateSource,
    pub config_dir: &'a Path,
    pub data_dir: &'a Path,
    /// `${EPOCH}`.
    pub epoch: i64,
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
    /// What happened.
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

/// One render: budgets and the issues met.
pub(crate) struct Renderer<'a> {
    pub world: &'a World<'a>,
    /// The phone being served, whose lines see `server`.
    pub requesting: Option<usize>,
    pub server: Option<&'a str>,
    depth: Cell<u32>,
    issues: RefCell<Vec<RenderIssue>>,
}

impl<'a> Renderer<'a> {
    pub fn new(world: &'a World<'a>, requesting: Option<usize>, server: Option<&'a str>) -> Self {
        Renderer {
            world,
            requesting,
            server,
            depth: Cell::new(0),
            issues: RefCell::new(Vec::new()),
        }
    }

    /// The issues met so far.
    pub fn take_issues(&self) -> Vec<RenderIssue> {
        std::mem::take(&mut self.issues.borrow_mut())
    }

    pub(crate) fn issue(&self, template: &Template, line: u32, message: String) {
        self.issues.borrow_mut().push(RenderIssue {
            template: template.name().to_owned(),
            line,
            message,
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

    /// Renders `template` in `scope` one level deeper (for functions that render templates).
    pub(crate) fn nested(
        &self,
        template: &Template,
        line: u32,
        scope: &Scope<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return Err(RenderError::TooDeep {
                template: template.name().to_owned(),
                line,
                limit: MAX_DEPTH,
            });
        }
        self.depth.set(depth + 1);
        let result = template.render_into(self, scope, out);
        self.depth.set(depth);
        result
    }

    fn check_size(&self, template: &Template, out: &[u8]) -> Result<(), RenderError> {
        if out.len() > MAX_OUTPUT {
            Err(RenderError::TooLarge {
                template: template.name().to_owned(),
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
    ) -> Result<(), RenderError> {
        for node in nodes {
            match node {
                Node::Text(start, end) => out.extend_from_slice(template.text(*start, *end)),
                Node::Var {
                    inside,
                    line,
                    unterminated,
                } => {
                    if *unterminated {
                        self.issue(
                            template,
                            *line,
                            "missing '}': the rest of the template is read as a variable name"
                                .into(),
                        );
                    }
                    let mut name = Vec::new();
                    self.render_nodes(template, inside, scope, &mut name)?;
                    self.variable(template, *line, &name, scope, out)?;
                }
                Node::Expr {
                    inside,
                    line,
                    unterminated,
                } => {
                    if *unterminated {
                        self.issue(
                            template,
                            *line,
                            "missing ']': the rest of the template is read as an expression".into(),
                        );
                    }
                    let mut text = Vec::new();
                    self.render_nodes(template, inside, scope, &mut text)?;
                    let result = super::expr::evaluate(&text);
                    if let Some(error) = result.error {
                        self.issue(
                            template,
                            *line,
                            format!("expression $[{}]: {error}", String::from_utf8_lossy(&text)),
                        );
                    }
                    out.extend_from_slice(&result.value);
                }
            }
            self.check_size(template, out)?;
        }
        Ok(())
    }

    /// `${text}`: a variable or a function call, with an optional `:offset:length`.
    fn variable(
        &self,
        template: &Template,
        line: u32,
        text: &[u8],
        scope: &Scope<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        let name = parse_variable_name(text);
        if name.is_function {
            let mut result = Vec::new();
            let ok = functions::call(self, template, line, name.name, scope, &mut result)?;
            if ok {
                out.extend_from_slice(substring(&result, name.offset, name.length));
            }
        } else if let Some(value) = self.lookup(name.name, scope) {
            out.extend_from_slice(substring(value.as_bytes(), name.offset, name.length));
        }
        Ok(())
    }

    /// `ast_str_retrieve_variable` without a channel: a few built-in names first, then the line's variables.
    pub(crate) fn lookup<'s>(
        &'s self,
        name: &[u8],
        scope: &Scope<'s>,
    ) -> Option<std::borrow::Cow<'s, str>> {
        use std::borrow::Cow;
        let name = std::str::from_utf8(name).ok()?;
        let world = self.world;
        match name {
            "EPOCH" => return Some(Cow::Owned(world.epoch.to_string())),
            "SYSTEMNAME" => return Some(Cow::Borrowed("")),
            "ASTETCDIR" => return Some(Cow::Owned(world.config_dir.display().to_string())),
            "ASTDATADIR" | "ASTVARLIBDIR" => {
                return Some(Cow::Owned(world.data_dir.display().to_string()));
            }
            _ => {}
        }
        if let Some(value) = scope.vars.get(name) {
            return Some(Cow::Borrowed(value));
        }
        if name == "SERVER" {
            return scope.server.map(Cow::Borrowed);
        }
        None
    }
}
