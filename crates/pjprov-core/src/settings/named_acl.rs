//! Named ACLs: `acl = NAME` in pjprov.conf (`[acl]`, `[auth]`, `[profile:NAME]`, `[phone:MAC]`) names a
//! list of `permit`/`deny` rules defined elsewhere, as Asterisk's `acl=` option does.
//!
//! Where names are looked up, in order:
//! 1. pjprov.conf's own `[acl:NAME]` sections (`permit`, `deny`; like `[profile:NAME]` and `[phone:MAC]`);
//! 2. Asterisk's acl.conf (main/named_acl.c): every section but `[general]` is a named ACL with
//!    `permit`/`deny` entries; `(!)` templates are not ACLs; an unknown option makes Asterisk refuse the
//!    file (config_options), and so does pjprov.
//!
//! Asterisk's semantics (main/acl.c, `ast_append_acl`, `ast_apply_acl`): `acl = a, b` adds one list per
//! name; the rules written in place (`permit`, `deny`) are one more list; an address must pass every list,
//! each decided by its own last matching rule (default allow, `!` inverts a rule). A name used twice in
//! one ACL is an error ("occurs multiple times"). Names are compared with their case, as Asterisk's named
//! ACL container does (`strcmp`).
//!
//! Where pjprov differs, on purpose: Asterisk treats a name it cannot find as an ACL that "will
//! automatically fail if applied" (every address refused) and carries on; pjprov refuses the whole
//! configuration with an error at the line that names it (pjprov.conf fails closed), so the last good
//! configuration keeps serving and `pjprov check` says what to write. Realtime named ACLs (extconfig's
//! `acls` family) are not read: such a name is not found, with the same error. A name defined both in
//! pjprov.conf and in acl.conf is an error too: which one applies would be a guess.

use std::path::{Path, PathBuf};

use asterisk_config::{Config, Entry, Section};

use super::acl::{Acl, NamedList, Rule, Sense};
use super::{At, Reader, entry_location, section_location};
use crate::error::Diagnostic;

/// The name of Asterisk's named ACL file in the config directory.
pub const ACL_CONF: &str = "acl.conf";

/// `acl = NAME` as written: the name and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclRef {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub at: At,
    /// The section it was written in (`[profile:polycom]`), for messages.
    pub section: String,
}

/// A list defined in pjprov.conf or acl.conf.
#[derive(Debug, Clone)]
struct Defined {
    name: String,
    at: At,
    rules: Vec<Rule>,
}

/// acl.conf, once read.
#[derive(Debug)]
enum AclConf {
    /// Not needed so far.
    Unread,
    /// There is no acl.conf.
    Missing,
    /// Read: its lists, or why it cannot be used.
    Read(Result<Vec<Defined>, String>),
}

/// The named ACLs a configuration may use.
#[derive(Debug)]
pub(super) struct Definitions {
    own: Vec<Defined>,
    acl_conf: AclConf,
    /// The files read for acl.conf (its includes), to watch.
    watch: Vec<PathBuf>,
    /// Which of `own` some ACL names.
    used: Vec<bool>,
    /// References already reported as unresolvable.
    reported: Vec<AclRef>,
}

impl Definitions {
    pub(super) fn new(config_dir: &Path) -> Definitions {
        Definitions {
            own: Vec::new(),
            acl_conf: AclConf::Unread,
            watch: vec![config_dir.join(ACL_CONF)],
            used: Vec::new(),
            reported: Vec::new(),
        }
    }

    /// The files a reload watcher must watch for these lists.
    pub(super) fn watch(&self) -> &[PathBuf] {
        &self.watch
    }
}

/// A name as pjprov.conf and acl.conf may write it: non-empty, no spaces or commas (`acl = a, b` lists).
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c == ',' || c.is_whitespace() || c.is_control())
}

