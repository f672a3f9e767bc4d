//! `--remote lambda`: the remote executor made from the flags. Built only
//! with the `remote` cargo feature (the AWS SDK takes minutes to compile);
//! without it the flag is an error that says how to get it.

use ggninja_executor::backend::Backend;
use ggninja_executor::Engine;
use ggninja_graph::FileId;
use ggninja_thunk::Thunks;

use crate::cli::RemoteFlags;
use crate::context::App;

/// `-j 0` means no limit; in-flight invocations still need one.
#[cfg(feature = "remote")]
const MAX_JOBS: usize = 10_000;

/// The remote backend. Also makes the engine's dirty check and the thunks
/// see the outputs earlier builds left in the bucket.
#[cfg(feature = "remote")]
pub fn backend(
    app: &App,
    flags: &RemoteFlags,
    engine: &mut Engine,
    targets: &[FileId],
    thunks: &Thunks,
) -> Result<Box<dyn Backend>, String> {
    use std::sync::Arc;

    use ggninja_executor::disk::WithRemoteFiles;
    use ggninja_remote::engine::{Config, Download, Remote};
    use ggninja_store::{RemoteFiles, REMOTE_FILES};

    let jobs = match app.config.parallelism {
        0 => MAX_JOBS,
        j => j.min(MAX_JOBS),
    };
    let mut c = Config::new(flags.bucket.clone(), flags.function.clone(), jobs);
    c.upload = flags.upload;
    c.fallback = flags.fallback;
    if let Some(n) = flags.retries {
        c.retry.max_attempts = n;
    }
    if let Some(secs) = flags.timeout_secs {
        c.timeout = std::time::Duration::from_secs(secs);
    }
    if let Some(n) = flags.concurrency {
        c.concurrency = n.min(MAX_JOBS);
    }
    c.explain = app.config.explain;

    let cwd = thunks.roots.build.clone();
    c.remote_files_path = cwd.join(engine.graph.in_builddir(REMOTE_FILES));
    c.remote_files = Arc::new(RemoteFiles::load(&c.remote_files_path));
    engine.set_disk(Box::new(WithRemoteFiles {
        files: Arc::clone(&c.remote_files),
        cwd: cwd.clone(),
    }));
    thunks.set_remote_files(Arc::clone(&c.remote_files));
    if flags.toplevel_only {
        let g = &engine.graph;
        c.download =
            Download::Toplevel(requested(g, targets).map(|f| cwd.join(g.path(f))).collect());
    }
    Ok(Box::new(Remote::connect(c, thunks.roots.clone())?))
}

/// The files the targets name, through phony targets to what they stand
/// for.
#[cfg(feature = "remote")]
fn requested<'g>(
    g: &'g ggninja_graph::Graph,
    targets: &[FileId],
) -> impl Iterator<Item = FileId> + 'g {
    let mut todo = targets.to_vec();
    let mut seen = std::collections::HashSet::new();
    std::iter::from_fn(move || loop {
        let f = todo.pop()?;
        if !seen.insert(f) {
            continue;
        }
        match g.file(f).in_build.filter(|&b| g.is_phony(b)) {
            Some(b) => todo.extend(g.build(b).ins.iter().copied()),
            None => return Some(f),
        }
    })
}

/// A result's outputs: thunk paths and hashes.
pub type Outputs = Vec<(String, ggninja_store::hash::ContentHash)>;

/// The S3 memo as `-t simulate`'s cache prediction reads it (only a binary
/// built with the `remote` feature can).
pub trait RemoteMemo {
    /// Where it is, as printed.
    fn location(&self) -> String;
    /// The outputs of each key's entry, None where there is none.
    fn outputs(
        &self,
        keys: &[ggninja_store::hash::ContentHash],
    ) -> Result<Vec<Option<Outputs>>, String>;
}

/// The S3 memo for `-t simulate`'s prediction: the bucket a remote build
/// would use (`--remote-bucket` or `GGNINJA_BUCKET`), read through the
/// standard AWS chain.
#[cfg(feature = "remote")]
pub fn memo_reader(app: &App) -> Result<Box<dyn RemoteMemo>, String> {
    use ggninja_remote::memo::Reader;
    use ggninja_remote::S3Settings;

    let bucket = match &app.remote {
        Some(flags) => flags.bucket.clone(),
        None => std::env::var("GGNINJA_BUCKET")
            .ok()
            .filter(|b| !b.is_empty())
            .ok_or("no bucket is named (--remote-bucket or GGNINJA_BUCKET)")?,
    };
    let reader = Reader::connect(S3Settings::new(bucket)).map_err(|e| e.to_string())?;
    Ok(Box::new(S3Memo(reader)))
}

#[cfg(feature = "remote")]
struct S3Memo(ggninja_remote::memo::Reader);

#[cfg(feature = "remote")]
impl RemoteMemo for S3Memo {
    fn location(&self) -> String {
        self.0.location()
    }

    fn outputs(
        &self,
        keys: &[ggninja_store::hash::ContentHash],
    ) -> Result<Vec<Option<Outputs>>, String> {
        use ggninja_store::hash::ContentHash;
        let entries = self.0.entries(keys).map_err(|e| e.to_string())?;
        let outputs = |e: ggninja_remote::memo::Entry| -> Option<Outputs> {
            (e.outputs.into_iter())
                .map(|o| Some((o.path, ContentHash::parse(&o.hash)?)))
                .collect()
        };
        Ok(entries.into_iter().map(|e| e.and_then(outputs)).collect())
    }
}

#[cfg(not(feature = "remote"))]
pub fn memo_reader(_: &App) -> Result<Box<dyn RemoteMemo>, String> {
    Err("this ggninja was built without remote execution".to_string())
}

#[cfg(not(feature = "remote"))]
pub fn backend(
    _: &App,
    _: &RemoteFlags,
    _: &mut Engine,
    _: &[FileId],
    _: &Thunks,
) -> Result<Box<dyn Backend>, String> {
    Err("this ggninja was built without remote execution; \
         build it with `cargo build --release --features remote`"
        .to_string())
}
