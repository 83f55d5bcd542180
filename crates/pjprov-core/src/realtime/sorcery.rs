//! sorcery.conf, as `main/sorcery.c __ast_sorcery_apply_config` and `__ast_sorcery_object_type_insert_wizard`
//! apply it to res_pjsip's sorcery instance, with the wizards' `open` callbacks (`res_sorcery_config.c`,
//! `res_sorcery_realtime.c`, `res_sorcery_memory_cache.c`, `res_sorcery_astdb.c`).
//!
//! The order of events at Asterisk's start, which is the order of the mappings:
//!
//! 1. res_pjsip opens its instance: `[res_pjsip]` is applied, line by line. Any failure stops the section
//!    and makes res_pjsip fail to load: Asterisk then has no pjsip objects at all.
//! 2. res_pjsip's defaults (`config,pjsip.conf,criteria=type=TYPE`) for each type no line mapped.
//! 3. As each type is registered, res_pjsip_config_wizard appends its read-only memory store
//!    (`pjsip_wizard`) to endpoint, aor and auth (not transport).
//! 4. res_pjsip_phoneprov_provider applies `[res_pjsip_phoneprov_provider]` to the same instance (a failure
//!    stops the section; the result is otherwise ignored), then the phoneprov default, then registers
//!    `phoneprov`, which gets the wizard's store last.
//!
//! A line is `TYPE[/OPTIONS] = WIZARD[,DATA]`: the type runs to the first `/` (an option containing
//! `cache` makes it a cache), the wizard to the first `,`; nothing is trimmed, and type and wizard names
//! compare *with* case. A second line with a wizard the type already has is skipped (debug log only).

use asterisk_config::{Config, Section};

use super::extconfig::Extconfig;
use super::plan::{ConfigSource, ObjectType, Origin, Unqualified};
use crate::error::{Diagnostic, Error};
use crate::pjsip::{Src, src};

/// The wizards Asterisk 22 registers (`ast_sorcery_wizard_register`).
const WIZARDS: [&str; 7] = [
    "config",
    "realtime",
    "memory",
    "memory_cache",
    "astdb",
    "bucket",
    "bucket_file",
];

/// One mapping of one type, as applied.
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    pub wizard: Wizard,
    /// Where it comes from; `None` for a default or the config wizard's store.
    pub at: Option<Src>,
    /// `TYPE/cache = ...`.
    pub caching: bool,
    /// The line as written, for messages (`endpoint=realtime,ps_endpoints`).
    pub text: String,
}

/// What a wizard's `open` made of its data.
#[derive(Debug, Clone)]
pub(crate) enum Wizard {
    Config(ConfigSource),
    Realtime {
        family: String,
        unqualified: Unqualified,
    },
    /// res_sorcery_memory_cache; whether it caches everything (`full_backend_cache`).
    MemoryCache,
    /// res_sorcery_memory: an empty store nothing writes to (from sorcery.conf).
    Memory,
    /// res_pjsip_config_wizard's store (pjsip_wizard.conf).
    PjsipStore,
    /// astdb, bucket, bucket_file: opened, but nothing pjprov can read.
    Other(String),
}

impl Wizard {
    fn name(&self) -> &str {
        match self {
            Wizard::Config(_) => "config",
            Wizard::Realtime { .. } => "realtime",
            Wizard::MemoryCache => "memory_cache",
            Wizard::Memory | Wizard::PjsipStore => "memory",
            Wizard::Other(name) => name,
        }
    }
}

/// The mappings of every type of res_pjsip's instance, in order.
#[derive(Debug, Default)]
pub(crate) struct Mappings {
    types: Vec<(String, Vec<Applied>)>,
    /// `[res_pjsip]` failed: Asterisk loads no pjsip object at all.
    pub res_pjsip_failed: bool,
}

impl Mappings {
    /// The mappings of `object_type`, in the order sorcery asks them.
    pub fn of(&self, object_type: ObjectType) -> &[Applied] {
        self.types
            .iter()
            .find(|(name, _)| name == object_type.name())
            .map_or(&[], |(_, list)| list.as_slice())
    }

