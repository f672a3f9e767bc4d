//! make's variable expansion, applied to a recipe just before it would run.
//!
//! The rules are GNU make 4.3's: `$$`, `$x`, `$(name)`/`${name}` (a name
//! holding references is expanded first), substitution references
//! `$(var:a=b)`, and functions (`functions.rs`). A name resolves through,
//! in order: `foreach`/`call` bindings, automatic variables, the target's
//! own, pattern-specific and inherited variables, then the global ones.
//! Recursive values are expanded where they are used, simple ones were
//! expanded when make read them. Anything make would do that cannot be
//! done faithfully here (`$?`, `$(eval)`, ...) is an error naming the
//! construct, never a silently different command.

use std::path::Path;

use rustc_hash::FxHashMap as HashMap;

use super::db::{Flavor, Variable};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    /// `$(error text)`.
    #[error("{0}")]
    Error(String),
    /// A construct whose result cannot be reproduced before the build runs.
    #[error("{0} is not supported by the importer")]
    Unsupported(String),
    #[error("Recursive variable '{0}' references itself (eventually)")]
    Loop(String),
    #[error("unterminated variable reference")]
    Unterminated,
    #[error("insufficient number of arguments ({given}) to function '{function}'")]
    Arguments { function: String, given: usize },
    #[error("{0}")]
    Function(String),
}

/// What `$(info)` and `$(warning)` printed, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Info(String),
    Warning(String),
}

/// The automatic variables of one target's recipe.
#[derive(Debug, Clone, Default)]
pub struct Automatic {
    /// `$@`.
    pub target: String,
    /// Every normal prerequisite in order, duplicates kept (`$+`); `$<` is
    /// the first, `$^` the list without duplicates.
    pub prereqs: Vec<String>,
    /// `$|`.
    pub order_only: Vec<String>,
    /// `$*`.
    pub stem: String,
}

/// A target-specific (or pattern-specific) variable in effect.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub name: &'a str,
    pub var: &'a Variable,
}

/// Where names are looked up for one expansion.
pub struct Scope<'a> {
    pub globals: &'a HashMap<String, Variable>,
    /// Target-specific bindings, innermost first (the target's own, its
    /// patterns', then those inherited from the targets that need it).
    pub bindings: Vec<Binding<'a>>,
    pub auto: Option<&'a Automatic>,
    /// make's working directory: `$(shell)`, `$(wildcard)` and friends.
    pub cwd: &'a Path,
}

/// One expansion in progress.
pub struct Expander<'s, 'a> {
    pub(super) scope: &'s Scope<'a>,
    /// `foreach` and `call` bindings, innermost last.
    pub(super) locals: Vec<(String, String)>,
    /// Recursive variables being expanded (a reference back is a loop).
    active: Vec<String>,
    pub messages: Vec<Message>,
}

impl<'s, 'a> Expander<'s, 'a> {
    pub fn new(scope: &'s Scope<'a>) -> Self {
        Expander {
            scope,
            locals: Vec::new(),
            active: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// Makes `name` stand for `value` (above every definition) from now on.
    pub fn bind(&mut self, name: &str, value: &str) {
        self.locals.push((name.to_string(), value.to_string()));
    }

    /// Undoes the last `bind` of `name`.
    pub fn unbind(&mut self, name: &str) {
        if let Some(at) = self.locals.iter().rposition(|(n, _)| n == name) {
            self.locals.remove(at);
        }
    }

    /// Expands `text` completely.
    pub fn expand(&mut self, text: &str) -> Result<String, ExpandError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            rest = self.reference(&rest[at + 1..], &mut out)?;
        }
        out.push_str(rest);
        Ok(out)
    }

