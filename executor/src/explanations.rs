//! `-d explain` as ninja 1.13 prints it: why a node is dirty is recorded
//! against the node when the scan finds it, and printed only when an edge
//! writing that node shows its status (when it starts on a terminal or in
//! the console pool, and when it finishes), so a build explains only what
//! runs. Ignores ggninja's own explanations (memo, remote, sandbox), which
//! are printed as they happen.

use std::collections::HashMap;

use ggninja_graph::FileId;

/// What the scan found, per node, in the order found.
#[derive(Debug, Default)]
pub struct Explanations {
    by_node: HashMap<FileId, Vec<String>>,
}

impl Explanations {
    pub fn record(&mut self, node: FileId, msg: String) {
        self.by_node.entry(node).or_default().push(msg);
    }

    /// Everything recorded for `nodes` (an edge's outputs), in their order.
    pub fn lookup(&self, nodes: &[FileId]) -> Vec<String> {
        let found = nodes.iter().filter_map(|n| self.by_node.get(n));
        found.flatten().cloned().collect()
    }
}
