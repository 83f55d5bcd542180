//! The bundled lobbies (`templates/<brand>/lobby-*.hbs`, issue #18), for every brand: built from each
//! brand's `phoneprov.conf.sample` as it is, with `lobby = yes`. A lobby answers every per-phone name the
//! phone asks for on its way to its configuration (and none of the others), is well formed, writes only
//! documented names, holds no secret, and is the same bytes for a configured MAC and an unknown one (but
//! for the MAC).

#[path = "vendors/documented.rs"]
mod documented;
// Shared with vendors.rs, which uses all of it.
#[allow(dead_code)]
#[path = "vendors/xml.rs"]
mod xml;

use std::path::Path;

use documented::{Documented, cisco, dotted};
use pjprov_core::{BuildOptions, Mac, Paths, Request, Scheme, Snapshot};
use xml::Xml;

const SECRET: &str = "Lobby-Secret-1001!";
const SERVER: &str = "192.0.2.10";

fn repo_templates() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates")
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

/// A brand's sample profile with one phone (`mac`) and `lobby = yes`; the profile's setvars `extra`.
fn office(vendor: &str, mac: &str, extra: &str) -> (tempfile::TempDir, Snapshot) {
    let dir = tempfile::tempdir().unwrap();
    let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
    copy_dir(
        &repo_templates().join(vendor),
        &data.join("phoneprov").join(vendor),
    );
    std::fs::create_dir_all(&etc).unwrap();
    let sample =
        std::fs::read_to_string(repo_templates().join(vendor).join("phoneprov.conf.sample"))
            .unwrap();
    std::fs::write(etc.join("phoneprov.conf"), format!("{sample}\n{extra}")).unwrap();
    std::fs::write(
        etc.join("pjsip.conf"),
        format!(
            "[t]\ntype = transport\nprotocol = udp\nbind = 0.0.0.0\n\
             [1001]\ntype = endpoint\ntransport = t\nauth = 1001\ncallerid = \"Alice\" <1001>\n\
             [1001]\ntype = auth\nusername = alice\npassword = {SECRET}\n\
             [desk]\ntype = phoneprov\nendpoint = 1001\nMAC = {mac}\nPROFILE = {vendor}\nTIMEZONE = Asia/Tokyo\n"
        ),
    )
    .unwrap();
    std::fs::write(
        etc.join("pjprov.conf"),
        format!("[profile:{vendor}]\nlobby = yes\nlobby_interval = 5m\n"),
    )
    .unwrap();
    let options = BuildOptions {
        now: Some("2026-11-23T12:00:00Z".parse().unwrap()),
        ..BuildOptions::default()
    };
    let snapshot =
        Snapshot::build(&Paths::new(etc, data), &options).expect("a usable configuration");
    assert!(
        !snapshot
            .diagnostics()
            .iter()
            .any(|d| d.to_string().contains("lobby")),
        "{vendor}: {:#?}",
        snapshot.diagnostics()
    );
    (dir, snapshot)
}

fn request(agent: Option<&str>) -> Request {
    Request::new(
        SERVER.parse().unwrap(),
        Scheme::Http,
        8088,
        Some("pbx.example.com:8088"),
        "",
        agent,
    )
}

/// The lobby answering `name`, if any.
fn lobby(snapshot: &Snapshot, name: &str, agent: Option<&str>) -> Option<String> {
    let (mac, shape) = snapshot.phone_shaped(name)?;
    let body = snapshot
        .lobby(shape, mac, request(agent))?
        .expect("renders");
    Some(String::from_utf8(body.body.to_vec()).unwrap())
}

/// Every spelling of `mac` a lobby writes, replaced: what is left must be the same for any MAC.
fn without_mac(text: &str, mac: &str) -> String {
    let mac = Mac::parse(mac).unwrap().to_string();
    let mut out = text.to_owned();
    for sep in ["", ":"] {
        for upper in [false, true] {
            let formatted =
                pjprov_core::hbs::format_mac(&mac, sep, if upper { "upper" } else { "lower" });
            out = out.replace(&formatted, "<MAC>");
        }
    }
    out
}

/// Checks the lobbies of `names` (each with a `{mac}` placeholder) for a known and an unknown MAC, and
/// that `none` get no lobby; returns the known MAC's bodies.
fn check(
    vendor: &str,
    snapshot: &Snapshot,
    known: &str,
    unknown: &str,
    names: &[&str],
    none: &[&str],
    agent: Option<&str>,
) -> Vec<String> {
    let mut bodies = Vec::new();
    for name in names {
        let (k, u) = (name.replace("{mac}", known), name.replace("{mac}", unknown));
        let got =
            lobby(snapshot, &k, agent).unwrap_or_else(|| panic!("{vendor}: no lobby for {k}"));
        let other =
            lobby(snapshot, &u, agent).unwrap_or_else(|| panic!("{vendor}: no lobby for {u}"));
        assert!(
            !got.contains(SECRET) && !got.contains("alice"),
            "{vendor} {k}: {got}"
        );
        assert_eq!(
            without_mac(&got, known),
            without_mac(&other, unknown),
            "{vendor} {name}: a known and an unknown MAC differ"
        );
        assert_eq!(
            got.len(),
            other.len(),
            "{vendor} {name}: the same length class"
        );
        bodies.push(got);
    }
    for name in none {
        let name = name.replace("{mac}", known);
        assert_eq!(lobby(snapshot, &name, agent), None, "{vendor}: {name}");
    }
    bodies
}

