#!/bin/sh
# Same flags cargo-fuzz 0.12 passes for `cargo fuzz build -O` (ASan, sancov inline-8bit counters, trace-cmp).
cd "$(dirname "$0")"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Zsanitizer=address -Cdebug-assertions -Coverflow-checks -Cforce-frame-pointers"
export RUSTDOCFLAGS="$RUSTFLAGS"
exec nice -n 10 cargo +nightly build --release --target x86_64-unknown-linux-gnu --bins -j2 "$@"
