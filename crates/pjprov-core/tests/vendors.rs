//! pjprov's own phone templates (`templates/<vendor>/` at the top of the repository).
//!
//! For each vendor, a configuration is built from the vendor's `phoneprov.conf.sample` as it is, with two
//! phones of that vendor (one with two lines) and a copy of its templates, then every route is rendered.
//! The files must be well formed (XML parsed with quick-xml, key = value files line by line), carry every
//! line with its SIP user, auth user, password, server, port and display name, the time zone, NTP and the
//! phone book where the format has one, and render without any strict-mode issue. A second run adds the
//! optional setvars the samples document and checks that each one lands where it should.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pjprov_core::{BuildOptions, Paths, Snapshot, Target};
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

/// "Now" for the time zone variables: New York is on standard time, DST starts 2027-03-14.
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
    ]
}

fn repo_templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates")
}

/// pjsip.conf: a transport, phone 1 (`mac1`) with lines 1001 and 1002, phone 2 (`mac2`) with line 1003.
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
         TIMEZONE = {zone}\n{phone1_extra}\n\
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

/// One rendered configuration: every route's body, and the variables the files were made from.
struct Run {
    bodies: BTreeMap<String, String>,
    /// The first line's variables of phone 1 (time zone values).
    vars: BTreeMap<String, String>,
    /// Whether the optional setvars were added.
    full: bool,
}

impl Run {
    fn body(&self, uri: &str) -> &str {
        self.bodies
            .get(uri)
            .unwrap_or_else(|| panic!("no route {uri}; routes: {:?}", self.bodies.keys()))
    }

    fn var(&self, name: &str) -> &str {
        self.vars.get(name).map_or("", String::as_str)
    }

    /// The URL the templates use for this directory.
    fn prov(&self, vendor: &str) -> String {
        if self.full {
            setvars(vendor)
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
}

/// Builds the configuration of `vendor` (its sample as phoneprov.conf, plus `setvars` when `full`) with
/// every line in New York, and renders every route, checking what holds for every vendor.
fn run(vendor: &str, mac1: &str, mac2: &str, phone1_extra: &str, full: bool) -> Run {
    let run = run_in(vendor, mac1, mac2, phone1_extra, full, "America/New_York");
    // Asterisk's values for New York (the hours are those on the clock after each change); the
    // templates must turn them into 2 a.m. on 2027-03-14 and 2 a.m. on 2026-11-01.
    let tz: Vec<&str> = [
        "TZOFFSET",
        "DST_ENABLE",
        "DST_START_MONTH",
        "DST_START_MDAY",
    ]
    .into_iter()
    .chain([
        "DST_START_HOUR",
        "DST_END_MONTH",
        "DST_END_MDAY",
        "DST_END_HOUR",
    ])
    .map(|n| run.var(n))
    .collect();
    assert_eq!(
        tz,
        ["-18000", "1", "3", "14", "3", "11", "1", "1"],
        "{vendor}"
    );
    run
}

/// [`run`] with every line in time zone `zone`.
fn run_in(vendor: &str, mac1: &str, mac2: &str, extra: &str, full: bool, zone: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
    std::fs::create_dir_all(&etc).unwrap();
    copy_dir(
        &repo_templates().join(vendor),
        &data.join("phoneprov").join(vendor),
    );
    let sample =
        std::fs::read_to_string(repo_templates().join(vendor).join("phoneprov.conf.sample"))
            .unwrap();
    let mut phoneprov = sample.clone();
    if full {
        // The sample's profile is its last section: these lines extend it.
        for (name, value) in setvars(vendor) {
            phoneprov += &format!("setvar => {name}={value}\n");
        }
    }
    std::fs::write(etc.join("phoneprov.conf"), phoneprov).unwrap();
    std::fs::write(
        etc.join("pjsip.conf"),
        pjsip_conf(vendor, mac1, mac2, extra, zone),
    )
    .unwrap();

    let paths = Paths::new(etc, data);
    let options = BuildOptions {
        now: Some(NOW.parse().unwrap()),
        ..Default::default()
    };
    let snapshot = Snapshot::build(&paths, &options)
        .unwrap_or_else(|r| panic!("{vendor}: configuration rejected: {:#?}", r.diagnostics));
    assert!(
        snapshot.diagnostics().is_empty(),
        "{vendor}: {:#?}",
        snapshot.diagnostics()
    );
    assert_eq!(snapshot.phones().len(), 2, "{vendor}");
    assert!(!snapshot.routes().is_empty(), "{vendor}: no routes");

    let server: IpAddr = SERVER.parse().unwrap();
    let mut bodies = BTreeMap::new();
    for route in snapshot.routes() {
        assert!(
            matches!(route.target, Target::Dynamic { .. }),
            "{vendor}: {} is not a template",
            route.uri
        );
        let rendered = snapshot
            .render(route, server)
            .unwrap_or_else(|e| panic!("{vendor}: {} does not render: {e}", route.uri));
        let body = String::from_utf8(rendered.body.to_vec()).unwrap();
        // Strict mode: no variable a template uses may be missing.
        let (fresh, issues) = snapshot.render_fresh(route, server);
        assert!(issues.is_empty(), "{vendor}: {}: {issues:#?}", route.uri);
        assert_eq!(fresh.unwrap(), body.as_bytes(), "{vendor}: {}", route.uri);
        assert!(
            !body.contains("{{") && !body.contains("}}"),
            "{vendor}: {}: unrendered tag",
            route.uri
        );
        if body.trim_start().starts_with('<') {
            Xml::parse(&body).unwrap_or_else(|e| panic!("{vendor}: {}: {e}\n{body}", route.uri));
        }
        if let Some(dump) = std::env::var_os("PJPROV_VENDORS_DUMP") {
            // Look at the files: PJPROV_VENDORS_DUMP=/tmp/out cargo test -p pjprov-core --test vendors
            let path = Path::new(&dump)
                .join(vendor)
                .join(format!(
                    "{}-{}",
                    if full { "full" } else { "defaults" },
                    zone.replace('/', "-")
                ))
                .join(&route.uri);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &body).unwrap();
        }
        bodies.insert(route.uri.clone(), body);
    }
    let phone1 = snapshot.phone_by_mac(mac1).unwrap();
    assert_eq!(phone1.lines.len(), 2);
    let vars = phone1
        .first_line()
        .vars
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let run = Run { bodies, vars, full };
    // The admin password appears only when it is set.
    for (uri, body) in &run.bodies {
        assert!(full || !body.contains(ADMIN), "{vendor}: {uri}");
    }
    run
}

// ---------------------------------------------------------------------------------------------------
// A small XML reader on top of quick-xml: checks well-formedness, keeps every element with its attributes,
// its text and its parent.

#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    parent: Option<usize>,
}