fn key_values(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("include:config"))
        .map(|l| {
            dotted(
                l.split_once('=')
                    .unwrap_or_else(|| panic!("{l:?}"))
                    .0
                    .trim(),
            )
        })
        .collect()
}

#[test]
fn yealink() {
    let (_dir, snapshot) = office("yealink", "805EC0A1B2C3", "");
    for (agent, list) in [
        (
            Some("Yealink SIP-T46G 28.80.0.95 80:5e:c0:a1:b2:c3"),
            "yealink-v80.txt",
        ),
        (
            Some("Yealink SIP-T54W 96.86.0.100 80:5e:c0:a1:b2:c3"),
            "yealink-v81.txt",
        ),
        (None, "yealink-v81.txt"),
    ] {
        let bodies = check(
            "yealink",
            &snapshot,
            "805ec0a1b2c3",
            "805ec0999999",
            &["{mac}.boot", "{mac}.cfg"],
            &["{mac}-directory.xml"],
            agent,
        );
        assert!(bodies[0].contains("include:config \"805ec0a1b2c3.cfg\""));
        let cfg = &bodies[1];
        Documented::load(list).check(key_values(cfg).iter().map(String::as_str), "yealink lobby");
        assert!(cfg.contains("auto_provision.server.url = http://pbx.example.com:8088/phoneprov/"));
        assert!(cfg.contains("auto_provision.repeat.minutes = 5"));
        assert!(cfg.contains("Not provisioned 80:5E:C0:A1:B2:C3"));
        // The phone's own TIMEZONE (Asia/Tokyo) is a phone variable: not the lobby's.
        assert!(!cfg.contains("+9"), "{cfg}");
    }
}

#[test]
fn polycom() {
    let (_dir, snapshot) = office(
        "polycom",
        "0004F2A1B2C3",
        "setvar => NTP_SERVER=ntp.example.org\n",
    );
    for (agent, list) in [
        (
            Some("FileTransport PolycomVVX-VVX_450-UA/6.4.6.2125 Type/Application"),
            "polycom-ucs.txt",
        ),
        (
            Some("FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078"),
            "polycom-sip3.txt",
        ),
    ] {
        let bodies = check(
            "polycom",
            &snapshot,
            "0004f2a1b2c3",
            "0004f2999999",
            &["{mac}.cfg", "{mac}-pjprov.cfg"],
            &["{mac}-phone.cfg", "{mac}-directory.xml"],
            agent,
        );
        let documented = Documented::load(list);
        let master = Xml::parse(&bodies[0]).unwrap();
        let names: Vec<String> = master.attribute_names().map(dotted).collect();
        documented.check(names.iter().map(String::as_str), "polycom lobby master");
        assert_eq!(
            master.attributes()["CONFIG_FILES"],
            "0004f2a1b2c3-pjprov.cfg"
        );
        let config = Xml::parse(&bodies[1]).unwrap();
        let names: Vec<String> = config.attribute_names().map(dotted).collect();
        documented.check(names.iter().map(String::as_str), "polycom lobby");
        let attributes = config.attributes();
        assert_eq!(attributes["prov.polling.period"], "300");
        assert_eq!(
            attributes["tcpIpApp.sntp.address"], "ntp.example.org",
            "a profile setvar"
        );
    }
}

#[test]
fn snom() {
    let (_dir, snapshot) = office("snom", "000413A1B2C3", "");
    let bodies = check(
        "snom",
        &snapshot,
        "000413A1B2C3",
        "000413999999",
        &["snomD785-{mac}.htm", "{mac}.xml"],
        &[],
        Some("Mozilla/4.0 (compatible; snomD785/10.1.175.10)"),
    );
    let list = Documented::load("snom.txt");
    let files = Xml::parse(&bodies[0]).unwrap();
    list.check(files.element_names(), "snom lobby files");
    assert!(bodies[0].contains("/phoneprov/000413A1B2C3.xml"));
    let settings = Xml::parse(&bodies[1]).unwrap();
    list.check(settings.element_names(), "snom lobby settings");
    assert_eq!(settings.texts("settings_refresh_timer"), ["300"]);
}

#[test]
fn grandstream() {
    let (_dir, snapshot) = office("grandstream", "000B82A1B2C3", "");
    for (agent, list) in [
        (
            Some("Grandstream Model HW GXP2170 SW 1.0.11.85 DevId 000b82a1b2c3"),
            "grandstream-alias.txt",
        ),
        (
            Some("Grandstream Model HW GXP1628 SW 1.0.7.6 DevId 000b82a1b2c3"),
            "grandstream-pvalue.txt",
        ),
    ] {
        let bodies = check(
            "grandstream",
            &snapshot,
            "000b82a1b2c3",
            "000b82999999",
            &["cfg{mac}.xml"],
            &["{mac}/phonebook.xml"],
            agent,
        );
        let config = Xml::parse(&bodies[0]).unwrap();
        let names: Vec<String> = config
            .all("item")
            .map(|(_, e)| dotted(Xml::attr(e, "name").unwrap()))
            .chain(config.element_names().map(str::to_owned))
            .collect();
        Documented::load(list).check(names.iter().map(String::as_str), "grandstream lobby");
    }
}

