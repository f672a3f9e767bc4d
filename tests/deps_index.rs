//! The deps log's index (`.ggninja_deps_index`, executor/src/deps_index.rs):
//! the ways it can go stale, each followed by runs side by side with ninja
//! 1.13.2 on the same tree. An index trusted when stale would give an
//! output the deps its log no longer records, and the rebuilds would
//! differ: a header edited, a source renamed in the log, a dep gone.
//!
//! The tree's log is over the 64 KiB from which ggninja indexes a log.

mod common;

use std::fs;
use std::path::Path;

use common::parity::{mask_digits, Pair, Side};
use common::{ggninja, run, text};

const INDEX: &str = ".ggninja_deps_index";
const OUTPUTS: usize = 800;
const SHARED: usize = 10;

/// OUTPUTS compiles with `deps = gcc`, each depfile naming the source, its
/// own header and SHARED shared ones.
fn manifest() -> String {
    let shared: Vec<String> = (0..SHARED)
        .map(|i| format!("include/shared_header_{i}.h"))
        .collect();
    let mut m = format!(
        "rule cc\n  command = printf '%s: %s %s {}\\n' $out $in $hdr > $out.d && cat $in $hdr > $out\n  \
         depfile = $out.d\n  deps = gcc\n",
        shared.join(" ")
    );
    for i in 0..OUTPUTS {
        m += &format!("build obj/unit_{i}.o: cc src/unit_{i}.c\n  hdr = include/unit_{i}.h\n");
    }
    m
}

fn tree() -> Option<Pair> {
    let p = Pair::with_manifest(common::ninja113()?, &manifest());
    p.both(|s| {
        for d in ["src", "include"] {
            fs::create_dir_all(s.path().join(d)).unwrap();
        }
        for i in 0..OUTPUTS {
            write(s, &format!("src/unit_{i}.c"), &format!("int f{i};\n"));
            write(s, &format!("include/unit_{i}.h"), &format!("// {i}\n"));
        }
        for i in 0..SHARED {
            write(s, &format!("include/shared_header_{i}.h"), "\n");
        }
    });
    Some(p)
}

fn write(s: &Side, rel: &str, text: &str) {
    fs::write(s.path().join(rel), text).unwrap();
}

/// Whether ggninja in `dir` takes its deps log's records from the index
/// now (a dry run, which saves none).
fn uses_index(dir: &Path) -> bool {
    let out = run(dir, &ggninja(), &["-n", "-d", "stats"]);
    assert!(out.status.success(), "{}", text(&out));
    text(&out).contains(".ggninja_deps_index apply")
}

/// Builds on both sides twice (the change, then a no-op), compares the
/// files left.
fn build_alike(p: &mut Pair, what: &str) {
    p.compare(&["-j1"]);
    p.compare(&["-j1"]);
    p.compare_files(what);
}

/// Runs real ninja in both trees (so ggninja's log gets ninja's records).
fn ninja_in_both(p: &Pair, args: &[&str]) {
    let ninja = common::ninja113().expect("ninja 1.13.2");
    p.both(|s| {
        let out = run(s.path(), &ninja, args);
        assert!(out.status.success(), "{}", text(&out));
    });
}

