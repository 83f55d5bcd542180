//! The dialplan functions a template, a setvar or a route pattern may call, each as Asterisk 22.10.1
//! computes it, one file per Asterisk module.
//!
//! [`call`] does what `ast_func_read2` (main/pbx_functions.c) does for `${NAME(args)}`: the name ends at the
//! first `(`, the arguments at the *last* `)`, and the name is found case-sensitively. res_phoneprov
//! substitutes without a channel, so Asterisk runs each function on a dummy channel whose variables are the
//! line's (main/pbx_variables.c, `ast_str_substitute_variables_full2`): a function that reads a variable by
//! name (`CUT`, `FIELDQTY`, `REPLACE`...) sees the line's variables. Then, as in Asterisk:
//!
//! * a function that fails (Asterisk's `-1`) writes nothing, whatever it had written;
//! * a function with only a `.read` callback writes into a fixed buffer of 4096 bytes (`VAR_BUF_SIZE`), or
//!   of its `read_max` (`LEN` 12, `MD5` 33...): its result is cut to that size minus one. Functions with a
//!   `.read2` callback write an unbounded string. [`TABLE`] records which is which;
//! * a result is a C string: it ends at its first NUL byte (`URIDECODE(%00)` is empty).
//!
//! Modules: [`strings`] (func_strings.c), [`datetime`] (`STRFTIME`/`STRPTIME` of func_strings.c),
//! [`sprintf`] (func_sprintf.c), [`logic`] (func_logic.c), [`math`] (func_math.c), [`cut`] (func_cut.c),
//! [`env`] (func_env.c), [`uri`] (func_uri.c), [`base64`] (func_base64.c), [`hash`] (func_md5.c,
//! func_sha1.c) and [`phoneprov`] (res_phoneprov.c). The C library behaviour they rely on is emulated in
//! [`escapes`] (`ast_get_encoded_char`), [`scan`] (`sscanf`, `strtod`), [`printf`] (`snprintf`),
//! [`strftime`], [`strptime`] (glibc in the C.UTF-8 locale Asterisk runs in) and [`timing`]
//! (main/pbx_timing.c).
//!
//! Where pjprov differs on purpose: `SET`, `INC`, `DEC`, `SHIFT` and `POP` in a template assign for the rest
//! of the render (see [`super::render::Assignments`]); `BASENAME` and `DIRNAME` return whole names
//! (Asterisk cuts them to 11 bytes); `ENV` reads only the variables pjprov.conf allows; `STAT` is allowed
//! (Asterisk blocks it unless `live_dangerously`); `STRFTIME`, `STRPTIME` and `IFTIME` without a zone use
//! the line's `TIMEZONE` before the host's zone.
//!
//! # What pjprov does not have
//!
//! Asterisk 22.10.1 registers 219 functions; pjprov has the 51 of [`TABLE`]. Each of the other 168 renders
//! empty with a `check` warning ("not registered"), for the reason given:
//!
//! * **Write-only** (no read callback: reading them fails in Asterisk too): `ARRAY`, `PUSH`, `UNSHIFT`
//!   (func_strings), `DELETE` (func_logic), `GLOBAL_DELETE` (func_global), `EXPORT`, `TESTTIME`,
//!   `CALENDAR_WRITE`, `CONFBRIDGE`, `FRAME_DROP`, `FRAME_TRACE`, `HOLD_INTERCEPT`, `JACK_HOOK`,
//!   `JITTERBUFFER`, `LOG_GROUP`, `MUTEAUDIO`, `PITCH_SHIFT`, `SCRAMBLE`, `TALK_DETECT`.
//! * **Need a call** (the dummy channel of a substitution has no caller, CDR, media, bridge, dialplan
//!   position or SIP dialog): `CALLERID`, `CONNECTEDLINE`, `REDIRECTING`, `CDR`, `CDR_PROP`, `CHANNEL`,
//!   `CHANNELS`, `CHANNEL_EXISTS`, `MASTER_CHANNEL`, `IMPORT`, `EXCEPTION`, `TIMEOUT`, `HANGUPCAUSE`,
//!   `HANGUPCAUSE_KEYS`, `CALLCOMPLETION`, `FAXOPT`, `FEATURE`, `FEATUREMAP`, `GROUP`, `GROUP_COUNT`,
//!   `GROUP_LIST`, `GROUP_MATCH_COUNT`, `LOCAL`, `LOCAL_PEEK`, `STACK_PEEK`, `EVAL_EXTEN`, `EVAL_SUB`,
//!   `DIALPLAN_EXISTS`, `VALID_EXTEN`, `SHARED`, `HASH`, `HASHKEYS` (hash variables only the write side
//!   makes), `LOCK`, `TRYLOCK`, `UNLOCK`, `MESSAGE`, `MESSAGE_DATA`, `MIXMONITOR`, `RECORDING_INFO`,
//!   `GEOLOC_PROFILE`, `STIR_SHAKEN`, `STIR_SHAKEN_ATTESTATION`, `PARK_GET_CHANNEL`, `DIALGROUP`, `AGC`,
//!   `DENOISE`, `VOLUME`, `PERIODIC_HOOK`, `TONE_DETECT`, `SPEECH`, `SPEECH_ENGINE`, `SPEECH_GRAMMAR`,
//!   `SPEECH_RESULTS_TYPE`, `SPEECH_SCORE`, `SPEECH_TEXT`, `PJSIP_HEADER`, `PJSIP_HEADERS`,
//!   `PJSIP_HEADER_PARAM`, `PJSIP_INHERITABLE_HEADER`, `PJSIP_RESPONSE_HEADER`, `PJSIP_RESPONSE_HEADERS`,
//!   `PJSIP_MEDIA_OFFER`, `PJSIP_DTMF_MODE`, `PJSIP_MOH_PASSTHROUGH`, `PJSIP_SEND_SESSION_REFRESH`,
//!   `PJSIP_TRANSFER_HANDLING`, `PJSIP_DIAL_CONTACTS`, `DAHDI_CHANNEL`, `POLARITY`, `IAXVAR`.
//! * **Need Asterisk's running state or another module's data**: `AGENT`, `CONFBRIDGE_INFO`,
//!   `CONFBRIDGE_CHANNELS`, `MEETME_INFO`, `QUEUE_EXISTS`, `QUEUE_GET_CHANNEL`, `QUEUE_MEMBER`,
//!   `QUEUE_MEMBER_COUNT`, `QUEUE_MEMBER_LIST`, `QUEUE_MEMBER_PENALTY`, `QUEUE_VARIABLES`,
//!   `QUEUE_WAITING_COUNT`, `VM_INFO`, `VMCOUNT`, `MINIVMACCOUNT`, `MINIVMCOUNTER`, `DEVICE_STATE`,
//!   `HINT`, `EXTENSION_STATE`, `PRESENCE_STATE`, `CALENDAR_BUSY`, `CALENDAR_EVENT`, `CALENDAR_QUERY`,
//!   `CALENDAR_QUERY_RESULT`, `SMDI_MSG`, `SMDI_MSG_RETRIEVE`, `JABBER_STATUS`, `JABBER_RECEIVE`,
//!   `AMI_CLIENT`, `IAXPEER`, `IFMODULE` (which modules are loaded), `GLOBAL` and `GLOBAL_EXISTS` (globals
//!   come from extensions.conf, which pjprov does not read), `PJSIP_AOR`, `PJSIP_CONTACT`,
//!   `PJSIP_ENDPOINT` and `AST_SORCERY` (every field of every sorcery object: pjprov keeps only what
//!   provisioning needs), `AST_CONFIG` (any configuration file), `PJSIP_PARSE_URI` and
//!   `PJSIP_PARSE_URI_FROM` (pjproject's SIP URI parser).
//! * **Need a database or the network**: `DB`, `DB_EXISTS`, `DB_KEYS`, `DB_KEYCOUNT`, `DB_DELETE` (astdb),
//!   `REALTIME`, `REALTIME_FIELD`, `REALTIME_HASH`, `REALTIME_STORE`, `REALTIME_DESTROY`, `ODBC`,
//!   `ODBC_FETCH`, `SQL_ESC`, `SQL_ESC_BACKSLASHES` (func_odbc, which loads only with res_odbc), `CURL`,
//!   `CURLOPT`, `ENUMLOOKUP`, `ENUMQUERY`, `ENUMRESULT`, `TXTCIDNAME`, `SRVQUERY`, `SRVRESULT`,
//!   `DUNDILOOKUP`, `DUNDIQUERY`, `DUNDIRESULT`, `BLACKLIST`.
//! * **Dangerous** (privilege-escalating: Asterisk blocks them in res_phoneprov's substitutions unless
//!   `live_dangerously`, and a provisioning server must not run commands or read arbitrary files for
//!   whoever writes a template): `SHELL`, `FILE`, `FILE_COUNT_LINE`, `FILE_FORMAT`. `STAT` is the one
//!   exception pjprov makes, because Asterisk's own Polycom template uses it.
//! * **A different answer each time**, which the render cache (one body per route and server address until
//!   the next reload) would freeze and which would break `ETag`s: `RAND`, `UUID`, `SYSINFO`.
//! * **No honest or useful answer here**: `VERSION` (pjprov is not Asterisk), `ICONV` (the host iconv's
//!   character sets), `AES_ENCRYPT` and `AES_DECRYPT` (keys do not belong in templates; they would need a
//!   cipher dependency), `JSON_DECODE` (no provisioning variable holds JSON; serde_json could do it),
//!   `SAYFILES` (sound file names of a language pack).
//!
//! `EPOCH`, `SYSTEMNAME`, `ASTETCDIR`, `ASTDATADIR` and `ASTVARLIBDIR` are variables, not functions
//! (see [`super::render`]).

