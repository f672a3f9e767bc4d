//! A build's side of a remembered no-op (`executor/src/noop`):
//! which requests may be remembered, the answer printed when a record
//! holds, and what the verdict rests on besides the files the scan reaches.
//! Ignores how a record is checked or kept (the executor's).

use ggninja_executor::metrics;
use ggninja_executor::noop::{self, Basis, Recalled};
use ggninja_executor::status::Verbosity;
use ggninja_importer::saved;

use crate::cli::Cli;
use crate::context::App;
use crate::tools::Tool;

/// What a load of `build.ninja` read, and warned about.
pub struct Manifest {
    pub files: Vec<saved::ManifestFile>,
    pub started_ns: i64,
    pub warnings: Vec<String>,
}

/// A plain local build's request (anything that may change what it does),
/// else None: what a build may remember of a no-op.
pub fn request(app: &App, tool: Option<&Tool>, cli: &Cli, key: &saved::Key) -> Option<String> {
    let plain = tool.is_none() && app.make.is_none() && app.store.is_none();
    // `-d explain` prints from the scan, which a remembered no-op skips.
    let local = !app.sandbox && app.remote.is_none() && !app.config.dry_run;
    let local = local && !app.config.explain;
    (plain && local).then(|| format!("{key:?} {cli:?}"))
}

/// What the last no-op of `request` says now.
pub fn recall(request: &str) -> Recalled {
    let _t = metrics::time("no-op check");
    noop::recall(request)
}

/// A remembered no-op's output: its warnings again, and its verdict.
pub fn answer(app: &App, warnings: &[String]) -> u8 {
    for w in warnings {
        app.warning(w);
    }
    if app.config.verbosity != Verbosity::NoStatusUpdate {
        app.info("no work to do.");
    }
    if let Some(table) = metrics::report() {
        print!("{table}");
    }
    0
}

/// What a no-op verdict rests on besides the files the scan reaches: the
/// request, the manifest's files, the logs (`logs`) as they are before
/// they load, and when the run began (`began_ns`, before any stat).
pub fn basis(request: String, manifest: Manifest, logs: &[String], began_ns: i64) -> Basis {
    let (logs, logs_ns) = Basis::stamp_logs(logs);
    Basis {
        request,
        manifest: manifest.files,
        loaded_ns: manifest.started_ns,
        warnings: manifest.warnings,
        logs,
        logs_ns,
        began_ns,
    }
}
