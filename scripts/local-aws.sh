#!/usr/bin/env bash
# A local S3 + Lambda stack on 127.0.0.1 for ggninja's remote-executor tests
# (see docs/lambda.md and the shared aws-local.md notes for what was tried):
#   S3:     s3s-fs 0.14.1 (crates.io), checks SigV4 with dummy credentials
#   Lambda: cargo-lambda 1.9.2 (PyPI) as the Invoke + Runtime API emulator,
#           N instances of a prebuilt function binary, each confined with
#           bubblewrap to what it would see on real AWS Lambda.
#
#   local-aws.sh install
#       Installs the tools once into ${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}/aws-tools.
#       Idempotent; touches no network when everything is present.
#   local-aws.sh up DIR [--instances N] [--function BINARY | --image IMAGE_DIR]
#                       [--name NAME] [--bucket BUCKET]
#       Starts the stack with its state in DIR, records every PID in DIR/pids and
#       writes DIR/env (source it to point a client at the stack).
#       --image: an OCI image layout from `ggninja -t lambda-deploy`; its layer
#       is unpacked into DIR/image-root and each instance sees only that (read
#       only), a private /tmp, /proc and /dev, and runs its entrypoint.
#   local-aws.sh down DIR
#       Stops what `up` started, by the recorded PIDs (TERM, then KILL after a
#       grace period); removes DIR/pids and nothing else.
#   local-aws.sh s3-stop DIR
#   local-aws.sh s3-start DIR
#       Stop the S3 server of a running stack (by its recorded PID), or start
#       it again on the same port and data dir; for tests of an S3 outage.
#       `down` still stops everything, the restarted server included.
set -euo pipefail

ACCESS_KEY="test"
SECRET_KEY=testtesttest
REGION=us-east-1
S3S_VERSION=0.14.1          # 0.15+ needs a newer rustc than 1.95
CARGO_LAMBDA_VERSION=1.9.2
AWSCLI_SPEC='awscli>=1.46,<1.47'   # the upload benchmark's anchor was measured with 1.46
MEMORY_MB=4096
GRACE_SECS=${LOCAL_AWS_GRACE_SECS:-5}
READY_SECS=${LOCAL_AWS_READY_SECS:-30}

TOOLS=${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}/aws-tools
S3S_BIN=$TOOLS/s3s-fs/bin/s3s-fs
VENV=$TOOLS/venv
CARGO_LAMBDA=$VENV/bin/cargo-lambda
AWS=$VENV/bin/aws

die() { echo "local-aws.sh: $*" >&2; exit 1; }
log() { echo "local-aws.sh: $*" >&2; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
    exit 2
}

# ---------------------------------------------------------------- install

cmd_install() {
    mkdir -p "$TOOLS"
    # Run cargo and pip from the cache: no .cargo/config of a surrounding
    # project (nor its target/) is involved.
    cd "$TOOLS"

    if [[ -x $S3S_BIN ]]; then
        log "s3s-fs present: $S3S_BIN"
    else
        log "building s3s-fs $S3S_VERSION (about 5 min cold on 2 cores)"
        CARGO_TARGET_DIR=$TOOLS/cargo-target \
            cargo install "s3s-fs@$S3S_VERSION" --features binary --locked \
            --root "$TOOLS/s3s-fs"
        rm -rf "$TOOLS/cargo-target"   # build cache, ~1 GB; only kept after a failure
    fi

    if [[ ! -x $VENV/bin/python ]]; then
        python3 -m venv "$VENV"
    fi
    local pip=("$VENV/bin/pip" install --disable-pip-version-check -q)
    if [[ -x $CARGO_LAMBDA ]] && "$CARGO_LAMBDA" lambda --version 2>/dev/null | grep -q " $CARGO_LAMBDA_VERSION "; then
        log "cargo-lambda present: $CARGO_LAMBDA"
    else
        log "installing cargo-lambda $CARGO_LAMBDA_VERSION"
        "${pip[@]}" "cargo-lambda==$CARGO_LAMBDA_VERSION"
    fi
    if [[ -x $AWS ]]; then
        log "awscli present: $AWS"
    else
        log "installing $AWSCLI_SPEC"
        "${pip[@]}" "$AWSCLI_SPEC"
    fi
}

# ---------------------------------------------------------------- helpers

