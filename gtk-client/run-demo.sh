#!/usr/bin/env bash
# Starts rtsp-server on the sample video and rtsp-player on it. Without a display the player
# plays headless (progress and statistics on the terminal).
#
#   gtk-client/run-demo.sh                 # normal mode (rtsp:// URL)
#   gtk-client/run-demo.sh lab             # the lab's four arguments: lab mode
#   gtk-client/run-demo.sh --stats         # any other arguments go to rtsp-player
#   PROFILE=dev gtk-client/run-demo.sh     # debug build (faster to build, slower to run)
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${PROFILE:-release}
if [ "$profile" = release ]; then
  cargo build --release -p server-bin -p gtk-client
  bin=target/release
else
  cargo build -p server-bin -p gtk-client
  bin=target/debug
fi

log=$(mktemp)
"$bin/rtsp-server" --bind 127.0.0.1 --port 0 --media media 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT

port=""
for _ in $(seq 100); do
  port=$(grep -o 'listening addr=[^ ]*' "$log" | head -n1 | sed 's/.*://' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "run-demo: rtsp-server did not start:" >&2
  cat "$log" >&2
  exit 1
fi

if [ "${1:-}" = lab ]; then
  shift
  exec_args=("$@" 127.0.0.1 "$port" 0 movie.Mjpeg)
else
  exec_args=("$@" "rtsp://127.0.0.1:$port/movie.Mjpeg")
fi
echo "run-demo: rtsp-server on port $port; starting rtsp-player ${exec_args[*]}"
"$bin/rtsp-player" "${exec_args[@]}"
