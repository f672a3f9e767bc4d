//! make's built-in functions, as GNU make 4.3 evaluates them in a recipe.
//!
//! Arguments split at top-level commas up to the function's largest count
//! (the last takes the rest, commas and all); most are expanded first,
//! while `if`, `or`, `and` and `foreach` expand only what they use.
//! `$(eval)`, `$(file)` and `$(guile)` change or read make's own state and
//! are refused (an error naming them), as `expand.rs` refuses `$?`.

use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use super::expand::{ExpandError, Expander, Message};
use super::pattern::{substitute, Pattern};

/// (name, least, most arguments; 0 = no limit).
const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("subst", 3, 3),
    ("patsubst", 3, 3),
    ("strip", 1, 1),
    ("findstring", 2, 2),
    ("filter", 2, 2),
    ("filter-out", 2, 2),
    ("sort", 1, 1),
    ("word", 2, 2),
    ("wordlist", 3, 3),
    ("words", 1, 1),
    ("firstword", 1, 1),
    ("lastword", 1, 1),
    ("dir", 1, 1),
    ("notdir", 1, 1),
    ("suffix", 1, 1),
    ("basename", 1, 1),
    ("addsuffix", 2, 2),
    ("addprefix", 2, 2),
    ("join", 2, 2),
    ("wildcard", 1, 1),
    ("realpath", 1, 1),
    ("abspath", 1, 1),
    ("if", 2, 3),
    ("or", 1, 0),
    ("and", 1, 0),
    ("foreach", 3, 3),
    ("call", 1, 0),
    ("value", 1, 1),
    ("origin", 1, 1),
    ("flavor", 1, 1),
    ("error", 1, 1),
    ("warning", 1, 1),
    ("info", 1, 1),
    ("shell", 1, 1),
    ("eval", 1, 1),
    ("file", 1, 2),
    ("guile", 1, 1),
];

pub fn is_function(name: &str) -> bool {
    FUNCTIONS.iter().any(|(n, _, _)| *n == name)
}

/// Calls function `name` on its unexpanded argument text.
pub fn call(ex: &mut Expander, name: &str, text: &str) -> Result<String, ExpandError> {
    let &(_, least, most) = FUNCTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .expect("known");
    let args = split_args(text, most);
    if args.len() < least {
        return Err(ExpandError::Arguments {
            function: name.to_string(),
            given: args.len(),
        });
    }
    match name {
        "if" => lazy_if(ex, &args),
        "or" => lazy_or(ex, &args),
        "and" => lazy_and(ex, &args),
        "foreach" => foreach(ex, &args),
        "eval" | "file" | "guile" => Err(ExpandError::Unsupported(format!("'$({name} ...)'"))),
        _ => {
            let values = args
                .iter()
                .map(|a| ex.expand(a))
                .collect::<Result<Vec<_>, _>>()?;
            eager(ex, name, &values)
        }
    }
}

