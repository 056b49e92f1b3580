"""Webhooks across a worker killed -9 mid-delivery (issue 11): nothing lost, nothing out of order.

``grievance up --workers 1``, a subscriber that takes a second to answer, a
case driven to closed, and the worker killed while a message is in flight.
``up`` restarts it; the drain, timed out on its heartbeat, runs again; the
receiver, de-duplicating by ``webhook-id`` as the scheme asks, has every event
of the case exactly once, in ``seq`` order, each signature verified by the
``standardwebhooks`` package.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from benchmarks.faults import Driver
from tests.cli.conftest import Processes
from tests.cli.test_up import read_dev_keys
from tests.cli.test_up_workers import POLLING, start_up_with_workers, wait_for, worker_children
from tests.receiver import WebhookReceiver

PATIENCE = 90.0
"""The drain's heartbeat timeout (30 s) and a retry, with room."""


async def test_every_event_arrives_once_in_order_across_a_killed_worker(
    processes: Processes, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    up, base_url = await start_up_with_workers(processes, data_dir, 1)
    keys = read_dev_keys(data_dir)
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    with WebhookReceiver(delay=1.0) as receiver:
        async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
            created = await http.post("/v1/webhooks", json={"url": receiver.url}, headers=admin)
            assert created.status_code == 201, created.text
            secret = created.json()["secret"]
            driver = Driver(http, keys, run_id=f"webhooks-{os.getpid()}")
            await driver.one_case(0)
            dispatcher = {"Authorization": f"Bearer {keys['dispatcher']}"}
            listed = await http.get("/v1/grievances", headers=dispatcher)
            case_id = listed.json()["items"][0]["id"]
            events = (await http.get(f"/v1/grievances/{case_id}/events", headers=dispatcher)).json()

            # Kill the worker while the (slow) receiver holds a message.
            await wait_for("a first delivery", up, lambda: len(receiver.deliveries) >= 1)
            [worker] = worker_children(up.pid)
            os.kill(worker, signal.SIGKILL)
            await wait_for("the worker restarted", up, lambda: up.stderr().count(POLLING) == 2)

            def unique() -> list[str]:
                return list(dict.fromkeys(d.headers["webhook-id"] for d in receiver.deliveries))

            await wait_for(
                "every event delivered",
                up,
                lambda: len(unique()) >= len(events),
                patience=PATIENCE,
            )
    first_copies: dict[str, object] = {}
    for delivery in receiver.deliveries:
        message = Webhook(secret).verify(delivery.raw, delivery.headers)
        first_copies.setdefault(delivery.headers["webhook-id"], message)
    seqs = [message["seq"] for message in first_copies.values()]  # type: ignore[index]
    assert seqs == [event["seq"] for event in events]
    assert len(receiver.deliveries) >= len(events)  # at least once: some came twice, perhaps
    os.killpg(up.pid, signal.SIGINT)
    assert await up.wait() == 0, up.describe()
