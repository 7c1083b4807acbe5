// Dead letters: counts per queue; a queue's messages with hook, reason, error and age;
// redrive of one, of a filtered set (hook, reason) or of all, each confirmed with how
// many will move.

import { h } from "../dom.js";
import { abridged, count, duration } from "../format.js";
import { empty, operatorButton, table, timeEl } from "../ui.js";

export const title = "Dead letters";

function many(n, more) {
  return `${count(n)}${more ? " (or more)" : ""} dead letter${n === 1 && !more ? "" : "s"}`;
}

async function redrive(ctx, queue, body, what) {
  if (!(await ctx.confirm(`Move ${what} back to the ${queue} queue, with fresh attempts?`, "Redrive"))) return;
  const result = await ctx.api.post(`/dead-letters/${encodeURIComponent(queue)}/redrive`, body);
  const problems = (result.problems || []).length ? ` Problems: ${result.problems.join("; ")}` : "";
  ctx.say(`Redriven: ${count(result.moved)} moved, ${count(result.skipped)} skipped, ${count(result.failed)} failed.${problems}`);
  ctx.refresh();
}

function filterForm(ctx, queue, hook, reason) {
  const form = h("form", { class: "filters", id: "dlq-filters", "aria-label": "Filter dead letters" },
    h("div", { class: "field" }, h("label", { for: "dlq-hook" }, "Hook"), h("input", { id: "dlq-hook", name: "hook", value: hook })),
    h("div", { class: "field" }, h("label", { for: "dlq-reason" }, "Reason"), h("input", { id: "dlq-reason", name: "reason", value: reason })),
    h("div", { class: "field buttons" }, h("button", { type: "submit", class: "primary" }, "Apply")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    ctx.navigate(ctx.href("dead-letters", { queue, hook: String(data.get("hook")).trim(), reason: String(data.get("reason")).trim() }));
  });
  return form;
}

export async function render(ctx) {
  const queue = ctx.params.get("queue") || "";
  const hook = ctx.params.get("hook") || "";
  const reason = ctx.params.get("reason") || "";
  const overview = await ctx.api.get("/dead-letters");
  const queues = overview.queues || [];
  const counts = table("Dead letters per job queue", [
    { label: "Queue", cell: (q) => h("a", { href: ctx.href("dead-letters", { queue: q.queue }), "aria-current": q.queue === queue ? "true" : null }, q.queue) },
    { label: "Dead-letter queue", cell: (q) => h("code", {}, q.dead_letter_queue) },
    { label: "Messages", class: "number", cell: (q) => count(q.count) },
    { label: "In flight", class: "number", cell: (q) => count(q.in_flight) },
    { label: "Oldest", cell: (q) => (q.count ? duration(q.oldest_age_seconds) : "—") },
  ], queues, { rowAttributes: (q) => ({ dataset: { queue: q.queue } }) });

  let messagesPart = h("p", {}, "Choose a queue to see its dead letters.");
  if (queue) {
    const [listing, whole] = await Promise.all([
      ctx.api.get(`/dead-letters/${encodeURIComponent(queue)}`, { hook, reason }),
      hook || reason ? ctx.api.get(`/dead-letters/${encodeURIComponent(queue)}`) : null,
    ]);
    const all = whole || listing;
    const messages = listing.messages || [];
    const filtered = Boolean(hook || reason);
    const bulk = h("div", { class: "bulk" },
      filtered && listing.matched ? operatorButton(ctx, `Redrive the ${many(listing.matched, listing.more)} shown`, () => redrive(ctx, queue,
        { ...(hook ? { hook } : {}), ...(reason ? { reason } : {}) }, `${many(listing.matched, listing.more)} (hook ${hook || "any"}, reason ${reason || "any"})`),
      { id: "redrive-filtered" }) : null,
      all.matched ? operatorButton(ctx, `Redrive all ${many(all.matched, all.more)}`, () => redrive(ctx, queue, { all: true }, `all ${many(all.matched, all.more)}`),
        { id: "redrive-all", class: "danger" }) : null);
    messagesPart = h("section", { id: "dlq-messages" },
      h("h2", {}, `Dead letters of the ${queue} queue`),
      filterForm(ctx, queue, hook, reason),
      bulk,
      messages.length ? table(`${many(listing.matched, listing.more)}${filtered ? " matching" : ""}`, [
        { label: "Hook", cell: (m) => (m.action_id ? h("a", { href: ctx.href("action", {}, m.action_id) }, m.hook || "(unknown)") : m.hook || "(unknown)") },
        { label: "Reason", cell: (m) => h("code", {}, m.reason || (m.malformed ? "malformed" : "—")) },
        { label: "Error", class: "log", cell: (m) => h("span", { title: abridged(m.error, 500) }, abridged(m.error || "—", 120)) },
        { label: "Args", class: "args", cell: (m) => (m.args === null || m.args === undefined ? "—" : h("code", {}, abridged(m.args, 60))) },
        { label: "Attempts", class: "number", cell: (m) => String(m.attempts ?? "—") },
        { label: "Age", cell: (m) => h("span", { title: m.sent_at || "" }, duration(m.age_seconds)) },
        { label: "Sent", cell: (m) => timeEl(m.sent_at) },
        { label: "Redrive", cell: (m) => operatorButton(ctx, "Redrive", () => redrive(ctx, queue, { message_id: m.message_id }, `this dead letter (${m.hook || m.message_id})`),
          { class: "redrive-one", "aria-label": `Redrive: ${m.hook || ""} ${m.action_id || m.message_id}` }) },
      ], messages, { rowAttributes: (m) => ({ dataset: { message: m.message_id, action: m.action_id || "" } }) }) : empty("No dead letters here."));
  }
  return h("section", { class: "dead-letters-view" },
    h("h1", { tabindex: "-1" }, "Dead letters"),
    queues.length ? counts : empty("No dead-letter queues."),
    messagesPart);
}
