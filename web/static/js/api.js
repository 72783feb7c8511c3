// Talking to kendali: the session token on every request, problem bodies as errors, optional features.

import { lang } from "./i18n.js";

const TOKEN_KEY = "kendali.token";
const unauthorizedListeners = [];

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the session lasts as long as the page */
  }
}

export function onUnauthorized(fn) {
  unauthorizedListeners.push(fn);
}

export function authHeaders(extra = {}) {
  const headers = { "Accept-Language": lang(), ...extra };
  const value = token();
  if (value) headers.Authorization = `Bearer ${value}`;
  return headers;
}

export function sameOrigin(url) {
  return new URL(url, location.href).origin === location.origin;
}

export async function apiFetch(path, options = {}) {
  const headers = authHeaders(options.headers || {});
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && token()) {
    setToken(null);
    for (const fn of unauthorizedListeners) fn();
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      /* not a problem body */
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function getJson(path, options = {}) {
  const response = await apiFetch(path, { ...options, headers: { Accept: "application/json", ...(options.headers || {}) } });
  return response.json();
}

export async function sendJson(method, path, body, headers = {}) {
  return apiFetch(path, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// Which optional parts of the server are there (tiles, styles, events, alerts, exports...), read once
// from the OpenAPI document so the dashboard grows as the server does.
export async function capabilities() {
  try {
    const doc = await getJson("/api");
    const paths = new Set(Object.keys(doc.paths || {}));
    return {
      styles: paths.has("/styles/{name}.json"),
      tiles: paths.has("/tiles/{layer_ids}/{z}/{x}/{y}.mvt"),
      basemaps: paths.has("/basemaps"),
      events: paths.has("/events"),
      alerts: paths.has("/alerts"),
      acknowledge: [...paths].some((p) => p.startsWith("/alerts/") && p.endsWith("/acknowledge")),
      export: paths.has("/collections/{collection_id}/export"),
      qgis: [...paths].some((p) => p.startsWith("/qgis/project")),
      counts: paths.has("/collections/{collection_id}/counts"),
      observations: paths.has("/collections/{collection_id}/items/{feature_id}/observations"),
      report: paths.has("/report"),
    };
  } catch {
    return {};
  }
}

// Downloads need the Authorization header too, so they go through fetch and a blob link.
export async function download(path, fallbackName) {
  const response = await apiFetch(path);
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/.exec(disposition);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = match ? match[1] : fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
