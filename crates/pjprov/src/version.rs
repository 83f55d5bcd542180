//! What `pjprov --version` says: the package version and, when known at build time, the commit (build.rs).

/// `0.1.0 (commit 0123456789ab)`, or `0.1.0` when built outside a git checkout without `$PJPROV_COMMIT`.
pub const VERSION: &str = env!("PJPROV_VERSION");
