// The API key: read once from the URL fragment (#key=…) or typed in, and kept
// in this tab's sessionStorage only. A fragment is never sent to the server;
// it is removed from the address bar at once, so it is not left in the
// history, a bookmark or a screenshot of the wall screen.

const STORAGE = "grievance-flow.dashboard.key";

/** Take a key from the fragment if there is one, and return the key to use (or null). */
export function takeKey() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromUrl = fragment.get("key");
  if (fromUrl) {
    sessionStorage.setItem(STORAGE, fromUrl);
    fragment.delete("key");
    const rest = fragment.toString();
    history.replaceState(history.state, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return sessionStorage.getItem(STORAGE);
}

/** Remember a key typed in. */
export function saveKey(key) {
  sessionStorage.setItem(STORAGE, key);
}

/** Forget the key (signed out, or refused by the API). */
export function forgetKey() {
  sessionStorage.removeItem(STORAGE);
}
