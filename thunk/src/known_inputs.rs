//! Inputs made into their JSON once a process. System files no edge
//! writes (the headers under /usr/include, the crt files) are kept as
//! they were first named: a build never changes them. Files of the build
//! and source trees are kept with the content hash they were named by and
//! given again only while the file still hashes so: a libgit2 compile
//! names a hundred project headers, and a warm rebuild makes the keys of
//! hundreds of compiles, where making each input's path and JSON again
//! cost more than finding its hash. Unaware of which edges read them and
//! of how a file's hash is found.

use std::sync::{Arc, RwLock};

use ggninja_store::hash::ContentHash;
use rustc_hash::FxHashMap;

/// An input's path, its JSON and its size (a value's; else 0), shared by
/// every thunk naming it.
#[derive(Clone)]
pub(crate) struct InputJson {
    pub path: Arc<str>,
    pub json: Arc<str>,
    pub bytes: u64,
    /// It names a directory (not what the directory holds).
    pub directory: bool,
}

/// Inputs by their path (as the footprint spells it).
#[derive(Default)]
pub struct KnownInputs {
    system: RwLock<FxHashMap<Box<str>, InputJson>>,
    /// A tree file's input, with the hash it names.
    tree: RwLock<FxHashMap<Box<str>, (ContentHash, InputJson)>>,
}

impl KnownInputs {
    /// The input of `path` if it was kept (a system file).
    pub(crate) fn system(&self, path: &str) -> Option<InputJson> {
        let made = self.system.read().expect("known inputs lock");
        made.get(path).cloned()
    }

    /// Keeps the input of system file `path` for the rest of the process.
    pub(crate) fn keep_system(&self, path: &str, input: InputJson) {
        let mut made = self.system.write().expect("known inputs lock");
        made.insert(path.into(), input);
    }

    /// The input of tree file `path` as last kept, with the hash it names.
    pub(crate) fn tree(&self, path: &str) -> Option<(ContentHash, InputJson)> {
        let made = self.tree.read().expect("known inputs lock");
        made.get(path).cloned()
    }

    /// Keeps the input of tree file `path`, which names `hash`, until the
    /// file hashes otherwise.
    pub(crate) fn keep_tree(&self, path: &str, hash: ContentHash, input: InputJson) {
        let mut made = self.tree.write().expect("known inputs lock");
        made.insert(path.into(), (hash, input));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ggninja_store::hash::Kind;

    fn input(json: &str) -> InputJson {
        InputJson {
            path: "p".into(),
            json: json.into(),
            bytes: 1,
            directory: false,
        }
    }

    /// A tree file's input comes back with the hash it was kept with, the
    /// last kept; a system file's as kept.
    #[test]
    fn a_tree_input_comes_back_with_its_hash() {
        let known = KnownInputs::default();
        let (old, new) = (
            ContentHash::of(Kind::Value, b"a"),
            ContentHash::of(Kind::Value, b"b"),
        );
        let kept = |p: &str| known.tree(p).map(|(h, i)| (h, i.json.to_string()));
        known.keep_tree("src/a.h", old, input("old"));
        assert_eq!(kept("src/a.h"), Some((old, "old".to_string())));
        assert_eq!(kept("src/b.h"), None);
        known.keep_tree("src/a.h", new, input("new"));
        assert_eq!(kept("src/a.h"), Some((new, "new".to_string())));
        assert!(known.system("src/a.h").is_none());
        known.keep_system("/usr/include/stdio.h", input("stdio"));
        assert_eq!(
            &*known.system("/usr/include/stdio.h").unwrap().json,
            "stdio"
        );
    }
}
