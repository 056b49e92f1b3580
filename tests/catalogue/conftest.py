"""Fixtures for catalogue tests: the bundled catalogue, loaded and as raw data."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest

from grievance_flow.catalogue import Catalogue, Classifier, load_catalogue, read_catalogue_data


@cache
def _raw_default() -> Any:
    data, _ = read_catalogue_data()
    return data


@pytest.fixture
def default_data() -> dict[str, Any]:
    """A private deep copy of the bundled catalogue's raw data, free to mutate."""
    data: dict[str, Any] = copy.deepcopy(_raw_default())
    return data


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The bundled catalogue, loaded and validated."""
    return load_catalogue()


@pytest.fixture(scope="session")
def classifier(catalogue: Catalogue) -> Classifier:
    """A classifier over the bundled catalogue."""
    return Classifier(catalogue)
