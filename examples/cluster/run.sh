#!/usr/bin/env bash
# Starts the cluster on loopback: an origin rtsp-server (127.0.0.10), two edges relaying it
# (127.0.0.11, 127.0.0.12), HAProxy in front of the edges (viewers use
# rtsp://127.0.0.20:8554/movie.Mjpeg) and Prometheus scraping all three
# (http://127.0.0.30:9090). Ctrl-C (or SIGTERM) stops them all.
#
#   examples/cluster/run.sh                     # builds rtsp-server (release) if needed
#   RTSP_SERVER=/path/to/rtsp-server examples/cluster/run.sh
#   NO_PROMETHEUS=1 examples/cluster/run.sh     # without Prometheus
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

server="${RTSP_SERVER:-}"
if [[ -z "$server" ]]; then
  server="${CARGO_TARGET_DIR:-$root/target}/release/rtsp-server"
  if [[ ! -x "$server" ]]; then
    (cd "$root" && cargo build --release -p server-bin)
  fi
fi
for tool in haproxy "$server"; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done
prometheus=""
if [[ -z "${NO_PROMETHEUS:-}" ]]; then
  prometheus="$(command -v prometheus)" || { echo "run.sh: prometheus not found (NO_PROMETHEUS=1 to run without)" >&2; exit 1; }
fi

work="$(mktemp -d -t rtsp-cluster.XXXXXX)"
# Edges serve no files of their own: everything they serve is relayed from the origin.
mkdir -p "$work/edge-media" "$work/prometheus"
pids=()

stop() {
  trap - INT TERM EXIT
  echo "run.sh: stopping ${#pids[@]} processes" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  exit 0
}
trap stop INT TERM EXIT

# The origin: serves the media files (looped) to the edges, and to anyone who asks directly.
"$server" --bind 127.0.0.10 --port 8554 --media "${MEDIA:-$root/media}" --loop \
  --metrics 127.0.0.10:9554 &
pids+=($!)

# An edge: relays any path of the origin (rtsp://EDGE/movie.Mjpeg plays the origin's
# movie.Mjpeg), pulling each once, when its first viewer arrives, and letting it go 30 s after
# the last one left. It trusts the PROXY protocol
# header from HAProxy's address only.
edge() {
  "$server" --bind "$1" --port 8554 --media "$work/edge-media" \
    --proxy-protocol --trusted-proxy 127.0.0.21/32 \
    --origin rtsp://127.0.0.10:8554 --relay-linger 30 \
    --metrics "$1:9554" &
  pids+=($!)
}
edge 127.0.0.11
edge 127.0.0.12

haproxy -db -f "$here/haproxy.cfg" &
pids+=($!)

if [[ -n "$prometheus" ]]; then
  "$prometheus" --config.file="$here/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
    --web.listen-address=127.0.0.30:9090 --log.level=warn &
  pids+=($!)
fi

cat >&2 <<MSG
run.sh: cluster up (Ctrl-C stops it)
  viewers:    rtsp://127.0.0.20:8554/movie.Mjpeg   (HAProxy, round robin over the edges)
  origin:     rtsp://127.0.0.10:8554/movie.Mjpeg
  metrics:    http://127.0.0.10:9554/metrics  http://127.0.0.11:9554/metrics  http://127.0.0.12:9554/metrics
  haproxy:    http://127.0.0.20:8404/
  prometheus: http://127.0.0.30:9090/
MSG

# Runs until Ctrl-C; an edge that dies (kill one to watch HAProxy fail over) stops nothing else.
wait
