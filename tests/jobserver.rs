//! GNU make's jobserver, against real ninja 1.13.2: ggninja under `make
//! -j3` (make 4.3's pipe form) and beside a fifo pool the test makes
//! shares the pool's slots (never more commands at once than slots, at
//! least 2), prints what 1.13.2 prints (for pools it cannot use too),
//! ignores the pool with `-j` or `-n`, and returns every token after a
//! failure and after Ctrl-C; `--jobserver-pool` makes a pool that a
//! sub-make (pipe style) and a sub-ninja (fifo) share with ggninja's own
//! commands. Concurrency is what the commands record themselves: each
//! counts itself in and out of a counter under `flock`.

mod common;

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{as_ninja, ggninja, in_ci, program_name, require_tool};

/// Counts itself in (recording how many ran then) and out of LOG.
const RECORDER: &str = r#"#!/bin/sh
# rec.sh LOG ID OUT [SECONDS]: one command whose run is recorded in LOG
# (it fails when SECONDS is not a number).
log=$1
count() {
  flock "$log.lock" sh -c '
    n=$(( $(cat "$1.count" 2>/dev/null || echo 0) + $2 ))
    echo $n > "$1.count"
    if [ "$2" = 1 ]; then echo "start $3 $n" >> "$1"; else echo "end $3" >> "$1"; fi
  ' _ "$log" "$1" "$2"
}
count 1 "$2"
sleep "${4:-0.3}" || status=1
count -1 "$2"
[ -z "$status" ] && touch "$3"
"#;

/// Real ninja 1.13.2 (scripts/fetch-ninja.sh); None (skip) when it cannot
/// be fetched outside CI.
fn ninja_1_13() -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fetch-ninja.sh");
    let out = Command::new("bash").arg(script).output().unwrap();
    if !out.status.success() {
        let msg = format!("fetching ninja 1.13.2 failed:\n{}", common::text(&out));
        assert!(!in_ci(), "{msg}");
        eprintln!("skipping: {msg}");
        return None;
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Some(Path::new(&dir).join("bin/ninja"))
}

/// ggninja and ninja 1.13.2, or None (skip).
fn tools() -> Option<[PathBuf; 2]> {
    Some([ggninja(), ninja_1_13()?])
}

/// A command with none of the caller's jobserver or ninja settings.
fn clean_command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "MAKEFLAGS",
        "MFLAGS",
        "MAKELEVEL",
        "NINJA_STATUS",
        "CARGO_MAKEFLAGS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A tree of `n` recorded commands (`job 1`..`job n`) under `dir`, logging
/// to `dir/log`; `extra` is appended to the manifest.
fn recorded_build(dir: &Path, n: usize, extra: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("rec.sh"), RECORDER).unwrap();
    let log = dir.join("log");
    let mut m = format!(
        "rule rec\n  command = sh rec.sh {} $id $out $secs\n  description = job $id\n",
        log.display()
    );
    for i in 1..=n {
        m.push_str(&format!("build o{i}: rec\n  id = {i}\n  secs = 0.3\n"));
    }
    m.push_str(extra);
    std::fs::write(dir.join("build.ninja"), m).unwrap();
}

/// The most commands `log` saw running at once, and how many started.
fn concurrency(log: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let counts: Vec<usize> = text
        .lines()
        .filter_map(|l| l.strip_prefix("start "))
        .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    (counts.iter().copied().max().unwrap_or(0), counts.len())
}

/// The most commands whose id starts with `prefix` `log` saw at once.
fn most_at_once(log: &Path, prefix: &str) -> usize {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let (mut inside, mut most) = (0i32, 0i32);
    for line in text.lines() {
        match line.split(' ').take(2).collect::<Vec<_>>()[..] {
            ["start", id] if id.starts_with(prefix) => inside += 1,
            ["end", id] if id.starts_with(prefix) => inside -= 1,
            _ => {}
        }
        most = most.max(inside);
    }
    most as usize
}

/// What a run printed, its program name spelled `ninja`.
fn outputs(out: &Output, program: &Path) -> (String, String) {
    let name = program_name(program);
    let text = |b: &[u8]| as_ninja(&String::from_utf8_lossy(b), &name);
    (text(&out.stdout), text(&out.stderr))
}

/// The lines about the jobserver (stdout's info lines, any on stderr).
fn jobserver_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.contains("observer")).collect()
}

