#![no_main]
use std::sync::OnceLock;

use ggninja_graph::Graph;
use libfuzzer_sys::fuzz_target;

const MANIFEST: &[u8] = b"rule r\n  command = x\n\
build out: r in || dd\n  dyndep = dd\n\
build out2 | imp: r in2 || dd\n  dyndep = dd\n\
build dir/out3: r in3\n";

fn graph() -> &'static Graph {
    static G: OnceLock<Graph> = OnceLock::new();
    G.get_or_init(|| {
        ggninja_importer::parse_str("build.ninja", MANIFEST, &Default::default())
            .unwrap_or_else(|e| panic!("fixed manifest failed: {e}"))
            .graph
    })
}

fuzz_target!(|data: &[u8]| {
    let g = graph();
    let _ = ggninja_importer::dyndep::parse(g, "dd", data);
});
