#!/bin/sh
# Runs each fuzz target for $SECS seconds, one at a time, from a scratch cwd
# (the manifest parser reads include/subninja files relative to the cwd).
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
  mkdir -p "$FUZZ/corpus/$t" "$FUZZ/artifacts/$t"
  (cd "$CWD" && "$BIN/$t" "$FUZZ/corpus/$t" "$FUZZ/seeds/$seeds" \
      -dict="$FUZZ/ninja.dict" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
      -max_total_time="$SECS" -print_final_stats=1 \
      -artifact_prefix="$FUZZ/artifacts/$t/") > "$LOGS/$t.log" 2>&1
  echo "$t exited $?" >> "$LOGS/summary"
done
