//! Reading the configuration and putting a [`Snapshot`] together.
//!
//! Fail closed: a file that exists but cannot be read (pjprov.conf, pjsip_wizard.conf, an included file, a
//! template) rejects the whole configuration, so a permission problem never means "no access rules" or
//! "no phones". [`Snapshot::rebuild`] also keeps, for each template that is missing or broken now, the
//! form the previous snapshot served.

use std::path::PathBuf;
use std::sync::OnceLock;

use asterisk_config::{LoadOptions, Loaded, Loader};
use rustc_hash::FxHashMap;

use super::hbs::HbsTemplates;
use super::patch;
use super::routes::{RouteTable, check_template};
use super::{BuildOptions, Paths, Rejected, Snapshot};
use crate::asterisk::render::World;
use crate::error::{Diagnostic, Error};
use crate::phones::{self, Phones};
use crate::pjsip;
use crate::profile;
use crate::settings::{self, Settings};
use crate::templates::TemplateStore;

mod realtime;

/// What [`Snapshot::finish`] takes over from the first half of a build.
struct Finishing {
    now: jiff::Timestamp,
    phones: Phones,
    profiles: Vec<profile::Profile>,
    own: Option<Loaded>,
    loader: Loader,
    diagnostics: Vec<Diagnostic>,
    watch: Vec<PathBuf>,
    rejected: bool,
    phones_complete: bool,
    basis: Option<patch::Basis>,
    reread: Option<usize>,
}

impl Snapshot {
    /// Reads pjsip.conf, pjsip_wizard.conf, phoneprov.conf and pjprov.conf from `paths` and builds
    /// everything.
    pub fn build(paths: &Paths, options: &BuildOptions) -> Result<Snapshot, Rejected> {
        Snapshot::assemble(paths, options, None, false)
    }

    /// Builds the snapshot that follows this one: like [`Snapshot::build`], except that a template that is
    /// missing or no longer compiles keeps the form this snapshot serves (with an error saying so).
    ///
    /// When only a few sections of pjsip.conf changed, only they are read again and only the lines that
    /// read them derived again; every other phone is shared with this snapshot (`patch.rs`). The result is
    /// the same either way.
    pub fn rebuild(&self, paths: &Paths, options: &BuildOptions) -> Result<Snapshot, Rejected> {
        Snapshot::assemble(paths, options, Some(self), true)
    }

    /// A snapshot with no phones and no routes: what a server holds before a usable configuration exists.
    pub fn empty(paths: &Paths) -> Snapshot {
        Snapshot {
            paths: paths.clone(),
            now: jiff::Timestamp::now(),
            phones: Phones::default(),
            profiles: Vec::new(),
            routes: RouteTable::default(),
            templates: TemplateStore::new(paths.template_roots()),
            hbs: HbsTemplates::default(),
            diagnostics: Vec::new(),
            watch: Vec::new(),
            settings: Settings::default(),
            usernames: OnceLock::new(),
            site_key: None,
            directory_digest: OnceLock::new(),
            lobbies: Default::default(),
            basis: None,
            reread: None,
        }
    }