    fn entry(&mut self, name: &str) -> Option<&mut Vec<Applied>> {
        self.types
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, list)| list)
    }

    /// `__ast_sorcery_apply_default`: only for a type without any mapping yet.
    fn add_default(&mut self, object_type: ObjectType) {
        if self.entry(object_type.name()).is_none() {
            self.types.push((
                object_type.name().to_owned(),
                vec![Applied {
                    wizard: Wizard::Config(ConfigSource::default_for(object_type)),
                    at: None,
                    caching: false,
                    text: format!(
                        "{}=config,pjsip.conf,criteria=type={}",
                        object_type.name(),
                        object_type.name()
                    ),
                }],
            ));
        }
    }

    fn push_wizard(&mut self, object_type: ObjectType) {
        let applied = Applied {
            wizard: Wizard::PjsipStore,
            at: None,
            caching: false,
            text: format!("{}=memory,pjsip_wizard", object_type.name()),
        };
        match self.entry(object_type.name()) {
            Some(list) => list.push(applied),
            None => self
                .types
                .push((object_type.name().to_owned(), vec![applied])),
        }
    }
}

/// Applies sorcery.conf (`None` when there is none) as Asterisk does at start.
pub(crate) fn read(
    sorcery: Option<&Config>,
    extconfig: &Extconfig,
    diags: &mut Vec<Diagnostic>,
) -> Mappings {
    let mut mappings = Mappings::default();
    let section = |name: &str| sorcery.and_then(|c| c.section(name).map(|s| (c, s)));
    if let Some((config, section)) = section("res_pjsip")
        && !apply(&mut mappings, config, section, extconfig, diags)
    {
        mappings.res_pjsip_failed = true;
    }
    for object_type in [
        ObjectType::Endpoint,
        ObjectType::Auth,
        ObjectType::Aor,
        ObjectType::Transport,
    ] {
        mappings.add_default(object_type);
    }
    for object_type in [ObjectType::Endpoint, ObjectType::Aor, ObjectType::Auth] {
        mappings.push_wizard(object_type);
    }
    if let Some((config, section)) = section("res_pjsip_phoneprov_provider") {
        // Its result is ignored: what applied before a failure stays.
        apply(&mut mappings, config, section, extconfig, diags);
        for entry in section.entries() {
            let kind = entry.key.split('/').next().unwrap_or_default();
            if kind != "phoneprov" && !kind.is_empty() {
                diags.push(src(config, entry.file, entry.line).diag(Error::RealtimeNote {
                    message: format!(
                        "sorcery.conf [res_pjsip_phoneprov_provider] maps '{kind}': Asterisk applies it after res_pjsip loaded its objects, behind res_pjsip's own mappings and the wizard's store; pjprov puts it there too (unverified against a running Asterisk)"
                    ),
                }));
            }
        }
    }
    mappings.add_default(ObjectType::Phoneprov);
    mappings.push_wizard(ObjectType::Phoneprov);
    mappings
}