mod base64;
mod cut;
mod datetime;
mod env;
mod escapes;
mod hash;
mod logic;
mod math;
mod phoneprov;
mod printf;
mod scan;
mod sprintf;
mod strftime;
mod strings;
mod strptime;
mod timing;
mod uri;

#[cfg(test)]
mod tests;

use super::render::{Origin, RenderError, Renderer, Scope};
use super::template::Template;

/// `VAR_BUF_SIZE`: the buffer of a function that has only a `.read` callback.
pub(crate) const VAR_BUF_SIZE: usize = 4096;

/// What a function callback returns: `Ok(true)` when it succeeded (Asterisk's 0), `Ok(false)` when it
/// failed (Asterisk's -1: what it wrote is dropped), `Err` when the render must stop.
pub(crate) type Outcome = Result<bool, RenderError>;

/// A function's callback: the call, the text between the parentheses, where to write.
type Read = fn(&Call<'_, '_>, &[u8], &mut Vec<u8>) -> Outcome;

/// How a function's result is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Buffer {
    /// `.read` only: a buffer of this many bytes, NUL included.
    Fixed(usize),
    /// `.read2`: an `ast_str` that grows as needed.
    Unbounded,
}

/// One dialplan function.
pub(crate) struct Function {
    pub name: &'static str,
    read: Read,
    pub buffer: Buffer,
}