    /// Builds a snapshot; with `patch`, from `previous` and the sections of pjsip.conf that changed when
    /// that is possible (else as without).
    fn assemble(
        paths: &Paths,
        options: &BuildOptions,
        previous: Option<&Snapshot>,
        patch: bool,
    ) -> Result<Snapshot, Rejected> {
        let now = options.now.unwrap_or_else(jiff::Timestamp::now);
        let mut files = Files {
            loader: Loader::new(&paths.config_dir).options(LoadOptions {
                exec_includes: options.exec_includes,
                layouts: true,
            }),
            diagnostics: Vec::new(),
            watch: Vec::new(),
            fatal: false,
            guard_unusable: false,
        };
        // A patch starts from the previous build's reading of pjsip.conf, checked below.
        let base = previous
            .filter(|_| patch && options.realtime.is_none())
            .and_then(|p| p.basis.as_ref().map(|b| (p, b)));
        // pjsip.conf's load, and how many of the first diagnostics are what it reported (the basis of the
        // next patch keeps them).
        let (mut pjsip, pjsip_reported) = match base {
            Some((_, basis)) => {
                files
                    .diagnostics
                    .extend(basis.load_diagnostics.iter().cloned());
                for path in basis.watch.iter() {
                    push_unique(&mut files.watch, path.clone());
                }
                (None, 0)
            }
            None => {
                let pjsip = files.load("pjsip.conf", Need::Required);
                (pjsip, files.diagnostics.len())
            }
        };
        let wizard = files.load("pjsip_wizard.conf", Need::Optional);
        // Objects refer to each other across the two files: from one alone, the references to the other
        // would be reported as errors that are not there.
        let objects_usable = !files.fatal;
        let phoneprov = files.load("phoneprov.conf", Need::Required);
        let own = files.load(settings::FILE_NAME, Need::Guard);
        // sorcery.conf, extconfig.conf, res_pgsql.conf and the files their mappings name.
        let mapped = realtime::prepare(&mut files);
        for root in paths.template_roots() {
            push_unique(&mut files.watch, root);
        }
        let Files {
            mut diagnostics,
            watch,
            fatal,
            guard_unusable,
            loader,
        } = files;
        // A file that cannot be used rejects the configuration, but only at the end: what does not depend
        // on it is still checked, so one run (`pjprov check`) reports every problem. Without pjsip.conf (or
        // pjsip_wizard.conf) there are no phones: pjprov.conf's errors are still reported, not its warnings
        // (which say what its settings mean for the phones).
        let rejected = guard_unusable || fatal;
        let phones_complete = !fatal;
        let wizards_used = wizard
            .as_ref()
            .is_some_and(|w| !w.config.sections().is_empty());
        // The phones, the profiles, the basis of the next patch, how many sections a patch read, and the
        // objects a full build made the phones from.
        let (phones, profiles, basis, reread, objects) = if let Some((previous, basis)) = base {
            let patched = (!wizards_used && mapped.is_default() && !fatal && !guard_unusable)
                .then(|| {
                    Snapshot::patched(
                        paths,
                        &loader,
                        phoneprov.as_ref()?,
                        &own,
                        previous,
                        basis,
                        now,
                    )
                })
                .flatten();
            let Some((patched, profiles, profile_diagnostics)) = patched else {
                return Snapshot::assemble(paths, options, Some(previous), false);
            };
            diagnostics.extend(patched.basis.object_diagnostics.iter().cloned());
            diagnostics.extend(profile_diagnostics);
            diagnostics.extend(patched.basis.phone_diagnostics.iter().cloned());
            (
                patched.phones,
                profiles,
                Some(patched.basis),
                Some(patched.sections),
                None,
            )
        } else {
            let no_config = asterisk_config::Config::default();
            // The basis of the next patch is read from the load beside the objects (both only read it).
            let patchable = options.realtime.is_none() && !wizards_used && mapped.is_default();
            let pjsip_diagnostics = &diagnostics[..pjsip_reported];
            let mut object_diagnostics = Vec::new();
            let (started, objects) = crate::parallel::beside(
                || {
                    pjsip
                        .as_ref()
                        .filter(|_| patchable)
                        .and_then(|loaded| patch::Started::new(loaded, pjsip_diagnostics))
                },
                || {
                    mapped.objects(
                        pjsip
                            .as_ref()
                            .filter(|_| objects_usable)
                            .map_or(&no_config, |l| &l.config),
                        wizard
                            .as_ref()
                            .filter(|_| objects_usable)
                            .map(|w| &w.config),
                        options.realtime.as_deref(),
                        &mut object_diagnostics,
                    )
                },
            );
            let objects_start = diagnostics.len();
            diagnostics.append(&mut object_diagnostics);
            let Some(objects) = objects else {
                return Err(Rejected { diagnostics, watch });
            };
            let prints = pjsip
                .as_mut()
                .map(|loaded| std::mem::take(&mut loaded.prints))
                .unwrap_or_default();
            let objects_end = diagnostics.len();
            // The objects own what they need: free the parsed pjsip configuration (the bulk of a large
            // fleet's memory) before the phones are built, so a reload peaks at the larger of the two, not
            // their sum.
            drop((pjsip, wizard, mapped));
            let Some(phoneprov) = phoneprov else {
                return Err(Rejected { diagnostics, watch });
            };
            let profiles = profile::read(&phoneprov.config, &mut diagnostics);
            if profiles.is_empty() {
                return Err(Rejected { diagnostics, watch });
            }
            let empty = EmptyWorld::new(paths, now, own.as_ref());
            let empty_world = empty.world();
            let phones_start = diagnostics.len();
            let phones = phones::build(
                &phones::Inputs {
                    objects: &objects,
                    profiles: &profiles,
                    now,
                    empty_world: &empty_world,
                },
                &mut diagnostics,
            );
            let basis = started.map(|s| {
                s.finish(
                    prints,
                    &objects,
                    &phones,
                    &diagnostics[objects_start..objects_end],
                    &diagnostics[phones_start..],
                )
            });
            (phones, profiles, basis, None, Some(objects))
        };
        let finishing = Finishing {
            now,
            phones,
            profiles,
            own,
            loader,
            diagnostics,
            watch,
            rejected,
            phones_complete,
            basis,
            reread,
        };
        let finish = || Snapshot::finish(paths, options, previous, finishing);
        match objects {
            // Freed beside the rest of the build: at 100,000 phones each takes about 50 ms of one core.
            Some(objects) => crate::parallel::beside(move || drop(objects), finish).1,
            None => finish(),
        }
    }

