//! The [`Plan`]: for each object type, where sorcery looks for its objects, in order; which tables the
//! binary must fetch; how to reach PostgreSQL; and everything found on the way.

use std::path::PathBuf;

use asterisk_config::{Loader, Source as FileSource};

use super::extconfig::{Extconfig, Mapping};
use super::pgsql::{self, Connection};
use super::sorcery::{self, Applied, Wizard};
use crate::error::{Diagnostic, Error};
use crate::pjsip::{Src, file_diag};

/// The object types provisioning reads (sorcery's names, which compare with case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectType {
    /// `endpoint`.
    Endpoint,
    /// `auth`.
    Auth,
    /// `aor` (mapped and checked, but provisioning needs none of its values).
    Aor,
    /// `transport`.
    Transport,
    /// `phoneprov` (res_pjsip_phoneprov_provider).
    Phoneprov,
}

impl ObjectType {
    /// Every type, in this order.
    pub const ALL: [ObjectType; 5] = [
        ObjectType::Endpoint,
        ObjectType::Auth,
        ObjectType::Aor,
        ObjectType::Transport,
        ObjectType::Phoneprov,
    ];

    /// Sorcery's name for it.
    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Endpoint => "endpoint",
            ObjectType::Auth => "auth",
            ObjectType::Aor => "aor",
            ObjectType::Transport => "transport",
            ObjectType::Phoneprov => "phoneprov",
        }
    }

    /// The type called exactly `name`.
    pub fn from_name(name: &str) -> Option<ObjectType> {
        ObjectType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether res_pjsip_phoneprov_provider fetches it by id (one row at a time, `realtime_pgsql`) rather
    /// than all at once (`realtime_multi_pgsql`).
    pub fn by_id(self) -> bool {
        self != ObjectType::Phoneprov
    }
}

/// A `config` mapping: `FILE[,criteria=FIELD=VALUE][,explicit_name=N][,single_object=yes][,integrity=file]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigSource {
    /// The file, as written (relative to the config directory unless absolute).
    pub file: String,
    /// Every `criteria=FIELD=VALUE`: a section is an object when each FIELD's first value (name without
    /// case) is exactly VALUE. No criteria and no explicit name: every section is.
    pub criteria: Vec<(String, String)>,
    /// `explicit_name=NAME`: the section of that name is an object if it has only options of the type.
    pub explicit_name: Option<String>,
    /// `single_object=yes`: more than one matching section makes the file unusable for this type.
    pub single_object: bool,
    /// `integrity=file`: one rejected object rejects every object of the file.
    pub integrity_file: bool,
}

impl ConfigSource {
    /// res_pjsip's default: `pjsip.conf,criteria=type=TYPE`.
    pub(crate) fn default_for(object_type: ObjectType) -> ConfigSource {
        ConfigSource {
            file: "pjsip.conf".into(),
            criteria: vec![("type".into(), object_type.name().into())],
            ..ConfigSource::default()
        }
    }
}

/// `allow_unqualified_fetch` of a realtime mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unqualified {
    /// Fetch (the default).
    Yes,
    /// Return nothing, silently.
    No,
    /// Log a warning and fetch.
    Warn,
    /// Log an error and return nothing.
    Error,
}

/// A `realtime` mapping pjprov follows: an extconfig.conf family on PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealtimeSource {
    /// The family (`ps_endpoints`).
    pub family: String,
    /// Its tables, by priority (a lookup by id that the first does not answer goes to the next).
    pub tables: Vec<String>,
}

/// One place sorcery looks for objects of a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A config file.
    Config(ConfigSource),
    /// PostgreSQL tables.
    Realtime(RealtimeSource),
    /// pjsip_wizard.conf (res_pjsip_config_wizard's store): always last.
    Wizard,
    /// A mapping that gives pjprov nothing: a cache, an empty memory store, or a store pjprov cannot read
    /// (each said by a diagnostic).
    Nothing,
}

/// Where a mapping comes from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// As written (`endpoint=realtime,ps_endpoints`), or the default it stands for.
    pub text: String,
    pub(crate) at: Option<Src>,
}

impl Origin {
    /// The file and line of the sorcery.conf line (`None` for a default or the wizard's store).
    pub fn location(&self) -> Option<crate::Location> {
        self.at.as_ref().map(Src::location)
    }
}

/// One table to fetch, with the query res_config_pgsql would send for every object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The table, exactly as extconfig.conf names it.
    pub table: String,
    /// `SELECT * FROM table WHERE id LIKE '%' ESCAPE '\' ORDER BY id`.
    pub sql: String,
}

