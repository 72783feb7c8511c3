// The live stream (GET /events, Server-Sent Events) read through fetch, because EventSource cannot send
// the Authorization header; reconnects resume from the last event id.

import { authHeaders, getJson } from "./api.js";
import { t } from "./i18n.js";

const handlers = new Map();
let controller = null;
let lastEventId = null;
let retryMs = 3000;
let generation = 0;

export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, []);
  handlers.get(type).push(fn);
}

function setIndicator(stateName) {
  const badge = document.getElementById("live-state");
  badge.dataset.state = stateName;
  badge.textContent = t(stateName === "on" ? "live.on" : stateName === "none" ? "live.none" : "live.off");
}

export function stop() {
  generation += 1;
  if (controller) controller.abort();
  controller = null;
}

// (Re)starts the stream for the current credentials; a sign-in or sign-out starts a new one.
export function start(enabled) {
  stop();
  if (!enabled) {
    setIndicator("none");
    return;
  }
  const mine = generation;
  const loop = async () => {
    while (mine === generation) {
      try {
        await readStream(mine);
      } catch {
        /* network or server gone: retry below */
      }
      if (mine !== generation) return;
      setIndicator("off");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  loop();
}

async function readStream(mine) {
  controller = new AbortController();
  const headers = authHeaders({ Accept: "text/event-stream" });
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  const response = await fetch("/events", { headers, signal: controller.signal, cache: "no-store" });
  if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
  setIndicator("on");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (mine === generation) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      dispatch(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
  }
}

function dispatch(block) {
  let type = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") type = value;
    else if (field === "data") data.push(value);
    else if (field === "id") lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) retryMs = Math.min(60_000, Number(value));
  }
  let body = null;
  try {
    body = data.length ? JSON.parse(data.join("\n")) : null;
  } catch {
    return;
  }
  // The last events received, for people debugging on the wall and for the browser tests.
  const seen = (window.kendaliEvents ||= []);
  seen.push({ type, body });
  if (seen.length > 500) seen.splice(0, seen.length - 500);
  for (const fn of handlers.get(type) || []) fn(body);
}

// The assets named by a status or stale event, with their current state: carried by the event when the
// server enriched it, else read from the feature API.
export async function assetsOf(event) {
  const payload = (event && (event.payload || event)) || {};
  const layer = event.layer || payload.layer || payload.layer_id;
  if (Array.isArray(payload.assets) && !payload.truncated) return { layer, assets: payload.assets };
  const ids = (payload.ids || []).filter(Number.isInteger);
  if (!layer || !ids.length) return { layer, assets: [] };
  if (ids.length <= 20) {
    const found = await Promise.all(ids.map((id) => getJson(`/collections/${layer}/items/${id}`).catch(() => null)));
    return { layer, assets: found.filter(Boolean).map((f) => ({ id: f.id, status: f.properties.status, stale: f.properties.stale })) };
  }
  const page = await getJson(`/collections/${layer}/items?limit=10000&properties=status,stale`);
  const wanted = new Set(ids);
  return { layer, assets: page.features.filter((f) => wanted.has(f.id)).map((f) => ({ id: f.id, status: f.properties.status, stale: f.properties.stale })) };
}
