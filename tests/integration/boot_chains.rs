//! Boot chains, played against the real binary: each brand's templates and sample profile exactly as
//! `templates/` ships them, and phones of each firmware family booting from factory state with nothing
//! but DHCP option 66 = the phoneprov directory. Each phone makes the requests its firmware makes, in that
//! order, with that firmware's User-Agent, follows what each answer tells it (a boot file's includes, a
//! master file's CONFIG_FILES, a Cisco Profile_Rule_B, a Snom setting-files list, a Fanvil server and
//! file name, a Grandstream config path), and checks every status and the settings that make it work,
//! read with a parser for that syntax.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use quick_xml::events::Event;

use crate::util::{Fixture, Response, Server, copy_dir, request, run, stdout};

fn repo_templates() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates")
}

/// pjsip.conf of every office: phone 1 (`mac1`) with lines 201 (two line keys, a BLF on 211) and 202,
/// phone 2 (`mac2`) with line 211.
fn pjsip(brand: &str, mac1: &str, mac2: &str) -> String {
    let endpoint = |id: &str, name: &str, password: &str| {
        format!(
            "[{id}]\ntype = endpoint\ntransport = udp\ncontext = office\naors = {id}\nauth = {id}\n\
             callerid = \"{name}\" <{id}>\n[{id}]\ntype = auth\nauth_type = userpass\nusername = {id}\n\
             password = {password}\n[{id}]\ntype = aor\nmax_contacts = 1\n\n"
        )
    };
    let mut text = "[udp]\ntype = transport\nprotocol = udp\nbind = 0.0.0.0:5060\n\n".to_owned();
    text += &endpoint("201", "Reception", "Pw-201-secret");
    text += &endpoint("202", "Reception 2", "Pw-202-secret");
    text += &endpoint("211", "Sales & Co", "Pw-211-secret");
    text += &format!(
        "[desk-201]\ntype = phoneprov\nendpoint = 201\nMAC = {mac1}\nPROFILE = {brand}\nLINEKEYS = 2\n\
         BLF = 211=Sales\nTIMEZONE = Europe/Berlin\n\
         [desk-202]\ntype = phoneprov\nendpoint = 202\nMAC = {mac1}\nPROFILE = {brand}\nLINE = 2\n\
         TIMEZONE = Europe/Berlin\n\
         [desk-211]\ntype = phoneprov\nendpoint = 211\nMAC = {mac2}\nPROFILE = {brand}\n\
         TIMEZONE = Europe/Berlin\n"
    );
    text
}

/// A running pjprov with one brand's templates and sample profile.
struct Office {
    server: Server,
    fixture: Fixture,
}

impl Office {
    fn new(brand: &str, macs: (&str, &str)) -> Office {
        Office::edited(brand, macs, |sample| sample, &[])
    }

    /// `edit` changes the sample and `files` are added under `DATA_DIR/phoneprov/` (as an administrator
    /// following the sample's comments would).
    fn edited(
        brand: &str,
        macs: (&str, &str),
        edit: impl Fn(String) -> String,
        files: &[(&str, &str)],
    ) -> Office {
        Office::build(brand, macs, edit, files, false)
    }

    /// As `new`, with a state directory: `serve` creates the site key there, and so generates an
    /// ADMIN_PASSWORD for every phone (none is set in `pjsip`).
    fn with_site_key(brand: &str, macs: (&str, &str)) -> Office {
        Office::build(brand, macs, |sample| sample, &[], true)
    }

    fn build(
        brand: &str,
        macs: (&str, &str),
        edit: impl Fn(String) -> String,
        files: &[(&str, &str)],
        state: bool,
    ) -> Office {
        let fixture = Fixture::new();
        copy_dir(
            &repo_templates().join(brand),
            &fixture.data().join("phoneprov").join(brand),
        );
        for (name, text) in files {
            fixture.template(name, text);
        }
        let sample =
            std::fs::read_to_string(repo_templates().join(brand).join("phoneprov.conf.sample"))
                .unwrap();
        fixture.config("phoneprov.conf", &edit(sample));
        fixture.config("pjsip.conf", &pjsip(brand, macs.0, macs.1));
        let state_dir = fixture.dir.path().join("state");
        let args: &[&str] = if state {
            &["--state-dir", state_dir.to_str().unwrap()]
        } else {
            &[]
        };
        let server = Server::start(&fixture.etc(), &fixture.data(), args);
        Office { server, fixture }
    }

