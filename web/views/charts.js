// Charts: actions completed and failed per minute, queue depth and oldest message age,
// webhook answers by status, over the last hours, from CloudWatch metrics.

import { h } from "../dom.js";
import { lineChart } from "../charts.js";
import { timeEl } from "../ui.js";

export const title = "Charts";
export const refreshSeconds = 60;
const CHARTS = [
  ["actions", "Actions completed and failed per minute"],
  ["queues", "Queue depth"],
  ["queue_age", "Oldest message age (seconds)"],
  ["webhooks", "Webhook answers by status"],
];
const HOURS = [1, 3, 6, 12, 24];

export async function render(ctx) {
  const hours = Number(ctx.params.get("hours")) || 3;
  const data = await ctx.api.get("/charts", { hours });
  const series = data.series || [];
  const select = h("select", { id: "chart-hours" }, HOURS.map((n) => h("option", { value: String(n) }, `last ${n} h`)));
  select.value = String(hours);
  select.addEventListener("change", () => ctx.navigate(ctx.href("charts", { hours: select.value })));
  const known = new Set(CHARTS.map(([id]) => id));
  const extra = [...new Set(series.map((s) => s.chart))].filter((id) => !known.has(id)).map((id) => [id, id]);
  return h("section", { class: "charts-view" },
    h("h1", { tabindex: "-1" }, "Charts"),
    h("div", { class: "filters" }, h("div", { class: "field" }, h("label", { for: "chart-hours" }, "Period"), select)),
    h("p", { class: "muted" }, "From ", timeEl(data.start), " to ", timeEl(data.end), `, per ${Math.round((data.period_seconds || 60) / 60)} min; refreshed every minute.`),
    h("div", { class: "charts" }, [...CHARTS, ...extra].map(([id, label]) => lineChart({
      title: label, series: series.filter((s) => s.chart === id), start: data.start, end: data.end,
    }))));
}
