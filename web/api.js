// The console's JSON API (docs/reference/console-api.md): same origin, the signed-in
// user's token in the Authorization header, errors as {error, message}.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error)) || `the API answered ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export class Api {
  constructor(base, token, onUnauthorized) {
    this.base = base.replace(/\/+$/, "");
    this.token = token;
    this.onUnauthorized = onUnauthorized;
    this.requests = 0;
  }

  url(path, query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") params.set(key, value);
    }
    const text = params.toString();
    return `${this.base}${path}${text ? `?${text}` : ""}`;
  }

  async request(method, path, { query, body } = {}) {
    this.requests += 1;
    const headers = { Authorization: this.token, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(this.url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    if (response.status === 401 && this.onUnauthorized) this.onUnauthorized();
    if (!response.ok) throw new ApiError(response.status, parsed);
    return parsed;
  }

  get(path, query) { return this.request("GET", path, { query }); }
  post(path, body, query) { return this.request("POST", path, { body: body ?? {}, query }); }
  delete(path, query) { return this.request("DELETE", path, { query }); }
}
