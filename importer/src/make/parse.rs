//! A reader for `make -p` output: every database in it, with the directory
//! each was printed in.
//!
//! The dump is line-oriented, so a driver walks its sections line by line and
//! nom recognizes what one line holds (an origin comment, a definition, a
//! rule line, a recipe header). A dump may hold several databases: a make
//! that remade a makefile prints one before it re-executes, and sub-makes
//! print their own, between `make[N]: Entering directory` and `Leaving
//! directory` lines. Whatever lies outside the databases (recipe output,
//! make's messages) is skipped. Ignores hash-table statistics, the directory
//! cache and modification times.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till1, take_until, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{map, map_res, opt, rest, value};
use nom::sequence::{delimited, pair, preceded, terminated, tuple};
use nom::IResult;

use super::db::{
    Database, FileEntry, Flavor, Location, Origin, PatternRule, PatternVar, Recipe, Variable,
};

/// What the dump holds where the reader expected something else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("make database, line {line}: expected {expected}, found {found}")]
pub struct ParseError {
    pub line: usize,
    pub expected: &'static str,
    pub found: String,
}

/// Every database in `text`, in the order printed.
pub fn parse(text: &str) -> Result<Vec<Database>, ParseError> {
    let mut lines = Lines::new(text);
    let mut dirs: Vec<(u32, String)> = Vec::new();
    let mut out = Vec::new();
    while let Some(line) = lines.next() {
        if let Ok((_, (level, entering, dir))) = directory_message(line) {
            if entering {
                dirs.push((level, dir.to_string()));
            } else {
                dirs.pop();
            }
        } else if line.starts_with("# GNU Make ") {
            let mut db = read_database(&mut lines)?;
            db.directory = dirs.last().map(|(_, d)| d.clone());
            db.level = level_of(&db).or(dirs.last().map(|(l, _)| *l)).unwrap_or(0);
            out.push(db);
        }
    }
    Ok(out)
}

fn level_of(db: &Database) -> Option<u32> {
    db.variable("MAKELEVEL")?.value.trim().parse().ok()
}

