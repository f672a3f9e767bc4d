//! Interned paths: each distinct path's bytes once, in one arena, numbered in
//! the order first seen and found again through a hash table of those numbers.
//!
//! A large tree names a few hundred thousand paths; a `String` per path, and
//! another as a map key, cost more than the bytes themselves. Here a path
//! costs its bytes, 8 bytes of span and about 9 of table. Ignores what the
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
#[derive(Default, Clone)]
pub struct PathTable {
    /// Every path's bytes, back to back; shared with readers on other
    /// threads (copied on the next intern while they hold it).
    text: Arc<String>,
    /// Where each path ends in `text`; it starts where the previous ends.
    ends: Vec<u32>,
    /// Path numbers, found by the hash of the path they name.
    index: HashTable<Slot>,
}

/// The paths; not the index, whose order is the table's history.
impl std::fmt::Debug for PathTable {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("PathTable")
            .field("text", &self.text)
            .field("ends", &self.ends)
            .finish_non_exhaustive()
    }
}

/// A path's number and 32 bits of its hash, which the table's hash is
/// made from: growing the table rehashes from these, never from the
/// arena's bytes (a deps log adds ~100k paths to a loaded graph's 175k),
/// and a probe compares them before it reads a path.
#[derive(Debug, Clone, Copy)]
struct Slot {
    id: u32,
    tag: u32,
}

/// The tag of `path` (the high half of its Fx hash, the better mixed one).
fn tag(path: &str) -> u32 {
    (FxBuildHasher.hash_one(path) >> 32) as u32
}

/// The table's hash of a tag, spread over 64 bits (the table takes its
/// control bits from the top, its bucket from the bottom).
fn spread(tag: u32) -> u64 {
    u64::from(tag).wrapping_mul(0x9e37_79b9_7f4a_7c15)
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

    /// The number of `path`, if interned.
    pub fn find(&self, path: &str) -> Option<u32> {
        let t = tag(path);
        self.index
            .find(spread(t), |s| s.tag == t && self.get(s.id) == path)
            .map(|s| s.id)
    }

    /// The number of `path`, interning it if new; the flag says it was new.
    pub fn intern(&mut self, path: &str) -> (u32, bool) {
        if let Some(id) = self.find(path) {
            return (id, false);
        }
        let id = u32::try_from(self.ends.len()).expect("fewer than 2^32 paths");
        let text = self.text_for(path.len());
        text.push_str(path);
        let end = u32::try_from(text.len()).expect("paths fit in 4 GiB");
        self.ends.push(end);
        let t = tag(path);
        self.index
            .insert_unique(spread(t), Slot { id, tag: t }, |s| spread(s.tag));
        (id, true)
    }

    /// The arena, to append `more` bytes to; copied first if it is lent,
    /// with room for them and no less room than it had (`Arc::make_mut`'s
    /// copy has none, so the next push would copy it all again).
    fn text_for(&mut self, more: usize) -> &mut String {
        if Arc::get_mut(&mut self.text).is_none() {
            let room = (self.text.len() + more).max(self.text.capacity());
            let mut copy = String::with_capacity(room);
            copy.push_str(&self.text);
            self.text = Arc::new(copy);
        }
        Arc::get_mut(&mut self.text).expect("just made unshared")
    }

    /// Appends the paths of `text` ending at `ends` (counted from `text`'s
    /// start), numbered on from `len()`, without looking each up first:
    /// for paths the caller knows are new, as a cache of this very table's
    /// later growth (`ggninja_executor::deps_index`). None, and nothing
    /// added, if `ends` do not cut `text` into paths.
    pub fn append_new(&mut self, text: &str, ends: &[u32]) -> Option<()> {
        if !cuts(text, ends) {
            return None;
        }
        let base = self.text.len();
        u32::try_from(base + text.len()).ok()?;
        self.text_for(text.len()).push_str(text);
        self.index.reserve(ends.len(), |s| spread(s.tag));
        let mut from = 0;
        for &end in ends {
            let id = self.ends.len() as u32;
            let t = tag(&text[from..end as usize]);
            self.index
                .insert_unique(spread(t), Slot { id, tag: t }, |s| spread(s.tag));
            self.ends.push((base + end as usize) as u32);
            from = end as usize;
        }
        Some(())
    }

    /// The table of `text` with paths ending at `ends` (as `text_and_ends`
    /// gave them), or None if `ends` do not cut `text` into paths.
    pub fn from_text_and_ends(text: String, ends: Vec<u32>) -> Option<Self> {
        if !cuts(&text, &ends) {
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
            let t = tag(path);
            let same = |s: &Slot| s.tag == t && table.get(s.id) == path;
            if index.find(spread(t), same).is_some() {
                return None;
            }
            index.insert_unique(spread(t), Slot { id, tag: t }, |s| spread(s.tag));
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

/// Whether `ends`, in order, cut `text` into paths: each at a character
/// boundary (so within it), none before the last, the last at its end.
fn cuts(text: &str, ends: &[u32]) -> bool {
    let mut start = 0;
    for &end in ends {
        let end = end as usize;
        if end < start || !text.is_char_boundary(end) {
            return false;
        }
        start = end;
    }
    start == text.len()
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

    /// Paths appended as new are numbered and found as interned ones; ends
    /// that do not cut the text add nothing.
    #[test]
    fn appends_new_paths_as_if_interned() {
        let mut t = PathTable::default();
        t.intern("a.c");
        assert_eq!(t.append_new("x.hyy.h", &[3, 4, 7]), Some(()));
        assert_eq!(t.iter().collect::<Vec<_>>(), ["a.c", "x.h", "y", "y.h"]);
        assert_eq!(t.find("y.h"), Some(3));
        assert_eq!(t.intern("y"), (2, false));
        assert_eq!(t.intern("z"), (4, true));
        for (text, ends) in [
            ("ab", &[3][..]),
            ("ab", &[1]),
            ("ab", &[2, 1]),
            ("é", &[1, 2]),
        ] {
            assert_eq!(t.append_new(text, ends), None, "{text:?} {ends:?}");
        }
        assert_eq!(t.len(), 5, "nothing added");
        assert_eq!(t.append_new("", &[]), Some(()));
    }
}
