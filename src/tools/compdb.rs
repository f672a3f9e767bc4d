//! `-t compdb [-x] [rules]`: the JSON compilation database, one entry per
//! build with inputs (per matching rule name when rules are given), and
//! `-t compdb-targets [-x] targets`: the entries of the builds those targets
//! need, each after those it needs, as ninja 1.13 prints them.

use std::collections::HashSet;

use ggninja_executor::{disk, Engine};
use ggninja_graph::{BuildId, Escape, FileId, Graph};

use super::{collect_target, Args};
use crate::context::App;

const USAGE: &str = "usage: ninja -t compdb [options] [rules]

options:
  -x     expand @rspfile style response file invocations";

// ninja 1.13 names `compdb` in this tool's usage too.
const TARGETS_USAGE: &str = "usage: ninja -t compdb [-hx] target [targets]

options:
  -h     display this help message
  -x     expand @rspfile style response file invocations";

/// The working directory, or (after ninja's fatal message) None.
fn working_dir(app: &App) -> Option<String> {
    match std::env::current_dir() {
        Ok(d) => Some(d.to_string_lossy().into_owned()),
        Err(err) => {
            let msg = disk::io_message(&err);
            app.fatal(&format!("cannot determine working directory: {msg}"));
            None
        }
    }
}

pub fn compdb(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((opts, rules)) = args.flags("hx", USAGE) else {
        return 1;
    };
    let expand = opts.contains(&'x');
    let Some(cwd) = working_dir(app) else {
        return 1;
    };
    let g = &e.graph;
    let mut entries = Vec::new();
    for &b in &g.builds {
        if g.build(b).ins.is_empty() {
            continue;
        }
        // Like ninja, a rule named twice lists its builds twice.
        let times = if rules.is_empty() {
            1
        } else {
            rules.iter().filter(|r| *r == g.rule_name(b)).count()
        };
        for _ in 0..times {
            entries.push(entry(g, b, &cwd, expand));
        }
    }
    print_database(&entries);
    0
}

fn print_database(entries: &[String]) {
    let mut out = String::from("[");
    out.push_str(&entries.join(","));
    out.push_str("\n]\n");
    print!("{out}");
}

pub fn compdb_targets(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((opts, targets)) = args.flags("hx", TARGETS_USAGE) else {
        return 1;
    };
    if targets.is_empty() {
        app.error("compdb-targets expects the name of at least one target");
        println!("{TARGETS_USAGE}");
        return 1;
    }
    let mut walk = Walk::default();
    for t in &targets {
        let node = match collect_target(e, t) {
            Ok(n) => n,
            Err(msg) => return app.fatal(&msg),
        };
        if e.graph.file(node).in_build.is_none() {
            let path = e.graph.path(node);
            return app.fatal(&format!(
                "'{path}' is not a target (i.e. it is not an output of any `build` statement)"
            ));
        }
        walk.from(&e.graph, node);
    }
    let Some(cwd) = working_dir(app) else {
        return 1;
    };
    let g = &e.graph;
    let entries: Vec<String> = walk
        .builds
        .iter()
        .filter(|&&b| !g.is_phony(b) && !g.build(b).ins.is_empty())
        .map(|&b| entry(g, b, &cwd, opts.contains(&'x')))
        .collect();
    print_database(&entries);
    0
}

/// The builds the walked nodes need, each after the builds it needs.
#[derive(Default)]
struct Walk {
    nodes: HashSet<FileId>,
    seen: HashSet<BuildId>,
    builds: Vec<BuildId>,
}

impl Walk {
    fn from(&mut self, g: &Graph, node: FileId) {
        if !self.nodes.insert(node) {
            return;
        }
        let Some(b) = g.file(node).in_build else {
            return;
        };
        if !self.seen.insert(b) {
            return;
        }
        for &i in &g.build(b).ins {
            self.from(g, i);
        }
        self.builds.push(b);
    }
}

/// One build's entry.
fn entry(g: &Graph, b: BuildId, cwd: &str, expand: bool) -> String {
    let build = g.build(b);
    let mut command = g.command(b, false).unwrap_or_default();
    if expand {
        expand_rspfile(g, b, &mut command);
    }
    format!(
        "\n  {{\n    \"directory\": \"{}\",\n    \"command\": \"{}\",\n    \"file\": \"{}\",\n    \"output\": \"{}\"\n  }}",
        json_escape(cwd),
        json_escape(&command),
        json_escape(g.path(build.ins[0])),
        json_escape(g.path(build.outs[0]))
    )
}

/// `-x`: replaces the first mention of the rspfile, when it follows `@`,
/// `-f ` or `--option-file=` (each where ninja 1.13 looks for it), with
/// the file's content on one line.
fn expand_rspfile(g: &Graph, b: BuildId, command: &mut String) {
    let rsp = g.binding(b, "rspfile", Escape::None).unwrap_or_default();
    let Some(idx) = command.find(&rsp).filter(|&i| !rsp.is_empty() && i > 0) else {
        return;
    };
    // ninja compares the first `-f ` and `--option-file=` in the command
    // with the place just before the rspfile.
    let prefix_at = |p: &str| {
        idx.checked_sub(p.len())
            .filter(|&at| command.find(p) == Some(at))
    };
    let start = if command.as_bytes()[idx - 1] == b'@' {
        idx - 1
    } else if let Some(at) = prefix_at("-f ") {
        at
    } else if let Some(at) = prefix_at("--option-file=") {
        at
    } else {
        return;
    };
    let content = g
        .binding(b, "rspfile_content", Escape::Shell)
        .unwrap_or_default()
        .replace('\n', " ");
    command.replace_range(start..idx + rsp.len(), &content);
}

/// ninja 1.13's JSON strings: quotes, backslashes and control characters
/// escaped (1.11 escaped only quotes and backslashes).
fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::json_escape;

    #[test]
    fn json_escape_as_ninja_113() {
        assert_eq!(json_escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(
            json_escape("tab\there\n\u{1}\u{7f}é"),
            "tab\\there\\n\\u0001\u{7f}é"
        );
    }
}
