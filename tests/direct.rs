//! Commands run without the shell (`executor/src/direct.rs`) against ninja
//! 1.13.2, which runs every one through `/bin/sh -c`, side by side on
//! identical trees: the environment a plain command sees (`PWD` as dash
//! exports it: through `-C`, from a directory reached through a symlink
//! with `PWD` naming it, with `PWD` naming another directory), its output
//! and exit status, and a program that cannot be started; a list that
//! starts with `cd` (`PWD` and `OLDPWD` as dash leaves them, `..` taken
//! from the logical directory, a missing directory); lines of
//! builtins done in ggninja's own process (`executor/src/builtin.rs`) and
//! `: && PROGRAM && :` lists: the files written (bytes and mode), what
//! each prints, exit statuses, and the shell's message when a file cannot
//! be written or a program started; `&&` lists of programs, each started
//! without the shell, ended by a failure or a program not found midway.

mod common;

use std::fs;

use common::parity::{Pair, Res};

const MANIFEST: &str = "\
rule run
  command = $cmd
build env.txt: run
  cmd = /usr/bin/env
build args.txt: run
  cmd = /usr/bin/printf %s-%s a b
build fails.txt: run
  cmd = /bin/false
build missing.txt: run
  cmd = ./no-such-program x
build cd.txt: run
  cmd = cd sub/./../sub/ && /usr/bin/env && /bin/pwd -P
build cdup.txt: run
  cmd = cd .. && /usr/bin/env && /bin/pwd -P && :
build cdmissing.txt: run
  cmd = cd no/such/dir && /usr/bin/env
build cdlist.txt: run
  cmd = cd sub && /bin/pwd && ./no-such-program && /bin/pwd
build cdtool.txt: run
  cmd = cd sub && ./tool && ./script && /bin/pwd
";

/// `env`'s lines sorted (dash and ggninja order the environment each its
/// own way), then the output as is.
fn sorted_lines(r: Res) -> Res {
    let mut lines: Vec<&str> = r.stdout.lines().collect();
    lines.sort_unstable();
    Res {
        stdout: lines.join("\n"),
        ..r
    }
}

#[test]
fn a_plain_command_sees_what_the_shell_would_give_it() {
    let Some(ninja) = common::ninja113() else {
        return;
    };
    let mut p = Pair::with_manifest(ninja, "");
    p.both(|s| {
        fs::create_dir(s.path().join("build")).unwrap();
        fs::write(s.path().join("build/build.ninja"), MANIFEST).unwrap();
        fs::create_dir(s.path().join("build/sub")).unwrap();
        // `./tool` after `cd sub` is sub's, not the one beside it; a
        // script without `#!` starts only through the shell, which must
        // run it in `sub` too.
        use std::os::unix::fs::PermissionsExt;
        for (path, text) in [
            ("build/tool", "#!/bin/sh\necho the wrong tool\n"),
            ("build/sub/tool", "#!/bin/sh\necho the tool in sub\n"),
            ("build/sub/script", "/bin/pwd\n"),
        ] {
            let path = s.path().join(path);
            fs::write(&path, text).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::os::unix::fs::symlink("build", s.path().join("link")).unwrap();
    });
    let cds = [
        "cd.txt",
        "cdup.txt",
        "cdmissing.txt",
        "cdlist.txt",
        "cdtool.txt",
    ];
    for target in ["env.txt", "args.txt", "fails.txt", "missing.txt"]
        .iter()
        .chain(&cds)
    {
        p.compare_run(&format!("-C build {target}"), |s| {
            sorted_lines(s.run(&["-C", "build", "-j1", "-v", target]))
        });
        // Through a symlink to `build`, with PWD naming the link, then
        // naming the directory the run starts in.
        for (pwd_of, what) in [
            ("link", "PWD naming the link"),
            ("", "PWD naming elsewhere"),
        ] {
            p.compare_run(&format!("{target} through a symlink, {what}"), |s| {
                let pwd = s.path().join(pwd_of);
                let pwd = pwd.to_str().unwrap();
                let args = ["-C", "link", "-j1", "-v", target];
                sorted_lines(s.run_env(&args, &[("PWD", pwd)]))
            });
        }
        p.both(|s| {
            let _ = fs::remove_file(s.path().join("build/.ninja_log"));
        });
    }
    p.finish();
}

const BUILTINS: &str = "\
rule run
  command = $cmd
rule dep
  command = : cc -c $in -o $out && echo $out: $in h.h > $out.d && : > $out
  depfile = $out.d
  deps = gcc
build a.o: dep a.c
build says.txt: run
  cmd = echo hello  world && echo && true > says.txt
build stamp: run
  cmd = true > stamp && echo x -n > stamp
build linked: run
  cmd = : && /usr/bin/printf %s-%s linked ok && : && touch linked
build nowhere.txt: run
  cmd = echo lost > no/such/dir/nowhere.txt
build dir.txt: run
  cmd = echo x > sub
build listed: run
  cmd = : && touch l1 && /usr/bin/printf %s one && : && /usr/bin/printf %s two && touch listed && :
build stops.txt: run
  cmd = touch m1 && /bin/false && touch stops.txt
build midway.txt: run
  cmd = touch n1 && /usr/bin/printf %s first && ./no-such-program y && touch midway.txt
build false.txt: run
  cmd = : && /bin/false && :
build missing.txt: run
  cmd = : && ./no-such-program x && :
build console.txt: run
  cmd = echo on the terminal > console.txt && echo seen
  pool = console
";

/// Each file's mode and bytes, beside its name.
fn contents(dir: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let files = common::files(dir)
        .into_iter()
        .filter(|f| !f.starts_with(".ninja_"));
    let read = |f: String| {
        let path = dir.join(&f);
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        format!("{f} {mode:o} {:?}", fs::read(&path).unwrap())
    };
    files.map(read).collect()
}

#[test]
fn builtins_and_colon_lists_leave_what_the_shell_leaves() {
    let Some(ninja) = common::ninja113() else {
        return;
    };
    let mut p = Pair::with_manifest(ninja, BUILTINS);
    p.both(|s| {
        fs::write(s.path().join("a.c"), "int a;\n").unwrap();
        fs::write(s.path().join("h.h"), "").unwrap();
        fs::create_dir(s.path().join("sub")).unwrap();
        // An old stamp of other bytes and mode: truncated, mode kept.
        fs::write(s.path().join("stamp"), "older and longer\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        let stamp = s.path().join("stamp");
        fs::set_permissions(stamp, fs::Permissions::from_mode(0o600)).unwrap();
    });
    for target in [
        "a.o",
        "says.txt",
        "stamp",
        "linked",
        "listed",
        "stops.txt",
        "midway.txt",
        "nowhere.txt",
        "dir.txt",
        "false.txt",
        "missing.txt",
        "console.txt",
    ] {
        p.compare(&["-j1", "-v", target]);
    }
    // The deps log's and the explanations' mtimes differ between trees.
    p.compare_with(&["-t", "deps"], common::parity::mask_digits);
    let explain = [
        "-n", "-d", "explain", "a.o", "says.txt", "stamp", "linked", "listed",
    ];
    p.compare_with(&explain, common::parity::mask_digits);
    let (a, b) = (contents(p.ninja.path()), contents(p.gg.path()));
    if a != b {
        p.note(format!("files:\n  ninja:   {a:?}\n  ggninja: {b:?}"));
    }
    p.finish();
}
