//! Objects from every place sorcery.conf maps them to: config files with their criteria, PostgreSQL rows,
//! the wizard's store, merged in mapping order as `main/sorcery.c` does (see `realtime/`).
//!
//! * Endpoints, auths and transports are what res_pjsip_phoneprov_provider looks up by id
//!   (`ast_sorcery_retrieve_by_id`): the mappings are asked in order and the first that returns an object
//!   wins. A mapping returns nothing for an object it rejects, so the next one is asked; within one
//!   PostgreSQL family, the first priority whose table has a row with that id answers (valid or not).
//! * Phoneprov objects are fetched all at once (`ast_sorcery_retrieve_by_fields` with
//!   `AST_RETRIEVE_FLAG_MULTIPLE`): each mapping adds to one container sorted by id that rejects
//!   duplicates, so the first mapping (and, within a table, the first row) wins; `phones::build` then
//!   takes them in id order.
//!
//! Config files are read as by res_sorcery_config: sections meeting the mapping's criteria (or explicit
//! name) are objects, a duplicate id makes the file give none, an unknown option rejects the object. Rows
//! are read as by res_sorcery_realtime: columns that are not the type's fields (compared *with* case) are
//! dropped silently, as Asterisk drops them.

use std::path::Path;
use std::sync::Arc;

use asterisk_config::{Config, Section, Text};
use rustc_hash::{FxHashMap, FxHashSet};

use super::{
    Objects, Opt, Src, auth_from, endpoint_from, has_duplicates, options, phoneprov_from,
    sections_by_type, src, transport_from,
};
use crate::error::{Diagnostic, Error};
use crate::realtime::decode::{self, ReadPath};
use crate::realtime::{
    ConfigSource, ObjectType, Plan, RealtimeRows, RealtimeSource, Source, TableRows,
};

/// What objects are read from.
pub(crate) struct Mapped<'a> {
    pub plan: &'a Plan,
    /// pjsip.conf.
    pub pjsip: &'a Config,
    /// pjsip_wizard.conf, if present.
    pub wizards: Option<&'a Config>,
    /// The other files config mappings name, by name as written (a file missing on disk is absent).
    pub configs: &'a [(String, Config)],
    /// The rows fetched for the plan's tables.
    pub rows: Option<&'a RealtimeRows>,
}

/// Provisioning's types, in the order they are read (transports and auths before the endpoints naming
/// them only matters for the order of diagnostics).
const ORDER: [ObjectType; 5] = [
    ObjectType::Transport,
    ObjectType::Auth,
    ObjectType::Aor,
    ObjectType::Endpoint,
    ObjectType::Phoneprov,
];

impl Objects {
    /// Reads every object where `mapped.plan` says sorcery finds it. `None` when a table's rows are
    /// missing: nothing may be built then (a diagnostic says which).
    pub(crate) fn read_mapped(mapped: &Mapped<'_>, diags: &mut Vec<Diagnostic>) -> Option<Objects> {
        let mut objects = Objects::default();
        let by_type = sections_by_type(mapped.pjsip, diags);
        // Types provisioning does not read keep their default mapping: validated as before.
        for (kind, sections) in &by_type {
            if ObjectType::from_name(kind).is_some()
                || has_duplicates(mapped.pjsip, kind, sections, diags)
            {
                continue;
            }
            let mut scratch = super::Scratch::default();
            for section in sections {
                objects.add(mapped.pjsip, kind, section, &mut scratch, diags);
            }
        }
        let mut wizard = Objects::default();
        if let Some(wizards) = mapped.wizards {
            for section in wizards.sections().iter().filter(|s| !s.template) {
                if super::wizard::is_wizard(section) {
                    super::wizard::expand(wizards, section, &mut wizard, diags);
                }
            }
        }
        let mut complete = true;
        for object_type in ORDER {
            warn_hidden_sections(mapped, &by_type, object_type, diags);
            for (source, origin) in mapped.plan.sources(object_type) {
                let layer = match source {
                    Source::Config(config) => config_layer(mapped, object_type, config, diags),
                    // Provisioning reads no aor value: their rows are not fetched (Plan::queries).
                    Source::Realtime(_) if object_type == ObjectType::Aor => continue,
                    Source::Realtime(realtime) => {
                        match realtime_layer(mapped, object_type, realtime, diags) {
                            Some(layer) => layer,
                            None => {
                                complete = false;
                                continue;
                            }
                        }
                    }
                    Source::Wizard => wizard_layer(&mut wizard, object_type),
                    Source::Nothing => continue,
                };
                objects.merge(object_type, layer, &origin.text, diags);
            }
        }
        complete.then_some(objects)
    }

