//! A make database to a `Graph`: one build per target the goals need, its
//! recipe expanded as make would expand it just before running it.
//!
//! Each build's command is the whole recipe (`recipe.rs`); its inputs the
//! normal then order-only prerequisites; its outputs the target and what
//! the same rule "also makes". Targets without a recipe become phony
//! builds. A target whose recipe holds something that cannot be reproduced
//! before the build (`$?`, `$(eval)`, a sub-make, ...) is refused with the
//! target, the makefile line and the construct. Ignores what make does
//! only while running: deleting intermediate files, `.DELETE_ON_ERROR`,
//! echoing recipe lines.

use std::path::Path;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ggninja_graph::eval::PHONY_RULE;
use ggninja_graph::{path::canonicalize, Build, FileId, Graph, Pool, Rule, ROOT_SCOPE};

use super::db::{Database, Location};
use super::expand::{Automatic, ExpandError, Expander, Message, Scope};
use super::implicit::Search;
use super::recipe::{self, Shell};
use super::targets::{plan, Making, Plan, Target};
use super::variables::{bindings, PatternVars};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("cannot import '{target}'{}: {reason}", at(.location))]
    Refused {
        target: String,
        location: Option<Location>,
        reason: String,
    },
    #[error("no goal: the makefile names no default goal and none was given")]
    NoGoal,
    #[error("{0}")]
    Unsupported(String),
}

fn at(location: &Option<Location>) -> String {
    location
        .as_ref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default()
}

/// An imported make build.
pub struct Imported {
    pub graph: Graph,
    /// What `$(info)` and `$(warning)` printed while recipes were expanded.
    pub messages: Vec<Message>,
}

/// Imports what `goals` (or the default goal) need from `db`, read in
/// make's directory `cwd`.
pub fn import(db: &Database, cwd: &Path, goals: &[String]) -> Result<Imported, ImportError> {
    refuse_unsupported(db)?;
    // `$(abspath)`, `$(wildcard)` and `$(shell)` need it whole.
    let cwd = &std::path::absolute(cwd)
        .map_err(|e| ImportError::Unsupported(format!("{}: {e}", cwd.display())))?;
    let goals = goals_or_default(db, goals)?;
    let known: HashSet<String> = db.files.iter().map(|f| f.name.clone()).collect();
    let search = Search::new(&db.rules, &known, cwd);
    let plan = plan(db, &search, &goals);
    let patterns =
        PatternVars::read(db, cwd).map_err(|e| ImportError::Unsupported(e.to_string()))?;
    let mut out = GraphOut::new(db);
    let mut messages = Vec::new();
    for (i, target) in plan.targets.iter().enumerate() {
        let command = command(db, &patterns, &plan, i, cwd, &mut messages)?;
        out.add(target, command);
    }
    out.graph.defaults = goals.iter().map(|g| out.file(g)).collect();
    Ok(Imported {
        graph: out.graph,
        messages,
    })
}

fn goals_or_default(db: &Database, goals: &[String]) -> Result<Vec<String>, ImportError> {
    if !goals.is_empty() {
        return Ok(goals.to_vec());
    }
    match db.variable(".DEFAULT_GOAL").map(|v| v.value.trim()) {
        Some(goal) if !goal.is_empty() => Ok(vec![goal.to_string()]),
        _ => Err(ImportError::NoGoal),
    }
}

/// Whole-database features the import cannot reproduce yet.
fn refuse_unsupported(db: &Database) -> Result<(), ImportError> {
    let general: Vec<&String> = db.search.general.iter().filter(|d| *d != ".").collect();
    if !db.search.vpath.is_empty() || !general.is_empty() {
        return Err(ImportError::Unsupported(
            "VPATH and vpath search paths are not supported by the importer".into(),
        ));
    }
    if db.files.iter().any(|f| f.name == ".SECONDEXPANSION") {
        return Err(ImportError::Unsupported(
            ".SECONDEXPANSION is not supported by the importer".into(),
        ));
    }
    Ok(())
}

