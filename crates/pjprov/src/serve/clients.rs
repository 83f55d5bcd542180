//! Connections open per client: one client (an address, or an IPv6 /64, as the scan throttle counts them)
//! may hold at most `[limits] client_connections` of them, so a few thousand idle sockets from one host can
//! never fill `--max-connections` and lock every phone out. Networks in `[limits] exempt` (a NAT'd office)
//! are not capped.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

/// Open connections by client.
#[derive(Debug, Default)]
pub struct ClientSlots {
    open: Mutex<FxHashMap<IpAddr, u32>>,
}

/// One connection's place; dropping it frees it.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<ClientSlots>,
    key: IpAddr,
}

impl ClientSlots {
    /// Takes a place for a connection from `key` if it holds fewer than `cap`.
    pub fn acquire(self: &Arc<Self>, key: IpAddr, cap: u32) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(key).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: self.clone(),
            key,
        })
    }

    /// Connections `key` holds now.
    #[cfg(test)]
    pub fn held(&self, key: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&key).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_holds_at_most_its_cap_and_gets_its_places_back() {
        let slots = Arc::new(ClientSlots::default());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let held: Vec<Slot> = (0..3).filter_map(|_| slots.acquire(a, 3)).collect();
        assert_eq!(held.len(), 3);
        assert!(slots.acquire(a, 3).is_none());
        assert!(
            slots.acquire(b, 3).is_some(),
            "other clients are not affected"
        );
        drop(held);
        assert_eq!(slots.held(a), 0);
        assert!(slots.acquire(a, 3).is_some());
    }
}