    /// A patched reload (`patch.rs`), with the profiles and what reading them reported; `None`: build
    /// everything.
    fn patched(
        paths: &Paths,
        loader: &Loader,
        phoneprov: &Loaded,
        own: &Option<Loaded>,
        previous: &Snapshot,
        basis: &patch::Basis,
        now: jiff::Timestamp,
    ) -> Option<(patch::Patched, Vec<profile::Profile>, Vec<Diagnostic>)> {
        let mut profile_diagnostics = Vec::new();
        let profiles = profile::read(&phoneprov.config, &mut profile_diagnostics);
        // Setvars that read `ENV` are never patched, so the allow-list needs no comparing.
        let empty = EmptyWorld::new(paths, now, own.as_ref());
        let patched = basis.patch(previous, loader, &profiles, now, &empty.world())?;
        Some((patched, profiles, profile_diagnostics))
    }

    /// The rest of a build, once the phones are made: settings, templates, routes.
    fn finish(
        paths: &Paths,
        options: &BuildOptions,
        previous: Option<&Snapshot>,
        finishing: Finishing,
    ) -> Result<Snapshot, Rejected> {
        let Finishing {
            now,
            phones,
            profiles,
            own,
            loader,
            mut diagnostics,
            mut watch,
            mut rejected,
            phones_complete,
            basis,
            reread,
        } = finishing;
        let empty = EmptyWorld::new(paths, now, own.as_ref());
        let empty_world = empty.world();
        // acl.conf (named ACLs, issue #18) is watched even while a reference to it fails: fixing it must
        // reload.
        push_unique(&mut watch, paths.config_dir.join(settings::ACL_CONF));
        let mut settings_diagnostics = Vec::new();
        let read = Settings::read(
            own.as_ref().map(|l| &l.config),
            &paths.config_dir,
            &profiles,
            &phones.phones,
            &mut settings_diagnostics,
        );
        diagnostics.extend(
            settings_diagnostics
                .into_iter()
                .filter(|d| phones_complete || d.severity() == crate::Severity::Error),
        );
        let settings = match read {
            Some(settings) => settings,
            None => {
                diagnostics.push(pjsip::file_diag(
                    &loader.resolve(settings::FILE_NAME),
                    Error::FileRejected {
                        file: settings::FILE_NAME.to_owned(),
                        reason:
                            "it guards access to SIP passwords, so it is used whole or not at all \
                                 (see the errors above)"
                                .to_owned(),
                    },
                ));
                rejected = true;
                // The defaults, only to check the rest.
                Settings::read(
                    None,
                    &paths.config_dir,
                    &profiles,
                    &phones.phones,
                    &mut Vec::new(),
                )
                .unwrap_or_default()
            }
        };
        for file in settings.general.tls.paths() {
            push_unique(&mut watch, file.to_owned());
        }
        // acl.conf's includes, when named ACLs came from it (issue #18).
        for file in settings.watch_files() {
            push_unique(&mut watch, file.clone());
        }

        // Templates: read now, so a template that cannot be read rejects the configuration here rather
        // than failing a phone later.
        let templates =
            TemplateStore::after(paths.template_roots(), previous.map(|p| &p.templates));
        let mut unreadable: Vec<(PathBuf, String)> = Vec::new();
        let mut checked: Vec<&str> = Vec::new();
        // Only profiles some phone uses: an unused profile's templates are never served.
        let used: Vec<crate::ProfileId> = {
            let mut used: Vec<_> = phones.phones.iter().map(|p| p.profile).collect();
            used.sort();
            used.dedup();
            used
        };
        for (index, profile) in profiles.iter().enumerate() {
            if used.binary_search(&crate::ProfileId::new(index)).is_err() {
                continue;
            }
            for file in &profile.dynamic_files {
                let name = file.template.as_str();
                if checked.contains(&name) {
                    continue;
                }
                checked.push(name);
                let located = templates.locate(name);
                if name.ends_with(".hbs") {
                    // Compiled below; a missing one may keep its last good form.
                    let kept = previous.is_some_and(|p| p.hbs.has(name));
                    if !(kept && located.is_err()) {
                        check_template(
                            located,
                            &templates.roots_text(),
                            &templates.roots()[0],
                            profile,
                            file,
                            &mut diagnostics,
                        );
                    }
                    continue;
                }
                let mut kept = false;
                match templates.preload(name, &mut kept) {
                    Err(reason) => unreadable.push((templates.roots()[0].join(name), reason)),
                    Ok(true) if kept => diagnostics.push(Diagnostic::new(
                        templates.roots()[0].join(name),
                        0,
                        Error::TemplateKept {
                            template: name.to_owned(),
                            reason: "it is missing".into(),
                        },
                    )),
                    Ok(_) => check_template(
                        located,
                        &templates.roots_text(),
                        &templates.roots()[0],
                        profile,
                        file,
                        &mut diagnostics,
                    ),
                }
            }
        }
        let hbs_names = checked.iter().copied().filter(|n| n.ends_with(".hbs"));
        let (hbs, hbs_unreadable) = HbsTemplates::compile(
            hbs_names,
            &templates,
            previous.map(|p| &p.hbs),
            &mut diagnostics,
        );
        unreadable.extend(hbs_unreadable);
        for (path, reason) in unreadable {
            let template = path.display().to_string();
            diagnostics.push(Diagnostic::new(
                path,
                0,
                Error::TemplateUnreadable { template, reason },
            ));
            rejected = true;
        }

        let mut snapshot = Snapshot {
            paths: paths.clone(),
            now,
            phones,
            profiles,
            routes: RouteTable::default(),
            templates,
            hbs,
            diagnostics,
            watch,
            settings,
            usernames: OnceLock::new(),
            site_key: options.site_key.clone(),
            directory_digest: OnceLock::new(),
            lobbies: Default::default(),
            basis,
            reread,
        };
        // After a patch, the phones' routes may be the previous snapshot's.
        let patched_from = previous.filter(|_| snapshot.reread.is_some());
        if snapshot.build_routes(&empty_world, patched_from) {
            // Route patterns changed variables: the phones are no longer what a patch would start from.
            snapshot.basis = None;
        }
        if rejected {
            return Err(Rejected {
                diagnostics: snapshot.diagnostics,
                watch: snapshot.watch,
            });
        }
        // Issue #18: the lobby of each shape of per-phone names (none unless a profile asks for one).
        snapshot.build_lobbies();
        if let Some(previous) = previous {
            snapshot.carry_from(previous);
        }
        Ok(snapshot)
    }

