//! `-t report`'s page as one self-contained HTML file: the summary and
//! the tables written here as HTML (they read without any script), the
//! charts drawn on canvases by the template's script (`page.html`) from
//! the page's data embedded as JSON. Owns escaping and where each piece
//! goes; ignores what the numbers are (`page`).

use std::fmt::Write;

use crate::page::{Page, RuleTime, Step, Summary};

/// The page: markup, style and script; `{{summary}}`, `{{tables}}` and
/// `{{data}}` are filled in, in that order.
const TEMPLATE: &str = include_str!("page.html");

const MARKERS: [&str; 3] = ["{{summary}}", "{{tables}}", "{{data}}"];

/// The whole page.
pub fn render(p: &Page) -> String {
    let data = serde_json::to_string(&p.data).unwrap_or_else(|_| "{}".to_string());
    // Inside <script>, "</script>" or "<!--" in a string would end or
    // confuse the element; "<" escaped as JSON keeps the same value.
    let data = data.replace('<', "\\u003c");
    let parts = [summary(p), tables(p), data];
    let mut out =
        String::with_capacity(TEMPLATE.len() + parts.iter().map(String::len).sum::<usize>());
    let mut rest = TEMPLATE;
    for (marker, part) in MARKERS.iter().zip(&parts) {
        let (before, after) = rest.split_once(marker).unwrap_or((rest, ""));
        out.push_str(before);
        out.push_str(part);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `text` safe in HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Milliseconds as seconds, to the ms below 10 s.
fn seconds(ms: u64) -> String {
    if ms < 10_000 {
        format!("{:.3} s", ms as f64 / 1000.0)
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

fn summary(p: &Page) -> String {
    let s: &Summary = &p.summary;
    let mut out = String::from("<dl class=\"summary\">");
    let mut row = |name: &str, value: String| {
        let _ = write!(out, "<dt>{name}</dt><dd>{value}</dd>");
    };
    if s.edges == 0 {
        row("last build", "none in .ninja_log".to_string());
    } else {
        row(
            "last build",
            format!("{} edges in {}", s.edges, seconds(s.wall_ms)),
        );
        row(
            "parallelism",
            format!(
                "at most {} at once, {:.1} on average ({} of work)",
                s.widest,
                s.busy_ms as f64 / s.wall_ms.max(1) as f64,
                seconds(s.busy_ms)
            ),
        );
        row(
            "finishing chain",
            format!("{} edges, red in the lanes", s.chain_edges),
        );
    }
    let sim = &p.data.simulation;
    row(
        "the targets",
        format!(
            "{:.3} s of work, critical path {:.3} s: at most {:.1}x from more workers",
            sim.total_work_seconds,
            sim.critical_path_seconds,
            sim.total_work_seconds / sim.critical_path_seconds.max(1e-9)
        ),
    );
    if let Some(l) = &sim.last_build {
        row(
            "replayed",
            format!(
                "at -j{}: predicted {:.3} s for {:.3} s ({:+.1}%)",
                l.jobs, l.predicted_seconds, l.actual_seconds, l.error_percent
            ),
        );
    }
    if let Some(at) = p.data.command_cut {
        row(
            "commands",
            format!("cut to {at} bytes to keep the page small"),
        );
    }
    out.push_str("</dl>");
    out
}

fn tables(p: &Page) -> String {
    let mut out = String::new();
    if !p.top.is_empty() {
        out.push_str("<h2>Longest steps</h2>\n");
        out.push_str(&top_table(&p.top));
    }
    if !p.by_rule.is_empty() {
        out.push_str("<h2>Time per rule</h2>\n");
        out.push_str(&rule_table(&p.by_rule, p.summary.busy_ms));
    }
    out
}

fn top_table(top: &[Step]) -> String {
    let mut out = String::from(
        "<table id=\"top\"><thead><tr><th>time</th><th>started</th><th>rule</th>\
         <th>outputs</th><th title=\"on the chain the build finished by\">chain</th></tr></thead><tbody>\n",
    );
    for s in top {
        let more = match s.outputs.len() {
            0 | 1 => String::new(),
            n => format!(" <span class=\"more\">+{} more</span>", n - 1),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td>\
             <td title=\"{}\">{}{more}</td><td>{}</td></tr>",
            seconds(s.ms),
            seconds(s.start_ms),
            escape(&s.rule),
            escape(&s.outputs.join("\n")),
            escape(s.outputs.first().map_or("", String::as_str)),
            if s.on_chain { "●" } else { "" }
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

fn rule_table(rows: &[RuleTime], busy_ms: u64) -> String {
    let mut out = String::from(
        "<table id=\"rules\"><thead><tr><th>rule</th><th>edges</th><th>time</th>\
         <th>share</th><th>mean</th><th>longest</th></tr></thead><tbody>\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{:.1}%</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&r.rule),
            r.edges,
            seconds(r.ms),
            r.ms as f64 * 100.0 / busy_ms.max(1) as f64,
            seconds(r.ms / r.edges.max(1) as u64),
            seconds(r.longest_ms)
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{graph, log};

    #[test]
    fn one_page_with_its_data_and_tables_escaped() {
        let g = graph(
            "rule weird\n  command = echo '</script><!--' > $out\n\
             build a<b>: weird\nbuild c: r a<b>\n",
        );
        let entries = log(&[("a<b>", 0, 1500), ("c", 1500, 1600)]);
        let p = Page::new(&g, &[g.lookup("c").unwrap()], &entries).unwrap();
        let html = render(&p);
        assert!(html.starts_with("<!doctype html>"), "{html}");
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "only the two elements' ends"
        );
        assert!(!html.contains("{{"), "every marker filled");
        assert!(
            html.contains("<td title=\"a&lt;b&gt;\">a&lt;b&gt;</td>"),
            "{html}"
        );
        assert!(
            html.contains("<dt>last build</dt><dd>2 edges in 1.600 s</dd>"),
            "{html}"
        );
        // The data parses back, "<" escaped.
        let start = html.find("id=\"data\">").unwrap() + "id=\"data\">".len();
        let end = start + html[start..].find("</script>").unwrap();
        let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(data["outputs"]["middle"][0], "a<b>");
        assert_eq!(data["ms"], serde_json::json!([1500, 100]));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no network"
        );
    }
}
