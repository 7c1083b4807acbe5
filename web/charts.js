// Line charts drawn with SVG elements made through DOM APIs: no library, no inline style
// (colours come from app.css classes), a title and a description for screen readers and
// the numbers in a table beside each chart.

import { h, uid } from "./dom.js";
import { count, timeText } from "./format.js";

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { top: 12, right: 16, bottom: 28, left: 52 };

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((s) => s * power >= value);
  return step * power;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** A figure: one chart of ``series`` ([{id, label, unit, points: [[iso, value]]}]). */
export function lineChart({ title, series, start, end }) {
  const titleId = uid("chart-title");
  const descId = uid("chart-desc");
  const t0 = new Date(start).getTime();
  const t1 = Math.max(new Date(end).getTime(), t0 + 60000);
  const values = series.flatMap((s) => s.points.map((p) => Number(p[1])));
  const top = niceMax(Math.max(0, ...values));
  const x = (ms) => PAD.left + ((ms - t0) / (t1 - t0)) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => HEIGHT - PAD.bottom - (v / top) * (HEIGHT - PAD.top - PAD.bottom);
  const totals = series.map((s) => `${s.label}: ${s.points.length ? `${count(s.points.reduce((a, p) => a + Number(p[1]), 0))} in all, last ${count(s.points[s.points.length - 1][1])}` : "no data"}`);

  const svg = h("svg:svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": `${titleId} ${descId}`, class: "chart",
  },
  h("svg:title", { id: titleId }, title),
  h("svg:desc", { id: descId }, totals.join("; ")));
  for (let i = 0; i <= 4; i += 1) {
    const value = (top * i) / 4;
    svg.append(h("svg:line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value), class: "grid-line" }),
      h("svg:text", { x: PAD.left - 6, y: y(value) + 4, class: "axis-label", "text-anchor": "end" }, count(Math.round(value * 100) / 100)));
  }
  for (let i = 0; i <= 4; i += 1) {
    const ms = t0 + ((t1 - t0) * i) / 4;
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    svg.append(h("svg:text", { x: x(ms), y: HEIGHT - 8, class: "axis-label", "text-anchor": anchor }, clock(ms)));
  }
  if (!values.length) {
    svg.append(h("svg:text", { x: WIDTH / 2, y: HEIGHT / 2, class: "no-data", "text-anchor": "middle" }, "No data in this period"));
  }
  series.forEach((s, index) => {
    const points = s.points.map(([at, v]) => `${x(new Date(at).getTime()).toFixed(1)},${y(Number(v)).toFixed(1)}`);
    if (points.length > 1) svg.append(h("svg:polyline", { points: points.join(" "), class: `series series-${index % 6}`, "data-series": s.id }));
    for (const [at, v] of s.points) {
      svg.append(h("svg:circle", { cx: x(new Date(at).getTime()).toFixed(1), cy: y(Number(v)).toFixed(1), r: 2.5, class: `dot series-${index % 6}` },
        h("svg:title", {}, `${s.label}: ${v} at ${timeText(at).text}`)));
    }
  });

  const legend = h("ul", { class: "legend" }, series.map((s, index) => h("li", {},
    h("span", { class: `swatch series-${index % 6}`, "aria-hidden": "true" }), s.label)));
  const numbers = h("details", { class: "numbers" }, h("summary", {}, "The numbers"),
    h("table", { class: "grid" }, h("caption", {}, title),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Series"), h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Value"))),
      h("tbody", {}, series.flatMap((s) => s.points.map(([at, v]) => h("tr", {}, h("td", {}, s.label), h("td", {}, timeText(at).text), h("td", { class: "number" }, String(v))))))));
  return h("figure", { class: "chart-figure" }, h("figcaption", {}, title), svg, legend, numbers);
}
