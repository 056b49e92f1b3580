"""``grievance audit export`` and ``audit replay``: an auditor's proof that today's code
reproduces a case, and that a doctored history does not pass (issue 5 acceptance)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from grievance_flow.audit.signing import ensure_signing_key
from grievance_flow.runtime import load_domain
from grievance_flow.store.engine import make_engine, migrate, sqlite_url_for
from tests.audit.conftest import (
    alter_update,
    close_resolved,
    grievance,
    point_at,
    read_json,
    without_first,
    write_json,
)
from tests.cli.conftest import GRIEVANCE, command_env
from tests.workflows.harness import GRID, running_harness


@dataclass
class ClosedCase:
    """A case run to its close on the dev server, and a data dir that finds that server."""

    case_id: str
    data_dir: Path
    exported: Path
    """Its history, exported through the CLI."""


@pytest.fixture(scope="module")
async def closed(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ClosedCase]:
    data_dir = tmp_path_factory.mktemp("audit-system")
    engine = make_engine(sqlite_url_for(data_dir))
    migrate(engine)
    async with running_harness(dev_env, load_domain(None), engine) as harness:
        handle = await harness.file()
        await close_resolved(handle)
    engine.dispose()
    point_at(dev_env, data_dir)
    exported = data_dir / "exported" / f"{handle.id}.json"
    exported.parent.mkdir()
    # Bare Temporal JSON (as the Temporal CLI and UI export too): what these
    # tests replay and tamper with; signed bundles are tested below and in test_bundle.
    run = await grievance(
        "audit", "export", handle.id, "-o", str(exported), "--data-dir", str(data_dir),
        "--history-only",
    )  # fmt: skip
    assert run.code == 0, run.describe()
    yield ClosedCase(handle.id, data_dir, exported)


def fail_recheck(command: dict[str, Any]) -> None:
    """The forger's edit: the verifier's passed callback becomes a failed one."""
    command["passed"] = False
    command["satisfaction"] = "unsatisfied"


async def test_an_exported_closed_case_replays(closed: ClosedCase) -> None:
    history = read_json(closed.exported)
    assert history["events"][0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert history["events"][-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"

    run = await grievance("audit", "replay", str(closed.exported))

    assert run.code == 0, run.describe()
    assert run.lines == [f"OK   {closed.exported} ({closed.case_id})"]


async def test_export_without_a_file_writes_the_same_json_to_stdout(closed: ClosedCase) -> None:
    where = ("--data-dir", str(closed.data_dir), "--history-only")
    run = await grievance("audit", "export", closed.case_id, *where)
    assert run.code == 0, run.describe()
    assert run.out == closed.exported.read_text("utf-8")
    # The hotline's own id is accepted too, for people typing at a terminal.
    external = closed.case_id.removeprefix("grievance-")
    by_external = await grievance("audit", "export", external, *where)
    assert by_external.out == run.out


async def test_a_signed_bundle_verifies_and_replays(closed: ClosedCase, tmp_path: Path) -> None:
    ensure_signing_key(closed.data_dir / "audit-key.pem")  # as `grievance up` makes it
    where = ("--data-dir", str(closed.data_dir))
    bundle = tmp_path / "bundle.json"
    run = await grievance("audit", "export", closed.case_id, "-o", str(bundle), *where)
    assert run.code == 0, run.describe()
    assert read_json(bundle)["history"] == read_json(closed.exported)
    replayed = await grievance("audit", "replay", str(bundle), str(closed.exported))
    assert replayed.code == 0, replayed.describe()
    assert replayed.lines == [
        f"OK   {bundle} ({closed.case_id})",
        f"OK   {closed.exported} ({closed.case_id})",
    ]
    verified = await grievance("audit", "verify", str(bundle), *where)
    assert verified.code == 0, verified.describe()
    unsigned = await grievance("audit", "verify", str(closed.exported), *where)
    assert unsigned.code == 1
    assert unsigned.lines == [f"FAIL {closed.exported}: not a signed audit bundle "
                              "(a bare history has no signature)"]  # fmt: skip


@pytest.mark.parametrize(
    ("alteration", "reason"),
    [
        pytest.param(
            lambda history: alter_update(history, "recheck", fail_recheck),
            "Nondeterminism",
            id="recheck-verdict-changed",
        ),
        pytest.param(
            lambda history: without_first(history, "EVENT_TYPE_TIMER_STARTED"),
            "out of order",
            id="event-deleted",
        ),
    ],
)
async def test_the_same_history_altered_fails(
    closed: ClosedCase, tmp_path: Path, alteration: Any, reason: str
) -> None:
    altered = write_json(tmp_path / "altered.json", alteration(read_json(closed.exported)))

    run = await grievance("audit", "replay", str(altered))

    assert run.code == 1, run.describe()
    assert len(run.lines) == 1, run.describe()
    assert run.lines[0].startswith(f"FAIL {altered}: "), run.describe()
    assert reason in run.lines[0]
    assert "Traceback" not in run.err


async def test_a_folder_reports_each_file(closed: ClosedCase, tmp_path: Path) -> None:
    folder = tmp_path / "histories"
    good = write_json(folder / "a-good.json", read_json(closed.exported))
    bad = write_json(
        folder / "nested" / "b-altered.json",
        alter_update(read_json(closed.exported), "recheck", fail_recheck),
    )
    (folder / "README.txt").write_text("not a history, and not *.json: ignored")

    run = await grievance("audit", "replay", str(folder))

    assert run.code == 1, run.describe()
    assert len(run.lines) == 2, run.describe()
    assert run.lines[0] == f"OK   {good} ({closed.case_id})"
    assert run.lines[1].startswith(f"FAIL {bad}: ")
    assert "2 histories: 1 replay, 1 fail" in run.err


@workflow.defn(name="Greeting")
class Greeting:
    """Somebody else's workflow, whose history an auditor might be handed by mistake."""

    @workflow.run
    async def run(self, name: str) -> str:
        """Greet."""
        return f"你好, {name}"


