#!/usr/bin/env bash
# Upload benchmark against a local S3 server (s3s-fs): N objects of SIZE
# random bytes, uploaded into a fresh bucket by
#   awscli    `aws s3 cp --recursive` (awscli 1.x from PyPI, its defaults)
#   ggninja   the ggninja-remote uploader as the engine runs it (objects
#             under 64 KiB PUT without a HEAD, 64 in flight, PUTs signed
#             with the content hash)
#   ggninja-head  the same uploader asking first: HEAD, then PUT if missing
#   raw       the simplest fast client: one SDK PutObject per file, 128 in
#             flight, SDK defaults, no HEAD
#   raw-lean  the same without payload hashing and CRC checksums
# side by side in one run, RUNS rounds in rotating order; prints every time,
# the medians and the ratios. Whole-process wall times for all four (the
# clients' own in-process times are printed too), plus `ggninja-rerun`: the
# asking uploader again on ggninja-head's filled bucket (a new run: 1000
# HEADs, no PUT), and
# the CPU seconds the client and the server (s3s-fs) spent per upload.
#
#   bench/upload.sh
#
# Knobs: N [1000], SIZE [51200], RUNS [5], CONCURRENCY [64],
# GGNINJA_CACHE [~/.cache/ggninja-tests] (tools under aws-tools/: s3s-fs,
# the awscli venv; installed when missing), CARGO_TARGET_DIR.
set -euo pipefail

N=${N:-1000} SIZE=${SIZE:-51200} RUNS=${RUNS:-5} CONCURRENCY=${CONCURRENCY:-64}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}/aws-tools
s3s=$tools/s3s-fs/bin/s3s-fs
venv=$tools/venv
log() { printf '==> %s\n' "$*" >&2; }

if [[ ! -x $s3s ]]; then
    log "installing s3s-fs 0.14.1 (about 5 min)"
    CARGO_TARGET_DIR=$tools/cargo-target cargo install s3s-fs@0.14.1 --features binary \
        --locked --root "$tools/s3s-fs"
fi
if [[ ! -x $venv/bin/aws ]]; then
    log "installing awscli into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet awscli
fi
log "building the benchmark client (release)"
# The workspace's own feature set, so the AWS SDK crates the tests built are reused.
(cd "$repo" && cargo build --quiet --release --workspace --features ggninja/remote --examples)
bin=${CARGO_TARGET_DIR:-$repo/target}/release/examples/upload_bench

work=$(mktemp -d)
pid=
cleanup() {
    if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

log "writing $N files of $SIZE random bytes"
mkdir -p "$work/files" "$work/data"
python3 - "$work/files" "$N" "$SIZE" <<'PY'
import os, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    with open(os.path.join(d, f"obj{i:05d}"), "wb") as f:
        f.write(os.urandom(size))
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$s3s" --host 127.0.0.1 --port "$port" --access-key test --secret-key testtesttest \
    "$work/data" >"$work/s3s.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break
    sleep 0.05
done

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=testtesttest AWS_REGION=us-east-1 \
    AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
    AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
aws() { "$venv/bin/aws" --endpoint-url "http://127.0.0.1:$port" "$@"; }
now() { date +%s.%N; }

# CPU seconds (user + system) the server has used so far.
server_cpu() {
    python3 -c "import os; f=open('/proc/$pid/stat').read().rsplit(')',1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK'))"
}

# run TOOL BUCKET: uploads into BUCKET (made unless it exists); prints
# "TOOL WALL INNER CLIENT_CPU SERVER_CPU DETAILS"
run() {
    local tool=$1 bucket=$2 t0 t1 out inner s0 s1
    [[ -d $work/data/$bucket ]] || aws s3 mb "s3://$bucket" >/dev/null
    s0=$(server_cpu)
    t0=$(now)
    case $tool in
    awscli) /usr/bin/time -f '%U %S' -o "$work/cpu" \
        "$venv/bin/aws" --endpoint-url "http://127.0.0.1:$port" \
        s3 cp --recursive --quiet "$work/files" "s3://$bucket/"; out= ;;
    ggninja-rerun) out=$(/usr/bin/time -f '%U %S' -o "$work/cpu" \
        "$bin" ggninja-head "$work/files" "$bucket" "$CONCURRENCY") ;;
    ggninja*) out=$(/usr/bin/time -f '%U %S' -o "$work/cpu" \
        "$bin" "$tool" "$work/files" "$bucket" "$CONCURRENCY") ;;
    raw*) out=$(/usr/bin/time -f '%U %S' -o "$work/cpu" "$bin" "$tool" "$work/files" "$bucket" 128) ;;
    esac
    t1=$(now)
    s1=$(server_cpu)
    local count
    count=$(find "$work/data/$bucket" -type f | wc -l)
    [[ $count -ge $N ]] || { echo "error: $tool left $count of $N objects" >&2; exit 1; }
    inner=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$out")
    read -r cu cs <"$work/cpu"
    echo "$tool $(python3 -c "print(f'{$t1-$t0:.3f} ${inner:--} {$cu+$cs:.2f} {$s1-$s0:.2f}')") ${out#* objects=$N }"
}

tools_list=(awscli ggninja ggninja-head raw raw-lean)
# Untimed warm-up: a fresh s3s-fs spends several times the CPU on its first
# thousand PUTs.
run raw-lean warmup >/dev/null
: >"$work/times"
for r in $(seq "$RUNS"); do
    for k in "${!tools_list[@]}"; do
        tool=${tools_list[$(( (k + r) % ${#tools_list[@]} ))]}
        line=$(run "$tool" "b$r-$tool")
        echo "run $r: $line" >&2
        echo "$line" >>"$work/times"
        if [[ $tool == ggninja-head ]]; then
            line=$(run ggninja-rerun "b$r-$tool")
            echo "run $r: $line" >&2
            echo "$line" >>"$work/times"
        fi
    done
done

python3 - "$work/times" "$N" "$SIZE" "$RUNS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n, size, runs = sys.argv[2:5]
wall, inner, ccpu, scpu = {}, {}, {}, {}
for r in rows:
    wall.setdefault(r[0], []).append(float(r[1]))
    if r[2] != "-":
        inner.setdefault(r[0], []).append(float(r[2]))
    ccpu.setdefault(r[0], []).append(float(r[3]))
    scpu.setdefault(r[0], []).append(float(r[4]))
med = {k: statistics.median(v) for k, v in wall.items()}
print(f"\n{n} objects x {size} bytes, {runs} runs, medians (whole process, seconds):\n")
print("| client | wall (median) | min-max | in-process (median) | client CPU | server CPU |")
print("|---|---:|---:|---:|---:|---:|")
for k in ["awscli", "ggninja", "ggninja-head", "raw", "raw-lean", "ggninja-rerun"]:
    v = wall[k]
    i = f"{statistics.median(inner[k]):.3f} s" if k in inner else "-"
    print(f"| {k} | {med[k]:.3f} s | {min(v):.3f}-{max(v):.3f} | {i} "
          f"| {statistics.median(ccpu[k]):.2f} s | {statistics.median(scpu[k]):.2f} s |")
print()
print(f"awscli / ggninja: {med['awscli']/med['ggninja']:.1f}x faster")
best = min(med['raw'], med['raw-lean'])
print(f"ggninja / fastest raw client: {med['ggninja']/best:.2f}")
if "ggninja" in inner:
    ib = min(statistics.median(inner['raw']), statistics.median(inner['raw-lean']))
    print(f"in-process ggninja / fastest raw: {statistics.median(inner['ggninja'])/ib:.2f}")
PY
