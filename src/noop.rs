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

/// A local build's request (anything that may change what it does), else
/// None: what a build may remember of a no-op. One with `--cache` too: a
/// no-op stores and restores nothing (the store is brought under its limit
/// only after a build stored something), so its verdict is the scan's, as
/// without the store. Not one with `--make`, whose graph comes from `make`.
pub fn request(app: &App, tool: Option<&Tool>, cli: &Cli, key: &saved::Key) -> Option<String> {
    let plain = tool.is_none() && app.make.is_none();
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

/// A remembered no-op's output: its warnings again, the store's when it
/// cannot be opened now (as the full run would say), and its verdict.
pub fn answer(app: &App, warnings: &[String]) -> u8 {
    for w in warnings {
        app.warning(w);
    }
    if let Some(store) = &app.store {
        if let Err(e) = ggninja_store::Store::open(store) {
            crate::app::cache_disabled(app, store, &e);
        }
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
/// they load, and when the run began (`began_ns`, before any stat). A log
/// read earlier (`read`: its path, when it was stamped, and its stamp then;
/// the build log read ahead) counts as stamped then, if it is the same
/// now; if not, its text may be another's: None (nothing is remembered).
pub fn basis(
    request: String,
    manifest: Manifest,
    logs: &[String],
    began_ns: i64,
    read: (&str, i64, Option<saved::Stamp>),
) -> Option<Basis> {
    let (logs, mut logs_ns) = Basis::stamp_logs(logs);
    let (path, at, stamp) = read;
    if let Some((_, now)) = logs.iter().find(|(p, _)| p == path) {
        if *now != stamp {
            return None;
        }
        logs_ns = logs_ns.min(at);
    }
    Some(Basis {
        request,
        manifest: manifest.files,
        loaded_ns: manifest.started_ns,
        warnings: manifest.warnings,
        logs,
        logs_ns,
        began_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            files: Vec::new(),
            started_ns: 0,
            warnings: Vec::new(),
        }
    }

    /// The build log read ahead of its stamp: a record rests on it only
    /// while it is the log stamped before that read.
    #[test]
    fn a_log_read_ahead_counts_only_if_unchanged_since() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(".ninja_log");
        std::fs::write(&log, "# ninja log v6\n").unwrap();
        let log = log.to_str().unwrap();
        let early = (log, 5, saved::Stamp::now(log));
        let logs = [log.to_string()];
        let basis = basis_of(&logs, early.clone()).unwrap();
        assert_eq!(basis.logs_ns, 5, "stamped when it was read");
        std::fs::remove_file(log).unwrap();
        assert!(basis_of(&logs, early.clone()).is_none(), "removed since");
        std::fs::write(log, "# ninja log v6\nanother\n").unwrap();
        assert!(basis_of(&logs, early.clone()).is_none(), "another since");
        let other = [format!("{log}.other")];
        assert!(
            basis_of(&other, early).is_some(),
            "another log: not read ahead"
        );
    }

    fn basis_of(logs: &[String], early: (&str, i64, Option<saved::Stamp>)) -> Option<Basis> {
        basis("r".into(), manifest(), logs, 0, early)
    }
}
