#!/usr/bin/env bash
# Usage: scripts/fetch-meson.sh [CACHE_DIR]
#
# Fetches Meson from PyPI (its pure-python wheel, pinned by sha256) for
# tests/meson.rs, which runs it with PYTHONPATH set to the unpacked wheel:
# nothing is installed. Unpacks into CACHE_DIR (see scripts/fetch-lib.sh)
# /meson-VERSION and prints that directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/fetch-lib.sh"

version=1.12.1
wheel=meson-$version-py3-none-any.whl
wheel_sha=930bc7542cbd9f57009e182fd014eba48cf1a0180a7b9006d2d32d8f168d8b02
url=https://files.pythonhosted.org/packages/57/99/36cd25f9598eef70db97577440a70a360af505f6f01c2338a18d1556079c/$wheel

unpacked() { [[ -f $1/mesonbuild/mesonmain.py ]]; }
fetch() {
    curl -fsSL --retry 3 -o "$wheel" "$url"
    check_sha256 "$wheel_sha" "$wheel"
    python3 -m zipfile -e "$wheel" out
}

cache_dir "${1:-}"
fetch_once "meson-$version" unpacked fetch
