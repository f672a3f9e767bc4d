//! Memo hits whose keys rest on this run's kept stats (`footprint::RunStats`:
//! a header is stat'ed once a run, not once an edge). A source edited by hand
//! during the build, after a key took its stat and before the hit was logged,
//! would leave an output restored for the old bytes yet logged as newer than
//! the edit, so no later build would redo it (ninja's command, started after
//! the edit, reads the new bytes). So before the kept stats are dropped (a
//! command ran) and as the build ends, the kept files are stat'ed again; if
//! one changed, the hits logged since the last check are logged again with
//! mtime 0, older than any input: the next build redoes them (hits of the new
//! bytes, or runs).
//!
//! Ignores which hits read the changed file: all of them go back, which only
//! costs hits next time, and only after an edit during a build; and what a
//! hit is (`H`: the builder's edge and log entry).

use std::path::PathBuf;

/// Hits to log again, and the file that changed under them.
#[derive(Debug, PartialEq)]
pub struct Redo<H> {
    pub changed: PathBuf,
    pub hits: Vec<H>,
}

pub struct HitChecks<H> {
    /// Hits logged since the kept stats were last checked.
    logged: Vec<H>,
    /// What the check found as the stats were dropped with the edge being
    /// finished (Some(None): nothing changed).
    dropped: Option<Option<PathBuf>>,
}

impl<H> Default for HitChecks<H> {
    fn default() -> Self {
        HitChecks {
            logged: Vec::new(),
            dropped: None,
        }
    }
}

impl<H> HitChecks<H> {
    /// Whether the kept stats, about to be dropped with an edge (`hit`:
    /// restored from the memo), need checking first: a hit rests on them.
    pub fn wanted(&self, hit: bool) -> bool {
        hit || !self.logged.is_empty()
    }

    /// The kept stats were dropped with the edge being finished; `changed`
    /// is what their check found.
    pub fn dropped(&mut self, changed: Option<PathBuf>) {
        self.dropped = Some(changed);
    }

    /// The edge being finished is done (`hit`: restored and logged with
    /// this entry; None if it was not a hit or logged nothing).
    pub fn finished(&mut self, hit: Option<H>) -> Option<Redo<H>> {
        match self.dropped.take() {
            None => {
                self.logged.extend(hit);
                None
            }
            // The hit rested on the stats just checked, as the others did.
            Some(None) => {
                self.logged.clear();
                None
            }
            Some(Some(changed)) => {
                let mut hits = std::mem::take(&mut self.logged);
                hits.extend(hit);
                Some(Redo { changed, hits })
            }
        }
    }

    /// The build ends; `check` stats the kept files again.
    pub fn end(&mut self, check: impl FnOnce() -> Option<PathBuf>) -> Option<Redo<H>> {
        let changed = match self.dropped.take() {
            Some(changed) => changed,
            None if self.logged.is_empty() => None,
            None => check(),
        };
        let hits = std::mem::take(&mut self.logged);
        changed.map(|changed| Redo { changed, hits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(n: usize) -> Option<usize> {
        Some(n)
    }

    fn redo(changed: &str, hits: &[usize]) -> Option<Redo<usize>> {
        Some(Redo {
            changed: PathBuf::from(changed),
            hits: hits.to_vec(),
        })
    }

    /// Hits wait for a check; one that finds nothing confirms them (and
    /// the hit the stats were dropped with); one that finds a file sends
    /// back every hit since the last check, the one it came with too.
    #[test]
    fn a_check_confirms_or_sends_back_the_hits_since_the_last() {
        let mut c = HitChecks::<usize>::default();
        assert!(!c.wanted(false) && c.wanted(true));
        assert_eq!(c.finished(hit(1)), None);
        assert!(c.wanted(false));
        c.dropped(None);
        assert_eq!(c.finished(hit(2)), None);
        assert!(!c.wanted(false));
        assert_eq!(c.finished(hit(3)), None);
        assert_eq!(c.finished(None), None);
        c.dropped(Some(PathBuf::from("a.h")));
        assert_eq!(c.finished(hit(4)), redo("a.h", &[3, 4]));
        assert!(!c.wanted(false));
        assert_eq!(c.end(|| panic!("nothing to check")), None);
    }

    /// As the build ends, the hits since the last check are checked, unless
    /// the stats were just dropped with a check (an edge that failed).
    #[test]
    fn the_end_checks_what_no_check_covered() {
        let mut c = HitChecks::<usize>::default();
        c.finished(hit(1));
        assert_eq!(c.end(|| Some(PathBuf::from("b.c"))), redo("b.c", &[1]));
        c.finished(hit(2));
        assert_eq!(c.end(|| None), None);
        c.finished(hit(3));
        c.dropped(Some(PathBuf::from("c.c")));
        assert_eq!(c.end(|| panic!("checked already")), redo("c.c", &[3]));
        c.finished(hit(4));
        c.dropped(None);
        assert_eq!(c.end(|| panic!("checked already")), None);
    }
}
