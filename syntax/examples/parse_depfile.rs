//! Times `depfile::parse` on one depfile, as a memo hit parses each hit's
//! (docs/benchmarks.md):
//!
//!   cargo run --release -p ggninja-syntax --example parse_depfile -- FILE [ROUNDS]

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: parse_depfile FILE [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(20_000);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("parse_depfile: {path}: {e}");
            std::process::exit(1);
        }
    };
    for _ in 0..3 {
        let start = Instant::now();
        let mut names = 0;
        for _ in 0..rounds {
            match ggninja_syntax::depfile::parse(std::hint::black_box(&data)) {
                Ok(d) => names = d.ins.len(),
                Err(e) => {
                    eprintln!("parse_depfile: {path}: {e}");
                    std::process::exit(1);
                }
            }
        }
        let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
        println!("{per:.2} us a parse ({names} inputs)");
    }
}