    /// Whether template `name` reads a per-phone secret (directly, or through a template it names in
    /// `PP_EACH_EXTENSION`).
    pub(super) fn template_reads_secret(&self, name: &str) -> bool {
        if name.ends_with(".hbs") {
            return self.hbs.reads_secret(name);
        }
        self.asterisk_sources(name).iter().any(|t| {
            crate::templates::expressions_mention_secret(t.source(), b"${", b"}")
                || crate::templates::expressions_mention_secret(t.source(), b"%{", b"}")
        })
    }

    /// Which facts of a request template `name` reads: Handlebars templates only (an Asterisk template
    /// sees exactly Asterisk's variables, for the same bytes as Asterisk).
    pub(super) fn template_needs(&self, name: &str) -> crate::request::Needs {
        if name.ends_with(".hbs") {
            self.hbs.needs(name)
        } else {
            crate::request::Needs::default()
        }
    }

    /// What template `name`'s output depends on besides its context ([`super::carry`]).
    pub(super) fn template_digest(&self, name: &str) -> Option<super::carry::TemplateDigest> {
        if name.ends_with(".hbs") {
            let (digest, directory) = self.hbs.digest(name)?;
            return Some(super::carry::TemplateDigest { digest, directory });
        }
        let sources = self.asterisk_sources(name);
        if sources.is_empty() {
            return None;
        }
        super::carry::asterisk_digest(sources.iter().map(|t| t.source()))
    }