const fn read(name: &'static str, read: Read) -> Function {
    Function {
        name,
        read,
        buffer: Buffer::Fixed(VAR_BUF_SIZE),
    }
}

const fn read_max(name: &'static str, max: usize, read: Read) -> Function {
    Function {
        name,
        read,
        buffer: Buffer::Fixed(max),
    }
}

const fn read2(name: &'static str, read: Read) -> Function {
    Function {
        name,
        read,
        buffer: Buffer::Unbounded,
    }
}

/// Every function pjprov has, sorted by name (found by binary search), with the buffer Asterisk gives it.
pub(crate) const TABLE: &[Function] = &[
    read_max("ABS", 12, math::abs),
    read2("BASE64_DECODE", base64::decode),
    read2("BASE64_ENCODE", base64::encode),
    read("BASENAME", env::basename),
    read("CSV_QUOTE", strings::csv_quote),
    read2("CUT", cut::cut),
    read("DEC", math::dec),
    read("DIGIT_SUM", math::digit_sum),
    read("DIRNAME", env::dirname),
    read("ENV", env::env),
    read2("EVAL", strings::eval),
    read_max("EXISTS", 2, logic::exists),
    read2("FIELDNUM", strings::fieldnum),
    read2("FIELDQTY", strings::fieldqty),
    read("FILTER", strings::filter),
    read("IF", logic::if_),
    read("IFTIME", logic::iftime),
    read("INC", math::inc),
    read_max("ISNULL", 2, logic::isnull),
    read("KEYPADHASH", strings::keypadhash),
    read_max("LEN", 12, strings::len),
    read2("LISTFILTER", strings::listfilter),
    read("LTRIM", strings::ltrim),
    read("MATH", math::math),
    read_max("MAX", 12, math::max),
    read_max("MD5", 33, hash::md5),
    read_max("MIN", 12, math::min),
    read2("PASSTHRU", strings::passthru),
    read2("POP", strings::pop),
    read2("PP_EACH_EXTENSION", phoneprov::each_extension),
    read2("PP_EACH_USER", phoneprov::each_user),
    read("QUOTE", strings::quote),
    read("REGEX", strings::regex),
    read2("REPLACE", strings::replace),
    read("RTRIM", strings::rtrim),
    read2("SET", logic::set),
    read_max("SHA1", 42, hash::sha1),
    read2("SHIFT", strings::shift),
    read("SORT", cut::sort),
    read("SPRINTF", sprintf::sprintf),
    read_max("STAT", 12, env::stat),
    read2("STRBETWEEN", strings::strbetween),
    read("STRFTIME", datetime::strftime),
    read("STRPTIME", datetime::strptime),
    read2("STRREPLACE", strings::strreplace),
    read2("TOLOWER", strings::tolower),
    read2("TOUPPER", strings::toupper),
    read("TRIM", strings::trim),
    read("URIDECODE", uri::decode),
    read("URIENCODE", uri::encode),
    read("VARIABLE_EXISTS", logic::variable_exists),
];

