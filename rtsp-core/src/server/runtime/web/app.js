// Lists the server's paths with a live preview each (an <img> on the path's multipart MJPEG
// stream) and refreshes their viewers and statistics from /api/paths once a second. A card's
// <img> is created once and kept, so a refresh never restarts its stream.
"use strict";

const POLL_MS = 1000;
const cards = new Map();

function streamUrl(path) {
  return "/stream/" + path.split("/").map(encodeURIComponent).join("/");
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function card(path) {
  const root = el("section", "card");
  root.dataset.path = path;
  const title = el("h2");
  const link = el("a", "", path);
  link.href = streamUrl(path);
  title.append(link);
  const badge = el("span", "badge", "LIVE");
  badge.hidden = true;
  title.append(badge);
  const view = el("div");
  const stats = el("p", "stats", "");
  root.append(title, view, stats);
  document.getElementById("paths").append(root);
  return { root, view, stats, badge, playing: null, lastBytes: null, lastAt: null };
}

function show(c, playing, path) {
  if (c.playing === playing) return;
  c.playing = playing;
  c.view.replaceChildren();
  if (playing) {
    const img = el("img", "preview");
    img.alt = path;
    img.src = streamUrl(path);
    c.view.append(img);
  } else {
    c.view.append(el("div", "offline", "no publisher"));
  }
}

function kbps(c, p, now) {
  let rate = 0;
  if (c.lastBytes !== null && now > c.lastAt) {
    rate = ((p.bytes_sent - c.lastBytes) * 8) / (now - c.lastAt);
  }
  c.lastBytes = p.bytes_sent;
  c.lastAt = now;
  return rate;
}

function update(list) {
  const now = performance.now();
  const seen = new Set();
  for (const p of list.paths) {
    seen.add(p.path);
    let c = cards.get(p.path);
    if (!c) {
      c = card(p.path);
      cards.set(p.path, c);
    }
    const playing = p.kind !== "published" || p.live;
    show(c, playing, p.path);
    c.badge.hidden = p.kind !== "published" || !p.live;
    const size = p.width ? ` · ${p.width}x${p.height}` : "";
    const rate = kbps(c, p, now);
    c.stats.textContent =
      `${p.http_viewers} HTTP viewer(s) · ${p.rtsp_sessions} RTSP session(s)${size}\n` +
      `frames sent ${p.frames_sent} · dropped ${p.frames_dropped} · ${rate.toFixed(0)} kbit/s`;
  }
  for (const [path, c] of cards) {
    if (!seen.has(path)) {
      c.root.remove();
      cards.delete(path);
    }
  }
  document.getElementById("summary").textContent =
    `${list.paths.length} path(s) at ${list.fps} fps`;
}

async function poll() {
  try {
    const reply = await fetch("/api/paths", { cache: "no-store" });
    if (reply.ok) update(await reply.json());
  } catch (e) {
    document.getElementById("summary").textContent = "server unreachable";
  }
  setTimeout(poll, POLL_MS);
}

poll();
