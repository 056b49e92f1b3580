"""The data converter of a process: ours (``payloads.DATA_CONVERTER``), sealed by the ring.

Every client (worker, API, CLI, the embedded dev server's) and every Replayer
takes its converter from here, so a process either encrypts and decrypts
everywhere or, without a ring, nowhere.
"""

from __future__ import annotations

import dataclasses
import logging
from functools import cache

from temporalio.converter import DataConverter

from grievance_flow.codec.encryption import EncryptionCodec
from grievance_flow.codec.keys import CodecKeyRing, ring_from
from grievance_flow.payloads import DATA_CONVERTER
from grievance_flow.settings import Settings

log = logging.getLogger(__name__)


def sealed_converter(ring: CodecKeyRing | None) -> DataConverter:
    """:data:`DATA_CONVERTER` with the AES-GCM codec of ``ring``; None: plain."""
    if ring is None:
        return DATA_CONVERTER
    return dataclasses.replace(DATA_CONVERTER, payload_codec=EncryptionCodec(ring))


def settings_ring(settings: Settings) -> CodecKeyRing | None:
    """The ring ``settings`` name (``GRIEVANCE_CODEC_KEYS``, else the data dir's file)."""
    configured = settings.codec_keys.get_secret_value() if settings.codec_keys else None
    return ring_from(configured, settings.data_dir)


def converter_for(settings: Settings) -> DataConverter:
    """The converter for a process configured by ``settings``.

    Raises:
        CodecKeyError: The configured ring cannot be used.
    """
    ring = settings_ring(settings)
    if ring is None:
        log.warning(
            "no codec key ring (GRIEVANCE_CODEC_KEYS or codec-keys.json in the data dir): "
            "payloads are written to Temporal unencrypted"
        )
    return sealed_converter(ring)


@cache
def default_converter() -> DataConverter:
    """The converter of a process that was given no settings (e.g. ``audit replay FILE``)."""
    return sealed_converter(settings_ring(Settings()))
