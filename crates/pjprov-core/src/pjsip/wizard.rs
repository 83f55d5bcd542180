//! The pjsip config wizard (res_pjsip_config_wizard): one `type=wizard` section becomes an endpoint `<id>`,
//! an inbound auth `<id>-iauth` and, with `has_phoneprov`, a phoneprov object `<id>-phoneprov`.
//!
//! Wizards are read from pjsip_wizard.conf only, as Asterisk reads them: a `type=wizard` section in
//! pjsip.conf makes nothing (no endpoint, no phone) and is a `check` error (see `Objects::read`).
//!
//! Wizard-level options are read with "last value wins" and without case; `endpoint/`, `inbound_auth/` and
//! `phoneprov/` prefixes are matched with case, as Asterisk does. Each object is made independently: a
//! problem with one loses only that one. So a wizard Asterisk logs as failed ("must have 'remote_hosts'"
//! for its identify or its registrations, "must have 'outbound_auth/username'") still makes its endpoint
//! and its phone; pjprov keeps neither identify, registration nor outbound auth, and only warns.

use asterisk_config::{Config, Section, Text};

use super::{
    Objects, Opt, Phoneprov, PpEntry, Src, auth_from, endpoint_from, options, options_known,
    options_of, src,
};
use crate::error::{Diagnostic, Error};

/// Whether `section` is what `ast_category_browse_filtered(.., "type=^wizard$")` picks: an entry whose
/// name contains `type` and whose value is exactly `wizard`.
pub(super) fn is_wizard(section: &Section) -> bool {
    section
        .entries()
        .any(|e| e.key.contains("type") && e.value == "wizard")
}

/// `ast_true`.
fn is_true(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        ["yes", "true", "y", "t", "1", "on"]
            .iter()
            .any(|t| t.eq_ignore_ascii_case(v))
    })
}

