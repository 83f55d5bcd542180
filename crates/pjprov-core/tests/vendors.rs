//! pjprov's own phone templates (`templates/<vendor>/` at the top of the repository), for every firmware
//! family of every brand.
//!
//! For each vendor, a configuration is built from the vendor's `phoneprov.conf.sample` as it is, with two
//! phones of that vendor (one with two lines) and a copy of its templates; then every file a phone of
//! each family asks for is rendered with that family's User-Agent (and without any). Every file must be
//! well formed (XML parsed with quick-xml, `key = value` files line by line), render without a strict-mode
//! issue, use only key names its family's list documents (`tests/vendors/keys/`, each with its source),
//! and carry every line with its SIP user, auth user, password, server, port, label and display name, the
//! keys, the time zone as the zone's rule, NTP, provisioning and the phone book. A second run adds the
//! optional variables the samples document and checks that each one lands where it should.

#[path = "vendors/documented.rs"]
mod documented;
#[path = "vendors/xml.rs"]
mod xml;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use documented::{Documented, dotted};
use pjprov_core::{BuildOptions, Paths, Request, Scheme, Snapshot};
use xml::Xml;

/// "Now" for Asterisk's time zone variables: New York is on standard time, DST starts 2027-03-14.
const NOW: &str = "2026-11-23T12:00:00Z";
/// The address the phones are taken to have connected to.
const SERVER: &str = "192.0.2.10";
/// The SIP port of the transport (not the default, so that SERVER_PORT is visibly used).
const PORT: &str = "5070";
/// The first line's password: every character XML escapes.
const SECRET1: &str = "Al1ce&<\"pw\">'";
const SECRET2: &str = "sales-pw-2";
const SECRET3: &str = "lobby-pw-3";
const ADMIN: &str = "Adm1n&Secret";
/// Passwords phones ship with or other provisioning systems write when none is given: never written.
const VENDOR_DEFAULTS: [&str; 6] = ["admin", "1234", "123", "9486", "0000", "user"];

/// The optional variables of the samples, as the second run sets them for the whole profile.
fn setvars(vendor: &str) -> Vec<(&'static str, &'static str)> {
    let (interval, url) = match vendor {
        "yealink" => ("720", "http://pbx.example.com:8080/pp/"),
        "grandstream" => ("720", "https://pbx.example.com:8080/pp/"),
        "fanvil" => ("2", "http://pbx.example.com:8080/pp/"),
        _ => ("43200", "http://pbx.example.com:8080/pp/"),
    };
    vec![
        ("ADMIN_PASSWORD", ADMIN),
        ("UPDATE_INTERVAL", interval),
        ("NTP_SERVER", "ntp.example.org"),
        ("PROVISIONING_URL", url),
        ("VOICEMAIL_EXTEN", "*97"),
        ("SIP_TRANSPORT", "tcp"),
        ("REGISTER_EXPIRY", "1800"),
        ("BLF", "301=Bob & Co, 302"),
        ("SPEED_DIAL", "5551234=Shop"),
        ("PICKUP_PREFIX", "**"),
        ("LANGUAGE", "fr_FR"),
        ("FIRMWARE", "firmware/phone.bin"),
    ]
}

fn repo_templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates")
}

/// pjsip.conf: a transport, phone 1 (`mac1`) with lines 1001 (two line keys) and 1002, phone 2 (`mac2`)
/// with line 1003.
fn pjsip_conf(vendor: &str, mac1: &str, mac2: &str, phone1_extra: &str, zone: &str) -> String {
    let endpoint = |id: &str, cid: &str, user: &str, password: &str| {
        format!(
            "[{id}]\ntype = endpoint\ntransport = transport-udp\ncontext = office\naors = {id}\n\
             auth = {id}-auth\ncallerid = {cid}\n\n[{id}-auth]\ntype = auth\nauth_type = userpass\n\
             username = {user}\npassword = {password}\n\n[{id}]\ntype = aor\nmax_contacts = 1\n\n"
        )
    };
    let mut text =
        format!("[transport-udp]\ntype = transport\nprotocol = udp\nbind = 0.0.0.0:{PORT}\n\n");
    text += &endpoint("1001", "\"Alice Example\" <1001>", "alice", SECRET1);
    text += &endpoint("1002", "\"Sales Queue\" <1002>", "1002", SECRET2);
    text += &endpoint("1003", "\"Carol & Co\" <1003>", "1003", SECRET3);
    text += &format!(
        "[desk-1]\ntype = phoneprov\nendpoint = 1001\nMAC = {mac1}\nPROFILE = {vendor}\nLINE = 1\n\
         LINEKEYS = 2\nTIMEZONE = {zone}\n{phone1_extra}\n\
         [desk-2]\ntype = phoneprov\nendpoint = 1002\nMAC = {mac1}\nPROFILE = {vendor}\nLINE = 2\n\
         LABEL = Sales\nTIMEZONE = {zone}\n\n\
         [lobby]\ntype = phoneprov\nendpoint = 1003\nMAC = {mac2}\nPROFILE = {vendor}\n\
         TIMEZONE = {zone}\n"
    );
    text
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// One vendor's configuration, built from its sample.
struct Office {
    snapshot: Snapshot,
    vendor: &'static str,
    /// Whether the optional setvars were added.
    full: bool,
    _dir: tempfile::TempDir,
}

impl Office {
    /// The office of `vendor` with every line in `zone`, phone 1's first line with `extra` lines.
    fn new(
        vendor: &'static str,
        macs: (&str, &str),
        extra: &str,
        full: bool,
        zone: &str,
    ) -> Office {
        let dir = tempfile::tempdir().unwrap();
        let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
        std::fs::create_dir_all(&etc).unwrap();
        copy_dir(
            &repo_templates().join(vendor),
            &data.join("phoneprov").join(vendor),
        );
        let mut phoneprov =
            std::fs::read_to_string(repo_templates().join(vendor).join("phoneprov.conf.sample"))
                .unwrap();
        if full {
            // The sample's profile is its last section: these lines extend it.
            for (name, value) in setvars(vendor) {
                phoneprov += &format!("setvar => {name}={value}\n");
            }
        }
        std::fs::write(etc.join("phoneprov.conf"), phoneprov).unwrap();
        std::fs::write(
            etc.join("pjsip.conf"),
            pjsip_conf(vendor, macs.0, macs.1, extra, zone),
        )
        .unwrap();
        let options = BuildOptions {
            now: Some(NOW.parse().unwrap()),
            ..Default::default()
        };
        let snapshot = Snapshot::build(&Paths::new(etc, data), &options)
            .unwrap_or_else(|r| panic!("{vendor}: configuration rejected: {:#?}", r.diagnostics));
        assert!(
            snapshot.diagnostics().is_empty(),
            "{vendor}: {:#?}",
            snapshot.diagnostics()
        );
        assert_eq!(snapshot.phones().len(), 2, "{vendor}");
        // What `pjprov check` does: every route, by its own name (a wildcard's `*` included) and with no
        // User-Agent, renders in strict mode without an issue.
        let server: IpAddr = SERVER.parse().unwrap();
        for route in snapshot.routes() {
            let (body, issues) = snapshot.render_fresh(route, server);
            assert!(body.is_ok(), "{vendor}: {} does not render", route.uri);
            assert!(issues.is_empty(), "{vendor}: {}: {issues:#?}", route.uri);
        }
        Office {
            snapshot,
            vendor,
            full,
            _dir: dir,
        }
    }

    /// The body a phone sending `user_agent` gets for `name`, checked for what holds for every file:
    /// it renders, in strict mode too (no variable a template uses is missing), with no tag left and,
    /// for XML, well formed.
    fn get(&self, name: &str, user_agent: Option<&str>) -> String {
        let vendor = self.vendor;
        let route = self
            .snapshot
            .route(name)
            .unwrap_or_else(|| panic!("{vendor}: no route for {name}"));
        let server: IpAddr = SERVER.parse().unwrap();
        let request = Request::new(server, Scheme::Http, 8088, None, "", user_agent)
            .with_match(route.wildcard_match(name));
        let rendered = self
            .snapshot
            .render(route, request.clone())
            .unwrap_or_else(|e| panic!("{vendor}: {name} does not render: {e}"));
        let body = String::from_utf8(rendered.body.to_vec()).unwrap();
        let (fresh, issues) = self.snapshot.render_fresh(route, request);
        assert!(issues.is_empty(), "{vendor}: {name}: {issues:#?}");
        assert_eq!(fresh.unwrap(), body.as_bytes(), "{vendor}: {name}");
        assert!(
            !body.contains("{{") && !body.contains("}}"),
            "{vendor}: {name}: unrendered tag\n{body}"
        );
        if body.trim_start().starts_with('<') {
            Xml::parse(&body).unwrap_or_else(|e| panic!("{vendor}: {name}: {e}\n{body}"));
        }
        if let Some(dump) = std::env::var_os("PJPROV_VENDORS_DUMP") {
            // Look at the files: PJPROV_VENDORS_DUMP=/tmp/out cargo test -p pjprov-core --test vendors
            let family = user_agent.map_or("no-user-agent".into(), |ua| {
                ua.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect::<String>()
            });
            let path = Path::new(&dump)
                .join(vendor)
                .join(if self.full { "full" } else { "defaults" })
                .join(family)
                .join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &body).unwrap();
        }
        body
    }

    fn xml(&self, name: &str, user_agent: Option<&str>, root: &str) -> Xml {
        let xml = Xml::parse(&self.get(name, user_agent)).unwrap();
        assert_eq!(xml.root(), root, "{}: {name}", self.vendor);
        xml
    }

    /// Whether `name` has a route.
    fn routed(&self, name: &str) -> bool {
        self.snapshot.route(name).is_some()
    }

    /// The URL the templates use for this directory.
    fn prov(&self) -> String {
        if self.full {
            setvars(self.vendor)
                .into_iter()
                .find(|(n, _)| *n == "PROVISIONING_URL")
                .unwrap()
                .1
                .to_owned()
        } else {
            format!("http://{SERVER}:8088/phoneprov/")
        }
    }

    fn ntp(&self) -> &'static str {
        if self.full {
            "ntp.example.org"
        } else {
            "pool.ntp.org"
        }
    }

    fn interval(&self, default: &'static str) -> &'static str {
        if self.full {
            setvars(self.vendor)
                .into_iter()
                .find(|(n, _)| *n == "UPDATE_INTERVAL")
                .unwrap()
                .1
        } else {
            default
        }
    }
}