/// Everything sorcery.conf, extconfig.conf and res_pgsql.conf say about where objects come from.
#[derive(Debug, Clone)]
pub struct Plan {
    sources: Vec<(ObjectType, Vec<(Source, Origin)>)>,
    connection: Option<Connection>,
    diagnostics: Vec<Diagnostic>,
    watch: Vec<PathBuf>,
    fatal: bool,
    default: bool,
}

/// Drivers Asterisk has (res_config_*, addons' res_config_mysql): all can also serve whole files.
const DRIVERS: [&str; 7] = [
    "pgsql", "odbc", "mysql", "ldap", "curl", "sqlite3", "sqlite",
];

impl Plan {
    /// Reads sorcery.conf, extconfig.conf and (when a mapping needs it) res_pgsql.conf through `loader`.
    pub fn read<S: FileSource>(loader: &Loader<S>) -> Plan {
        let mut plan = Plan {
            sources: Vec::new(),
            connection: None,
            diagnostics: Vec::new(),
            watch: Vec::new(),
            fatal: false,
            default: true,
        };
        let sorcery_conf = plan.load(loader, "sorcery.conf");
        let extconfig_conf = plan.load(loader, "extconfig.conf");
        let extconfig = Extconfig::read(extconfig_conf.as_ref(), &mut plan.diagnostics);
        let mappings = sorcery::read(sorcery_conf.as_ref(), &extconfig, &mut plan.diagnostics);
        if mappings.res_pjsip_failed {
            plan.fatal = true;
        }

        // res_config_pgsql loads only with a usable res_pgsql.conf.
        let uses_pgsql = ObjectType::ALL.iter().any(|&t| {
            mappings.of(t).iter().any(|a| match &a.wizard {
                Wizard::Realtime { family, .. } => family_drivers(&extconfig, family)
                    .any(|m| m.driver.eq_ignore_ascii_case("pgsql")),
                _ => false,
            })
        });
        let mut pgsql_available = false;
        if uses_pgsql {
            let path = loader.resolve(pgsql::FILE_NAME);
            match plan.load(loader, pgsql::FILE_NAME) {
                Some(config) => {
                    plan.connection = Some(pgsql::read(&config, &path, &mut plan.diagnostics));
                    pgsql_available = true;
                }
                None if !plan.fatal => {
                    let hint = if !loader.load("res_config_pgsql.conf").missing {
                        " (Asterisk reads res_pgsql.conf, never res_config_pgsql.conf: rename it)"
                    } else {
                        ""
                    };
                    plan.diagnostics.push(file_diag(
                        &path,
                        Error::RealtimeProblem {
                            message: format!(
                                "res_pgsql.conf is missing: Asterisk's res_config_pgsql declines to load and finds nothing in any pgsql family{hint}"
                            ),
                        },
                    ));
                }
                None => {}
            }
        }

        for object_type in ObjectType::ALL {
            let mapped_by_sorcery = mappings.of(object_type).iter().any(|a| a.at.is_some());
            let mut list = Vec::new();
            for applied in mappings.of(object_type) {
                let source = plan.source(object_type, applied, &extconfig, pgsql_available);
                list.push((source, Origin::of(applied)));
            }
            if mapped_by_sorcery {
                plan.default = false;
                if !list
                    .iter()
                    .any(|(s, _)| matches!(s, Source::Config(_) | Source::Realtime(_)))
                {
                    plan.note_at(
                        mappings.of(object_type).iter().find_map(|a| a.at.clone()),
                        format!(
                            "sorcery.conf maps '{0}' to no config file or table pjprov reads: there are no {0} objects besides the wizard's",
                            object_type.name()
                        ),
                    );
                }
            }
            plan.sources.push((object_type, list));
        }
        let files: Vec<String> = plan
            .config_sources()
            .map(|c| c.file.clone())
            .chain(
                [
                    "sorcery.conf",
                    "pjsip.conf",
                    "pjsip_wizard.conf",
                    "phoneprov.conf",
                ]
                .map(String::from),
            )
            .collect();
        for file in files {
            plan.check_static(&extconfig, &file, loader);
        }
        if plan.connection.is_some() && plan.queries().is_empty() {
            plan.connection = None;
        }
        plan
    }

    /// The sources of `object_type`, in the order sorcery asks them.
    pub fn sources(&self, object_type: ObjectType) -> &[(Source, Origin)] {
        self.sources
            .iter()
            .find(|(t, _)| *t == object_type)
            .map_or(&[], |(_, list)| list.as_slice())
    }

    /// Every config mapping, each file once (pjsip.conf among them unless nothing maps it).
    pub fn config_sources(&self) -> impl Iterator<Item = &ConfigSource> {
        self.sources
            .iter()
            .flat_map(|(_, list)| list.iter())
            .filter_map(|(s, _)| match s {
                Source::Config(c) => Some(c),
                _ => None,
            })
    }

