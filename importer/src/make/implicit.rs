//! make's implicit rule search (GNU make 4.3's `pattern_search`), for the
//! targets that have no recipe of their own.
//!
//! `make -p` run with a goal that builds nothing prints the pattern rules
//! but has searched for none of the files, so the search is done here as
//! make does it: rules whose target pattern matches the name (the file's
//! directory set aside when the pattern has no `/`), shortest stem first;
//! match-anything rules dropped once a specific one matched; a rule applies
//! when each prerequisite is named for the target, known to make, or exists,
//! and on a second pass when a missing one can itself be made by a rule (an
//! intermediate file; a rule never twice in one chain, terminal rules never
//! in the middle). Under `.SECONDEXPANSION`, a prerequisite holding `$` is
//! expanded again for the file (`SecondExpansion`), word by word, its `%`
//! standing for `$*`, as make does. Ignores `vpath` (the importer refuses
//! search paths).

use std::cell::RefCell;
use std::path::Path;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::db::PatternRule;
use super::pattern::Pattern;

/// How a target is made by a pattern rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Index into the database's rules.
    pub rule: usize,
    /// `$*`: the stem, with the target's directory when it was set aside.
    pub stem: String,
    pub prereqs: Vec<String>,
    pub order_only: Vec<String>,
    /// The rule's other targets, made by the same run of its recipe.
    pub also_makes: Vec<String>,
    /// Missing prerequisites this rule needs made first, and how.
    pub intermediates: Vec<(String, Found)>,
}

/// `.SECONDEXPANSION` of a pattern rule's prerequisite: the text (its `%`
/// already `$*`) expanded for the target, with its stem and its explicit
/// prerequisites as the automatic variables.
pub trait SecondExpansion {
    fn expand(&self, target: &str, stem: &str, text: &str) -> String;
}

/// The search over one database's rules.
pub struct Search<'a> {
    second: Option<&'a dyn SecondExpansion>,
    rules: &'a [PatternRule],
    targets: Vec<Vec<Pattern>>,
    /// Every file make knows by name ("ought to exist").
    known: &'a HashSet<String>,
    cwd: &'a Path,
    /// Each directory's entries, read once (make's directory cache: a
    /// search tries several names per file, most of them absent).
    dirs: RefCell<HashMap<String, Option<HashSet<String>>>>,
    /// Names no rule can make as intermediate files (make's
    /// `file_impossible`): a source tree's every `x.c` would otherwise
    /// try `x.y`, `x.l`, `x.w`, ... again each time.
    impossible: RefCell<HashSet<String>>,
}

/// One candidate: a rule and which of its targets matched.
struct Try {
    rule: usize,
    target: usize,
    stem: String,
    dir: String,
    sort_len: usize,
}

impl<'a> Search<'a> {
    pub fn new(rules: &'a [PatternRule], known: &'a HashSet<String>, cwd: &'a Path) -> Self {
        let targets = rules
            .iter()
            .map(|r| r.targets.iter().map(|t| Pattern::new(t)).collect())
            .collect();
        Search {
            second: None,
            rules,
            targets,
            known,
            cwd,
            dirs: RefCell::default(),
            impossible: RefCell::default(),
        }
    }

    /// Under `.SECONDEXPANSION`: prerequisites holding `$` are expanded.
    pub fn with_second_expansion(mut self, second: &'a dyn SecondExpansion) -> Self {
        self.second = Some(second);
        self
    }

    /// The rule that makes `name`; `explicit` are its own prerequisites.
    pub fn find(&self, name: &str, explicit: &[String]) -> Option<Found> {
        let mut in_use = vec![false; self.rules.len()];
        self.search(name, explicit, 0, &mut in_use)
    }

