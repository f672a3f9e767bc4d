//! `-t clean` (built files: all, by rule, or by target) and `-t cleandead`
//! (files the build log names but the manifest no longer builds).

use std::collections::HashSet;
use std::path::Path;

use ggninja_executor::status::Verbosity;
use ggninja_executor::{disk, Engine};
use ggninja_graph::path::canonicalize;
use ggninja_graph::{BuildId, Escape, Graph};

use super::Args;
use crate::context::App;

const USAGE: &str = "usage: ninja -t clean [options] [targets]

options:
  -g     also clean files marked as ninja generator output
  -r     interpret targets as a list of rules to clean instead";

pub fn clean(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((opts, rest)) = args.flags("hgr", USAGE) else {
        return 1;
    };
    let generator = opts.contains(&'g');
    let by_rule = opts.contains(&'r');
    if by_rule && rest.is_empty() {
        app.error("expected a rule to clean");
        return 1;
    }
    let mut c = Cleaner::new(app);
    c.header();
    // Dyndep files may name more outputs.
    load_all_dyndeps(e);
    let g = &e.graph;
    if rest.is_empty() {
        c.all(g, generator);
    } else if by_rule {
        c.rules(g, &rest);
    } else {
        c.targets(g, &rest);
    }
    c.footer();
    if !app.config.dry_run {
        forget_remote(g, &c.removed);
    }
    c.status
}

/// Outputs a remote build left in its bucket (`--remote-download=toplevel`)
/// are cleaned too: forgotten, so the next build makes or fetches them
/// again instead of taking them as present.
fn forget_remote(g: &Graph, removed: &HashSet<String>) {
    let record = std::path::PathBuf::from(g.in_builddir(ggninja_store::REMOTE_FILES));
    if !record.exists() {
        return;
    }
    let files = ggninja_store::RemoteFiles::load(&record);
    let cwd = std::env::current_dir().unwrap_or_default();
    for path in removed {
        files.remove(&cwd.join(path));
    }
    let _ = files.save(&record);
}

pub fn cleandead(app: &App, e: &mut Engine, _: &Args) -> u8 {
    let mut c = Cleaner::new(app);
    c.header();
    let g = &e.graph;
    let mut dead: Vec<&str> = e
        .build_log
        .entries()
        .map(|(p, _)| p)
        .filter(|p| {
            g.lookup(p)
                .is_none_or(|n| g.file(n).in_build.is_none() && g.consumers(n).next().is_none())
        })
        .collect();
    dead.sort();
    for p in dead {
        c.remove(p);
    }
    c.footer();
    c.status
}

fn load_all_dyndeps(e: &mut Engine) {
    for b in e.graph.builds.clone() {
        if let Some(dd) = e.graph.build(b).dyndep {
            if e.nodes[dd.index()].dyndep_pending {
                let _ = e.load_dyndeps(dd);
            }
        }
    }
}

/// Removes files, each once, counting them, as ninja's Cleaner.
struct Cleaner<'a> {
    app: &'a App,
    removed: HashSet<String>,
    count: usize,
    status: u8,
}

impl<'a> Cleaner<'a> {
    fn new(app: &'a App) -> Self {
        Cleaner {
            app,
            removed: HashSet::new(),
            count: 0,
            status: 0,
        }
    }

    /// Whether to name each file: with -v or -n, unless quiet.
    fn verbose(&self) -> bool {
        let v = self.app.config.verbosity;
        v != Verbosity::Quiet && (v == Verbosity::Verbose || self.app.config.dry_run)
    }

    fn header(&self) {
        print!("Cleaning...");
        if self.verbose() {
            println!();
        } else {
            print!(" ");
        }
    }

    fn footer(&self) {
        println!("{} files.", self.count);
    }

    /// Every output of every non-phony build (generators only if asked).
    fn all(&mut self, g: &Graph, generator: bool) {
        for &b in &g.builds {
            if g.is_phony(b) || (!generator && g.binding_bool(b, "generator")) {
                continue;
            }
            for &o in &g.build(b).outs {
                self.remove(g.path(o));
            }
            self.remove_edge_files(g, b);
        }
    }

    /// `-r`: the outputs of the builds of each rule.
    fn rules(&mut self, g: &Graph, names: &[String]) {
        for name in names {
            let Some(rule) = g.scopes.find_rule(ggninja_graph::ROOT_SCOPE, name) else {
                self.app.error(&format!("unknown rule '{name}'"));
                self.status = 1;
                continue;
            };
            if self.verbose() {
                println!("Rule {name}");
            }
            for &b in &g.builds {
                if g.build(b).rule == rule {
                    for &o in &g.build(b).outs {
                        self.remove(g.path(o));
                        self.remove_edge_files(g, b);
                    }
                }
            }
        }
    }

    /// Each target and everything built on the way to it.
    fn targets(&mut self, g: &Graph, targets: &[String]) {
        let mut cleaned = HashSet::new();
        for t in targets {
            let Some(path) = canonicalize(t) else {
                self.app.error("failed to canonicalize '': empty path");
                self.status = 1;
                continue;
            };
            let Some(node) = g.lookup(&path) else {
                self.app.error(&format!("unknown target '{path}'"));
                self.status = 1;
                continue;
            };
            if self.verbose() {
                println!("Target {path}");
            }
            let mut stack = vec![node];
            while let Some(n) = stack.pop() {
                if !cleaned.insert(n) {
                    continue;
                }
                if let Some(b) = g.file(n).in_build {
                    if !g.is_phony(b) {
                        self.remove(g.path(n));
                        self.remove_edge_files(g, b);
                    }
                    stack.extend(g.build(b).ins.iter().rev());
                }
            }
        }
    }

    /// Removes `path` (a file or an empty directory); a dry run only checks
    /// that it exists.
    fn remove(&mut self, path: &str) {
        if !self.removed.insert(path.to_string()) {
            return;
        }
        let removed = if self.app.config.dry_run {
            disk::stat(path).unwrap_or(0) > 0
        } else {
            self.remove_from_disk(path)
        };
        if removed {
            self.count += 1;
            if self.verbose() {
                println!("Remove {path}");
            }
        }
    }

    /// Whether `path` was there to remove; an error other than "not found"
    /// is reported and fails the tool.
    fn remove_from_disk(&mut self, path: &str) -> bool {
        let result = std::fs::remove_file(path).or_else(|e| {
            if Path::new(path).is_dir() {
                std::fs::remove_dir(path)
            } else {
                Err(e)
            }
        });
        match result {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                let msg = disk::io_message(&e);
                self.app.error(&format!("remove({path}): {msg}"));
                self.status = 1;
                false
            }
        }
    }

    fn remove_edge_files(&mut self, g: &Graph, b: BuildId) {
        for var in ["depfile", "rspfile"] {
            let f = g.binding(b, var, Escape::None).unwrap_or_default();
            if !f.is_empty() {
                self.remove(&f);
            }
        }
    }
}
