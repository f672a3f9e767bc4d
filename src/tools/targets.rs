//! `-t targets [rule [NAME] | depth [N] | all]`: lists targets by rule, by
//! depth from the roots, or all of them.

use std::collections::BTreeSet;

use ggninja_executor::Engine;
use ggninja_graph::{FileId, Graph};

use super::Args;
use crate::context::App;
use crate::spell::did_you_mean;

pub fn targets(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let g = &e.graph;
    let args = args.args;
    let depth = match args.first().map(String::as_str) {
        None => 1,
        Some("rule") => {
            print!("{}", by_rule(g, args.get(1).filter(|r| !r.is_empty())));
            return 0;
        }
        Some("depth") => args.get(1).map(|d| atoi(d)).unwrap_or(1),
        Some("all") => {
            print!("{}", all(g));
            return 0;
        }
        Some(other) => {
            let hint = did_you_mean(other, &["rule", "depth", "all"]);
            app.error(&format!("unknown target tool mode '{other}'{hint}"));
            return 1;
        }
    };
    let roots = g.roots();
    if roots.is_empty() {
        app.error("could not determine root nodes of build graph");
        return 1;
    }
    let mut out = String::new();
    tree(g, &roots, depth, 0, &mut out);
    print!("{out}");
    0
}

/// `rule NAME`: the outputs of its builds, sorted. `rule` alone: every
/// source file (an input no build makes), once per build reading it.
fn by_rule(g: &Graph, rule: Option<&String>) -> String {
    let mut out = String::new();
    let Some(rule) = rule else {
        for &b in &g.builds {
            for &i in &g.build(b).ins {
                if g.file(i).in_build.is_none() {
                    out.push_str(&format!("{}\n", g.path(i)));
                }
            }
        }
        return out;
    };
    let mut set = BTreeSet::new();
    for &b in &g.builds {
        if g.rule_name(b) == rule {
            set.extend(g.build(b).outs.iter().map(|&o| g.path(o)));
        }
    }
    for p in set {
        out.push_str(&format!("{p}\n"));
    }
    out
}

/// `all`: every output with its rule, in manifest order.
fn all(g: &Graph) -> String {
    let mut out = String::new();
    for &b in &g.builds {
        for &o in &g.build(b).outs {
            out.push_str(&format!("{}: {}\n", g.path(o), g.rule_name(b)));
        }
    }
    out
}

/// `nodes` and, down to `depth` levels (all if `depth` <= 0), their inputs.
fn tree(g: &Graph, nodes: &[FileId], depth: i64, indent: usize, out: &mut String) {
    for &n in nodes {
        out.push_str(&"  ".repeat(indent));
        match g.file(n).in_build {
            Some(b) => {
                out.push_str(&format!("{}: {}\n", g.path(n), g.rule_name(b)));
                if depth > 1 || depth <= 0 {
                    tree(g, &g.build(b).ins, depth - 1, indent + 1, out);
                }
            }
            None => {
                out.push_str(g.path(n));
                out.push('\n');
            }
        }
    }
}

/// C's atoi, as ninja reads the depth: leading digits, else 0.
fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::atoi;

    #[test]
    fn atoi_reads_leading_digits() {
        assert_eq!(atoi("3"), 3);
        assert_eq!(atoi(" 12abc"), 12);
        assert_eq!(atoi("-2"), -2);
        assert_eq!(atoi("x"), 0);
        assert_eq!(atoi(""), 0);
    }
}
