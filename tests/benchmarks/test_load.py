"""The open-loop benchmarks' calls and bookkeeping, against an in-process fake API."""

from __future__ import annotations

import httpx

from benchmarks.load import Caller, Timings, errors_line, lag_line, verdict

KEYS = {
    "hotline": "k-hotline",
    "dispatcher": "k-dispatch",
    "verifier": "k-verify",
    "units": {"unit-a": "k-unit-a"},
}


def fake_api(status: int = 200) -> tuple[httpx.AsyncClient, list[tuple[str, str]]]:
    """A client whose API answers every call with a case in unit-a; and what it was asked."""
    seen: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers["Authorization"]))
        return httpx.Response(status, json={"id": "case-1", "unit": "unit-a"})

    transport = httpx.MockTransport(answer)
    return httpx.AsyncClient(transport=transport, base_url="http://api"), seen


async def test_each_call_goes_to_its_url_with_its_role_key() -> None:
    http, seen = fake_api()
    caller, timings = Caller(http, KEYS), Timings()
    async with http:
        filed = await caller.call("file", None, 0.0, [timings])
        accepted = await caller.call("accept", filed.case, filed.at, [timings])
        await caller.call("recheck", accepted.case, accepted.at, [timings])
    assert seen == [
        ("/v1/grievances", "Bearer k-hotline"),
        ("/v1/grievances/case-1/accept", "Bearer k-unit-a"),
        ("/v1/grievances/case-1/recheck", "Bearer k-verify"),
    ]
    assert timings.count() == 3
    assert not timings.errors


async def test_a_non_2xx_answer_is_timed_and_counted_by_status() -> None:
    http, _ = fake_api(status=503)
    timings, window = Timings(), Timings()
    async with http:
        answer = await Caller(http, KEYS).call("file", None, 0.0, [timings, window])
    assert answer.case is None
    assert timings.errors == {"503": 1} == window.errors
    assert timings.count(["file"]) == 1
    assert errors_line(timings) == "errors: 1 (503×1)"


async def test_a_transport_failure_is_counted_by_its_name() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://api")
    timings = Timings()
    async with http:
        await Caller(http, KEYS).call("file", None, 0.0, [timings])
    assert errors_line(timings) == "errors: 1 (ConnectError×1)"


def test_reset_forgets_the_window() -> None:
    timings = Timings()
    timings.latency["file"].append(0.1)
    timings.errors["503"] += 1
    timings.lag.append(0.0)
    timings.reset()
    assert timings.count() == 0
    assert errors_line(timings) == "errors: none"


def lags(*values: float) -> Timings:
    timings = Timings()
    timings.lag.extend(values)
    return timings


def test_the_lag_line_says_whose_delay_it_is() -> None:
    assert "it kept to its schedule" in lag_line(lags(0.001, 0.002), 0.9)
    assert "may be the bottleneck" in lag_line(lags(0.001, 0.5), 0.9)
    assert "busy elsewhere" in lag_line(lags(0.001, 0.5), 0.1)


def test_the_verdict_compares_the_p99() -> None:
    assert verdict("file", [0.1] * 200 + [0.2], 150).startswith("PASS file p99 ≤ 150 ms")
    assert verdict("file", [0.2] * 100, 150).startswith("FAIL")
    assert verdict("file", [], 150) == "FAIL file p99 ≤ 150 ms: no answers"
