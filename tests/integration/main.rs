//! Integration tests: they run the real `pjprov` binary (and, for `serve`, talk to it over real sockets).
//!
//! One test binary, one module per area, as ripgrep does; `util` holds the shared helpers.

mod ami_double;
mod boot_chains;
mod check;
mod contrib;
mod dump;
mod fail_closed;
mod fleet;
mod golden;
mod hostile;
mod list;
mod messages;
mod pki;
mod postgres;
mod realtime;
#[path = "../support/reference.rs"]
mod reference;
mod reload;
mod security;
mod serve;
mod tftp;
mod util;
