#!/usr/bin/env bash
# The footprint scanner against `cc -M` per source (what gg's model programs
# ran), on ninja 1.11.1's sources from Debian: every .cc file as
# `c++ -c FLAGS FILE`; prints both times, the files the scanner missed (must
# be 0) and the extra files per source. See footprint/examples/bench.rs.
#
#   bench/footprint.sh [COMPILER [FLAGS...]]     (default: c++ -O2 -DNDEBUG)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$("$REPO_ROOT/scripts/fetch-source.sh" ninja-build "$GGNINJA_CACHE/sources" | tail -n 1)
(( $# > 0 )) || set -- c++ -O2 -DNDEBUG
cargo run --quiet --release --manifest-path "$REPO_ROOT/Cargo.toml" \
    -p ggninja-footprint --example bench -- "$SRC/src" "$@"
