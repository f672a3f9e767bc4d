//! What ninja gained after 1.11.1, against real ninja 1.13.2
//! (scripts/fetch-ninja.sh) side by side on identical trees: `-t inputs`'
//! options and order, `-t multi-inputs`, `-t compdb-targets` (and compdb's
//! JSON and `-x` as 1.13 prints them), every tool's help, the depfile's
//! directory made before the command runs, the exit status (a failed
//! command's passed on, 130 when interrupted), `--quiet`, `NINJA_STATUS`'s
//! placeholders (the time ones predicted from `.ninja_log`) and the status
//! line elided on a terminal, the command's start logged as its outputs'
//! mtime, a missing input that a dyndep file names first. Stdout, stderr, exit status and the files and
//! directories left are compared; each test says what ninja 1.11 did.
//!
//! Validate the harness itself against ninja 1.13.2:
//!   GGNINJA_BIN=~/.cache/ggninja-tests/ninja-1.13.2/bin/ninja cargo test --test ninja113_parity

mod common;

use common::parity::{entries, mask_digits, Pair, Res};
use common::{fixture, ninja113, require_tool};

/// Copies of `fixtures/tools`, fully built by each program.
fn built_fixture() -> Option<Pair> {
    let ninja = ninja113()?;
    require_tool("gcc")?;
    let p = Pair::copies_of(ninja, &fixture("tools"));
    p.both(|s| s.build(&["all"]));
    Some(p)
}

fn with_manifest(manifest: &str) -> Option<Pair> {
    Some(Pair::with_manifest(ninja113()?, manifest))
}

/// Paths that need shell quoting, phony builds inside the graph, implicit,
/// order-only and validation inputs. Tools only: nothing here is built.
const GRAPH: &str = "\
rule cat
  command = cat $in > $out
rule touch
  command = touch $out
build gen.h: touch
build out1: cat in1 | gen.h || order.txt
build out$ 2: cat out1 it's.txt we$$ird
build out$ 3: phony out$ 2
build check: touch out1
build final: cat out$ 3 in1 |@ check
build all: phony final out1
default all
";

/// ninja 1.11's `-t inputs` took only `-h`, printed its inputs sorted and
/// shell-escaped, and left out the inputs of phony builds; 1.13 adds
/// `--dependency-order`, `--no-shell-escape` and `--print0`, and lists
/// every input that no phony build makes.
#[test]
fn inputs_options() {
    let Some(mut p) = with_manifest(GRAPH) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "inputs", "all"]);
    assert!(
        a.stdout.contains("'out 2'\n") && a.stdout.contains("'it'\\''s.txt'"),
        "{a:?}"
    );
    for args in [
        &["-t", "inputs"][..],
        &["-t", "inputs", "final", "out1"],
        &["-t", "inputs", "out 3"],
        &["-t", "inputs", "check"],
        &["-t", "inputs", "out1^"],
        &["-t", "inputs", "-d", "all"],
        &["-t", "inputs", "--dependency-order", "final"],
        &["-t", "inputs", "-E", "all"],
        &["-t", "inputs", "--no-shell-escape", "all"],
        &["-t", "inputs", "-0", "all"],
        &["-t", "inputs", "--print0", "final"],
        &["-t", "inputs", "-dE0", "all"],
        &["-t", "inputs", "--dep", "--no", "all"],
        &["-t", "inputs", "all", "-d"],
        &["-t", "inputs", "--", "out1"],
        &["-t", "inputs", "-h"],
        &["-t", "inputs", "--help"],
        &["-t", "inputs", "-d", "-h", "-z"],
        &["-t", "inputs", "-z"],
        &["-t", "inputs", "--sort"],
        &["-t", "inputs", "--print0=yes"],
        &["-t", "inputs", "nosuch"],
    ] {
        p.compare(args);
    }
    p.finish();
}

