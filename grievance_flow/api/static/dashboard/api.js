// Reading the API with the dashboard's key. Every answer is fresh (no-store):
// the page refreshes itself and must never show a cached light.

/** An API answer other than 2xx; ``status`` is the HTTP status. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

/** GET ``path`` (same origin) as JSON with ``key``. */
export async function getJson(path, key) {
  const response = await fetch(path, {
    headers: { Authorization: `Bearer ${key}`, Accept: "application/json" },
    cache: "no-store",
    credentials: "omit",
  });
  if (!response.ok) {
    let detail = "";
    try {
      detail = (await response.json()).detail || "";
    } catch {
      // not a JSON error body (a proxy's page): the status says enough
    }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}
