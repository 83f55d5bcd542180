//! Digest nonce counts (RFC 7616 §3.4): each nonce this process issued, with the highest `nc` a client
//! has used with it, so that a replayed request (the same `nc` again) or one whose `nc` went back is
//! refused with a fresh challenge.
//!
//! Nonces themselves stay stateless (`credentials.rs`: issue time + HMAC): an entry is made only once a
//! response has been verified as right, so only clients that know a password (or replay one that did)
//! create entries, and an entry is useless once its nonce is older than `nonce_lifetime` (the nonce is
//! then stale anyway), which is when it is dropped.
//!
//! Memory is bounded: at most [`MAX_NONCES`] entries in 16 LRU shards, 40 bytes each (a 16-byte tag, the
//! issue time and the count) plus the LRU's links, about 4 MiB in all. Forgetting a live nonce would let
//! its requests be replayed, so when a shard is full and must evict an entry whose nonce is still fresh,
//! it raises its *horizon* to that nonce's issue time: from then on, every nonce of that shard issued at
//! or before the horizon is answered as stale (the phone retries at once with a new nonce). A flood of
//! nonces can cost honest clients one extra round trip; it can never open a replay.
//!
//! RFC 2069 responses (no `qop`, no `nc`) cannot be tracked this way; `docs/security.md` says what that
//! means.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use lru::LruCache;

/// Nonces tracked at most, over all shards.
pub const MAX_NONCES: usize = 65_536;
const SHARDS: usize = 16;

/// What a nonce count turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Higher than any count seen with this nonce: recorded.
    Fresh,
    /// Seen already, or lower than one seen: a replay (or a request out of order).
    Replayed,
    /// The nonce predates what this process can still vouch for (see the module documentation): ask the
    /// client to retry with a new nonce (`stale=true`).
    Forgotten,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    issued: u64,
    highest: u32,
}

#[derive(Debug)]
struct Shard {
    entries: LruCache<[u8; 16], Entry>,
    /// Nonces issued at or before this time (Unix seconds) may have been forgotten while still fresh.
    horizon: u64,
}

/// The counts of every live nonce, kept across reloads (nonces outlive a configuration).
#[derive(Debug)]
pub struct NonceCounts {
    shards: Vec<Mutex<Shard>>,
    replays: AtomicU64,
}

impl Default for NonceCounts {
    fn default() -> NonceCounts {
        NonceCounts::new(MAX_NONCES)
    }
}

impl NonceCounts {
    /// Room for about `capacity` nonces.
    pub fn new(capacity: usize) -> NonceCounts {
        let per_shard = NonZeroUsize::new(capacity.div_ceil(SHARDS)).unwrap_or(NonZeroUsize::MIN);
        NonceCounts {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: LruCache::new(per_shard),
                        horizon: 0,
                    })
                })
                .collect(),
            replays: AtomicU64::new(0),
        }
    }

    /// Records that a verified response used `nc` with the nonce whose tag is `tag`, issued at `issued`
    /// (Unix seconds), at `now`, nonces living `lifetime` seconds; says whether that count is new.
    pub fn admit(&self, tag: [u8; 16], issued: u64, nc: u32, now: u64, lifetime: u64) -> Count {
        let index = usize::from(tag[0]) % SHARDS;
        let mut shard = self.shards[index].lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = shard.entries.get_mut(&tag) {
            if nc <= entry.highest {
                drop(shard);
                self.replays.fetch_add(1, Ordering::Relaxed);
                return Count::Replayed;
            }
            entry.highest = nc;
            return Count::Fresh;
        }
        if issued <= shard.horizon {
            return Count::Forgotten;
        }
        // Not counted, and issued after every nonce this shard ever forgot: a nonce never seen.
        if shard.entries.len() == shard.entries.cap().get() {
            // Make room: the least recently used entry goes; if its nonce is still fresh, nothing issued
            // up to then can be vouched for any more (the nonce being admitted was checked above).
            if let Some((_, old)) = shard.entries.pop_lru()
                && old.issued.saturating_add(lifetime) >= now
            {
                shard.horizon = shard.horizon.max(old.issued);
            }
        }
        shard.entries.put(
            tag,
            Entry {
                issued,
                highest: nc,
            },
        );
        Count::Fresh
    }

    /// Drops the entries of nonces older than `lifetime` at `now` (they are stale: no count is needed).
    pub fn expire(&self, now: u64, lifetime: u64) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let old: Vec<[u8; 16]> = shard
                .entries
                .iter()
                .filter(|(_, e)| e.issued.saturating_add(lifetime) < now)
                .map(|(k, _)| *k)
                .collect();
            for key in old {
                shard.entries.pop(&key);
            }
        }
    }

    /// Nonces tracked now.
    pub fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).entries.len())
            .sum()
    }

    /// Replayed counts refused since start.
    pub fn replays(&self) -> u64 {
        self.replays.load(Ordering::Relaxed)
    }
}

