// The in-area query's summary of a place (counts per layer and status, area, districts touched), shown
// under a query's answer and in the response-area panel.

import { formatNumber, lang, t } from "./i18n.js";
import { state } from "./state.js";

function item(label, value) {
  const li = document.createElement("li");
  const b = document.createElement("b");
  b.textContent = value;
  li.append(`${label}: `, b);
  return li;
}

function statusLabel(layerId, status) {
  return state.counts.get(layerId)?.labels?.[status] || status;
}

function layerLine(entry) {
  const li = document.createElement("li");
  li.dataset.layer = entry.layer;
  const title = (entry.title && (entry.title[lang()] || entry.title.id)) || entry.layer;
  const parts = Object.entries(entry.by_status || {})
    .filter(([, n]) => n)
    .map(([status, n]) => `${statusLabel(entry.layer, status)} ${formatNumber(n)}`);
  if (entry.no_status) parts.push(`${t("summary.noStatus")} ${formatNumber(entry.no_status)}`);
  if (entry.stale) parts.push(`${t("summary.stale")} ${formatNumber(entry.stale)}`);
  const b = document.createElement("b");
  b.textContent = formatNumber(entry.count);
  li.append(`${title}: `, b, parts.length ? ` (${parts.join(", ")})` : "");
  return li;
}

/** Returns an element showing an in-area summary ({layers, total, area}). */
export function summaryElement(summary) {
  const box = document.createElement("div");
  box.className = "area-summary";
  const facts = document.createElement("ul");
  facts.className = "facts";
  const area = summary.area || {};
  if (typeof area.area_ha === "number") facts.append(item(t("summary.area"), `${formatNumber(area.area_ha, 2)} ha`));
  if (Array.isArray(area.districts)) facts.append(item(t("summary.districts"), area.districts.join(", ") || "—"));
  if (typeof area.villages_touched === "number") facts.append(item(t("summary.villages"), formatNumber(area.villages_touched)));
  facts.append(item(t("summary.total"), formatNumber(summary.total || 0)));
  const layers = document.createElement("ul");
  layers.className = "inside";
  for (const entry of summary.layers || []) if (entry.count) layers.append(layerLine(entry));
  if (!layers.children.length) {
    const none = document.createElement("li");
    none.className = "empty";
    none.textContent = t("summary.none");
    layers.append(none);
  }
  box.append(facts, layers);
  return box;
}