    /// What DHCP option 66 gives a factory-new phone.
    fn option_66(&self) -> String {
        format!("http://{}/phoneprov/", self.server.addr)
    }

    fn phone<'a>(&'a self, user_agent: &'static str) -> Phone<'a> {
        Phone {
            office: self,
            user_agent,
        }
    }
}

/// A phone: what it asks for, as its firmware asks.
struct Phone<'a> {
    office: &'a Office,
    user_agent: &'static str,
}

impl Phone<'_> {
    /// `method` on `url` (an absolute URL the phone built or was given), which must point at this server.
    fn send(&self, method: &str, url: &str) -> Response {
        let addr: SocketAddr = self.office.server.addr;
        let rest = url
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("{}: not an HTTP URL: {url}", self.user_agent));
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        assert_eq!(
            authority,
            addr.to_string(),
            "{}: {url} does not come back to this server",
            self.user_agent
        );
        request(
            addr,
            method,
            path,
            &[("Host", authority), ("User-Agent", self.user_agent)],
        )
    }

    /// The body of `url`, which must be served.
    fn fetch(&self, url: &str) -> String {
        let response = self.send("GET", url);
        assert_eq!(response.status, 200, "{}: GET {url}", self.user_agent);
        String::from_utf8(response.body).unwrap()
    }

    /// `url` must answer 404: a probe the firmware is known to skip.
    fn skips(&self, url: &str) {
        let response = self.send("GET", url);
        assert_eq!(response.status, 404, "{}: GET {url}", self.user_agent);
    }
}

// ---------------------------------------------------------------------------------------------------
// Parsers: Yealink key = value, XML (quick-xml), Cisco/Snom/Fanvil/Grandstream elements.

/// A Yealink `key = value` file (the version line first; `#` comments; no key twice).
fn key_values(text: &str) -> BTreeMap<String, String> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("#!version:1.0.0.1"));
    let mut map = BTreeMap::new();
    let mut includes = 0;
    for line in lines
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (key, value) = match line.strip_prefix("include:config ") {
            Some(file) => {
                includes += 1;
                (
                    format!("include:config.{includes}"),
                    file.trim_matches('"').to_owned(),
                )
            }
            None => {
                let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("{line:?}"));
                (key.trim().to_owned(), value.trim().to_owned())
            }
        };
        assert!(map.insert(key.clone(), value).is_none(), "{key} twice");
    }
    map
}

/// An XML element: its name, attributes, text and parent.
#[derive(Debug)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    parent: Option<usize>,
}

/// Every element of a well-formed XML document (panics on any error).
fn parse_xml(text: &str) -> Vec<Node> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut nodes: Vec<Node> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{text}"));
        let open = |start: &quick_xml::events::BytesStart<'_>, nodes: &mut Vec<Node>| {
            let attrs = start
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap();
                    (a.key.as_ref().to_owned(), value.into_owned())
                })
                .collect();
            nodes.push(Node {
                name: start.name().as_ref().to_owned(),
                attrs,
                text: String::new(),
                parent: stack.last().copied(),
            });
            nodes.len() - 1
        };
        match event {
            Event::Start(start) => {
                let index = open(&start, &mut nodes);
                stack.push(index);
            }
            Event::Empty(start) => {
                open(&start, &mut nodes);
            }
            Event::End(_) => {
                stack.pop().expect("an end tag without a start");
            }
            Event::Text(t) => {
                if let Some(&i) = stack.last() {
                    nodes[i].text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .expect("a predefined entity")
                        .to_owned(),
                };
                let &i = stack.last().expect("an entity outside the root");
                nodes[i].text.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements\n{text}");
    assert!(!nodes.is_empty(), "no element\n{text}");
    nodes
}

/// The trimmed text of the first element called `name`.
fn text<'a>(nodes: &'a [Node], name: &str) -> &'a str {
    nodes
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no <{name}>"))
        .text
        .trim()
}

