#!/usr/bin/env bash
# Side-by-side load test: the sample served by rtsp-server and by GStreamer's rtsp-server,
# measured by rtsp-bench at growing session counts until each server stops holding
# (>= 99.9 % of frames on time and p99 inter-frame interval <= 2x nominal).
#
# Usage: bench/compare.sh            (from a clean checkout; installs what it needs)
# Environment:
#   SESSIONS="1 10 100 500 1000 2000 3000 4000 5000 6000"   session counts to try, ascending (a
#                      session takes a descriptor or three on each side: mind the open-file limit)
#   DURATION=20        minimum run length per point (s); grows with the ramp
#   RAMP=500           sessions started per second
#   TRANSPORT=udp      udp, tcp, or both ("udp tcp"): every server is measured on each
#   BEFORE_BIN=        an earlier rtsp-server binary (built from another commit) to measure as
#                      server "rtsp-server-before" in the same run; it joins the default SERVERS
#   SERVERS="rtsp-server gstreamer"   (with BEFORE_BIN: "rtsp-server rtsp-server-before gstreamer")
#   BENCH_ARGS=""     extra rtsp-bench options, e.g. "--no-gro" (receive datagram by datagram)
#   PACING=1           also run the 60 s pacing measurement (1 session and largest N held)
#   OUT=docs/benchmarks
# Output: $OUT/results.jsonl (one JSON line per point), $OUT/results.md (table),
#         $OUT/sessions.png (delivery ratio and server CPU vs sessions), $OUT/pacing.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SESSIONS=${SESSIONS:-"1 10 100 500 1000 2000 3000 4000 5000 6000"}
DURATION=${DURATION:-20}
RAMP=${RAMP:-500}
TRANSPORTS=${TRANSPORT:-udp}
BEFORE_BIN=${BEFORE_BIN:-}
if [ -n "$BEFORE_BIN" ]; then
    [ -x "$BEFORE_BIN" ] || { echo "[compare] BEFORE_BIN=$BEFORE_BIN is not an executable" >&2; exit 2; }
    SERVERS=${SERVERS:-"rtsp-server rtsp-server-before gstreamer"}
else
    SERVERS=${SERVERS:-"rtsp-server gstreamer"}
fi
PACING=${PACING:-1}
BENCH_ARGS=${BENCH_ARGS:-}
OUT=${OUT:-docs/benchmarks}
PY=/usr/bin/python3
PORT_OURS=18554
PORT_GST=18555
PORT_BEFORE=18556
MEDIA="$ROOT/media/movie.Mjpeg"

log() { printf '[compare] %s\n' "$*" >&2; }

# --- dependencies -------------------------------------------------------------------------
need_apt=()
if ! "$PY" -c "import gi; gi.require_version('GstRtspServer','1.0'); gi.require_version('Gst','1.0'); from gi.repository import GstRtspServer" 2>/dev/null; then
    need_apt+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
fi
command -v gnuplot >/dev/null || need_apt+=(gnuplot-nox)
if ((${#need_apt[@]})); then
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

start_server() { # name -> sets SRV_PID and URL
    case "$1" in
    rtsp-server | rtsp-server-before)
        local bin="$SERVER" port="$PORT_OURS"
        [ "$1" = rtsp-server ] || { bin="$BEFORE_BIN"; port="$PORT_BEFORE"; }
        "$bin" --bind 127.0.0.1 --port "$port" --media "$ROOT/media" --loop \
            --max-sessions 100000 --max-connections 100000 --max-connections-per-address 100000 >/dev/null 2>&1 &
        SRV_PID=$!
        URL="rtsp://127.0.0.1:$port/movie.Mjpeg"
        ;;
    gstreamer)
        "$PY" "$ROOT/bench/gst_rtsp_server.py" --port "$PORT_GST" --file "$MEDIA" >/dev/null 2>&1 &
        SRV_PID=$!
        URL="rtsp://127.0.0.1:$PORT_GST/movie.Mjpeg"
        ;;
    *) log "unknown server $1"; exit 2 ;;
    esac
    # Wait until it accepts RTSP.
    for _ in $(seq 50); do
        if "$BENCH" "$URL" -n 1 -d 0.3 --json >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    log "$1 did not come up"; exit 1
}

declare -A LARGEST_HELD
for TRANSPORT in $TRANSPORTS; do
for server in $SERVERS; do
    key="$server/$TRANSPORT"
    LARGEST_HELD[$key]=0
    for n in $SESSIONS; do
        dur=$(awk -v d="$DURATION" -v n="$n" -v r="$RAMP" 'BEGIN { x = n / r + 10; print (x > d ? x : d) }')
        start_server "$server"
        sleep 1
        log "$server: $n sessions for ${dur}s ($TRANSPORT)"
        line=$("$BENCH" "$URL" -n "$n" -d "$dur" --ramp "$RAMP" --transport "$TRANSPORT" \
            --server-pid "$SRV_PID" --json $BENCH_ARGS) || true
        stop_server
        [ -n "$line" ] || { log "no result"; break; }
        echo "{\"server\":\"$server\",\"transport\":\"$TRANSPORT\",${line#\{}" >> "$RESULTS"
        echo "$line" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("[compare]   delivery %.4f%%  p99 interval %.1f ms  server cpu %.0f%%  bench cpu %.0f%%  %s" % (r["delivery"]*100, r["interval_p99_ms"], r["server_cpu_pct"], r["bench_cpu_pct"], "holds" if r["holds"] else "DOES NOT HOLD"))' >&2
        if echo "$line" | grep -q '"holds":true'; then
            LARGEST_HELD[$key]=$n
        else
            break
        fi
    done
done
done

