#!/usr/bin/env bash
# Usage: scripts/fetch-source.sh NAME [CACHE_DIR]
#
# Downloads and unpacks the Debian source package NAME (via `apt-get source`,
# which needs a deb-src entry: see scripts/install-deps.sh) into CACHE_DIR
# (default ${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}) and prints the path
# of the unpacked source tree on stdout. Does nothing but print the path when
# the tree is already unpacked. Nothing fetched here is ever committed.
set -euo pipefail

name=${1:?usage: fetch-source.sh NAME [CACHE_DIR]}
cache=${2:-${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# The marker records the unpacked directory once unpacking has fully succeeded.
marker="$cache/.$name.unpacked"
if [[ -f $marker ]]; then
    dir=$(cat "$marker")
    if [[ -d $dir ]]; then
        echo "$dir"
        exit 0
    fi
fi

# Serialize concurrent fetches of the same package (tests may run in parallel).
exec 9>"$cache/.$name.lock"
flock 9
if [[ -f $marker ]] && [[ -d $(cat "$marker") ]]; then
    cat "$marker"
    exit 0
fi

work="$cache/$name.src"
rm -rf "$work"
mkdir -p "$work"
(
    cd "$work"
    # Let apt's sandbox user write here (avoids a warning when run as root).
    if id _apt >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then chown _apt "$PWD"; fi
    # Try the candidate version first, then every other version deb-src lists
    # (newest first): a mirror or snapshot may lack the newest upload.
    versions=$(apt-cache showsrc "$name" 2>/dev/null |
        sed -n 's/^Version: //p' | sort -urV || true)
    ok=0
    for spec in "$name" $(for v in $versions; do echo "$name=$v"; done); do
        rm -f ./*.dsc ./*.tar.* ./*.diff.gz
        if apt-get source -qq --download-only "$spec" >&2; then ok=1; break; fi
        echo "fetch-source: $spec unavailable, trying an older version" >&2
    done
    [[ $ok == 1 ]] || { echo "fetch-source: cannot download source package $name" >&2; exit 1; }
    dsc=$(ls ./*.dsc | head -n1)
    dpkg-source --no-check -x "$dsc" >/dev/null
)
dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n1)
[[ -n $dir && -d $dir ]] || { echo "fetch-source: unpacking $name failed" >&2; exit 1; }
echo "$dir" >"$marker"
echo "$dir"
