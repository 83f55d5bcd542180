//! A throwaway PostgreSQL cluster for the realtime tests: `initdb` in a temporary directory as an
//! unprivileged user (`nobody` when the tests run as root: PostgreSQL refuses to run as root), listening on
//! a Unix socket in that directory and on a free loopback port, stopped and removed when dropped.
//!
//! The server comes from Debian's `postgresql` package (`/usr/lib/postgresql/*/bin`). Missing: under CI
//! (`CI` set, as `.ci/run` installs it) the test fails; elsewhere it says "SKIPPED" and is skipped.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The Unix socket's directory (`DIR/.s.PGSQL.PORT`).
    pub socket_dir: PathBuf,
    /// The loopback TCP port.
    pub port: u16,
    /// Whether it listens on the loopback port (else only on the socket).
    tcp: bool,
    /// Whether TCP clients must use TLS (`hostssl` only, with a self-signed certificate).
    tls_only: bool,
    as_user: Vec<String>,
}

/// The server's binaries, newest version first.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2))
                .map(|uid| uid == "0")
        })
        .unwrap_or(false)
}

impl Postgres {
    /// Starts a cluster with the superuser `postgres` (trust over the socket) and a database `asterisk`
    /// owned by the role `asterisk` with password `s3cret` (scram-sha-256 over TCP). `None` (said) when
    /// PostgreSQL is not installed outside CI.
    pub fn start() -> Option<Postgres> {
        Postgres::start_listening(true, false)
    }

    /// Like [`Postgres::start`], refusing TCP clients that do not use TLS (`ssl = on` with a self-signed
    /// certificate, `hostnossl ... reject` in pg_hba.conf), as a site that requires TLS does.
    pub fn start_tls_only() -> Option<Postgres> {
        Postgres::start_listening(true, true)
    }

    /// Like [`Postgres::start`], on the Unix socket only: a test that stops and restarts the server cannot
    /// lose its TCP port to another process meanwhile.
    pub fn start_socket_only() -> Option<Postgres> {
        Postgres::start_listening(false, false)
    }

