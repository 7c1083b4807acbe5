// Sagas: recent Step Functions executions with their status; a failed compensation
// stands out (it needs a person).

import { h } from "../dom.js";
import { abridged } from "../format.js";
import { empty, table, timeEl } from "../ui.js";

export const title = "Sagas";
const STATUSES = ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];

export async function render(ctx) {
  const status = ctx.params.get("status") || "";
  const report = await ctx.api.get("/sagas", { status });
  const executions = report.executions || [];
  const select = h("select", { id: "saga-status", name: "status" },
    STATUSES.map((s) => h("option", { value: s }, s || "any status")));
  select.value = status;
  select.addEventListener("change", () => ctx.navigate(ctx.href("sagas", { status: select.value })));
  const failedCompensations = executions.filter((e) => e.compensation_failed).length;
  return h("section", { class: "sagas-view" },
    h("h1", { tabindex: "-1" }, "Sagas"),
    h("div", { class: "filters" }, h("div", { class: "field" }, h("label", { for: "saga-status" }, "Status"), select)),
    failedCompensations ? h("p", { class: "alarm-box", role: "alert", id: "compensation-alert" },
      `${failedCompensations} execution${failedCompensations === 1 ? "" : "s"} failed to compensate: the steps they had done may still stand. Check by hand.`) : null,
    executions.length ? table("Recent saga executions", [
      { label: "Execution", cell: (e) => h("code", { title: e.arn }, e.name) },
      { label: "Status", cell: (e) => h("span", { class: `badge saga-${String(e.status).toLowerCase()}` }, e.status) },
      { label: "Compensation", cell: (e) => (e.compensation_failed ? h("strong", { class: "alarm" }, "failed") : "—") },
      { label: "Started", cell: (e) => timeEl(e.started) },
      { label: "Stopped", cell: (e) => timeEl(e.stopped) },
      { label: "Action", cell: (e) => (e.action_id ? h("a", { href: ctx.href("action", {}, e.action_id) }, e.action_id) : "—") },
      { label: "Error", class: "log", cell: (e) => abridged(e.error || "—", 120) },
    ], executions, { rowAttributes: (e) => ({ class: e.compensation_failed ? "compensation-failed" : null }) }) : empty("No saga executions yet."));
}
