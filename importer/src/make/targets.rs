//! Which rule makes each file the goals need, as make would decide it.
//!
//! From the goals, prerequisites first-come: a file with a recipe of its
//! own (or double-colon rules) uses it; a phony one never searches; any
//! other gets make's implicit rule search; a target without a recipe
//! (`all: prog`) only gathers its prerequisites; what is left is a source.
//! Each file also remembers the target that first needed it, because
//! target-specific variables pass down to prerequisites as make's do.
//! Ignores recipes' text: `import.rs` expands them.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::db::{Database, FileEntry, Location, Recipe};
use super::implicit::{Found, Search};

/// How one file is made.
#[derive(Debug, Clone)]
pub enum Making<'a> {
    /// Its own recipe (one entry; double-colon targets have several).
    Explicit(Vec<&'a FileEntry>),
    /// A pattern rule found for it.
    Pattern(Box<Found>),
    /// A target without a recipe: done once its prerequisites are.
    Group,
}

/// A file the goals need and that something makes.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub name: String,
    /// Its `# Files` entries (target-specific variables live there).
    pub entries: Vec<&'a FileEntry>,
    pub making: Making<'a>,
    pub prereqs: Vec<String>,
    pub order_only: Vec<String>,
    pub stem: String,
    pub also_makes: Vec<String>,
    /// The target that first needed this one (variables pass down).
    pub parent: Option<usize>,
    /// `.PHONY`: its recipe runs whenever it is needed.
    pub phony: bool,
}

impl Target<'_> {
    pub fn recipe<'d>(&'d self, db: &'d Database) -> Vec<&'d Recipe> {
        match &self.making {
            Making::Explicit(entries) => entries.iter().filter_map(|e| e.recipe.as_ref()).collect(),
            Making::Pattern(found) => db.rules[found.rule].recipe.iter().collect(),
            Making::Group => Vec::new(),
        }
    }

    pub fn location(&self, db: &Database) -> Option<Location> {
        self.recipe(db).first().and_then(|r| r.from.clone())
    }
}

/// The targets the goals need, in the order first reached.
pub struct Plan<'a> {
    pub targets: Vec<Target<'a>>,
    pub index: HashMap<String, usize>,
}

pub fn plan<'a>(db: &'a Database, search: &Search, goals: &[String]) -> Plan<'a> {
    let mut entries: HashMap<&str, Vec<&FileEntry>> = HashMap::default();
    for f in &db.files {
        entries.entry(f.name.as_str()).or_default().push(f);
    }
    let phony: HashSet<String> = entries
        .get(".PHONY")
        .into_iter()
        .flatten()
        .flat_map(|e| e.prereqs.iter().cloned())
        .chain(db.files.iter().filter(|f| f.phony).map(|f| f.name.clone()))
        .collect();
    let suffixes: Vec<String> = entries
        .get(".SUFFIXES")
        .into_iter()
        .flatten()
        .flat_map(|e| e.prereqs.iter().cloned())
        .collect();
    let mut walk = Walk {
        entries,
        search,
        phony: &phony,
        suffixes,
        plan: Plan {
            targets: Vec::new(),
            index: HashMap::default(),
        },
        seen: HashSet::default(),
    };
    for goal in goals {
        walk.visit(goal, None);
    }
    walk.plan
}

struct Walk<'a, 's> {
    entries: HashMap<&'a str, Vec<&'a FileEntry>>,
    search: &'s Search<'s>,
    phony: &'s HashSet<String>,
    suffixes: Vec<String>,
    plan: Plan<'a>,
    seen: HashSet<String>,
}

