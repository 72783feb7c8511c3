// What the whole dashboard shares: the caller, the layers they see, the server's optional parts.

export const state = {
  caps: {},
  me: null, // GET /auth/me
  collections: [], // GET /collections (the caller's)
  byId: new Map(), // collection id -> collection document
  counts: new Map(), // collection id -> GET /collections/{id}/counts
  visible: new Map(), // collection id -> on/off
  basemap: null,
};

export const AMBON = { center: [128.18, -3.7], zoom: 12 };

// Off at start: dense reference layers that hide the live ones on the wall.
export const HIDDEN_AT_START = new Set(["villages", "river_basins"]);

export function setCollections(list) {
  state.collections = list;
  state.byId = new Map(list.map((c) => [c.id, c]));
  for (const c of list) if (!state.visible.has(c.id)) state.visible.set(c.id, !HIDDEN_AT_START.has(c.id));
}

export function canEdit(layerId) {
  return Boolean(state.me && (state.me.editable || []).includes(layerId));
}

// Mirrors the server's rule (layers/alert_queries.py): the owner agency's operators and up, and the
// Command Center's operators and supervisors; the server has the last word.
export function mayAcknowledge(layerId) {
  const roles = (state.me && state.me.roles) || [];
  if (roles.includes("admin")) return true;
  if (roles.includes("kominfo-operator") || roles.includes("kominfo-supervisor")) return true;
  const owner = state.byId.get(layerId)?.["kendali:owner"];
  return Boolean(owner) && ["operator", "editor", "supervisor", "admin"].some((f) => roles.includes(`${owner}-${f}`));
}
