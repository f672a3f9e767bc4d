//! `--cache`: memoized execution on a real CMake project.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{cmake, copy_dir, count, fixture, ggninja, require_bwrap, require_tool, text};

struct Project {
    _tmp: tempfile::TempDir,
    src: PathBuf,
    build: PathBuf,
    store: PathBuf,
}

impl Project {
    fn new() -> Option<Project> {
        Project::with_args(&[])
    }

    /// The fixture configured (with extra cmake `args`) in `build`.
    fn with_args(args: &[&str]) -> Option<Project> {
        require_tool("cmake")?;
        let tmp = tempfile::tempdir().unwrap();
        let (src, build, store) = (
            tmp.path().join("src"),
            tmp.path().join("build"),
            tmp.path().join("store"),
        );
        copy_dir(&fixture("cmake-demo"), &src);
        let p = Project {
            _tmp: tmp,
            src,
            build,
            store,
        };
        p.configure(&p.build, args);
        Some(p)
    }

    /// Configures the source tree into another build directory.
    fn configure(&self, build: &Path, args: &[&str]) {
        cmake::configure(&self.src, build, Some(&ggninja()), args);
    }

    /// Runs ggninja with `--cache -d explain`; returns (ok, stdout+stderr).
    fn gg(&self, args: &[&str]) -> (bool, String) {
        self.gg_in(&self.build, args)
    }

    fn gg_in(&self, build: &Path, args: &[&str]) -> (bool, String) {
        let out = Command::new(ggninja())
            .args(["--cache", "--store"])
            .arg(&self.store)
            .args(["-d", "explain"])
            .args(args)
            .current_dir(build)
            .env("NINJA_STATUS", "")
            .output()
            .unwrap();
        (out.status.success(), text(&out))
    }

    fn clean(&self) {
        self.clean_in(&self.build);
    }

    /// Cleans the build dir and builds it again as `gg` does, asserting
    /// success; returns the build's output.
    fn rebuild(&self) -> String {
        self.clean();
        let (ok, log) = self.gg(&[]);
        assert!(ok, "{log}");
        log
    }

    fn clean_in(&self, build: &Path) {
        let out = Command::new(ggninja())
            .args(["-t", "clean"])
            .current_dir(build)
            .output()
            .unwrap();
        assert!(out.status.success());
    }

    /// Object files, archives and executables with their contents
    /// (`libstrutil.a` is over `STREAMED`: a hit copies it out of its
    /// object's file).
    fn products(&self) -> Vec<(String, Vec<u8>)> {
        self.products_in(&self.build)
    }

    fn products_in(&self, build: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v = Vec::new();
        let mut stack = vec![build.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "o" || x == "a")
                    || ["calc", "greet", "palette", "shapeinfo"]
                        .iter()
                        .any(|n| p.ends_with(n))
                {
                    v.push((
                        p.strip_prefix(build).unwrap().display().to_string(),
                        std::fs::read(&p).unwrap(),
                    ));
                }
            }
        }
        v.sort();
        v
    }

    fn ctest(&self) {
        self.ctest_in(&self.build);
    }

    fn ctest_in(&self, build: &Path) {
        cmake::ctest(build, &[]);
    }
}

/// Edges reused from the store (each output's object verified, a
/// symlink's target too).
fn reused_objects(log: &str) -> usize {
    count(log, "reusing the outputs")
}

/// The library's symlinks (`libshapes.so.1`, `libshapes.so`) and what
/// they point to; None for a path that is not a symlink.
fn library_links(build: &Path) -> Vec<(&'static str, Option<PathBuf>)> {
    ["libshapes.so.1", "libshapes.so"]
        .into_iter()
        .map(|l| (l, std::fs::read_link(build.join(l)).ok()))
        .collect()
}

#[test]
fn warm_store_rebuild_restores_identical_outputs() {
    let Some(p) = Project::new() else { return };
    let (ok, cold) = p.gg(&[]);
    assert!(ok, "{cold}");
    assert_eq!(count(&cold, "reusing the outputs"), 0, "{cold}");
    let cold_products = p.products();
    assert!(
        cold_products.len() >= 16,
        "{} products",
        cold_products.len()
    );
    let cold_links = library_links(&p.build);
    assert!(
        cold_links.iter().all(|(_, t)| t.is_some()),
        "{cold_links:?}"
    );
    let warm = p.rebuild();
    let links_reused = (warm.lines())
        .any(|l| l.contains("reusing the outputs") && l.ends_with(" for libshapes.so.1"));
    assert!(links_reused, "{warm}");
    // Restored as symlinks to the same targets, not as copies of the library.
    assert_eq!(library_links(&p.build), cold_links);
    let memoizable = count(&cold, "is not memoized");
    assert!(
        memoizable >= 16,
        "only {memoizable} edges were memoizable:\n{cold}"
    );
    assert_eq!(count(&warm, "reusing the outputs"), memoizable, "{warm}");
    assert_eq!(
        p.products(),
        cold_products,
        "restored outputs differ from the built ones"
    );
    p.ctest();
    // And the tree is up to date for ggninja afterwards.
    let (ok, again) = p.gg(&[]);
    assert!(ok && again.contains("no work to do."), "{again}");
}

/// `-t deps` without the stamps (a rebuild's differ).
fn deps_of(build: &Path) -> String {
    let out = Command::new(ggninja())
        .args(["-t", "deps"])
        .current_dir(build)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let deps = String::from_utf8_lossy(&out.stdout);
    let unstamped = deps
        .lines()
        .map(|l| l.split(", deps mtime").next().unwrap_or(l));
    unstamped.collect::<Vec<_>>().join("\n")
}

/// Depfiles (`*.d`) left in the build tree.
fn depfiles_in(build: &Path) -> usize {
    let mut stack = vec![build.to_path_buf()];
    let mut n = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            match p.is_dir() {
                true => stack.push(p),
                false => n += usize::from(p.extension().is_some_and(|x| x == "d")),
            }
        }
    }
    n
}

/// A hit hands its `deps = gcc` depfile to the build instead of writing
/// it: the deps log gets what a run gives it, and no depfile is left,
/// as after a run (not even a stale one found there); with `-d
/// keepdepfile` the depfiles are written.
#[test]
fn a_hit_logs_the_deps_a_run_does() {
    let Some(p) = Project::new() else { return };
    assert!(p.gg(&[]).0);
    let (ran, left) = (deps_of(&p.build), depfiles_in(&p.build));
    assert!(ran.matches("#deps").count() >= 16, "{ran}");
    let object = ran.lines().find_map(|l| l.split_once(".o: ")).unwrap().0;
    p.clean();
    let stale = p.build.join(format!("{object}.o.d"));
    std::fs::write(&stale, format!("{object}.o: /stale.h\n")).unwrap();
    let (ok, warm) = p.gg(&[]);
    assert!(ok && count(&warm, "reusing the outputs") >= 16, "{warm}");
    assert!(!stale.exists());
    assert_eq!(deps_of(&p.build), ran);
    assert_eq!((depfiles_in(&p.build), left), (0, 0));
    p.clean();
    let (ok, log) = p.gg(&["-d", "keepdepfile"]);
    assert!(ok && count(&log, "reusing the outputs") >= 16, "{log}");
    assert_eq!(deps_of(&p.build), ran);
    assert!(depfiles_in(&p.build) >= 16);
}

