//! pjprov's provisioning model: phones from Asterisk's pjsip configuration, with the variables
//! res_pjsip_phoneprov_provider would give them, the profiles of phoneprov.conf, templates and routes.
//!
//! # Principal types
//!
//! * [`Snapshot`] is built from a [`Paths`] (config dir and data dir) and holds everything: the
//!   [`Phone`]s with their [`Line`]s and [`Vars`], the [`Profile`]s, the [`Route`] table and every
//!   [`Diagnostic`]. It never changes once built; a reload builds a new one.
//! * [`Snapshot::route`] finds what a URI serves; [`Snapshot::render`] renders a dynamic route for the
//!   address the phone connected to, caching the [`Rendered`] body.
//! * [`asterisk`] is Asterisk's own template language (`${VAR}`, functions, `$[...]`), byte for byte.
//! * [`Settings`] is pjprov.conf (ACL, per-profile and per-phone [`settings::Policy`], scan limits, TFTP),
//!   read with the rest and held by the snapshot; [`Snapshot::subject`] and [`Mac`] let access control
//!   tell which phone a file name, a User-Agent or a certificate is about.
//!
//! # Example
//!
//! ```
//! use pjprov_core::{BuildOptions, Paths, Snapshot};
//!
//! let dir = tempfile::tempdir()?;
//! let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
//! std::fs::create_dir_all(&etc)?;
//! std::fs::create_dir_all(data.join("phoneprov"))?;
//! std::fs::write(etc.join("pjsip.conf"), "\
//! [udp]\ntype = transport\nbind = 0.0.0.0\n\n\
//! [1000]\ntype = endpoint\ntransport = udp\nauth = 1000\ncallerid = \"Alice\" <1000>\n\n\
//! [1000]\ntype = auth\nusername = alice\npassword = s3cret\n\n\
//! [1000-phone]\ntype = phoneprov\nendpoint = 1000\nMAC = 0004f2aabbcc\nPROFILE = basic\n")?;
//! std::fs::write(etc.join("phoneprov.conf"), "[basic]\n${MAC}.cfg => basic.cfg\n")?;
//! std::fs::write(data.join("phoneprov/basic.cfg"), "user=${USERNAME} name=${DISPLAY_NAME} server=${SERVER}\n")?;
//!
//! let snapshot = Snapshot::build(&Paths::new(etc, data), &BuildOptions::default())
//!     .expect("a usable configuration");
//! let route = snapshot.route("0004f2aabbcc.cfg").expect("the phone's file");
//! let server: std::net::IpAddr = "192.0.2.1".parse()?;
//! let body = snapshot.render(route, server)?;
//! assert_eq!(&body.body[..], b"user=alice name=Alice server=192.0.2.1\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod agent;
pub mod asterisk;
pub mod callerid;
mod error;
pub mod hbs;
pub mod mac;
pub mod mime;
mod model;
mod parallel;
mod phones;
mod pjsip;
pub mod profile;
pub mod realtime;
pub mod request;
pub mod settings;
mod site_key;
mod snapshot;
mod suggest;
mod templates;
pub mod tz;
pub mod uri;
mod vars;

pub use agent::{Agent, Vendor};
pub use error::{Diagnostic, Error, HasSeverity, Severity};
pub use mac::Mac;
pub use model::{Line, Location, Phone, PhoneId, ProfileId};
pub use profile::Profile;
pub use realtime::RealtimeRows;
pub use request::{Request, Scheme};
pub use settings::Settings;
pub use site_key::SiteKey;
pub use snapshot::{
    BuildOptions, LobbyBody, Paths, Rejected, RenderFailure, Rendered, Route, ShapeId, Snapshot,
    Subject, Target, bundled_lobby_name, server_string,
};
pub use templates::{FileProblem, resolve_inside};
pub use vars::Vars;

/// What a masked secret is shown as.
pub const SECRET_MASK: &str = "********";

/// True for variable and option names that hold secrets (`SECRET`, `*PASSWORD*`, pjsip's `md5_cred`,
/// res_pgsql's `dbpass`, a `token`...): masked in listings, dumps and logs.
pub fn is_secret_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.contains("SECRET")
        || upper.contains("PASSWORD")
        || upper.contains("PASSWD")
        || upper.contains("MD5_CRED")
        || upper.contains("TOKEN")
        || upper == "PASS"
        || upper == "DBPASS"
        || upper.ends_with("_PASS")
        || upper.ends_with("/PASS")
        || upper.ends_with("_PIN")
}