    /// Adds `layer`'s objects of `object_type` that no earlier mapping has.
    fn merge(
        &mut self,
        object_type: ObjectType,
        layer: Objects,
        from: &str,
        diags: &mut Vec<Diagnostic>,
    ) {
        let mut hidden: Vec<String> = Vec::new();
        fn first_wins<T>(
            into: &mut FxHashMap<Text, T>,
            from: FxHashMap<Text, T>,
            hidden: &mut Vec<String>,
        ) {
            for (id, object) in from {
                match into.entry(id) {
                    std::collections::hash_map::Entry::Occupied(taken) => {
                        hidden.push(taken.key().to_string());
                    }
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(object);
                    }
                }
            }
        }
        match object_type {
            ObjectType::Endpoint => first_wins(&mut self.endpoints, layer.endpoints, &mut hidden),
            ObjectType::Auth => first_wins(&mut self.auths, layer.auths, &mut hidden),
            ObjectType::Transport => {
                first_wins(&mut self.transports, layer.transports, &mut hidden)
            }
            ObjectType::Phoneprov => {
                let known: FxHashSet<&str> =
                    self.phoneprovs.iter().map(|p| p.id.as_str()).collect();
                let mut added = Vec::new();
                for pp in layer.phoneprovs {
                    if known.contains(pp.id.as_str()) {
                        hidden.push(pp.id.to_string());
                    } else {
                        added.push(pp);
                    }
                }
                self.phoneprovs.extend(added);
            }
            ObjectType::Aor => {}
        }
        if !hidden.is_empty() {
            hidden.sort();
            diags.push(Diagnostic::new(
                "sorcery.conf",
                0,
                Error::RealtimeNote {
                    message: format!(
                        "{} {} object(s) of {from} have the id of an object an earlier mapping gives (first: '{}'): sorcery uses the earlier one",
                        hidden.len(),
                        object_type.name(),
                        hidden[0]
                    ),
                },
            ));
        }
    }
}

/// The wizard's objects of `object_type` (res_pjsip_config_wizard's store).
fn wizard_layer(wizard: &mut Objects, object_type: ObjectType) -> Objects {
    let mut layer = Objects::default();
    match object_type {
        ObjectType::Endpoint => layer.endpoints = std::mem::take(&mut wizard.wizard_endpoints),
        ObjectType::Auth => layer.auths = std::mem::take(&mut wizard.wizard_auths),
        ObjectType::Phoneprov => layer.phoneprovs = std::mem::take(&mut wizard.phoneprovs),
        ObjectType::Aor | ObjectType::Transport => {}
    }
    layer
}

/// pjsip.conf sections of a type that sorcery.conf maps without pjsip.conf: Asterisk never reads them.
fn warn_hidden_sections(
    mapped: &Mapped<'_>,
    by_type: &std::collections::BTreeMap<&str, Vec<&Section>>,
    object_type: ObjectType,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(sections) = by_type.get(object_type.name()).filter(|s| !s.is_empty()) else {
        return;
    };
    let read = mapped
        .plan
        .sources(object_type)
        .iter()
        .any(|(s, _)| matches!(s, Source::Config(c) if c.file == "pjsip.conf"));
    if read {
        return;
    }
    let first = sections[0];
    diags.push(
        src(mapped.pjsip, first.file, first.line).diag(Error::RealtimeNote {
            message: format!(
                "pjsip.conf has {} type={1} section(s) ('{2}' first), but sorcery.conf maps '{1}' without pjsip.conf: Asterisk ignores them, and so does pjprov (to keep them, add {1}=config,pjsip.conf,criteria=type={1} where they rank)",
                sections.len(),
                object_type.name(),
                first.name
            ),
        }),
    );
}

/// `sorcery_is_configuration_met`.
fn meets(section: &Section, source: &ConfigSource, object_type: ObjectType) -> bool {
    if source.criteria.is_empty() && source.explicit_name.is_none() {
        return true;
    }
    if source.explicit_name.as_deref() == Some(section.name.as_str())
        && section.entries().all(|e| is_field(object_type, &e.key))
    {
        return true;
    }
    !source.criteria.is_empty()
        && source
            .criteria
            .iter()
            .all(|(field, value)| section.get(field) == Some(value.as_str()))
}

/// `ast_sorcery_is_object_field_registered`: exact names (with case); phoneprov registers the regex `^`.
fn is_field(object_type: ObjectType, name: &str) -> bool {
    match object_type {
        ObjectType::Phoneprov => true,
        other => options::for_type(other.name()).is_some_and(|known| known.contains(&name)),
    }
}

