"""The audit commands against a running ``grievance up``, found through its data dir.

``up`` writes ``DIR/system.json``; ``audit export``, ``audit show``,
``audit replay --query`` and ``projection rebuild`` read it (``--data-dir``),
or take ``TEMPORAL_ADDRESS`` for an external cluster (SPEC §5).
"""

from __future__ import annotations

import base64
import json
import signal
import stat
from pathlib import Path

import httpx

from tests.api.helpers import grievance_body
from tests.cli.conftest import (
    Processes,
    bearer,
    command_env,
    free_port,
    free_temporal_port,
    json_object,
    wait_until_healthy,
)

PHONE = "13812345678"


def exported_payloads(path: Path) -> str:
    """Every payload's data in an exported history, decoded from base64 and joined."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), str) and "metadata" in node:
                found.append(base64.b64decode(node["data"]).decode("utf-8", "replace"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(path.read_text("utf-8")))
    return "\n".join(found)


def dev_server_command(data_dir: Path) -> str:
    """The command line of the dev server ``up`` runs on ``data_dir`` (Linux /proc)."""
    database = str(data_dir / "temporal.db")
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().decode().split("\0")
        except OSError:
            continue
        if "start-dev" in words and database in words:
            return " ".join(words)
    raise AssertionError(f"no dev server runs on {database}")


async def test_audit_commands_find_the_running_system(processes: Processes, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    where = ("--data-dir", str(data_dir))
    port, temporal_port = free_port(), free_temporal_port()
    base_url = f"http://127.0.0.1:{port}"
    up = await processes.start(
        "up", *where, "--port", str(port), "--temporal-port", str(temporal_port)
    )
    await wait_until_healthy(base_url, up)

    system = json.loads((data_dir / "system.json").read_text("utf-8"))
    assert system == {
        "temporal_address": f"127.0.0.1:{temporal_port}",
        "namespace": "default",
        "task_queue": "grievances",
        "api": base_url,
    }

    keys = json.loads((data_dir / "dev-keys.json").read_text("utf-8"))
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        case = json_object(
            await http.post(
                "/v1/grievances", json=grievance_body(), headers=bearer(keys["hotline"])
            ),
            201,
        )
        json_object(
            await http.post(
                f"/v1/grievances/{case['id']}/withdraw",
                json={"reason": "市民已自行解决"},
                headers=bearer(keys["hotline"]),
            ),
            200,
        )
        from_api = json_object(
            await http.get(f"/v1/grievances/{case['id']}/history", headers=bearer(keys["auditor"])),
            200,
        )
        # The Web UI's codec endpoint, beside the API: an auditor's key opens the
        # filing (its phone in clear), no key or a unit's key does not.
        started = from_api["events"][0]["workflowExecutionStartedEventAttributes"]
        sealed = {"payloads": started["input"]["payloads"]}
        opened = await http.post("/codec/decode", json=sealed, headers=bearer(keys["auditor"]))
        assert opened.status_code == 200, opened.text
        assert PHONE in base64.b64decode(opened.json()["payloads"][0]["data"]).decode()
        assert (await http.post("/codec/decode", json=sealed)).status_code == 401
        unit = bearer(keys["units"]["grid-1"])
        assert (await http.post("/codec/decode", json=sealed, headers=unit)).status_code == 403

    exported = tmp_path / "case.json"
    export = await processes.run("audit", "export", case["id"], "-o", str(exported), *where)
    assert export.returncode == 0, export.describe()
    # A signed bundle (SPEC §12) of the same history the API serves, event for event.
    bundle = json.loads(exported.read_text("utf-8"))
    assert bundle["format"] == "grievance-flow/audit-bundle" and bundle["case_id"] == case["id"]
    assert bundle["history"]["events"][: len(from_api["events"])] == from_api["events"]
    assert stat.S_IMODE((data_dir / "audit-key.pem").stat().st_mode) == 0o600
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        published = json_object(await http.get("/v1/audit/public-key"), 200)
    assert bundle["signature"]["key_id"] == published["key_id"]

    # verify: OK with the system's key (by data dir, or the published PEM) ...
    verified = await processes.run("audit", "verify", str(exported), *where)
    assert verified.returncode == 0, verified.describe()
    assert verified.stdout().startswith(f"OK   {exported} ({case['id']}, signed by ")
    public = tmp_path / "audit.pub.pem"
    public.write_text(published["pem"], "utf-8")
    by_pem = await processes.run(
        "audit", "verify", str(exported), "--public-key", str(public), *where
    )
    assert by_pem.returncode == 0, by_pem.describe()
    # ... and FAIL, with the reason, once one character is changed.
    tampered = tmp_path / "tampered.json"
    text = exported.read_text("utf-8")
    at = text.index('"data": "') + len('"data": "') + 4
    tampered.write_text(text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :], "utf-8")
    failed = await processes.run("audit", "verify", str(exported), str(tampered), *where)
    assert failed.returncode == 1, failed.describe()
    lines = failed.stdout().splitlines()
    assert lines[0].startswith("OK ") and lines[1] == f"FAIL {tampered}: " + (
        "history edited: its SHA-256 is not the one recorded at export "
        f"({bundle['history_sha256'][:16]}…)"
    )

    assert f"--ui-codec-endpoint {base_url}/codec" in dev_server_command(data_dir)

    # up encrypts every payload (SPEC §12): the export holds no phone, and its
    # ring is the data dir's, private to its owner.
    assert stat.S_IMODE((data_dir / "codec-keys.json").stat().st_mode) == 0o600
    assert base64.b64encode(b"binary/encrypted").decode() in json.dumps(from_api)
    assert PHONE not in exported_payloads(exported)
    elsewhere = await processes.run(
        "audit", "replay", str(exported), env=command_env(GRIEVANCE_DATA_DIR=str(tmp_path))
    )
    assert elsewhere.returncode == 1, elsewhere.describe()
    assert "encrypted" in elsewhere.stdout() and "GRIEVANCE_CODEC_KEYS" in elsewhere.stdout()

    replay = await processes.run(
        "audit", "replay", str(exported), "--query", f"WorkflowId = '{case['id']}'", *where
    )
    assert replay.returncode == 0, replay.describe()
    assert replay.stdout().splitlines()[0] == f"OK   {exported} ({case['id']})"

    show = await processes.run("audit", "show", case["id"], *where)
    assert show.returncode == 0, show.describe()
    assert "withdrawn" in show.stdout() and "hotline" in show.stdout()

    rebuild = await processes.run("projection", "rebuild", *where)
    assert rebuild.returncode == 0, rebuild.describe()
    assert "cases rebuilt: 1, skipped (nothing projected yet): 0, failed: 0" in rebuild.stdout()

    # An external cluster is named by TEMPORAL_ADDRESS instead of a data dir; with
    # no audit key there, --history-only exports Temporal's JSON unsigned.
    external = await processes.run(
        "audit",
        "export",
        case["id"],
        "--history-only",
        env=command_env(TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}"),
    )
    assert external.returncode == 0, external.describe()
    assert json.loads(external.stdout()) == bundle["history"]
    unsigned = await processes.run(
        "audit",
        "export",
        case["id"],
        env=command_env(
            TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}", GRIEVANCE_DATA_DIR=str(tmp_path)
        ),
    )
    assert unsigned.returncode == 2, unsigned.describe()
    assert "--history-only" in unsigned.stderr()

    up.send(signal.SIGTERM)
    assert await up.wait() == 0, up.describe()

    # With the system stopped, the stale system.json leads nowhere: a clear exit 2.
    gone = await processes.run("audit", "export", case["id"], *where)
    assert gone.returncode == 2, gone.describe()
    assert "cannot reach Temporal" in gone.stderr()
