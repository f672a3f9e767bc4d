//! Prints the footprint of a command: `footprint [--cwd DIR] 'gcc -c a.c'`.
use ggninja_footprint::Scanner;
use std::path::PathBuf;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut cwd = std::env::current_dir().unwrap();
    if args.first().map(String::as_str) == Some("--cwd") {
        cwd = PathBuf::from(args.remove(1));
        args.remove(0);
    }
    let cmd = args.join(" ");
    let s = Scanner::new();
    let t = std::time::Instant::now();
    match s.footprint(&cmd, &cwd) {
        Ok(fp) => {
            println!(
                "kind: {:?}\nexecutable: {}",
                fp.kind,
                fp.executable.display()
            );
            for (n, v) in [
                ("source", fp.sources.iter().collect::<Vec<_>>()),
                ("header", fp.headers.iter().collect()),
                ("toolchain", fp.toolchain.iter().collect()),
                ("output", fp.outputs.iter().collect()),
            ] {
                for p in v {
                    println!("{n}: {}", p.display());
                }
            }
        }
        Err(e) => println!("{e}"),
    }
    eprintln!("time: {:?}", t.elapsed());
}
