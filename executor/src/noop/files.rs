//! Files with an mtime each (0 missing), their paths back to back in one
//! text: a remembered no-op lists every file its run stat'ed (263k on
//! bench/everyday.sh's tree), and one allocation holds them all.

use ggninja_graph::paths::PathTable;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Files {
    text: String,
    /// Where each path ends in `text`.
    ends: Vec<usize>,
    mtimes: Vec<i64>,
}

impl Files {
    pub fn len(&self) -> usize {
        self.mtimes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mtimes.is_empty()
    }

    /// The `i`th file and its mtime.
    pub fn get(&self, i: usize) -> (&str, i64) {
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        (&self.text[start..self.ends[i]], self.mtimes[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Whether the ends are in order and within the text, each on a
    /// character's boundary, with an mtime each (as `get` needs: a record
    /// read from disk is checked before use).
    pub(super) fn well_formed(&self) -> bool {
        let mut last = 0;
        self.ends.len() == self.mtimes.len()
            && self.ends.iter().all(|&e| {
                let ok = last <= e && self.text.is_char_boundary(e);
                last = e;
                ok
            })
    }
}

impl Files {
    /// The files numbered in `paths` (with their mtimes), in that order:
    /// the text allocated once.
    pub(super) fn from_numbered(
        paths: &PathTable,
        files: impl Iterator<Item = (u32, i64)> + Clone,
    ) -> Files {
        let (count, size) = files
            .clone()
            .fold((0, 0), |(c, s), (n, _)| (c + 1, s + paths.get(n).len()));
        let mut all = Files {
            text: String::with_capacity(size),
            ends: Vec::with_capacity(count),
            mtimes: Vec::with_capacity(count),
        };
        for (n, t) in files {
            all.push(paths.get(n), t);
        }
        all
    }

    fn push(&mut self, path: &str, t: i64) {
        self.text.push_str(path);
        self.ends.push(self.text.len());
        self.mtimes.push(t);
    }
}

impl<'a> FromIterator<(&'a str, i64)> for Files {
    fn from_iter<I: IntoIterator<Item = (&'a str, i64)>>(files: I) -> Files {
        let mut all = Files::default();
        for (path, t) in files {
            all.push(path, t);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_back_what_it_was_made_of() {
        let listed = [("a/b", 5), ("", 0), ("ü/c", -1)];
        let files: Files = listed.iter().copied().collect();
        assert!(files.well_formed());
        assert_eq!(files.iter().collect::<Vec<_>>(), listed);
        let bytes = postcard::to_allocvec(&files).unwrap();
        assert_eq!(postcard::from_bytes::<Files>(&bytes).unwrap(), files);
    }

    #[test]
    fn ends_out_of_order_or_bounds_are_not_well_formed() {
        let files: Files = [("ab", 1), ("ü", 2)].into_iter().collect();
        for ends in [vec![3, 2], vec![2, 5], vec![2, 3], vec![2]] {
            let bad = Files {
                ends,
                ..files.clone()
            };
            assert!(!bad.well_formed(), "{:?}", bad.ends);
        }
    }
}
