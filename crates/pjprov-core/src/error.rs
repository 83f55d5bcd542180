//! Everything `pjprov check` can report about a configuration, as data.
//!
//! [`Error`] is the one error enum of this crate; it wraps the dialect's own errors and adds what Asterisk's
//! pjsip and phoneprov modules would log, plus pjprov's own checks. A [`Diagnostic`] places one at a file and
//! line. Messages never contain a secret: they name options and places, not values of passwords.
pub use asterisk_config::{HasSeverity, Severity};

/// One problem with the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A problem of the config dialect itself (includes, templates, comments...).
    #[error(transparent)]
    Config(#[from] asterisk_config::Error),
    /// A file Asterisk needs is missing or rejected as a whole.
    #[error("{file} cannot be used: {reason}")]
    FileRejected {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// An option the object's type does not have.
    #[error(
        "{kind} '{id}': unknown option '{option}'{}; Asterisk rejects the whole {kind}",
        suggestion_note(suggestion)
    )]
    UnknownOption {
        /// The object type.
        kind: String,
        /// The object id.
        id: String,
        /// The option as written.
        option: String,
        /// The closest known option.
        suggestion: Option<String>,
    },
    /// `type=` names no object type pjsip knows.
    #[error(
        "[{id}]: unknown type '{value}'{}; the section is not an object",
        suggestion_note(suggestion)
    )]
    UnknownType {
        /// The section.
        id: String,
        /// The type as written.
        value: String,
        /// The closest known type.
        suggestion: Option<String>,
    },
    /// Two objects of one type with one id.
    #[error(
        "duplicate {kind} '{id}' (also at {other}): Asterisk then refuses every {kind} in {file}"
    )]
    DuplicateObject {
        /// The object type.
        kind: String,
        /// The id.
        id: String,
        /// Where the other one is.
        other: String,
        /// The file.
        file: String,
    },
    /// An auth object Asterisk rejects.
    #[error("auth '{id}': {reason}; Asterisk rejects it")]
    InvalidAuth {
        /// The auth id.
        id: String,
        /// Why.
        reason: String,
    },
    /// A transport object Asterisk rejects.
    #[error("transport '{id}': {reason}; Asterisk rejects it")]
    InvalidTransport {
        /// The transport id.
        id: String,
        /// Why.
        reason: String,
    },
    /// A phoneprov object without `MAC`.
    #[error(
        "phoneprov '{id}' must contain a MAC entry (names are case-sensitive); the phone is skipped"
    )]
    MissingMac {
        /// The phoneprov id.
        id: String,
    },
    /// A phoneprov object without `PROFILE`.
    #[error(
        "phoneprov '{id}' must contain a PROFILE entry (names are case-sensitive); the phone is skipped"
    )]
    MissingProfile {
        /// The phoneprov id.
        id: String,
    },
    /// `endpoint=` names no (valid) endpoint.
    #[error("phoneprov '{id}' contained invalid endpoint '{endpoint}'; the line is skipped")]
    UnknownEndpoint {
        /// The phoneprov id.
        id: String,
        /// The endpoint named.
        endpoint: String,
    },
    /// The endpoint's `transport=` names no (valid) transport.
    #[error(
        "endpoint '{endpoint}' contained invalid transport '{transport}'; phoneprov '{id}' is skipped"
    )]
    UnknownTransport {
        /// The phoneprov id.
        id: String,
        /// The endpoint.
        endpoint: String,
        /// The transport named.
        transport: String,
    },
    /// The endpoint has no `transport=` (pjprov differs from Asterisk here).
    #[error(
        "endpoint '{endpoint}' has no transport=: Asterisk would skip phoneprov '{id}'; pjprov provisions it with TRANSPORT_ID empty and SERVER_PORT 5060"
    )]
    NoTransport {
        /// The phoneprov id.
        id: String,
        /// The endpoint.
        endpoint: String,
    },
    /// The endpoint's first auth does not exist (or was rejected).
    #[error(
        "phoneprov '{id}' contained invalid auth '{auth}' (the first auth of endpoint '{endpoint}'); the line is skipped"
    )]
    UnknownAuth {
        /// The phoneprov id.
        id: String,
        /// The endpoint.
        endpoint: String,
        /// The auth named.
        auth: String,
    },
    /// `PROFILE=` names no profile of phoneprov.conf.
    #[error(
        "phoneprov '{id}': could not look up profile '{profile}' in phoneprov.conf{}; the line is skipped",
        suggestion_note(suggestion)
    )]
    UnknownProfile {
        /// The phoneprov id.
        id: String,
        /// The profile named.
        profile: String,
        /// The closest profile name.
        suggestion: Option<String>,
    },
    /// Two lines of one phone with the same `LINE`.
    #[error(
        "duplicate LINE={line} for MAC {mac}: phoneprov '{id}' is dropped (line {line} is phoneprov '{kept}')"
    )]
    DuplicateLine {
        /// The dropped phoneprov id.
        id: String,
        /// The MAC.
        mac: String,
        /// The line number.
        line: i32,
        /// The phoneprov id that keeps the line.
        kept: String,
    },
    /// A key repeated in a phoneprov object (pjprov differs from Asterisk here).
    #[error(
        "'{key}' is set {count} times in phoneprov '{id}': Asterisk uses the first value ({first}), pjprov the last ({last})"
    )]
    RepeatedKey {
        /// The phoneprov id.
        id: String,
        /// The key.
        key: String,
        /// How many values it has.
        count: usize,
        /// Where the first value is.
        first: String,
        /// Where the last value is.
        last: String,
    },
    /// A MAC that phones will never ask for as written.
    #[error("phoneprov '{id}': MAC '{mac}' {problem}")]
    MacFormat {
        /// The phoneprov id.
        id: String,
        /// The MAC as written.
        mac: String,
        /// What is wrong.
        problem: String,
    },
    /// A wizard missing a required option.
    #[error("wizard '{id}' must have '{option}' if it {because}; {consequence}")]
    WizardIncomplete {
        /// The wizard id.
        id: String,
        /// The missing option.
        option: String,
        /// The setting that requires it.
        because: String,
        /// What is lost.
        consequence: String,
    },
    /// A wizard object Asterisk fails to make while it still makes the others (the endpoint, the phone).
    #[error(
        "wizard '{id}' must have '{option}' if it {because}: Asterisk logs \"Unable to create objects for wizard\" and makes no {object}, but the endpoint and the phone are still made"
    )]
    WizardObjectFailed {
        /// The wizard id.
        id: String,
        /// The missing option.
        option: String,
        /// The setting that requires it.
        because: String,
        /// The object not made.
        object: String,
    },
    /// A wizard option Asterisk does not know.
    #[error(
        "wizard '{id}': unknown option '{option}'{}; it is ignored",
        suggestion_note(suggestion)
    )]
    UnknownWizardOption {
        /// The wizard id.
        id: String,
        /// The option.
        option: String,
        /// The closest known option.
        suggestion: Option<String>,
    },
    /// `type=wizard` in pjsip.conf: Asterisk makes nothing of it, and neither does pjprov.
    #[error(
        "[{id}]: type=wizard in pjsip.conf creates nothing (no endpoint, no phone): Asterisk reads wizards only from pjsip_wizard.conf; move the section there"
    )]
    WizardInPjsipConf {
        /// The wizard id.
        id: String,
    },
    /// phoneprov.conf has no profile.
    #[error("there are no provisioning profiles in phoneprov.conf")]
    NoProfiles,
    /// Two profiles with one name.
    #[error("duplicate profile '{name}' (first at {first}): the first one is used")]
    DuplicateProfile {
        /// The profile.
        name: String,
        /// Where the first is.
        first: String,
    },
    /// A `setvar` Asterisk ignores. Only the name is shown: the rest may be a password.
    #[error(
        "setvar{} is ignored: it needs NAME=VALUE with both parts non-empty",
        name.as_ref().map(|n| format!(" '{n}'")).unwrap_or_default()
    )]
    BadSetvar {
        /// The name before `=`, when there is one.
        name: Option<String>,
    },
    /// A static file that is not on disk.
    #[error("profile '{profile}': static file '{path}' does not exist; '{uri}' answers 404")]
    StaticFileMissing {
        /// The profile.
        profile: String,
        /// The path on disk.
        path: String,
        /// The route.
        uri: String,
    },
    /// A template that is not on disk.
    #[error("profile '{profile}': template '{path}' does not exist; '{uri}' answers 404")]
    TemplateMissing {
        /// The profile.
        profile: String,
        /// The path on disk.
        path: String,
        /// The pattern of the route.
        uri: String,
    },
    /// A file outside the phoneprov data directory.
    #[error("profile '{profile}': '{path}' is outside {dir}; it is never served")]
    OutsideDataDir {
        /// The profile.
        profile: String,
        /// The path.
        path: String,
        /// The data directory.
        dir: String,
    },
    /// Two routes with one URI.
    #[error("route '{uri}' is defined twice; the first ({first}) answers")]
    DuplicateRoute {
        /// The URI.
        uri: String,
        /// The route that wins.
        first: String,
    },
    /// An Olson name or POSIX string Asterisk cannot load.
    #[error("phoneprov '{id}': unknown TIMEZONE '{zone}'; Asterisk uses GMT")]
    UnknownTimezone {
        /// The phoneprov id.
        id: String,
        /// The zone as written.
        zone: String,
    },
    /// Something a template does when rendered for one phone.
    #[error("template '{template}' line {line} (rendering '{uri}'): {message}")]
    Template {
        /// The template.
        template: String,
        /// Line in the template.
        line: u32,
        /// The route being rendered.
        uri: String,
        /// What happened.
        message: String,
    },
    /// A Handlebars template that does not compile.
    #[error("template '{template}' line {line}: {message}; its routes answer 500")]
    TemplateSyntax {
        /// The template.
        template: String,
        /// Line in the template.
        line: u32,
        /// What is wrong.
        message: String,
    },
    /// A section pjprov.conf does not have.
    #[error(
        "pjprov.conf: unknown section [{name}]{}; pjprov.conf refuses what it does not understand",
        suggestion_note(suggestion)
    )]
    UnknownSettingsSection {
        /// The section name.
        name: String,
        /// The closest known section.
        suggestion: Option<String>,
    },
    /// A key a pjprov.conf section does not have.
    #[error(
        "pjprov.conf [{section}]: unknown option '{key}'{}",
        suggestion_note(suggestion)
    )]
    UnknownSetting {
        /// The section.
        section: String,
        /// The key as written.
        key: String,
        /// The closest known key.
        suggestion: Option<String>,
    },
    /// A lobby template that cannot be served (issue #18): names of its shape get no lobby.
    #[error("lobby template '{template}': {message}")]
    LobbyTemplate {
        /// The template.
        template: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// Something about lobbies worth knowing (issue #18).
    #[error("lobby: {message}")]
    LobbyNote {
        /// What to know.
        message: String,
    },
    /// A named ACL of acl.conf that cannot be used (issue #18).
    #[error("acl.conf [{section}] {key}: {message}")]
    InvalidNamedAcl {
        /// The section (the ACL's name).
        section: String,
        /// The key, or empty.
        key: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// A pjprov.conf value that cannot be used (the message never holds a password).
    #[error("pjprov.conf {section} {key}: {message}")]
    InvalidSetting {
        /// The section, in brackets.
        section: String,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A pjprov.conf setting that works, but probably not as meant.
    #[error("pjprov.conf {section}: {message}")]
    SettingNote {
        /// Where (a section or a key).
        section: String,
        /// What to know.
        message: String,
    },
    /// A template that is missing or no longer compiles: its last good form keeps serving.
    #[error(
        "template '{template}' cannot be used ({reason}); its last good version keeps serving until it is fixed"
    )]
    TemplateKept {
        /// The template.
        template: String,
        /// What is wrong with it now.
        reason: String,
    },
    /// A template (or static directory) that exists but cannot be read: the configuration is refused.
    #[error("template '{template}' cannot be read: {reason}")]
    TemplateUnreadable {
        /// The template.
        template: String,
        /// What the system said.
        reason: String,
    },
    /// A file every phone of a profile shares whose template reads a per-phone secret.
    #[error(
        "profile '{profile}': '{uri}' has no variable in its name, so every phone of the profile gets the same file, but its template '{template}' reads a per-phone secret: every phone would receive the first phone's (put ${{MAC}} in the name, or take the secret out)"
    )]
    SharedFileWithSecret {
        /// The profile.
        profile: String,
        /// The route.
        uri: String,
        /// Its template.
        template: String,
    },
    /// A render that failed.
    #[error("'{uri}' cannot be rendered: {message}")]
    RenderFailed {
        /// The route.
        uri: String,
        /// Why.
        message: String,
    },
    /// Something a setvar's substitution did (an unknown function, a failed call...).
    #[error("setvar '{name}': {message}")]
    SetvarIssue {
        /// The setvar's name.
        name: String,
        /// What happened (the text as written, never a value).
        message: String,
    },
    /// A setvar that assigns a variable the line has (`SET`, `INC`, `DEC`, `SHIFT`, `POP`).
    #[error(
        "setvar '{name}' assigns '{variable}': as in Asterisk, the line loses its '{variable}' (the new value is not kept)"
    )]
    SetvarDeletes {
        /// The setvar's name.
        name: String,
        /// The variable lost.
        variable: String,
    },
    /// Something a route pattern's substitution did.
    #[error("route pattern '{pattern}': {message}")]
    RoutePatternIssue {
        /// The pattern as written.
        pattern: String,
        /// What happened (the text as written, never a value).
        message: String,
    },
    /// A route pattern that assigns a variable of the phone's first line.
    #[error(
        "route pattern '{pattern}' assigns '{variable}': as in Asterisk, phone {mac} loses its '{variable}' (the new value is not kept)"
    )]
    RoutePatternDeletes {
        /// The pattern as written.
        pattern: String,
        /// The phone.
        mac: String,
        /// The variable lost.
        variable: String,
    },
    /// A route pattern that renders to nothing for a phone.
    #[error(
        "route pattern '{pattern}' gives an empty name for phone {mac}: the file is served at /phoneprov/ itself"
    )]
    EmptyRoute {
        /// The pattern as written.
        pattern: String,
        /// The phone.
        mac: String,
    },
    /// A route name with more than one `*` (pjprov's wildcard).
    #[error(
        "route '{uri}' has more than one '*': a route name may have one wildcard (it stands for the model in names such as snom*.htm); the route is not served"
    )]
    RouteWildcards {
        /// The route name, as substituted.
        uri: String,
    },
    /// A sorcery.conf line Asterisk fails to apply.
    #[error("sorcery.conf [{section}] {mapping}: {reason}; {consequence}")]
    SorceryApplyFailed {
        /// The section.
        section: String,
        /// The line as written.
        mapping: String,
        /// Why it fails.
        reason: String,
        /// What Asterisk does then.
        consequence: String,
    },
    /// A sorcery mapping whose objects pjprov cannot read (ODBC, MySQL, astdb...).
    #[error("{mapping}: pjprov cannot follow this mapping: {reason}")]
    MappingNotFollowed {
        /// The mapping as written.
        mapping: String,
        /// Why, and what is missed.
        reason: String,
    },
    /// Something about sorcery.conf, extconfig.conf, res_pgsql.conf or realtime rows worth knowing.
    #[error("{message}")]
    RealtimeNote {
        /// What to know (never a value of a password).
        message: String,
    },
    /// A realtime problem: objects Asterisk has that pjprov cannot have, or a configuration it refuses.
    #[error("{message}")]
    RealtimeProblem {
        /// What is wrong (never a value of a password).
        message: String,
    },
    /// Objects come from a table whose rows were not fetched.
    #[error(
        "the objects of table '{table}' come from PostgreSQL, but its rows were not fetched: nothing is served until they are"
    )]
    RowsNotFetched {
        /// The table.
        table: String,
    },
    /// A phoneprov.conf `[general]` option that only Asterisk's users.conf provider reads.
    #[error(
        "phoneprov.conf [general] {option} does nothing for pjsip phones (res_pjsip_phoneprov_provider ignores it, in Asterisk too); {instead}"
    )]
    GeneralOptionIgnored {
        /// The option.
        option: String,
        /// What to do instead.
        instead: String,
    },
}

