//! Make databases to one `Graph`: one build per target the goals need, its
//! recipe expanded as make would expand it just before running it.
//!
//! Each build's command is the whole recipe (`recipe.rs`), run in its
//! make's directory; its inputs the normal then order-only prerequisites;
//! its outputs the target and what the same rule "also makes". Targets
//! without a recipe become phony builds. A recipe that runs sub-makes
//! (`submake.rs`) becomes a phony build waiting for the sub-makes' goals,
//! whose databases are read and imported into the same graph, paths made
//! relative to the top make's directory: `-j` then spans directories. A
//! target whose recipe holds something that cannot be reproduced before
//! the build (`$?`, `$(eval)`, a shell loop over sub-makes, ...) is refused
//! with the target, the makefile line and the construct. Ignores what make
//! does only while running: deleting intermediate files,
//! `.DELETE_ON_ERROR`, echoing recipe lines.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ggninja_graph::eval::{shell_escape, PHONY_RULE};
use ggninja_graph::{path::canonicalize, Build, FileId, Graph, Pool, Rule, ROOT_SCOPE};

use super::db::{Database, FileEntry, Flavor, Location, Variable};
use super::environment;
use super::expand::{Automatic, ExpandError, Expander, Message, Scope};
use super::implicit::{Search, SecondExpansion};
use super::invoke::Invocation;
use super::recipe::{self, Shell};
use super::submake::{self, SubMake};
use super::targets::{plan, Making, Plan, Target};
use super::variables::{bindings, file_bindings, MakefileLines, PatternVars};

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
    /// What `$(info)` and `$(warning)` printed while recipes were expanded
    /// (and what sub-makes printed while reading their makefiles).
    pub messages: Vec<Message>,
    /// Variables every command gets, as make gives every recipe (see
    /// `with_command_env`).
    pub command_env: Vec<(String, String)>,
}

/// How a sub-make's database is read: make run in its directory (or, for
/// a saved dump, an error saying it cannot be).
pub type ReadMake<'r> = dyn Fn(&Invocation) -> Result<(Database, String), String> + 'r;

/// Where one make ran.
#[derive(Debug, Clone)]
pub struct Place {
    /// Relative to the top make's directory (`` at the top): paths and the
    /// `cd` before commands.
    pub rel: String,
    /// Absolute: `$(shell)`, `$(wildcard)`, stats.
    pub abs: PathBuf,
    /// Command-line variables in effect (passed down through MAKEFLAGS).
    pub assignments: Vec<String>,
    /// What must be built before anything of this make starts: make runs
    /// a sub-make only once the prerequisites of the target whose recipe
    /// runs it are done (lz4's programs/ waits for lib/).
    pub after: Vec<FileId>,
    /// How its environment differs from ggninja's (what its parent
    /// exported).
    pub env: Vec<(String, Option<String>)>,
}

/// The sub-makes read so far: their goals' files (None while in progress).
type Done = HashMap<(PathBuf, SubMake), Option<Vec<FileId>>>;

/// One graph from a make and every sub-make it runs.
pub struct Importer<'r> {
    out: GraphOut,
    messages: Vec<Message>,
    read: &'r ReadMake<'r>,
    done: Done,
    /// ggninja's environment with `command_env`: what commands start from.
    current: BTreeMap<String, String>,
    /// What every command's environment holds besides ggninja's (the
    /// build sets it: no command line carries it).
    command_env: Vec<(String, String)>,
}

/// What a target's recipe becomes: sub-makes to wait for, then a command.
#[derive(Default)]
struct Body {
    subs: Vec<SubMake>,
    command: Option<String>,
    /// How the recipe's environment differs from ggninja's (sub-makes
    /// start in it; the command sets it first).
    env: Vec<(String, Option<String>)>,
}

impl<'r> Importer<'r> {
    pub fn new(read: &'r ReadMake<'r>) -> Self {
        Importer {
            out: GraphOut::default(),
            messages: Vec::new(),
            read,
            done: HashMap::default(),
            current: std::env::vars_os()
                .map(|(k, v)| {
                    let k = k.to_string_lossy().into_owned();
                    (k, v.to_string_lossy().into_owned())
                })
                .collect(),
            command_env: Vec::new(),
        }
    }