impl Reader<'_> {
    /// `[acl:NAME]`: a named ACL of pjprov.conf's own.
    pub(super) fn named_acl_section(&mut self, section: &Section, defs: &mut Definitions) {
        let at = section_location(self.config, section);
        let label = format!("[{}]", section.name);
        let name = section.name["acl:".len()..].trim();
        if !valid_name(name) {
            self.error(
                at,
                &label,
                "",
                "a named ACL needs a name without spaces or commas: write [acl:office]".into(),
            );
            return;
        }
        if let Some(first) = defs.own.iter().find(|d| d.name == name) {
            let message = format!(
                "[acl:{name}] is defined twice (first at line {}): merge the two sections",
                first.at.1
            );
            self.error(at, &label, "", message);
            return;
        }
        let mut acl = Acl::default();
        for entry in section.entries() {
            let sense = match entry.key.to_ascii_lowercase().as_str() {
                "permit" => Sense::Permit,
                "deny" => Sense::Deny,
                _ => {
                    self.unknown_key(section, entry, &["permit", "deny"]);
                    continue;
                }
            };
            self.value(section, entry, |text| acl.push(sense, text));
        }
        if acl.only_permits() {
            self.warn(
                at.clone(),
                &label,
                "only permit rules: an address no rule matches is allowed (as in Asterisk), so this list allows \
                 everyone; put 'deny = 0.0.0.0/0' and 'deny = ::/0' first"
                    .into(),
            );
        }
        defs.own.push(Defined {
            name: name.to_owned(),
            at,
            rules: acl.rules().to_vec(),
        });
        defs.used.push(false);
    }

    /// An `acl = NAME[, NAME...]` entry: appends the names to `refs`. A name twice is an error, as in
    /// Asterisk.
    pub(super) fn acl_names(&mut self, section: &Section, entry: &Entry, refs: &mut Vec<AclRef>) {
        let at = entry_location(self.config, entry);
        let label = format!("[{}]", section.name);
        let mut any = false;
        for name in entry.value.split(',').map(str::trim) {
            if name.is_empty() {
                continue;
            }
            any = true;
            if !valid_name(name) {
                self.error(
                    at.clone(),
                    &label,
                    "acl",
                    "a named ACL's name has no spaces: write acl = office, lab".into(),
                );
                continue;
            }
            if refs.iter().any(|r| r.name == name) {
                self.error(
                    at.clone(),
                    &label,
                    "acl",
                    format!(
                        "named ACL '{name}' occurs more than once in this section's ACL (Asterisk refuses it too): \
                         name it once"
                    ),
                );
                continue;
            }
            refs.push(AclRef {
                name: name.to_owned(),
                at: at.clone(),
                section: label.clone(),
            });
        }
        if !any {
            self.error(
                at,
                &label,
                "acl",
                "no name given: write acl = NAME, with NAME an [acl:NAME] section or a section of acl.conf".into(),
            );
        }
    }

    /// Adds the lists `refs` name to `acl`; false (with an error at each reference that cannot be
    /// resolved) when one is missing, defined twice, or acl.conf cannot be used.
    pub(super) fn resolve_acls(
        &mut self,
        refs: &[AclRef],
        acl: &mut Acl,
        defs: &mut Definitions,
    ) -> bool {
        let mut ok = true;
        for reference in refs {
            match self.find_acl(&reference.name, defs) {
                Ok(list) => acl.add_named(list),
                Err(message) => {
                    ok = false;
                    // [auth]'s names reach every profile's policy: say it once.
                    if !defs.reported.contains(reference) {
                        defs.reported.push(reference.clone());
                        self.error(reference.at.clone(), &reference.section, "acl", message);
                    }
                }
            }
        }
        ok
    }

    fn find_acl(&mut self, name: &str, defs: &mut Definitions) -> Result<NamedList, String> {
        let own = defs.own.iter().position(|d| d.name == name);
        if let Some(index) = own {
            defs.used[index] = true;
        }
        self.read_acl_conf(defs);
        let in_acl_conf = match &defs.acl_conf {
            AclConf::Read(Ok(lists)) => lists.iter().find(|d| d.name == name),
            _ => None,
        };
        let file_name = |at: &At| {
            at.0.file_name().map_or_else(
                || at.0.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        };
        match (own.map(|i| &defs.own[i]), in_acl_conf) {
            (Some(own), Some(other)) => Err(format!(
                "'{name}' is defined both as [acl:{name}] (pjprov.conf:{}) and as [{name}] in acl.conf (line {}): \
                 rename one of them",
                own.at.1, other.at.1
            )),
            (Some(found), None) | (None, Some(found)) => Ok(NamedList {
                name: found.name.clone(),
                defined_at: format!("{}:{}", file_name(&found.at), found.at.1),
                rules: found.rules.clone(),
            }),
            (None, None) => {
                if let AclConf::Read(Err(why)) = &defs.acl_conf {
                    return Err(format!(
                        "no [acl:{name}] in pjprov.conf, and acl.conf cannot be used ({why}); nothing is served \
                         under an ACL pjprov cannot read: fix acl.conf or define [acl:{name}]"
                    ));
                }
                let mut known: Vec<&str> = defs.own.iter().map(|d| d.name.as_str()).collect();
                if let AclConf::Read(Ok(lists)) = &defs.acl_conf {
                    known.extend(lists.iter().map(|d| d.name.as_str()));
                }
                let hint = known
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(name))
                    .copied()
                    .or_else(|| crate::suggest::closest(name, &known))
                    .map(|s| format!(" (did you mean '{s}'? names are compared with their case)"))
                    .unwrap_or_default();
                let where_ = if matches!(defs.acl_conf, AclConf::Missing) {
                    "and there is no acl.conf"
                } else {
                    "nor a section of that name in acl.conf"
                };
                Err(format!(
                    "no named ACL '{name}': no [acl:{name}] in pjprov.conf {where_}{hint}. Asterisk would refuse every \
                     address under it; pjprov refuses this configuration instead: define the list, or remove the name"
                ))
            }
        }
    }

    /// Reads acl.conf once, the first time a name is not found in pjprov.conf alone... or at all.
    fn read_acl_conf(&mut self, defs: &mut Definitions) {
        if !matches!(defs.acl_conf, AclConf::Unread) {
            return;
        }
        let loaded = asterisk_config::Loader::new(self.config_dir).load(ACL_CONF);
        for path in &loaded.watch {
            if !defs.watch.contains(path) {
                defs.watch.push(path.clone());
            }
        }
        if loaded.missing {
            defs.acl_conf = AclConf::Missing;
            return;
        }
        if !loaded.valid {
            // The dialect's own diagnostics say where; they never hold secrets.
            self.diags.extend(
                loaded
                    .diagnostics
                    .iter()
                    .cloned()
                    .map(|d| d.map(crate::error::Error::Config)),
            );
            defs.acl_conf = AclConf::Read(Err("see the errors about acl.conf above".into()));
            return;
        }
        defs.acl_conf = AclConf::Read(acl_conf_lists(&loaded.config, self.diags));
    }

    /// Warnings for `[acl:NAME]` sections no ACL names.
    pub(super) fn unused_acls(&mut self, defs: &Definitions) {
        for (def, used) in defs.own.iter().zip(&defs.used) {
            if !used {
                self.warn(
                    def.at.clone(),
                    &format!("[acl:{}]", def.name),
                    format!(
                        "no ACL names '{}': this list applies to nothing (write acl = {} in [acl], [auth], \
                         [profile:NAME] or [phone:MAC])",
                        def.name, def.name
                    ),
                );
            }
        }
    }
}

