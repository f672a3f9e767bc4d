//! `-t rules [-d]`: the top-level rules, sorted, with their descriptions.

use std::collections::BTreeMap;

use ggninja_executor::Engine;

use super::Args;
use crate::context::App;

const USAGE: &str = "usage: ninja -t rules [options]

options:
  -d     also print the description of the rule
  -h     print this message";

pub fn rules(_: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((opts, _)) = args.flags("hd", USAGE) else {
        return 1;
    };
    let scopes = &e.graph.scopes;
    let root = &scopes.scopes[ggninja_graph::ROOT_SCOPE];
    let sorted: BTreeMap<&String, &usize> = root.rules.iter().collect();
    for (name, &id) in sorted {
        let mut line = name.clone();
        if opts.contains(&'d') {
            // Unevaluated, as written in the manifest.
            if let Some(d) = scopes.rules[id].bindings.get("description") {
                line.push_str(&format!(": {}", d.serialize()));
            }
        }
        println!("{line}");
    }
    0
}
