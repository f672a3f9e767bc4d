//! The work a build of some targets is: the edges it needs, in dependency
//! order, each with the edges it waits for. Owns the walk from the targets
//! through every input (order-only ones too: they gate the start). Ignores
//! validations (they gate nothing), dyndep files not loaded yet, and what
//! is up to date: the model is a clean build.

use ggninja_graph::{BuildId, FileId, Graph};

/// Needed edges in dependency order: `deps[i]` are indices below `i`.
#[derive(Debug)]
pub struct Work {
    pub edges: Vec<BuildId>,
    /// The needed edges whose outputs edge `i` reads, without repeats.
    pub deps: Vec<Vec<usize>>,
}

/// The manifest has a cycle (ninja reports it when building; the model
/// has no order to give).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("dependency cycle through '{0}'")]
pub struct DependencyCycle(pub String);

#[derive(Clone, Copy, PartialEq)]
enum Seen {
    No,
    Open,
    Done(usize),
}

impl Work {
    /// The edges building `targets` needs, each after those it reads from.
    pub fn needed(g: &Graph, targets: &[FileId]) -> Result<Work, DependencyCycle> {
        let mut seen = vec![Seen::No; g.node_count()];
        let mut work = Work {
            edges: Vec::new(),
            deps: Vec::new(),
        };
        for b in targets.iter().filter_map(|&t| g.file(t).in_build) {
            work.visit(g, b, &mut seen)?;
        }
        Ok(work)
    }

    /// Depth first without recursion (chains run thousands deep): an edge
    /// is numbered once every producer of its inputs is.
    fn visit(
        &mut self,
        g: &Graph,
        root: BuildId,
        seen: &mut [Seen],
    ) -> Result<(), DependencyCycle> {
        let mut stack = vec![(root, 0usize)];
        while let Some((b, next)) = stack.pop() {
            if next == 0 {
                if seen[b.index()] != Seen::No {
                    continue;
                }
                seen[b.index()] = Seen::Open;
            }
            let ins = &g.build(b).ins;
            let Some(&input) = ins.get(next) else {
                self.finish(g, b, seen);
                continue;
            };
            stack.push((b, next + 1));
            let Some(p) = g.file(input).in_build else {
                continue;
            };
            match seen[p.index()] {
                Seen::Open => return Err(DependencyCycle(g.path(input).to_string())),
                Seen::No => stack.push((p, 0)),
                Seen::Done(_) => {}
            }
        }
        Ok(())
    }

    fn finish(&mut self, g: &Graph, b: BuildId, seen: &mut [Seen]) {
        let mut deps: Vec<usize> = (g.build(b).ins.iter())
            .filter_map(|&i| match seen[g.file(i).in_build?.index()] {
                Seen::Done(k) => Some(k),
                _ => None,
            })
            .collect();
        deps.sort_unstable();
        deps.dedup();
        seen[b.index()] = Seen::Done(self.edges.len());
        self.edges.push(b);
        self.deps.push(deps);
    }

    /// How many distinct files the needed edges read or write.
    pub fn files(&self, g: &Graph) -> usize {
        let mut files: Vec<FileId> = (self.edges.iter())
            .flat_map(|&b| g.build(b).ins.iter().chain(&g.build(b).outs).copied())
            .collect();
        files.sort_unstable_by_key(|f| f.index());
        files.dedup();
        files.len()
    }

    /// The longest chain, counting edges that run a command (phony ones
    /// take no time and are not counted).
    pub fn depth(&self, g: &Graph) -> usize {
        let mut depth = vec![0usize; self.edges.len()];
        for (i, &b) in self.edges.iter().enumerate() {
            let below = self.deps[i].iter().map(|&d| depth[d]).max().unwrap_or(0);
            depth[i] = below + usize::from(!g.is_phony(b));
        }
        depth.into_iter().max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::graph;

    fn names(g: &Graph, w: &Work) -> Vec<String> {
        let first = |b: BuildId| g.path(g.build(b).outs[0]).to_string();
        w.edges.iter().map(|&b| first(b)).collect()
    }

    #[test]
    fn edges_come_after_what_they_read() {
        let g = graph(
            "build a: r src\nbuild b: r a\nbuild c: r a || b\nbuild all: phony c b\nbuild other: r\n",
        );
        let w = Work::needed(&g, &[g.lookup("all").unwrap()]).unwrap();
        assert_eq!(names(&g, &w), ["a", "b", "c", "all"]);
        assert_eq!(w.deps, [vec![], vec![0], vec![0, 1], vec![1, 2]]);
        assert_eq!(w.files(&g), 5);
        assert_eq!(w.depth(&g), 3, "a, b, c: the phony is not counted");
    }

    #[test]
    fn a_cycle_is_an_error() {
        let g = graph("build a: r b\nbuild b: r a\n");
        let err = Work::needed(&g, &[g.lookup("a").unwrap()]).unwrap_err();
        assert_eq!(err, DependencyCycle("a".to_string()));
    }

    #[test]
    fn a_deep_chain_does_not_recurse() {
        let mut text = String::from("build f0: r\n");
        for i in 1..100_000 {
            text.push_str(&format!("build f{i}: r f{}\n", i - 1));
        }
        let g = graph(&text);
        let w = Work::needed(&g, &[g.lookup("f99999").unwrap()]).unwrap();
        assert_eq!(w.depth(&g), 100_000);
    }
}
