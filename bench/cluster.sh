#!/usr/bin/env bash
# Scale-out load test on loopback: rtsp-bench against an origin rtsp-server directly, and through
# HAProxy in front of 1 and 2 edges relaying that origin (the cluster of examples/cluster/), at
# the same session counts. Records rtsp-bench's JSON line per point, the CPU of every process of
# the cluster over the run, and the start latency of single viewers (DESCRIBE round trip, PLAY to
# first packet, connect to first frame) measured by bench/first_frame_probe.py before the load.
# One machine runs everything: the figures show the overhead of the relay hop and of HAProxy,
# not the capacity of a cluster.
#
# Usage: bench/cluster.sh            (needs Debian's haproxy; builds the release binaries)
# Environment:
#   SESSIONS="100 500 1000"   session counts, each measured in every setup
#   DURATION=15        minimum run length per point (s); grows with the ramp
#   RAMP=500           sessions started per second
#   TRANSPORT=udp      udp, tcp, or both ("udp tcp")
#   SETUPS="direct 1 2"   "direct" (the origin alone) and/or edge counts behind HAProxy (1 or 2)
#   PROBES=10          single-viewer start probes per point, before the load (0: none)
#   BENCH_ARGS=""      extra rtsp-bench options
#   OUT=docs/benchmarks/cluster
# Output: $OUT/results.jsonl (one JSON line per point: rtsp-bench's fields, the setup, the CPU
#         of origin, edges and HAProxy in % of one core, the probes) and $OUT/results.md (table).
# Addresses: origin 127.0.0.10, edges 127.0.0.11 and 127.0.0.12, HAProxy 127.0.0.20 connecting
# to the edges from 127.0.0.21; RTSP on port $PORT (18600), metrics/healthz on $PORT+1000.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SESSIONS=${SESSIONS:-"100 500 1000"}
DURATION=${DURATION:-15}
RAMP=${RAMP:-500}
TRANSPORTS=${TRANSPORT:-udp}
SETUPS=${SETUPS:-"direct 1 2"}
PROBES=${PROBES:-10}
BENCH_ARGS=${BENCH_ARGS:-}
OUT=${OUT:-docs/benchmarks/cluster}
PY=/usr/bin/python3
PORT=${PORT:-18600}
MPORT=$((PORT + 1000))
ORIGIN=127.0.0.10
EDGE_ADDRS=(127.0.0.11 127.0.0.12)
LB=127.0.0.20
LB_SOURCE=127.0.0.21
LIMITS=(--max-sessions 100000 --max-connections 100000 --max-connections-per-address 100000)

log() { printf '[cluster] %s\n' "$*" >&2; }

command -v haproxy >/dev/null || {
    log "installing haproxy"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq haproxy >/dev/null
}

log "building release binaries"
cargo build --release -q -p server-bin -p rtsp-bench
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH="$TARGET/release/rtsp-bench"
SERVER="$TARGET/release/rtsp-server"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
WORK=$(mktemp -d -t rtsp-cluster-bench.XXXXXX)
mkdir -p "$WORK/edge-media"

# Every process this script started, as "role pid"; all are stopped after each point and on exit.
PROCS=()
stop_all() {
    local p
    for p in "${PROCS[@]}"; do kill -TERM "${p#* }" 2>/dev/null || true; done
    for p in "${PROCS[@]}"; do wait "${p#* }" 2>/dev/null || true; done
    PROCS=()
}
cleanup() { stop_all; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # addr:port -> waits for 200 on /healthz
    for _ in $(seq 50); do
        if "$PY" -c 'import sys,urllib.request; urllib.request.urlopen("http://%s/healthz" % sys.argv[1], timeout=1)' "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    log "no healthz on $1"; exit 1
}

wait_tcp() { # addr port
    for _ in $(seq 50); do
        if "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()' "$1" "$2" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    log "nothing listens on $1:$2"; return 1
}

