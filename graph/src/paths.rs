//! Interned paths: each distinct path's bytes once, in one arena, numbered in
//! the order first seen and found again through a hash table of those numbers.
//!
//! A large tree names a few hundred thousand paths; a `String` per path, and
//! another as a map key, cost more than the bytes themselves. Here a path
//! costs its bytes, 8 bytes of span and about 5 of table. Ignores what the
//! paths mean: callers canonicalize first (`path.rs`).
//!
//! The arena can be lent to other threads (`shared_text`, for the stats
//! ahead of a scan) without a copy: it is copied only if a path is interned
//! while it is lent, so a reader always sees the bytes it was lent.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Paths numbered 0, 1, 2… in the order they were interned.
#[derive(Debug, Default, Clone)]
pub struct PathTable {
    /// Every path's bytes, back to back; shared with readers on other
    /// threads (copied on the next intern while they hold it).
    text: Arc<String>,
    /// Where each path ends in `text`; it starts where the previous ends.
    ends: Vec<u32>,
    /// Path numbers, found by the hash of the path they name.
    index: HashTable<u32>,
}

fn hash(path: &str) -> u64 {
    FxBuildHasher.hash_one(path)
}

impl PathTable {
    /// How many distinct paths there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The path numbered `id`.
    pub fn get(&self, id: u32) -> &str {
        &self.text[self.span(id)]
    }

    /// Where the path numbered `id` lies in `shared_text`.
    pub fn span(&self, id: u32) -> std::ops::Range<usize> {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        start..self.ends[i] as usize
    }

    /// Every path's bytes, as they are now, for readers on other threads
    /// (`span` says where each path is).
    pub fn shared_text(&self) -> Arc<String> {
        self.text.clone()
    }

    /// Room for `additional` more paths of about `bytes_each` bytes, so a
    /// loader that knows roughly how many it will intern does not rehash
    /// the table (each rehash hashes every path again) as it grows.
    pub fn reserve(&mut self, additional: usize, bytes_each: usize) {
        let Self { text, ends, index } = self;
        ends.reserve(additional);
        Arc::make_mut(text).reserve(additional * bytes_each);
        let texts: &String = text;
        let ends: &Vec<u32> = ends;
        index.reserve(additional, |&id| {
            let i = id as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] as usize };
            hash(&texts[start..ends[i] as usize])
        });
    }

    /// The number of `path`, if interned.
    pub fn find(&self, path: &str) -> Option<u32> {
        self.index
            .find(hash(path), |&id| self.get(id) == path)
            .copied()
    }

    /// The number of `path`, interning it if new; the flag says it was new.
    pub fn intern(&mut self, path: &str) -> (u32, bool) {
        let h = hash(path);
        let Self { text, ends, index } = self;
        let get = |id: u32| {
            let i = id as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] as usize };
            &text[start..ends[i] as usize]
        };
        if let Some(&id) = index.find(h, |&id| get(id) == path) {
            return (id, false);
        }
        let id = u32::try_from(ends.len()).expect("fewer than 2^32 paths");
        let text = Arc::make_mut(text);
        text.push_str(path);
        ends.push(u32::try_from(text.len()).expect("paths fit in 4 GiB"));
        // Rehashing recomputes each path's hash from the arena.
        index.insert_unique(h, id, |&id| {
            let i = id as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] as usize };
            hash(&text[start..ends[i] as usize])
        });
        (id, true)
    }

    /// The table of `text` with paths ending at `ends` (as `text_and_ends`
    /// gave them), or None if `ends` do not cut `text` into paths.
    pub fn from_text_and_ends(text: String, ends: Vec<u32>) -> Option<Self> {
        let mut start = 0;
        for &end in &ends {
            let end = end as usize;
            if end < start || !text.is_char_boundary(end) {
                return None;
            }
            start = end;
        }
        if start != text.len() {
            return None;
        }
        let mut index = HashTable::with_capacity(ends.len());
        let mut table = PathTable {
            text: Arc::new(text),
            ends: Vec::new(),
            index: HashTable::new(),
        };
        table.ends = ends;
        for id in 0..table.ends.len() as u32 {
            let path = table.get(id);
            if index
                .find(hash(path), |&other| table.get(other) == path)
                .is_some()
            {
                return None;
            }
            index.insert_unique(hash(path), id, |&other| hash(table.get(other)));
        }
        table.index = index;
        Some(table)
    }

    /// Every path's bytes and where each ends: what `from_text_and_ends`
    /// rebuilds the table from.
    pub fn text_and_ends(&self) -> (&str, &[u32]) {
        (&self.text, &self.ends)
    }

    /// Every path, in number order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.ends.len() as u32).map(|id| self.get(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_each_path_once_in_order() {
        let mut t = PathTable::default();
        assert_eq!(t.intern("a/b.c"), (0, true));
        assert_eq!(t.intern(""), (1, true));
        assert_eq!(t.intern("x.h"), (2, true));
        assert_eq!(t.intern("a/b.c"), (0, false));
        assert_eq!(t.find("x.h"), Some(2));
        assert_eq!(t.find(""), Some(1));
        assert_eq!(t.find("b.c"), None);
        assert_eq!(t.iter().collect::<Vec<_>>(), ["a/b.c", "", "x.h"]);
    }

    #[test]
    fn a_lent_arena_keeps_its_bytes_while_paths_are_added() {
        let mut t = PathTable::default();
        t.intern("a/b.c");
        let lent = t.shared_text();
        let span = t.span(0);
        for i in 0..1000 {
            t.intern(&format!("dir/{i}.o"));
        }
        assert_eq!(&lent[span], "a/b.c");
        assert_eq!(lent.len(), 5, "the lent text did not grow");
        assert_eq!(t.get(999 + 1), "dir/999.o");
    }

    #[test]
    fn survives_growth() {
        let mut t = PathTable::default();
        for i in 0..10_000 {
            assert_eq!(t.intern(&format!("dir/{i}.o")), (i, true));
        }
        for i in (0..10_000).rev() {
            assert_eq!(t.find(&format!("dir/{i}.o")), Some(i));
            assert_eq!(t.get(i), format!("dir/{i}.o"));
        }
    }
}
