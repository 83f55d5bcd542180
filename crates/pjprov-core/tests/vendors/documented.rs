//! The documented key names of each firmware family (`tests/vendors/keys/*.txt`, each name under its
//! source) and the comparison of a rendered file's names with them.

use std::collections::BTreeSet;
use std::path::Path;

/// The names one family's list documents.
#[derive(Debug)]
pub struct Documented {
    file: String,
    names: BTreeSet<String>,
    /// `P23800..P23871`: Grandstream numbers documented as a block.
    ranges: Vec<(u32, u32)>,
}

impl Documented {
    /// Reads `tests/vendors/keys/<file>`.
    pub fn load(file: &str) -> Documented {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vendors/keys")
            .join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut names = BTreeSet::new();
        let mut ranges = Vec::new();
        let mut source = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("## [") {
                source = true;
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            assert!(source, "{file}: {line:?} comes before any source");
            match line.split_once("..") {
                Some((from, to)) => {
                    let number = |p: &str| p.trim_start_matches('P').parse::<u32>().unwrap();
                    ranges.push((number(from), number(to)));
                }
                None => {
                    assert!(
                        !line.contains(char::is_whitespace),
                        "{file}: one name a line: {line:?}"
                    );
                    names.insert(line.to_owned());
                }
            }
        }
        assert!(!names.is_empty(), "{file} documents nothing");
        Documented {
            file: file.to_owned(),
            names,
            ranges,
        }
    }

    fn has(&self, name: &str) -> bool {
        self.names.contains(name)
            || name
                .strip_prefix('P')
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| self.ranges.iter().any(|&(a, b)| (a..=b).contains(&n)))
    }

    /// Fails on every name of `used` (already normalised) that the list does not document.
    pub fn check<'a>(&self, used: impl IntoIterator<Item = &'a str>, what: &str) {
        let missing: BTreeSet<&str> = used.into_iter().filter(|n| !self.has(n)).collect();
        assert!(
            missing.is_empty(),
            "{what}: names not documented in tests/vendors/keys/{}: {missing:?}",
            self.file
        );
    }
}

/// A dotted key with its indexes as `N`: `account.1.sip_server.2.address` → `account.N.sip_server.N.address`.
pub fn dotted(key: &str) -> String {
    key.split('.')
        .map(|part| {
            if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                "N"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A Cisco name with its line or key number as `N`: `Line_Enable_1_` → `Line_Enable_N_`.
pub fn cisco(name: &str) -> String {
    let Some(body) = name.strip_suffix('_') else {
        return name.to_owned();
    };
    match body.rsplit_once('_') {
        Some((head, number))
            if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{head}_N_")
        }
        _ => name.to_owned(),
    }
}

#[test]
fn names_are_normalised() {
    assert_eq!(
        dotted("account.1.sip_server.2.address"),
        "account.N.sip_server.N.address"
    );
    assert_eq!(dotted("local_time.ntp_server1"), "local_time.ntp_server1");
    assert_eq!(cisco("Line_Enable_12_"), "Line_Enable_N_");
    assert_eq!(cisco("Auth_Resync-Reboot_1_"), "Auth_Resync-Reboot_N_");
    assert_eq!(cisco("Time_Zone"), "Time_Zone");
}
