// A small inline SVG chart of an asset's recent history: the value as a line when there is one,
// and the status as a coloured band along the bottom.

const NS = "http://www.w3.org/2000/svg";
const W = 320;
const HEIGHT = 120;

function node(tag, attrs) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  return n;
}

export function historyChart(points, colors, formatTime) {
  const withValues = points.filter((p) => typeof p.value === "number").length >= 2;
  // Without values (cameras, apps) the status band is the whole chart.
  const H = withValues ? HEIGHT : 44;
  const BAND = withValues ? 10 : 28;
  const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img" });
  if (!points.length) return svg;
  const times = points.map((p) => Date.parse(p.time));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1);
  const x = (t) => ((t - t0) / (t1 - t0)) * (W - 2) + 1;
  for (let i = 0; i < points.length; i += 1) {
    const end = i + 1 < points.length ? times[i + 1] : t1;
    const w = Math.max(1, x(end) - x(times[i]));
    svg.append(node("rect", { x: x(times[i]), y: H - BAND, width: w, height: BAND, fill: colors[points[i].status] || "#9e9e9e" }));
  }
  const values = points.map((p) => p.value).filter((v) => typeof v === "number");
  if (withValues) {
    const lo = Math.min(...values);
    const hi = Math.max(...values, lo + 1e-9);
    const y = (v) => H - BAND - 4 - ((v - lo) / (hi - lo)) * (H - BAND - 20);
    const d = points
      .filter((p) => typeof p.value === "number")
      .map((p, i) => `${i ? "L" : "M"}${x(Date.parse(p.time)).toFixed(1)},${y(p.value).toFixed(1)}`)
      .join("");
    svg.append(node("path", { d, fill: "none", stroke: "#0d47a1", "stroke-width": 1.5 }));
    const top = node("text", { x: 2, y: 11, class: "axis" });
    top.textContent = String(Math.round(hi * 100) / 100);
    const bottom = node("text", { x: 2, y: H - BAND - 4, class: "axis" });
    bottom.textContent = String(Math.round(lo * 100) / 100);
    svg.append(top, bottom);
  }
  const start = node("text", { x: W - 2, y: 11, class: "axis", "text-anchor": "end" });
  start.textContent = `${formatTime(new Date(t0))} – ${formatTime(new Date(t1))}`;
  svg.append(start);
  return svg;
}
