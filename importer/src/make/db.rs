//! GNU make's database, as `make -p` prints it, held as data.
//!
//! Only what printing keeps: make prints variables unexpanded (recursive
//! ones) or already expanded (simple ones), pattern rules in the order make
//! tries them, and every file it knows in hash order. Ignores what make
//! prints only for its own debugging (hash-table statistics, directory
//! caches, modification times it happened to check).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

/// Where make read something: `(from 'Makefile', line 12)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// How a variable's value is used when it is referenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `=` (and `define`): expanded at each reference.
    Recursive,
    /// `:=`: expanded once, when defined; the dump prints the result.
    Simple,
    /// A target-specific `+=`: appended, at use, to the value the target
    /// would otherwise see (its parent's or the global one).
    Append,
}

/// The `# default`, `# makefile`, ... comment above each variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Default,
    Environment,
    EnvironmentOverride,
    Makefile,
    CommandLine,
    Override,
    Automatic,
}

impl Origin {
    /// `$(origin VAR)`'s answer.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Default => "default",
            Origin::Environment => "environment",
            Origin::EnvironmentOverride => "environment override",
            Origin::Makefile => "file",
            Origin::CommandLine => "command line",
            Origin::Override => "override",
            Origin::Automatic => "automatic",
        }
    }

    /// make's order of strength (`enum variable_origin`): a definition
    /// does not replace one from a stronger origin.
    pub fn strength(self) -> u8 {
        match self {
            Origin::Default => 0,
            Origin::Environment => 1,
            Origin::Makefile => 2,
            Origin::EnvironmentOverride => 3,
            Origin::CommandLine => 4,
            Origin::Override => 5,
            Origin::Automatic => 6,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub flavor: Flavor,
    /// Unexpanded for `Recursive`/`Append`, the expanded text for `Simple`.
    pub value: String,
    pub origin: Origin,
    pub private: bool,
    pub from: Option<Location>,
}

/// A recipe: logical lines (backslash-newlines kept), without the prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipe {
    pub lines: Vec<String>,
    /// `None` for make's built-in rules.
    pub from: Option<Location>,
    /// The recipe prefix it was read with (`.RECIPEPREFIX`, a tab).
    pub prefix: char,
}

/// `%.o: %.c` and friends, in the order make tries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternRule {
    pub targets: Vec<String>,
    pub prereqs: Vec<String>,
    pub order_only: Vec<String>,
    /// `%:: RCS/%,v`: never the middle of a chain.
    pub terminal: bool,
    pub recipe: Option<Recipe>,
}

/// `pattern : VAR = value` under `# Pattern-specific Variable Values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternVar {
    pub pattern: String,
    pub name: String,
    /// make 4.3 prints every pattern-specific value as if simple (`:=`,
    /// dollars doubled), whatever its operator: `Simple` here only means
    /// "as printed"; the importer reads the operator from the makefile.
    pub var: Variable,
}

/// One entry of `# Files`: a target, a prerequisite, or a special target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileEntry {
    pub name: String,
    /// `t::`; a double-colon target has one entry per rule, in makefile order.
    pub double_colon: bool,
    pub prereqs: Vec<String>,
    pub order_only: Vec<String>,
    /// False for `# Not a target:` (only ever named as a prerequisite).
    pub is_target: bool,
    pub phony: bool,
    pub precious: bool,
    pub intermediate: bool,
    pub builtin: bool,
    /// make looked for it and found nothing (`#  File does not exist.`):
    /// while it only reads makefiles, an `-include`d one or what remaking
    /// one needs.
    pub absent: bool,
    /// `#  Implicit/static pattern stem: 'x'` (static pattern rules).
    pub stem: Option<String>,
    pub also_makes: Vec<String>,
    /// Target-specific variables, in the order printed.
    pub vars: Vec<(String, Variable)>,
    pub recipe: Option<Recipe>,
}

/// `vpath PATTERN DIRS` and `VPATH`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPaths {
    pub vpath: Vec<(String, Vec<String>)>,
    pub general: Vec<String>,
}

/// The environment make built for the import goal's recipe
/// (`environment.rs` reads it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exported {
    /// Every exported global variable, as make passed it.
    pub vars: BTreeMap<String, String>,
    /// `export` alone or `.EXPORT_ALL_VARIABLES`.
    pub export_all: bool,
    /// `export SHELL` (make otherwise passes the SHELL it was started with).
    pub shell: bool,
}

/// One make process's database.
#[derive(Debug, Clone, Default)]
pub struct Database {
    /// The directory make printed it in, when the dump says (a sub-make's
    /// `make[1]: Entering directory '...'`).
    pub directory: Option<String>,
    /// The make level: 0 for the top-level make, 1 for its sub-makes, ...
    pub level: u32,
    pub variables: HashMap<String, Variable>,
    pub pattern_vars: Vec<PatternVar>,
    pub rules: Vec<PatternRule>,
    /// Entries in the dump's order (hash order, not makefile order);
    /// double-colon rules of one target stay together, in makefile order.
    pub files: Vec<FileEntry>,
    pub search: SearchPaths,
    /// The environment make gave the import goal's recipe: not part of
    /// the database, printed before it (`environment.rs`); None for a
    /// saved dump.
    pub exported: Option<Exported>,
}

impl Database {
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.get(name)
    }
}