/// Top-level commas split; nested `(...)`/`{...}` do not.
fn split_args(text: &str, most: usize) -> Vec<&str> {
    let mut args = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 && (most == 0 || args.len() + 1 < most) => {
                args.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    args.push(&text[start..]);
    args
}

fn eager(ex: &mut Expander, name: &str, a: &[String]) -> Result<String, ExpandError> {
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    Ok(match name {
        "subst" => a[2].replace(a[0].as_str(), &a[1]),
        "patsubst" => substitute_all(&a[2], &a[0], &a[1]),
        "strip" => words(&a[0]).join(" "),
        "findstring" => {
            if a[1].contains(a[0].as_str()) {
                a[0].clone()
            } else {
                String::new()
            }
        }
        "filter" => filter(&a[0], &a[1], true),
        "filter-out" => filter(&a[0], &a[1], false),
        "sort" => {
            let mut w = words(&a[0]);
            w.sort();
            w.dedup();
            w.join(" ")
        }
        "word" => {
            let n = positive(&a[0], "word")?;
            words(&a[1]).get(n - 1).cloned().unwrap_or_default()
        }
        "wordlist" => wordlist(&a[0], &a[1], &a[2])?,
        "words" => words(&a[0]).len().to_string(),
        "firstword" => words(&a[0]).first().cloned().unwrap_or_default(),
        "lastword" => words(&a[0]).last().cloned().unwrap_or_default(),
        "dir" => map_words(&a[0], |w| match w.rfind('/') {
            Some(i) => w[..=i].to_string(),
            None => "./".to_string(),
        }),
        "notdir" => map_words(&a[0], |w| w.rsplit('/').next().unwrap_or(w).to_string()),
        "suffix" => filter_map_words(&a[0], |w| suffix_at(w).map(|i| w[i..].to_string())),
        "basename" => map_words(&a[0], |w| w[..suffix_at(w).unwrap_or(w.len())].to_string()),
        "addsuffix" => map_words(&a[1], |w| format!("{w}{}", a[0])),
        "addprefix" => map_words(&a[1], |w| format!("{}{w}", a[0])),
        "join" => join(&a[0], &a[1]),
        "wildcard" => super::wildcard::wildcard(ex.scope.cwd, &a[0]),
        "realpath" => filter_map_words(&a[0], |w| realpath(ex.scope.cwd, w)),
        "abspath" => map_words(&a[0], |w| abspath(ex.scope.cwd, w)),
        "call" => call_user(ex, a)?,
        "value" => ex
            .definition(a[0].trim())
            .map(|v| v.value.clone())
            .unwrap_or_default(),
        "origin" => origin(ex, a[0].trim()),
        "flavor" => flavor(ex, a[0].trim()),
        "error" => return Err(ExpandError::Error(a[0].clone())),
        "warning" => {
            ex.messages.push(Message::Warning(a[0].clone()));
            String::new()
        }
        "info" => {
            ex.messages.push(Message::Info(a[0].clone()));
            String::new()
        }
        "shell" => shell(ex, &a[0])?,
        _ => unreachable!("every function is handled"),
    })
}

fn map_words(text: &str, f: impl Fn(&str) -> String) -> String {
    text.split_whitespace().map(f).collect::<Vec<_>>().join(" ")
}

fn filter_map_words(text: &str, f: impl Fn(&str) -> Option<String>) -> String {
    text.split_whitespace()
        .filter_map(f)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a word's suffix starts: its last `.` after its last `/`.
fn suffix_at(word: &str) -> Option<usize> {
    let dot = word.rfind('.')?;
    (word[dot..].find('/').is_none()).then_some(dot)
}

/// `$(patsubst)` over every word (whitespace collapsed, as make does).
pub fn substitute_all(text: &str, from: &str, to: &str) -> String {
    let (from, to) = (Pattern::new(from), Pattern::new(to));
    map_words(text, |w| substitute(&from, &to, w))
}

/// `$(var:a=b)`: a `%` makes it `patsubst`, else `a` is a suffix.
pub fn substitute_words(text: &str, from: &str, to: &str) -> String {
    if from.contains('%') {
        return substitute_all(text, from, to);
    }
    map_words(text, |w| match w.strip_suffix(from) {
        Some(base) => format!("{base}{to}"),
        None => w.to_string(),
    })
}

fn filter(patterns: &str, text: &str, keep: bool) -> String {
    let patterns: Vec<Pattern> = patterns.split_whitespace().map(Pattern::new).collect();
    text.split_whitespace()
        .filter(|w| patterns.iter().any(|p| p.matches(w)) == keep)
        .collect::<Vec<_>>()
        .join(" ")
}

fn positive(text: &str, function: &str) -> Result<usize, ExpandError> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        Ok(_) => Err(ExpandError::Function(format!(
            "first argument to '{function}' function must be greater than 0"
        ))),
        Err(_) => Err(ExpandError::Function(format!(
            "non-numeric first argument to '{function}' function: '{}'",
            text.trim()
        ))),
    }
}

fn wordlist(start: &str, end: &str, text: &str) -> Result<String, ExpandError> {
    let s = positive(start, "wordlist")?;
    let e: usize = end.trim().parse().map_err(|_| {
        ExpandError::Function(format!(
            "non-numeric second argument to 'wordlist' function: '{}'",
            end.trim()
        ))
    })?;
    let words: Vec<&str> = text.split_whitespace().collect();
    if e < s || s > words.len() {
        return Ok(String::new());
    }
    Ok(words[s - 1..e.min(words.len())].join(" "))
}

