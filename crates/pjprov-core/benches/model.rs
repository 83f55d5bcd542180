//! Building the model of a 10,000-phone fleet (pjsip.conf with templates and an #include, phoneprov.conf),
//! and rendering its routes: `cargo bench -p pjprov-core`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use pjprov_core::{BuildOptions, Paths, Snapshot};

#[path = "../../asterisk-config/benches/support/fleet.rs"]
mod fleet;
#[path = "../../../tests/support/reference.rs"]
mod reference;

/// The template of `shared/bench/gen_fleet.py`: about 2 KB per phone.
const FLEET_CFG: &str = "#!version:1.0.0.1\n# provisioning for ${MAC} (${LABEL})\n";
const FLEET_TAIL: &str = "${PP_EACH_EXTENSION(${MAC},fleet-line.cfg)}local_time.time_zone=${TZOFFSET}\n\
    local_time.ntp_server1=${NTP_SERVER}\nsecurity.user_password=admin:${ADMIN_PASSWORD}\n\
    auto_provision.server.url=http://${SERVER}/phoneprov/\n";
const FLEET_LINE: &str = "account.${LINE}.enable=1\naccount.${LINE}.label=${LABEL}\n\
    account.${LINE}.display_name=${DISPLAY_NAME}\naccount.${LINE}.auth_name=${USERNAME}\n\
    account.${LINE}.user_name=${USERNAME}\naccount.${LINE}.password=${SECRET}\n\
    account.${LINE}.sip_server.1.address=${SERVER}\naccount.${LINE}.sip_server.1.port=${SERVER_PORT}\n";

fn write_fleet(dir: &Path, phones: usize) -> Paths {
    let fleet = fleet::generate(phones, 10);
    let etc = dir.join("etc");
    let data = dir.join("data");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(data.join("phoneprov")).unwrap();
    std::fs::write(etc.join("pjsip.conf"), &fleet.pjsip_conf).unwrap();
    std::fs::write(etc.join("pjsip_phones.conf"), &fleet.phones_conf).unwrap();
    std::fs::write(etc.join("phoneprov.conf"), &fleet.phoneprov_conf).unwrap();
    let block: String = (0..20)
        .map(|k| {
            format!(
                "# setting {k}: default value kept for compatibility with older firmware {}\n",
                k * 31 % 97
            )
        })
        .collect();
    std::fs::write(
        data.join("phoneprov/fleet.cfg"),
        format!("{FLEET_CFG}{block}{FLEET_TAIL}"),
    )
    .unwrap();
    std::fs::write(data.join("phoneprov/fleet-line.cfg"), FLEET_LINE).unwrap();
    Paths::new(etc, data)
}

fn build(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_fleet(dir.path(), 10_000);
    let options = BuildOptions::default();
    let snapshot = Snapshot::build(&paths, &options).unwrap();
    assert_eq!(snapshot.phones().len(), 10_000);
    // The generated phoneprov.conf keeps `[general] default_profile`, which is a warning since issue 15.
    assert!(!snapshot.has_errors(), "{:?}", snapshot.diagnostics());

    let mut group = c.benchmark_group("model");
    group.sample_size(10);
    group.bench_function("build 10k phones", |b| {
        b.iter_with_large_drop(|| Snapshot::build(&paths, &options).unwrap())
    });
    let server = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    group.bench_function("render every route of 10k phones", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for route in snapshot.routes() {
                bytes += snapshot.render_fresh(route, server).0.unwrap().len();
            }
            bytes
        })
    });
    // A save of one callerid: the reload reads that section again and derives its line (patch.rs).
    let phones_conf = paths.config_dir.join("pjsip_phones.conf");
    let text = std::fs::read_to_string(&phones_conf).unwrap();
    let edited = text.replacen("callerid = \"", "callerid = \"Edited ", 1);
    assert_ne!(text, edited);
    std::fs::write(&phones_conf, &edited).unwrap();
    group.bench_function("rebuild 10k phones after one callerid edit", |b| {
        b.iter_with_large_drop(|| {
            let next = snapshot.rebuild(&paths, &options).unwrap();
            assert_eq!(next.reread_sections(), Some(1));
            next
        })
    });
    std::fs::write(&phones_conf, &text).unwrap();
    group.finish();

    let route = snapshot.route("0004f2000000.cfg").unwrap();
    c.bench_function("render one fleet phone (2 lines)", |b| {
        b.iter(|| snapshot.render_fresh(route, server))
    });
}

/// Asterisk's shipped Polycom templates, read in place from the shared reference folder.
fn asterisk_samples() -> Option<std::path::PathBuf> {
    reference::shared_subdir("asterisk-samples/phoneprov")
        .filter(|d| d.join("polycom.xml").is_file())
}

/// Rendering Asterisk's own Polycom sample profile: the per-phone `config/<MAC>` (polycom.xml with
/// polycom_line.xml per line) for a two-line phone, and the directory of 100 phones.
fn polycom_sample(c: &mut Criterion) {
    let Some(samples) = asterisk_samples() else {
        eprintln!("skipping the Polycom sample benchmark: ../shared/asterisk-samples not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (etc, data) = (dir.path().join("etc"), dir.path().join("data"));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(data.join("phoneprov")).unwrap();
    let mut pjsip = String::from("[udp]\ntype = transport\nbind = 0.0.0.0\n");
    for n in 0..100 {
        pjsip.push_str(&format!(
            "[{n}]\ntype = endpoint\ntransport = udp\nauth = {n}\ncallerid = \"Phone {n}\" <{}>\n\
             [{n}]\ntype = auth\nusername = {}\npassword = pw-{n}\n\
             [{n}-pp]\ntype = phoneprov\nendpoint = {n}\nMAC = 0004f2{n:06x}\nPROFILE = polycom\nLINE = 1\n",
            1000 + n,
            1000 + n
        ));
    }
    pjsip.push_str("[second-pp]\ntype = phoneprov\nendpoint = 1\nMAC = 0004f2000000\nPROFILE = polycom\nLINE = 2\n");
    std::fs::write(etc.join("pjsip.conf"), pjsip).unwrap();
    std::fs::write(
        etc.join("phoneprov.conf"),
        "[polycom]\nmime_type => text/xml\n${MAC}.cfg => 000000000000.cfg\n\
         ${MAC}-phone.cfg => 000000000000-phone.cfg\nconfig/${MAC} => polycom.xml\n\
         ${MAC}-directory.xml => 000000000000-directory.xml\n\
         setvar => CUSTOM_CONFIG=/var/lib/asterisk/phoneprov/configs/custom.cfg\n",
    )
    .unwrap();
    let mut paths = Paths::new(etc, data);
    paths.template_dirs.push(samples);
    let snapshot = Snapshot::build(&paths, &BuildOptions::default()).unwrap();
    let server = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let config = snapshot.route("config/0004f2000000").unwrap();
    let body = snapshot.render_fresh(config, server).0.unwrap();
    assert!(
        body.windows(4).any(|w| w == b"1001"),
        "the second line is there"
    );
    c.bench_function("polycom sample: config/MAC, 2 lines", |b| {
        b.iter(|| snapshot.render_fresh(config, server))
    });
    let directory = snapshot.route("0004f2000000-directory.xml").unwrap();
    c.bench_function("polycom sample: directory of 100 phones", |b| {
        b.iter(|| snapshot.render_fresh(directory, server))
    });
}

criterion_group!(benches, build, polycom_sample);
criterion_main!(benches);
