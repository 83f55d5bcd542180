//! The lobby (issue #18): what a name shaped like a phone's file gets when it is no configured phone's, or
//! its phone may not have its secrets yet (`enrol`). `[profile:NAME]` keys:
//!
//! * `lobby = no | yes | TEMPLATE`: `no` (the default) answers as before (404, or the challenge); `yes`
//!   renders, for each per-phone file of the profile whose template is `DIR/NAME`, the lobby template
//!   `DIR/lobby-NAME` shipped next to it (`templates/<brand>/lobby-*.hbs`: all six brands); `TEMPLATE` (a
//!   `.hbs` file under the phoneprov directory) renders that one for every per-phone file of the profile;
//! * `lobby_interval = 10m`: how soon the lobby tells the phone to ask again.
//!
//! A lobby holds no secret: its template sees the MAC of the name, the request's facts and a few
//! profile-level settings (`snapshot/lobby.rs` says which), never a phone's variables. Rendering is in
//! `crate::snapshot::lobby`.

use std::time::Duration;

use super::At;

/// `lobby =`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Lobby {
    /// No lobby.
    #[default]
    Off,
    /// The bundled lobby of each file's template (`DIR/lobby-NAME`).
    Bundled,
    /// This template for every per-phone file.
    Template(String),
}

/// A profile's lobby keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LobbySettings {
    /// `lobby`.
    pub lobby: Lobby,
    /// `lobby_interval`.
    pub interval: Duration,
    /// Where `lobby` was written (for diagnostics about its templates).
    pub at: Option<At>,
}

impl Default for LobbySettings {
    fn default() -> LobbySettings {
        LobbySettings {
            lobby: Lobby::Off,
            interval: Duration::from_secs(600),
            at: None,
        }
    }
}

impl LobbySettings {
    /// True when no name gets under `self` a file `before` did not give it: the same lobby, or none.
    pub fn no_looser_than(&self, before: &LobbySettings) -> bool {
        self.lobby == Lobby::Off || (self.lobby == before.lobby && self.interval == before.interval)
    }
}

/// `lobby = no | yes | TEMPLATE`. A template is a relative `.hbs` name with no `..` (it is resolved inside
/// the template directories like every template).
pub fn lobby(text: &str) -> Result<Lobby, String> {
    let text = text.trim();
    match text.to_ascii_lowercase().as_str() {
        "no" | "off" | "false" | "0" => return Ok(Lobby::Off),
        "yes" | "on" | "true" | "1" => return Ok(Lobby::Bundled),
        _ => {}
    }
    if !text.ends_with(".hbs") {
        return Err(
            "must be yes, no, or a Handlebars template (a name ending in .hbs, e.g. lobby = mine/lobby.cfg.hbs): \
             a lobby is rendered with the lobby's own context"
                .into(),
        );
    }
    if text.starts_with('/') || text.split(['/', '\\']).any(|part| part == "..") {
        return Err(
            "a lobby template is named relative to the phoneprov directory, without '..' (e.g. lobby = mine/lobby.cfg.hbs)"
                .into(),
        );
    }
    Ok(Lobby::Template(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(lobby("yes"), Ok(Lobby::Bundled));
        assert_eq!(lobby("No"), Ok(Lobby::Off));
        assert_eq!(
            lobby("mine/lobby.cfg.hbs"),
            Ok(Lobby::Template("mine/lobby.cfg.hbs".into()))
        );
        for bad in [
            "maybe",
            "lobby.cfg",
            "/etc/passwd.hbs",
            "../x.hbs",
            "a/../../x.hbs",
        ] {
            assert!(lobby(bad).is_err(), "{bad}");
        }
        let on = LobbySettings {
            lobby: Lobby::Bundled,
            ..LobbySettings::default()
        };
        assert!(LobbySettings::default().no_looser_than(&on));
        assert!(!on.no_looser_than(&LobbySettings::default()));
        assert!(on.no_looser_than(&on.clone()));
    }
}
