"""A case withdrawn while a merged duplicate's notice is still on its way to it."""

from __future__ import annotations

from grievance_flow.workflows.contracts import Role
from tests.api.conftest import Api
from tests.api.helpers import act, file_case


async def test_withdrawing_a_target_as_its_duplicate_tells_it(api: Api) -> None:
    # The merge answers before the duplicate's signal reaches the target; a
    # withdraw sent at once may close the target in the task that signal
    # arrives in. Temporal then throws that task away with the update in it
    # ("UnhandledCommand"); the API sends it again rather than answer 409.
    for _ in range(6):
        target = await file_case(api)
        duplicate = await file_case(api)
        await act(api, duplicate["id"], "merge", Role.DISPATCHER, {"into": target["id"]})
        closed = await act(api, target["id"], "withdraw", Role.HOTLINE, {"reason": "撤回"})
        assert (closed["status"], closed["outcome"]) == ("closed", "withdrawn")
        assert closed["merged_cases"] == [duplicate["id"]] or closed["merged_cases"] == []
