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

"Once" is per converter, and the worker makes a payload converter for every
workflow instance it loads (``payload_converter_class()``): with the SDK's
``PydanticPayloadConverter`` every cached case built and kept its own
validators for every type it decoded, about 70 KiB of RSS a case and a few
milliseconds of schema building each time a case was loaded or replayed
(``benchmarks/case_memory.py``). Ours hands every instance one JSON converter
per process, so each type's validator is built once.
"""

from __future__ import annotations

from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

SHARED_JSON = PydanticJSONPlainPayloadConverter()
"""The process's one ``json/plain`` converter, with its cache of type validators."""


class PayloadConverter(CompositePayloadConverter):
    """The SDK's default encodings, with JSON through :data:`SHARED_JSON`.

    Cheap to make (the worker makes one per workflow instance): it holds the
    shared JSON converter and the SDK's stateless others.
    """

    def __init__(self) -> None:
        super().__init__(
            *(
                SHARED_JSON if isinstance(converter, JSONPlainPayloadConverter) else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


DATA_CONVERTER: DataConverter = DataConverter(payload_converter_class=PayloadConverter)
"""Pass as ``data_converter=`` to every ``Client``, ``Replayer`` and test environment."""