/// Target `i`'s recipe as one command (`None` for a target without one).
fn command(
    db: &Database,
    patterns: &PatternVars,
    plan: &Plan,
    i: usize,
    cwd: &Path,
    messages: &mut Vec<Message>,
) -> Result<Option<String>, ImportError> {
    let target = &plan.targets[i];
    let recipes = target.recipe(db);
    if recipes.is_empty() {
        return Ok(None);
    }
    let refuse = |reason: String| ImportError::Refused {
        target: target.name.clone(),
        location: target.location(db),
        reason,
    };
    let auto = Automatic {
        target: target.name.clone(),
        prereqs: target.prereqs.clone(),
        order_only: target.order_only.clone(),
        stem: target.stem.clone(),
    };
    let scope = Scope {
        globals: &db.variables,
        bindings: bindings(patterns, plan, i),
        auto: Some(&auto),
        cwd,
    };
    let mut ex = Expander::new(&scope);
    let mut lines = Vec::new();
    for r in &recipes {
        for raw in &r.lines {
            if names_make(raw) {
                return Err(refuse(
                    "a recursive make ($(MAKE)) is not followed yet".into(),
                ));
            }
            let expanded = ex.expand(raw).map_err(|e| refuse(describe(e)))?;
            lines.push(recipe::line(&expanded));
        }
    }
    let shell = Shell {
        program: ex.variable("SHELL").map_err(|e| refuse(describe(e)))?,
        flags: ex
            .variable(".SHELLFLAGS")
            .map_err(|e| refuse(describe(e)))?,
    };
    messages.append(&mut ex.messages);
    let oneshell = db.files.iter().any(|f| f.name == ".ONESHELL");
    Ok(Some(recipe::command(&lines, &shell, oneshell)))
}

fn describe(e: ExpandError) -> String {
    match e {
        ExpandError::Error(text) => format!("*** {text}"),
        other => other.to_string(),
    }
}

/// make runs lines naming `$(MAKE)` even under `-n`: a sub-make.
fn names_make(raw: &str) -> bool {
    raw.contains("$(MAKE)") || raw.contains("${MAKE}")
}

/// The graph being built.
struct GraphOut {
    graph: Graph,
    rule: usize,
    /// `.NOTPARALLEL`: make runs one recipe at a time.
    pool: usize,
}

impl GraphOut {
    fn new(db: &Database) -> Self {
        let mut graph = Graph::default();
        graph.scopes.rules.push(Rule {
            name: "make".to_string(),
            bindings: HashMap::default(),
        });
        let rule = graph.scopes.rules.len() - 1;
        graph.scopes.scopes[ROOT_SCOPE]
            .rules
            .insert("make".to_string(), rule);
        let mut pool = ggninja_graph::DEFAULT_POOL;
        if db.files.iter().any(|f| f.name == ".NOTPARALLEL") {
            graph.pools.push(Pool {
                name: "notparallel".to_string(),
                depth: 1,
            });
            pool = graph.pools.len() - 1;
            graph.pool_names.insert("notparallel".to_string(), pool);
        }
        GraphOut { graph, rule, pool }
    }

    fn file(&mut self, name: &str) -> FileId {
        let path = canonicalize(name).unwrap_or_else(|| name.to_string());
        self.graph.file_id(&path)
    }

    fn add(&mut self, target: &Target, command: Option<String>) {
        let out = self.file(&target.name);
        if self.graph.file(out).in_build.is_some() {
            return; // made by another target's rule ("also makes")
        }
        let mut outs = vec![out];
        for also in &target.also_makes {
            let id = self.file(also);
            if self.graph.file(id).in_build.is_none() && !outs.contains(&id) {
                outs.push(id);
            }
        }
        let mut ins: Vec<FileId> = Vec::new();
        for p in &target.prereqs {
            push_unique(&mut ins, self.file(p));
        }
        let normal = ins.len();
        for p in &target.order_only {
            let id = self.file(p);
            if !ins[..normal].contains(&id) {
                push_unique(&mut ins, id);
            }
        }
        let order_only_ins = ins.len() - normal;
        let implicit_outs = outs.len() - 1;
        let (rule, bindings, pool) = match (&target.making, command) {
            (Making::Group, _) | (_, None) => (PHONY_RULE, None, ggninja_graph::DEFAULT_POOL),
            (_, Some(command)) => {
                let mut b = HashMap::default();
                b.insert("command".to_string(), command);
                (self.rule, Some(b), self.pool)
            }
        };
        self.graph.add_build(Build {
            rule,
            scope: ROOT_SCOPE,
            bindings,
            ins,
            implicit_ins: 0,
            order_only_ins,
            outs,
            implicit_outs,
            pool,
            ..Build::default()
        });
    }
}

fn push_unique(v: &mut Vec<FileId>, id: FileId) {
    if !v.contains(&id) {
        v.push(id);
    }
}
