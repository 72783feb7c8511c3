// The Command Center dashboard: wires the map, panels, live stream and sign-in together.

import { alertArrived, loadAlerts } from "./alerts.js";
import { capabilities, download, getJson, onUnauthorized } from "./api.js";
import { initAuth, loadMe, onSessionChange } from "./auth.js";
import { closeDetails, onOpen, openDetails, refreshDetailsIfShown } from "./details.js";
import { areaSelected, initDrawing, isDrawing, renderDrawTools, selectedAreaGeometry } from "./draw.js";
import { formatTime, initialLang, lang, onLangChange, setLang, t } from "./i18n.js";
import { renderKpis } from "./kpi.js";
import { countsChanged, onCounts, refreshAllCounts, renderBasemaps, renderLayers } from "./layers-panel.js";
import * as live from "./live.js";
import { allStyleLayers, applyLive, collectionOf, createMap, loadStyle, map, reloadLayer } from "./map.js";
import { initQueries, isPicking, setQueryLayers } from "./queries.js";
import { initReport, renderReportButton } from "./report.js";
import { initSearch } from "./search.js";
import { setCollections, state } from "./state.js";
import { toast } from "./toast.js";

const CLICK_TOLERANCE_PX = 5;

// Query layers are listed beside stored layers but only draw with parameters: they go to the Queries panel.
async function loadCollections() {
  const doc = await getJson(`/collections?lang=${lang()}`);
  const isQuery = (c) => c["kendali:kind"] === "query";
  state.counts.clear();
  setCollections(doc.collections.filter((c) => !isQuery(c)));
  setQueryLayers(doc.collections.filter(isQuery));
}

// Everything that depends on who is signed in: run at start, after sign-in/out and when a session ends.
async function loadSession() {
  await loadMe();
  await loadCollections();
  renderLayers();
  await renderBasemaps();
  renderDrawTools();
  renderReportButton();
  document.getElementById("qgis-link").hidden = !state.caps.qgis;
  closeDetails();
  loadStyle(state.basemap);
  await refreshAllCounts();
  renderKpis();
  await loadAlerts();
  live.start(Boolean(state.caps.events));
}

function pick(event) {
  const { x, y } = event.point;
  const box = [
    [x - CLICK_TOLERANCE_PX, y - CLICK_TOLERANCE_PX],
    [x + CLICK_TOLERANCE_PX, y + CLICK_TOLERANCE_PX],
  ];
  const layers = allStyleLayers();
  if (!layers.length) return null;
  const found = map.queryRenderedFeatures(box, { layers });
  return found.find((f) => collectionOf(f.layer.id)) || null;
}

function wireMap() {
  map.on("click", (event) => {
    if (isDrawing() || isPicking()) return;
    const feature = pick(event);
    if (!feature) return;
    const count = feature.properties.point_count ?? feature.properties.count;
    if (count > 1 || feature.id === undefined || feature.id === null) {
      map.easeTo({ center: event.lngLat, zoom: map.getZoom() + 2 });
      return;
    }
    openDetails(collectionOf(feature.layer.id), feature.id).catch((err) => toast(err.message, "error"));
  });
  map.on("mousemove", (event) => {
    if (!isDrawing() && !isPicking()) map.getCanvas().style.cursor = pick(event) ? "pointer" : "";
  });
}

async function onStatus(event) {
  const { layer, assets } = await live.assetsOf(event);
  if (!layer || !state.byId.has(layer)) return;
  applyLive(layer, assets);
  countsChanged(layer);
  refreshDetailsIfShown(layer, assets.map((a) => a.id));
}

// Someone edited a feature (one `feature` event) or imported a file (one `batch` event for all its rows):
// the layer's tiles and counts are stale, and are reloaded once.
function onFeatures(event) {
  const layer = event && (event.layer || event.payload?.layer);
  if (layer && state.byId.has(layer)) {
    reloadLayer(layer);
    countsChanged(layer);
  }
}

function wireLive() {
  live.on("status", (event) => onStatus(event).catch(() => {}));
  live.on("stale", (event) => onStatus(event).catch(() => {}));
  live.on("alert", () => alertArrived());
  live.on("feature", (event) => onFeatures(event));
  live.on("batch", (event) => onFeatures(event));
  live.on("reset", () => loadSession().catch(() => {}));
}

function tick() {
  document.getElementById("clock").textContent = formatTime(new Date());
}

async function main() {
  setLang(initialLang());
  state.caps = await capabilities();
  createMap("map");
  wireMap();
  wireLive();
  initAuth();
  initSearch();
  initDrawing();
  initReport();
  initQueries({ drawnGeometry: selectedAreaGeometry });
  onOpen((layerId, feature) => areaSelected(layerId, feature));
  onCounts(() => renderKpis());
  onSessionChange(() => loadSession());
  onUnauthorized(() => {
    toast(t("auth.expired"), "warn");
    loadSession().catch(() => {});
  });
  onLangChange(async () => {
    document.getElementById("lang-toggle").textContent = lang() === "en" ? "ID" : "EN";
    tick();
    await loadMe();
    await loadCollections();
    renderLayers();
    await renderBasemaps();
    renderDrawTools();
    await refreshAllCounts();
    renderKpis();
    await loadAlerts();
  });
  document.getElementById("lang-toggle").textContent = lang() === "en" ? "ID" : "EN";
  document.getElementById("lang-toggle").addEventListener("click", () => setLang(lang() === "en" ? "id" : "en"));
  document.getElementById("details-close").addEventListener("click", closeDetails);
  document.getElementById("qgis-link").addEventListener("click", (event) => {
    event.preventDefault();
    download("/qgis/project.qgs", "kendali.qgs").catch((err) => toast(err.message, "error"));
  });
  tick();
  setInterval(tick, 15_000);
  await loadSession();
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  toast(`${t("common.error")}: ${err.message}`, "error", 60_000);
});
