//! Which phones' files changed: after each reload, every phone that ever fetched is served its files again in
//! memory (each dynamic route rendered with the address the phone last connected to, each static or shared
//! file it fetched looked at), and the entity tags are compared with what the previous configuration
//! served. A phone whose bytes are the same is left alone, whatever was edited. Comparing keeps no body
//! that was not in memory already ([`Snapshot::render_to_compare`]): the phone's own fetch caches it.

use std::net::{IpAddr, Ipv4Addr};

use pjprov_core::{Mac, Request, Route, Snapshot, Target};

use crate::inventory::{Current, Inventory, Served};

/// Every file each phone that was ever seen is served, with its current entity tag (`prefix`: Asterisk's
/// http.conf prefix in force). A body whose render digest is the one `previous` (the last comparison)
/// found is not rendered again: its tag is the one found then. After a save that changes one phone, only
/// that phone's files are rendered, whether or not the others' bodies are in memory.
pub fn current(
    snapshot: &Snapshot,
    inventory: &Inventory,
    prefix: &str,
    previous: Option<&Current>,
) -> Current {
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
        let before = previous.and_then(|previous| previous.get(&mac));
        let mut files: Vec<Served> = Vec::new();
        for route in snapshot.routes_of(id) {
            // A wildcard route renders for the name the phone asked for.
            let matched = record
                .files
                .iter()
                .find_map(|f| route.wildcard_match(&f.uri));
            if let Some(served) =
                rendered(snapshot, route, request.clone().with_match(matched), before)
            {
                files.push(served);
            }
        }
        // The files no single phone owns, that this one fetched.
        for fetched in &record.files {
            let Some(route) = snapshot.route(&fetched.uri) else {
                continue;
            };
            let served = match &route.target {
                Target::Shared { .. } => rendered(
                    snapshot,
                    route,
                    request
                        .clone()
                        .with_match(route.wildcard_match(&fetched.uri)),
                    before,
                ),
                Target::Static { path, .. } => std::fs::metadata(path)
                    .ok()
                    .map(|meta| Served::new(&route.uri, &crate::serve::static_etag(&meta))),
                Target::Dynamic { .. } => None,
            };
            files.extend(served);
        }
        files.sort_by(|a, b| (&a.uri, &a.etag).cmp(&(&b.uri, &b.etag)));
        files.shrink_to_fit();
        current.insert(mac, files);
    }
    current
}

/// `route`'s file as served for `request`: its tag taken from `before` when its render digest is the one
/// found then, else rendered (and kept only as `Snapshot::render_to_compare` keeps it).
fn rendered(
    snapshot: &Snapshot,
    route: &Route,
    request: Request,
    before: Option<&Vec<Served>>,
) -> Option<Served> {
    let digest = snapshot.render_digest(route, &request);
    if let Some(digest) = digest
        && let Some(known) = before
            .into_iter()
            .flatten()
            .find(|served| *served.uri == *route.uri && served.digest == Some(digest))
    {
        return Some(known.clone());
    }
    let rendered = snapshot.render_to_compare(route, request).ok()?;
    Some(Served {
        uri: route.uri.as_str().into(),
        etag: rendered.etag_str().into(),
        digest,
    })
}

/// The phones whose files differ between `before` (what the previous configuration served each phone, as the
/// last comparison computed it) and `after`. A phone that was first seen after that comparison fetched the
/// previous configuration's bytes: what it fetched stands for `before`, file by file. A file it never
/// fetched tells nothing either way.
pub fn changed(before: &Current, after: &Current, inventory: &Inventory) -> Vec<Mac> {
    let mut changed: Vec<Mac> = after
        .iter()
        .filter(|(mac, files)| match before.get(mac) {
            Some(old) => !same_bytes(old, files),
            None => inventory.phone(**mac).is_some_and(|record| {
                files.iter().any(|served| {
                    record
                        .file(&served.uri)
                        .is_some_and(|f| f.etag.as_deref() != Some(&*served.etag))
                })
            }),
        })
        .map(|(mac, _)| *mac)
        .collect();
    changed.sort();
    changed
}