# proc_stat PID: sets PROC_STATE and PROC_START from /proc/PID/stat (fields 3
# and 22; the start time in clock ticks makes PID + START name one process, so
# a recycled PID is never signalled). No forks: this runs in polling loops.
proc_stat() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }                # drop "pid (comm) ": comm may hold spaces
    # shellcheck disable=SC2086
    set -- $stat                     # now $1 is field 3
    PROC_STATE=$1 PROC_START=${20}
}

# alive PID START: the recorded process still runs (a zombie counts as gone).
alive() {
    proc_stat "$1" && [[ $PROC_START == "$2" && $PROC_STATE != [ZX] ]]
}

# all_alive: every process recorded in DIR/pids still runs.
all_alive() {
    local role pid st
    while read -r role pid st; do
        alive "$pid" "$st" || { DEAD="$role (pid $pid)"; return 1; }
    done <"$DIR/pids"
}

# record ROLE PID: append to DIR/pids.
record() {
    proc_stat "$2" || fail_up "$1 (pid $2) exited at once"
    echo "$1 $2 $PROC_START" >>"$DIR/pids"
}

free_port() {
    "$VENV/bin/python" - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# http_up URL: something answers HTTP there (any status).
http_up() {
    local code
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null) || true
    [[ -n $code && $code != 000 ]]
}

# wait_for SECONDS CMD...: poll CMD every 0.05 s until it succeeds; fails
# after SECONDS, or at once when a process started so far has exited.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        all_alive || fail_up "$DEAD exited"
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

# Connections the function instances hold open on the runtime API (each
# instance long-polls /next), counted from the client side.
runtime_clients() {
    ss -Htn state established "( dport = :$1 )" 2>/dev/null | wc -l
}

clients_at_least() {
    (($(runtime_clients "$1") >= $2))
}

first_child() {
    local c
    c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || return 1
    c=${c%% *}
    [[ -n $c ]] && echo "$c"
}

has_child() {
    first_child "$1" >/dev/null
}