/// A memo hit holds a `-j` slot until the build takes it back, as a command
/// does: at `-j1` the log's times of a warm rebuild follow one another
/// instead of every hit starting before the first is taken back.
#[test]
fn memo_hits_take_their_turn_in_the_log() {
    let Some(p) = Project::new() else { return };
    let (ok, cold) = p.gg(&[]);
    assert!(ok, "{cold}");
    p.clean();
    let _ = std::fs::remove_file(p.build.join(".ninja_log"));
    let (ok, warm) = p.gg(&["-j1"]);
    assert!(ok && count(&warm, "reusing the outputs") >= 16, "{warm}");
    let log = std::fs::read_to_string(p.build.join(".ninja_log")).unwrap();
    let mut spans: Vec<(u64, u64)> = log
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t').map(|n| n.parse::<u64>());
            Some((f.next()?.ok()?, f.next()?.ok()?))
        })
        .collect();
    spans.sort();
    spans.dedup();
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "edges overlap at -j1: {w:?}\n{log}");
    }
}

#[test]
fn corrupt_objects_are_never_used() {
    let Some(p) = Project::new() else { return };
    assert!(p.gg(&[]).0);
    let good = p.products();
    // Truncate every other stored object and flip a byte of the rest.
    for (i, e) in std::fs::read_dir(p.store.join("objects"))
        .unwrap()
        .enumerate()
    {
        let path = e.unwrap().path();
        let mut data = std::fs::read(&path).unwrap();
        if i % 2 == 0 && data.len() > 1 {
            data.truncate(data.len() / 2);
        } else if let Some(b) = data.first_mut() {
            *b ^= 0xff;
        } else {
            data.push(1);
        }
        std::fs::write(&path, data).unwrap();
    }
    let log = p.rebuild();
    assert_eq!(reused_objects(&log), 0, "a corrupt object was used:\n{log}");
    assert_eq!(p.products(), good);
    p.ctest();
    // The rebuild stored good objects again.
    let log = p.rebuild();
    assert!(count(&log, "reusing the outputs") >= 16, "{log}");
}

/// On a copy-on-write file system a big output is stored as a clone of
/// the file the run wrote, sharing its blocks; an edit of that file in
/// place leaves the object as it was (the next hit still finds it intact
/// and restores the bytes built, with their mode); an object damaged in
/// place is not given out.
#[test]
fn a_big_output_is_stored_as_a_clone_on_a_copy_on_write_file_system() {
    use std::os::unix::fs::PermissionsExt;
    let Some(cow) = common::cow::CowDir::new() else {
        return;
    };
    let manifest = "rule cp\n  command = cp $in $out\nbuild prog: cp prog.in\n";
    let (dir, store) = small_tree(cow.path(), &[("build.ninja", manifest)]);
    let built: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let input = dir.join("prog.in");
    std::fs::write(&input, &built).unwrap();
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o755)).unwrap();
    let prog = dir.join("prog");
    let rebuilt = || {
        remove(&dir, &["prog"]);
        text(&cached_build(&dir, &store, &[]))
    };
    cached_build(&dir, &store, &[]);
    let object = (std::fs::read_dir(store.join("objects")).unwrap())
        .map(|e| e.unwrap().path())
        .find(|o| std::fs::metadata(o).unwrap().len() == built.len() as u64)
        .unwrap();
    assert!(
        common::cow::shares_blocks(&object),
        "the object was written"
    );
    // The file the run wrote, written over in place: only it changes.
    write_in_place(&prog, 500_000, b"edited");
    let log = rebuilt();
    assert_eq!(
        reused_objects(&log),
        1,
        "the edit reached the store:\n{log}"
    );
    assert!(std::fs::read(&prog).unwrap() == built, "{log}");
    let mode = std::fs::metadata(&prog).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    // The store's object damaged in place: the command runs again.
    write_in_place(&object, 0, b"X");
    let log = rebuilt();
    assert_eq!(
        reused_objects(&log),
        0,
        "a damaged object was given out:\n{log}"
    );
    assert!(std::fs::read(&prog).unwrap() == built, "{log}");
}

/// Writes `bytes` over what `path` holds at `offset`, in place.
fn write_in_place(path: &Path, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(bytes, offset).unwrap();
}

/// Memo entries whose objects were pruned from the store: the commands
/// run again and the entries are made good.
#[test]
fn a_memo_entry_without_its_objects_reruns() {
    let Some(p) = Project::new() else { return };
    assert!(p.gg(&[]).0);
    let good = p.products();
    std::fs::remove_dir_all(p.store.join("objects")).unwrap();
    std::fs::create_dir(p.store.join("objects")).unwrap();
    let log = p.rebuild();
    assert_eq!(reused_objects(&log), 0, "{log}");
    assert_eq!(p.products(), good);
    let log = p.rebuild();
    assert!(count(&log, "reusing the outputs") >= 16, "{log}");
}

#[test]
fn comment_change_reruns_the_compile_and_reuses_what_follows() {
    let Some(p) = Project::new() else { return };
    assert!(p.gg(&[]).0);
    let before = p.products();
    // A comment at the end of an existing line: no line numbers move.
    let src = p.src.join("apps/calc.c");
    let text0 = std::fs::read_to_string(&src).unwrap();
    let first_newline = text0.find('\n').unwrap();
    let edited = format!(
        "{} /* comment only */{}",
        &text0[..first_newline],
        &text0[first_newline..]
    );
    std::fs::write(&src, edited).unwrap();
    let (ok, log) = p.gg(&[]);
    assert!(ok, "{log}");
    let obj = before
        .iter()
        .find(|(n, _)| n.ends_with("calc.c.o"))
        .unwrap();
    let after = p.products();
    let obj_after = after.iter().find(|(n, _)| *n == obj.0).unwrap();
    assert!(
        log.lines()
            .any(|l| l.ends_with(" for CMakeFiles/calc.dir/apps/calc.c.o is not memoized")),
        "the compile did not run:\n{log}"
    );
    // The comment changes nothing in the object, so the link's inputs are
    // the same content and the link is a hit.
    assert!(
        obj.1 == obj_after.1,
        "a comment-only edit changed {}",
        obj.0
    );
    assert!(
        log.lines()
            .any(|l| l.contains("reusing the outputs") && l.ends_with(" for calc")),
        "identical object but the link ran again:\n{log}"
    );
}

