//! Asterisk's own template language, as res_phoneprov renders it: `${VAR}`, `${VAR:offset:length}`,
//! `${FUNC(args)}` and `$[expression]`.
//!
//! [`Template`] parses a file once; rendering walks the parsed nodes against a line's variables. Function
//! arguments split as `__ast_app_separate_args` splits them ([`separate_args`]), and each function behaves as
//! its Asterisk counterpart, quirks included.

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