    /// Commands will run with `vars` set (the top make's `MAKELEVEL`):
    /// only a command whose make gives it other values sets them itself.
    pub fn with_command_env(mut self, vars: Vec<(String, String)>) -> Self {
        self.current.extend(vars.iter().cloned());
        self.command_env = vars;
        self
    }

    /// The graph, with `goals` as its defaults.
    pub fn finish(mut self, goals: Vec<FileId>) -> Imported {
        self.out.graph.defaults = goals;
        Imported {
            graph: self.out.graph,
            messages: self.messages,
            command_env: self.command_env,
        }
    }

    /// Imports what `goals` (or the default goal) need from `db`, read at
    /// `place`; returns the goals' files.
    pub fn import(
        &mut self,
        db: &Database,
        place: &Place,
        goals: &[String],
    ) -> Result<Vec<FileId>, ImportError> {
        refuse_unsupported(db)?;
        let goals = goals_or_default(db, goals)?;
        let known: HashSet<String> = db.files.iter().map(|f| f.name.clone()).collect();
        let current = self.current.clone();
        let mut lines = MakefileLines::new(&place.abs);
        let patterns = PatternVars::read(db, &mut lines)
            .map_err(|e| ImportError::Unsupported(e.to_string()))?;
        let second = Second {
            db,
            entries: entries_by_name(db),
            patterns: &patterns,
            cwd: &place.abs,
            failed: RefCell::default(),
            messages: RefCell::default(),
        };
        let mut search = Search::new(&db.rules, &known, &place.abs);
        if db.files.iter().any(|f| f.name == ".SECONDEXPANSION") {
            search = search.with_second_expansion(&second);
        }
        let plan = plan(db, &search, &goals);
        if let Some(e) = second.failed.take() {
            return Err(e);
        }
        self.messages.append(&mut second.messages.borrow_mut());
        self.out.notparallel(db);
        let cx = Context {
            db,
            patterns: &patterns,
            plan: &plan,
            cwd: &place.abs,
            current: &current,
            inherited: &place.env,
            ignore: special(db, ".IGNORE"),
            oneshell: special(db, ".ONESHELL").is_some(),
        };
        let overrides = submake::overrides(db, &place.abs)
            .map_err(|e| ImportError::Unsupported(e.to_string()))?
            .unwrap_or_else(|| place.assignments.clone());
        for (i, target) in plan.targets.iter().enumerate() {
            let refuse = |reason: String| ImportError::Refused {
                target: target.name.clone(),
                location: target.location(db),
                reason,
            };
            let body = body(&cx, i, &mut lines, &mut self.messages)?;
            let mut subs = Vec::new();
            if !body.subs.is_empty() {
                let after = self.out.after(place, target);
                for s in &body.subs {
                    let sub = self.sub_make(place, s, &overrides, &after, &body.env);
                    subs.extend(sub.map_err(refuse)?);
                }
            }
            self.out.add(target, body.command, &subs, place);
        }
        Ok(goals.iter().map(|g| self.out.file(g, &place.rel)).collect())
    }

    /// Imports the sub-make `s` run from `place`; its goals' files.
    /// `overrides`: the command-line variables the parent passes down.
    fn sub_make(
        &mut self,
        place: &Place,
        s: &SubMake,
        overrides: &[String],
        after: &[FileId],
        env: &[(String, Option<String>)],
    ) -> Result<Vec<FileId>, String> {
        let abs = lexical(&place.abs.join(&s.dir));
        let mut assignments = overrides.to_vec();
        assignments.extend(s.assignments.iter().cloned());
        let key = (
            abs.clone(),
            SubMake {
                assignments: assignments.clone(),
                ..s.clone()
            },
        );
        match self.done.get(&key) {
            Some(Some(files)) => return Ok(files.clone()),
            Some(None) => {
                return Err(format!(
                    "a sub-make that runs itself again ({})",
                    abs.display()
                ))
            }
            None => {}
        }
        self.done.insert(key.clone(), None);
        // `env` is relative to the commands' environment; make starts from
        // ggninja's.
        let base = self
            .command_env
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())));
        let inv = Invocation {
            program: None,
            dir: abs.clone(),
            makefiles: s.makefiles.clone(),
            assignments: assignments.clone(),
            env: base.chain(env.iter().cloned()).collect(),
            silent: false, // the reader passes its own on (MAKEFLAGS)
        };
        let (mut db, printed) =
            (self.read)(&inv).map_err(|e| format!("its sub-make in {}: {e}", abs.display()))?;
        super::invoke::as_if_run_for(&mut db, &s.goals);
        if !printed.is_empty() {
            self.messages
                .push(Message::Info(printed.trim_end_matches('\n').to_string()));
        }
        let rel = relative(&place.rel, &s.dir);
        let sub = Place {
            rel,
            abs,
            assignments,
            after: after.to_vec(),
            env: env.to_vec(),
        };
        let files = self
            .import(&db, &sub, &s.goals)
            .map_err(|e| e.to_string())?;
        self.done.insert(key, Some(files.clone()));
        Ok(files)
    }
}

