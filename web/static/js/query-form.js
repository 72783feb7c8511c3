// A form for any query layer, generated from its declared parameters (`kendali:parameters`, JSON Schema):
// numbers with bounds and units, enums, booleans, times in WIT, and the place kinds the server knows
// (a point, a geometry, a response area, a district) plus layer choosers. Nothing here knows a query by id.

import { t } from "./i18n.js";

// The place parameters of layers/queries/places.py; a query takes exactly one of those it declares.
const PLACE_KINDS = ["area_id", "district", "geometry", "point", "asset_id"];
const WIT_OFFSET = "+09:00";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function fieldKind(name, schema) {
  if (["point", "geometry", "area_id", "district"].includes(name)) return name;
  if (name === "layer" || name === "layers") return name;
  if (schema.contentMediaType === "application/geo+json") return "geometry";
  if (Array.isArray(schema.enum)) return "enum";
  if (schema.type === "boolean") return "boolean";
  if (schema.type === "number" || schema.type === "integer") return "number";
  if (schema.format === "date-time") return "datetime";
  return "text";
}

function defaultText(schema) {
  const value = schema.default;
  if (value === undefined || value === null) return "";
  return Array.isArray(value) ? value.join(",") : String(value);
}

function titleOf(name, schema, lang) {
  return (lang === "en" ? schema["x-title-en"] : schema["x-title-id"]) || schema.title || name;
}

function textInput(id, initial, schema, extra = {}) {
  return el("input", { id, type: "text", value: initial, maxLength: schema.maxLength, pattern: schema.pattern, ...extra });
}

function numberInput(id, initial, schema) {
  const input = el("input", { id, type: "number", value: initial, step: schema.type === "integer" ? "1" : "any" });
  // Huge bounds (an id's 2^63) only clutter the spinner; the server checks them anyway.
  if (typeof schema.minimum === "number") input.min = String(schema.minimum);
  if (typeof schema.maximum === "number" && schema.maximum < Number.MAX_SAFE_INTEGER) input.max = String(schema.maximum);
  return input;
}

function selectInput(id, options, initial, required) {
  const select = el("select", { id });
  if (!required) select.append(new Option(t("queries.choose"), ""));
  for (const [value, label] of options) select.append(new Option(label, value));
  if (initial) select.value = initial;
  return select;
}

// Options that come from the server (response areas, districts) arrive after the form is shown.
function asyncSelect(id, load, initial) {
  const select = selectInput(id, [], "", false);
  load()
    .then((options) => {
      for (const [value, label] of options) select.append(new Option(label, value));
      if (initial) select.value = initial;
    })
    .catch(() => {});
  return select;
}

function layerChecks(id, layers, initial) {
  const chosen = new Set(initial ? initial.split(",") : []);
  const box = el("div", { id, className: "layer-checks", role: "group" });
  for (const layer of layers) {
    const input = el("input", { type: "checkbox", value: layer.id, checked: chosen.has(layer.id) });
    box.append(el("label", { dataset: { layer: layer.id } }, input, ` ${layer.title}`));
  }
  return box;
}

function readLayerChecks(box) {
  return [...box.querySelectorAll("input:checked")].map((i) => i.value).join(",");
}

function polygonWkt(ring) {
  return `POLYGON((${ring.map(([x, y]) => `${x.toFixed(6)} ${y.toFixed(6)}`).join(", ")}))`;
}

function geometryText(geometry) {
  if (geometry.type === "Polygon" && geometry.coordinates.length === 1) return polygonWkt(geometry.coordinates[0]);
  return JSON.stringify(geometry);
}

function button(label, onClick, dataset) {
  const b = el("button", { type: "button", className: "small", dataset }, label);
  b.addEventListener("click", onClick);
  return b;
}

