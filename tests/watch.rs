//! The watcher (`-t watch`), and the remembered no-op with it and without
//! one: ggninja with a daemon serving its build
//! directory rebuilds exactly what ninja 1.13.2 rebuilds on the same tree,
//! through every kind of change a stat would see: edits, an output deleted
//! by hand, a directory moved away and back or made anew, a symlink's
//! target edited or the symlink retargeted, an entry added to a directory
//! the build reads, a header outside the tree, the daemon restarted or
//! gone, its snapshot damaged. And with nothing changed, a run stats only
//! what the daemon cannot vouch for: the watcher is in use, not merely
//! harmless.

mod common;

use std::fs;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::mtime::touch_newer;
use common::parity::{Pair, Side};
use common::{ggninja, run, text};

const SOCKET: &str = ".ggninja_watch.sock";
const STATE: &str = ".ggninja_watch.state";

/// A daemon serving `dir`, stopped (by PID) when dropped.
struct Daemon(Child);

impl Daemon {
    fn start(dir: &Path) -> Daemon {
        let child = Command::new(ggninja())
            .args(["-t", "watch", "serve"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .spawn()
            .expect("starting the watcher");
        let start = Instant::now();
        while UnixStream::connect(dir.join(SOCKET)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "no watcher");
            std::thread::sleep(Duration::from_millis(5));
        }
        Daemon(child)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const MANIFEST: &str = "\
rule cc
  command = cat $in > $out && printf '%s: %s %s\\n' $out $in ../hdr/h.h > $out.d
  depfile = $out.d
  deps = gcc
rule cp
  command = cat $in > $out
rule ls
  command = ls $in > $out
build out/a.o: cc ../src/a.c
build out/b.o: cc ../src/b.c | EXT
build out/link.o: cp ../src/link.h
build out/listing: ls ../src/d
build all.txt: cp out/a.o out/b.o out/link.o out/listing
build out/extra.o: cp ../extra/x.c
default all.txt
";

/// The tree on both sides: sources in `src/` and `hdr/`, the build in
/// `build/` (so the graph spells them `../`), `ext` outside both.
fn tree(ext: &Path) -> Option<Pair> {
    let p = Pair::with_manifest(common::ninja113()?, "");
    let manifest = MANIFEST.replace("EXT", &ext.to_string_lossy());
    p.both(|s| {
        let d = s.path();
        for dir in ["build", "src/d", "hdr", "real", "extra"] {
            fs::create_dir_all(d.join(dir)).unwrap();
        }
        fs::write(d.join("build/build.ninja"), &manifest).unwrap();
        fs::write(d.join("src/a.c"), "a\n").unwrap();
        fs::write(d.join("src/b.c"), "b\n").unwrap();
        fs::write(d.join("extra/x.c"), "x\n").unwrap();
        fs::write(d.join("src/d/one"), "1\n").unwrap();
        fs::write(d.join("hdr/h.h"), "h\n").unwrap();
        fs::write(d.join("real/t.h"), "t\n").unwrap();
        fs::write(d.join("real/u.h"), "u\n").unwrap();
        std::os::unix::fs::symlink("../real/t.h", d.join("src/link.h")).unwrap();
    });
    Some(p)
}

/// `tree` with its header outside the tree (`ext.h` in a directory of its
/// own, kept while the returned handle lives).
fn tree_with_ext() -> Option<(tempfile::TempDir, std::path::PathBuf, Pair)> {
    let ext = tempfile::tempdir().unwrap();
    let ext_h = ext.path().join("ext.h");
    fs::write(&ext_h, "e\n").unwrap();
    let p = tree(&ext_h)?;
    Some((ext, ext_h, p))
}

/// Builds both sides (one job, so the lines come in one order) and
/// compares what ran.
fn build(p: &mut Pair, what: &str) {
    p.compare_run(what, |s| s.run(&["-C", "build", "-j1"]));
}

/// Edits `rel` on both sides, newer than anything built.
fn edit(p: &Pair, rel: &str, text: &str) {
    p.both(|s| {
        fs::write(s.path().join(rel), text).unwrap();
        let root = s.path();
        touch_newer(&[root], &[&root.join(rel)]);
    });
}

/// How many files ggninja stat'ed in a run of `gg` (`-d stats`).
fn stats_of(gg: &Side) -> usize {
    let out = run(
        &gg.path().join("build"),
        &gg.prog,
        &["-d", "stats", "-d", "explain"],
    );
    let t = text(&out);
    assert!(t.contains("no work to do"), "{t}");
    let line = t
        .lines()
        .find(|l| l.split('\t').next().unwrap().trim() == "node stat");
    line.map_or(0, |l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
}

#[test]
fn a_watched_build_rebuilds_what_ninja_does() {
    let Some((ext, ext_h, mut p)) = tree_with_ext() else {
        return;
    };
    let daemon = Daemon::start(&p.gg.path().join("build"));
    build(&mut p, "first build");
    build(&mut p, "no-op");
    // Only what the daemon cannot vouch for: the symlink, and the directory
    // the build lists (no file of the graph lies in it).
    let always = 2;
    assert_eq!(stats_of(&p.gg), always, "a no-op after a no-op");

    // A file no build of the default stats: its directory is watched all
    // the same, so a later build of it sees it change.
    let extra = |p: &mut Pair, what: &str| {
        p.compare_run(what, |s| s.run(&["-C", "build", "-j1", "out/extra.o"]));
    };
    extra(&mut p, "a file outside the default, built");
    edit(&p, "extra/x.c", "x2\n");
    extra(&mut p, "a file outside the default, edited");

    edit(&p, "src/a.c", "a2\n");
    build(&mut p, "a source edited");
    edit(&p, "hdr/h.h", "h2\n");
    build(&mut p, "a depfile's header edited");
    p.both(|s| fs::remove_file(s.path().join("build/out/b.o")).unwrap());
    build(&mut p, "an output deleted by hand");

    p.both(|s| fs::rename(s.path().join("src"), s.path().join("src2")).unwrap());
    edit(&p, "src2/b.c", "b2\n");
    p.both(|s| fs::rename(s.path().join("src2"), s.path().join("src")).unwrap());
    build(&mut p, "src moved away, edited, moved back");

    p.both(|s| fs::remove_dir_all(s.path().join("hdr")).unwrap());
    p.both(|s| fs::create_dir(s.path().join("hdr")).unwrap());
    edit(&p, "hdr/h.h", "h3\n");
    build(&mut p, "hdr made anew");

    edit(&p, "real/t.h", "t2\n");
    build(&mut p, "a symlink's target edited");
    p.both(|s| {
        let link = s.path().join("src/link.h");
        fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink("../real/u.h", &link).unwrap();
    });
    build(&mut p, "a symlink retargeted");
    edit(&p, "src/d/two", "2\n");
    build(&mut p, "an entry added to a directory the build lists");
    fs::write(&ext_h, "e2\n").unwrap();
    p.both(|s| touch_newer(&[s.path(), ext.path()], &[&ext_h]));
    build(&mut p, "a header outside the tree edited");
    build(&mut p, "no-op again");
    assert_eq!(stats_of(&p.gg), always);

    // Files numbered otherwise: a build ahead of the others.
    edit(&p, "src/c.c", "c\n");
    p.both(|s| {
        let m = s.path().join("build/build.ninja");
        let text = fs::read_to_string(&m).unwrap();
        let text = text.replace(
            "build out/a.o",
            "build out/c.o: cc ../src/c.c\nbuild out/a.o",
        );
        fs::write(&m, text).unwrap();
    });
    edit(&p, "src/b.c", "b2.5\n");
    p.compare_run("the manifest edited", |s| {
        s.run(&["-C", "build", "-j1", "all.txt", "out/c.o"])
    });
    build(&mut p, "no-op after the manifest edit");

    // A new daemon knows nothing: the next run stats everything, once.
    drop(daemon);
    edit(&p, "src/a.c", "a3\n");
    build(&mut p, "edited with no daemon");
    let daemon = Daemon::start(&p.gg.path().join("build"));
    edit(&p, "src/b.c", "b3\n");
    build(&mut p, "edited under a new daemon");
    build(&mut p, "no-op under the new daemon");
    assert_eq!(stats_of(&p.gg), always);

    // A damaged snapshot is ignored.
    let state = p.gg.path().join("build").join(STATE);
    let mut bytes = fs::read(&state).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(&state, bytes).unwrap();
    edit(&p, "hdr/h.h", "h4\n");
    build(&mut p, "edited, the snapshot damaged");
    p.compare_files("the last build");
    drop(daemon);
    p.finish();
}

#[test]
fn watch_start_and_stop_manage_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("build.ninja"), "build a: phony\n").unwrap();
    let gg = ggninja();
    let out = run(dir.path(), &gg, &["-t", "watch"]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let pid: i32 = said
        .trim()
        .rsplit("pid ")
        .next()
        .and_then(|p| p.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("no pid in {said:?}"));
    // Stopped by PID below whatever happens in between.
    struct Kill(i32);
    impl Drop for Kill {
        fn drop(&mut self) {
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
    let _guard = Kill(pid);
    let again = run(dir.path(), &gg, &["-t", "watch"]);
    assert!(text(&again).contains("already"), "{}", text(&again));
    let stop = run(dir.path(), &gg, &["-t", "watch", "stop"]);
    assert!(
        text(&stop).contains(&format!("pid {pid}")),
        "{}",
        text(&stop)
    );
    let start = Instant::now();
    // Gone, or a zombie nobody reaps (its parent, the first run, exited).
    let alive = || {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat"));
        stat.is_ok_and(|s| !s.contains(") Z "))
    };
    while alive() {
        assert!(start.elapsed() < Duration::from_secs(10), "still running");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!dir.path().join(SOCKET).exists(), "the socket is removed");
    let none = run(dir.path(), &gg, &["-t", "watch", "stop"]);
    assert!(text(&none).contains("no watcher"), "{}", text(&none));
}

/// A seeded sequence of changes a developer's tree sees (edits, outputs
/// deleted, directories moved and made anew, headers swapped for symlinks
/// and back, noise beside the sources, moves that keep the mtime), each
/// followed by a build on both sides: ggninja with its watcher must
/// rebuild exactly what ninja does, every time.
#[test]
fn random_changes_rebuild_what_ninja_does() {
    let Some(ninja) = common::ninja113() else {
        return;
    };
    let mut manifest = String::from(
        "rule cc\n  command = cat $in > $out && printf '%s: %s %s %s\\n' $out $in $h1 $h2 > $out.d\n  \
         depfile = $out.d\n  deps = gcc\n",
    );
    let (dirs, n) = (["x", "y"], 12);
    for i in 0..n {
        let d = dirs[i % 2];
        let (h1, h2) = (
            format!("../inc/a/h{}.h", i % 4),
            format!("../inc/b/h{}.h", i % 3),
        );
        manifest +=
            &format!("build out/{d}/f{i}.o: cc ../src/{d}/f{i}.c\n  h1 = {h1}\n  h2 = {h2}\n");
    }
    let mut p = Pair::with_manifest(ninja, "");
    p.both(|s| {
        let r = s.path();
        for d in ["build", "src/x", "src/y", "inc/a", "inc/b", "real"] {
            fs::create_dir_all(r.join(d)).unwrap();
        }
        fs::write(r.join("build/build.ninja"), &manifest).unwrap();
        for i in 0..n {
            fs::write(
                r.join(format!("src/{}/f{i}.c", dirs[i % 2])),
                format!("{i}\n"),
            )
            .unwrap();
        }
        for h in 0..4 {
            fs::write(r.join(format!("inc/a/h{h}.h")), "a\n").unwrap();
            fs::write(r.join(format!("inc/b/h{h}.h")), "b\n").unwrap();
        }
    });
    let _daemon = Daemon::start(&p.gg.path().join("build"));
    build(&mut p, "first build");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % m
    };
    let record = p.gg.path().join("build/.ggninja_noop");
    let mut remembered = 0;
    for step in 0..40 {
        let (i, h, d) = (next(n), next(4), dirs[next(2)]);
        let sub = ["a", "b"][next(2)];
        if step % 3 == 0 {
            // A settled tree whose no-op is remembered, before the change.
            age(&p, &[]);
            recalled(&p.gg);
            build(&mut p, &format!("step {step}: settled"));
            remembered += usize::from(record.exists());
        }
        let what = match next(9) {
            0 => {
                edit(
                    &p,
                    &format!("src/{}/f{i}.c", dirs[i % 2]),
                    &format!("{step}\n"),
                );
                "a source edited"
            }
            1 => {
                edit(&p, &format!("inc/{sub}/h{h}.h"), &format!("{step}\n"));
                "a header edited"
            }
            2 => {
                p.both(|s| {
                    let o = s.path().join(format!("build/out/{}/f{i}.o", dirs[i % 2]));
                    let _ = fs::remove_file(o);
                });
                "an output deleted"
            }
            3 => {
                p.both(|s| {
                    let (from, to) = (s.path().join("src").join(d), s.path().join("moved"));
                    fs::rename(&from, &to).unwrap();
                    fs::rename(&to, &from).unwrap();
                });
                "a source directory moved away and back (mtimes kept)"
            }
            4 => {
                p.both(|s| {
                    let dir = s.path().join("inc").join(sub);
                    let copy = s.path().join("copy");
                    fs::rename(&dir, &copy).unwrap();
                    fs::create_dir(&dir).unwrap();
                    for e in fs::read_dir(&copy).unwrap() {
                        let e = e.unwrap().path();
                        fs::copy(&e, dir.join(e.file_name().unwrap())).unwrap();
                    }
                    fs::remove_dir_all(&copy).unwrap();
                });
                "a header directory made anew (new mtimes)"
            }
            5 => {
                p.both(|s| {
                    let r = s.path();
                    let (hdr, real) = (r.join(format!("inc/{sub}/h{h}.h")), r.join("real/t.h"));
                    if fs::symlink_metadata(&hdr).unwrap().file_type().is_symlink() {
                        fs::remove_file(&hdr).unwrap();
                        fs::write(&hdr, "plain again\n").unwrap();
                    } else {
                        fs::write(&real, format!("{step}\n")).unwrap();
                        fs::remove_file(&hdr).unwrap();
                        std::os::unix::fs::symlink(&real, &hdr).unwrap();
                    }
                    touch_newer(&[r], &[&hdr]);
                });
                "a header swapped for a symlink, or back"
            }
            6 => {
                edit(&p, "real/t.h", &format!("{step}\n"));
                "the symlinks' target edited"
            }
            7 => {
                p.both(|s| fs::write(s.path().join("src").join(d).join("noise.txt"), "n").unwrap());
                "noise beside the sources"
            }
            _ => "nothing",
        };
        build(&mut p, &format!("step {step}: {what}"));
    }
    if remembered < 10 {
        p.note(format!(
            "only {remembered} of 14 settled no-ops were remembered"
        ));
    }
    p.compare_files("the last build");
    p.finish();
}

/// Dates every file and directory of both trees (and `extra`) an hour
/// earlier, keeping their order: what a tree left alone for a while looks
/// like, whose mtimes are too old to hide a write in the same tick (a
/// no-op is remembered only then).
fn age(p: &Pair, extra: &[&Path]) {
    fn walk(path: &Path) {
        let meta = fs::symlink_metadata(path).unwrap();
        if meta.is_dir() {
            for e in fs::read_dir(path).unwrap() {
                walk(&e.unwrap().path());
            }
        }
        if meta.is_file() || meta.is_dir() {
            let earlier = meta.modified().unwrap() - Duration::from_secs(3600);
            fs::File::open(path).unwrap().set_modified(earlier).unwrap();
        }
    }
    p.both(|s| walk(s.path()));
    extra.iter().for_each(|e| walk(e));
}

/// Runs ggninja alone with `-d stats` in `build/`: whether the run was a
/// remembered no-op (nothing to do, and nothing loaded).
fn recalled(gg: &Side) -> bool {
    let t = text(&run(&gg.path().join("build"), &gg.prog, &["-d", "stats"]));
    t.contains("no work to do") && t.contains("no-op check") && !t.contains(".ninja_deps load")
}

/// What `a_remembered_no_op_holds_only_while_nothing_changed` adds to the
/// manifest: an include and a depfile (read by the scan: no `deps`) in
/// directories where no file of the graph lies, and a listing of a
/// directory the daemon watches (a file of the graph lies in it) and
/// vouches for: its entries change its mtime.
const MORE: &str = r"include ../rules/more.ninja
rule cpd
  command = cat $in > $out && printf '%s: %s\n' $out ../hdr/h.h > ../deps/w.d
  depfile = ../deps/w.d
build out/w.o: cpd ../src/a.c
build out/lst: ls ../lst | ../lst/one
default out/v.o out/w.o out/lst
";

/// `tree_with_ext` with `MORE` (the ext header's directory, its tree and
/// its path): a manifest file where no file of the graph lies (so no
/// directory a daemon watches), which only its stamp tells changed, and a
/// depfile read by the scan, where no file of the graph lies.
fn tree_with_more() -> Option<(tempfile::TempDir, std::path::PathBuf, Pair)> {
    let (ext, ext_h, p) = tree_with_ext()?;
    p.both(|s| {
        let d = s.path();
        fs::create_dir(d.join("rules")).unwrap();
        fs::create_dir(d.join("deps")).unwrap();
        fs::create_dir(d.join("lst")).unwrap();
        fs::write(d.join("lst/one"), "1\n").unwrap();
        fs::write(d.join("rules/more.ninja"), "build out/v.o: cp ../src/a.c\n").unwrap();
        let m = d.join("build/build.ninja");
        let text = fs::read_to_string(&m).unwrap() + MORE;
        fs::write(&m, text).unwrap();
    });
    Some((ext, ext_h, p))
}

type Change = fn(&Pair, &Path);

/// Every kind of change a remembered no-op must see (or, for the noise,
/// need not), on both sides of `tree_with_more`; the last, nothing.
fn changes() -> [(&'static str, Change); 16] {
    [
        ("a source edited", |p, _| edit(p, "src/a.c", "a2\n")),
        ("a depfile's header edited", |p, _| {
            edit(p, "hdr/h.h", "h2\n")
        }),
        ("an output deleted", |p, _| {
            p.both(|s| fs::remove_file(s.path().join("build/out/b.o")).unwrap())
        }),
        ("a source dated back (the clock set back)", |p, _| {
            p.both(|s| {
                let f = fs::File::options()
                    .write(true)
                    .open(s.path().join("src/b.c"));
                let day_ago = std::time::SystemTime::now() - Duration::from_secs(86_400);
                f.unwrap().set_modified(day_ago).unwrap();
            })
        }),
        ("a symlink's target edited", |p, _| {
            edit(p, "real/t.h", "t2\n")
        }),
        ("a symlink retargeted", |p, _| {
            p.both(|s| {
                let link = s.path().join("src/link.h");
                fs::remove_file(&link).unwrap();
                std::os::unix::fs::symlink("../real/u.h", &link).unwrap();
            })
        }),
        ("an entry added to a listed directory", |p, _| {
            edit(p, "src/d/two", "2\n")
        }),
        ("a header outside the tree edited", |p, ext_h| {
            fs::write(ext_h, "e2\n").unwrap();
            p.both(|s| touch_newer(&[s.path(), ext_h.parent().unwrap()], &[ext_h]));
        }),
        ("noise beside the headers", |p, _| {
            edit(p, "hdr/noise.txt", "n\n")
        }),
        (
            "an entry added to a watched directory the build reads",
            |p, _| edit(p, "lst/two", "2\n"),
        ),
        ("the build log removed", |p, _| {
            p.both(|s| fs::remove_file(s.path().join("build/.ninja_log")).unwrap())
        }),
        ("the manifest edited", |p, _| {
            p.both(|s| {
                let m = s.path().join("build/build.ninja");
                let text = fs::read_to_string(&m).unwrap();
                fs::write(
                    &m,
                    text.replace("default all.txt", "default all.txt out/extra.o"),
                )
                .unwrap();
            })
        }),
        ("an included file elsewhere edited", |p, _| {
            edit(p, "rules/more.ninja", "build out/v.o: cp ../src/b.c\n")
        }),
        ("a depfile elsewhere names a new header", |p, _| {
            edit(p, "real/new.h", "n\n");
            edit(p, "deps/w.d", "out/w.o: ../real/new.h\n");
        }),
        ("the record damaged", |p, _| {
            let record = p.gg.path().join("build/.ggninja_noop");
            if let Ok(mut bytes) = fs::read(&record) {
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0xff;
                fs::write(&record, bytes).unwrap();
            }
        }),
        ("nothing", |_, _| {}),
    ]
}

/// Each of `changes`, between a remembered no-op and a build on both
/// sides (then a no-op): ggninja must rebuild what ninja does, every time.
/// `first` runs after the tree is aged, before the no-op that is
/// remembered.
fn through_every_change(p: &mut Pair, ext: &Path, ext_h: &Path, first: impl Fn(&Side)) {
    let record = p.gg.path().join("build/.ggninja_noop");
    for (what, change) in changes() {
        age(p, &[ext]);
        first(&p.gg);
        build(p, &format!("{what}: the no-op before"));
        if !record.exists() {
            p.note(format!(
                "{what}: a no-op of a settled tree was not remembered"
            ));
        }
        change(p, ext_h);
        // A file no build reads, beside the headers, leaves the verdict.
        if what == "noise beside the headers" && !recalled(&p.gg) {
            p.note(format!("{what}: not remembered"));
        }
        build(p, what);
        build(p, &format!("{what}: the no-op after"));
    }
}

/// The first build of `tree_with_more` and its no-ops: none remembered
/// right after the build (its files too new to judge by their mtimes),
/// then, the tree aged (`ext` too), one for each request, used.
fn first_no_ops(p: &mut Pair, ext: &Path) {
    let record = p.gg.path().join("build/.ggninja_noop");
    build(p, "first build");
    build(p, "no-op right after");
    assert!(
        !record.exists(),
        "files written a moment ago are not judged by their mtimes"
    );
    age(p, &[ext]);
    assert!(!recalled(&p.gg), "the first no-op after the change stats");
    assert!(recalled(&p.gg), "the next one is remembered");
    build(p, "no-op, another request");
    assert!(recalled(&p.gg), "each request keeps its own");
}

#[test]
fn a_remembered_no_op_holds_only_while_nothing_changed() {
    let Some((ext, ext_h, mut p)) = tree_with_more() else {
        return;
    };
    let mut daemon = Daemon::start(&p.gg.path().join("build"));
    first_no_ops(&mut p, ext.path());

    // Aging changes every file: the run after it stats them all. So that
    // the remembered no-op rests on the daemon's word, not on those stats,
    // another request takes them first.
    through_every_change(&mut p, ext.path(), &ext_h, |gg| {
        recalled(gg);
    });

    // Another daemon cannot vouch for what the first saw.
    age(&p, &[ext.path()]);
    build(&mut p, "settled again");
    drop(daemon);
    edit(&p, "src/a.c", "a3\n");
    daemon = Daemon::start(&p.gg.path().join("build"));
    build(&mut p, "edited between two daemons");
    p.compare_files("the last build");
    drop(daemon);
    p.finish();
}

/// Without a watcher, a no-op is remembered all the same: the record lists
/// every file the run stat'ed, and the next run stats them again (on every
/// core) instead of loading the graph and the logs.
#[test]
fn a_no_op_remembered_without_a_watcher_holds_only_while_nothing_changed() {
    let Some((ext, ext_h, mut p)) = tree_with_more() else {
        return;
    };
    let record = p.gg.path().join("build/.ggninja_noop");
    first_no_ops(&mut p, ext.path());
    assert!(
        !p.gg.path().join("build").join(STATE).exists(),
        "no watcher"
    );

    // `recalled`'s own request kept first, for the noise's check.
    through_every_change(&mut p, ext.path(), &ext_h, |gg| {
        recalled(gg);
    });

    // ninja building in ggninja's tree changes what the record lists.
    age(&p, &[ext.path()]);
    build(&mut p, "settled again");
    recalled(&p.gg);
    assert!(recalled(&p.gg));
    edit(&p, "src/a.c", "a3\n");
    let ninja = p.ninja.prog.clone();
    p.both(|s| {
        assert!(run(&s.path().join("build"), &ninja, &["-j1"])
            .status
            .success())
    });
    assert!(!recalled(&p.gg), "what ninja built is seen");
    build(&mut p, "no-op after ninja's build");

    // A run with work to do removes the records.
    age(&p, &[ext.path()]);
    build(&mut p, "settled once more");
    assert!(record.exists());
    edit(&p, "src/b.c", "b3\n");
    build(&mut p, "an edit");
    assert!(!record.exists(), "a run with work to do keeps no record");
    p.compare_files("the last build");
    p.finish();
}

/// With `--cache` a no-op is remembered too (it stores and restores
/// nothing): each of the same changes is seen, and ggninja's memoized
/// builds (hits or runs) print and leave what ninja's builds do.
#[test]
fn a_memoized_no_op_is_remembered_and_holds_only_while_nothing_changed() {
    let Some((ext, ext_h, mut p)) = tree_with_more() else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    p.gg.prog = with_cache(&p.gg.prog, cache.path());
    first_no_ops(&mut p, ext.path());
    through_every_change(&mut p, ext.path(), &ext_h, |gg| {
        recalled(gg);
    });
    assert!(recalled(&p.gg), "the last no-op is remembered");
    for out in ["out/a.o", "out/b.o", "all.txt"] {
        let read = |s: &Side| fs::read(s.path().join("build").join(out)).unwrap();
        assert_eq!(read(&p.gg), read(&p.ninja), "{out}");
    }
    // The files left, but for ggninja's own (`--cache` keeps its caches).
    let left = |s: &Side| {
        let own = |f: &String| f.rsplit('/').next().unwrap().starts_with(".ggninja_");
        let files = common::files(s.path());
        files.into_iter().filter(|f| !own(f)).collect::<Vec<_>>()
    };
    assert_eq!(left(&p.gg), left(&p.ninja));

    // A store that cannot be opened now is said so, as a full run says.
    let store = cache.path().join("store");
    fs::remove_dir_all(&store).unwrap();
    fs::write(&store, "").unwrap();
    let said = text(&run(
        &p.gg.path().join("build"),
        &p.gg.prog,
        &["-d", "stats"],
    ));
    assert!(said.contains("no-op check"), "{said}");
    assert!(said.contains("warning: cache disabled"), "{said}");
    p.finish();
}

/// A script in `dir` running `prog` with `--cache`, its store in `dir`;
/// named as `prog` is, as the messages name the program.
fn with_cache(prog: &Path, dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir(dir.join("bin")).unwrap();
    let script = dir.join("bin").join(prog.file_name().unwrap());
    let store = dir.join("store");
    let text = format!(
        "#!/bin/sh\nexec '{}' --cache --store '{}' \"$@\"\n",
        prog.display(),
        store.display()
    );
    fs::write(&script, text).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// Runs at once in one tree: several requests writing their records (each
/// file renamed into place whole; one may drop another's) and checking
/// them, then checks while a build changes the tree. Each says what a run
/// alone would, and the file left is whole: a record written after them is
/// used by the next run of its request.
#[test]
fn runs_at_once_keep_whole_records() {
    let Some((ext, _, mut p)) = tree_with_more() else {
        return;
    };
    build(&mut p, "first build");
    age(&p, &[ext.path()]);
    let dir = p.gg.path().join("build");
    let requests: [&[&str]; 4] = [&[], &["-j1"], &["-j2"], &["all.txt"]];
    let all_at_once = |requests: &[&[&str]]| {
        let runs: Vec<_> = requests
            .iter()
            .map(|args| {
                let (dir, prog) = (dir.clone(), p.gg.prog.clone());
                let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
                std::thread::spawn(move || {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    text(&run(&dir, &prog, &args))
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<_>>()
    };
    for round in 0..3 {
        for said in all_at_once(&requests) {
            assert!(said.contains("no work to do"), "round {round}: {said}");
        }
    }
    for args in requests {
        let mut with_stats = vec!["-d", "stats"];
        with_stats.extend_from_slice(args);
        run(&dir, &p.gg.prog, &with_stats);
        let said = text(&run(&dir, &p.gg.prog, &with_stats));
        assert!(
            said.contains("no-op check") && !said.contains(".ninja_deps load"),
            "{args:?}: {said}"
        );
    }
    // A build at once with the checks: each check says no work only if
    // it saw none of the build's writes (then the build had not begun).
    edit(&p, "src/b.c", "b4\n");
    let said = all_at_once(&[&[], &[], &["-j1"]]);
    assert!(
        said.iter().any(|s| s.contains("cat")),
        "someone built: {said:?}"
    );
    // Each run logs its own records, the last written winning, as in
    // ninja: a run whose `cat` started before another run's `b.o` may log
    // all.txt last, older than b.o, and the next build makes it again;
    // nothing else (no record lost or torn).
    let settle = text(&run(&dir, &p.gg.prog, &[]));
    let again = settle.contains("[1/1] cat out/a.o");
    assert!(settle.contains("no work to do") || again, "{settle}");
    let after = text(&run(&dir, &p.gg.prog, &[]));
    assert!(after.contains("no work to do"), "{after}");
    p.ninja.run(&["-C", "build", "-j1"]);
    p.compare_files("after the runs at once");
    p.finish();
}

/// A daemon that stops answering (here: stopped by a signal) costs a run
/// one wait, not one for its remembered no-op and another for the build.
#[test]
fn a_stuck_daemon_is_waited_for_once() {
    let Some((ext, _, mut p)) = tree_with_ext() else {
        return;
    };
    let daemon = Daemon::start(&p.gg.path().join("build"));
    build(&mut p, "first build");
    age(&p, &[ext.path()]);
    build(&mut p, "no-op, aged");
    build(&mut p, "no-op, remembered");
    let signal = |sig: &str| {
        let pid = daemon.0.id().to_string();
        assert!(Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    };
    signal("-STOP");
    let start = Instant::now();
    build(&mut p, "no-op, the daemon stuck");
    let waited = start.elapsed();
    signal("-CONT");
    assert!(waited < Duration::from_secs(18), "waited {waited:?}: twice");
    p.finish();
}

#[test]
fn the_daemon_ends_when_its_directory_goes() {
    let dir = tempfile::tempdir().unwrap();
    let (here, away) = (dir.path().join("build"), dir.path().join("moved"));
    for (i, gone) in [
        |d: &Path, _: &Path| fs::remove_dir_all(d),
        |d: &Path, a: &Path| fs::rename(d, a),
    ]
    .into_iter()
    .enumerate()
    {
        fs::create_dir(&here).unwrap();
        let mut daemon = Daemon::start(&here);
        gone(&here, &away).unwrap();
        let start = Instant::now();
        while daemon.0.try_wait().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "case {i}: still running"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            !away.join(SOCKET).exists(),
            "case {i}: a moved socket is removed"
        );
        let _ = fs::remove_dir_all(&away);
    }
}
