// The layers panel: layers grouped by agency, each with a toggle, a legend of status colours with live
// counts, and an export menu; plus the basemap switcher.

import { download, getJson } from "./api.js";
import { formatNumber, lang, t } from "./i18n.js";
import { loadStyle, setLayerVisible } from "./map.js";
import { state } from "./state.js";
import { toast } from "./toast.js";

const EXPORT_FORMATS = [
  ["gpkg", "GeoPackage"],
  ["shp", "Shapefile"],
  ["csv", "CSV"],
  ["kml", "KML"],
  ["xlsx", "Excel"],
];
const countListeners = [];
const pending = new Map();

export function onCounts(fn) {
  countListeners.push(fn);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function renderLayers() {
  const root = document.getElementById("layer-groups");
  root.replaceChildren();
  const agencies = (state.me && state.me.agencies) || {};
  const groups = new Map();
  for (const c of state.collections) {
    const owner = c["kendali:owner"];
    if (!groups.has(owner)) groups.set(owner, []);
    groups.get(owner).push(c);
  }
  for (const [owner, list] of groups) {
    const box = el("details", { className: "agency", open: true, dataset: { agency: owner } });
    box.append(el("summary", { title: agencies[owner] || owner }, owner.toUpperCase(), el("small", {}, ` ${agencies[owner] || ""}`)));
    for (const c of list) box.append(layerRow(c));
    root.append(box);
  }
}

function layerRow(c) {
  const toggle = el("input", { type: "checkbox", id: `layer-toggle-${c.id}`, checked: state.visible.get(c.id) !== false });
  toggle.addEventListener("change", () => setLayerVisible(c.id, toggle.checked));
  const row = el("div", { className: "layer", dataset: { layer: c.id } });
  const swatch = el("span", { className: `swatch ${c["kendali:geometry"]}` });
  swatch.style.background = c["kendali:style"].color;
  row.append(el("label", { htmlFor: toggle.id }, toggle, swatch, el("span", { className: "title" }, c.title)));
  row.append(el("ul", { className: "legend", id: `legend-${c.id}` }));
  if (state.caps.export) row.append(exportMenu(c));
  fillLegend(c);
  return row;
}

function exportMenu(c) {
  const menu = el("details", { className: "export" }, el("summary", {}, t("layers.export")));
  for (const [f, label] of EXPORT_FORMATS) {
    const link = el("a", { href: `/collections/${c.id}/export?f=${f}`, dataset: { format: f } }, label);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      toast(t("export.wait"));
      download(link.getAttribute("href"), `${c.id}.${f}`).catch((err) => toast(err.message, "error"));
    });
    menu.append(link);
  }
  return menu;
}

function fillLegend(c) {
  const list = document.getElementById(`legend-${c.id}`);
  if (!list) return;
  const counts = state.counts.get(c.id);
  const style = c["kendali:style"];
  list.replaceChildren();
  const entries = Object.entries(style.by_status || {});
  const hasStatus = counts ? Object.keys(counts.statuses).length > 0 : entries.length > 0;
  if (!hasStatus) {
    if (counts) list.append(el("li", { className: "total" }, `${formatNumber(counts.total)} ${t("layers.total")}`));
    return;
  }
  for (const [status, color] of entries) {
    const n = counts ? counts.statuses[status] ?? 0 : null;
    const label = (counts && counts.labels && counts.labels[status]) || status;
    const dot = el("span", { className: "dot" });
    dot.style.background = color;
    list.append(el("li", { dataset: { status } }, dot, `${label} `, el("b", { className: "n" }, n === null ? "…" : formatNumber(n))));
  }
  if (counts) {
    const dot = el("span", { className: "dot stale" });
    dot.style.background = style.stale_color;
    list.append(el("li", { dataset: { status: "stale" } }, dot, `${t("layers.stale")} `, el("b", { className: "n" }, formatNumber(counts.stale))));
  }
}

export async function refreshCounts(collectionId) {
  if (!state.caps.counts) return;
  try {
    const counts = await getJson(`/collections/${collectionId}/counts?lang=${lang()}`);
    state.counts.set(collectionId, counts);
    const c = state.byId.get(collectionId);
    if (c) fillLegend(c);
    for (const fn of countListeners) fn(collectionId);
  } catch {
    /* a layer that vanished for this caller (signed out) simply has no counts */
  }
}

// Live events arrive in bursts; counts are fetched at most once per layer per 2 seconds.
export function countsChanged(collectionId) {
  if (pending.has(collectionId)) return;
  pending.set(collectionId, setTimeout(() => {
    pending.delete(collectionId);
    refreshCounts(collectionId);
  }, 2000));
}

export async function refreshAllCounts() {
  await Promise.all(state.collections.map((c) => refreshCounts(c.id)));
}

export async function renderBasemaps() {
  const root = document.getElementById("basemaps");
  root.replaceChildren();
  let options = [{ id: null, title: t("basemap.plain") }];
  if (state.caps.basemaps && state.caps.styles) {
    try {
      const doc = await getJson(`/basemaps?lang=${lang()}`);
      options = doc.basemaps.filter((b) => (b.links || []).some((l) => l.rel === "stylesheet")).map((b) => ({ id: b.id, title: b.title }));
      if (!state.basemap) state.basemap = doc.default || options[0]?.id || null;
    } catch {
      /* the plain background stays available */
    }
  }
  for (const option of options) {
    const input = el("input", { type: "radio", name: "basemap", value: option.id ?? "", checked: (state.basemap ?? null) === option.id });
    input.addEventListener("change", () => {
      state.basemap = option.id;
      loadStyle(option.id);
    });
    root.append(el("label", { dataset: { basemap: option.id ?? "plain" } }, input, ` ${option.title}`));
  }
}
