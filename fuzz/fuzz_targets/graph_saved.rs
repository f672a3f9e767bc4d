#![no_main]
//! `.ggninja_graph`'s payload: `ggninja_graph::saved::from_bytes`. A graph
//! that passes the check is then used as a build would use it (every
//! accessor must stay in bounds) and must survive a round trip.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(g) = ggninja_graph::saved::from_bytes(data) else {
        return;
    };
    let _ = g.node_count();
    for &f in g.file_nodes() {
        let _ = g.path(f);
        let _ = g.path_number(f);
        let _ = g.file(f).in_build;
        let _ = g.consumers(f).count();
        let _ = g.validation_consumers(f).count();
        let _ = g.lookup(g.path(f));
    }
    for &b in &g.builds {
        let build = g.build(b);
        for &f in build.ins.iter().chain(&build.outs).chain(build.validations.iter()) {
            let _ = g.path(f);
        }
        let _ = build.explicit_ins();
        let _ = build.dirtying_ins();
        let _ = build.explicit_outs();
        let _ = g.is_phony(b);
        let _ = g.rule_name(b);
        let _ = g.command(b, true);
        let _ = g.command(b, false);
        let _ = g.binding_bool(b, "restat");
    }
    let _ = g.default_targets();
    let _ = g.roots();
    let bytes = ggninja_graph::saved::to_bytes(&g);
    ggninja_graph::saved::from_bytes(&bytes).expect("a checked graph reads back");
});
