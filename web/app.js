// The console's entry point: settings, sign-in, the screens, the URL as the page's state.
// Each screen is a module of views/ with render(ctx) -> a DOM node; the URL's hash names
// the screen and its query (#/actions?status=failed&hook=x), so a filtered list is a link.

import { Api } from "./api.js";
import { currentUser, finishSignIn, forget, signIn, signOut } from "./auth.js";
import { h, replace } from "./dom.js";
import * as actionsView from "./views/actions.js";
import * as actionView from "./views/action.js";
import * as deadLettersView from "./views/dead_letters.js";
import * as schedulesView from "./views/schedules.js";
import * as webhooksView from "./views/webhooks.js";
import * as sagasView from "./views/sagas.js";
import * as healthView from "./views/health.js";
import * as chartsView from "./views/charts.js";

const VIEWS = {
  actions: actionsView,
  action: actionView,
  "dead-letters": deadLettersView,
  schedules: schedulesView,
  webhooks: webhooksView,
  sagas: sagasView,
  health: healthView,
  charts: chartsView,
};
export const OPERATORS = "operators";

const main = document.getElementById("main");
const statusLine = document.getElementById("status");
let rendering = 0;
let timer = null;
let ctx = null;

/** The screen the URL names: {view, id, params}. */
export function route(hash = location.hash) {
  const text = hash.replace(/^#\/?/, "");
  const [path, query = ""] = text.split("?", 2);
  const [view, ...rest] = path.split("/");
  return {
    view: VIEWS[view] ? view : "actions",
    id: rest.length ? decodeURIComponent(rest.join("/")) : "",
    params: new URLSearchParams(query),
  };
}

/** The hash of a screen: href(view, {key: value}) or href("action", {}, id). */
export function href(view, params = {}, id = "") {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const text = query.toString();
  return `#/${view}${id ? `/${encodeURIComponent(id)}` : ""}${text ? `?${text}` : ""}`;
}

function say(message, kind = "info") {
  statusLine.textContent = message;
  statusLine.dataset.kind = kind;
}

/** A confirmation in a modal dialog: resolves true when the person confirms. */
function confirmDialog(text, okLabel = "OK") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
}

async function render({ focus = true, force = false } = {}) {
  const current = route();
  rendering += 1;
  const mine = rendering;
  clearTimeout(timer);
  document.body.dataset.ready = "";
  for (const link of document.querySelectorAll("#nav a")) {
    const active = link.dataset.view === current.view || (current.view === "action" && link.dataset.view === "actions");
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const module = VIEWS[current.view];
  let node;
  try {
    node = await module.render({ ...ctx, ...current, forceRefresh: force });
  } catch (error) {
    if (error.status === 401) return; // signed out: the sign-in screen is showing
    node = h("section", { class: "error-view" },
      h("h1", { tabindex: "-1" }, "Could not load this screen"),
      h("p", { role: "alert", class: "error" }, error.message || String(error)));
  }
  if (mine !== rendering) return; // the person moved on meanwhile
  replace(main, node);
  document.title = `${module.title || "Console"} · Action Scheduler console`;
  const heading = main.querySelector("h1");
  if (focus && heading) heading.focus({ preventScroll: true });
  document.body.dataset.ready = current.view;
  document.body.dataset.renders = String(mine);
  document.body.dataset.readyAt = String(Math.round(performance.now())); // ms since navigation
  const every = module.refreshSeconds;
  if (every) timer = setTimeout(() => render({ focus: false }), every * 1000);
}

/** Go to a screen; ``replace`` changes the URL without a new history entry. */
function navigate(hash, { replace: replacing = false } = {}) {
  if (hash === location.hash) return render({ focus: false });
  if (replacing) {
    history.replaceState(null, "", hash);
    return render({ focus: false });
  }
  location.hash = hash; // hashchange renders
  return undefined;
}

function showSignIn(config, message) {
  document.getElementById("nav").hidden = true;
  const button = h("button", { type: "button", id: "sign-in", class: "primary" }, "Sign in");
  button.addEventListener("click", () => signIn(config));
  replace(main, h("section", { class: "signin" },
    h("h1", { tabindex: "-1" }, "Action Scheduler console"),
    message ? h("p", { role: "alert", class: "error" }, message) : null,
    h("p", {}, "Sign in to see and steer the actions, dead letters, schedules and sagas."),
    button));
  document.body.dataset.ready = "signin";
}

async function boot() {
  let config;
  try {
    const response = await fetch("config.json", { cache: "no-store", credentials: "omit" });
    config = await response.json();
  } catch (error) {
    replace(main, h("p", { role: "alert", class: "error" }, `The console's settings did not load: ${error.message}`));
    return;
  }
  const problem = await finishSignIn(config).catch((error) => `Sign-in failed: ${error.message}`);
  const user = currentUser();
  if (!user) {
    showSignIn(config, problem);
    return;
  }
  const api = new Api(config.api_base, user.idToken, () => {
    forget();
    showSignIn(config, "Your session ended: sign in again.");
  });
  const canOperate = user.groups.includes(OPERATORS);
  ctx = { api, config, user, canOperate, say, confirm: confirmDialog, navigate, href, refresh: () => render({ focus: false }) };
  const signOutButton = h("button", { type: "button", id: "sign-out" }, "Sign out");
  signOutButton.addEventListener("click", () => signOut(config));
  const refreshButton = h("button", { type: "button", id: "refresh", title: "Reload what this screen shows" }, "Refresh");
  refreshButton.addEventListener("click", () => render({ focus: false, force: true }));
  replace(document.getElementById("who"),
    refreshButton,
    h("span", { class: "user", id: "user" }, user.name, " · ", h("span", { class: "role" }, canOperate ? "operator" : "viewer")),
    signOutButton);
  document.getElementById("nav").hidden = false;
  document.body.dataset.role = canOperate ? "operator" : "viewer";
  window.addEventListener("hashchange", () => {
    say(""); // what was said was about the screen being left
    render();
  });
  await render({ focus: false });
}

boot();
