// The Queries panel: the caller's query layers, a form generated from each one's parameters, and the
// answer drawn on the map, listed in a table, summarised and exported with the same parameters.

import { summaryElement } from "./area-summary.js";
import { download, getJson, sendJson } from "./api.js";
import { formatNumber, formatTime, lang, t } from "./i18n.js";
import { map, onStyleReady } from "./map.js";
import { drawAnswer, fitAnswer, focusFeature, removeAnswer, selectFeature } from "./query-layer.js";
import { buildQueryForm, el } from "./query-form.js";
import { state } from "./state.js";
import { toast } from "./toast.js";

const LIMIT = 5000;
const EXPORTS = [
  ["gpkg", "GeoPackage", "gpkg"],
  ["shp", "Shapefile", "zip"],
  ["csv", "CSV", "csv"],
];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

let queries = []; // query-layer collection documents the caller may run
let chosen = null; // id of the query whose form is shown
let form = null; // { form, values } of the chosen query
let answer = null; // { query, params, doc } of the last run
let generation = 0;
let picking = null; // callback waiting for a map click
let drawnArea = () => null;
let optionCache = new Map();

export function isPicking() {
  return picking !== null;
}

export function hasQuery(id) {
  return queries.some((q) => q.id === id);
}

/** Wires the panel; `drawnGeometry` returns the area selected or drawn on the map, if any. */
export function initQueries({ drawnGeometry }) {
  drawnArea = drawnGeometry;
  onStyleReady(() => {
    if (answer) drawAnswer(answer.query, answer.doc);
  });
  map.on("click", (event) => {
    if (!picking) return;
    const done = picking;
    picking = null;
    map.getCanvas().style.cursor = "";
    done(event.lngLat.lng, event.lngLat.lat);
  });
}

/** Takes the query layers of GET /collections (after sign-in, sign-out or a language change). */
export function setQueryLayers(list) {
  const kept = form && chosen && list.some((q) => q.id === chosen) ? form.values() : null;
  queries = list;
  optionCache = new Map();
  if (!kept) {
    chosen = null;
    form = null;
  }
  if (answer && !hasQuery(answer.query.id)) clearAnswer(); // signed out: the answer may be restricted
  if (answer) answer.query = queries.find((q) => q.id === answer.query.id);
  renderPanel(kept);
  if (answer) renderResult();
}

function renderPanel(initial) {
  const signedIn = state.me && state.me.kind === "user";
  const hint = document.getElementById("queries-hint");
  hint.textContent = !signedIn ? t("queries.signIn") : queries.length ? "" : t("queries.none");
  hint.hidden = hint.textContent === "";
  const list = document.getElementById("query-list");
  list.replaceChildren(...queries.map(queryItem));
  const box = document.getElementById("query-form-box");
  box.replaceChildren();
  if (chosen) showForm(chosen, initial || {});
}

function queryItem(q) {
  const b = el("button", { type: "button", className: "query-item", dataset: { query: q.id }, title: q.description },
    el("b", {}, q.title), el("small", {}, q.description));
  b.setAttribute("aria-pressed", String(q.id === chosen));
  b.addEventListener("click", () => showForm(q.id, {}));
  return el("li", {}, b);
}

function showForm(id, initial) {
  chosen = id;
  for (const b of document.querySelectorAll("#query-list .query-item")) b.setAttribute("aria-pressed", String(b.dataset.query === id));
  const q = queries.find((x) => x.id === id);
  form = buildQueryForm(q, formContext(), initial);
  form.form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  const run_ = el("button", { type: "submit", id: "query-run", className: "primary" }, t("queries.run"));
  const clear = el("button", { type: "button", id: "query-clear" }, t("queries.clear"));
  clear.addEventListener("click", clearAnswer);
  form.form.append(el("p", { id: "query-error", className: "error", hidden: true, role: "alert" }), el("menu", { className: "query-actions" }, run_, clear));
  document.getElementById("query-form-box").replaceChildren(el("h3", {}, q.title), form.form);
}

function formContext() {
  return {
    lang: lang(),
    // Every query's layer parameters take point assets (the server says so when not); offer only those.
    layers: state.collections.filter((c) => c["kendali:geometry"] === "point").map((c) => ({ id: c.id, title: c.title })),
    areas: () => featureOptions(["response_areas"]),
    districts: () => featureOptions(["districts", "villages"]),
    drawnGeometry: () => drawnArea(),
    viewGeometry,
    pickPoint: (callback) => {
      picking = callback;
      map.getCanvas().style.cursor = "crosshair";
      toast(t("queries.pickHint"));
    },
    notify: (message) => toast(message, "warn"),
  };
}

// Options of a stored-place select: a district's code (its external id) or else the feature id.
async function featureOptions(layerIds) {
  const key = layerIds.join(",");
  if (!optionCache.has(key)) {
    const load = async (id) => {
      if (!state.byId.has(id)) return [];
      const page = await getJson(`/collections/${id}/items?limit=1000&properties=name,external_id`);
      const title = state.byId.get(id).title;
      return page.features.map((f) => [String(f.properties.external_id || f.id), `${f.properties.name || f.id} · ${title}`]);
    };
    optionCache.set(key, Promise.all(layerIds.map(load)).then((lists) => lists.flat()));
  }
  return optionCache.get(key);
}

function viewGeometry() {
  const b = map.getBounds();
  const [w, s, e, n] = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
  return { type: "Polygon", coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] };
}