/// New in ninja 1.12: one line per target and input, in dependency order.
#[test]
fn multi_inputs_tool() {
    let Some(mut p) = with_manifest(GRAPH) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "multi-inputs", "final", "out1", "out 2"]);
    assert!(a.stdout.contains("final\tout 2\n"), "{a:?}");
    for args in [
        &["-t", "multi-inputs"][..],
        &["-t", "multi-inputs", "all", "final"],
        &["-t", "multi-inputs", "-d", ":", "final"],
        &["-t", "multi-inputs", "-d:", "out1"],
        &["-t", "multi-inputs", "--delimiter=,", "out1", "check"],
        &["-t", "multi-inputs", "--delimiter", " | ", "final"],
        &["-t", "multi-inputs", "--del", ";", "final"],
        &["-t", "multi-inputs", "-0", "final", "out1"],
        &["-t", "multi-inputs", "-d,", "--print0", "out1", "out 2"],
        &["-t", "multi-inputs", "final", "-d", "="],
        &["-t", "multi-inputs", "in1"],
        &["-t", "multi-inputs", "out1^"],
        &["-t", "multi-inputs", "-d"],
        &["-t", "multi-inputs", "--delimiter"],
        &["-t", "multi-inputs", "--print0=x"],
        &["-t", "multi-inputs", "-x"],
        &["-t", "multi-inputs", "-h"],
        &["-t", "multi-inputs", "nosuch"],
    ] {
        p.compare(args);
    }
    p.finish();
}

/// Response files in the three forms 1.13's `-x` expands (1.11 knew only
/// `@file`), one it leaves (the first `-f ` is elsewhere), and commands
/// with a tab and a control character, which 1.13's JSON escapes (1.11
/// printed them raw).
const COMPDB: &str = "\
rule cc
  command = cc -c $in -o $out
rule link
  command = ld -o $out @$out.rsp
  rspfile = $out.rsp
  rspfile_content = $in_newline
rule archive
  command = tool -f $out.rsp -o $out
  rspfile = $out.rsp
  rspfile_content = $in
rule bundle
  command = tool --option-file=$out.rsp -o $out
  rspfile = $out.rsp
  rspfile_content = $in
rule twice
  command = tool -f first -f $out.rsp
  rspfile = $out.rsp
  rspfile_content = $in
rule odd
  command = printf 'a\tb\x01c' > $out
build a.o: cc a.c
build b.o: cc b.c
build prog: link a.o b.o
build lib.a: archive a.o
build bundle: bundle b.o prog
build both: twice lib.a
build odd.txt: odd a.c
build all: phony bundle both odd.txt
build gen.c: phony
";

/// New in ninja 1.13: the compilation database of what targets need.
#[test]
fn compdb_targets_tool() {
    let Some(mut p) = with_manifest(COMPDB) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "compdb-targets", "all"]);
    assert!(a.stdout.contains("\"output\": \"bundle\""), "{a:?}");
    for args in [
        &["-t", "compdb-targets", "-x", "all"][..],
        &["-t", "compdb-targets", "prog", "a.o", "prog"],
        &["-t", "compdb-targets", "bundle", "-x"],
        &["-t", "compdb-targets", "a.c^"],
        &["-t", "compdb-targets"],
        &["-t", "compdb-targets", "-x"],
        &["-t", "compdb-targets", "a.c"],
        &["-t", "compdb-targets", "gen.c"],
        &["-t", "compdb-targets", "prog", "nosuch"],
        &["-t", "compdb-targets", "prgo"],
        &["-t", "compdb-targets", "-z", "prog"],
        &["-t", "compdb-targets", "--help"],
        &["-t", "compdb-targets", "-h", "prog"],
        &["-t", "compdb"],
        &["-t", "compdb", "-x"],
        &["-t", "compdb", "-x", "archive", "bundle", "twice"],
    ] {
        p.compare(args);
    }
    // A working directory that is gone is fatal (1.11: an error).
    for tool in ["compdb", "compdb-targets"] {
        p.compare_run(&format!("-t {tool} prog in a removed directory"), |s| {
            std::fs::create_dir(s.path().join("gone")).unwrap();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg("cd gone && rmdir ../gone && exec \"$0\" -f \"$1\" -t \"$2\" prog")
                .arg(&s.prog)
                .arg(s.path().join("build.ninja"))
                .arg(tool)
                .current_dir(s.path())
                .output()
                .unwrap();
            s.result(out)
        });
    }
    p.finish();
}

