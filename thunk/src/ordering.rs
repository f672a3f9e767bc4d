//! Whether an edge is ordered after the edge that writes a file it reads.
//! A footprint can name a file the manifest never says the edge reads (a
//! header found by the include walk, a library by `-l`); when another edge
//! of the build writes that file and nothing orders it first, the two may
//! run at once, so the content hashed for the thunk need not be what the
//! command read: its result must not be memoized, nor run remotely (ninja
//! reports such edges with `-t missingdeps`). Ignores why the file is read.

use ggninja_graph::{BuildId, Graph};

/// Whether `p` is upstream of `b`: a producer of one of `b`'s inputs
/// (explicit, implicit or order-only), or of theirs, and so on.
pub(crate) fn is_upstream(g: &Graph, b: BuildId, p: BuildId) -> bool {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut stack = vec![b];
    while let Some(x) = stack.pop() {
        for &i in &g.build(x).ins {
            let Some(q) = g.file(i).in_build else {
                continue;
            };
            if q == p {
                return true;
            }
            if seen.insert(q) {
                stack.push(q);
            }
        }
    }
    false
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
        let (gen, lib) = (edge("gen.h"), edge("lib.a"));
        assert!(is_upstream(&g, edge("a.o"), gen));
        assert!(is_upstream(&g, edge("app"), gen));
        assert!(is_upstream(&g, edge("app"), lib));
        assert!(!is_upstream(&g, edge("b.o"), gen));
        assert!(!is_upstream(&g, edge("a.o"), lib));
    }
}
