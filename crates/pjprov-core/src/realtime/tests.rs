//! Unit tests: sorcery.conf, extconfig.conf and res_pgsql.conf as Asterisk 22.10.1 reads them (the traps
//! of `../notes/realtime.md` included), rows as res_config_pgsql decodes them, objects as sorcery merges
//! them.

use asterisk_config::{Loader, MemorySource};

use super::decode::{self, Notes, ReadPath};
use super::*;
use crate::error::{Diagnostic, Error, Severity};
use crate::pjsip::{Mapped, Objects};

const ETC: &str = "/etc/asterisk";
const EXTCONFIG: &str = "[settings]\nps_endpoints => pgsql,asterisk\nps_auths => pgsql,asterisk\nps_transports => pgsql,asterisk\nps_phoneprovs => pgsql,asterisk\n";
const RES_PGSQL: &str = "[general]\ndbhost = 127.0.0.1\ndbport = 5432\ndbname = asterisk\ndbuser = asterisk\ndbpass = s3cret\n";

fn source(files: &[(&str, &str)]) -> MemorySource {
    let mut source = MemorySource::new();
    for (name, text) in files {
        source.insert(format!("{ETC}/{name}"), *text);
    }
    source
}

fn plan(files: &[(&str, &str)]) -> Plan {
    Plan::read(&Loader::with_source(ETC, source(files)))
}

/// A plan with the usual extconfig.conf and res_pgsql.conf, and this sorcery.conf.
fn with_sorcery(sorcery: &str) -> Plan {
    plan(&[
        ("sorcery.conf", sorcery),
        ("extconfig.conf", EXTCONFIG),
        ("res_pgsql.conf", RES_PGSQL),
    ])
}

fn messages(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(|d| d.to_string()).collect()
}

fn has(diags: &[Diagnostic], needle: &str) -> bool {
    diags.iter().any(|d| d.to_string().contains(needle))
}

fn realtime(tables: &[&str]) -> Source {
    Source::Realtime(RealtimeSource {
        family: tables[0].to_owned(),
        tables: tables.iter().map(|t| t.to_string()).collect(),
    })
}

fn kinds(plan: &Plan, object_type: ObjectType) -> Vec<Source> {
    plan.sources(object_type)
        .iter()
        .map(|(s, _)| s.clone())
        .collect()
}

fn default_config(object_type: ObjectType) -> Source {
    Source::Config(ConfigSource::default_for(object_type))
}

// ---- sorcery.conf --------------------------------------------------------------------------------------

#[test]
fn without_sorcery_conf_every_type_has_its_default_and_the_wizard() {
    let plan = plan(&[]);
    assert!(plan.is_default() && plan.is_usable());
    assert!(!plan.needs_database());
    for t in [
        ObjectType::Endpoint,
        ObjectType::Auth,
        ObjectType::Aor,
        ObjectType::Phoneprov,
    ] {
        assert_eq!(
            kinds(&plan, t),
            [default_config(t), Source::Wizard],
            "{t:?}"
        );
    }
    // The wizard makes no transport.
    assert_eq!(
        kinds(&plan, ObjectType::Transport),
        [default_config(ObjectType::Transport)]
    );
    assert!(
        plan.diagnostics().is_empty(),
        "{:?}",
        messages(plan.diagnostics())
    );
    assert!(
        plan.watch()
            .contains(&std::path::PathBuf::from("/etc/asterisk/sorcery.conf")),
        "creating sorcery.conf later must reload"
    );
}

#[test]
fn a_realtime_line_replaces_the_default_of_its_type_only() {
    let plan = with_sorcery("[res_pjsip]\nendpoint = realtime,ps_endpoints\n");
    assert!(!plan.is_default());
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [realtime(&["ps_endpoints"]), Source::Wizard],
        "pjsip.conf's endpoints are no longer read"
    );
    assert_eq!(
        kinds(&plan, ObjectType::Auth),
        [default_config(ObjectType::Auth), Source::Wizard]
    );
    assert_eq!(
        plan.queries(),
        [Query {
            table: "ps_endpoints".into(),
            sql: "SELECT * FROM ps_endpoints WHERE id LIKE '%' ESCAPE '\\' ORDER BY id".into(),
        }]
    );
}

#[test]
fn mappings_keep_file_order_and_the_wizard_comes_last() {
    let plan = with_sorcery(
        "[res_pjsip]\nendpoint = realtime,ps_endpoints\nendpoint = config,pjsip.conf,criteria=type=endpoint\n",
    );
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [
            realtime(&["ps_endpoints"]),
            default_config(ObjectType::Endpoint),
            Source::Wizard
        ]
    );
    let plan = with_sorcery(
        "[res_pjsip]\nendpoint = config,pjsip.conf,criteria=type=endpoint\nendpoint = realtime,ps_endpoints\n",
    );
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [
            default_config(ObjectType::Endpoint),
            realtime(&["ps_endpoints"]),
            Source::Wizard
        ]
    );
}

#[test]
fn a_blank_after_the_comma_names_another_family_and_res_pjsip_fails_to_load() {
    let plan =
        with_sorcery("[res_pjsip]\nendpoint = realtime, ps_endpoints\nauth = realtime,ps_auths\n");
    assert!(!plan.is_usable(), "Asterisk loads no pjsip object at all");
    let d = plan
        .diagnostics()
        .iter()
        .find(|d| matches!(d.error, Error::SorceryApplyFailed { .. }))
        .expect("the failure");
    assert_eq!(d.severity(), Severity::Error);
    assert_eq!(d.line, 2);
    let text = d.to_string();
    assert!(text.contains("no family ' ps_endpoints'"), "{text}");
    assert!(
        text.contains("nothing around the comma is trimmed"),
        "{text}"
    );
    assert!(text.contains("res_pjsip fails to load"), "{text}");
    // The section stops at the failure: the auth line is not applied.
    assert_eq!(
        kinds(&plan, ObjectType::Auth),
        [default_config(ObjectType::Auth), Source::Wizard]
    );
}

