//! `-t report` and `-t graph --critical` on a real build of sleeping
//! commands of known durations: a diamond (a → b, c → d) and a chain
//! (x → y). The page is opened in headless Chromium, which must run its
//! script without an error and draw it.

mod common;

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ggninja, require_tool, run, text};
use serde_json::Value;

const MANIFEST: &str = "rule sleep\n  command = sleep $t && touch $out\n\
build a: sleep\n  t = 0.3\nbuild b: sleep a\n  t = 0.6\nbuild c: sleep a\n  t = 0.2\n\
build d: sleep b c\n  t = 0.1\nbuild x: sleep\n  t = 0.2\nbuild y: sleep x\n  t = 0.2\n\
build all: phony d y\ndefault all\n";

/// Slack for process start-up on a loaded machine, in seconds.
const TOLERANCE: f64 = 0.25;

/// How long Chromium may take to load and draw the page.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

fn built(dir: &Path) {
    std::fs::write(dir.join("build.ninja"), MANIFEST).unwrap();
    let out = run(dir, &ggninja(), &["-j", "8"]);
    assert!(out.status.success(), "{}", text(&out));
}

/// The JSON the page's script draws from.
fn page_data(html: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"data\">";
    let start = html.find(open).expect("the data element") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

/// The strings of a `delta::Coded` column (ASCII here, so UTF-16 lengths
/// are byte lengths), grouped by rule as the page decodes them.
fn decode(coded: &Value, rules: &Value) -> Vec<String> {
    let n = |v: &Value| v.as_u64().unwrap() as usize;
    let mut last: std::collections::HashMap<u64, String> = Default::default();
    let mut out = Vec::new();
    for (i, rule) in rules.as_array().unwrap().iter().enumerate() {
        let prev = last.remove(&rule.as_u64().unwrap()).unwrap_or_default();
        let s = format!(
            "{}{}{}",
            &prev[..n(&coded["prefix"][i])],
            coded["middle"][i].as_str().unwrap(),
            &prev[prev.len() - n(&coded["suffix"][i])..]
        );
        last.insert(rule.as_u64().unwrap(), s.clone());
        out.push(s);
    }
    out
}

#[test]
fn the_report_page_renders_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    built(dir);
    let out = run(dir, &ggninja(), &["-t", "report"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("wrote report.html"), "{}", text(&out));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    check_data(&page_data(&html));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network"
    );
    assert!(
        !html.contains("src=") && !html.contains("<link"),
        "nothing external"
    );

    // -o and a target: the replays are of y's edges only.
    let out = run(dir, &ggninja(), &["-t", "report", "-o", "y.html", "y"]);
    assert!(out.status.success(), "{}", text(&out));
    let y = page_data(&std::fs::read_to_string(dir.join("y.html")).unwrap());
    let work = y["simulation"]["total_work_seconds"].as_f64().unwrap();
    assert!((work - 0.4).abs() < 2.0 * TOLERANCE, "{work}");

    let Some(chromium) = require_tool("chromium") else {
        return;
    };
    let page = dir.join("report.html");
    let dom = headless(&chromium, dir, "dom", &["--dump-dom".to_string()], &page);
    assert!(
        dom.stdout.contains("<body data-rendered=\"ok\">"),
        "the page's script did not finish:\n{}",
        dom.stdout
    );
    assert!(
        dom.stdout.contains("<ul id=\"errors\"></ul>"),
        "{}",
        dom.stdout
    );
    let console: Vec<&str> = (dom.stderr.lines())
        .filter(|l| l.contains(":CONSOLE"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");

    let png = dir.join("report.png");
    let args = [
        format!("--screenshot={}", png.display()),
        "--window-size=1400,1000".to_string(),
        "--hide-scrollbars".to_string(),
    ];
    headless(&chromium, dir, "shot", &args, &page);
    check_png(&std::fs::read(&png).unwrap());
}

/// The page's data says what the build did: six edges with their sleeps,
/// the finishing chain a → b → d, commands whole.
fn check_data(d: &Value) {
    let ms: Vec<f64> = (d["ms"].as_array().unwrap().iter())
        .map(|v| v.as_f64().unwrap() / 1000.0)
        .collect();
    let outputs = decode(&d["outputs"], &d["rule"]);
    let mut timed: Vec<(&str, f64)> = outputs.iter().map(String::as_str).zip(ms).collect();
    timed.sort_by(|a, b| a.0.cmp(b.0));
    let want = [
        ("a", 0.3),
        ("b", 0.6),
        ("c", 0.2),
        ("d", 0.1),
        ("x", 0.2),
        ("y", 0.2),
    ];
    assert_eq!(timed.len(), want.len(), "{d:#}");
    for ((got, secs), (name, sleep)) in timed.iter().zip(want) {
        assert_eq!(*got, name);
        assert!(
            *secs >= sleep && *secs < sleep + TOLERANCE,
            "{name}: {secs}"
        );
    }
    let chain: Vec<&str> = (d["chain"].as_array().unwrap().iter())
        .map(|i| outputs[i.as_u64().unwrap() as usize].as_str())
        .collect();
    assert_eq!(chain, ["a", "b", "d"], "{d:#}");
    let commands = decode(&d["commands"], &d["rule"]);
    let b = outputs.iter().position(|o| o == "b").unwrap();
    assert_eq!(commands[b].replace('\u{E000}', "b"), "sleep 0.6 && touch b");
    assert_eq!(d["simulation"]["runs"][0]["jobs"], 1);
}

/// A PNG of 1400×1000 with more in it than a blank page compresses to.
fn check_png(png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!(&png[12..16], b"IHDR");
    assert_eq!((be(16), be(20)), (1400, 1000));
    assert!(png.len() > 20_000, "{} bytes: nearly blank", png.len());
}

struct Headless {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `page` with a fresh profile, output to files
/// (no pipe to fill), killed with its whole process group if it outlives
/// `CHROMIUM_TIMEOUT` and swept either way: its helpers must not outlive
/// the test.
fn headless(chromium: &Path, dir: &Path, name: &str, args: &[String], page: &Path) -> Headless {
    let profile = dir.join(format!("chromium-{name}"));
    let (out, err) = (
        dir.join(format!("{name}.out")),
        dir.join(format!("{name}.err")),
    );
    let mut child = Command::new(chromium)
        .args(common::cdp::HEADLESS)
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .expect("starting chromium");
    let group = child.id() as i32;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // SAFETY: kill(2) on the group this test started; ESRCH once it is gone.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    if status.is_none() {
        let _ = child.wait();
    }
    let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let result = Headless {
        stdout: read(&out),
        stderr: read(&err),
    };
    assert!(
        status.is_some_and(|s| s.success()),
        "chromium {args:?}: {status:?} after {:?}\n{}",
        started.elapsed(),
        result.stderr
    );
    result
}

/// `-t graph --critical`: the critical path's builds, arrows and files in
/// red; nothing else; without the flag, no red at all.
#[test]
fn graph_highlights_the_critical_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    built(dir);
    let out = run(dir, &ggninja(), &["-t", "graph", "--critical", "all"]);
    assert!(out.status.success(), "{}", text(&out));
    let dot = String::from_utf8(out.stdout).unwrap();
    let id_of = |path: &str| -> String {
        let line = (dot.lines())
            .find(|l| l.contains(&format!("[label=\"{path}\"")))
            .unwrap_or_else(|| panic!("{path} in\n{dot}"));
        line.split('"').nth(1).unwrap().to_string()
    };
    let red = |line: &str| line.contains("color=\"red\"");
    for (file, critical) in [
        ("a", true),
        ("b", true),
        ("d", true),
        ("c", false),
        ("x", false),
        ("y", false),
    ] {
        let line = dot
            .lines()
            .find(|l| l.contains(&format!("[label=\"{file}\"")))
            .unwrap();
        assert_eq!(red(line), critical, "{file}: {line}");
    }
    // b is one arrow a → b; d an ellipse with b's arrow in red, c's not.
    let arrow = |from: &str, to: &str| -> String {
        let start = format!("\"{}\" -> \"{}\"", id_of(from), id_of(to));
        (dot.lines().find(|l| l.starts_with(&start)))
            .unwrap_or_else(|| panic!("{start} in\n{dot}"))
            .to_string()
    };
    assert!(red(&arrow("a", "b")), "{dot}");
    assert!(!red(&arrow("x", "y")), "{dot}");
    let into_d: Vec<&str> = (dot.lines())
        .filter(|l| l.contains("[arrowhead=none"))
        .collect();
    let from = |f: &str| {
        into_d
            .iter()
            .find(|l| l.starts_with(&format!("\"{}\"", id_of(f))))
            .unwrap()
    };
    assert!(red(from("b")) && !red(from("c")), "{dot}");

    let plain = run(dir, &ggninja(), &["-t", "graph", "all"]);
    assert!(plain.status.success(), "{}", text(&plain));
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("red"));
}
