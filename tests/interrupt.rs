//! SIGINT / SIGTERM / SIGHUP during a build: ggninja must stop like ninja
//! 1.13.2 does, run side by side (exit 130, `build stopped: interrupted by
//! user.`; ninja 1.11 exited 2), kill the running command, remove its
//! partial output, keep a valid `.ninja_log` with the edges that finished,
//! and rebuild only the interrupted edge next time.
//!
//! Every wait polls with a timeout; nothing depends on how long a step takes.
//! Validate the harness against ninja 1.13.2:
//!   GGNINJA_BIN=~/.cache/ggninja-tests/ninja-1.13.2/bin/ninja cargo test --test interrupt

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{as_ninja, descriptions, ggninja, ninja113, ninja_log, program_name, run};

/// The slow edge writes its shell's pid and a partial output, then sleeps for
/// as many seconds as `delay` says (30 for the interrupted build, 0 for the
/// rerun; `delay` is not an input, so the command line stays the same).
const MANIFEST: &str = "\
rule slow
  command = sh -c 'echo $$$$ > slow.pid; echo partial > $out; sleep $$(cat delay); echo done >> $out'
  description = SLOW $out
rule fast
  command = echo fast > $out
  description = FAST $out
build slow.out: slow
build fast.out: fast
";

const TIMEOUT: Duration = Duration::from_secs(20);

fn poll(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < TIMEOUT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Parent pid and state of `pid`, from /proc.
fn proc_stat(pid: i32) -> Option<(i32, char)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((ppid, state))
}

/// Gone: no such process, or only a zombie waiting to be reaped.
fn gone(pid: i32) -> bool {
    !matches!(proc_stat(pid), Some((_, s)) if s != 'Z')
}

/// Live children of `pid` running `comm`.
fn children(pid: i32, comm: &str) -> Vec<i32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&p| matches!(proc_stat(p), Some((pp, s)) if pp == pid && s != 'Z'))
        .filter(|&p| fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == comm))
        .collect()
}

/// Entries of `.ninja_log` (outputs), asserting every line parses.
fn log_outputs(dir: &Path) -> Vec<String> {
    let Some(log) = ninja_log::read(dir) else {
        return Vec::new();
    };
    match &log.header {
        None => return Vec::new(),
        Some(h) => assert!(h.starts_with("# ninja log v"), "bad header {h:?}"),
    }
    log.entries
        .iter()
        .for_each(ninja_log::Entry::assert_numbers);
    log.outputs()
}

/// What one interrupted build looked like.
#[derive(Debug)]
struct Report {
    code: Option<i32>,
    /// stdout with the program name normalised to `ninja`.
    stdout: String,
    stderr: String,
    shell_gone: bool,
    sleep_gone: bool,
    partial_removed: bool,
    log: Vec<String>,
    rerun_built: BTreeSet<String>,
    rerun_output: String,
}

fn wait_with_timeout(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("build did not stop within {TIMEOUT:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn scenario(prog: &Path, signal: i32) -> Report {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    fs::write(dir.join("build.ninja"), MANIFEST).unwrap();
    fs::write(dir.join("delay"), "30\n").unwrap();

    let mut child = Command::new(prog)
        .arg("-j2")
        .current_dir(dir)
        .env_remove("NINJA_STATUS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // stdout is drained by threads so a full pipe can never block the build.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        out_pipe.read_to_string(&mut s).unwrap();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err_pipe.read_to_string(&mut s).unwrap();
        s
    });

    poll("fast.out in .ninja_log", || {
        log_outputs(dir).iter().any(|o| o == "fast.out")
    });
    let pid_file = dir.join("slow.pid");
    poll("slow.pid", || {
        fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'))
    });
    let shell: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    poll("the partial output", || {
        fs::read_to_string(dir.join("slow.out")).is_ok_and(|s| s == "partial\n")
    });
    let mut sleep = Vec::new();
    poll("the sleep command", || {
        sleep = children(shell, "sleep");
        !sleep.is_empty()
    });

    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let status = wait_with_timeout(&mut child);
    let stdout = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();

    // The build program has exited: its command must be dead too (give an
    // orphaned process a moment to be reaped by init).
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !(gone(shell) && sleep.iter().all(|&p| gone(p))) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let shell_gone = gone(shell);
    let sleep_gone = sleep.iter().all(|&p| gone(p));
    for &p in sleep.iter().chain([&shell]) {
        if !gone(p) {
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
    }
    let partial_removed = !dir.join("slow.out").exists();
    let log = log_outputs(dir);

    fs::write(dir.join("delay"), "0\n").unwrap();
    let rerun = run(dir, prog, &["-j2"]);
    assert!(rerun.status.success(), "rerun failed: {rerun:?}");
    let rerun_built = descriptions(&String::from_utf8_lossy(&rerun.stdout));
    let rerun_output = fs::read_to_string(dir.join("slow.out")).unwrap_or_default();

    eprintln!(
        "{}: shell {shell}, sleep {sleep:?}; stdout {stdout:?}; stderr {stderr:?}",
        prog.display()
    );
    let name = program_name(prog);
    let normalize = |s: &str| as_ninja(s, &name);
    Report {
        code: status.code(),
        stdout: normalize(&stdout),
        stderr: normalize(&stderr),
        shell_gone,
        sleep_gone,
        partial_removed,
        log,
        rerun_built,
        rerun_output,
    }
}

fn check(signal: i32) {
    let Some(ninja) = ninja113() else {
        return;
    };
    let prog: PathBuf = ggninja();
    let r = scenario(&prog, signal);
    let ctx = format!("{} after signal {signal}: {r:#?}", prog.display());
    assert_eq!(r.code, Some(130), "{ctx}");
    assert!(
        r.stdout
            .lines()
            .any(|l| l == "ninja: build stopped: interrupted by user."),
        "{ctx}"
    );
    assert!(
        r.shell_gone,
        "the interrupted command is still running: {ctx}"
    );
    assert!(
        r.sleep_gone,
        "the interrupted command's child is still running: {ctx}"
    );
    assert!(
        r.partial_removed,
        "the partial output slow.out was left behind: {ctx}"
    );
    assert_eq!(r.log, vec!["fast.out".to_string()], "{ctx}");
    assert_eq!(
        r.rerun_built,
        BTreeSet::from(["SLOW slow.out".to_string()]),
        "{ctx}"
    );
    assert_eq!(r.rerun_output, "partial\ndone\n", "{ctx}");

    // Same scenario with real ninja 1.13.2: same exit code, messages,
    // stopped commands, removed output, log and rerun.
    let n = scenario(&ninja, signal);
    let outcome = |r: &Report| {
        (
            r.code,
            r.stdout.clone(),
            r.stderr.clone(),
            (r.shell_gone, r.sleep_gone, r.partial_removed),
            r.log.clone(),
            r.rerun_built.clone(),
            r.rerun_output.clone(),
        )
    };
    assert_eq!(
        outcome(&r),
        outcome(&n),
        "ggninja (left) vs ninja 1.13.2 (right) after signal {signal}"
    );
}

#[test]
fn sigint_stops_the_build() {
    check(libc::SIGINT);
}

#[test]
fn sigterm_stops_the_build() {
    check(libc::SIGTERM);
}

#[test]
fn sighup_stops_the_build() {
    check(libc::SIGHUP);
}