/// A hit names each object it restores by the hash it restored, for the
/// edges reading it (it is not read again), only while the object's stat
/// is the one it had when written: an object edited afterwards to the same
/// size and mtime (its ctime moves) is read again, so the link that reads
/// it is not reused.
#[test]
fn a_restored_object_edited_to_the_same_size_is_read_again() {
    let Some(p) = Project::new() else { return };
    assert!(p.gg(&[]).0);
    let log = p.rebuild();
    assert!(
        log.lines()
            .any(|l| l.contains("reusing the outputs") && l.ends_with(" for calc")),
        "the warm rebuild did not reuse the link:\n{log}"
    );
    let obj = p.build.join("CMakeFiles/calc.dir/apps/calc.c.o");
    let mut bytes = std::fs::read(&obj).unwrap();
    // The compiler's name in `.comment`: the link does not care.
    let at = bytes.windows(5).position(|w| w == b"GCC: ").unwrap();
    bytes[at] = b'g';
    let before = std::fs::metadata(&obj).unwrap();
    let stamp = |m: &std::fs::Metadata| m.modified().unwrap();
    while stamp(&std::fs::metadata(&obj).unwrap()) == stamp(&before) {
        std::thread::sleep(std::time::Duration::from_millis(5));
        std::fs::write(&obj, &bytes).unwrap();
    }
    // Its old mtime back (the compile stays clean), and no executable:
    // only the link runs, reading the object.
    let f = std::fs::File::options().write(true).open(&obj).unwrap();
    f.set_modified(stamp(&before)).unwrap();
    drop(f);
    assert_eq!(std::fs::metadata(&obj).unwrap().len(), before.len());
    std::fs::remove_file(p.build.join("calc")).unwrap();
    let (ok, log) = p.gg(&[]);
    assert!(ok, "{log}");
    assert!(
        log.lines()
            .any(|l| l.ends_with(" for calc is not memoized")),
        "the edited object was named by what was restored:\n{log}"
    );
}

#[test]
fn an_unusable_store_only_disables_the_cache() {
    let Some(p) = Project::new() else { return };
    std::fs::write(&p.store, "not a directory").unwrap();
    let (ok, log) = p.gg(&[]);
    assert!(ok, "{log}");
    assert!(log.contains("cache disabled"), "{log}");
    p.ctest();
}

/// A fresh build directory of the same source tree at another path: a
/// command whose output could hold the build dir's path (it names it, as
/// `-I<build>/generated` does, or records the cwd, as `-g` does) must run
/// again; one that cannot (these links) is reused. Either way the outputs
/// equal a normal build's in the new directory.
#[test]
fn another_build_dir_reuses_only_what_cannot_hold_its_path() {
    let release = ["-DCMAKE_BUILD_TYPE=Release"];
    let Some(p) = Project::with_args(&release) else {
        return;
    };
    let Some(ninja) = require_tool("ninja") else {
        return;
    };
    let (ok, first) = p.gg(&[]);
    assert!(ok, "{first}");
    let other = p.build.parent().unwrap().join("elsewhere/build2");
    p.configure(&other, &release);
    let (ok, log) = p.gg_in(&other, &[]);
    assert!(ok, "{log}");
    let compiles = log
        .lines()
        .filter(|l| l.contains(".o is not memoized"))
        .count();
    assert_eq!(
        compiles, 16,
        "every compile names the new build dir:\n{log}"
    );
    for exe in ["calc", "greet", "palette"] {
        assert!(
            log.lines()
                .any(|l| l.contains("reusing the outputs") && l.ends_with(&format!(" for {exe}"))),
            "the link of {exe} sees no path but ran again:\n{log}"
        );
    }
    // shapeinfo's RUNPATH names the build dir.
    assert!(
        log.lines()
            .any(|l| l.ends_with(" for shapeinfo is not memoized")),
        "{log}"
    );
    let reused = p.products_in(&other);
    p.ctest_in(&other);
    p.clean_in(&other);
    let out = Command::new(ninja).current_dir(&other).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(p.products_in(&other), reused, "differs from a normal build");
}

/// Runs ggninja --cache in the build dir under bubblewrap, with the store
/// mounted as `store_mount` says (`--ro-bind` or a tiny tmpfs).
fn gg_with_store_mount(p: &Project, store_mount: &[&str]) -> (bool, String) {
    let out = Command::new("bwrap")
        .args(["--dev-bind", "/", "/"])
        .args(store_mount)
        .arg("--")
        .arg(ggninja())
        .args(["--cache", "--store"])
        .arg(&p.store)
        .args(["-d", "explain"])
        .current_dir(&p.build)
        .env("NINJA_STATUS", "")
        .output()
        .unwrap();
    (out.status.success(), text(&out))
}

/// A store on a full disk: nothing can be stored, the build still succeeds
/// with the right outputs, it says why once, and no half object is left.
#[test]
fn a_full_store_only_stops_storing() {
    let Some(p) = Project::new() else { return };
    if require_bwrap().is_none() {
        return;
    }
    std::fs::create_dir_all(&p.store).unwrap();
    let store = p.store.to_str().unwrap();
    // 8 KiB: room for the directories, not for the objects.
    let (ok, log) = gg_with_store_mount(&p, &["--size", "8192", "--tmpfs", store]);
    assert!(ok, "{log}");
    assert_eq!(count(&log, "results are no longer stored"), 1, "{log}");
    assert_eq!(count(&log, "reusing the outputs"), 0, "{log}");
    p.ctest();
    // Nothing reached the real store (the tmpfs is gone) and the tree is
    // complete: a plain build has nothing to do.
    let (ok, again) = p.gg(&[]);
    assert!(ok && again.contains("no work to do"), "{again}");
}

/// A read-only store (a shared CI cache): hits are still served.
#[test]
fn a_read_only_store_still_serves_hits() {
    let Some(p) = Project::new() else { return };
    if require_bwrap().is_none() {
        return;
    }
    let (ok, cold) = p.gg(&[]);
    assert!(ok, "{cold}");
    let built = p.products();
    p.clean();
    let store = p.store.to_str().unwrap();
    let (ok, log) = gg_with_store_mount(&p, &["--ro-bind", store, store]);
    assert!(ok, "{log}");
    assert_eq!(
        count(&log, "reusing the outputs"),
        count(&cold, "is not memoized"),
        "{log}"
    );
    assert!(!log.contains("warning"), "{log}");
    assert_eq!(p.products(), built);
    p.ctest();
}

/// Editing a header reruns exactly the compiles whose footprint holds it
/// (`-t footprint`); every other compile stays as it was.
#[test]
fn a_header_edit_reruns_exactly_the_thunks_that_read_it() {
    let Some(p) = Project::new() else { return };
    assert!(p.gg(&[]).0);
    let header = p.src.join("src/mathc/mathc.h");
    let mut content = std::fs::read_to_string(&header).unwrap();
    content.push_str("\n/* edited */\n");
    std::fs::write(&header, content).unwrap();

    let objects: Vec<String> = p
        .products()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.ends_with(".o"))
        .collect();
    assert_eq!(objects.len(), 16);
    let mut expected = Vec::new();
    for o in &objects {
        let out = Command::new(ggninja())
            .args(["-t", "footprint", o])
            .current_dir(&p.build)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        if String::from_utf8_lossy(&out.stdout).contains("/src/mathc/mathc.h") {
            expected.push(o.clone());
        }
    }
    let (ok, log) = p.gg(&[]);
    assert!(ok, "{log}");
    let mut rerun: Vec<String> = log
        .lines()
        .filter_map(|l| l.strip_suffix(" is not memoized"))
        .filter_map(|l| l.rsplit_once(" for ").map(|(_, o)| o.to_string()))
        .filter(|o| o.ends_with(".o"))
        .collect();
    rerun.sort();
    expected.sort();
    // mathc's four sources, calc.c and circle.cpp include it.
    assert_eq!(expected.len(), 6, "{expected:?}");
    assert_eq!(rerun, expected, "{log}");
}

