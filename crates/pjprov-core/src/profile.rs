//! Profiles from phoneprov.conf, read as res_phoneprov's `build_profile` reads them.
//!
//! Every section but `[general]` is a profile. In order: `mime_type` sets the default type, `staticdir` the
//! prefix of the `static_file`s after it, `setvar => NAME=VALUE` adds a variable, `static_file => NAME[,MIME]`
//! a static route, and any other `PATTERN => TEMPLATE[,MIME]` a dynamic file. pjprov keeps phoneprov.conf
//! exactly in Asterisk's format: there is no option of its own here.
//!
//! `[general]`'s `serveraddr`, `serverport`, `serveriface` and `default_profile` serve only res_phoneprov's
//! users.conf provider: for pjsip phones they change nothing, in Asterisk as in pjprov, and each is a
//! `check` warning at its line.

use asterisk_config::{Config, Section};

use crate::asterisk::separate_args;
use crate::error::{Diagnostic, Error};
use crate::mime;
use crate::model::Location;
use crate::pjsip::location;

/// A phone profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The section name.
    pub name: String,
    /// Where it is defined.
    pub location: Location,
    /// `setvar`s in order: added to each line where not set, after substitution.
    pub setvars: Vec<(String, String)>,
    /// Where each of `setvars` is written.
    pub setvar_locations: Vec<Location>,
    /// Static files: served from disk as they are.
    pub static_files: Vec<StaticFile>,
    /// Dynamic files: a URI pattern and a template.
    pub dynamic_files: Vec<DynamicFile>,
}

/// `static_file => NAME[,MIME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticFile {
    /// The URI: the name as written.
    pub uri: String,
    /// The path under the phoneprov data dir: `staticdir` (as set above the line) + name.
    pub path: String,
    /// Content type.
    pub mime: String,
    /// Where the line is.
    pub location: Location,
}

/// `PATTERN => TEMPLATE[,MIME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicFile {
    /// The URI pattern, substituted with a phone's variables.
    pub pattern: String,
    /// The template under the phoneprov data dir.
    pub template: String,
    /// Content type.
    pub mime: String,
    /// Where the line is.
    pub location: Location,
}

/// Reads every profile of phoneprov.conf, in order. Profiles with a duplicate name are kept (Asterisk keeps
/// them too) but only the first is ever found by name.
pub fn read(config: &Config, diags: &mut Vec<Diagnostic>) -> Vec<Profile> {
    let mut profiles: Vec<Profile> = Vec::new();
    for section in config.sections().iter().filter(|s| !s.template) {
        if section.name.eq_ignore_ascii_case("general") {
            warn_general(config, section, diags);
            continue;
        }
        if let Some(first) = profiles.iter().find(|p| p.name == section.name) {
            diags.push(Diagnostic::new(
                config.file(section.file),
                section.line,
                Error::DuplicateProfile {
                    name: section.name.to_string(),
                    first: format!("{}:{}", first.location.file.display(), first.location.line),
                },
            ));
        }
        profiles.push(build(config, section, diags));
    }
    if profiles.is_empty() {
        let file = config
            .files()
            .first()
            .map(|f| f.to_path_buf())
            .unwrap_or_default();
        diags.push(Diagnostic::new(file, 0, Error::NoProfiles));
    }
    profiles
}

/// What `[general]`'s options for the users.conf provider would have done, and what to do instead.
const USERS_CONF_ONLY: &[(&str, &str)] = &[
    (
        "serveraddr",
        "SERVER is the address each phone connected to (set SERVER on a phoneprov object or in a setvar to force one)",
    ),
    (
        "serveriface",
        "SERVER is the address each phone connected to (set SERVER on a phoneprov object or in a setvar to force one)",
    ),
    (
        "serverport",
        "SERVER_PORT is the port of the endpoint's transport (set SERVER_PORT on the phoneprov object to force one)",
    ),
    (
        "default_profile",
        "a phoneprov object without PROFILE is skipped (give each one a PROFILE)",
    ),
];

