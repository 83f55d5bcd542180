//! Asterisk's own template language, as res_phoneprov renders it: `${VAR}`, `${VAR:offset:length}`,
//! `${FUNC(args)}` and `$[expression]`.
//!
//! [`Template`] parses a file once; rendering walks the parsed nodes against a line's variables. Function
//! arguments split as `__ast_app_separate_args` splits them ([`separate_args`]), and each function behaves as
//! its Asterisk counterpart, quirks included: [`FUNCTIONS`] lists them, one module per Asterisk module
//! (func_strings, func_logic, func_math, func_cut, func_env, func_sprintf, func_uri, func_base64, func_md5,
//! func_sha1, res_phoneprov). Setvars and route patterns use the same engine when phones are built.
//!
//! Issues ([`RenderIssue`]) name the template, the line and the node as written there: never the
//! substituted text, which may hold a secret.

mod args;
pub(crate) mod expr;
pub(crate) mod functions;
pub(crate) mod render;
mod template;

pub use args::separate_args;
pub use expr::{Evaluation, evaluate};
pub use functions::FUNCTIONS;
pub use render::{MAX_DEPTH, MAX_OUTPUT, RenderError, RenderIssue};
pub use template::Template;
pub(crate) use template::scan_int;