#[test]
fn cisco_and_fanvil() {
    let (_dir, snapshot) = office("cisco", "00562BA1B2C3", "");
    let bodies = check(
        "cisco",
        &snapshot,
        "00562ba1b2c3",
        "00562b999999",
        &["{mac}.xml", "spa{mac}.xml"],
        &["{mac}-directory.xml"],
        Some("Cisco-CP-8841-3PCC/11.3.7"),
    );
    let profile = Xml::parse(&bodies[0]).unwrap();
    let names: Vec<String> = profile.element_names().map(cisco).collect();
    Documented::load("cisco.txt").check(names.iter().map(String::as_str), "cisco lobby");
    assert_eq!(profile.texts("Resync_Periodic"), ["300"]);

    let (_dir, snapshot) = office("fanvil", "0C383EA1B2C3", "");
    for (agent, family) in [
        (Some("Fanvil X6U 2.12.1 0c383ea1b2c3"), "sysconf"),
        (Some("Fanvil X6 2.4.1 0c383ea1b2c3"), "legacy"),
    ] {
        let bodies = check(
            "fanvil",
            &snapshot,
            "0c383ea1b2c3",
            "0c383e999999",
            &["{mac}.cfg"],
            &["{mac}-directory.xml"],
            agent,
        );
        let config = Xml::parse(&bodies[0]).unwrap();
        Documented::load(&format!("fanvil-{family}.txt"))
            .check(config.element_names(), &format!("fanvil {family} lobby"));
    }
}

#[test]
fn lobbies_that_cannot_be_served_say_so() {
    // A lobby template that names a secret is refused, whatever its context would hold.
    let dir = tempfile::tempdir().unwrap();
    let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
    std::fs::create_dir_all(data.join("phoneprov")).unwrap();
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("pjsip.conf"),
        "[p]\ntype = phoneprov\nMAC = 0004f2000001\nPROFILE = a\n[q]\ntype = phoneprov\nMAC = 0004f2000002\nPROFILE = b\n",
    )
    .unwrap();
    std::fs::write(
        etc.join("phoneprov.conf"),
        "[a]\n${MAC}.cfg => a.cfg.hbs\n[b]\n${MAC}.cfg => b.cfg.hbs\n${MAC}.txt => b.cfg.hbs\n",
    )
    .unwrap();
    for file in ["a.cfg.hbs", "b.cfg.hbs"] {
        std::fs::write(data.join("phoneprov").join(file), "x {{MAC}}\n").unwrap();
    }
    std::fs::write(data.join("phoneprov/leaky.hbs"), "p={{SECRET}}\n").unwrap();
    std::fs::write(
        data.join("phoneprov/ok.hbs"),
        "lobby {{MAC}} {{PROVISIONING_URL}}\n",
    )
    .unwrap();
    let build = |conf: &str| {
        std::fs::write(etc.join("pjprov.conf"), conf).unwrap();
        let snapshot = Snapshot::build(
            &Paths::new(etc.clone(), data.clone()),
            &BuildOptions::default(),
        )
        .unwrap();
        let notes: Vec<String> = snapshot
            .diagnostics()
            .iter()
            .map(ToString::to_string)
            .collect();
        (snapshot, notes)
    };
    let (snapshot, notes) =
        build("[profile:a]\nlobby = leaky.hbs\n[profile:b]\nlobby = leaky.hbs\n");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("pjprov.conf:2: error:") && n.contains("must hold no secret")),
        "{notes:#?}"
    );
    assert_eq!(lobby(&snapshot, "0004f2999999.cfg", None), None);
    // Two profiles sharing a shape must agree on its lobby.
    let (snapshot, notes) = build("[profile:a]\nlobby = ok.hbs\n");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("share the file name '<mac>.cfg' but not its lobby")),
        "{notes:#?}"
    );
    assert_eq!(lobby(&snapshot, "0004f2999999.cfg", None), None);
    // Agreeing, they share it; a shape of one profile alone has its own.
    let (snapshot, notes) = build("[profile:a]\nlobby = ok.hbs\n[profile:b]\nlobby = ok.hbs\n");
    assert!(notes.iter().all(|n| !n.contains("lobby")), "{notes:#?}");
    assert_eq!(
        lobby(&snapshot, "0004f2999999.cfg", None).as_deref(),
        Some("lobby 0004f2999999 http://pbx.example.com:8088/phoneprov/\n")
    );
    assert!(lobby(&snapshot, "0004f2999999.txt", None).is_some());
    // A template that is not there.
    let (_, notes) = build("[profile:a]\nlobby = missing.hbs\n[profile:b]\nlobby = missing.hbs\n");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("lobby template 'missing.hbs'")),
        "{notes:#?}"
    );
}