#[test]
fn wizard_and_type_names_compare_with_case() {
    let plan = with_sorcery("[res_pjsip]\nendpoint = Realtime,ps_endpoints\n");
    assert!(!plan.is_usable());
    assert!(has(
        plan.diagnostics(),
        "there is no sorcery wizard 'Realtime'"
    ));
    assert!(has(plan.diagnostics(), "write 'realtime'"));

    let plan = with_sorcery("[res_pjsip]\nEndpoint = realtime,ps_endpoints\n");
    assert!(plan.is_usable());
    assert!(has(plan.diagnostics(), "type names compare with case"));
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [default_config(ObjectType::Endpoint), Source::Wizard],
        "'Endpoint' is another type"
    );
}

#[test]
fn a_second_mapping_with_the_same_wizard_is_skipped() {
    let plan = plan(&[
        (
            "sorcery.conf",
            "[res_pjsip]\nendpoint = realtime,ps_endpoints\nendpoint = realtime,more_endpoints\n",
        ),
        (
            "extconfig.conf",
            "[settings]\nps_endpoints => pgsql,asterisk\nmore_endpoints => pgsql,asterisk\n",
        ),
        ("res_pgsql.conf", RES_PGSQL),
    ]);
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [realtime(&["ps_endpoints"]), Source::Wizard]
    );
    assert!(has(plan.diagnostics(), "Asterisk skips this line"));
}

#[test]
fn section_names_compare_without_case_and_only_the_first_counts() {
    let plan = with_sorcery(
        "[RES_PJSIP]\nendpoint = realtime,ps_endpoints\n[res_pjsip]\nauth = realtime,ps_auths\n",
    );
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [realtime(&["ps_endpoints"]), Source::Wizard]
    );
    assert_eq!(
        kinds(&plan, ObjectType::Auth),
        [default_config(ObjectType::Auth), Source::Wizard]
    );
}

#[test]
fn phoneprov_is_mapped_from_either_section_and_keeps_its_default_otherwise() {
    let plan = with_sorcery("[res_pjsip_phoneprov_provider]\nphoneprov = realtime,ps_phoneprovs\n");
    assert_eq!(
        kinds(&plan, ObjectType::Phoneprov),
        [realtime(&["ps_phoneprovs"]), Source::Wizard]
    );
    let plan = with_sorcery("[res_pjsip]\nphoneprov = realtime,ps_phoneprovs\n");
    assert_eq!(
        kinds(&plan, ObjectType::Phoneprov),
        [realtime(&["ps_phoneprovs"]), Source::Wizard]
    );
    // A failure in res_pjsip_phoneprov_provider's section is logged and ignored: the default applies.
    let plan = with_sorcery("[res_pjsip_phoneprov_provider]\nphoneprov = realtime,nowhere\n");
    assert!(plan.is_usable(), "res_pjsip still loads");
    assert!(has(plan.diagnostics(), "the lines above it still apply"));
    assert_eq!(
        kinds(&plan, ObjectType::Phoneprov),
        [default_config(ObjectType::Phoneprov), Source::Wizard]
    );
}

#[test]
fn mappings_for_other_types_still_fail_res_pjsip() {
    let plan = with_sorcery(
        "[res_pjsip]\ncontact = astdb,registrar\nidentify = realtime,ps_endpoint_id_ips\n",
    );
    assert!(!plan.is_usable(), "the family is not in extconfig.conf");
    let plan = with_sorcery("[res_pjsip]\ncontact = astdb,registrar\n");
    assert!(plan.is_usable() && plan.is_default());
}

#[test]
fn unfollowable_drivers_are_warnings_naming_the_mapping() {
    let plan = plan(&[
        (
            "sorcery.conf",
            "[res_pjsip]\nendpoint = realtime,ps_endpoints\n[res_pjsip_phoneprov_provider]\nphoneprov = realtime,ps_phoneprovs\n",
        ),
        (
            "extconfig.conf",
            "[settings]\nps_endpoints => odbc,asterisk\nps_endpoints => pgsql,asterisk,pg_endpoints,2\nps_phoneprovs => mysql,asterisk\n",
        ),
        ("res_pgsql.conf", RES_PGSQL),
    ]);
    let warnings: Vec<&Diagnostic> = plan
        .diagnostics()
        .iter()
        .filter(|d| matches!(d.error, Error::MappingNotFollowed { .. }))
        .collect();
    assert_eq!(warnings.len(), 2, "{:?}", messages(plan.diagnostics()));
    assert!(warnings.iter().all(|d| d.severity() == Severity::Warning));
    assert!(
        warnings[0]
            .to_string()
            .contains("endpoint = realtime,ps_endpoints")
            || warnings[0]
                .to_string()
                .contains("endpoint=realtime,ps_endpoints")
    );
    assert!(warnings[0].to_string().contains("odbc"));
    // By id, a lookup odbc cannot answer goes to priority 2: that table is read.
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [
            realtime_family("ps_endpoints", &["pg_endpoints"]),
            Source::Wizard
        ]
    );
    // All at once, the first engine answers: Asterisk's phones come from MySQL, pjprov has none.
    assert_eq!(
        kinds(&plan, ObjectType::Phoneprov),
        [Source::Nothing, Source::Wizard]
    );
    assert!(warnings[1].to_string().contains("mysql"));
}

fn realtime_family(family: &str, tables: &[&str]) -> Source {
    Source::Realtime(RealtimeSource {
        family: family.to_owned(),
        tables: tables.iter().map(|t| t.to_string()).collect(),
    })
}

#[test]
fn astdb_and_memory_give_nothing() {
    let plan = with_sorcery("[res_pjsip]\nendpoint = astdb,endpoints\nauth = memory\n");
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [Source::Nothing, Source::Wizard]
    );
    assert_eq!(
        kinds(&plan, ObjectType::Auth),
        [Source::Nothing, Source::Wizard]
    );
    assert!(has(plan.diagnostics(), "cannot read the astdb store"));
    assert!(has(
        plan.diagnostics(),
        "no config file or table pjprov reads"
    ));
}

