//! Rendered bodies that outlive a reload: a phone whose file reads the same inputs in the new snapshot as
//! in the old one keeps its rendered body (the same bytes in memory) and so its entity tag, and is not
//! rendered again.
//!
//! A body is cached with a *render key*: a digest of everything its template reads that the request does
//! not say — the template's source (and the sources of the templates it pulls in: `PP_EACH_EXTENSION`'s
//! file, Handlebars partials), the variables of every line of its phone, its phone's MAC and profile, the
//! generated `ADMIN_PASSWORD` when there is one, and, for a directory (`PP_EACH_USER`, `users`), every
//! phone's first line. When a reload builds a new snapshot, each route takes the bodies its predecessor (the
//! route of the same name) had cached; on its first request it computes its own key and uses a carried body
//! only when the keys are equal. So a save that changes one phone re-renders that phone (and the
//! directories), and a changed template re-renders exactly the phones that use it.
//!
//! A template whose output depends on more than its inputs — the time (`${EPOCH}`, `STRFTIME`,
//! `IFTIME`), files (`STAT`), the environment (`ENV`), a function name built at render time — has no
//! key: its bodies are never carried, so a reload refreshes them as before.

use std::hash::Hasher;

use rustc_hash::FxHasher;

use super::Snapshot;
use super::render::Rendered;
use super::routes::{Route, Target};
use crate::request::Request;

/// A cached body and the key of the inputs it was rendered from (`None`: not to be carried).
pub(super) type Cached = (Request, Option<u64>, Rendered);

/// A digest of `bytes`.
pub(crate) fn digest_bytes(bytes: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(bytes);
    hasher.write_usize(bytes.len());
    hasher.finish()
}

/// Two digests as one (order matters).
pub(crate) fn combine(a: u64, b: u64) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write_u64(a);
    hasher.write_u64(b);
    hasher.finish()
}

/// What rendering a template depends on besides its phone's variables and the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TemplateDigest {
    /// Its sources.
    pub digest: u64,
    /// It lists every phone (`PP_EACH_USER`, `users`).
    pub directory: bool,
}

/// Asterisk's functions whose result depends on more than their arguments and the variables they read.
const VOLATILE_FUNCTIONS: &[&[u8]] = &[b"ENV", b"IFTIME", b"STAT", b"STRFTIME"];
/// Built-in variables whose value changes by itself.
const VOLATILE_VARIABLES: &[&[u8]] = &[b"EPOCH"];

/// The digest of Asterisk templates `sources` (a template and those it names in `PP_EACH_EXTENSION`), or
/// `None` when one reads the time, a file or the environment, or builds a function name at render time.
pub(super) fn asterisk_digest<'a>(
    sources: impl IntoIterator<Item = &'a [u8]>,
) -> Option<TemplateDigest> {
    let mut digest = 0u64;
    let mut directory = false;
    for source in sources {
        if !pure(source) {
            return None;
        }
        directory |= memchr::memmem::find(source, b"PP_EACH_USER").is_some();
        digest = combine(digest, digest_bytes(source));
    }
    Some(TemplateDigest { digest, directory })
}

/// Whether an Asterisk template's output depends only on its variables: every `${NAME(` and `%{NAME(` (the
/// form inside `PP_EACH_USER`) calls a function that is no [`VOLATILE_FUNCTIONS`], no variable is a
/// [`VOLATILE_VARIABLES`], and no name is itself substituted (`${${NAME}(...)}`).
pub(super) fn pure(source: &[u8]) -> bool {
    for opener in [&b"${"[..], b"%{"] {
        for at in memchr::memmem::find_iter(source, opener) {
            let rest = &source[at + 2..];
            if rest.first() == Some(&b'$') || rest.first() == Some(&b'%') {
                return false;
            }
            let name_len = rest
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            let name = &rest[..name_len];
            match rest.get(name_len) {
                Some(b'(')
                    if VOLATILE_FUNCTIONS
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(name)) =>
                {
                    return false;
                }
                Some(b'}' | b':') if VOLATILE_VARIABLES.contains(&name) => return false,
                _ => {}
            }
        }
    }
    true
}

impl Snapshot {
    /// The render key of `route`'s body (see the module documentation), or `None` when it must not be
    /// carried to the next snapshot.
    pub(super) fn render_key(&self, route: &Route) -> Option<u64> {
        let (phone_id, file) = route.target.rendered()?;
        let template = (*self.routes.digests.get(route.profile.index())?.get(file)?)?;
        let phone = self.phone(phone_id)?;
        let mut hasher = FxHasher::default();
        hasher.write_u64(template.digest);
        hasher.write(phone.mac.as_bytes());
        hasher.write_u32(phone.profile.0);
        hasher.write(
            self.profiles
                .get(phone.profile.index())
                .map_or(&b""[..], |p| p.name.as_bytes()),
        );
        hasher.write_usize(phone.founding_line);
        for line in &phone.lines {
            hasher.write(line.id.as_bytes());
            hasher.write_i32(line.index);
            hasher.write(line.transport_protocol.unwrap_or("-").as_bytes());
            for (name, value) in line.vars.iter() {
                hasher.write(name.as_bytes());
                hasher.write_u8(0);
                hasher.write(value.as_bytes());
                hasher.write_u8(0);
            }
            hasher.write_u8(0xff);
        }
        // The generated password is the site key's and the MAC's: the same key gives the same one.
        let own = matches!(route.target, Target::Dynamic { .. });
        hasher.write_u8(u8::from(
            own && self.generated_admin_password(phone_id).is_some(),
        ));
        if template.directory {
            hasher.write_u64(self.directory_digest());
        }
        Some(hasher.finish())
    }

