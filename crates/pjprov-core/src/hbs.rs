//! pjprov's own template engine: Handlebars, for template files whose name ends in `.hbs`.
//!
//! The context of a phone's file is its first line's variables at the top level (`{{USERNAME}}`), `lines`
//! (every line's variables, in LINE order), `users` (every phone's first line, for directories; only built
//! when the template mentions it) and `server` (the address the phone connected to). Nothing is
//! HTML-escaped: phone configs are plain text or XML, and XML values go through `{{xml VALUE}}`.
//!
//! Helpers: `xml` (escapes exactly `& < > " '`), `lower`, `upper`, `mac` (`{{mac MAC ":"}}` formats the 12
//! hex digits with a separator; `{{mac MAC "" "upper"}}` changes case), `add` (`{{add LINE -1}}`),
//! `default` (`{{default UPDATE_INTERVAL "86400"}}`), and for time zones written the way each phone wants
//! them: `tz_hours` (`{{tz_hours TZOFFSET}}` → `-5`, `5.5`), `tz_minutes` (`-300`), `tz_gmt` (`GMT-05:00`)
//! and `posix_tz` (`{{posix_tz TIMEZONE}}` → `EST5EDT,M3.2.0,M11.1.0`, from the zone file); `url` splits a
//! URL for phones that store it in parts (`{{url PROVISIONING_URL "scheme"}}` → `http`, `"rest"` →
//! `192.0.2.10:8088/phoneprov/`, also `"authority"` and `"path"`).
//!
//! Helpers for the bundled vendor templates (each takes a missing parameter as empty, so that optional
//! variables keep strict mode quiet; see [`lenient`]):
//! - `family` (`{{family "yealink" UA_MODEL UA_FIRMWARE}}` → `v81`): the firmware family, [`family`];
//! - `line_label`, `line_number` (`{{line_label this}}`): what a line shows (`LINE_LABEL`), its number;
//!   `keys` (`{{#each (keys lines BLF SPEED_DIAL)}}`): line keys, BLF and speed dials, [`keys`];
//! - `tz_rule` (`{{#with (tz_rule TIMEZONE)}}`): the zone's daylight saving rule, [`time`]; `tz_hm`
//!   (`+5:30`), `pad` (`{{pad 3 2}}` → `03`);
//! - `split`, `field` (`{{field UA_FIRMWARE "." 1}}`), `starts_with`, `concat`, `model_var`
//!   (`{{model_var this "FIRMWARE" UA_MODEL}}` at the top level: `FIRMWARE_<MODEL>`, else `FIRMWARE`), `url_join`;
//! - `language`, `tone_country`, `cisco_locale`: `LANGUAGE` and `COUNTRY` in a vendor's words, [`locale`].

mod family;
mod keys;
mod lenient;
mod locale;
mod text;
mod time;

use lenient::Lenient;

use handlebars::{Handlebars, handlebars_helper};
use serde_json::{Map, Value};

use crate::model::{Line, Phone};