#[test]
fn memory_cache_is_tolerated_but_its_options_are_checked() {
    let plan = with_sorcery(
        "[res_pjsip]\nendpoint/cache = memory_cache,object_lifetime_stale=600,object_lifetime_maximum=1800,expire_on_reload=yes\nendpoint = realtime,ps_endpoints\n",
    );
    assert!(plan.is_usable());
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [Source::Nothing, realtime(&["ps_endpoints"]), Source::Wizard]
    );
    assert!(has(plan.diagnostics(), "answers from this cache"));
    for bad in [
        "endpoint/cache = memory_cache,bogus=1\n",
        "endpoint/cache = memory_cache,maximum_objects=-1\n",
        "endpoint/cache = memory_cache,name=\n",
        "endpoint/cache = memory_cache,,expire_on_reload=yes\n",
        // No comma: the open callback is handed NULL.
        "endpoint/cache = memory_cache\n",
    ] {
        let plan = with_sorcery(&format!("[res_pjsip]\n{bad}"));
        assert!(!plan.is_usable(), "{bad}");
    }
    let plan = with_sorcery(
        "[res_pjsip]\nendpoint/cache = memory_cache,\nendpoint = realtime,ps_endpoints\n",
    );
    assert!(plan.is_usable(), "a trailing comma is no option");
}

#[test]
fn config_mappings_read_their_options() {
    let plan = with_sorcery(
        "[res_pjsip]\nendpoint = config,users.conf,criteria=type=endpoint,criteria=context=phones,integrity=file,buckets=x,colour=blue\n",
    );
    assert!(plan.is_usable());
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint)[0],
        Source::Config(ConfigSource {
            file: "users.conf".into(),
            criteria: vec![
                ("type".into(), "endpoint".into()),
                ("context".into(), "phones".into())
            ],
            explicit_name: None,
            single_object: false,
            integrity_file: true,
        })
    );
    assert!(has(plan.diagnostics(), "unsupported option 'colour'"));
    assert!(has(plan.diagnostics(), "unsupported bucket size"));
    for bad in [
        "endpoint = config,pjsip.conf,criteria=type\n",
        "endpoint = config,pjsip.conf,criteria\n",
        "endpoint = config,pjsip.conf,explicit_name=\n",
        "endpoint = config\n",
        "endpoint = config,\n",
    ] {
        assert!(
            !with_sorcery(&format!("[res_pjsip]\n{bad}")).is_usable(),
            "{bad}"
        );
    }
}

#[test]
fn allow_unqualified_fetch_matters_for_phoneprov_only() {
    let plan = with_sorcery(
        "[res_pjsip]\nendpoint = realtime,ps_endpoints,allow_unqualified_fetch=no\n[res_pjsip_phoneprov_provider]\nphoneprov = realtime,ps_phoneprovs,allow_unqualified_fetch=error\n",
    );
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [realtime(&["ps_endpoints"]), Source::Wizard]
    );
    assert_eq!(
        kinds(&plan, ObjectType::Phoneprov),
        [Source::Nothing, Source::Wizard]
    );
    assert!(has(plan.diagnostics(), "allow_unqualified_fetch forbids"));
    let plan = with_sorcery(
        "[res_pjsip]\nendpoint = realtime,ps_endpoints,allow_unqualified_fetch=maybe\n",
    );
    assert!(!plan.is_usable());
    let plan = with_sorcery("[res_pjsip]\nendpoint = realtime,ps_endpoints,colour=blue\n");
    assert!(!plan.is_usable());
}

#[test]
fn hidden_types_are_named_when_a_type_has_no_store() {
    let plan = with_sorcery("[res_pjsip]\nendpoint/cache = memory_cache,\n");
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [Source::Nothing, Source::Wizard],
        "a mapping exists, so no default is added"
    );
    assert!(has(
        plan.diagnostics(),
        "maps 'endpoint' to no config file or table"
    ));
}

// ---- extconfig.conf ------------------------------------------------------------------------------------

fn extconfig(text: &str) -> extconfig::Extconfig {
    let loaded =
        Loader::with_source(ETC, source(&[("extconfig.conf", text)])).load("extconfig.conf");
    extconfig::Extconfig::read(Some(&loaded.config), &mut Vec::new())
}

#[test]
fn extconfig_lines_split_as_strsep_does() {
    let ext = extconfig(
        "[settings]\na => pgsql,asterisk\nb => pgsql,asterisk,tbl_b\nc => pgsql,asterisk,tbl_c,2\nd => ldap,\"ou=a,dc=b\",tbl_d,3\ne => pgsql,db,\nf => pgsql\ng => pgsql, db, public.tbl_g\n",
    );
    let a = ext.find("a", 1).unwrap();
    assert_eq!(
        (a.driver.as_str(), a.table_for("a")),
        ("pgsql", "a"),
        "the table defaults to the name"
    );
    assert_eq!(ext.find("b", 1).unwrap().table_for("b"), "tbl_b");
    assert!(ext.find("c", 1).is_none());
    assert_eq!(
        ext.find("C", 2).unwrap().table_for("c"),
        "tbl_c",
        "names compare without case"
    );
    let d = ext.find("d", 3).unwrap();
    assert_eq!(
        (d.database.as_str(), d.table_for("d")),
        ("ou=a,dc=b", "tbl_d")
    );
    assert_eq!(
        ext.find("e", 1).unwrap().table_for("e"),
        "",
        "an empty table is not the default"
    );
    assert!(!ext.is_defined("f"), "a value without a comma is ignored");
    let g = ext.find("g", 1).unwrap();
    assert_eq!(
        (g.database.as_str(), g.table_for("g")),
        (" db", " public.tbl_g"),
        "nothing is trimmed"
    );
}

#[test]
fn of_two_lines_for_one_family_and_priority_the_later_wins() {
    let ext =
        extconfig("[settings]\nx => pgsql,db,first\nx => pgsql,db,second\nx => pgsql,db,third,0\n");
    assert_eq!(
        ext.find("x", 1).unwrap().table_for("x"),
        "third",
        "priority 0 means 1"
    );
}

#[test]
fn only_the_first_settings_section_counts_and_some_names_cannot_be_bound() {
    let ext = extconfig(
        "[settings]\na => pgsql,db\n[settings]\nb => pgsql,db\n[x]\nlogger.conf => pgsql,db\n",
    );
    assert!(ext.is_defined("a") && !ext.is_defined("b"));
    let mut diags = Vec::new();
    let loaded = Loader::with_source(
        ETC,
        source(&[("extconfig.conf", "[settings]\nlogger.conf => pgsql,db\n")]),
    )
    .load("extconfig.conf");
    let ext = extconfig::Extconfig::read(Some(&loaded.config), &mut diags);
    assert!(!ext.is_defined("logger.conf"));
    assert!(has(&diags, "cannot bind 'logger.conf'"));
}