/// Whether two comparisons found the same files with the same tags (whatever they were rendered from).
fn same_bytes(a: &[Served], b: &[Served]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(a, b)| a.uri == b.uri && a.etag == b.etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_phones_whose_bytes_changed() {
        let a = Mac::parse("0004f2000001").unwrap();
        let b = Mac::parse("0004f2000002").unwrap();
        let c = Mac::parse("0004f2000003").unwrap();
        let files = |etag: &str| vec![Served::new("x.cfg", etag)];
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
        fetched(&inventory, c, "x.cfg");
        assert_eq!(changed(&before, &after, &inventory), [b, c]);
    }

    /// Phone `mac` fetched `uri` (tag `"0"`) over plain HTTP.
    fn fetched(inventory: &Inventory, mac: Mac, uri: &str) {
        inventory.fetched(
            mac,
            crate::inventory::Fetch {
                client: "192.0.2.9".parse().unwrap(),
                server: "192.0.2.1".parse().unwrap(),
                port: 8088,
                host: None,
                user_agent: "",
                uri,
                etag: Some("\"0\""),
                status: 200,
                protocol: "http",
            },
        );
    }

    /// Two phones on one template (`${MAC} ${CALLERID}`); phone 2's callerid is `callerid`.
    fn fleet(dir: &std::path::Path, callerid: &str) -> Snapshot {
        let (etc, data) = (dir.join("etc"), dir.join("data"));
        std::fs::create_dir_all(data.join("phoneprov")).unwrap();
        std::fs::create_dir_all(&etc).unwrap();
        let mut pjsip = String::from("[udp]\ntype = transport\nbind = 0.0.0.0\n");
        for (n, name) in [(1, "One"), (2, callerid)] {
            pjsip.push_str(&format!(
                "[10{n}]\ntype = endpoint\ntransport = udp\nauth = 10{n}\ncallerid = \"{name}\" <10{n}>\n\
                 [10{n}]\ntype = auth\nusername = 10{n}\npassword = pw\n\
                 [10{n}-pp]\ntype = phoneprov\nendpoint = 10{n}\nMAC = 0004f200000{n}\nPROFILE = p\n"
            ));
        }
        std::fs::write(etc.join("pjsip.conf"), pjsip).unwrap();
        std::fs::write(etc.join("phoneprov.conf"), "[p]\n${MAC}.cfg => p.cfg\n").unwrap();
        std::fs::write(data.join("phoneprov/p.cfg"), "${MAC} ${DISPLAY_NAME}\n").unwrap();
        Snapshot::build(
            &pjprov_core::Paths::new(etc, data),
            &pjprov_core::BuildOptions::default(),
        )
        .expect("a usable configuration")
    }

    #[test]
    fn a_digest_found_before_gives_its_tag_without_rendering() {
        let dir = tempfile::tempdir().unwrap();
        let inventory = Inventory::in_memory();
        let macs: Vec<Mac> = (1..=2)
            .map(|n| Mac::parse(&format!("0004f200000{n}")).unwrap())
            .collect();
        for mac in &macs {
            fetched(&inventory, *mac, &format!("{mac}.cfg"));
        }
        let first = fleet(dir.path(), "Two");
        let found = current(&first, &inventory, "", None);
        assert_eq!(found.len(), 2);
        assert!(
            found
                .values()
                .flatten()
                .all(|served| served.digest.is_some())
        );
        // The same digests again: the tags are taken from what was found, even a tag no render gives
        // (which shows nothing was rendered).
        let mut marked = found.clone();
        for served in marked.values_mut().flatten() {
            served.etag = "\"marked\"".into();
        }
        let again = current(&first, &inventory, "", Some(&marked));
        assert!(
            again
                .values()
                .flatten()
                .all(|served| &*served.etag == "\"marked\"")
        );
        // Phone 2 edited: its digest changes and its file is rendered; phone 1's tag is still taken.
        let second = fleet(dir.path(), "Deux");
        let after = current(&second, &inventory, "", Some(&marked));
        assert_eq!(&*after[&macs[0]][0].etag, "\"marked\"");
        assert_ne!(after[&macs[1]][0].digest, found[&macs[1]][0].digest);
        let route = second.route(&format!("{}.cfg", macs[1])).unwrap();
        let request = inventory.phone(macs[1]).unwrap().request("").unwrap();
        assert_eq!(
            &*after[&macs[1]][0].etag,
            second.render(route, request).unwrap().etag_str()
        );
        // Without what was found before, every tag is rendered: the same as the first time for phone 1.
        let fresh = current(&second, &inventory, "", None);
        assert_eq!(fresh[&macs[0]], found[&macs[0]]);
        assert_eq!(changed(&found, &fresh, &inventory), [macs[1]]);
    }
}
