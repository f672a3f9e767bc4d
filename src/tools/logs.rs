//! `-t recompact` and `-t restat`: rewrite the build and deps logs; and
//! the recompaction every build does when the logs have grown too large.

use std::collections::HashSet;
use std::path::Path;

use ggninja_executor::build_log::BuildLog;
use ggninja_executor::deps_log::DepsLog;
use ggninja_executor::{disk, Engine};
use ggninja_graph::FileId;

use super::{has_deps_binding, Args};
use crate::context::App;

/// Rewrites the logs without dead entries. `always`: do it even if small.
pub fn recompact_if_needed(e: &mut Engine, always: bool) -> Result<(), String> {
    let failed = |err: std::io::Error| format!("failed recompaction: {}", disk::io_message(&err));
    let g = &e.graph;
    let log_file = g.in_builddir(".ninja_log");
    if (always || e.build_log.needs_recompaction()) && Path::new(&log_file).exists() {
        // An output no build makes any more, and gone from the disk.
        let dead = |p: &str| {
            if g.lookup(p).is_some_and(|n| g.file(n).in_build.is_some()) {
                return false;
            }
            disk::stat(p).unwrap_or(1) == 0
        };
        e.build_log.recompact(dead).map_err(failed)?;
    }
    let deps_file = g.in_builddir(".ninja_deps");
    if (always || e.deps_log.needs_recompaction()) && Path::new(&deps_file).exists() {
        let live = |n: FileId| g.file(n).in_build.is_some_and(|b| has_deps_binding(g, b));
        e.deps_log.recompact(g, live).map_err(failed)?;
    }
    Ok(())
}

pub fn recompact(app: &App, e: &mut Engine, _: &Args) -> u8 {
    if let Some(dir) = e.graph.scopes.lookup(ggninja_graph::ROOT_SCOPE, "builddir") {
        if !dir.is_empty() && !app.config.dry_run {
            let _ = std::fs::create_dir_all(dir);
        }
    }
    let log_file = e.graph.in_builddir(".ninja_log");
    let deps_file = e.graph.in_builddir(".ninja_deps");
    match (
        BuildLog::load(Path::new(&log_file)),
        DepsLog::load(Path::new(&deps_file), &mut e.graph, false),
    ) {
        (Ok((b, w1)), Ok((d, w2))) => {
            for w in [w1, w2].into_iter().flatten() {
                app.warning(&w);
            }
            e.build_log = b;
            e.deps_log = d;
            e.sync_states();
        }
        (Err(err), _) => {
            let msg = disk::io_message(&err);
            app.error(&format!("loading build log {log_file}: {msg}"));
            return 1;
        }
        (_, Err(err)) => {
            let msg = disk::io_message(&err);
            app.error(&format!("loading deps log {deps_file}: {msg}"));
            return 1;
        }
    }
    match app.report(recompact_if_needed(e, true)) {
        Some(()) => 0,
        None => 1,
    }
}

/// `-t restat [outputs]`: refreshes the mtimes recorded in the log. Runs
/// without a manifest, like ninja's, so missing files and logs are fine.
pub fn restat(app: &App, args: &Args) -> u8 {
    let Some((_, outputs)) = args.flags("h", "usage: ninja -t restat [outputs]") else {
        return 1;
    };
    let path = Path::new(".ninja_log");
    if !path.exists() {
        return 0;
    }
    let mut log = match BuildLog::load(path) {
        Ok((log, warning)) => {
            if let Some(w) = warning {
                app.warning(&w);
            }
            log
        }
        Err(err) => {
            let msg = disk::io_message(&err);
            app.error(&format!("loading build log .ninja_log: {msg}"));
            return 1;
        }
    };
    let filter: HashSet<&str> = outputs.iter().map(String::as_str).collect();
    match log.restat(|out| filter.is_empty() || filter.contains(out)) {
        Ok(()) => 0,
        Err(err) => {
            app.error(&format!("failed recompaction: {err}"));
            1
        }
    }
}
