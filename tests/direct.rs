//! Commands run without the shell (`executor/src/direct.rs`) against ninja
//! 1.13.2, which runs every one through `/bin/sh -c`, side by side on
//! identical trees: the environment a plain command sees (`PWD` as dash
//! exports it: through `-C`, from a directory reached through a symlink
//! with `PWD` naming it, with `PWD` naming another directory), its output
//! and exit status, and a program that cannot be started.

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
        std::os::unix::fs::symlink("build", s.path().join("link")).unwrap();
    });
    for target in ["env.txt", "args.txt", "fails.txt", "missing.txt"] {
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