/// `a/../b` resolved without the file system (make's `$(CURDIR)` is too).
fn lexical(path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    PathBuf::from(canonicalize(&text).unwrap_or_else(|| text.into_owned()))
}

/// `dir` (as the recipe named it) relative to the top make's directory.
fn relative(parent: &str, dir: &str) -> String {
    if dir.starts_with('/') {
        return dir.to_string();
    }
    let joined = if parent.is_empty() {
        dir.to_string()
    } else {
        format!("{parent}/{dir}")
    };
    match canonicalize(&joined).as_deref() {
        None | Some(".") => String::new(),
        Some(p) => p.to_string(),
    }
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
    Ok(())
}

/// `.SECONDEXPANSION` of pattern rules' prerequisites, as make does it
/// during the implicit search: the file's own and pattern variables, `$@`,
/// `$*` and its explicit prerequisites as `$<`, `$^`, `$+`, `$|`. (make has
/// already expanded explicit and static pattern rules' prerequisites a
/// second time when it prints its database.) The first error is kept.
struct Second<'a> {
    db: &'a Database,
    entries: HashMap<&'a str, Vec<&'a FileEntry>>,
    patterns: &'a PatternVars,
    cwd: &'a Path,
    failed: RefCell<Option<ImportError>>,
    /// What `$(info)` and `$(warning)` printed meanwhile.
    messages: RefCell<Vec<Message>>,
}

/// The database's `# Files` entries of each name.
fn entries_by_name(db: &Database) -> HashMap<&str, Vec<&FileEntry>> {
    let mut out: HashMap<&str, Vec<&FileEntry>> = HashMap::default();
    for f in &db.files {
        out.entry(f.name.as_str()).or_default().push(f);
    }
    out
}

impl SecondExpansion for Second<'_> {
    fn expand(&self, target: &str, stem: &str, text: &str) -> String {
        let entries = self.entries.get(target).cloned().unwrap_or_default();
        let prereqs: Vec<String> = entries.iter().flat_map(|e| e.prereqs.clone()).collect();
        let order_only = entries
            .iter()
            .flat_map(|e| e.order_only.iter())
            .filter(|o| !prereqs.contains(o))
            .cloned()
            .collect();
        let auto = Automatic {
            target: target.to_string(),
            prereqs,
            order_only,
            stem: stem.to_string(),
        };
        let scope = Scope {
            globals: &self.db.variables,
            bindings: file_bindings(self.patterns, &entries, target),
            auto: Some(&auto),
            cwd: self.cwd,
        };
        let mut ex = Expander::new(&scope);
        let expanded = ex.expand(text);
        self.messages.borrow_mut().append(&mut ex.messages);
        expanded.unwrap_or_else(|e| {
            let mut failed = self.failed.borrow_mut();
            failed.get_or_insert_with(|| ImportError::Refused {
                target: target.to_string(),
                location: None,
                reason: format!("the second expansion of '{text}': {}", describe(e)),
            });
            String::new()
        })
    }
}

/// What every target's recipe of one make is expanded with.
struct Context<'a> {
    db: &'a Database,
    patterns: &'a PatternVars,
    plan: &'a Plan<'a>,
    cwd: &'a Path,
    current: &'a BTreeMap<String, String>,
    /// What this make was started with beyond ggninja's environment.
    inherited: &'a [(String, Option<String>)],
    /// `.IGNORE`'s prerequisites (empty: every target), if it is there.
    ignore: Option<HashSet<String>>,
    oneshell: bool,
}

