//! A reload that reads again only the sections that changed gives the snapshot a full build gives: the
//! same phones, variables, routes, diagnostics, watched paths and rendered bytes, after any edit and any
//! sequence of edits; and it is taken for the edits it is meant for.

use std::net::IpAddr;
use std::path::Path;

use pjprov_core::{BuildOptions, Paths, Snapshot};
use proptest::prelude::*;

/// One phone line, as the fleet file writes it.
#[derive(Debug, Clone)]
struct Line {
    endpoint: String,
    auth: String,
    name: String,
    username: String,
    password: String,
    mac: String,
    line: u32,
    profile: &'static str,
    zone: &'static str,
    label: String,
    transport: &'static str,
    /// An endpoint option line (always one line, so edits keep the line count).
    endpoint_extra: String,
    /// A phoneprov line.
    pp_extra: String,
    aor_type: String,
    aor_extra: String,
}

#[derive(Debug, Clone)]
struct Fleet {
    lines: Vec<Line>,
    template_context: &'static str,
    /// An extra line at the end of one section: changes every later line number.
    grown: Option<usize>,
    /// One more file for profile `a` (`pattern => template`).
    extra_route: Option<&'static str>,
}

/// Extra route patterns: one whose name changes with an edit, one that every phone of the profile names
/// alike (a duplicate route reported for each phone but the first).
const EXTRA_ROUTES: &[&str] = &[
    "${MAC}-${LABEL}.txt => line.cfg",
    "${CUSTOM}.txt => line.cfg",
];

const ZONES: &[&str] = &["America/New_York", "Europe/Paris", "Asia/Kolkata", "UTC"];

impl Fleet {
    fn new(phones: usize, second_lines: &[bool]) -> Fleet {
        let mut lines = Vec::new();
        for n in 0..phones {
            let line = |index: u32| {
                let e = 1000 + n as u32 + 500 * (index - 1);
                Line {
                    endpoint: e.to_string(),
                    auth: format!("{e}-auth"),
                    name: format!("Phone {n}"),
                    username: e.to_string(),
                    password: format!("pw{e}"),
                    mac: format!("0004f2{n:06x}"),
                    line: index,
                    profile: if n % 3 == 2 { "b" } else { "a" },
                    zone: ZONES[n % ZONES.len()],
                    label: format!("L{e}"),
                    transport: "udp",
                    endpoint_extra: "direct_media = no".into(),
                    pp_extra: "CUSTOM = c".into(),
                    aor_type: "type = aor".into(),
                    aor_extra: "max_contacts = 1".into(),
                }
            };
            lines.push(line(1));
            if second_lines.get(n).copied().unwrap_or(false) {
                lines.push(line(2));
            }
        }
        Fleet {
            lines,
            template_context: "phones",
            grown: None,
            extra_route: None,
        }
    }

    fn write(&self, dir: &Path) -> Paths {
        let (etc, data) = (dir.join("etc"), dir.join("data"));
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::create_dir_all(data.join("phoneprov")).unwrap();
        let main = format!(
            "[udp]\ntype = transport\nbind = 0.0.0.0:5060\n\n\
             [tcp]\ntype = transport\nprotocol = tcp\nbind = 0.0.0.0:5070\n\n\
             [ep-tpl](!)\ntype = endpoint\ncontext = {}\n\n\
             [auth-tpl](!)\ntype = auth\nauth_type = userpass\n\n\
             [pp-tpl](!)\ntype = phoneprov\n\n\
             #include phones.conf\n",
            self.template_context
        );
        let mut phones = String::from("; the fleet\n");
        for (i, l) in self.lines.iter().enumerate() {
            let grown = if self.grown == Some(i) {
                "language = en\n"
            } else {
                ""
            };
            phones.push_str(&format!(
                "[{e}](ep-tpl)\ntransport = {t}\nauth = {a}\ncallerid = \"{name}\" <{e}> ; shown\n{ex}\n{grown}\n\
                 [{a}](auth-tpl)\nusername = {u}\npassword = {pw}\n\n\
                 [{e}]\n{aor_type}\n{aor}\n\n\
                 [{e}-pp](pp-tpl)\nendpoint = {e}\nMAC = {mac}\nLINE = {line}\nPROFILE = {profile}\n\
                 TIMEZONE = {zone}\nLABEL = {label}\n{ppx}\n\n",
                e = l.endpoint,
                t = l.transport,
                a = l.auth,
                name = l.name,
                ex = l.endpoint_extra,
                u = l.username,
                pw = l.password,
                aor_type = l.aor_type,
                aor = l.aor_extra,
                mac = l.mac,
                line = l.line,
                profile = l.profile,
                zone = l.zone,
                label = l.label,
                ppx = l.pp_extra,
            ));
        }
        std::fs::write(etc.join("pjsip.conf"), main).unwrap();
        std::fs::write(etc.join("phones.conf"), phones).unwrap();
        std::fs::write(
            etc.join("phoneprov.conf"),
            format!(
                "[a]\n${{MAC}}.cfg => a.cfg\n${{MAC}}-directory.xml => dir.xml\n{}\n\
                 setvar => NTP_SERVER=pool.ntp.org\nsetvar => TAG=${{LABEL}}-${{USERNAME}}\n\
                 [b]\n${{MAC}}.cfg => b.cfg.hbs\n",
                self.extra_route.unwrap_or("")
            ),
        )
        .unwrap();
        let templates = data.join("phoneprov");
        std::fs::write(
            templates.join("a.cfg"),
            "a ${MAC} ${TZOFFSET} ${TAG} ${PP_EACH_EXTENSION(${MAC},line.cfg)}",
        )
        .unwrap();
        std::fs::write(
            templates.join("line.cfg"),
            "line ${LINE} ${DISPLAY_NAME} ${USERNAME}:${SECRET}@${SERVER_PORT} ${CUSTOM}\n",
        )
        .unwrap();
        std::fs::write(
            templates.join("b.cfg.hbs"),
            "b {{MAC}} {{DISPLAY_NAME}} {{SECRET}} {{SIP_TRANSPORT}}\n",
        )
        .unwrap();
        std::fs::write(
            templates.join("dir.xml"),
            "${PP_EACH_USER(<e>%{DISPLAY_NAME}</e>|${MAC})}\n",
        )
        .unwrap();
        Paths::new(etc, data)
    }
}

