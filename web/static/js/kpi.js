// The KPI strip: what is wrong right now. One tile per live layer the caller may see whose declared alert
// rules name what is wrong (the server's `kendali:status`): how many assets are in those statuses, and,
// where silence counts too, not reporting; red while any is in the worst of them.

import { formatNumber, t } from "./i18n.js";
import { state } from "./state.js";

function alarmOf(collection) {
  const live = collection["kendali:status"];
  return live && (live.alarm.length || live.alarmStale) ? live : null;
}

function sum(counts, statuses) {
  return statuses.reduce((n, s) => n + (counts.statuses[s] ?? 0), 0);
}

// What is counted, e.g. "Kamera CCTV: Luring/tanpa laporan"; the tile itself names only the layer.
function description(collection, live) {
  const names = live.alarm.map((s) => live.labels[s] || s);
  if (live.alarmStale) names.push(t("layers.stale"));
  return `${collection.title}: ${names.join("/")}`;
}

export function renderKpis() {
  const root = document.getElementById("kpis");
  root.replaceChildren();
  for (const c of state.collections) {
    const live = alarmOf(c);
    const counts = state.counts.get(c.id);
    if (!live || !counts) continue;
    const wrong = sum(counts, live.alarm) + (live.alarmStale ? counts.stale : 0);
    const worst = live.alarm[live.alarm.length - 1];
    const li = document.createElement("li");
    li.dataset.kpi = c.id;
    li.dataset.layer = c.id;
    if (worst ? (counts.statuses[worst] ?? 0) > 0 : wrong > 0) li.classList.add("bad");
    const value = document.createElement("b");
    value.textContent = formatNumber(wrong);
    li.title = description(c, live);
    const text = document.createElement("span");
    text.textContent = c.title;
    li.append(value, text);
    root.append(li);
  }
}
