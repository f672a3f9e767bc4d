//! What the executor's unit tests share: a file system in memory and an
//! engine loaded from manifest text.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::rc::Rc;

use ggninja_graph::{BuildId, FileId};
use ggninja_importer::{parse_str, Options};

use crate::build_log::BuildLog;
use crate::deps_log::DepsLog;
use crate::disk::Disk;
use crate::engine::{Config, Engine};
use crate::priority::Priority;
use crate::status::Verbosity;

/// A file in memory: mtime and content.
type File = (i64, Vec<u8>);

/// Files by path. Clones share the files, so a test can change them after
/// handing one to an engine.
#[derive(Clone, Default)]
pub struct FakeDisk {
    files: Rc<RefCell<HashMap<String, File>>>,
}

impl FakeDisk {
    pub fn write(&self, path: &str, mtime: i64, content: &str) {
        let file = (mtime, content.as_bytes().to_vec());
        self.files.borrow_mut().insert(path.to_string(), file);
    }

    /// Files with their mtimes and no content.
    pub fn touch(&self, files: &[(&str, i64)]) {
        for (path, mtime) in files {
            self.write(path, *mtime, "");
        }
    }
}

impl Disk for FakeDisk {
    fn stat(&self, path: &str) -> Result<i64, String> {
        Ok(self.files.borrow().get(path).map_or(0, |f| f.0))
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        let files = self.files.borrow();
        let file = files.get(path).ok_or(io::ErrorKind::NotFound)?;
        Ok(file.1.clone())
    }
}

/// An engine over `manifest`, reading `disk`, with empty logs.
pub fn engine(manifest: &str, disk: &FakeDisk) -> Engine {
    let loaded = parse_str("build.ninja", manifest.as_bytes(), &Options::default());
    let graph = loaded.expect("test manifests parse").graph;
    let config = Config {
        prog: "ggninja".to_string(),
        parallelism: 1,
        failures_allowed: 1,
        max_load: None,
        dry_run: false,
        verbosity: Verbosity::Quiet,
        explain: false,
        keep_depfile: false,
        keep_rsp: false,
        priority: Priority::default(),
    };
    let mut e = Engine::new(graph, BuildLog::default(), DepsLog::default(), config);
    e.disk = Box::new(disk.clone());
    e
}

/// The node of `path`, which the manifest names.
pub fn node(e: &Engine, path: &str) -> FileId {
    e.graph.lookup(path).expect("the manifest names it")
}

/// The first output of `edge`.
pub fn out(e: &Engine, edge: BuildId) -> &str {
    e.graph.path(e.graph.build(edge).outs[0])
}
