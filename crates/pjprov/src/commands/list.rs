//! `pjprov list`: every phone with its lines, their variables and its routes (DESIGN.md §2). Secrets are
//! masked unless `--show-secrets`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use pjprov_core::{Snapshot, Target, is_secret_variable};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use crate::cli::{ListArgs, ListFormat};

use pjprov_core::SECRET_MASK as MASK;

pub fn run(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let Some(snapshot) = super::build_snapshot(&args.dirs, " (run `pjprov check`)")? else {
        return Ok(ExitCode::from(1));
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        ListFormat::Json => {
            let listing = Listing {
                snapshot: &snapshot,
                show_secrets: args.show_secrets,
            };
            serde_json::to_writer_pretty(&mut out, &listing)?;
            writeln!(out)?;
        }
        ListFormat::Table => write_table(&mut out, &snapshot, args.show_secrets)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn shown<'a>(name: &str, value: &'a str, show_secrets: bool) -> &'a str {
    if !show_secrets && is_secret_variable(name) {
        MASK
    } else {
        value
    }
}

fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The whole listing as JSON: `{"phones": [...], "static_files": [...]}`. It is written as it is made, one
/// phone at a time: a tree of the whole fleet would take several times the snapshot's memory.
struct Listing<'a> {
    snapshot: &'a Snapshot,
    show_secrets: bool,
}

impl Serialize for Listing<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let snapshot = self.snapshot;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("phones", &Phones(self))?;
        map.serialize_entry("static_files", &static_files(snapshot))?;
        map.serialize_entry("shared_files", &shared_files(snapshot))?;
        map.end()
    }
}

struct Phones<'a>(&'a Listing<'a>);

impl Serialize for Phones<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Listing {
            snapshot,
            show_secrets,
        } = *self.0;
        serializer.collect_seq(
            snapshot
                .phone_ids()
                .map(|(id, _)| phone_json(snapshot, id, show_secrets)),
        )
    }
}

/// One phone: its access policy, lines with their variables, and routes.
fn phone_json(snapshot: &Snapshot, index: pjprov_core::PhoneId, show_secrets: bool) -> Value {
    let config_dir = &snapshot.paths().config_dir;
    let phone = &snapshot.phones()[index.index()];
    let lines: Vec<Value> = phone
        .lines
        .iter()
        .map(|line| {
            let variables: Map<String, Value> = line
                .vars
                .iter()
                .map(|(n, v)| (n.to_owned(), Value::from(shown(n, v, show_secrets))))
                .collect();
            let file = relative(&line.location.file, config_dir);
            json!({
                "line": line.index,
                "id": line.id.as_str(),
                "defined_at": format!("{file}:{}", line.location.line),
                "variables": variables,
            })
        })
        .collect();
    let routes: Vec<Value> = snapshot
        .routes_of(index)
        .map(|route| {
            json!({
                "uri": route.uri,
                "template": snapshot.template_name(route),
                "content_type": route.mime(),
            })
        })
        .collect();
    // What pjprov derives for this phone from the site key (its Handlebars templates see it).
    let mut generated = Map::new();
    if let Some(password) = snapshot.generated_admin_password(index) {
        generated.insert(
            "ADMIN_PASSWORD".into(),
            Value::from(shown("ADMIN_PASSWORD", &password, show_secrets)),
        );
    }
    json!({
        "mac": phone.mac.as_str(),
        "profile": snapshot.profiles()[phone.profile.index()].name,
        "access": access(snapshot, phone),
        "lines": lines,
        "generated": generated,
        "routes": routes,
    })
}

/// The static files of every profile.
fn static_files(snapshot: &Snapshot) -> Vec<Value> {
    let paths = snapshot.paths();
    snapshot
        .routes()
        .iter()
        .filter_map(|route| match &route.target {
            Target::Static { path, .. } => Some(json!({
                "uri": route.uri,
                "profile": snapshot.profiles()[route.profile.index()].name,
                "path": relative(path, &paths.data_dir),
                "content_type": route.mime(),
            })),
            Target::Dynamic { .. } | Target::Shared { .. } => None,
        })
        .collect()
}

