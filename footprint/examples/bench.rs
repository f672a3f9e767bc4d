//! Compares the footprint scanner with running `cc -M` per source.
//!
//! `cargo run --release -p ggninja-footprint --example bench -- DIR [COMPILER] [FLAGS...]`
//!
//! Every `.c`/`.cc`/`.cpp` file under DIR becomes the compile command
//! `COMPILER -c FLAGS FILE -o /dev/null` run in DIR. Prints the time of
//! `COMPILER FLAGS -M FILE` for all files, the time of a cold and a warm
//! [`Scanner`], files the scanner missed (must be 0) and the extra files per
//! source (precision). Both sides use the same rayon pool.
use ggninja_footprint::Scanner;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("c" | "cc" | "cpp")
        ) {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::fs::canonicalize(
        args.first()
            .expect("usage: bench DIR [COMPILER] [FLAGS...]"),
    )
    .unwrap();
    let cc = args.get(1).cloned().unwrap_or_else(|| "cc".into());
    let flags: Vec<String> = args.iter().skip(2).cloned().collect();
    let mut files = Vec::new();
    sources(&dir, &mut files);
    files.sort();
    let rel: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
        .collect();

    let t = Instant::now();
    let deps: Vec<Option<BTreeSet<PathBuf>>> = rel
        .par_iter()
        .map(|f| {
            let out = Command::new(&cc)
                .args(&flags)
                .args(["-M", f])
                .current_dir(&dir)
                .output()
                .ok()?;
            if !out.status.success() {
                return None;
            }
            let text = String::from_utf8_lossy(&out.stdout).replace("\\\n", " ");
            let deps = text.split_once(": ")?.1;
            Some(
                deps.split_whitespace()
                    .filter(|d| *d != f)
                    .filter_map(|d| std::fs::canonicalize(dir.join(d)).ok())
                    .collect(),
            )
        })
        .collect();
    let t_m = t.elapsed();

    let cmds: Vec<String> = rel
        .iter()
        .map(|f| format!("{cc} -c {} {f} -o /dev/null", flags.join(" ")))
        .collect();
    let scanner = Scanner::new();
    let t = Instant::now();
    let fps: Vec<_> = cmds
        .par_iter()
        .map(|c| scanner.footprint(c, &dir))
        .collect();
    let t_cold = t.elapsed();
    let t = Instant::now();
    let _again: Vec<_> = cmds
        .par_iter()
        .map(|c| scanner.footprint(c, &dir))
        .collect();
    let t_warm = t.elapsed();

    let (mut compared, mut missing, mut extra, mut real) = (0, 0, 0, 0);
    for ((f, d), fp) in rel.iter().zip(&deps).zip(&fps) {
        let (Some(d), Ok(fp)) = (d, fp) else {
            if let Err(e) = fp {
                println!("{f}: {e}");
            }
            continue;
        };
        compared += 1;
        let ours: BTreeSet<PathBuf> = fp
            .headers
            .iter()
            .filter_map(|h| std::fs::canonicalize(dir.join(h)).ok())
            .collect();
        for m in d.difference(&ours) {
            println!("MISSING {f}: {}", m.display());
            missing += 1;
        }
        extra += ours.difference(d).count();
        real += d.len();
    }
    let n = compared.max(1) as f64;
    println!(
        "{} sources ({compared} compared with -M), compiler {cc}, {} threads",
        rel.len(),
        rayon::current_num_threads()
    );
    println!("cc -M per source : {:>9.1} ms", t_m.as_secs_f64() * 1e3);
    println!(
        "scanner, cold    : {:>9.1} ms  ({:.1}x faster)",
        t_cold.as_secs_f64() * 1e3,
        t_m.as_secs_f64() / t_cold.as_secs_f64()
    );
    println!(
        "scanner, warm    : {:>9.1} ms  ({:.1}x faster)",
        t_warm.as_secs_f64() * 1e3,
        t_m.as_secs_f64() / t_warm.as_secs_f64()
    );
    println!("missing files    : {missing}");
    println!(
        "headers per source: {:.1} real, {:.1} extra ({:.0}% over)",
        real as f64 / n,
        extra as f64 / n,
        100.0 * extra as f64 / real.max(1) as f64
    );
    println!(
        "files parsed: {}, -M fallbacks: {}",
        scanner.files_parsed(),
        scanner.fallbacks()
    );
}