#[test]
fn atoi_reads_as_c_does() {
    assert_eq!(extconfig::atoi(" 12abc"), 12);
    assert_eq!(extconfig::atoi("-3"), -3);
    assert_eq!(extconfig::atoi("x"), 0);
    assert_eq!(extconfig::atoi("99999999999"), i32::MAX);
}

#[test]
fn static_realtime_for_a_file_pjprov_reads_rejects_the_configuration() {
    for line in [
        "pjsip.conf => pgsql,asterisk,ast_config",
        "phoneprov.conf => odbc,asterisk,ast_config",
        "global => pgsql,asterisk,ast_config",
    ] {
        let plan = plan(&[("extconfig.conf", &format!("[settings]\n{line}\n"))]);
        assert!(!plan.is_usable(), "{line}");
        assert!(has(plan.diagnostics(), "static realtime"), "{line}");
    }
    // A file pjprov does not read is none of its business.
    let plan = plan(&[(
        "extconfig.conf",
        "[settings]\nqueues.conf => pgsql,asterisk,ast_config\n",
    )]);
    assert!(plan.is_usable() && plan.diagnostics().is_empty());
}

#[test]
fn unknown_drivers_stop_the_priorities() {
    let plan = plan(&[
        (
            "sorcery.conf",
            "[res_pjsip]\nendpoint = realtime,ps_endpoints\n",
        ),
        (
            "extconfig.conf",
            "[settings]\nps_endpoints => pgsq,asterisk\nps_endpoints => pgsql,asterisk,t2,2\n",
        ),
        ("res_pgsql.conf", RES_PGSQL),
    ]);
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [Source::Nothing, Source::Wizard]
    );
    assert!(has(plan.diagnostics(), "no realtime driver"));
}

#[test]
fn phoneprov_never_falls_back_to_a_later_priority() {
    let plan = plan(&[
        (
            "sorcery.conf",
            "[res_pjsip]\nphoneprov = realtime,pp\nendpoint = realtime,ep\n",
        ),
        (
            "extconfig.conf",
            "[settings]\npp => pgsql,asterisk,pp1\npp => pgsql,asterisk,pp2,2\nep => pgsql,asterisk,ep1\nep => pgsql,asterisk,ep2,2\nep => pgsql,asterisk,ep4,4\n",
        ),
        ("res_pgsql.conf", RES_PGSQL),
    ]);
    assert_eq!(
        kinds(&plan, ObjectType::Phoneprov),
        [realtime_family("pp", &["pp1"]), Source::Wizard]
    );
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [realtime_family("ep", &["ep1", "ep2"]), Source::Wizard],
        "priorities stop at the first gap"
    );
    assert!(has(plan.diagnostics(), "pjprov never falls back"));
}

#[test]
fn table_names_must_be_plain_identifiers() {
    let plan = plan(&[
        (
            "sorcery.conf",
            "[res_pjsip]\nendpoint = realtime,ps_endpoints\n",
        ),
        (
            "extconfig.conf",
            "[settings]\nps_endpoints => pgsql,asterisk,ps_endpoints/**/UNION SELECT 1\n",
        ),
        ("res_pgsql.conf", RES_PGSQL),
    ]);
    assert_eq!(
        kinds(&plan, ObjectType::Endpoint),
        [Source::Nothing, Source::Wizard]
    );
    assert!(!plan.needs_database());
    assert!(plan::is_plain_table_name("asterisk.ps_endpoints"));
    assert!(!plan::is_plain_table_name("a.b.c"));
    assert!(!plan::is_plain_table_name("\"Quoted\""));
    assert!(!plan::is_plain_table_name(""));
}

// ---- res_pgsql.conf ------------------------------------------------------------------------------------

fn connection(text: &str) -> (Option<Connection>, Vec<Diagnostic>) {
    let plan = plan(&[
        (
            "sorcery.conf",
            "[res_pjsip]\nendpoint = realtime,ps_endpoints\n",
        ),
        ("extconfig.conf", EXTCONFIG),
        ("res_pgsql.conf", text),
    ]);
    (plan.connection().cloned(), plan.diagnostics().to_vec())
}

#[test]
fn new_option_names_win_over_legacy_ones_and_the_first_value_counts() {
    let (c, _) = connection(
        "[general]\ndbuser = old\nuser = new\nuser = later\ndbhost = db.example\nhostname = pg.example\nport = 6432\ndbport = 1\ndbname = voip\npassword = pw\ndbpass = other\nappname = pbx\n",
    );
    let c = c.unwrap();
    assert_eq!(c.user, "new");
    assert_eq!(c.host, "pg.example");
    assert_eq!(c.port, 6432);
    assert_eq!(c.password.expose(), "pw");
    assert_eq!(
        c.conninfo().unwrap().expose(),
        "host=pg.example port=6432 dbname=voip user=new application_name=pbx password=pw"
    );
    assert_eq!(c.describe(), "new@pg.example:6432/voip");
    assert!(
        !format!("{c:?}").contains("pw\""),
        "Debug never shows the password"
    );
}

#[test]
fn defaults_are_asterisks_and_the_socket_is_a_directory() {
    let (c, diags) = connection("[general]\n");
    let c = c.unwrap();
    assert_eq!(
        (
            c.user.as_str(),
            c.password.expose(),
            c.dbname.as_str(),
            c.port
        ),
        ("asterisk", "asterisk", "asterisk", 5432)
    );
    assert_eq!(c.socket_dir, "/tmp");
    assert_eq!(
        c.conninfo().unwrap().expose(),
        "host=/tmp port=5432 dbname=asterisk user=asterisk password=asterisk"
    );
    assert!(has(&diags, "no database password found"));
    assert!(
        diags
            .iter()
            .all(|d| !d.to_string().contains("asterisk password"))
    );

    let (c, _) = connection("[general]\ndbsock = /var/run/postgresql\ndbpass =\n");
    let c = c.unwrap();
    assert_eq!(
        c.conninfo().unwrap().expose(),
        "host=/var/run/postgresql port=5432 dbname=asterisk user=asterisk",
        "an empty password is not sent"
    );
    // The socket is read only without a host; `localhost` is TCP.
    let (c, _) = connection("[general]\ndbhost = localhost\ndbsock = /var/run/postgresql\n");
    let c = c.unwrap();
    assert_eq!((c.host.as_str(), c.socket_dir.as_str()), ("localhost", ""));
}