#[test]
fn the_index_is_used_only_while_the_log_it_stands_for_is_unchanged() {
    let Some(mut p) = tree() else { return };
    let gg = p.gg.path().to_path_buf();
    p.compare(&["-j1"]);
    assert!(!gg.join(INDEX).exists(), "the log was empty when loaded");
    assert!(!uses_index(&gg));
    assert!(!gg.join(INDEX).exists(), "a dry run saves none");
    p.compare(&["-j1"]);
    assert!(
        gg.join(INDEX).exists(),
        "made by the load that read the log"
    );
    assert!(uses_index(&gg));

    // A header edited: its output rebuilt, its record appended after the
    // bytes the index stands for.
    p.both(|s| write(s, "include/unit_5.h", "// edited\n"));
    build_alike(&mut p, "a header edited");
    assert!(uses_index(&gg), "the index, and the record after it");
    p.both(|s| write(s, "include/unit_5.h", "// again\n"));
    build_alike(&mut p, "the header edited again");

    // ninja appends to the log ggninja indexed.
    p.both(|s| write(s, "src/unit_9.c", "int nine;\n"));
    ninja_in_both(&p, &["-j1"]);
    assert!(uses_index(&gg));
    p.both(|s| write(s, "include/unit_9.h", "// nine\n"));
    build_alike(&mut p, "a header edited after ninja's build");

    // The log rewritten in place, its length kept: unit_1's header, as
    // the log names it, becomes one newer than its output, so both
    // rebuild unit_1 (an index trusted would name the old one).
    p.both(|s| {
        write(s, "include/unit_1.x", "// newer\n");
        let log = s.path().join(".ninja_deps");
        let mut bytes = fs::read(&log).unwrap();
        let name = b"include/unit_1.h";
        let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
        bytes[at + name.len() - 1] = b'x';
        fs::write(&log, bytes).unwrap();
    });
    assert!(!uses_index(&gg), "the log's bytes changed");
    build_alike(&mut p, "the log rewritten in place");
    assert!(uses_index(&gg), "made anew");

    // Recompacted by ninja.
    ninja_in_both(&p, &["-t", "recompact"]);
    assert!(!uses_index(&gg), "recompacted");
    p.both(|s| write(s, "include/shared_header_3.h", "// all\n"));
    build_alike(&mut p, "a shared header edited after a recompaction");

    // Another graph: an edge added to the manifest.
    p.both(|s| {
        let m = manifest() + "build obj/extra.o: cc src/unit_0.c\n  hdr = include/unit_0.h\n";
        write(s, "build.ninja", &m);
    });
    assert!(!uses_index(&gg), "another graph");
    // (Each tree's mtimes are its own.)
    p.compare_with(&["-t", "deps", "obj/unit_2.o"], mask_digits);
    p.both(|s| write(s, "include/unit_2.h", "// two\n"));
    build_alike(&mut p, "a header edited after a manifest edit");

    // The log cut short within the bytes the index stands for.
    p.compare(&["-j1"]);
    assert!(uses_index(&gg));
    p.both(|s| {
        let log = fs::OpenOptions::new()
            .write(true)
            .open(s.path().join(".ninja_deps"))
            .unwrap();
        let len = log.metadata().unwrap().len();
        log.set_len(len / 2 + 1).unwrap();
    });
    build_alike(&mut p, "the log cut short");
    p.finish();
}

/// A damaged index is ignored, then made anew; one copied from another
/// tree is not used.
#[test]
fn a_damaged_or_foreign_index_is_not_used() {
    let Some(mut p) = tree() else { return };
    let gg = p.gg.path().to_path_buf();
    p.compare(&["-j1"]);
    p.compare(&["-j1"]);
    let index = gg.join(INDEX);
    let bytes = fs::read(&index).unwrap();
    for (what, damaged) in [
        ("cut short", bytes[..bytes.len() / 2].to_vec()),
        ("a byte changed", {
            let mut b = bytes.clone();
            let mid = b.len() / 2;
            b[mid] ^= 1;
            b
        }),
        ("empty", Vec::new()),
    ] {
        fs::write(&index, &damaged).unwrap();
        assert!(!uses_index(&gg), "{what}");
        p.both(|s| write(s, "include/unit_7.h", &format!("// {what}\n")));
        build_alike(&mut p, what);
        assert!(uses_index(&gg), "{what}: made anew");
    }
    // Another tree's: its log differs (another output rebuilt there).
    let other = tree().expect("ninja 1.13.2");
    run(other.gg.path(), &ggninja(), &["-j1"]);
    fs::write(other.gg.path().join("src/unit_3.c"), "int three;\n").unwrap();
    run(other.gg.path(), &ggninja(), &["-j1"]);
    run(other.gg.path(), &ggninja(), &["-j1", "-t", "recompact"]);
    run(other.gg.path(), &ggninja(), &["-j1"]);
    fs::copy(other.gg.path().join(INDEX), &index).unwrap();
    assert!(!uses_index(&gg), "another tree's");
    p.both(|s| write(s, "include/unit_8.h", "// eight\n"));
    build_alike(&mut p, "another tree's index");
    p.finish();
}
