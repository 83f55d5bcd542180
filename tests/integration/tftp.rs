//! TFTP over real UDP (issue 8): every golden file comes out byte for byte as over HTTP (fetched with curl,
//! an independent client), options are negotiated as RFC 2347–2349 and 7440 say (checked with a raw client
//! below), a 40 MB file crosses the block-number rollover intact (tftp-hpa), and refusals are error packets.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use crate::reference::{CAPTURED, golden_cases, golden_rows};
use crate::util::{Fixture, Server, copy_dir, curl};

const PHONE: &str = "0004f2000100";

/// A raw TFTP read: the bytes, and the options the server acknowledged; or the error packet.
#[derive(Debug)]
struct Read {
    data: Vec<u8>,
    oack: Vec<(String, String)>,
}

#[derive(Debug, PartialEq, Eq)]
struct ErrorPacket {
    code: u16,
    message: String,
}

fn cstrings(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// Sends a request (opcode 1 read, 2 write) from `from` and follows the transfer to its end.
fn transfer(
    server: SocketAddr,
    from: IpAddr,
    opcode: u8,
    name: &str,
    options: &[(&str, &str)],
) -> Result<Read, ErrorPacket> {
    let socket = UdpSocket::bind((from, 0)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = vec![0, opcode];
    for part in [name, "octet"]
        .into_iter()
        .chain(options.iter().flat_map(|(k, v)| [*k, *v]))
    {
        request.extend_from_slice(part.as_bytes());
        request.push(0);
    }
    socket.send_to(&request, server).unwrap();
    let mut data = Vec::new();
    let mut oack = Vec::new();
    let mut block_size = 512;
    let mut expected_block: u16 = 1;
    let mut buf = vec![0u8; 70_000];
    loop {
        let (len, tid) = socket.recv_from(&mut buf).expect("an answer within 5 s");
        let packet = &buf[..len];
        match packet[1] {
            6 => {
                let strings = cstrings(&packet[2..]);
                oack = strings
                    .chunks(2)
                    .map(|kv| {
                        (
                            kv[0].to_ascii_lowercase(),
                            kv.get(1).cloned().unwrap_or_default(),
                        )
                    })
                    .collect();
                if let Some((_, size)) = oack.iter().find(|(k, _)| k == "blksize") {
                    block_size = size.parse().unwrap();
                }
                socket.send_to(&[0, 4, 0, 0], tid).unwrap();
            }
            3 => {
                let block = u16::from_be_bytes([packet[2], packet[3]]);
                if block == expected_block {
                    data.extend_from_slice(&packet[4..]);
                    expected_block = expected_block.wrapping_add(1);
                }
                socket.send_to(&[0, 4, packet[2], packet[3]], tid).unwrap();
                if block == expected_block.wrapping_sub(1) && len - 4 < block_size {
                    return Ok(Read { data, oack });
                }
            }
            5 => {
                return Err(ErrorPacket {
                    code: u16::from_be_bytes([packet[2], packet[3]]),
                    message: cstrings(&packet[4..]).first().cloned().unwrap_or_default(),
                });
            }
            other => panic!("unexpected opcode {other}"),
        }
    }
}

fn read(server: SocketAddr, name: &str, options: &[(&str, &str)]) -> Result<Read, ErrorPacket> {
    transfer(server, "127.0.0.1".parse().unwrap(), 1, name, options)
}

#[test]
fn every_golden_file_over_tftp_is_the_http_file() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in golden_cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        // The case's own config, plus pjprov.conf letting every profile out over TFTP.
        let etc = tempfile::tempdir().unwrap();
        copy_dir(&case.join("etc"), etc.path());
        let own = etc.path().join("pjprov.conf");
        let mut text = std::fs::read_to_string(&own).unwrap_or_default();
        text.push_str("\n[tftp]\nprofiles = *\n");
        std::fs::write(&own, text).unwrap();
        let server = Server::start(
            etc.path(),
            &case.join("data"),
            &["--now", CAPTURED, "--tftp-listen", "127.0.0.1:0"],
        );
        let tftp = server.tftp_addr.unwrap();
        for row in golden_rows(&case) {
            let http = server.get(&format!("/phoneprov/{}", row.uri));
            let url = format!("tftp://{tftp}/{}", row.uri);
            let over_tftp = curl(&[&url]);
            if http.status == 200 {
                compared += 1;
                if over_tftp.code != 0 || over_tftp.body != http.body {
                    failures.push(format!("{name} {}: TFTP gave {over_tftp:?}", row.uri));
                }
            } else if over_tftp.code == 0 {
                failures.push(format!(
                    "{name} {}: HTTP {} but TFTP sent a file",
                    row.uri, http.status
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if !golden_cases().is_empty() {
        assert!(compared > 10, "only {compared} files compared");
    }
}

fn fixture(pjprov_conf: &str) -> Fixture {
    let fx = Fixture::new();
    fx.config(
        "pjsip.conf",
        &format!(
            "[udp]\ntype = transport\nbind = 0.0.0.0\n\
             [100]\ntype = endpoint\ntransport = udp\nauth = 100\n\
             [100]\ntype = auth\nusername = 100\npassword = pw-100\n\
             [100-pp]\ntype = phoneprov\nendpoint = 100\nMAC = {PHONE}\nPROFILE = polycom\n\
             [200]\ntype = endpoint\ntransport = udp\nauth = 200\n\
             [200]\ntype = auth\nusername = 200\npassword = pw-200\n\
             [200-pp]\ntype = phoneprov\nendpoint = 200\nMAC = 001565000200\nPROFILE = secure\n"
        ),
    )
    .config(
        "phoneprov.conf",
        "[polycom]\nstatic_file => firmware.bin\n${MAC}.cfg => p.cfg\n\
         [secure]\n${MAC}.cfg => p.cfg\n",
    )
    .config("pjprov.conf", pjprov_conf)
    .template(
        "p.cfg",
        &format!(
            "user=${{USERNAME}} server=${{SERVER}}\n{}\n",
            "x".repeat(3000)
        ),
    );
    fx
}

#[test]
fn options_are_negotiated() {
    let fx = fixture("[tftp]\nprofiles = polycom\n");
    let server = Server::start(&fx.etc(), &fx.data(), &["--tftp-listen", "127.0.0.1:0"]);
    let tftp = server.tftp_addr.unwrap();
    let http = server.get(&format!("/phoneprov/{PHONE}.cfg")).body;
    assert!(http.starts_with(b"user=100 server=127.0.0.1\n"));

    // Plain RFC 1350: 512-byte blocks, no OACK.
    let plain = read(tftp, &format!("{PHONE}.cfg"), &[]).unwrap();
    assert_eq!(plain.data, http);
    assert!(plain.oack.is_empty());

    // blksize and tsize (RFC 2348, 2349): the size of the rendered file is announced.
    let sized = read(
        tftp,
        &format!("/phoneprov/{PHONE}.cfg"),
        &[("blksize", "1024"), ("tsize", "0")],
    )
    .unwrap();
    assert_eq!(sized.data, http);
    assert!(
        sized.oack.contains(&("blksize".into(), "1024".into())),
        "{:?}",
        sized.oack
    );
    assert!(
        sized
            .oack
            .contains(&("tsize".into(), http.len().to_string()))
    );

    // Too large a block is cut to one that fits an Ethernet frame; windowsize is taken (RFC 7440); the
    // client's timeout is not (the server's own bounds how long a silent client holds a transfer).
    let big = read(
        tftp,
        &format!("{}.cfg", PHONE.to_uppercase()),
        &[("blksize", "65464"), ("timeout", "2"), ("windowsize", "4")],
    )
    .unwrap();
    assert_eq!(big.data, http);
    assert!(
        big.oack.contains(&("blksize".into(), "1428".into())),
        "{:?}",
        big.oack
    );
    assert!(
        !big.oack.iter().any(|(name, _)| name == "timeout"),
        "{:?}",
        big.oack
    );
    assert!(big.oack.contains(&("windowsize".into(), "4".into())));
}

#[test]
fn refusals_are_error_packets() {
    let fx = fixture("[tftp]\nprofiles = polycom\n");
    let server = Server::start(&fx.etc(), &fx.data(), &["--tftp-listen", "127.0.0.1:0"]);
    let tftp = server.tftp_addr.unwrap();
    let code = |result: Result<Read, ErrorPacket>| result.map(|r| r.data.len()).map_err(|e| e.code);
    // 1 = file not found, 2 = access violation (RFC 1350).
    assert_eq!(code(read(tftp, "nosuch.cfg", &[])), Err(1));
    assert_eq!(code(read(tftp, "../../etc/passwd", &[])), Err(2));
    assert_eq!(code(read(tftp, "/phoneprov/../pjsip.conf", &[])), Err(2));
    // A profile [tftp] does not list: its phone's file is refused, over TFTP only.
    assert_eq!(code(read(tftp, "001565000200.cfg", &[])), Err(2));
    assert_eq!(server.get("/phoneprov/001565000200.cfg").status, 200);
    // Writes are refused, and logged once per client.
    let localhost = "127.0.0.1".parse().unwrap();
    for _ in 0..3 {
        let write = transfer(tftp, localhost, 2, "0004f2000100-app.log", &[]);
        assert_eq!(write.map(|r| r.data.len()).map_err(|e| e.code), Err(2));
    }
    server.wait_for_log("TFTP write refused", 5);
    assert_eq!(server.log().matches("TFTP write refused").count(), 1);
    let metrics = crate::util::request(server.admin.unwrap(), "GET", "/metrics", &[]);
    let text = String::from_utf8_lossy(&metrics.body).into_owned();
    assert!(
        text.contains("pjprov_tftp_requests_total{result=\"write_refused\"} 3"),
        "{text}"
    );
}

#[test]
fn the_acl_and_the_scan_throttle_apply_to_tftp() {
    let fx = fixture(
        "[tftp]\nprofiles = *\n[acl]\ndeny = 127.0.0.9\n\
         [limits]\nscan_refuse_after = 10\nscan_slow_after = 10\n",
    );
    let server = Server::start(&fx.etc(), &fx.data(), &["--tftp-listen", "127.0.0.1:0"]);
    let tftp = server.tftp_addr.unwrap();
    let from = |ip: &str| -> IpAddr { ip.parse().unwrap() };
    let name = format!("{PHONE}.cfg");
    assert_eq!(
        transfer(tftp, from("127.0.0.9"), 1, &name, &[])
            .map(|r| r.data.len())
            .map_err(|e| e.code),
        Err(2),
        "denied by the ACL"
    );
    let scanner = from("127.0.0.5");
    let mut refused_at = None;
    for n in 0..40u32 {
        match transfer(
            tftp,
            scanner,
            1,
            &format!("0004f2{:06x}.cfg", 0x1000 + n),
            &[],
        ) {
            Err(ErrorPacket { code: 1, .. }) => assert!(refused_at.is_none()),
            Err(ErrorPacket { code: 0, message }) => {
                assert!(message.contains("too many"), "{message}");
                refused_at.get_or_insert(n);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(refused_at, Some(9), "refused at the 10th unknown MAC");
    assert!(
        transfer(tftp, scanner, 1, &name, &[]).is_err(),
        "refused for every file"
    );
    assert!(
        transfer(tftp, from("127.0.0.6"), 1, &name, &[]).is_ok(),
        "other phones carry on"
    );
    server.wait_for_log("client refused: too many unknown phones", 5);
    // Each served phone file is audited, as over HTTP.
    server.wait_for_log("protocol=tftp", 5);
    assert!(server.log().lines().any(|l| l.contains("pjprov::audit")
        && l.contains("client=127.0.0.6 method=RRQ")
        && l.contains(&format!("mac={PHONE} proof=none"))));
}

/// 40 MB at 512-byte blocks is 81,920 blocks: the 16-bit block number wraps past 65,535.
#[test]
fn a_40_mb_file_crosses_the_block_number_rollover() {
    let fx = fixture("[tftp]\nprofiles = polycom\n");
    let mut content = Vec::with_capacity(40 << 20);
    let mut x: u32 = 0x1234_5678;
    while content.len() < 40 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        content.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(fx.data().join("phoneprov/firmware.bin"), &content).unwrap();
    let server = Server::start(&fx.etc(), &fx.data(), &["--tftp-listen", "127.0.0.1:0"]);
    let tftp = server.tftp_addr.unwrap();
    let out = fx.dir.path().join("received.bin");
    // tftp-hpa: RFC 1350 with 512-byte blocks.
    let status = std::process::Command::new("tftp")
        .args([
            &tftp.ip().to_string(),
            &tftp.port().to_string(),
            "-m",
            "binary",
            "-c",
            "get",
            "firmware.bin",
        ])
        .arg(&out)
        .status()
        .expect("tftp-hpa's tftp is needed by this test (apt-get install tftp-hpa)");
    assert!(status.success());
    let received = std::fs::read(&out).unwrap();
    assert_eq!(received.len(), content.len());
    assert!(received == content, "the file changed on the way");
}
