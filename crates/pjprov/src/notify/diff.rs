//! Which phones' files changed: after each reload, every phone that ever fetched is served its files again in
//! memory (each dynamic route rendered with the address the phone last connected to, each static or shared
//! file it fetched looked at), and the entity tags are compared with what the previous configuration
//! served. A phone whose bytes are the same is left alone, whatever was edited. Comparing keeps no body
//! that was not in memory already ([`Snapshot::render_to_compare`]): the phone's own fetch caches it.

use std::net::{IpAddr, Ipv4Addr};

use pjprov_core::{Mac, Request, Snapshot, Target};

use crate::inventory::{Current, Inventory};

/// The current entity tag of every file each phone that was ever seen is served (`prefix`: Asterisk's
/// http.conf prefix in force).
pub fn current(snapshot: &Snapshot, inventory: &Inventory, prefix: &str) -> Current {
    let mut current = Current::default();
    for (id, phone) in snapshot.phone_ids() {
        let Some(mac) = Mac::parse(&phone.mac) else {
            continue;
        };
        let Some(record) = inventory.phone(mac) else {
            continue; // never seen: nothing to tell it
        };
        let request = record
            .request(prefix)
            .unwrap_or_else(|| Request::to_server(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        let mut files: Vec<(Box<str>, Box<str>)> = Vec::new();
        for route in snapshot.routes_of(id) {
            // A wildcard route renders for the name the phone asked for.
            let matched = record
                .files
                .iter()
                .find_map(|f| route.wildcard_match(&f.uri));
            if let Ok(rendered) =
                snapshot.render_to_compare(route, request.clone().with_match(matched))
            {
                files.push((route.uri.as_str().into(), rendered.etag_str().into()));
            }
        }
        // The files no single phone owns, that this one fetched.
        for fetched in &record.files {
            let Some(route) = snapshot.route(&fetched.uri) else {
                continue;
            };
            let etag = match &route.target {
                Target::Shared { .. } => snapshot
                    .render_to_compare(
                        route,
                        request
                            .clone()
                            .with_match(route.wildcard_match(&fetched.uri)),
                    )
                    .ok()
                    .map(|r| r.etag_str().to_owned()),
                Target::Static { path, .. } => std::fs::metadata(path)
                    .ok()
                    .map(|meta| crate::serve::static_etag(&meta)),
                Target::Dynamic { .. } => None,
            };
            if let Some(etag) = etag {
                files.push((route.uri.as_str().into(), etag.into()));
            }
        }
        files.sort();
        current.insert(mac, files);
    }
    current
}

/// The phones whose files differ between `before` (what the previous configuration served each phone, as the
/// last comparison computed it) and `after`. A phone that was first seen after that comparison fetched the
/// previous configuration's bytes: what it fetched stands for `before`, file by file. A file it never
/// fetched tells nothing either way.
pub fn changed(before: &Current, after: &Current, inventory: &Inventory) -> Vec<Mac> {
    let mut changed: Vec<Mac> = after
        .iter()
        .filter(|(mac, files)| match before.get(mac) {
            Some(old) => old != *files,
            None => inventory.phone(**mac).is_some_and(|record| {
                files.iter().any(|(uri, etag)| {
                    record
                        .file(uri)
                        .is_some_and(|f| f.etag.as_deref() != Some(&**etag))
                })
            }),
        })
        .map(|(mac, _)| *mac)
        .collect();
    changed.sort();
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_phones_whose_bytes_changed() {
        let a = Mac::parse("0004f2000001").unwrap();
        let b = Mac::parse("0004f2000002").unwrap();
        let c = Mac::parse("0004f2000003").unwrap();
        let files = |etag: &str| vec![("x.cfg".into(), etag.into())];
        let before: Current = [(a, files("\"1\"")), (b, files("\"1\""))]
            .into_iter()
            .collect();
        let after: Current = [
            (a, files("\"1\"")),
            (b, files("\"2\"")),
            (c, files("\"1\"")),
        ]
        .into_iter()
        .collect();
        let inventory = Inventory::in_memory();
        assert_eq!(changed(&before, &after, &inventory), [b]);
        // Not compared before: what it fetched is what it had.
        inventory.fetched(
            c,
            crate::inventory::Fetch {
                client: "192.0.2.9".parse().unwrap(),
                server: "192.0.2.1".parse().unwrap(),
                port: 8088,
                host: None,
                user_agent: "",
                uri: "x.cfg",
                etag: Some("\"0\""),
                status: 200,
                protocol: "http",
            },
        );
        assert_eq!(changed(&before, &after, &inventory), [b, c]);
    }
}