/// A `key = value` file (Yealink): the version line, comments, then one setting a line, no key twice.
fn key_values(text: &str) -> BTreeMap<String, String> {
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("#!version:1.0.0.1"),
        "the first line must be the version line"
    );
    let mut map = BTreeMap::new();
    for line in lines
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (key, value) = if let Some(rest) = line.strip_prefix("include:config ") {
            ("include:config", rest)
        } else {
            line.split_once('=')
                .unwrap_or_else(|| panic!("not key = value: {line:?}"))
        };
        let key = key.trim();
        assert!(
            !key.is_empty() && !key.contains(char::is_whitespace),
            "bad key in {line:?}"
        );
        assert!(
            map.insert(key.to_owned(), value.trim().to_owned())
                .is_none(),
            "{key} set twice"
        );
    }
    map
}

/// The lines of phone 1 as every template must show them: (LINE, SIP user, auth user, password,
/// display name, label). The label is the display name (LINE_LABEL's default), never the section name.
const LINES: [(&str, &str, &str, &str, &str, &str); 2] = [
    (
        "1",
        "1001",
        "alice",
        SECRET1,
        "Alice Example",
        "Alice Example",
    ),
    ("2", "1002", "1002", SECRET2, "Sales Queue", "Sales Queue"),
];

/// The keys of phone 1 (LINEKEYS = 2 on line 1): (kind, line, value, label), from the full run's BLF and
/// SPEED_DIAL.
fn phone1_keys(full: bool) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    let mut keys = vec![
        ("line", "1", "1001", "Alice Example"),
        ("line", "1", "1001", "Alice Example"),
        ("line", "2", "1002", "Sales Queue"),
    ];
    if full {
        keys.extend([
            ("blf", "1", "301", "Bob & Co"),
            ("blf", "1", "302", "302"),
            ("speed", "1", "5551234", "Shop"),
        ]);
    }
    keys
}

/// A phone book (name, number) of phone 1 lists every line of phone 2; phone 2's lists both lines of
/// phone 1; neither lists its own.
fn check_book(entries: &[(&str, &str)], phone: u8) {
    let (want, own): (&[(&str, &str)], &[&str]) = match phone {
        1 => (&[("Carol & Co", "1003")], &["1001", "1002"]),
        _ => (
            &[("Alice Example", "1001"), ("Sales Queue", "1002")],
            &["1003"],
        ),
    };
    for entry in want {
        assert!(
            entries.contains(entry),
            "{entry:?} missing from {entries:?}"
        );
    }
    assert!(
        entries.iter().all(|(_, number)| !own.contains(number)),
        "phone {phone} lists itself: {entries:?}"
    );
}