impl<'a> Walk<'a, '_> {
    fn visit(&mut self, name: &str, parent: Option<usize>) {
        if !self.seen.insert(name.to_string()) {
            return;
        }
        if let Some(target) = self.resolve(name, parent) {
            self.add(target);
        }
    }

    /// A chain's middle file, made by the rule the search found for it.
    fn add_intermediate(&mut self, name: String, found: Found, parent: usize) {
        if self.seen.insert(name.clone()) {
            self.add(pattern_target(
                name,
                Vec::new(),
                found,
                &[],
                &[],
                Some(parent),
            ));
        }
    }

    /// Records `target`, then what it needs: a chain's middle files, its
    /// prerequisites.
    fn add(&mut self, mut target: Target<'a>) {
        target.phony = self.phony.contains(&target.name);
        let intermediates = match &target.making {
            Making::Pattern(found) => found.intermediates.clone(),
            _ => Vec::new(),
        };
        let prereqs: Vec<String> = target
            .prereqs
            .iter()
            .chain(&target.order_only)
            .cloned()
            .collect();
        let at = self.plan.targets.len();
        self.plan.index.insert(target.name.clone(), at);
        self.plan.targets.push(target);
        for (file, found) in intermediates {
            self.add_intermediate(file, found, at);
        }
        for p in prereqs {
            self.visit(&p, Some(at));
        }
    }

    fn resolve(&self, name: &str, parent: Option<usize>) -> Option<Target<'a>> {
        let entries = self.entries.get(name).cloned().unwrap_or_default();
        // make drops a file's dependency on itself ("Circular d <- d").
        let prereqs: Vec<String> = entries
            .iter()
            .flat_map(|e| e.prereqs.iter().cloned())
            .filter(|p| p != name)
            .collect();
        // A prerequisite named both ways is a normal one (make drops it
        // from `$|`).
        let order_only: Vec<String> = entries
            .iter()
            .flat_map(|e| e.order_only.iter().cloned())
            .filter(|o| !prereqs.contains(o))
            .collect();
        let is_target = entries.iter().any(|e| e.is_target);
        if entries.iter().any(|e| e.recipe.is_some()) {
            let stem = entries
                .iter()
                .find_map(|e| e.stem.clone())
                .unwrap_or_else(|| self.suffix_stem(name));
            let also_makes = entries
                .iter()
                .flat_map(|e| e.also_makes.iter().cloned())
                .collect();
            let making = Making::Explicit(
                entries
                    .iter()
                    .filter(|e| e.recipe.is_some())
                    .copied()
                    .collect(),
            );
            return Some(Target {
                name: name.to_string(),
                entries,
                making,
                prereqs,
                order_only,
                stem,
                also_makes,
                parent,
                phony: false,
            });
        }
        if !self.phony.contains(name) {
            if let Some(found) = self.search.find(name, &prereqs) {
                let target = pattern_target(
                    name.to_string(),
                    entries,
                    found,
                    &prereqs,
                    &order_only,
                    parent,
                );
                return Some(target);
            }
        }
        if !is_target && prereqs.is_empty() && !self.search.exists(name) {
            if let Some(default) = self.default_rule() {
                // `.DEFAULT`'s recipe makes what nothing else can.
                return Some(Target {
                    name: name.to_string(),
                    entries: Vec::new(),
                    making: Making::Explicit(vec![default]),
                    prereqs,
                    order_only,
                    stem: String::new(),
                    also_makes: Vec::new(),
                    parent,
                    phony: false,
                });
            }
        }
        (is_target || !prereqs.is_empty() || !order_only.is_empty()).then(|| Target {
            name: name.to_string(),
            entries,
            making: Making::Group,
            prereqs,
            order_only,
            stem: String::new(),
            also_makes: Vec::new(),
            parent,
            phony: false,
        })
    }

    /// `.DEFAULT`, when it has a recipe.
    fn default_rule(&self) -> Option<&'a FileEntry> {
        self.entries
            .get(".DEFAULT")?
            .iter()
            .copied()
            .find(|e| e.recipe.is_some())
    }

    /// `$*` of an explicit rule: the name less a known suffix, if any.
    fn suffix_stem(&self, name: &str) -> String {
        self.suffixes
            .iter()
            .find_map(|s| name.strip_suffix(s.as_str()).filter(|b| !b.is_empty()))
            .unwrap_or("")
            .to_string()
    }
}

/// A file made by a pattern rule: the rule's prerequisites first, then the
/// file's own (make puts the found ones in front).
fn pattern_target<'a>(
    name: String,
    entries: Vec<&'a FileEntry>,
    found: Found,
    prereqs: &[String],
    order_only: &[String],
    parent: Option<usize>,
) -> Target<'a> {
    let all = found.prereqs.iter().chain(prereqs).cloned().collect();
    let oo = found.order_only.iter().chain(order_only).cloned().collect();
    Target {
        name,
        entries,
        stem: found.stem.clone(),
        also_makes: found.also_makes.clone(),
        prereqs: all,
        order_only: oo,
        making: Making::Pattern(Box::new(found)),
        parent,
        phony: false,
    }
}
