//! The inputs a build never changes (system files no edge writes: the
//! headers under /usr/include, the crt files), made into their JSON once a
//! process: a compile names a hundred of them, and a warm rebuild makes
//! the keys of hundreds of compiles. Unaware of which edges read them.

use std::sync::{Arc, RwLock};

use rustc_hash::FxHashMap;

/// An input's path, its JSON and its size (a value's; else 0), shared by
/// every thunk naming it.
#[derive(Clone)]
pub(crate) struct InputJson {
    pub path: Arc<str>,
    pub json: Arc<str>,
    pub bytes: u64,
}

/// System inputs by their path (as the footprint spells it).
#[derive(Default)]
pub struct SystemInputs {
    made: RwLock<FxHashMap<Box<str>, InputJson>>,
}

impl SystemInputs {
    /// The input of `path` if it was kept (a system file).
    pub(crate) fn find(&self, path: &str) -> Option<InputJson> {
        let made = self.made.read().expect("system inputs lock");
        made.get(path).cloned()
    }

    /// Keeps the input of system file `path` for the rest of the process.
    pub(crate) fn keep(&self, path: &str, input: InputJson) {
        let mut made = self.made.write().expect("system inputs lock");
        made.insert(path.into(), input);
    }
}
