// Health: the health report (what GET /health answers, with detail), refreshed every
// 30 s while it is open. Queues and dead letters as tables, the rest as JSON.

import { h } from "../dom.js";
import { count, duration } from "../format.js";
import { jsonBlock, section, table, timeEl } from "../ui.js";

export const title = "Health";
export const refreshSeconds = 30;
const SHOWN = new Set(["status", "healthy", "checked_at", "reasons", "problems", "queues", "dead_letters"]);

/** Healthy or not: the report's ``status`` (``healthy``), or the contract's ``healthy``. */
export function isHealthy(report) {
  if (typeof report.healthy === "boolean") return report.healthy;
  return report.status === "healthy";
}

export async function render(ctx) {
  const report = await ctx.api.get("/health");
  const reasons = report.reasons || report.problems || [];
  const queues = Object.entries(report.queues || {});
  const deadLetters = Object.entries(report.dead_letters || {});
  const rest = Object.entries(report).filter(([key]) => !SHOWN.has(key));
  return h("section", { class: "health-view" },
    h("h1", { tabindex: "-1" }, "Health"),
    h("p", { class: isHealthy(report) ? "health ok" : "health bad", id: "health-state" },
      isHealthy(report) ? "Healthy" : "Not healthy"),
    h("p", { class: "muted" }, "Checked ", timeEl(report.checked_at), "; refreshed every 30 s while this screen is open."),
    reasons.length ? section("Why not", h("ul", { id: "health-reasons" }, reasons.map((r) => h("li", {}, typeof r === "string" ? r : JSON.stringify(r))))) : null,
    queues.length ? section("Queues", table("Job queues", [
      { label: "Queue", cell: ([name]) => name },
      { label: "Waiting", class: "number", cell: ([, q]) => count(q.waiting) },
      { label: "In flight", class: "number", cell: ([, q]) => count(q.in_flight) },
      { label: "Delayed", class: "number", cell: ([, q]) => count(q.delayed) },
      { label: "Oldest", cell: ([, q]) => (q.oldest_age_seconds === null || q.oldest_age_seconds === undefined ? "—" : duration(q.oldest_age_seconds)) },
    ], queues)) : null,
    deadLetters.length ? section("Dead letters", table("Dead letters per queue", [
      { label: "Queue", cell: ([name]) => h("a", { href: ctx.href("dead-letters", { queue: name }) }, name) },
      { label: "Messages", class: "number", cell: ([, n]) => count(n) },
    ], deadLetters)) : null,
    rest.map(([key, value]) => section(key.replace(/_/g, " "), jsonBlock(value, key))));
}