/// The text of the element called `name` whose attribute `attr` is `value`.
fn text_where<'a>(nodes: &'a [Node], name: &str, attr: &str, value: &str) -> &'a str {
    nodes
        .iter()
        .find(|n| n.name == name && n.attrs.get(attr).map(String::as_str) == Some(value))
        .unwrap_or_else(|| panic!("no <{name} {attr}=\"{value}\">"))
        .text
        .trim()
}

/// Every attribute of every element.
fn attributes(nodes: &[Node]) -> BTreeMap<&str, &str> {
    nodes
        .iter()
        .flat_map(|n| n.attrs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .collect()
}

/// The texts of the children called `child` of every element called `name`.
fn children<'a>(nodes: &'a [Node], name: &str, child: &str) -> Vec<&'a str> {
    let parents: Vec<usize> = (0..nodes.len())
        .filter(|&i| nodes[i].name == name)
        .collect();
    nodes
        .iter()
        .filter(|n| n.name == child && n.parent.is_some_and(|p| parents.contains(&p)))
        .map(|n| n.text.trim())
        .collect()
}

// ---------------------------------------------------------------------------------------------------

#[test]
fn yealink_v81_and_later_boot_file_then_mac_file_then_phone_book() {
    let office = Office::new("yealink", ("805EC0A10001", "805EC0A10002"));
    for (family, user_agent) in [
        ("v83", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:a1:00:01"),
        ("v81", "Yealink SIP-T46S 66.82.0.20 80:5e:c0:a1:00:01"),
        ("dect", "Yealink W60B 77.83.0.85 80:5e:c0:a1:00:01"),
    ] {
        let phone = office.phone(user_agent);
        let base = office.option_66();
        // 1. <mac>.boot names the files to load, relative to itself.
        let boot = key_values(&phone.fetch(&format!("{base}805ec0a10001.boot")));
        let include = &boot["include:config.1"];
        let cfg = key_values(&phone.fetch(&format!("{base}{include}")));
        assert_eq!(cfg["account.1.user_name"], "201", "{family}");
        assert_eq!(cfg["account.1.auth_name"], "201", "{family}");
        assert_eq!(cfg["account.1.password"], "Pw-201-secret", "{family}");
        assert_eq!(cfg["account.1.label"], "Reception", "{family}");
        assert_eq!(cfg["account.2.user_name"], "202", "{family}");
        assert_eq!(
            cfg["account.1.sip_server.1.address"], "127.0.0.1",
            "{family}"
        );
        assert_eq!(cfg["account.1.sip_server.1.port"], "5060", "{family}");
        // The phone stays on this server, and keeps its clock by the zone's rule.
        assert_eq!(cfg["static.auto_provision.server.url"], base, "{family}");
        assert_eq!(cfg["local_time.time_zone"], "+1");
        assert_eq!(cfg["local_time.start_time"], "3/5/7/2");
        assert_eq!(cfg["local_time.end_time"], "10/5/7/3");
        if family == "dect" {
            assert!(
                !cfg.contains_key("linekey.1.type"),
                "a DECT base has no line keys"
            );
        } else {
            // Line keys 1-3, then the BLF.
            assert_eq!(cfg["linekey.4.type"], "16", "{family}");
            assert_eq!(cfg["linekey.4.value"], "211");
            assert_eq!(cfg["linekey.4.label"], "Sales");
        }
        // 2. The phone book, where the configuration says.
        let book = parse_xml(&phone.fetch(&cfg["remote_phonebook.data.1.url"]));
        assert_eq!(book[0].name, "YealinkIPPhoneDirectory");
        assert_eq!(children(&book, "DirectoryEntry", "Name"), ["Sales & Co"]);
        // Never asked when the boot file is there, and harmless: the common files.
        phone.skips(&format!("{base}y000000000000.boot"));
    }
}

#[test]
fn yealink_v73_and_v80_common_file_404_then_mac_file() {
    let office = Office::new("yealink", ("805EC0A10001", "805EC0A10002"));
    for (family, user_agent, common) in [
        (
            "v80",
            "Yealink SIP-T46G 28.80.0.95 80:5e:c0:a1:00:01",
            "y000000000028.cfg",
        ),
        (
            "v73",
            "Yealink SIP-T28P 2.73.0.50 80:5e:c0:a1:00:01",
            "y000000000000.cfg",
        ),
    ] {
        let phone = office.phone(user_agent);
        let base = office.option_66();
        // No boot files on this firmware: the model's common file (a 404, skipped), then the MAC file.
        phone.skips(&format!("{base}{common}"));
        let cfg = key_values(&phone.fetch(&format!("{base}805ec0a10001.cfg")));
        assert_eq!(cfg["account.1.user_name"], "201", "{family}");
        assert_eq!(
            cfg["auto_provision.server.url"], base,
            "{family}: no static. prefix"
        );
        assert!(
            !cfg.contains_key("static.auto_provision.server.url"),
            "{family}"
        );
        let transport = if family == "v73" {
            "account.1.transport"
        } else {
            "account.1.sip_server.1.transport_type"
        };
        assert_eq!(cfg[transport], "0", "{family}");
    }
}

#[test]
fn polycom_master_then_config_files_then_overrides_and_directory() {
    // SIP 3.x phones need Polycom's own sip.cfg and phone1.cfg for their release: the administrator adds
    // them, as the sample says.
    let polycom_file = "<?xml version=\"1.0\"?>\n<polycomConfig/>\n";
    let office = Office::edited(
        "polycom",
        ("0004F2A10001", "0004F2A10002"),
        |sample| {
            sample
                .replace(
                    ";staticdir => polycom/files/",
                    "staticdir => polycom/files/",
                )
                .replace(";static_file => sip.cfg", "static_file => sip.cfg")
                .replace(";static_file => phone1.cfg", "static_file => phone1.cfg")
        },
        &[
            ("polycom/files/sip.cfg", polycom_file),
            ("polycom/files/phone1.cfg", polycom_file),
        ],
    );
    for (family, version) in [
        ("ucs", "FileTransport PolycomVVX-VVX_450-UA/6.4.6.2125"),
        (
            "trio",
            "FileTransport PolycomRealPresenceTrio-Trio_8800-UA/7.2.2.1094",
        ),
        (
            "sip3",
            "FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078",
        ),
    ] {
        let updater = office.phone(leak(format!("{version} Type/Updater")));
        let application = office.phone(leak(format!("{version} Type/Application")));
        let base = office.option_66();
        // The updater: its master file (asked before 000000000000.cfg), then the firmware it names: a
        // 404 leaves the phone on its firmware.
        let master = parse_xml(&updater.fetch(&format!("{base}0004f2a10001.cfg")));
        let app = attributes(&master);
        updater.skips(&format!("{base}{}", app["APP_FILE_PATH"]));
        // The application: the master again, then every file of CONFIG_FILES, in order.
        let master = parse_xml(&application.fetch(&format!("{base}0004f2a10001.cfg")));
        let app = attributes(&master);
        let mut settings = BTreeMap::new();
        for file in app["CONFIG_FILES"].split(',').map(str::trim) {
            let body = application.fetch(&format!("{base}{file}"));
            let nodes = parse_xml(&body);
            for (key, value) in attributes(&nodes) {
                // The file listed first wins.
                settings.entry(key.to_owned()).or_insert(value.to_owned());
            }
        }
        assert_eq!(settings["reg.1.address"], "201", "{family}");
        assert_eq!(settings["reg.1.auth.password"], "Pw-201-secret", "{family}");
        assert_eq!(settings["reg.1.label"], "Reception", "{family}");
        assert_eq!(settings["reg.2.address"], "202", "{family}");
        assert_eq!(settings["tcpIpApp.sntp.gmtOffset"], "3600", "{family}");
        assert_eq!(
            settings["tcpIpApp.sntp.daylightSavings.start.dayOfWeek.lastInMonth"],
            "1"
        );
        assert_eq!(settings["prov.autoConfigUpload.enabled"], "0", "{family}");
        assert_eq!(settings["dir.local.readonly"], "1", "{family}");
        if family == "ucs" {
            assert_eq!(settings["attendant.resourceList.1.address"], "211");
        }
        if family != "sip3" {
            assert_eq!(settings["device.prov.serverName"], base, "{family}");
        }
        // The override files (served empty), the licences (404, normal), the directory.
        let directory = app["OVERRIDES_DIRECTORY"];
        assert_eq!(directory, "", "{family}: overrides from this directory");
        for overrides in ["0004f2a10001-phone.cfg", "0004f2a10001-web.cfg"] {
            let nodes = parse_xml(&application.fetch(&format!("{base}{overrides}")));
            assert_eq!(nodes[0].name, "overrides");
            assert!(nodes[0].attrs.is_empty(), "{family}: empty overrides");
        }
        application.skips(&format!("{base}000000000000-license.cfg"));
        application.skips(&format!("{base}0004f2a10001-license.cfg"));
        let book = parse_xml(&application.fetch(&format!("{base}0004f2a10001-directory.xml")));
        assert_eq!(
            children(&book, "item", "fn").first(),
            Some(&"Sales & Co"),
            "{family}"
        );
        // Uploads are refused as Asterisk refuses them; nothing the phone sends replaces a served file.
        for upload in [
            "0004f2a10001-app.log",
            "0004f2a10001-boot.log",
            "0004f2a10001-phone.cfg",
        ] {
            let response = application.send("PUT", &format!("{base}{upload}"));
            assert_eq!(response.status, 501, "{family}: PUT {upload}");
            assert_eq!(response.header("Allow"), Some("GET, HEAD"));
        }
        let again = parse_xml(&application.fetch(&format!("{base}0004f2a10001-phone.cfg")));
        assert!(again[0].attrs.is_empty());
    }
}

#[test]
fn grandstream_binary_404_then_xml_then_its_server_path_and_phone_book() {
    let office = Office::new("grandstream", ("000B82A10001", "000B82A10002"));
    for (dialect, user_agent) in [
        (
            "pvalue",
            "Grandstream Model HW GXP1782 SW 1.0.1.133 DevId 000b82a10001",
        ),
        (
            "alias",
            "Grandstream Model HW GXP2170 SW 1.0.11.85 DevId 000b82a10001",
        ),
        (
            "alias",
            "Grandstream Model HW GRP2614 SW 1.0.5.15 DevId 000b82a10001",
        ),
    ] {
        let phone = office.phone(user_agent);
        let base = office.option_66();
        // The legacy binary file first: a 404 makes the phone ask for the XML one.
        phone.skips(&format!("{base}cfg000b82a10001"));
        let nodes = parse_xml(&phone.fetch(&format!("{base}cfg000b82a10001.xml")));
        assert_eq!(nodes[0].name, "gs_provision");
        let get = |p: &str, alias: &str| -> String {
            if dialect == "pvalue" {
                text(&nodes, p).to_owned()
            } else {
                text_where(&nodes, "item", "name", alias).to_owned()
            }
        };
        assert_eq!(get("P35", "account.1.sip.userid"), "201", "{user_agent}");
        assert_eq!(
            get("P34", "account.1.sip.subscriber.password"),
            "Pw-201-secret"
        );
        assert_eq!(get("P270", "account.1.name"), "Reception");
        assert_eq!(
            get("P191", "account.1.featureCodes.callFeatures"),
            if dialect == "pvalue" { "0" } else { "No" }
        );
        assert_eq!(
            get("P246", "dateTime.timezone.custom"),
            "CET-1CEST,M3.5.0,M10.5.0/3",
            "{user_agent}"
        );
        // The phone's next check: protocol + config server path + its file name.
        let path = get("P237", "provisioning.config.serverPath");
        let protocol = get("P212", "provisioning.config.protocol");
        assert!(
            protocol == "1" || protocol == "HTTP",
            "{user_agent}: {protocol}"
        );
        let again = phone.fetch(&format!("http://{path}/cfg000b82a10001.xml"));
        parse_xml(&again);
        // The phone book: <path>/phonebook.xml.
        let book_path = get("P331", "phonebook.download.server");
        let book = parse_xml(&phone.fetch(&format!("http://{book_path}/phonebook.xml")));
        assert_eq!(children(&book, "Contact", "FirstName"), ["Sales & Co"]);
        // Asked only when cfg<mac>.xml fails: not served.
        phone.skips(&format!("{base}cfg.xml"));
    }
}

#[test]
fn fanvil_common_file_then_mac_file_joined_without_a_double_slash() {
    let office = Office::new("fanvil", ("0C383EA10001", "0C383EA10002"));
    for (family, user_agent, common) in [
        (
            "sysconf",
            "Fanvil X6U Pro 0.0.10 0c383ea10001",
            "F0V00X6U0000.cfg",
        ),
        (
            "sysconf",
            "Fanvil X210 2.4.5.2 0c383ea10001",
            "F0V00X200000.cfg",
        ),
        (
            "legacy",
            "Fanvil X4 2.10.2.6887 0c383ea10001",
            "f0X4hw1.100.cfg",
        ),
    ] {
        let phone = office.phone(user_agent);
        let base = office.option_66();
        // The model's common file: where the phone's own file is, in two fields the phone joins with "/".
        let nodes = parse_xml(&phone.fetch(&format!("{base}{common}")));
        let (server, file) = if family == "legacy" {
            ("Download_Server_IP", "Config_File_Name")
        } else {
            ("FlashServerIP", "FlashFileName")
        };
        let url = format!(
            "{}/{}",
            text(&nodes, server),
            text(&nodes, file).replace("$mac", "0c383ea10001")
        );
        assert!(
            !url["http://".len()..].contains("//"),
            "{user_agent}: {url}"
        );
        let body = phone.fetch(&url);
        let config = parse_xml(&body);
        let (line, user, password) = if family == "legacy" {
            ("SIP_Line_List_Entry", "Phone_Number", "Register_Pswd")
        } else {
            ("line", "PhoneNumber", "RegisterPswd")
        };
        assert_eq!(
            children(&config, line, user),
            ["201", "202"],
            "{user_agent}"
        );
        assert_eq!(children(&config, line, password)[0], "Pw-201-secret");
        // The MAC file keeps the phone here, in the same two fields.
        let again = format!(
            "{}/{}",
            text(&config, server),
            text(&config, file).replace("$mac", "0c383ea10001")
        );
        assert_eq!(again, url, "{user_agent}");
        if family == "sysconf" {
            assert_eq!(text(&config, "TimeZone"), "4");
            assert_eq!(text(&config, "DSTStartWeek"), "5");
            let book = parse_xml(&phone.fetch(text(&config, "Addr")));
            assert_eq!(children(&book, "DirectoryEntry", "Name"), ["Sales & Co"]);
        }
    }
}

#[test]
fn snom_model_file_then_mac_list_then_settings_for_any_model() {
    let office = Office::new("snom", ("000413A10001", "000413A10002"));
    for (model, user_agent) in [
        (
            "D785",
            "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413A10001 SXM:0 UXM:0)",
        ),
        (
            "D345",
            "Mozilla/4.0 (compatible; snomD345-SIP 10.1.54.13 000413A10001)",
        ),
        (
            "M900",
            "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413a10001)",
        ),
    ] {
        let phone = office.phone(user_agent);
        let base = office.option_66();
        // 1. snom<model>.htm, for any model: it points setting_server at the phone's own file.
        let shared = parse_xml(&phone.fetch(&format!("{base}snom{model}.htm")));
        let setting_server = text(&shared, "setting_server").to_owned();
        assert_eq!(setting_server, format!("{base}{{mac}}.xml"), "{model}");
        // 2. snom<model>-<MAC>.htm, for any model: the list of files to load.
        let list = parse_xml(&phone.fetch(&format!("{base}snom{model}-000413A10001.htm")));
        let files: Vec<&str> = list
            .iter()
            .filter(|n| n.name == "file")
            .map(|n| n.attrs["url"].as_str())
            .collect();
        assert_eq!(files.len(), 1, "{model}");
        // 3. The settings.
        let settings = parse_xml(&phone.fetch(files[0]));
        assert_eq!(
            text_where(&settings, "user_name", "idx", "1"),
            "201",
            "{model}"
        );
        assert_eq!(
            text_where(&settings, "user_pass", "idx", "1"),
            "Pw-201-secret"
        );
        assert_eq!(text_where(&settings, "user_name", "idx", "2"), "202");
        assert_eq!(text(&settings, "setting_server"), setting_server);
        if model.starts_with('D') {
            assert_eq!(
                text_where(&settings, "user_idle_text", "idx", "1"),
                "Reception"
            );
            assert_eq!(text(&settings, "challenge_response"), "off");
            assert_eq!(
                text(&settings, "dst"),
                "3600 03.05.07 02:00:00 10.05.07 03:00:00"
            );
            let blf = settings
                .iter()
                .find(|n| n.name == "fkey" && n.attrs["idx"] == "3");
            assert_eq!(blf.map(|n| n.text.trim()), Some("blf 211"), "{model}");
        }
        // Later checks: setting_server with the MAC the phone writes in, in either case.
        for mac in ["000413A10001", "000413a10001"] {
            parse_xml(&phone.fetch(&setting_server.replace("{mac}", mac)));
        }
    }
}

#[test]
fn cisco_first_stage_then_profile_rule_b_then_its_own_profile_rule() {
    let office = Office::new("cisco", ("00562BA10001", "00562BA10002"));
    for (family, user_agent, factory_names) in [
        (
            "spa",
            "Cisco/SPA504G-7.6.2f (00562BA10001)(CBT141400UK)",
            &["spa504G.cfg"][..],
        ),
        (
            "mpp",
            "Cisco-CP-8841-3PCC/11.3.1 (00562ba10001)",
            // Cisco's guides spell the MPP factory file three ways: every one answers.
            &["8841-3PCC.xml", "CP-8841-3PCC.cfg", "8841.xml"][..],
        ),
    ] {
        let phone = office.phone(user_agent);
        let base = office.option_66();
        for name in factory_names {
            // The factory Profile_Rule's file: it sets Profile_Rule_B, run in this same resync.
            let first = parse_xml(&phone.fetch(&format!("{base}{name}")));
            assert_eq!(first[0].name, "flat-profile");
            let rule_b = text(&first, "Profile_Rule_B").replace("$MA", "00562ba10001");
            // A 404 would fail the whole resync: the rule must name a served file.
            let profile = parse_xml(&phone.fetch(&rule_b));
            assert_eq!(text(&profile, "User_ID_1_"), "201", "{family}");
            assert_eq!(text(&profile, "Password_1_"), "Pw-201-secret");
            assert_eq!(text(&profile, "User_ID_2_"), "202");
            assert_eq!(text(&profile, "Auth_Resync-Reboot_1_"), "No");
            assert_eq!(
                text(&profile, "Extended_Function_4_"),
                "fnc=blf+sd+cp;sub=211@127.0.0.1;nme=Sales"
            );
            assert_eq!(
                text(&profile, "Daylight_Saving_Time_Rule"),
                "start=3/-1/7/2:00:00;end=10/-1/7/3:00:00;save=1"
            );
            // The next resync goes straight to the phone's own profile; the first stage rule is cleared.
            assert_eq!(text(&profile, "Profile_Rule_B"), "");
            let next = text(&profile, "Profile_Rule").replace("$MA", "00562ba10001");
            assert_eq!(next, rule_b, "{family}");
            parse_xml(&phone.fetch(&next));
            let directory = parse_xml(&phone.fetch(text(&profile, "XML_Directory_Service_URL")));
            assert_eq!(
                children(&directory, "DirectoryEntry", "Name"),
                ["Sales & Co"]
            );
        }
    }
}

/// Where a brand's default family writes the administrator password.
struct AdminKey {
    brand: &'static str,
    /// Two MACs, as the brand's phones spell them in file names.
    macs: (&'static str, &'static str),
    /// The phone's files that set it (`{mac}` stands for the MAC).
    files: &'static [&'static str],
    /// How it is written there (`{pw}` stands for the password).
    written: &'static str,
}