/// `tool` built by `make -jJOBS` from a recipe (`+`: make hands it the
/// pool) running it with `args` in a fresh tree of 12 commands; the run's
/// output and the commands' concurrency.
fn under_make(tool: &Path, root: &Path, jobs: usize, args: &str) -> (Output, usize) {
    let dir = root.join(program_name(tool));
    recorded_build(&dir, 12, "");
    let recipe = format!("all:\n\t+@{} -C {} {args}\n", tool.display(), dir.display());
    std::fs::write(root.join("Makefile"), recipe).unwrap();
    let out = clean_command(Path::new("make"))
        .arg(format!("-j{jobs}"))
        .args(["-s", "-C"])
        .arg(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out));
    let (max, started) = concurrency(&dir.join("log"));
    let expected = if args.contains("-n") { 0 } else { 12 };
    assert_eq!(started, expected, "{}", common::text(&out));
    (out, max)
}

#[test]
fn under_make_j3_at_most_three_commands_run_as_with_ninja_1_13() {
    let Some(tools) = tools() else { return };
    require_tool("make").expect("make");
    require_tool("flock").expect("flock");
    let root = tempfile::tempdir().unwrap();
    // -j2 too: below ninja's default (cores + 2), so only the pool bounds it.
    for jobs in [3, 2] {
        let mut printed = Vec::new();
        for tool in &tools {
            let (out, max) = under_make(tool, &root.path().join(jobs.to_string()), jobs, "");
            assert!(
                (2..=jobs).contains(&max),
                "{}: {max} at once",
                tool.display()
            );
            let (stdout, stderr) = outputs(&out, tool);
            let detected = format!("ninja: Jobserver mode detected: s -j{jobs} --jobserver-auth=");
            assert!(stdout.contains(&detected), "{stdout}");
            let ran = common::descriptions(&stdout);
            printed.push((jobserver_lines(&stdout).join("\n"), stderr, ran));
        }
        // make hands both the same descriptors.
        assert_eq!(printed[0], printed[1]);
        assert!(printed[0].1.contains("Jobserver 'pipe' mode detected"));
        assert_eq!(printed[0].2.len(), 12);
    }
}

#[test]
fn explicit_j_and_dry_run_leave_the_pool_alone() {
    let Some(tools) = tools() else { return };
    let root = tempfile::tempdir().unwrap();
    for tool in &tools {
        for (args, bound) in [("-j1", 1), ("-j2", 2), ("-n", 0)] {
            let sub = root.path().join(args);
            let (out, max) = under_make(tool, &sub, 3, args);
            assert_eq!(max, bound, "{} {args}", tool.display());
            let (stdout, stderr) = outputs(&out, tool);
            assert!(jobserver_lines(&stdout).is_empty(), "{stdout}");
            assert_eq!(stderr, "", "{} {args}", tool.display());
        }
    }
}

/// A started run, interrupted as a user would (it stops its commands) if
/// the test ends first.
struct Started(std::process::Child);

impl Started {
    fn interrupt(&self) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.interrupt();
            let _ = self.0.wait();
        }
    }
}

/// A fifo pool of `tokens` tokens the test holds open (make 4.4's form).
struct FifoPool {
    path: PathBuf,
    fifo: File,
}

impl FifoPool {
    fn new(dir: &Path, tokens: usize) -> FifoPool {
        let path = dir.join("pool.fifo");
        let ok = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(ok.success());
        let mut fifo = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        fifo.write_all(&vec![b'+'; tokens]).unwrap();
        FifoPool { path, fifo }
    }

    fn makeflags(&self) -> String {
        format!(" -j --jobserver-auth=fifo:{}", self.path.display())
    }

    /// Tokens in the pool now (read out and written back).
    fn tokens(&mut self) -> usize {
        let mut buf = [0u8; 64];
        let n = self.fifo.read(&mut buf).unwrap_or(0);
        self.fifo.write_all(&buf[..n]).unwrap();
        n
    }

    fn command(&self, tool: &Path, dir: &Path) -> Command {
        let mut cmd = clean_command(tool);
        cmd.env("MAKEFLAGS", self.makeflags()).arg("-C").arg(dir);
        cmd
    }
}