#[test]
fn long_values_are_cut_as_asterisk_cuts_them() {
    let long = "d".repeat(70);
    let (c, diags) = connection(&format!("[general]\ndbname = {long}\nuser = {long}\n"));
    let c = c.unwrap();
    assert_eq!(c.dbname.len(), 49);
    assert_eq!(c.user.len(), 63);
    assert!(has(&diags, "longer than 63 bytes"));
}

#[test]
fn values_asterisk_would_split_are_named_never_shown() {
    let (c, diags) = connection("[general]\ndbpass = two words\n");
    assert!(has(&diags, "dbpass holds a blank"));
    assert!(messages(&diags).iter().all(|m| !m.contains("two words")));
    assert_eq!(
        c.unwrap().conninfo().unwrap().expose(),
        "host=/tmp port=5432 dbname=asterisk user=asterisk password=two words",
        "pasted as Asterisk pastes it: libpq then reads 'words' as a keyword"
    );
    let (c, diags) = connection("[general]\ndbuser =\n");
    assert!(c.unwrap().conninfo().is_none());
    assert!(has(&diags, "Asterisk never connects"));
}

#[test]
fn without_res_pgsql_conf_no_pgsql_family_has_objects() {
    let plan = plan(&[
        (
            "sorcery.conf",
            "[res_pjsip]\nendpoint = realtime,ps_endpoints\n",
        ),
        ("extconfig.conf", EXTCONFIG),
        ("res_config_pgsql.conf", RES_PGSQL),
    ]);
    assert!(plan.is_usable());
    assert!(!plan.needs_database() && plan.connection().is_none());
    let d = plan
        .diagnostics()
        .iter()
        .find(|d| matches!(d.error, Error::RealtimeProblem { .. }))
        .unwrap();
    assert_eq!(d.severity(), Severity::Error);
    assert!(d.to_string().contains("never res_config_pgsql.conf"), "{d}");
}

#[test]
fn the_order_option_drops_order_by() {
    let plan = plan(&[
        (
            "sorcery.conf",
            "[res_pjsip]\nendpoint = realtime,ps_endpoints\n",
        ),
        ("extconfig.conf", EXTCONFIG),
        (
            "res_pgsql.conf",
            "[general]\norder_multi_row_results_by_initial_column = no\n",
        ),
    ]);
    assert_eq!(
        plan.queries()[0].sql,
        "SELECT * FROM ps_endpoints WHERE id LIKE '%' ESCAPE '\\'"
    );
}

#[test]
fn the_database_of_extconfig_is_ignored_with_a_note() {
    let plan = plan(&[
        (
            "sorcery.conf",
            "[res_pjsip]\nendpoint = realtime,ps_endpoints\n",
        ),
        (
            "extconfig.conf",
            "[settings]\nps_endpoints => pgsql,other\n",
        ),
        ("res_pgsql.conf", RES_PGSQL),
    ]);
    assert!(has(
        plan.diagnostics(),
        "always uses res_pgsql.conf's dbname 'asterisk'"
    ));
}

// ---- decoding ------------------------------------------------------------------------------------------

fn chunks(value: &str, path: ReadPath) -> (Vec<String>, Notes) {
    let mut notes = Notes::default();
    (decode::chunks(value, path, &mut notes), notes)
}

#[test]
fn values_split_at_semicolons_and_lose_trailing_blanks_only() {
    let multi = |v: &str| chunks(v, ReadPath::Multi).0;
    assert_eq!(multi("ulaw;alaw"), ["ulaw", "alaw"]);
    assert_eq!(
        multi("  x  "),
        ["  x"],
        "ast_variable_new gets the chunk's original start"
    );
    assert_eq!(multi(" a ; b "), [" a", " b"]);
    assert!(multi("").is_empty(), "NULL and '' are absent");
    assert!(multi("   ").is_empty());
    assert!(multi(";;").is_empty());
    assert_eq!(multi("a;;b"), ["a", "b"]);
}

#[test]
fn hex_escapes_decode_once_left_to_right() {
    let multi = |v: &str| chunks(v, ReadPath::Multi).0;
    assert_eq!(multi("a^3Bb"), ["a;b"]);
    assert_eq!(multi("x^41y"), ["xAy"], "a password with ^hh changes");
    assert_eq!(
        multi("^5E41"),
        ["^41"],
        "decoded output is not decoded again"
    );
    assert_eq!(multi("^g1"), ["^g1"]);
    assert_eq!(multi("a^00b"), ["a"], "a C string ends at NUL");
    assert!(multi("^00abc").is_empty());
    assert_eq!(multi("a^20"), ["a "], "trimmed before decoding");
}

#[test]
fn a_lone_blank_is_kept_on_the_multi_path_and_emptied_on_the_single_one() {
    assert_eq!(chunks("^20", ReadPath::Multi).0, [" "]);
    assert_eq!(chunks("^20", ReadPath::Single).0, [""]);
}

#[test]
fn escapes_cut_short_are_kept_and_flagged() {
    let (out, notes) = chunks("x^", ReadPath::Multi);
    assert_eq!(out, ["x^"]);
    assert!(notes.undefined_escape);
    let (out, notes) = chunks("x^4;y", ReadPath::Multi);
    assert_eq!(out, ["x^4", "y"]);
    assert!(notes.undefined_escape);
    let (_, notes) = chunks("x^zz", ReadPath::Multi);
    assert!(!notes.undefined_escape);
    let (out, notes) = chunks("^ff", ReadPath::Multi);
    assert_eq!(out, ["\u{fffd}"]);
    assert!(notes.lossy);
}

#[test]
fn lookups_find_rows_through_asterisks_escaping() {
    assert_eq!(decode::lookup_key("1000").as_deref(), Some("1000"));
    assert_eq!(decode::lookup_key("a^3Bb").as_deref(), Some("a;b"));
    assert_eq!(decode::lookup_key("a^5E").as_deref(), Some("a^"));
    assert_eq!(
        decode::lookup_key("a;b"),
        None,
        "'a;b' is looked up as 'a^3Bb'"
    );
    assert_eq!(decode::lookup_key("a^41"), None);
    assert_eq!(
        decode::lookup_key("a^3b"),
        None,
        "ESCAPE_STRING writes upper case"
    );
}