/// An edit of the fleet.
#[derive(Debug, Clone, Copy)]
enum Edit {
    CallerName,
    Password,
    Username,
    Label,
    Zone,
    Transport,
    PhoneprovVar,
    AorOption,
    /// From here on, edits a full build must handle.
    Mac,
    LineNumber,
    Profile,
    UnknownOption,
    AorType,
    SetsAuthId,
    OtherEndpoint,
    MissingAuth,
    Rename,
    Template,
    Grow,
}

const PATCHED: &[Edit] = &[
    Edit::CallerName,
    Edit::Password,
    Edit::Username,
    Edit::Label,
    Edit::Zone,
    Edit::Transport,
    Edit::PhoneprovVar,
    Edit::AorOption,
];

const FULL: &[Edit] = &[
    Edit::Mac,
    Edit::LineNumber,
    Edit::Profile,
    Edit::UnknownOption,
    Edit::AorType,
    Edit::SetsAuthId,
    Edit::OtherEndpoint,
    Edit::MissingAuth,
    Edit::Rename,
    Edit::Template,
    Edit::Grow,
];

impl Edit {
    fn apply(self, fleet: &mut Fleet, at: usize, serial: usize) {
        let count = fleet.lines.len();
        let other = fleet.lines[(at + 1) % count].endpoint.clone();
        let line = &mut fleet.lines[at % count];
        match self {
            Edit::CallerName => line.name = format!("Renamed {serial}"),
            Edit::Password => line.password = format!("new{serial}"),
            Edit::Username => line.username = format!("user{serial}"),
            Edit::Label => line.label = format!("Label {serial}"),
            Edit::Zone => {
                let now = ZONES.iter().position(|z| *z == line.zone).unwrap_or(0);
                line.zone = ZONES[(now + 1 + serial % 2) % ZONES.len()];
            }
            Edit::Transport => {
                line.transport = if line.transport == "udp" {
                    "tcp"
                } else {
                    "udp"
                }
            }
            Edit::PhoneprovVar => line.pp_extra = format!("CUSTOM = v{serial}"),
            Edit::AorOption => line.aor_extra = format!("max_contacts = {}", serial % 5 + 2),
            Edit::Mac => line.mac = format!("0004f3{serial:06x}"),
            Edit::LineNumber => line.line += 10,
            Edit::Profile => line.profile = if line.profile == "a" { "b" } else { "a" },
            Edit::UnknownOption => line.endpoint_extra = "no_such_option = 1".into(),
            Edit::AorType => {
                line.aor_type = "type = domain_alias".into();
                line.aor_extra = "domain = example.com".into();
            }
            Edit::SetsAuthId => line.pp_extra = "AUTH_ID = someone".into(),
            Edit::OtherEndpoint => line.endpoint = other,
            Edit::MissingAuth => line.auth = format!("gone{serial}"),
            Edit::Rename => line.endpoint = format!("{}x", line.endpoint),
            Edit::Template => fleet.template_context = "elsewhere",
            Edit::Grow => fleet.grown = Some(at % count),
        }
    }
}

