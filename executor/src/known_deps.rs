//! A memo hit's deps without parsing its depfile: the hit restored the
//! depfile an earlier run of the same thunk wrote, whose deps the log took
//! then, so the log's files stand whenever the depfile names exactly them
//! (`depfile::names_are`, one pass). Ignores depfiles written by commands,
//! which are parsed.

use ggninja_graph::{FileId, Graph};
use ggninja_syntax::depfile;

use crate::deps_log::DepsLog;

/// Which files' paths a depfile writes without escapes
/// (`depfile::is_plain_name`), told once a file: a header is named by
/// hundreds of depfiles.
#[derive(Default)]
pub struct KnownDeps {
    plain: Vec<Option<bool>>,
}

impl KnownDeps {
    /// The deps `log` has for `out`, if `depfile` names exactly them.
    pub fn of(
        &mut self,
        g: &Graph,
        log: &DepsLog,
        out: FileId,
        depfile: &[u8],
    ) -> Option<Vec<FileId>> {
        let logged = log.get(out)?.nodes;
        // `names_are` takes distinct names, each plain.
        let mut sorted = logged.to_vec();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return None;
        }
        if !logged.iter().all(|&d| self.plain(g, d)) {
            return None;
        }
        let names = logged.iter().map(|&d| g.path(d));
        depfile::names_are(depfile, names).then(|| logged.to_vec())
    }

    fn plain(&mut self, g: &Graph, file: FileId) -> bool {
        let i = file.index();
        if self.plain.len() <= i {
            self.plain.resize(i + 1, None);
        }
        *self.plain[i].get_or_insert_with(|| depfile::is_plain_name(g.path(file).as_bytes()))
    }
}
