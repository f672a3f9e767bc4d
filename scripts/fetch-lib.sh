# Sourced by the fetch-*.sh scripts: fetching a pinned package once into
# the test cache, safely when several tests ask at the same time.
#
#   cache_dir [CACHE_DIR]      -> sets $cache (made, absolute): CACHE_DIR,
#                                 else ${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}
#   fetch_once NAME DONE MAKE  -> prints $cache/NAME once DONE (a command run
#                                 with the directory as its argument) holds;
#                                 else, under a lock, runs MAKE in an empty
#                                 work directory, where it leaves `out/`,
#                                 which becomes $cache/NAME.
#   check_sha256 SHA FILE      -> fails unless FILE has that sha256
# Nothing fetched is ever committed.

cache_dir() {
    cache=${1:-${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}}
    mkdir -p "$cache"
    cache=$(cd "$cache" && pwd)
}

fetch_once() {
    local name=$1 done=$2 make=$3
    local dest=$cache/$name
    if "$done" "$dest"; then
        echo "$dest"
        return 0
    fi
    exec 9>"$cache/.$name.lock"
    flock 9
    if ! "$done" "$dest"; then
        local work
        work=$(mktemp -d "$cache/.$name.XXXXXX")
        # shellcheck disable=SC2064 # the path is fixed now
        trap "rm -rf '$work'" EXIT
        (cd "$work" && "$make") >&2
        rm -rf "$dest"
        mv "$work/out" "$dest"
    fi
    echo "$dest"
}

check_sha256() {
    echo "$1  $2" | sha256sum -c --quiet - >&2
}
