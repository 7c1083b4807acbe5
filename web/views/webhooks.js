// Webhooks: the configured sources and their scheme; accepted, duplicate and rejected
// counts (rejections by reason) for the last hour and day.

import { h } from "../dom.js";
import { count } from "../format.js";
import { empty, section, table, timeEl } from "../ui.js";

export const title = "Webhooks";

function windowTable(name, w) {
  const reasons = Object.entries(w.rejected_by_reason || {});
  return table(`The last ${name}`, [
    { label: "Answer", cell: (r) => r[0] },
    { label: "Count", class: "number", cell: (r) => count(r[1]) },
  ], [["accepted", w.accepted], ["duplicate", w.duplicate], ["rejected", w.rejected],
    ...reasons.map(([reason, n]) => [`rejected: ${reason}`, n])]);
}

export async function render(ctx) {
  const report = await ctx.api.get("/webhooks");
  const sources = report.sources || [];
  const windows = report.windows || {};
  return h("section", { class: "webhooks-view" },
    h("h1", { tabindex: "-1" }, "Webhooks"),
    section("Sources", sources.length ? table("Configured webhook sources", [
      { label: "Source", cell: (s) => h("code", {}, s.source) },
      { label: "Scheme", cell: (s) => s.scheme },
    ], sources) : empty("No webhook sources are configured.")),
    section("Answers", h("div", { class: "columns" },
      windows.hour ? windowTable("hour", windows.hour) : null,
      windows.day ? windowTable("day", windows.day) : null),
    report.as_of ? h("p", { class: "muted" }, "As of ", timeEl(report.as_of), ".") : null));
}
