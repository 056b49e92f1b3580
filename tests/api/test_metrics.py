"""``GET /metrics``: requests by route template, their durations, actions by result (SPEC §8)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

from grievance_flow.metric_names import ACTIONS, HTTP_REQUEST_DURATION, HTTP_REQUESTS
from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import act, file_case

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(api: Api) -> tuple[str, Samples]:
    """The raw exposition and its samples, keyed by name and labels."""
    response = await api.http.get("/metrics")  # no key: scrapers carry none
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return response.text, samples


def grown(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one sample grew between two scrapes."""
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def labelled(
    samples: Mapping[tuple[str, frozenset[tuple[str, str]]], float], name: str
) -> set[str]:
    return {
        value for (sample, labels), _ in samples.items() if sample == name for _, value in labels
    }


async def test_requests_and_actions_are_counted_by_template_and_result(api: Api) -> None:
    _, before = await scrape(api)
    case = await file_case(api)
    case_id = case["id"]
    assert (
        await api.http.get(f"/v1/grievances/{case_id}", headers=api.as_(Role.AUDITOR))
    ).is_success
    await act(api, case_id, "dispatch", Role.DISPATCHER, {"category": "city.street-vending"})
    await act(api, case_id, "accept", Role.HOTLINE, {}, expect=403)
    await act(
        api, case_id, "dispatch", Role.DISPATCHER, {"category": "city.street-vending"}, expect=409
    )
    await act(api, "grievance-never-filed", "accept", "grid-1", {}, expect=404)
    stray = await api.http.get(f"/no/such/page/{case_id}")
    assert stray.status_code == 404
    text, after = await scrape(api)

    requests = HTTP_REQUESTS
    assert grown(before, after, requests, route="/v1/grievances", method="POST", status="201") == 1
    assert (
        grown(before, after, requests, route="/v1/grievances/{case_id}", method="GET", status="200")
        == 1
    )
    dispatch = "/v1/grievances/{case_id}/dispatch"
    assert grown(before, after, requests, route=dispatch, method="POST", status="200") == 1
    assert grown(before, after, requests, route=dispatch, method="POST", status="409") == 1
    assert grown(before, after, requests, route="unmatched", method="GET", status="404") == 1
    duration = f"{HTTP_REQUEST_DURATION}_count"
    assert grown(before, after, duration, route=dispatch, method="POST") == 2

    assert grown(before, after, ACTIONS, action="dispatch", result="ok") == 1
    assert grown(before, after, ACTIONS, action="dispatch", result="conflict") == 1
    assert grown(before, after, ACTIONS, action="accept", result="refused") == 1
    assert grown(before, after, ACTIONS, action="accept", result="not_found") == 1

    # Templates only: no case id, no raw path, in any label or anywhere else.
    assert case_id not in text and "grievance-never-filed" not in text
    assert "/no/such/page" not in text
    assert labelled(after, requests) >= {"/v1/grievances/{case_id}", "unmatched"}


async def test_an_invented_method_is_one_label(api: Api) -> None:
    _, before = await scrape(api)
    response = await api.http.request("BREW", "/v1/catalogue")
    assert response.status_code == 405
    text, after = await scrape(api)
    assert (
        grown(before, after, HTTP_REQUESTS, route="/v1/catalogue", method="other", status="405")
        == 1
    )
    assert "BREW" not in text