async def foreign_history(client: Client) -> dict[str, Any]:
    task_queue = f"foreign-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[Greeting],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(
            Greeting.run, "审计员", id=f"greeting-{uuid.uuid4()}", task_queue=task_queue
        )
        await handle.result()
    return (await handle.fetch_history()).to_json_dict()


async def test_foreign_and_non_history_json_fail_cleanly(
    dev_env: WorkflowEnvironment, closed: ClosedCase, tmp_path: Path
) -> None:
    files = {
        "greeting.json": (
            await foreign_history(dev_env.client),
            "not a grievance workflow history: Greeting",
        ),
        "object.json": ({"case": "grievance-1"}, "not a Temporal history: "),
        "list.json": ([1, 2, 3], "not a Temporal history: expected a JSON object"),
        "empty.json": ({"events": []}, "not a Temporal history: it has no events"),
    }
    paths = [write_json(tmp_path / name, document) for name, (document, _) in files.items()]
    broken = tmp_path / "broken.json"
    broken.write_text('{"events": [', "utf-8")
    # The start event cut off: the SDK core would panic on this one if it were let through.
    headless = read_json(closed.exported)
    headless["events"] = headless["events"][1:]
    paths += [broken, write_json(tmp_path / "headless.json", headless)]

    run = await grievance("audit", "replay", *map(str, paths))

    assert run.code == 1, run.describe()
    assert "Traceback" not in run.err
    expected = [reason for _, reason in files.values()] + [
        "not a Temporal history: invalid JSON",
        "not a Temporal history: the first event is not WorkflowExecutionStarted",
    ]
    assert len(run.lines) == len(paths), run.describe()
    for line, path, reason in zip(run.lines, paths, expected, strict=True):
        assert line.startswith(f"FAIL {path}: {reason}"), run.describe()


async def test_query_replays_live_histories_from_the_server(
    dev_env: WorkflowEnvironment, closed: ClosedCase
) -> None:
    query = f"WorkflowId = '{closed.case_id}'"
    # Visibility is eventually consistent: wait until the server lists the case.
    for _ in range(100):
        if [run async for run in dev_env.client.list_workflows(query)]:
            break
        await asyncio.sleep(0.1)

    run = await grievance(
        "audit",
        "replay",
        str(closed.exported),
        "--query",
        query,
        "--data-dir",
        str(closed.data_dir),
    )

    assert run.code == 0, run.describe()
    assert run.lines[0] == f"OK   {closed.exported} ({closed.case_id})"
    assert run.lines[1].startswith(f"OK   temporal:{closed.case_id}@")
    assert run.lines[1].endswith(f" ({closed.case_id})")
    assert len(run.lines) == 2


async def test_usage_errors_exit_2(closed: ClosedCase, tmp_path: Path) -> None:
    missing = await grievance("audit", "replay", str(closed.exported), str(tmp_path / "nope.json"))
    assert missing.code == 2 and "nope.json" in missing.err, missing.describe()
    assert missing.out == ""  # nothing replayed when the command line is wrong

    nothing = await grievance("audit", "replay")
    assert nothing.code == 2, nothing.describe()

    empty = tmp_path / "empty-folder"
    empty.mkdir()
    no_histories = await grievance("audit", "replay", str(empty))
    assert no_histories.code == 2 and "no *.json" in no_histories.err, no_histories.describe()

    nowhere = await grievance(
        "audit", "replay", "--query", "WorkflowType = 'GrievanceWorkflow'", "--data-dir", str(empty)
    )
    assert nowhere.code == 2, nowhere.describe()
    assert "system.json" in nowhere.err and "TEMPORAL_ADDRESS" in nowhere.err

    malformed = await grievance(
        "audit", "replay", "--query", "WorkflowType ==== 'x", "--data-dir", str(closed.data_dir)
    )
    assert malformed.code == 2, malformed.describe()
    assert "Temporal refused the request" in malformed.err
    assert "Traceback" not in malformed.err


async def test_the_console_script_reports_and_exits_like_main(
    closed: ClosedCase, tmp_path: Path
) -> None:
    folder = tmp_path / "histories"
    write_json(folder / "good.json", read_json(closed.exported))
    write_json(
        folder / "bad.json", alter_update(read_json(closed.exported), "recheck", fail_recheck)
    )

    process = await asyncio.create_subprocess_exec(
        str(GRIEVANCE),
        "audit",
        "replay",
        str(folder),
        env=command_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 1, err.decode()
    lines = out.decode().splitlines()
    assert lines[0].startswith(f"FAIL {folder / 'bad.json'}: ")
    assert lines[1] == f"OK   {folder / 'good.json'} ({closed.case_id})"


async def test_show_fetches_a_case_by_id_from_the_running_system(closed: ClosedCase) -> None:
    run = await grievance("audit", "show", closed.case_id, "--data-dir", str(closed.data_dir))

    assert run.code == 0, run.describe()
    assert run.lines[0].startswith(f"case      {closed.case_id}")
    assert "closed / closed" in run.out and "outcome resolved" in run.out
    assert f"unit/{GRID}" in run.out and "passed, satisfied" in run.out

    unknown = await grievance(
        "audit", "show", "grievance-never-filed", "--data-dir", str(closed.data_dir)
    )
    assert unknown.code == 1, unknown.describe()
    assert "no case 'grievance-never-filed'" in unknown.err