    fn search(
        &self,
        name: &str,
        explicit: &[String],
        depth: u32,
        in_use: &mut Vec<bool>,
    ) -> Option<Found> {
        let tries = self.candidates(name, depth, in_use);
        for intermediate_ok in [false, true] {
            for t in &tries {
                let rule = &self.rules[t.rule];
                if intermediate_ok && rule.terminal {
                    continue;
                }
                in_use[t.rule] = true;
                let found = self.apply(name, t, explicit, intermediate_ok, depth, in_use);
                in_use[t.rule] = false;
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }

    /// Steps 1–3: matching rules, shortest stem first, match-anything ones
    /// dropped when a specific rule matched.
    fn candidates(&self, name: &str, depth: u32, in_use: &[bool]) -> Vec<Try> {
        let slash = name.rfind('/').map_or(0, |i| i + 1);
        let mut tries = Vec::new();
        let mut specific = false;
        for (i, rule) in self.rules.iter().enumerate() {
            let has_prereqs = !rule.prereqs.is_empty() || !rule.order_only.is_empty();
            if (has_prereqs && rule.recipe.is_none()) || in_use[i] {
                continue;
            }
            for (ti, pattern) in self.targets[i].iter().enumerate() {
                if !pattern.may_end(name) {
                    continue;
                }
                let anything = rule.targets[ti] == "%";
                if depth > 0 && anything && !rule.terminal {
                    continue;
                }
                let set_aside = slash > 0 && !rule.targets[ti].contains('/');
                let (dir, file) = if set_aside {
                    name.split_at(slash)
                } else {
                    ("", name)
                };
                let Some(stem) = pattern.stem(file).filter(|s| !s.is_empty()) else {
                    continue;
                };
                specific |= !anything;
                if !has_prereqs && rule.recipe.is_none() {
                    continue;
                }
                tries.push(Try {
                    rule: i,
                    target: ti,
                    stem: stem.to_string(),
                    dir: dir.to_string(),
                    sort_len: stem.len() + dir.len(),
                });
            }
        }
        tries.sort_by_key(|t| t.sort_len);
        if specific {
            let rules = self.rules;
            tries.retain(|t| {
                rules[t.rule].terminal || !rules[t.rule].targets.iter().any(|p| p == "%")
            });
        }
        tries
    }

    /// Steps 5–6: does every prerequisite exist, ought to, or (second pass)
    /// can it be made?
    fn apply(
        &self,
        name: &str,
        t: &Try,
        explicit: &[String],
        intermediate_ok: bool,
        depth: u32,
        in_use: &mut Vec<bool>,
    ) -> Option<Found> {
        let mut found = Found {
            rule: t.rule,
            stem: format!("{}{}", t.dir, t.stem),
            prereqs: Vec::new(),
            order_only: Vec::new(),
            also_makes: self.also_makes(t),
            intermediates: Vec::new(),
        };
        for (prereq, order_only) in self.prereqs(name, t) {
            let ok =
                explicit.contains(&prereq) || self.known.contains(&prereq) || self.exists(&prereq);
            if !ok {
                if !intermediate_ok {
                    return None;
                }
                if self.impossible.borrow().contains(&prereq) {
                    return None;
                }
                let Some(made) = self.search(&prereq, &[], depth + 1, in_use) else {
                    self.impossible.borrow_mut().insert(prereq);
                    return None;
                };
                found.intermediates.push((prereq.clone(), made));
            }
            if order_only {
                found.order_only.push(prereq);
            } else {
                found.prereqs.push(prereq);
            }
        }
        Some(found)
    }

    /// The rule's prerequisites for the file, each with whether it is
    /// order-only.
    fn prereqs(&self, name: &str, t: &Try) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        for (word, order_only) in self.expanded_prereqs(name, t) {
            for w in self.glob(&word) {
                out.push((w, order_only));
            }
        }
        out
    }

    /// A prerequisite with glob characters names the files it matches
    /// (itself when none does), as make's parsing of rule lines gives.
    fn glob(&self, word: &str) -> Vec<String> {
        if !word.contains(['*', '?', '[']) {
            return vec![word.to_string()];
        }
        let found = super::wildcard::wildcard(self.cwd, word);
        if found.is_empty() {
            return vec![word.to_string()];
        }
        found.split(' ').map(str::to_string).collect()
    }

    /// The prerequisites with the stem put in, expanded a second time when
    /// they must be.
    fn expanded_prereqs(&self, name: &str, t: &Try) -> Vec<(String, bool)> {
        let rule = &self.rules[t.rule];
        let second = self.second.filter(|_| {
            rule.prereqs
                .iter()
                .chain(&rule.order_only)
                .any(|p| p.contains('$'))
        });
        let Some(second) = second else {
            let named = |p: &String, order_only| (self.prereq(p, t), order_only);
            let wanted = rule.prereqs.iter().map(|p| named(p, false));
            return wanted
                .chain(rule.order_only.iter().map(|p| named(p, true)))
                .collect();
        };
        let stem = format!("{}{}", t.dir, t.stem);
        let mut out = Vec::new();
        for (list, mut order_only) in [(&rule.prereqs, false), (&rule.order_only, true)] {
            // The dump prints each prerequisite as written: `$(f a,b)` has
            // blanks, so words are cut again, `$(...)` kept whole.
            for word in make_words(&list.join(" ")) {
                if !word.contains('$') {
                    out.push((self.prereq(&word, t), order_only));
                    continue;
                }
                let add_dir = !t.dir.is_empty() && word.contains('%');
                let with_stem = fill_with_stem_variable(&word, add_dir);
                let expanded = second.expand(name, &stem, &with_stem);
                // A `|` in the result starts the order-only ones.
                for (i, part) in expanded.split('|').enumerate() {
                    order_only |= i > 0;
                    for w in part.split_whitespace() {
                        let dir = if add_dir { t.dir.as_str() } else { "" };
                        out.push((format!("{dir}{w}"), order_only));
                    }
                }
            }
        }
        out
    }

    /// A prerequisite pattern with the stem (and set-aside directory) put in.
    fn prereq(&self, pattern: &str, t: &Try) -> String {
        let p = Pattern::new(pattern);
        if !p.has_percent() {
            return pattern.to_string();
        }
        format!("{}{}", t.dir, p.fill(&t.stem))
    }

    fn also_makes(&self, t: &Try) -> Vec<String> {
        let full = format!("{}{}", t.dir, t.stem);
        self.targets[t.rule]
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != t.target)
            .map(|(_, p)| p.fill(&full))
            .collect()
    }

