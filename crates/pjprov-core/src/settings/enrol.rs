//! Enrolment (issue #18): when a phone's own files, which hold its secrets, may go out to a client that
//! proves nothing. Policy keys, merged like the others (defaults, `[auth]`, `[profile:NAME]`,
//! `[phone:MAC]`):
//!
//! * `enrol = open | window | proof`: `open` (the default) is what pjprov always did; `window` serves them
//!   without proof only inside a provisioning window (opened by `pjprov enrol open`, or by
//!   `first_boot_window` when the phone first appears in the configuration), and only to the first address
//!   that fetches them in it; `proof` never without proof. Otherwise the phone gets the lobby (a file
//!   without secrets) or, where `auth` asks for credentials, the challenge;
//! * `first_boot_window = 15m`: how long the window stays open for a phone added to pjsip.conf (`0`, the
//!   default: none opens by itself);
//! * `enrol_grace = 5m`: once a phone fetched its credentials in a window, how much longer that address
//!   may fetch without proof (the rest of its boot: a phone asks for several files) before the window
//!   closes;
//! * `enrol_proof = credentials, certificate[, user_agent]`: what proves a phone outside its window: its
//!   own SIP credentials (Digest or Basic, as `auth` offers them), a client certificate naming it, or a
//!   User-Agent naming it (off by default: anyone can write a User-Agent).
//!
//! The access decision (`crates/pjprov/src/access/decide.rs`) applies them; the windows live in the state
//! directory (`crates/pjprov/src/access/enrol.rs`).

use std::time::Duration;

/// `enrol =`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EnrolMode {
    /// Served to whoever passes the other controls.
    Open,
    /// Without proof only inside a provisioning window.
    Window,
    /// Never without proof.
    Proof,
}

impl EnrolMode {
    /// `open`, `window`, `proof`.
    pub fn name(self) -> &'static str {
        match self {
            EnrolMode::Open => "open",
            EnrolMode::Window => "window",
            EnrolMode::Proof => "proof",
        }
    }
}

/// `enrol_proof =`: what proves a phone outside its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Proofs {
    /// The phone's own SIP credentials.
    pub credentials: bool,
    /// A client certificate naming the phone.
    pub certificate: bool,
    /// A User-Agent naming the phone.
    pub user_agent: bool,
}

impl Default for Proofs {
    fn default() -> Proofs {
        Proofs {
            credentials: true,
            certificate: true,
            user_agent: false,
        }
    }
}

impl Proofs {
    /// True when every proof `self` accepts, `other` accepts too (`self` asks no less).
    pub fn within(self, other: Proofs) -> bool {
        (!self.credentials || other.credentials)
            && (!self.certificate || other.certificate)
            && (!self.user_agent || other.user_agent)
    }

    /// The names, comma-separated (as written in pjprov.conf).
    pub fn names(self) -> String {
        let mut names = Vec::new();
        if self.credentials {
            names.push("credentials");
        }
        if self.certificate {
            names.push("certificate");
        }
        if self.user_agent {
            names.push("user_agent");
        }
        names.join(", ")
    }
}

/// The enrolment keys of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Enrol {
    /// `enrol`.
    pub mode: EnrolMode,
    /// `first_boot_window` (`None`: no window opens by itself).
    pub first_boot_window: Option<Duration>,
    /// `enrol_grace`.
    pub grace: Duration,
    /// `enrol_proof`.
    pub proofs: Proofs,
}

impl Default for Enrol {
    fn default() -> Enrol {
        Enrol {
            mode: EnrolMode::Open,
            first_boot_window: None,
            grace: Duration::from_secs(300),
            proofs: Proofs::default(),
        }
    }
}

impl Enrol {
    /// True when no phone can get under `self` without proof what `before` would have refused it.
    pub fn no_looser_than(&self, before: &Enrol) -> bool {
        if self.mode < before.mode {
            return false;
        }
        if before.mode == EnrolMode::Open {
            return true;
        }
        let window = |e: &Enrol| {
            if e.mode == EnrolMode::Window {
                e.first_boot_window.unwrap_or(Duration::ZERO)
            } else {
                Duration::ZERO
            }
        };
        window(self) <= window(before)
            && (self.mode == EnrolMode::Proof || self.grace <= before.grace)
            && self.proofs.within(before.proofs)
    }
}

/// `enrol = open | window | proof`.
pub fn mode(text: &str) -> Result<EnrolMode, String> {
    super::values::choice(
        text,
        &[
            ("open", EnrolMode::Open),
            ("window", EnrolMode::Window),
            ("proof", EnrolMode::Proof),
        ],
    )
}

