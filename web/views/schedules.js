// Schedules: recurring and cron actions with their expression, time zone and next runs.

import { h } from "../dom.js";
import { abridged } from "../format.js";
import { empty, operatorButton, statusBadge, table, timeEl } from "../ui.js";

export const title = "Schedules";

export async function render(ctx) {
  const cursor = ctx.params.get("cursor") || "";
  const page = await ctx.api.get("/schedules", { cursor });
  const schedules = page.schedules || [];
  return h("section", { class: "schedules-view" },
    h("h1", { tabindex: "-1" }, "Schedules"),
    schedules.length ? table("Recurring and cron actions, soonest next run first", [
      { label: "Hook", cell: (s) => h("a", { href: ctx.href("action", {}, s.action_id) }, s.hook) },
      { label: "Kind", cell: (s) => s.kind },
      { label: "Expression", cell: (s) => h("code", {}, s.expression) },
      { label: "Time zone", cell: (s) => s.timezone || "UTC" },
      { label: "Group", cell: (s) => s.group || "—" },
      { label: "Args", class: "args", cell: (s) => h("code", {}, abridged(s.args, 60)) },
      { label: "Next runs", cell: (s) => h("ul", { class: "plain" }, (s.next_runs || []).map((t) => h("li", {}, timeEl(t)))) },
      { label: "Status", cell: (s) => [statusBadge(s.status), s.failed_runs ? h("span", { class: "alarm" }, ` ${s.failed_runs} failed in a row`) : null] },
      { label: "Cancel", cell: (s) => operatorButton(ctx, "Cancel", async () => {
        if (!(await ctx.confirm(`Cancel the schedule ${s.text || s.expression} of ${s.hook}? None of its future runs will happen.`, "Cancel schedule"))) return;
        await ctx.api.post(`/actions/${encodeURIComponent(s.action_id)}/cancel`);
        ctx.say(`Canceled the schedule of ${s.hook}.`);
        ctx.refresh();
      }, { class: "danger cancel-schedule", "aria-label": `Cancel: the schedule of ${s.hook} ${s.action_id}` }) },
    ], schedules, { rowAttributes: (s) => ({ dataset: { id: s.action_id } }) }) : empty("No recurring or cron actions are pending."),
    h("nav", { class: "pager", "aria-label": "Pages" },
      cursor ? h("a", { class: "button", href: ctx.href("schedules") }, "First page") : null,
      page.cursor ? h("a", { class: "button", href: ctx.href("schedules", { cursor: page.cursor }), rel: "next" }, "Next page") : null));
}
