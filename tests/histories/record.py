"""Record the workflow histories under tests/histories/, one JSON file per path.

    .venv/bin/python -m tests.histories.record [--only NAME ...] [--out DIR]

THE RULE: a recorded history is never re-recorded to make a failing replay
pass. A failing replay means the code change would break cases that are running
right now; guard the change with ``workflow.patched()`` instead (README,
"Changing workflow code safely"). Re-record only to add a new path, and say why
in the commit. So this script never overwrites: it records only the paths that
have no file yet (a file goes only when a deprecated patch is retired, deleted
in its own visible diff; README). ``--out DIR`` records elsewhere, to look.

Each scenario runs a real case to its close on the time-skipping test server,
with the worker ``grievance_flow.worker.build_worker`` builds (the real
activities) and a throw-away SQLite read model, sending the actions the way the
API does (one Update each). Case ids are fixed and readable
(``grievance-REC-<name>``), and client and worker identities are fixed, so a
file says which path it is and not which machine recorded it.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from grievance_flow.binaries import temporal_test_server
from grievance_flow.catalogue.loader import parse_catalogue, read_catalogue_data
from grievance_flow.deadlines.calendar import WorkingCalendar
from grievance_flow.runtime import Domain, load_domain
from grievance_flow.search_attribute_registration import register
from grievance_flow.store import queries
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from grievance_flow.workflows.contracts import (
    AcceptInput,
    Action,
    ArbitrateInput,
    CaseResult,
    CaseView,
    CompleteInput,
    CompletionResult,
    DecideExtensionInput,
    DispatchInput,
    ExtendInput,
    MergeInput,
    ProgressInput,
    RecheckInput,
    ReportInInput,
    ReturnInput,
    Satisfaction,
    SuperviseInput,
    WhistleInput,
    WithdrawInput,
)
from tests.builders import CASE_CATEGORY, DISPATCHER, HOTLINE, VERIFIER, unit
from tests.workflows.harness import (
    GRID,
    SECONDS,
    Handle,
    Harness,
    act,
    current,
    running_harness,
    seconds_domain,
)

HERE = Path(__file__).resolve().parent
IDENTITY = "tests/histories/record.py"

OWNER = "dept-cw"
"""Where the catalogue routes CASE_TEXT's category (夜间施工扰民, tier A)."""

PASSED = RecheckInput(
    actor=VERIFIER, passed=True, satisfaction=Satisfaction.SATISFIED, note="回访满意"
)
FAILED = RecheckInput(
    actor=VERIFIER, passed=False, satisfaction=Satisfaction.UNSATISFIED, note="仍有噪音"
)


def external_id(name: str) -> str:
    """The hotline id of the case recorded as ``<name>.json``."""
    return f"REC-{name}"


def bundled_domain() -> Domain:
    """The bundled catalogue on the official calendar: nothing falls due while recording."""
    return load_domain(None)


def working_days_domain() -> Domain:
    """Seconds everywhere except a handle clock of 3 working days (extensions count those)."""
    data, _ = read_catalogue_data(None)
    data = copy.deepcopy(data)
    for name in data["sla_classes"]:
        data["sla_classes"][name] = dict(SECONDS) | {"handle": {"working_days": 3}}
    data["policy"]["escalate_after"] = {"working_days": 1}
    catalogue = parse_catalogue(data, source="working-days")
    return Domain(catalogue=catalogue, calendar=WorkingCalendar(catalogue.calendar_overrides))


Recorded = dict[str, Handle]
"""File name (without ``.json``) → the case whose history goes in it."""


@dataclass(frozen=True)
class Scenario:
    """One path through the lifecycle; ``drive`` runs its cases to their close."""

    name: str
    domain: Callable[[], Domain]
    drive: Callable[[Harness, WorkflowEnvironment], Awaitable[Recorded]]
    files: tuple[str, ...] = ()
    """The files it writes (without ``.json``) when not just ``name``."""

    def outputs(self) -> tuple[str, ...]:
        return self.files or (self.name,)


# --- the actions, as the API sends them ----------------------------------------


async def dispatch(handle: Handle, unit_id: str = OWNER, tier: str = "A") -> CaseView:
    command = DispatchInput(actor=DISPATCHER, category=CASE_CATEGORY, unit=unit_id, tier=tier)
    return await act(handle, Action.DISPATCH, command)


async def accept(handle: Handle, unit_id: str = OWNER) -> CaseView:
    return await act(handle, Action.ACCEPT, AcceptInput(actor=unit(unit_id), note="已签收"))


async def complete(handle: Handle, unit_id: str = OWNER) -> CaseView:
    done = CompleteInput(
        actor=unit(unit_id), result=CompletionResult.RESOLVED, note="已责令停工整改"
    )
    return await act(handle, Action.COMPLETE, done)


async def refused(handle: Handle, action: Action, command: object) -> None:
    """Send an action the validator must refuse (it never reaches history)."""
    try:
        await act(handle, action, command)
    except WorkflowUpdateFailedError:
        return
    raise AssertionError(f"{action.value} was expected to be refused")


