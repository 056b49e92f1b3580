"""Fixtures of the multi-process tests: the CLI tests' ``processes``, stopped at the end."""

from tests.cli.conftest import processes as processes

__all__ = ["processes"]