/// Applies one section; false when a line failed (the rest of the section is not applied).
fn apply(
    mappings: &mut Mappings,
    config: &Config,
    section: &Section,
    extconfig: &Extconfig,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    for entry in section.entries() {
        let at = src(config, entry.file, entry.line);
        let text = format!("{}={}", entry.key, entry.value);
        let (kind, options) = match entry.key.split_once('/') {
            Some((kind, options)) => (kind, Some(options)),
            None => (entry.key.as_str(), None),
        };
        let (wizard, data) = match entry.value.split_once(',') {
            Some((wizard, data)) => (wizard, Some(data)),
            None => (entry.value.as_str(), None),
        };
        if kind.is_empty() || wizard.is_empty() {
            continue;
        }
        let fail = |reason: String, diags: &mut Vec<Diagnostic>| {
            diags.push(at.diag(Error::SorceryApplyFailed {
                section: section.name.to_string(),
                mapping: text.clone(),
                reason,
                consequence: if section.name.eq_ignore_ascii_case("res_pjsip") {
                    "Asterisk stops reading the section and res_pjsip fails to load: no endpoint, auth or phone at all"
                } else {
                    "Asterisk stops reading the section here (the lines above it still apply)"
                }
                .to_owned(),
            }));
        };
        if !WIZARDS.contains(&wizard) {
            let hint = WIZARDS
                .iter()
                .find(|w| w.eq_ignore_ascii_case(wizard.trim()))
                .map(|w| {
                    format!(" (wizard names compare with case and nothing is trimmed: write '{w}')")
                })
                .unwrap_or_default();
            fail(
                format!("there is no sorcery wizard '{wizard}'{hint}"),
                diags,
            );
            return false;
        }
        if ObjectType::from_name(kind).is_none()
            && let Some(known) = ObjectType::ALL
                .iter()
                .find(|t| t.name().eq_ignore_ascii_case(kind.trim()))
        {
            diags.push(at.diag(Error::RealtimeNote {
                message: format!(
                    "sorcery.conf maps type '{kind}', which is not '{}': type names compare with case, so this maps nothing res_pjsip uses",
                    known.name()
                ),
            }));
        }
        let existing = mappings.entry(kind);
        if let Some(list) = &existing
            && list.iter().any(|a| a.wizard.name() == wizard)
        {
            diags.push(at.diag(Error::RealtimeNote {
                message: format!(
                    "sorcery.conf: '{kind}' already has a '{wizard}' mapping: Asterisk skips this line (one mapping per wizard and type)"
                ),
            }));
            continue;
        }
        let opened = match open(wizard, data, extconfig) {
            Ok(opened) => opened,
            Err(reason) => {
                fail(reason, diags);
                return false;
            }
        };
        for note in opened.notes {
            diags.push(at.diag(Error::RealtimeNote { message: note }));
        }
        let applied = Applied {
            wizard: opened.wizard,
            at: Some(at.clone()),
            caching: options.is_some_and(|o| o.contains("cache")),
            text,
        };
        match mappings.entry(kind) {
            Some(list) => list.push(applied),
            None => mappings.types.push((kind.to_owned(), vec![applied])),
        }
    }
    true
}

struct Opened {
    wizard: Wizard,
    /// Errors Asterisk logs while still opening the mapping.
    notes: Vec<String>,
}

/// The wizard's `open` callback on `data`.
fn open(wizard: &str, data: Option<&str>, extconfig: &Extconfig) -> Result<Opened, String> {
    let mut notes = Vec::new();
    let wizard = match wizard {
        "config" => Wizard::Config(open_config(data, &mut notes)?),
        "realtime" => open_realtime(data, extconfig)?,
        "memory_cache" => {
            open_memory_cache(data)?;
            Wizard::MemoryCache
        }
        "memory" => Wizard::Memory,
        "astdb" => {
            if data.is_none_or(str::is_empty) {
                return Err("the astdb wizard needs a prefix".into());
            }
            Wizard::Other("astdb".into())
        }
        other => Wizard::Other(other.to_owned()),
    };
    Ok(Opened { wizard, notes })
}

/// `sorcery_config_open`: `FILENAME[,OPTION=VALUE]...`.
fn open_config<'a>(data: Option<&'a str>, notes: &mut Vec<String>) -> Result<ConfigSource, String> {
    let data = data.unwrap_or_default();
    let mut parts = data.split(',');
    let file = parts.next().unwrap_or_default();
    if file.is_empty() {
        return Err("the config wizard needs a file name".into());
    }
    let mut source = ConfigSource {
        file: file.to_owned(),
        ..ConfigSource::default()
    };
    for option in parts {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (option, None),
        };
        let lower = name.to_ascii_lowercase();
        // Asterisk dereferences the missing value of these (a crash, or undefined behaviour).
        let needs_value = |value: Option<&'a str>| -> Result<&'a str, String> {
            value.ok_or_else(|| {
                format!(
                    "'{name}' without '=': Asterisk reads a NULL value here (undefined behaviour)"
                )
            })
        };
        match lower.as_str() {
            "buckets" => {
                let value = needs_value(value)?;
                if value.trim().parse::<u32>().is_err() {
                    notes.push(format!(
                        "sorcery.conf: unsupported bucket size for '{file}': Asterisk determines it itself"
                    ));
                }
            }
            "integrity" => {
                let value = needs_value(value)?;
                if value.eq_ignore_ascii_case("file") {
                    source.integrity_file = true;
                } else if value.eq_ignore_ascii_case("object") {
                    source.integrity_file = false;
                } else {
                    notes.push(format!(
                        "sorcery.conf: unsupported integrity value '{value}' for '{file}': Asterisk uses 'object'"
                    ));
                }
            }
            "criteria" => {
                let value = needs_value(value)?;
                let Some((field, wanted)) = value.split_once('=') else {
                    return Err(format!(
                        "criteria '{value}' has no '=': Asterisk reads a NULL value here (undefined behaviour)"
                    ));
                };
                source.criteria.push((field.to_owned(), wanted.to_owned()));
            }
            "explicit_name" => match value.filter(|v| !v.is_empty()) {
                Some(v) => source.explicit_name = Some(v.to_owned()),
                None => return Err("explicit_name is empty".into()),
            },
            "single_object" => match value.filter(|v| !v.is_empty()) {
                Some(v) => source.single_object = is_true(v),
                None => return Err("single_object is empty".into()),
            },
            _ => notes.push(format!(
                "sorcery.conf: unsupported option '{name}' for configuration file '{file}': Asterisk ignores it"
            )),
        }
    }
    Ok(source)
}

