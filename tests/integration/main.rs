//! Integration tests: they run the real `pjprov` binary (and, for `serve`, talk to it over real sockets).
//!
//! One test binary, one module per area, as ripgrep does; `util` holds the shared helpers.

mod ami_double;
mod boot_chains;
mod check;
mod contrib;
mod dump;
mod enrol;
mod fail_closed;
mod fleet;
mod golden;
mod hostile;
mod list;
mod lobby;
mod messages;
mod named_acl;
mod pki;
mod postgres;
mod realtime;
#[path = "../support/reference.rs"]
mod reference;
mod reload;
mod replay;
mod security;
mod serve;
mod tftp;
mod util;
