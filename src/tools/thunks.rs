//! ggninja's own tools: `-t thunks` (each needed edge's thunk as a JSON
//! line) and `-t footprint TARGET` (one edge's inputs, hashed).

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use ggninja_executor::Engine;
use ggninja_graph::BuildId;
use ggninja_store::hash::ContentHash;
use ggninja_thunk::{EdgeThunk, Entry, Source, ThunkBuilder, Thunks};
use rayon::prelude::*;

use super::{collect_target, collect_targets, Args};
use crate::context::App;

/// Runs `f` with a thunk builder (outputs linked) over `e`'s graph and
/// the caches saved in the build dir, then saves them.
pub(super) fn with_thunks<T>(e: &Engine, f: impl FnOnce(&mut ThunkBuilder) -> T) -> T {
    let cwd = std::env::current_dir().unwrap_or_default();
    let saved_dir = PathBuf::from(e.graph.in_builddir(""));
    let timer = ggninja_executor::metrics::time("caches load");
    let thunks = Thunks::open(&cwd, &saved_dir);
    drop(timer);
    let out = thunks.with_builder(&e.graph, true, |tb| {
        let out = f(tb);
        // Left to the OS, like the graph (see app's `exit_without_freeing`).
        std::mem::forget(std::mem::take(&mut tb.done));
        out
    });
    let timer = ggninja_executor::metrics::time("caches save");
    thunks.save_caches();
    drop(timer);
    std::mem::forget(thunks);
    out
}

/// `-t thunks [targets]`: one JSON object per line for each edge needed.
pub fn thunks(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some(nodes) = app.report(collect_targets(e, args.args)) else {
        return 1;
    };
    with_thunks(e, |tb| {
        let g = tb.graph;
        let edges: Vec<BuildId> = nodes.iter().filter_map(|&n| g.file(n).in_build).collect();
        let mut out = std::io::stdout().lock();
        let mut printed = HashSet::new();
        let mut failed = false;
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let bundles = tb.bundles;
        // Each batch as the builder finishes it: every thunk after those it
        // names, and each bundle before the first thunk naming it.
        let mut emit = |made: Vec<(BuildId, Entry)>| {
            let _timer = ggninja_executor::metrics::time("thunk lines");
            let mut text = Vec::new();
            for named in bundles.all() {
                if printed.insert(named.hash) {
                    let line = ThunkLine::Bundle {
                        bundle: named.hash.to_string(),
                        files: &named.bundle.files,
                    };
                    let _ = serde_json::to_writer(&mut text, &line);
                    text.push(b'\n');
                }
            }
            // Buffers reused from batch to batch: growing fresh ones costs
            // more in page faults than making the lines.
            lines.resize_with(made.len().div_ceil(256), Vec::new);
            let lines = &mut lines[..made.len().div_ceil(256)];
            made.par_chunks(256)
                .zip(lines.par_iter_mut())
                .for_each(|(part, buf)| {
                    buf.clear();
                    for (b, entry) in part {
                        thunk_line(buf, g.path(g.build(*b).outs[0]), entry);
                    }
                });
            // A closed pipe (`| head`): stop quietly.
            failed = failed
                || out.write_all(&text).is_err()
                || lines.iter().any(|l| out.write_all(l).is_err());
        };
        let timer = ggninja_executor::metrics::time("thunks (with lines)");
        tb.build_all(&edges, Some(&mut emit));
        let _ = out.flush();
        drop(timer);
        0
    })
}

/// One thunk's line of `-t thunks`.
fn thunk_line(buf: &mut Vec<u8>, output: &str, entry: &Entry) {
    let _ = match entry {
        // The thunk as hashed, not serialized a second time.
        Entry::Thunk(t) => write_thunk_line(buf, output, &t.hash.to_string(), &t.canonical),
        Entry::LocalOnly(why) => {
            let why = ThunkLine::LocalOnly {
                output,
                local_only: why,
            };
            serde_json::to_writer(&mut *buf, &why).map_err(std::io::Error::from)
        }
    };
    buf.push(b'\n');
}

/// A thunk's line of `-t thunks`: `{"output","hash","thunk"}`.
fn write_thunk_line(
    out: &mut impl Write,
    output: &str,
    hash: &str,
    canonical: &str,
) -> std::io::Result<()> {
    out.write_all(b"{\"output\":")?;
    serde_json::to_writer(&mut *out, output)?;
    write!(out, ",\"hash\":\"{hash}\",\"thunk\":{canonical}}}")
}

/// The other lines of `-t thunks`.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ThunkLine<'a> {
    Bundle {
        bundle: String,
        files: &'a [ggninja_thunk::BundleFile],
    },
    LocalOnly {
        output: &'a str,
        local_only: &'a str,
    },
}

/// `-t footprint TARGET`: the inputs of the edge that builds TARGET.
pub fn footprint(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let [target] = args.args else {
        app.error("usage: ggninja -t footprint TARGET");
        return 1;
    };
    let Some(node) = app.report(collect_target(e, target)) else {
        return 1;
    };
    let result = with_thunks(e, |tb| match tb.entry_for(node).cloned() {
        None => Err(format!("'{target}' is not built by any command")),
        Some(Entry::LocalOnly(why)) => Err(format!("'{target}' is local-only: {why}")),
        Some(Entry::Thunk(t)) => Ok(footprint_lines(&t)),
    });
    match app.report(result) {
        Some(out) => {
            print!("{out}");
            0
        }
        None => 1,
    }
}

/// The thunk's hash, its program, then one line per input: hash, size
/// (or what it is) and path; a bundle's files stand for the bundle.
fn footprint_lines(t: &EdgeThunk) -> String {
    let (hash, thunk, bundle) = (t.hash, t.thunk(), &t.bundle);
    let mut out = format!(
        "thunk {hash}\nprogram {} {}\n",
        thunk.function.exe, thunk.function.exe_hash
    );
    let value = |out: &mut String, hash: &str, path: &str| {
        let size = ContentHash::parse(hash).map(|h| h.size).unwrap_or(0);
        out.push_str(&format!("{hash} {size:>10} {path}\n"));
    };
    for i in &thunk.inputs {
        match &i.source {
            Source::Value { hash } => value(&mut out, hash, &i.path),
            Source::Bundle { .. } => {
                for f in bundle.iter().flat_map(|b| &b.bundle.files) {
                    value(&mut out, &f.hash, &f.path);
                }
            }
            Source::Output { thunk, .. } => {
                out.push_str(&format!("{thunk} {:>10} {}\n", "output", i.path))
            }
            Source::Directory { .. } => {
                out.push_str(&format!("{:<52} {:>10} {}\n", "-", "directory", i.path))
            }
        }
    }
    out
}