/// Target `i`'s recipe: sub-makes and a command, either maybe absent.
fn body(
    cx: &Context,
    i: usize,
    lines: &mut MakefileLines,
    messages: &mut Vec<Message>,
) -> Result<Body, ImportError> {
    let (db, plan, cwd) = (cx.db, cx.plan, cx.cwd);
    let target = &plan.targets[i];
    let recipes = target.recipe(db);
    if recipes.is_empty() {
        return Ok(Body::default());
    }
    let refuse = |reason: String| ImportError::Refused {
        target: target.name.clone(),
        location: target.location(db),
        reason,
    };
    let extras = extra_prereqs(cx, target).map_err(|e| refuse(describe(e)))?;
    let auto = Automatic {
        target: target.name.clone(),
        prereqs: without(&target.prereqs, &extras),
        order_only: target.order_only.clone(),
        stem: target.stem.clone(),
    };
    let scope = Scope {
        globals: &db.variables,
        bindings: bindings(cx.patterns, plan, i),
        auto: Some(&auto),
        cwd,
    };
    let mut ex = Expander::new(&scope);
    let env = match &db.exported {
        None => Vec::new(),
        Some(exported) => {
            let keyword = &mut |name: &str, v: &_| lines.exported(name, v);
            let env = environment::for_target(&mut ex, exported, &scope.bindings, keyword)
                .map_err(|e| refuse(describe(e)))?;
            environment::difference(&env, cx.current, &db.variables, cx.inherited)
        }
    };
    let prefix = recipes[0].prefix;
    let raw: Vec<&String> = recipes.iter().flat_map(|r| r.lines.iter()).collect();
    // Sub-make lines first (their goals become inputs), then the rest.
    let firsts = raw.iter().take_while(|l| names_make(l)).count();
    if raw[firsts..].iter().any(|l| names_make(l)) {
        return Err(refuse(
            "a sub-make after other commands of the recipe".into(),
        ));
    }
    let mut subs = Vec::new();
    if firsts > 0 {
        ex.bind("MAKE", submake::MARKER);
        for line in &raw[..firsts] {
            let expanded = recipe::line(&ex.expand(line).map_err(|e| refuse(describe(e)))?);
            if !expanded.text.trim().is_empty() {
                subs.push(submake::parse(&expanded.text).map_err(refuse)?);
            }
        }
        ex.unbind("MAKE");
    }
    let ignore_all = cx
        .ignore
        .as_ref()
        .is_some_and(|p| p.is_empty() || p.contains(&target.name));
    let shell = Shell {
        program: ex.variable("SHELL").map_err(|e| refuse(describe(e)))?,
        flags: ex
            .variable(".SHELLFLAGS")
            .map_err(|e| refuse(describe(e)))?,
    };
    let command = match double_colon_rules(target) {
        Some(rules) if firsts == 0 => {
            let mut each = Vec::new();
            for rule in rules {
                let own = rule.prereqs.iter().filter(|p| **p != target.name);
                let auto = Automatic {
                    prereqs: own.cloned().collect(),
                    order_only: rule.order_only.clone(),
                    ..auto.clone()
                };
                let scope = Scope {
                    auto: Some(&auto),
                    bindings: scope.bindings.clone(),
                    ..scope
                };
                let mut ex = Expander::new(&scope);
                let lines = rule.recipe.iter().flat_map(|r| r.lines.iter());
                let lines = expand_lines(&mut ex, lines, prefix, ignore_all)
                    .map_err(|e| refuse(describe(e)))?;
                messages.append(&mut ex.messages);
                let command = recipe::command(&lines, &shell, cx.oneshell);
                each.push((auto.prereqs.clone(), command));
            }
            Some(recipe::double_colon(&target.name, &each))
        }
        _ => {
            let lines = expand_lines(&mut ex, raw[firsts..].iter().copied(), prefix, ignore_all)
                .map_err(|e| refuse(describe(e)))?;
            (!lines.is_empty()).then(|| recipe::command(&lines, &shell, cx.oneshell))
        }
    };
    messages.append(&mut ex.messages);
    let command = command.map(|c| format!("{}{c}", environment::prefix(&env)));
    Ok(Body { subs, command, env })
}

