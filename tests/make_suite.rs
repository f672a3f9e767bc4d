//! A differential harness over GNU make's own test suite: every case of
//! make 4.3's tests/scripts that builds something is replayed with real make
//! and with `ggninja --make` on two identical trees, which must agree on
//! success, on the files left (and their contents) and on the commands'
//! output (as a multiset of lines).
//!
//! The cases come from `tests/make_suite/extract.pl`, which evaluates the
//! suite's Perl scripts with its own `run_make_test` & co. and prints each
//! case (makefile, arguments, the files the script made first) as JSON.
//! What make prints about itself (`make: ***`, "Entering directory") is on
//! stderr or dropped, and so is ggninja's failure report. The suite's
//! expected outputs are not used: make on this machine is the reference.
//!
//! The test fails when the share of run cases that agree drops below
//! `MIN_AGREEMENT`: a guard against regressions in the importer, set just
//! under the rate measured when it was written (see docs/make.md).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

/// Agreement among run cases below which the test fails.
const MIN_AGREEMENT: f64 = 0.90;

/// One run longer than this is killed (a case waiting forever).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Scripts not replayed, and why: each tests a part of make that is not
/// about building a graph of rules and recipes, or one the importer refuses
/// by design (docs/make.md, "Refused").
const SKIPPED_SCRIPTS: &[(&str, &str)] = &[
    (
        "features/archives",
        "archive members lib(member): ar, not rules",
    ),
    ("features/jobserver", "make's jobserver protocol"),
    ("features/load", "loadable objects"),
    ("features/loadapi", "loadable objects"),
    ("features/output-sync", "make's -O output grouping"),
    ("features/vpath", "VPATH/vpath: refused by design"),
    ("features/vpath2", "VPATH/vpath: refused by design"),
    ("features/vpath3", "VPATH/vpath: refused by design"),
    ("features/vpathgpath", "VPATH/vpath: refused by design"),
    ("features/vpathplus", "VPATH/vpath: refused by design"),
    ("functions/guile", "guile"),
    ("misc/close_stdout", "make's own stdout errors (/dev/full)"),
    ("misc/fopen-fail", "make's own file descriptor exhaustion"),
    ("vms/library", "VMS"),
];

/// The options/ scripts test make's command line; these three test flags
/// that ggninja has too, on builds.
const OPTIONS_KEPT: &[&str] = &["options/dash-C", "options/dash-f", "options/dash-k"];

/// The token the extractor writes for the current directory (`#PWD#`).
const PWD: &str = "@PWD@";

