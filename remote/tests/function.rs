//! The Lambda function end to end on the real local stack
//! (`scripts/local-aws.sh up --function <ggninja-lambda> --instances 2`,
//! each instance confined by bubblewrap to /usr, /etc and its own /tmp):
//! thunks made by the real thunk builder from a tiny C project, inputs
//! uploaded by the real uploader, invoked through aws-sdk-lambda. Missing
//! tools: skipped with a message, unless `CI` is set (then a failure).

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::primitives::Blob;
use ggninja_remote::protocol::{Carried, RealRoots, Request, Response, Status};
use ggninja_remote::{ObjectStore, S3Settings, Uploader};
use ggninja_store::hash::{ContentHash, Kind};
use ggninja_thunk::{Bundle, EdgeThunk, Input, Roots, Source, Thunk, Thunks};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/local-aws.sh");
const FUNCTION: &str = env!("CARGO_BIN_EXE_ggninja-lambda");

fn tools_dir() -> PathBuf {
    std::env::var_os("GGNINJA_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/ggninja-tests")
        })
        .join("aws-tools")
}

/// Why the stack cannot run here, if it cannot.
fn missing_tool() -> Option<String> {
    let tools = tools_dir();
    for (what, path) in [
        ("s3s-fs", tools.join("s3s-fs/bin/s3s-fs")),
        ("cargo-lambda", tools.join("venv/bin/cargo-lambda")),
        ("awscli", tools.join("venv/bin/aws")),
    ] {
        if !path.exists() {
            return Some(format!(
                "{what} not found at {} (scripts/local-aws.sh install)",
                path.display()
            ));
        }
    }
    for prog in ["bwrap", "cc"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .any(|d| d.join(prog).exists());
        if !found {
            return Some(format!("{prog} not found on PATH"));
        }
    }
    None
}

/// The running stack; `down` when dropped (panics included).
struct Stack {
    dir: tempfile::TempDir,
    env: HashMap<String, String>,
    lambda: aws_sdk_lambda::Client,
    store: Arc<ObjectStore>,
}

impl Stack {
    async fn up() -> Option<Stack> {
        if let Some(why) = missing_tool() {
            if std::env::var_os("CI").is_some() {
                panic!("{why}");
            }
            eprintln!("SKIPPED: {why}");
            return None;
        }
        common::isolate_aws_env();
        let dir = tempfile::tempdir().expect("temp dir");
        let started = Instant::now();
        let out = Command::new("bash")
            .arg(SCRIPT)
            .arg("up")
            .arg(dir.path())
            .args(["--function", FUNCTION, "--instances", "2"])
            .output()
            .expect("running local-aws.sh");
        assert!(
            out.status.success(),
            "local-aws.sh up failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("stack up in {:?}", started.elapsed());
        let env = parse_env(&std::fs::read_to_string(dir.path().join("env")).expect("env"));
        // From here on the guard takes the stack down.
        let partial = Guard(dir.path().to_path_buf());
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&env["AWS_ENDPOINT_URL_LAMBDA"])
            .retry_config(RetryConfig::disabled())
            .load()
            .await;
        let lambda = aws_sdk_lambda::Client::new(&conf);
        let mut settings = S3Settings::new(env["GGNINJA_BUCKET"].clone());
        settings.endpoint_url = Some(env["AWS_ENDPOINT_URL_S3"].clone());
        let store = Arc::new(ObjectStore::connect(settings).await.expect("S3 client"));
        std::mem::forget(partial);
        Some(Stack {
            dir,
            env,
            lambda,
            store,
        })
    }

    fn bucket(&self) -> String {
        self.env["GGNINJA_BUCKET"].clone()
    }

    /// Invokes the function once. A function error is `Err` whether it
    /// comes as the emulator's HTTP 500 or AWS's 200 + X-Amz-Function-Error.
    async fn invoke(&self, req: &Request) -> Result<Response, String> {
        let payload = req.to_payload()?;
        let started = Instant::now();
        let sent = self
            .lambda
            .invoke()
            .function_name(&self.env["GGNINJA_LAMBDA_FUNCTION"])
            .payload(Blob::new(payload))
            .send()
            .await;
        eprintln!("invoke took {:?}", started.elapsed());
        match sent {
            Ok(out) => {
                let body = out
                    .payload()
                    .map(|b| b.as_ref().to_vec())
                    .unwrap_or_default();
                if let Some(kind) = out.function_error() {
                    return Err(format!(
                        "function error {kind}: {}",
                        String::from_utf8_lossy(&body)
                    ));
                }
                serde_json::from_slice(&body)
                    .map_err(|e| format!("bad response {e}: {}", String::from_utf8_lossy(&body)))
            }
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let body = e
                    .raw_response()
                    .and_then(|r| r.body().bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err(format!(
                    "invoke failed (HTTP {status:?}): {} {body}",
                    aws_sdk_lambda::error::DisplayErrorContext(&e)
                ))
            }
        }
    }
}