/// No admin password is written unless one is set (`writes`: whether the family has a key for it); a
/// vendor's default password never.
fn check_admin(office: &Office, body: &str, what: &str, writes: bool) {
    let written = body.contains(&ADMIN.replace('&', "&amp;")) || body.contains(ADMIN);
    assert_eq!(written, office.full && writes, "{what}: admin password");
    let lowered = body.to_ascii_lowercase();
    for line in lowered
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("pass") || l.contains("pw"))
    {
        for default in VENDOR_DEFAULTS {
            let found = line.contains(&format!(">{default}</"))
                || line.contains(&format!("=\"{default}\""))
                || line.ends_with(&format!(":{default}"))
                || line.ends_with(&format!("= {default}"));
            assert!(!found, "{what}: a vendor default password in {line:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Yealink

const YEALINK: [(&str, Option<&str>, &str); 6] = [
    (
        "v73",
        Some("Yealink SIP-T28P 2.73.0.50 80:5e:c0:a1:b2:c3"),
        "yealink-v73.txt",
    ),
    (
        "v80",
        Some("Yealink SIP-T46G 28.80.0.95 80:5e:c0:a1:b2:c3"),
        "yealink-v80.txt",
    ),
    (
        "v81",
        Some("Yealink SIP-T46S 66.82.0.20 80:5e:c0:a1:b2:c3"),
        "yealink-v81.txt",
    ),
    (
        "v83",
        Some("Yealink SIP-T54W 96.86.0.100 80:5e:c0:a1:b2:c3"),
        "yealink-v81.txt",
    ),
    (
        "dect",
        Some("Yealink W60B 77.83.0.85 80:5e:c0:a1:b2:c3"),
        "yealink-v81.txt",
    ),
    ("default", None, "yealink-v81.txt"),
];

#[test]
fn yealink() {
    for full in [false, true] {
        let office = Office::new(
            "yealink",
            ("805EC0A1B2C3", "805EC0D4E5F6"),
            "",
            full,
            "America/New_York",
        );
        let boot = key_values(&office.get("805ec0a1b2c3.boot", YEALINK[3].1));
        Documented::load("yealink-boot.txt").check(boot.keys().map(String::as_str), "boot");
        assert_eq!(boot["include:config"], "\"805ec0a1b2c3.cfg\"");
        for (family, ua, list) in YEALINK {
            let what = format!("yealink {family} (full: {full})");
            let body = office.get("805ec0a1b2c3.cfg", ua);
            check_admin(&office, &body, &what, true);
            let cfg = key_values(&body);
            let names: Vec<String> = cfg.keys().map(|k| dotted(k)).collect();
            Documented::load(list).check(names.iter().map(String::as_str), &what);
            let prefix = if matches!(family, "v73" | "v80") {
                ""
            } else {
                "static."
            };
            for (line, user, auth, secret, name, label) in LINES {
                let get = |key: &str| cfg[&format!("account.{line}.{key}")].as_str();
                assert_eq!(get("enable"), "1", "{what}");
                assert_eq!(get("user_name"), user, "{what}");
                assert_eq!(get("auth_name"), auth, "{what}");
                assert_eq!(get("password"), secret, "{what}");
                assert_eq!(get("display_name"), name, "{what}");
                assert_eq!(get("label"), label, "{what}");
                assert_eq!(get("sip_server.1.address"), SERVER, "{what}");
                assert_eq!(get("sip_server.1.port"), PORT, "{what}");
                assert_eq!(get("dtmf.type"), "1", "{what}: RFC 2833");
                assert_eq!(get("nat.udp_update_enable"), "1", "{what}");
                let transport = if full { "1" } else { "0" };
                if family == "v73" {
                    assert_eq!(get("transport"), transport, "{what}");
                } else {
                    assert_eq!(get("sip_server.1.transport_type"), transport, "{what}");
                }
                let expires = cfg.get(&format!("account.{line}.sip_server.1.expires"));
                match family {
                    "v73" | "v80" => assert_eq!(expires, None, "{what}"),
                    _ => assert_eq!(
                        expires.map(String::as_str),
                        Some(if full { "1800" } else { "3600" }),
                        "{what}"
                    ),
                }
                assert_eq!(
                    cfg.get(&format!("voice_mail.number.{line}"))
                        .map(String::as_str),
                    full.then_some("*97"),
                    "{what}"
                );
            }
            // Keys: none on a DECT base; line keys, BLF and speed dials elsewhere.
            if family == "dect" {
                assert!(!cfg.keys().any(|k| k.starts_with("linekey.")), "{what}");
            } else {
                for (index, (kind, line, value, label)) in phone1_keys(full).into_iter().enumerate()
                {
                    let key = |field: &str| cfg[&format!("linekey.{}.{field}", index + 1)].as_str();
                    let kind_code = match kind {
                        "line" => "15",
                        "blf" => "16",
                        _ => "13",
                    };
                    assert_eq!(
                        (key("type"), key("line"), key("value"), key("label")),
                        (kind_code, line, value, label),
                        "{what}: key {}",
                        index + 1
                    );
                }
                assert_eq!(
                    cfg.get("linekey.4.extension").map(String::as_str),
                    full.then_some("**"),
                    "{what}: BLF pickup"
                );
            }
            assert_eq!(
                cfg[&format!("{prefix}auto_provision.server.url")],
                office.prov(),
                "{what}"
            );
            assert_eq!(
                cfg[&format!("{prefix}auto_provision.repeat.minutes")],
                office.interval("1440"),
                "{what}"
            );
            assert_eq!(cfg["sip.notify_reboot_enable"], "0", "{what}");
            assert_eq!(
                cfg.get(&format!("{prefix}security.user_password"))
                    .map(String::as_str),
                full.then_some("admin:Adm1n&Secret"),
                "{what}"
            );
            assert_eq!(
                cfg.get(&format!("{prefix}firmware.url"))
                    .map(String::as_str),
                full.then(|| format!("{}firmware/phone.bin", office.prov()))
                    .as_deref(),
                "{what}"
            );
            let lang = if family == "v81" {
                "static.lang.gui"
            } else {
                "lang.gui"
            };
            assert_eq!(
                cfg.get(lang).map(String::as_str),
                full.then_some("French"),
                "{what}"
            );
            assert_eq!(
                cfg.get("voice.tone.country").map(String::as_str),
                full.then_some("France"),
                "{what}"
            );
            assert_eq!(cfg["local_time.ntp_server1"], office.ntp(), "{what}");
            assert_eq!(cfg["local_time.time_zone"], "-5", "{what}");
            assert_eq!(cfg["local_time.summer_time"], "1", "{what}");
            assert_eq!(cfg["local_time.dst_time_type"], "1", "{what}: by week");
            assert_eq!(cfg["local_time.start_time"], "3/2/7/2", "{what}");
            assert_eq!(cfg["local_time.end_time"], "11/1/7/2", "{what}");
            assert_eq!(cfg["local_time.offset_time"], "60", "{what}");
            assert_eq!(
                cfg["remote_phonebook.data.1.url"],
                format!("{}805ec0a1b2c3-directory.xml", office.prov()),
                "{what}"
            );
        }
        let names = Documented::load("directories.txt");
        for (phone, uri) in [
            (1, "805ec0a1b2c3-directory.xml"),
            (2, "805ec0d4e5f6-directory.xml"),
        ] {
            let book = office.xml(uri, None, "YealinkIPPhoneDirectory");
            names.check(book.element_names(), uri);
            let entries: Vec<_> = book
                .all("DirectoryEntry")
                .map(|(i, _)| (book.child(i, "Name"), book.child(i, "Telephone")))
                .collect();
            check_book(&entries, phone);
        }
        // Phone 2 has one line only.
        let cfg2 = key_values(&office.get("805ec0d4e5f6.cfg", None));
        assert_eq!(cfg2["account.1.user_name"], "1003");
        assert_eq!(cfg2["account.1.password"], SECRET3);
        assert!(!cfg2.contains_key("account.2.enable"));
        // The model common file and the common boot file are deliberate 404s.
        assert!(!office.routed("y000000000028.cfg"));
        assert!(!office.routed("y000000000000.boot"));
    }
}

// ---------------------------------------------------------------------------------------------------
// Polycom

const POLYCOM: [(&str, Option<&str>, &str); 4] = [
    (
        "sip3",
        Some("FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078"),
        "polycom-sip3.txt",
    ),
    (
        "ucs",
        Some("FileTransport PolycomVVX-VVX_450-UA/6.4.6.2125 Type/Application"),
        "polycom-ucs.txt",
    ),
    (
        "trio",
        Some("FileTransport PolycomRealPresenceTrio-Trio_8800-UA/7.2.2.1094 Type/Application"),
        "polycom-ucs.txt",
    ),
    ("default", None, "polycom-ucs.txt"),
];

#[test]
fn polycom() {
    for full in [false, true] {
        let office = Office::new(
            "polycom",
            ("0004F2A1B2C3", "0004f2d4e5f6"),
            "",
            full,
            "America/New_York",
        );
        for (family, ua, list) in POLYCOM {
            let what = format!("polycom {family} (full: {full})");
            let documented = Documented::load(list);
            let master = office.xml("0004f2a1b2c3.cfg", ua, "APPLICATION");
            documented.check(master.attribute_names(), &what);
            let app = master.attributes();
            let config_files = if family == "sip3" {
                "0004f2a1b2c3-pjprov.cfg, phone1.cfg, sip.cfg"
            } else {
                "0004f2a1b2c3-pjprov.cfg"
            };
            assert_eq!(app["CONFIG_FILES"], config_files, "{what}");
            assert_eq!(
                app["APP_FILE_PATH"],
                if full { "firmware/phone.bin" } else { "sip.ld" },
                "{what}"
            );

            let body = office.get("0004f2a1b2c3-pjprov.cfg", ua);
            check_admin(&office, &body, &what, family != "sip3");
            let root = if family == "sip3" {
                "config"
            } else {
                "polycomConfig"
            };
            let config = office.xml("0004f2a1b2c3-pjprov.cfg", ua, root);
            let names: Vec<String> = config.attribute_names().map(dotted).collect();
            documented.check(names.iter().map(String::as_str), &what);
            let attrs = config.attributes();
            for (line, user, auth, secret, name, label) in LINES {
                let get = |key: &str| attrs[format!("reg.{line}.{key}").as_str()];
                assert_eq!(get("address"), user, "{what}");
                assert_eq!(get("auth.userId"), auth, "{what}");
                assert_eq!(get("auth.password"), secret, "{what}");
                assert_eq!(get("displayName"), name, "{what}");
                assert_eq!(get("label"), label, "{what}");
                assert_eq!(get("server.1.address"), SERVER, "{what}");
                assert_eq!(get("server.1.port"), PORT, "{what}");
                assert_eq!(
                    get("server.1.transport"),
                    if full { "TCPOnly" } else { "UDPOnly" },
                    "{what}"
                );
                assert_eq!(
                    get("server.1.expires"),
                    if full { "1800" } else { "3600" },
                    "{what}"
                );
                assert_eq!(
                    attrs.get(format!("reg.{line}.lineKeys").as_str()).copied(),
                    (family != "trio").then_some(if line == "1" { "2" } else { "1" }),
                    "{what}"
                );
                assert_eq!(
                    attrs
                        .get(format!("msg.mwi.{line}.callBack").as_str())
                        .copied(),
                    full.then_some("*97"),
                    "{what}"
                );
            }
            // BLF: the attendant list on UC Software only.
            let blf = attrs.get("attendant.resourceList.1.address").copied();
            let ucs = matches!(family, "ucs" | "default");
            assert_eq!(blf, (full && ucs).then_some("301"), "{what}");
            if full && ucs {
                assert_eq!(attrs["attendant.resourceList.1.label"], "Bob & Co");
                assert_eq!(attrs["attendant.resourceList.2.address"], "302");
            }
            assert_eq!(attrs["tone.dtmf.rfc2833Control"], "1", "{what}");
            assert_eq!(attrs["dialplan.digitmap"], "[0-9*#].T", "{what}");
            assert_eq!(
                attrs.get("call.directedCallPickupString").copied(),
                full.then_some("**"),
                "{what}"
            );
            assert_eq!(
                attrs["voIpProt.SIP.specialEvent.checkSync.alwaysReboot"],
                "0"
            );
            // Time: New York, second Sunday of March to first Sunday of November.
            assert_eq!(attrs["tcpIpApp.sntp.address"], office.ntp(), "{what}");
            assert_eq!(attrs["tcpIpApp.sntp.gmtOffset"], "-18000", "{what}");
            let dst = |k: &str| attrs[format!("tcpIpApp.sntp.daylightSavings.{k}").as_str()];
            assert_eq!(dst("enable"), "1");
            assert_eq!(dst("fixedDayEnable"), "0", "{what}: by weekday");
            assert_eq!(
                [
                    dst("start.month"),
                    dst("start.date"),
                    dst("start.dayOfWeek")
                ],
                ["3", "8", "1"],
                "{what}"
            );
            assert_eq!(dst("start.dayOfWeek.lastInMonth"), "0");
            assert_eq!(dst("start.time"), "2");
            assert_eq!(
                [
                    dst("stop.month"),
                    dst("stop.date"),
                    dst("stop.dayOfWeek"),
                    dst("stop.time")
                ],
                ["11", "1", "1", "2"],
                "{what}"
            );
            // No uploads: switched off where the firmware allows it.
            assert_eq!(attrs["prov.autoConfigUpload.enabled"], "0", "{what}");
            assert_eq!(attrs["dir.local.readonly"], "1", "{what}");
            assert_eq!(
                attrs["prov.polling.period"],
                office.interval("86400"),
                "{what}"
            );
            assert_eq!(
                attrs.get("lcl.ml.lang").copied(),
                full.then_some("French_France"),
                "{what}"
            );
            let server = attrs.get("device.prov.serverName").copied();
            assert_eq!(
                server,
                (family != "sip3").then(|| office.prov()).as_deref(),
                "{what}"
            );
            // The override files are served, empty.
            for overrides in ["0004f2a1b2c3-phone.cfg", "0004f2a1b2c3-web.cfg"] {
                let xml = office.xml(overrides, ua, "overrides");
                assert_eq!(xml.elements.len(), 1);
                assert!(xml.attribute_names().next().is_none());
            }
            // The directory: every line of the other phone, speed dials, and on SIP 3.x the BLFs.
            let directory = office.xml("0004f2a1b2c3-directory.xml", ua, "directory");
            Documented::load("directories.txt").check(directory.element_names(), &what);
            let items: Vec<_> = directory
                .all("item")
                .map(|(i, _)| (directory.child(i, "fn"), directory.child(i, "ct")))
                .collect();
            check_book(&items, 1);
            let speed: Vec<_> = directory.texts("sd");
            assert_eq!(speed, if full { vec!["1"] } else { vec![] }, "{what}");
            let watched = directory.texts("bw").len();
            assert_eq!(
                watched,
                if full && family == "sip3" { 2 } else { 0 },
                "{what}"
            );
        }
        let book = office.xml("0004f2d4e5f6-directory.xml", None, "directory");
        let items: Vec<_> = book
            .all("item")
            .map(|(i, _)| (book.child(i, "fn"), book.child(i, "ct")))
            .collect();
        check_book(&items, 2);
        // Deliberate 404s.
        for probe in [
            "000000000000.cfg",
            "000000000000-license.cfg",
            "0004f2a1b2c3-license.cfg",
            "000000000000-directory.xml",
            "sip.ld",
        ] {
            assert!(!office.routed(probe), "{probe}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Grandstream

#[test]
fn grandstream_p_values() {
    for (model, ua, keys) in [
        (
            "GXP1782",
            Some("Grandstream Model HW GXP1782 SW 1.0.1.133 DevId 000b82a1b2c3"),
            true,
        ),
        (
            "GXP1628",
            Some("Grandstream Model HW GXP1628 SW 1.0.7.6 DevId 000b82a1b2c3"),
            false,
        ),
        (
            "GXP2170",
            Some("Grandstream Model HW GXP2170 V1.0A SW 1.0.9.135 DevId 000b82a1b2c3"),
            false,
        ),
        ("default", None, false),
    ] {
        for full in [false, true] {
            let what = format!("grandstream {model} (full: {full})");
            let office = Office::new(
                "grandstream",
                ("000B82A1B2C3", "000b82d4e5f6"),
                "",
                full,
                "America/New_York",
            );
            let body = office.get("cfg000b82a1b2c3.xml", ua);
            check_admin(&office, &body, &what, true);
            let config = office.xml("cfg000b82a1b2c3.xml", ua, "gs_provision");
            assert_eq!(config.elements[1].name, "config");
            assert_eq!(Xml::attr(&config.elements[1], "version"), Some("1"));
            Documented::load("grandstream-pvalue.txt").check(config.element_names(), &what);
            let p = |n: &str| config.text(n, "", "").to_owned();
            let some = |n: &str| config.texts(n).first().map(|s| s.to_string());
            // Account 1 in its own numbers, account 2 in the P4xx block.
            assert_eq!(
                [
                    p("P271"),
                    p("P270"),
                    p("P3"),
                    p("P47"),
                    p("P35"),
                    p("P36"),
                    p("P34")
                ],
                [
                    "1",
                    "Alice Example",
                    "Alice Example",
                    "192.0.2.10:5070",
                    "1001",
                    "alice",
                    SECRET1
                ],
                "{what}"
            );
            assert_eq!(
                [
                    p("P401"),
                    p("P417"),
                    p("P407"),
                    p("P402"),
                    p("P404"),
                    p("P405"),
                    p("P406")
                ],
                [
                    "1",
                    "Sales Queue",
                    "Sales Queue",
                    "192.0.2.10:5070",
                    "1002",
                    "1002",
                    SECRET2
                ],
                "{what}"
            );
            assert!(
                config.all("P501").next().is_none(),
                "{what}: no third account"
            );
            let transport = if full { "1" } else { "0" };
            assert_eq!([p("P130"), p("P448")], [transport, transport], "{what}");
            let minutes = if full { "30" } else { "60" };
            assert_eq!(
                [p("P32"), p("P412")],
                [minutes, minutes],
                "{what}: expiry in minutes"
            );
            // Asterisk: keep-alive, RFC 2833 only, star codes to Asterisk, NOTIFY accepted unchallenged.
            assert_eq!([p("P52"), p("P414")], ["2", "2"], "{what}");
            assert_eq!(
                [p("P2301"), p("P2302"), p("P2303")],
                ["0", "1", "0"],
                "{what}"
            );
            assert_eq!([p("P191"), p("P420")], ["0", "0"], "{what}");
            assert_eq!([p("P26015"), p("P26115")], ["1", "1"], "{what}");
            assert_eq!(p("P4428"), "1", "{what}");
            assert_eq!(some("P1347"), full.then(|| "**".to_owned()), "{what}");
            assert_eq!(some("P33"), full.then(|| "*97".to_owned()), "{what}");
            // Time: the zone's POSIX rule.
            assert_eq!(p("P30"), office.ntp(), "{what}");
            assert_eq!(p("P64"), "customize");
            assert_eq!(p("P246"), "EST5EDT,M3.2.0,M11.1.0", "{what}");
            assert_eq!(some("P1362"), full.then(|| "fr".to_owned()), "{what}");
            // Provisioning: protocol and path without the scheme or a trailing slash.
            let url = office.prov();
            let path = url.split_once("://").unwrap().1.trim_end_matches('/');
            assert_eq!(p("P237"), path, "{what}");
            assert_eq!(p("P212"), if full { "2" } else { "1" }, "{what}");
            assert_eq!(p("P193"), office.interval("1440"), "{what}");
            assert_eq!(p("P331"), format!("{path}/000b82a1b2c3"), "{what}");
            assert_eq!(
                some("P192"),
                full.then(|| format!("{path}/firmware/phone.bin")),
                "{what}"
            );
            // Keys: the GXP17xx virtual keys, line keys then BLF then speed dial.
            let vpk: Vec<(String, String, String, String)> = (1..=6)
                .filter_map(|k| {
                    let code = |base: u32| format!("P{}", base + 2 * k);
                    Some((
                        some(&code(1361))?,
                        some(&code(1362))?,
                        some(&code(1463))?,
                        some(&code(1464))?,
                    ))
                })
                .collect();
            if keys {
                let want: Vec<(String, String, String, String)> = phone1_keys(full)
                    .into_iter()
                    .map(|(kind, line, value, label)| {
                        let mode = match kind {
                            "line" => "0",
                            "blf" => "11",
                            _ => "10",
                        };
                        let account = (line.parse::<u32>().unwrap() - 1).to_string();
                        (mode.into(), account, label.into(), value.into())
                    })
                    .collect();
                assert_eq!(vpk, want, "{what}");
            } else {
                assert!(vpk.is_empty(), "{what}: key numbers are per model");
            }
            let book = office.xml("000b82a1b2c3/phonebook.xml", ua, "AddressBook");
            Documented::load("directories.txt").check(book.element_names(), &what);
            let entries = contacts(&book);
            check_book(&entries, 1);
            let book2 = office.xml("000b82d4e5f6/phonebook.xml", ua, "AddressBook");
            check_book(&contacts(&book2), 2);
            for probe in [
                "cfg000b82a1b2c3",
                "cfg000b82a1b2c3.bin",
                "cfggxp1782.xml",
                "cfg.xml",
            ] {
                assert!(!office.routed(probe), "{probe}");
            }
        }
    }
}

fn contacts(book: &Xml) -> Vec<(&str, &str)> {
    book.all("Contact")
        .map(|(i, _)| {
            let phone = book
                .all("Phone")
                .find(|(_, e)| e.parent == Some(i))
                .unwrap()
                .0;
            (book.child(i, "FirstName"), book.child(phone, "phonenumber"))
        })
        .collect()
}

#[test]
fn grandstream_aliases() {
    for ua in [
        "Grandstream Model HW GXP2170 SW 1.0.11.85 DevId 000b82a1b2c3",
        "Grandstream Model HW GRP2614 SW 1.0.5.15 DevId 000b82a1b2c3",
    ] {
        for full in [false, true] {
            let what = format!("{ua} (full: {full})");
            let office = Office::new(
                "grandstream",
                ("000B82A1B2C3", "000b82d4e5f6"),
                "",
                full,
                "America/New_York",
            );
            let body = office.get("cfg000b82a1b2c3.xml", Some(ua));
            check_admin(&office, &body, &what, true);
            let config = office.xml("cfg000b82a1b2c3.xml", Some(ua), "gs_provision");
            assert_eq!(Xml::attr(&config.elements[1], "version"), Some("2"));
            let names: Vec<String> = config
                .all("item")
                .map(|(_, e)| dotted(Xml::attr(e, "name").unwrap()))
                .chain(config.element_names().map(str::to_owned))
                .collect();
            Documented::load("grandstream-alias.txt")
                .check(names.iter().map(String::as_str), &what);
            let item = |name: &str| config.text("item", "name", name).to_owned();
            let items = |name: &str| {
                config
                    .all("item")
                    .filter(|(_, e)| Xml::attr(e, "name") == Some(name))
                    .map(|(_, e)| e.text.trim().to_owned())
                    .collect::<Vec<_>>()
            };
            for (line, user, auth, secret, name, label) in LINES {
                let get = |key: &str| item(&format!("account.{line}.{key}"));
                assert_eq!(get("enable"), "Yes");
                assert_eq!(get("sip.userid"), user, "{what}");
                assert_eq!(get("sip.subscriber.userid"), auth, "{what}");
                assert_eq!(get("sip.subscriber.password"), secret, "{what}");
                assert_eq!(get("sip.subscriber.name"), name, "{what}");
                assert_eq!(get("name"), label, "{what}");
                assert_eq!(get("sip.server.1.address"), format!("{SERVER}:{PORT}"));
                assert_eq!(
                    get("sip.transport"),
                    if full { "TCP" } else { "UDP" },
                    "{what}"
                );
                assert_eq!(
                    get("sip.registerExpiration"),
                    if full { "30" } else { "60" }
                );
                assert_eq!(get("network.natTraversal"), "KeepAlive");
                assert_eq!(get("dtmf.sendInRtp"), "Yes");
                assert_eq!(
                    get("featureCodes.callFeatures"),
                    "No",
                    "{what}: star codes to Asterisk"
                );
                assert_eq!(get("sip.allowSipReset"), "Yes", "{what}");
            }
            assert!(items("account.3.enable").is_empty());
            for (index, (kind, line, value, label)) in phone1_keys(full).into_iter().enumerate() {
                let key = |field: &str| item(&format!("pks.vpk.{}.{field}", index + 1));
                let mode = match kind {
                    "line" => "Line",
                    "blf" => "BLF",
                    _ => "SpeedDial",
                };
                let account = (line.parse::<u32>().unwrap() - 1).to_string();
                assert_eq!(
                    [
                        key("keyMode"),
                        key("account"),
                        key("description"),
                        key("value")
                    ],
                    [mode, account.as_str(), label, value],
                    "{what}"
                );
            }
            assert_eq!(item("sip.notify.challenge"), "No");
            assert_eq!(item("dateTime.ntp.server.1"), office.ntp());
            assert_eq!(item("dateTime.timezone"), "customize");
            assert_eq!(item("dateTime.timezone.custom"), "EST5EDT,M3.2.0,M11.1.0");
            assert_eq!(
                items("language.gui"),
                if full { vec!["fr"] } else { vec![] }
            );
            let url = office.prov();
            let path = url.split_once("://").unwrap().1.trim_end_matches('/');
            assert_eq!(item("provisioning.config.serverPath"), path, "{what}");
            assert_eq!(
                item("provisioning.config.protocol"),
                if full { "HTTPS" } else { "HTTP" }
            );
            assert_eq!(item("provisioning.auto.minute"), office.interval("1440"));
            assert_eq!(
                item("phonebook.download.server"),
                format!("{path}/000b82a1b2c3")
            );
            assert_eq!(
                items("users.admin.password"),
                if full { vec![ADMIN] } else { vec![] },
                "{what}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Fanvil

#[test]
fn fanvil() {
    for (family, ua) in [
        ("sysconf", Some("Fanvil X6U Pro 0.0.10 0c383ea1b2c3")),
        ("legacy", Some("Fanvil X4 2.10.2.6887 0c383ea1b2c3")),
        ("sysconf", None),
    ] {
        for full in [false, true] {
            let what = format!("fanvil {family} {ua:?} (full: {full})");
            let office = Office::new(
                "fanvil",
                ("0C383EA1B2C3", "0c383ed4e5f6"),
                "",
                full,
                "America/New_York",
            );
            let list = Documented::load(&format!("fanvil-{family}.txt"));
            // The model common file, for any model's name: where the phone's own file is, joined with one
            // "/" by the phone.
            for common in ["F0V00X600000.cfg", "f0X4hw1.100.cfg", "F0V5UV200000.cfg"] {
                let body = office.get(common, ua);
                assert!(
                    !body.contains(SECRET1) && !body.contains(ADMIN),
                    "{what}: shared"
                );
                let xml = Xml::parse(&body).unwrap();
                list.check(xml.element_names(), &what);
                check_server_split(&office, &xml, family, &what);
            }
            let body = office.get("0c383ea1b2c3.cfg", ua);
            check_admin(&office, &body, &what, true);
            let root = if family == "legacy" {
                "VOIP_CONFIG_FILE"
            } else {
                "sysConf"
            };
            let config = office.xml("0c383ea1b2c3.cfg", ua, root);
            list.check(config.element_names(), &what);
            check_server_split(&office, &config, family, &what);
            let names = |sysconf: &'static str, legacy: &'static str| {
                if family == "legacy" { legacy } else { sysconf }
            };
            let line_element = names("line", "SIP_Line_List_Entry");
            let lines: Vec<usize> = config.all(line_element).map(|(i, _)| i).collect();
            assert_eq!(lines.len(), 2, "{what}");
            for ((_, user, auth, secret, name, _), at) in LINES.into_iter().zip(lines) {
                let get = |s: &'static str, l: &'static str| config.child(at, names(s, l));
                assert_eq!(get("EnableReg", "Enable_Reg"), "1");
                assert_eq!(get("PhoneNumber", "Phone_Number"), user, "{what}");
                assert_eq!(get("RegisterUser", "Register_User"), auth, "{what}");
                assert_eq!(get("RegisterPswd", "Register_Pswd"), secret, "{what}");
                assert_eq!(get("DisplayName", "Display_Name"), name, "{what}");
                assert_eq!(get("RegisterAddr", "Register_Addr"), SERVER);
                assert_eq!(get("RegisterPort", "Register_Port"), PORT);
                assert_eq!(get("Transport", "Transport"), if full { "1" } else { "0" });
                assert_eq!(
                    get("RegisterTTL", "Register_TTL"),
                    if full { "1800" } else { "60" }
                );
                assert_eq!(get("DTMFMode", "DTMF_Mode"), "1", "{what}: RFC 2833");
            }
            let key_element = names("Fkey", "Function_Key_Entry");
            let keys: Vec<(String, String, String)> = config
                .all(key_element)
                .map(|(i, _)| {
                    (
                        config.child(i, "Type").to_owned(),
                        config.child(i, "Value").to_owned(),
                        config.child(i, "Title").to_owned(),
                    )
                })
                .collect();
            let want: Vec<(String, String, String)> = phone1_keys(full)
                .into_iter()
                .map(|(kind, line, value, label)| match kind {
                    "line" => ("2".into(), format!("SIP{line}"), label.into()),
                    "blf" => (
                        "1".into(),
                        format!("{value}@{line}/ba**{value}"),
                        label.into(),
                    ),
                    _ => ("1".into(), format!("{value}@{line}/f"), label.into()),
                })
                .collect();
            assert_eq!(keys, want, "{what}");
            let get =
                |s: &'static str, l: &'static str| config.text(names(s, l), "", "").to_owned();
            assert_eq!(get("SNTPServer", "SNTP_Server"), office.ntp());
            assert_eq!(get("TimeZone", "Time_Zone"), "-20", "{what}: quarter hours");
            assert_eq!(get("TimeZoneName", "Time_Zone_Name"), "UTC-5");
            assert_eq!(get("EnableDST", "Enable_DST"), "2");
            let start = [
                get("DSTStartMon", "DST_Start_Mon"),
                get("DSTStartWeek", "DST_Start_Week"),
                get("DSTStartWday", "DST_Start_Wday"),
                get("DSTStartHour", "DST_Start_Hour"),
            ];
            assert_eq!(start, ["3", "2", "0", "2"], "{what}");
            let end = [
                get("DSTEndMon", "DST_End_Mon"),
                get("DSTEndWeek", "DST_End_Week"),
                get("DSTEndWday", "DST_End_Wday"),
                get("DSTEndHour", "DST_End_Hour"),
            ];
            assert_eq!(end, ["11", "1", "0", "2"], "{what}");
            if family == "sysconf" {
                assert_eq!(get("FlashInterval", ""), office.interval("1"));
                assert_eq!(get("DownloadCommonConf", ""), "0");
                assert_eq!(
                    get("Addr", ""),
                    format!("{}0c383ea1b2c3-directory.xml", office.prov())
                );
                assert_eq!(
                    config.texts("SelectYourTone"),
                    if full { vec!["25"] } else { vec![] }
                );
            }
            let firmware = config.texts("Auto_Image_URL");
            let want_firmware = format!("{}firmware/phone.bin", office.prov());
            assert_eq!(
                firmware,
                if full {
                    vec![want_firmware.as_str()]
                } else {
                    vec![]
                },
                "{what}"
            );
            let book = office.xml("0c383ea1b2c3-directory.xml", ua, "FanvilIPPhoneDirectory");
            Documented::load("directories.txt").check(book.element_names(), &what);
            let entries: Vec<_> = book
                .all("DirectoryEntry")
                .map(|(i, _)| (book.child(i, "Name"), book.child(i, "Telephone")))
                .collect();
            check_book(&entries, 1);
        }
    }
}

/// The server field has no trailing slash, the file field no leading one, and the phone's join of the
/// two is this directory's MAC file, with no `//`.
fn check_server_split(office: &Office, xml: &Xml, family: &str, what: &str) {
    let (server, file) = if family == "legacy" {
        ("Download_Server_IP", "Config_File_Name")
    } else {
        ("FlashServerIP", "FlashFileName")
    };
    let server = xml.text(server, "", "");
    let file = xml.text(file, "", "");
    assert!(
        !server.ends_with('/') && !file.starts_with('/'),
        "{what}: {server} {file}"
    );
    let joined = format!("{server}/{}", file.replace("$mac", "0c383ea1b2c3"));
    assert_eq!(
        joined,
        format!("{}0c383ea1b2c3.cfg", office.prov()),
        "{what}"
    );
    assert!(
        !joined.split_once("://").unwrap().1.contains("//"),
        "{what}"
    );
}

// ---------------------------------------------------------------------------------------------------
// Snom

#[test]
fn snom() {
    for (family, model, ua) in [
        (
            "desk",
            "D785",
            Some(
                "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413A1B2C3 SXM:0 UXM:0)",
            ),
        ),
        (
            "desk",
            "D345",
            Some("Mozilla/4.0 (compatible; snomD345-SIP 10.1.54.13 000413A1B2C3)"),
        ),
        (
            "dect",
            "M900",
            Some("Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413a1b2c3)"),
        ),
        ("desk", "D785", None),
    ] {
        for full in [false, true] {
            let what = format!("snom {model} {ua:?} (full: {full})");
            let office = Office::new(
                "snom",
                ("000413A1B2C3", "000413d4e5f6"),
                "",
                full,
                "America/New_York",
            );
            let list = Documented::load(if family == "dect" {
                "snom-dect.txt"
            } else {
                "snom.txt"
            });
            // Any model: the shared model file points setting_server at the phone's own file...
            let shared = office.get(&format!("snom{model}.htm"), ua);
            assert!(
                !shared.contains(SECRET1) && !shared.contains(ADMIN),
                "{what}: shared"
            );
            let settings = Xml::parse(&shared).unwrap();
            list.check(settings.element_names(), &what);
            assert_eq!(
                settings.text("setting_server", "", ""),
                format!("{}{{mac}}.xml", office.prov())
            );
            // ...and the per-phone list, for any model too, names it.
            let htm = office.xml(
                &format!("snom{model}-000413A1B2C3.htm"),
                ua,
                "setting-files",
            );
            list.check(htm.element_names(), &what);
            let file = htm.all("file").next().unwrap().1;
            assert_eq!(
                Xml::attr(file, "url"),
                Some(format!("{}000413A1B2C3.xml", office.prov()).as_str()),
                "{what}"
            );
            let body = office.get("000413A1B2C3.xml", ua);
            check_admin(&office, &body, &what, true);
            let settings = office.xml("000413A1B2C3.xml", ua, "settings");
            list.check(settings.element_names(), &what);
            let get = |name: &str, line: &str| settings.text(name, "idx", line).to_owned();
            for (line, user, auth, secret, name, label) in LINES {
                assert_eq!(get("user_active", line), "on");
                assert_eq!(get("user_name", line), user, "{what}");
                assert_eq!(get("user_pname", line), auth, "{what}");
                assert_eq!(get("user_pass", line), secret, "{what}");
                assert_eq!(get("user_realname", line), name, "{what}");
                if family == "dect" {
                    assert_eq!(get("subscr_sip_line_name", line), label, "{what}");
                    assert_eq!(get("subscr_sip_hs_idx", line), line, "{what}");
                } else {
                    assert_eq!(get("user_idle_text", line), label, "{what}");
                    assert_eq!(get("user_host", line), format!("{SERVER}:{PORT}"));
                    let transport = if full { "tcp" } else { "udp" };
                    assert_eq!(
                        get("user_outbound", line),
                        format!("{SERVER}:{PORT};transport={transport}")
                    );
                    assert_eq!(get("user_dtmf_info", line), "off", "{what}: RFC 2833");
                }
            }
            let one = |name: &str| settings.text(name, "", "").to_owned();
            assert_eq!(
                one("setting_server"),
                format!("{}{{mac}}.xml", office.prov())
            );
            assert_eq!(one("ntp_server"), office.ntp());
            if family == "dect" {
                assert_eq!(get("user_host", "1"), format!("{SERVER}:{PORT}"));
                // New York: second and first Sundays (day of week 1 = Sunday).
                assert_eq!(
                    [
                        one("dst_start_month"),
                        one("dst_start_day_of_week"),
                        one("dst_start_wday_last_in_month"),
                        one("dst_start_time")
                    ],
                    ["3", "1", "2", "2"],
                    "{what}"
                );
                assert_eq!(
                    [
                        one("dst_stop_month"),
                        one("dst_stop_day_of_week"),
                        one("dst_stop_wday_last_in_month"),
                        one("dst_stop_time")
                    ],
                    ["11", "1", "1", "2"],
                    "{what}"
                );
                assert!(settings.all("fkey").next().is_none());
            } else {
                assert_eq!(one("challenge_response"), "off", "{what}");
                assert_eq!(one("filter_registrar"), "on", "{what}");
                assert_eq!(one("settings_refresh_timer"), office.interval("86400"));
                assert_eq!(one("utc_offset"), "-18000");
                assert_eq!(
                    one("dst"),
                    "3600 03.02.07 02:00:00 11.01.07 02:00:00",
                    "{what}"
                );
                let fkeys: Vec<(String, String, String)> = settings
                    .all("fkey")
                    .map(|(_, e)| {
                        (
                            Xml::attr(e, "idx").unwrap().to_owned(),
                            Xml::attr(e, "label").unwrap().to_owned(),
                            e.text.trim().to_owned(),
                        )
                    })
                    .collect();
                let want: Vec<(String, String, String)> = phone1_keys(full)
                    .into_iter()
                    .enumerate()
                    .map(|(i, (kind, _, value, label))| {
                        let text = match kind {
                            "line" => "line".to_owned(),
                            "blf" => format!("blf {value}|**"),
                            _ => format!("speed {value}"),
                        };
                        (i.to_string(), label.to_owned(), text)
                    })
                    .collect();
                assert_eq!(fkeys, want, "{what}");
                let entries: Vec<_> = settings
                    .all("item")
                    .map(|(i, _)| (settings.child(i, "name"), settings.child(i, "number")))
                    .collect();
                check_book(&entries, 1);
                assert_eq!(
                    settings.texts("firmware_status"),
                    if full && ua.is_some() {
                        vec![format!("{}snom{model}-firmware.xml", office.prov())]
                    } else {
                        vec![]
                    }
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                    "{what}"
                );
            }
            assert_eq!(
                settings.texts("language"),
                if full { vec!["Français"] } else { vec![] },
                "{what}"
            );
            // The firmware file, for any model.
            let firmware = office.xml(
                &format!("snom{model}-firmware.xml"),
                ua,
                "firmware-settings",
            );
            list.check(firmware.element_names(), &what);
            let want = format!("{}firmware/phone.bin", office.prov());
            assert_eq!(
                firmware.texts("firmware"),
                if full { vec![want.as_str()] } else { vec![] }
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Cisco

#[test]
fn cisco() {
    for (family, ua) in [
        (
            "spa",
            Some("Cisco/SPA504G-7.6.2f (0002FDA1B2C3)(CBT141400UK)"),
        ),
        ("mpp", Some("Cisco-CP-8841-3PCC/11.3.1 (00562ba1b2c3)")),
        ("mpp", None),
    ] {
        for full in [false, true] {
            let what = format!("cisco {family} {ua:?} (full: {full})");
            let office = Office::new(
                "cisco",
                ("00562BA1B2C3", "00562bd4e5f6"),
                "",
                full,
                "America/New_York",
            );
            let list = Documented::load("cisco.txt");
            // The first stage, under every name a factory phone may ask for.
            for first in [
                "spa504G.cfg",
                "spa525G2.cfg",
                "spa112.cfg",
                "8841-3PCC.xml",
                "CP-8841-3PCC.xml",
                "CP-8841-3PCC.cfg",
                "8841.xml",
                "6851.xml",
            ] {
                let body = office.get(first, ua);
                assert!(
                    !body.contains(SECRET1) && !body.contains(ADMIN),
                    "{what}: shared"
                );
                let profile = Xml::parse(&body).unwrap();
                assert_eq!(profile.root(), "flat-profile");
                let names: Vec<String> = profile.element_names().map(documented::cisco).collect();
                list.check(names.iter().map(String::as_str), &what);
                assert_eq!(
                    profile.text("Profile_Rule_B", "", ""),
                    format!("{}$MA.xml", office.prov()),
                    "{what}: {first}"
                );
            }
            for uri in ["00562ba1b2c3.xml", "spa00562ba1b2c3.xml"] {
                let body = office.get(uri, ua);
                check_admin(&office, &body, &what, true);
                let profile = office.xml(uri, ua, "flat-profile");
                let names: Vec<String> = profile.element_names().map(documented::cisco).collect();
                list.check(names.iter().map(String::as_str), &what);
                let get = |name: &str| profile.text(name, "", "").to_owned();
                for (line, user, auth, secret, name, _) in LINES {
                    assert_eq!(get(&format!("Line_Enable_{line}_")), "Yes");
                    assert_eq!(get(&format!("User_ID_{line}_")), user, "{what}");
                    assert_eq!(get(&format!("Auth_ID_{line}_")), auth, "{what}");
                    assert_eq!(get(&format!("Use_Auth_ID_{line}_")), "Yes");
                    assert_eq!(get(&format!("Password_{line}_")), secret, "{what}");
                    assert_eq!(get(&format!("Display_Name_{line}_")), name, "{what}");
                    assert_eq!(get(&format!("Proxy_{line}_")), format!("{SERVER}:{PORT}"));
                    assert_eq!(
                        get(&format!("SIP_Transport_{line}_")),
                        if full { "TCP" } else { "UDP" }
                    );
                    assert_eq!(get(&format!("DTMF_Tx_Method_{line}_")), "AVT");
                    assert_eq!(get(&format!("Auth_Resync-Reboot_{line}_")), "No", "{what}");
                }
                assert!(profile.all("Line_Enable_3_").next().is_none());
                for (index, (kind, line, value, label)) in phone1_keys(full).into_iter().enumerate()
                {
                    let n = index + 1;
                    assert_eq!(get(&format!("Short_Name_{n}_")), label, "{what}");
                    match kind {
                        "line" => assert_eq!(get(&format!("Extension_{n}_")), line),
                        "blf" => assert_eq!(
                            get(&format!("Extended_Function_{n}_")),
                            format!("fnc=blf+sd+cp;sub={value}@{SERVER};nme={label}")
                        ),
                        _ => assert_eq!(
                            get(&format!("Extended_Function_{n}_")),
                            format!("fnc=sd;ext={value}@{SERVER};nme={label}")
                        ),
                    }
                }
                // Star codes go to Asterisk.
                assert_eq!(get("Cfwd_All_Act_Code"), "");
                assert_eq!(get("Call_Pickup_Code"), if full { "**" } else { "" });
                let admin = if family == "spa" {
                    "Admin_Passwd"
                } else {
                    "Admin_Password"
                };
                assert_eq!(
                    profile.texts(admin),
                    if full { vec![ADMIN] } else { vec![] },
                    "{what}"
                );
                assert_eq!(get("Primary_NTP_Server"), office.ntp());
                assert_eq!(get("Time_Zone"), "GMT-05:00");
                assert_eq!(get("Daylight_Saving_Time_Enable"), "Yes");
                assert_eq!(
                    get("Daylight_Saving_Time_Rule"),
                    "start=3/8/7/2:00:00;end=11/1/7/2:00:00;save=1",
                    "{what}"
                );
                assert_eq!(get("Profile_Rule"), format!("{}$MA.xml", office.prov()));
                assert_eq!(
                    get("Profile_Rule_B"),
                    "",
                    "{what}: the first stage is not asked again"
                );
                assert_eq!(get("Resync_Periodic"), office.interval("86400"));
                assert_eq!(
                    get("XML_Directory_Service_URL"),
                    format!("{}00562ba1b2c3-directory.xml", office.prov())
                );
                assert_eq!(
                    profile.texts("Upgrade_Rule"),
                    if full {
                        vec![format!("{}firmware/phone.bin", office.prov())]
                    } else {
                        vec![]
                    }
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                );
                assert_eq!(
                    profile.texts("Language_Selection"),
                    if full { vec!["French"] } else { vec![] }
                );
            }
            let book = office.xml("00562ba1b2c3-directory.xml", ua, "CiscoIPPhoneDirectory");
            Documented::load("directories.txt").check(book.element_names(), &what);
            let entries: Vec<_> = book
                .all("DirectoryEntry")
                .map(|(i, _)| (book.child(i, "Name"), book.child(i, "Telephone")))
                .collect();
            check_book(&entries, 1);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Time zones, labels, and what every shared file must not carry

/// One zone and what each format must say about it ("" for a setting that must not be written).
struct Zone {
    name: &'static str,
    /// Yealink time_zone, dst_time_type, start_time, end_time, offset_time.
    yealink: [&'static str; 5],
    /// Polycom gmtOffset, fixedDayEnable, then start and stop (month, date, dayOfWeek, lastInMonth, time).
    polycom: [&'static str; 12],
    /// Snom utc_offset and dst.
    snom: [&'static str; 2],
    /// Cisco Time_Zone and DST rule.
    cisco: [&'static str; 2],
    /// Fanvil TimeZone, TimeZoneName, then (month, week, weekday, hour) of the start and of the end.
    fanvil: [&'static str; 10],
    /// Grandstream POSIX rule.
    posix: &'static str,
}

const ZONES: [Zone; 8] = [
    Zone {
        name: "Europe/Berlin",
        yealink: ["+1", "1", "3/5/7/2", "10/5/7/3", "60"],
        polycom: [
            "3600", "0", "3", "22", "1", "1", "2", "10", "22", "1", "1", "3",
        ],
        snom: ["3600", "3600 03.05.07 02:00:00 10.05.07 03:00:00"],
        cisco: [
            "GMT+01:00",
            "start=3/-1/7/2:00:00;end=10/-1/7/3:00:00;save=1",
        ],
        fanvil: ["4", "UTC+1", "3", "5", "0", "2", "10", "5", "0", "3"],
        posix: "CET-1CEST,M3.5.0,M10.5.0/3",
    },
    Zone {
        name: "Asia/Kolkata",
        yealink: ["+5:30", "", "", "", ""],
        polycom: ["19800", "", "", "", "", "", "", "", "", "", "", ""],
        snom: ["19800", ""],
        cisco: ["GMT+05:30", ""],
        fanvil: ["22", "UTC+5:30", "", "", "", "", "", "", "", ""],
        posix: "IST-5:30",
    },
    Zone {
        name: "Asia/Kathmandu",
        yealink: ["+5:45", "", "", "", ""],
        polycom: ["20700", "", "", "", "", "", "", "", "", "", "", ""],
        snom: ["20700", ""],
        cisco: ["GMT+05:45", ""],
        fanvil: ["23", "UTC+5:45", "", "", "", "", "", "", "", ""],
        posix: "<+0545>-5:45",
    },
    Zone {
        name: "America/St_Johns",
        yealink: ["-3:30", "1", "3/2/7/2", "11/1/7/2", "60"],
        polycom: [
            "-12600", "0", "3", "8", "1", "0", "2", "11", "1", "1", "0", "2",
        ],
        snom: ["-12600", "3600 03.02.07 02:00:00 11.01.07 02:00:00"],
        cisco: ["GMT-03:30", "start=3/8/7/2:00:00;end=11/1/7/2:00:00;save=1"],
        fanvil: ["-14", "UTC-3:30", "3", "2", "0", "2", "11", "1", "0", "2"],
        posix: "NST3:30NDT,M3.2.0,M11.1.0",
    },
    Zone {
        name: "Pacific/Auckland",
        yealink: ["+12", "1", "9/5/7/2", "4/1/7/3", "60"],
        polycom: [
            "43200", "0", "9", "22", "1", "1", "2", "4", "1", "1", "0", "3",
        ],
        snom: ["43200", "3600 09.05.07 02:00:00 04.01.07 03:00:00"],
        cisco: ["GMT+12:00", "start=9/-1/7/2:00:00;end=4/1/7/3:00:00;save=1"],
        fanvil: ["48", "UTC+12", "9", "5", "0", "2", "4", "1", "0", "3"],
        posix: "NZST-12NZDT,M9.5.0,M4.1.0/3",
    },
    // Standard time IST and a negative "DST" in the zone file: phones get GMT and summer time.
    Zone {
        name: "Europe/Dublin",
        yealink: ["0", "1", "3/5/7/1", "10/5/7/2", "60"],
        polycom: [
            "0", "0", "3", "22", "1", "1", "1", "10", "22", "1", "1", "2",
        ],
        snom: ["0", "3600 03.05.07 01:00:00 10.05.07 02:00:00"],
        cisco: [
            "GMT+00:00",
            "start=3/-1/7/1:00:00;end=10/-1/7/2:00:00;save=1",
        ],
        fanvil: ["0", "UTC", "3", "5", "0", "1", "10", "5", "0", "2"],
        posix: "IST-1GMT0,M10.5.0,M3.5.0/1",
    },
    // Israel starts DST at 02:00 on the day after the fourth Thursday of March (M3.4.4/26): no week
    // form says that; Cisco's "on or after" form does, the others get the dates of the next changes
    // (Asterisk's: 2027-03-26 and 2026-10-25 seen from NOW).
    Zone {
        name: "Asia/Jerusalem",
        yealink: ["+2", "0", "3/26/2", "10/25/2", "60"],
        polycom: ["7200", "1", "3", "26", "", "", "2", "10", "25", "", "", "2"],
        snom: ["7200", "3600 26.03 02:00:00 25.10 02:00:00"],
        cisco: [
            "GMT+02:00",
            "start=3/23/5/2:00:00;end=10/-1/7/2:00:00;save=1",
        ],
        fanvil: ["8", "UTC+2", "3", "5", "5", "2", "10", "5", "0", "2"],
        posix: "IST-2IDT,M3.4.4/26,M10.5.0",
    },
    // Lord Howe moves its clock by 30 minutes.
    Zone {
        name: "Australia/Lord_Howe",
        yealink: ["+10:30", "1", "10/1/7/2", "4/1/7/2", "30"],
        polycom: [
            "37800", "0", "10", "1", "1", "0", "2", "4", "1", "1", "0", "2",
        ],
        snom: ["37800", "1800 10.01.07 02:00:00 04.01.07 02:00:00"],
        cisco: [
            "GMT+10:30",
            "start=10/1/7/2:00:00;end=4/1/7/2:00:00;save=0:30",
        ],
        fanvil: ["42", "UTC+10:30", "10", "1", "0", "2", "4", "1", "0", "2"],
        posix: "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
    },
];

/// The zones above in every format that writes the offset or the daylight saving rule itself: the rule,
/// in weekday form, is what stays right across years (the zone rules themselves are checked against the
/// system's zone files in `pjprov-core`'s `tz` tests).
#[test]
fn time_zones() {
    for zone in &ZONES {
        let name = zone.name;
        let at =
            |vendor: &'static str, macs: (&str, &str)| Office::new(vendor, macs, "", false, name);

        let office = at("yealink", ("805ec0a1b2c3", "805ec0d4e5f6"));
        let cfg = key_values(&office.get("805ec0a1b2c3.cfg", None));
        let get = |k: &str| {
            cfg.get(&format!("local_time.{k}"))
                .map_or("", String::as_str)
        };
        assert_eq!(
            [
                get("time_zone"),
                get("dst_time_type"),
                get("start_time"),
                get("end_time"),
                get("offset_time")
            ],
            zone.yealink,
            "yealink {name}"
        );
        assert_eq!(
            get("summer_time"),
            if zone.yealink[1].is_empty() { "0" } else { "1" }
        );

        let office = at("polycom", ("0004f2a1b2c3", "0004f2d4e5f6"));
        let config = office.xml("0004f2a1b2c3-pjprov.cfg", None, "polycomConfig");
        let attrs = config.attributes();
        let dst = |k: &str| {
            attrs
                .get(format!("tcpIpApp.sntp.daylightSavings.{k}").as_str())
                .copied()
                .unwrap_or("")
        };
        let polycom = [
            attrs["tcpIpApp.sntp.gmtOffset"],
            dst("fixedDayEnable"),
            dst("start.month"),
            dst("start.date"),
            dst("start.dayOfWeek"),
            dst("start.dayOfWeek.lastInMonth"),
            dst("start.time"),
            dst("stop.month"),
            dst("stop.date"),
            dst("stop.dayOfWeek"),
            dst("stop.dayOfWeek.lastInMonth"),
            dst("stop.time"),
        ];
        assert_eq!(polycom, zone.polycom, "polycom {name}");

        let office = at("snom", ("000413a1b2c3", "000413d4e5f6"));
        let settings = office.xml("000413A1B2C3.xml", None, "settings");
        let snom = [
            settings.text("utc_offset", "", ""),
            settings.text("dst", "", ""),
        ];
        assert_eq!(snom, zone.snom, "snom {name}");

        let office = at("cisco", ("00562ba1b2c3", "00562bd4e5f6"));
        let profile = office.xml("00562ba1b2c3.xml", None, "flat-profile");
        let rule = profile.texts("Daylight_Saving_Time_Rule");
        let cisco = [
            profile.text("Time_Zone", "", ""),
            rule.first().copied().unwrap_or(""),
        ];
        assert_eq!(cisco, zone.cisco, "cisco {name}");

        let office = at("fanvil", ("0c383ea1b2c3", "0c383ed4e5f6"));
        let config = office.xml("0c383ea1b2c3.cfg", None, "sysConf");
        let get = |n: &str| config.texts(n).first().copied().unwrap_or("");
        let fanvil = [
            "TimeZone",
            "TimeZoneName",
            "DSTStartMon",
            "DSTStartWeek",
            "DSTStartWday",
            "DSTStartHour",
            "DSTEndMon",
            "DSTEndWeek",
            "DSTEndWday",
            "DSTEndHour",
        ]
        .map(get);
        assert_eq!(fanvil, zone.fanvil, "fanvil {name}");

        let office = at("grandstream", ("000b82a1b2c3", "000b82d4e5f6"));
        let config = office.xml("cfg000b82a1b2c3.xml", None, "gs_provision");
        assert_eq!(
            config.text("P246", "", ""),
            zone.posix,
            "grandstream {name}"
        );
    }
}

/// LINE_LABEL chooses what accounts and keys show; Asterisk's LABEL only when asked for.
#[test]
fn labels() {
    for (setting, want) in [("number", ["1001", "1002"]), ("label", ["desk-1", "Sales"])] {
        let extra = format!("LINE_LABEL = {setting}\n");
        let office = Office::new(
            "yealink",
            ("805ec0a1b2c3", "805ec0d4e5f6"),
            &extra,
            false,
            "UTC",
        );
        let cfg = key_values(&office.get("805ec0a1b2c3.cfg", None));
        // LINE_LABEL is set on line 1 only: line 2 keeps the default (its display name).
        assert_eq!(cfg["account.1.label"], want[0], "{setting}");
        assert_eq!(cfg["account.2.label"], "Sales Queue", "{setting}");
        assert_eq!(cfg["linekey.1.label"], want[0], "{setting}");
        let _ = want[1];
        let office = Office::new(
            "cisco",
            ("00562ba1b2c3", "00562bd4e5f6"),
            &extra,
            false,
            "UTC",
        );
        let profile = office.xml("00562ba1b2c3.xml", None, "flat-profile");
        assert_eq!(profile.text("Short_Name_1_", "", ""), want[0], "{setting}");
    }
}

/// Files routed without a MAC (first stages, model files) are the same for every phone of the profile:
/// they must hold nothing of any one phone.
#[test]
fn shared_files_hold_no_secret() {
    for (vendor, macs, names) in [
        (
            "cisco",
            ("00562ba1b2c3", "00562bd4e5f6"),
            &["spa504G.cfg", "8841-3PCC.xml", "7841.xml"][..],
        ),
        (
            "snom",
            ("000413a1b2c3", "000413d4e5f6"),
            &["snomD785.htm", "snomM900.htm", "snomD785-firmware.xml"][..],
        ),
        (
            "fanvil",
            ("0c383ea1b2c3", "0c383ed4e5f6"),
            &["F0V00X600000.cfg"][..],
        ),
    ] {
        let office = Office::new(vendor, macs, "", true, "UTC");
        for name in names {
            let body = office.get(name, None);
            for secret in [SECRET1, SECRET2, SECRET3, ADMIN, "alice", "sales-pw"] {
                assert!(!body.contains(secret), "{vendor}: {name} holds {secret}");
            }
        }
        let sample =
            std::fs::read_to_string(repo_templates().join(vendor).join("phoneprov.conf.sample"))
                .unwrap();
        assert!(!sample.is_empty());
    }
}
