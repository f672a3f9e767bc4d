//! Recipe lines that run a sub-make, read as the invocation they are.
//!
//! A line naming `$(MAKE)` is expanded with `$(MAKE)` standing for a marker
//! word, then split into shell words: `[cd DIR &&] $(MAKE) [-C DIR] [-f
//! FILE] [VAR=value...] [goal...] [> /dev/null]` is understood (flags that
//! only change how make talks or how many jobs it runs are dropped: the
//! imported graph runs under ggninja's `-j`). Anything else (a shell loop
//! over directories, more commands after the sub-make, flags that change
//! what make builds) is refused with the reason, never approximated.
//! The sub-make's command-line variables are the parent's
//! `$(MAKEOVERRIDES)` (`overrides`), then the line's own.

use ggninja_syntax::shell::split_list;

use super::db::Database;
use super::expand::{ExpandError, Expander, Scope};

/// What `$(MAKE)` expands to while sub-make lines are read.
pub const MARKER: &str = "__ggninja_sub_make__";

/// One sub-make invocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubMake {
    /// Relative to the parent make's directory (`.` for the same one).
    pub dir: String,
    pub makefiles: Vec<String>,
    pub assignments: Vec<String>,
    pub goals: Vec<String>,
}

/// The command-line variables a make passes its sub-makes (through
/// MAKEFLAGS): the words of its `$(MAKEOVERRIDES)`, a space within one
/// written `\ `; None when the database has no such variable (a saved
/// dump's make may not say).
pub fn overrides(db: &Database, cwd: &std::path::Path) -> Result<Option<Vec<String>>, ExpandError> {
    if db.variable("MAKEOVERRIDES").is_none() {
        return Ok(None);
    }
    let scope = Scope {
        globals: &db.variables,
        bindings: Vec::new(),
        auto: None,
        cwd,
    };
    let text = Expander::new(&scope).variable("MAKEOVERRIDES")?;
    Ok(Some(escaped_words(&text)))
}

/// Words split at spaces that are not escaped (`a\ b` is one word, `a b`).
fn escaped_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(' ') => word.push(' '),
                Some(other) => word.extend(['\\', other]),
                None => word.push('\\'),
            },
            c if c.is_whitespace() => {
                words.extend((!word.is_empty()).then(|| std::mem::take(&mut word)))
            }
            c => word.push(c),
        }
    }
    words.extend((!word.is_empty()).then_some(word));
    words
}

/// Reads an expanded line (recipe prefixes already removed).
pub fn parse(line: &str) -> Result<SubMake, String> {
    let line = strip_null_redirect(line.trim());
    let list =
        split_list(line).map_err(|e| format!("a sub-make line the importer cannot read ({e})"))?;
    let mut dir = Vec::new();
    let (last, before) = list.split_last().ok_or("an empty sub-make line")?;
    for cmd in before {
        match cmd.as_slice() {
            [cd, d] if cd == "cd" => dir.push(d.clone()),
            _ => return Err(format!("'{}' before a sub-make", cmd.join(" "))),
        }
    }
    let Some((program, args)) = last.split_first() else {
        return Err("an empty sub-make line".into());
    };
    if program != MARKER {
        return Err(format!("'{}' after a sub-make", last.join(" ")));
    }
    let mut sub = SubMake {
        dir: String::new(),
        makefiles: Vec::new(),
        assignments: Vec::new(),
        goals: Vec::new(),
    };
    read_args(args, &mut sub, &mut dir)?;
    sub.dir = if dir.is_empty() {
        ".".to_string()
    } else {
        dir.join("/")
    };
    Ok(sub)
}

/// `> /dev/null` (and `2>&1`) only silence the sub-make: its commands are
/// the graph's now.
fn strip_null_redirect(line: &str) -> &str {
    let mut l = line;
    for tail in ["2>&1", ">/dev/null", "> /dev/null"] {
        l = l.strip_suffix(tail).map(str::trim_end).unwrap_or(l);
    }
    l
}

/// Flags that change only output, job count or directory printing.
const HARMLESS: &[&str] = &[
    "-s",
    "--silent",
    "--quiet",
    "-w",
    "--print-directory",
    "--no-print-directory",
    "-k",
    "--keep-going",
    "-S",
    "--no-keep-going",
];

fn is_harmless(a: &str) -> bool {
    a.starts_with("-j")
        || a.starts_with("--jobs")
        || (!a.is_empty() && a.chars().all(|c| c.is_ascii_digit()))
        || HARMLESS.contains(&a)
}

fn read_args(args: &[String], sub: &mut SubMake, dir: &mut Vec<String>) -> Result<(), String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| -> Result<String, String> {
            match a.strip_prefix(flag).filter(|v| !v.is_empty()) {
                Some(v) => Ok(v.trim_start_matches('=').to_string()),
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("'{flag}' without a value")),
            }
        };
        if a.starts_with("-C") || a.starts_with("--directory") {
            let flag = if a.starts_with("-C") {
                "-C"
            } else {
                "--directory"
            };
            dir.push(value(flag)?);
        } else if a.starts_with("-f") || a.starts_with("--file") || a.starts_with("--makefile") {
            let flag = ["-f", "--file", "--makefile"]
                .into_iter()
                .find(|f| a.starts_with(f))
                .unwrap_or("-f");
            sub.makefiles.push(value(flag)?);
        } else if is_harmless(a) {
            // Output, job count (a number may follow as its own word),
            // directory printing: ggninja's business now.
        } else if a.starts_with('-') {
            return Err(format!("the sub-make flag '{a}'"));
        } else if a.contains('=') {
            sub.assignments.push(a.clone());
        } else {
            sub.goals.push(a.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_words_with_escaped_spaces() {
        assert_eq!(
            escaped_words(r"X=a\ b  FOO+=bar Y=c\d"),
            ["X=a b", "FOO+=bar", r"Y=c\d"]
        );
        assert!(escaped_words(" ").is_empty());
    }

    fn m(line: &str) -> Result<SubMake, String> {
        parse(&line.replace("$(MAKE)", MARKER))
    }

    #[test]
    fn forms_of_recursion() {
        let s = m("cd src && $(MAKE) linux V=5.4").unwrap();
        assert_eq!(
            (s.dir.as_str(), s.goals.as_slice(), s.assignments.as_slice()),
            (
                "src",
                &["linux".to_string()][..],
                &["V=5.4".to_string()][..]
            )
        );
        let s = m("$(MAKE) -C lib all > /dev/null").unwrap();
        assert_eq!(
            (s.dir.as_str(), s.goals.as_slice()),
            ("lib", &["all".to_string()][..])
        );
        let s = m("$(MAKE) -j 4 -s -f other.mk --no-print-directory CC=\"gcc -m32\"").unwrap();
        assert_eq!(
            (s.dir.as_str(), s.makefiles.as_slice()),
            (".", &["other.mk".to_string()][..])
        );
        assert_eq!(s.assignments, ["CC=gcc -m32"]);
        assert!(m("$(MAKE) -C lib && touch stamp").is_err());
        assert!(m("for d in a b; do $(MAKE) -C $$d; done").is_err());
        assert!(m("$(MAKE) -n all").is_err());
        assert!(m("$(MAKE) `uname`").is_err());
    }
}