    /// A digest of every phone's first line, in the order directories list them (computed once).
    fn directory_digest(&self) -> u64 {
        *self.directory_digest.get_or_init(|| {
            let mut hasher = FxHasher::default();
            for &index in self.phones.user_order.iter() {
                let Some(phone) = self.phones.phones.get(index) else {
                    continue;
                };
                hasher.write(phone.mac.as_bytes());
                for (name, value) in phone.first_line().vars.iter() {
                    hasher.write(name.as_bytes());
                    hasher.write_u8(0);
                    hasher.write(value.as_bytes());
                    hasher.write_u8(0);
                }
                hasher.write_u8(0xff);
            }
            hasher.finish()
        })
    }

    /// Gives each route the bodies `previous`'s route of the same name has cached (or was carrying), for
    /// [`Snapshot::render`] to use when their keys match.
    pub(super) fn carry_from(&self, previous: &Snapshot) {
        for (old, bodies) in previous.routes.with_bodies() {
            let mut carried: Vec<Cached> = bodies
                .cache
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .filter(|(_, key, _)| key.is_some())
                .cloned()
                .collect();
            carried.extend(
                bodies
                    .carried
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .cloned(),
            );
            if carried.is_empty() {
                continue;
            }
            let Some(new) = self
                .route(&old.uri)
                .filter(|r| r.uri == old.uri)
                .and_then(|r| self.routes.bodies(r))
            else {
                continue;
            };
            let mut into = new.carried.lock().unwrap_or_else(|e| e.into_inner());
            // Usually one body: a list grown by pushing would keep room for four (~1 KB a phone).
            into.reserve_exact(carried.len());
            for body in carried {
                if !into.iter().any(|(request, _, _)| *request == body.0) {
                    into.push(body);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_that_read_the_clock_files_or_the_environment_are_not_carried() {
        for volatile in [
            &b"now=${EPOCH}"[..],
            b"${STRFTIME(${EPOCH},,%Y)}",
            b"${strftime(,,%Y)}",
            b"${ENV(HOME)}",
            b"${STAT(e,/etc/x)}",
            b"${IFTIME(*,*,*,*?a:b)}",
            b"${${FN}(x)}",
            b"${PP_EACH_USER(%{STRFTIME()}|)}",
        ] {
            assert!(
                asterisk_digest([volatile]).is_none(),
                "{}",
                String::from_utf8_lossy(volatile)
            );
        }
        for fine in [
            &b"user=${USERNAME} ${TOLOWER(${MAC})} $[1+1]"[..],
            b"${PP_EACH_EXTENSION(${MAC},line.cfg)}",
            b"${EPOCHS} ${MY_EPOCH}",
        ] {
            assert!(
                asterisk_digest([fine]).is_some(),
                "{}",
                String::from_utf8_lossy(fine)
            );
        }
        let directory = asterisk_digest([&b"${PP_EACH_USER(%{MAC}|)}"[..]]).unwrap();
        assert!(directory.directory);
        assert_ne!(
            asterisk_digest([&b"a"[..]]).unwrap().digest,
            asterisk_digest([&b"b"[..]]).unwrap().digest
        );
    }

    #[test]
    fn carried_bodies_take_the_room_they_need_and_free_it_once_served() {
        use crate::snapshot::{BuildOptions, Paths};
        let dir = tempfile::tempdir().unwrap();
        let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
        std::fs::create_dir_all(data.join("phoneprov")).unwrap();
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("pjsip.conf"),
            "[udp]\ntype = transport\nbind = 0.0.0.0\n\
             [100]\ntype = endpoint\ntransport = udp\n\
             [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = 0004f2000001\nPROFILE = p\n",
        )
        .unwrap();
        std::fs::write(etc.join("phoneprov.conf"), "[p]\n${MAC}.cfg => p.cfg\n").unwrap();
        std::fs::write(data.join("phoneprov/p.cfg"), "${MAC}\n").unwrap();
        let paths = Paths::new(etc, data);
        let first = Snapshot::build(&paths, &BuildOptions::default()).unwrap();
        let server: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        let route = first.route("0004f2000001.cfg").unwrap();
        first.render(route, server).unwrap();
        let second = first.rebuild(&paths, &BuildOptions::default()).unwrap();
        let route = second.route("0004f2000001.cfg").unwrap();
        let carried = |snapshot: &Snapshot| {
            let bodies = snapshot.routes.bodies(route).unwrap();
            let carried = bodies.carried.lock().unwrap();
            (carried.len(), carried.capacity())
        };
        assert_eq!(carried(&second), (1, 1));
        second.render(route, server).unwrap();
        assert_eq!(carried(&second), (0, 0));
        assert_eq!(second.cached_variants(route), 1);
    }
}
