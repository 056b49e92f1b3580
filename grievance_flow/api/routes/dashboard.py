"""``GET /dashboard``: the one-screen overview (态势一张屏), static files served by the API.

The page holds no data and no key: it asks the API for everything with the
key the user gives it (SPEC §11: from the URL fragment, which browsers never
send, or typed in once and kept in the tab's ``sessionStorage``). So these
routes need no authentication, and serve only the files that ship in
``api/static/dashboard`` (a fixed list read once, never a path from the
request), each with its own content type and a Content-Security-Policy that
lets the page run only its own scripts and talk only to its own origin.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from fastapi import APIRouter, Response

from grievance_flow.api.errors import NotFound

router = APIRouter(tags=["dashboard"], include_in_schema=False)

CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
}

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # The key lives in the fragment, which is never sent; no referrer either way.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def shipped_files() -> dict[str, bytes]:
    """Every file of the dashboard, by its path under ``static/dashboard`` (``vendor/x.js``).

    Read once, on the first request (not at import): the page is small (Chart.js
    is most of it) and changes only with a release.
    """
    root = resources.files("grievance_flow.api") / "static" / "dashboard"
    found: dict[str, bytes] = {}
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        for entry in folder.iterdir():
            name = f"{prefix}{entry.name}"
            if entry.is_dir():
                pending.append((entry, f"{name}/"))
            elif any(name.endswith(suffix) for suffix in CONTENT_TYPES):
                found[name] = entry.read_bytes()
    return found


def _serve(name: str) -> Response:
    body = shipped_files().get(name)
    if body is None:
        raise NotFound(f"The dashboard has no file '{name}'.")
    suffix = name[name.rfind(".") :]
    return Response(content=body, media_type=CONTENT_TYPES[suffix], headers=_HEADERS)


@router.get("/dashboard")
async def dashboard_page() -> Response:
    """The dashboard page; open it as ``/dashboard#key=<key>`` to sign in at once."""
    return _serve("index.html")


@router.get("/dashboard/{name:path}")
async def dashboard_file(name: str) -> Response:
    """One of the page's scripts, styles or vendored files."""
    return _serve(name)