/// The objects of one config mapping.
fn config_layer(
    mapped: &Mapped<'_>,
    object_type: ObjectType,
    source: &ConfigSource,
    diags: &mut Vec<Diagnostic>,
) -> Objects {
    let mut layer = Objects::default();
    let config = if source.file == "pjsip.conf" {
        Some(mapped.pjsip)
    } else {
        mapped
            .configs
            .iter()
            .find(|(name, _)| *name == source.file)
            .map(|(_, c)| c)
    };
    let Some(config) = config else {
        diags.push(Diagnostic::new(
            "sorcery.conf",
            0,
            Error::RealtimeProblem {
                message: format!(
                    "{}=config,{}: Asterisk is \"Unable to load config file '{}'\": no {} objects come from it",
                    object_type.name(),
                    source.file,
                    source.file,
                    object_type.name()
                ),
            },
        ));
        return layer;
    };
    let sections: Vec<&Section> = config
        .sections()
        .iter()
        .filter(|s| !s.template && meets(s, source, object_type))
        .collect();
    if source.single_object && sections.len() > 1 {
        diags.push(src(config, sections[1].file, sections[1].line).diag(Error::RealtimeProblem {
            message: format!(
                "'{}' could not be loaded: it holds more than one {} object and the mapping says single_object",
                source.file,
                object_type.name()
            ),
        }));
        return layer;
    }
    if has_duplicates(config, object_type.name(), &sections, diags) {
        return layer;
    }
    let mut scratch = super::Scratch::default();
    for section in &sections {
        layer.add(config, object_type.name(), section, &mut scratch, diags);
    }
    let kept = match object_type {
        ObjectType::Endpoint => layer.endpoints.len(),
        ObjectType::Auth => layer.auths.len(),
        ObjectType::Transport => layer.transports.len(),
        ObjectType::Phoneprov => layer.phoneprovs.len(),
        ObjectType::Aor => sections.len(),
    };
    if source.integrity_file && kept < sections.len() {
        diags.push(Diagnostic::new(
            config.file(sections[0].file),
            0,
            Error::RealtimeProblem {
                message: format!(
                    "'{}' could not be loaded due to an error with a {} object, and its mapping says integrity=file: no {} objects come from it",
                    source.file,
                    object_type.name(),
                    object_type.name()
                ),
            },
        ));
        return Objects::default();
    }
    layer
}

/// The objects of one realtime mapping; `None` when a table's rows were not fetched.
fn realtime_layer(
    mapped: &Mapped<'_>,
    object_type: ObjectType,
    source: &RealtimeSource,
    diags: &mut Vec<Diagnostic>,
) -> Option<Objects> {
    let mut layer = Objects::default();
    let mut tables = Vec::new();
    for table in &source.tables {
        match mapped.rows.and_then(|r| r.table(table)) {
            Some(rows) => tables.push(rows),
            None => {
                diags.push(Diagnostic::new(
                    format!("pgsql:{table}"),
                    0,
                    Error::RowsNotFetched {
                        table: table.clone(),
                    },
                ));
                return None;
            }
        }
    }
    for rows in &tables {
        check_columns(object_type, rows, diags);
    }
    if object_type.by_id() {
        // A lookup asks each priority in turn; the first table with a row for the id answers.
        let mut claimed: FxHashSet<String> = FxHashSet::default();
        for rows in &tables {
            let file: Arc<Path> = Arc::from(Path::new(rows.origin()));
            let mut unreachable = 0usize;
            let mut duplicates: Vec<String> = Vec::new();
            let mut notes = decode::Notes::default();
            let mut escaped_passwords = 0usize;
            for index in 0..rows.len() {
                let Some(raw) = decode::raw_id(rows, index) else {
                    continue;
                };
                let Some(key) = decode::lookup_key(raw) else {
                    unreachable += 1;
                    continue;
                };
                if !claimed.insert(key.clone()) {
                    duplicates.push(key);
                    continue;
                }
                if object_type == ObjectType::Auth
                    && rows
                        .row(index)
                        .any(|(column, value)| column == "password" && value.contains([';', '^']))
                {
                    escaped_passwords += 1;
                }
                let set = decode::object_set(rows, index, ReadPath::Single);
                notes.undefined_escape |= set.notes.undefined_escape;
                notes.lossy |= set.notes.lossy;
                let Some(id) = set.id else {
                    continue;
                };
                let here = Src {
                    file: Arc::clone(&file),
                    line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                };
                let entries: Vec<Opt<'_>> = set
                    .vars
                    .iter()
                    .filter(|(name, _)| is_field(object_type, name))
                    .map(|(name, value)| (*name, value.as_str(), here.clone().into()))
                    .collect();
                let key = Text::from(key);
                match object_type {
                    ObjectType::Endpoint => {
                        layer.endpoints.insert(key, endpoint_from(&entries));
                    }
                    ObjectType::Auth => {
                        if let Some(auth) = auth_from(&id, &entries, &here, diags) {
                            layer.auths.insert(key, auth);
                        }
                    }
                    ObjectType::Transport => {
                        if let Some(transport) = transport_from(&id, &entries, &here, diags) {
                            layer.transports.insert(key, transport);
                        }
                    }
                    ObjectType::Aor | ObjectType::Phoneprov => {}
                }
            }
            report_rows(rows, object_type, unreachable, &duplicates, notes, diags);
            if escaped_passwords > 0 {
                diags.push(Diagnostic::new(
                    rows.origin(),
                    0,
                    Error::RealtimeNote {
                        message: format!(
                            "{escaped_passwords} password(s) hold ';' or '^': Asterisk splits at ';' and decodes '^XX', so SIP and the phone's file get what that gives (store ';' as ^3B and '^' as ^5E)"
                        ),
                    },
                ));
            }
        }
    } else if let Some(rows) = tables.first() {
        let file: Arc<Path> = Arc::from(Path::new(rows.origin()));
        let mut notes = decode::Notes::default();
        let mut seen: FxHashSet<String> = FxHashSet::default();
        let mut duplicates = Vec::new();
        for index in 0..rows.len() {
            let set = decode::object_set(rows, index, ReadPath::Multi);
            notes.undefined_escape |= set.notes.undefined_escape;
            notes.lossy |= set.notes.lossy;
            let Some(id) = set.id else {
                continue;
            };
            if !seen.insert(id.clone()) {
                duplicates.push(id);
                continue;
            }
            let here = Src {
                file: Arc::clone(&file),
                line: u32::try_from(index + 1).unwrap_or(u32::MAX),
            };
            let entries: Vec<Opt<'_>> = set
                .vars
                .iter()
                .map(|(name, value)| (*name, value.as_str(), here.clone().into()))
                .collect();
            layer
                .phoneprovs
                .push(phoneprov_from(here.clone(), &id, &entries));
        }
        report_rows(rows, object_type, 0, &duplicates, notes, diags);
    }
    Some(layer)
}