/// Every tool's help (`-h`, and `--help`, which only getopt_long tools
/// know), and `-t list`, on a built tree.
#[test]
fn tool_help_texts() {
    let Some(mut p) = built_fixture() else {
        return;
    };
    let (list, _) = p.compare_with(&["-t", "list"], |s| {
        // Without `browse`, which ggninja does not have, and ggninja's own.
        s.lines()
            .filter(|l| !l.trim_start().starts_with("browse ") && !l.ends_with("(ggninja)"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let tools: Vec<String> = list
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(tools.contains(&"multi-inputs".to_string()), "{list:?}");
    for tool in &tools {
        p.compare(&["-t", tool, "-h"]);
        p.compare(&["-t", tool, "--help"]);
    }
    p.compare(&["-t", "multi-inputs", "hello", "dist.stamp"]);
    p.compare(&["-t", "compdb-targets", "hello"]);
    p.finish();
}

/// ninja 1.13 makes the depfile's directory before running the command
/// (1.11 left that to the command), in a dry run too.
#[test]
fn depfile_directory_is_made() {
    let manifest = "\
rule dep
  command = echo \"$out: build.ninja\" > $depfile && touch $out
  depfile = $dir/$out.d
rule keep
  command = echo \"$out: build.ninja\" > $depfile && touch $out
  depfile = $out.d
  deps = gcc
build sub/out: dep
  dir = deps/deeper
build top: dep
  dir = other
build logged: keep
build gcc: dep
  dir = gccdeps
  deps = gcc
";
    let Some(mut p) = with_manifest(manifest) else {
        return;
    };
    p.compare(&["-n", "-j1"]);
    p.compare_entries("-n -j1");
    p.compare(&["-j1"]);
    p.compare_entries("-j1");
    let (a, _) = p.compare(&["-j1"]);
    assert!(a.stdout.contains("no work to do"), "{a:?}");
    p.finish();
}

/// An input that a dyndep file names first, missing and with no rule to
/// make it: ninja 1.11 stopped ("missing and no known rule to make it");
/// 1.12+ treat it as they treat a depfile's (a node the dependency loader
/// made) and run the edge. An input the manifest names stays an error.
#[test]
fn a_missing_input_a_dyndep_file_names_first_stops_nothing() {
    let manifest = "\
rule dd
  command = printf 'ninja_dyndep_version = 1\\nbuild out: dyndep | $extra\\n' > $out
rule make
  command = touch $out
build dd: dd
  extra = later
build out: make || dd
  dyndep = dd
build dd2: dd
  extra = src.h
build out2: make src.h || dd2
  dyndep = dd2
";
    let Some(mut p) = with_manifest(manifest) else {
        return;
    };
    let (a, _) = p.compare(&["-j1", "out"]);
    assert_eq!(a.code, Some(0), "{a:?}");
    p.compare_entries("-j1 out");
    // Still missing, so still dirty: both run it again.
    let (a, _) = p.compare(&["-j1", "out"]);
    assert!(a.stdout.contains("touch out"), "{a:?}");
    let (a, _) = p.compare(&["-j1", "out2"]);
    assert!(a.stderr.contains("no known rule"), "{a:?}");
    p.finish();
}

/// ninja 1.12+ log when a command started as its outputs' mtime (read from
/// the `.ninja_lock` it touches then), not the outputs' own: an input that
/// changed while the command ran is newer, so the next build reruns it.
/// 1.11 logged the output's mtime and saw nothing to do. The command waits
/// before touching its input because file times tick with the kernel's
/// coarse clock (up to 10 ms): a touch in the lock file's tick would look
/// no newer, to either ninja.
#[test]
fn an_input_changed_while_its_command_ran_reruns_it() {
    let manifest = "\
rule r
  command = sleep 0.05 && touch $in && sleep 0.05 && touch $out
build out: r in
rule gen
  command = touch $out
  generator = 1
build made: gen in
";
    let Some(mut p) = with_manifest(manifest) else {
        return;
    };
    p.both(|s| std::fs::write(s.path().join("in"), "").unwrap());
    p.compare(&["-j1", "out"]);
    p.compare_entries("-j1 out");
    // The explanation names the two mtimes.
    let (a, _) = p.compare_with(&["-j1", "-d", "explain", "out"], mask_digits);
    assert!(a.stderr.contains("recorded mtime of out"), "{a:?}");
    // A generator's outputs are stat'ed, so `made` settles at once.
    p.compare(&["-j1", "made"]);
    let (a, _) = p.compare(&["-j1", "made"]);
    assert!(a.stdout.contains("no work to do"), "{a:?}");
    p.finish();
}

/// `FAILED: [code=N] out` is ninja 1.13's failure line; it is another part
/// of issue 14's work than the exit status tested here, so its code is
/// left out of the comparison.
fn without_failed_code(s: &str) -> String {
    s.lines()
        .map(|l| match l.strip_prefix("FAILED: [code=") {
            Some(rest) => format!("FAILED: {}", rest.split_once("] ").map_or(rest, |r| r.1)),
            None => l.to_string(),
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// ninja 1.11 exited 1 when a command failed and 2 when interrupted; 1.13
/// exits with the failed command's status (the last one's with `-k`; 128
/// plus the wait status when a signal killed it), and 130 when a command
/// is interrupted or exits 130, after letting the others finish.
#[test]
fn exit_status() {
    let manifest = "\
rule run
  command = $cmd
build c124: run
  cmd = exit 124
build c127: run
  cmd = no-such-command-at-all
build c130: run
  cmd = exit 130
build c137: run
  cmd = exit 137
build c300: run
  cmd = exit 3
build killed: run
  cmd = kill -KILL $$$$
build aborted: run
  cmd = kill -ABRT $$$$
build sigint: run
  cmd = kill -INT $$$$
build sigterm: run
  cmd = kill -TERM $$$$
build sighup: run
  cmd = kill -HUP $$$$
build slow: run
  cmd = sleep 0.5 && touch slow
build ok: run
  cmd = touch ok
build baddeps: run
  cmd = echo 'not a depfile' > baddeps.d && touch baddeps
  depfile = baddeps.d
  deps = gcc
";
    let Some(mut p) = with_manifest(manifest) else {
        return;
    };
    let codes: Vec<(&[&str], i32)> = vec![
        (&["c124"], 124),
        (&["c127"], 127),
        (&["c130"], 130),
        (&["c137"], 137),
        (&["killed"], 137),
        (&["aborted"], 0),
        (&["sigint"], 130),
        (&["sigterm"], 130),
        (&["sighup"], 130),
        // 1.13 starts c124 first (node order among equals), so c300
        // fails last.
        (&["-k", "0", "c300", "c124", "ok"], 3),
        (&["-k", "0", "c124", "c300"], 3),
        (&["-j2", "c300", "slow"], 3),
        (&["-j2", "c130", "slow"], 130),
        (&["baddeps"], 1),
        (&["nosuch"], 1),
    ];
    for (args, code) in codes {
        p.both(|s| {
            for f in ["slow", "ok"] {
                let _ = std::fs::remove_file(s.path().join(f));
            }
        });
        let mut a = vec!["-j1"];
        a.extend_from_slice(args);
        let (n, _) = p.compare_with(&a, without_failed_code);
        if code != 0 {
            assert_eq!(n.code, Some(code), "{a:?}: {n:?}");
        }
        p.compare_files(&a.join(" "));
    }
    p.finish();
}

/// ninja 1.13's `--quiet` also leaves out "no work to do." (1.11 printed
/// it); `-v` and `--quiet` apply in order, the last winning.
#[test]
fn quiet() {
    let manifest = "\
rule say
  command = echo said $out && touch $out
  description = SAY $out
rule fail
  command = echo failing; exit 1
build a: say
build b: say a
build bad: fail
";
    let Some(mut p) = with_manifest(manifest) else {
        return;
    };
    p.compare(&["--quiet", "a"]);
    p.compare(&["--quiet", "a"]);
    p.compare(&["--quiet", "-C", ".", "b"]);
    p.both(|s| std::fs::remove_file(s.path().join("a")).unwrap());
    p.compare(&["--quiet", "-v", "b"]);
    p.both(|s| std::fs::remove_file(s.path().join("b")).unwrap());
    p.compare(&["-v", "--quiet", "b"]);
    p.compare(&["-v", "--quiet", "b"]);
    p.compare_with(&["--quiet", "bad"], without_failed_code);
    p.compare_files("--quiet");
    p.finish();
}

/// Three sleeps in a chain and one beside them: long enough that every
/// edge takes measurable time.
const SLEEPS: &str = "\
rule sleep
  command = sleep $t && touch $out
  description = SLEEP $out
build a: sleep
  t = 0.1
build b: sleep a
  t = 0.2
build c: sleep b
  t = 0.1
build d: sleep
  t = 0.1
";

/// Times vary from run to run: digits (and the padding of `%3i`) masked,
/// and `%o` before a millisecond has passed (`-nan`, 0/0) taken as a rate.
fn mask_times(s: &str) -> String {
    mask_digits(&s.replace("-nan", "0.0"))
        .replace(" N", "N")
        .replace(" N", "N")
}

/// ninja 1.11's NINJA_STATUS knew `%s %t %r %u %f %o %c %p %e`; 1.13 adds
/// `%w` (time so far as [H:]MM:SS), `%E`/`%W` (time left, `?` until it can
/// be told) and `%P` (share of the time done), predicted from what each
/// edge took last time. (ggninja rejected an unknown placeholder before
/// building; ninja, 1.11 too, only when it prints a line.)
#[test]
fn ninja_status_placeholders() {
    let Some(mut p) = with_manifest(SLEEPS) else {
        return;
    };
    let run = |p: &mut Pair, status: &str, args: &[&str], norm: fn(&str) -> String| {
        let what = format!("NINJA_STATUS='{status}' {}", args.join(" "));
        p.compare_run(&what, |s| {
            let mut r = s.run_env(args, &[("NINJA_STATUS", status)]);
            r.stdout = norm(&r.stdout);
            r
        })
    };
    let counts = "[%f/%t|%s|%r|%u|%p|%%] ";
    let times = "[%P|%w|%W|%e|%E|%o|%c] ";
    // No log yet: the time left comes from the edges finished so far.
    let (a, _) = run(&mut p, times, &["-j1"], mask_times);
    assert!(
        a.stdout.contains("[N%|N:N|N:N|N.N|N.N|N.N|?] SLEEP a"),
        "{a:?}"
    );
    p.both(|s| std::fs::remove_file(s.path().join("a")).unwrap());
    // With the log: from what each edge took last time.
    run(&mut p, counts, &["-j1"], str::to_string);
    p.both(|s| std::fs::remove_file(s.path().join("a")).unwrap());
    run(&mut p, times, &["-j2"], mask_times);
    p.both(|s| std::fs::remove_file(s.path().join("a")).unwrap());
    run(&mut p, "%w %W: ", &["-j2"], mask_times);
    run(&mut p, times, &["-j1"], mask_times);
    // An unknown placeholder is fatal when a line is first printed: after
    // the first command on a pipe, so it ran; never with nothing to do.
    for status in ["[%z] ", "trailing %"] {
        p.both(|s| {
            for f in ["a", "b", "c", "d", ".ninja_log"] {
                let _ = std::fs::remove_file(s.path().join(f));
            }
        });
        run(&mut p, status, &["-j1"], str::to_string);
        // A fatal error leaves `.ninja_lock`, as in ninja 1.13.
        p.compare_run("the files after a bad NINJA_STATUS", |s| {
            let mut left = entries(s.path());
            left.remove(".ggninja_graph");
            left.remove(".ggninja_graph_at");
            Res {
                code: None,
                stdout: format!("{left:?}"),
                stderr: String::new(),
            }
        });
        run(&mut p, status, &["-j1", "-n"], str::to_string);
        p.both(|s| s.build(&[]));
        run(&mut p, status, &["-j1"], str::to_string);
    }
    if require_tool("script").is_some() {
        // On a terminal the line is printed as edges start too: the time
        // left is unknown (`?`) before any finished, without a log.
        for (status, norm) in [
            (counts, str::to_string as fn(&str) -> String),
            (times, mask_times),
        ] {
            p.both(|s| {
                for f in ["a", "b", "c", "d", ".ninja_log"] {
                    let _ = std::fs::remove_file(s.path().join(f));
                }
            });
            let what = format!("NINJA_STATUS='{status}' -j1 on a terminal");
            p.compare_run(&what, |s| {
                let mut r = s.run_on_terminal(&["-j1"], 200, &[("NINJA_STATUS", status)]);
                r.stdout = norm(&r.stdout);
                r
            });
        }
    }
    p.finish();
}

/// On a terminal the status line is rewritten in place and elided in the
/// middle to the terminal's width. ninja 1.13 keeps exactly the width
/// (1.11 could lose a column) and keeps color sequences, which take no
/// width; `-v` lines are never elided.
#[test]
fn status_line_on_a_terminal() {
    if require_tool("script").is_none() {
        return;
    }
    let manifest = "\
rule say
  command = echo $out
  description = $desc
build a: say
  desc = a description long enough to be elided on a narrow terminal
build b: say a
  desc = \x1b[32mgreen\x1b[0m and a description long enough to be elided too
build c: say b
  desc = short
";
    let Some(mut p) = with_manifest(manifest) else {
        return;
    };
    for cols in [40u16, 41, 10, 200] {
        for args in [&["-j1"][..], &["-j1", "-v"]] {
            p.both(|s| {
                for f in ["a", "b", "c", ".ninja_log"] {
                    let _ = std::fs::remove_file(s.path().join(f));
                }
            });
            let what = format!("{} on {cols} columns", args.join(" "));
            let (a, _) = p.compare_run(&what, |s| s.run_on_terminal(args, cols, &[]));
            // `-v` prints plain lines even on a terminal.
            let verbose = args.contains(&"-v");
            assert_eq!(a.stdout.contains("\x1b[K"), !verbose, "{what}: {a:?}");
        }
    }
    p.finish();
}
