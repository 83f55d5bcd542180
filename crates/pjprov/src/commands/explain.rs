//! `pjprov explain URI`: why a request gets what it gets — the route it matches (or the nearest ones), the
//! phone, line, profile and template, every access rule consulted, and the final status.
//!
//! It runs the servers' own code: the path as the HTTP (or TFTP) server reads it, the snapshot's route
//! table and [`pjprov_core::Snapshot::subject`], the ACL ([`Access::admit`]), and the access decision
//! ([`Access::explain`], the pure function the servers call). The throttle's standing is a fresh client's:
//! a running server may know more about a client that has been scanning.

use std::io::Write;
use std::process::ExitCode;

use pjprov_core::settings::{AuthSource, Policy};
use pjprov_core::{Mac, Route, Snapshot, Subject, Target};

use crate::access::decide::{PolicyFrom, Step};
use crate::access::{Access, Asked, CertIdentity, Decision, HttpFacts, Protocol};
use crate::cli::{ExplainArgs, ExplainProtocol};

pub fn run(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    let Some(snapshot) =
        super::build_snapshot(&args.dirs, ": every request answers 503 until it is fixed")?
    else {
        return Ok(ExitCode::from(1));
    };
    let mut out = std::io::stdout().lock();
    let status = explain(&snapshot, args, &mut out)?;
    writeln!(out, "answer:      {status}")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn protocol(args: &ExplainArgs) -> Protocol {
    match args.protocol {
        ExplainProtocol::Http => Protocol::Http,
        ExplainProtocol::Https => Protocol::Https,
        ExplainProtocol::Tftp => Protocol::Tftp,
    }
}

/// Writes the explanation; returns the final status line.
fn explain(
    snapshot: &Snapshot,
    args: &ExplainArgs,
    out: &mut impl Write,
) -> std::io::Result<String> {
    let protocol = protocol(args);
    let client = crate::serve::http::normalize(args.client);
    writeln!(
        out,
        "request:     {} {} over {} from {client}{}",
        if protocol == Protocol::Tftp {
            "RRQ"
        } else {
            &args.method
        },
        args.uri,
        protocol.name(),
        args.user_agent
            .as_deref()
            .map(|ua| format!(", User-Agent: {ua}"))
            .unwrap_or_default()
    )?;

    // The ACL, as at accept time: the rules of [acl], then each named ACL it names (every list must
    // allow the client, as in Asterisk).
    let acl = &snapshot.settings().acl;
    let verdicts = acl.verdicts(client);
    if verdicts.is_empty() {
        writeln!(out, "acl:         no [acl] in pjprov.conf: allowed")?;
    }
    for verdict in &verdicts {
        let list = match verdict.name {
            None => "[acl]".to_owned(),
            Some(named) => format!("named ACL '{}' ({})", named.name, named.defined_at),
        };
        let result = if verdict.allowed {
            "allowed"
        } else {
            "refused"
        };
        match verdict.deciding {
            Some((index, rule)) => writeln!(
                out,
                "acl:         {list}: rule {} ({rule}) is the last that matches {client}: {result}",
                index + 1
            )?,
            None => writeln!(
                out,
                "acl:         {list}: no rule matches {client}: {result}"
            )?,
        }
    }
    if !Access::admit(snapshot.settings(), client) {
        return Ok(match protocol {
            Protocol::Tftp => "access violation (TFTP error 2): refused by [acl]".into(),
            Protocol::Http => "403 Forbidden, at connect (refused by [acl])".into(),
            Protocol::Https => "connection closed at connect, before TLS (refused by [acl])".into(),
        });
    }

    // The name, as the server reads the path.
    let name = match protocol {
        Protocol::Tftp => match crate::serve::tftp_route_name(&args.uri) {
            Some(name) => name.to_owned(),
            None => {
                writeln!(out, "name:        tries to leave the served files")?;
                return Ok("access violation (TFTP error 2)".into());
            }
        },
        _ => {
            let path = if args.uri.starts_with('/') {
                args.uri.clone()
            } else {
                format!("/phoneprov/{}", args.uri)
            };
            let prefix = snapshot.settings().general.prefix.as_deref().unwrap_or("");
            match pjprov_core::uri::route_uri(&path, prefix) {
                Some(name) => name.into_owned(),
                None => {
                    writeln!(out, "name:        not under /{prefix}phoneprov/")?;
                    return Ok("404 Not Found".into());
                }
            }
        }
    };
    let route = snapshot.route(&name);
    describe_route(snapshot, &name, route, out)?;

    let cert = args.client_cert_mac.map(|mac| CertIdentity {
        mac: Some(mac),
        subject: format!("(a verified certificate naming {mac}, from --client-cert-mac)"),
    });
    let target = if args.uri.starts_with('/') {
        args.uri.clone()
    } else {
        format!("/phoneprov/{}", args.uri)
    };
    let asked = Asked {
        client,
        name: &name,
        subject: snapshot.subject(&name, route),
        protocol,
        http: HttpFacts {
            cert: cert.as_ref(),
            method: &args.method,
            target: &target,
            user_agent: args.user_agent.as_deref(),
            authorization: args.authorization.as_deref(),
        },
    };
    // Issue #18: the enrolment state as the running server (or the state directory) holds it.
    let (enrolment, source) = super::enrol::state_for_explain(snapshot, &args.dirs.state_dir);
    writeln!(out, "enrolment:   {source}")?;
    let access = Access::new(snapshot.settings().limits.max_clients).with_enrolment(enrolment);
    let (verdict, steps) = access.explain(snapshot, &asked);
    for step in &steps {
        describe_step(snapshot, step, out)?;
    }
    Ok(match &verdict.decision {
        Decision::Refuse {
            status,
            retry_after,
            why,
        } => match protocol {
            Protocol::Tftp if *status == 403 => {
                format!("access violation (TFTP error 2): refused ({})", why.label())
            }
            Protocol::Tftp => "error 0, \"too many unknown files asked for\" (throttled)".into(),
            _ => format!(
                "{status} {}{} ({})",
                if *status == 429 {
                    "Too Many Requests"
                } else {
                    "Forbidden"
                },
                retry_after
                    .map(|s| format!(", Retry-After: {s}"))
                    .unwrap_or_default(),
                why.label()
            ),
        },
        Decision::Challenge(challenges) if protocol != Protocol::Tftp => format!(
            "401 Unauthorized ({} challenge(s): {})",
            challenges.len(),
            challenges
                .iter()
                .map(|c| match c.split_once("algorithm=") {
                    Some((_, rest)) => format!("Digest {}", rest.split(',').next().unwrap_or(rest)),
                    None => c.split(' ').next().unwrap_or(c).to_owned(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Decision::Lobby { shape } => {
            let lobby = shape.zip(verdict.mac).and_then(|(shape, mac)| {
                let request = pjprov_core::Request::new(
                    args.server_addr,
                    match protocol {
                        Protocol::Https => pjprov_core::Scheme::Https,
                        Protocol::Tftp => pjprov_core::Scheme::Tftp,
                        Protocol::Http => pjprov_core::Scheme::Http,
                    },
                    match protocol {
                        Protocol::Tftp => 69,
                        _ => 8088,
                    },
                    None,
                    snapshot.settings().general.prefix.as_deref().unwrap_or(""),
                    args.user_agent.as_deref(),
                );
                Some((
                    snapshot.lobby_template(shape)?,
                    snapshot.lobby(shape, mac, request)?,
                ))
            });
            match lobby {
                Some((template, Ok(body))) => format!(
                    "{} (the lobby, from {template}: {} bytes, no secret)",
                    if protocol == Protocol::Tftp {
                        "the file is sent"
                    } else {
                        "200 OK"
                    },
                    body.body.len()
                ),
                Some((_, Err(failure))) => {
                    format!("500 Internal Server Error: the lobby: {failure}")
                }
                None if protocol == Protocol::Tftp => {
                    "file not found (TFTP error 1): no lobby for this name ([profile:NAME] lobby)"
                        .into()
                }
                None => "404 Not Found: no lobby for this name ([profile:NAME] lobby)".into(),
            }
        }
        Decision::Challenge(_) | Decision::Proceed => match route {
            None if protocol == Protocol::Tftp => "file not found (TFTP error 1)".into(),
            None => "404 Not Found".into(),
            Some(route) => {
                let scheme = match protocol {
                    Protocol::Http => (pjprov_core::Scheme::Http, 8088),
                    Protocol::Https => (pjprov_core::Scheme::Https, 8089),
                    Protocol::Tftp => (pjprov_core::Scheme::Tftp, 69),
                };
                let prefix = snapshot.settings().general.prefix.as_deref().unwrap_or("");
                let request = pjprov_core::Request::new(
                    args.server_addr,
                    scheme.0,
                    scheme.1,
                    None,
                    if protocol == Protocol::Tftp {
                        ""
                    } else {
                        prefix
                    },
                    args.user_agent.as_deref(),
                )
                .with_match(route.wildcard_match(&name));
                served(snapshot, route, request, protocol)
            }
        },
    })
}

/// What serving the route gives.
fn served(
    snapshot: &Snapshot,
    route: &Route,
    request: pjprov_core::Request,
    protocol: Protocol,
) -> String {
    let ok = if protocol == Protocol::Tftp {
        "the file is sent".to_owned()
    } else {
        format!("200 OK ({})", route.mime())
    };
    match route.target {
        Target::Static { ref path, .. } => {
            if path.is_file() {
                ok
            } else {
                format!(
                    "404 Not Found: the static file {} is not there",
                    path.display()
                )
            }
        }
        _ => match snapshot.render_fresh(route, request).0 {
            Ok(body) => format!("{ok}, {} bytes", body.len()),
            Err(pjprov_core::RenderFailure::Missing(why)) => format!("404 Not Found: {why}"),
            Err(failure) => format!("500 Internal Server Error: {failure}"),
        },
    }
}

fn describe_route(
    snapshot: &Snapshot,
    name: &str,
    route: Option<&Route>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let Some(route) = route else {
        writeln!(out, "route:       none for '{name}'")?;
        let nearest = nearest(snapshot, name);
        if !nearest.is_empty() {
            writeln!(out, "nearest:")?;
            for route in nearest {
                writeln!(out, "             {}", origin(snapshot, route))?;
            }
        }
        return Ok(());
    };
    let how = if route.uri == name {
        "exact match"
    } else {
        "matched ignoring case (pjprov differs: Asterisk matches exactly)"
    };
    writeln!(out, "route:       '{}': {how}", route.uri)?;
    writeln!(out, "             {}", origin(snapshot, route))?;
    Ok(())
}

/// Where a route comes from: its profile, template (and engine), phone and line.
fn origin(snapshot: &Snapshot, route: &Route) -> String {
    let profile = snapshot
        .profile(route.profile)
        .map_or("?", |p| p.name.as_str());
    match &route.target {
        Target::Static { relative, .. } => format!(
            "'{}': static file {relative} of profile {profile}",
            route.uri
        ),
        Target::Dynamic { phone, file } | Target::Shared { phone, file } => {
            let phone = snapshot.phone(*phone);
            let pattern = snapshot
                .profile(route.profile)
                .and_then(|p| p.dynamic_files.get(*file));
            let template = pattern.map_or("?", |f| f.template.as_str());
            let engine = if template.ends_with(".hbs") {
                "Handlebars"
            } else {
                "Asterisk ${}"
            };
            let line = phone.map(|p| {
                let first = p.first_line();
                format!(
                    "line {} '{}' at {}:{}",
                    first.index,
                    first.id,
                    first.location.file.display(),
                    first.location.line
                )
            });
            let whose = if matches!(route.target, Target::Shared { .. }) {
                format!(
                    "shared by the phones of the profile (rendered with phone {})",
                    phone.map_or("?", |p| p.mac.as_str())
                )
            } else {
                format!("phone {}", phone.map_or("?", |p| p.mac.as_str()))
            };
            format!(
                "'{}': {whose}, {}; profile {profile}, pattern '{}', template {template} ({engine})",
                route.uri,
                line.unwrap_or_default(),
                pattern.map_or("?", |f| f.pattern.as_str()),
            )
        }
    }
}

/// The routes whose names are closest to `name` (at most five, close enough to be a typo or a case).
fn nearest<'s>(snapshot: &'s Snapshot, name: &str) -> Vec<&'s Route> {
    let lower = name.to_ascii_lowercase();
    let mut scored: Vec<(usize, &Route)> = snapshot
        .routes()
        .iter()
        .map(|r| (strsim::levenshtein(&r.uri.to_ascii_lowercase(), &lower), r))
        .filter(|(d, _)| *d <= (name.len() / 3).max(2))
        .collect();
    scored.sort_by_key(|(d, r)| (*d, r.uri.clone()));
    scored.into_iter().take(5).map(|(_, r)| r).collect()
}

fn describe_step(snapshot: &Snapshot, step: &Step, out: &mut impl Write) -> std::io::Result<()> {
    let profile_name = |id| {
        snapshot
            .profile(id)
            .map_or_else(|| "?".to_owned(), |p| p.name.clone())
    };
    match step {
        Step::Standing {
            throttled,
            standing,
        } => {
            if *throttled {
                writeln!(
                    out,
                    "throttle:    on for this client; {} miss(es) in the window (a running server may know more){}",
                    standing.misses,
                    standing
                        .refused_for
                        .map(|s| format!(", refused for {s} s"))
                        .unwrap_or_default()
                )
            } else {
                writeln!(
                    out,
                    "throttle:    off for this client ([limits] throttle or exempt)"
                )
            }
        }
        Step::Subject(subject) => {
            let text = match subject {
                Subject::Phone { mac, .. } => format!(
                    "a phone's own file (it holds its secrets){}",
                    mac.map(|m| format!(", MAC {m}")).unwrap_or_default()
                ),
                Subject::Shared { secret: true, .. } => {
                    "a file shared by a profile's phones, whose template reads a secret (protected like a phone's file)".into()
                }
                Subject::Shared { .. } => "a file shared by a profile's phones".into(),
                Subject::PhoneShaped { mac, phone, shape } => format!(
                    "no route, but shaped like a phone's file of profile(s) {} with MAC {mac} ({}); judged alike whether or not a phone has it",
                    snapshot
                        .shape_profiles(*shape)
                        .iter()
                        .map(|p| profile_name(*p))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if phone.is_some() {
                        "a configured phone"
                    } else {
                        "no phone has it"
                    }
                ),
                Subject::Other => "no route and no phone's shape: 404 for everyone".into(),
            };
            writeln!(out, "subject:     {text}")
        }
        Step::Policy { from, policy } => {
            let from = match from {
                PolicyFrom::Phone(p) => format!(
                    "profile {} (and its phone's [phone:MAC], if any)",
                    profile_name(*p)
                ),
                PolicyFrom::Profile(p) => format!("profile {}", profile_name(*p)),
                PolicyFrom::Strictest(Some(p)) => {
                    format!(
                        "the strictest profile of the name's shape: {}",
                        profile_name(*p)
                    )
                }
                PolicyFrom::Strictest(None) => "[auth]".into(),
            };
            writeln!(out, "policy:      from {from}: {}", describe_policy(policy))
        }
        Step::Acl { allowed, lists } => writeln!(
            out,
            "policy acl:  {}: {}",
            lists
                .iter()
                .map(|(name, ok)| format!("{name} {}", if *ok { "allows" } else { "refuses" }))
                .collect::<Vec<_>>()
                .join(", "),
            if *allowed {
                "allowed"
            } else {
                "403 Forbidden (refused by the file's acl = NAME)"
            }
        ),
        Step::Tftp { allowed } => writeln!(
            out,
            "tftp:        {}",
            if *allowed {
                "the profile is in [tftp] profiles"
            } else {
                "the profile is not in [tftp] profiles: refused"
            }
        ),
        Step::Certificate(text) => writeln!(out, "certificate: {text}"),
        Step::Enrol(text) => writeln!(out, "enrol:       {text}"),
        Step::UserAgent(text) => writeln!(out, "user agent:  {text}"),
        Step::Credentials(text) => writeln!(out, "credentials: {text}"),
        Step::Miss {
            misses,
            refuse_after,
        } => writeln!(
            out,
            "miss:        counted ({misses} of {refuse_after} before the client is refused)"
        ),
        Step::Delay(delay) => writeln!(
            out,
            "delay:       {} ms (the client's standing)",
            delay.as_millis()
        ),
    }
}

fn describe_policy(policy: &Policy) -> String {
    let auth = match &policy.auth {
        AuthSource::None => "auth = none".to_owned(),
        AuthSource::Static { username, .. } => format!("auth = static (user {username})"),
        AuthSource::Sip => "auth = sip (the phone's own SIP username and password)".to_owned(),
    };
    let schemes = match (policy.schemes.digest, policy.schemes.basic) {
        (true, true) => "digest, basic",
        (true, false) => "digest",
        (false, _) => "basic",
    };
    let user_agent = match policy.user_agent {
        pjprov_core::settings::Binding::Off => "off",
        pjprov_core::settings::Binding::Log => "log",
        pjprov_core::settings::Binding::Enforce => "enforce",
    };
    let client_cert = match policy.client_cert {
        pjprov_core::settings::ClientCert::Off => "off",
        pjprov_core::settings::ClientCert::Optional => "optional",
        pjprov_core::settings::ClientCert::Require => "require",
    };
    let acl = if policy.acl.named().is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = policy.acl.named().iter().map(|n| n.name.as_str()).collect();
        format!(", acl = {}", names.join(", "))
    };
    format!(
        "{auth}, scheme = {schemes}, user_agent = {user_agent}, client_cert = {client_cert}{acl}"
    )
}

/// A MAC on the command line.
pub fn parse_mac(text: &str) -> Result<Mac, String> {
    Mac::parse(text).ok_or_else(|| "must be a MAC address, e.g. 0004f2aabbcc".to_owned())
}