/// `enrol_proof = credentials, certificate, user_agent` (any of them, at least one).
pub fn proofs(text: &str) -> Result<Proofs, String> {
    let mut proofs = Proofs {
        credentials: false,
        certificate: false,
        user_agent: false,
    };
    for item in super::values::list(text) {
        match item.to_ascii_lowercase().as_str() {
            "credentials" => proofs.credentials = true,
            "certificate" => proofs.certificate = true,
            "user_agent" => proofs.user_agent = true,
            _ => {
                return Err(
                    "must list credentials, certificate or user_agent (e.g. enrol_proof = credentials, certificate)"
                        .into(),
                );
            }
        }
    }
    if proofs
        == (Proofs {
            credentials: false,
            certificate: false,
            user_agent: false,
        })
    {
        return Err(
            "name at least one proof (credentials, certificate, user_agent); for no proof at all, use enrol = open"
                .into(),
        );
    }
    Ok(proofs)
}

/// A duration: a whole number of seconds, or with a unit, `s`, `m`, `h` or `d` (`90`, `90s`, `15m`, `2h`,
/// `1d`), from `min` to `max`. The message never repeats the value.
pub fn duration(text: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let text = text.trim();
    let range = || {
        format!(
            "must be a duration from {} to {}: a number with s, m, h or d (e.g. 15m)",
            show(min),
            show(max)
        )
    };
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let factor = match unit.trim() {
        "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(range()),
    };
    let value: u64 = digits.parse().map_err(|_| range())?;
    let seconds = value.checked_mul(factor).ok_or_else(range)?;
    let duration = Duration::from_secs(seconds);
    if duration < min || duration > max {
        return Err(range());
    }
    Ok(duration)
}

/// `first_boot_window`: a duration, or `0`/`off`/`no` for none.
pub fn window(text: &str) -> Result<Option<Duration>, String> {
    if matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "0" | "off" | "no" | "none"
    ) {
        return Ok(None);
    }
    duration(
        text,
        Duration::from_secs(60),
        Duration::from_secs(7 * 86_400),
    )
    .map(Some)
}

/// A duration as people write it: `90s`, `15m`, `2h`, `1d`.
pub fn show(duration: Duration) -> String {
    let s = duration.as_secs();
    match s {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let (min, max) = (Duration::from_secs(10), Duration::from_secs(86_400));
        assert_eq!(duration("90", min, max), Ok(Duration::from_secs(90)));
        assert_eq!(duration("15m", min, max), Ok(Duration::from_secs(900)));
        assert_eq!(duration(" 2h ", min, max), Ok(Duration::from_secs(7200)));
        assert_eq!(duration("1d", min, max), Ok(Duration::from_secs(86_400)));
        for bad in [
            "",
            "m",
            "5",
            "2d",
            "1.5h",
            "-3m",
            "15 minutes",
            "99999999999999999999d",
        ] {
            assert!(duration(bad, min, max).is_err(), "{bad}");
        }
        assert_eq!(window("0"), Ok(None));
        assert_eq!(window("off"), Ok(None));
        assert_eq!(window("15m"), Ok(Some(Duration::from_secs(900))));
        assert_eq!(show(Duration::from_secs(900)), "15m");
        assert_eq!(show(Duration::from_secs(90)), "90s");
        // A password typed into the wrong key never comes back in the message.
        assert!(
            !duration("hunter2", min, max)
                .unwrap_err()
                .contains("hunter2")
        );
        assert!(!proofs("hunter2").unwrap_err().contains("hunter2"));
    }

    #[test]
    fn proofs_and_modes() {
        assert_eq!(proofs("certificate").unwrap().names(), "certificate");
        assert_eq!(
            proofs("credentials, USER_AGENT").unwrap().names(),
            "credentials, user_agent"
        );
        assert!(proofs("").is_err());
        assert!(proofs("password").is_err());
        assert_eq!(mode("Window"), Ok(EnrolMode::Window));
        assert!(mode("closed").is_err());
    }

    #[test]
    fn what_loosens() {
        let open = Enrol::default();
        let window = Enrol {
            mode: EnrolMode::Window,
            first_boot_window: Some(Duration::from_secs(900)),
            ..Enrol::default()
        };
        let proof = Enrol {
            mode: EnrolMode::Proof,
            ..Enrol::default()
        };
        assert!(window.no_looser_than(&open));
        assert!(proof.no_looser_than(&window));
        assert!(!open.no_looser_than(&window), "back to open");
        assert!(!window.no_looser_than(&proof), "windows again");
        let longer = Enrol {
            first_boot_window: Some(Duration::from_secs(3600)),
            ..window
        };
        assert!(
            !longer.no_looser_than(&window),
            "a longer first-boot window"
        );
        let more_proofs = Enrol {
            proofs: Proofs {
                user_agent: true,
                ..Proofs::default()
            },
            ..window
        };
        assert!(
            !more_proofs.no_looser_than(&window),
            "a User-Agent now proves"
        );
        let fewer = Enrol {
            proofs: Proofs {
                credentials: false,
                ..Proofs::default()
            },
            ..window
        };
        assert!(fewer.no_looser_than(&window));
    }
}