/// A successful `--cache` build in `dir` with `-d explain` and `args`.
fn cached_build(dir: &Path, store: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(ggninja())
        .args(["--cache", "--store"])
        .arg(store)
        .args(["-d", "explain"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    out
}

/// A `--cache` build in `dir` with `args`, started (its output piped).
fn spawn_cached(dir: &Path, store: &Path, args: &[&str]) -> std::process::Child {
    Command::new(ggninja())
        .args(["--cache", "--store"])
        .arg(store)
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// `cached_build` with `jobs`: its output.
fn cached_explained(dir: &Path, store: &Path, jobs: &str, args: &[&str]) -> String {
    text(&cached_build(dir, store, &[&[jobs], args].concat()))
}

/// A build dir under `tmp` with `files` written, and a store beside it.
fn small_tree(tmp: &Path, files: &[(&str, &str)]) -> (PathBuf, PathBuf) {
    let (dir, store) = (tmp.join("build"), tmp.join("store"));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    (dir, store)
}

/// Removes `files` from `dir`.
fn remove(dir: &Path, files: &[&str]) {
    for f in files {
        let _ = std::fs::remove_file(dir.join(f));
    }
}

/// A compile whose include scan finds a header that another edge writes,
/// with nothing ordering the two (the manifest forgot the dependency), is
/// never memoized: the two may run at once, so the header hashed need not
/// be the one the compiler read, or not there at all when the thunk is
/// made. It runs, and says why; ninja's `-t missingdeps` names the pair.
#[test]
fn an_edge_reading_what_an_unordered_edge_writes_is_not_memoized() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, store) = (tmp.path().join("b"), tmp.path().join("store"));
    std::fs::create_dir(&d).unwrap();
    let files = [
        (
            "build.ninja",
            "rule cc\n  command = gcc -c $in -o $out\nrule cp\n  command = cp $in $out\n\
             build main.o: cc main.c\nbuild gen.h: cp gen.h.in\n",
        ),
        // Compiles with gen.h or without (when the clean build starts it
        // first): the race is in what the thunk names, not in the build.
        (
            "main.c",
            "#if __has_include(\"gen.h\")\n#include \"gen.h\"\n#endif\n\
             #ifndef X\n#define X 0\n#endif\nint x = X;\n",
        ),
        ("gen.h.in", "#define X 1\n"),
        // Left by an earlier build: the scan finds it.
        ("gen.h", "#define X 1\n"),
    ];
    for (name, text) in files {
        std::fs::write(d.join(name), text).unwrap();
    }
    // One at a time: cp's truncated gen.h is never compiled.
    let gg = |args: &[&str]| cached_explained(&d, &store, "-j1", args);
    let why = "it reads gen.h, which another edge writes without being ordered before it";
    let cold = gg(&[]);
    assert!(cold.contains(why), "{cold}");
    std::fs::remove_file(d.join("main.o")).unwrap();
    std::fs::write(d.join("gen.h.in"), "#define X 2\n").unwrap();
    let again = gg(&[]);
    assert!(again.contains(why), "{again}");
    let reused =
        |out: &str| (again.lines()).any(|l| l.contains("reusing the outputs") && l.ends_with(out));
    assert!(!reused("for main.o"), "{again}");
    // Nor when gen.h is not there yet as the compile's thunk is made:
    // where the include would land is in the footprint too.
    gg(&["-t", "clean"]);
    let clean = gg(&[]);
    assert!(clean.contains(why), "{clean}");
}

impl Project {
    /// `ggninja --store STORE -t cache ARGS`, asserting success.
    fn cache_tool(&self, args: &[&str]) -> String {
        let out = Command::new(ggninja())
            .arg("--store")
            .arg(&self.store)
            .args(["-t", "cache"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    }

    /// The store's size in bytes, as `-t cache stats` says.
    fn store_bytes(&self) -> u64 {
        let stats = self.cache_tool(&["stats"]);
        let line = stats.lines().find(|l| l.starts_with("size:")).unwrap();
        let bytes = line.split('(').nth(1).unwrap();
        bytes.trim_end_matches(" bytes)").parse().unwrap()
    }
}

/// A store evicted to half its size between builds: what is left is
/// reused, the rest runs again, and the outputs are those of the first
/// build.
#[test]
fn a_store_evicted_between_builds_gives_identical_outputs() {
    let Some(p) = Project::new() else { return };
    let (ok, cold) = p.gg(&[]);
    assert!(ok, "{cold}");
    let good = p.products();
    let memoizable = count(&cold, "is not memoized");
    let full = p.store_bytes();
    let half = full / 2;
    let said = p.cache_tool(&["evict-to", &half.to_string()]);
    assert!(said.starts_with("evicted "), "{said}");
    assert!(p.store_bytes() <= half);
    let log = p.rebuild();
    let (hits, reruns) = (
        count(&log, "reusing the outputs"),
        count(&log, "is not memoized"),
    );
    assert!(
        hits > 0 && reruns > 0,
        "{hits} hits, {reruns} reruns:\n{log}"
    );
    assert_eq!(hits + reruns, memoizable, "{log}");
    assert_eq!(p.products(), good, "outputs differ after eviction");
    p.ctest();
    // The reruns were stored again: everything hits.
    let log = p.rebuild();
    assert_eq!(count(&log, "reusing the outputs"), memoizable, "{log}");
    // A limit below what one build stores: the store is brought under it
    // (to 90%) when the build ends, and the outputs are still right.
    p.cache_tool(&["clean"]);
    assert_eq!(p.store_bytes(), 0);
    p.clean();
    let limit = full / 3;
    let (ok, log) = p.gg(&["--cache-size", &limit.to_string()]);
    assert!(ok, "{log}");
    assert!(p.store_bytes() <= limit, "over {limit}");
    let log = p.rebuild();
    assert!(count(&log, "reusing the outputs") > 0, "{log}");
    assert_eq!(p.products(), good);
}

/// Another process evicts, again and again, while a `--cache` build
/// restores and stores: everything (`evict-to 0`, from the start), or,
/// once the build has made its first output, down to three quarters of the
/// store (the entries not used yet go first: eviction races with their
/// restoring). Each hit is whole or a miss, and the build ends with the
/// right outputs.
#[test]
fn eviction_by_another_process_during_a_build_yields_correct_outputs() {
    let Some(p) = Project::new() else { return };
    assert!(p.gg(&[]).0);
    let good = p.products();
    let most = (p.store_bytes() / 4 * 3).to_string();
    let (mut hits, mut reruns) = (0, 0);
    for (round, size) in [&most, "0"].into_iter().enumerate() {
        // Every entry there again.
        p.rebuild();
        p.clean();
        let mut build = Command::new(ggninja())
            .args(["--cache", "--store"])
            .arg(&p.store)
            .args(["-d", "explain", "-j1"])
            .current_dir(&p.build)
            .env("NINJA_STATUS", "")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut removed = 0;
        while build.try_wait().unwrap().is_none() {
            if size == "0" || !p.products().is_empty() {
                let said = p.cache_tool(&["evict-to", size]);
                removed += usize::from(!said.starts_with("evicted 0 entries"));
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let out = build.wait_with_output().unwrap();
        let log = text(&out);
        assert!(out.status.success(), "round {round}: {log}");
        assert!(
            removed > 0,
            "round {round}: nothing evicted during the build"
        );
        assert_eq!(p.products(), good, "round {round}: {log}");
        p.ctest();
        hits += count(&log, "reusing the outputs");
        reruns += count(&log, "is not memoized");
    }
    // Eviction raced with both restoring and storing.
    assert!(hits > 0 && reruns > 0, "{hits} hits, {reruns} reruns");
}

/// A header a memo hit restores is seen by the key of a later edge of
/// the same build, though an edge that started before the hit (one reading
/// it unordered, so run) had stat'ed it: the run's kept stats
/// (`footprint::RunStats`) drop what a hit wrote. Here `out/gen.h` is
/// restored with `X 1` over the `X 2` a build left: `main.o` must be the
/// `X 1` object, not the stored `X 2` one its stale stat would name.
#[test]
fn a_header_a_hit_restores_is_seen_by_a_later_edge_of_the_same_build() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, store) = (tmp.path().join("b"), tmp.path().join("store"));
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::create_dir_all(d.join("out")).unwrap();
    // u.o reads out/gen.h unordered (so it runs), and starts first: three
    // edges wait for it, one for out/gen.h.
    let manifest = "rule cc\n  command = gcc -Iout -c $in -o $out\n\
                    rule cp\n  command = cp $in $out\n\
                    build out/gen.h: cp gen.h.in\nbuild main.o: cc src/main.c | out/gen.h\n\
                    build u.o: cc src/u.c\nbuild u2.o: cc src/u2.c || u.o\n\
                    build u3.o: cc src/u3.c || u2.o\nbuild u4.o: cc src/u4.c || u3.o\n";
    for (name, text) in [
        ("build.ninja", manifest),
        ("src/main.c", "#include <gen.h>\nint x = X;\n"),
        ("src/u.c", "#include <gen.h>\nint u = X;\n"),
        ("src/u2.c", "int u2;\n"),
        ("src/u3.c", "int u3;\n"),
        ("src/u4.c", "int u4;\n"),
    ] {
        std::fs::write(d.join(name), text).unwrap();
    }
    let gg = |args: &[&str]| {
        // Stamps over a second old: walks are kept (git's racy rule).
        std::thread::sleep(std::time::Duration::from_millis(1200));
        cached_explained(&d, &store, "-j2", args)
    };
    let gen = |x: &str| std::fs::write(d.join("gen.h.in"), format!("#define X {x}\n")).unwrap();
    gen("1");
    gg(&["main.o"]);
    let one = std::fs::read(d.join("main.o")).unwrap();
    gen("2");
    gg(&["main.o"]);
    // u.o's walk, with out/gen.h at `X 2`, kept.
    gg(&[]);
    assert_ne!(std::fs::read(d.join("main.o")).unwrap(), one);
    gen("1");
    for u in ["u.o", "u2.o", "u3.o", "u4.o"] {
        std::fs::remove_file(d.join(u)).unwrap();
    }
    let log = gg(&[]);
    assert!(
        log.contains("reusing the outputs") && log.contains("for out/gen.h"),
        "{log}"
    );
    assert!(log.contains("u.o runs locally"), "{log}");
    let object = std::fs::read(d.join("main.o")).unwrap();
    assert!(object == one, "main.o is not the `X 1` object: {log}");
}

/// A file a hit restores over what was a symlink to a directory changes
/// every path through the old link: a later edge's key must not take the
/// stats an earlier check kept through it. Two manifests share a store,
/// as two branches would: `gen` is a link to `inc1` in one and a file in
/// the other, and `b.o` reads `x.h` through `-Igen` before `-Iinc2`. Back
/// on the file's manifest with the link left in place and `c.o` deleted,
/// `c.o`'s kept key is checked through the link (`gen/x.h`), then `gen`
/// comes back as a file: `b.o`'s key must find `inc2/x.h`, the key of the
/// `X 2` object the file's manifest stored. With the stale stat it named
/// `gen/x.h`, missed, ran, and the end of the build took `gen/x.h` for a
/// file edited by hand and sent the hits back.
#[test]
fn a_file_restored_over_a_directory_link_is_seen_by_a_later_edge() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, store) = (tmp.path().join("b"), tmp.path().join("store"));
    let rules = "rule cc\n  command = gcc -Igen -Iinc2 -c $in -o $out\n\
                 rule link\n  command = rm -f $out && ln -s inc1 $out\n\
                 rule file\n  command = cp -T --remove-destination gen.in $out\n\
                 build c.o: cc c.c\nbuild b.o: cc b.c | gen\n";
    let manifest = |gen: &str| format!("{rules}build gen: {gen} | c.o\n");
    std::fs::create_dir_all(d.join("inc1")).unwrap();
    std::fs::create_dir_all(d.join("inc2")).unwrap();
    for (name, text) in [
        ("inc1/x.h", "#define X 1\n"),
        ("inc2/x.h", "#define X 2\n"),
        ("c.c", "#include <x.h>\nint c = X;\n"),
        ("b.c", "#include <x.h>\nint b = X;\n"),
        ("gen.in", "a file\n"),
    ] {
        std::fs::write(d.join(name), text).unwrap();
    }
    std::os::unix::fs::symlink("inc1", d.join("gen")).unwrap();
    let gg = |gen: &str| {
        std::fs::write(d.join("build.ninja"), manifest(gen)).unwrap();
        // Stamps over a second old: walks are kept (git's racy rule).
        std::thread::sleep(std::time::Duration::from_millis(1200));
        cached_explained(&d, &store, "-j1", &[])
    };
    gg("link");
    let one = std::fs::read(d.join("b.o")).unwrap();
    gg("file");
    let two = std::fs::read(d.join("b.o")).unwrap();
    assert_ne!(one, two, "gcc skips -Igen once gen is a file");
    gg("link");
    assert!(d.join("gen").is_symlink());
    std::fs::remove_file(d.join("c.o")).unwrap();
    let log = gg("file");
    assert!(
        log.contains("for gen\n") && log.contains("for b.o\n"),
        "{log}"
    );
    assert!(!log.contains("changed during the build"), "{log}");
    let object = std::fs::read(d.join("b.o")).unwrap();
    assert!(object == two, "b.o is not the `X 2` object: {log}");
}

/// A hit prints what its run printed, byte for byte: a compiler's warning
/// that names the source by its absolute path (kept in the store as the
/// thunk names the build dir, given back as this one), and bytes that are
/// not UTF-8, as they were.
#[test]
fn a_hit_prints_what_the_run_printed() {
    if require_tool("cc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let files = [
        ("w.c", "int f(int x) { if (x) return 1; }\n"),
        ("odd.c", "int g;\n"),
    ];
    let (dir, store) = small_tree(tmp.path(), &files);
    let src = dir.join("w.c");
    let manifest = format!(
        "rule cc\n  command = cc -Wall -c $in -o $out\n\
         rule odd\n  command = echo 'odd \\0377 byte' && cc -c $in -o $out\n\
         build w.o: cc {}\nbuild odd.o: odd odd.c\n",
        src.display()
    );
    std::fs::write(dir.join("build.ninja"), manifest).unwrap();
    let build = || {
        remove(&dir, &["w.o", "odd.o"]);
        cached_build(&dir, &store, &["-j1"])
    };
    let (ran, hit) = (build(), build());
    let said = String::from_utf8_lossy(&ran.stdout);
    let warning = format!("{}:1:", src.display());
    assert!(
        said.contains(&warning) && said.contains("-Wreturn-type"),
        "{said}"
    );
    assert!(ran.stdout.windows(2).any(|w| w == b" \xff"), "{said}");
    let explained = String::from_utf8_lossy(&hit.stderr);
    assert_eq!(count(&explained, "reusing the outputs"), 2, "{explained}");
    assert_eq!(
        String::from_utf8_lossy(&hit.stdout),
        said,
        "the hit printed otherwise"
    );
    assert_eq!(hit.stdout, ran.stdout);
}

/// `-d stats` tallies the hits and the bytes they wrote (what
/// bench/memo_projects.sh sets a hit's CPU against); a build without hits
/// prints no tally.
#[test]
fn stats_tally_the_hits_and_the_bytes_they_wrote() {
    if require_tool("cc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let files = [("a.c", "int a;\n"), ("b.c", "int b(void) { return 2; }\n")];
    let (dir, store) = small_tree(tmp.path(), &files);
    let manifest = "rule cc\n  command = cc -c $in -o $out\nbuild a.o: cc a.c\nbuild b.o: cc b.c\n";
    std::fs::write(dir.join("build.ninja"), manifest).unwrap();
    let tally = |removed: &[&str]| {
        remove(&dir, removed);
        let out = cached_build(&dir, &store, &["-d", "stats"]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = stdout.lines().find(|l| l.starts_with("memo hits:"));
        line.map(str::to_string)
    };
    assert_eq!(tally(&[]), None, "the cold build");
    let size = |f: &str| std::fs::metadata(dir.join(f)).unwrap().len();
    let (a, b) = (size("a.o"), size("b.o"));
    assert_eq!(
        tally(&["a.o", "b.o"]).as_deref(),
        Some(&*format!("memo hits: 2 ({} bytes written)", a + b))
    );
    assert_eq!(
        tally(&["b.o"]).as_deref(),
        Some(&*format!("memo hits: 1 ({b} bytes written)"))
    );
}

/// A compile that writes files besides its object (coverage's `.gcno`,
/// split DWARF's `.dwo`, named after the object as GCC and Clang name
/// them) gets them back from a hit, byte for byte: gcov or a debugger
/// finds them. The coverage link hits too (it compiles nothing); a flag
/// whose files are not named (`-save-temps`) runs every time.
#[test]
fn a_compile_writing_beside_its_object_leaves_those_files_too() {
    if require_tool("cc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let manifest = "rule cov\n  command = cc --coverage -c $in -o $out\n\
                    rule split\n  command = cc -g -gsplit-dwarf -c $in -o $out\n\
                    rule link\n  command = cc --coverage $in -o $out\n\
                    rule temps\n  command = cc -save-temps -c $in -o $out\n\
                    build obj/a.c.o: cov a.c\nbuild b.o: split a.c\n\
                    build prog: link obj/a.c.o\nbuild t.o: temps a.c\n";
    let files = [
        ("a.c", "int main(void) { return 0; }\n"),
        ("build.ninja", manifest),
    ];
    let (dir, store) = small_tree(tmp.path(), &files);
    let side = ["obj/a.c.gcno", "b.dwo"];
    let mut ran = Vec::new();
    for round in 0..2 {
        remove(
            &dir,
            &["obj/a.c.o", "b.o", "prog", "t.o", "obj/a.c.gcno", "b.dwo"],
        );
        let out = text(&cached_build(&dir, &store, &[]));
        let reused = |f: &str| out.contains(&format!("for {f}\n"));
        for f in side {
            let bytes = std::fs::read(dir.join(f));
            assert!(bytes.is_ok(), "round {round}: {f} missing\n{out}");
            ran.push(bytes.unwrap());
        }
        if round == 1 {
            for built in ["obj/a.c.o", "b.o", "prog"] {
                assert!(reused(built), "{built} ran again:\n{out}");
            }
            assert!(out.contains("t.o runs locally: `-save-temps`"), "{out}");
        }
    }
    assert_eq!(ran[..2], ran[2..], "restored files differ from the run's");
}

/// A compile that reads the clock (`__TIME__` in a header it includes)
/// runs every time, as ccache would: a hit would give back the time of an
/// older run.
#[test]
fn a_compile_reading_the_clock_is_never_memoized() {
    if require_tool("cc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let files = [
        ("stamp.h", "#define BUILT __DATE__ \" \" __TIME__\n"),
        ("a.c", "#include \"stamp.h\"\nconst char *built = BUILT;\n"),
        ("b.c", "int b;\n"),
        (
            "build.ninja",
            "rule cc\n  command = cc -c $in -o $out\nbuild a.o: cc a.c\nbuild b.o: cc b.c\n",
        ),
    ];
    let (dir, store) = small_tree(tmp.path(), &files);
    let build = || {
        remove(&dir, &["a.o", "b.o"]);
        text(&cached_build(&dir, &store, &[]))
    };
    build();
    let warm = build();
    let local = "a.o runs locally: stamp.h names __DATE__ or __TIME__";
    assert!(warm.contains(local), "{warm}");
    let hit = warm.contains("reusing the outputs of thunk") && warm.contains(" for b.o");
    assert!(hit, "{warm}");
}

/// Thunks of ready edges are made ahead, in parallel, while hits go on;
/// a command that runs may write what a ready edge reads without saying
/// so (here `x.txt`), so after it the edge's key is made again: the entry
/// stored names the file the command left, never the one before it.
#[test]
fn a_key_made_ahead_is_made_again_after_a_command_runs() {
    if require_tool("cp").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let manifest = "rule sneaky\n  command = cp new.txt x.txt && cp $in $out && date > clock\n\
                    rule cp\n  command = cp $in $out\n\
                    build h.out: cp h.in\nbuild a.out: sneaky a.in\nbuild b.out: cp x.txt\n";
    let files = [
        ("h.in", "h\n"),
        ("a.in", "a\n"),
        ("x.txt", "old\n"),
        ("new.txt", "new\n"),
        ("build.ninja", manifest),
    ];
    let (dir, store) = small_tree(tmp.path(), &files);
    let b_out = || std::fs::read_to_string(dir.join("b.out")).unwrap();
    let old_again = |outs: &[&str]| {
        std::fs::write(dir.join("x.txt"), "old\n").unwrap();
        remove(&dir, outs);
    };
    cached_build(&dir, &store, &["-j1"]);
    assert_eq!(b_out(), "new\n");
    // A hit first (the batch grows), then the command, then b.out.
    old_again(&["h.out", "a.out", "b.out"]);
    let second = text(&cached_build(&dir, &store, &["-j1"]));
    let at = |s: &str| second.find(s).unwrap_or_else(|| panic!("{s}: {second}"));
    assert!(at("cp h.in h.out") < at("cp new.txt") && at("cp new.txt") < at("cp x.txt b.out"));
    assert!(second.contains("reusing the outputs of thunk") && second.contains(" for h.out\n"));
    assert_eq!(b_out(), "new\n");
    // The old text back, b.out alone: no entry may say b.out holds the
    // new text for it.
    old_again(&["b.out"]);
    cached_build(&dir, &store, &["-j1", "b.out"]);
    assert_eq!(b_out(), "old\n");
}

/// A key names the bytes its inputs held when it was made; a command that
/// read others (a source saved while it compiled) must not leave its
/// result under it, or undoing the edit would bring back the object of the
/// edit. Here `in` changes after the key is made, before the command reads
/// it: nothing is stored, and with the old text back the command runs
/// again (as ninja runs it), whose result is then stored.
#[test]
fn an_input_changed_while_its_command_ran_is_not_stored() {
    use std::os::unix::fs::PermissionsExt;
    if require_tool("sh").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let script =
        "#!/bin/sh\n: > started\nwhile [ ! -e go ]; do sleep 0.01; done\ncat \"$1\" > \"$2\"\n";
    let manifest = "rule slowcp\n  command = ./slowcp $in $out\nbuild out: slowcp in | slowcp\n";
    let files = [
        ("slowcp", script),
        ("in", "old\n"),
        ("build.ninja", manifest),
    ];
    let (dir, store) = small_tree(tmp.path(), &files);
    let exec = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(dir.join("slowcp"), exec).unwrap();
    let mut child = spawn_cached(&dir, &store, &["-d", "explain", "-j1"]);
    let waited = std::time::Instant::now();
    while !dir.join("started").exists() {
        if waited.elapsed().as_secs() > 60 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the command never started");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::fs::write(dir.join("in"), "new\n").unwrap();
    std::fs::write(dir.join("go"), "").unwrap();
    let first = child.wait_with_output().unwrap();
    let log = text(&first);
    assert!(first.status.success(), "{log}");
    assert!(
        log.contains("is not stored: ") && log.contains("in changed since it was named"),
        "{log}"
    );
    let out = || std::fs::read_to_string(dir.join("out")).unwrap();
    assert_eq!(out(), "new\n");
    std::fs::write(dir.join("in"), "old\n").unwrap();
    let again = cached_explained(&dir, &store, "-j1", &[]);
    assert!(!again.contains("reusing the outputs"), "{again}");
    assert_eq!(out(), "old\n");
    remove(&dir, &["out"]);
    let warm = cached_explained(&dir, &store, "-j1", &[]);
    assert!(warm.contains("reusing the outputs of thunk"), "{warm}");
    assert_eq!(out(), "old\n");
}

/// A key takes a file's stat once a run (`footprint::RunStats`), so hits
/// after a hand edit may restore outputs for the bytes before it, logged
/// as newer than the edit. Before the stats are dropped and as the build
/// ends they are checked again: those hits are logged so the next build
/// redoes them, and then every output holds the edit (as after ninja).
/// The build is held mid-run by a status pipe nobody reads while the file
/// changes: the hits after that rest on the stat from before.
#[test]
fn a_file_edited_during_a_run_of_hits_sends_them_back() {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    if require_tool("sh").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let n = 300;
    let pad = "x".repeat(2000);
    let mut manifest =
        format!("rule catc\n  command = ./catc $in common $out\n  description = CATC $out {pad}\n");
    for i in 0..n {
        manifest.push_str(&format!("build o{i}: catc i{i} | common catc\n"));
    }
    let script = "#!/bin/sh\ncat \"$1\" \"$2\" > \"$3\"\n";
    let files = [
        ("catc", script),
        ("common", "old\n"),
        ("build.ninja", &manifest),
    ];
    let (dir, store) = small_tree(tmp.path(), &files);
    std::fs::set_permissions(dir.join("catc"), std::fs::Permissions::from_mode(0o755)).unwrap();
    for i in 0..n {
        std::fs::write(dir.join(format!("i{i}")), format!("{i}\n")).unwrap();
    }
    let outs: Vec<PathBuf> = (0..n).map(|i| dir.join(format!("o{i}"))).collect();
    let made = || outs.iter().filter(|o| o.exists()).count();
    cached_build(&dir, &store, &["-j1"]);
    outs.iter().for_each(|o| std::fs::remove_file(o).unwrap());
    let mut child = spawn_cached(&dir, &store, &["-j1"]);
    // Held once it restored some and its count of outputs stays put.
    let waited = std::time::Instant::now();
    while made() == 0 && waited.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (mut last, mut still) = (usize::MAX, 0);
    while still < 6 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = made();
        (still, last) = if now == last {
            (still + 1, now)
        } else {
            (0, now)
        };
    }
    let held = made();
    std::fs::write(dir.join("common"), "new\n").unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut printed = String::new();
    stdout.read_to_string(&mut printed).unwrap();
    let first = child.wait_with_output().unwrap();
    // Without the status lines, which are long.
    let log = printed + &text(&first);
    let log: Vec<&str> = log.lines().filter(|l| !l.starts_with('[')).collect();
    let log = log.join("\n");
    assert!(first.status.success(), "{log}");
    assert!(0 < held && held < n, "held after {held} of {n}");
    let stale = || {
        outs.iter()
            .filter(|o| std::fs::read_to_string(o).unwrap().contains("old"))
            .count()
    };
    assert_eq!(stale(), n, "all restored for the bytes their keys named");
    cached_build(&dir, &store, &["-j1"]);
    assert_eq!(stale(), 0, "{log}");
    assert!(log.contains("common changed during the build"), "{log}");
    let again = cached_explained(&dir, &store, "-j1", &[]);
    assert!(again.contains("no work to do"), "{again}");
}

/// A hit's deps are those its depfile names: the log's, from the last
/// run, are taken without parsing it only when it names exactly them.
/// Here the log holds `b.h` before `a.h` (the last run's order) when a hit
/// of the source naming `a.h` first comes back, then the hit's own order
/// when the same hit comes back again.
#[test]
fn a_hit_logs_its_own_depfile_whatever_the_log_had() {
    if require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let manifest = "rule cc\n  command = gcc -MD -MF $out.d -c $in -o $out\n\
                    \x20 depfile = $out.d\n  deps = gcc\nbuild m.o: cc m.c\n";
    let with = |first: &str, then: &str| {
        format!("#include \"{first}\"\n#include \"{then}\"\nint x = A + B;\n")
    };
    let files = [
        ("a.h", "#define A 1\n"),
        ("b.h", "#define B 2\n"),
        ("build.ninja", manifest),
    ];
    let (dir, store) = small_tree(tmp.path(), &files);
    let deps = || {
        let listed = text(&cached_build(&dir, &store, &["-t", "deps"]));
        let names = listed.lines().filter(|l| l.ends_with(".h"));
        names.map(str::trim).collect::<Vec<_>>().join(" ")
    };
    std::fs::write(dir.join("m.c"), with("a.h", "b.h")).unwrap();
    cached_build(&dir, &store, &[]);
    let ran = deps();
    assert!(ran.ends_with("a.h b.h"), "{ran}");
    std::fs::write(dir.join("m.c"), with("b.h", "a.h")).unwrap();
    cached_build(&dir, &store, &[]);
    assert!(deps().ends_with("b.h a.h"), "{}", deps());
    std::fs::write(dir.join("m.c"), with("a.h", "b.h")).unwrap();
    let hit = cached_explained(&dir, &store, "-j1", &[]);
    assert!(hit.contains("reusing the outputs"), "{hit}");
    assert_eq!(deps(), ran);
    remove(&dir, &["m.o"]);
    let again = cached_explained(&dir, &store, "-j1", &[]);
    assert!(again.contains("reusing the outputs"), "{again}");
    assert_eq!(deps(), ran);
}

/// A warm rebuild takes each compile's key as the last run kept it, and
/// every way such a key can go stale makes it again: the header it named
/// edited, a header put earlier on the include path (shadowing the one it
/// named), the flags in the manifest, the kept keys damaged. A file
/// touched without a change keeps its key. Each time the objects are the
/// compiler's own for the tree as it is.
#[test]
fn a_key_kept_between_runs_serves_only_while_what_it_rested_on_holds() {
    if require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let manifest = |flags: &str| {
        format!(
            "rule cc\n  command = gcc {flags} -Iover -Iinc -MD -MF $out.d -c $in -o $out\n  \
             depfile = $out.d\n  deps = gcc\nbuild a.o: cc a.c\nbuild b.o: cc b.c\n"
        )
    };
    let files = [
        ("a.c", "#include \"h.h\"\nint a(void) { return H; }\n"),
        ("b.c", "int b(void) { return 2; }\n"),
        ("build.ninja", &manifest("-O0")),
    ];
    let (dir, store) = small_tree(tmp.path(), &files);
    std::fs::create_dir_all(dir.join("over")).unwrap();
    std::fs::create_dir_all(dir.join("inc")).unwrap();
    std::fs::write(dir.join("inc/h.h"), "#define H 1\n").unwrap();
    let kept = |log: &str, out: &str| {
        let line = format!("(a key kept from the last run) for {out}\n");
        log.contains(&line)
    };
    // Both objects gone, built again: (a.o kept, b.o kept), each the
    // object gcc makes of the tree now.
    let rebuild = |flags: &str| {
        remove(&dir, &["a.o", "b.o"]);
        let log = cached_explained(&dir, &store, "-j2", &[]);
        for (obj, src) in [("a.o", "a.c"), ("b.o", "b.c")] {
            let reference = Command::new("gcc")
                .args(flags.split_whitespace())
                .args(["-Iover", "-Iinc", "-c", src, "-o", "ref.o"])
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(reference.status.success(), "{}", text(&reference));
            let (built, made) = (dir.join(obj), dir.join("ref.o"));
            let same = std::fs::read(&built).unwrap() == std::fs::read(&made).unwrap();
            assert!(same, "{obj} is not gcc's object of the tree now: {log}");
        }
        (kept(&log, "a.o"), kept(&log, "b.o"), log)
    };
    // The cold build's deps, logged, are the graph's from the next run
    // on: keys are kept under that graph.
    cached_build(&dir, &store, &[]);
    let (a, b, log) = rebuild("-O0");
    assert!(!a && !b, "{log}");
    let (a, b, log) = rebuild("-O0");
    assert!(a && b, "{log}");
    // The header edited (same size): a.o's key is made again.
    std::fs::write(dir.join("inc/h.h"), "#define H 2\n").unwrap();
    let (a, b, log) = rebuild("-O0");
    assert!(!a && b, "{log}");
    // Touched, not changed: still kept.
    let now = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    let h = std::fs::File::options()
        .append(true)
        .open(dir.join("inc/h.h"));
    h.unwrap().set_modified(now).unwrap();
    let (a, b, log) = rebuild("-O0");
    assert!(a && b, "{log}");
    // A header earlier on the path now shadows the one the key named.
    std::fs::write(dir.join("over/h.h"), "#define H 3\n").unwrap();
    let (a, b, log) = rebuild("-O0");
    assert!(!a && b, "{log}");
    // Other flags in the manifest: every key made again.
    std::fs::write(dir.join("build.ninja"), manifest("-O1")).unwrap();
    let (a, b, log) = rebuild("-O1");
    assert!(!a && !b, "{log}");
    let (a, b, log) = rebuild("-O1");
    assert!(a && b, "{log}");
    // The kept keys damaged: none is taken, none is wrong.
    let keys = dir.join(".ggninja_keys");
    let mut bytes = std::fs::read(&keys).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&keys, bytes).unwrap();
    let (a, b, log) = rebuild("-O1");
    assert!(!a && !b, "{log}");
    let (a, b, log) = rebuild("-O1");
    assert!(a && b, "{log}");
}

/// An edge's rspfile is written as it starts, so its key is never made
/// ahead with the next ready edges: made then, it would read what a
/// `-d keeprsp` (or failed) run left, and a hit would restore the object
/// of the old flags (here c.o's, made ahead as a.o starts with `-j1`).
#[test]
fn a_key_reading_an_rspfile_is_made_after_the_rspfile_is_written() {
    if require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let manifest = |c_flags: &str| {
        let edges = [("a", "-DX=1"), ("b", "-DX=1"), ("c", c_flags)]
            .map(|(n, f)| format!("build {n}.o: cc {n}.c\n  flags = {f}\n"));
        format!(
            "rule cc\n  command = gcc @$out.rsp -c $in -o $out\n  rspfile = $out.rsp\n  \
             rspfile_content = $flags\n{}",
            edges.concat()
        )
    };
    let files = [
        ("a.c", "int a(void) { return X; }\n"),
        ("b.c", "int b(void) { return X; }\n"),
        ("c.c", "int c(void) { return X; }\n"),
        ("build.ninja", &manifest("-DX=1")),
    ];
    let (dir, store) = small_tree(tmp.path(), &files);
    let args = ["-j1", "-d", "keeprsp"];
    for _ in 0..3 {
        remove(&dir, &["a.o", "b.o", "c.o"]);
        cached_build(&dir, &store, &args);
    }
    std::fs::write(dir.join("build.ninja"), manifest("-DX=2")).unwrap();
    remove(&dir, &["a.o", "b.o", "c.o"]);
    let log = text(&cached_build(&dir, &store, &args));
    let reference = Command::new("gcc")
        .args(["-DX=2", "-c", "c.c", "-o", "ref.o"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(reference.status.success(), "{}", text(&reference));
    let built = std::fs::read(dir.join("c.o")).unwrap();
    assert!(built == std::fs::read(dir.join("ref.o")).unwrap(), "{log}");
}

/// A command the scanner does not know may read what a directory among
/// its inputs holds (`tar`); a thunk names the directory, not what it
/// holds, so the edge runs each time, never restored from the memo.
#[test]
fn an_unknown_command_reading_a_directory_is_not_memoized() {
    if require_tool("tar").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let manifest = "rule tar\n  command = tar cf $out $in\nbuild out.tar: tar data\n";
    let (dir, store) = small_tree(tmp.path(), &[("build.ninja", manifest)]);
    std::fs::create_dir(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/x"), "one\n").unwrap();
    let log = text(&cached_build(&dir, &store, &[]));
    assert!(
        log.contains("it may read what directory data holds"),
        "{log}"
    );
    std::fs::write(dir.join("data/x"), "two\n").unwrap();
    remove(&dir, &["out.tar"]);
    let log = text(&cached_build(&dir, &store, &[]));
    let x = Command::new("tar")
        .args(["xOf", "out.tar", "data/x"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&x.stdout), "two\n", "{log}");
}
