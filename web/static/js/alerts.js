// Open alerts, newest first: click one to fly to its asset; acknowledge where the caller may.

import { getJson, sendJson } from "./api.js";
import { openDetails } from "./details.js";
import { formatTime, lang, t } from "./i18n.js";
import { mayAcknowledge, state } from "./state.js";
import { toast } from "./toast.js";

const MAX_SHOWN = 100;

export async function loadAlerts() {
  const section = document.getElementById("alerts");
  section.hidden = !state.caps.alerts;
  if (!state.caps.alerts) return;
  try {
    const doc = await getJson(`/alerts?state=active&limit=${MAX_SHOWN}&lang=${lang()}`);
    render(Array.isArray(doc) ? doc : doc.alerts || doc.items || []);
  } catch {
    render([]);
  }
}

function render(alerts) {
  const list = document.getElementById("alert-list");
  list.replaceChildren();
  const visible = alerts.filter((a) => a.state !== "resolved").sort((a, b) => b.id - a.id);
  if (!visible.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = t("alerts.none");
    list.append(li);
    return;
  }
  for (const alert of visible) list.append(item(alert));
}

function item(alert) {
  const li = document.createElement("li");
  li.className = `alert ${alert.severity || ""} ${alert.state || ""}`;
  li.dataset.alert = String(alert.id);
  const title = document.createElement("button");
  title.type = "button";
  title.className = "alert-title";
  title.textContent = alert.message || alert.rule || `#${alert.id}`;
  const meta = document.createElement("small");
  const where = alert.asset?.name || alert.area?.name || "";
  meta.textContent = `${where} · ${formatTime(alert.opened_at || alert.since)}`;
  title.addEventListener("click", () => {
    if (alert.asset?.id && alert.layer) openDetails(alert.layer, alert.asset.id, true).catch(() => {});
  });
  li.append(title, meta);
  if (alert.state === "acknowledged") {
    const done = document.createElement("span");
    done.className = "acked";
    done.textContent = t("alerts.acked");
    li.append(done);
  } else if (state.caps.acknowledge && mayAcknowledge(alert.layer)) {
    const ack = document.createElement("button");
    ack.type = "button";
    ack.className = "ack";
    ack.textContent = t("alerts.ack");
    ack.addEventListener("click", async () => {
      try {
        await sendJson("POST", `/alerts/${alert.id}/acknowledge`);
        await loadAlerts();
      } catch (err) {
        toast(err.message, "error");
      }
    });
    li.append(ack);
  }
  return li;
}

export function alertArrived() {
  toast(t("alerts.new"), "warn");
  loadAlerts();
}