fn warn_general(config: &Config, section: &Section, diags: &mut Vec<Diagnostic>) {
    for entry in section.entries() {
        let Some((option, instead)) = USERS_CONF_ONLY
            .iter()
            .find(|(option, _)| option.eq_ignore_ascii_case(&entry.key))
        else {
            continue;
        };
        let at = location(config, entry.file, entry.line);
        diags.push(Diagnostic::new(
            &*at.file,
            at.line,
            Error::GeneralOptionIgnored {
                option: (*option).to_owned(),
                instead: (*instead).to_owned(),
            },
        ));
    }
}

fn build(config: &Config, section: &Section, diags: &mut Vec<Diagnostic>) -> Profile {
    let mut profile = Profile {
        name: section.name.to_string(),
        location: location(config, section.file, section.line),
        setvars: Vec::new(),
        setvar_locations: Vec::new(),
        static_files: Vec::new(),
        dynamic_files: Vec::new(),
    };
    // The profile's default type, wherever it is written (pjprov differs: Asterisk uses it only for the
    // files below the line that sets it).
    let default_mime = section.get_last("mime_type").map(str::to_owned);
    let mut staticdir = String::new();
    for entry in section.entries() {
        let at = location(config, entry.file, entry.line);
        let key = entry.key.as_str();
        if key.eq_ignore_ascii_case("mime_type") {
            continue;
        } else if key.eq_ignore_ascii_case("setvar") {
            match setvar(&entry.value) {
                Some(pair) => {
                    profile.setvars.push(pair);
                    profile.setvar_locations.push(at);
                }
                None => diags.push(Diagnostic::new(
                    &*at.file,
                    at.line,
                    Error::BadSetvar {
                        name: entry
                            .value
                            .split_once('=')
                            .map(|(name, _)| name.trim().to_owned())
                            .filter(|name| !name.is_empty()),
                    },
                )),
            }
        } else if key.eq_ignore_ascii_case("staticdir") {
            staticdir = entry.value.to_string();
        } else {
            let args = separate_args(entry.value.as_bytes(), b',', true, 2);
            let filename = args
                .first()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .unwrap_or_default();
            let explicit = args
                .get(1)
                .map(|a| String::from_utf8_lossy(a).trim().to_owned())
                .filter(|m| !m.is_empty());
            if key.eq_ignore_ascii_case("static_file") {
                let mime = mime::choose(explicit.as_deref(), &filename, default_mime.as_deref());
                profile.static_files.push(StaticFile {
                    path: format!("{staticdir}{filename}"),
                    uri: filename,
                    mime,
                    location: at,
                });
            } else {
                let mime = mime::choose(explicit.as_deref(), key, default_mime.as_deref());
                profile.dynamic_files.push(DynamicFile {
                    pattern: key.to_owned(),
                    template: filename,
                    mime,
                    location: at,
                });
            }
        }
    }
    profile
}

