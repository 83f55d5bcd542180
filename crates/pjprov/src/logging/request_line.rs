//! The one log line of each request: access facts (client, method, name, status, size, time) and, for a
//! phone's file, the audit facts (MAC, proof), formatted straight into a reused buffer.
//!
//! This is the line a boot storm writes tens of thousands of times a second, so it does not go through
//! tracing's formatter (which costs about 6 µs a line with its field visitors and allocations); tracing's
//! filter still decides whether it is written, by target: `pjprov::audit` for a phone's file,
//! `pjprov::access` for anything else. The layout is the one tracing's text and JSON formats give other
//! lines, with numbers as numbers in JSON and the client's own text (User-Agent, TFTP file names)
//! escaped, so that no request can forge a log line.

use std::io::Write;
use std::net::IpAddr;

/// The audit target: lines about a phone's file.
pub const AUDIT: &str = "pjprov::audit";
/// The access target: every other request.
pub const ACCESS: &str = "pjprov::access";

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `TIME  INFO target: message key=value ...`
    Text,
    /// One JSON object per line.
    Json,
}

/// One request, as logged.
#[derive(Debug, Clone)]
pub struct RequestLine<'a> {
    /// The client's address.
    pub client: IpAddr,
    /// `GET`, `HEAD`, TFTP's `RRQ`...
    pub method: &'a str,
    /// The path asked for (HTTP) or the file name (TFTP).
    pub uri: &'a str,
    /// The HTTP status (TFTP: the equivalent).
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// Time spent answering, in microseconds.
    pub micros: u64,
    /// `http`, `https` or `tftp`.
    pub protocol: &'a str,
    /// The User-Agent, when there is one.
    pub user_agent: &'a str,
    /// For a phone's file: its MAC and what the client proved (`none`, `credentials:USER`...).
    pub phone: Option<(&'a str, &'a str)>,
}

impl RequestLine<'_> {
    /// The target the line is logged under.
    pub fn target(&self) -> &'static str {
        if self.phone.is_some() { AUDIT } else { ACCESS }
    }

    /// Appends the whole line, newline included, to `out`; `time` is the RFC 3339 time with microseconds
    /// (see [`Clock`]).
    pub fn write(&self, style: Style, time: &str, out: &mut Vec<u8>) {
        let message = if self.phone.is_some() {
            "phone file"
        } else {
            "request"
        };
        let millis = Millis(self.micros);
        match style {
            Style::Text => {
                let _ = write!(
                    out,
                    "{time}  INFO {}: {message} client={} method=",
                    self.target(),
                    unmap(self.client)
                );
                text_value(out, self.method);
                out.extend_from_slice(b" uri=");
                text_value(out, self.uri);
                let _ = write!(
                    out,
                    " status={} bytes={} ms={millis} protocol={}",
                    self.status, self.bytes, self.protocol
                );
                if let Some((mac, proof)) = self.phone {
                    out.extend_from_slice(b" mac=");
                    text_value(out, mac);
                    out.extend_from_slice(b" proof=");
                    text_value(out, proof);
                }
                out.extend_from_slice(b" user_agent=");
                text_value(out, self.user_agent);
                out.push(b'\n');
            }
            Style::Json => {
                let _ = write!(
                    out,
                    "{{\"timestamp\":\"{time}\",\"level\":\"INFO\",\"target\":\"{}\",\"message\":\"{message}\",\"client\":\"{}\",\"method\":",
                    self.target(),
                    unmap(self.client)
                );
                json_string(out, self.method);
                out.extend_from_slice(b",\"uri\":");
                json_string(out, self.uri);
                let _ = write!(
                    out,
                    ",\"status\":{},\"bytes\":{},\"ms\":{millis},\"protocol\":\"{}\"",
                    self.status, self.bytes, self.protocol
                );
                if let Some((mac, proof)) = self.phone {
                    out.extend_from_slice(b",\"mac\":");
                    json_string(out, mac);
                    out.extend_from_slice(b",\"proof\":");
                    json_string(out, proof);
                }
                out.extend_from_slice(b",\"user_agent\":");
                json_string(out, self.user_agent);
                out.extend_from_slice(b"}\n");
            }
        }
    }
}

/// Microseconds written as milliseconds with three decimals, without going through a float.
struct Millis(u64);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