/// The files without a variable in their name: one per profile, shared by its phones, rendered with the
/// variables of the phone named here (the first to name it, as Asterisk renders it).
fn shared_files(snapshot: &Snapshot) -> Vec<Value> {
    snapshot
        .routes()
        .iter()
        .filter_map(|route| match route.target {
            Target::Shared { phone, .. } => Some(json!({
                "uri": route.uri,
                "profile": snapshot.profiles()[route.profile.index()].name,
                "template": snapshot.template_name(route),
                "rendered_with": snapshot.phone(phone).map(|p| p.mac.as_str()),
                "content_type": route.mime(),
            })),
            _ => None,
        })
        .collect()
}

/// What a phone must prove to get its files (pjprov.conf's policy for it), without credentials.
fn access(snapshot: &Snapshot, phone: &pjprov_core::Phone) -> Value {
    use pjprov_core::settings::{AuthSource, Binding, ClientCert};
    let settings = snapshot.settings();
    let policy = settings.policy(phone.profile, pjprov_core::Mac::parse(&phone.mac));
    let auth = match &policy.auth {
        AuthSource::None => "none",
        AuthSource::Static { .. } => "static",
        AuthSource::Sip => "sip",
    };
    let mut schemes = Vec::new();
    if policy.schemes.digest {
        schemes.push("digest");
    }
    if policy.schemes.basic {
        schemes.push("basic");
    }
    json!({
        "auth": auth,
        "schemes": if policy.needs_credentials() { schemes } else { Vec::new() },
        "user_agent": match policy.user_agent {
            Binding::Off => "off",
            Binding::Log => "log",
            Binding::Enforce => "enforce",
        },
        "client_cert": match policy.client_cert {
            ClientCert::Off => "off",
            ClientCert::Optional => "optional",
            ClientCert::Require => "require",
        },
        "tftp": settings.tftp.allows(phone.profile),
    })
}

fn write_table(
    out: &mut impl Write,
    snapshot: &Snapshot,
    show_secrets: bool,
) -> std::io::Result<()> {
    let header = [
        "MAC",
        "LINE",
        "PHONEPROV",
        "PROFILE",
        "USERNAME",
        "SECRET",
        "DISPLAY_NAME",
        "ROUTES",
    ];
    let mut rows: Vec<[String; 8]> = vec![header.map(str::to_owned)];
    for (index, phone) in snapshot.phone_ids() {
        let routes: Vec<&str> = snapshot.routes_of(index).map(|r| r.uri.as_str()).collect();
        for (n, line) in phone.lines.iter().enumerate() {
            let var = |name: &str| {
                line.vars
                    .get(name)
                    .map(|v| shown(name, v, show_secrets).to_owned())
                    .unwrap_or_default()
            };
            rows.push([
                if n == 0 {
                    phone.mac.to_string()
                } else {
                    String::new()
                },
                line.index.to_string(),
                line.id.to_string(),
                if n == 0 {
                    snapshot.profiles()[phone.profile.index()].name.clone()
                } else {
                    String::new()
                },
                var("USERNAME"),
                var("SECRET"),
                var("DISPLAY_NAME"),
                if n == 0 {
                    routes.join(" ")
                } else {
                    String::new()
                },
            ]);
        }
    }
    super::write_table(out, &rows)?;
    let statics = snapshot
        .routes()
        .iter()
        .filter(|r| matches!(r.target, Target::Static { .. }))
        .count();
    let shared = snapshot
        .routes()
        .iter()
        .filter(|r| matches!(r.target, Target::Shared { .. }))
        .count();
    writeln!(
        out,
        "\n{} phones, {} routes ({statics} static files, {shared} shared files)",
        snapshot.phones().len(),
        snapshot.routes().len()
    )?;
    let generated = snapshot
        .phone_ids()
        .filter(|(id, _)| snapshot.generated_admin_password(*id).is_some())
        .count();
    if generated > 0 {
        writeln!(
            out,
            "{generated} phones get a generated ADMIN_PASSWORD (see them with --format json --show-secrets)"
        )?;
    }
    Ok(())
}
