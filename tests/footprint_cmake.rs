//! The scanned footprint of every compile edge of a real CMake project holds
//! every header the compiler itself reported in its depfile.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{cmake, copy_dir, fixture, ggninja, require_tool, run, text};

/// A thunk-visible path as a real, canonical one.
fn real(virt: &str, build: &Path, src: &Path) -> Option<PathBuf> {
    let p = if let Some(rest) = virt.strip_prefix("/ggroot/build/") {
        build.join(rest)
    } else if let Some(rest) = virt.strip_prefix("/ggroot/src/") {
        src.join(rest)
    } else {
        PathBuf::from(virt)
    };
    std::fs::canonicalize(p).ok()
}

#[test]
fn footprints_hold_every_depfile_header() {
    if require_tool("cmake").is_none() || require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let build = tmp.path().join("build");
    copy_dir(&fixture("cmake-demo"), &src);
    let gg = ggninja();
    cmake::configure(&src, &build, Some(&gg), &[]);
    let out = run(&build, &gg, &[]);
    assert!(out.status.success(), "build: {}", text(&out));

    let out = run(&build, &gg, &["-t", "thunks"]);
    assert!(out.status.success(), "{}", text(&out));
    let (mut compiles, mut extra, mut real_total) = (0, 0, 0);
    // Bundles (the toolchain's files) come first; thunks name them.
    let mut bundles = std::collections::BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(name) = v.get("bundle") {
            let files: Vec<String> = v["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["path"].as_str().unwrap().to_string())
                .collect();
            bundles.insert(name.as_str().unwrap().to_string(), files);
            continue;
        }
        let output = v["output"].as_str().unwrap();
        if !output.ends_with(".o") {
            continue;
        }
        compiles += 1;
        let thunk = v
            .get("thunk")
            .unwrap_or_else(|| panic!("compile edge is local-only: {line}"));
        let inputs: BTreeSet<PathBuf> = thunk["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| match i["bundle"].as_str() {
                Some(b) => bundles[b].clone(),
                None => vec![i["path"].as_str().unwrap().to_string()],
            })
            .filter_map(|p| real(&p, &build, &src))
            .collect();
        // What gcc's depfile said, as recorded in the deps log.
        let deps = run(&build, &gg, &["-t", "deps", output]);
        let deps_text = String::from_utf8(deps.stdout).unwrap();
        let headers: BTreeSet<PathBuf> = deps_text
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|d| std::fs::canonicalize(build.join(d)).unwrap_or_else(|e| panic!("{d}: {e}")))
            .collect();
        assert!(
            !headers.is_empty(),
            "no deps recorded for {output}: {deps_text}"
        );
        let missing: Vec<_> = headers.difference(&inputs).collect();
        assert!(missing.is_empty(), "{output}: footprint lacks {missing:?}");
        real_total += headers.len();
        extra += inputs.len() - headers.len();
    }
    assert!(compiles >= 10, "only {compiles} compile edges found");
    eprintln!(
        "{compiles} compile edges: {real_total} depfile files, {extra} more in footprints \
         (toolchain, shared libraries and headers behind #if), {:.1} per edge",
        extra as f64 / compiles as f64
    );
}
