//! `pjprov dump`: a config file as Asterisk sees it, as JSON (DESIGN.md §2).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use asterisk_config::{Config, Loader};

use crate::cli::DumpArgs;

pub fn run(args: &DumpArgs) -> anyhow::Result<ExitCode> {
    let loader = Loader::new(&args.config.config_dir);
    let loaded = loader.load(&args.file);
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    for diagnostic in &loaded.diagnostics {
        writeln!(err, "{diagnostic}")?;
    }
    if !loaded.valid {
        writeln!(
            err,
            "{}: Asterisk would reject this file; nothing is dumped",
            loader.resolve(&args.file).display()
        )?;
        return Ok(ExitCode::from(1));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write_json(
        &mut out,
        &loaded.config,
        loader.config_dir(),
        args.show_secrets,
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One section a line, in the shape DESIGN.md §2 shows:
/// `{"name": "1000", "template": false, "file": "pjsip.conf", "line": 12, "entries": [["type", "endpoint"]]}`.
/// The values of secret keys (`password`, `md5_cred`, `secret`...) are masked unless `show_secrets`.
fn write_json(
    out: &mut impl Write,
    config: &Config,
    config_dir: &Path,
    show_secrets: bool,
) -> std::io::Result<()> {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    writeln!(out, "[")?;
    let count = config.sections().len();
    for (i, section) in config.sections().iter().enumerate() {
        write!(
            out,
            "{{\"name\": {}, \"template\": {}, \"file\": {}, \"line\": {}, \"entries\": [",
            quote(&section.name),
            section.template,
            quote(&relative(config.file(section.file), config_dir)),
            section.line
        )?;
        for (j, entry) in section.entries().enumerate() {
            let sep = if j == 0 { "" } else { ", " };
            let value = if !show_secrets && pjprov_core::is_secret_variable(&entry.key) {
                pjprov_core::SECRET_MASK
            } else {
                &entry.value
            };
            write!(out, "{sep}[{}, {}]", quote(&entry.key), quote(value))?;
        }
        writeln!(out, "]}}{}", if i + 1 < count { "," } else { "" })?;
    }
    writeln!(out, "]")
}

/// A path relative to the config directory when it is inside it, else as it is.
fn relative(path: &Path, config_dir: &Path) -> String {
    path.strip_prefix(config_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}
