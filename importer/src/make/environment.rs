//! The environment make gives a target's recipe, so that the imported
//! command runs in the same one.
//!
//! make's database does not say which variables are exported, so make is
//! asked: the import goal's recipe (`invoke.rs`) prints the environment
//! make built for it (`env -0` between two marker lines). That is every
//! exported global variable with its value, and a probe variable, specific
//! to the goal, that is there only when make exports every variable
//! (`export` alone, `.EXPORT_ALL_VARIABLES`). A target's environment then
//! follows make's rules (`target_environment`): its target- and
//! pattern-specific variables are exported when written with `export`,
//! when the global variable of that name is, or when all are; recursive
//! values are expanded for the target. The command starts with what
//! differs from ggninja's own environment (`export A='x' && unset B && `).
//! `MAKELEVEL`, one more than the top make's level, is every command's
//! (`every_recipe`: set in the commands' environment, not on each command
//! line); a sub-make's commands set theirs.
//! Ignores make's other variables (MAKEFLAGS, MFLAGS, the terminal ones:
//! they describe make's invocation, not the makefile) and those the shell
//! maintains itself (PWD, SHLVL, ...).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use super::db::{Exported, Flavor, Origin, Variable};
use super::expand::{Binding, ExpandError, Expander};

/// The line around the environment in the import goal's output.
const MARK: &str = "@ggninja-environment@";

/// Target-specific to the import goal: exported only when all variables are.
const EXPORT_ALL_PROBE: &str = "GGNINJA_EXPORT_ALL_PROBE";

/// Names whose value is make's or the shell's business, never compared.
const IGNORED: &[&str] = &[
    "MAKEFLAGS",
    "MFLAGS",
    "MAKE_TERMOUT",
    "MAKE_TERMERR",
    "PWD",
    "OLDPWD",
    "SHLVL",
    "_",
    EXPORT_ALL_PROBE,
];

/// The import goal's `SHELL`: `/bin/sh` spelled as no environment has it,
/// so that it shows in the environment only when `SHELL` is exported.
const PROBE_SHELL: &str = "/bin//sh";

/// The `--eval` texts that make the import goal print its environment.
/// Its recipe runs in `/bin/sh` whatever the makefile's `SHELL`.
pub fn probe(goal: &str) -> Vec<String> {
    vec![
        format!("{goal}: SHELL := {PROBE_SHELL}"),
        format!("{goal}: .SHELLFLAGS := -c"),
        format!("{goal}: {EXPORT_ALL_PROBE} := 1"),
        format!("{goal}: ; @echo {MARK}; {} -0; echo {MARK}", env_program()),
    ]
}

/// `env` by its path where it is: the makefile may change `PATH`.
fn env_program() -> &'static str {
    ["/usr/bin/env", "/bin/env"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("env")
}

/// Takes the printed environment out of what make printed before its
/// database.
pub fn split(printed: &str) -> (String, Option<Exported>) {
    let mark = format!("{MARK}\n");
    let start = if printed.starts_with(&mark) {
        Some(0)
    } else {
        printed.find(&format!("\n{mark}")).map(|i| i + 1)
    };
    let Some(start) = start else {
        return (printed.to_string(), None);
    };
    let body_at = start + mark.len();
    let Some(len) = printed[body_at..].find(&mark) else {
        return (printed.to_string(), None);
    };
    let mut vars: BTreeMap<String, String> = printed[body_at..body_at + len]
        .split('\0')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let export_all = vars.remove(EXPORT_ALL_PROBE).is_some();
    // The goal's own SHELL shows only when SHELL is exported.
    let shell = vars.get("SHELL").map(String::as_str) == Some(PROBE_SHELL);
    let rest = format!(
        "{}{}",
        &printed[..start],
        &printed[body_at + len + mark.len()..]
    );
    let exported = Exported {
        vars,
        export_all,
        shell,
    };
    (rest, Some(exported))
}