/// An `nc` value: 8 hexadecimal digits (RFC 7616 `nc-value = 8LHEX`; upper case is taken too). Zero is
/// no count: a client's first request with a nonce is 1.
pub fn parse_nc(text: &str) -> Option<u32> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tag for nonce `n`, in shard `n % 16`.
    fn tag(n: u32) -> [u8; 16] {
        let mut tag = [0u8; 16];
        tag[0] = n.to_le_bytes()[0];
        tag[1..5].copy_from_slice(&n.to_be_bytes());
        tag
    }

    #[test]
    fn counts_must_go_up() {
        let counts = NonceCounts::default();
        let t = tag(1);
        assert_eq!(counts.admit(t, 1000, 1, 1000, 300), Count::Fresh);
        assert_eq!(counts.admit(t, 1000, 2, 1001, 300), Count::Fresh);
        assert_eq!(
            counts.admit(t, 1000, 2, 1002, 300),
            Count::Replayed,
            "the same nc again"
        );
        assert_eq!(
            counts.admit(t, 1000, 1, 1002, 300),
            Count::Replayed,
            "an nc that went back"
        );
        assert_eq!(
            counts.admit(t, 1000, 9, 1003, 300),
            Count::Fresh,
            "skipping counts is fine"
        );
        assert_eq!(counts.replays(), 2);
        // Another nonce has its own count.
        assert_eq!(counts.admit(tag(2), 1000, 1, 1003, 300), Count::Fresh);
    }

    #[test]
    fn memory_is_bounded_and_never_forgets_a_live_nonce() {
        let counts = NonceCounts::new(SHARDS * 4);
        let now = 10_000;
        // Fill far beyond capacity with live nonces, each used once.
        for n in 0..10_000u32 {
            let issued = now - 100 + u64::from(n % 50);
            let got = counts.admit(tag(n), issued, 1, now, 300);
            assert_ne!(got, Count::Replayed);
        }
        assert!(counts.tracked() <= SHARDS * 4, "{}", counts.tracked());
        // Every one of them, replayed, is refused: either still counted, or past the horizon.
        for n in 0..10_000u32 {
            let issued = now - 100 + u64::from(n % 50);
            assert_ne!(
                counts.admit(tag(n), issued, 1, now, 300),
                Count::Fresh,
                "nonce {n}"
            );
        }
        // A nonce issued after the horizon is still welcome.
        assert_eq!(
            counts.admit(tag(77_777), now + 1, 1, now + 1, 300),
            Count::Fresh
        );
    }

    #[test]
    fn expired_entries_make_room_without_a_horizon() {
        // One entry per shard, the shards full.
        let counts = NonceCounts::new(SHARDS);
        for n in 0..SHARDS as u32 {
            assert_eq!(counts.admit(tag(n), 100, 1, 100, 300), Count::Fresh);
        }
        // Long after they went stale, evicting them raises no horizon: new nonces are counted.
        let later = 100 + 301;
        for n in 1000..(1000 + SHARDS as u32) {
            assert_eq!(counts.admit(tag(n), later, 1, later, 300), Count::Fresh);
        }
        // A full shard evicting a live nonce does raise it: an older nonce is then forgotten, not
        // taken as new.
        assert_eq!(counts.admit(tag(2000), later, 1, later, 300), Count::Fresh);
        assert_eq!(
            counts.admit(tag(1008), later, 1, later, 300),
            Count::Forgotten
        );
        assert_eq!(
            counts.admit(tag(2000), later, 1, later, 300),
            Count::Replayed
        );
        counts.expire(later + 1000, 300);
        assert_eq!(counts.tracked(), 0);
    }

    #[test]
    fn nc_values() {
        assert_eq!(parse_nc("00000001"), Some(1));
        assert_eq!(parse_nc("0000000A"), Some(10));
        assert_eq!(parse_nc("ffffffff"), Some(u32::MAX));
        for bad in [
            "",
            "1",
            "00000000",
            "0000000g",
            "000000001",
            " 0000001",
            "+0000001",
        ] {
            assert_eq!(parse_nc(bad), None, "{bad:?}");
        }
    }
}