/// XML's five predefined entities, and nothing else.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `mac`: the 12 hex digits of `text` grouped by two with `separator`; other text is returned unchanged.
pub fn format_mac(text: &str, separator: &str, case: &str) -> String {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return text.to_owned();
    }
    let digits = match case {
        "upper" => digits.to_ascii_uppercase(),
        "lower" => digits.to_ascii_lowercase(),
        _ => digits,
    };
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).into_owned())
        .collect::<Vec<_>>()
        .join(separator)
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn as_number(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

handlebars_helper!(xml: |value: Json| escape_xml(&as_text(value)));
handlebars_helper!(lower: |value: Json| as_text(value).to_lowercase());
handlebars_helper!(upper: |value: Json| as_text(value).to_uppercase());
handlebars_helper!(mac: |value: Json, *args| {
    // `args` holds every parameter, the MAC included.
    let separator = args.get(1).map(|v| as_text(v)).unwrap_or_else(|| ":".to_owned());
    let case = args.get(2).map(|v| as_text(v)).unwrap_or_default();
    format_mac(&as_text(value), &separator, &case)
});
handlebars_helper!(add: |a: Json, b: Json| {
    match (as_number(a), as_number(b)) {
        (Some(a), Some(b)) => Value::from(a.saturating_add(b)),
        _ => Value::from(""),
    }
});
handlebars_helper!(mul: |a: Json, b: Json| {
    match (as_number(a), as_number(b)) {
        (Some(a), Some(b)) => Value::from(a.saturating_mul(b)),
        _ => Value::from(""),
    }
});
handlebars_helper!(div: |a: Json, b: Json| {
    match (as_number(a), as_number(b)) {
        (Some(a), Some(b)) if b != 0 => Value::from(a.div_euclid(b)),
        _ => Value::from(""),
    }
});

/// `{{default VALUE FALLBACK}}`: VALUE unless it is missing or empty. Written by hand because a missing VALUE
/// is the whole point, and the generated helpers refuse missing parameters in strict mode.
#[derive(Debug, Clone, Copy)]
struct Default;

impl handlebars::HelperDef for Default {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &handlebars::Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc handlebars::Context,
        _: &mut handlebars::RenderContext<'reg, 'rc>,
    ) -> Result<handlebars::ScopedJson<'rc>, handlebars::RenderError> {
        let usable = |p: &handlebars::PathAndJson<'rc>| {
            !p.is_value_missing()
                && !matches!(p.value(), Value::Null)
                && p.value().as_str() != Some("")
        };
        let chosen = match (h.param(0), h.param(1)) {
            (Some(value), _) if usable(value) => value.value().clone(),
            (_, Some(fallback)) if !fallback.is_value_missing() => fallback.value().clone(),
            _ => Value::from(""),
        };
        Ok(handlebars::ScopedJson::Derived(chosen))
    }
}

fn offset_seconds(value: &Value) -> i64 {
    as_number(value).unwrap_or(0)
}

/// Seconds east of UTC as hours: `-5`, `5.5`, `5.75`.
pub fn tz_hours_text(seconds: i64) -> String {
    let minutes = seconds / 60;
    if minutes % 60 == 0 {
        (minutes / 60).to_string()
    } else {
        let hours = minutes as f64 / 60.0;
        let text = format!("{hours:.2}");
        text.trim_end_matches('0').to_owned()
    }
}

/// Seconds east of UTC as `GMT+05:30`.
pub fn tz_gmt_text(seconds: i64) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    format!("GMT{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The POSIX TZ rule at the end of a zone file (`EST5EDT,M3.2.0,M11.1.0`); the host's (`/etc/localtime`)
/// for an empty name; a valid POSIX string as it is; empty when there is none.
pub fn posix_tz_text(zone: &str) -> String {
    crate::tz::posix_footer(zone)
}

/// A part of `url` (`scheme://authority/path`): `scheme`, `authority`, `path` (from its `/`, `/` if none),
/// `rest` (all after `scheme://`) or `base` (the whole URL without its trailing `/`, for phones that add
/// one between a server field and a file name). A text without `://` is all authority and path, with no
/// scheme.
pub fn url_part(url: &str, part: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    match part {
        "scheme" => scheme.to_ascii_lowercase(),
        "authority" => authority.to_owned(),
        "path" => path.to_owned(),
        "base" => url.trim_end_matches('/').to_owned(),
        _ => rest.to_owned(),
    }
}

handlebars_helper!(url_helper: |value: Json, part: str| url_part(&as_text(value), part));
handlebars_helper!(tz_hours: |value: Json| tz_hours_text(offset_seconds(value)));
handlebars_helper!(tz_minutes: |value: Json| (offset_seconds(value) / 60).to_string());
handlebars_helper!(tz_gmt: |value: Json| tz_gmt_text(offset_seconds(value)));
/// `{{posix_tz TIMEZONE}}`: a missing TIMEZONE means the host's zone, so a missing value is fine here.
#[derive(Debug, Clone, Copy)]
struct PosixTz;

impl handlebars::HelperDef for PosixTz {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &handlebars::Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc handlebars::Context,
        _: &mut handlebars::RenderContext<'reg, 'rc>,
    ) -> Result<handlebars::ScopedJson<'rc>, handlebars::RenderError> {
        let zone = h
            .param(0)
            .filter(|p| !p.is_value_missing())
            .map(|p| as_text(p.value()))
            .unwrap_or_default();
        Ok(handlebars::ScopedJson::Derived(Value::from(posix_tz_text(
            &zone,
        ))))
    }
}