#[test]
fn a_fifo_pool_bounds_the_build_as_with_ninja_1_13() {
    let Some(tools) = tools() else { return };
    let root = tempfile::tempdir().unwrap();
    let mut printed = Vec::new();
    for tool in &tools {
        let dir = root.path().join(program_name(tool));
        recorded_build(&dir, 12, "");
        // One token and the implicit slot: below ninja's default -j.
        let mut pool = FifoPool::new(root.path(), 1);
        let out = pool.command(tool, &dir).output().unwrap();
        assert!(out.status.success(), "{}", common::text(&out));
        let (max, started) = concurrency(&dir.join("log"));
        assert_eq!(started, 12);
        assert_eq!(max, 2, "{}", tool.display());
        assert_eq!(pool.tokens(), 1);
        let (stdout, stderr) = outputs(&out, tool);
        let detected = format!("ninja: Jobserver mode detected: {}", pool.makeflags());
        assert_eq!(jobserver_lines(&stdout), [detected.as_str()]);
        printed.push(stderr);
        std::fs::remove_file(&pool.path).unwrap();
    }
    assert_eq!(printed, ["", ""]);
}

#[test]
fn pools_that_cannot_be_used_are_reported_as_ninja_1_13_does() {
    let Some(tools) = tools() else { return };
    let root = tempfile::tempdir().unwrap();
    let fifo = FifoPool::new(root.path(), 1);
    let cases = [
        ("--jobserver-fds=x", ""),
        ("--jobserver-auth=sem", ""),
        ("--jobserver-auth=fifo:/nonexistent/fifo", ""),
        ("--jobserver-auth=fifo:/dev/null", ""),
        ("--jobserver-auth=fifo:", ""),
        // Descriptors a recipe without `+` names but does not have.
        (" -j3 --jobserver-auth=97,98", ""),
        ("--jobserver-fds=-1,-1", ""),
        ("kn --jobserver-auth=97,98", ""),
        ("--jobserver-auth=97,98 --jobserver-auth=-1,-1", ""),
        (&fifo.makeflags(), "--quiet"),
    ];
    for (i, (makeflags, flag)) in cases.iter().enumerate() {
        let mut runs = Vec::new();
        for tool in &tools {
            let dir = root.path().join(format!("{i}-{}", program_name(tool)));
            recorded_build(&dir, 1, "");
            let out = clean_command(tool)
                .env("MAKEFLAGS", makeflags)
                .args(["-C", dir.to_str().unwrap()])
                .args(flag.split_whitespace())
                .output()
                .unwrap();
            let (stdout, stderr) = outputs(&out, tool);
            let stdout = stdout.replace(dir.to_str().unwrap(), "DIR");
            runs.push((out.status.code(), stdout, stderr));
        }
        assert_eq!(runs[0], runs[1], "MAKEFLAGS={makeflags}");
    }
}

