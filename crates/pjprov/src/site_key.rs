//! The site key file, `STATE_DIR/site.key`: 64 hex digits, mode 0600, created by `pjprov serve` on first
//! start and read by every command that renders (so `pjprov render` shows what phones get).
//!
//! Fail closed: a key file that exists but cannot be read, or does not hold a key, is never replaced
//! (that would change every phone's generated password); pjprov then generates no passwords and says
//! why, and the phones keep the password they have.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pjprov_core::SiteKey;
use ring::rand::SecureRandom;

/// The key file in `state_dir`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("site.key")
}

/// The key, created if there is none (`pjprov serve`); `Err` says why there is no key.
pub fn open_or_create(state_dir: &Path) -> Result<Arc<SiteKey>, String> {
    let file = path(state_dir);
    match std::fs::symlink_metadata(&file) {
        Ok(_) => read_file(&file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(state_dir, &file),
        Err(e) => Err(unreadable(&file, &e)),
    }
}

/// The key if there is one (every command but `serve`); `Err` says why there is none.
pub fn read(state_dir: &Path) -> Result<Arc<SiteKey>, String> {
    let file = path(state_dir);
    match std::fs::symlink_metadata(&file) {
        Ok(_) => read_file(&file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{} does not exist yet (pjprov serve creates it)",
            file.display()
        )),
        Err(e) => Err(unreadable(&file, &e)),
    }
}

fn unreadable(file: &Path, error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::PermissionDenied {
        format!(
            "cannot read {}: permission denied (run as the user pjprov serves as, or with sudo)",
            file.display()
        )
    } else {
        format!("cannot read {}: {error}", file.display())
    }
}

fn read_file(file: &Path) -> Result<Arc<SiteKey>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| unreadable(file, &e))?;
    let bytes = decode_hex(text.trim_end()).ok_or_else(|| {
        format!(
            "{} is not 64 hex digits: restore it from a backup (or delete it, and every phone gets a new generated ADMIN_PASSWORD)",
            file.display()
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(file)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                "{} can be read by other users: chmod 600 it (it derives every phone's generated ADMIN_PASSWORD)",
                file.display()
            );
        }
    }
    Ok(Arc::new(SiteKey::new(&bytes)))
}

fn create(state_dir: &Path, file: &Path) -> Result<Arc<SiteKey>, String> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "the system's random number generator failed".to_owned())?;
    std::fs::create_dir_all(state_dir)
        .map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Written whole under another name, then renamed: a crash never leaves half a key, and a key another
    // pjprov created meanwhile is kept (hard_link fails when the name exists).
    let temp = state_dir.join(format!(".site.key.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&temp)
        .and_then(|mut out| {
            out.write_all(format!("{hex}\n").as_bytes())?;
            out.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&temp, file));
    let _ = std::fs::remove_file(&temp);
    match written {
        Ok(()) => Ok(Arc::new(SiteKey::new(&bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_file(file),
        Err(e) => Err(format!("cannot create {}: {e}", file.display())),
    }
}

fn decode_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        assert!(read(&state).unwrap_err().contains("does not exist yet"));
        let mac = pjprov_core::Mac::parse("805ec0a10001").unwrap();
        let first = open_or_create(&state).unwrap().admin_password(mac);
        assert_eq!(read(&state).unwrap().admin_password(mac), first);
        assert_eq!(open_or_create(&state).unwrap().admin_password(mac), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(&state))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(&state)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["site.key"]);
    }

    #[test]
    fn a_damaged_key_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), "not a key\n").unwrap();
        let error = open_or_create(dir.path()).unwrap_err();
        assert!(error.contains("not 64 hex digits"), "{error}");
        assert_eq!(
            std::fs::read_to_string(path(dir.path())).unwrap(),
            "not a key\n"
        );
    }
}