# --- the paths ----------------------------------------------------------------------


async def full_lifecycle(desk: Harness, env: WorkflowEnvironment) -> Recorded:
    """report → dispatch → accept → progress, 督办 → complete → recheck passed → closed."""
    handle = await desk.file(external_id=external_id("full-lifecycle"))
    await dispatch(handle)
    await accept(handle)
    await act(handle, Action.PROGRESS, ProgressInput(actor=unit(OWNER), note="已到工地核实"))
    # 督办 while a unit holds the case: the path the supervision-notifies-unit patch changes.
    await act(
        handle, Action.SUPERVISE, SuperviseInput(actor=DISPATCHER, note="市民多次来电，请加快办理")
    )
    await act(handle, Action.PROGRESS, ProgressInput(actor=unit(OWNER), note="已约谈施工方"))
    await complete(handle)
    await act(handle, Action.RECHECK, PASSED)
    return {"full-lifecycle": handle}


async def return_and_arbitration(desk: Harness, env: WorkflowEnvironment) -> Recorded:
    """Two returns; a third plain dispatch is refused; arbitrate; accept, complete, recheck."""
    handle = await desk.file(external_id=external_id("return-and-arbitration"))
    for reason in ("不属于本网格", "仍不属于本网格，应由城管执法处理"):
        await dispatch(handle, "grid-2", "D")
        await act(handle, Action.RETURN, ReturnInput(actor=unit("grid-2"), reason=reason))
    await refused(
        handle,
        Action.DISPATCH,
        DispatchInput(actor=DISPATCHER, category=CASE_CATEGORY, unit=OWNER, tier="A"),
    )
    await act(handle, Action.ARBITRATE, ArbitrateInput(DISPATCHER, OWNER, "A", "裁定由城管办理"))
    await refused(handle, Action.RETURN, ReturnInput(actor=unit(OWNER), reason="不归我管"))
    await accept(handle)
    await complete(handle)
    await act(handle, Action.RECHECK, PASSED)
    return {"return-and-arbitration": handle}


async def sla_escalation(desk: Harness, env: WorkflowEnvironment) -> Recorded:
    """Accept left alone: warning, overdue + chase, escalation to the parent, who accepts."""
    handle = await desk.file(external_id=external_id("sla-escalation"))
    await dispatch(handle, GRID, "D")
    await env.sleep(timedelta(seconds=151))  # warn 80 s, due 100 s, escalate 150 s
    case = await current(handle)
    assert (case.unit, case.escalations) == ("comm-1", 1), case
    await accept(handle, "comm-1")
    await complete(handle, "comm-1")
    await act(handle, Action.RECHECK, PASSED)
    return {"sla-escalation": handle}


async def whistle_and_report_in(desk: Harness, env: WorkflowEnvironment) -> Recorded:
    """Two units summoned; dept-cg reports in, dept-ga never does and goes overdue by name."""
    handle = await desk.file(external_id=external_id("whistle-and-report-in"))
    await dispatch(handle, GRID, "D")
    await accept(handle, GRID)
    summon = WhistleInput(actor=unit(GRID), units=["dept-cg", "dept-ga"], reason="需执法配合")
    await act(handle, Action.WHISTLE, summon)
    await act(handle, Action.REPORT_IN, ReportInInput(actor=unit("dept-cg"), note="已到场"))
    await env.sleep(timedelta(seconds=60))  # report-in due at 50 s
    case = await current(handle)
    assert case.overdue_stages == ["report_in:dept-ga"], case.overdue_stages
    await act(handle, Action.PROGRESS, ProgressInput(actor=unit("dept-cg"), note="联合执法完成"))
    await complete(handle, GRID)
    await act(handle, Action.RECHECK, PASSED)
    return {"whistle-and-report-in": handle}


async def extension(desk: Harness, env: WorkflowEnvironment) -> Recorded:
    """延期: a request approved (the deadline moves), then one denied (it does not)."""
    handle = await desk.file(external_id=external_id("extension"))
    await dispatch(handle)
    await accept(handle)
    ask = ExtendInput(actor=unit(OWNER), working_days=2, reason="需协调多个部门")
    await act(handle, Action.EXTEND, ask)
    approve = DecideExtensionInput(actor=DISPATCHER, approve=True, note="同意延期")
    await act(handle, Action.DECIDE_EXTENSION, approve)
    more = ExtendInput(actor=unit(OWNER), working_days=5, reason="施工方拒不配合")
    await act(handle, Action.EXTEND, more)
    deny = DecideExtensionInput(actor=DISPATCHER, approve=False, note="不予延期")
    await act(handle, Action.DECIDE_EXTENSION, deny)
    await complete(handle)
    await act(handle, Action.RECHECK, PASSED)
    return {"extension": handle}


