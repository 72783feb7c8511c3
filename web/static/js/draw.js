// BPBD's response areas: draw, reshape and delete polygons on the map (Terra Draw), saved through the
// feature API's editing path with If-Match, and a summary of what lies inside each one.

/* global maplibregl, terraDraw, terraDrawMaplibreGlAdapter */
import { summaryElement } from "./area-summary.js";
import { ApiError, download, getJson, sendJson } from "./api.js";
import { openDetails } from "./details.js";
import { formatNumber, lang, t } from "./i18n.js";
import { refreshCounts } from "./layers-panel.js";
import { highlight, map, reloadLayer } from "./map.js";
import { hasQuery } from "./queries.js";
import { canEdit, state } from "./state.js";
import { toast } from "./toast.js";

const LAYER = "response_areas";
const HAZARDS = ["banjir", "longsor", "kebakaran", "gempa", "tsunami", "cuaca_ekstrem", "lainnya"];
const STATES = ["draft", "active", "closed"];
let draw = null;
let mode = null; // null | "create" | "edit"
let selected = null; // the response area feature shown in the panel, with its version
let editingId = null; // Terra Draw's id of the shape being reshaped

export function isDrawing() {
  return mode !== null;
}

// The area a query may use: the response area shown in the panel, else the shape just drawn.
export function selectedAreaGeometry() {
  return selected?.geometry || drawnGeometry;
}

export function initDrawing() {
  document.getElementById("draw-start").addEventListener("click", startCreate);
  document.getElementById("draw-edit").addEventListener("click", () => (mode === "edit" ? saveShape() : startEdit()));
  document.getElementById("draw-delete").addEventListener("click", deleteSelected);
  document.getElementById("area-cancel").addEventListener("click", () => {
    document.getElementById("area-dialog").close();
    finishDrawing();
  });
  document.getElementById("area-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveNew();
  });
  fillSelect("area-hazard", HAZARDS, "hazard");
  fillSelect("area-state", STATES, "state");
}

export function renderDrawTools() {
  const allowed = state.byId.has(LAYER) && canEdit(LAYER);
  document.getElementById("draw-tools").hidden = !allowed;
  fillSelect("area-hazard", HAZARDS, "hazard");
  fillSelect("area-state", STATES, "state");
  updateButtons();
}

function fillSelect(id, values, prefix) {
  const select = document.getElementById(id);
  const current = select.value;
  select.replaceChildren(...values.map((v) => new Option(t(`${prefix}.${v}`), v)));
  if (current) select.value = current;
}

function updateButtons() {
  const edit = document.getElementById("draw-edit");
  edit.disabled = !(selected || mode === "edit") || mode === "create";
  edit.textContent = t(mode === "edit" ? "draw.finishEdit" : "draw.edit");
  document.getElementById("draw-delete").disabled = !selected || mode !== null;
  document.getElementById("draw-start").disabled = mode !== null;
}

function ensureDraw() {
  if (draw) return draw;
  const { TerraDraw, TerraDrawPolygonMode, TerraDrawSelectMode } = terraDraw;
  const { TerraDrawMapLibreGLAdapter } = terraDrawMaplibreGlAdapter;
  draw = new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map, lib: maplibregl }),
    modes: [
      new TerraDrawPolygonMode({
        styles: { fillColor: "#d84315", outlineColor: "#d84315", fillOpacity: 0.2, outlineWidth: 2 },
      }),
      new TerraDrawSelectMode({
        flags: { polygon: { feature: { draggable: false, coordinates: { midpoints: true, draggable: true, deletable: true } } } },
      }),
    ],
  });
  draw.start();
  draw.on("finish", (id, context) => {
    if (mode === "create" && (!context || context.action === "draw")) askDetails(id);
  });
  return draw;
}

function finishDrawing() {
  if (draw) {
    draw.stop();
    draw = null;
  }
  mode = null;
  editingId = null;
  updateButtons();
}

function startCreate() {
  ensureDraw().setMode("polygon");
  mode = "create";
  updateButtons();
  toast(t("draw.hint"), "info", 8000);
}

let drawnGeometry = null;

function askDetails(id) {
  drawnGeometry = draw.getSnapshotFeature(id)?.geometry || null;
  document.getElementById("area-error").hidden = true;
  document.getElementById("area-dialog").showModal();
  document.getElementById("area-name").focus();
}

async function saveNew() {
  const form = document.getElementById("area-form");
  const data = new FormData(form);
  const properties = { name: data.get("name").trim(), hazard: data.get("hazard"), state: data.get("state") };
  const notes = data.get("notes").trim();
  if (notes) properties.notes = notes;
  try {
    const response = await sendJson("POST", `/collections/${LAYER}/items`, { type: "Feature", geometry: drawnGeometry, properties });
    const created = await response.json();
    document.getElementById("area-dialog").close();
    form.reset();
    finishDrawing();
    changed();
    toast(t("draw.saved"));
    await showArea(created.id);
  } catch (err) {
    const box = document.getElementById("area-error");
    box.textContent = err.message;
    box.hidden = false;
  }
}