/// Columns Asterisk drops, and phoneprov tables whose variables are lower case.
fn check_columns(object_type: ObjectType, rows: &TableRows, diags: &mut Vec<Diagnostic>) {
    let at = |message: String| Diagnostic::new(rows.origin(), 0, Error::RealtimeNote { message });
    if object_type == ObjectType::Phoneprov {
        let has = |name: &str| rows.columns().iter().any(|c| c == name);
        for (lower, upper) in [("mac", "MAC"), ("profile", "PROFILE")] {
            if has(lower) && !has(upper) {
                diags.push(at(format!(
                    "column '{lower}' gives a variable '{lower}', not '{upper}' (names are case-sensitive; PostgreSQL folds unquoted names to lower case: create the column as \"{upper}\")"
                )));
            }
        }
        return;
    }
    if !rows.columns().iter().any(|c| c == "id") {
        diags.push(at(
            "the table has no column 'id' (exactly): sorcery finds no object in it".to_owned(),
        ));
    }
    let dropped: Vec<&str> = rows
        .columns()
        .iter()
        .map(String::as_str)
        .filter(|c| *c != "id" && !is_field(object_type, c))
        .collect();
    if !dropped.is_empty() {
        diags.push(at(format!(
            "column(s) {} are not {} options (realtime compares names with case): Asterisk ignores them, and so does pjprov",
            dropped.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", "),
            object_type.name()
        )));
    }
}

/// One warning per table for what its rows did.
fn report_rows(
    rows: &TableRows,
    object_type: ObjectType,
    unreachable: usize,
    duplicates: &[String],
    notes: decode::Notes,
    diags: &mut Vec<Diagnostic>,
) {
    let mut note = |message: String| {
        diags.push(Diagnostic::new(
            rows.origin(),
            0,
            Error::RealtimeNote { message },
        ));
    };
    if unreachable > 0 {
        note(format!(
            "{unreachable} row(s) have an id with ';' or a '^' escape no lookup asks for: no {} lookup finds them",
            object_type.name()
        ));
    }
    if let Some(first) = duplicates.first() {
        note(format!(
            "{} row(s) repeat an id ('{first}' first): {}",
            duplicates.len(),
            if object_type.by_id() {
                "Asterisk's lookup (LIMIT 1, no order) may find any of them; pjprov takes the first in id order"
            } else {
                "sorcery keeps the first row"
            }
        ));
    }
    if notes.undefined_escape {
        note(
            "a value ends in '^' or '^' and one hex digit: Asterisk's decoder then reads past the value (undefined); pjprov keeps it as written"
                .into(),
        );
    }
    if notes.lossy {
        note(
            "a '^XX' escape decodes to bytes that are not UTF-8: they are replaced with U+FFFD"
                .into(),
        );
    }
}
