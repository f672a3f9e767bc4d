//! What changed, by generation: the daemon's memory between two runs.
//!
//! Every change the tree reports gets the next generation number; a run
//! asks for the changes after the stamp (daemon epoch, generation) its last
//! snapshot was taken at. A stamp from another daemon (another epoch), or
//! from before a loss (a queue overflow, the journal grown past its cap),
//! gets `Changes::All`: the run stats everything. Ignores what the paths
//! are: the tree (`tree.rs`) names them.

use std::collections::BTreeSet;

use crate::protocol::{Change, Changes, Stamp};

/// Changes kept before the oldest are forgotten (a run that asks from
/// before them stats everything).
const CAP: usize = 1 << 20;

#[derive(Debug)]
pub struct Journal {
    epoch: u64,
    gen: u64,
    /// The oldest generation a stamp may have and still get a list.
    floor: u64,
    /// In generation order.
    entries: Vec<(u64, Change)>,
}

impl Journal {
    pub fn new(epoch: u64) -> Journal {
        Journal {
            epoch,
            gen: 1,
            floor: 1,
            entries: Vec::new(),
        }
    }

    /// Notes a change, as the latest. The same change as the latest
    /// (a file's every write, then its close) moves that one up instead.
    pub fn record(&mut self, change: Change) {
        if self.entries.len() >= CAP {
            return self.lose_all();
        }
        self.gen += 1;
        match self.entries.last_mut() {
            Some((gen, last)) if *last == change => *gen = self.gen,
            _ => self.entries.push((self.gen, change)),
        }
    }

    /// Forgets every change: any stamp taken before now gets `All`.
    pub fn lose_all(&mut self) {
        self.gen += 1;
        self.floor = self.gen;
        self.entries.clear();
    }

    /// The stamp of now: a run that stats after taking it asks from it next.
    pub fn now(&self) -> Stamp {
        Stamp {
            epoch: self.epoch,
            gen: self.gen,
        }
    }

    /// Every change after `since`, each path once; `All` when they are
    /// not all known.
    pub fn since(&self, since: Option<Stamp>) -> Changes {
        let Some(s) = since else {
            return Changes::All;
        };
        if s.epoch != self.epoch || s.gen < self.floor || s.gen > self.gen {
            return Changes::All;
        }
        let start = self.entries.partition_point(|(g, _)| *g <= s.gen);
        let set: BTreeSet<&Change> = self.entries[start..].iter().map(|(_, c)| c).collect();
        Changes::Some(set.into_iter().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(p: &str) -> Change {
        Change::File(p.to_string())
    }

    #[test]
    fn a_stamp_gets_the_changes_after_it_once_each() {
        let mut j = Journal::new(7);
        j.record(file("/a"));
        let s = j.now();
        j.record(file("/b"));
        j.record(file("/b"));
        j.record(Change::Under("/d".into()));
        let want = vec![file("/b"), Change::Under("/d".into())];
        assert_eq!(j.since(Some(s)), Changes::Some(want));
        assert_eq!(j.since(Some(j.now())), Changes::Some(vec![]));
        assert_eq!(j.entries.len(), 3, "the repeated change is kept once");
        // Moved up, it is after a stamp taken between the two.
        j.record(file("/c"));
        let between = j.now();
        j.record(file("/c"));
        assert_eq!(j.since(Some(between)), Changes::Some(vec![file("/c")]));
    }

    #[test]
    fn a_stamp_from_another_daemon_or_before_a_loss_gets_all() {
        let mut j = Journal::new(7);
        let s = j.now();
        assert_eq!(j.since(None), Changes::All);
        assert_eq!(j.since(Some(Stamp { epoch: 8, ..s })), Changes::All);
        let future = Stamp {
            gen: s.gen + 5,
            ..s
        };
        assert_eq!(j.since(Some(future)), Changes::All);
        j.record(file("/a"));
        j.lose_all();
        assert_eq!(j.since(Some(s)), Changes::All);
        assert_eq!(j.since(Some(j.now())), Changes::Some(vec![]));
    }
}
