//! `-t analyze`'s report for people: the summary, the critical path, what
//! to fix first and the largest fan-ins, as aligned text. Owns layout
//! only; every edge's float and drag are in the JSON (`--json`).

use std::fmt::Write;

use crate::analyze::Analysis;

pub fn render(r: &Analysis) -> String {
    let mut out = String::new();
    summary(r, &mut out);
    critical_path(r, &mut out);
    fix_first(r, &mut out);
    fan_ins(r, &mut out);
    out
}

fn summary(r: &Analysis, out: &mut String) {
    let p = &r.parallelism;
    let _ = writeln!(
        out,
        "edges          {} ({} phony not counted; {} estimated)\n\
         files          {}\n\
         depth          {} edges\n\
         total work     {:.3} s\n\
         critical path  {:.3} s ({} edges)\n\
         parallelism    {:.1} on average, widest {} at {:.3} s",
        r.edges,
        r.phony_edges,
        r.estimated_edges,
        r.files,
        r.depth,
        r.total_work_seconds,
        r.critical_path.seconds,
        r.critical_path.edges.len(),
        p.average,
        p.widest,
        p.widest_at_seconds,
    );
}

fn critical_path(r: &Analysis, out: &mut String) {
    out.push_str("\ncritical path, first to last (* estimated):\n   seconds      drag  outputs\n");
    for e in &r.critical_path.edges {
        let mark = if e.estimated { "*" } else { " " };
        let _ = writeln!(
            out,
            "{:>9.3}{mark} {:>9.3}  {}",
            e.seconds,
            e.drag_seconds,
            e.outputs.join(" ")
        );
    }
}

fn fix_first(r: &Analysis, out: &mut String) {
    if r.fix_first.is_empty() {
        return;
    }
    out.push_str("\nfix this first (the build's saving if the edge took no time):\n");
    out.push_str("    saving   seconds  outputs\n");
    for f in &r.fix_first {
        let _ = writeln!(
            out,
            "{:>10.3} {:>9.3}  {}",
            f.saving_seconds,
            f.seconds,
            f.outputs.join(" ")
        );
    }
}

fn fan_ins(r: &Analysis, out: &mut String) {
    if r.fan_ins.is_empty() {
        return;
    }
    out.push_str("\nlargest fan-ins:\n    inputs  outputs\n");
    for f in &r.fan_ins {
        let _ = writeln!(out, "{:>10}  {}", f.inputs, f.outputs.join(" "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{entry, graph};

    #[test]
    fn a_chain_for_people() {
        let g = graph("build a: r\nbuild b: r a\n");
        let log = [entry(0, 1500)];
        let r = Analysis::new(&g, &[g.lookup("b").unwrap()], |p| {
            (p == "a").then(|| &log[0])
        })
        .unwrap();
        let text = render(&r);
        assert!(
            text.starts_with("edges          2 (0 phony not counted; 1 estimated)\n"),
            "{text}"
        );
        assert!(text.contains("total work     3.000 s\n"), "{text}");
        assert!(
            text.contains("    1.500      1.500  a\n    1.500*     1.500  b\n"),
            "{text}"
        );
        assert!(
            text.contains("\nlargest fan-ins:\n    inputs  outputs\n         1  b\n"),
            "{text}"
        );
    }
}
