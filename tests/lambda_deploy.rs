//! `-t lambda-deploy` on the CMake fixture: the image layout it writes is a
//! valid OCI layout whose layer holds every file the thunks read outside
//! the trees, as `-t thunks` hashes them, symlinks as symlinks, and the
//! function as its entrypoint; the same toolchain gives the same digest.
//! Then the proof: the local stack's instances confined to that image alone
//! build the fixture as a local build does. The control-plane calls cannot
//! succeed against the emulator (it has none): they fail with a message.
#![cfg(feature = "remote")]

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use common::local_aws::{self, outputs, summary, Stack};
use common::{cmake, ggninja, run, text};
use ggninja_store::hash::{ContentHash, Kind};
use sha2::{Digest, Sha256};

/// The fixture configured at `<tmp>/build` with ggninja as make program.
fn configured_fixture(tmp: &Path) -> PathBuf {
    let src = tmp.join("src");
    common::copy_dir(&common::fixture("cmake-demo"), &src);
    let build = tmp.join("build");
    cmake::configure(&src, &build, Some(&ggninja()), &[]);
    build
}

/// `-t lambda-deploy --image-dir IMAGE ARGS`; its output, asserted to succeed.
fn deploy(build: &Path, image: &Path, args: &[&str]) -> String {
    let mut all = vec![
        "-t",
        "lambda-deploy",
        "--image-dir",
        image.to_str().unwrap(),
    ];
    all.extend(args);
    let out = run(build, &ggninja(), &all);
    assert!(
        out.status.success(),
        "lambda-deploy failed:\n{}",
        text(&out)
    );
    text(&out)
}

/// The `sha256:…` digest the tool printed.
fn printed_digest(out: &str) -> String {
    let at = out.find("image sha256:").expect("a digest printed") + "image ".len();
    out[at..].split_whitespace().next().unwrap().to_string()
}

fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The blob `digest` of the layout, checked against its digest and `size`.
fn blob(image: &Path, digest: &str, size: Option<u64>) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    let bytes = std::fs::read(image.join("blobs/sha256").join(hex)).unwrap();
    assert_eq!(sha256(&bytes), digest, "blob content matches its name");
    if let Some(size) = size {
        assert_eq!(bytes.len() as u64, size, "{digest}: size");
    }
    bytes
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON")
}

/// Checks index.json -> manifest -> config and layer; returns the layer
/// (gzip) and the manifest's digest.
fn check_layout(image: &Path) -> (Vec<u8>, String) {
    let layout = json(&std::fs::read(image.join("oci-layout")).unwrap());
    assert_eq!(layout["imageLayoutVersion"], "1.0.0");
    let index = json(&std::fs::read(image.join("index.json")).unwrap());
    assert_eq!(index["schemaVersion"], 2);
    let m = &index["manifests"][0];
    let digest = m["digest"].as_str().unwrap().to_string();
    let manifest = json(&blob(image, &digest, m["size"].as_u64()));
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let c = &manifest["config"];
    let config = json(&blob(
        image,
        c["digest"].as_str().unwrap(),
        c["size"].as_u64(),
    ));
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(config["os"], "linux");
    assert_eq!(config["config"]["Entrypoint"][0], "/var/runtime/bootstrap");
    assert!(config["config"]["Env"][0]
        .as_str()
        .unwrap()
        .starts_with("PATH=/"));
    let l = &manifest["layers"][0];
    assert_eq!(
        l["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let layer = blob(image, l["digest"].as_str().unwrap(), l["size"].as_u64());
    // diff_ids name the uncompressed tar.
    let mut tar = Vec::new();
    let mut gz = gunzip(&layer);
    std::io::Read::read_to_end(&mut gz.stdout.take().unwrap(), &mut tar).unwrap();
    assert!(gz.wait().unwrap().success());
    assert_eq!(
        config["rootfs"]["diff_ids"][0].as_str().unwrap(),
        sha256(&tar)
    );
    (layer, digest)
}

/// `gzip -dc` of `bytes`, running (the root crate links no gzip).
fn gunzip(bytes: &[u8]) -> std::process::Child {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = child.stdin.take().unwrap();
    let data = bytes.to_vec();
    std::thread::spawn(move || stdin.write_all(&data));
    child
}

/// The layer unpacked by GNU tar into `root`.
fn unpack(layer: &[u8], root: &Path) {
    let tmp = root.with_extension("tar.gz");
    std::fs::write(&tmp, layer).unwrap();
    std::fs::create_dir_all(root).unwrap();
    let out = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&tmp)
        .arg("-C")
        .arg(root)
        .arg("--no-same-owner")
        .output()
        .unwrap();
    assert!(out.status.success(), "tar: {}", text(&out));
}

/// Where `path` leads inside the unpacked image at `root`: symlinks
/// followed within the image (an absolute target starts again at `root`),
/// `..` as the kernel takes it.
fn resolve(root: &Path, path: &str) -> PathBuf {
    let mut path = PathBuf::from(path);
    'again: for _ in 0..40 {
        let mut cur = PathBuf::from("/");
        let comps: Vec<Component> = path.components().collect();
        for (i, c) in comps.iter().enumerate() {
            match c {
                Component::Normal(name) => {
                    let next = cur.join(name);
                    let inside = root.join(next.strip_prefix("/").unwrap());
                    let meta = std::fs::symlink_metadata(&inside)
                        .unwrap_or_else(|_| panic!("{} is not in the image", next.display()));
                    if meta.file_type().is_symlink() {
                        let target = std::fs::read_link(&inside).unwrap();
                        let rest: PathBuf = comps[i + 1..].iter().collect();
                        path = cur.join(target).join(rest);
                        continue 'again;
                    }
                    cur = next;
                }
                Component::ParentDir => {
                    cur.pop();
                }
                _ => {}
            }
        }
        return root.join(cur.strip_prefix("/").unwrap());
    }
    panic!("symlink loop at {}", path.display())
}

