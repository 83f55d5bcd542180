//! Parsing a generated pjsip.conf of 10,000 phones (endpoint + auth + aor + phoneprov each, with templates
//! and an `#include`): `cargo bench -p asterisk-config`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use asterisk_config::{Loader, MemorySource};

#[path = "support/fleet.rs"]
mod fleet;

fn parse_fleet(c: &mut Criterion) {
    let fleet = fleet::generate(10_000, 10);
    let bytes = fleet.pjsip_conf.len() + fleet.phones_conf.len();
    let source = MemorySource::new()
        .with_file("/etc/asterisk/pjsip.conf", fleet.pjsip_conf.clone())
        .with_file("/etc/asterisk/pjsip_phones.conf", fleet.phones_conf.clone());
    let loader = Loader::with_source("/etc/asterisk", source);
    let check = loader.load("pjsip.conf");
    assert!(check.valid && check.diagnostics.is_empty());
    assert_eq!(check.config.sections().len(), 5 + 11_000 * 4);

    let mut group = c.benchmark_group("pjsip.conf");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    // Dropping the previous result is not parsing: keep it out of the measurement.
    group.bench_function("10k phones", |b| {
        b.iter_with_large_drop(|| loader.load("pjsip.conf"))
    });
    group.finish();
}

criterion_group!(benches, parse_fleet);
criterion_main!(benches);