/// A registry with pjprov's settings and helpers.
pub(crate) fn registry(strict: bool) -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.register_escape_fn(handlebars::no_escape);
    hb.set_strict_mode(strict);
    hb.set_prevent_indent(true);
    hb.register_helper("xml", Box::new(xml));
    hb.register_helper("lower", Box::new(lower));
    hb.register_helper("upper", Box::new(upper));
    hb.register_helper("mac", Box::new(mac));
    hb.register_helper("add", Box::new(add));
    hb.register_helper("default", Box::new(Default));
    hb.register_helper("mul", Box::new(mul));
    hb.register_helper("div", Box::new(div));
    hb.register_helper("tz_hours", Box::new(tz_hours));
    hb.register_helper("tz_minutes", Box::new(tz_minutes));
    hb.register_helper("tz_gmt", Box::new(tz_gmt));
    hb.register_helper("posix_tz", Box::new(PosixTz));
    hb.register_helper("url", Box::new(url_helper));
    register_vendor_helpers(&mut hb);
    hb
}

/// The helpers of the bundled vendor templates (module documentation above).
fn register_vendor_helpers(hb: &mut Handlebars<'static>) {
    use lenient::{number, text};
    let helpers: [(&str, Lenient); 16] = [
        (
            "family",
            Lenient(|p| Value::from(family::family(&text(p, 0), &text(p, 1), &text(p, 2)))),
        ),
        (
            "line_label",
            Lenient(|p| match p.first().and_then(|v| v.as_object()) {
                Some(line) => Value::from(keys::line_label(line)),
                None => Value::from(""),
            }),
        ),
        (
            "line_number",
            Lenient(|p| match p.first().and_then(|v| v.as_object()) {
                Some(line) => Value::from(keys::line_number(line)),
                None => Value::from(""),
            }),
        ),
        (
            "keys",
            Lenient(|p| {
                let lines = p
                    .first()
                    .and_then(|v| v.as_array())
                    .map_or(&[][..], Vec::as_slice);
                let layout = keys::layout(lines, &text(p, 1), &text(p, 2));
                Value::Array(layout.iter().map(keys::Key::to_json).collect())
            }),
        ),
        (
            "split",
            Lenient(|p| {
                let items = keys::split(&text(p, 0), &text(p, 1));
                Value::Array(items.into_iter().map(Value::from).collect())
            }),
        ),
        (
            "field",
            Lenient(|p| {
                let at = usize::try_from(number(p, 2).unwrap_or(0)).unwrap_or(0);
                Value::from(text::field(&text(p, 0), &text(p, 1), at))
            }),
        ),
        (
            "starts_with",
            Lenient(|p| Value::from(text::starts_with(&text(p, 0), &text(p, 1)))),
        ),
        (
            "concat",
            Lenient(|p| Value::from((0..p.len()).map(|i| text(p, i)).collect::<String>())),
        ),
        (
            "model_var",
            Lenient(|p| {
                let root = p.first().copied().unwrap_or(&Value::Null);
                Value::from(text::model_var(root, &text(p, 1), &text(p, 2)))
            }),
        ),
        (
            "url_join",
            Lenient(|p| Value::from(text::url_join(&text(p, 0), &text(p, 1)))),
        ),
        ("tz_rule", Lenient(|p| time::rule_json(&text(p, 0)))),
        (
            "tz_hm",
            Lenient(|p| Value::from(time::hours_minutes(number(p, 0).unwrap_or(0)))),
        ),
        (
            "pad",
            Lenient(|p| {
                let width = usize::try_from(number(p, 1).unwrap_or(0))
                    .unwrap_or(0)
                    .min(16);
                Value::from(time::pad(&text(p, 0), width))
            }),
        ),
        (
            "language",
            Lenient(|p| Value::from(locale::language(&text(p, 0), &text(p, 1)))),
        ),
        (
            "tone_country",
            Lenient(|p| Value::from(locale::tone_country(&text(p, 0), &text(p, 1), &text(p, 2)))),
        ),
        (
            "cisco_locale",
            Lenient(|p| Value::from(locale::cisco_locale(&text(p, 0)))),
        ),
    ];
    for (name, helper) in helpers {
        hb.register_helper(name, Box::new(helper));
    }
}

