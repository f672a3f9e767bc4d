//! The target-specific variables in effect for one target's recipe.
//!
//! As in make: the target's own variables, then those of the patterns it
//! matches (applied in the dump's order, so later ones are more inner),
//! then, for each target up the chain that first needed it, that target's
//! own and pattern variables except `private` ones; the globals last
//! (`expand.rs`). make 4.3 prints every pattern-specific variable as if
//! it were `:=`, so its operator is read from the makefile line the dump
//! names; one that cannot be read is an error, never a guess. (A command
//! line value replaces a pattern variable's value but not its operator:
//! `make CFLAGS=x` with `%.o: CFLAGS += y` gives `x x`, in make too.)

use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::db::{Database, FileEntry, Flavor, PatternVar, Variable};
use super::expand::{Binding, ExpandError};
use super::pattern::Pattern;
use super::targets::{Plan, Target};

/// Pattern-specific variables with their real operator.
pub struct PatternVars {
    vars: Vec<PatternVarOp>,
    /// The global variables' names: `?=` applies only where none is.
    globals: HashSet<String>,
}

struct PatternVarOp {
    pattern: Pattern,
    name: String,
    var: Variable,
    /// `?=`: applies unless the variable is already defined (globally or
    /// by an earlier pattern the file matches), as make applies it when
    /// it sets up the file's variables.
    conditional: bool,
}

impl PatternVars {
    /// Reads each variable's operator from its makefile line.
    pub fn read(db: &Database, lines: &mut MakefileLines) -> Result<PatternVars, ExpandError> {
        let mut vars = Vec::new();
        for pv in &db.pattern_vars {
            let (flavor, conditional) = operator(pv, lines).ok_or_else(|| {
                ExpandError::Unsupported(format!(
                    "the pattern-specific variable '{}: {}' (its operator could not be read{})",
                    pv.pattern,
                    pv.name,
                    pv.var
                        .from
                        .as_ref()
                        .map(|l| format!(" at {l}"))
                        .unwrap_or_default()
                ))
            })?;
            let mut var = pv.var.clone();
            var.flavor = flavor;
            vars.push(PatternVarOp {
                pattern: Pattern::new(&pv.pattern),
                name: pv.name.clone(),
                var,
                conditional,
            });
        }
        let globals = db.variables.keys().cloned().collect();
        Ok(PatternVars { vars, globals })
    }

    /// The variables of patterns `name` matches, innermost first. As make
    /// sets them up, one does not apply over an earlier one of a stronger
    /// origin (`a%: override X += 1` then `a%: X += 2` leaves `1`).
    fn matching<'a>(&'a self, name: &str) -> impl Iterator<Item = Binding<'a>> + 'a {
        let mut hits: Vec<Binding<'a>> = Vec::new();
        for v in self.vars.iter().filter(|v| v.pattern.matches(name)) {
            let earlier = || hits.iter().filter(|b| b.name == v.name);
            let defined = || self.globals.contains(&v.name) || earlier().next().is_some();
            if v.conditional && defined() {
                continue;
            }
            let strength = v.var.origin.strength();
            if earlier().any(|b| b.var.origin.strength() > strength) {
                continue;
            }
            hits.push(Binding {
                name: &v.name,
                var: &v.var,
            });
        }
        hits.into_iter().rev()
    }
}

/// The makefiles' lines, each file read once: what the dump does not say
/// about a variable is read from the line it names.
pub struct MakefileLines {
    cwd: PathBuf,
    files: HashMap<String, Option<String>>,
}

impl MakefileLines {
    pub fn new(cwd: &Path) -> Self {
        MakefileLines {
            cwd: cwd.to_path_buf(),
            files: HashMap::default(),
        }
    }

    /// The text after the target (or pattern) and its colon on the line
    /// that defined the target-specific variable `var`.
    fn after_target(&mut self, var: &Variable) -> Option<&str> {
        let from = var.from.as_ref()?;
        let cwd = &self.cwd;
        let text = self
            .files
            .entry(from.file.clone())
            .or_insert_with(|| std::fs::read_to_string(cwd.join(&from.file)).ok())
            .as_ref()?;
        let line = text.lines().nth((from.line as usize).checked_sub(1)?)?;
        Some(line.split_once(':')?.1)
    }

    /// Whether the target-specific variable `name` was written `export
    /// NAME ...` (the dump does not say).
    pub fn exported(&mut self, name: &str, var: &Variable) -> bool {
        let Some(after) = self.after_target(var) else {
            return false;
        };
        let words = after.split_whitespace().take_while(|w| *w != name);
        words.into_iter().any(|w| w == "export")
    }
}

/// `=`, `?=`, `:=`/`::=`, `!=` or `+=` after `NAME` on the line the
/// variable came from.
fn operator(pv: &PatternVar, lines: &mut MakefileLines) -> Option<(Flavor, bool)> {
    let after_pattern = lines.after_target(&pv.var)?;
    let at = after_pattern.find(pv.name.as_str())?;
    let op = after_pattern[at + pv.name.len()..].trim_start();
    if op.starts_with("+=") {
        Some((Flavor::Append, false))
    } else if op.starts_with(":=") || op.starts_with("::=") || op.starts_with("!=") {
        // `!=`: the shell's output, as the dump printed it.
        Some((Flavor::Simple, false))
    } else if op.starts_with('=') {
        Some((Flavor::Recursive, false))
    } else if op.starts_with("?=") {
        Some((Flavor::Recursive, true))
    } else {
        None
    }
}

/// The bindings for target `i` of `plan`, innermost first.
pub fn bindings<'a>(patterns: &'a PatternVars, plan: &'a Plan<'a>, i: usize) -> Vec<Binding<'a>> {
    let mut out = Vec::new();
    let mut at = Some(i);
    let mut inherited = false;
    while let Some(t) = at {
        let target = &plan.targets[t];
        let own = own_vars(target);
        out.extend(own.filter(|b| !(inherited && b.var.private)));
        let pats = patterns.matching(&target.name);
        out.extend(pats.filter(|b| !(inherited && b.var.private)));
        at = target.parent;
        inherited = true;
    }
    out
}

/// The variables of a file not (yet) in a plan: its own, then its
/// patterns' (`.SECONDEXPANSION` of its implicit rule's prerequisites).
pub fn file_bindings<'a>(
    patterns: &'a PatternVars,
    entries: &[&'a FileEntry],
    name: &str,
) -> Vec<Binding<'a>> {
    let own = entries
        .iter()
        .flat_map(|f| f.vars.iter().map(|(n, v)| Binding { name: n, var: v }));
    let mut out: Vec<Binding<'a>> = own.collect();
    out.reverse();
    out.extend(patterns.matching(name));
    out
}

/// A target's own variables, last printed innermost.
fn own_vars<'a>(target: &'a Target<'a>) -> impl Iterator<Item = Binding<'a>> + 'a {
    let vars: Vec<Binding<'a>> = target
        .entries
        .iter()
        .flat_map(|f| f.vars.iter().map(|(n, v)| Binding { name: n, var: v }))
        .collect();
    vars.into_iter().rev()
}
