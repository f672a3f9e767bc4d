use super::*;
use crate::builder::{Entry, ThunkBuilder};
use crate::bundles::Bundles;
use crate::hash_cache::HashCache;
use crate::known_inputs::KnownInputs;
use ggninja_footprint::Kind as FootprintKind;

fn graph(text: &str) -> Graph {
    let text = format!("rule r\n  command = run $in\n{text}");
    let options = ggninja_importer::Options::default();
    (ggninja_importer::parse_str("build.ninja", text.as_bytes(), &options))
        .expect("test manifest parses")
        .graph
}

/// What a scanner finds in `run in.txt`, taken for a compile (so a
/// directory input is named, see `Footprint::walks_dirs`): the program,
/// its source, and `extra` files (absolute).
fn scanned(dir: &Path, extra: &[&str]) -> ScannerFootprint {
    ScannerFootprint {
        argv: vec!["run".into(), "in.txt".into()],
        kind: FootprintKind::Compile,
        executable: PathBuf::from("/bin/sh"),
        sources: std::iter::once(dir.join("in.txt"))
            .chain(extra.iter().map(|e| dir.join(e)))
            .collect(),
        headers: Vec::new(),
        absent: Vec::new(),
        toolchain: Arc::default(),
        outputs: vec![dir.join("out")],
        embeds_cwd: false,
        effects: Vec::new(),
        patterns: Vec::new(),
        collation: None,
    }
}

/// The thunk of `out` in `g` (build dir `dir`) with `keys` (of binary
/// `identity`) taken and kept.
fn thunk(
    dir: &Path,
    g: &Graph,
    fp: &ScannerFootprint,
    keys: &KeptKeys,
    identity: &str,
) -> EdgeThunk {
    let roots = Roots::new(dir.to_path_buf(), None);
    assert!(keys.context(identity, &roots, g).is_some());
    let (cache, bundles, known) = (
        HashCache::default(),
        Bundles::default(),
        KnownInputs::default(),
    );
    let scan = |_: &Graph, _: BuildId| Ok(fp.clone());
    let mut tb = ThunkBuilder::new(g, &roots, &cache, &bundles, &known, &scan, false);
    tb.kept = Some(keys);
    let b = g.file(g.lookup("out").unwrap()).in_build.unwrap();
    tb.build(b);
    match tb.done.remove(&b) {
        Some(Entry::Thunk(t)) => *t,
        _ => panic!("out has a thunk"),
    }
}

/// The key of `out` as a run of binary `identity` gives it with the keys
/// saved in `dir` (saving them after), and whether it was kept.
fn key(dir: &Path, g: &Graph, fp: &ScannerFootprint, identity: &str) -> (ContentHash, bool) {
    let keys = KeptKeys::load(dir);
    let t = thunk(dir, g, fp, &keys, identity);
    keys.save(dir);
    (t.hash, t.is_kept())
}

/// The key the builder makes anew, no key kept.
fn made(dir: &Path, g: &Graph, fp: &ScannerFootprint) -> ContentHash {
    let none = tempfile::tempdir().unwrap();
    let t = thunk(dir, g, fp, &KeptKeys::load(none.path()), "any");
    assert!(!t.is_kept());
    t.hash
}

/// A kept key is taken only while what it rested on holds, and is then
/// the key the builder makes anew: each way it can go stale (an input's
/// bytes, an input become a directory, the footprint, the graph, the
/// binary, the file damaged or of another version) makes it again.
#[test]
fn a_kept_key_is_the_key_made_anew_while_what_it_rested_on_holds() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("in.txt"), "one").unwrap();
    std::fs::write(dir.join("more.txt"), "more").unwrap();
    let g = graph("build out: r in.txt\n");
    let fp = scanned(dir, &[]);
    let first = key(dir, &g, &fp, "v1");
    assert!(!first.1);
    assert_eq!(key(dir, &g, &fp, "v1"), (first.0, true));
    // An input's bytes.
    std::fs::write(dir.join("in.txt"), "two").unwrap();
    let two = key(dir, &g, &fp, "v1");
    assert_eq!(two, (made(dir, &g, &fp), false));
    assert_ne!(two.0, first.0);
    assert_eq!(key(dir, &g, &fp, "v1"), (two.0, true));
    // What the scanner found.
    let more = scanned(dir, &["more.txt"]);
    assert_eq!(key(dir, &g, &more, "v1"), (made(dir, &g, &more), false));
    // The graph's shape, the binary.
    let other = graph("build out: r in.txt\nbuild x: r out\n");
    assert_eq!(key(dir, &other, &fp, "v1"), (made(dir, &other, &fp), false));
    assert!(key(dir, &other, &fp, "v1").1);
    assert!(!key(dir, &other, &fp, "v2").1);
    assert!(key(dir, &other, &fp, "v2").1);
    // Damaged, or of another version: none taken.
    let file = dir.join(FILE);
    let bytes = std::fs::read(&file).unwrap();
    let mut damaged = bytes.clone();
    *damaged.last_mut().unwrap() ^= 1;
    std::fs::write(&file, &damaged).unwrap();
    assert!(!key(dir, &other, &fp, "v2").1);
    let mut older = bytes;
    older[..MAGIC.len()].copy_from_slice(b"ggkeys00");
    std::fs::write(&file, &older).unwrap();
    assert!(!key(dir, &other, &fp, "v2").1);
    assert!(key(dir, &other, &fp, "v2").1);
    // An input become a directory.
    std::fs::remove_file(dir.join("in.txt")).unwrap();
    std::fs::create_dir(dir.join("in.txt")).unwrap();
    assert_eq!(key(dir, &other, &fp, "v2"), (made(dir, &other, &fp), false));
}

/// A graph whose shape changes as the build goes (a dyndep binding) keeps
/// no keys.
#[test]
fn a_graph_with_dyndep_keeps_no_keys() {
    let g = graph("build out: r in.txt || dd\n  dyndep = dd\nbuild dd: r\n");
    let roots = Roots::new(PathBuf::from("/b"), None);
    assert_eq!(KeptKeys::default().context("v1", &roots, &g), None);
}

/// A kept key carries the footprint's effects, which a hit does again;
/// other effects are another footprint.
#[test]
fn a_kept_key_carries_its_effects() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("in.txt"), "one").unwrap();
    let g = graph("build out: r in.txt\n");
    let with = |effect: Effect| ScannerFootprint {
        effects: vec![effect],
        ..scanned(dir, &[])
    };
    let made = with(Effect::MakeDir {
        path: dir.join("made"),
        parents: true,
    });
    let keys = KeptKeys::load(dir);
    let first = thunk(dir, &g, &made, &keys, "v1");
    keys.save(dir);
    let again = thunk(dir, &g, &made, &KeptKeys::load(dir), "v1");
    assert!(again.is_kept() && again.hash == first.hash);
    assert_eq!(again.effects, first.effects);
    let removed = with(Effect::RemoveDir(dir.join("made")));
    assert!(!thunk(dir, &g, &removed, &KeptKeys::load(dir), "v1").is_kept());
}