/// The dump's lines, numbered from 1, with one line of look-ahead.
struct Lines<'a> {
    iter: std::iter::Peekable<std::str::Lines<'a>>,
    number: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            iter: text.lines().peekable(),
            number: 0,
        }
    }

    fn next(&mut self) -> Option<&'a str> {
        let line = self.iter.next()?;
        self.number += 1;
        Some(line)
    }

    fn peek(&mut self) -> Option<&'a str> {
        self.iter.peek().copied()
    }

    /// The next line, or an error saying what was expected instead of the end.
    fn expect(&mut self, expected: &'static str) -> Result<&'a str, ParseError> {
        match self.next() {
            Some(line) => Ok(line),
            None => Err(ParseError {
                line: self.number + 1,
                expected,
                found: "the end of the dump".to_string(),
            }),
        }
    }

    fn error(&self, expected: &'static str, found: &str) -> ParseError {
        ParseError {
            line: self.number,
            expected,
            found: format!("'{}'", truncate(found)),
        }
    }

    /// Skips lines up to and including the first that starts with `prefix`.
    fn skip_to(&mut self, prefix: &str, expected: &'static str) -> Result<&'a str, ParseError> {
        loop {
            let line = self.expect(expected)?;
            if line.starts_with(prefix) {
                return Ok(line);
            }
        }
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn read_database(lines: &mut Lines) -> Result<Database, ParseError> {
    let mut db = Database::default();
    lines.skip_to("# Variables", "'# Variables'")?;
    read_variables(lines, &mut db)?;
    read_pattern_vars(lines, &mut db)?;
    lines.skip_to("# Implicit Rules", "'# Implicit Rules'")?;
    read_rules(lines, &mut db)?;
    read_files(lines, &mut db)?;
    read_search_paths(lines, &mut db)?;
    Ok(db)
}

fn read_variables(lines: &mut Lines, db: &mut Database) -> Result<(), ParseError> {
    loop {
        let line = lines.expect("a variable or '# Pattern-specific Variable Values'")?;
        if line.starts_with("# Pattern-specific Variable Values") {
            return Ok(());
        }
        if line.is_empty() || line.starts_with("# variable set") || line.starts_with("# Load=") {
            continue;
        }
        let (origin, private, from) = parse_line(lines, line, origin_comment, "an origin comment")?;
        let def = lines.expect("a variable definition")?;
        let (name, mut var) = read_definition(lines, def, "", origin, private, from)?;
        // A simple value holding a newline prints over several lines.
        while var.flavor == Flavor::Simple && continues_value(lines.peek()) {
            var.value.push('\n');
            var.value.push_str(lines.next().unwrap_or_default());
        }
        db.variables.insert(name, var);
    }
}

fn continues_value(next: Option<&str>) -> bool {
    next.is_some_and(|l| !l.is_empty() && !l.starts_with('#'))
}

fn read_pattern_vars(lines: &mut Lines, db: &mut Database) -> Result<(), ParseError> {
    loop {
        let line = lines.expect("a pattern-specific variable")?;
        if line.starts_with("# No pattern-specific") || is_count(line, "pattern-specific") {
            return Ok(());
        }
        if line.is_empty() {
            continue;
        }
        let Some(pattern) = line.strip_suffix(" :") else {
            return Err(lines.error("'PATTERN :'", line));
        };
        let comment = lines.expect("an origin comment")?;
        let (origin, private, from) =
            parse_line(lines, comment, origin_comment, "an origin comment")?;
        let def = lines.expect("a variable definition")?;
        let (name, var) = read_definition(lines, def, "# ", origin, private, from)?;
        db.pattern_vars.push(PatternVar {
            pattern: pattern.to_string(),
            name,
            var,
        });
    }
}

/// `# 3 pattern-specific variable values`, `# 92 implicit rules, ...`.
fn is_count(line: &str, what: &str) -> bool {
    line.strip_prefix("# ")
        .and_then(|l| l.split_once(' '))
        .is_some_and(|(n, tail)| n.parse::<u64>().is_ok() && tail.starts_with(what))
}

/// The recipe prefix make prints with until a file says otherwise: the
/// last `.RECIPEPREFIX` the makefiles set (a tab when empty).
fn recipe_prefix(db: &Database) -> char {
    db.variable(".RECIPEPREFIX")
        .and_then(|v| v.value.chars().next())
        .unwrap_or('\t')
}

fn read_rules(lines: &mut Lines, db: &mut Database) -> Result<(), ParseError> {
    loop {
        let line = lines.expect("a pattern rule or '# Files'")?;
        if line.starts_with("# Files") {
            return Ok(());
        }
        if line.is_empty() || line.starts_with("# No implicit rules") || is_count(line, "implicit")
        {
            continue;
        }
        let (targets, double, prereqs, order_only) =
            parse_line(lines, line, rule_line, "a pattern rule")?;
        let recipe = read_recipe(lines, recipe_prefix(db))?;
        db.rules.push(PatternRule {
            targets: targets.split(' ').map(str::to_string).collect(),
            prereqs,
            order_only,
            terminal: double,
            recipe,
        });
    }
}

fn read_files(lines: &mut Lines, db: &mut Database) -> Result<(), ParseError> {
    let mut prefix = recipe_prefix(db);
    loop {
        let Some(line) = lines.peek() else {
            lines.next();
            return Err(lines.error("'# files hash-table stats'", "the end of the dump"));
        };
        if line.starts_with("# files hash-table stats") {
            lines.next();
            return Ok(());
        }
        if line.is_empty() {
            lines.next();
            continue;
        }
        let entry = read_file(lines, &mut prefix)?;
        db.files.push(entry);
        // Entries end with a blank line: anything else is output that
        // landed inside the database.
        match lines.peek() {
            Some(next) if !next.is_empty() && !next.starts_with("# files hash-table stats") => {
                lines.next();
                return Err(lines.error("a blank line after the entry", next));
            }
            _ => {}
        }
    }
}

/// One `# Files` entry: prefix change, target variables, rule line,
/// flags, the variables dump (skipped), the recipe.
fn read_file(lines: &mut Lines, prefix: &mut char) -> Result<FileEntry, ParseError> {
    let mut entry = FileEntry {
        is_target: true,
        ..FileEntry::default()
    };
    let mut line = lines.expect("a file entry")?;
    if let Some(p) = line.strip_prefix(".RECIPEPREFIX = ") {
        *prefix = p.chars().next().unwrap_or('\t');
        line = lines.expect("a file entry")?;
    } else if line == ".RECIPEPREFIX =" {
        *prefix = '\t';
        line = lines.expect("a file entry")?;
    }
    while let Ok((_, (origin, private, from))) = origin_comment(line) {
        let def = lines.expect("a target-specific variable")?;
        let Some((_, def)) = def.split_once(": ") else {
            return Err(lines.error("'TARGET: VAR = value'", def));
        };
        let (name, var) = read_definition(lines, def, "", origin, private, from)?;
        entry.vars.push((name, var));
        line = lines.expect("a file entry")?;
    }
    if line == "# Not a target:" {
        entry.is_target = false;
        line = lines.expect("a rule line")?;
    }
    let (name, double, prereqs, order_only) = parse_line(lines, line, rule_line, "a rule line")?;
    entry.name = name.to_string();
    entry.double_colon = double;
    entry.prereqs = prereqs;
    entry.order_only = order_only;
    read_file_comments(lines, &mut entry)?;
    entry.recipe = read_recipe(lines, *prefix)?;
    Ok(entry)
}

fn read_file_comments(lines: &mut Lines, entry: &mut FileEntry) -> Result<(), ParseError> {
    while let Some(line) = lines.peek() {
        if line.starts_with("#  recipe to execute") || !line.starts_with('#') {
            return Ok(());
        }
        lines.next();
        if let Some(flag) = line.strip_prefix("#  ") {
            file_flag(flag, entry);
        } else if line.starts_with("# define ") {
            read_define_body(lines)?;
        }
    }
    Ok(())
}

fn file_flag(flag: &str, entry: &mut FileEntry) {
    if flag.starts_with("Phony target") {
        entry.phony = true;
    } else if flag.starts_with("Precious file") {
        entry.precious = true;
    } else if flag.starts_with("File is an intermediate") {
        entry.intermediate = true;
    } else if flag == "File does not exist." {
        entry.absent = true;
    } else if flag == "Builtin rule" {
        entry.builtin = true;
    } else if let Some(stem) = flag.strip_prefix("Implicit/static pattern stem: '") {
        entry.stem = Some(stem.strip_suffix('\'').unwrap_or(stem).to_string());
    } else if let Some(also) = flag.strip_prefix("Also makes:") {
        entry.also_makes = also.split_whitespace().map(str::to_string).collect();
    }
}

/// `#  recipe to execute (from 'F', line N):` and the lines after it.
fn read_recipe(lines: &mut Lines, prefix: char) -> Result<Option<Recipe>, ParseError> {
    let Some(header) = lines.peek() else {
        return Ok(None);
    };
    if !header.starts_with("#  recipe to execute") {
        return Ok(None);
    }
    lines.next();
    let from = parse_line(lines, header, recipe_header, "a recipe header")?;
    let mut recipe = Recipe {
        lines: Vec::new(),
        from,
        prefix,
    };
    while let Some(line) = lines.peek().and_then(|l| l.strip_prefix(prefix)) {
        lines.next();
        let mut logical = line.to_string();
        while ends_in_backslash(&logical) {
            let Some(next) = lines.next() else { break };
            logical.push('\n');
            logical.push_str(next);
        }
        recipe.lines.push(logical);
    }
    Ok(Some(recipe))
}

/// An odd number of trailing backslashes continues the line.
pub(super) fn ends_in_backslash(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

fn read_search_paths(lines: &mut Lines, db: &mut Database) -> Result<(), ParseError> {
    lines.skip_to("# VPATH Search Paths", "'# VPATH Search Paths'")?;
    loop {
        let line = lines.expect("'# Finished Make data base'")?;
        if line.starts_with("# Finished Make data base") {
            return Ok(());
        }
        if let Some(spec) = line.strip_prefix("vpath ") {
            let (pattern, dirs) = spec.split_once(' ').unwrap_or((spec, ""));
            db.search
                .vpath
                .push((pattern.to_string(), split_path(dirs)));
        } else if line.starts_with("# General ('VPATH' variable) search path:") {
            let dirs = lines.expect("the VPATH directories")?;
            db.search.general = split_path(dirs.trim_start_matches("# "));
        }
    }
}

fn split_path(dirs: &str) -> Vec<String> {
    dirs.split(':')
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect()
}

/// A definition: `NAME = v`, `NAME := v`, `NAME += v` or a `define` block;
/// `strip` is what starts each line of it (`# ` under pattern variables).
fn read_definition(
    lines: &mut Lines,
    line: &str,
    strip: &'static str,
    origin: Origin,
    private: bool,
    from: Option<Location>,
) -> Result<(String, Variable), ParseError> {
    let Some(line) = line.strip_prefix(strip) else {
        return Err(lines.error("a variable definition", line));
    };
    let make = |flavor, value| Variable {
        flavor,
        value,
        origin,
        private,
        from: from.clone(),
    };
    if let Some(name) = line.strip_prefix("define ") {
        let value = read_define_body(lines)?;
        return Ok((name.to_string(), make(Flavor::Recursive, value)));
    }
    let (name, op, printed) = parse_line(lines, line, definition, "a variable definition")?;
    let flavor = match op {
        ":" => Flavor::Simple,
        "+" => Flavor::Append,
        _ => Flavor::Recursive,
    };
    Ok((
        name.to_string(),
        make(flavor, printed_value(printed, flavor)),
    ))
}

/// Undoes what printing did: `$(subst ,,  )` around blanks, and doubled
/// dollars in simple values.
fn printed_value(printed: &str, flavor: Flavor) -> String {
    if let Some(blank) = printed
        .strip_prefix("$(subst ,,")
        .and_then(|s| s.strip_suffix(')'))
        .filter(|s| !s.is_empty() && s.trim().is_empty())
    {
        return blank.to_string();
    }
    match flavor {
        Flavor::Simple => printed.replace("$$", "$"),
        _ => printed.to_string(),
    }
}

fn read_define_body(lines: &mut Lines) -> Result<String, ParseError> {
    let mut body: Vec<&str> = Vec::new();
    let mut depth = 0;
    loop {
        let line = lines.expect("'endef'")?;
        let word = line.split_whitespace().next().unwrap_or("");
        if word == "endef" {
            if depth == 0 {
                return Ok(body.join("\n"));
            }
            depth -= 1;
        } else if word == "define" {
            depth += 1;
        }
        body.push(line);
    }
}

/// Runs a one-line nom parser, turning failure into a numbered error.
fn parse_line<'a, T>(
    lines: &Lines,
    line: &'a str,
    parser: fn(&'a str) -> IResult<&'a str, T>,
    expected: &'static str,
) -> Result<T, ParseError> {
    match parser(line) {
        Ok(("", v)) => Ok(v),
        _ => Err(lines.error(expected, line)),
    }
}

// ---- one-line grammars ----------------------------------------------------

/// `make[1]: Entering directory '/x'` → (1, true, "/x").
fn directory_message(line: &str) -> IResult<&str, (u32, bool, &str)> {
    let level = map_res(delimited(char('['), digit1, char(']')), str::parse::<u32>);
    let program = take_while1(|c: char| c != '[' && c != ':');
    tuple((
        preceded(program, map(opt(level), |l| l.unwrap_or(0))),
        preceded(
            tag(": "),
            alt((
                value(true, tag("Entering directory ")),
                value(false, tag("Leaving directory ")),
            )),
        ),
        delimited(alt((char('\''), char('`'))), take_until("'"), char('\'')),
    ))(line)
}

/// `# makefile private (from 'Makefile', line 3)`.
fn origin_comment(line: &str) -> IResult<&str, (Origin, bool, Option<Location>)> {
    let origin = alt((
        value(Origin::Automatic, tag("automatic")),
        value(Origin::Default, tag("default")),
        value(Origin::EnvironmentOverride, tag("environment under -e")),
        value(Origin::Environment, tag("environment")),
        value(Origin::Makefile, tag("makefile")),
        value(Origin::CommandLine, tag("command line")),
        value(Origin::Override, tag("'override' directive")),
    ));
    tuple((
        preceded(tag("# "), origin),
        map(opt(tag(" private")), |p| p.is_some()),
        opt(preceded(char(' '), location)),
    ))(line)
}

/// `(from 'Makefile', line 3)`.
fn location(input: &str) -> IResult<&str, Location> {
    map(
        pair(
            delimited(tag("(from '"), take_until("', line "), tag("', line ")),
            terminated(map_res(digit1, str::parse::<u32>), char(')')),
        ),
        |(file, line)| Location {
            file: file.to_string(),
            line,
        },
    )(input)
}

/// `#  recipe to execute (from 'Makefile', line 9):` or `(built-in):`.
fn recipe_header(line: &str) -> IResult<&str, Option<Location>> {
    delimited(
        tag("#  recipe to execute "),
        alt((value(None, tag("(built-in)")), map(location, Some))),
        char(':'),
    )(line)
}

/// `NAME = v`, `NAME := v`, `NAME += v` → (NAME, "" | ":" | "+", v).
fn definition(line: &str) -> IResult<&str, (&str, &str, &str)> {
    tuple((
        take_till1(|c| c == ' '),
        delimited(
            char(' '),
            alt((tag(":"), tag("+"), tag(""))),
            pair(char('='), opt(char(' '))),
        ),
        rest,
    ))(line)
}

type RuleLine<'a> = (&'a str, bool, Vec<String>, Vec<String>);

/// `targets: prereqs | order-only` (or `::`) → (targets, double colon,
/// prerequisites, order-only ones).
fn rule_line(line: &str) -> IResult<&str, RuleLine<'_>> {
    let (after, targets) = rule_targets(line)?;
    let (after, double) = map(opt(char(':')), |c| c.is_some())(after)?;
    let (normal, order_only) = match after.split_once(" | ") {
        Some((n, o)) => (n, o),
        None => (after, ""),
    };
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect();
    Ok(("", (targets, double, words(normal), words(order_only))))
}

/// Everything before the first `:` that ends the targets (followed by a
/// space, another `:`, or the end of the line).
fn rule_targets(line: &str) -> IResult<&str, &str> {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' && i > 0 && matches!(bytes.get(i + 1), None | Some(b' ') | Some(b':')) {
            return Ok((&line[i + 1..], &line[..i]));
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        line,
        nom::error::ErrorKind::Char,
    )))
}

#[cfg(test)]
#[path = "parse_test.rs"]
mod tests;