pub(super) fn expand<'a>(
    config: &'a Config,
    section: &'a Section,
    objects: &mut Objects,
    diags: &mut Vec<Diagnostic>,
) {
    let id = section.name.to_string();
    let here: Src = src(config, section.file, section.line);
    let entries: Vec<Opt<'a>> = options_of(config, section);
    warn_unknown_options(&id, &entries, diags);
    let find_last = |key: &str| super::last(&entries, key);
    let prefixed = |prefix: &str| -> Vec<Opt<'a>> {
        entries
            .iter()
            .filter(|(k, _, _)| k.len() > prefix.len() && k.starts_with(prefix))
            .map(|(k, v, at)| (&k[prefix.len()..], *v, at.clone()))
            .collect()
    };
    let incomplete =
        |option: &str, because: &str, consequence: &str, diags: &mut Vec<Diagnostic>| {
            diags.push(here.diag(Error::WizardIncomplete {
                id: id.clone(),
                option: option.to_owned(),
                because: because.to_owned(),
                consequence: consequence.to_owned(),
            }));
        };

    // The inbound auth.
    let iauth = format!("{id}-iauth");
    if is_true(find_last("accepts_auth")) {
        let mut vars = prefixed("inbound_auth/");
        if super::last(&vars, "username").is_none() {
            incomplete(
                "inbound_auth/username",
                "accepts_auth",
                "no auth is created",
                diags,
            );
        } else {
            if super::last(&vars, "auth_type").is_none() {
                vars.push(("auth_type", "userpass", here.clone().into()));
            }
            if options_known("auth", &iauth, &vars, diags)
                && let Some(auth) = auth_from(&iauth, &vars, &here, diags)
            {
                objects
                    .wizard_auths
                    .insert(Text::from(iauth.as_str()), auth);
            }
        }
    }

    // The outbound auth: pjprov keeps none, but Asterisk's failure to make it is worth knowing.
    let failed = |option: &str, because: &str, object: &str, diags: &mut Vec<Diagnostic>| {
        diags.push(here.diag(Error::WizardObjectFailed {
            id: id.clone(),
            option: option.to_owned(),
            because: because.to_owned(),
            object: object.to_owned(),
        }));
    };
    if is_true(find_last("sends_auth"))
        && super::last(&prefixed("outbound_auth/"), "username").is_none()
    {
        failed(
            "outbound_auth/username",
            "sends_auth",
            "outbound auth",
            diags,
        );
    }

    // The endpoint.
    let mut vars: Vec<Opt<'_>> = prefixed("endpoint/");
    vars.push(("aors", id.as_str(), here.clone().into()));
    for (option, value) in [
        ("outbound_proxy", find_last("outbound_proxy")),
        ("transport", find_last("transport")),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            vars.push((option, value, here.clone().into()));
        }
    }
    let oauth = format!("{id}-oauth");
    if is_true(find_last("sends_auth")) {
        vars.push(("outbound_auth", oauth.as_str(), here.clone().into()));
    }
    if is_true(find_last("accepts_auth")) {
        vars.push(("auth", iauth.as_str(), here.clone().into()));
    }
    if options_known("endpoint", &id, &vars, diags) {
        objects
            .wizard_endpoints
            .insert(Text::from(id.as_str()), endpoint_from(&vars));
    }

    // The identify (`handle_identify`), which each wizard needs unless phones register.
    let no_hosts = find_last("remote_hosts").is_none_or(str::is_empty);
    if no_hosts
        && !is_true(find_last("accepts_registrations"))
        && !is_true(find_last("sends_line_with_registrations"))
    {
        failed(
            "remote_hosts",
            "doesn't accept registrations",
            "identify",
            diags,
        );
    }

    // The phoneprov object.
    if is_true(find_last("has_phoneprov")) {
        if find_last("phoneprov/MAC").is_none() {
            incomplete(
                "phoneprov/MAC",
                "has_phoneprov",
                "no phone is provisioned",
                diags,
            );
        } else {
            add_phoneprov(&id, &here, prefixed("phoneprov/"), objects);
        }
    }

    // The registrations (`handle_registrations`).
    if no_hosts && is_true(find_last("sends_registrations")) {
        failed("remote_hosts", "sends registrations", "registration", diags);
    }
}

/// `handle_phoneprov`: `<id>-phoneprov` from the `phoneprov/` entries plus `endpoint = <id>`.
fn add_phoneprov(id: &str, here: &Src, entries: Vec<Opt<'_>>, objects: &mut Objects) {
    let mut pp: Vec<PpEntry> = entries
        .into_iter()
        .filter(|(key, _, _)| !key.eq_ignore_ascii_case("type"))
        .map(|(key, value, at)| PpEntry {
            key: Text::from(key),
            value: Text::from(value),
            src: at.src(),
        })
        .collect();
    pp.push(PpEntry {
        key: Text::const_new("endpoint"),
        value: Text::from(id),
        src: here.clone(),
    });
    let pp_id = format!("{id}-phoneprov");
    // A later wizard of the same name updates the object.
    objects.phoneprovs.retain(|p| !(p.id == pp_id && p.wizard));
    objects.phoneprovs.push(Phoneprov {
        id: pp_id.into(),
        entries: pp,
        src: here.clone(),
        wizard: true,
    });
}

fn warn_unknown_options(id: &str, entries: &[Opt<'_>], diags: &mut Vec<Diagnostic>) {
    for (key, _, at) in entries {
        let known = options::WIZARD.iter().any(|k| {
            if k.ends_with('/') {
                key.len() > k.len() && key.starts_with(k)
            } else {
                k.eq_ignore_ascii_case(key)
            }
        });
        if !known {
            diags.push(at.diag(Error::UnknownWizardOption {
                id: id.to_owned(),
                option: (*key).to_owned(),
                suggestion: crate::suggest::closest(key, options::WIZARD).map(str::to_owned),
            }));
        }
    }
}
