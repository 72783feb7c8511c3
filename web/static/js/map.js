// The map: a basemap style from the server (or a plain one), every visible layer coloured by live status,
// and live changes applied as feature state, so tiles are never reloaded for a status change.

/* global maplibregl */
import { authHeaders, sameOrigin } from "./api.js";
import { AMBON, state } from "./state.js";

export let map = null;

const layerIndex = new Map(); // collection id -> { source, sourceLayer, styleLayers: [] }
const styleLayerOwner = new Map(); // style layer id -> collection id
const liveStates = new Map(); // collection id -> Map(asset id -> { status, stale })
const readyListeners = [];
const DRAW_ORDER = { polygon: 0, line: 1, point: 2 };
const BACKGROUND = "#dde7ee";

export function onStyleReady(fn) {
  readyListeners.push(fn);
}

export function createMap(container) {
  map = new maplibregl.Map({
    container,
    style: plainStyle(false),
    center: AMBON.center,
    zoom: AMBON.zoom,
    attributionControl: { compact: true },
    // Tiles, styles and GeoJSON of restricted layers need the caller's credentials, like every fetch.
    transformRequest: (url) => (sameOrigin(url) ? { url, headers: authHeaders() } : { url }),
  });
  map.addControl(new maplibregl.NavigationControl({ visualizePitch: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  window.kendaliMap = map; // for people debugging on the wall, and for the browser tests
  return map;
}

function plainStyle(withLand) {
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": BACKGROUND } }],
    metadata: {},
  };
  if (withLand) {
    style.sources.land = { type: "geojson", data: "/basemaps/offline/land.geojson" };
    style.layers.push({ id: "land", type: "fill", source: "land", paint: { "fill-color": "#f4f1ea" } });
  }
  return style;
}

// Loads the basemap (a server style with the caller's layers, or a plain background with layers added
// here) and calls the ready listeners once every layer is in place.
export function loadStyle(basemapId) {
  const url = basemapId && state.caps.styles ? `/styles/${encodeURIComponent(basemapId)}.json` : null;
  map.once("style.load", () => {
    indexLayers(url !== null);
    for (const fn of readyListeners) fn();
  });
  map.setStyle(url || plainStyle(Boolean(state.caps.basemaps)), { diff: false });
}

function indexLayers(fromServer) {
  layerIndex.clear();
  styleLayerOwner.clear();
  if (fromServer) {
    for (const entry of map.getStyle().metadata?.["kendali:layers"] || []) {
      if (state.byId.has(entry.id)) register(entry.id, entry.source, entry.id, entry.style_layers);
    }
  }
  const missing = state.collections.filter((c) => !layerIndex.has(c.id));
  missing.sort((a, b) => DRAW_ORDER[a["kendali:geometry"]] - DRAW_ORDER[b["kendali:geometry"]]);
  for (const c of missing) addOverlay(c);
  for (const c of state.collections) {
    paint(c);
    setLayerVisible(c.id, state.visible.get(c.id) !== false);
    for (const [id, live] of liveStates.get(c.id) || []) setState(c.id, id, live);
  }
  if (highlighted) highlight(highlighted);
}

function register(collectionId, source, sourceLayer, styleLayers) {
  layerIndex.set(collectionId, { source, sourceLayer, styleLayers });
  for (const id of styleLayers) styleLayerOwner.set(id, collectionId);
}

// Layers the server's style does not draw (or no style at all): vector tiles when the server has them,
// else the feature API's GeoJSON.
function addOverlay(c) {
  const source = `kendali-${c.id}`;
  if (state.caps.tiles) {
    map.addSource(source, { type: "vector", tiles: [`${location.origin}/tiles/${c.id}/{z}/{x}/{y}.mvt`], maxzoom: 22 });
  } else {
    map.addSource(source, { type: "geojson", data: `${location.origin}/collections/${c.id}/items?limit=10000` });
  }
  const sourceLayer = state.caps.tiles ? c.id : undefined;
  const common = { source, ...(sourceLayer ? { "source-layer": sourceLayer } : {}), metadata: { "kendali:layer": c.id } };
  const ids = [];
  const kind = c["kendali:geometry"];
  if (kind === "polygon") {
    map.addLayer({ ...common, id: `${c.id}-fill`, type: "fill", paint: { "fill-opacity": c["kendali:style"].fill_opacity } });
    ids.push(`${c.id}-fill`);
  }
  if (kind === "polygon" || kind === "line") {
    map.addLayer({ ...common, id: `${c.id}-line`, type: "line", layout: { "line-join": "round", "line-cap": "round" } });
    ids.push(`${c.id}-line`);
  }
  if (kind === "point") {
    map.addLayer({ ...common, id: `${c.id}-circle`, type: "circle" });
    ids.push(`${c.id}-circle`);
  }
  register(c.id, source, sourceLayer, ids);
}

const STALE = ["==", ["coalesce", ["feature-state", "stale"], ["get", "stale"], false], true];
const STATUS = ["to-string", ["coalesce", ["feature-state", "status"], ["get", "status"], ["get", "state"], ""]];

export function colorExpression(style) {
  const pairs = Object.entries(style.by_status || {}).flat();
  const base = pairs.length ? ["match", STATUS, ...pairs, style.color] : style.color;
  return ["case", STALE, style.stale_color, base];
}

function radiusExpression(style) {
  const count = ["coalesce", ["get", "point_count"], ["get", "count"], 1];
  return ["case", [">", count, 1], ["interpolate", ["linear"], count, 2, style.radius * 1.4, 100, style.radius * 2.3, 1000, style.radius * 3], style.radius];
}

// The server's style colours by the tile's `status`; repainting reads feature state first, so live
// events show at once, and stale assets get a dark ring as well as the stale colour.
function paint(c) {
  const entry = layerIndex.get(c.id);
  const style = c["kendali:style"];
  const color = colorExpression(style);
  for (const id of entry.styleLayers) {
    const type = map.getLayer(id)?.type;
    if (type === "circle") {
      map.setPaintProperty(id, "circle-color", color);
      map.setPaintProperty(id, "circle-stroke-color", ["case", STALE, "#212121", "#ffffff"]);
      map.setPaintProperty(id, "circle-stroke-width", ["case", STALE, 2, 1]);
      if (!map.getPaintProperty(id, "circle-radius")) map.setPaintProperty(id, "circle-radius", radiusExpression(style));
    } else if (type === "line") {
      map.setPaintProperty(id, "line-color", color);
      map.setPaintProperty(id, "line-width", style.line_width);
    } else if (type === "fill") {
      map.setPaintProperty(id, "fill-color", color);
    }
  }
}

export function setLayerVisible(collectionId, on) {
  state.visible.set(collectionId, on);
  const entry = layerIndex.get(collectionId);
  if (!entry) return;
  for (const id of entry.styleLayers) if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
}

export function styleLayersOf(collectionId) {
  return layerIndex.get(collectionId)?.styleLayers || [];
}

export function allStyleLayers() {
  return [...styleLayerOwner.keys()].filter((id) => map.getLayer(id));
}

export function collectionOf(styleLayerId) {
  return styleLayerOwner.get(styleLayerId);
}

function setState(collectionId, assetId, live) {
  const entry = layerIndex.get(collectionId);
  if (!entry || !map.getSource(entry.source)) return;
  const target = { source: entry.source, id: assetId };
  if (entry.sourceLayer) target.sourceLayer = entry.sourceLayer;
  map.setFeatureState(target, live);
}

// Applies new statuses ({id, status, stale}) of one layer as feature state and remembers them, so a
// basemap switch (which rebuilds the sources) keeps them.
export function applyLive(collectionId, assets) {
  let states = liveStates.get(collectionId);
  if (!states) liveStates.set(collectionId, (states = new Map()));
  for (const a of assets) {
    const live = { status: a.status ?? null, stale: Boolean(a.stale) };
    states.set(a.id, live);
    setState(collectionId, a.id, live);
  }
}

export function liveState(collectionId, assetId) {
  const entry = layerIndex.get(collectionId);
  if (!entry) return null;
  const target = { source: entry.source, id: assetId };
  if (entry.sourceLayer) target.sourceLayer = entry.sourceLayer;
  return map.getFeatureState(target);
}

export function flyToGeometry(geometry) {
  if (!geometry) return;
  const coords = [];
  const walk = (c) => (typeof c[0] === "number" ? coords.push(c) : c.forEach(walk));
  walk(geometry.coordinates);
  if (coords.length === 1) {
    map.flyTo({ center: coords[0], zoom: Math.max(map.getZoom(), 16) });
    return;
  }
  const bounds = coords.reduce((b, c) => b.extend(c), new maplibregl.LngLatBounds(coords[0], coords[0]));
  map.fitBounds(bounds, { padding: 60, maxZoom: 17 });
}

export function viewBbox() {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
    .map((v) => v.toFixed(5))
    .join(",");
}

// After an edit: GeoJSON is fetched again; tiles get a new URL so neither the browser's cache nor
// MapLibre's holds the old shape.
export function reloadLayer(collectionId) {
  const entry = layerIndex.get(collectionId);
  const source = entry && map.getSource(entry.source);
  if (!source) return;
  if (source.type === "geojson") {
    source.setData(`${location.origin}/collections/${collectionId}/items?limit=10000`);
  } else if (typeof source.setTiles === "function") {
    const bust = `v=${Date.now()}`;
    source.setTiles((source.tiles || []).map((u) => `${u.split("?")[0]}?${bust}`));
  }
}

let highlighted = null;

// The selected area drawn on top (also right after it is saved, before every tile shows it).
export function highlight(geometry) {
  highlighted = geometry || null;
  const data = { type: "FeatureCollection", features: highlighted ? [{ type: "Feature", geometry: highlighted, properties: {} }] : [] };
  const source = map.getSource("kendali-highlight");
  if (source) {
    source.setData(data);
    return;
  }
  map.addSource("kendali-highlight", { type: "geojson", data });
  map.addLayer({ id: "kendali-highlight-fill", type: "fill", source: "kendali-highlight", paint: { "fill-color": "#ff6f00", "fill-opacity": 0.15 } });
  map.addLayer({ id: "kendali-highlight-line", type: "line", source: "kendali-highlight", paint: { "line-color": "#ff6f00", "line-width": 3, "line-dasharray": [2, 1] } });
}