/// `sorcery_realtime_open`: `FAMILY[,allow_unqualified_fetch=yes|no|warn|error]`.
fn open_realtime(data: Option<&str>, extconfig: &Extconfig) -> Result<Wizard, String> {
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        return Err("the realtime wizard needs an extconfig.conf family".into());
    };
    let mut parts = data.split(',');
    let family = parts.next().unwrap_or_default();
    if !extconfig.is_defined(family) {
        let hint = if family != family.trim() && extconfig.is_defined(family.trim()) {
            format!(
                " (the family is '{}': nothing around the comma is trimmed)",
                family.trim()
            )
        } else {
            String::new()
        };
        return Err(format!(
            "extconfig.conf [settings] has no family '{family}'{hint}"
        ));
    }
    let mut unqualified = Unqualified::Yes;
    for option in parts {
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, value),
            None => (option, ""),
        };
        if !name.eq_ignore_ascii_case("allow_unqualified_fetch") {
            return Err(format!(
                "unrecognized option '{name}' for the realtime wizard"
            ));
        }
        unqualified = match value.to_ascii_lowercase().as_str() {
            "" | "yes" => Unqualified::Yes,
            "no" => Unqualified::No,
            "warn" => Unqualified::Warn,
            "error" => Unqualified::Error,
            _ => {
                return Err(format!(
                    "unrecognized value '{value}' for allow_unqualified_fetch (yes, no, warn or error)"
                ));
            }
        };
    }
    Ok(Wizard::Realtime {
        family: family.to_owned(),
        unqualified,
    })
}

/// `sorcery_memory_cache_open`: every option known, every number unsigned.
fn open_memory_cache(data: Option<&str>) -> Result<(), String> {
    let Some(data) = data else {
        return Err(
            "memory_cache without a comma: Asterisk's open callback then copies a NULL string (a crash, by the code); write 'memory_cache,' or give an option"
                .into(),
        );
    };
    // `while (!ast_strlen_zero(options) && (option = strsep(&options, ",")))`: only an empty rest ends it.
    let mut rest = Some(data);
    while let Some(options) = rest.filter(|r| !r.is_empty()) {
        let (option, tail) = match options.split_once(',') {
            Some((option, tail)) => (option, Some(tail)),
            None => (options, None),
        };
        rest = tail;
        let (name, value) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (option, None),
        };
        match name.to_ascii_lowercase().as_str() {
            "name" => {
                if value.is_none_or(str::is_empty) {
                    return Err("a name must be specified for the memory cache".into());
                }
            }
            "maximum_objects" | "object_lifetime_maximum" | "object_lifetime_stale" => {
                let ok = value.is_some_and(|v| {
                    let v = v.trim();
                    !v.starts_with('-') && v.parse::<u32>().is_ok()
                });
                if !ok {
                    return Err(format!("unsupported {name} value for the memory cache"));
                }
            }
            "expire_on_reload" | "full_backend_cache" => {}
            _ => return Err(format!("unsupported option '{name}' for the memory cache")),
        }
    }
    Ok(())
}

/// `ast_true`.
fn is_true(value: &str) -> bool {
    ["yes", "true", "y", "t", "1", "on"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(value))
}

impl Origin {
    /// Where a mapping comes from, for messages.
    pub(crate) fn of(applied: &Applied) -> Origin {
        Origin {
            text: applied.text.clone(),
            at: applied.at.clone(),
        }
    }
}