start_cluster() { # setup (direct | 1 | 2) -> sets URL, PROCS
    "$SERVER" --bind "$ORIGIN" --port "$PORT" --media "$ROOT/media" --loop "${LIMITS[@]}" \
        --metrics "$ORIGIN:$MPORT" >"$WORK/origin.log" 2>&1 &
    PROCS+=("origin $!")
    wait_http "$ORIGIN:$MPORT"
    if [ "$1" = direct ]; then
        URL="rtsp://$ORIGIN:$PORT/movie.Mjpeg"
        return 0
    fi
    local i servers=""
    for ((i = 0; i < $1; i++)); do
        local a=${EDGE_ADDRS[$i]}
        "$SERVER" --bind "$a" --port "$PORT" --media "$WORK/edge-media" "${LIMITS[@]}" \
            --proxy-protocol --trusted-proxy "$LB_SOURCE/32" \
            --origin "rtsp://$ORIGIN:$PORT" --relay-linger 30 \
            --metrics "$a:$MPORT" >"$WORK/edge$((i + 1)).log" 2>&1 &
        PROCS+=("edge$((i + 1)) $!")
        servers+="  server edge$((i + 1)) $a:$PORT port $MPORT"$'\n'
    done
    for ((i = 0; i < $1; i++)); do wait_http "${EDGE_ADDRS[$i]}:$MPORT"; done
    # examples/cluster/haproxy.cfg with this run's edges, ports and connection limits.
    # HAProxy holds two descriptors per connection and refuses a maxconn it cannot open.
    local maxconn=$(( $(ulimit -n) / 2 - 100 ))
    cat >"$WORK/haproxy.cfg" <<CFG
global
  maxconn $maxconn

defaults
  mode tcp
  maxconn $maxconn
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout check 2s
  retries 2
  option redispatch

frontend rtsp
  bind $LB:$PORT
  default_backend edges

backend edges
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  default-server send-proxy-v2 source $LB_SOURCE check inter 1s fall 2 rise 2
$servers
CFG
    haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
    PROCS+=("haproxy $!")
    wait_tcp "$LB" "$PORT" || { cat "$WORK/haproxy.log" >&2; exit 1; }
    # Let the first health checks pass (rise 2, inter 1s) before viewers arrive.
    sleep 2.5
    URL="rtsp://$LB:$PORT/movie.Mjpeg"
}

cpu_ticks() { # pid -> utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat)
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    # After the command name, field 3 (state) is the first: utime is the 12th, stime the 13th.
    awk '{ print $12 + $13 }' <<<"$stat"
}