    /// The tables to fetch before building, each once (aors are not fetched: provisioning reads none of
    /// their values).
    pub fn queries(&self) -> Vec<Query> {
        let order_by_id = self.connection.as_ref().is_none_or(|c| c.order_by_id);
        let mut queries: Vec<Query> = Vec::new();
        for (object_type, list) in &self.sources {
            if *object_type == ObjectType::Aor {
                continue;
            }
            for (source, _) in list {
                let Source::Realtime(realtime) = source else {
                    continue;
                };
                for table in &realtime.tables {
                    if queries.iter().any(|q| &q.table == table) {
                        continue;
                    }
                    let mut sql = format!("SELECT * FROM {table} WHERE id LIKE '%' ESCAPE '\\'");
                    if order_by_id {
                        sql.push_str(" ORDER BY id");
                    }
                    queries.push(Query {
                        table: table.clone(),
                        sql,
                    });
                }
            }
        }
        queries
    }

    /// How to reach PostgreSQL, when some table must be fetched.
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.as_ref()
    }

    /// True when objects come from PostgreSQL: a build needs their rows.
    pub fn needs_database(&self) -> bool {
        !self.queries().is_empty()
    }

    /// What reading the files found (never a secret).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The files read (missing ones included, so creating them is noticed).
    pub fn watch(&self) -> &[PathBuf] {
        &self.watch
    }

    /// False when Asterisk would load no pjsip object at all (a `[res_pjsip]` line that fails), or a file
    /// exists that pjprov cannot read or Asterisk reads from a database: nothing may be served.
    pub fn is_usable(&self) -> bool {
        !self.fatal
    }

    /// True when no object type is mapped by sorcery.conf: every object comes from pjsip.conf and the
    /// wizard, as without sorcery.conf.
    pub fn is_default(&self) -> bool {
        self.default
    }

    fn note_at(&mut self, at: Option<Src>, message: String) {
        let error = Error::RealtimeNote { message };
        self.diagnostics.push(match at {
            Some(at) => at.diag(error),
            None => Diagnostic::new("sorcery.conf", 0, error),
        });
    }

    /// An optional file: `None` when missing; there but unusable makes the plan unusable.
    fn load<S: FileSource>(
        &mut self,
        loader: &Loader<S>,
        name: &str,
    ) -> Option<asterisk_config::Config> {
        let loaded = loader.load(name);
        for path in &loaded.watch {
            if !self.watch.contains(path) {
                self.watch.push(path.clone());
            }
        }
        if loaded.missing {
            return None;
        }
        self.diagnostics.extend(
            loaded
                .diagnostics
                .iter()
                .cloned()
                .map(|d| d.map(Error::Config)),
        );
        if !loaded.valid {
            self.fatal = true;
            self.diagnostics.push(file_diag(
                &loader.resolve(name),
                Error::FileRejected {
                    file: name.to_owned(),
                    reason: "Asterisk would reject the whole file, or pjprov cannot read it (see the errors above)"
                        .to_owned(),
                },
            ));
            return None;
        }
        Some(loaded.config)
    }

    /// What one applied mapping gives pjprov.
    fn source(
        &mut self,
        object_type: ObjectType,
        applied: &Applied,
        extconfig: &Extconfig,
        pgsql_available: bool,
    ) -> Source {
        let at = applied.at.clone();
        let not_followed = |plan: &mut Plan, reason: String| {
            let error = Error::MappingNotFollowed {
                mapping: applied.text.clone(),
                reason,
            };
            plan.diagnostics.push(match &at {
                Some(at) => at.diag(error),
                None => Diagnostic::new("sorcery.conf", 0, error),
            });
        };
        match &applied.wizard {
            Wizard::Config(config) => Source::Config(config.clone()),
            Wizard::PjsipStore => Source::Wizard,
            Wizard::Memory => Source::Nothing,
            Wizard::MemoryCache => {
                if applied.caching {
                    self.note_at(
                        at.clone(),
                        format!(
                            "{}: Asterisk answers from this cache until its objects expire; pjprov always reads the store behind it",
                            applied.text
                        ),
                    );
                } else {
                    self.note_at(
                        at.clone(),
                        format!(
                            "{}: a memory_cache without '/cache' is an empty store that holds no {} objects",
                            applied.text,
                            object_type.name()
                        ),
                    );
                }
                Source::Nothing
            }
            Wizard::Other(name) => {
                not_followed(self, format!("pjprov cannot read the {name} store"));
                Source::Nothing
            }
            Wizard::Realtime {
                family,
                unqualified,
            } => {
                if !object_type.by_id() {
                    match unqualified {
                        Unqualified::No | Unqualified::Error => {
                            not_followed(
                                self,
                                "allow_unqualified_fetch forbids fetching every object, so Asterisk loads no phoneprov object from it, and neither does pjprov".into(),
                            );
                            return Source::Nothing;
                        }
                        Unqualified::Warn | Unqualified::Yes => {}
                    }
                }
                let mut tables = Vec::new();
                for priority in 1.. {
                    let Some(mapping) = extconfig.find(family, priority) else {
                        break;
                    };
                    let driver = mapping.driver.to_ascii_lowercase();
                    if !DRIVERS.contains(&driver.as_str()) {
                        not_followed(
                            self,
                            format!(
                                "extconfig.conf maps '{family}' (priority {priority}) to '{}', which is no realtime driver: Asterisk finds no engine and stops there",
                                mapping.driver
                            ),
                        );
                        break;
                    }
                    if driver != "pgsql" {
                        not_followed(
                            self,
                            format!(
                                "extconfig.conf maps '{family}' (priority {priority}) to {driver}; pjprov reads only PostgreSQL (pgsql), so the objects Asterisk finds there are missing{}",
                                if object_type.by_id() {
                                    " (or taken from a later priority)"
                                } else {
                                    ""
                                }
                            ),
                        );
                        if object_type.by_id() {
                            continue;
                        }
                        break;
                    }
                    if !pgsql_available {
                        break;
                    }
                    if let Some(connection) = &self.connection
                        && mapping.database != connection.dbname
                    {
                        self.note_at(
                            Some(mapping.at.clone()),
                            format!(
                                "extconfig.conf names database '{}' for '{family}', but res_config_pgsql always uses res_pgsql.conf's dbname '{}' (and so does pjprov)",
                                mapping.database, connection.dbname
                            ),
                        );
                    }
                    let table = mapping.table_for(family);
                    if !is_plain_table_name(table.trim()) {
                        self.diagnostics.push(mapping.at.diag(Error::RealtimeProblem {
                            message: format!(
                                "extconfig.conf: table '{table}' of '{family}': pjprov queries only plain names (letters, digits, '_', '$', one optional 'schema.'), never SQL text"
                            ),
                        }));
                        break;
                    }
                    if !object_type.by_id() && !tables.is_empty() {
                        self.note_at(
                            Some(mapping.at.clone()),
                            format!(
                                "'{family}' priority {priority}: Asterisk reads phoneprov objects from it only when the query of priority 1 fails; pjprov never falls back (a failing query keeps the last good configuration)"
                            ),
                        );
                        break;
                    }
                    tables.push(table.to_owned());
                }
                if tables.is_empty() {
                    Source::Nothing
                } else {
                    Source::Realtime(RealtimeSource {
                        family: family.clone(),
                        tables,
                    })
                }
            }
        }
    }

    /// A file pjprov reads that Asterisk would read from a database instead (static realtime).
    fn check_static<S: FileSource>(
        &mut self,
        extconfig: &Extconfig,
        file: &str,
        loader: &Loader<S>,
    ) {
        let Some(mapping) = extconfig.static_for(file) else {
            return;
        };
        if !DRIVERS.contains(&mapping.driver.to_ascii_lowercase().as_str()) {
            return;
        }
        self.fatal = true;
        let Mapping { name, driver, .. } = mapping;
        self.diagnostics.push(mapping.at.diag(Error::RealtimeProblem {
            message: format!(
                "extconfig.conf binds {} to {driver} (static realtime{}): Asterisk reads {file} from table '{}', pjprov only from {}; pjprov does not support static realtime, so nothing is served",
                if name.eq_ignore_ascii_case("global") { "every file".to_owned() } else { format!("'{name}'") },
                if name.eq_ignore_ascii_case("global") { ", for every file without a mapping of its own" } else { "" },
                mapping.table_for(name),
                loader.resolve(file).display()
            ),
        }));
    }
}

/// The mappings of `family`, every priority.
fn family_drivers<'a>(
    extconfig: &'a Extconfig,
    family: &'a str,
) -> impl Iterator<Item = &'a Mapping> {
    (1..=64).map_while(move |p| extconfig.find(family, p))
}

/// A table name pjprov pastes into SQL: `name` or `schema.name`, unquoted identifiers only.
pub(super) fn is_plain_table_name(name: &str) -> bool {
    let ident = |part: &str| {
        let mut bytes = part.bytes();
        bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
            && part.len() <= 63
    };
    match name.split_once('.') {
        Some((schema, table)) => ident(schema) && ident(table),
        None => ident(name),
    }
}
