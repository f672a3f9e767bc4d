//! `-t compdb [-x] [rules]`: the JSON compilation database, one entry per
//! build with inputs (per matching rule name when rules are given).

use ggninja_executor::{disk, Engine};
use ggninja_graph::{BuildId, Escape, Graph};

use super::Args;
use crate::context::App;

const USAGE: &str = "usage: ninja -t compdb [options] [rules]

options:
  -x     expand @rspfile style response file invocations";

pub fn compdb(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((opts, rules)) = args.flags("hx", USAGE) else {
        return 1;
    };
    let expand = opts.contains(&'x');
    let cwd = match std::env::current_dir() {
        Ok(d) => d.to_string_lossy().into_owned(),
        Err(err) => {
            let msg = disk::io_message(&err);
            app.error(&format!("cannot determine working directory: {msg}"));
            return 1;
        }
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
    let mut out = String::from("[");
    out.push_str(&entries.join(","));
    out.push_str("\n]\n");
    print!("{out}");
    0
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

/// `-x`: replaces `@RSPFILE` in the command with the file's content.
fn expand_rspfile(g: &Graph, b: BuildId, command: &mut String) {
    let rsp = g.binding(b, "rspfile", Escape::None).unwrap_or_default();
    let Some(idx) = command.find(&rsp).filter(|&i| !rsp.is_empty() && i > 0) else {
        return;
    };
    if command.as_bytes()[idx - 1] == b'@' {
        let content = g
            .binding(b, "rspfile_content", Escape::Shell)
            .unwrap_or_default()
            .replace('\n', " ");
        command.replace_range(idx - 1..idx + rsp.len(), &content);
    }
}

/// ninja's escaping: quotes and backslashes only.
fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::json_escape;

    #[test]
    fn json_escape_only_quotes_and_backslashes() {
        assert_eq!(json_escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(json_escape("tab\there"), "tab\there");
    }
}
