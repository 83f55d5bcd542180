//! Where log lines go: a bounded queue of whole lines, written to stderr by one thread.
//!
//! A boot storm logs a line per request. Request threads never write to stderr themselves: they append
//! the formatted line to the queue (a memcpy under a lock held for nothing else) and go on; the writer
//! thread takes everything queued at once and writes it in one `write(2)`. Lines are whole, so several
//! sources can share the queue without interleaving.
//!
//! Waking the writer costs a system call and two context switches, more than formatting the line: a push
//! wakes it only when it sleeps with nothing queued, and it lets lines gather for [`GATHER`] before each
//! write, so a storm costs at most a couple of hundred wake-ups a second, not one a request.
//!
//! A reader that stalls (stderr on a pipe nobody reads) must never stall serving: when the queue holds
//! `capacity` bytes, new lines are dropped and counted ([`Sink::dropped`], exported as
//! `pjprov_log_dropped_total`), and once the writer gets through again it says how many were lost. The audit
//! facts also go to the inventory store, which is not lossy.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How long the writer lets lines gather once woken (the most a line waits for stderr when all is well).
pub const GATHER: Duration = Duration::from_millis(5);

/// The queue and its counters.
#[derive(Debug)]
pub struct Sink {
    queue: Mutex<Vec<u8>>,
    ready: Condvar,
    capacity: usize,
    dropped: AtomicU64,
    closed: AtomicBool,
    /// The writer waits for a line (and must be woken).
    idle: AtomicBool,
}

impl Sink {
    /// A queue of at most `capacity` bytes.
    pub fn new(capacity: usize) -> Arc<Sink> {
        Arc::new(Sink {
            queue: Mutex::new(Vec::with_capacity(64 * 1024)),
            ready: Condvar::new(),
            capacity,
            dropped: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            idle: AtomicBool::new(false),
        })
    }

    /// Queues one whole line (or several); false when it was dropped because the queue is full.
    pub fn push(&self, line: &[u8]) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.len() + line.len() > self.capacity {
            drop(queue);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        queue.extend_from_slice(line);
        // Read under the lock: the writer sets it under the lock before it waits.
        let wake = self.idle.load(Ordering::Relaxed);
        drop(queue);
        if wake {
            self.ready.notify_one();
        }
        true
    }

    /// Lines dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Runs the writer: writes what is queued until [`Sink::close`], then what is left. `notice` formats
    /// the line that reports drops.
    pub fn run(&self, out: &mut dyn Write, notice: &dyn Fn(u64) -> Vec<u8>) {
        let mut batch = Vec::with_capacity(64 * 1024);
        let mut reported = 0;
        loop {
            {
                let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                while queue.is_empty() && !self.closed.load(Ordering::Acquire) {
                    self.idle.store(true, Ordering::Relaxed);
                    queue = self.ready.wait(queue).unwrap_or_else(|e| e.into_inner());
                    self.idle.store(false, Ordering::Relaxed);
                }
                if queue.is_empty() {
                    return;
                }
                if !self.closed.load(Ordering::Acquire) {
                    // Let the lines of the moment gather: one write for all of them.
                    drop(queue);
                    std::thread::sleep(GATHER);
                    queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                }
                std::mem::swap(&mut *queue, &mut batch);
            }
            let _ = out.write_all(&batch);
            let dropped = self.dropped();
            if dropped != reported {
                // The reader keeps up again: say what was lost.
                let _ = out.write_all(&notice(dropped - reported));
                reported = dropped;
            }
            let _ = out.flush();
            batch.clear();
            if batch.capacity() > 1 << 20 {
                batch = Vec::with_capacity(64 * 1024);
            }
        }
    }

    /// Asks the writer to finish: it writes what is queued, then returns.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let _guard = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_whole_and_in_order() {
        let sink = Sink::new(1 << 20);
        for n in 0..1000 {
            assert!(sink.push(format!("line {n}\n").as_bytes()));
        }
        sink.close();
        let mut out = Vec::new();
        sink.run(&mut out, &|_| Vec::new());
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1000);
        assert_eq!(text.lines().nth(999), Some("line 999"));
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_the_writer_says_so() {
        let sink = Sink::new(20);
        assert!(sink.push(b"0123456789\n"));
        assert!(!sink.push(b"0123456789\n"), "full");
        assert!(!sink.push(b"x\n0123456789\n"));
        assert_eq!(sink.dropped(), 2);
        sink.close();
        let mut out = Vec::new();
        sink.run(&mut out, &|n| format!("{n} dropped\n").into_bytes());
        assert_eq!(String::from_utf8(out).unwrap(), "0123456789\n2 dropped\n");
    }

    #[test]
    fn a_stalled_writer_never_blocks_a_push() {
        // Nobody runs the writer: pushes return at once, full or not.
        let sink = Sink::new(1000);
        for _ in 0..100_000 {
            sink.push(b"a line that nobody will ever read\n");
        }
        assert!(sink.dropped() > 99_000);
    }
}
