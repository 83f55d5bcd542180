//! "Did you mean …?": the known name closest to a misspelt one, for every diagnostic that offers one
//! (pjsip options and types, profile names, pjprov.conf sections and keys).

/// The name of `names` closest to `word` (without case), if one is close enough to be a plausible typo.
pub(crate) fn closest<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    names
        .iter()
        .map(|n| {
            (
                strsim::damerau_levenshtein(&word, &n.to_ascii_lowercase()),
                *n,
            )
        })
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pjsip::options::{AUTH, ENDPOINT};

    #[test]
    fn suggestions() {
        assert_eq!(closest("pasword", AUTH), Some("password"));
        assert_eq!(closest("callerId", ENDPOINT), Some("callerid"));
        assert_eq!(closest("zzzzzz", AUTH), None);
        assert_eq!(closest("Polycm", &["yealink", "Polycom"]), Some("Polycom"));
    }
}
