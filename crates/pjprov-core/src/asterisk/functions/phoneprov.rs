//! res_phoneprov.c's own functions: `PP_EACH_USER(string,exclude_mac)` and
//! `PP_EACH_EXTENSION(mac,template)`.
//!
//! `PP_EACH_USER` reads `%{` in its string as `${` and substitutes it once per phone, with the phone's
//! first line, in the order of Asterisk's user table, skipping the phone whose MAC equals `exclude_mac`
//! without case. `PP_EACH_EXTENSION` substitutes the template file once per line of the phone with that
//! MAC (exactly as configured), in `LINE` order; without a MAC or a file name, or when neither is found,
//! it logs and renders nothing (and still succeeds, as in Asterisk).

use super::{Call, Outcome};
use crate::asterisk::args::separate_args;
use crate::asterisk::template::Template;

/// `PP_EACH_USER(string[,exclude_mac])`.
pub(crate) fn each_user(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 2);
    let Some(string) = args.first() else {
        return Ok(true);
    };
    let exclude = args.get(1).map(Vec::as_slice).unwrap_or_default();
    let mut text = string.clone();
    for i in 0..text.len().saturating_sub(1) {
        if text[i] == b'%' && text[i + 1] == b'{' {
            text[i] = b'$';
        }
    }
    let inner = Template::derived(call.origin.template.name(), &text);
    let r = call.r;
    let world = r.world;
    for &index in world.user_order {
        let Some(phone) = world.phones.get(index) else {
            continue;
        };
        if !exclude.is_empty() && phone.mac.as_bytes().eq_ignore_ascii_case(exclude) {
            continue;
        }
        let scope = r.line_scope(index, 0);
        r.nested(&inner, call.origin, &scope, out)?;
        call.check_size(out)?;
    }
    Ok(true)
}

/// `PP_EACH_EXTENSION(mac,template)`.
pub(crate) fn each_extension(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 2);
    let (mac, file) = match (args.first(), args.get(1)) {
        (Some(mac), Some(file)) if !mac.is_empty() && !file.is_empty() => (mac, file),
        _ => {
            call.issue("PP_EACH_EXTENSION requires both a macaddress and template filename");
            return Ok(true);
        }
    };
    let r = call.r;
    let world = r.world;
    let Some(&phone) = std::str::from_utf8(mac)
        .ok()
        .and_then(|mac| world.by_mac.get(mac))
    else {
        call.issue("PP_EACH_EXTENSION: no phone has that MAC (compared exactly, as configured)");
        return Ok(true);
    };
    let name = String::from_utf8_lossy(file);
    let inner = match world.templates.asterisk_template(&name) {
        Ok(inner) => inner,
        Err(reason) => {
            if call.origin.shows(file) {
                call.issue(format_args!(
                    "PP_EACH_EXTENSION: could not load template '{name}': {reason}"
                ));
            } else {
                call.issue(format_args!(
                    "PP_EACH_EXTENSION: could not load the template: {reason}"
                ));
            }
            return Ok(true);
        }
    };
    let lines = world.phones.get(phone).map_or(0, |p| p.lines.len());
    for index in 0..lines {
        let scope = r.line_scope(phone, index);
        // A file template: its issues name its own nodes.
        r.nested(&inner, call.origin, &scope, out)?;
        call.check_size(out)?;
    }
    Ok(true)
}
