//! Where a build meets `realtime/`: the plan, read with the build's loader (so `#exec` and the config
//! directory are the build's), the other config files its mappings name, and the objects from all of
//! them and the fetched rows.

use asterisk_config::Config;

use super::{Files, Need, push_unique};
use crate::error::Diagnostic;
use crate::pjsip::{Mapped, Objects};
use crate::realtime::{Plan, RealtimeRows};

/// The plan and the files it needs, read.
pub(super) struct Prepared {
    plan: Plan,
    configs: Vec<(String, Config)>,
}

/// Reads sorcery.conf, extconfig.conf, res_pgsql.conf and the config files mappings name besides
/// pjsip.conf; their problems and paths join the build's.
pub(super) fn prepare(files: &mut Files) -> Prepared {
    let plan = Plan::read(&files.loader);
    files.diagnostics.extend(plan.diagnostics().iter().cloned());
    for path in plan.watch() {
        push_unique(&mut files.watch, path.clone());
    }
    if !plan.is_usable() {
        files.fatal = true;
    }
    let mut configs: Vec<(String, Config)> = Vec::new();
    if !plan.is_default() {
        let mut names: Vec<String> = Vec::new();
        for source in plan.config_sources() {
            if source.file != "pjsip.conf" && !names.contains(&source.file) {
                names.push(source.file.clone());
            }
        }
        for name in names {
            if let Some(loaded) = files.load(&name, Need::Optional) {
                configs.push((name, loaded.config));
            }
        }
    }
    Prepared { plan, configs }
}

impl Prepared {
    /// Nothing is mapped (no sorcery.conf mapping): the objects are pjsip.conf's and the wizards'.
    pub(super) fn is_default(&self) -> bool {
        self.plan.is_default()
    }

    /// The objects: as without sorcery.conf when nothing is mapped, else from every mapping in order.
    /// `None` when rows the plan needs were not fetched.
    pub(super) fn objects(
        &self,
        pjsip: &Config,
        wizards: Option<&Config>,
        rows: Option<&RealtimeRows>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Objects> {
        if self.plan.is_default() {
            return Some(Objects::read(pjsip, wizards, diags));
        }
        Objects::read_mapped(
            &Mapped {
                plan: &self.plan,
                pjsip,
                wizards,
                configs: &self.configs,
                rows,
            },
            diags,
        )
    }
}
