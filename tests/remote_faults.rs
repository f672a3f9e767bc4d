//! `--remote lambda` under faults, on the local stack (tests/common/local_aws):
//! invocations throttled (429), failed (500) or hung, injected by a proxy
//! between ggninja and the Lambda emulator (tests/common/fault_proxy); every
//! invocation failing, with and without local fallback; the S3 server
//! stopped and restarted mid-build; input objects deleted from the bucket
//! mid-build; a straggler relaunched. Each build must end within a bound,
//! correctly or with a clear error, and no fault may leave a wrong output in
//! the memo: after each build its outputs and every memo entry's objects are
//! compared with a plain local build of the same tree, and a build from the
//! memo alone (after `-t clean`) must give that local build's outputs.
#![cfg(feature = "remote")]

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::fault_proxy::{Fault, FaultProxy};
use common::local_aws::{count, summary, Stack};
use common::{ggninja, run, text};

/// Function instances per stack: enough for parallel invocations, few
/// enough for tests running side by side on 2 cores.
const INSTANCES: usize = 2;

/// The test project: `first` compiles (`f<i>.o`); with `gate`, a local edge
/// after them that waits for a file `go` (the test's cue to inject a fault
/// between the two halves) and `second` compiles (`g<i>.o`) after it; with
/// `link`, `main.o` and `app` linking every object. All commands are
/// relative: objects are the same in any checkout.
#[derive(Clone, Copy)]
struct Project {
    first: usize,
    second: usize,
    gate: bool,
    link: bool,
}

impl Project {
    fn objects(&self) -> Vec<String> {
        let f = (1..=self.first).map(|i| format!("f{i}.o"));
        let g = (1..=self.second).map(|i| format!("g{i}.o"));
        let mut all: Vec<String> = f.chain(g).collect();
        if self.link {
            all.push("main.o".into());
        }
        all
    }

    /// The outputs compared with the local build.
    fn outputs(&self) -> Vec<String> {
        let mut all = self.objects();
        if self.link {
            all.push("app".into());
        }
        all
    }

    /// Edges that go remote (the gate is a command list: it runs here).
    fn remote_edges(&self) -> u64 {
        self.outputs().len() as u64
    }

    /// What `app` prints: the sum of every f<i> and g<i>.
    fn expected_sum(&self) -> usize {
        let sum = |n: usize| (1..=n).map(|i| 2 * (7 + i)).sum::<usize>();
        sum(self.first) + sum(self.second)
    }

    fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let put = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
        put(
            "c.h",
            "#define BASE 7\nstatic inline int twice(int x) { return 2 * x; }\n",
        );
        let mut ninja = String::from(
            "rule cc\n  command = cc -O2 -MD -MF $out.d -c $in -o $out\n  depfile = $out.d\n  deps = gcc\n\
             rule link\n  command = cc $in -o $out\n\
             rule gate\n  command = touch gate.started && while [ ! -e go ]; do sleep 0.02; done && touch $out\n",
        );
        let mut names = Vec::new();
        for (prefix, n) in [("f", self.first), ("g", self.second)] {
            for i in 1..=n {
                let name = format!("{prefix}{i}");
                put(
                    &format!("{name}.c"),
                    &format!(
                        "#include \"c.h\"\nint {name}(void) {{ return twice(BASE + {i}); }}\n"
                    ),
                );
                let after_gate = if prefix == "g" { " || gate" } else { "" };
                ninja.push_str(&format!("build {name}.o: cc {name}.c{after_gate}\n"));
                names.push(name);
            }
        }
        if self.link {
            let decls: String = names.iter().map(|n| format!("int {n}(void);\n")).collect();
            let calls: Vec<String> = names.iter().map(|n| format!("{n}()")).collect();
            put(
                "main.c",
                &format!(
                    "#include <stdio.h>\n{decls}int main(void) {{ printf(\"%d\\n\", {}); return 0; }}\n",
                    calls.join(" + ")
                ),
            );
            ninja.push_str("build main.o: cc main.c\n");
            ninja.push_str(&format!(
                "build app: link {}\ndefault app\n",
                self.objects().join(" ")
            ));
        }
        if self.gate {
            let before: Vec<String> = self
                .objects()
                .into_iter()
                .filter(|o| !o.starts_with('g'))
                .collect();
            ninja.push_str(&format!("build gate: gate || {}\n", before.join(" ")));
            if !self.link {
                ninja.push_str("default gate ");
                let g: Vec<String> = (1..=self.second).map(|i| format!("g{i}.o")).collect();
                ninja.push_str(&format!("{}\n", g.join(" ")));
            }
        }
        put("build.ninja", &ninja);
    }
}

