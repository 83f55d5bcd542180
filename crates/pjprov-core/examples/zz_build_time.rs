use std::time::Instant;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let etc = std::path::Path::new(&dir).join("etc");
    let t = Instant::now();
    let loaded = asterisk_config::Loader::new(&etc).load("pjsip.conf");
    println!(
        "parse pjsip.conf: {:?} sections={}",
        t.elapsed(),
        loaded.config.sections().len()
    );
    drop(loaded);
    let paths = pjprov_core::Paths::new(etc, std::path::Path::new(&dir).join("data"));
    for _ in 0..3 {
        let t = Instant::now();
        let s = pjprov_core::Snapshot::build(&paths, &Default::default()).unwrap();
        println!("build: {:?} phones={}", t.elapsed(), s.phones().len());
        let t = Instant::now();
        drop(s);
        println!("drop: {:?}", t.elapsed());
    }
}
