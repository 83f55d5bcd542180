//! `pjprov render URI`: exactly the body `GET /phoneprov/URI` returns (DESIGN.md §2).

use std::io::Write;
use std::process::ExitCode;

use crate::cli::RenderArgs;

pub fn run(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let Some(snapshot) = super::build_snapshot(&args.dirs, "; nothing to render")? else {
        return Ok(ExitCode::from(1));
    };
    let uri = args.uri.strip_prefix("/phoneprov/").unwrap_or(&args.uri);
    let uri = pjprov_core::uri::decode(uri.split_once('?').map_or(uri, |(u, _)| u));
    let Some(route) = snapshot.route(&uri) else {
        eprintln!("pjprov: no route '{uri}' (GET /phoneprov/{uri} answers 404)");
        return Ok(ExitCode::from(1));
    };
    let prefix = snapshot.settings().general.prefix.as_deref().unwrap_or("");
    let request = pjprov_core::Request::new(
        args.server_addr,
        pjprov_core::Scheme::Http,
        8088,
        None,
        prefix,
        args.user_agent.as_deref(),
    )
    .with_match(route.wildcard_match(&uri));
    let (body, issues) = snapshot.render_fresh(route, request);
    if matches!(route.target, pjprov_core::Target::Dynamic { .. })
        && snapshot
            .template_name(route)
            .is_some_and(|name| name.ends_with(".hbs"))
        && let Err(why) = crate::site_key::read(&args.dirs.state_dir)
    {
        eprintln!("pjprov: note: no generated ADMIN_PASSWORD in this render: {why}");
    }
    for issue in issues {
        eprintln!(
            "{}:{}: warning: {}",
            issue.template, issue.line, issue.message
        );
    }
    match body {
        Ok(body) => {
            let mut out = std::io::stdout().lock();
            out.write_all(&body)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            eprintln!("pjprov: '{uri}' cannot be served: {failure}");
            Ok(ExitCode::from(1))
        }
    }
}