#[derive(Debug)]
struct Xml {
    elements: Vec<Element>,
}

impl Xml {
    fn parse(text: &str) -> Result<Xml, String> {
        let mut reader = quick_xml::Reader::from_str(text);
        reader.config_mut().check_end_names = true;
        let mut elements: Vec<Element> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        let mut roots = 0;
        let mut first = true;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| format!("at {}: {e}", reader.buffer_position()))?;
            if let Event::Decl(_) = event
                && !first
            {
                return Err("the XML declaration is not at the very start".into());
            }
            first = false;
            let mut open =
                |start: &BytesStart<'_>, elements: &mut Vec<Element>| -> Result<usize, String> {
                    if stack.is_empty() {
                        roots += 1;
                    }
                    let mut attrs = Vec::new();
                    for attr in start.attributes() {
                        let attr = attr.map_err(|e| e.to_string())?;
                        let value = attr
                            .normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|e| e.to_string())?;
                        attrs.push((attr.key.as_ref().to_owned(), value.into_owned()));
                    }
                    elements.push(Element {
                        name: start.name().as_ref().to_owned(),
                        attrs,
                        text: String::new(),
                        parent: stack.last().copied(),
                    });
                    Ok(elements.len() - 1)
                };
            match event {
                Event::Start(start) => {
                    let index = open(&start, &mut elements)?;
                    stack.push(index);
                }
                Event::Empty(start) => {
                    open(&start, &mut elements)?;
                }
                Event::End(_) => {
                    stack.pop().ok_or("closing tag without an open element")?;
                }
                Event::Text(t) => match stack.last() {
                    Some(&i) => elements[i].text.push_str(&t.xml10_content()),
                    None if t.xml10_content().trim().is_empty() => {}
                    None => {
                        return Err(format!(
                            "text outside the root element: {:?}",
                            t.xml10_content()
                        ));
                    }
                },
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                        Some(c) => c.to_string(),
                        None => resolve_predefined_entity(&r)
                            .ok_or_else(|| format!("undefined entity &{};", &*r))?
                            .to_owned(),
                    };
                    let &i = stack.last().ok_or("entity outside the root element")?;
                    elements[i].text.push_str(&c);
                }
                Event::CData(_)
                | Event::Comment(_)
                | Event::Decl(_)
                | Event::PI(_)
                | Event::DocType(_) => {}
                Event::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(format!("{} element(s) left open", stack.len()));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(Xml { elements })
    }

    fn root(&self) -> &str {
        &self.elements[0].name
    }

    fn attr<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
        element
            .attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every element called `name`.
    fn all(&self, name: &str) -> std::vec::IntoIter<(usize, &Element)> {
        let found: Vec<_> = self
            .elements
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name == name)
            .collect();
        found.into_iter()
    }

    /// The text of the only element called `name` with `attr` = `value` (any when `attr` is empty).
    fn text(&self, name: &str, attr: &str, value: &str) -> &str {
        let found: Vec<_> = self
            .all(name)
            .filter(|(_, e)| attr.is_empty() || Xml::attr(e, attr) == Some(value))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "<{name} {attr}=\"{value}\">: {} found",
            found.len()
        );
        found[0].1.text.trim()
    }

    /// The text of `name`, a child of element `parent`.
    fn child(&self, parent: usize, name: &str) -> &str {
        let found: Vec<_> = self
            .all(name)
            .filter(|(_, e)| e.parent == Some(parent))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "<{name}> in element {parent}: {} found",
            found.len()
        );
        found[0].1.text.trim()
    }

    /// The index of the only element called `name` with `attr` = `value`.
    fn find(&self, name: &str, attr: &str, value: &str) -> usize {
        let found: Vec<_> = self
            .all(name)
            .filter(|(_, e)| Xml::attr(e, attr) == Some(value))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "<{name} {attr}=\"{value}\">: {} found",
            found.len()
        );
        found[0].0
    }

    /// Every attribute of every element, by name (a name used twice must keep one value).
    fn attributes(&self) -> BTreeMap<&str, &str> {
        let mut all = BTreeMap::new();
        for (name, value) in self.elements.iter().flat_map(|e| e.attrs.iter()) {
            if let Some(before) = all.insert(name.as_str(), value.as_str()) {
                assert_eq!(
                    before, value,
                    "attribute {name} set twice with different values"
                );
            }
        }
        all
    }

    /// The texts of every element called `name`.
    fn texts(&self, name: &str) -> Vec<&str> {
        self.all(name).map(|(_, e)| e.text.trim()).collect()
    }
}