fn table(name: &str, columns: &[&str], rows: &[&[Option<&str>]]) -> TableRows {
    let mut t = TableRows::new(
        name,
        format!("pgsql:{name}"),
        columns.iter().map(|c| c.to_string()).collect(),
    );
    for row in rows {
        t.push(
            row.iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i, v))),
        )
        .unwrap();
    }
    t
}

#[test]
fn the_id_is_the_last_id_chunk_and_the_rest_keeps_column_order() {
    let t = table(
        "t",
        &["b", "id", "a"],
        &[
            &[Some("2;3"), Some("x;y"), None],
            &[Some("1"), Some("  "), Some("z")],
        ],
    );
    let set = decode::object_set(&t, 0, ReadPath::Multi);
    assert_eq!(set.id.as_deref(), Some("y"));
    assert_eq!(set.vars, [("b", "2".to_owned()), ("b", "3".to_owned())]);
    let set = decode::object_set(&t, 1, ReadPath::Multi);
    assert_eq!(set.id, None, "no id: sorcery skips the row");
    assert_eq!(decode::raw_id(&t, 1), Some("  "));
    assert!(decode::raw_id(&t, 7).is_none());
    assert_eq!(
        t.row(7).count(),
        0,
        "rows are input: out of range is nothing"
    );
}

// ---- merging -------------------------------------------------------------------------------------------

struct World {
    plan: Plan,
    pjsip: asterisk_config::Config,
    wizards: Option<asterisk_config::Config>,
}

fn world(sorcery: &str, pjsip: &str, wizards: Option<&str>) -> World {
    let mut files = vec![
        ("sorcery.conf", sorcery),
        ("extconfig.conf", EXTCONFIG),
        ("res_pgsql.conf", RES_PGSQL),
        ("pjsip.conf", pjsip),
    ];
    if let Some(w) = wizards {
        files.push(("pjsip_wizard.conf", w));
    }
    let loader = Loader::with_source(ETC, source(&files));
    World {
        plan: Plan::read(&loader),
        pjsip: loader.load("pjsip.conf").config,
        wizards: wizards.map(|_| loader.load("pjsip_wizard.conf").config),
    }
}

fn read(world: &World, rows: &RealtimeRows) -> (Option<Objects>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let objects = Objects::read_mapped(
        &Mapped {
            plan: &world.plan,
            pjsip: &world.pjsip,
            wizards: world.wizards.as_ref(),
            configs: &[],
            rows: Some(rows),
        },
        &mut diags,
    );
    (objects, diags)
}

fn rows(tables: Vec<TableRows>) -> RealtimeRows {
    let mut rows = RealtimeRows::new();
    for t in tables {
        rows.insert(t);
    }
    rows
}

const ALL_REALTIME: &str = "[res_pjsip]\nendpoint = realtime,ps_endpoints\nauth = realtime,ps_auths\ntransport = realtime,ps_transports\n[res_pjsip_phoneprov_provider]\nphoneprov = realtime,ps_phoneprovs\n";

fn fleet_rows() -> RealtimeRows {
    rows(vec![
        table(
            "ps_endpoints",
            &[
                "id",
                "transport",
                "aors",
                "auth",
                "callerid",
                "Context",
                "notes",
            ],
            &[&[
                Some("1000"),
                Some("udp"),
                Some("1000"),
                Some("1000"),
                Some("\"Alice\" <1000>"),
                Some("x"),
                Some("free text"),
            ]],
        ),
        table(
            "ps_auths",
            &["id", "auth_type", "password", "username"],
            &[&[
                Some("1000"),
                Some("userpass"),
                Some("s3cret"),
                Some("alice"),
            ]],
        ),
        table(
            "ps_transports",
            &["id", "bind", "protocol"],
            &[&[Some("udp"), Some("0.0.0.0:5062"), Some("udp")]],
        ),
        table(
            "ps_phoneprovs",
            &["id", "endpoint", "MAC", "PROFILE", "LINE", "TYPE"],
            &[&[
                Some("1000-phone"),
                Some("1000"),
                Some("0004f2aabbcc"),
                Some("polycom"),
                Some("1"),
                Some("phoneprov"),
            ]],
        ),
    ])
}

#[test]
fn every_object_can_come_from_rows() {
    let world = world(ALL_REALTIME, "", None);
    let (objects, diags) = read(&world, &fleet_rows());
    let objects = objects.unwrap();
    let e = objects.endpoint("1000").expect("the endpoint");
    assert_eq!(e.transport, "udp");
    assert_eq!(e.callerid.as_deref(), Some("\"Alice\" <1000>"));
    assert_eq!(e.auths, ["1000"]);
    let a = objects.auth("1000").unwrap();
    assert_eq!(
        (a.username.as_str(), a.password.as_str()),
        ("alice", "s3cret")
    );
    assert_eq!(objects.transports.get("udp").unwrap().port, 5062);
    let pp = &objects.phoneprovs[0];
    assert_eq!(pp.id, "1000-phone");
    let keys: Vec<&str> = pp.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        ["endpoint", "MAC", "PROFILE", "LINE"],
        "id and type are no variables"
    );
    assert_eq!(pp.src.file.to_str(), Some("pgsql:ps_phoneprovs"));
    assert_eq!(pp.src.line, 1);
    // Columns an endpoint does not have (with case) are dropped without rejecting it.
    assert!(has(&diags, "'Context', 'notes' are not endpoint options"));
    assert!(
        diags.iter().all(|d| d.severity() == Severity::Warning),
        "{:?}",
        messages(&diags)
    );
    assert!(messages(&diags).iter().all(|m| !m.contains("s3cret")));
}

#[test]
fn without_the_rows_nothing_is_built() {
    let world = world(ALL_REALTIME, "", None);
    let partial = rows(vec![table("ps_endpoints", &["id"], &[])]);
    let (objects, diags) = read(&world, &partial);
    assert!(objects.is_none());
    assert!(
        diags
            .iter()
            .any(|d| matches!(&d.error, Error::RowsNotFetched { table } if table == "ps_auths"))
    );
}