fn options() -> BuildOptions {
    BuildOptions {
        now: Some("2026-06-01T12:00:00Z".parse().unwrap()),
        ..BuildOptions::default()
    }
}

/// Everything a snapshot serves and reports, rendered bodies included.
fn view(snapshot: &Snapshot) -> String {
    let server: IpAddr = "192.0.2.1".parse().unwrap();
    let mut out = format!("{:#?}\n", snapshot.phones());
    let order: Vec<&str> = snapshot.user_order().map(|p| p.mac.as_str()).collect();
    out.push_str(&format!("{order:?}\n"));
    for route in snapshot.routes() {
        let body = snapshot
            .render(route, server)
            .map(|r| String::from_utf8_lossy(&r.body).into_owned());
        out.push_str(&format!("{} {:?} {:?}\n", route.uri, route.target, body));
    }
    for d in snapshot.diagnostics() {
        out.push_str(&format!("{d}\n"));
    }
    out.push_str(&format!("{:?}\n", snapshot.watch()));
    out
}

fn outcome(built: &Result<Snapshot, pjprov_core::Rejected>) -> String {
    match built {
        Ok(snapshot) => view(snapshot),
        Err(rejected) => rejected
            .diagnostics
            .iter()
            .map(|d| format!("rejected: {d}\n"))
            .collect(),
    }
}

/// Applies `edits` one after the other, each reload built from the one before; each must equal a full
/// build. Returns, for each edit, whether the reload read only the changed sections.
fn check(fleet: &mut Fleet, edits: &[(Edit, usize)]) -> Vec<bool> {
    let saves: Vec<Vec<(Edit, usize)>> = edits.iter().map(|e| vec![*e]).collect();
    check_saves(fleet, &saves)
}

/// [`check`] with several edits in each save.
fn check_saves(fleet: &mut Fleet, saves: &[Vec<(Edit, usize)>]) -> Vec<bool> {
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet.write(dir.path());
    let mut current = Snapshot::build(&paths, &options()).expect("the fleet builds");
    let mut patched = Vec::new();
    for (serial, save) in saves.iter().enumerate() {
        for (n, &(edit, at)) in save.iter().enumerate() {
            edit.apply(fleet, at, serial * 8 + n);
        }
        fleet.write(dir.path());
        let reloaded = current.rebuild(&paths, &options());
        let full = Snapshot::build(&paths, &options());
        assert_eq!(outcome(&reloaded), outcome(&full), "after {save:?}");
        patched.push(
            reloaded
                .as_ref()
                .is_ok_and(|s| s.reread_sections().is_some_and(|n| n > 0)),
        );
        // A rejected configuration keeps the previous snapshot serving.
        if let Ok(next) = reloaded {
            current = next;
        }
    }
    patched
}

#[test]
fn value_edits_read_only_their_sections() {
    for &edit in PATCHED {
        let mut fleet = Fleet::new(6, &[false, true, false, true]);
        for at in [0, 1, 4] {
            let patched = check(&mut fleet.clone(), &[(edit, at)]);
            assert_eq!(patched, [true], "{edit:?} of line {at}");
        }
        // And in a row, each reload patched from the one before.
        let patched = check(&mut fleet, &[(edit, 2), (edit, 3), (edit, 2)]);
        assert_eq!(patched, [true, true, true], "{edit:?} in a row");
    }
}

#[test]
fn structural_edits_build_everything() {
    for &edit in FULL {
        let mut fleet = Fleet::new(6, &[false, true]);
        let patched = check(&mut fleet, &[(edit, 1)]);
        assert_eq!(patched, [false], "{edit:?}");
    }
}

#[test]
fn a_reload_that_changes_nothing_in_pjsip_conf_shares_every_phone() {
    let fleet = Fleet::new(4, &[]);
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet.write(dir.path());
    let first = Snapshot::build(&paths, &options()).unwrap();
    let next = first.rebuild(&paths, &options()).unwrap();
    assert_eq!(next.reread_sections(), Some(0));
    for (a, b) in first.phones().iter().zip(next.phones()) {
        assert!(std::sync::Arc::ptr_eq(a, b));
    }
    assert_eq!(view(&first), view(&next));
}