function showError(message) {
  const box = document.getElementById("query-error");
  if (!box) return;
  box.textContent = message || "";
  box.hidden = !message;
}

// A drawn area of many vertices does not fit in a URL: the same parameters then go as a JSON body.
const LONGEST_URL = 8000;

async function askQuery(id, params) {
  const path = `/collections/${id}/items`;
  const search = new URLSearchParams(params);
  if (path.length + search.toString().length < LONGEST_URL) return getJson(`${path}?${search}`);
  const response = await sendJson("POST", path, params);
  return response.json();
}

async function run() {
  const q = queries.find((x) => x.id === chosen);
  if (!q || !form) return;
  const params = form.values();
  const mine = ++generation;
  showError(null);
  const button = document.getElementById("query-run");
  button.disabled = true;
  toast(t("queries.running"));
  try {
    const doc = await askQuery(q.id, { ...params, limit: String(LIMIT), lang: lang() });
    if (mine !== generation) return;
    answer = { query: q, params, doc };
    drawAnswer(q, doc);
    renderResult();
    fitAnswer(doc, sheetHeight());
    toast(t("queries.matched", { n: formatNumber(doc.numberMatched ?? doc.features.length) }));
  } catch (err) {
    if (mine !== generation) return;
    showError(err.message);
    toast(err.message, "error", 8000);
  } finally {
    button.disabled = false;
  }
}

function sheetHeight() {
  const sheet = document.getElementById("query-result");
  return sheet.hidden ? 0 : sheet.offsetHeight;
}

function clearAnswer() {
  answer = null;
  generation++;
  removeAnswer();
  const panel = document.getElementById("query-result");
  panel.hidden = true;
  panel.replaceChildren();
}

function exportButtons() {
  return EXPORTS.map(([f, label, ext]) => {
    const b = el("button", { type: "button", className: "small", dataset: { format: f } }, label);
    b.addEventListener("click", () => {
      const q = answer.query;
      const search = new URLSearchParams({ ...answer.params, f, lang: lang() });
      toast(t("export.wait"));
      download(`/collections/${q.id}/export?${search}`, `${q.id}.${ext}`).catch((err) => toast(err.message, "error"));
    });
    return b;
  });
}

function renderResult() {
  const { query: q, doc } = answer;
  const features = doc.features || [];
  const matched = doc.numberMatched ?? features.length;
  const count = features.length < matched
    ? t("queries.shown", { shown: formatNumber(features.length), n: formatNumber(matched) })
    : t("queries.matched", { n: formatNumber(matched) });
  const close = el("button", { type: "button", className: "close", title: t("queries.close") }, "×");
  close.setAttribute("aria-label", t("queries.close"));
  close.addEventListener("click", clearAnswer);
  const header = el("header", {},
    el("h3", {}, q.title), el("span", { id: "query-matched", className: "matched", dataset: { n: String(matched) } }, count),
    el("span", { className: "exports" }, `${t("layers.export")}:`, ...exportButtons()), close);
  const panel = document.getElementById("query-result");
  panel.replaceChildren(header);
  if (doc["kendali:summary"]) panel.append(summaryBlock(doc["kendali:summary"]));
  panel.append(features.length ? resultTable(q, features, doc["kendali:columns"] || {}) : el("p", { className: "empty" }, t("queries.empty")));
  panel.hidden = false;
}

function summaryBlock(summary) {
  const body = Array.isArray(summary.layers) ? summaryElement(summary) : el("pre", {}, JSON.stringify(summary, null, 1));
  return el("details", { className: "query-summary", open: true }, el("summary", {}, t("queries.summary")), body);
}

function cellText(q, name, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (name === q["kendali:styleAttribute"]) return q["kendali:labels"]?.[value] || String(value);
  if (typeof value === "number") return formatNumber(value, 2);
  if (typeof value === "boolean") return value ? "✓" : "✗";
  if (typeof value === "string" && ISO_TIME.test(value)) return formatTime(value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function swatchColor(q, properties) {
  const style = q["kendali:style"];
  const attr = q["kendali:styleAttribute"];
  return (attr && style.by_status?.[String(properties[attr])]) || style.color;
}

function columnTitle(info, name) {
  const column = info[name];
  if (!column) return name.replaceAll("_", " ");
  return column.unit ? `${column.title} (${column.unit})` : column.title;
}

function resultTable(q, features, info) {
  const columns = Object.keys(features[0].properties || {});
  const head = el("tr", {}, el("th", {}, ""), ...columns.map((c) => el("th", { scope: "col" }, columnTitle(info, c))));
  const body = document.createDocumentFragment();
  for (const f of features) {
    const swatch = el("span", { className: "dot" });
    swatch.style.background = swatchColor(q, f.properties);
    const tr = el("tr", { dataset: { id: String(f.id) }, tabIndex: 0 }, el("td", {}, swatch),
      ...columns.map((c) => el("td", {}, cellText(q, c, f.properties[c]))));
    const go = () => {
      for (const s of tr.parentElement.querySelectorAll("tr.selected")) s.classList.remove("selected");
      tr.classList.add("selected");
      selectFeature(f.id);
      focusFeature(f.geometry, sheetHeight());
    };
    tr.addEventListener("click", go);
    tr.addEventListener("keydown", (event) => event.key === "Enter" && go());
    body.append(tr);
  }
  const table = el("table", { id: "query-table" }, el("thead", {}, head), el("tbody", {}, body));
  return el("div", { className: "table-wrap" }, table);
}
