//! Content types.
//!
//! pjprov applies the order res_phoneprov documents (and, because it reads the extension of an empty string,
//! never reaches): the type written on the file's line, then the type of the file name's extension from
//! Asterisk's own table (main/http.c), then the profile's `mime_type`, then `text/plain`.

/// Asterisk's extension table (`mimetypes[]` in main/http.c).
const BY_EXTENSION: &[(&str, &str)] = &[
    ("png", "image/png"),
    ("xml", "text/xml"),
    ("jpg", "image/jpeg"),
    ("js", "application/javascript"),
    ("wav", "audio/x-wav"),
    ("mp3", "audio/mpeg"),
    ("svg", "image/svg+xml"),
    ("svgz", "image/svg+xml"),
    ("gif", "image/gif"),
    ("html", "text/html"),
    ("htm", "text/html"),
    ("css", "text/css"),
    ("cnf", "text/plain"),
    ("cfg", "text/plain"),
    ("bin", "application/octet-stream"),
    ("sbn", "application/octet-stream"),
    ("ld", "application/octet-stream"),
];

/// The type of `name`'s extension (after the last `.`), compared without case.
pub fn by_extension(name: &str) -> Option<&'static str> {
    let (_, extension) = name.rsplit_once('.')?;
    BY_EXTENSION
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(extension))
        .map(|(_, t)| *t)
}

/// The content type of a file: `explicit`, else by `name`'s extension, else `profile_default`, else
/// `text/plain`.
pub fn choose(explicit: Option<&str>, name: &str, profile_default: Option<&str>) -> String {
    explicit
        .or_else(|| by_extension(name))
        .or(profile_default.filter(|m| !m.is_empty()))
        .unwrap_or("text/plain")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_preference() {
        assert_eq!(choose(Some("a/b"), "x.xml", Some("c/d")), "a/b");
        assert_eq!(choose(None, "x.XML", Some("c/d")), "text/xml");
        assert_eq!(choose(None, "${MAC}-directory.xml", None), "text/xml");
        assert_eq!(choose(None, "config/${MAC}", Some("text/xml")), "text/xml");
        assert_eq!(
            choose(None, "notes.txt", Some("application/x-default")),
            "application/x-default"
        );
        assert_eq!(choose(None, "notes.txt", None), "text/plain");
        assert_eq!(choose(None, "sip.ld", None), "application/octet-stream");
    }
}