/// A line's variables as a JSON object, with `SERVER` where the line does not set it, and `SIP_TRANSPORT`
/// (the transport's protocol) unless the line sets it.
fn line_object(line: &Line, server: Option<&str>) -> Map<String, Value> {
    let mut object: Map<String, Value> = line
        .vars
        .iter()
        .map(|(n, v)| (n.to_owned(), Value::from(v)))
        .collect();
    if let Some(server) = server
        && !object.contains_key("SERVER")
    {
        object.insert("SERVER".into(), Value::from(server));
    }
    if let Some(protocol) = line.transport_protocol
        && !object.contains_key("SIP_TRANSPORT")
    {
        object.insert("SIP_TRANSPORT".into(), Value::from(protocol));
    }
    object
}

/// Whether a template reads `users` (so its context must list every phone): the word inside a `{{...}}`.
pub(crate) fn mentions_users(source: &str) -> bool {
    let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    let mut rest = source;
    while let Some(open) = rest.find("{{") {
        let inside = &rest[open + 2..];
        let close = inside.find("}}").unwrap_or(inside.len());
        let expression = &inside[..close];
        let bytes = expression.as_bytes();
        if expression.match_indices("users").any(|(at, _)| {
            !word(at.checked_sub(1).and_then(|i| bytes.get(i))) && !word(bytes.get(at + 5))
        }) {
            return true;
        }
        rest = &inside[close..];
    }
    false
}

/// Whether a template reads a secret variable (`{{SECRET}}`, `{{xml lines.1.SECRET}}`, `{{ADMIN_PASSWORD}}`):
/// a word inside some `{{...}}` that [`crate::is_secret_variable`] calls secret.
pub(crate) fn mentions_secret(source: &str) -> bool {
    crate::templates::expressions_mention_secret(source.as_bytes(), b"{{", b"}}")
}

