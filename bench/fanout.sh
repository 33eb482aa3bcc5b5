#!/usr/bin/env bash
# Live fan-out: one publisher at 20 fps, N readers of its path, rtsp-server (--publish, the
# publisher uses RTSP ANNOUNCE/RECORD over UDP) against GStreamer's rtsp-server in shared-media
# mode (udpsrc ! rtpjpegdepay ! rtpjpegpay, fed the same RTP), measured by rtsp-bench --publish:
# frames on time by frame tag, publish-to-reader latency, server CPU and RSS.
#
# Usage: bench/fanout.sh            (from a clean checkout; installs what it needs)
# Environment:
#   SESSIONS="10 100 500 1000 2000"   reader counts, ascending; a server stops at the first it
#                      does not hold (>= 99.9 % of frames on time, p99 interval <= 2x nominal)
#   DURATION=10        minimum run length per point (s); grows with the ramp
#   RAMP=500           readers started per second
#   TRANSPORT="udp tcp"
#   SERVERS="rtsp-server gstreamer"
#   BENCH_ARGS=""      extra rtsp-bench options
#   OUT=docs/benchmarks/fanout
# Every point runs a fresh server and stops by itself; the default sweep takes about 6 minutes.
# Output: $OUT/results.jsonl (one JSON line per point) and $OUT/results.md (the table).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SESSIONS=${SESSIONS:-"10 100 500 1000 2000"}
DURATION=${DURATION:-10}
RAMP=${RAMP:-500}
TRANSPORTS=${TRANSPORT:-"udp tcp"}
SERVERS=${SERVERS:-"rtsp-server gstreamer"}
BENCH_ARGS=${BENCH_ARGS:-}
OUT=${OUT:-docs/benchmarks/fanout}
PY=/usr/bin/python3
PORT_OURS=18574
PORT_GST=18575
RTP_GST=18576
MEDIA="$ROOT/media/movie.Mjpeg"

log() { printf '[fanout] %s\n' "$*" >&2; }

# --- dependencies -------------------------------------------------------------------------
if ! "$PY" -c "import gi; gi.require_version('GstRtspServer','1.0'); gi.require_version('Gst','1.0'); from gi.repository import GstRtspServer" 2>/dev/null; then
    need_apt=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
    log "installing ${need_apt[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
fi

log "building release binaries"
cargo build --release -q -p server-bin -p rtsp-bench
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH="$TARGET/release/rtsp-bench"
SERVER="$TARGET/release/rtsp-server"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"

SRV_PID=""
stop_server() {
    if [ -n "$SRV_PID" ]; then
        kill "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
        SRV_PID=""
    fi
}
trap stop_server EXIT

# Starts a server; sets SRV_PID, URL and PUBLISH (rtsp-bench's publisher options).
start_server() {
    case "$1" in
    rtsp-server)
        "$SERVER" --bind 127.0.0.1 --port "$PORT_OURS" --media "$ROOT/media" --publish \
            --max-sessions 100000 --max-connections 100000 --max-connections-per-address 100000 >/dev/null 2>&1 &
        SRV_PID=$!
        URL="rtsp://127.0.0.1:$PORT_OURS/live/bench"
        PUBLISH=(--publish "$MEDIA")
        ;;
    gstreamer)
        "$PY" "$ROOT/bench/gst_rtsp_server.py" --port "$PORT_GST" --rtp-port "$RTP_GST" >/dev/null 2>&1 &
        SRV_PID=$!
        URL="rtsp://127.0.0.1:$PORT_GST/live/bench"
        PUBLISH=(--publish "$MEDIA" --publish-rtp "127.0.0.1:$RTP_GST")
        ;;
    *) log "unknown server $1"; exit 2 ;;
    esac
    # Up when a short fan-out run reads its own frames back.
    for _ in $(seq 30); do
        if "$BENCH" "$URL" -n 1 -d 2 --json "${PUBLISH[@]}" 2>/dev/null | grep -q '"delivered_frames":[1-9]'; then
            return 0
        fi
        sleep 0.3
    done
    log "$1 did not come up"; exit 1
}

declare -A LARGEST_HELD
for TRANSPORT in $TRANSPORTS; do
for server in $SERVERS; do
    key="$server/$TRANSPORT"
    LARGEST_HELD[$key]=0
    for n in $SESSIONS; do
        dur=$(awk -v d="$DURATION" -v n="$n" -v r="$RAMP" 'BEGIN { x = n / r + 8; print (x > d ? x : d) }')
        start_server "$server"
        log "$server: $n readers for ${dur}s ($TRANSPORT)"
        line=$("$BENCH" "$URL" -n "$n" -d "$dur" --ramp "$RAMP" --transport "$TRANSPORT" \
            --server-pid "$SRV_PID" --json "${PUBLISH[@]}" $BENCH_ARGS) || true
        stop_server
        [ -n "$line" ] || { log "no result"; break; }
        echo "{\"server\":\"$server\",\"transport\":\"$TRANSPORT\",${line#\{}" >> "$RESULTS"
        echo "$line" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("[fanout]   on time %.4f%%  latency p50 %.2f p99 %.2f ms  server cpu %.0f%%  %s" % (r["delivery"]*100, r.get("latency_p50_ms", -1), r.get("latency_p99_ms", -1), r["server_cpu_pct"], "holds" if r["holds"] else "DOES NOT HOLD"))' >&2
        if echo "$line" | grep -q '"holds":true'; then
            LARGEST_HELD[$key]=$n
        else
            break
        fi
    done
done
done

# --- table ----------------------------------------------------------------------------------
"$PY" - "$RESULTS" "$OUT" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = sys.argv[2]
hdr = ("| server | transport | readers | playing | frames on time | latency p50 / p99 / p99.9 / max (ms) "
       "| server CPU | CPU per 1,000 readers | RSS Δ per reader | bench CPU | load avg | holds |")
lines = [hdr, "|" + "---|" * (hdr.count("|") - 1)]
for r in rows:
    rss = ""
    if "server_rss_after_kib" in r:
        rss = "%.1f KiB" % ((r["server_rss_after_kib"] - r["server_rss_before_kib"]) / max(r["sessions"], 1))
    lines.append("| %s | %s | %d | %d | %.3f%% | %.2f / %.2f / %.2f / %.2f | %.0f%% | %.0f%% | %s | %.0f%% | %.1f | %s |" % (
        r["server"], r["transport"], r["sessions"], r["playing"], r["delivery"] * 100,
        r.get("latency_p50_ms", -1), r.get("latency_p99_ms", -1), r.get("latency_p999_ms", -1), r.get("latency_max_ms", -1),
        r["server_cpu_pct"], r["server_cpu_pct"] * 1000 / max(r["sessions"], 1), rss,
        r["bench_cpu_pct"], r["load_average"], "yes" if r["holds"] else "**no**"))
open(out + "/results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PYEOF
for key in "${!LARGEST_HELD[@]}"; do log "$key held ${LARGEST_HELD[$key]} readers"; done