#[test]
fn the_first_mapping_wins_a_clash_of_ids() {
    let pjsip = "[1000]\ntype = endpoint\ncallerid = From file <1>\n";
    let rows_first = world(
        "[res_pjsip]\nendpoint = realtime,ps_endpoints\nendpoint = config,pjsip.conf,criteria=type=endpoint\n",
        pjsip,
        None,
    );
    let rows = fleet_rows();
    let (objects, diags) = read(&rows_first, &rows);
    assert_eq!(
        objects
            .unwrap()
            .endpoint("1000")
            .unwrap()
            .callerid
            .as_deref(),
        Some("\"Alice\" <1000>")
    );
    assert!(has(
        &diags,
        "1 endpoint object(s) of endpoint=config,pjsip.conf,criteria=type=endpoint have the id"
    ));

    let file_first = world(
        "[res_pjsip]\nendpoint = config,pjsip.conf,criteria=type=endpoint\nendpoint = realtime,ps_endpoints\n",
        pjsip,
        None,
    );
    let (objects, _) = read(&file_first, &rows);
    assert_eq!(
        objects
            .unwrap()
            .endpoint("1000")
            .unwrap()
            .callerid
            .as_deref(),
        Some("From file <1>")
    );
}

#[test]
fn passwords_asterisk_would_decode_are_pointed_out_never_shown() {
    let world = world("[res_pjsip]\nauth = realtime,ps_auths\n", "", None);
    let rows = rows(vec![table(
        "ps_auths",
        &["id", "password", "username"],
        &[&[Some("1000"), Some("x^41y;z"), Some("u")]],
    )]);
    let (objects, diags) = read(&world, &rows);
    assert_eq!(
        objects.unwrap().auth("1000").unwrap().password,
        "z",
        "the last of 'xAy;z'"
    );
    assert!(has(&diags, "1 password(s) hold ';' or '^'"));
    assert!(messages(&diags).iter().all(|m| !m.contains("x^41y")));
}

#[test]
fn a_rejected_object_lets_the_next_mapping_answer() {
    // The row's auth has no username: sorcery's lookup returns nothing there and asks pjsip.conf.
    let world = world(
        "[res_pjsip]\nauth = realtime,ps_auths\nauth = config,pjsip.conf,criteria=type=auth\n",
        "[1000]\ntype = auth\nusername = fromfile\npassword = p\n",
        None,
    );
    let rows = rows(vec![table(
        "ps_auths",
        &["id", "password", "username"],
        &[&[Some("1000"), Some("x"), None]],
    )]);
    let (objects, diags) = read(&world, &rows);
    assert_eq!(objects.unwrap().auth("1000").unwrap().username, "fromfile");
    let rejected = diags
        .iter()
        .find(|d| matches!(d.error, Error::InvalidAuth { .. }))
        .expect("the rejection, at its row");
    assert_eq!(rejected.file.to_str(), Some("pgsql:ps_auths"));
    assert_eq!(rejected.line, 1);
}

#[test]
fn priorities_answer_by_id_in_order() {
    let world = {
        let loader = Loader::with_source(
            ETC,
            source(&[
                (
                    "sorcery.conf",
                    "[res_pjsip]\nauth = realtime,ps_auths\nauth = config,pjsip.conf,criteria=type=auth\n",
                ),
                (
                    "extconfig.conf",
                    "[settings]\nps_auths => pgsql,asterisk,a1\nps_auths => pgsql,asterisk,a2,2\n",
                ),
                ("res_pgsql.conf", RES_PGSQL),
                (
                    "pjsip.conf",
                    "[bad]\ntype = auth\nusername = fromfile\npassword = p\n",
                ),
            ]),
        );
        World {
            plan: Plan::read(&loader),
            pjsip: loader.load("pjsip.conf").config,
            wizards: None,
        }
    };
    let rows = rows(vec![
        table(
            "a1",
            &["id", "password", "username"],
            &[
                &[Some("both"), Some("p"), Some("from-a1")],
                &[Some("bad"), Some("p"), None],
            ],
        ),
        table(
            "a2",
            &["id", "password", "username"],
            &[
                &[Some("both"), Some("p"), Some("from-a2")],
                &[Some("only2"), Some("p"), Some("from-a2")],
                &[Some("bad"), Some("p"), Some("from-a2")],
            ],
        ),
    ]);
    let (objects, _) = read(&world, &rows);
    let objects = objects.unwrap();
    assert_eq!(objects.auth("both").unwrap().username, "from-a1");
    assert_eq!(objects.auth("only2").unwrap().username, "from-a2");
    // a1 has a row for 'bad': realtime answered (with an object sorcery rejects), so priority 2 is not
    // asked, and the next *mapping* (pjsip.conf) gives it.
    assert_eq!(objects.auth("bad").unwrap().username, "fromfile");
}

#[test]
fn rows_are_found_by_the_id_asterisk_would_ask_for() {
    let world = world(ALL_REALTIME, "", None);
    let rows = rows(vec![
        table(
            "ps_endpoints",
            &["id", "transport"],
            &[
                &[Some("a^3Bb"), None],
                &[Some("c;d"), None],
                &[Some("e"), None],
                &[Some("e"), Some("t2")],
            ],
        ),
        table("ps_auths", &["id"], &[]),
        table("ps_transports", &["id"], &[]),
        table("ps_phoneprovs", &["id"], &[]),
    ]);
    let (objects, diags) = read(&world, &rows);
    let objects = objects.unwrap();
    assert!(objects.endpoint("a;b").is_some());
    assert!(objects.endpoint("c;d").is_none() && objects.endpoint("d").is_none());
    assert_eq!(
        objects.endpoint("e").unwrap().transport,
        "",
        "the first row of an id"
    );
    assert!(has(&diags, "1 row(s) have an id with ';'"));
    assert!(has(&diags, "1 row(s) repeat an id ('e' first)"));
}

