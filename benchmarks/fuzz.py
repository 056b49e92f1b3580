"""Fuzz the HTTP API from its own OpenAPI document and count what must never happen.

Schemathesis generates requests for every operation of ``/openapi.json``, both
valid (positive) and invalid (negative) ones, each sent with a valid key of a
random role or unit, half of those on a path with a real case id (a few cases
are filed first, in different stages) so actions reach the workflow. Counted
(SPEC §6): answers with a 5xx, statuses the operation does not document, and
error bodies that are not ``{"error", "detail"}``. Exit code 1 if any.

    .venv/bin/grievance up --data-dir /tmp/fuzz-up --port 8123 --temporal-port 7400 &
    .venv/bin/python -m benchmarks.fuzz --data-dir /tmp/fuzz-up --cases 5000

The suite runs the same :func:`fuzz` in-process, bounded (tests/api/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from grievance_flow.workflows.contracts import Action, Role
from grievance_flow.workflows.lifecycle import TRANSITIONS

DEFAULT_URL = "http://127.0.0.1:8000"
REAL_CASES = 6
"""Cases filed before fuzzing, so generated actions also reach live workflows."""


@dataclass(frozen=True)
class Finding:
    """One answer that breaks the contract."""

    method: str
    path: str
    status: int
    why: str
    excerpt: str


@dataclass
class FuzzReport:
    """What the fuzzer sent and what came back."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[Finding] = field(default_factory=list)
    undocumented: list[Finding] = field(default_factory=list)
    bad_error_bodies: list[Finding] = field(default_factory=list)
    unsendable: int = 0
    """Generated requests the HTTP client itself refused to send (e.g. a header it rejects)."""
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        """No 5xx, no undocumented status, no malformed error body."""
        return not (self.server_errors or self.undocumented or self.bad_error_bodies)

    def summary(self) -> str:
        """The report as the benchmark prints it."""
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        lines = [
            f"cases sent          {self.cases} in {self.seconds:.1f} s "
            f"({self.cases / max(self.seconds, 1e-9):.0f}/s)",
            f"statuses            {statuses}",
            f"5xx                 {len(self.server_errors)}",
            f"undocumented status {len(self.undocumented)}",
            f"bad error bodies    {len(self.bad_error_bodies)}",
            f"unsendable          {self.unsendable}",
        ]
        for finding in [*self.server_errors, *self.undocumented, *self.bad_error_bodies][:20]:
            lines.append(
                f"  {finding.why}: {finding.method} {finding.path} -> {finding.status} "
                f"{finding.excerpt}"
            )
        return "\n".join(lines)


UNIT = "grid-1"
"""The unit the real cases are dispatched to, whose key acts on them."""


def keys_from_file(path: Path) -> dict[str, str]:
    """Every key of a ``dev-keys.json`` (SPEC §5) by holder: ``dispatcher``, ``unit:grid-1``."""
    data = json.loads(path.read_text())
    units = data.pop("units", {})
    return {**data, **{f"unit:{unit}": key for unit, key in units.items()}}


def file_real_cases(base_url: str, keys: dict[str, str], *, grid: str = UNIT) -> list[str]:
    """File a few cases and move some on (classify, accept, handle), for path ids."""
    hotline, dispatcher, unit = keys["hotline"], keys["dispatcher"], keys[f"unit:{grid}"]
    ids = []
    with requests.Session() as http:
        for n in range(REAL_CASES):
            body: dict[str, Any] = {
                "external_id": f"fuzz-{uuid.uuid4().hex[:12]}",
                "channel": "phone",
                "reporter": {"name": "测试", "phone": "13800000000"},
                "description": "路口有流动摊贩占道经营，影响通行",
                "location": {"address": "湖滨路1号", "grid": grid},
            }
            filed = http.post(f"{base_url}/v1/grievances", json=body, headers=_auth(hotline))
            filed.raise_for_status()
            case_id: str = filed.json()["id"]
            ids.append(case_id)
            if filed.json()["stage"] == "classify" and n % 3 != 0:
                http.post(
                    f"{base_url}/v1/grievances/{case_id}/dispatch",
                    json={"category": "city.street-vending", "unit": grid},
                    headers=_auth(dispatcher),
                )
            if n % 3 == 2:
                http.post(
                    f"{base_url}/v1/grievances/{case_id}/accept", json={}, headers=_auth(unit)
                )
    return ids


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _operations(schema: Any) -> list[Any]:
    """Every operation of the document; one schemathesis cannot read is an error of ours."""
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:
            raise RuntimeError(f"/openapi.json has an invalid operation: {result.err()}")
    return operations