struct Guard(PathBuf);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(SCRIPT)
            .arg("down")
            .arg(&self.0)
            .output();
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        drop(Guard(self.dir.path().to_path_buf()));
    }
}

fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches(['"', '\'']).to_string()))
        .collect()
}

macro_rules! stack_or_skip {
    () => {
        match Stack::up().await {
            Some(s) => s,
            None => return,
        }
    };
}

/// A project: build dir (with build.ninja), optional separate source dir.
struct Project {
    _tmp: tempfile::TempDir,
    build: PathBuf,
}

const A_C: &str = "#include <stdio.h>\n#include \"a.h\"\nint main(void) { printf(\"%s %d\\n\", __FILE__, ANSWER); return 0; }\n";
const A_H: &str = "#define ANSWER 42\n";

/// `manifest` gets `$src` replaced by the source dir; with `cmake`, the
/// build dir is a sibling of the source dir and names it in CMakeCache.txt
/// (so it is `/ggroot/src`), else both are one dir.
fn project(manifest: &str, cmake: bool) -> Project {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (build, src) = if cmake {
        (tmp.path().join("build"), tmp.path().join("src"))
    } else {
        (tmp.path().to_path_buf(), tmp.path().to_path_buf())
    };
    std::fs::create_dir_all(&build).unwrap();
    std::fs::create_dir_all(src.join("inc")).unwrap();
    std::fs::write(src.join("a.c"), A_C).unwrap();
    std::fs::write(src.join("a.h"), A_H).unwrap();
    std::fs::write(src.join("inc/a.h"), A_H).unwrap();
    std::fs::write(src.join("bad.c"), "int main(void) { return nope; }\n").unwrap();
    if cmake {
        std::fs::write(
            build.join("CMakeCache.txt"),
            format!("CMAKE_HOME_DIRECTORY:INTERNAL={}\n", src.display()),
        )
        .unwrap();
    }
    let text = manifest.replace("$src", &src.display().to_string());
    std::fs::write(build.join("build.ninja"), text).unwrap();
    Project { _tmp: tmp, build }
}

/// The thunk of the edge writing `output`, its roots and its command.
struct Edge {
    thunk: EdgeThunk,
    roots: Roots,
    command: String,
}

fn edge(p: &Project, output: &str) -> Edge {
    let manifest = p.build.join("build.ninja");
    let loaded = ggninja_importer::load(
        manifest.to_str().unwrap(),
        &ggninja_importer::Options::default(),
    )
    .expect("manifest loads");
    let g = loaded.graph;
    let file = g.lookup(output).expect("output in the graph");
    let b = g.file(file).in_build.expect("output has a build");
    let thunks = Thunks::open(&p.build, &p.build);
    let thunk = thunks.of(&g, b).expect("edge is thunked");
    Edge {
        thunk,
        roots: thunks.roots.clone(),
        command: g.command(b, false).expect("command"),
    }
}

/// The thunk's in-root inputs: thunk-visible path, hash, real file.
fn in_root_inputs(e: &Edge) -> Vec<(String, ContentHash, PathBuf)> {
    let mut items = Vec::new();
    for input in e.thunk.thunk().inputs {
        if let Source::Value { hash } = &input.source {
            if input.path.starts_with("/ggroot/") {
                let h = ContentHash::parse(hash).unwrap();
                items.push((input.path.clone(), h, e.roots.real_path(&input.path)));
            }
        }
    }
    items
}

/// Uploads the thunk's in-root inputs from their real files.
async fn upload_inputs(stack: &Stack, e: &Edge) -> Vec<(String, ContentHash)> {
    let items = in_root_inputs(e);
    let uploader = Uploader::new(Arc::clone(&stack.store));
    uploader
        .upload(items.iter().map(|(_, h, p)| (*h, p.clone())))
        .await
        .expect("upload");
    items.into_iter().map(|(v, h, _)| (v, h)).collect()
}