/// The named ACLs of acl.conf, or why the file cannot be used (the errors are added to `diags`).
fn acl_conf_lists(config: &Config, diags: &mut Vec<Diagnostic>) -> Result<Vec<Defined>, String> {
    let mut lists: Vec<Defined> = Vec::new();
    let mut bad = 0usize;
    let mut error = |at: At, section: &str, key: &str, message: String| {
        bad += 1;
        diags.push(Diagnostic::new(
            at.0,
            at.1,
            crate::error::Error::InvalidNamedAcl {
                section: section.to_owned(),
                key: key.to_owned(),
                message,
            },
        ));
    };
    for section in config.sections().iter().filter(|s| !s.template) {
        let name = section.name.as_str();
        if name.eq_ignore_ascii_case("general") {
            continue;
        }
        let at = section_location(config, section);
        if lists.iter().any(|d| d.name == name) {
            error(
                at,
                name,
                "",
                format!(
                    "[{name}] is defined twice: which one applies would be a guess; merge the two"
                ),
            );
            continue;
        }
        let mut acl = Acl::default();
        for entry in section.entries() {
            let sense = match entry.key.to_ascii_lowercase().as_str() {
                "permit" => Sense::Permit,
                "deny" => Sense::Deny,
                _ => {
                    error(
                        entry_location(config, entry),
                        name,
                        &entry.key,
                        "a named ACL has only permit and deny (Asterisk refuses the whole file for this)".into(),
                    );
                    continue;
                }
            };
            if let Err(message) = acl.push(sense, &entry.value) {
                error(entry_location(config, entry), name, &entry.key, message);
            }
        }
        lists.push(Defined {
            name: name.to_owned(),
            at,
            rules: acl.rules().to_vec(),
        });
    }
    if bad > 0 {
        return Err(format!("{bad} error(s) in it"));
    }
    Ok(lists)
}