fail_up() {
    log "$*"
    local f
    for f in "$DIR"/logs/*.log; do
        [[ -s $f ]] || continue
        echo "---- $f (tail)" >&2
        tail -n 15 "$f" >&2
    done
    log "stopping what was started"
    rm -f "$DIR/env"    # it would describe a stack that is not there
    cmd_down "$DIR" || true
    exit 1
}

# ---------------------------------------------------------------- up

cmd_up() {
    [[ $# -ge 1 ]] || usage
    DIR=$1
    shift
    local instances="" function="" name="" bucket=ggninja image=""
    while [[ $# -gt 0 ]]; do
        case $1 in
            --instances) instances=${2:?}; shift 2 ;;
            --function) function=${2:?}; shift 2 ;;
            --image) image=${2:?}; shift 2 ;;
            --name) name=${2:?}; shift 2 ;;
            --bucket) bucket=${2:?}; shift 2 ;;
            *) usage ;;
        esac
    done
    [[ -x $S3S_BIN && -x $CARGO_LAMBDA && -x $AWS ]] ||
        die "tools missing under $TOOLS; run: $0 install"
    command -v cargo >/dev/null || die "cargo not on PATH (the emulator runs cargo metadata)"
    command -v curl >/dev/null || die "curl not found"
    [[ -z $image || -z $function ]] || die "--function and --image exclude each other"
    [[ -z $image ]] || [[ -f $image/index.json ]] || die "--image $image: no index.json (an OCI image layout)"
    if [[ -n $function || -n $image ]]; then
        if [[ -n $function ]]; then
            [[ -f $function && -x $function ]] || die "--function $function: not an executable file"
            function=$(realpath "$function")
        fi
        command -v bwrap >/dev/null || die "bwrap not found (apt-get install bubblewrap)"
        [[ -n $name ]] || name=$(basename "${function:-ggninja-lambda}")
        [[ -n $instances ]] || instances=1
    else
        [[ -z $instances || $instances == 0 ]] ||
            die "--instances needs --function or --image"
        instances=0
        [[ -n $name ]] || name=ggninja-step
    fi
    [[ $instances =~ ^[0-9]+$ ]] || die "--instances $instances: not a number"
    [[ $name =~ ^[A-Za-z0-9_-]+$ ]] || die "--name $name: use letters, digits, - and _"
    [[ $bucket =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "--bucket $bucket: not a valid bucket name"
    [[ -z $image ]] || image=$(realpath "$image")

    mkdir -p "$DIR"
    DIR=$(realpath "$DIR")
    if [[ -f $DIR/pids ]]; then
        local role pid st
        while read -r role pid st; do
            if alive "$pid" "$st"; then
                die "$DIR already has a running stack ($role, pid $pid); run: $0 down $DIR"
            fi
        done <"$DIR/pids"
        rm -f "$DIR/pids"
    fi
    mkdir -p "$DIR/s3" "$DIR/logs" "$DIR/lambda-project"
    : >"$DIR/pids"
    ROOT=""
    if [[ -n $image ]]; then
        unpack_image "$image" "$DIR/image-root"
        ROOT=$DIR/image-root
    fi

    local s3_port lambda_port
    s3_port=$(free_port)
    lambda_port=$(free_port)
    while [[ $lambda_port == "$s3_port" ]]; do lambda_port=$(free_port); done
    local s3_url=http://127.0.0.1:$s3_port lambda_url=http://127.0.0.1:$lambda_port

    # Every background process gets its own session (setsid, no fork: the
    # subshell is no group leader, so $! is the server's own PID), stdin from
    # /dev/null and a log file; nothing ties it to this shell or its terminal.

    # -- S3
    setsid "$S3S_BIN" --host 127.0.0.1 --port "$s3_port" \
        --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" "$DIR/s3" \
        </dev/null >"$DIR/logs/s3.log" 2>&1 &
    record s3 $!

    # -- Lambda emulator. It reads `cargo metadata` of the project it runs in
    # and serves only functions named as [[bin]] there, so a scratch project
    # in DIR names NAME; the repo is not needed. The bin is never built.
    cat >"$DIR/lambda-project/Cargo.toml" <<EOF
# Scratch project for \`cargo lambda watch --only-lambda-apis\` (written by
# scripts/local-aws.sh): the emulator serves the functions named as [[bin]].
[package]
name = "local-aws-functions"
version = "0.0.0"
edition = "2021"
publish = false

[[bin]]
name = "$name"
path = "main.rs"

[workspace]
EOF
    echo 'fn main() {}' >"$DIR/lambda-project/main.rs"
    (
        cd "$DIR/lambda-project"
        # -A 127.0.0.1 always: the default listens on all interfaces.
        exec setsid "$CARGO_LAMBDA" lambda watch --only-lambda-apis --ignore-changes \
            -A 127.0.0.1 -P "$lambda_port" \
            </dev/null >"$DIR/logs/lambda-emulator.log" 2>&1
    ) &
    record lambda-emulator $!

    wait_for "$READY_SECS" http_up "$s3_url/" ||
        fail_up "s3s-fs did not answer on $s3_url within ${READY_SECS}s"
    # GET / on the emulator waits for a default function; a GET on the Invoke
    # path answers 405 at once and queues nothing.
    wait_for "$READY_SECS" http_up "$lambda_url/2015-03-31/functions/$name/invocations" ||
        fail_up "the Lambda emulator did not answer on $lambda_url within ${READY_SECS}s"

    # -- the aws CLI config: path-style S3 addressing; isolates clients from
    # the user's ~/.aws (profiles, credentials).
    cat >"$DIR/aws-config" <<EOF
[default]
region = $REGION
s3 =
    addressing_style = path
EOF
    cat >"$DIR/env" <<EOF
# Written by scripts/local-aws.sh up; source it to use the local stack.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=$REGION
export AWS_DEFAULT_REGION=$REGION
export AWS_ENDPOINT_URL_S3=$s3_url
export AWS_ENDPOINT_URL_LAMBDA=$lambda_url
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=$DIR/aws-config
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export GGNINJA_BUCKET=$bucket
export GGNINJA_LAMBDA_FUNCTION=$name
# The emulator hangs for good once too many invocations wait for one
# function (documented: past 100; seen here with 90 waiting on 64 busy
# instances): invocations in flight stay well under that.
export GGNINJA_REMOTE_CONCURRENCY=$((${instances:-0} + 30))
export LOCAL_AWS_CLI=$AWS
EOF

    # -- the bucket
    (
        # shellcheck source=/dev/null
        source "$DIR/env"
        "$AWS" s3api create-bucket --bucket "$bucket" >/dev/null 2>>"$DIR/logs/s3.log" ||
            "$AWS" s3api head-bucket --bucket "$bucket" 2>>"$DIR/logs/s3.log"
    ) || fail_up "could not create bucket $bucket"

    # -- the function instances
    local i
    for ((i = 0; i < instances; i++)); do
        start_instance "$i" "$function" "$name" "$bucket" "$s3_url" "$lambda_port"
    done
    if ((instances > 0)); then
        if command -v ss >/dev/null; then
            wait_for "$READY_SECS" clients_at_least "$lambda_port" "$instances" ||
                fail_up "only $(runtime_clients "$lambda_port") of $instances instances reached the runtime API"
        else
            sleep 0.5   # no ss: at least see that they are still running
        fi
        local role pid st
        while read -r role pid st; do
            alive "$pid" "$st" || fail_up "$role (pid $pid) exited; see $DIR/logs/"
        done <"$DIR/pids"
    fi

    log "up: S3 $s3_url (bucket $bucket), Lambda $lambda_url (function $name, $instances instances)"
    echo "$DIR/env"
}

# unpack_image IMAGE_DIR ROOT: the image's layers (index.json -> manifest ->
# layers, each checked against its sha256) unpacked in order into a fresh
# ROOT; the mount points the sandbox needs are made there. The entrypoint
# must be the function (config Entrypoint[0]).
unpack_image() {
    local image=$1 root=$2 layers entry
    layers=$("$VENV/bin/python" - "$image" <<'EOF'
import hashlib, json, sys
d = sys.argv[1]
def blob(digest):
    algo, hexd = digest.split(":")
    data = open(f"{d}/blobs/{algo}/{hexd}", "rb").read()
    if hashlib.sha256(data).hexdigest() != hexd:
        sys.exit(f"blob {digest} does not match its digest")
    return data
index = json.load(open(f"{d}/index.json"))
manifest = json.loads(blob(index["manifests"][0]["digest"]))
config = json.loads(blob(manifest["config"]["digest"]))
print(config["config"]["Entrypoint"][0])
for layer in manifest["layers"]:
    blob(layer["digest"])
    print(f"{d}/blobs/sha256/" + layer["digest"].split(":")[1])
EOF
) || die "--image $image: not a valid OCI image layout"
    rm -rf "$root"
    mkdir -p "$root"
    {
        read -r entry
        local layer
        while read -r layer; do
            tar -xzf "$layer" -C "$root" --no-same-owner ||
                die "--image $image: could not unpack $layer"
        done
    } <<<"$layers"
    [[ $entry == /var/runtime/bootstrap && -x $root$entry ]] ||
        die "--image $image: entrypoint $entry is not /var/runtime/bootstrap or not executable"
    mkdir -p "$root/tmp" "$root/proc" "$root/dev" "$root/var/task"
}

# start_instance I BINARY NAME BUCKET S3_URL LAMBDA_PORT
#
# The instance sees what a function sees on real AWS Lambda (custom runtime,
# provided.al2023): the image read-only (here the host's /usr, /etc and the
# /bin, /lib* links into /usr), its code at /var/task/bootstrap read-only, a
# private writable /tmp, /proc and /dev; its own user (uid 993 like
# sbx_user1051), pid, ipc and uts namespaces; the host network (it must
# reach 127.0.0.1). It never sees the repo, any build tree or $HOME: the
# sandbox's / is an empty tmpfs with only the mounts below. With --image
# (ROOT set), / is the unpacked image read-only instead, and the function is
# its entrypoint /var/runtime/bootstrap: nothing of the host at all.
start_instance() {
    local i=$1 bin=$2 name=$3 bucket=$4 s3_url=$5 lambda_port=$6
    local tmp=$DIR/tmp-$i
    mkdir -p "$tmp"
    local args=(bwrap
        --unshare-all --share-net
        --uid 993 --gid 990 --hostname "lambda-$i")
    local entry=/var/task/bootstrap
    if [[ -n $ROOT ]]; then
        args+=(--ro-bind "$ROOT" /)
        entry=/var/runtime/bootstrap
    else
        args+=(--ro-bind /usr /usr --ro-bind /etc /etc)
        local d
        for d in /bin /sbin /lib /lib32 /lib64 /libx32; do
            if [[ -L $d ]]; then
                args+=(--symlink "$(readlink "$d")" "$d")
            elif [[ -d $d ]]; then
                args+=(--ro-bind "$d" "$d")
            fi
        done
        args+=(--ro-bind "$bin" /var/task/bootstrap)
    fi
    args+=(--proc /proc --dev /dev
        --bind "$tmp" /tmp
        --chdir /var/task
        --new-session
        --info-fd 3
        --clearenv)
    local env=(
        PATH=/usr/local/bin:/usr/bin:/bin
        LANG=C.UTF-8
        TZ=:UTC
        LAMBDA_TASK_ROOT=/var/task
        _HANDLER=bootstrap
        "AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:$lambda_port/.rt/$name"
        "AWS_LAMBDA_FUNCTION_NAME=$name"
        AWS_LAMBDA_FUNCTION_VERSION=1
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=$MEMORY_MB"
        "AWS_ACCESS_KEY_ID=$ACCESS_KEY"
        "AWS_SECRET_ACCESS_KEY=$SECRET_KEY"
        "AWS_REGION=$REGION"
        "AWS_DEFAULT_REGION=$REGION"
        "AWS_ENDPOINT_URL_S3=$s3_url"
        AWS_EC2_METADATA_DISABLED=true
        "GGNINJA_BUCKET=$bucket"
    )
    local v
    for v in RUST_LOG RUST_BACKTRACE; do
        [[ -z ${!v:-} ]] || env+=("$v=${!v}")
    done
    for v in "${env[@]}"; do
        args+=(--setenv "${v%%=*}" "${v#*=}")
    done

    local info=$DIR/logs/fn-$i.info
    rm -f "$info"
    setsid "${args[@]}" "$entry" \
        </dev/null >"$DIR/logs/fn-$i.log" 2>&1 3>"$info" &
    local outer=$!
    record "fn-$i-bwrap" "$outer"
    # The sandbox has its own pid namespace: its init (bwrap, "child-pid" in
    # the info file) ignores SIGTERM from outside and does not die with the
    # outer bwrap, so the function itself (init's child) is recorded too. When
    # the function exits, init exits and the kernel ends the namespace.
    local init="" fn=""
    wait_for "$READY_SECS" grep -q '"child-pid"' "$info" ||
        fail_up "instance $i: bwrap wrote no child-pid"
    init=$(sed -n 's/.*"child-pid": *\([0-9]*\).*/\1/p' "$info")
    [[ -n $init ]] || fail_up "instance $i: no child-pid in $info"
    record "fn-$i-init" "$init"
    wait_for "$READY_SECS" has_child "$init" ||
        fail_up "instance $i: the function did not start"
    fn=$(first_child "$init")
    record "fn-$i" "$fn"
}

