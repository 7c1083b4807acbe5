// Actions: the Scheduled Actions list. Status tabs with counts (a maintained tally, its age
// shown), filters by hook, group and exact args, a text search within the filtered list
// that says when it stopped short, order, cursor paging, row and bulk actions.

import { h } from "../dom.js";
import { abridged, count, duration } from "../format.js";
import { empty, operatorButton, statusBadge, table, timeEl } from "../ui.js";

export const title = "Actions";
export const STATUSES = ["pending", "past-due", "in-progress", "complete", "failed", "canceled"];
const FILTERS = ["status", "hook", "group", "args", "search", "order", "cursor"];

function isPastDue(action, now = Date.now()) {
  if (action.past_due !== undefined) return Boolean(action.past_due);
  return action.status === "pending" && new Date(action.scheduled_for).getTime() < now;
}

export function recurrenceText(recurrence) {
  if (!recurrence) return "—";
  if (recurrence.text) return recurrence.text;
  if (recurrence.cron) return `cron ${recurrence.cron}${recurrence.timezone ? ` (${recurrence.timezone})` : ""}`;
  return recurrence.interval_seconds ? `every ${recurrence.interval_seconds} s` : abridged(recurrence, 40);
}

export function logLine(entry) {
  if (!entry) return "—";
  return `${entry.event}${entry.message ? `: ${entry.message}` : ""}`;
}

/** A count of the tally: "12", "10,000+", or "—". */
function tallyText(entry) {
  if (entry === undefined || entry === null) return "—";
  if (typeof entry === "number") return count(entry);
  return `${count(entry.count)}${entry.more ? "+" : ""}`;
}

function query(params) {
  const q = {};
  for (const key of FILTERS) if (params.get(key)) q[key] = params.get(key);
  q.status = q.status || "pending";
  return q;
}

function tabs(ctx, q, counts) {
  return h("nav", { class: "tabs", "aria-label": "Actions by status" },
    h("ul", {}, STATUSES.map((status) => {
      const params = { ...q, status, cursor: "" };
      const current = q.status === status;
      return h("li", {}, h("a", {
        href: ctx.href("actions", params),
        "aria-current": current ? "page" : null,
        id: `tab-${status}`,
      }, status, " ", h("span", { class: "count" }, `(${tallyText(counts[status])})`)));
    })));
}

function filterForm(ctx, q) {
  const field = (name, label, props = {}) => h("div", { class: "field" },
    h("label", { for: `filter-${name}` }, label),
    h("input", { id: `filter-${name}`, name, value: q[name] || "", ...props }));
  const order = h("select", { id: "filter-order", name: "order" },
    h("option", { value: "asc" }, "Soonest first"),
    h("option", { value: "desc" }, "Latest first"));
  order.value = q.order === "desc" ? "desc" : "asc";
  const form = h("form", { class: "filters", id: "filters", role: "search", "aria-label": "Filter actions" },
    field("hook", "Hook"),
    field("group", "Group"),
    field("args", "Args (exact JSON)", { placeholder: "{\"order_id\": 42}", spellcheck: "false" }),
    field("search", "Search", { type: "search", placeholder: "text in hook, group, args, error" }),
    h("div", { class: "field" }, h("label", { for: "filter-order" }, "Order"), order),
    h("div", { class: "field buttons" },
      h("button", { type: "submit", class: "primary", id: "apply-filters" }, "Apply"),
      h("a", { href: ctx.href("actions", { status: q.status }), class: "button", id: "clear-filters" }, "Clear")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const params = { status: q.status };
    for (const [key, value] of data.entries()) params[key] = String(value).trim();
    if (params.order === "asc") delete params.order;
    if (params.args) {
      try {
        JSON.parse(params.args);
      } catch {
        ctx.say("Args must be JSON, e.g. {\"order_id\": 42}: they are matched exactly.", "error");
        form.querySelector("#filter-args").focus();
        return;
      }
    }
    ctx.navigate(ctx.href("actions", params));
  });
  return form;
}

