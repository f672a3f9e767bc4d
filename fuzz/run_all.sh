#!/bin/sh
# Runs each fuzz target for $SECS seconds, one at a time, from a scratch cwd
# (the manifest parser reads include/subninja files relative to the cwd).
# Build the binaries first: `cargo fuzz build -O` or ./build.sh (no cargo-fuzz).
# make_db uses make.dict and a 16 KiB max_len (its seeds are dumps of 26-54 KB);
# MAXLEN overrides the per-target limit. The targets after make_db read
# ggninja's own state files (.ggninja_graph's payload, the whole file and its
# pointer, .ninja_log, .ninja_deps and its index, the remembered no-op,
# thunk's and footprint's caches, the store):
# each input's first byte says whether the file's magic (and checksum) is
# put before the rest, so the fuzzer gets past them; seeds are files the
# tool wrote. TARGETS picks some.
set -u
FUZZ=$(cd "$(dirname "$0")" && pwd)
BIN=$FUZZ/target/x86_64-unknown-linux-gnu/release
SECS=${SECS:-630}
CWD=${CWD:-/tmp/fuzzcwd}
LOGS=${LOGS:-/tmp/fuzzlogs}
mkdir -p "$CWD" "$LOGS"
for t in ${TARGETS:-manifest manifest_eval depfile dyndep make_db graph_saved graph_file build_log deps_log deps_index noop_record thunk_caches store_state}; do
  case $t in
    manifest|manifest_eval) seeds=manifest ;;
    *) seeds=$t ;;
  esac
  case $t in
    make_db) dict=make.dict; maxlen=${MAXLEN:-16384} ;;
    # ggninja's own state files (binary or line formats): no dict, and
    # room for the seeds the real tool wrote.
    graph_saved|graph_file|deps_index|noop_record) dict=; maxlen=${MAXLEN:-16384} ;;
    thunk_caches) dict=; maxlen=${MAXLEN:-20480} ;;
    build_log|deps_log|store_state) dict=; maxlen=${MAXLEN:-4096} ;;
    *) dict=ninja.dict; maxlen=${MAXLEN:-4096} ;;
  esac
  # thunk_caches: LeakSanitizer flags a thread-local of a scoped thread
  # (rayon::join's latch) freed as the thread exits, racing the check.
  case $t in
    thunk_caches) extra=-detect_leaks=0 ;;
    *) extra= ;;
  esac
  mkdir -p "$FUZZ/seeds/$seeds"
  mkdir -p "$FUZZ/corpus/$t" "$FUZZ/artifacts/$t"
  (cd "$CWD" && "$BIN/$t" "$FUZZ/corpus/$t" "$FUZZ/seeds/$seeds" \
      ${dict:+-dict="$FUZZ/$dict"} -max_len="$maxlen" -timeout=5 -rss_limit_mb=2048 \
      -max_total_time="$SECS" -print_final_stats=1 $extra \
      -artifact_prefix="$FUZZ/artifacts/$t/") > "$LOGS/$t.log" 2>&1
  echo "$t exited $?" >> "$LOGS/summary"
done
