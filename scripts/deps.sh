#!/usr/bin/env bash
# Installs the Debian packages the build, the player and the tests need. Idempotent and quiet when
# everything is already there, so every other script can call it first.
set -euo pipefail

APT_PACKAGES=(
  build-essential pkg-config        # cc for -sys crates, pkg-config for GTK
  ffmpeg                            # interop peer (ffprobe/ffmpeg) and video conversion
  libjpeg-turbo-progs               # djpeg: the sample must decode warning-free in libjpeg
  gstreamer1.0-tools                # gst-launch-1.0: interop peer
  gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good         # rtspsrc, rtpjpegdepay, jpegdec
  gstreamer1.0-plugins-bad          # jpegparse: the recording server of the publisher tests
  gstreamer1.0-rtsp                 # rtspclientsink: a publisher for rtsp-server --publish
  glib-networking                   # GIO's TLS backend: rtspsrc and gst-rtsp-server speak rtsps://
  ca-certificates                   # the system's trusted roots the client checks rtsps:// servers against
  gir1.2-gst-rtsp-server-1.0        # GStreamer's RTSP server: third-party server for tests/benchmarks
  python3-gi
  python3-venv python3-tk            # Python bindings: venv for the test, tkinter for the lab client
  libgtk-4-dev                      # the GTK4 player
  xvfb xauth                        # headless display for GUI tests
  haproxy                           # layer-4 balancer with the PROXY protocol in front of the server
  prometheus                        # scrapes --metrics in the metrics test (promtool checks the exposition)
  chromium                          # headless browser loading the --http page in the http_mjpeg test
  curl                              # fetches an --http stream in the http_mjpeg test
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
