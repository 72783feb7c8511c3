// A query's answer on the map: its own GeoJSON source styled from the query's declared style, a marker
// per shape at city zoom, the feature picked in the table marked, and camera moves clear of the result sheet.

/* global maplibregl */
import { map } from "./map.js";

const SOURCE = "kendali-query";
const MARKER_MAXZOOM = 15;
const SELECTED = ["boolean", ["feature-state", "selected"], false];
let selectedId = null;

function colorOf(q) {
  const style = q["kendali:style"];
  const attr = q["kendali:styleAttribute"];
  const pairs = Object.entries(style.by_status || {}).flat();
  if (!attr || !pairs.length) return style.color;
  return ["match", ["to-string", ["coalesce", ["get", attr], ""]], ...pairs, style.color];
}

export function removeAnswer() {
  for (const suffix of ["fill", "line", "circle", "marker"]) if (map.getLayer(`${SOURCE}-${suffix}`)) map.removeLayer(`${SOURCE}-${suffix}`);
  for (const id of [SOURCE, `${SOURCE}-markers`]) if (map.getSource(id)) map.removeSource(id);
}

function boundsOf(geometries) {
  const bounds = new maplibregl.LngLatBounds();
  const walk = (c) => (typeof c[0] === "number" ? bounds.extend(c) : c.forEach(walk));
  for (const g of geometries) if (g && g.coordinates) walk(g.coordinates);
  return bounds;
}

function centreOf(geometry) {
  const bounds = boundsOf([geometry]);
  return bounds.isEmpty() ? null : bounds.getCenter().toArray();
}

// Small zones (a 30 m cluster, a short segment) vanish at city zoom; a marker at each one's centre keeps
// them visible on the wall until the shape itself is big enough to see.
function addMarkers(doc, color) {
  const features = (doc.features || [])
    .filter((f) => f.geometry)
    .map((f) => ({ type: "Feature", properties: f.properties, geometry: { type: "Point", coordinates: centreOf(f.geometry) } }))
    .filter((f) => f.geometry.coordinates);
  map.addSource(`${SOURCE}-markers`, { type: "geojson", data: { type: "FeatureCollection", features } });
  map.addLayer({
    id: `${SOURCE}-marker`, type: "circle", source: `${SOURCE}-markers`, maxzoom: MARKER_MAXZOOM,
    paint: { "circle-color": color, "circle-radius": 6, "circle-stroke-color": "#212121", "circle-stroke-width": 2, "circle-opacity": 0.9 },
  });
}

export function drawAnswer(q, doc) {
  removeAnswer();
  selectedId = null;
  const style = q["kendali:style"];
  const color = colorOf(q);
  const kind = q["kendali:geometry"];
  map.addSource(SOURCE, { type: "geojson", data: doc });
  if (kind === "polygon") {
    map.addLayer({ id: `${SOURCE}-fill`, type: "fill", source: SOURCE, paint: { "fill-color": color, "fill-opacity": Math.max(style.fill_opacity, 0.3) } });
  }
  if (kind === "polygon" || kind === "line") {
    const width = style.line_width + 1.5;
    map.addLayer({ id: `${SOURCE}-line`, type: "line", source: SOURCE, paint: { "line-color": ["case", SELECTED, "#ff6f00", color], "line-width": ["case", SELECTED, width + 3, width] } });
    addMarkers(doc, color);
  }
  if (kind === "point") {
    map.addLayer({
      id: `${SOURCE}-circle`, type: "circle", source: SOURCE,
      paint: {
        "circle-color": color, "circle-radius": ["case", SELECTED, style.radius + 6, style.radius + 2],
        "circle-stroke-color": ["case", SELECTED, "#ff6f00", "#212121"], "circle-stroke-width": ["case", SELECTED, 4, 2],
      },
    });
  }
}

export function fitAnswer(doc, bottomPx) {
  const features = doc.features || [];
  if (!features.length) return;
  const bounds = boundsOf(features.map((f) => f.geometry));
  if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: padding(bottomPx), maxZoom: 16, duration: 600 });
}

// Room around fitted shapes, so none ends up under the result sheet (`bottomPx` high) at the map's foot.
function padding(bottomPx) {
  return { top: 60, left: 60, right: 60, bottom: bottomPx + 40 };
}

// The row clicked in the table, marked on the map too.
export function selectFeature(featureId) {
  if (selectedId !== null && map.getSource(SOURCE)) map.setFeatureState({ source: SOURCE, id: selectedId }, { selected: false });
  selectedId = featureId;
  if (featureId !== null && featureId !== undefined && map.getSource(SOURCE)) map.setFeatureState({ source: SOURCE, id: featureId }, { selected: true });
}

export function focusFeature(geometry, bottomPx) {
  if (!geometry) return;
  if (geometry.type === "Point") {
    // An offset, not `padding`: flyTo would keep the padding for every later camera move.
    map.flyTo({ center: geometry.coordinates, zoom: Math.max(map.getZoom(), 16), offset: [0, -bottomPx / 2] });
    return;
  }
  map.fitBounds(boundsOf([geometry]), { padding: padding(bottomPx), maxZoom: 17 });
}