fn join(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (
        a.split_whitespace().collect(),
        b.split_whitespace().collect(),
    );
    (0..a.len().max(b.len()))
        .map(|i| format!("{}{}", a.get(i).unwrap_or(&""), b.get(i).unwrap_or(&"")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn realpath(cwd: &Path, word: &str) -> Option<String> {
    let path = std::fs::canonicalize(cwd.join(word)).ok()?;
    path.to_str().map(str::to_string)
}

/// Absolute and without `.`/`..`, lexically (symlinks are not followed).
fn abspath(cwd: &Path, word: &str) -> String {
    let mut out = PathBuf::from("/");
    for c in cwd.join(word).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out.to_string_lossy().into_owned()
}

fn lazy_if(ex: &mut Expander, args: &[&str]) -> Result<String, ExpandError> {
    let condition = ex.expand(args[0].trim())?;
    if !condition.trim().is_empty() {
        ex.expand(args[1])
    } else if let Some(otherwise) = args.get(2) {
        ex.expand(otherwise)
    } else {
        Ok(String::new())
    }
}

fn lazy_or(ex: &mut Expander, args: &[&str]) -> Result<String, ExpandError> {
    for a in args {
        let v = ex.expand(a.trim())?;
        if !v.is_empty() {
            return Ok(v);
        }
    }
    Ok(String::new())
}

fn lazy_and(ex: &mut Expander, args: &[&str]) -> Result<String, ExpandError> {
    let mut last = String::new();
    for a in args {
        last = ex.expand(a.trim())?;
        if last.is_empty() {
            return Ok(last);
        }
    }
    Ok(last)
}

fn foreach(ex: &mut Expander, args: &[&str]) -> Result<String, ExpandError> {
    let var = ex.expand(args[0])?.trim().to_string();
    let list = ex.expand(args[1])?;
    let mut out = Vec::new();
    for word in list.split_whitespace() {
        ex.locals.push((var.clone(), word.to_string()));
        let value = ex.expand(args[2]);
        ex.locals.pop();
        out.push(value?);
    }
    Ok(out.join(" "))
}

/// `$(call var,a,b)`: `var`'s raw value expanded with `$(1)`, `$(2)`, ...
fn call_user(ex: &mut Expander, a: &[String]) -> Result<String, ExpandError> {
    let name = a[0].trim();
    if is_function(name) {
        let text = a[1..].join(",");
        return call(ex, name, &text);
    }
    let Some(var) = ex.definition(name) else {
        return Ok(String::new());
    };
    let body = var.value.clone();
    let simple = var.flavor == super::db::Flavor::Simple;
    let depth = ex.locals.len();
    ex.locals.push(("0".to_string(), name.to_string()));
    for (i, arg) in a[1..].iter().enumerate() {
        ex.locals.push(((i + 1).to_string(), arg.clone()));
    }
    // An outer call's higher-numbered arguments are not visible: make
    // defines them empty for the inner call.
    let outer = ex.locals[..depth]
        .iter()
        .filter_map(|(n, _)| n.parse::<usize>().ok())
        .max()
        .unwrap_or(0);
    for i in a.len()..=outer {
        ex.locals.push((i.to_string(), String::new()));
    }
    let value = if simple { Ok(body) } else { ex.expand(&body) };
    ex.locals.truncate(depth);
    value
}

fn origin(ex: &Expander, name: &str) -> String {
    if ex.is_automatic_or_local(name) {
        return "automatic".to_string();
    }
    match ex.definition(name) {
        Some(v) => v.origin.name().to_string(),
        None => "undefined".to_string(),
    }
}

fn flavor(ex: &Expander, name: &str) -> String {
    match ex.definition(name).map(|v| v.flavor) {
        None => "undefined",
        Some(super::db::Flavor::Simple) => "simple",
        Some(_) => "recursive",
    }
    .to_string()
}

/// `$(shell cmd)`: run by make's `SHELL` in make's directory; newlines
/// become spaces and trailing ones go.
fn shell(ex: &mut Expander, command: &str) -> Result<String, ExpandError> {
    let program = ex.variable("SHELL")?;
    let program = if program.trim().is_empty() {
        "/bin/sh".to_string()
    } else {
        program
    };
    let output = Command::new(program.trim())
        .arg("-c")
        .arg(command)
        .current_dir(ex.scope.cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| ExpandError::Function(format!("$(shell {command}): {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.trim_end_matches('\n').replace('\n', " "))
}
