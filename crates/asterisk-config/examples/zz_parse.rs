fn main() {
    let dir = std::env::args().nth(1).unwrap();
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let loaded = asterisk_config::Loader::new(&dir).load("pjsip.conf");
        let n = loaded.config.sections().len();
        let e: usize = loaded
            .config
            .sections()
            .iter()
            .map(|s| s.entries.len())
            .sum();
        let el = t.elapsed();
        let t2 = std::time::Instant::now();
        drop(loaded);
        println!(
            "parse {:?} drop {:?} sections={n} entries={e}",
            el,
            t2.elapsed()
        );
    }
}
