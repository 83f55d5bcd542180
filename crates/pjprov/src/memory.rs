//! Giving memory back to the operating system after a reload.
//!
//! Building a snapshot parses every config file into temporary structures several times the size of the
//! result. glibc keeps freed memory in the process unless it sits at the top of the heap, so without help
//! the resident size stays at the build's peak. `malloc_trim(0)` releases the free pages back.

/// Returns the allocator's free memory to the operating system (glibc only; a no-op elsewhere).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only walks glibc's own free lists; it takes no pointers and is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
