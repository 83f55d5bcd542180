//! Giving memory back to the operating system after a reload.
//!
//! Building a snapshot parses every config file into temporary structures several times the size of the
//! result. glibc keeps freed memory in the process unless it sits at the top of the heap, so without help
//! the resident size stays at the build's peak. `malloc_trim(0)` releases the free pages back.

/// Makes every allocation of 1 MiB or more a mapping of its own, returned to the operating system when it
/// is freed (glibc only; a no-op elsewhere). glibc otherwise raises that threshold to the largest block
/// freed so far: after the first reload freed a large buffer, each later one is carved from the heap and
/// stays resident (a 100,000-phone server sat 34 MB higher after its first reload).
pub fn map_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: mallopt only sets a glibc tunable; it takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Returns the allocator's free memory to the operating system (glibc only; a no-op elsewhere).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only walks glibc's own free lists; it takes no pointers and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