/// With no ADMIN_PASSWORD set, each phone gets the one pjprov generates from the site key: in the
/// settings file of its own that sets the administrator password, in its syntax, and in no other file —
/// not its phone book, not another phone's file, and never a shared file (rendered for every phone).
#[test]
fn a_generated_admin_password_reaches_only_the_phones_own_settings() {
    let brands = [
        AdminKey {
            brand: "yealink",
            macs: ("805ec0a10001", "805ec0a10002"),
            files: &["{mac}.cfg"],
            written: "security.user_password = admin:{pw}\n",
        },
        AdminKey {
            brand: "polycom",
            macs: ("0004f2a10001", "0004f2a10002"),
            files: &["{mac}-pjprov.cfg"],
            written: "device.auth.localAdminPassword=\"{pw}\"",
        },
        AdminKey {
            brand: "snom",
            macs: ("000413A10001", "000413A10002"),
            files: &["{mac}.xml"],
            written: "<http_pass perm=\"R\">{pw}</http_pass>",
        },
        AdminKey {
            brand: "grandstream",
            macs: ("000b82a10001", "000b82a10002"),
            files: &["cfg{mac}.xml"],
            written: "<P2>{pw}</P2>",
        },
        AdminKey {
            brand: "cisco",
            macs: ("00562ba10001", "00562ba10002"),
            // The MPP name and the SPA one: the same profile.
            files: &["{mac}.xml", "spa{mac}.xml"],
            written: "<Admin_Password ua=\"na\">{pw}</Admin_Password>",
        },
        AdminKey {
            brand: "fanvil",
            macs: ("0c383ea10001", "0c383ea10002"),
            files: &["{mac}.cfg"],
            written: "<Password>{pw}</Password>",
        },
    ];
    for AdminKey {
        brand,
        macs,
        files: own_files,
        written,
    } in brands
    {
        let office = Office::with_site_key(brand, macs);
        let etc = office.fixture.etc();
        let data = office.fixture.data();
        let state = office.fixture.dir.path().join("state");
        let listed = run(&[
            "list",
            "--format",
            "json",
            "--show-secrets",
            "--config-dir",
            etc.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ]);
        assert!(listed.status.success(), "{brand}: {}", stdout(&listed));
        let listed: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
        let phones = listed["phones"].as_array().unwrap();
        let passwords: Vec<&str> = phones
            .iter()
            .map(|p| p["generated"]["ADMIN_PASSWORD"].as_str().unwrap())
            .collect();
        assert_eq!(passwords.len(), 2, "{brand}");
        assert_ne!(passwords[0], passwords[1], "{brand}");
        // No User-Agent: each brand's default family.
        let get = |uri: &str| {
            let response = office.server.get(&format!("/phoneprov/{uri}"));
            assert_eq!(response.status, 200, "{brand}: {uri}");
            String::from_utf8(response.body).unwrap()
        };
        for (phone, password) in phones.iter().zip(&passwords) {
            let mac = phone["mac"].as_str().unwrap();
            let mac = if brand == "snom" {
                mac.to_ascii_uppercase()
            } else {
                mac.to_owned()
            };
            let mine: Vec<String> = own_files.iter().map(|f| f.replace("{mac}", &mac)).collect();
            let routes = phone["routes"].as_array().unwrap();
            let mut found = 0;
            for route in routes {
                // A per-phone pattern (`snom*-<MAC>.htm`): any model.
                let uri = route["uri"].as_str().unwrap().replace('*', "x1");
                let body = get(&uri);
                if mine.contains(&uri) {
                    found += 1;
                    assert!(
                        body.contains(&written.replace("{pw}", password)),
                        "{brand}: {uri} does not set its generated password:\n{body}"
                    );
                } else {
                    assert!(!body.contains(password), "{brand}: {uri} has it");
                }
                let others = passwords.iter().filter(|p| *p != password);
                for other in others {
                    assert!(!body.contains(other), "{brand}: {uri} has another's");
                }
            }
            assert_eq!(
                found,
                mine.len(),
                "{brand}: {mine:?} are not among {routes:?}"
            );
        }
        let shared = listed["shared_files"].as_array().unwrap();
        // Snom, Cisco and Fanvil have shared files (model and first-stage files); the others none.
        let has_shared = matches!(brand, "snom" | "cisco" | "fanvil");
        assert_eq!(!shared.is_empty(), has_shared, "{brand}: {shared:?}");
        for file in shared {
            let uri = file["uri"].as_str().unwrap().replace('*', "x1");
            let body = get(&uri);
            for password in &passwords {
                assert!(!body.contains(password), "{brand}: shared {uri} has one");
            }
        }
    }
}

/// A `'static` User-Agent built at run time (the tests make a handful).
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}
