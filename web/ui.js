// Small pieces every screen uses: times, statuses, JSON, tables, operator buttons.

import { h } from "./dom.js";
import { pretty, timeText } from "./format.js";

/** A <time>: local time as text, UTC in the title (shown on hover) and datetime. */
export function timeEl(iso) {
  const { text, title } = timeText(iso);
  return h("time", { datetime: iso || null, title: title || null }, text);
}

export function statusBadge(status, pastDue = false) {
  const shown = pastDue ? "past-due" : status || "unknown";
  return h("span", { class: `badge status-${shown}` }, shown);
}

/** Pretty JSON as text in a focusable, scrollable <pre>. */
export function jsonBlock(value, label) {
  return h("pre", { class: "json", tabindex: "0", "aria-label": label || null }, pretty(value));
}

/** A table: columns [{label, cell(row) -> node|string, class}], with a caption. */
export function table(caption, columns, rows, { rowAttributes } = {}) {
  return h("table", { class: "grid" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class || null }, c.label)))),
    h("tbody", {}, rows.map((row) => h("tr", rowAttributes ? rowAttributes(row) : {},
      columns.map((c) => h("td", { class: c.class || null }, c.cell(row)))))));
}

/**
 * A button that changes something: disabled for viewers (the API refuses them too), and
 * busy while its request runs. ``run`` returns a promise.
 */
export function operatorButton(ctx, label, run, props = {}) {
  const button = h("button", { type: "button", ...props }, label);
  if (!ctx.canOperate) {
    button.disabled = true;
    button.title = "Operators only: you are signed in as a viewer";
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await run();
    } catch (error) {
      ctx.say(refusal(error), "error");
    } finally {
      button.removeAttribute("aria-busy");
      button.disabled = !ctx.canOperate;
    }
  });
  return button;
}

/** What to tell the person when the API refused or failed. */
export function refusal(error) {
  if (error && error.status === 403) return `Refused: ${error.message} (only operators can do this).`;
  return `Failed: ${(error && error.message) || error}`;
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

export function section(title, ...children) {
  return h("section", {}, h("h2", {}, title), ...children);
}