/// A ggninja run started in the background, its output going to files (a
/// pipe could fill and stall it).
struct Running {
    child: Child,
    started: Instant,
    log: PathBuf,
}

/// How a bounded run ended.
struct Ran {
    code: Option<i32>,
    text: String,
    took: Duration,
}

impl Ran {
    fn assert_ok(&self, what: &str) {
        assert_eq!(self.code, Some(0), "{what} failed:\n{}", self.text);
    }
}

/// Starts `ggninja --remote lambda ARGS` in `dir`, its Invoke calls going
/// through `proxy` when given.
fn start(stack: &Stack, dir: &Path, proxy: Option<&FaultProxy>, args: &[&str]) -> Running {
    let mut all = vec!["--remote", "lambda"];
    all.extend_from_slice(args);
    let mut cmd: Command = stack.command(dir, &all);
    if let Some(p) = proxy {
        cmd.env("AWS_ENDPOINT_URL_LAMBDA", p.url());
    }
    let log = dir.join(format!(
        ".test-run-{}.log",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let file = File::create(&log).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file));
    Running {
        child: cmd.spawn().expect("starting ggninja"),
        started: Instant::now(),
        log,
    }
}

/// Waits for the run, killing it (and failing the test) past `limit`.
fn finish(mut r: Running, limit: Duration) -> Ran {
    loop {
        if let Some(status) = r.child.try_wait().unwrap() {
            let took = r.started.elapsed();
            let text = std::fs::read_to_string(&r.log).unwrap_or_default();
            let _ = std::fs::remove_file(&r.log);
            return Ran {
                code: status.code(),
                text,
                took,
            };
        }
        if r.started.elapsed() > limit {
            let _ = r.child.kill();
            let _ = r.child.wait();
            let text = std::fs::read_to_string(&r.log).unwrap_or_default();
            panic!("the build did not end within {limit:?}:\n{text}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn build(
    stack: &Stack,
    dir: &Path,
    proxy: Option<&FaultProxy>,
    args: &[&str],
    limit: Duration,
) -> Ran {
    finish(start(stack, dir, proxy, args), limit)
}

/// Waits until the build's gate edge runs: the first half is done.
fn wait_for_gate(r: &mut Running, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(40);
    while !dir.join("gate.started").exists() {
        if let Some(status) = r.child.try_wait().unwrap() {
            let text = std::fs::read_to_string(&r.log).unwrap_or_default();
            panic!("the build ended ({status}) before its gate:\n{text}");
        }
        assert!(Instant::now() < deadline, "the gate never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The same project built here, plainly, in `<tmp>/reference`.
fn reference(tmp: &Path, project: &Project) -> PathBuf {
    let dir = tmp.join("reference");
    project.write(&dir);
    std::fs::write(dir.join("go"), "").unwrap();
    let out = run(&dir, &ggninja(), &[]);
    assert!(out.status.success(), "local build: {}", text(&out));
    dir
}

fn assert_same_outputs(dir: &Path, reference: &Path, project: &Project, what: &str) {
    for o in project.outputs() {
        let got = std::fs::read(dir.join(&o)).unwrap_or_else(|e| panic!("{what}: {o}: {e}"));
        let want = std::fs::read(reference.join(&o)).unwrap();
        assert!(got == want, "{what}: {o} differs from the local build");
    }
    if project.link {
        let app = run(dir, &dir.join("app"), &[]);
        assert_eq!(
            String::from_utf8_lossy(&app.stdout).trim(),
            project.expected_sum().to_string(),
            "{what}"
        );
    }
}

/// Every memo entry in the bucket names outputs of the project, and every
/// object of them still in the bucket holds what the local build made.
/// (A pruned object costs a rerun, never a wrong output.) Returns how many
/// entries there are.
fn check_memo(stack: &Stack, reference: &Path) -> usize {
    let bucket = stack.bucket_dir();
    let Ok(entries) = std::fs::read_dir(bucket.join("memo")) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("memo entries are JSON");
        let outputs = json["outputs"].as_array().expect("outputs");
        assert!(!outputs.is_empty(), "{json}");
        for o in outputs {
            let virt = o["path"].as_str().unwrap();
            let rel = virt
                .strip_prefix("/ggroot/build/")
                .unwrap_or_else(|| panic!("memo output outside the build tree: {virt}"));
            let want = std::fs::read(reference.join(rel))
                .unwrap_or_else(|e| panic!("memo names {rel}, not an output here: {e}"));
            let Ok(got) = std::fs::read(bucket.join(o["hash"].as_str().unwrap())) else {
                continue;
            };
            assert!(
                got == want,
                "the memo's object for {rel} differs from the local build"
            );
        }
        n += 1;
    }
    n
}

/// The checks every test ends with: the outputs equal a local build's, so
/// do the memo's objects, and after `-t clean` a fault-free build from the
/// memo gives the same outputs (without invoking anything when
/// `all_memoized`). Returns the number of memo entries.
fn assert_sound(
    stack: &Stack,
    tmp: &Path,
    dir: &Path,
    project: &Project,
    all_memoized: bool,
) -> usize {
    let reference = reference(tmp, project);
    assert_same_outputs(dir, &reference, project, "the faulty build");
    let entries = check_memo(stack, &reference);
    if all_memoized {
        assert_eq!(entries as u64, project.remote_edges(), "memo entries");
    }
    let clean = run(dir, &ggninja(), &["-t", "clean"]);
    assert!(clean.status.success(), "{}", text(&clean));
    let again = build(stack, dir, None, &["-j", "4"], Duration::from_secs(60));
    again.assert_ok("the build from the memo");
    let s = summary(dir);
    if all_memoized {
        assert_eq!(count(&s, "invocations"), 0, "{s}");
        assert_eq!(count(&s, "memo_hits"), project.remote_edges(), "{s}");
    }
    assert_same_outputs(dir, &reference, project, "the build from the memo");
    entries
}

/// One test's stack and its project, written into a fresh temp dir.
struct Case {
    stack: Stack,
    tmp: tempfile::TempDir,
    dir: PathBuf,
    project: Project,
}

impl Case {
    /// None (skip) when the stack's tools are missing outside CI.
    fn up(project: Project) -> Option<Case> {
        let stack = Stack::up(INSTANCES)?;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        project.write(&dir);
        Some(Case {
            stack,
            tmp,
            dir,
            project,
        })
    }
}

/// 3 of every 10 invocations (spread out) answered as Lambda answers when
/// the function's concurrency is used up.
#[test]
fn throttled_invocations_are_retried_until_the_build_succeeds() {
    let Some(Case {
        stack,
        tmp,
        dir,
        project,
    }) = Case::up(Project {
        first: 12,
        second: 0,
        gate: false,
        link: true,
    })
    else {
        return;
    };
    let proxy = FaultProxy::start(stack.lambda_url(), |n| match n % 10 {
        2 | 5 | 8 => Fault::Throttle,
        _ => Fault::Forward,
    });
    let ran = build(
        &stack,
        &dir,
        Some(&proxy),
        &["-j", "4"],
        Duration::from_secs(60),
    );
    ran.assert_ok("the throttled build");
    let (s, c) = (summary(&dir), proxy.counts());
    eprintln!("{:?} in {:?}\n{s}", c, ran.took);
    assert!(c.throttled >= 4, "{c:?}");
    // Every attempt reached the proxy once: the SDK retried nothing behind
    // the engine's back.
    assert_eq!(count(&s, "invocations"), c.invocations as u64, "{s}");
    assert_eq!(count(&s, "throttled"), c.throttled as u64, "{s}");
    assert!(count(&s, "retries") >= c.throttled as u64, "{s}");
    assert_eq!(count(&s, "fallbacks"), 0, "{}", ran.text);
    assert_eq!(count(&s, "local_runs"), 0, "{}", ran.text);
    assert_sound(&stack, tmp.path(), &dir, &project, true);
}

/// A quarter of the invocations fail as a crashed function does on the
/// emulator (HTTP 500).
#[test]
fn failed_invocations_are_retried_until_the_build_succeeds() {
    let Some(Case {
        stack,
        tmp,
        dir,
        project,
    }) = Case::up(Project {
        first: 10,
        second: 0,
        gate: false,
        link: true,
    })
    else {
        return;
    };
    let proxy = FaultProxy::start(stack.lambda_url(), |n| match n % 4 {
        1 => Fault::Error,
        _ => Fault::Forward,
    });
    let ran = build(
        &stack,
        &dir,
        Some(&proxy),
        &["-j", "4"],
        Duration::from_secs(60),
    );
    ran.assert_ok("the build with failing invocations");
    let (s, c) = (summary(&dir), proxy.counts());
    eprintln!("{:?} in {:?}\n{s}", c, ran.took);
    assert!(c.errors >= 3, "{c:?}");
    assert_eq!(count(&s, "invocations"), c.invocations as u64, "{s}");
    assert!(count(&s, "retries") >= c.errors as u64, "{s}");
    assert_eq!(count(&s, "throttled"), 0, "{s}");
    assert_eq!(count(&s, "fallbacks"), 0, "{}", ran.text);
    assert_sound(&stack, tmp.path(), &dir, &project, true);
}

/// Two invocations never answered: `--remote-timeout 2` cuts each, and the
/// edge is tried again (or, past the rule's usual run time, launched a
/// second time).
#[test]
fn hung_invocations_are_cut_by_the_timeout() {
    let Some(Case {
        stack,
        tmp,
        dir,
        project,
    }) = Case::up(Project {
        first: 8,
        second: 0,
        gate: false,
        link: true,
    })
    else {
        return;
    };
    let proxy = FaultProxy::start(stack.lambda_url(), |n| match n {
        2 | 6 => Fault::Hang,
        _ => Fault::Forward,
    });
    let args = ["-j", "4", "--remote-timeout", "2"];
    let ran = build(&stack, &dir, Some(&proxy), &args, Duration::from_secs(60));
    ran.assert_ok("the build with hung invocations");
    let (s, c) = (summary(&dir), proxy.counts());
    eprintln!("{:?} in {:?}\n{s}", c, ran.took);
    assert_eq!(c.hung, 2, "{c:?}");
    // The first hang comes before any run time is known: only the timeout
    // can end it.
    assert!(ran.took >= Duration::from_secs(2), "{:?}", ran.took);
    assert!(ran.took < Duration::from_secs(20), "{:?}", ran.took);
    assert!(count(&s, "retries") >= 1, "{s}");
    assert!(
        count(&s, "retries") + count(&s, "relaunched") >= 2,
        "each hung invocation was retried or relaunched: {s}"
    );
    assert_eq!(count(&s, "fallbacks"), 0, "{}", ran.text);
    assert_sound(&stack, tmp.path(), &dir, &project, true);
}

/// Every invocation fails: after `--remote-retries 2` attempts each edge
/// runs here, and the build succeeds with every edge a fallback.
#[test]
fn every_invocation_failing_falls_back_to_local() {
    let Some(Case {
        stack,
        tmp,
        dir,
        project,
    }) = Case::up(Project {
        first: 6,
        second: 0,
        gate: false,
        link: true,
    })
    else {
        return;
    };
    let proxy = FaultProxy::start(stack.lambda_url(), |_| Fault::Error);
    let args = ["-j", "4", "--remote-retries", "2"];
    let ran = build(&stack, &dir, Some(&proxy), &args, Duration::from_secs(60));
    ran.assert_ok("the build with every invocation failing");
    let (s, c) = (summary(&dir), proxy.counts());
    eprintln!("{:?} in {:?}\n{s}", c, ran.took);
    let edges = project.remote_edges();
    assert_eq!(c.invocations as u64, 2 * edges, "{c:?}");
    assert_eq!(count(&s, "invocations"), 2 * edges, "{s}");
    assert_eq!(count(&s, "fallbacks"), edges, "{s}");
    assert_eq!(count(&s, "local_runs"), edges, "{s}");
    assert!(
        ran.text.contains("runs locally: invoking") && ran.text.contains("HTTP 500"),
        "the first fallback is warned about, with its reason:\n{}",
        ran.text
    );
    // Nothing ran remotely, so nothing may be memoized.
    assert_eq!(assert_sound(&stack, tmp.path(), &dir, &project, false), 0);
}

/// Every invocation hangs: each is cut after `--remote-timeout 1`, and
/// after `--remote-retries 2` attempts the edge runs here; the hung
/// connections hold nothing the build needs.
#[test]
fn every_invocation_hanging_falls_back_within_the_timeouts() {
    let Some(Case {
        stack,
        tmp,
        dir,
        project,
    }) = Case::up(Project {
        first: 6,
        second: 0,
        gate: false,
        link: true,
    })
    else {
        return;
    };
    let proxy = FaultProxy::start(stack.lambda_url(), |_| Fault::Hang);
    let args = ["-j", "4", "--remote-retries", "2", "--remote-timeout", "1"];
    let ran = build(&stack, &dir, Some(&proxy), &args, Duration::from_secs(60));
    ran.assert_ok("the build with every invocation hanging");
    let (s, c) = (summary(&dir), proxy.counts());
    eprintln!("{:?} in {:?}\n{s}", c, ran.took);
    let edges = project.remote_edges();
    assert_eq!(c.hung as u64, 2 * edges, "{c:?}");
    assert_eq!(count(&s, "fallbacks"), edges, "{s}");
    // -j 4 gives 5 invocation slots: the 7 compiles take two rounds of 2
    // attempts of 1 s, the link a third.
    assert!(ran.took >= Duration::from_secs(4), "{:?}", ran.took);
    assert!(ran.took < Duration::from_secs(20), "{:?}", ran.took);
    assert!(ran.text.contains("no answer within 1s"), "{}", ran.text);
    assert_eq!(assert_sound(&stack, tmp.path(), &dir, &project, false), 0);
}

/// The same with `--remote-fallback=no`: the build fails (exit 1) and says
/// which edge could not run remotely and why.
#[test]
fn every_invocation_failing_without_fallback_fails_clearly() {
    let Some(Case {
        stack,
        tmp: _tmp,
        dir,
        project: _,
    }) = Case::up(Project {
        first: 6,
        second: 0,
        gate: false,
        link: true,
    })
    else {
        return;
    };
    let proxy = FaultProxy::start(stack.lambda_url(), |_| Fault::Error);
    let args = ["-j", "4", "--remote-retries", "2", "--remote-fallback=no"];
    let ran = build(&stack, &dir, Some(&proxy), &args, Duration::from_secs(60));
    eprintln!("{:?} in {:?}\n{}", proxy.counts(), ran.took, ran.text);
    assert_eq!(ran.code, Some(1), "{}", ran.text);
    assert!(ran.text.contains("FAILED: "), "{}", ran.text);
    let says = ran
        .text
        .lines()
        .find(|l| l.contains("remote execution of "))
        .unwrap_or_else(|| panic!("no remote execution message:\n{}", ran.text));
    assert!(
        says.contains("failed after 2 attempt(s)")
            && says.contains("HTTP 500")
            && says.contains("injected function error"),
        "{says}"
    );
    // The reason, not the SDK's dump of the raw response.
    assert!(says.len() < 300, "{says}");
    let s = summary(&dir);
    assert_eq!(count(&s, "fallbacks"), 0, "{s}");
    assert_eq!(count(&s, "local_runs"), 0, "{s}");
    assert!(!dir.join("app").exists());
    assert_eq!(check_memo(&stack, &dir), 0, "a failed edge was memoized");

    // Throttled for good: the message says so in Lambda's words.
    let proxy = FaultProxy::start(stack.lambda_url(), |_| Fault::Throttle);
    let args = ["--remote-retries", "1", "--remote-fallback=no", "f1.o"];
    let ran = build(&stack, &dir, Some(&proxy), &args, Duration::from_secs(60));
    assert_eq!(ran.code, Some(1), "{}", ran.text);
    let says = ran
        .text
        .lines()
        .find(|l| l.contains("remote execution of f1.o"))
        .unwrap_or_else(|| panic!("no remote execution message:\n{}", ran.text));
    assert!(
        says.contains(
            "failed after 1 attempt(s): HTTP 429: TooManyRequestsException: Rate Exceeded."
        ),
        "{says}"
    );
    assert_eq!(count(&summary(&dir), "throttled"), 1);
}

/// The S3 server stops while the second half of the build is under way
/// (its first object is in the tree, the rest are being looked up,
/// uploaded, run, fetched) and comes back 2 s later: the engine's and the
/// function's S3 requests are retried with backoff (or an edge falls back),
/// never a wrong output.
#[test]
fn an_s3_outage_mid_build_is_ridden_out() {
    let Some(Case {
        stack,
        tmp,
        dir,
        project,
    }) = Case::up(Project {
        first: 6,
        second: 16,
        gate: true,
        link: true,
    })
    else {
        return;
    };
    let mut running = start(&stack, &dir, None, &["-j", "4", "-d", "explain"]);
    wait_for_gate(&mut running, &dir);
    std::fs::write(dir.join("go"), "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(1..=project.second).any(|i| dir.join(format!("g{i}.o")).exists()) {
        assert!(Instant::now() < deadline, "the second half never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    stack.stop_s3();
    let stopped = Instant::now();
    let done_before = (1..=project.second)
        .filter(|i| dir.join(format!("g{i}.o")).exists())
        .count();
    std::thread::sleep(Duration::from_secs(2));
    stack.start_s3();
    let ran = finish(running, Duration::from_secs(60));
    ran.assert_ok("the build through an S3 outage");
    let s = summary(&dir);
    eprintln!(
        "{done_before} of {} second-half objects were there when S3 stopped; S3 down for {:?}; build {:?}\n{s}",
        project.second,
        stopped.elapsed().min(Duration::from_secs(2)),
        ran.took
    );
    assert!(
        done_before < project.second,
        "S3 stopped too late to matter"
    );
    // No count of retries is asserted: which side meets the outage (the
    // engine's lookups and uploads, counted in `retries`, or the function's
    // fetches and output uploads, which it retries on its own) is timing.
    assert_eq!(count(&s, "local_runs"), 1 + count(&s, "fallbacks"), "{s}");
    let all_remote = count(&s, "fallbacks") == 0;
    assert_sound(&stack, tmp.path(), &dir, &project, all_remote);
}

/// Every object in the bucket (not the memo) deleted between the two
/// halves: the first half's objects, which the link reads and the engine
/// knows the bucket held (the function uploaded them), are gone; the
/// function reports them missing and the engine uploads them again from
/// the tree. (The shared header is not among them: the first half's one
/// compile carried it in its request, so the second half uploads it.)
#[test]
fn objects_deleted_mid_build_are_uploaded_again() {
    let Some(Case {
        stack,
        tmp,
        dir,
        project,
    }) = Case::up(Project {
        first: 1,
        second: 8,
        gate: true,
        link: true,
    })
    else {
        return;
    };
    let mut running = start(&stack, &dir, None, &["-j", "4", "-d", "explain"]);
    wait_for_gate(&mut running, &dir);
    let mut deleted = 0;
    for entry in std::fs::read_dir(stack.bucket_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::remove_file(&path).unwrap();
            deleted += 1;
        }
    }
    assert!(deleted > 0);
    std::fs::write(dir.join("go"), "").unwrap();
    let ran = finish(running, Duration::from_secs(60));
    ran.assert_ok("the build after objects were deleted");
    let s = summary(&dir);
    eprintln!("deleted {deleted} objects; {:?}\n{s}", ran.took);
    assert!(count(&s, "healed") >= 1, "{s}\n{}", ran.text);
    assert!(
        ran.text.contains("inputs were missing from the bucket"),
        "{}",
        ran.text
    );
    assert_eq!(count(&s, "fallbacks"), 0, "{}", ran.text);
    assert_eq!(count(&s, "local_runs"), 1, "{s}");
    // The first half's entries name deleted objects: rebuilt, not reused.
    assert_sound(&stack, tmp.path(), &dir, &project, false);
}

/// Four quick compiles of a rule, then a fifth whose invocation never
/// answers while the timeout is a minute: the engine launches it again
/// once it has run about 4 times the rule's median, and the build ends in
/// seconds.
#[test]
fn a_straggler_is_launched_again() {
    let Some(Case {
        stack,
        tmp,
        dir,
        project,
    }) = Case::up(Project {
        first: 4,
        second: 1,
        gate: true,
        link: false,
    })
    else {
        return;
    };
    std::fs::write(dir.join("go"), "").unwrap();
    let proxy = FaultProxy::start(stack.lambda_url(), |n| match n {
        5 => Fault::Hang,
        _ => Fault::Forward,
    });
    let args = ["-j", "4", "--remote-timeout", "60", "-d", "explain"];
    let ran = build(&stack, &dir, Some(&proxy), &args, Duration::from_secs(70));
    ran.assert_ok("the build with a straggler");
    let (s, c) = (summary(&dir), proxy.counts());
    eprintln!("{:?} in {:?}\n{s}", c, ran.took);
    assert_eq!(c.hung, 1, "{c:?}");
    assert!(count(&s, "relaunched") >= 1, "{s}\n{}", ran.text);
    assert!(ran.text.contains("launched again"), "{}", ran.text);
    assert!(ran.took < Duration::from_secs(20), "{:?}", ran.took);
    assert_eq!(count(&s, "fallbacks"), 0, "{}", ran.text);
    assert_eq!(count(&s, "retries"), 0, "{s}");
    assert_sound(&stack, tmp.path(), &dir, &project, true);
}
