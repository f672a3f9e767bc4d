//! `-t thunks` and `-t footprint`: each edge as a content-addressed thunk.

mod common;

use std::path::Path;

use common::{ggninja, run, text};
use ggninja_thunk::Thunk;

const MANIFEST: &str = "rule cp\n  command = cp $in $out\nrule up\n  command = tr a-z A-Z < $in > $out\n\
build a.txt: cp src.txt\nbuild b.txt: cp a.txt\nbuild other.txt: cp other.src\nbuild c.txt: up b.txt\n\
build all: phony b.txt c.txt other.txt\n";

fn tree(dir: &Path) {
    std::fs::write(dir.join("build.ninja"), MANIFEST).unwrap();
    std::fs::write(dir.join("src.txt"), "hello\n").unwrap();
    std::fs::write(dir.join("other.src"), "other\n").unwrap();
}

/// output -> (hash or "local:<reason>", whole JSON line)
fn thunks(dir: &Path) -> std::collections::BTreeMap<String, (String, String)> {
    let out = run(dir, &ggninja(), &["-t", "thunks"]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        // Bundle lines (shared toolchain files) have no output.
        .filter(|l| !l.starts_with("{\"bundle\""))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let key = v["output"].as_str().unwrap().to_string();
            let id = match v["hash"].as_str() {
                Some(h) => h.to_string(),
                None => format!("local:{}", v["local_only"].as_str().unwrap()),
            };
            (key, (id, l.to_string()))
        })
        .collect()
}

/// Every line of `-t thunks`, parsed; each thunk's printed hash is checked
/// against the `Thunk` it parses to (the builder writes the canonical JSON
/// itself, which must be exactly `Thunk::canonical`).
fn thunk_lines(dir: &Path) -> Vec<serde_json::Value> {
    checked_lines(run(dir, &ggninja(), &["-t", "thunks"]))
}

/// The lines of a successful `-t thunks` run, checked as `thunk_lines` says.
fn checked_lines(out: std::process::Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for v in lines.iter().filter(|v| v.get("thunk").is_some()) {
        let thunk: Thunk = serde_json::from_value(v["thunk"].clone()).unwrap();
        assert_eq!(thunk.hash().to_string(), v["hash"].as_str().unwrap(), "{v}");
    }
    lines
}

#[test]
fn identical_edges_hash_alike_in_any_directory() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    tree(a.path());
    tree(b.path());
    let (ta, tb) = (thunks(a.path()), thunks(b.path()));
    assert_eq!(ta, tb, "thunks differ between two copies of one tree");
    assert!(
        !ta["a.txt"].1.contains(a.path().to_str().unwrap()),
        "absolute path leaked: {}",
        ta["a.txt"].1
    );
    assert!(ta["a.txt"].0.starts_with('T'));
    // b.txt names a.txt by the thunk that makes it.
    assert!(
        ta["b.txt"]
            .1
            .contains(&format!("\"thunk\":\"{}\"", ta["a.txt"].0)),
        "{}",
        ta["b.txt"].1
    );
    // A shell redirection cannot be captured: local-only, with the reason.
    assert_eq!(ta["c.txt"].0, "local:redirection");
}

/// `cp`'s shared libraries are one bundle, printed once before the thunks
/// that name it, and `-t footprint` lists its files.
#[test]
fn toolchain_files_are_one_bundle_listed_once() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let lines = thunk_lines(dir.path());
    let bundles: Vec<&serde_json::Value> =
        lines.iter().filter(|v| v.get("bundle").is_some()).collect();
    assert_eq!(bundles.len(), 1, "{lines:?}");
    let name = bundles[0]["bundle"].as_str().unwrap();
    assert!(name.starts_with('V'));
    let files = bundles[0]["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f["path"].as_str().unwrap().contains("libc.so")),
        "{files:?}"
    );
    let a = lines.iter().find(|v| v["output"] == "a.txt").unwrap();
    assert!(
        a["thunk"]["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["bundle"] == name),
        "{a}"
    );
    let fp = text(&run(dir.path(), &ggninja(), &["-t", "footprint", "a.txt"]));
    assert!(fp.contains("libc.so"), "{fp}");
}

#[test]
fn a_changed_input_changes_its_thunk_and_every_thunk_downstream() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let before = thunks(dir.path());
    std::fs::write(dir.path().join("src.txt"), "changed\n").unwrap();
    let after = thunks(dir.path());
    assert_ne!(before["a.txt"].0, after["a.txt"].0);
    assert_ne!(
        before["b.txt"].0, after["b.txt"].0,
        "linked thunk did not change"
    );
    assert_eq!(
        before["other.txt"].0, after["other.txt"].0,
        "unrelated thunk changed"
    );
    assert!(
        dir.path().join(".ggninja_hashes").exists(),
        "hash cache not saved"
    );
}