#[derive(Deserialize)]
struct Case {
    script: String,
    line: u32,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    files: Vec<CaseFile>,
    dirs: Vec<String>,
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct CaseFile {
    path: String,
    /// One character per byte.
    data: String,
    mode: u32,
    /// Seconds relative to the moment the case runs.
    mtime: f64,
}

#[derive(Deserialize)]
struct Link {
    path: String,
    target: String,
}

/// What happened to one case.
enum Outcome {
    Skipped(String),
    Agree,
    Differ(String),
}

#[test]
fn ggninja_agrees_with_make_on_its_own_test_suite() {
    let (Some(_), Some(_)) = (common::require_tool("make"), common::require_tool("perl")) else {
        return;
    };
    let Some(source) = common::fetch_source("make-dfsg") else {
        return;
    };
    let cases = extract(&source.join("tests"));
    assert!(cases.len() > 500, "only {} cases extracted", cases.len());
    let outcomes: Vec<(&Case, Outcome)> = cases.iter().map(|c| (c, replay(c))).collect();
    let summary = Summary::of(&outcomes);
    eprintln!("{}", summary.table());
    if selected().is_some() {
        return;
    }
    let rate = summary.agree as f64 / summary.run as f64;
    assert!(
        rate >= MIN_AGREEMENT,
        "agreement {:.1}% is below {:.1}%",
        rate * 100.0,
        MIN_AGREEMENT * 100.0
    );
}

/// Every case of every script, as tests/make_suite/extract.pl prints them.
fn extract(tests: &Path) -> Vec<Case> {
    let scratch = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/make_suite/extract.pl");
    let out = Command::new("perl")
        .arg(&script)
        .arg(tests)
        .arg(scratch.path())
        .args(scripts(&tests.join("scripts")))
        .output()
        .expect("running perl");
    assert!(out.status.success(), "{}", common::text(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `CATEGORY/NAME` of each script, sorted.
fn scripts(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for category in fs::read_dir(dir).unwrap() {
        let category = category.unwrap();
        if !category.file_type().unwrap().is_dir() {
            continue; // test_template
        }
        for script in fs::read_dir(category.path()).unwrap() {
            let name = script.unwrap().file_name();
            let category = category.file_name();
            names.push(format!(
                "{}/{}",
                category.to_string_lossy(),
                name.to_string_lossy()
            ));
        }
    }
    names.sort();
    names
}

/// Why a script is not replayed, if it is not.
fn skip_reason(script: &str) -> Option<String> {
    if let Some((_, why)) = SKIPPED_SCRIPTS.iter().find(|(s, _)| *s == script) {
        return Some(why.to_string());
    }
    (script.starts_with("options/") && !OPTIONS_KEPT.contains(&script))
        .then(|| "make's command-line options".to_string())
}

/// make's arguments as ggninja's, or the make option ggninja lacks.
fn ggninja_args(make_args: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut jobs = false;
    let mut words = make_args.iter();
    while let Some(w) = words.next() {
        let mut value = |flag: &str| -> Result<String, String> {
            match w.strip_prefix(flag) {
                Some("") => words.next().cloned().ok_or(format!("{w} without a value")),
                Some(v) => Ok(v.to_string()),
                None => unreachable!(),
            }
        };
        match w.as_str() {
            "-s" | "--silent" | "--quiet" => {}
            "-k" | "--keep-going" => out.extend(["-k".into(), "0".into()]),
            _ if w.starts_with("-f") && out.contains(&"-f".to_string()) => {
                return Err("several -f makefiles (ggninja reads one)".into())
            }
            _ if w.starts_with("-f") => out.extend(["-f".into(), value("-f")?]),
            _ if w.starts_with("-C") => out.extend(["-C".into(), value("-C")?]),
            // make's bare -j is unlimited; ninja's -j 0 is too.
            "-j" => {
                jobs = true;
                out.extend(["-j".into(), "0".into()]);
            }
            _ if w.starts_with("-j") => {
                jobs = true;
                out.extend(["-j".into(), w[2..].to_string()]);
            }
            _ if w.starts_with('-') => return Err(format!("make option {w}")),
            _ => out.push(w.clone()),
        }
    }
    if !jobs {
        out.splice(0..0, ["-j".to_string(), "1".to_string()]);
    }
    Ok(out)
}

/// Builds the case with both programs and compares what they did.
fn replay(case: &Case) -> Outcome {
    let at = format!("{}:{}", case.script, case.line);
    if selected().is_some_and(|c| c != case.script && c != at) {
        return Outcome::Skipped("not selected".into());
    }
    if let Some(why) = skip_reason(&case.script) {
        return Outcome::Skipped(why);
    }
    let gargs = match ggninja_args(&case.args) {
        Ok(a) => a,
        Err(why) => return Outcome::Skipped(why),
    };
    let dir = tempfile::tempdir().unwrap();
    // The same name in both: recipes may print it; the rest is normalized.
    let (mtree, gtree) = (dir.path().join("a/tree"), dir.path().join("b/tree"));
    let now = SystemTime::now();
    for tree in [&mtree, &gtree] {
        populate(tree, case, now);
    }
    let mut margs = vec!["-s".to_string()];
    margs.extend(case.args.iter().cloned());
    let m = run(
        &mtree,
        Path::new("make"),
        &margs,
        case,
        &dir.path().join("m"),
    );
    let mut gfull = vec!["--make".to_string(), "--quiet".to_string()];
    gfull.extend(gargs);
    let g = run(
        &gtree,
        &common::ggninja(),
        &gfull,
        case,
        &dir.path().join("g"),
    );
    let outcome = compare(&m, &g, &mtree, &gtree);
    if selected().is_some() {
        show(case, &margs, &m, &g, &mtree, &gtree);
    }
    outcome
}

/// `MAKE_SUITE_CASE=features/errors` (or `features/errors:26`, its line):
/// only those cases run, each shown in full, and no rate is asserted.
fn selected() -> Option<String> {
    std::env::var("MAKE_SUITE_CASE").ok()
}

/// Everything about one case (see `selected`).
fn show(case: &Case, margs: &[String], m: &Run, g: &Run, mtree: &Path, gtree: &Path) {
    for f in &case.files {
        eprintln!("--- {} (mtime {:+.2})\n{}", f.path, f.mtime, f.data);
    }
    eprintln!("--- make {}", margs.join(" "));
    for (name, r, tree) in [("make", m, mtree), ("ggninja", g, gtree)] {
        eprintln!(
            "--- {name}: {:?}\n{}--- stderr\n{}",
            r.status, r.stdout, r.stderr
        );
        let files: Vec<String> = contents(tree).into_keys().collect();
        eprintln!("--- files: {files:?}");
    }
}

/// Writes the case's files, directories and links under `root`.
fn populate(root: &Path, case: &Case, now: SystemTime) {
    let pwd = root.to_string_lossy();
    fs::create_dir_all(root).unwrap();
    for d in &case.dirs {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    for f in &case.files {
        let path = root.join(&f.path);
        let data: Vec<u8> = f.data.chars().map(|c| c as u32 as u8).collect();
        fs::write(&path, replace(&data, PWD.as_bytes(), pwd.as_bytes())).unwrap();
        let file = fs::File::options().write(true).open(&path).unwrap();
        let offset = Duration::from_secs_f64(f.mtime.abs());
        let when = if f.mtime < 0.0 {
            now - offset
        } else {
            now + offset
        };
        file.set_modified(when).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(f.mode)).unwrap();
    }
    for l in &case.links {
        std::os::unix::fs::symlink(&l.target, root.join(&l.path)).unwrap();
    }
}

/// `data` with every `from` replaced by `to`.
fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

/// How a run ended: its exit status (None when killed at the timeout),
/// stdout and stderr.
struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `program args` in `dir` with the case's environment, its output
/// in files next to `out` (pipes would need readers while we wait).
fn run(dir: &Path, program: &Path, args: &[String], case: &Case, out: &Path) -> Run {
    let pwd = dir.to_string_lossy();
    let (stdout, stderr) = (out.with_extension("out"), out.with_extension("err"));
    let mut cmd = Command::new(program);
    cmd.args(args.iter().map(|a| a.replace(PWD, &pwd)))
        .current_dir(dir)
        .env("LC_ALL", "C")
        .env_remove("NINJA_STATUS")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout).unwrap())
        .stderr(fs::File::create(&stderr).unwrap())
        // Its own process group, so that a timeout kills its children too.
        .process_group(0);
    // cargo's jobserver and any make of ours must not leak into the case.
    for var in [
        "MAKEFLAGS",
        "MFLAGS",
        "MAKELEVEL",
        "GNUMAKEFLAGS",
        "MAKEFILES",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in &case.env {
        cmd.env(k, v.replace(PWD, &pwd));
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s.code().unwrap_or(-1));
        }
        if start.elapsed() > TIMEOUT {
            // SAFETY: kill(2) on the process group this test created.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap()).replace(&*pwd, PWD);
    Run {
        status,
        stdout: read(&stdout),
        stderr: read(&stderr),
    }
}

/// Agree, or the first way the two runs differ, as a reason category.
fn compare(m: &Run, g: &Run, mtree: &Path, gtree: &Path) -> Outcome {
    match (m.status, g.status) {
        (None, None) => return Outcome::Agree,
        (None, _) => return Outcome::Differ("make timed out".into()),
        (_, None) => return Outcome::Differ("ggninja timed out".into()),
        _ => {}
    }
    let (mok, gok) = (m.status == Some(0), g.status == Some(0));
    if !gok {
        if let Some(refused) = refusal(&g.stderr) {
            if mok || make_lines(&m.stdout) != ggninja_lines(&g.stdout) {
                return Outcome::Differ(refused);
            }
        }
    }
    if mok != gok {
        return Outcome::Differ(if mok {
            format!("make succeeds, ggninja fails: {}", error_kind(&g.stderr))
        } else {
            "make fails, ggninja succeeds".into()
        });
    }
    let (ml, gl) = (make_lines(&m.stdout), ggninja_lines(&g.stdout));
    if ml != gl {
        return Outcome::Differ(format!("different output: {}", output_kind(&ml, &gl)));
    }
    let (a, b) = (contents(mtree), contents(gtree));
    let only_g = b.keys().any(|k| !a.contains_key(k));
    let only_m = a.keys().any(|k| !b.contains_key(k));
    let changed = a.iter().any(|(k, v)| b.get(k).is_some_and(|w| w != v));
    match (only_m, only_g, changed) {
        (false, false, false) => Outcome::Agree,
        (_, _, true) => Outcome::Differ("different file contents".into()),
        (true, false, _) => Outcome::Differ("files make writes are missing".into()),
        (false, true, _) => Outcome::Differ("files make deletes or never writes are left".into()),
        (true, true, _) => Outcome::Differ("different files".into()),
    }
}

/// How ggninja's lines differ from make's (both sorted): more of them
/// (commands make did not run), fewer, or others.
fn output_kind(make: &[String], ggninja: &[String]) -> &'static str {
    let within = |small: &[String], big: &[String]| {
        let mut big = big.iter().peekable();
        small.iter().all(|s| {
            while big.next_if(|b| *b < s).is_some() {}
            big.next_if(|b| *b == s).is_some()
        })
    };
    if within(make, ggninja) {
        "ggninja prints more lines"
    } else if within(ggninja, make) {
        "ggninja prints fewer lines"
    } else {
        "other lines"
    }
}

/// `refused: CONSTRUCT` for ggninja's errors naming what the importer
/// does not support (docs/make.md, "Refused"). A `$(error)` the import
/// reached is one too: make expands a recipe only when it runs it, after
/// the recipes before it.
fn refusal(stderr: &str) -> Option<String> {
    const UNSUPPORTED: [&str; 2] = [" is not supported", " are not supported"];
    let line = stderr.lines().find(|l| l.starts_with("ggninja: error: "))?;
    let line = line.trim_start_matches("ggninja: error: ");
    let reason = match line.split_once("): ").or_else(|| line.split_once("': ")) {
        Some((_, r)) if line.starts_with("cannot import") => r,
        _ => line,
    };
    if reason.contains("(its operator could not be read") {
        return Some("refused: a pattern-specific variable whose operator is unread".into());
    }
    if reason.starts_with("*** ") {
        return Some("refused: $(error) expanded at import, before earlier recipes ran".into());
    }
    // Where a construct was found (`at Makefile:3`) varies case by case.
    let reason = reason.trim_end_matches(" by the importer");
    let reason = reason.split(" at ").next().unwrap_or(reason);
    let construct = UNSUPPORTED
        .iter()
        .find_map(|u| reason.strip_suffix(u))
        .or_else(|| line.starts_with("cannot import").then_some(reason))?;
    Some(format!("refused: {}", generalize(construct)))
}

/// The kind of error ggninja printed, without the names in it.
fn error_kind(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("ggninja: error: "))
        .or_else(|| stderr.lines().next())
        .unwrap_or("a command fails");
    generalize(line.trim_start_matches("ggninja: error: "))
}

/// `text` with quoted names ('foo.o') replaced by '…', so that errors of
/// one kind fall into one category; quoted make syntax (`'$?'`) stays.
fn generalize(text: &str) -> String {
    let mut out = String::new();
    let mut parts = text.split('\'');
    out.push_str(parts.next().unwrap_or(""));
    let mut quoted = true;
    for p in parts {
        out.push('\'');
        out.push_str(if quoted && !p.starts_with('$') {
            "…"
        } else {
            p
        });
        quoted = !quoted;
    }
    out.chars().take(90).collect()
}

/// make's stdout as a sorted multiset of lines, without make's own
/// messages (most are on stderr; "Nothing to be done" is not).
fn make_lines(stdout: &str) -> Vec<String> {
    let mut l: Vec<String> = stdout
        .lines()
        .filter(|l| !(l.starts_with("make: ") || l.starts_with("make[")))
        .map(str::to_string)
        .collect();
    l.sort();
    l
}

/// ggninja's stdout as a sorted multiset of lines, without its own report
/// of a failure (`FAILED: target` and the command after it) and messages.
fn ggninja_lines(stdout: &str) -> Vec<String> {
    let mut l = Vec::new();
    let mut command = CommandLines::Done;
    for line in stdout.lines() {
        if line.starts_with("FAILED: ") {
            command = CommandLines::Next;
        } else if command != CommandLines::Done {
            command = command.after(line);
        } else if !line.starts_with("ggninja: ") {
            l.push(line.to_string());
        }
    }
    l.sort();
    l
}

/// Where ggninja's echo of a failed command ends. The importer joins a
/// recipe's lines into one command, some of them in a subshell on lines of
/// their own (`a && (\nb\n) && c`), so the echo may span several lines:
/// it goes on while a subshell is open or a line ends with `&&`.
#[derive(Clone, Copy, PartialEq)]
enum CommandLines {
    Next,
    Open(usize),
    Done,
}

impl CommandLines {
    fn after(self, line: &str) -> CommandLines {
        let mut depth = match self {
            CommandLines::Open(d) => d,
            _ => 0,
        };
        if line.starts_with(')') {
            depth = depth.saturating_sub(1);
        }
        if line.ends_with('(') {
            depth += 1;
        }
        let more = line.ends_with("&&") || line.ends_with("&& (");
        if depth > 0 || more {
            CommandLines::Open(depth)
        } else {
            CommandLines::Done
        }
    }
}

/// Every file under `root` but ggninja's logs (in whichever directory `-C`
/// ran it), with its contents (a symlink: its target), the tree's own path
/// normalized.
fn contents(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let pwd = root.to_string_lossy();
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in fs::read_dir(root.join(&rel)).unwrap() {
            let entry = entry.unwrap();
            let rel = rel.join(entry.file_name());
            let name = rel.to_string_lossy().into_owned();
            let kind = entry.file_type().unwrap();
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            if file_name.starts_with(".ggninja_") {
                continue; // ggninja's own state (the kept make database)
            }
            if kind.is_dir() {
                out.insert(format!("{name}/"), Vec::new());
                stack.push(rel);
            } else if kind.is_symlink() {
                let target = fs::read_link(entry.path()).unwrap();
                out.insert(name, target.to_string_lossy().as_bytes().to_vec());
            } else if !file_name.starts_with(".ninja_") {
                let data = fs::read(entry.path()).unwrap_or_default();
                out.insert(name, replace(&data, pwd.as_bytes(), PWD.as_bytes()));
            }
        }
    }
    out
}

