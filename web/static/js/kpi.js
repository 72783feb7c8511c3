// The KPI strip: what is wrong right now, from the live counts of the layers the caller may see.

import { formatNumber, t } from "./i18n.js";
import { state } from "./state.js";

const KPIS = [
  { id: "cameras", layer: "cctv", value: (c) => percent(c.statuses.online, c.total), bad: (c) => c.statuses.online < c.total * 0.9 },
  { id: "tps", layer: "dumping_points", value: (c) => sum(c, "full", "overflow"), bad: (c) => (c.statuses.overflow ?? 0) > 0 },
  { id: "rivers", layer: "das_stations", value: (c) => sum(c, "siaga", "awas"), bad: (c) => sum(c, "siaga", "awas") > 0 },
  // Only for callers who may see taxpayers: the layer is simply absent for everyone else.
  { id: "tapping", layer: "taxpayers", value: (c) => formatNumber((c.statuses.offline ?? 0) + c.stale), bad: (c) => (c.statuses.offline ?? 0) > 0 },
  { id: "apps", layer: "city_apps", value: (c) => sum(c, "down"), bad: (c) => (c.statuses.down ?? 0) > 0 },
];

function sum(c, ...statuses) {
  return statuses.reduce((n, s) => n + (c.statuses[s] ?? 0), 0);
}

function percent(part, whole) {
  return whole ? `${formatNumber((100 * (part ?? 0)) / whole, 0)}%` : "—";
}

export function renderKpis() {
  const root = document.getElementById("kpis");
  root.replaceChildren();
  for (const kpi of KPIS) {
    const counts = state.counts.get(kpi.layer);
    if (!state.byId.has(kpi.layer) || !counts) continue;
    const li = document.createElement("li");
    li.dataset.kpi = kpi.id;
    li.dataset.layer = kpi.layer;
    if (kpi.bad(counts)) li.classList.add("bad");
    const value = document.createElement("b");
    value.textContent = String(kpi.value(counts));
    const label = document.createElement("span");
    label.textContent = t(`kpi.${kpi.id}`);
    li.append(value, label);
    root.append(li);
  }
}
