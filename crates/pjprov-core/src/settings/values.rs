//! Parsing the values of pjprov.conf: each function returns the value or what is wrong with it, in words an
//! admin can act on. Messages never repeat the value: a password typed into the wrong key must not end up
//! in a log; the line number says where it is.

use std::net::SocketAddr;
use std::time::Duration;

/// Asterisk's `ast_true`/`ast_false`: yes/no, true/false, y/n, t/f, 1/0, on/off.
pub fn boolean(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "y" | "t" | "1" | "on" => Ok(true),
        "no" | "false" | "n" | "f" | "0" | "off" => Ok(false),
        _ => Err("must be yes or no".into()),
    }
}

/// A whole number in `min..=max`.
pub fn number(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let value: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("must be a whole number from {min} to {max}"))?;
    if value < min || value > max {
        return Err(format!("must be a whole number from {min} to {max}"));
    }
    Ok(value)
}

/// Seconds, in `min..=max`.
pub fn seconds(text: &str, min: u64, max: u64) -> Result<Duration, String> {
    number(text, min, max).map(Duration::from_secs)
}

/// `ADDR:PORT`, with IPv6 in brackets (`[::]:8088`).
pub fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        "must be ADDR:PORT, with IPv6 addresses in brackets: for example 0.0.0.0:8088, 192.0.2.10:8088 or [::]:8088"
            .to_owned()
    })
}

/// A comma-separated list of `ADDR:PORT`.
pub fn socket_addrs(text: &str) -> Result<Vec<SocketAddr>, String> {
    list(text).map(socket_addr).collect()
}

/// The non-empty, trimmed items of a comma-separated list.
pub fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// One of `choices` (without case); the error lists them.
pub fn choice<T: Copy>(text: &str, choices: &[(&str, T)]) -> Result<T, String> {
    let wanted = text.trim();
    choices
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            format!("must be one of: {}", names.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_asterisk_reads_them() {
        for yes in ["yes", "YES", "true", "y", "t", "1", "on"] {
            assert_eq!(boolean(yes), Ok(true), "{yes}");
        }
        for no in ["no", "False", "n", "f", "0", "off"] {
            assert_eq!(boolean(no), Ok(false), "{no}");
        }
        assert!(boolean("maybe").is_err());
    }

    #[test]
    fn messages_never_repeat_the_value() {
        let secret = "hunter2";
        for message in [
            boolean(secret).unwrap_err(),
            number(secret, 0, 9).unwrap_err(),
            socket_addr(secret).unwrap_err(),
            choice(secret, &[("none", 0), ("sip", 1)]).unwrap_err(),
        ] {
            assert!(!message.contains(secret), "{message}");
        }
    }

    #[test]
    fn numbers_and_addresses() {
        assert_eq!(number(" 30 ", 1, 100), Ok(30));
        assert!(number("0", 1, 100).is_err());
        assert!(number("-1", 0, 100).is_err());
        assert!(number("ten", 0, 100).is_err());
        assert_eq!(socket_addrs("0.0.0.0:8088, [::]:8088").unwrap().len(), 2);
        assert!(socket_addr("0.0.0.0").is_err());
        assert_eq!(choice("LOG", &[("off", 0), ("log", 1)]), Ok(1));
        assert_eq!(
            choice("x", &[("off", 0), ("log", 1)]),
            Err("must be one of: off, log".into())
        );
    }
}
