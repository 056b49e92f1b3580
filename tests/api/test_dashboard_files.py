"""``/dashboard`` and its files are served with their content types and a strict CSP."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from grievance_flow.api.app import create_app
from grievance_flow.api.routes.dashboard import shipped_files

STATIC = Path(__file__).resolve().parents[2] / "grievance_flow" / "api" / "static" / "dashboard"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # No resources: the page needs none (it reads the API from the browser with its key).
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/dashboard", "text/html; charset=utf-8"),
        ("/dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/kpi-table.js", "text/javascript; charset=utf-8"),
        ("/dashboard/dashboard.css", "text/css; charset=utf-8"),
        ("/dashboard/vendor/chart.umd.js", "text/javascript; charset=utf-8"),
        ("/dashboard/vendor/VENDORED.md", "text/markdown; charset=utf-8"),
    ],
)
async def test_files_come_with_their_type_and_a_self_only_policy(
    http: httpx.AsyncClient, path: str, content_type: str
) -> None:
    response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_page_loads_only_its_own_scripts(http: httpx.AsyncClient) -> None:
    page = (await http.get("/dashboard")).text
    sources = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert sources == ["/dashboard/vendor/chart.umd.js", "/dashboard/app.js"]
    assert "<script>" not in page and "style=" not in page  # nothing inline for the CSP to block
    for source in sources:
        assert (await http.get(source)).status_code == 200


async def test_every_module_the_page_imports_is_served(http: httpx.AsyncClient) -> None:
    imported = {
        name
        for script in STATIC.glob("*.js")
        for name in re.findall(r'from "\./([\w.-]+)"', script.read_text())
    }
    assert imported and imported <= set(shipped_files())


@pytest.mark.parametrize(
    "path", ["/dashboard/nothing.js", "/dashboard/../app.py", "/dashboard/%2e%2e/deps.py"]
)
async def test_only_shipped_files_are_served(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


def test_the_vendored_chart_library_is_the_one_recorded() -> None:
    record = (STATIC / "vendor" / "VENDORED.md").read_text()
    digest = hashlib.sha256((STATIC / "vendor" / "chart.umd.js").read_bytes()).hexdigest()
    assert digest in record
    assert (STATIC / "vendor" / "chart.js-LICENSE.md").read_text().startswith("The MIT License")


def test_every_file_of_the_page_ships_in_the_wheel() -> None:
    pyproject = tomllib.loads((STATIC.parents[3] / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["grievance_flow"]
    package = STATIC.parents[2]
    on_disk = {path for path in STATIC.rglob("*") if path.is_file()}
    covered = {path for pattern in shipped for path in package.glob(pattern) if path.is_file()}
    assert on_disk <= covered
    assert set(shipped_files()) == {str(path.relative_to(STATIC)) for path in on_disk}
