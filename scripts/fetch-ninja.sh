#!/usr/bin/env bash
# Usage: scripts/fetch-ninja.sh [CACHE_DIR]
#
# Fetches ninja 1.13.2 from PyPI's `ninja` package, the second reference the
# tests compare against (Debian's ninja-build 1.11.1 is the first): the
# manylinux wheel for its binary and the sdist for its C++ test sources
# (under ninja-upstream/). Both are pinned by sha256. Unpacks them into
# CACHE_DIR (see scripts/fetch-lib.sh)/ninja-1.13.2 and prints that
# directory: `bin/ninja` is the binary, `src/` the sources.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/fetch-lib.sh"

version=1.13.2
wheel=ninja-$version-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
wheel_sha=65a24341b5ac09fcadcc37082660be40a94174e51a937fabf6e2cae26225fa2c
sdist=ninja-$version.tar.gz
sdist_sha=525bfa3fc88aa30a4467df270fd5be6f9fcae8061d54d4df74ea1dc5abd5a975
wheel_url=https://files.pythonhosted.org/packages/6e/53/ebfed7b689c338dd8ebeec9c0730c8d56821292f14e2536e5f3ef1a05744/$wheel
sdist_url=https://files.pythonhosted.org/packages/ac/92/410b7917d16ab54c04b05cc32b9284803671d91cf79d33be6009c28d4ea8/$sdist

unpacked() { [[ -x $1/bin/ninja && -d $1/src/src ]]; }
fetch() {
    curl -fsSL --retry 3 -o "$wheel" "$wheel_url"
    curl -fsSL --retry 3 -o "$sdist" "$sdist_url"
    check_sha256 "$wheel_sha" "$wheel"
    check_sha256 "$sdist_sha" "$sdist"
    mkdir wheel out out/bin
    python3 -m zipfile -e "$wheel" wheel
    tar xzf "$sdist"
    install -m 755 "wheel/ninja-$version.data/scripts/ninja" out/bin/ninja
    mv "ninja-$version/ninja-upstream" out/src
    out/bin/ninja --version >/dev/null
}

cache_dir "${1:-}"
fetch_once "ninja-$version" unpacked fetch
