//! The build's side of a pool: a slot taken before each edge starts and
//! kept by that edge until it ends, as ninja 1.13's plan does. Every slot
//! goes back (an edge that finished, failed or was stopped; the rest when
//! this is dropped), so the pool is whole again however the build ends.
//! Ignores which edges are ready: the build loop asks for one slot at a time.

use std::collections::HashMap;
use std::hash::Hash;

use super::{Client, Slot, Watcher};

/// Slots held by edges named by `E`.
pub struct Slots<E> {
    client: Client,
    /// Taken for the next edge to start, not yet given to it.
    next: Option<Slot>,
    held: HashMap<E, Slot>,
    watcher: Option<Watcher>,
}

impl<E: Hash + Eq> Slots<E> {
    pub fn new(client: Client) -> Slots<E> {
        Slots {
            client,
            next: None,
            held: HashMap::new(),
            watcher: None,
        }
    }

    /// From now on, `wake` is called when the pool has a token for an
    /// edge `reserve` could not find one for.
    pub fn watch(&mut self, wake: Box<dyn Fn() + Send>) {
        let fd = self.client.read_side();
        // Without a watcher a slot is still tried whenever a command ends.
        self.watcher = fd.and_then(|fd| Watcher::start(fd, wake)).ok();
    }

    /// Whether the next edge may start: a slot is set aside for it (taken
    /// now if need be). If none is free, the watcher is asked to wake us.
    pub fn reserve(&mut self) -> bool {
        if self.next.is_none() {
            self.next = self.client.try_acquire();
        }
        if self.next.is_some() {
            return true;
        }
        if let Some(w) = self.watcher.as_ref().filter(|_| self.client.open_pool()) {
            w.arm();
        }
        false
    }

    /// The slot `reserve` set aside now belongs to `edge`.
    pub fn assign(&mut self, edge: E) {
        if let Some(slot) = self.next.take() {
            self.held.insert(edge, slot);
        }
    }

    /// `edge` ended: its slot goes back.
    pub fn release(&mut self, edge: E) {
        if let Some(slot) = self.held.remove(&edge) {
            self.client.release(slot);
        }
    }
}

impl<E> Slots<E> {
    /// Every slot goes back (the build stopped; its commands have ended).
    pub fn release_all(&mut self) {
        let held = self.held.drain().map(|(_, s)| s);
        let slots: Vec<Slot> = held.chain(self.next.take()).collect();
        for slot in slots {
            self.client.release(slot);
        }
    }
}

impl<E> Drop for Slots<E> {
    fn drop(&mut self) {
        self.watcher = None;
        self.release_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobserver::{Pool, Style};

    #[test]
    fn edges_hold_slots_until_they_end_and_all_come_back() {
        let pool = Pool::create(3, Style::Pipe).unwrap();
        let mut slots = Slots::new(Client::open(pool.auth()).unwrap());
        let edges = [10, 11, 12];
        for e in edges {
            assert!(slots.reserve());
            slots.assign(e);
        }
        assert!(!slots.reserve());
        assert_eq!(pool.available(), 0);
        slots.release(edges[1]);
        assert_eq!(pool.available(), 1);
        assert!(slots.reserve());
        drop(slots);
        assert_eq!(pool.available(), 2);
    }
}
