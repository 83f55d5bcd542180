//! A patched reload's routes: the previous snapshot's, when its phones still name the same files.
//!
//! A save that edits a phone's caller name or password leaves every route name as it was, yet building the
//! table again substitutes every phone's patterns and hashes every name: at 100,000 phones a third of the
//! save. After a patched reload (`patch.rs`: the phones are the previous snapshot's, but for the few whose
//! sections changed, in the same order), the table is the previous one when
//!
//! * the profiles are the same, and the static files resolve to what they did;
//! * building the previous table reported nothing about the phones' routes (what it reported may depend
//!   on more than the phone it names: a duplicate name, an issue reported once for many phones);
//! * no pattern reads the time, a file or the environment ([`super::super::carry::pure`]), so a phone
//!   whose variables are the same names the same files;
//! * each phone that changed has the same MAC and profile, and its patterns, substituted again, give the
//!   names it had, without anything to report.
//!
//! The routes are then the previous ones with nothing rendered (the bodies are carried by name and key as
//! after any reload, `carry.rs`), and the name indexes, wildcards and shapes are copied, not rebuilt. The
//! result is the table a full build makes; anything else builds it.

use std::sync::Arc;

use super::{Patterns, RouteTable};
use crate::asterisk::render::World;
use crate::model::PhoneId;
use crate::phones;
use crate::snapshot::Snapshot;
use crate::snapshot::carry::pure;

impl Snapshot {
    /// Takes `previous`'s phone routes into `table`, which holds this snapshot's static routes, when they
    /// are what building them would give (see the module documentation). Returns whether it did; when
    /// not, `table` is as it was.
    pub(super) fn reuse_phone_routes(
        &self,
        previous: &Snapshot,
        table: &mut RouteTable,
        patterns: &Patterns,
        world: &World<'_>,
    ) -> bool {
        let old = &previous.routes;
        let same_statics = table.routes.len() == old.statics
            && table.routes.iter().zip(&old.routes).all(|(new, old)| {
                new.uri == old.uri
                    && new.target == old.target
                    && new.profile == old.profile
                    && new.mime() == old.mime()
            });
        let pure_patterns = self
            .profiles
            .iter()
            .flat_map(|p| &p.dynamic_files)
            .all(|f| pure(f.pattern.as_bytes()));
        if old.phone_problems
            || !same_statics
            || !pure_patterns
            || self.profiles != previous.profiles
            || self.phones.phones.len() != previous.phones.phones.len()
        {
            return false;
        }
        let mut out = Vec::new();
        for (index, (phone, before)) in self
            .phones
            .phones
            .iter()
            .zip(&previous.phones.phones)
            .enumerate()
        {
            if Arc::ptr_eq(phone, before) {
                continue;
            }
            if phone.mac != before.mac || phone.profile != before.profile {
                return false;
            }
            let Some(profile) = self.profiles.get(phone.profile.index()) else {
                return false;
            };
            let vars = &phone.lines[phone.founding_line].vars;
            // Its own routes, in the order of its profile's files (those with variables in their name).
            let mut had = previous
                .routes_of(PhoneId::new(index))
                .map(|r| r.uri.as_str());
            for (f, file) in profile.dynamic_files.iter().enumerate() {
                if !file.pattern.contains('$') {
                    continue;
                }
                let pattern = &patterns.parsed[phone.profile.index()][f];
                let same = match pattern.as_plain_text() {
                    Some(text) => had.next() == Some(text),
                    None => {
                        let done = phones::substitute_into(world, pattern, vars, &mut out);
                        done.issues.is_empty()
                            && done.deleted.is_empty()
                            && had.next() == Some(&*String::from_utf8_lossy(&out))
                    }
                };
                if !same {
                    return false;
                }
            }
            if had.next().is_some() {
                return false;
            }
        }
        table
            .routes
            .extend(old.routes[old.statics..].iter().map(|r| r.unrendered()));
        table.exact = old.exact.clone();
        table.folded = old.folded.clone();
        table.wildcards = old.wildcards.clone();
        table.shapes = old.shapes.clone();
        if let Some(by_phone) = old.by_phone.get() {
            let _ = table.by_phone.set(by_phone.clone());
        }
        table.reused = true;
        true
    }
}
