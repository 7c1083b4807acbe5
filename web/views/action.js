// An action: its args (pretty JSON, large payloads on demand), the whole log as a
// timeline, attempts, last error, correlation id, recurring parent and runs, its saga and,
// deployed, a link to CloudWatch Logs Insights on its correlation id.

import { h, replace } from "../dom.js";
import { count } from "../format.js";
import { empty, jsonBlock, operatorButton, refusal, section, statusBadge, table, timeEl } from "../ui.js";
import { logLine, recurrenceText } from "./actions.js";

export const title = "Action";

function facts(rows) {
  return h("dl", { class: "facts" }, rows.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function argsSection(ctx, detail) {
  const { action } = detail;
  if (!detail.args_in_payload_bucket) return section("Args", jsonBlock(action.args, "Args"));
  const holder = h("div", { id: "args-holder" },
    h("p", {}, "These args are large: they are kept in the payload bucket."));
  const load = h("button", { type: "button", id: "load-args" }, "Load the args");
  load.addEventListener("click", async () => {
    load.disabled = true;
    try {
      const full = await ctx.api.get(`/actions/${encodeURIComponent(action.action_id)}/args`);
      replace(holder, h("p", {}, `${count(full.size_bytes)} bytes${full.from_payload_bucket ? ", from the payload bucket" : ""}.`),
        jsonBlock(full.args, "Args"));
    } catch (error) {
      load.disabled = false;
      ctx.say(refusal(error), "error");
    }
  });
  holder.append(load);
  return section("Args", holder);
}

function timeline(log) {
  if (!log || !log.length) return empty("The log is empty.");
  return h("ol", { class: "timeline", id: "log" }, log.map((entry) => h("li", { class: `event-${entry.event}` },
    timeEl(entry.at), " ",
    h("span", { class: "event" }, entry.event),
    entry.attempt ? h("span", { class: "attempt" }, ` attempt ${entry.attempt}`) : null,
    entry.message ? h("span", { class: "message" }, entry.message) : null)));
}

export async function render(ctx) {
  const id = ctx.id;
  const detail = await ctx.api.get(`/actions/${encodeURIComponent(id)}`);
  const { action } = detail;
  const saga = detail.saga;
  const buttons = h("div", { class: "row-actions" },
    action.status === "pending" && !action.recurrence ? operatorButton(ctx, "Run now", async () => {
      if (!(await ctx.confirm(`Run ${action.hook} (${action.action_id}) now?`, "Run now"))) return;
      await ctx.api.post(`/actions/${encodeURIComponent(id)}/run`);
      ctx.say(`Sent ${action.hook} (${action.action_id}) to its queue.`);
      ctx.refresh();
    }, { id: "run-now" }) : null,
    action.status === "pending" ? operatorButton(ctx, "Cancel", async () => {
      if (!(await ctx.confirm(`Cancel ${action.hook} (${action.action_id})?${action.recurrence ? " All its future runs are canceled." : ""}`, "Cancel action"))) return;
      await ctx.api.post(`/actions/${encodeURIComponent(id)}/cancel`);
      ctx.say(`Canceled ${action.hook} (${action.action_id}).`);
      ctx.refresh();
    }, { id: "cancel", class: "danger" }) : null);

  return h("section", { class: "action-view", dataset: { id: action.action_id } },
    h("p", { class: "crumbs" }, h("a", { href: ctx.href("actions", { status: action.status }) }, "← Actions")),
    h("h1", { tabindex: "-1" }, action.hook, " ", statusBadge(action.status, detail.past_due)),
    buttons,
    facts([
      ["Action id", h("code", {}, action.action_id)],
      ["Group", action.group || "—"],
      ["Priority", action.priority || "—"],
      ["Scheduled", timeEl(action.scheduled_for)],
      ["Created", timeEl(action.created_at)],
      ["Updated", timeEl(action.updated_at)],
      ["Attempts", `${action.attempts} of ${action.max_attempts}`],
      ["Recurrence", recurrenceText(action.recurrence)],
      ["Correlation id", h("code", { id: "correlation-id" }, action.correlation_id || "—")],
      detail.logs_insights_url
        ? ["Logs", h("a", { href: detail.logs_insights_url, target: "_blank", rel: "noopener noreferrer", id: "logs-insights" }, "Open in CloudWatch Logs Insights")]
        : null,
      detail.parent ? ["Recurring parent", h("a", { href: ctx.href("action", {}, detail.parent), id: "parent" }, detail.parent)] : null,
    ]),
    action.last_error ? section("Last error", h("pre", { class: "error-text", id: "last-error", tabindex: "0" }, action.last_error)) : null,
    argsSection(ctx, detail),
    section("Log", timeline(action.log)),
    saga ? section("Saga", h("div", { class: saga.compensation_failed ? "saga compensation-failed" : "saga", id: "saga" },
      facts([
        ["Execution", h("code", {}, saga.execution_arn || saga.arn || "—")],
        ["Status", saga.status],
        saga.error ? ["Error", saga.error] : null,
        saga.compensation_failed ? ["Compensation", h("strong", { class: "alarm" }, "A compensation failed: check by hand")] : null,
      ]))) : null,
    detail.runs && detail.runs.length ? section("Runs", table("Recent runs, latest first", [
      { label: "Run", cell: (r) => h("a", { href: ctx.href("action", {}, r.action_id) }, r.action_id) },
      { label: "Status", cell: (r) => statusBadge(r.status) },
      { label: "Scheduled", cell: (r) => timeEl(r.scheduled_for) },
      { label: "Attempts", class: "number", cell: (r) => String(r.attempts ?? 0) },
      { label: "Last log line", cell: (r) => logLine(r.last_log) },
    ], detail.runs)) : null);
}