fn xml(run: &Run, uri: &str, root: &str) -> Xml {
    let xml = Xml::parse(run.body(uri)).unwrap();
    assert_eq!(xml.root(), root, "{uri}");
    xml
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
/// display name, label).
const LINES: [(&str, &str, &str, &str, &str, &str); 2] = [
    ("1", "1001", "alice", SECRET1, "Alice Example", "desk-1"),
    ("2", "1002", "1002", SECRET2, "Sales Queue", "Sales"),
];

/// A phone book (name, number) must list the other phone and never the phone itself.
fn check_book(entries: &[(&str, &str)], other: (&str, &str), own: &str) {
    assert!(
        entries.contains(&other),
        "{other:?} missing from {entries:?}"
    );
    assert!(
        entries.iter().all(|(_, number)| *number != own),
        "{own} lists itself: {entries:?}"
    );
}

// ---------------------------------------------------------------------------------------------------

#[test]
fn yealink() {
    for full in [false, true] {
        let run = run("yealink", "805EC0A1B2C3", "805EC0D4E5F6", "", full);
        let boot = key_values(run.body("805ec0a1b2c3.boot"));
        assert_eq!(boot["include:config"], "\"805ec0a1b2c3.cfg\"");
        let cfg = key_values(run.body("805ec0a1b2c3.cfg"));
        for (line, user, auth, secret, name, label) in LINES {
            let get = |key: &str| cfg[&format!("account.{line}.{key}")].as_str();
            assert_eq!(get("enable"), "1");
            assert_eq!(get("user_name"), user);
            assert_eq!(get("auth_name"), auth);
            assert_eq!(get("password"), secret);
            assert_eq!(get("display_name"), name);
            assert_eq!(get("label"), label);
            assert_eq!(get("sip_server.1.address"), SERVER);
            assert_eq!(get("sip_server.1.port"), PORT);
            assert_eq!(
                get("sip_server.1.transport_type"),
                if full { "1" } else { "0" }
            );
            assert_eq!(cfg[&format!("linekey.{line}.line")], line);
            assert_eq!(
                cfg.get(&format!("voice_mail.number.{line}"))
                    .map(String::as_str),
                full.then_some("*97")
            );
        }
        assert_eq!(cfg["local_time.ntp_server1"], run.ntp());
        assert_eq!(cfg["local_time.time_zone"], "-5");
        assert_eq!(cfg["local_time.summer_time"], "1");
        assert_eq!(cfg["local_time.dst_time_type"], "0");
        assert_eq!(cfg["local_time.start_time"], "3/14/2");
        assert_eq!(cfg["local_time.end_time"], "11/1/2");
        assert_eq!(cfg["static.auto_provision.server.url"], run.prov("yealink"));
        assert_eq!(
            cfg["static.auto_provision.repeat.minutes"],
            if full { "720" } else { "1440" }
        );
        assert_eq!(
            cfg.get("static.security.user_password").map(String::as_str),
            full.then_some("admin:Adm1n&Secret")
        );
        assert_eq!(
            cfg["remote_phonebook.data.1.url"],
            format!("{}805ec0a1b2c3-directory.xml", run.prov("yealink"))
        );

        for (uri, other, own) in [
            ("805ec0a1b2c3-directory.xml", ("Carol & Co", "1003"), "1001"),
            (
                "805ec0d4e5f6-directory.xml",
                ("Alice Example", "1001"),
                "1003",
            ),
        ] {
            let book = xml(&run, uri, "YealinkIPPhoneDirectory");
            let entries: Vec<_> = book
                .all("DirectoryEntry")
                .map(|(i, _)| (book.child(i, "Name"), book.child(i, "Telephone")))
                .collect();
            check_book(&entries, other, own);
        }
        // Phone 2 has one line only.
        let cfg2 = key_values(run.body("805ec0d4e5f6.cfg"));
        assert_eq!(cfg2["account.1.user_name"], "1003");
        assert_eq!(cfg2["account.1.password"], SECRET3);
        assert!(!cfg2.contains_key("account.2.enable"));
    }
}

#[test]
fn polycom() {
    for full in [false, true] {
        let run = run("polycom", "0004F2A1B2C3", "0004f2d4e5f6", "", full);
        let master = xml(&run, "0004f2a1b2c3.cfg", "APPLICATION");
        let app = master.attributes();
        assert_eq!(app["CONFIG_FILES"], "0004f2a1b2c3-pjprov.cfg");
        assert_eq!(app["APP_FILE_PATH"], "sip.ld");

        let config = xml(&run, "0004f2a1b2c3-pjprov.cfg", "polycomConfig");
        let attrs = config.attributes();
        for (line, user, auth, secret, name, label) in LINES {
            let get = |key: &str| attrs[format!("reg.{line}.{key}").as_str()];
            assert_eq!(get("address"), user);
            assert_eq!(get("auth.userId"), auth);
            assert_eq!(get("auth.password"), secret);
            assert_eq!(get("displayName"), name);
            assert_eq!(get("label"), label);
            assert_eq!(get("lineKeys"), "1");
            assert_eq!(get("server.1.address"), SERVER);
            assert_eq!(get("server.1.port"), PORT);
            assert_eq!(
                get("server.1.transport"),
                if full { "TCPOnly" } else { "UDPOnly" }
            );
            assert_eq!(get("server.1.register"), "1");
            assert_eq!(
                attrs
                    .get(format!("msg.mwi.{line}.callBack").as_str())
                    .copied(),
                full.then_some("*97")
            );
        }
        assert!(!attrs.contains_key("reg.3.address"));
        assert_eq!(attrs["tcpIpApp.sntp.address"], run.ntp());
        assert_eq!(attrs["tcpIpApp.sntp.gmtOffset"], "-18000");
        assert_eq!(attrs["tcpIpApp.sntp.daylightSavings.enable"], "1");
        let dst = |key: &str| attrs[format!("tcpIpApp.sntp.daylightSavings.{key}").as_str()];
        assert_eq!(dst("fixedDayEnable"), "1");
        assert_eq!(
            (dst("start.month"), dst("start.date"), dst("start.time")),
            ("3", "14", "2")
        );
        assert_eq!(
            (dst("stop.month"), dst("stop.date"), dst("stop.time")),
            ("11", "1", "2")
        );
        assert_eq!(
            attrs["prov.polling.period"],
            if full { "43200" } else { "86400" }
        );
        assert_eq!(
            attrs.get("device.auth.localAdminPassword").copied(),
            full.then_some(ADMIN)
        );
        let url = run.prov("polycom");
        assert_eq!(attrs["device.prov.serverName"], url);

        xml(&run, "0004f2a1b2c3-phone.cfg", "overrides");
        for (uri, other, own) in [
            ("0004f2a1b2c3-directory.xml", ("Carol & Co", "1003"), "1001"),
            (
                "0004f2d4e5f6-directory.xml",
                ("Alice Example", "1001"),
                "1003",
            ),
        ] {
            let book = xml(&run, uri, "directory");
            let entries: Vec<_> = book
                .all("item")
                .map(|(i, _)| (book.child(i, "fn"), book.child(i, "ct")))
                .collect();
            check_book(&entries, other, own);
        }
        let config2 = xml(&run, "0004f2d4e5f6-pjprov.cfg", "polycomConfig");
        assert_eq!(config2.attributes()["reg.1.auth.password"], SECRET3);
    }
}

#[test]
fn snom() {
    for full in [false, true] {
        // Phone 1 says its model; phone 2 takes the profile's SNOM_MODEL.
        let run = run(
            "snom",
            "000413a1b2c3",
            "000413d4e5f6",
            "SNOM_MODEL = D385\n",
            full,
        );
        let htm = xml(&run, "snomD385-000413A1B2C3.htm", "setting-files");
        let url = format!("{}000413A1B2C3.xml", run.prov("snom"));
        assert_eq!(
            htm.all("file")
                .map(|(_, e)| Xml::attr(e, "url").unwrap())
                .collect::<Vec<_>>(),
            [url.as_str()]
        );
        xml(&run, "snomD785-000413D4E5F6.htm", "setting-files");

        let settings = xml(&run, "000413A1B2C3.xml", "settings");
        for (line, user, auth, secret, name, label) in LINES {
            let get = |key: &str| settings.text(key, "idx", line);
            assert_eq!(get("user_active"), "on");
            assert_eq!(get("user_name"), user);
            assert_eq!(get("user_pname"), auth);
            assert_eq!(get("user_pass"), secret);
            assert_eq!(get("user_realname"), name);
            assert_eq!(get("user_idle_text"), label);
            assert_eq!(get("user_host"), format!("{SERVER}:{PORT}"));
            let transport = if full { "tcp" } else { "udp" };
            assert_eq!(
                get("user_outbound"),
                format!("{SERVER}:{PORT};transport={transport}")
            );
            let key = (line.parse::<i32>().unwrap() - 1).to_string();
            assert_eq!(settings.text("fkey", "idx", &key), "line");
            assert_eq!(
                Xml::attr(
                    &settings.elements[settings.find("fkey", "idx", &key)],
                    "context"
                ),
                Some(line)
            );
        }
        assert_eq!(settings.all("user_name").count(), 2);
        assert_eq!(
            settings.texts("user_mailbox"),
            if full { vec!["*97", "*97"] } else { vec![] }
        );
        assert_eq!(settings.text("ntp_server", "", ""), run.ntp());
        assert_eq!(settings.text("utc_offset", "", ""), "-18000");
        assert_eq!(
            settings.text("dst", "", ""),
            "3600 14.03 02:00:00 01.11 02:00:00"
        );
        assert_eq!(
            settings.text("setting_server", "", ""),
            format!("{}{{mac}}.xml", run.prov("snom"))
        );
        assert_eq!(
            settings.text("prov_polling_period", "", ""),
            if full { "43200" } else { "86400" }
        );
        assert_eq!(
            settings.texts("http_pass"),
            if full { vec![ADMIN] } else { vec![] }
        );

        for (uri, other, own) in [
            ("000413A1B2C3.xml", ("Carol & Co", "1003"), "1001"),
            ("000413D4E5F6.xml", ("Alice Example", "1001"), "1003"),
        ] {
            let book = xml(&run, uri, "settings");
            let entries: Vec<_> = book
                .all("item")
                .map(|(i, _)| (book.child(i, "name"), book.child(i, "number")))
                .collect();
            check_book(&entries, other, own);
        }
    }
}

#[test]
fn grandstream() {
    for full in [false, true] {
        let run = run("grandstream", "000B82A1B2C3", "000b82d4e5f6", "", full);
        let config = xml(&run, "cfg000b82a1b2c3.xml", "gs_provision");
        let item = |name: &str| config.text("item", "name", name);
        for (line, user, auth, secret, name, label) in LINES {
            let get = |key: &str| item(&format!("account.{line}.{key}")).to_owned();
            assert_eq!(get("enable"), "Yes");
            assert_eq!(get("sip.userid"), user);
            assert_eq!(get("sip.subscriber.userid"), auth);
            assert_eq!(get("sip.subscriber.password"), secret);
            assert_eq!(get("sip.subscriber.name"), name);
            assert_eq!(get("name"), label);
            assert_eq!(get("sip.server.1.address"), format!("{SERVER}:{PORT}"));
            assert_eq!(get("sip.transport"), if full { "TCP" } else { "UDP" });
            assert_eq!(
                item(&format!("pks.vpk.{line}.account")),
                (line.parse::<i32>().unwrap() - 1).to_string()
            );
        }
        assert_eq!(
            config
                .all("item")
                .filter(|(_, e)| Xml::attr(e, "name") == Some("account.3.enable"))
                .count(),
            0
        );
        assert_eq!(item("dateTime.ntp.server.1"), run.ntp());
        assert_eq!(item("dateTime.timezone"), "customize");
        assert_eq!(item("dateTime.timezone.custom"), "EST5EDT,M3.2.0,M11.1.0");
        assert_eq!(
            item("provisioning.auto.minute"),
            if full { "720" } else { "1440" }
        );
        let admin = config
            .all("item")
            .filter(|(_, e)| Xml::attr(e, "name") == Some("users.admin.password"));
        assert_eq!(
            admin.map(|(_, e)| e.text.as_str()).collect::<Vec<_>>(),
            if full { vec![ADMIN] } else { vec![] }
        );
        let path = config
            .all("item")
            .filter(|(_, e)| Xml::attr(e, "name") == Some("provisioning.config.serverPath"));
        let url = run.prov("grandstream");
        let rest = url.split_once("://").unwrap().1;
        assert_eq!(
            path.map(|(_, e)| e.text.as_str()).collect::<Vec<_>>(),
            vec![rest]
        );
        assert_eq!(
            item("provisioning.config.protocol"),
            if full { "HTTPS" } else { "HTTP" }
        );
        assert_eq!(
            item("phonebook.download.server"),
            format!("{rest}000b82a1b2c3")
        );

        for (uri, other, own) in [
            ("000b82a1b2c3/phonebook.xml", ("Carol & Co", "1003"), "1001"),
            (
                "000b82d4e5f6/phonebook.xml",
                ("Alice Example", "1001"),
                "1003",
            ),
        ] {
            let book = xml(&run, uri, "AddressBook");
            let entries: Vec<_> = book
                .all("Contact")
                .map(|(i, _)| {
                    let phone = book
                        .all("Phone")
                        .find(|(_, e)| e.parent == Some(i))
                        .unwrap()
                        .0;
                    (book.child(i, "FirstName"), book.child(phone, "phonenumber"))
                })
                .collect();
            check_book(&entries, other, own);
        }
    }
}

#[test]
fn cisco() {
    for full in [false, true] {
        let run = run("cisco", "00562BA1B2C3", "00562bd4e5f6", "", full);
        for uri in ["00562ba1b2c3.xml", "spa00562ba1b2c3.xml"] {
            let profile = xml(&run, uri, "flat-profile");
            let get = |name: &str| profile.text(name, "", "");
            for (line, user, auth, secret, name, label) in LINES {
                assert_eq!(get(&format!("Line_Enable_{line}_")), "Yes");
                assert_eq!(get(&format!("User_ID_{line}_")), user);
                assert_eq!(get(&format!("Auth_ID_{line}_")), auth);
                assert_eq!(get(&format!("Use_Auth_ID_{line}_")), "Yes");
                assert_eq!(get(&format!("Password_{line}_")), secret);
                assert_eq!(get(&format!("Display_Name_{line}_")), name);
                assert_eq!(get(&format!("Short_Name_{line}_")), label);
                assert_eq!(get(&format!("Extension_{line}_")), line);
                assert_eq!(get(&format!("Proxy_{line}_")), format!("{SERVER}:{PORT}"));
                assert_eq!(
                    get(&format!("SIP_Transport_{line}_")),
                    if full { "TCP" } else { "UDP" }
                );
            }
            assert_eq!(profile.all("Line_Enable_3_").count(), 0);
            assert_eq!(get("Primary_NTP_Server"), run.ntp());
            assert_eq!(get("Time_Zone"), "GMT-05:00");
            assert_eq!(get("Daylight_Saving_Time_Enable"), "Yes");
            assert_eq!(
                get("Daylight_Saving_Time_Rule"),
                "start=3/14/0/2;end=11/1/0/2;save=1"
            );
            assert_eq!(get("Profile_Rule"), format!("{}$MA.xml", run.prov("cisco")));
            assert_eq!(get("Resync_Periodic"), if full { "43200" } else { "86400" });
            assert_eq!(
                get("XML_Directory_Service_URL"),
                format!("{}00562ba1b2c3-directory.xml", run.prov("cisco"))
            );
            assert_eq!(
                profile.texts("Admin_Passwd"),
                if full { vec![ADMIN] } else { vec![] }
            );
            assert_eq!(
                profile.texts("Voice_Mail_Number"),
                if full { vec!["*97"] } else { vec![] }
            );
        }
        for (uri, other, own) in [
            ("00562ba1b2c3-directory.xml", ("Carol & Co", "1003"), "1001"),
            (
                "00562bd4e5f6-directory.xml",
                ("Alice Example", "1001"),
                "1003",
            ),
        ] {
            let book = xml(&run, uri, "CiscoIPPhoneDirectory");
            let entries: Vec<_> = book
                .all("DirectoryEntry")
                .map(|(i, _)| (book.child(i, "Name"), book.child(i, "Telephone")))
                .collect();
            check_book(&entries, other, own);
        }
    }
}

#[test]
fn fanvil() {
    for full in [false, true] {
        let run = run("fanvil", "0C383EA1B2C3", "0c383ed4e5f6", "", full);
        let config = xml(&run, "0c383ea1b2c3.cfg", "sysConf");
        for (line, user, auth, secret, name, label) in LINES {
            let at = config.find("line", "index", line);
            assert_eq!(config.child(at, "EnableReg"), "1");
            assert_eq!(config.child(at, "PhoneNumber"), user);
            assert_eq!(config.child(at, "RegisterUser"), auth);
            assert_eq!(config.child(at, "RegisterPswd"), secret);
            assert_eq!(config.child(at, "DisplayName"), name);
            assert_eq!(config.child(at, "RegisterAddr"), SERVER);
            assert_eq!(config.child(at, "RegisterPort"), PORT);
            assert_eq!(config.child(at, "Transport"), if full { "1" } else { "0" });
            let key = config.find("Fkey", "index", line);
            assert_eq!(config.child(key, "Value"), format!("SIP{line}"));
            assert_eq!(config.child(key, "Title"), label);
        }
        assert_eq!(config.all("line").count(), 2);
        assert_eq!(
            config.texts("MWINum"),
            if full { vec!["*97", "*97"] } else { vec![] }
        );
        let get = |name: &str| config.text(name, "", "");
        assert_eq!(get("SNTPServer"), run.ntp());
        assert_eq!(get("TimeZone"), "-20");
        assert_eq!(get("TimeZoneName"), "UTC-5");
        assert_eq!(get("EnableDST"), "2");
        // New York: 2 a.m. on the second Sunday of March and on the first Sunday of November.
        assert_eq!(get("DSTFixedType"), "2");
        let start = (
            get("DSTStartMon"),
            get("DSTStartWeek"),
            get("DSTStartWday"),
            get("DSTStartHour"),
        );
        assert_eq!(start, ("3", "2", "0", "2"));
        let end = (
            get("DSTEndMon"),
            get("DSTEndWeek"),
            get("DSTEndWday"),
            get("DSTEndHour"),
        );
        assert_eq!(end, ("11", "1", "0", "2"));
        assert_eq!(get("FlashServerIP"), run.prov("fanvil"));
        assert_eq!(get("FlashInterval"), if full { "2" } else { "1" });
        assert_eq!(
            get("Addr"),
            format!("{}0c383ea1b2c3-directory.xml", run.prov("fanvil"))
        );
        let admin: Vec<_> = config
            .all("account")
            .map(|(i, _)| config.child(i, "Password"))
            .collect();
        assert_eq!(admin, if full { vec![ADMIN] } else { vec![] });

        for (uri, other, own) in [
            ("0c383ea1b2c3-directory.xml", ("Carol & Co", "1003"), "1001"),
            (
                "0c383ed4e5f6-directory.xml",
                ("Alice Example", "1001"),
                "1003",
            ),
        ] {
            let book = xml(&run, uri, "FanvilIPPhoneDirectory");
            let entries: Vec<_> = book
                .all("DirectoryEntry")
                .map(|(i, _)| (book.child(i, "Name"), book.child(i, "Telephone")))
                .collect();
            check_book(&entries, other, own);
        }
    }
}

/// One time zone and what each format must say about it.
struct Zone {
    name: &'static str,
    /// Yealink time_zone, start_time, end_time ("" when there is no DST).
    yealink: [&'static str; 3],
    /// Cisco Time_Zone and DST rule.
    cisco: [&'static str; 2],
    /// Fanvil TimeZone and TimeZoneName.
    fanvil: [&'static str; 2],
    /// Fanvil (month, week, weekday, hour) of the start, then of the end.
    fanvil_dst: [[&'static str; 4]; 2],
    /// Snom utc_offset and dst (Polycom's gmtOffset is the same number of seconds).
    snom: [&'static str; 2],
    /// Grandstream POSIX rule.
    posix: &'static str,
}

const ZONES: [Zone; 3] = [
    Zone {
        name: "Europe/Berlin",
        yealink: ["+1", "3/28/2", "10/25/3"],
        cisco: ["GMT+01:00", "start=3/28/0/2;end=10/25/0/3;save=1"],
        fanvil: ["4", "UTC+1"],
        fanvil_dst: [["3", "5", "0", "2"], ["10", "5", "0", "3"]],
        snom: ["3600", "3600 28.03 02:00:00 25.10 03:00:00"],
        posix: "CET-1CEST,M3.5.0,M10.5.0/3",
    },
    Zone {
        name: "Asia/Kolkata",
        yealink: ["+5.5", "", ""],
        cisco: ["GMT+05:30", ""],
        fanvil: ["22", "UTC+5.5"],
        fanvil_dst: [[""; 4], [""; 4]],
        snom: ["19800", ""],
        posix: "IST-5:30",
    },
    Zone {
        name: "Pacific/Auckland",
        yealink: ["+12", "9/27/2", "4/4/3"],
        cisco: ["GMT+12:00", "start=9/27/0/2;end=4/4/0/3;save=1"],
        fanvil: ["48", "UTC+12"],
        fanvil_dst: [["9", "5", "0", "2"], ["4", "1", "0", "3"]],
        snom: ["43200", "3600 27.09 02:00:00 04.04 03:00:00"],
        posix: "NZST-12NZDT,M9.5.0,M4.1.0/3",
    },
];

/// Other zones: east of UTC, a half-hour offset without DST, and the southern hemisphere (DST across the
/// new year), in every format that writes the offset or the DST rule itself.
#[test]
fn time_zones() {
    for zone in &ZONES {
        let name = zone.name;
        let at = |vendor: &str, mac1: &str, mac2: &str| run_in(vendor, mac1, mac2, "", false, name);
        let dst = !zone.yealink[1].is_empty();

        let run = at("yealink", "805ec0a1b2c3", "805ec0d4e5f6");
        let cfg = key_values(run.body("805ec0a1b2c3.cfg"));
        assert_eq!(cfg["local_time.time_zone"], zone.yealink[0], "{name}");
        assert_eq!(
            cfg["local_time.summer_time"],
            if dst { "1" } else { "0" },
            "{name}"
        );
        let dates = ["local_time.start_time", "local_time.end_time"]
            .map(|k| cfg.get(k).map_or("", String::as_str));
        assert_eq!(dates, [zone.yealink[1], zone.yealink[2]], "{name}");

        let run = at("cisco", "00562ba1b2c3", "00562bd4e5f6");
        let profile = xml(&run, "00562ba1b2c3.xml", "flat-profile");
        assert_eq!(profile.text("Time_Zone", "", ""), zone.cisco[0], "{name}");
        let rule = profile.texts("Daylight_Saving_Time_Rule");
        assert_eq!(
            rule,
            if dst { vec![zone.cisco[1]] } else { vec![] },
            "{name}"
        );

        let run = at("fanvil", "0c383ea1b2c3", "0c383ed4e5f6");
        let config = xml(&run, "0c383ea1b2c3.cfg", "sysConf");
        let get = |name: &str| config.texts(name).first().copied().unwrap_or("");
        assert_eq!(
            [get("TimeZone"), get("TimeZoneName")],
            zone.fanvil,
            "{name}"
        );
        let start = [
            "DSTStartMon",
            "DSTStartWeek",
            "DSTStartWday",
            "DSTStartHour",
        ]
        .map(get);
        let end = ["DSTEndMon", "DSTEndWeek", "DSTEndWday", "DSTEndHour"].map(get);
        assert_eq!([start, end], zone.fanvil_dst, "{name}");
        assert_eq!(get("EnableDST"), if dst { "2" } else { "0" }, "{name}");

        let run = at("snom", "000413a1b2c3", "000413d4e5f6");
        let settings = xml(&run, "000413A1B2C3.xml", "settings");
        let snom = [
            settings.text("utc_offset", "", ""),
            settings.text("dst", "", ""),
        ];
        assert_eq!(snom, zone.snom, "{name}");

        let run = at("polycom", "0004f2a1b2c3", "0004f2d4e5f6");
        let config = xml(&run, "0004f2a1b2c3-pjprov.cfg", "polycomConfig");
        let attrs = config.attributes();
        assert_eq!(attrs["tcpIpApp.sntp.gmtOffset"], zone.snom[0], "{name}");
        let enabled = attrs["tcpIpApp.sntp.daylightSavings.enable"];
        assert_eq!(enabled, if dst { "1" } else { "0" }, "{name}");

        let run = at("grandstream", "000b82a1b2c3", "000b82d4e5f6");
        let config = xml(&run, "cfg000b82a1b2c3.xml", "gs_provision");
        let posix = config.text("item", "name", "dateTime.timezone.custom");
        assert_eq!(posix, zone.posix, "{name}");
    }
}
