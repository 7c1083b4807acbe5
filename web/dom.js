// Building the page with DOM APIs only. Every string a caller passes as a child becomes a
// text node (textContent), so args, errors and log lines are shown as text, never parsed
// as HTML: nothing in the console assigns innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

/** An element: h("button", {class: "x", onclick: f}, "text", child, [more]). */
export function h(tag, props, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (!svg && (key === "value" || key === "checked" || key === "disabled" || key === "hidden")) {
      el[key] = value;
    } else {
      el.setAttribute(key === "className" ? "class" : key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children: nodes as they are, strings and numbers as text, arrays flattened. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let nextId = 0;
/** A fresh id for label/aria references. */
export function uid(prefix = "id") {
  nextId += 1;
  return `${prefix}-${nextId}`;
}