async def merge(desk: Harness, env: WorkflowEnvironment) -> Recorded:
    """并单: the duplicate closes merged; the target records it and tells the hotline at close."""
    target = await desk.file(external_id=external_id("merge-target"))
    target_id = (await current(target)).id
    for _ in range(100):  # the duplicate's intake lists the target once it is projected
        if queries.get_case(desk.engine, target_id) is not None:
            break
        await asyncio.sleep(0.05)
    duplicate = await desk.file(external_id=external_id("merge"))
    await act(duplicate, Action.MERGE, MergeInput(actor=DISPATCHER, into=target_id))
    await duplicate.result()
    for _ in range(100):  # the signal reaches the target in its next workflow task
        if (await current(target)).merged_cases:
            break
        await asyncio.sleep(0.05)
    await dispatch(target)
    await accept(target)
    await complete(target)
    await act(target, Action.RECHECK, PASSED)
    return {"merge": duplicate, "merge-target": target}


async def reopen_limit(desk: Harness, env: WorkflowEnvironment) -> Recorded:
    """重办: two failed rechecks reopen the case; the third closes it unresolved."""
    handle = await desk.file(external_id=external_id("reopen-limit"))
    await dispatch(handle)
    await accept(handle)
    for _ in range(3):
        await complete(handle)
        await act(handle, Action.RECHECK, FAILED)
    return {"reopen-limit": handle}


async def withdraw(desk: Harness, env: WorkflowEnvironment) -> Recorded:
    """撤回 while the unit has yet to accept: the running clock stops, the case closes."""
    handle = await desk.file(external_id=external_id("withdraw"))
    await dispatch(handle)
    await act(handle, Action.WITHDRAW, WithdrawInput(actor=HOTLINE, reason="市民来电撤回"))
    return {"withdraw": handle}


SCENARIOS = [
    Scenario("full-lifecycle", bundled_domain, full_lifecycle),
    Scenario("return-and-arbitration", bundled_domain, return_and_arbitration),
    Scenario("sla-escalation", seconds_domain, sla_escalation),
    Scenario("whistle-and-report-in", seconds_domain, whistle_and_report_in),
    Scenario("extension", working_days_domain, extension),
    Scenario("merge", bundled_domain, merge, files=("merge", "merge-target")),
    Scenario("reopen-limit", bundled_domain, reopen_limit),
    Scenario("withdraw", bundled_domain, withdraw),
]


# --- recording ------------------------------------------------------------------------


async def write_history(out: Path, name: str, handle: Handle) -> Path:
    """Wait for the case to close, then write its history to ``<name>.json``."""
    result: CaseResult = await handle.result()
    history = await handle.fetch_history()
    path = out / f"{name}.json"
    path.write_text(history.to_json() + "\n", encoding="utf-8")
    size = path.stat().st_size
    print(
        f"{path.name:32} {len(history.events):4} events {size // 1024:5} KiB  "
        f"{result.outcome.value}"
    )
    return path


async def record(
    scenario: Scenario, env: WorkflowEnvironment, engine: Engine, out: Path
) -> list[Path]:
    async with running_harness(env, scenario.domain(), engine) as desk:
        cases = await scenario.drive(desk, env)
        assert tuple(cases) == scenario.outputs(), (scenario.name, list(cases))
        return [await write_history(out, name, handle) for name, handle in cases.items()]


async def record_all(scenarios: Sequence[Scenario], out: Path) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()), identity=IDENTITY
    )
    try:
        # New cases upsert SPEC §8's search attributes, which this server must know.
        await register(env.client)
        # Time moves only where a scenario sleeps: awaiting a result must not let the
        # server jump ahead (it would, to the next timeout it knows of), or the
        # recorded dates would land decades from now.
        with env.auto_time_skipping_disabled():
            for scenario in scenarios:
                # A read model of its own, so no case sees another path's as a duplicate.
                with tempfile.TemporaryDirectory(prefix="record-") as tmp:
                    engine = make_engine(sqlite_url_for(Path(tmp)))
                    migrate(engine)
                    try:
                        await record(scenario, env, engine, out)
                    finally:
                        engine.dispose()
    finally:
        await env.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.histories.record",
        description="Record workflow histories into tests/histories/. Never re-record a "
        "history to make a failing replay pass: guard the change with workflow.patched().",
    )
    names = [scenario.name for scenario in SCENARIOS]
    parser.add_argument(
        "--only", action="append", choices=names, metavar="NAME", help=f"one of {names}"
    )
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    chosen = []
    for scenario in SCENARIOS:
        if args.only is not None and scenario.name not in args.only:
            continue
        existing = [name for name in scenario.outputs() if (out / f"{name}.json").exists()]
        if existing:
            files = ", ".join(f"{name}.json" for name in existing)
            print(f"{scenario.name}: {files} exists; not re-recorded")
            continue
        chosen.append(scenario)
    if chosen:
        asyncio.run(record_all(chosen, out))
    return 0


if __name__ == "__main__":
    code = main()
    # Skip interpreter teardown: the SDK's Rust threads can outlive it and abort the
    # process after the files are written (temporalio/sdk-python#300).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