fn unmap(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// A value in the text format: as it is when it is one plain word, else quoted with `"` and `\`
/// escaped and control characters written as escapes (a newline never ends a line early).
fn text_value(out: &mut Vec<u8>, value: &str) {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if plain {
        out.extend_from_slice(value.as_bytes());
        return;
    }
    out.push(b'"');
    let mut rest = value;
    while !rest.is_empty() {
        // Copy the run of bytes that need no escape at once.
        let run = rest
            .bytes()
            .position(|b| b < 0x20 || b == 0x7f || b == b'"' || b == b'\\' || b >= 0x80)
            .unwrap_or(rest.len());
        out.extend_from_slice(&rest.as_bytes()[..run]);
        rest = &rest[run..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => {
                let mut utf8 = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push(b'"');
}

/// A JSON string, escaped as JSON requires.
fn json_string(out: &mut Vec<u8>, value: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// The time of a line, as `2026-12-01T12:22:06.123456Z`: the part up to the seconds is formatted once a
/// second.
#[derive(Debug, Default)]
pub struct Clock {
    second: i64,
    prefix: String,
    text: String,
}

impl Clock {
    /// The time `now`, formatted.
    pub fn format(&mut self, now: jiff::Timestamp) -> &str {
        let second = now.as_second();
        if second != self.second || self.prefix.is_empty() {
            self.second = second;
            self.prefix = jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%S", now)
                .unwrap_or_else(|_| now.to_string());
        }
        self.text.clear();
        self.text.push_str(&self.prefix);
        let micros = now.subsec_microsecond().max(0);
        let _ = std::fmt::Write::write_fmt(&mut self.text, format_args!(".{micros:06}Z"));
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        phone: Option<(&'static str, &'static str)>,
        agent: &'static str,
    ) -> RequestLine<'static> {
        RequestLine {
            client: "::ffff:192.0.2.7".parse().unwrap(),
            method: "GET",
            uri: "/phoneprov/0004f2000100.cfg",
            status: 200,
            bytes: 1934,
            micros: 1234,
            protocol: "http",
            user_agent: agent,
            phone,
        }
    }

    const TIME: &str = "2026-12-01T12:22:06.000123Z";

    #[test]
    fn text_lines_look_like_tracings() {
        let mut out = Vec::new();
        line(None, "curl/8.5.0").write(Style::Text, TIME, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-12-01T12:22:06.000123Z  INFO pjprov::access: request client=192.0.2.7 method=GET \
             uri=/phoneprov/0004f2000100.cfg status=200 bytes=1934 ms=1.234 protocol=http \
             user_agent=curl/8.5.0\n"
        );
        let mut out = Vec::new();
        line(
            Some(("0004f2000100", "credentials:100")),
            "Yealink SIP-T46U 108.86.0.20",
        )
        .write(Style::Text, TIME, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(" INFO pjprov::audit: phone file client=192.0.2.7 "));
        assert!(text.contains(" mac=0004f2000100 proof=credentials:100 "));
        assert!(text.ends_with(" user_agent=\"Yealink SIP-T46U 108.86.0.20\"\n"));
    }

    #[test]
    fn no_client_text_forges_a_line() {
        for style in [Style::Text, Style::Json] {
            let mut out = Vec::new();
            line(
                None,
                "evil\n2026-12-01T00:00:00Z  WARN fake \"x\\ \u{1b}[31m",
            )
            .write(style, TIME, &mut out);
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.matches('\n').count(), 1, "{text}");
            assert!(text.ends_with('\n'));
            assert!(!text.contains('\u{1b}'), "{text}");
        }
        let mut out = Vec::new();
        line(None, "").write(Style::Text, TIME, &mut out);
        assert!(
            String::from_utf8(out)
                .unwrap()
                .ends_with(" user_agent=\"\"\n")
        );
    }

    #[test]
    fn json_lines_have_numbers_as_numbers() {
        let mut out = Vec::new();
        line(Some(("0004f2000100", "none")), "Poly \"VVX\"").write(Style::Json, TIME, &mut out);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["timestamp"], TIME);
        assert_eq!(value["level"], "INFO");
        assert_eq!(value["target"], "pjprov::audit");
        assert_eq!(value["message"], "phone file");
        assert_eq!(value["client"], "192.0.2.7");
        assert_eq!(value["status"], 200);
        assert_eq!(value["bytes"], 1934);
        assert_eq!(value["ms"], 1.234);
        assert_eq!(value["mac"], "0004f2000100");
        assert_eq!(value["proof"], "none");
        assert_eq!(value["user_agent"], "Poly \"VVX\"");
    }

    #[test]
    fn the_clock_formats_microseconds() {
        let mut clock = Clock::default();
        let at: jiff::Timestamp = "2026-12-01T12:22:06.000123456Z".parse().unwrap();
        assert_eq!(clock.format(at), "2026-12-01T12:22:06.000123Z");
        let later: jiff::Timestamp = "2026-12-01T12:22:07.5Z".parse().unwrap();
        assert_eq!(clock.format(later), "2026-12-01T12:22:07.500000Z");
    }
}