    pub fn exists(&self, path: &str) -> bool {
        let (dir, name) = match path.rfind('/') {
            Some(i) => (&path[..i.max(1)], &path[i + 1..]),
            None => (".", path),
        };
        if name.is_empty() || name == "." || name == ".." {
            return self.cwd.join(path).metadata().is_ok();
        }
        let mut dirs = self.dirs.borrow_mut();
        let entries = dirs
            .entry(dir.to_string())
            .or_insert_with(|| list(&self.cwd.join(dir)));
        entries.as_ref().is_some_and(|e| e.contains(name))
    }
}

/// Words separated by blanks, a `$(...)`/`${...}` reference kept whole
/// (make's `get_next_word`).
fn make_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' if depth == 0 => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            '$' if matches!(chars.peek(), Some('(' | '{')) => {
                word.push(c);
                word.push(chars.next().unwrap_or('('));
                depth += 1;
                continue;
            }
            '(' | '{' if depth > 0 => depth += 1,
            ')' | '}' if depth > 0 => depth -= 1,
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The first `%` as `$*` (or `$(*F)` when the file's directory was set
/// aside), so that the stem is not expanded again.
fn fill_with_stem_variable(word: &str, set_aside: bool) -> String {
    let stem = if set_aside { "$(*F)" } else { "$*" };
    word.replacen('%', stem, 1)
}

/// A directory's entry names, None when it cannot be read.
fn list(dir: &Path) -> Option<HashSet<String>> {
    let entries = std::fs::read_dir(dir).ok()?;
    Some(
        entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
    )
}

#[cfg(test)]
#[path = "implicit_test.rs"]
mod tests;