/// `setvar => NAME=VALUE`: split at the first `=` (outside quotes), both parts trimmed and non-empty.
fn setvar(value: &str) -> Option<(String, String)> {
    let args = separate_args(value.as_bytes(), b'=', true, 2);
    let name = args.first().filter(|a| !a.is_empty())?;
    let value = args.get(1).filter(|a| !a.is_empty())?;
    let strip = |b: &[u8]| {
        let s = String::from_utf8_lossy(b);
        s.trim_matches(|c: char| (c as u32) < 33).to_owned()
    };
    let (name, value) = (strip(name), strip(value));
    (!name.is_empty() && !value.is_empty()).then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use asterisk_config::{Loader, MemorySource};

    fn profiles(text: &str) -> (Vec<Profile>, Vec<Diagnostic>) {
        let src = MemorySource::new().with_file("/etc/asterisk/phoneprov.conf", text);
        let loaded = Loader::with_source("/etc/asterisk", src).load("phoneprov.conf");
        let mut diags = Vec::new();
        let p = read(&loaded.config, &mut diags);
        (p, diags)
    }

    #[test]
    fn a_profile_like_golden_p07() {
        let (p, d) = profiles(
            "[general]\ndefault_profile = basic\n\n[st]\nstaticdir = configs/\nmime_type = application/x-default\n\
             static_file => fw.bin,application/octet-stream\nstatic_file => common.xml\nstatic_file => notes.txt\n\
             ${MAC}.cfg => st.cfg\n${MAC}.xml => st.cfg,text/x-custom\nsetvar => GREETING=Hello ${DISPLAY_NAME}\n\
             setvar => SITE = main-office\n",
        );
        assert!(
            matches!(&d[..], [Diagnostic { error: Error::GeneralOptionIgnored { option, .. }, line: 2, .. }] if option == "default_profile"),
            "{d:?}"
        );
        assert_eq!(p.len(), 1);
        let st = &p[0];
        assert_eq!(st.name, "st");
        let statics: Vec<_> = st
            .static_files
            .iter()
            .map(|f| (f.uri.as_str(), f.path.as_str(), f.mime.as_str()))
            .collect();
        assert_eq!(
            statics,
            [
                ("fw.bin", "configs/fw.bin", "application/octet-stream"),
                ("common.xml", "configs/common.xml", "text/xml"),
                ("notes.txt", "configs/notes.txt", "application/x-default"),
            ]
        );
        let dynamics: Vec<_> = st
            .dynamic_files
            .iter()
            .map(|f| (f.pattern.as_str(), f.template.as_str(), f.mime.as_str()))
            .collect();
        assert_eq!(
            dynamics,
            [
                ("${MAC}.cfg", "st.cfg", "text/plain"),
                ("${MAC}.xml", "st.cfg", "text/x-custom")
            ]
        );
        assert_eq!(
            st.setvars,
            [
                ("GREETING".to_owned(), "Hello ${DISPLAY_NAME}".to_owned()),
                ("SITE".to_owned(), "main-office".to_owned())
            ]
        );
    }

    #[test]
    fn staticdir_applies_to_the_lines_after_it_and_mime_type_everywhere() {
        let (p, _) =
            profiles("[p]\nstatic_file => a\nstaticdir = d/\nstatic_file => b\nmime_type = x/y\n");
        let files: Vec<_> = p[0]
            .static_files
            .iter()
            .map(|f| (f.path.as_str(), f.mime.as_str()))
            .collect();
        assert_eq!(files, [("a", "x/y"), ("d/b", "x/y")]);
    }

    #[test]
    fn users_conf_options_of_general_are_warnings_at_their_lines() {
        let (_, d) = profiles(
            "[general]\nserveraddr = 192.0.2.1\nServerPort = 5070\nserveriface = eth0\n\
             default_profile = polycom\nstaticdir = x/\n[p]\n",
        );
        let found: Vec<(u32, &str)> = d
            .iter()
            .map(|d| match &d.error {
                Error::GeneralOptionIgnored { option, .. } => (d.line, option.as_str()),
                other => panic!("unexpected {other}"),
            })
            .collect();
        assert_eq!(
            found,
            [
                (2, "serveraddr"),
                (3, "serverport"),
                (4, "serveriface"),
                (5, "default_profile")
            ]
        );
        assert!(d.iter().all(|d| d.severity() == crate::Severity::Warning));
    }

    #[test]
    fn setvar_rules() {
        assert_eq!(setvar("A=b=c"), Some(("A".into(), "b=c".into())));
        assert_eq!(setvar(" A = b "), Some(("A".into(), "b".into())));
        assert_eq!(setvar("\"A=B\"=c"), Some(("A=B".into(), "c".into())));
        assert_eq!(setvar("A="), None);
        assert_eq!(setvar("=b"), None);
        assert_eq!(setvar("A"), None);
    }

    #[test]
    fn general_is_not_a_profile_and_none_is_an_error() {
        let (p, d) = profiles("[general]\n[tpl](!)\nk=v\n");
        assert!(p.is_empty());
        assert!(matches!(
            d[..],
            [Diagnostic {
                error: Error::NoProfiles,
                ..
            }]
        ));
        let (p, d) = profiles("[GENERAL]\n[a]\n[a]\n");
        assert_eq!(p.len(), 2);
        assert!(matches!(
            d[..],
            [Diagnostic {
                error: Error::DuplicateProfile { .. },
                ..
            }]
        ));
    }
}