/// The context of `phone`'s file: its first line's variables, `lines`, `server` and, if wanted, `users`;
/// the request's variables (`PROVISIONING_URL`, `UA_MODEL`: [`crate::request`]) where the phone's lines do
/// not set them.
pub(crate) fn context<'a>(
    phone: &Phone,
    all: impl Iterator<Item = (bool, &'a Phone)>,
    server: &str,
    with_users: bool,
    request: &crate::vars::Vars,
) -> Value {
    // Asterisk's rule: SERVER is added to the phone's lines only when its first line does not set it.
    let injected = (!phone.first_line().vars.contains("SERVER")).then_some(server);
    let with_request = |mut object: Map<String, Value>| {
        for (name, value) in request.iter() {
            if !object.contains_key(name) {
                object.insert(name.to_owned(), Value::from(value));
            }
        }
        object
    };
    let mut top = with_request(line_object(phone.first_line(), injected));
    let lines: Vec<Value> = phone
        .lines
        .iter()
        .map(|l| Value::Object(with_request(line_object(l, injected))))
        .collect();
    top.insert("lines".into(), Value::Array(lines));
    if with_users {
        let users: Vec<Value> = all
            .map(|(is_self, user)| {
                let injected = if is_self { injected } else { None };
                let mut object = line_object(user.first_line(), injected);
                let lines: Vec<Value> = user
                    .lines
                    .iter()
                    .map(|l| Value::Object(line_object(l, injected)))
                    .collect();
                object.insert("lines".into(), Value::Array(lines));
                Value::Object(object)
            })
            .collect();
        top.insert("users".into(), Value::Array(users));
    }
    top.insert("server".into(), Value::from(server));
    Value::Object(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, data: Value, strict: bool) -> Result<String, String> {
        let mut hb = registry(strict);
        hb.register_template_string("t", template)
            .map_err(|e| e.to_string())?;
        hb.render("t", &data).map_err(|e| e.to_string())
    }

    #[test]
    fn nothing_is_html_escaped() {
        let data = serde_json::json!({"P": "p&ss<w>\"o'r=d`"});
        assert_eq!(
            render("pw={{P}}", data.clone(), false).unwrap(),
            "pw=p&ss<w>\"o'r=d`"
        );
        assert_eq!(
            render("<a p=\"{{xml P}}\"/>", data, false).unwrap(),
            "<a p=\"p&amp;ss&lt;w&gt;&quot;o&apos;r=d`\"/>"
        );
    }

    #[test]
    fn url_parts() {
        let url = "HTTP://[2001:db8::1]:8088/phoneprov/";
        assert_eq!(url_part(url, "scheme"), "http");
        assert_eq!(url_part(url, "authority"), "[2001:db8::1]:8088");
        assert_eq!(url_part(url, "path"), "/phoneprov/");
        assert_eq!(url_part(url, "rest"), "[2001:db8::1]:8088/phoneprov/");
        assert_eq!(url_part("pbx.example.com", "path"), "/");
        assert_eq!(url_part("pbx.example.com/p/", "scheme"), "");
        assert_eq!(url_part("pbx.example.com/p/", "rest"), "pbx.example.com/p/");
        let data = serde_json::json!({"U": "https://h/x/"});
        assert_eq!(
            render("{{url U \"scheme\"}} {{url U \"rest\"}}", data, true).unwrap(),
            "https h/x/"
        );
    }

    #[test]
    fn helpers() {
        let data = serde_json::json!({"MAC": "0004F2aabbcc", "LINE": "2", "E": ""});
        assert_eq!(
            render("{{mac MAC}}", data.clone(), false).unwrap(),
            "00:04:F2:aa:bb:cc"
        );
        assert_eq!(
            render("{{mac MAC \"-\" \"upper\"}}", data.clone(), false).unwrap(),
            "00-04-F2-AA-BB-CC"
        );
        assert_eq!(
            render("{{lower MAC}} {{upper MAC}}", data.clone(), false).unwrap(),
            "0004f2aabbcc 0004F2AABBCC"
        );
        assert_eq!(render("{{add LINE -1}}", data.clone(), false).unwrap(), "1");
        assert_eq!(
            render(
                "{{default E \"x\"}}{{default LINE \"y\"}}",
                data.clone(),
                false
            )
            .unwrap(),
            "x2"
        );
        assert_eq!(
            render("{{default MISSING \"z\"}}", data, false).unwrap(),
            "z"
        );
    }

    #[test]
    fn strict_mode_reports_missing_variables_with_their_line() {
        let data = serde_json::json!({"A": "1"});
        assert_eq!(
            render("a={{A}}\nb={{B}}\n", data.clone(), false).unwrap(),
            "a=1\nb=\n"
        );
        let error = render("a={{A}}\nb={{B}}\n", data, true).unwrap_err();
        assert!(error.contains("line 2") || error.contains(":2:"), "{error}");
    }

    #[test]
    fn default_accepts_missing_values_in_strict_mode() {
        let data = serde_json::json!({"E": "", "V": "v"});
        assert_eq!(
            render(
                "{{default MISSING \"x\"}}{{default E \"y\"}}{{default V \"z\"}}",
                data,
                true
            )
            .unwrap(),
            "xyv"
        );
    }

    #[test]
    fn arithmetic() {
        let data = serde_json::json!({"TZOFFSET": "-18000"});
        assert_eq!(
            render("{{div TZOFFSET 900}} {{mul 3 4}} {{div 1 0}}", data, false).unwrap(),
            "-20 12 "
        );
    }

    #[test]
    fn users_detection() {
        assert!(mentions_users("{{#each users}}{{/each}}"));
        assert!(mentions_users("{{@root.users}}"));
        assert!(!mentions_users(
            "<item name=\"users.admin.password\">{{ADMIN_PASSWORD}}</item>"
        ));
        assert!(!mentions_users("{{P_users}} superusers"));
    }

    #[test]
    fn time_zone_helpers() {
        assert_eq!(tz_hours_text(-18000), "-5");
        assert_eq!(tz_hours_text(19800), "5.5");
        assert_eq!(tz_hours_text(20700), "5.75");
        assert_eq!(tz_gmt_text(-18000), "GMT-05:00");
        assert_eq!(tz_gmt_text(19800), "GMT+05:30");
        assert_eq!(posix_tz_text("America/New_York"), "EST5EDT,M3.2.0,M11.1.0");
        assert_eq!(posix_tz_text("../../etc/passwd"), "");
        assert_eq!(
            posix_tz_text("CET-1CEST,M3.5.0,M10.5.0/3"),
            "CET-1CEST,M3.5.0,M10.5.0/3"
        );
        let data = serde_json::json!({"TZOFFSET": "-18000"});
        assert_eq!(
            render(
                "{{tz_hours TZOFFSET}} {{tz_minutes TZOFFSET}} {{tz_gmt TZOFFSET}}",
                data,
                false
            )
            .unwrap(),
            "-5 -300 GMT-05:00"
        );
    }

    /// The vendor helpers take optional variables that are not set as empty, in strict mode too (what
    /// `pjprov check` renders with), and compute what the templates write.
    #[test]
    fn vendor_helpers_take_missing_variables_in_strict_mode() {
        let data = serde_json::json!({
            "MAC": "0004f2aabbcc",
            "UA_MODEL": "T54W",
            "UA_FIRMWARE": "96.86.0.100",
            "FIRMWARE_T54W": "t54w.rom",
            "BLF": "201=Alice, 202",
            "lines": [
                {"LINE": "1", "LINEKEYS": "2", "ENDPOINT_ID": "200", "DISPLAY_NAME": "Reception"},
                {"LINE": "2", "ENDPOINT_ID": "210", "LINE_LABEL": "number", "CALLERID": "210"},
            ],
        });
        for (template, want) in [
            ("{{family \"yealink\" UA_MODEL UA_FIRMWARE}}", "v83"),
            ("{{family \"yealink\" NO_MODEL NO_FIRMWARE}}", "v83"),
            ("{{family \"polycom\" NO_MODEL NO_FIRMWARE}}", "ucs"),
            (
                "{{#each (keys lines BLF SPEED_DIAL)}}{{index}}:{{kind}}:{{line}}:{{label}} {{/each}}",
                "1:line:1:Reception 2:line:1:Reception 3:line:2:210 4:blf:1:Alice 5:blf:1:202 ",
            ),
            (
                "{{#each (keys lines NONE NONE)}}{{kind}} {{/each}}",
                "line line line ",
            ),
            (
                "{{#each lines}}{{line_label this}}/{{line_number this}} {{/each}}",
                "Reception/200 210/210 ",
            ),
            (
                "{{#each (split BLF)}}[{{this}}]{{/each}}",
                "[201=Alice][202]",
            ),
            (
                "{{field UA_FIRMWARE \".\" 1}}{{field NOTHING \".\" 1}}",
                "86",
            ),
            ("{{#if (starts_with UA_MODEL \"t5\")}}yes{{/if}}", "yes"),
            (
                "{{model_var this \"FIRMWARE\" UA_MODEL}}|{{model_var this \"FIRMWARE\" NONE}}",
                "t54w.rom|",
            ),
            (
                "{{url_join \"http://h/p/\" (model_var this \"FIRMWARE\" UA_MODEL)}}",
                "http://h/p/t54w.rom",
            ),
            ("{{concat \"a\" MISSING \"b\" 3}}", "ab3"),
            (
                "{{tz_hm 19800}} {{tz_hm -12600}} {{pad 7 2}}",
                "+5:30 -3:30 07",
            ),
            (
                "{{#with (tz_rule \"Europe/Paris\")}}{{offset}} {{start.month}}/{{start.week}}/{{start.weekday_iso}}{{/with}}",
                "3600 3/5/7",
            ),
            (
                "{{#with (tz_rule \"Mars/Olympus_Mons\")}}{{known}} {{offset}} {{dst}}{{/with}}",
                "false 0 false",
            ),
            (
                "{{language \"yealink\" LANGUAGE}}{{tone_country \"yealink\" COUNTRY LANGUAGE}}",
                "",
            ),
            ("{{url \"http://h:1/p/\" \"base\"}}", "http://h:1/p"),
        ] {
            assert_eq!(
                render(template, data.clone(), true).as_deref(),
                Ok(want),
                "{template}"
            );
        }
    }

    #[test]
    fn mac_formatting() {
        assert_eq!(format_mac("0004f2aabbcc", ":", ""), "00:04:f2:aa:bb:cc");
        assert_eq!(format_mac("00:04:f2:aa:bb:cc", "", "upper"), "0004F2AABBCC");
        assert_eq!(format_mac("nonsense", ":", ""), "nonsense");
    }
}