/// `.EXTRA_PREREQS` of `target`, which make has already added to its
/// prerequisites (after the others) and leaves out of the automatic
/// variables: a file with target-specific variables has its own (or none),
/// another target the global ones, which make also adds to every pattern
/// rule; none when they would name the target itself.
fn extra_prereqs(cx: &Context, target: &Target) -> Result<Vec<String>, ExpandError> {
    let global = || -> Result<Vec<String>, ExpandError> {
        let Some(var) = cx.db.variable(".EXTRA_PREREQS") else {
            return Ok(Vec::new());
        };
        let scope = Scope {
            globals: &cx.db.variables,
            bindings: Vec::new(),
            auto: None,
            cwd: cx.cwd,
        };
        let text = Expander::new(&scope).expand(&var.value)?;
        let text = if var.flavor == Flavor::Simple {
            var.value.clone()
        } else {
            text
        };
        Ok(words_globbed(cx.cwd, &text))
    };
    let own_vars: Vec<&Variable> = target
        .entries
        .iter()
        .flat_map(|e| e.vars.iter())
        .filter(|(n, _)| n == ".EXTRA_PREREQS")
        .map(|(_, v)| v)
        .collect();
    let has_vars = target.entries.iter().any(|e| !e.vars.is_empty());
    let mut extras = if has_vars {
        match own_vars.last() {
            Some(var) => {
                let scope = Scope {
                    globals: &cx.db.variables,
                    bindings: Vec::new(),
                    auto: None,
                    cwd: cx.cwd,
                };
                let text = match var.flavor {
                    Flavor::Simple => var.value.clone(),
                    _ => Expander::new(&scope).expand(&var.value)?,
                };
                words_globbed(cx.cwd, &text)
            }
            None => Vec::new(),
        }
    } else if target.entries.iter().any(|e| e.is_target) {
        global()?
    } else {
        Vec::new()
    };
    if extras.contains(&target.name) {
        extras.clear();
    }
    if matches!(target.making, Making::Pattern(_)) {
        extras.extend(global()?);
    }
    Ok(extras)
}

/// Each word, or the files it matches when it holds glob characters.
fn words_globbed(cwd: &Path, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let found = if word.contains(['*', '?', '[']) {
            super::wildcard::wildcard(cwd, word)
        } else {
            String::new()
        };
        if found.is_empty() {
            out.push(word.to_string());
        } else {
            out.extend(found.split(' ').map(str::to_string));
        }
    }
    out
}

/// `list` less one occurrence of each of `extras`, the last ones.
fn without(list: &[String], extras: &[String]) -> Vec<String> {
    let mut out = list.to_vec();
    for e in extras.iter().rev() {
        if let Some(at) = out.iter().rposition(|p| p == e) {
            out.remove(at);
        }
    }
    out
}

/// A target's double-colon rules, when it has several: each runs on its
/// own terms (`recipe::double_colon`).
fn double_colon_rules<'a>(target: &Target<'a>) -> Option<Vec<&'a FileEntry>> {
    match &target.making {
        Making::Explicit(entries)
            if entries.len() > 1 && entries.iter().all(|e| e.double_colon) =>
        {
            Some(entries.clone())
        }
        _ => None,
    }
}

/// Recipe lines expanded, cut where make cuts them, their prefixes read.
fn expand_lines<'l>(
    ex: &mut Expander,
    raw: impl Iterator<Item = &'l String>,
    prefix: char,
    ignore_all: bool,
) -> Result<Vec<recipe::Line>, ExpandError> {
    let mut out = Vec::new();
    for line in raw {
        let expanded = ex.expand(&recipe::join_in_references(line))?;
        // A multi-line value (a `define`) makes several recipe lines, each
        // with the `-` of the line it came from and its own.
        let outer = recipe::line(&expanded);
        for text in recipe::split_lines(&expanded) {
            let mut line = recipe::line(&recipe::continued(text, prefix));
            line.ignore_error |= outer.ignore_error || ignore_all;
            out.push(line);
        }
    }
    Ok(out)
}

/// The prerequisites of special target `name`, when the makefile has it.
fn special(db: &Database, name: &str) -> Option<HashSet<String>> {
    let mut entries = db.files.iter().filter(|f| f.name == name).peekable();
    entries.peek()?;
    Some(entries.flat_map(|f| f.prereqs.iter().cloned()).collect())
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
    /// A file no build writes and none should exist: an input that makes
    /// `.PHONY` targets' recipes run each time (ninja's `FORCE` idiom).
    always: Option<FileId>,
    rule: usize,
    /// `.NOTPARALLEL` in any make: one recipe at a time there.
    pool: usize,
}