#[test]
fn a_token_coming_back_starts_the_next_command_without_waiting() {
    // The pool's tokens are held elsewhere while ggninja's one command
    // runs 3 s; one comes back after 0.5 s: the second command starts then.
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("b");
    recorded_build(&dir, 0, "");
    let build =
        "build long: rec\n  id = long\n  secs = 3\nbuild short: rec\n  id = short\n  secs = 0\n";
    let mut manifest = std::fs::read_to_string(dir.join("build.ninja")).unwrap();
    manifest.push_str(build);
    std::fs::write(dir.join("build.ninja"), manifest).unwrap();
    let mut pool = FifoPool::new(root.path(), 1);
    let mut held = [0u8; 1];
    pool.fifo.read_exact(&mut held).unwrap();
    let started = Instant::now();
    let mut child = Started(
        pool.command(&ggninja(), &dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(500));
    pool.fifo.write_all(&held).unwrap();
    let short = dir.join("short");
    while !short.exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    assert!(child.0.wait().unwrap().success());
    assert!(
        took < Duration::from_secs(2),
        "second command after {took:?}"
    );
    assert_eq!(pool.tokens(), 1);
}

#[test]
fn a_failure_and_ctrl_c_return_every_token() {
    let Some(tools) = tools() else { return };
    let root = tempfile::tempdir().unwrap();
    for tool in &tools {
        let name = program_name(tool);
        for keep_going in ["-k1", "-k0"] {
            let dir = root.path().join(format!("{name}{keep_going}"));
            recorded_build(&dir, 8, "build bad: rec\n  id = bad\n  secs = x\n");
            let mut pool = FifoPool::new(&dir, 2);
            let out = pool.command(tool, &dir).arg(keep_going).output().unwrap();
            assert!(!out.status.success(), "{}", common::text(&out));
            assert_eq!(pool.tokens(), 2, "{name} {keep_going}");
        }
        let dir = root.path().join(format!("{name}-int"));
        let long: String = ["a", "b", "c", "d"]
            .map(|id| format!("build {id}: rec\n  id = {id}\n  secs = 30\n"))
            .concat();
        recorded_build(&dir, 0, &long);
        let mut pool = FifoPool::new(&dir, 2);
        let mut child = Started(
            pool.command(tool, &dir)
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while concurrency(&dir.join("log")).1 < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(concurrency(&dir.join("log")), (3, 3), "{name}");
        assert_eq!(pool.tokens(), 0);
        child.interrupt();
        let status = child.0.wait().unwrap();
        assert!(!status.success());
        assert_eq!(pool.tokens(), 2, "{name} after Ctrl-C");
    }
}

/// A sub-build of 8 recorded commands `submake`'s edge runs, next to 4 of
/// ggninja's own, all logging to one log: (the run, the most at once).
fn pool_build(root: &Path, sub_command: &str, args: &[&str]) -> (Output, usize) {
    let log = root.join("log");
    let sub_targets: String = (1..=8).map(|i| format!(" s{i}")).collect();
    let mut makefile = format!("all:{sub_targets}\n");
    for i in 1..=8 {
        makefile.push_str(&format!(
            "s{i}:\n\t@sh rec.sh {} sub{i} $@\n",
            log.display()
        ));
    }
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/Makefile"), makefile).unwrap();
    recorded_build(&root.join("sub"), 0, "");
    let mut sub_ninja = format!(
        "rule rec\n  command = sh rec.sh {} $out $out\nbuild all: phony{sub_targets}\n",
        log.display()
    );
    for i in 1..=8 {
        sub_ninja.push_str(&format!("build s{i}: rec\n"));
    }
    std::fs::write(root.join("sub/build.ninja"), sub_ninja).unwrap();
    let extra = format!(
        "rule sub\n  command = {sub_command}\nbuild submake: sub\n\
         rule env\n  command = echo \"[$$MAKEFLAGS]\" > $out\n  pool = console\n\
         build makeflags: env\n"
    );
    recorded_build(root, 4, &extra);
    let out = clean_command(&ggninja())
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out));
    let (max, started) = concurrency(&log);
    assert_eq!(started, 12, "{}", common::text(&out));
    (out, max)
}

#[test]
fn jobserver_pool_is_shared_with_a_sub_make_and_a_sub_ninja() {
    require_tool("make").expect("make");
    let root = tempfile::tempdir().unwrap();
    // make 4.3 reads only the pipe form; a -jN of its own would make it
    // leave the pool ("-jN forced in submake"), so it takes -j from MAKEFLAGS.
    let make = "make -s -C sub";
    let pooled = root.path().join("make");
    let args = ["-j3", "--jobserver-pool", "--jobserver-style=pipe"];
    let (out, max) = pool_build(&pooled, make, &args);
    assert!(
        (2..=3).contains(&max),
        "{max} at once\n{}",
        common::text(&out)
    );
    // The sub-make ran jobs side by side on the pool's tokens.
    assert!(most_at_once(&pooled.join("log"), "sub") >= 2);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ggninja: Creating jobserver pool for 3 parallel jobs"));
    let flags = std::fs::read_to_string(pooled.join("makeflags")).unwrap();
    assert!(flags.starts_with("[ -j3 --jobserver-auth="), "{flags}");
    if let Some(ninja) = ninja_1_13() {
        let sub_ninja = format!("{} -C sub", ninja.display());
        let pooled = root.path().join("ninja");
        let (out, max) = pool_build(&pooled, &sub_ninja, &["-j3", "--jobserver-pool"]);
        assert!(
            (2..=3).contains(&max),
            "{max} at once\n{}",
            common::text(&out)
        );
        assert!(most_at_once(&pooled.join("log"), "s") >= 2);
        let flags = std::fs::read_to_string(pooled.join("makeflags")).unwrap();
        assert!(flags.contains(" --jobserver-auth=fifo:"), "{flags}");
        let fifo = flags.split("fifo:").nth(1).unwrap().trim_end_matches("]\n");
        assert!(!Path::new(fifo).exists(), "{fifo} left behind");
    }
    // Without the flag commands get no pool: the sub-make runs its 8
    // targets one at a time beside ggninja's -j3.
    let plain = root.path().join("plain");
    let (_, max) = pool_build(&plain, make, &["-j3"]);
    assert!(max <= 3);
    let flags = std::fs::read_to_string(plain.join("makeflags")).unwrap();
    assert_eq!(flags, "[]\n");
    assert_eq!(most_at_once(&plain.join("log"), "sub"), 1);
}