fn suggestion_note(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => String::new(),
    }
}

impl HasSeverity for Error {
    fn severity(&self) -> Severity {
        match self {
            Error::Config(e) => e.severity(),
            Error::UnknownType { .. }
            | Error::NoTransport { .. }
            | Error::RepeatedKey { .. }
            | Error::MacFormat { .. }
            | Error::UnknownWizardOption { .. }
            | Error::DuplicateProfile { .. }
            | Error::BadSetvar { .. }
            | Error::DuplicateRoute { .. }
            | Error::UnknownTimezone { .. }
            | Error::DuplicateLine { .. }
            | Error::Template { .. }
            | Error::SharedFileWithSecret { .. }
            | Error::SettingNote { .. }
            | Error::LobbyNote { .. }
            | Error::SetvarIssue { .. }
            | Error::SetvarDeletes { .. }
            | Error::RoutePatternIssue { .. }
            | Error::RoutePatternDeletes { .. }
            | Error::EmptyRoute { .. }
            | Error::GeneralOptionIgnored { .. }
            | Error::WizardObjectFailed { .. }
            | Error::MappingNotFollowed { .. }
            | Error::RealtimeNote { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// A problem and where it is: `FILE:LINE: severity: message` (the dialect crate's diagnostic, with this
/// crate's error).
pub type Diagnostic = asterisk_config::Diagnostic<Error>;