def fuzz(
    base_url: str,
    keys: dict[str, str],
    *,
    cases: int,
    seed: int = 0,
    rounds: int = 5,
    deadline: float | None = None,
    skip: Collection[str] = (),
) -> FuzzReport:
    """Send at least ``cases`` generated requests (fewer only if ``deadline`` passes).

    Args:
        base_url: Where the API answers (``/openapi.json`` is read from it).
        keys: Valid keys by holder (:func:`keys_from_file`); each request carries
            one: mostly of a role the operation admits, otherwise any.
        cases: How many requests to send, spread evenly over operations and modes.
        seed: Makes the generated requests repeatable.
        rounds: Spread the cases over this many rounds, each with fresh real cases
            (actions close cases; a round's later actions would all be 409).
        deadline: ``time.monotonic()`` by which to stop, whatever was sent.
        skip: Paths (as in the OpenAPI document) not to fuzz.
    """
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [op for op in _operations(schema) if op.path not in skip]
    chooser = random.Random(seed)
    report = FuzzReport()
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    per_run = max(1, -(-cases // (len(operations) * len(modes) * 2 * rounds)))
    with requests.Session() as http:
        send = _sender(base_url, http, keys, chooser, report)
        for round_ in range(1000):
            case_ids = file_real_cases(base_url, keys)
            for strategy in _strategies(operations, modes, case_ids, chooser):
                _run(strategy, send, examples=per_run, seed=seed * 1000 + round_)
                if report.cases >= cases or (deadline and time.monotonic() > deadline):
                    report.seconds = time.monotonic() - started
                    return report
    report.seconds = time.monotonic() - started
    return report


def _strategies(
    operations: list[Any],
    modes: tuple[GenerationMode, ...],
    case_ids: list[str],
    chooser: random.Random,
) -> Iterator[st.SearchStrategy[Any]]:
    for operation in operations:
        for mode in modes:
            yield operation.as_strategy(generation_mode=mode)
            if "{case_id}" in operation.path and case_ids:
                fixed = {"case_id": chooser.choice(case_ids)}
                yield operation.as_strategy(generation_mode=mode, path_parameters=fixed)


def _run(
    strategy: st.SearchStrategy[Any], send: Callable[[Any], None], *, examples: int, seed: int
) -> None:
    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(strategy)
    def each(case: Any) -> None:
        send(case)

    # Unsatisfiable: nothing to make invalid (e.g. an operation without parameters or body).
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        each()


def _key_for(path: str, keys: dict[str, str], chooser: random.Random) -> str:
    """Three times in four a key the operation admits (actions by the transition table)."""
    action = path.rsplit("/", 1)[-1]
    if path.startswith("/v1/grievances/{case_id}/") and chooser.random() < 0.75:
        try:
            roles = TRANSITIONS[Action(action)].roles
        except ValueError:
            roles = frozenset()
        holders = [
            f"unit:{UNIT}" if role is Role.UNIT else role.value
            for role in roles
            if role is Role.UNIT or role.value in keys
        ]
        if holders:
            return keys[chooser.choice(sorted(holders))]
    return keys[chooser.choice(sorted(keys))]


def _sender(
    base_url: str,
    http: requests.Session,
    keys: dict[str, str],
    chooser: random.Random,
    report: FuzzReport,
) -> Callable[[Any], None]:
    def send(case: Any) -> None:
        headers = _auth(_key_for(case.operation.path, keys, chooser))
        try:
            response = case.call(base_url=base_url, session=http, headers=headers, timeout=30)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, ValueError):
            report.unsendable += 1
            return
        report.cases += 1
        status = response.status_code
        report.statuses[status] += 1
        method, path = case.operation.method.upper(), case.formatted_path
        excerpt = response.content[:200].decode("utf-8", "replace")

        def finding(why: str) -> Finding:
            return Finding(method, path[:120], status, why, excerpt)

        if status >= 500:
            report.server_errors.append(finding("5xx"))
        documented = set(case.operation.responses.status_codes)
        if str(status) not in documented and "default" not in documented:
            report.undocumented.append(finding("undocumented"))
        if status >= 400 and not _is_error_body(response.content):
            report.bad_error_bodies.append(finding("error body"))

    return send


def _is_error_body(content: bytes) -> bool:
    try:
        body = json.loads(content)
    except ValueError:
        return False
    return isinstance(body, dict) and set(body) == {"error", "detail"}


def main(argv: list[str] | None = None) -> int:
    """Fuzz a running ``grievance up`` and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="of `grievance up`")
    parser.add_argument(
        "--base-url", default=None, help="default: the `api` of DATA_DIR/system.json"
    )
    parser.add_argument("--keys", type=Path, default=None, help="default: DATA_DIR/dev-keys.json")
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip", action="append", default=[], metavar="PATH", help="an OpenAPI path not to fuzz"
    )
    args = parser.parse_args(argv)
    keys_file = args.keys or args.data_dir / "dev-keys.json"
    system = args.data_dir / "system.json"
    written = json.loads(system.read_text()).get("api") if system.exists() else None
    base_url = str(args.base_url or written or DEFAULT_URL).rstrip("/")
    report = fuzz(
        base_url, keys_from_file(keys_file), cases=args.cases, seed=args.seed, skip=args.skip
    )
    print(report.summary())
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