    /// One reference after its `$`; returns the text after it.
    fn reference<'t>(&mut self, after: &'t str, out: &mut String) -> Result<&'t str, ExpandError> {
        let mut chars = after.chars();
        let Some(c) = chars.next() else {
            return Ok(after);
        };
        match c {
            '$' => {
                out.push('$');
                Ok(chars.as_str())
            }
            '(' | '{' => {
                let close = if c == '(' { ')' } else { '}' };
                let (inner, tail) = split_group(chars.as_str(), c, close)?;
                out.push_str(&self.group(inner)?);
                Ok(tail)
            }
            _ => {
                out.push_str(&self.variable(c.encode_utf8(&mut [0; 4]))?);
                Ok(chars.as_str())
            }
        }
    }

    /// What `$(inner)` stands for: a function call, a substitution
    /// reference or a variable.
    fn group(&mut self, inner: &str) -> Result<String, ExpandError> {
        if let Some((name, args)) = function_call(inner) {
            return super::functions::call(self, name, args);
        }
        let name = if inner.contains('$') {
            self.expand(inner)?
        } else {
            inner.to_string()
        };
        match substitution_ref(&name) {
            Some((var, from, to)) => {
                let value = self.variable(var)?;
                Ok(super::functions::substitute_words(&value, from, to))
            }
            None => self.variable(&name),
        }
    }

    /// The expanded value of variable `name` ("" when undefined).
    pub fn variable(&mut self, name: &str) -> Result<String, ExpandError> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        if let Some(value) = self.automatic(name)? {
            return Ok(value);
        }
        self.scoped(name, 0)
    }

    /// `name` from the bindings at `from` on, then the globals.
    fn scoped(&mut self, name: &str, from: usize) -> Result<String, ExpandError> {
        let found = self.scope.bindings[from.min(self.scope.bindings.len())..]
            .iter()
            .position(|b| b.name == name);
        let Some(i) = found.map(|i| i + from) else {
            if name == ".VARIABLES" {
                return Ok(self.variable_names());
            }
            return match self.scope.globals.get(name) {
                // A private global is the makefile's own: no target sees it.
                Some(var) if var.private && self.scope.auto.is_some() => Ok(String::new()),
                Some(var) => self.value_of(name, var),
                None => Ok(String::new()),
            };
        };
        let var = self.scope.bindings[i].var;
        if var.flavor != Flavor::Append {
            return self.value_of(name, var);
        }
        let mut base = self.scoped(name, i + 1)?;
        let own = self.value_of(name, var)?;
        if !base.is_empty() && !own.is_empty() {
            base.push(' ');
        }
        base.push_str(&own);
        Ok(base)
    }

    /// `$(.VARIABLES)`: every global variable's name (sorted: make lists
    /// them in its hash table's order).
    fn variable_names(&self) -> String {
        let mut names: Vec<&str> = self.scope.globals.keys().map(String::as_str).collect();
        names.sort_unstable();
        names.join(" ")
    }

    fn value_of(&mut self, name: &str, var: &Variable) -> Result<String, ExpandError> {
        if var.flavor == Flavor::Simple {
            return Ok(var.value.clone());
        }
        if self.active.iter().any(|a| a == name) {
            return Err(ExpandError::Loop(name.to_string()));
        }
        self.active.push(name.to_string());
        let value = self.expand(&var.value);
        self.active.pop();
        value
    }

    /// `$@ $< $^ $+ $| $*`; `$?` and `$%` cannot be known before the build.
    fn automatic(&self, name: &str) -> Result<Option<String>, ExpandError> {
        if !matches!(name, "@" | "<" | "^" | "+" | "|" | "*" | "?" | "%") {
            return Ok(None);
        }
        let Some(auto) = self.scope.auto else {
            return Ok(Some(String::new()));
        };
        Ok(Some(match name {
            "@" => auto.target.clone(),
            "<" => auto.prereqs.first().cloned().unwrap_or_default(),
            "^" => dedup(&auto.prereqs).join(" "),
            "+" => auto.prereqs.join(" "),
            "|" => dedup(&auto.order_only).join(" "),
            "*" => auto.stem.clone(),
            "?" => {
                return Err(ExpandError::Unsupported(
                    "'$?' (prerequisites newer than the target)".into(),
                ))
            }
            _ if auto.target.contains('(') => {
                return Err(ExpandError::Unsupported("'$%' (archive members)".into()))
            }
            _ => String::new(),
        }))
    }

    /// The variable as defined, for `$(value)`, `$(origin)`, `$(flavor)`.
    pub(super) fn definition(&self, name: &str) -> Option<&'a Variable> {
        self.scope
            .bindings
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.var)
            .or_else(|| self.scope.globals.get(name))
    }

    pub(super) fn is_automatic_or_local(&self, name: &str) -> bool {
        self.locals.iter().any(|(n, _)| n == name)
            || (self.scope.auto.is_some() && matches!(name, "@" | "<" | "^" | "+" | "|" | "*"))
    }
}

fn dedup(words: &[String]) -> Vec<&str> {
    let mut seen = rustc_hash::FxHashSet::default();
    words
        .iter()
        .filter(|w| seen.insert(w.as_str()))
        .map(String::as_str)
        .collect()
}

/// Splits `text` (after an opening `open`) at its matching `close`,
/// counting nested pairs of the same kind, as make does.
fn split_group(text: &str, open: char, close: char) -> Result<(&str, &str), ExpandError> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            if depth == 0 {
                return Ok((&text[..i], &text[i + close.len_utf8()..]));
            }
            depth -= 1;
        }
    }
    Err(ExpandError::Unterminated)
}

/// `name args` when `name` is one of make's functions followed by a blank.
fn function_call(inner: &str) -> Option<(&str, &str)> {
    let end = inner.find([' ', '\t'])?;
    let name = &inner[..end];
    super::functions::is_function(name)
        .then(|| (name, inner[end..].trim_start_matches([' ', '\t'])))
}

/// `var:from=to` → (var, from, to).
fn substitution_ref(name: &str) -> Option<(&str, &str, &str)> {
    let (var, subst) = name.split_once(':')?;
    let (from, to) = subst.split_once('=')?;
    Some((var, from, to))
}

#[cfg(test)]
#[path = "expand_test.rs"]
mod tests;
