//! How the allocator grows while a configuration is built, and gives memory back once it is.
//!
//! Building a snapshot parses every config file into temporary structures several times the size of the
//! result. glibc keeps freed memory in the process unless it sits at the top of the heap, so without help
//! the resident size stays at the build's peak. `malloc_trim(0)` releases the free pages back.

/// How much glibc adds to each heap it grows (its own default is 128 KiB).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const DEFAULT_TOP_PAD: libc::c_int = 128 * 1024;
/// The most a glibc heap of a thread's arena can span: with this much padding each is usable whole from
/// the start.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const LARGE_TOP_PAD: libc::c_int = 64 << 20;

/// Lets glibc grow its heaps in large steps, for a process about to build a configuration. Building
/// 100,000 phones allocates a few hundred MB from the arenas of a few threads; grown 128 KiB at a time,
/// each step is an `mprotect` (50,000 of them), each taking the address space's lock that the other
/// threads' page faults need, so the threads of the build wait for each other. Padded, a heap is made
/// usable once (45 `mprotect`s in all). Address space only: a page costs memory once it is written.
pub fn grow_heaps_in_large_steps() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: mallopt only sets a glibc tunable; it takes no pointers.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, LARGE_TOP_PAD);
    }
}

/// How a server allocates once its first configuration is built (glibc only; a no-op elsewhere):
///
/// * every allocation of 1 MiB or more is a mapping of its own, returned to the operating system when it
///   is freed. glibc otherwise raises that threshold to the largest block freed so far: after the first
///   reload freed a large buffer, each later one is carved from the heap and stays resident (a
///   100,000-phone server sat 34 MB higher after its first reload);
/// * heaps grow and shrink by glibc's default steps again ([`grow_heaps_in_large_steps`] is for the
///   start): a heap keeps at most that much free memory at its top, so the memory a reload frees goes
///   back.
pub fn settle() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: mallopt only sets glibc tunables; it takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TOP_PAD, DEFAULT_TOP_PAD);
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
