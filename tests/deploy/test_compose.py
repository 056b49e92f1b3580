"""docker-compose.yml, checked structurally: no image can be pulled on our machines.

What a Docker host would trip over is checked here: the services SPEC §8 names,
images pinned to versions, start order by health, the API's and the workers'
settings against :class:`Settings`, the set-up's search attributes against the
code's list, and a worker that scales. ``docker compose config`` validates the
file too wherever the compose plugin is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from typing import Any
from urllib.parse import urlsplit

import pytest

from grievance_flow import search_attributes
from grievance_flow.api.app import create_app
from grievance_flow.cli.devserver import RETENTION
from grievance_flow.cli.main import _parser
from grievance_flow.settings import Settings
from tests.deploy.conftest import ROOT, environment, settings_from, settings_variables

SPEC_SERVICES = {"postgresql", "temporal", "temporal-ui", "api", "worker"}
ONE_SHOTS = {"temporal-schema", "temporal-setup", "codec-keys", "audit-key"}
HEALTH_CONDITIONS = {"service_healthy", "service_completed_successfully"}
PINNED = re.compile(r"^[a-z0-9][a-z0-9./_-]*:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]*)$")


def _project_version() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    version: str = project["project"]["version"]
    return version


def test_the_spec_services_and_the_set_up_are_there(services: dict[str, Any]) -> None:
    assert set(services) == SPEC_SERVICES | ONE_SHOTS


def test_every_image_is_pinned_to_a_version(services: dict[str, Any]) -> None:
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} names no image"
        match = PINNED.match(image)
        assert match, f"{name}: {image!r} has no tag"
        tag = match["tag"]
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image!r} is not a version"


def test_the_project_image_is_built_here_and_tagged_with_the_version(
    services: dict[str, Any],
) -> None:
    ours = {"api", "worker", "codec-keys", "audit-key"}
    for name in ours:
        assert services[name]["build"] == "."
        assert services[name]["image"] == f"grievance-flow:{_project_version()}"
    assert {name for name, service in services.items() if "build" in service} == ours


def test_start_order_waits_on_health_or_success(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert isinstance(rule, dict), f"{name} -> {target}: no condition"
            condition = rule.get("condition")
            assert condition in HEALTH_CONDITIONS, f"{name} -> {target}: {condition!r}"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits on {target}'s health"
            else:
                assert target in ONE_SHOTS, f"{name} waits for {target} to end"
    for one_shot in ONE_SHOTS:
        assert services[one_shot]["restart"].startswith("on-failure"), one_shot


def test_the_order_is_database_schema_server_setup_then_the_system(
    services: dict[str, Any],
) -> None:
    def waits_on(name: str) -> dict[str, str]:
        return {target: rule["condition"] for target, rule in services[name]["depends_on"].items()}

    assert waits_on("temporal-schema") == {"postgresql": "service_healthy"}
    assert waits_on("temporal") == {"temporal-schema": "service_completed_successfully"}
    assert waits_on("temporal-setup") == {"temporal": "service_healthy"}
    for name in ("api", "worker"):
        assert waits_on(name) == {
            "audit-key": "service_completed_successfully",
            "codec-keys": "service_completed_successfully",
            "postgresql": "service_healthy",
            "temporal": "service_healthy",
            "temporal-setup": "service_completed_successfully",
        }


def test_the_healthchecks_ask_the_right_things(services: dict[str, Any]) -> None:
    # -h: over TCP, as the others connect; the image's init-time server has no TCP.
    assert "pg_isready -h 127.0.0.1" in " ".join(services["postgresql"]["healthcheck"]["test"])
    # The server image has only temporal-server and busybox: a port check, and
    # temporal-setup waits for `temporal operator cluster health` itself.
    assert services["temporal"]["healthcheck"]["test"] == ["CMD-SHELL", "nc -z localhost 7233"]
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in api_check
    assert "get" in create_app(Settings()).openapi()["paths"]["/readyz"]


def test_temporal_runs_on_the_postgresql_service(services: dict[str, Any]) -> None:
    for name in ("temporal", "temporal-schema"):
        env = environment(services[name])
        assert env["DB"] == "postgres12"
        assert env["POSTGRES_SEEDS"] == "postgresql"
        assert env["POSTGRES_USER"] == environment(services["postgresql"])["POSTGRES_USER"]
        assert env["POSTGRES_PWD"] == environment(services["postgresql"])["POSTGRES_PASSWORD"]
    assert (
        environment(services["temporal-schema"])["SQL_PASSWORD"]
        == (environment(services["postgresql"])["POSTGRES_PASSWORD"])
    )


def test_api_and_worker_set_only_settings_that_exist(services: dict[str, Any]) -> None:
    known = settings_variables()
    assert {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "DATABASE_URL"} <= known
    for name in ("api", "worker"):
        env = environment(services[name])
        assert set(env) <= known, f"{name} sets what Settings never reads: {set(env) - known}"
        assert {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "DATABASE_URL"} <= set(env)
        settings_from(env)  # valid values, too


def test_api_and_worker_reach_temporal_and_the_read_model(services: dict[str, Any]) -> None:
    schema = environment(services["temporal-schema"])
    read_model = environment(services["postgresql"])
    setup = environment(services["temporal-setup"])
    for name in ("api", "worker"):
        settings = settings_from(environment(services[name]))
        host, _, port = settings.temporal_address.partition(":")
        assert host == "temporal" and port == "7233"
        assert settings.temporal_namespace == setup["TEMPORAL_NAMESPACE"]
        assert settings.database_url is not None
        url = urlsplit(settings.database_url)
        assert url.scheme == "postgresql" and url.hostname == "postgresql"
        # The read model: its own database and role, made by the postgresql init script.
        assert url.path.lstrip("/") == read_model["READ_MODEL_DATABASE"]
        assert url.path.lstrip("/") not in (schema["DBNAME"], schema["VISIBILITY_DBNAME"])
        assert url.username == read_model["READ_MODEL_USER"]
        assert url.password == read_model["READ_MODEL_PASSWORD"]
    ui = environment(services["temporal-ui"])
    assert ui["TEMPORAL_DEFAULT_NAMESPACE"] == setup["TEMPORAL_NAMESPACE"]


def test_the_set_up_registers_the_codes_search_attributes(services: dict[str, Any]) -> None:
    pairs = environment(services["temporal-setup"])["SEARCH_ATTRIBUTES"].split()
    registered = dict(pair.split("=", 1) for pair in pairs)
    assert registered == search_attributes.registrations()
    assert len(pairs) == len(registered), "an attribute is listed twice"


def test_the_namespace_keeps_closed_cases_as_long_as_up_does(services: dict[str, Any]) -> None:
    retention = environment(services["temporal-setup"])["NAMESPACE_RETENTION"]
    assert retention == f"{RETENTION.days}d"


def test_the_set_up_scripts_and_mounted_files_exist(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
    # The postgres image runs the init script; the script finds its SQL under /deploy.
    volumes = services["postgresql"]["volumes"]
    assert "./deploy/postgresql:/deploy:ro" in volumes
    assert (
        "./deploy/postgresql/init-read-model.sh:/docker-entrypoint-initdb.d/init-read-model.sh:ro"
        in volumes
    )
    init = (ROOT / "deploy" / "postgresql" / "init-read-model.sh").read_text("utf-8")
    assert '"${READ_MODEL_SQL:-/deploy/read-model.sql}"' in init
    for one_shot in ONE_SHOTS - {"codec-keys", "audit-key"}:
        entrypoint = services[one_shot]["entrypoint"]
        assert entrypoint[0] == "/bin/sh"
        script = entrypoint[1].removeprefix("/deploy/")
        assert (ROOT / "deploy" / "temporal" / script).is_file()


def test_the_commands_are_the_real_entry_points(services: dict[str, Any]) -> None:
    api = services["api"]["command"]
    assert api[0] == "grievance"
    args = _parser().parse_args(api[1:])
    assert args.command == "api" and args.host == "0.0.0.0"
    assert services["api"]["ports"] == [f"{args.port}:{args.port}"]
    assert f":{args.port}/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["worker"]["command"] == ["python", "worker.py"]
    assert (ROOT / "worker.py").is_file()


def test_the_api_and_workers_share_the_codec_key_ring(services: dict[str, Any]) -> None:
    keys = services["codec-keys"]["command"]
    args = _parser().parse_args(keys[1:])
    assert (args.command, args.codec_command) == ("codec", "init")
    assert "codec-keys:/keys" in services["codec-keys"]["volumes"]
    for name in ("api", "worker"):
        assert "codec-keys:/keys:ro" in services[name]["volumes"]
        assert settings_from(environment(services[name])).codec_keys is not None
        assert environment(services[name])["GRIEVANCE_CODEC_KEYS"] == str(args.file)
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "chown 10001:10001 /keys /archive" in dockerfile  # a new volume takes its ownership


def test_the_audit_key_and_archive_reach_the_workers(services: dict[str, Any]) -> None:
    made = _parser().parse_args(services["audit-key"]["command"][1:])
    assert (made.command, made.audit_command) == ("audit", "key")
    assert "codec-keys:/keys" in services["audit-key"]["volumes"]
    for name in ("api", "worker"):
        assert environment(services[name])["GRIEVANCE_AUDIT_KEY"] == str(made.file)
    worker = settings_from(environment(services["worker"]))
    assert str(worker.archive_dir) == "/archive"
    assert "archive:/archive" in services["worker"]["volumes"]


def test_workers_scale(services: dict[str, Any]) -> None:
    worker = services["worker"]
    # A fixed name or a host port would make a second replica fail to start.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "hostname" not in worker
    assert not any("container_name" in service for service in services.values())


def _compose_command() -> list[str] | None:
    """``docker compose`` (the v2 plugin), else the old ``docker-compose``, else None.

    The old one still checks the file against the compose schema; it is what
    Debian 12 packages (the plugin is Docker's own package, not reachable here).
    """
    docker = shutil.which("docker")
    if docker is not None:
        found = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False
        )
        if found.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy is not None else None


def test_docker_compose_config_accepts_the_file() -> None:
    compose = _compose_command()
    if compose is None:
        pytest.skip("neither `docker compose` (the compose plugin) nor `docker-compose` here")
    checked = subprocess.run(
        [*compose, "--file", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