#[test]
fn phoneprov_rows_pass_every_column_through() {
    let world = world(ALL_REALTIME, "", None);
    let rows = rows(vec![
        table("ps_endpoints", &["id"], &[]),
        table("ps_auths", &["id"], &[]),
        table("ps_transports", &["id"], &[]),
        table(
            "ps_phoneprovs",
            &["id", "MAC", "PROFILE", "mac", "EMPTY", "TIMEZONE", "type"],
            &[
                &[
                    Some("b"),
                    Some("0004f2000002"),
                    Some("p"),
                    Some("lower"),
                    Some(""),
                    Some("UTC;Europe/Paris"),
                    Some("x"),
                ],
                &[
                    Some("a"),
                    Some("0004f2000001"),
                    Some("p"),
                    None,
                    None,
                    None,
                    None,
                ],
                &[
                    Some("a"),
                    Some("0004f2000009"),
                    Some("p"),
                    None,
                    None,
                    None,
                    None,
                ],
            ],
        ),
    ]);
    let (objects, diags) = read(&world, &rows);
    let objects = objects.unwrap();
    assert_eq!(
        objects.phoneprovs.len(),
        2,
        "the second 'a' row is rejected by the container"
    );
    let b = objects.phoneprovs.iter().find(|p| p.id == "b").unwrap();
    let entries: Vec<(&str, &str)> = b
        .entries
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            ("MAC", "0004f2000002"),
            ("PROFILE", "p"),
            ("mac", "lower"),
            ("TIMEZONE", "UTC"),
            ("TIMEZONE", "Europe/Paris"),
        ],
        "case kept, empty dropped, ';' repeats, type swallowed"
    );
    assert!(has(&diags, "1 row(s) repeat an id ('a' first)"));
}

#[test]
fn lower_case_mac_columns_are_pointed_out() {
    let world = world(
        "[res_pjsip_phoneprov_provider]\nphoneprov = realtime,ps_phoneprovs\n",
        "",
        None,
    );
    let rows = rows(vec![table(
        "ps_phoneprovs",
        &["id", "mac", "profile"],
        &[&[Some("p1"), Some("0004f2000001"), Some("polycom")]],
    )]);
    let (_, diags) = read(&world, &rows);
    assert!(has(&diags, "create the column as \"MAC\""));
    assert!(has(&diags, "create the column as \"PROFILE\""));
}

#[test]
fn pjsip_conf_sections_of_a_type_mapped_elsewhere_are_named() {
    let world = world(
        "[res_pjsip]\nendpoint = realtime,ps_endpoints\n",
        "[1000]\ntype = endpoint\n[1001]\ntype = endpoint\nbogus = 1\n",
        None,
    );
    let rows = rows(vec![table("ps_endpoints", &["id"], &[])]);
    let (objects, diags) = read(&world, &rows);
    assert!(objects.unwrap().endpoint("1000").is_none());
    assert!(has(
        &diags,
        "pjsip.conf has 2 type=endpoint section(s) ('1000' first)"
    ));
    assert!(
        !diags
            .iter()
            .any(|d| matches!(d.error, Error::UnknownOption { .. })),
        "sections Asterisk never reads are not checked"
    );
}

#[test]
fn config_mappings_follow_their_criteria_and_the_wizard_stays_last() {
    let world = world(
        "[res_pjsip]\nendpoint = config,pjsip.conf,criteria=type=endpoint,criteria=context=phones\nendpoint = realtime,ps_endpoints\n",
        "[1000]\ntype = endpoint\ncontext = phones\n[1001]\ntype = endpoint\ncontext = other\n",
        Some("[w1]\ntype = wizard\naccepts_registrations = yes\n"),
    );
    let rows = rows(vec![table(
        "ps_endpoints",
        &["id", "callerid"],
        &[
            &[Some("1001"), Some("db <1>")],
            &[Some("w1"), Some("db <2>")],
        ],
    )]);
    let (objects, _) = read(&world, &rows);
    let objects = objects.unwrap();
    assert!(objects.endpoint("1000").unwrap().callerid.is_none());
    assert_eq!(
        objects.endpoint("1001").unwrap().callerid.as_deref(),
        Some("db <1>")
    );
    assert_eq!(
        objects.endpoint("w1").unwrap().callerid.as_deref(),
        Some("db <2>"),
        "a table's object beats the wizard's"
    );
}

#[test]
fn a_missing_config_file_of_a_mapping_gives_no_objects() {
    let world = world(
        "[res_pjsip]\nendpoint = config,users.conf,criteria=type=endpoint\n",
        "",
        None,
    );
    let (objects, diags) = read(&world, &RealtimeRows::new());
    assert!(objects.unwrap().endpoint("x").is_none());
    assert!(has(&diags, "Unable to load config file 'users.conf'"));
}

// ---- a whole build -------------------------------------------------------------------------------------

#[test]
fn a_snapshot_serves_phones_from_rows_and_refuses_without_them() {
    use crate::{BuildOptions, Paths, Snapshot};
    let dir = tempfile::tempdir().unwrap();
    let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
    std::fs::create_dir_all(data.join("phoneprov")).unwrap();
    std::fs::create_dir_all(&etc).unwrap();
    for (name, text) in [
        ("sorcery.conf", ALL_REALTIME),
        ("extconfig.conf", EXTCONFIG),
        ("res_pgsql.conf", RES_PGSQL),
        ("pjsip.conf", ""),
        ("phoneprov.conf", "[polycom]\n${MAC}.cfg => basic.cfg\n"),
    ] {
        std::fs::write(etc.join(name), text).unwrap();
    }
    std::fs::write(
        data.join("phoneprov/basic.cfg"),
        "user=${USERNAME} secret=${SECRET} cid=${CALLERID} name=${DISPLAY_NAME} port=${SERVER_PORT}\n",
    )
    .unwrap();
    let paths = Paths::new(&etc, &data);
    let rejected = Snapshot::build(&paths, &BuildOptions::default()).unwrap_err();
    assert!(
        rejected
            .diagnostics
            .iter()
            .any(|d| matches!(d.error, Error::RowsNotFetched { .. }))
    );
    assert!(rejected.watch.contains(&etc.join("res_pgsql.conf")));

    let options = BuildOptions {
        realtime: Some(std::sync::Arc::new(fleet_rows())),
        ..BuildOptions::default()
    };
    let snapshot = Snapshot::build(&paths, &options).unwrap();
    let route = snapshot
        .route("0004f2aabbcc.cfg")
        .expect("the phone's file");
    let body = snapshot
        .render(route, "192.0.2.1".parse::<std::net::IpAddr>().unwrap())
        .unwrap();
    assert_eq!(
        std::str::from_utf8(&body.body).unwrap(),
        "user=alice secret=s3cret cid=1000 name=Alice port=5062\n"
    );
}
