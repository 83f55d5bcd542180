//! Phones and their lines: what res_phoneprov calls users and extensions.

use std::path::Path;
use std::sync::Arc;

use compact_str::CompactString;

use crate::vars::Vars;

/// A phone of a [`crate::Snapshot`]: its position in [`crate::Snapshot::phones`]. Only meaningful for the
/// snapshot that handed it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhoneId(pub(crate) u32);

impl PhoneId {
    pub(crate) fn new(index: usize) -> PhoneId {
        PhoneId(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// The position in [`crate::Snapshot::phones`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A profile of phoneprov.conf: its position in [`crate::Snapshot::profiles`] (and in the policies of
/// [`crate::Settings`] built with them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileId(pub(crate) u32);

impl ProfileId {
    pub(crate) fn new(index: usize) -> ProfileId {
        ProfileId(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// The position in [`crate::Snapshot::profiles`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where something was defined.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file (shared by everything defined in it).
    pub file: Arc<Path>,
    /// 1-based line.
    pub line: u32,
}

/// One phone: every phoneprov object with the same MAC (compared exactly, as Asterisk does).
#[derive(Debug, Clone)]
pub struct Phone {
    /// The MAC as configured.
    pub mac: CompactString,
    /// The phone's profile (the profile of the first line added).
    pub profile: ProfileId,
    /// The lines, in `LINE` order.
    pub lines: Vec<Line>,
    /// Index in `lines` of the line that created the phone: Asterisk names the phone's routes with its
    /// variables.
    pub(crate) founding_line: usize,
}

impl Phone {
    /// The first line (lowest `LINE`): the variables of the phone's files.
    pub fn first_line(&self) -> &Line {
        &self.lines[0]
    }
}

/// One line of a phone: one `type=phoneprov` object (or wizard with `has_phoneprov`).
#[derive(Debug, Clone)]
pub struct Line {
    /// The phoneprov object's id (section name, or `<wizard>-phoneprov`).
    pub id: CompactString,
    /// `LINE` as a number (`sscanf("%d")`, 0 when not a number).
    pub index: i32,
    /// Every variable, as a template sees it.
    pub vars: Vars,
    /// The protocol of the endpoint's transport (`udp`, `tcp`, `tls`...): not an Asterisk variable, but
    /// Handlebars templates see it as `SIP_TRANSPORT` unless the line sets that.
    pub transport_protocol: Option<&'static str>,
    /// Where the object is defined.
    pub location: Location,
}
