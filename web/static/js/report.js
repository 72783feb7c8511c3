// The situation report of the current view: the server builds a self-contained HTML page (folium,
// Leaflet inlined) of the visible layers, downloaded as a file to open, keep and share as is.
// (Opened from a blob in a tab it would inherit this page's script policy and stay blank.)

import { download } from "./api.js";
import { lang, t } from "./i18n.js";
import { viewBbox } from "./map.js";
import { state } from "./state.js";
import { toast } from "./toast.js";

export function initReport() {
  document.getElementById("report-button").addEventListener("click", saveReport);
}

export function renderReportButton() {
  document.getElementById("report-button").hidden = !state.caps.report;
}

async function saveReport() {
  const layers = state.collections.filter((c) => state.visible.get(c.id) !== false).map((c) => c.id);
  if (!layers.length) return;
  toast(t("report.wait"));
  const q = new URLSearchParams({ bbox: viewBbox(), layers: layers.slice(0, 20).join(","), lang: lang(), download: "true" });
  try {
    await download(`/report?${q}`, "laporan-situasi.html");
  } catch (err) {
    toast(err.message, "error");
  }
}