# --- table and plot -----------------------------------------------------------------------
"$PY" - "$RESULTS" "$OUT" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = sys.argv[2]
hdr = ("| server | transport | sessions | playing | delivered on time | loss | interval p50 / p99 / p99.9 (ms) "
       "| sched. error p99 (ms) | PLAY→1st p50 (ms) | fps min / p50 | Mbit/s | server CPU | server RSS Δ/session | bench CPU | load avg | holds |")
lines = [hdr, "|" + "---|" * (hdr.count("|") - 1)]
for r in rows:
    rss = ""
    if "server_rss_after_kib" in r:
        rss = "%.1f KiB" % ((r["server_rss_after_kib"] - r["server_rss_before_kib"]) / max(r["sessions"], 1))
    lines.append("| %s | %s | %d | %d | %.3f%% | %.3f%% | %.1f / %.1f / %.1f | %.1f | %.1f | %.2f / %.3f | %.1f | %.0f%% | %s | %.0f%% | %.1f | %s |" % (
        r["server"], r.get("transport", "udp"), r["sessions"], r["playing"], r["delivery"] * 100, r["loss"] * 100,
        r["interval_p50_ms"], r["interval_p99_ms"], r["interval_p999_ms"], r["sched_err_p99_ms"],
        r["first_packet_p50_ms"], r["fps_min"], r["fps_p50"], r["mbit_per_s"], r["server_cpu_pct"], rss,
        r["bench_cpu_pct"], r["load_average"], "yes" if r["holds"] else "**no**"))
open(out + "/results.md", "w").write("\n".join(lines) + "\n")
# rtsp-bench reports the transport as "Udp"/"Tcp"; the plot below names files by TRANSPORT's
# lower-case words.
for server, transport in sorted({(r["server"], r.get("transport", "udp").lower()) for r in rows}):
    with open("%s/%s-%s.dat" % (out, server, transport), "w") as f:
        for r in rows:
            if r["server"] == server and r.get("transport", "udp").lower() == transport:
                f.write("%d %f %f\n" % (r["sessions"], r["delivery"] * 100, r["server_cpu_pct"]))
print("\n".join(lines))
PYEOF

if gnuplot -e "set terminal" 2>&1 | grep -q pngcairo; then
    plot_cmd="set terminal pngcairo size 1100,450 font ',10' noenhanced"
else
    plot_cmd="set terminal png size 1100,450 noenhanced"
fi
{
    echo "$plot_cmd"
    echo "set output '$OUT/sessions.png'"
    echo "set multiplot layout 1,2 title 'rtsp-server vs GStreamer rtsp-server (loopback, $TRANSPORTS, 20 fps MJPEG 640x480)'"
    echo "set logscale x; set grid; set key bottom left; set xlabel 'sessions'"
    echo "set ylabel 'frames delivered on time (%)'; set yrange [*:100.5]"
    printf "plot "
    sep=""
    for t in $TRANSPORTS; do for server in $SERVERS; do
        f="$OUT/$server-$t.dat"
        [ -f "$f" ] && printf "%s'%s' using 1:2 with linespoints lw 2 title '%s %s'" "$sep" "$f" "$server" "$t" && sep=", "
    done; done
    echo
    echo "set ylabel 'server CPU (% of one core)'; set yrange [0:*]; set key top left"
    printf "plot "
    sep=""
    for t in $TRANSPORTS; do for server in $SERVERS; do
        f="$OUT/$server-$t.dat"
        [ -f "$f" ] && printf "%s'%s' using 1:3 with linespoints lw 2 title '%s %s'" "$sep" "$f" "$server" "$t" && sep=", "
    done; done
    echo
    echo "unset multiplot"
} | gnuplot
rm -f "$OUT"/*.dat
log "plot: $OUT/sessions.png"
for key in "${!LARGEST_HELD[@]}"; do log "$key held ${LARGEST_HELD[$key]} sessions"; done

# --- pacing: 60 s at 1 session and at the largest N held (first transport) ------------------
TRANSPORT=${TRANSPORTS%% *}
if [ "$PACING" = 1 ] && [[ " $SERVERS " == *" rtsp-server "* ]]; then
    PACE="$OUT/pacing.md"
    {
        echo "| sessions | duration (s) | session fps p50 (min..max) | rate error | sched. error p50 / p99 / p99.9 / max (ms) | interval p99 (ms) | PLAY→1st p50 / p99 (ms) |"
        echo "|---|---|---|---|---|---|---|"
    } > "$PACE"
    for n in 1 "${LARGEST_HELD[rtsp-server/$TRANSPORT]}"; do
        [ "$n" -gt 0 ] || continue
        start_server rtsp-server
        sleep 1
        dur=$(awk -v n="$n" -v r="$RAMP" 'BEGIN { print n / r + 61 }')
        log "pacing: $n sessions for ${dur}s"
        line=$("$BENCH" "$URL" -n "$n" -d "$dur" --ramp "$RAMP" --transport "$TRANSPORT" --json $BENCH_ARGS) || true
        stop_server
        echo "$line" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("| %d | %.0f | %.4f (%.4f..%.4f) | %+.4f%% | %.2f / %.2f / %.2f / %.2f | %.1f | %.2f / %.2f |" % (r["sessions"], r["duration_s"], r["fps_p50"], r["fps_min"], r["fps_max"], (r["fps_p50"]/20-1)*100, r["sched_err_p50_ms"], r["sched_err_p99_ms"], r["sched_err_p999_ms"], r["sched_err_max_ms"], r["interval_p99_ms"], r["first_packet_p50_ms"], r["first_packet_p99_ms"]))' >> "$PACE"
    done
    cat "$PACE"
fi