#[test]
fn footprint_lists_inputs_with_hashes_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let out = run(dir.path(), &ggninja(), &["-t", "footprint", "a.txt"]);
    let s = text(&out);
    assert!(out.status.success(), "{s}");
    let line = s
        .lines()
        .find(|l| l.ends_with("/ggroot/build/src.txt"))
        .unwrap_or_else(|| panic!("{s}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert!(fields[0].starts_with('V'), "{line}");
    assert_eq!(fields[1], "6", "size of \"hello\\n\": {line}");
    let out = run(dir.path(), &ggninja(), &["-t", "footprint", "c.txt"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("local-only: redirection"),
        "{}",
        text(&out)
    );
}

/// Lines come in dependency order, and a header the manifest forgot to name
/// (found by the include scan, made by another edge) still links to the
/// thunk that makes it.
#[test]
fn every_thunk_comes_after_the_thunks_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("build.ninja"),
        "rule cc\n  command = cc -c $in -o $out\nrule cp\n  command = cp $in $out\n\
         build main.o: cc main.c\nbuild gen.h: cp gen.h.in\nbuild z.txt: cp gen.h\n",
    )
    .unwrap();
    std::fs::write(
        d.join("main.c"),
        "#include \"gen.h\"\nint main(void) { return X; }\n",
    )
    .unwrap();
    std::fs::write(d.join("gen.h.in"), "#define X 0\n").unwrap();
    // Left by an earlier build: main.o's scan finds it, its manifest does not say so.
    std::fs::write(d.join("gen.h"), "#define X 0\n").unwrap();
    let lines = thunk_lines(d);
    let at = |o: &str| lines.iter().position(|v| v["output"] == o).unwrap();
    let hash = |o: &str| lines[at(o)]["hash"].as_str().unwrap().to_string();
    for (made, user) in [("gen.h", "main.o"), ("gen.h", "z.txt")] {
        assert!(at(made) < at(user), "{made} printed after {user}");
        let inputs = lines[at(user)]["thunk"]["inputs"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            inputs
                .iter()
                .any(|i| i["path"] == "/ggroot/build/gen.h" && i["thunk"] == hash(made).as_str()),
            "{user} does not link to {made}'s thunk: {inputs:?}"
        );
    }
}

/// CMake's static library rule, an `&&` list: one thunk running the list
/// under `/bin/sh -c`, linked to the objects' thunks; the stale archive it
/// removes first is no input. A list running a script is local-only.
#[test]
fn a_command_list_is_one_thunk() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("build.ninja"),
        "rule cc\n  command = cc -c $in -o $out\n\
         rule ar\n  command = : && rm -f $out && ar qc $out $in && ranlib $out && :\n\
         rule gen\n  command = cd sub && python3 gen.py\n\
         build a.o: cc a.c\nbuild b.o: cc b.c\nbuild libx.a: ar a.o b.o\nbuild sub/out.txt: gen\n",
    )
    .unwrap();
    std::fs::write(d.join("a.c"), "int a(void) { return 1; }\n").unwrap();
    std::fs::write(d.join("b.c"), "int b(void) { return 2; }\n").unwrap();
    std::fs::write(d.join("libx.a"), "left by an earlier build").unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/gen.py"), "open('out.txt', 'w').write('x')\n").unwrap();
    let lines = thunk_lines(d);
    let line = |o: &str| lines.iter().find(|v| v["output"] == o).unwrap();
    let lib = &line("libx.a")["thunk"];
    let argv: Vec<&str> = lib["function"]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(argv[..2], ["/bin/sh", "-c"], "{lib}");
    assert!(argv[2].contains("ar qc libx.a a.o b.o"), "{lib}");
    let inputs = lib["inputs"].as_array().unwrap();
    for o in ["a.o", "b.o"] {
        let made = line(o)["hash"].as_str().unwrap();
        let path = format!("/ggroot/build/{o}");
        assert!(
            inputs
                .iter()
                .any(|i| i["path"] == path.as_str() && i["thunk"] == made),
            "libx.a does not link to {o}'s thunk: {lib}"
        );
    }
    assert!(
        !inputs.iter().any(|i| i["path"] == "/ggroot/build/libx.a"),
        "the stale archive is an input: {lib}"
    );
    let why = line("sub/out.txt")["local_only"].as_str().unwrap();
    assert!(why.contains("command list running"), "{why}");
}

/// Phony targets that share their dependencies (CMake's, in LLVM) are each
/// looked through once: 40 levels of two phony targets naming both of the
/// level below make 2^40 paths to the one object.
#[test]
fn shared_phony_targets_are_looked_through_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut manifest = String::from(
        "rule cc\n  command = cc -c $in -o $out\nrule link\n  command = cc $in -o $out\n\
         build a.o: cc a.c\nbuild p0a: phony a.o\nbuild p0b: phony a.o\n",
    );
    for level in 1..40 {
        let below = level - 1;
        for side in ["a", "b"] {
            manifest.push_str(&format!(
                "build p{level}{side}: phony p{below}a p{below}b\n"
            ));
        }
    }
    manifest.push_str("build app: link a.o || p39a p39b\n");
    std::fs::write(d.join("build.ninja"), manifest).unwrap();
    std::fs::write(d.join("a.c"), "int main(void) { return 0; }\n").unwrap();
    // Bounded, so that a regression fails instead of hanging the suite.
    let lines = checked_lines(run(
        d,
        Path::new("timeout"),
        &["60", ggninja().to_str().unwrap(), "-t", "thunks", "app"],
    ));
    let line = |o: &str| lines.iter().find(|v| v["output"] == o).unwrap();
    let object = line("a.o")["hash"].as_str().unwrap();
    let inputs = line("app")["thunk"]["inputs"].as_array().unwrap();
    assert!(
        inputs.iter().any(|i| i["thunk"] == object),
        "app does not link to a.o's thunk: {inputs:?}"
    );
}