HZ=$(getconf CLK_TCK)
for TRANSPORT in $TRANSPORTS; do
for setup in $SETUPS; do
    for n in $SESSIONS; do
        dur=$(awk -v d="$DURATION" -v n="$n" -v r="$RAMP" 'BEGIN { x = n / r + 10; print (x > d ? x : d) }')
        start_cluster "$setup"
        probe='{"probes":[],"errors":["not run"]}'
        if [ "$PROBES" -gt 0 ]; then
            probe=$("$PY" "$ROOT/bench/first_frame_probe.py" "$URL" "$PROBES" 5) || true
        fi
        sleep 1
        # The process whose CPU and RSS rtsp-bench reports itself: the origin, or the first edge.
        main_pid=${PROCS[0]#* }
        [ "$setup" = direct ] || main_pid=${PROCS[1]#* }
        declare -A before=()
        for p in "${PROCS[@]}"; do before[${p%% *}]=$(cpu_ticks "${p#* }"); done
        t0=$(date +%s.%N)
        log "setup $setup: $n sessions for ${dur}s ($TRANSPORT) -> $URL"
        # shellcheck disable=SC2086 # BENCH_ARGS is a list of options
        line=$("$BENCH" "$URL" -n "$n" -d "$dur" --ramp "$RAMP" --transport "$TRANSPORT" \
            --server-pid "$main_pid" --json $BENCH_ARGS) || true
        t1=$(date +%s.%N)
        cpu=""
        for p in "${PROCS[@]}"; do
            after=$(cpu_ticks "${p#* }")
            pct=$(awk -v a="$after" -v b="${before[${p%% *}]}" -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
                'BEGIN { printf "%.1f", (a - b) / hz / (t1 - t0) * 100 }')
            cpu+="\"cpu_${p%% *}_pct\":$pct,"
        done
        unset before
        stop_all
        [ -n "$line" ] || { log "no result"; continue; }
        edges=0; [ "$setup" = direct ] || edges=$setup
        echo "{\"setup\":\"$setup\",\"edges\":$edges,\"transport\":\"$TRANSPORT\",$cpu\"probe\":$probe,${line#\{}" >> "$RESULTS"
        tail -n 1 "$RESULTS" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("[cluster]   delivery %.4f%%  p99 interval %.1f ms  PLAY->1st p50 %.1f ms  cpu %s  bench cpu %.0f%%  %s" % (r["delivery"]*100, r["interval_p99_ms"], r["first_packet_p50_ms"], " ".join("%s %s%%" % (k[4:-4], v) for k, v in r.items() if k.startswith("cpu_")), r["bench_cpu_pct"], "holds" if r["holds"] else "DOES NOT HOLD"))' >&2
    done
done
done

# --- table ----------------------------------------------------------------------------------
"$PY" - "$RESULTS" "$OUT" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = sys.argv[2]

def probe_summary(r):
    ps = r["probe"]["probes"]
    if not ps:
        return "-", "-", "-"
    # The first probe of each edge is cold (the edge pulls the path from the origin); the rest
    # find the relay running. Direct: the first probe opens the file.
    cold = max(r["edges"], 1)
    first = ps[:cold]
    warm = ps[cold:] or ps
    f = lambda k: "%.1f" % max(p[k] for p in first)
    m = lambda k: "%.2f" % statistics.median(p[k] for p in warm)
    return ("%s / %s" % (m("describe_ms"), f("describe_ms")),
            "%s / %s" % (m("play_first_packet_ms"), f("play_first_packet_ms")),
            "%s / %s" % (m("connect_first_frame_ms"), f("connect_first_frame_ms")))

hdr = ("| setup | transport | sessions | playing | delivered on time | interval p50 / p99 (ms) | PLAY→1st p50 / p99 (ms) "
       "| origin CPU | edge CPU | HAProxy CPU | bench CPU | 1 viewer: DESCRIBE (ms) | 1 viewer: PLAY→1st packet (ms) "
       "| 1 viewer: connect→1st frame (ms) | holds |")
lines = [hdr, "|" + "---|" * (hdr.count("|") - 1)]
for r in rows:
    edges = [v for k, v in sorted(r.items()) if k.startswith("cpu_edge")]
    d, p, f = probe_summary(r)
    lines.append("| %s | %s | %d | %d | %.3f%% | %.1f / %.1f | %.2f / %.2f | %.1f%% | %s | %s | %.0f%% | %s | %s | %s | %s |" % (
        "origin direct" if r["setup"] == "direct" else "HAProxy + %d edge%s" % (r["edges"], "s" if r["edges"] > 1 else ""),
        r["transport"], r["sessions"], r["playing"], r["delivery"] * 100,
        r["interval_p50_ms"], r["interval_p99_ms"], r["first_packet_p50_ms"], r["first_packet_p99_ms"],
        r["cpu_origin_pct"], " + ".join("%.1f%%" % e for e in edges) or "-",
        "%.1f%%" % r["cpu_haproxy_pct"] if "cpu_haproxy_pct" in r else "-",
        r["bench_cpu_pct"], d, p, f, "yes" if r["holds"] else "**no**"))
lines.append("")
lines.append("1 viewer columns: median of the probes that found the stream running / the first (cold) probe "
             "(per edge), %s probes per point before the load." % (max((len(r["probe"]["probes"]) for r in rows), default=0)))
open(out + "/results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PYEOF
