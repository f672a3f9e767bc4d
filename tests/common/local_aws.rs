//! The local AWS stack (`scripts/local-aws.sh`: s3s-fs and cargo-lambda's
//! emulator on 127.0.0.1, function instances confined by bubblewrap) for
//! tests that run ggninja with `--remote lambda`: up on creation, down (by
//! the PIDs it recorded) when dropped, panics included. Every ggninja run
//! gets exactly the stack's environment: dummy credentials, loopback
//! endpoints, no instance metadata.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{ggninja, in_ci};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/local-aws.sh");

pub struct Stack {
    dir: tempfile::TempDir,
    pub env: BTreeMap<String, String>,
}

/// The function binary, built beside ggninja by `cargo test --workspace`.
pub fn function_binary() -> PathBuf {
    ggninja().with_file_name("ggninja-lambda")
}

fn tools_dir() -> PathBuf {
    std::env::var_os("GGNINJA_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/ggninja-tests")
        })
        .join("aws-tools")
}

/// Why the stack cannot run here, if it cannot.
fn missing() -> Option<String> {
    let tools = tools_dir();
    let needed = [
        tools.join("s3s-fs/bin/s3s-fs"),
        tools.join("venv/bin/cargo-lambda"),
        function_binary(),
    ];
    if let Some(p) = needed.iter().find(|p| !p.exists()) {
        return Some(format!(
            "{} not found (scripts/local-aws.sh install; cargo build --workspace)",
            p.display()
        ));
    }
    let on_path = |prog: &str| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join(prog).exists())
    };
    ["bwrap", "cc", "cmake"]
        .iter()
        .find(|p| !on_path(p))
        .map(|p| format!("{p} not found on PATH"))
}

/// Whether the stack's tools are here; prints why not (a skip), and fails
/// in CI.
pub fn available() -> bool {
    match missing() {
        None => true,
        Some(why) => {
            assert!(!in_ci(), "{why}");
            eprintln!("SKIPPED: {why}");
            false
        }
    }
}

impl Stack {
    /// The stack with `instances` function instances; None (skip) when
    /// its tools are missing outside CI.
    pub fn up(instances: usize) -> Option<Stack> {
        let function = function_binary();
        Stack::launch(instances, &["--function".as_ref(), function.as_os_str()])
    }

    /// The stack whose instances see only the image's files (an OCI image
    /// layout from `-t lambda-deploy`) and run its entrypoint.
    pub fn up_image(instances: usize, image: &Path) -> Option<Stack> {
        Stack::launch(instances, &["--image".as_ref(), image.as_os_str()])
    }

    fn launch(instances: usize, function: &[&std::ffi::OsStr]) -> Option<Stack> {
        if !available() {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("bash")
            .arg(SCRIPT)
            .arg("up")
            .arg(dir.path())
            .args(function)
            .args(["--instances", &instances.to_string()])
            .output()
            .expect("running local-aws.sh");
        let stack = Stack {
            env: parse_env(&std::fs::read_to_string(dir.path().join("env")).unwrap_or_default()),
            dir,
        };
        assert!(
            out.status.success(),
            "local-aws.sh up failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(stack)
    }

    /// Runs ggninja in `dir` with the stack's environment.
    pub fn ggninja(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(dir, args).output().expect("running ggninja")
    }

    pub fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(ggninja());
        cmd.args(args).current_dir(dir).env_remove("NINJA_STATUS");
        for var in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"] {
            cmd.env_remove(var);
        }
        cmd.envs(&self.env);
        cmd
    }

    /// The emulator's Invoke API (`http://127.0.0.1:PORT`).
    pub fn lambda_url(&self) -> &str {
        &self.env["AWS_ENDPOINT_URL_LAMBDA"]
    }

    /// Stops the S3 server (`local-aws.sh s3-stop`); the rest runs on.
    pub fn stop_s3(&self) {
        self.script("s3-stop");
    }

    /// Starts the S3 server again on its port, with its data
    /// (`local-aws.sh s3-start`).
    pub fn start_s3(&self) {
        self.script("s3-start");
    }

    fn script(&self, subcommand: &str) {
        let out = Command::new("bash")
            .arg(SCRIPT)
            .arg(subcommand)
            .arg(self.dir.path())
            .output()
            .expect("running local-aws.sh");
        assert!(
            out.status.success(),
            "local-aws.sh {subcommand} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Where the S3 server keeps the bucket's objects (one file per key).
    pub fn bucket_dir(&self) -> PathBuf {
        self.dir.path().join("s3").join(&self.env["GGNINJA_BUCKET"])
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(SCRIPT)
            .arg("down")
            .arg(self.dir.path())
            .output();
    }
}

/// What a build left: every regular file and link under `dir` (CMake's own
/// bookkeeping and ggninja's logs aside), content or link target.
pub fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for rel in super::files(dir) {
        let skip = rel.starts_with(".ninja")
            || rel.starts_with(".ggninja")
            || rel.starts_with("CMakeFiles/3.")
            || rel.contains("CMakeCache")
            || rel.starts_with("Testing/")
            || rel.ends_with(".cmake")
            || rel.ends_with(".ninja")
            || rel.ends_with(".d")
            || rel.ends_with(".log")
            || rel.ends_with(".txt")
            || rel.ends_with("CMakeFiles/rules.ninja");
        if skip {
            continue;
        }
        let path = dir.join(&rel);
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let content = match meta.file_type().is_symlink() {
            true => format!("-> {}", std::fs::read_link(&path).unwrap().display()).into_bytes(),
            false => std::fs::read(&path).unwrap(),
        };
        out.insert(rel, content);
    }
    out
}

fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches(['"', '\'']).to_string()))
        .collect()
}

/// The build's `.ggninja_remote.json`.
pub fn summary(build: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(build.join(".ggninja_remote.json"))
        .expect(".ggninja_remote.json written");
    serde_json::from_str(&text).expect("the summary is JSON")
}

/// One counter of the summary.
pub fn count(summary: &serde_json::Value, key: &str) -> u64 {
    summary[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing from {summary}"))
}

/// The CMake fixture built remotely: its 16 compiles, 3 archives, 3 of 4
/// links and the symlink step on the function; here only the two command
/// lists (cmake, python) and the link whose -rpath names the build tree.
pub fn assert_fixture_ran_remotely(summary: &serde_json::Value, log: &str) {
    assert!(count(summary, "invocations") >= 22, "{summary}");
    assert_eq!(count(summary, "local_runs"), 3, "{log}");
    assert_eq!(count(summary, "fallbacks"), 0, "{log}");
}
