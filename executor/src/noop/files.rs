//! Files with an mtime each (0 missing), their paths back to back in one
//! text, each after what it shares with the one before (front coding,
//! begun anew every `BLOCK` files so that a block reads on its own): a
//! remembered no-op lists every file its run stat'ed (263k on
//! bench/everyday.sh's tree, 15 MB of paths, 7.4 MB kept), and one
//! allocation holds them all. Read from a record, a list whose parts do
//! not fit reads as ending there (its files, unread, are not vouched for).

use ggninja_graph::paths::PathTable;
use serde::{Deserialize, Serialize};

/// Files a block: each block's first path is whole.
pub const BLOCK: usize = 256;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Files {
    /// Each path's part after what it shares with the one before.
    text: String,
    /// Where each part ends in `text`.
    ends: Vec<usize>,
    /// How many bytes each path shares with the one before.
    shared: Vec<usize>,
    mtimes: Vec<i64>,
}

impl Files {
    pub fn len(&self) -> usize {
        self.mtimes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mtimes.is_empty()
    }

    pub fn mtimes(&self) -> &[i64] {
        &self.mtimes
    }

    /// Calls `each` with every file of block `b` (its number, path and
    /// mtime), in order; false if the block does not read whole.
    pub fn block(&self, b: usize, mut each: impl FnMut(usize, &str, i64)) -> bool {
        let (first, last) = (b * BLOCK, ((b + 1) * BLOCK).min(self.len()));
        let mut path = String::new();
        for i in first..last {
            let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
            let shared = if i == first { 0 } else { self.shared[i] };
            let part = self.text.get(start..self.ends[i]);
            let (Some(part), true) = (part, path.is_char_boundary(shared)) else {
                return false;
            };
            path.truncate(shared);
            path.push_str(part);
            each(i, &path, self.mtimes[i]);
        }
        true
    }

    /// Calls `each` with every file, in order (as `block`; stops where the
    /// list does not read whole).
    pub fn each(&self, mut each: impl FnMut(usize, &str, i64)) {
        let blocks = self.len().div_ceil(BLOCK);
        (0..blocks).all(|b| self.block(b, &mut each));
    }

    /// Whether the parts' counts agree and their ends are in order (as
    /// `block` needs: a record read from disk is checked before use).
    pub(super) fn well_formed(&self) -> bool {
        let n = self.mtimes.len();
        let ordered = self.ends.windows(2).all(|w| w[0] <= w[1]);
        self.ends.len() == n && self.shared.len() == n && ordered
    }

    /// The files numbered in `paths` (with their mtimes), in that order:
    /// the text allocated once.
    pub(super) fn from_numbered(
        paths: &PathTable,
        files: impl Iterator<Item = (u32, i64)> + Clone,
    ) -> Files {
        let count = files.clone().count();
        let mut all = Files {
            ends: Vec::with_capacity(count),
            shared: Vec::with_capacity(count),
            mtimes: Vec::with_capacity(count),
            ..Files::default()
        };
        let mut before = "";
        for (n, t) in files {
            let path = paths.get(n);
            all.push(before, path, t);
            before = path;
        }
        all
    }

    /// Adds `path` after `before` (the path added last, or "").
    fn push(&mut self, before: &str, path: &str, t: i64) {
        let mut shared = match self.len() % BLOCK {
            0 => 0,
            _ => before
                .bytes()
                .zip(path.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        };
        while !path.is_char_boundary(shared) {
            shared -= 1;
        }
        self.text.push_str(&path[shared..]);
        self.ends.push(self.text.len());
        self.shared.push(shared);
        self.mtimes.push(t);
    }
}

impl<'a> FromIterator<(&'a str, i64)> for Files {
    fn from_iter<I: IntoIterator<Item = (&'a str, i64)>>(files: I) -> Files {
        let mut all = Files::default();
        let mut before = String::new();
        for (path, t) in files {
            all.push(&before, path, t);
            before.clear();
            before.push_str(path);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(files: &Files) -> Vec<(String, i64)> {
        let mut all = Vec::new();
        files.each(|_, p, t| all.push((p.to_string(), t)));
        all
    }

    #[test]
    fn gives_back_what_it_was_made_of() {
        let mut listed = vec![
            ("a/b".to_string(), 5),
            (String::new(), 0),
            ("ü/c".into(), -1),
        ];
        listed.extend((0..1000).map(|n| (format!("dir/ü{n}/f"), n)));
        listed.extend((0..600).map(|n| (format!("dir/ü{}", n % 7), n)));
        let files: Files = listed.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        assert!(files.well_formed());
        assert_eq!(all(&files), listed);
        assert!(files.text.len() < listed.iter().map(|(p, _)| p.len()).sum::<usize>() / 2);
        let bytes = postcard::to_allocvec(&files).unwrap();
        assert_eq!(postcard::from_bytes::<Files>(&bytes).unwrap(), files);
    }

    #[test]
    fn parts_that_do_not_fit_end_the_list() {
        let listed = [("ab", 1), ("aü", 2), ("aüx", 3)];
        let files: Files = listed.into_iter().collect();
        for ends in [vec![3, 2, 3], vec![2, 3]] {
            let bad = Files {
                ends,
                ..files.clone()
            };
            assert!(!bad.well_formed(), "{:?}", bad.ends);
        }
        let cut = |shared: Vec<usize>| {
            all(&Files {
                shared,
                ..files.clone()
            })
        };
        assert_eq!(
            cut(vec![0, 2, 9]).len(),
            2,
            "more shared than the path before"
        );
        assert_eq!(cut(vec![0, 1, 2]).len(), 2, "a character cut");
        let past = Files {
            ends: vec![2, 4, 99],
            ..files.clone()
        };
        assert!(past.well_formed());
        assert_eq!(all(&past).len(), 2, "a part past the text");
    }
}
