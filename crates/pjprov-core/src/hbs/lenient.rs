//! Helpers that take missing parameters as `null` instead of failing in strict mode.
//!
//! Most of pjprov's helpers are about optional variables (`BLF`, `TIMEZONE`, `UA_MODEL` when no
//! User-Agent was parsed): a missing one is an expected input, not a mistake in the template, so strict
//! mode (`pjprov check`) must stay quiet about it. Handlebars' generated helpers refuse missing
//! parameters in strict mode; this wrapper hands them on as `null`, borrowed (no parameter is copied:
//! `users` can hold every phone).

use handlebars::{Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, ScopedJson};
use serde_json::Value;

/// A helper computed from its parameters, each `null` when missing.
#[derive(Clone, Copy)]
pub(crate) struct Lenient(pub(crate) fn(&[&Value]) -> Value);

impl std::fmt::Debug for Lenient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lenient")
    }
}

static NULL: Value = Value::Null;

impl HelperDef for Lenient {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let params: Vec<&Value> = h
            .params()
            .iter()
            .map(|p| {
                if p.is_value_missing() {
                    &NULL
                } else {
                    p.value()
                }
            })
            .collect();
        Ok(ScopedJson::Derived((self.0)(&params)))
    }
}

/// A parameter as text: strings as they are, numbers written out, `null`, `false` and missing as "".
pub(crate) fn text(params: &[&Value], index: usize) -> String {
    match params.get(index) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(true)) => "true".into(),
        _ => String::new(),
    }
}

/// A parameter as a whole number, when it is one (`"-18000"` and `-18000` alike).
pub(crate) fn number(params: &[&Value], index: usize) -> Option<i64> {
    match params.get(index)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