fn request(stack: &Stack, e: &Edge, depfile: Option<&str>) -> Request {
    Request {
        thunk: e.thunk.canonical.clone(),
        thunk_hash: e.thunk.hash.to_string(),
        bundle: e.thunk.bundle.as_ref().map(|b| b.bundle.files.clone()),
        bucket: stack.bucket(),
        prefix: String::new(),
        carried: Vec::new(),
        roots: Some(RealRoots {
            build: e.roots.build.display().to_string(),
            source: e.roots.source.as_ref().map(|s| s.display().to_string()),
        }),
        executable: Vec::new(),
        depfile: depfile.map(String::from),
        limits: Default::default(),
        memo_key: None,
    }
}

/// Runs the edge's command locally in the build dir, with the thunk's env.
fn run_locally(p: &Project, e: &Edge) {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(&e.command)
        .current_dir(&p.build)
        .env_clear()
        .envs(ggninja_thunk::ENV.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "local run: {out:?}");
}

async fn fetch(stack: &Stack, hash: &str) -> Vec<u8> {
    let h = ContentHash::parse(hash).expect("a hash");
    stack
        .store
        .get(&h)
        .await
        .expect("object in the bucket")
        .to_vec()
}

/// Compiles remotely, then locally, and compares the objects (and the
/// depfiles, mapped back to real paths) byte for byte.
/// With `cmake`, the object must also name the real source dir (`-g`,
/// `__FILE__`): the prefix map at work, not a vacuous comparison.
async fn compile_matches_local(manifest: &str, cmake: bool) {
    let stack = stack_or_skip!();
    let p = project(manifest, cmake);
    let e = edge(&p, "a.o");
    upload_inputs(&stack, &e).await;
    let resp = stack
        .invoke(&request(&stack, &e, Some("/ggroot/build/a.o.d")))
        .await
        .expect("invoke");
    assert!(resp.succeeded(), "{resp:?}");
    eprintln!("run_ms {} total_ms {}", resp.run_ms, resp.total_ms);
    assert_eq!(resp.outputs.len(), 1, "{resp:?}");
    assert_eq!(resp.outputs[0].path, "/ggroot/build/a.o");
    let remote = fetch(&stack, &resp.outputs[0].hash).await;
    assert_eq!(remote.len() as u64, resp.outputs[0].size);
    let dep = resp.depfile.clone().expect("a depfile");
    let remote_dep = String::from_utf8(fetch(&stack, &dep.hash).await).unwrap();
    assert!(!remote_dep.contains("/tmp/gg/"), "{remote_dep}");

    if cmake {
        let src = e.roots.source.as_ref().expect("a source root");
        let needle = src.display().to_string().into_bytes();
        assert!(
            remote.windows(needle.len()).any(|w| w == needle),
            "the object does not name {}",
            src.display()
        );
        assert!(!remote.windows(8).any(|w| w == b"/tmp/gg/"));
    }
    run_locally(&p, &e);
    let local = std::fs::read(p.build.join("a.o")).unwrap();
    assert!(
        remote == local,
        "objects differ: remote {} bytes, local {}",
        remote.len(),
        local.len()
    );
    // gcc wraps depfile lines by length, and the laid-out paths are shorter
    // than the real ones: the same dependencies, wrapped elsewhere.
    let words = |d: &str| {
        d.replace("\\\n", " ")
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let local_dep = std::fs::read_to_string(p.build.join("a.o.d")).unwrap();
    assert_eq!(words(&e.roots.unrewrite(&remote_dep)), words(&local_dep));

    // Again, on warm instances (either of the two): the same object.
    for _ in 0..3 {
        let again = stack
            .invoke(&request(&stack, &e, Some("/ggroot/build/a.o.d")))
            .await
            .expect("invoke");
        eprintln!("again: run_ms {} total_ms {}", again.run_ms, again.total_ms);
        assert!(again.succeeded(), "{again:?}");
        assert_eq!(again.outputs, resp.outputs);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_from_the_build_tree_runs_with_its_mode() {
    let stack = stack_or_skip!();
    let p = project(
        "rule tool\n  command = ./tool.sh $in $out\nbuild out/b.txt: tool a.h | tool.sh\n",
        false,
    );
    let tool = p.build.join("tool.sh");
    std::fs::write(
        &tool,
        "#!/bin/sh\nmkdir -p out && cp \"$1\" \"$2\" && chmod 640 \"$2\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let e = edge(&p, "out/b.txt");
    let t = e.thunk.thunk();
    // The builder keeps the manifest's spelling; the function normalizes it.
    assert_eq!(
        t.function.exe, "/ggroot/build/./tool.sh",
        "{}",
        e.thunk.canonical
    );
    upload_inputs(&stack, &e).await;
    let mut req = request(&stack, &e, None);
    // Without its mode the script cannot be run.
    let resp = stack.invoke(&req).await.unwrap();
    assert!(matches!(resp.status, Status::Error { .. }), "{resp:?}");
    req.executable = vec!["/ggroot/build/tool.sh".into()];
    let resp = stack.invoke(&req).await.unwrap();
    assert!(resp.succeeded(), "{resp:?}");
    assert_eq!(resp.outputs[0].path, "/ggroot/build/out/b.txt");
    assert_eq!(resp.outputs[0].mode, 0o640);
    assert_eq!(fetch(&stack, &resp.outputs[0].hash).await, A_H.as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_compile_is_byte_identical_to_local() {
    compile_matches_local(
        "rule cc\n  command = cc -MD -MF $out.d -c $in -o $out\n  depfile = $out.d\n  deps = gcc\nbuild a.o: cc a.c\n",
        false,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_debug_compile_is_byte_identical_to_local() {
    compile_matches_local(
        "rule cc\n  command = cc -g -I$src/inc -MD -MF $out.d -c $in -o $out\n  depfile = $out.d\n  deps = gcc\nbuild a.o: cc $src/a.c\n",
        true,
    )
    .await;
}

const SIMPLE: &str = "rule cc\n  command = cc -c $in -o $out\nbuild a.o: cc a.c\nbuild bad.o: cc bad.c\nrule cpy\n  command = cp $in b.txt\nbuild c.txt: cpy a.h\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_input_object_is_named_and_nothing_runs() {
    let stack = stack_or_skip!();
    let p = project(SIMPLE, false);
    let e = edge(&p, "a.o");
    let inputs = upload_inputs(&stack, &e).await;
    let (_, header) = inputs
        .iter()
        .find(|(v, _)| v == "/ggroot/build/a.h")
        .expect("a.h is an input")
        .clone();
    stack
        .store
        .client()
        .delete_object()
        .bucket(stack.bucket())
        .key(stack.store.key(&header))
        .send()
        .await
        .expect("delete");
    let resp = stack.invoke(&request(&stack, &e, None)).await.unwrap();
    assert_eq!(
        resp.status,
        Status::MissingInputs {
            hashes: vec![header.to_string()]
        }
    );
    assert!(resp.outputs.is_empty() && resp.log.is_empty() && resp.run_ms == 0);
}

/// Inputs carried in the request need nothing in the bucket; one whose
/// bytes are not what its hash names is not used (the function looks for
/// it in the bucket, and names it missing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_carried_in_the_request_need_no_upload() {
    let stack = stack_or_skip!();
    let p = project(SIMPLE, false);
    let e = edge(&p, "a.o");
    let inputs = in_root_inputs(&e);
    let header = inputs
        .iter()
        .find(|(v, _, _)| v == "/ggroot/build/a.h")
        .expect("a.h is an input")
        .1;
    let carry = |forge: bool| -> Vec<Carried> {
        let bytes = |h: &ContentHash, real: &PathBuf| match forge && *h == header {
            true => b"#define ANSWER 0\n".to_vec(),
            false => std::fs::read(real).unwrap(),
        };
        inputs
            .iter()
            .map(|(_, h, real)| Carried::new(h, &bytes(h, real)))
            .collect()
    };
    let mut req = request(&stack, &e, None);
    req.carried = carry(true);
    let resp = stack.invoke(&req).await.unwrap();
    assert_eq!(
        resp.status,
        Status::MissingInputs {
            hashes: vec![header.to_string()]
        }
    );
    req.carried = carry(false);
    let resp = stack.invoke(&req).await.unwrap();
    assert!(resp.succeeded(), "{resp:?}");
    let remote = fetch(&stack, &resp.outputs[0].hash).await;
    run_locally(&p, &e);
    assert!(remote == std::fs::read(p.build.join("a.o")).unwrap());
    for (path, hash, _) in &inputs {
        let there = stack.store.exists(hash).await.expect("HEAD");
        assert!(!there, "{path} reached the bucket");
    }
}

/// Re-hashes a thunk after editing it.
fn with_thunk(req: &mut Request, t: &Thunk) {
    req.thunk = t.canonical();
    req.thunk_hash = t.hash().to_string();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_toolchain_file_is_a_mismatch_and_nothing_runs() {
    let stack = stack_or_skip!();
    let p = project(SIMPLE, false);
    let e = edge(&p, "a.o");
    upload_inputs(&stack, &e).await;
    let fake = ContentHash::of(Kind::Value, b"another compiler").to_string();

    // A bundle file's hash altered (and the bundle renamed to match).
    let mut req = request(&stack, &e, None);
    let mut files = req.bundle.clone().expect("a compile has a bundle");
    let victim = files[0].path.clone();
    files[0].hash = fake.clone();
    let name = ContentHash::of(
        Kind::Value,
        serde_json::to_string(&Bundle {
            files: files.clone(),
        })
        .unwrap()
        .as_bytes(),
    )
    .to_string();
    let mut t = e.thunk.thunk();
    for i in &mut t.inputs {
        if let Source::Bundle { bundle } = &mut i.source {
            *bundle = name.clone();
        }
    }
    req.bundle = Some(files);
    with_thunk(&mut req, &t);
    let resp = stack.invoke(&req).await.unwrap();
    match &resp.status {
        Status::ToolchainMismatch {
            path,
            expected,
            found,
        } => {
            assert_eq!((path, expected), (&victim, &fake));
            assert!(found.starts_with('V'), "{found}");
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert!(resp.log.is_empty() && resp.run_ms == 0);

    // A system file named as a plain input (as a link names a library),
    // with its hash altered.
    let mut req = request(&stack, &e, None);
    let mut t = e.thunk.thunk();
    let bundled = req.bundle.as_ref().expect("a compile has a bundle");
    let header_path = (bundled.iter())
        .map(|f| f.path.clone())
        .find(|p| p.ends_with("/stdio.h"))
        .expect("stdio.h is bundled");
    t.inputs.push(Input {
        path: header_path.clone(),
        source: Source::Value { hash: fake.clone() },
    });
    t.inputs.sort_by(|a, b| a.path.cmp(&b.path));
    with_thunk(&mut req, &t);
    let resp = stack.invoke(&req).await.unwrap();
    assert!(
        matches!(&resp.status, Status::ToolchainMismatch { path, .. } if *path == header_path),
        "{resp:?}"
    );

    // A bundle list that does not hash to the thunk's bundle: an error.
    let mut req = request(&stack, &e, None);
    req.bundle.as_mut().unwrap()[0].hash = fake;
    let resp = stack.invoke(&req).await.unwrap();
    assert!(matches!(resp.status, Status::Error { .. }), "{resp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_command_reports_its_exit_code_and_stderr() {
    let stack = stack_or_skip!();
    let p = project(SIMPLE, false);
    let e = edge(&p, "bad.o");
    upload_inputs(&stack, &e).await;
    let resp = stack.invoke(&request(&stack, &e, None)).await.unwrap();
    match resp.status {
        Status::Ran { exit_code, .. } => assert_eq!(exit_code, Some(1), "{}", resp.log),
        ref other => panic!("expected Ran, got {other:?}"),
    }
    assert!(!resp.succeeded());
    assert!(resp.log.contains("nope"), "{}", resp.log);
    assert!(resp.outputs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_not_written_is_a_failure() {
    let stack = stack_or_skip!();
    let p = project(SIMPLE, false);
    let e = edge(&p, "c.txt");
    assert!(!e.thunk.canonical.contains("\"cc\""));
    upload_inputs(&stack, &e).await;
    let resp = stack.invoke(&request(&stack, &e, None)).await.unwrap();
    assert_eq!(
        resp.status,
        Status::OutputsNotWritten {
            paths: vec!["/ggroot/build/c.txt".into()]
        },
        "{resp:?}"
    );
    assert!(!resp.succeeded() && resp.outputs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_does_not_parse_is_an_error_response() {
    let stack = stack_or_skip!();
    let mut req = Request {
        thunk: "{}".into(),
        thunk_hash: "Tnot-a-hash".into(),
        bundle: None,
        bucket: stack.bucket(),
        prefix: String::new(),
        carried: Vec::new(),
        roots: None,
        executable: Vec::new(),
        depfile: None,
        limits: Default::default(),
        memo_key: None,
    };
    let resp = stack.invoke(&req).await.unwrap();
    assert!(matches!(resp.status, Status::Error { .. }), "{resp:?}");
    req.thunk_hash = ContentHash::of(Kind::Thunk, b"{}").to_string();
    let resp = stack.invoke(&req).await.unwrap();
    assert!(
        matches!(&resp.status, Status::Error { message } if message.contains("does not parse")),
        "{resp:?}"
    );
    // Not a request at all.
    let raw = stack
        .lambda
        .invoke()
        .function_name(&stack.env["GGNINJA_LAMBDA_FUNCTION"])
        .payload(Blob::new(b"[1,2]".to_vec()))
        .send()
        .await
        .expect("invoke");
    let resp: Response = serde_json::from_slice(raw.payload().unwrap().as_ref()).unwrap();
    assert!(matches!(resp.status, Status::Error { .. }), "{resp:?}");
}
