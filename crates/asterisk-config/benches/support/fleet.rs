//! A generated fleet of phones, shaped like `shared/bench/gen_fleet.py`: templates, an `#include`, one
//! endpoint + auth + aor + phoneprov per line, every tenth phone with a second line. Shared by the benches of
//! several crates (included with `#[path]`).

#![allow(dead_code)]

use std::fmt::Write as _;

/// The generated configuration files.
#[derive(Debug)]
pub struct Fleet {
    pub pjsip_conf: String,
    pub phones_conf: String,
    pub phoneprov_conf: String,
    pub macs: Vec<String>,
}

pub fn generate(phones: usize, lines_every: usize) -> Fleet {
    let pjsip_conf = "[transport-udp]\ntype = transport\nprotocol = udp\nbind = 127.0.0.1:5060\n\n\
        [ep-tpl](!)\ntype = endpoint\ncontext = from-phones\ndisallow = all\nallow = ulaw,alaw,g722\n\
        transport = transport-udp\ndirect_media = no\nrtp_symmetric = yes\nforce_rport = yes\n\n\
        [auth-tpl](!)\ntype = auth\nauth_type = userpass\n\n\
        [aor-tpl](!)\ntype = aor\nmax_contacts = 1\nremove_existing = yes\nqualify_frequency = 60\n\n\
        [pp-tpl](!)\ntype = phoneprov\nPROFILE = fleet\n\n#include pjsip_phones.conf\n"
        .to_owned();
    let mut phones_conf = String::with_capacity(phones * 420);
    let mut macs = Vec::with_capacity(phones);
    for i in 0..phones {
        let ext = 100_000 + i;
        let mac = format!("0004f2{i:06x}");
        let lines: &[usize] = if lines_every > 0 && i % lines_every == 0 {
            &[1, 2]
        } else {
            &[1]
        };
        for &line in lines {
            let e = if line == 1 { ext } else { ext + 500_000 };
            let _ = write!(
                phones_conf,
                "[{e}](ep-tpl)\nauth = {e}\naors = {e}\ncallerid = \"Phone {i} line {line}\" <{e}>\n\
                 mailboxes = {e}@default\n\n[{e}](auth-tpl)\nusername = {e}\npassword = pw-{e:x}-{}\n\n\
                 [{e}](aor-tpl)\n\n[{e}-pp](pp-tpl)\nendpoint = {e}\nMAC = {mac}\nLINE = {line}\n\
                 LINEKEYS = 2\nTIMEZONE = America/New_York\n\n",
                i * 7919 % 100_003
            );
        }
        macs.push(mac);
    }
    let phoneprov_conf = "[general]\ndefault_profile = fleet\n\n[fleet]\nmime_type = text/plain\n\
        ${MAC}.cfg => fleet.cfg\nsetvar => NTP_SERVER=pool.ntp.org\nsetvar => ADMIN_PASSWORD=admin-${LABEL}\n"
        .to_owned();
    Fleet {
        pjsip_conf,
        phones_conf,
        phoneprov_conf,
        macs,
    }
}