fn edit() -> impl Strategy<Value = (Edit, usize)> {
    let all: Vec<Edit> = PATCHED.iter().chain(FULL).copied().collect();
    (prop::sample::select(all), 0..20usize)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_edits_give_what_a_full_build_gives(
        phones in 2..8usize,
        second in prop::collection::vec(any::<bool>(), 0..8),
        edits in prop::collection::vec(edit(), 1..5),
        extra in prop::option::of(prop::sample::select(EXTRA_ROUTES)),
    ) {
        let mut fleet = Fleet::new(phones, &second);
        fleet.extra_route = extra;
        check(&mut fleet, &edits);
    }

    /// Several sections changed in one save (several phones, or a phone's endpoint and auth at once).
    #[test]
    fn saves_of_several_edits_give_what_a_full_build_gives(
        phones in 2..8usize,
        second in prop::collection::vec(any::<bool>(), 0..8),
        saves in prop::collection::vec(prop::collection::vec(edit(), 1..4), 1..4),
        extra in prop::option::of(prop::sample::select(EXTRA_ROUTES)),
    ) {
        let mut fleet = Fleet::new(phones, &second);
        fleet.extra_route = extra;
        check_saves(&mut fleet, &saves);
    }
}

/// After a patched reload, the routes are the previous snapshot's (shared) while every phone names the same files,
/// and built again when a changed phone names another one or the previous table reported something about
/// the phones' routes; each reload equals a full build either way (`check_saves`).
#[test]
fn a_patched_reload_keeps_the_routes_while_the_names_stay() {
    let reused = |extra_route: Option<&'static str>, edit: Edit| {
        let mut fleet = Fleet::new(6, &[false, true]);
        fleet.extra_route = extra_route;
        let dir = tempfile::tempdir().unwrap();
        let paths = fleet.write(dir.path());
        let first = Snapshot::build(&paths, &options()).unwrap();
        assert!(!first.reused_routes(), "a first build has nothing to reuse");
        let same = first.rebuild(&paths, &options()).unwrap();
        edit.apply(&mut fleet, 1, 1);
        fleet.write(dir.path());
        let next = same.rebuild(&paths, &options()).unwrap();
        assert!(
            next.reread_sections().is_some_and(|n| n > 0),
            "{edit:?} is patched"
        );
        assert_eq!(
            view(&next),
            view(&Snapshot::build(&paths, &options()).unwrap())
        );
        // Reused routes are shared, not copied: the very same list.
        let shared = |a: &Snapshot, b: &Snapshot| std::ptr::eq(a.routes(), b.routes());
        assert_eq!(shared(&first, &same), same.reused_routes());
        assert_eq!(shared(&same, &next), next.reused_routes());
        (same.reused_routes(), next.reused_routes())
    };
    // Nothing changed in pjsip.conf, or a value no name reads: the same table.
    assert_eq!(reused(None, Edit::CallerName), (true, true));
    assert_eq!(reused(None, Edit::Label), (true, true));
    assert_eq!(reused(Some(EXTRA_ROUTES[0]), Edit::Password), (true, true));
    // A changed phone's name changes with the label.
    assert_eq!(reused(Some(EXTRA_ROUTES[0]), Edit::Label), (true, false));
    // Duplicate names were reported: never reused.
    assert_eq!(
        reused(Some(EXTRA_ROUTES[1]), Edit::CallerName),
        (false, false)
    );
    // Checked against full builds over a row of saves.
    for extra in EXTRA_ROUTES {
        let mut fleet = Fleet::new(6, &[false, true]);
        fleet.extra_route = Some(extra);
        let saves: Vec<Vec<(Edit, usize)>> = PATCHED.iter().map(|&e| vec![(e, 1)]).collect();
        assert!(
            check_saves(&mut fleet, &saves).iter().all(|&p| p),
            "{extra}"
        );
    }
}

#[test]
fn a_save_of_several_value_edits_is_patched() {
    let mut fleet = Fleet::new(6, &[false, true]);
    let save = vec![
        (Edit::CallerName, 0),
        (Edit::Password, 0),
        (Edit::Label, 3),
        (Edit::AorOption, 5),
    ];
    assert_eq!(check_saves(&mut fleet, &[save]), [true]);
}

/// An include replaced by something that is not a regular file (a FIFO would block a reader until a
/// writer comes): the reload neither waits for it nor patches, and says what a full build says.
#[test]
fn an_include_that_is_no_regular_file_is_not_read() {
    let fleet = Fleet::new(3, &[]);
    let dir = tempfile::tempdir().unwrap();
    let paths = fleet.write(dir.path());
    let first = Snapshot::build(&paths, &options()).unwrap();
    let include = paths.config_dir.join("phones.conf");
    std::fs::remove_file(&include).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&include)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let reloaded = first.rebuild(&paths, &options());
    assert!(
        reloaded
            .as_ref()
            .map_or(true, |s| s.reread_sections().is_none())
    );
    assert_eq!(
        outcome(&reloaded),
        outcome(&Snapshot::build(&paths, &options()))
    );
}