/// What make gives every recipe whatever the makefile says, when the
/// environment make built is known: `MAKELEVEL`, its own level plus one.
pub fn every_recipe(exported: Option<&Exported>) -> Vec<(String, String)> {
    let level = exported.and_then(|e| e.vars.get("MAKELEVEL"));
    level
        .map(|l| ("MAKELEVEL".to_string(), l.clone()))
        .into_iter()
        .collect()
}

/// The environment make gives the recipe of the target `ex` expands for:
/// `bindings` are its target-specific variables (innermost first), and
/// `keyword` says whether one was written with `export`.
pub fn for_target(
    ex: &mut Expander,
    exported: &Exported,
    bindings: &[Binding],
    keyword: &mut dyn FnMut(&str, &Variable) -> bool,
) -> Result<BTreeMap<String, String>, ExpandError> {
    let globals = ex.scope.globals;
    let mut env = BTreeMap::new();
    for (name, value) in &exported.vars {
        let value = match globals.get(name.as_str()) {
            Some(_) if name == "SHELL" && exported.shell => ex.variable(name)?,
            Some(var) if name != "SHELL" && expands_per_target(var) => ex.variable(name)?,
            _ => value.clone(),
        };
        env.insert(name.clone(), value);
    }
    let mut seen = Vec::new();
    for b in bindings {
        if seen.contains(&b.name) {
            continue;
        }
        let written = keyword(b.name, b.var);
        if b.name == "SHELL" && !written && !exported.shell {
            continue; // make passes the SHELL it was started with
        }
        let by_global = globals.contains_key(b.name) && exported.vars.contains_key(b.name);
        if written || by_global || (exported.export_all && exportable(b.name)) {
            seen.push(b.name);
            env.insert(b.name.to_string(), ex.variable(b.name)?);
        }
    }
    Ok(env)
}

/// A recursive makefile value is expanded again for each target (it may
/// name the target's own variables); what came from the environment goes
/// back unchanged, as in make.
fn expands_per_target(var: &Variable) -> bool {
    var.flavor != Flavor::Simple
        && var.value.contains('$')
        && !matches!(
            var.origin,
            Origin::Environment | Origin::EnvironmentOverride
        )
}

/// make exports by default only names a shell could use.
fn exportable(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// How `env` differs from `current`, on top of `inherited` (what the make
/// was started with, beyond ggninja's environment): names to set (`Some`)
/// or remove. A variable make took from its environment goes back as it
/// came (make ran with `LC_ALL=C`; the build does not). Only names make
/// knows (`globals`) are removed: one that appeared in the environment
/// since make read the makefiles is one make would pass on.
pub fn difference(
    env: &BTreeMap<String, String>,
    current: &BTreeMap<String, String>,
    globals: &HashMap<String, Variable>,
    inherited: &[(String, Option<String>)],
) -> Vec<(String, Option<String>)> {
    let compared = |k: &String| !IGNORED.contains(&k.as_str()) && exportable(k);
    // Still the value make found in its environment.
    let as_it_came = |k: &String, value: &String| {
        globals.get(k).is_some_and(|v| {
            matches!(v.origin, Origin::Environment | Origin::EnvironmentOverride)
                && v.value == *value
        })
    };
    let mut out: BTreeMap<String, Option<String>> = inherited.iter().cloned().collect();
    for (k, v) in env {
        if compared(k) && !as_it_came(k, v) && current.get(k) != Some(v) {
            out.insert(k.clone(), Some(v.clone()));
        }
    }
    for k in current.keys().chain(inherited.iter().map(|(k, _)| k)) {
        if compared(k) && !env.contains_key(k) && globals.contains_key(k) {
            out.insert(k.clone(), None);
        }
    }
    out.into_iter().collect()
}

/// The shell text that applies `diff` before a command.
pub fn prefix(diff: &[(String, Option<String>)]) -> String {
    let set: Vec<String> = diff
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", quote(v))))
        .collect();
    let unset: Vec<&str> = diff
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.as_str())
        .collect();
    let mut out = String::new();
    if !set.is_empty() {
        out.push_str(&format!("export {} && ", set.join(" ")));
    }
    if !unset.is_empty() {
        out.push_str(&format!("unset {} && ", unset.join(" ")));
    }
    out
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
#[path = "environment_test.rs"]
mod tests;