    /// Asterisk template `name` and the templates it names in `PP_EACH_EXTENSION`.
    pub(super) fn asterisk_sources(
        &self,
        name: &str,
    ) -> Vec<std::sync::Arc<crate::asterisk::Template>> {
        let mut found = Vec::new();
        let mut pending = vec![name.to_owned()];
        let mut seen: Vec<String> = Vec::new();
        while let Some(name) = pending.pop() {
            if seen.contains(&name) || seen.len() > 16 {
                continue;
            }
            if let Ok(template) = self.templates.get(&name) {
                pending.extend(each_extension_templates(template.source()));
                found.push(template);
            }
            seen.push(name);
        }
        found
    }
}

/// The template names `PP_EACH_EXTENSION(mac,NAME)` calls with a literal name.
fn each_extension_templates(source: &[u8]) -> Vec<String> {
    const CALL: &[u8] = b"PP_EACH_EXTENSION(";
    let mut names = Vec::new();
    for start in memchr::memmem::find_iter(source, CALL) {
        let args = &source[start + CALL.len()..];
        let Some(close) = memchr::memchr(b')', args) else {
            continue;
        };
        let args = &args[..close];
        if let Some(comma) = memchr::memrchr(b',', args) {
            let name = String::from_utf8_lossy(&args[comma + 1..])
                .trim()
                .to_owned();
            if !name.is_empty() && !name.contains('$') {
                names.push(name);
            }
        }
    }
    names
}

/// How much a configuration file matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Nothing works without it.
    Required,
    /// It may be absent; if it exists, it must be usable.
    Optional,
    /// pjprov.conf: absent means the defaults, but it guards secrets, so any problem rejects everything.
    Guard,
}

/// The configuration files being read, and what they said.
struct Files {
    loader: Loader,
    diagnostics: Vec<Diagnostic>,
    watch: Vec<PathBuf>,
    /// A file without which nothing can be built is unusable.
    fatal: bool,
    /// pjprov.conf is unusable: the configuration is rejected, after the rest is checked.
    guard_unusable: bool,
}

impl Files {
    fn load(&mut self, name: &str, need: Need) -> Option<Loaded> {
        let loaded = self.loader.load(name);
        for path in &loaded.watch {
            push_unique(&mut self.watch, path.clone());
        }
        if loaded.missing && need != Need::Required {
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
            if need == Need::Guard {
                self.guard_unusable = true;
            } else {
                self.fatal = true;
            }
            let reason = if loaded.missing {
                "it is missing".to_owned()
            } else if need == Need::Guard {
                "it guards access to SIP passwords, so it is used whole or not at all (see the errors above)"
                    .to_owned()
            } else {
                "Asterisk would reject the whole file, or pjprov cannot read it (see the errors above)"
                    .to_owned()
            };
            self.diagnostics.push(pjsip::file_diag(
                &self.loader.resolve(name),
                Error::FileRejected {
                    file: name.to_owned(),
                    reason,
                },
            ));
            return None;
        }
        Some(loaded)
    }
}

fn push_unique(list: &mut Vec<PathBuf>, path: PathBuf) {
    if !list.contains(&path) {
        list.push(path);
    }
}

/// A world without phones or templates, owned: what setvars and route patterns are substituted in.
struct EmptyWorld {
    map: FxHashMap<compact_str::CompactString, usize>,
    paths: Paths,
    epoch: i64,
    allowed_env: Vec<String>,
}

impl EmptyWorld {
    fn new(paths: &Paths, now: jiff::Timestamp, own: Option<&Loaded>) -> EmptyWorld {
        EmptyWorld {
            map: FxHashMap::default(),
            paths: paths.clone(),
            epoch: now.as_second(),
            // ENV in setvars and route patterns: pjprov.conf's allow-list, read before the rest of it (the
            // rest needs the phones).
            allowed_env: own
                .map(|l| Settings::allowed_env(&l.config))
                .unwrap_or_default(),
        }
    }

    fn world(&self) -> World<'_> {
        World {
            phones: &[],
            user_order: &[],
            by_mac: &self.map,
            templates: &crate::asterisk::render::NoTemplates,
            config_dir: &self.paths.config_dir,
            data_dir: &self.paths.data_dir,
            epoch: self.epoch,
            allowed_env: &self.allowed_env,
        }
    }
}