export async function render(ctx) {
  const q = query(ctx.params);
  const [page, tally] = await Promise.all([
    ctx.api.get("/actions", { ...q, per_page: ctx.params.get("per_page") || 50 }),
    ctx.api.get("/counts", ctx.forceRefresh ? { refresh: 1 } : {}).catch(() => null),
  ]);
  const counts = (tally && (tally.counts || tally)) || {};
  const actions = page.actions || [];
  const selected = new Set();

  const bulk = operatorButton(ctx, "Cancel selected", async () => {
    const ids = [...selected];
    if (!ids.length) {
      ctx.say("Select the actions to cancel first.", "error");
      return;
    }
    if (!(await ctx.confirm(`Cancel ${ids.length} selected action${ids.length === 1 ? "" : "s"}? Canceled actions do not run.`, `Cancel ${ids.length}`))) return;
    const result = await ctx.api.post("/actions/cancel", { action_ids: ids });
    const done = result && typeof result.canceled === "number" ? result.canceled : ids.length;
    const left = ((result && result.results) || []).filter((r) => !r.canceled)
      .map((r) => `${r.action_id} is ${r.status}`);
    ctx.say(`Canceled ${done} of ${ids.length} action${ids.length === 1 ? "" : "s"}.${left.length ? ` Not canceled: ${left.join("; ")}.` : ""}`);
    ctx.refresh();
  }, { id: "bulk-cancel", class: "danger" });

  const columns = [];
  // Only pending actions can be canceled: the other tabs have nothing to select.
  const selectable = ctx.canOperate && (q.status === "pending" || q.status === "past-due");
  if (selectable) {
    columns.push({
      label: h("span", { class: "visually-hidden" }, "Select"),
      class: "select",
      cell: (a) => {
        const box = h("input", { type: "checkbox", "aria-label": `Select ${a.hook} ${a.action_id}`, class: "row-select", dataset: { id: a.action_id } });
        box.disabled = a.status !== "pending";
        box.addEventListener("change", () => {
          if (box.checked) selected.add(a.action_id);
          else selected.delete(a.action_id);
          bulk.textContent = selected.size ? `Cancel selected (${selected.size})` : "Cancel selected";
        });
        return box;
      },
    });
  }
  columns.push(
    { label: "Hook", cell: (a) => h("a", { href: ctx.href("action", {}, a.action_id), class: "hook" }, a.hook) },
    { label: "Status", cell: (a) => statusBadge(a.status, isPastDue(a)) },
    {
      label: "Args",
      class: "args",
      cell: (a) => (a.args_in_payload_bucket
        ? h("span", { class: "muted" }, "(large: in the payload bucket)")
        : h("code", { title: `${a.args}${a.args_truncated ? "…" : ""}` }, abridged(a.args, 60))),
    },
    { label: "Group", cell: (a) => a.group || "—" },
    { label: "Recurrence", cell: (a) => recurrenceText(a.recurrence) },
    { label: "Scheduled", cell: (a) => timeEl(a.scheduled_for) },
    { label: "Attempts", class: "number", cell: (a) => `${a.attempts ?? 0}${a.max_attempts ? ` / ${a.max_attempts}` : ""}` },
    { label: "Last log line", class: "log", cell: (a) => abridged(logLine(a.last_log), 80) },
    {
      label: "Actions",
      cell: (a) => h("div", { class: "row-actions" },
        a.status === "pending" && !a.recurrence ? operatorButton(ctx, "Run now", async () => {
          if (!(await ctx.confirm(`Run ${a.hook} (${a.action_id}) now?`, "Run now"))) return;
          await ctx.api.post(`/actions/${encodeURIComponent(a.action_id)}/run`);
          ctx.say(`Sent ${a.hook} (${a.action_id}) to its queue.`);
          ctx.refresh();
        }, { class: "run-now", "aria-label": `Run now: ${a.hook} ${a.action_id}` }) : null,
        a.status === "pending" ? operatorButton(ctx, "Cancel", async () => {
          if (!(await ctx.confirm(`Cancel ${a.hook} (${a.action_id})?${a.recurrence ? " All its future runs are canceled." : ""}`, "Cancel action"))) return;
          await ctx.api.post(`/actions/${encodeURIComponent(a.action_id)}/cancel`);
          ctx.say(`Canceled ${a.hook} (${a.action_id}).`);
          ctx.refresh();
        }, { class: "cancel danger", "aria-label": `Cancel: ${a.hook} ${a.action_id}` }) : null),
    },
  );

  const search = page.search || null;
  const notices = [];
  if (q.search && search) {
    notices.push(h("p", { class: search.stopped_short ? "notice warning" : "notice", id: "search-notice", role: "note" },
      search.stopped_short
        ? `The search stopped short: it read ${count(search.scanned)} actions of this filter and found ${count(search.matched)}; more remain unsearched. Use "Next page" to search on, or narrow the filters.`
        : `Searched the whole filtered list${q.cursor ? " from this page on" : ""}: ${count(search.scanned)} actions read, ${count(search.matched)} found.`));
  }
  const next = page.cursor
    ? h("a", { href: ctx.href("actions", { ...q, cursor: page.cursor }), class: "button", id: "next-page", rel: "next" }, "Next page")
    : null;
  const first = q.cursor ? h("a", { href: ctx.href("actions", { ...q, cursor: "" }), class: "button", id: "first-page" }, "First page") : null;

  return h("section", { class: "actions-view" },
    h("h1", { tabindex: "-1" }, "Actions"),
    tabs(ctx, q, counts),
    h("p", { class: "tally", id: "tally-age" }, tally && tally.counted_at
      ? ["Counted ", timeEl(tally.counted_at), ` (${duration(tally.age_seconds)} ago; recounted at most every ${duration(tally.max_age_seconds)}).`]
      : "Counts unavailable."),
    filterForm(ctx, q),
    notices,
    selectable ? h("div", { class: "bulk" }, bulk) : null,
    actions.length
      ? table(`${q.status} actions${q.hook ? ` of ${q.hook}` : ""}: ${actions.length} on this page`, columns, actions, {
        rowAttributes: (a) => ({ dataset: { id: a.action_id, status: a.status } }),
      })
      : empty("No actions match."),
    h("nav", { class: "pager", "aria-label": "Pages" }, first, next));
}

