//! Whether an edge is ordered after the edge that writes a file it reads.
//! A footprint can name a file the manifest never says the edge reads (a
//! header found by the include walk, a library by `-l`); when another edge
//! of the build writes that file and nothing orders it first, the two may
//! run at once, so the content hashed for the thunk need not be what the
//! command read: its result must not be memoized, nor run remotely (ninja
//! reports such edges with `-t missingdeps`). Ignores why the file is read.

use ggninja_graph::{BuildId, Graph};
use rustc_hash::FxHashSet;

/// The edges upstream of `b`: producers of its inputs (explicit, implicit
/// or order-only), of theirs, and so on. Walked only as far as a question
/// needs, and resumed from there by the next: a link asks once for each of
/// its hundreds of objects, and a walk from the start each time went over
/// most of what is upstream, while a compile's one question ends early.
pub(crate) struct Upstream<'g> {
    g: &'g Graph,
    seen: FxHashSet<BuildId>,
    /// Edges found whose inputs are not looked at yet.
    stack: Vec<BuildId>,
}

impl<'g> Upstream<'g> {
    pub(crate) fn of(g: &'g Graph, b: BuildId) -> Upstream<'g> {
        let (seen, stack) = (FxHashSet::default(), vec![b]);
        Upstream { g, seen, stack }
    }

    /// Whether `p` is upstream of the edge.
    pub(crate) fn contains(&mut self, p: BuildId) -> bool {
        while !self.seen.contains(&p) {
            let Some(x) = self.stack.pop() else {
                return false;
            };
            for &i in &self.g.build(x).ins {
                if let Some(q) = self.g.file(i).in_build.filter(|&q| self.seen.insert(q)) {
                    self.stack.push(q);
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(text: &str) -> Graph {
        let text = format!("rule r\n  command = true\n{text}");
        let options = ggninja_importer::Options::default();
        (ggninja_importer::parse_str("build.ninja", text.as_bytes(), &options))
            .expect("test manifest parses")
            .graph
    }

    #[test]
    fn inputs_of_every_kind_and_through_phony_order_an_edge() {
        let g = graph(
            "build gen.h: r\nbuild order: phony gen.h\nbuild lib.a: r\n\
             build a.o: r a.c || order\nbuild b.o: r b.c\nbuild app: r a.o | lib.a\n",
        );
        let edge = |out: &str| g.file(g.lookup(out).unwrap()).in_build.unwrap();
        let is_upstream = |b, p| Upstream::of(&g, b).contains(p);
        let (gen, lib) = (edge("gen.h"), edge("lib.a"));
        assert!(is_upstream(edge("a.o"), gen));
        assert!(is_upstream(edge("app"), gen));
        assert!(is_upstream(edge("app"), lib));
        assert!(!is_upstream(edge("b.o"), gen));
        assert!(!is_upstream(edge("a.o"), lib));
        // Asked again, the edges found on the first question answer.
        let mut app = Upstream::of(&g, edge("app"));
        assert!(app.contains(lib) && app.contains(gen) && !app.contains(edge("b.o")));
    }
}
