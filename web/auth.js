// Sign-in: OAuth 2.0 authorization code with PKCE against Cognito's managed login (the
// local cloud stands in for it at the same two endpoints). The tokens live in this tab's
// sessionStorage, which only this origin's scripts can read, and never in a URL: the one
// thing that comes back in the URL is the one-time code, removed from it at once.

const TOKENS = "console.tokens";
const PENDING = "console.signin";

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The claims of a JWT, read (not verified: the API verifies; the page only adapts). */
export function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const text = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="));
    return JSON.parse(decodeURIComponent(escape(text)));
  } catch {
    return {};
  }
}

export function redirectUri(config) {
  return config.redirect_uri || `${location.origin}${location.pathname}`;
}

function endpoint(config, path) {
  return `${config.login_base_url.replace(/\/+$/, "")}${path}`;
}

/** Goes to the managed login; ``returnTo`` (the hash) is where the page comes back to. */
export async function signIn(config, returnTo = location.hash) {
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(config),
    scope: (config.scopes || ["openid"]).join(" "),
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${endpoint(config, "/oauth2/authorize")}?${query}`);
}

/**
 * Finishes a sign-in when the managed login sent the browser back with a code: checks the
 * state, exchanges the code and the verifier for tokens, takes the code out of the URL.
 * Returns an error message, or "" (nothing to finish, or finished).
 */
export async function finishSignIn(config) {
  const query = new URLSearchParams(location.search);
  if (!query.has("code") && !query.has("error")) return "";
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  const clean = `${location.pathname}${(pending && pending.returnTo) || location.hash}`;
  history.replaceState(null, "", clean);
  if (query.has("error")) return `Sign-in failed: ${query.get("error")}`;
  if (!pending || pending.state !== query.get("state")) return "Sign-in failed: the answer did not match this tab's request. Sign in again.";
  const response = await fetch(endpoint(config, "/oauth2/token"), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.client_id,
      code: query.get("code"),
      redirect_uri: redirectUri(config),
      code_verifier: pending.verifier,
    }),
    credentials: "omit",
  });
  if (!response.ok) return `Sign-in failed: the token endpoint answered ${response.status}.`;
  const tokens = await response.json();
  const expiresAt = Date.now() + (Number(tokens.expires_in) || 3600) * 1000;
  sessionStorage.setItem(TOKENS, JSON.stringify({
    id_token: tokens.id_token, access_token: tokens.access_token, expires_at: expiresAt,
  }));
  return "";
}

/** The signed-in user ({token, name, groups}), or null. */
export function currentUser() {
  const tokens = JSON.parse(sessionStorage.getItem(TOKENS) || "null");
  if (!tokens || !tokens.id_token || Date.now() >= tokens.expires_at) return null;
  const claim = claims(tokens.id_token);
  return {
    idToken: tokens.id_token,
    accessToken: tokens.access_token,
    name: claim["cognito:username"] || claim.email || claim.sub || "signed in",
    groups: claim["cognito:groups"] || [],
  };
}

export function forget() {
  sessionStorage.removeItem(TOKENS);
}

/** Forgets the tokens and ends the managed login's session, which comes back here. */
export function signOut(config) {
  forget();
  const query = new URLSearchParams({
    client_id: config.client_id,
    logout_uri: config.logout_uri || redirectUri(config),
  });
  location.assign(`${endpoint(config, "/logout")}?${query}`);
}