/// The counts and the disagreements by reason.
struct Summary {
    extracted: usize,
    skipped: BTreeMap<String, usize>,
    run: usize,
    agree: usize,
    reasons: BTreeMap<String, Vec<String>>,
}

impl Summary {
    fn of(outcomes: &[(&Case, Outcome)]) -> Summary {
        let mut s = Summary {
            extracted: outcomes.len(),
            skipped: BTreeMap::new(),
            run: 0,
            agree: 0,
            reasons: BTreeMap::new(),
        };
        for (case, outcome) in outcomes {
            match outcome {
                Outcome::Skipped(why) => *s.skipped.entry(why.clone()).or_default() += 1,
                Outcome::Agree => {
                    s.run += 1;
                    s.agree += 1;
                }
                Outcome::Differ(why) => {
                    s.run += 1;
                    let at = format!("{}:{}", case.script, case.line);
                    s.reasons.entry(why.clone()).or_default().push(at);
                }
            }
        }
        s
    }

    fn table(&self) -> String {
        let mut t = format!(
            "GNU make's test suite: {} cases extracted, {} run, {} agree ({:.1}%)\n",
            self.extracted,
            self.run,
            self.agree,
            100.0 * self.agree as f64 / self.run.max(1) as f64
        );
        t.push_str("\nskipped:\n");
        for (why, n) in &self.skipped {
            t.push_str(&format!("{n:5}  {why}\n"));
        }
        t.push_str("\ndisagreements:\n");
        let mut reasons: Vec<_> = self.reasons.iter().collect();
        reasons.sort_by_key(|(why, at)| (std::cmp::Reverse(at.len()), *why));
        for (why, at) in reasons {
            t.push_str(&format!("{:5}  {why}\n", at.len()));
            let unique: BTreeSet<&String> = at.iter().collect();
            let list: Vec<&str> = unique.iter().map(|s| s.as_str()).collect();
            t.push_str(&format!("       {}\n", list.join(" ")));
        }
        t
    }
}
