//! `--remote lambda` end to end on the local stack (tests/common/local_aws):
//! real S3 server, real Lambda emulator, the project's function confined to
//! what Lambda would give it, so a build that passes carried every input
//! through S3. Compared with a local build of the same tree: outputs byte
//! for byte, symlinks, tests, rebuild sets; and the summary's counts.
#![cfg(feature = "remote")]

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::local_aws::{self, count, outputs, summary, Stack};
use common::{cmake, ggninja, run, text};

fn stack_or_skip(instances: usize) -> Option<Stack> {
    Stack::up(instances)
}

fn assert_ok(out: &std::process::Output, what: &str) {
    assert!(out.status.success(), "{what} failed:\n{}", text(out));
}

/// The fixture configured at `<tmp>/build` with ggninja as CMake's make
/// program.
fn configured_fixture(tmp: &Path) -> PathBuf {
    let src = tmp.join("src");
    common::copy_dir(&common::fixture("cmake-demo"), &src);
    let build = tmp.join("build");
    cmake::configure(&src, &build, Some(&ggninja()), &[]);
    build
}

#[test]
fn cmake_fixture_builds_remotely_as_it_builds_locally() {
    let Some(stack) = stack_or_skip(4) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let build = configured_fixture(tmp.path());

    let out = stack.ggninja(&build, &["--remote", "lambda", "-j", "16", "-d", "explain"]);
    assert_ok(&out, "remote build");
    let log = text(&out);
    let s = summary(&build);
    eprintln!("{s}");
    local_aws::assert_fixture_ran_remotely(&s, &log);
    assert!(
        log.contains("shapeinfo runs locally: it links with an -rpath"),
        "{log}"
    );
    assert!(
        log.contains("remote: ") && log.contains(" invocations"),
        "{log}"
    );
    let ran = origins(&build);
    assert_eq!(
        ran.get("remote"),
        Some(&count(&s, "invocations")),
        "{ran:?}"
    );
    let remote = outputs(&build);
    assert!(
        std::fs::symlink_metadata(build.join("libshapes.so"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the library's links stay links"
    );
    cmake::ctest(&build, &[]);

    // Up to date for ggninja and for ninja.
    let again = stack.ggninja(&build, &["--remote", "lambda"]);
    assert!(text(&again).contains("no work to do"), "{}", text(&again));
    if let Some(ninja) = common::ninja113() {
        let n = run(&build, &ninja, &["-n"]);
        assert!(text(&n).contains("no work to do"), "{}", text(&n));
    }

    // The same tree built locally: byte for byte the same outputs.
    assert_ok(&run(&build, &ggninja(), &["-t", "clean"]), "clean");
    assert_ok(&run(&build, &ggninja(), &[]), "local build");
    let local = outputs(&build);
    assert_eq!(
        remote.keys().collect::<Vec<_>>(),
        local.keys().collect::<Vec<_>>()
    );
    let differ: Vec<_> = remote
        .iter()
        .filter(|(k, v)| local[*k] != **v)
        .map(|(k, _)| k)
        .collect();
    assert!(
        differ.is_empty(),
        "remote and local outputs differ: {differ:?}"
    );

    // Cleaned again: every remote edge is a hit in the S3 memo. Before,
    // `-t simulate` predicts the hits from the memo: exactly, while the
    // tree is built; after `-t clean`, some of them (an edge reading what
    // a local-only edge generates cannot be predicted before it runs).
    let built = predicted_hits(&stack, &build);
    assert_ok(&run(&build, &ggninja(), &["-t", "clean"]), "clean");
    let cleaned = predicted_hits(&stack, &build);
    assert!(
        cleaned.is_subset(&built) && !cleaned.is_empty(),
        "{cleaned:?}"
    );
    let out = stack.ggninja(&build, &["--remote", "lambda", "-j", "16"]);
    assert_ok(&out, "rebuild from the remote memo");
    let hits = summary(&build);
    assert_eq!(count(&hits, "invocations"), 0, "{hits}");
    assert_eq!(
        count(&hits, "memo_hits"),
        count(&s, "invocations"),
        "{hits}"
    );
    assert_eq!(count(&hits, "bytes_up"), 0, "{hits}");
    assert_eq!(outputs(&build), remote);
    let ran = origins(&build);
    assert_eq!(
        ran.get("remote_memo"),
        Some(&count(&hits, "memo_hits")),
        "{ran:?}"
    );
    assert_eq!(ran.get("remote"), None, "{ran:?}");
    assert_eq!(built, edges_from(&build, "remote_memo"));
}

/// The edges `-t simulate --remote lambda` predicts the S3 memo serves.
fn predicted_hits(stack: &Stack, build: &Path) -> std::collections::BTreeSet<String> {
    let sim = stack.ggninja(build, &["-t", "simulate", "--remote", "lambda", "--json"]);
    assert_ok(&sim, "-t simulate");
    let sim: serde_json::Value = serde_json::from_slice(&sim.stdout).unwrap();
    let cache = &sim["cache"];
    let from = cache["store"].as_str().unwrap();
    assert!(from.starts_with("S3 memo s3://"), "{cache}");
    (cache["hit_edges"].as_array().unwrap().iter())
        .map(|h| h.as_str().unwrap().to_string())
        .collect()
}

/// The first outputs of the last build's edges `-t trace` says came from
/// `origin`.
fn edges_from(build: &Path, origin: &str) -> std::collections::BTreeSet<String> {
    let out = run(build, &ggninja(), &["-t", "trace"]);
    assert_ok(&out, "-t trace");
    let trace: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (trace["traceEvents"].as_array().unwrap().iter())
        .filter(|e| e["ph"] == "X" && e["args"]["origin"] == origin)
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

/// How many edges of the last build `-t trace` says got their result
/// from each origin (`ran`, `remote`, `remote_memo`, ...).
fn origins(build: &Path) -> std::collections::BTreeMap<String, u64> {
    let out = run(build, &ggninja(), &["-t", "trace"]);
    assert_ok(&out, "-t trace");
    let trace: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for e in trace["traceEvents"].as_array().unwrap() {
        if e["ph"] == "X" {
            let origin = e["args"]["origin"].as_str().unwrap().to_string();
            *counts.entry(origin).or_insert(0) += 1;
        }
    }
    counts
}

/// A small project whose commands name no absolute path: its thunks are
/// the same in any checkout.
fn relative_project(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let files = [
        ("a.h", "#define ANSWER 42\n"),
        ("a.c", "#include \"a.h\"\nint answer(void) { return ANSWER; }\n"),
        ("main.c", "#include <stdio.h>\nint answer(void);\nint main(void) { printf(\"%d\\n\", answer()); return 0; }\n"),
        ("bad.c", "int broken(void) { return nope; }\n"),
        (
            "build.ninja",
            "rule cc\n  command = cc -O2 -MD -MF $out.d -c $in -o $out\n  depfile = $out.d\n  deps = gcc\n\
             rule link\n  command = cc $in -o $out\n\
             build a.o: cc a.c\nbuild main.o: cc main.c\nbuild bad.o: cc bad.c\n\
             build app: link a.o main.o\ndefault app\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn another_checkout_gets_every_path_free_result_without_invoking() {
    let Some(stack) = stack_or_skip(2) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("one"), tmp.path().join("elsewhere/two"));
    relative_project(&a);
    relative_project(&b);
    assert_ok(
        &stack.ggninja(&a, &["--remote", "lambda"]),
        "first checkout",
    );
    let first = summary(&a);
    assert_eq!(count(&first, "invocations"), 3, "{first}");
    assert_eq!(count(&first, "local_runs"), 0, "{first}");

    assert_ok(
        &stack.ggninja(&b, &["--remote", "lambda"]),
        "second checkout",
    );
    let second = summary(&b);
    assert_eq!(count(&second, "invocations"), 0, "{second}");
    assert_eq!(count(&second, "memo_hits"), 3, "{second}");
    for f in ["a.o", "main.o", "app"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    let app = run(&b, &b.join("app"), &[]);
    assert_eq!(String::from_utf8_lossy(&app.stdout), "42\n");
    // Fetched outputs are newer than their inputs: nothing to do.
    let again = run(&b, &ggninja(), &["-d", "explain"]);
    assert!(text(&again).contains("no work to do"), "{}", text(&again));
}

#[test]
fn a_failing_command_fails_the_build_as_it_does_locally() {
    let Some(stack) = stack_or_skip(2) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (r, l) = (tmp.path().join("r"), tmp.path().join("l"));
    relative_project(&r);
    relative_project(&l);
    let remote = stack.ggninja(&r, &["--remote", "lambda", "bad.o"]);
    // Thunks run with `LANG=C` (docs/thunks.md): the local run too, so the
    // compiler quotes alike.
    let local = std::process::Command::new(ggninja())
        .arg("bad.o")
        .current_dir(&l)
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("NINJA_STATUS")
        .output()
        .unwrap();
    assert_eq!(remote.status.code(), Some(1), "{}", text(&remote));
    assert_eq!(local.status.code(), Some(1));
    // Besides the summary line, the same.
    let stdout = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.starts_with("ggninja: remote:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        stdout(&remote).contains("FAILED: [code=1] bad.o"),
        "{}",
        text(&remote)
    );
    assert!(
        stdout(&remote).contains("'nope' undeclared"),
        "{}",
        text(&remote)
    );
    assert_eq!(stdout(&remote), stdout(&local));
    assert!(!r.join("bad.o").exists());
    assert_eq!(count(&summary(&r), "fallbacks"), 0);
}

/// What a remote run printed comes back as a local run prints it, and
/// again from the S3 memo: a warning naming the source by its absolute
/// path names this checkout's, not the function's job dir.
#[test]
fn a_warning_is_printed_as_locally_by_a_run_and_by_a_hit() {
    let Some(stack) = stack_or_skip(1) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("w.c");
    std::fs::write(&src, "int f(int x) { if (x) return 1; }\n").unwrap();
    let manifest = format!(
        "rule cc\n  command = cc -Wall -c $in -o $out\nbuild w.o: cc {}\n",
        src.display()
    );
    std::fs::write(dir.join("build.ninja"), manifest).unwrap();
    // Thunks run with `LANG=C`: the local run too, so the compiler quotes alike.
    let printed = |args: &[&str]| {
        let _ = std::fs::remove_file(dir.join("w.o"));
        let out = stack
            .command(&dir, args)
            .env("LANG", "C")
            .env_remove("LC_ALL")
            .output()
            .unwrap();
        assert_ok(&out, &format!("{args:?}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let kept = stdout
            .lines()
            .filter(|l| !l.starts_with("ggninja: remote:"));
        kept.collect::<Vec<_>>().join("\n")
    };
    let local = printed(&[]);
    assert!(local.contains(&format!("{}:1:", src.display())), "{local}");
    assert!(local.contains("-Wreturn-type"), "{local}");
    assert_eq!(printed(&["--remote", "lambda"]), local, "a remote run");
    assert_eq!(count(&summary(&dir), "invocations"), 1);
    assert_eq!(printed(&["--remote", "lambda"]), local, "a remote memo hit");
    let second = summary(&dir);
    assert_eq!(count(&second, "invocations"), 0, "{second}");
    assert_eq!(count(&second, "memo_hits"), 1, "{second}");
}

/// A compile that leaves a file besides its output (`-MMD` with no
/// `depfile =`) runs here: the function returns the outputs alone.
#[test]
fn a_command_writing_besides_its_output_runs_here() {
    let Some(stack) = stack_or_skip(1) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.c"), "int a;\n").unwrap();
    let manifest = "rule cc\n  command = cc -MMD -c $in -o $out\nbuild a.o: cc a.c\n";
    std::fs::write(dir.join("build.ninja"), manifest).unwrap();
    let out = stack.ggninja(&dir, &["--remote", "lambda", "-d", "explain"]);
    assert_ok(&out, "the build");
    let said = text(&out);
    assert!(
        said.contains("it writes files besides its outputs"),
        "{said}"
    );
    assert!(dir.join("a.d").exists(), "{said}");
    let s = summary(&dir);
    assert_eq!(
        (count(&s, "invocations"), count(&s, "local_runs")),
        (0, 1),
        "{s}"
    );
}

#[test]
fn an_emptied_bucket_costs_uploads_never_a_failed_build() {
    let Some(stack) = stack_or_skip(2) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    relative_project(&dir);
    assert_ok(&stack.ggninja(&dir, &["--remote", "lambda"]), "first build");
    let first = summary(&dir);
    let objects = std::fs::read_dir(stack.bucket_dir()).unwrap().count();
    assert!(objects > 0);
    // Everything goes: objects, memo entries.
    std::fs::remove_dir_all(stack.bucket_dir()).unwrap();
    std::fs::create_dir(stack.bucket_dir()).unwrap();
    assert_ok(&run(&dir, &ggninja(), &["-t", "clean"]), "clean");
    let out = stack.ggninja(&dir, &["--remote", "lambda", "-d", "explain"]);
    assert_ok(&out, "build after the bucket was emptied");
    let second = summary(&dir);
    assert_eq!(
        count(&second, "invocations"),
        count(&first, "invocations"),
        "{second}"
    );
    assert_eq!(count(&second, "fallbacks"), 0, "{}", text(&out));
    assert!(count(&second, "bytes_up") > 0, "{second}");
    let app = run(&dir, &dir.join("app"), &[]);
    assert_eq!(String::from_utf8_lossy(&app.stdout), "42\n");
}

#[test]
fn a_read_only_client_reads_the_cache_and_runs_misses_here() {
    let Some(stack) = stack_or_skip(2) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    relative_project(&a);
    relative_project(&b);
    assert_ok(&stack.ggninja(&a, &["--remote", "lambda", "a.o"]), "writer");
    let keys_before = std::fs::read_dir(stack.bucket_dir().join("memo"))
        .unwrap()
        .count();
    let out = stack.ggninja(&b, &["--remote", "lambda", "--remote-upload=no"]);
    assert_ok(&out, "read-only build");
    let s = summary(&b);
    assert_eq!(count(&s, "memo_hits"), 1, "{s}");
    assert_eq!(count(&s, "invocations"), 0, "{s}");
    assert_eq!(count(&s, "local_runs"), 2, "{s}");
    assert_eq!(count(&s, "bytes_up"), 0, "{s}");
    let keys_after = std::fs::read_dir(stack.bucket_dir().join("memo"))
        .unwrap()
        .count();
    assert_eq!(
        keys_before, keys_after,
        "a read-only client wrote memo entries"
    );
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().mtime();
    assert!(mtime(&b.join("app")) >= mtime(&b.join("a.o")));
}

/// libarchive 3.6.2 from Debian's sources (as tests/thirdparty.rs builds
/// it, every optional library off), built remotely: every compile and
/// link ran on the function (the local runs are listed with their
/// reasons), the outputs are those of a local build of the same tree, and
/// its own test suite passes on the remote build.
#[test]
fn libarchive_builds_remotely_as_it_builds_locally() {
    let Some(stack) = stack_or_skip(4) else {
        return;
    };
    let Some(cached) = common::fetch_source("libarchive") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(&cached)
        .arg(&src)
        .status()
        .unwrap();
    assert!(cp.success());
    let build = tmp.path().join("build");
    cmake::configure(&src, &build, Some(&ggninja()), common::LIBARCHIVE_OPTIONS);

    let started = std::time::Instant::now();
    let out = stack.ggninja(&build, &["--remote", "lambda", "-j", "16", "-d", "explain"]);
    assert_ok(&out, "remote build of libarchive");
    let log = text(&out);
    let s = summary(&build);
    let local: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" runs locally: "))
        .collect();
    eprintln!(
        "libarchive remote build in {:?}: {s}\nran locally:\n{}",
        started.elapsed(),
        local.join("\n")
    );
    assert_eq!(count(&s, "fallbacks"), 0, "{}", local.join("\n"));
    assert!(count(&s, "invocations") > 300, "{s}");
    // Only links whose -rpath names the build tree stay here.
    for line in &local {
        assert!(line.contains("-rpath"), "ran locally: {line}");
    }
    let remote = outputs(&build);
    cmake::ctest(&build, &["-j2"]);

    assert_ok(&run(&build, &ggninja(), &["-t", "clean"]), "clean");
    assert_ok(&run(&build, &ggninja(), &["-j2"]), "local build");
    let local_outputs = outputs(&build);
    let differ: Vec<_> = remote
        .iter()
        .filter(|(k, v)| local_outputs.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        differ.is_empty(),
        "remote and local outputs differ: {differ:?}"
    );
}

/// Object files under `dir`.
fn objects(dir: &Path) -> Vec<String> {
    common::files(dir)
        .into_iter()
        .filter(|f| f.ends_with(".o"))
        .collect()
}

#[test]
fn toplevel_download_leaves_intermediate_objects_in_the_bucket() {
    let Some(stack) = stack_or_skip(4) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let build = configured_fixture(tmp.path());
    let toplevel = [
        "--remote",
        "lambda",
        "-j",
        "16",
        "--remote-download=toplevel",
    ];

    let out = stack.ggninja(&build, &toplevel);
    assert_ok(&out, "toplevel build");
    let s = summary(&build);
    // Only the objects of the link that runs here (its -rpath names the
    // build tree) came back; the executables run.
    assert!(count(&s, "left_remote") >= 15, "{s}");
    let here = objects(&build);
    assert_eq!(
        here,
        ["CMakeFiles/shapeinfo.dir/apps/shapeinfo.cpp.o"],
        "{s}"
    );
    cmake::ctest(&build, &[]);

    // The next remote build knows what it left there.
    let again = stack.ggninja(&build, &toplevel);
    assert!(text(&again).contains("no work to do"), "{}", text(&again));

    // A header edit reruns what reads it, with the rest still remote.
    common::mtime::touch(&tmp.path().join("src"), "src/mathc/mathc.h");
    let out = stack.ggninja(&build, &toplevel);
    assert_ok(&out, "toplevel rebuild after a header edit");
    let rebuilt = summary(&build);
    assert!(
        count(&rebuilt, "invocations") + count(&rebuilt, "memo_hits") >= 4,
        "{rebuilt}"
    );
    assert_eq!(count(&rebuilt, "fallbacks"), 0, "{}", text(&out));
    assert_eq!(objects(&build).len(), 1);
    cmake::ctest(&build, &[]);

    // `-t clean` forgets what was left in the bucket too: the next build
    // takes the objects from the S3 memo, not as present.
    assert_ok(&run(&build, &ggninja(), &["-t", "clean"]), "clean");
    let out = stack.ggninja(&build, &toplevel);
    assert_ok(&out, "toplevel build after clean");
    let after_clean = summary(&build);
    assert!(count(&after_clean, "memo_hits") >= 22, "{after_clean}");
    cmake::ctest(&build, &[]);

    // The default mode brings the rest home, dated as the build recorded
    // them: ninja agrees there is nothing to do.
    let out = stack.ggninja(&build, &["--remote", "lambda"]);
    assert_ok(&out, "download the rest");
    assert!(objects(&build).len() >= 16);
    if let Some(ninja) = common::ninja113() {
        let n = run(&build, &ninja, &["-n"]);
        assert!(text(&n).contains("no work to do"), "{}", text(&n));
    }
}

/// Ctrl-C in the middle of a remote build: exit 2 as locally, no
/// half-written output, and the next build finishes the rest (what ran
/// remotely after the interrupt is a memo hit).
#[test]
fn an_interrupted_remote_build_resumes_where_it_stopped() {
    let Some(stack) = stack_or_skip(4) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let mut manifest = String::from("rule cp\n  command = cp $in $out\n");
    for i in 0..300 {
        std::fs::write(dir.join(format!("src/f{i}.txt")), format!("payload {i}\n")).unwrap();
        manifest.push_str(&format!("build out/f{i}.txt: cp src/f{i}.txt\n"));
    }
    std::fs::write(dir.join("build.ninja"), manifest).unwrap();

    let child = stack
        .command(&dir, &["--remote", "lambda", "-j", "32"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let done = || std::fs::read_dir(dir.join("out")).map_or(0, |d| d.count());
    let started = std::time::Instant::now();
    while done() < 20 && started.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("interrupted by user"), "{stdout}");
    let leftovers: Vec<_> = common::files(&dir)
        .into_iter()
        .filter(|f| f.ends_with(".ggninja-fetch"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(done() < 300, "the build ended before the interrupt");

    assert_ok(
        &stack.ggninja(&dir, &["--remote", "lambda", "-j", "32"]),
        "resumed build",
    );
    for i in 0..300 {
        let out = std::fs::read_to_string(dir.join(format!("out/f{i}.txt"))).unwrap();
        assert_eq!(out, format!("payload {i}\n"));
    }
    let again = run(&dir, &ggninja(), &[]);
    assert!(text(&again).contains("no work to do"), "{}", text(&again));
}

/// A make project (bzip2's plain Makefile, through `--make`) built on the
/// stack: its compiles and links run as thunks, its own tests pass on the
/// result, and a clean rebuild comes from the S3 memo without invoking.
#[test]
fn a_make_project_builds_remotely_through_its_makefile() {
    let Some(src) = common::fetch_source("bzip2") else {
        return;
    };
    let Some(stack) = stack_or_skip(4) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bzip2");
    common::copy_dir(&src, &dir);
    let goals = ["libbz2.a", "bzip2", "bzip2recover"];
    let build = |extra: &[&str]| {
        let mut args = vec!["--make", "--remote", "lambda", "-j8"];
        args.extend(extra);
        args.extend(goals);
        stack.ggninja(&dir, &args)
    };
    let out = build(&[]);
    assert_ok(&out, "ggninja --make --remote lambda");
    let s = summary(&dir);
    // 7 library objects, bzip2.o, bzip2recover.o, two links, the archive.
    assert!(count(&s, "invocations") >= 9, "{s}\n{}", text(&out));
    assert_eq!(count(&s, "fallbacks"), 0, "{}", text(&out));
    assert_ok(
        &run(&dir, &ggninja(), &["--make", "test"]),
        "bzip2's own tests",
    );

    assert_ok(&run(&dir, &ggninja(), &["--make", "-t", "clean"]), "clean");
    // Explained, so that a miss names its thunk and why.
    let again = build(&["-d", "explain"]);
    assert_ok(&again, "the rebuild");
    let s = summary(&dir);
    assert_eq!(count(&s, "invocations"), 0, "{s}\n{}", text(&again));
    assert!(count(&s, "memo_hits") >= 9, "{s}");
    assert_ok(
        &run(&dir, &ggninja(), &["--make", "test"]),
        "bzip2's tests after the rebuild",
    );
}
