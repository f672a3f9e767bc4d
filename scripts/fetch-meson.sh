#!/usr/bin/env bash
# Usage: scripts/fetch-meson.sh [CACHE_DIR]
#
# Fetches Meson from PyPI (its pure-python wheel, pinned by sha256) for
# tests/meson.rs, which runs it with PYTHONPATH set to the unpacked wheel:
# nothing is installed. Unpacks into CACHE_DIR (default
# ${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests})/meson-VERSION and prints that
# directory. Does nothing but print the path when already unpacked. Nothing
# fetched here is ever committed.
set -euo pipefail

version=1.12.1
wheel=meson-$version-py3-none-any.whl
wheel_sha=930bc7542cbd9f57009e182fd014eba48cf1a0180a7b9006d2d32d8f168d8b02

cache=${1:-${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
dest="$cache/meson-$version"
if [[ -f $dest/mesonbuild/mesonmain.py ]]; then
    echo "$dest"
    exit 0
fi

exec 9>"$cache/.meson-$version.lock"
flock 9
if [[ -f $dest/mesonbuild/mesonmain.py ]]; then
    echo "$dest"
    exit 0
fi

work=$(mktemp -d "$cache/.meson-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
curl -fsSL --retry 3 -o "$wheel" "https://files.pythonhosted.org/packages/57/99/36cd25f9598eef70db97577440a70a360af505f6f01c2338a18d1556079c/$wheel"
echo "$wheel_sha  $wheel" | sha256sum -c --quiet - >&2
python3 -m zipfile -e "$wheel" out
rm -rf "$dest"
mv out "$dest"
echo "$dest"