// One input per kind; `read` returns the text to send, or "" to leave the parameter out.
function control(name, kind, schema, initial, ctx) {
  const id = `q-param-${name}`;
  if (kind === "enum") {
    const options = schema.enum.map((v) => [String(v), String(v)]);
    const input = selectInput(id, options, initial || defaultText(schema), schema["x-required"]);
    return { input, read: () => input.value };
  }
  if (kind === "boolean") {
    const on = initial ? initial === "true" : schema.default === true;
    const input = el("input", { id, type: "checkbox", checked: on });
    return { input, read: () => (input.checked ? "true" : "false") };
  }
  if (kind === "number") {
    const input = numberInput(id, initial || defaultText(schema), schema);
    return { input, read: () => input.value.trim() };
  }
  if (kind === "datetime") {
    const input = el("input", { id, type: "datetime-local", value: initial || "" });
    const suffix = el("span", { className: "unit" }, t("queries.wit"));
    return { input, extra: [suffix], read: () => (input.value ? `${input.value.length === 16 ? `${input.value}:00` : input.value}${WIT_OFFSET}` : "") };
  }
  if (kind === "layer") {
    const options = ctx.layers.map((l) => [l.id, l.title]);
    const input = selectInput(id, options, initial || defaultText(schema), schema["x-required"]);
    return { input, read: () => input.value };
  }
  if (kind === "layers") {
    const input = layerChecks(id, ctx.layers, initial || defaultText(schema));
    return { input, read: () => readLayerChecks(input) };
  }
  if (kind === "area_id") {
    const input = asyncSelect(id, ctx.areas, initial);
    return { input, read: () => input.value };
  }
  if (kind === "district") {
    const input = asyncSelect(id, ctx.districts, initial);
    return { input, read: () => input.value };
  }
  if (kind === "point") {
    const input = textInput(id, initial, schema, { placeholder: "128.18,-3.69", inputMode: "decimal" });
    const pick = button(t("queries.pick"), () => ctx.pickPoint((lon, lat) => (input.value = `${lon.toFixed(6)},${lat.toFixed(6)}`)), { action: "pick" });
    return { input, extra: [pick], read: () => input.value.trim() };
  }
  if (kind === "geometry") {
    const input = el("textarea", { id, rows: 3, value: initial, placeholder: "POLYGON((…)) / GeoJSON", spellcheck: false });
    const use = (geometry) => {
      if (geometry) input.value = geometryText(geometry);
      else ctx.notify(t("queries.noDrawn"));
    };
    const drawn = button(t("queries.useDrawn"), () => use(ctx.drawnGeometry()), { action: "use-drawn" });
    const view = button(t("queries.useView"), () => use(ctx.viewGeometry()), { action: "use-view" });
    return { input, extra: [el("span", { className: "geometry-actions" }, drawn, view)], read: () => input.value.trim() };
  }
  const input = textInput(id, initial || defaultText(schema), schema);
  return { input, read: () => input.value.trim() };
}

function field(name, schema, initial, ctx) {
  const kind = fieldKind(name, schema);
  const { input, extra = [], read } = control(name, kind, schema, initial, ctx);
  const unit = schema["x-unit"] ? el("span", { className: "unit" }, schema["x-unit"]) : null;
  const required = schema["x-required"] ? el("abbr", { title: t("queries.required") }, " *") : null;
  const label = el("label", { htmlFor: input.id, className: "param-title" }, titleOf(name, schema, ctx.lang), required);
  const row = el("div", { className: `param kind-${kind}`, dataset: { param: name } }, label, el("div", { className: "param-input" }, input, unit, ...extra));
  return { name, row, read };
}

// Several place kinds: a chooser shows one of them, so exactly one place is sent.
function placeChooser(fields, initialKind) {
  const select = el("select", { id: "q-place-kind" });
  for (const f of fields) select.append(new Option(f.title, f.name));
  select.value = initialKind && fields.some((f) => f.name === initialKind) ? initialKind : fields[0].name;
  const show = () => fields.forEach((f) => (f.row.hidden = f.name !== select.value));
  select.addEventListener("change", show);
  show();
  const head = el("label", { htmlFor: select.id, className: "param-title" }, t("queries.place"));
  return { select, row: el("div", { className: "param place-kind", title: t("queries.placeHint") }, head, select) };
}

/** Builds the form of one query layer; returns the element and a reader of the parameters to send. */
export function buildQueryForm(collection, ctx, initial = {}) {
  const schema = collection["kendali:parameters"] || { properties: {} };
  const form = el("form", { className: "query-form", noValidate: true, autocomplete: "off", dataset: { query: collection.id } });
  const fields = Object.entries(schema.properties || {}).map(([name, prop]) => ({
    ...field(name, prop, initial[name] || "", ctx),
    title: titleOf(name, prop, ctx.lang),
  }));
  const places = fields.filter((f) => PLACE_KINDS.includes(f.name));
  let chooser = null;
  if (places.length > 1) {
    const given = places.find((f) => initial[f.name]);
    chooser = placeChooser(places, given ? given.name : null);
    form.append(el("fieldset", { className: "place" }, chooser.row, ...places.map((f) => f.row)));
  }
  for (const f of fields) if (!(chooser && places.includes(f))) form.append(f.row);
  const values = () => {
    const out = {};
    for (const f of fields) {
      if (chooser && places.includes(f) && f.name !== chooser.select.value) continue;
      const value = f.read();
      if (value !== "") out[f.name] = value;
    }
    return out;
  };
  return { form, values };
}
