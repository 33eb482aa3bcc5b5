#!/usr/bin/env bash
# The main job: installs what it needs, builds in release mode, starts rtsp-server on the bundled
# sample (media/movie.Mjpeg) and plays it with rtsp-player: the GTK window when a display is
# available, the headless mode (progress and final statistics on the terminal) otherwise.
#   scripts/run.sh [PORT]        (default 8554; Ctrl-C or closing the player stops both)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-8554}

bash scripts/deps.sh
cargo build --release --quiet -p server-bin -p gtk-client

target/release/rtsp-server --bind 127.0.0.1 --port "$port" --media media &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
# The player retries nothing by itself on start-up: wait until the server listens.
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

url="rtsp://127.0.0.1:$port/movie.Mjpeg"
echo "streaming $url (also try: ffplay $url, vlc $url, or the lab client: python ClientLauncher.py 127.0.0.1 $port 25000 movie.Mjpeg)"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  target/release/rtsp-player "$url"
else
  echo "no display: playing headless"
  target/release/rtsp-player --no-gui "$url"
fi