# ---------------------------------------------------------------- down

cmd_down() {
    [[ $# -eq 1 ]] || usage
    local dir=$1
    local pids=$dir/pids
    if [[ ! -f $pids ]]; then
        log "nothing recorded in $pids"
        return 0
    fi
    local role pid st
    local -a live_pid=() live_st=() live_role=()
    # Functions first (their sandboxes end with them), then the servers.
    while read -r role pid st; do
        [[ -n $pid ]] || continue
        if alive "$pid" "$st"; then
            live_role+=("$role") live_pid+=("$pid") live_st+=("$st")
        fi
    done < <(grep '^fn-' "$pids" || true; grep -v '^fn-' "$pids" || true)
    local n
    for n in "${!live_pid[@]}"; do
        kill -TERM "${live_pid[n]}" 2>/dev/null || true
    done
    local deadline=$((SECONDS + GRACE_SECS)) left
    while :; do
        left=0
        for n in "${!live_pid[@]}"; do
            alive "${live_pid[n]}" "${live_st[n]}" && left=$((left + 1))
        done
        ((left > 0 && SECONDS < deadline)) || break
        sleep 0.05
    done
    for n in "${!live_pid[@]}"; do
        if alive "${live_pid[n]}" "${live_st[n]}"; then
            log "${live_role[n]} (pid ${live_pid[n]}) ignored TERM for ${GRACE_SECS}s; KILL"
            kill -KILL "${live_pid[n]}" 2>/dev/null || true
        fi
    done
    # KILLed processes are gone once the kernel reaps them; wait briefly.
    deadline=$((SECONDS + 5))
    for n in "${!live_pid[@]}"; do
        while alive "${live_pid[n]}" "${live_st[n]}" && ((SECONDS < deadline)); do
            sleep 0.05
        done
        if alive "${live_pid[n]}" "${live_st[n]}"; then
            log "${live_role[n]} (pid ${live_pid[n]}) still running"
        fi
    done
    rm -f "$pids"
    log "down: stopped ${#live_pid[@]} processes"
}

# ---------------------------------------------------------------- s3-stop, s3-start

# The S3 server alone, for outage tests: the rest of the stack keeps running,
# and clients keep their endpoint because the server comes back on the port
# DIR/env names, with the same data dir.

# s3_pid_line DIR: prints the "s3 PID START" line of DIR/pids, if any.
s3_pid_line() {
    grep '^s3 ' "$1/pids" 2>/dev/null || true
}

cmd_s3_stop() {
    [[ $# -eq 1 ]] || usage
    DIR=$(realpath "$1")
    [[ -f $DIR/pids ]] || die "no stack recorded in $DIR/pids"
    local role pid st
    read -r role pid st <<<"$(s3_pid_line "$DIR")"
    [[ -n ${pid:-} ]] || die "no S3 server recorded in $DIR/pids"
    if alive "$pid" "$st"; then
        kill -TERM "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + GRACE_SECS))
        while alive "$pid" "$st" && ((SECONDS < deadline)); do sleep 0.02; done
        if alive "$pid" "$st"; then
            log "s3 (pid $pid) ignored TERM for ${GRACE_SECS}s; KILL"
            kill -KILL "$pid" 2>/dev/null || true
            while alive "$pid" "$st"; do sleep 0.02; done
        fi
    fi
    # Dropped from the record so `s3-start` (and `up`'s liveness checks)
    # never mistake a recycled PID for it.
    local rest
    rest=$(grep -v '^s3 ' "$DIR/pids" || true)
    printf '%s\n' "$rest" | sed '/^$/d' >"$DIR/pids"
    log "s3-stop: stopped s3 (pid $pid)"
}

cmd_s3_start() {
    [[ $# -eq 1 ]] || usage
    DIR=$(realpath "$1")
    [[ -f $DIR/pids && -f $DIR/env ]] || die "no stack in $DIR (run: $0 up $DIR)"
    local role pid st
    read -r role pid st <<<"$(s3_pid_line "$DIR")"
    if [[ -n ${pid:-} ]] && alive "$pid" "$st"; then
        die "the S3 server of $DIR still runs (pid $pid)"
    fi
    local s3_url
    s3_url=$(sed -n 's/^export AWS_ENDPOINT_URL_S3=//p' "$DIR/env")
    local port=${s3_url##*:}
    [[ $port =~ ^[0-9]+$ ]] || die "no S3 port in $DIR/env"
    # The same command line as `up`; the log goes on after the first run's.
    setsid "$S3S_BIN" --host 127.0.0.1 --port "$port" \
        --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" "$DIR/s3" \
        </dev/null >>"$DIR/logs/s3.log" 2>&1 &
    local new=$!
    proc_stat "$new" || die "s3s-fs (pid $new) exited at once; see $DIR/logs/s3.log"
    local start=$PROC_START
    echo "s3 $new $start" >>"$DIR/pids"
    # The port may linger in TIME_WAIT for a moment: wait for an answer, and
    # fail (stopping it) when the server exits instead.
    local deadline=$((SECONDS + READY_SECS))
    until http_up "$s3_url/"; do
        if ! alive "$new" "$start" || ((SECONDS >= deadline)); then
            tail -n 15 "$DIR/logs/s3.log" >&2
            cmd_s3_stop "$DIR" || true
            die "s3s-fs did not come back on $s3_url"
        fi
        sleep 0.02
    done
    log "s3-start: S3 $s3_url (pid $new)"
}

# ---------------------------------------------------------------- main

[[ $# -ge 1 ]] || usage
case $1 in
    install) shift; [[ $# -eq 0 ]] || usage; cmd_install ;;
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down "$@" ;;
    s3-stop) shift; cmd_s3_stop "$@" ;;
    s3-start) shift; cmd_s3_start "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
esac
