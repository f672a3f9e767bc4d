#!/usr/bin/env bash
# Installs everything the ggninja test suites need on a Debian 12 (bookworm)
# machine: the build tools, real ninja (the reference the tests compare
# against), `script` (for ninja's misc/output_test.py), deb-src entries (the
# third-party projects are fetched with `apt-get source` at test time, see
# scripts/fetch-source.sh) and the minimal build-deps of libgit2 and
# libarchive as configured by tests/thirdparty.rs, plus gfortran for
# tests/fortran_dyndep.rs and chromium for tests/report.rs.
#
# Idempotent: does nothing (and touches no network) when all is present.
# Must run as root (or via sudo when available).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if [[ $(id -u) != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -E bash "$0" "$@"
    fi
    echo "install-deps.sh: must run as root" >&2
    exit 1
fi

PACKAGES=(
    # toolchain and the reference ninja
    cmake ninja-build gcc g++ libc6-dev make pkg-config python3 python3-venv
    # --sandbox (tests/sandbox.rs) and the ccache comparisons (bench/memo.sh,
    # bench/memo_projects.sh, which reads ggninja's own CPU with perf)
    bubblewrap ccache linux-perf
    # an XFS image on a loop device: hits that clone (tests/memo.rs);
    # filefrag tells a clone's shared blocks
    xfsprogs e2fsprogs
    # Fortran compiler: tests/fortran_dyndep.rs (CMake's dyndep-based module scanning)
    gfortran
    # apt-get source / dpkg-source, and unpacking .tar.xz sources
    dpkg-dev xz-utils
    # `script`, used by ninja's misc/output_test.py
    bsdutils
    # libgit2 (USE_HTTP_PARSER=system: Debian's +ds tarball has no deps/)
    zlib1g-dev libhttp-parser-dev
    # libarchive: only zlib (already above); every other codec is disabled
    # headless browser: tests/report.rs opens -t report's page, checks its script
    # ran without an error and takes a screenshot
    chromium
)

log() { echo "install-deps: $*" >&2; }

# 1. deb-src entries for the configured Debian suites.
have_deb_src() {
    grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}
sources_changed=0
if ! have_deb_src; then
    deb822=/etc/apt/sources.list.d/debian.sources
    if [[ -f $deb822 ]] && grep -qE '^Types:[[:space:]]*deb[[:space:]]*$' "$deb822"; then
        log "enabling deb-src in $deb822"
        sed -i -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb deb-src/' "$deb822"
    elif [[ -f /etc/apt/sources.list ]] && grep -qE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list; then
        log "adding deb-src lines to /etc/apt/sources.list"
        grep -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list |
            sed -E 's/^([[:space:]]*)deb([[:space:]])/\1deb-src\2/' >>/etc/apt/sources.list
    else
        log "no deb lines found to mirror as deb-src; configure apt sources first"
        exit 1
    fi
    sources_changed=1
fi

# 2. Which packages are missing?
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
    awk '$NF == "installed" { print $1 }' || true)
missing=()
for p in "${PACKAGES[@]}"; do
    grep -Fqx "$p" <<<"$installed" || missing+=("$p")
done

# 3. apt-get update only when needed: new sources, no Sources index yet, or
#    packages to install.
have_sources_index() {
    apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -qx Sources
}
if [[ $sources_changed == 1 || ${#missing[@]} -gt 0 ]] || ! have_sources_index; then
    log "apt-get update"
    apt-get update -qq >/dev/null
fi

if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing: ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

have_sources_index || { log "no deb-src index after apt-get update"; exit 1; }
log "ok"