/// Every (path, hash) outside the roots that `-t thunks` names: bundle
/// files, programs, system inputs.
fn system_files(build: &Path) -> BTreeSet<(String, String)> {
    let out = run(build, &ggninja(), &["-t", "thunks"]);
    assert!(out.status.success(), "{}", text(&out));
    let outside = |p: &str| !p.starts_with("/ggroot/");
    let mut files = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let pair = |p: &serde_json::Value, h: &serde_json::Value| {
            (
                p.as_str().unwrap().to_string(),
                h.as_str().unwrap().to_string(),
            )
        };
        for f in v["files"].as_array().into_iter().flatten() {
            files.insert(pair(&f["path"], &f["hash"]));
        }
        let t = &v["thunk"];
        if t.is_null() {
            continue;
        }
        let f = &t["function"];
        if outside(f["exe"].as_str().unwrap()) {
            files.insert(pair(&f["exe"], &f["exe_hash"]));
        }
        for i in t["inputs"].as_array().unwrap() {
            if outside(i["path"].as_str().unwrap()) && !i["hash"].is_null() {
                files.insert(pair(&i["path"], &i["hash"]));
            }
        }
    }
    files
}

#[test]
fn the_image_holds_the_toolchain_as_the_thunks_hash_it() {
    if !local_aws::available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let build = configured_fixture(tmp.path());
    let image = tmp.path().join("image");
    let first = deploy(&build, &image, &[]);
    let (layer, digest) = check_layout(&image);
    assert_eq!(printed_digest(&first), digest, "{first}");

    let root = tmp.path().join("root");
    unpack(&layer, &root);
    let files = system_files(&build);
    assert!(files.len() > 100, "{} system files", files.len());
    for (path, hash) in &files {
        let bytes = std::fs::read(resolve(&root, path)).unwrap();
        let found = ContentHash::of(Kind::Value, &bytes).to_string();
        assert_eq!(&found, hash, "{path} in the image");
    }
    // Links stay links: cc -> /etc/alternatives/cc -> gcc.
    for link in ["usr/bin/cc", "etc/alternatives/cc"] {
        let meta = std::fs::symlink_metadata(root.join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link}");
    }
    let bootstrap = root.join("var/runtime/bootstrap");
    let mode = std::fs::metadata(&bootstrap).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "the bootstrap is executable");
    assert_eq!(
        std::fs::read(&bootstrap).unwrap(),
        std::fs::read(local_aws::function_binary()).unwrap()
    );

    // The same toolchain, the same image.
    let again = deploy(&build, &image, &[]);
    assert_eq!(printed_digest(&again), digest, "{again}");
}

#[test]
fn the_fixture_builds_on_instances_that_see_only_the_image() {
    if !local_aws::available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let build = configured_fixture(tmp.path());
    let image = tmp.path().join("image");
    deploy(&build, &image, &[]);
    let Some(stack) = Stack::up_image(4, &image) else {
        return;
    };
    let out = stack.ggninja(&build, &["--remote", "lambda", "-j", "16", "-d", "explain"]);
    let log = text(&out);
    assert!(out.status.success(), "remote build failed:\n{log}");
    let s = summary(&build);
    local_aws::assert_fixture_ran_remotely(&s, &log);
    let remote = outputs(&build);

    assert!(run(&build, &ggninja(), &["-t", "clean"]).status.success());
    let local = run(&build, &ggninja(), &[]);
    assert!(local.status.success(), "{}", text(&local));
    assert_eq!(outputs(&build), remote, "remote and local outputs differ");
}

#[test]
fn deploying_to_the_emulator_fails_with_a_message() {
    let Some(stack) = Stack::up(0) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let build = configured_fixture(tmp.path());
    let image = tmp.path().join("image");
    let image = image.to_str().unwrap();
    let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ggninja:1";
    let tool = |extra: &[&str]| {
        let mut args = vec![
            "-t",
            "lambda-deploy",
            "--image-dir",
            image,
            "--image-uri",
            uri,
        ];
        args.extend(extra);
        stack.ggninja(&build, &args)
    };
    // Settings Lambda would refuse fail before anything is written.
    let bad = tool(&["--memory", "64"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(
        text(&bad).contains("--memory 64 is outside"),
        "{}",
        text(&bad)
    );
    assert!(!Path::new(image).exists());

    // The emulator answers no control-plane call: a timeout, said so.
    let out = tool(&[
        "--role",
        "arn:aws:iam::123456789012:role/r",
        "--api-timeout",
        "2",
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    assert!(
        all.contains("image sha256:"),
        "the image is written first: {all}"
    );
    assert!(
        all.contains("error: Lambda GetFunction ") && all.contains("no answer within 2s"),
        "{all}"
    );
}