    fn start_listening(tcp: bool, tls_only: bool) -> Option<Postgres> {
        let Some(bin) = bin_dir() else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "PostgreSQL is needed by this test (apt-get install postgresql; .ci/run installs it)"
                );
            }
            eprintln!("SKIPPED: PostgreSQL is not installed (apt-get install postgresql)");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let as_user = if is_root() {
            use std::os::unix::fs::PermissionsExt;
            std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).unwrap();
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            vec![
                "setpriv".to_owned(),
                "--reuid=65534".to_owned(),
                "--regid=65534".to_owned(),
                "--clear-groups".to_owned(),
                "--".to_owned(),
            ]
        } else {
            Vec::new()
        };
        let pg = Postgres {
            socket_dir: dir.path().join("sock"),
            port: crate::util::free_port(),
            tcp,
            tls_only,
            bin,
            dir,
            as_user,
        };
        pg.run_as_owner("mkdir", &[pg.socket_dir.to_str().unwrap()]);
        let data = pg.data();
        pg.run_as_owner(
            pg.bin.join("initdb").to_str().unwrap(),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        if tls_only {
            pg.require_tls();
        }
        pg.start_server();
        pg.psql_as(
            "postgres",
            "postgres",
            "CREATE ROLE asterisk LOGIN PASSWORD 's3cret'",
        );
        // CREATE DATABASE cannot run in the transaction one -c of several statements makes.
        pg.psql_as(
            "postgres",
            "postgres",
            "CREATE DATABASE asterisk OWNER asterisk",
        );
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A self-signed certificate, `ssl = on`, and a pg_hba.conf where TCP means TLS.
    fn require_tls(&self) {
        use std::os::unix::fs::PermissionsExt;
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let data = self.data();
        let write = |name: &str, text: &str, mode: u32| {
            let path = data.join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            if !self.as_user.is_empty() {
                std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
            }
        };
        write("server.crt", &cert.pem(), 0o644);
        write("server.key", &key.serialize_pem(), 0o600);
        write(
            "pg_hba.conf",
            "local all all trust\n\
             hostnossl all all 127.0.0.1/32 reject\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n",
            0o600,
        );
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str("\nssl = on\n");
        std::fs::write(&conf, text).unwrap();
    }

    /// `program`, run as the cluster's owner.
    fn owner_command(&self, program: &str) -> Command {
        if self.as_user.is_empty() {
            Command::new(program)
        } else {
            let mut c = Command::new(&self.as_user[0]);
            c.args(&self.as_user[1..]).arg(program);
            c
        }
    }

    fn run_as_owner(&self, program: &str, args: &[&str]) -> String {
        let mut command = self.owner_command(program);
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed:\n{}\n{}\nserver log:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn start_server(&self) {
        let options = format!(
            "-c listen_addresses={} -p {} -k {} -c fsync=off -c full_page_writes=off -c synchronous_commit=off",
            if self.tcp { "127.0.0.1" } else { "''" },
            self.port,
            self.socket_dir.display()
        );
        self.run_as_owner(
            self.bin.join("pg_ctl").to_str().unwrap(),
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-l",
                self.dir.path().join("server.log").to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server (fast: open connections are closed).
    pub fn stop(&self) {
        self.run_as_owner(
            self.bin.join("pg_ctl").to_str().unwrap(),
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    /// Starts it again on the same port and socket.
    pub fn restart(&self) {
        self.start_server();
    }

    /// Runs `sql` in the database `asterisk` as `postgres`; returns the output (unaligned, tuples only).
    pub fn psql(&self, sql: &str) -> String {
        self.psql_as("postgres", "asterisk", sql)
    }

    fn psql_as(&self, user: &str, database: &str, sql: &str) -> String {
        let psql = self.bin.join("psql");
        let psql = if psql.exists() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let output = Command::new(psql)
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .arg("-h")
            .arg(&self.socket_dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                user,
                "-d",
                database,
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            output.status.success(),
            "psql failed on {sql}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// A directory under the cluster's temporary directory (for files the test writes).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let _ = self
            .owner_command(pg_ctl.to_str().unwrap_or("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// Asterisk's tables (contrib/ast-db-manage at 22.10.1, the columns provisioning reads, with alembic's
/// types) and a phoneprov table (Asterisk ships none): one column per variable, quoted upper case.
pub const SCHEMA: &str = r#"
CREATE TYPE ast_bool_values AS ENUM ('0','1','off','on','false','true','no','yes');
CREATE TYPE pjsip_auth_type_values_v2 AS ENUM ('md5','userpass','google_oauth');
CREATE TYPE pjsip_transport_protocol_values_v2 AS ENUM ('udp','tcp','tls','ws','wss','flow');
CREATE TABLE ps_endpoints (id VARCHAR(255) NOT NULL UNIQUE, transport VARCHAR(40), aors VARCHAR(2048),
  auth VARCHAR(255), context VARCHAR(40), disallow VARCHAR(200), allow VARCHAR(200), callerid VARCHAR(40));
CREATE INDEX ps_endpoints_id ON ps_endpoints (id);
CREATE TABLE ps_auths (id VARCHAR(255) NOT NULL UNIQUE, auth_type pjsip_auth_type_values_v2,
  nonce_lifetime INTEGER, md5_cred VARCHAR(40), password VARCHAR(80), realm VARCHAR(255), username VARCHAR(40));
CREATE INDEX ps_auths_id ON ps_auths (id);
CREATE TABLE ps_aors (id VARCHAR(255) NOT NULL UNIQUE, contact VARCHAR(255), max_contacts INTEGER,
  remove_existing ast_bool_values);
CREATE TABLE ps_transports (id VARCHAR(40) NOT NULL UNIQUE, bind VARCHAR(40),
  protocol pjsip_transport_protocol_values_v2, external_signaling_port INTEGER);
CREATE TABLE ps_phoneprovs (id VARCHAR(255) NOT NULL UNIQUE, endpoint VARCHAR(255),
  "MAC" VARCHAR(17), "PROFILE" VARCHAR(80), "LINE" INTEGER, "LINEKEYS" INTEGER);
GRANT SELECT ON ps_endpoints, ps_auths, ps_aors, ps_transports, ps_phoneprovs TO asterisk;
"#;

/// The trigger docs/realtime.md documents (contrib/realtime/pjprov-notify.sql).
pub fn notify_trigger() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contrib/realtime/pjprov-notify.sql");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
