// The side panel of one asset: its properties, live status, a chart of the last 24 hours and, for
// cameras and callers allowed to see it, a link to the stream.

import { getJson } from "./api.js";
import { historyChart } from "./chart.js";
import { formatNumber, formatTime, lang, t } from "./i18n.js";
import { flyToGeometry, liveState } from "./map.js";
import { state } from "./state.js";

const HIDDEN = new Set(["name", "status", "status_value", "status_unit", "observed_at", "stale", "version", "stream_url"]);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const openListeners = [];
let shown = null; // { layer, id }

export function onOpen(fn) {
  openListeners.push(fn);
}

export function shownAsset() {
  return shown;
}

function row(label, value) {
  const tr = document.createElement("tr");
  const th = document.createElement("th");
  th.textContent = label;
  const td = document.createElement("td");
  if (value instanceof Node) td.append(value);
  else td.textContent = value === null || value === undefined ? "—" : typeof value === "object" ? JSON.stringify(value) : String(value);
  tr.append(th, td);
  return tr;
}

function statusBadge(c, props, live) {
  const status = live?.status ?? props.status;
  const stale = live?.stale ?? props.stale;
  const badge = document.createElement("span");
  badge.className = `status${stale ? " stale" : ""}`;
  badge.dataset.status = status ?? "";
  const style = c["kendali:style"];
  badge.style.background = stale ? style.stale_color : style.by_status?.[status] || style.color;
  const label = state.counts.get(c.id)?.labels?.[status] || status || "—";
  badge.textContent = stale ? `${label} · ${t("details.stale")}` : label;
  return badge;
}

// Only web and streaming links are offered; anything else in the property is shown as text.
function streamLink(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!["http:", "https:", "rtsp:"].includes(parsed.protocol)) return null;
  const a = document.createElement("a");
  a.href = parsed.href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.className = "stream";
  a.textContent = t("details.stream");
  return a;
}

export function closeDetails() {
  shown = null;
  document.getElementById("details").hidden = true;
}

export async function openDetails(layerId, featureId, fly = false) {
  const c = state.byId.get(layerId);
  if (!c) return;
  const feature = await getJson(`/collections/${layerId}/items/${featureId}?lang=${lang()}`);
  shown = { layer: layerId, id: feature.id, feature };
  for (const fn of openListeners) fn(layerId, feature);
  if (fly) flyToGeometry(feature.geometry);
  const props = feature.properties;
  const panel = document.getElementById("details");
  document.getElementById("details-title").textContent = props.name || `${c.title} ${feature.id}`;
  panel.dataset.layer = layerId;
  panel.dataset.feature = String(feature.id);
  const body = document.getElementById("details-body");
  body.replaceChildren();
  const layerLine = document.createElement("p");
  layerLine.className = "layer-name";
  layerLine.textContent = c.title;
  body.append(layerLine);
  const table = document.createElement("table");
  if ("status" in props) {
    table.append(row(t("details.status"), statusBadge(c, props, liveState(layerId, feature.id))));
    if (props.status_value !== undefined && props.status_value !== null) {
      table.append(row(t("details.value"), `${formatNumber(props.status_value, 2)} ${props.status_unit || ""}`.trim()));
    }
    table.append(row(t("details.observed"), formatTime(props.observed_at)));
  }
  for (const [k, v] of Object.entries(props)) {
    if (!HIDDEN.has(k)) table.append(row(k.replaceAll("_", " "), typeof v === "string" && ISO_TIME.test(v) ? formatTime(v) : v));
  }
  body.append(table);
  if (props.stream_url) {
    const link = streamLink(props.stream_url);
    if (link) body.append(link);
  }
  panel.hidden = false;
  if ("status" in props && state.caps.observations) await showHistory(c, feature.id, body);
}

async function showHistory(c, featureId, body) {
  const heading = document.createElement("h3");
  heading.textContent = t("details.history");
  body.append(heading);
  try {
    const history = await getJson(`/collections/${c.id}/items/${featureId}/observations?hours=24`);
    if (!history.observations.length) {
      const none = document.createElement("p");
      none.textContent = t("details.noHistory");
      body.append(none);
      return;
    }
    body.append(historyChart(history.observations, c["kendali:style"].by_status || {}, formatTime));
  } catch {
    /* the chart is a convenience; the panel stands without it */
  }
}

export async function refreshDetailsIfShown(layerId, ids) {
  if (shown && shown.layer === layerId && ids.includes(shown.id)) await openDetails(layerId, shown.id);
}
