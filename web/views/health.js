// Health: the health report, refreshed every 30 s while it is open.

import { h } from "../dom.js";
import { jsonBlock, section, timeEl } from "../ui.js";

export const title = "Health";
export const refreshSeconds = 30;

export async function render(ctx) {
  const report = await ctx.api.get("/health");
  const problems = report.problems || [];
  const parts = Object.entries(report).filter(([key]) => !["healthy", "checked_at", "problems"].includes(key));
  return h("section", { class: "health-view" },
    h("h1", { tabindex: "-1" }, "Health"),
    h("p", { class: report.healthy ? "health ok" : "health bad", id: "health-state" },
      report.healthy ? "Healthy" : "Not healthy"),
    h("p", { class: "muted" }, "Checked ", timeEl(report.checked_at), "; refreshed every 30 s while this screen is open."),
    problems.length ? section("Problems", h("ul", { id: "health-problems" }, problems.map((p) => h("li", {}, typeof p === "string" ? p : JSON.stringify(p))))) : null,
    parts.map(([key, value]) => section(key.replace(/_/g, " "), jsonBlock(value, key))));
}
