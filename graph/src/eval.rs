//! Variable scopes and the strings that refer to them (`$var`, `${var}`).

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

/// One piece of an unevaluated string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Part {
    Literal(String),
    Var(String),
}

/// A string with `$variable` references, as written in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalString {
    pub parts: Vec<Part>,
}

impl EvalString {
    pub fn push_literal(&mut self, s: &str) {
        if let Some(Part::Literal(last)) = self.parts.last_mut() {
            last.push_str(s);
        } else {
            self.parts.push(Part::Literal(s.to_string()));
        }
    }

    pub fn push_var(&mut self, name: &str) {
        self.parts.push(Part::Var(name.to_string()));
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Evaluates against `lookup`, which resolves one variable name.
    pub fn evaluate_with<'s, E>(
        &'s self,
        mut lookup: impl FnMut(&'s str) -> Result<String, E>,
    ) -> Result<String, E> {
        if let [Part::Literal(s)] = self.parts.as_slice() {
            return Ok(s.clone());
        }
        // Sized up front: growing the string showed up in build profiles.
        let guess: usize = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Literal(s) => s.len(),
                Part::Var(_) => 32,
            })
            .sum();
        let mut out = String::with_capacity(guess);
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Var(v) => out.push_str(&lookup(v)?),
            }
        }
        Ok(out)
    }

    /// The string as it would be written back into a manifest, for `-t rules`-like output.
    pub fn serialize(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Var(v) => {
                    out.push_str("${");
                    out.push_str(v);
                    out.push('}');
                }
            }
        }
        out
    }
}

pub type ScopeId = usize;
pub type RuleId = usize;

/// A file scope: the top manifest, or one `subninja`. `include` shares its parent's.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Scope {
    pub parent: Option<ScopeId>,
    pub vars: HashMap<String, String>,
    pub rules: HashMap<String, RuleId>,
}

/// A `rule` block. Its bindings stay unevaluated until an edge asks for them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub bindings: HashMap<String, EvalString>,
}

impl Rule {
    pub fn is_phony(&self) -> bool {
        self.name == "phony"
    }
}

/// The keys a rule may bind; anything else is an error, as in ninja.
pub const RULE_KEYS: &[&str] = &[
    "command",
    "depfile",
    "dyndep",
    "description",
    "deps",
    "generator",
    "pool",
    "restat",
    "rspfile",
    "rspfile_content",
    "msvc_deps_prefix",
];

/// All scopes of a loaded manifest.
#[derive(Debug, Serialize, Deserialize)]
pub struct Scopes {
    pub scopes: Vec<Scope>,
    pub rules: Vec<Rule>,
}

pub const ROOT_SCOPE: ScopeId = 0;
pub const PHONY_RULE: RuleId = 0;

impl Default for Scopes {
    fn default() -> Self {
        let mut root = Scope::default();
        root.rules.insert("phony".to_string(), PHONY_RULE);
        Scopes {
            scopes: vec![root],
            rules: vec![Rule {
                name: "phony".to_string(),
                bindings: HashMap::default(),
            }],
        }
    }
}

impl Scopes {
    pub fn new_child(&mut self, parent: ScopeId) -> ScopeId {
        self.scopes.push(Scope {
            parent: Some(parent),
            ..Scope::default()
        });
        self.scopes.len() - 1
    }

    /// Looks `name` up in `scope` and its parents; unset variables are empty.
    pub fn lookup(&self, mut scope: ScopeId, name: &str) -> Option<&str> {
        loop {
            let s = &self.scopes[scope];
            if let Some(v) = s.vars.get(name) {
                return Some(v);
            }
            scope = s.parent?;
        }
    }

    pub fn find_rule(&self, mut scope: ScopeId, name: &str) -> Option<RuleId> {
        loop {
            let s = &self.scopes[scope];
            if let Some(&r) = s.rules.get(name) {
                return Some(r);
            }
            scope = s.parent?;
        }
    }

    /// Evaluates `s` in `scope` as it stands now (used while parsing).
    pub fn evaluate(&self, scope: ScopeId, s: &EvalString) -> String {
        s.evaluate_with::<()>(|v| Ok(self.lookup(scope, v).unwrap_or("").to_string()))
            .unwrap_or_default()
    }
}

/// Appends `path` to `out`, quoted for a POSIX shell only when it needs it.
pub fn shell_escape(path: &str, out: &mut String) {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.' | '/');
    if path.chars().all(safe) {
        out.push_str(path);
        return;
    }
    out.push('\'');
    for c in path.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_escaping_matches_ninja() {
        let esc = |s| {
            let mut o = String::new();
            shell_escape(s, &mut o);
            o
        };
        assert_eq!(esc("foo/bar.c"), "foo/bar.c");
        assert_eq!(esc("with space"), "'with space'");
        assert_eq!(esc("it's"), "'it'\\''s'");
    }
}
