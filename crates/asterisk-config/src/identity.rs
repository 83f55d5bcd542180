//! Who the process runs as, and who owns a file: what "permission denied" must say to be acted on.
//!
//! Read from `/proc/self/status` and `/etc/passwd` (no C library call); on a system without them the
//! message simply says less.

use std::path::Path;

/// "permission denied: pjprov runs as user 'pjprov' (uid 998); it belongs to user 'root' (uid 0) with
/// mode 0600 ...".
pub(crate) fn permission_denied(path: &Path) -> String {
    let me = effective_uid();
    let mut text = String::from("permission denied");
    if let Some(uid) = me {
        text.push_str(&format!(": pjprov runs as {}", describe_user(uid)));
    }
    if let Some((owner, mode)) = owner_and_mode(path) {
        text.push_str(&format!(
            "; it belongs to {} with mode {:04o}",
            describe_user(owner),
            mode & 0o7777
        ));
    }
    text.push_str("; make it readable by pjprov's user (its group, or an ACL), or run pjprov as a user that can read it");
    text
}

fn describe_user(uid: u32) -> String {
    match user_name(uid) {
        Some(name) => format!("user '{name}' (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

/// The effective user id, from the `Uid:` line of `/proc/self/status` (real, effective, saved, fs).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_owned())
    })
}

fn owner_and_mode(path: &Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.uid(), meta.mode()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_process_user_and_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pjprov.conf");
        std::fs::write(&file, "").unwrap();
        let text = permission_denied(&file);
        assert!(text.starts_with("permission denied"), "{text}");
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(text.contains("pjprov runs as"), "{text}");
            assert!(text.contains("mode 0"), "{text}");
        }
    }
}