impl Default for GraphOut {
    fn default() -> Self {
        let mut graph = Graph::default();
        graph.scopes.rules.push(Rule {
            name: "make".to_string(),
            bindings: HashMap::default(),
        });
        let rule = graph.scopes.rules.len() - 1;
        graph.scopes.scopes[ROOT_SCOPE]
            .rules
            .insert("make".to_string(), rule);
        GraphOut {
            graph,
            always: None,
            rule,
            pool: ggninja_graph::DEFAULT_POOL,
        }
    }
}

impl GraphOut {
    /// `.NOTPARALLEL`: make runs one recipe at a time (the whole build
    /// then, a simplification for sub-makes that say so).
    fn notparallel(&mut self, db: &Database) {
        if self.pool != ggninja_graph::DEFAULT_POOL
            || !db.files.iter().any(|f| f.name == ".NOTPARALLEL")
        {
            return;
        }
        self.graph.pools.push(Pool {
            name: "notparallel".to_string(),
            depth: 1,
        });
        self.pool = self.graph.pools.len() - 1;
        self.graph
            .pool_names
            .insert("notparallel".to_string(), self.pool);
    }

    /// The input that is never up to date (see `always`).
    fn always(&mut self) -> FileId {
        if let Some(id) = self.always {
            return id;
        }
        let id = self.graph.file_id(".ggninja_make/phony");
        self.graph.add_build(Build {
            rule: PHONY_RULE,
            scope: ROOT_SCOPE,
            outs: vec![id],
            pool: ggninja_graph::DEFAULT_POOL,
            ..Build::default()
        });
        self.always = Some(id);
        id
    }

    /// The file `name` names in the make at `rel`.
    fn file(&mut self, name: &str, rel: &str) -> FileId {
        let joined = if rel.is_empty() || name.starts_with('/') {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let path = canonicalize(&joined).unwrap_or(joined);
        self.graph.file_id(&path)
    }

    /// What a sub-make run by `target`'s recipe waits for: `target`'s
    /// prerequisites, and what `place` itself waits for.
    fn after(&mut self, place: &Place, target: &Target) -> Vec<FileId> {
        let mut after = Unique::default();
        for &a in &place.after {
            after.push(a);
        }
        for p in target.prereqs.iter().chain(&target.order_only) {
            after.push(self.file(p, &place.rel));
        }
        after.list
    }

    /// The build of `target`; `subs` are sub-make goals it waits for.
    fn add(&mut self, target: &Target, command: Option<String>, subs: &[FileId], place: &Place) {
        let rel = place.rel.as_str();
        let out = self.file(&target.name, rel);
        if self.graph.file(out).in_build.is_some() {
            return; // made by another target's rule ("also makes")
        }
        let mut outs = vec![out];
        for also in &target.also_makes {
            let id = self.file(also, rel);
            if self.graph.file(id).in_build.is_none() && !outs.contains(&id) {
                outs.push(id);
            }
        }
        let mut ins = Unique::default();
        for p in &target.prereqs {
            ins.push(self.file(p, rel));
        }
        for &s in subs {
            ins.push(s);
        }
        if target.phony && command.is_some() {
            ins.push(self.always());
        }
        let normal = ins.list.len();
        for p in &target.order_only {
            ins.push(self.file(p, rel));
        }
        for a in &place.after {
            if !outs.contains(a) {
                ins.push(*a);
            }
        }
        let (rule, bindings, pool) = match command {
            None => (PHONY_RULE, None, ggninja_graph::DEFAULT_POOL),
            Some(command) => {
                let mut b = HashMap::default();
                b.insert("command".to_string(), in_dir(rel, command));
                (self.rule, Some(Box::new(b)), self.pool)
            }
        };
        self.graph.add_build(Build {
            rule,
            scope: ROOT_SCOPE,
            bindings,
            order_only_ins: (ins.list.len() - normal) as u32,
            ins: ins.list,
            implicit_outs: (outs.len() - 1) as u32,
            outs,
            pool,
            make_rules: true,
            ..Build::default()
        });
    }
}

/// A sub-make's command runs in its directory.
fn in_dir(rel: &str, command: String) -> String {
    if rel.is_empty() {
        return command;
    }
    let mut dir = String::new();
    shell_escape(rel, &mut dir);
    format!("cd {dir} && {command}")
}

/// Inputs in first-named order, each once.
#[derive(Default)]
struct Unique {
    list: Vec<FileId>,
    seen: HashSet<FileId>,
}

impl Unique {
    fn push(&mut self, id: FileId) {
        if self.seen.insert(id) {
            self.list.push(id);
        }
    }
}