const NAMES: [&str; TABLE.len()] = {
    let mut names = [""; TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        names[i] = TABLE[i].name;
        i += 1;
    }
    names
};

/// The functions pjprov knows, sorted. Any other renders empty and is a `check` warning.
pub const FUNCTIONS: &[&str] = &NAMES;

/// The function called `name`.
pub(crate) fn find(name: &[u8]) -> Option<&'static Function> {
    TABLE
        .binary_search_by(|f| f.name.as_bytes().cmp(name))
        .ok()
        .and_then(|i| TABLE.get(i))
}

/// One call of a function: where it is written, what it sees, how much it may return.
pub(crate) struct Call<'c, 'a> {
    pub r: &'c Renderer<'a>,
    /// The node of the file template this call belongs to: issues point there.
    pub origin: Origin<'c>,
    pub scope: &'c Scope<'c>,
    /// The function's buffer.
    pub buffer: Buffer,
}

impl Call<'_, '_> {
    /// Reports a problem Asterisk would log, at the node of the call.
    pub fn issue(&self, message: impl std::fmt::Display) {
        self.r.issue(self.origin, message);
    }

    /// The buffer's size for functions whose output depends on it (`len` in their C source); unbounded
    /// functions get `usize::MAX`.
    pub fn len(&self) -> usize {
        match self.buffer {
            Buffer::Fixed(size) => size,
            Buffer::Unbounded => usize::MAX,
        }
    }

    /// Substitutes `text` as a template (what `ast_str_substitute_variables` does with text a function
    /// built): `EVAL`'s argument, `${varname}` for the functions that take a variable's name.
    pub fn substitute(&self, text: &[u8], out: &mut Vec<u8>) -> Result<(), RenderError> {
        let inner = Template::derived(self.origin.template.name(), text);
        self.r.nested(&inner, self.origin, self.scope, out)
    }

    /// The value of `${varname}` (a name, or any variable expression: `CUT(FOO(x),,1)` calls `FOO`).
    pub fn value_of(&self, varname: &[u8]) -> Result<Vec<u8>, RenderError> {
        let mut expression = Vec::with_capacity(varname.len() + 3);
        expression.extend_from_slice(b"${");
        expression.extend_from_slice(varname);
        expression.push(b'}');
        let mut value = Vec::new();
        self.substitute(&expression, &mut value)?;
        Ok(value)
    }

    /// Fails once `out` is larger than a render may be (for results that grow in loops).
    pub fn check_size(&self, out: &[u8]) -> Result<(), RenderError> {
        self.r.check_size(self.origin, out)
    }
}

/// Calls `text` (`NAME(args)`), appending its result to `out`. Returns false when the function failed or
/// does not exist (and wrote nothing).
pub(crate) fn call(
    r: &Renderer<'_>,
    origin: Origin<'_>,
    text: &[u8],
    scope: &Scope<'_>,
    out: &mut Vec<u8>,
) -> Outcome {
    let (name, data) = match memchr::memchr(b'(', text) {
        Some(open) => {
            let args = text.get(open + 1..).unwrap_or_default();
            let args = match memchr::memrchr(b')', args) {
                Some(close) => &args[..close],
                None => {
                    r.issue(
                        origin,
                        "can't find the trailing parenthesis of the function call; the arguments run to the end",
                    );
                    args
                }
            };
            (&text[..open], args)
        }
        None => (text, &b""[..]),
    };
    let Some(function) = find(name) else {
        let named = std::str::from_utf8(name)
            .ok()
            .filter(|n| origin.shows(n.as_bytes()));
        match named {
            Some(n) => r.issue(
                origin,
                format_args!("function {n} not registered: it renders empty"),
            ),
            None => r.issue(origin, "function not registered: it renders empty"),
        }
        return Ok(false);
    };
    let call = Call {
        r,
        origin,
        scope,
        buffer: function.buffer,
    };
    let start = out.len();
    if !(function.read)(&call, data, out)? {
        out.truncate(start);
        return Ok(false);
    }
    if let Buffer::Fixed(size) = function.buffer {
        out.truncate(start + (out.len() - start).min(size.saturating_sub(1)));
    }
    if let Some(nul) = memchr::memchr(0, &out[start..]) {
        out.truncate(start + nul);
    }
    Ok(true)
}

/// `ast_strlen_zero`.
pub(crate) fn is_empty(arg: Option<&Vec<u8>>) -> bool {
    arg.is_none_or(|a| a.is_empty())
}

/// The text of argument `i`, empty when absent.
pub(crate) fn arg(args: &[Vec<u8>], i: usize) -> &[u8] {
    args.get(i).map(Vec::as_slice).unwrap_or_default()
}

/// C's `isspace` in the C locale.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}
