"""Every recorded history replays against today's workflow code.

A failure here means a change to workflow code would break cases already
running: guard it with ``workflow.patched()`` (README, "Changing workflow code
safely"). Never re-record the history to make this pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.worker import Replayer

from grievance_flow.workflows.grievance import GrievanceWorkflow
from tests.histories import load_history, recorded_histories

HISTORIES = recorded_histories()


def test_the_recorded_paths_are_there() -> None:
    # Issue 5's floor; tests/histories/record.py records nine.
    assert len(HISTORIES) >= 5, [path.name for path in HISTORIES]


@pytest.mark.parametrize("path", HISTORIES, ids=[path.name for path in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(workflows=[GrievanceWorkflow])
    result = await replayer.replay_workflow(load_history(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure!r}"
