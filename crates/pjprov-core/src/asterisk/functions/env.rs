//! func_env.c: `ENV`, `STAT`, `BASENAME`, `DIRNAME`. (`FILE`, `FILE_COUNT_LINE` and `FILE_FORMAT` are left
//! out: see the module list.)
//!
//! * `ENV(name)` is `getenv`. **pjprov differs**: it is off unless pjprov.conf's `[general] allow_env = yes`,
//!   and then reads only the names `[general] env_names` lists (the render world's `allowed_env`); any
//!   other name renders empty with a warning. Asterisk reads its whole environment, which may hold the
//!   host's secrets.
//! * `STAT(flag,path)`: `e` exists, `s` size, `f` regular file, `d` directory, `M`/`A` modification
//!   time, `C` change time, `m` mode in octal; "0" when the file cannot be examined or the flag is unknown.
//!   Asterisk blocks it unless `live_dangerously` (**pjprov differs**: allowed).
//! * `BASENAME(path)` and `DIRNAME(path)` are POSIX `basename` (glibc's `__xpg_basename`) and `dirname`:
//!   `/usr/lib/` → `lib` and `/usr`, `usr` → `usr` and `.`, `/` → `/` and `/`, `` → `.` and `.`.
//!   **pjprov differs**: Asterisk gives them a 12-byte buffer, so it cuts names to 11 bytes; pjprov
//!   returns them whole (up to the 4095 bytes of any other `.read` function).

use super::{Call, Outcome};

/// `ENV(name)`.
pub(crate) fn env(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let allowed = call.r.world.allowed_env;
    let name = std::str::from_utf8(data).ok();
    match name.filter(|n| allowed.iter().any(|a| a == n)) {
        Some(name) => {
            if let Some(value) = std::env::var_os(name) {
                out.extend_from_slice(value.as_encoded_bytes());
            }
        }
        None if allowed.is_empty() => call
            .issue("ENV is off: turn it on with pjprov.conf [general] allow_env = yes and env_names = the variables it may read"),
        None => call.issue("ENV: the variable is not listed in pjprov.conf [general] env_names"),
    }
    Ok(true)
}

/// `STAT(flag,filename)`.
pub(crate) fn stat(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    use std::os::unix::fs::MetadataExt;
    let Some(comma) = memchr::memchr(b',', data) else {
        out.push(b'0');
        return Ok(true);
    };
    let (action, path) = (&data[..comma], &data[comma + 1..]);
    let path =
        std::path::Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(path));
    let Ok(meta) = std::fs::metadata(path) else {
        out.push(b'0');
        return Ok(true);
    };
    let text = match action.first() {
        Some(b'e') => "1".to_owned(),
        Some(b's') => (meta.size() as u32).to_string(),
        Some(b'f') => u8::from(meta.is_file()).to_string(),
        Some(b'd') => u8::from(meta.is_dir()).to_string(),
        Some(b'M' | b'A') => (meta.mtime() as i32).to_string(),
        Some(b'C') => (meta.ctime() as i32).to_string(),
        Some(b'm') => format!("{:o}", meta.mode()),
        _ => "0".to_owned(),
    };
    out.extend_from_slice(text.as_bytes());
    Ok(true)
}

/// POSIX `basename` as glibc's `__xpg_basename` computes it.
fn base_name(path: &[u8]) -> &[u8] {
    if path.is_empty() {
        return b".";
    }
    let Some(last) = memchr::memrchr(b'/', path) else {
        return path;
    };
    if last + 1 < path.len() {
        return &path[last + 1..];
    }
    // Trailing slashes: drop them, then take the last component.
    let end = path.iter().rposition(|&b| b != b'/').map(|i| i + 1);
    match end {
        None => b"/",
        Some(end) => {
            let start = memchr::memrchr(b'/', &path[..end]).map_or(0, |i| i + 1);
            &path[start..end]
        }
    }
}

/// POSIX `dirname` as glibc computes it (`//` alone stays `//`).
fn dir_name(path: &[u8]) -> &[u8] {
    let Some(mut last) = memchr::memrchr(b'/', path) else {
        return b".";
    };
    if last != 0 && last + 1 == path.len() {
        // A trailing slash: look before it and the slashes that precede it.
        let run = path[..last].iter().rposition(|&b| b != b'/');
        if let Some(before) = run {
            match memchr::memrchr(b'/', &path[..=before]) {
                Some(slash) => last = slash,
                None => return b".",
            }
        }
    }
    // Drop the slashes before the last component.
    let end = path[..last].iter().rposition(|&b| b != b'/').map(|i| i + 1);
    match end {
        Some(end) => &path[..end],
        None if last == 1 => &path[..2],
        None => &path[..1],
    }
}

/// `BASENAME(path)`.
pub(crate) fn basename(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    out.extend_from_slice(base_name(data));
    Ok(true)
}

/// `DIRNAME(path)`.
pub(crate) fn dirname(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    out.extend_from_slice(dir_name(data));
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names_like_xpg_basename() {
        for (path, base) in [
            ("/etc/asterisk/extensions.conf", "extensions.conf"),
            ("/usr/lib/", "lib"),
            ("/usr/lib//", "lib"),
            ("usr", "usr"),
            ("/", "/"),
            ("///", "/"),
            ("", "."),
            ("a/", "a"),
            (".", "."),
            ("..", ".."),
        ] {
            assert_eq!(base_name(path.as_bytes()), base.as_bytes(), "{path}");
        }
    }

    #[test]
    fn dir_names_like_glibc() {
        for (path, dir) in [
            ("/etc/asterisk/extensions.conf", "/etc/asterisk"),
            ("/usr/lib/", "/usr"),
            ("/usr//lib", "/usr"),
            ("/usr", "/"),
            ("usr", "."),
            ("usr/", "."),
            ("/", "/"),
            ("//", "//"),
            ("///", "/"),
            ("//usr", "//"),
            ("", "."),
            ("a/b/", "a"),
        ] {
            assert_eq!(dir_name(path.as_bytes()), dir.as_bytes(), "{path}");
        }
    }
}