function startEdit() {
  if (!selected) {
    toast(t("draw.select"));
    return;
  }
  const d = ensureDraw();
  d.setMode("select");
  const [added] = d.addFeatures([{ type: "Feature", geometry: selected.geometry, properties: { mode: "polygon" } }]);
  editingId = added && added.id;
  if (editingId !== undefined) d.selectFeature(editingId);
  mode = "edit";
  updateButtons();
}

async function saveShape() {
  const geometry = draw && editingId !== null ? draw.getSnapshotFeature(editingId)?.geometry : null;
  finishDrawing();
  if (!geometry || !selected) return;
  await writeWithVersion("PATCH", { geometry }, t("draw.saved"));
}

async function deleteSelected() {
  if (!selected || !window.confirm(t("draw.confirmDelete"))) return;
  const ok = await writeWithVersion("DELETE", undefined, t("draw.deleted"));
  if (ok) closeArea();
}

// Writes carry the version the user saw; a 412 means someone else changed the area in between.
async function writeWithVersion(method, body, done) {
  const id = selected.id;
  try {
    await sendJson(method, `/collections/${LAYER}/items/${id}`, body, { "If-Match": `"${selected.properties.version}"` });
    changed();
    toast(done);
    if (method !== "DELETE") await showArea(id);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 412) {
      toast(t("draw.conflict"), "error", 10000);
      changed();
      await showArea(id).catch(() => closeArea());
    } else {
      toast(err.message, "error");
    }
    return false;
  }
}

function changed() {
  reloadLayer(LAYER);
  refreshCounts(LAYER);
}

function closeArea() {
  selected = null;
  summaryRun++;
  highlight(null);
  document.getElementById("area-panel").hidden = true;
  updateButtons();
}

export function areaSelected(layerId, feature) {
  if (layerId !== LAYER) return;
  selected = feature;
  highlight(feature.geometry);
  updateButtons();
  summarize(feature).catch(() => {});
}

// Reopens the area's panel (which selects it again, with its new version) after a write or a conflict.
async function showArea(id) {
  await openDetails(LAYER, id);
}

function wkt(geometry) {
  const ring = (r) => `(${r.map(([x, y]) => `${x.toFixed(6)} ${y.toFixed(6)}`).join(", ")})`;
  if (geometry.type === "Polygon") return `POLYGON(${geometry.coordinates.map(ring).join(", ")})`;
  return `MULTIPOLYGON(${geometry.coordinates.map((p) => `(${p.map(ring).join(", ")})`).join(", ")})`;
}

let summaryRun = 0;

// What lies inside the area, shown in the area panel with a button for the area's situation report.
async function summarize(feature) {
  const mine = ++summaryRun;
  const live = state.collections.filter((c) => c.id !== LAYER && Object.keys(state.counts.get(c.id)?.statuses || {}).length);
  const list = hasQuery("in_area") ? await inAreaSummary(feature.id) : await countsInside(feature, live);
  if (mine !== summaryRun) return; // another area was opened meanwhile
  const panel = document.getElementById("area-panel");
  const heading = document.createElement("h3");
  heading.textContent = `${t("draw.inside")}: ${feature.properties.name || ""}`;
  panel.replaceChildren(heading);
  const report = document.createElement("button");
  report.type = "button";
  report.id = "area-report";
  report.textContent = t("report.area");
  report.addEventListener("click", () => {
    const layers = live.map((c) => c.id).slice(0, 20).join(",");
    const q = new URLSearchParams({ area: String(feature.id), layers, lang: lang(), download: "true" });
    download(`/report?${q}`, "laporan-area.html").catch((err) => toast(err.message, "error"));
  });
  panel.append(list, report);
  panel.hidden = false;
}

// The in-area query's summary of a stored area: counts per layer and status, hectares, districts.
async function inAreaSummary(areaId) {
  try {
    const doc = await getJson(`/collections/in_area/summary?area_id=${encodeURIComponent(areaId)}&lang=${lang()}`);
    return summaryElement(doc.summary);
  } catch (err) {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = err.message;
    return p;
  }
}

// Without the in-area query: counts per status of every visible live layer within the area.
async function countsInside(feature, live) {
  const filter = encodeURIComponent(`S_INTERSECTS(geometry, ${wkt(feature.geometry)})`);
  const results = await Promise.all(live.map((c) => getJson(`/collections/${c.id}/counts?filter=${filter}`).catch(() => null)));
  const list = document.createElement("ul");
  list.className = "inside";
  live.forEach((c, i) => {
    const counts = results[i];
    if (!counts || !counts.total) return;
    const parts = Object.entries(counts.statuses).filter(([, n]) => n).map(([s, n]) => `${counts.labels?.[s] || s} ${formatNumber(n)}`);
    const li = document.createElement("li");
    li.dataset.layer = c.id;
    li.textContent = `${c.title}: ${formatNumber(counts.total)}${parts.length ? ` (${parts.join(", ")})` : ""}`;
    list.append(li);
  });
  return list;
}
