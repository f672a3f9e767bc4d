#!/bin/sh
# Runs each fuzz target for $SECS seconds, one at a time, from a scratch cwd
# (the manifest parser reads include/subninja files relative to the cwd).
# Build the binaries first: `cargo fuzz build -O` or ./build.sh (no cargo-fuzz).
# make_db uses make.dict and a 16 KiB max_len (its seeds are dumps of 26-54 KB);
# MAXLEN overrides the per-target limit.
set -u
FUZZ=$(cd "$(dirname "$0")" && pwd)
BIN=$FUZZ/target/x86_64-unknown-linux-gnu/release
SECS=${SECS:-630}
CWD=${CWD:-/tmp/fuzzcwd}
LOGS=${LOGS:-/tmp/fuzzlogs}
mkdir -p "$CWD" "$LOGS"
for t in ${TARGETS:-manifest manifest_eval depfile dyndep make_db}; do
  case $t in
    manifest|manifest_eval) seeds=manifest ;;
    *) seeds=$t ;;
  esac
  case $t in
    make_db) dict=make.dict; maxlen=${MAXLEN:-16384} ;;
    *) dict=ninja.dict; maxlen=${MAXLEN:-4096} ;;
  esac
  mkdir -p "$FUZZ/corpus/$t" "$FUZZ/artifacts/$t"
  (cd "$CWD" && "$BIN/$t" "$FUZZ/corpus/$t" "$FUZZ/seeds/$seeds" \
      -dict="$FUZZ/$dict" -max_len="$maxlen" -timeout=5 -rss_limit_mb=2048 \
      -max_total_time="$SECS" -print_final_stats=1 \
      -artifact_prefix="$FUZZ/artifacts/$t/") > "$LOGS/$t.log" 2>&1
  echo "$t exited $?" >> "$LOGS/summary"
done
