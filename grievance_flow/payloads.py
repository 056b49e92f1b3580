"""The data converter every Temporal client of ours uses: Temporal's pydantic converter.

The SDK's default JSON converter decodes a dataclass with ``value_to_type``,
which reads the class's type hints and walks every field in Python on every
call; a case (``CaseView``) took about 0.4 ms to decode and the projection's
input 0.7 ms, several times per action, in the worker and in the API. The
pydantic converter (``temporalio.contrib.pydantic``) builds a validator per type
once and decodes in pydantic-core: the same payloads decode in a few
microseconds. It reads and writes the same ``json/plain`` payloads: histories
written before it was used decode unchanged (tests/workflows/test_histories.py
replays them), and a client on the default converter still reads its payloads.
"""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

DATA_CONVERTER: DataConverter = pydantic_data_converter
"""Pass as ``data_converter=`` to every ``Client``, ``Replayer`` and test environment."""
