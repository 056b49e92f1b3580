"""The form-encoded ``POST requests`` of Open311 clients, read into a filing.

Clients send ``attribute[code]=value`` for a single answer and
``attribute[code][]=value`` (repeated) for a multi-value one, as the GeoReport
v2 text shows; FixMyStreet's ``Open311.pm`` repeats ``attribute[code]`` itself.
Answers are checked against the service's attributes (``grid`` and the
category's own): a required one missing, a value outside a list's keys, a
number or datetime that is not one: each is a 400 that names it. An attribute
the service does not ask is ignored and not kept, as clients add their own
(FixMyStreet: ``fixmystreet_id``, ``easting``, ``closest_address``...), except
that ``fixmystreet_id`` identifies the report for idempotency.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo

from grievance_flow.catalogue.model import AttributeType, Catalogue, Category, CategoryAttribute
from grievance_flow.open311.errors import bad_request
from grievance_flow.open311.params import parse_w3c
from grievance_flow.open311.services import attributes_of

MAX_DESCRIPTION = 4000
"""Characters a request's ``description`` may have (GeoReport v2's limit)."""

MAX_FIELD = 500
"""Characters any other single field may have."""

_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")

Form = Sequence[tuple[str, str]]
"""The posted fields in order, names repeated for multi-value ones."""


@dataclass(frozen=True)
class Filing:
    """An Open311 request as our case needs it (no id yet: see :func:`external_id_of`)."""

    service_code: str
    grid: str
    description: str
    address: str
    lat: float | None
    lon: float | None
    name: str
    phone: str
    email: str | None
    media_url: str | None
    answers: dict[str, str | list[str]] = field(default_factory=dict)
    """The category's own attributes, by code (``grid`` is :attr:`grid`)."""


def _fields(form: Form) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Plain fields (the last value of each) and attribute answers (all values)."""
    plain: dict[str, str] = {}
    answers: dict[str, list[str]] = {}
    for name, value in form:
        if len(value) > (MAX_DESCRIPTION if name == "description" else MAX_FIELD):
            limit = MAX_DESCRIPTION if name == "description" else MAX_FIELD
            raise bad_request(f"{name} is longer than {limit} characters.")
        matched = _ATTRIBUTE.fullmatch(name)
        if matched:
            answers.setdefault(matched.group(1), []).append(value.strip())
        else:
            plain[name] = value.strip()
    return plain, answers


def read_filing(form: Form, catalogue: Catalogue, zone: tzinfo) -> Filing:
    """Check ``form`` against its service and return the filing.

    Raises:
        Open311Error: 400 naming the first field that is missing or wrong.
    """
    plain, answers = _fields(form)
    code = plain.get("service_code") or ""
    if not code:
        raise bad_request("service_code is required.")
    category = catalogue.categories.get(code)
    if category is None:
        raise bad_request(f"service_code {code!r} is not a service of this endpoint.")
    description = plain.get("description", "")
    if not description:
        raise bad_request("description is required.")
    checked = _answers(catalogue, category, answers, zone)
    grid = checked.pop("grid")
    assert isinstance(grid, str)
    lat, lon = _position(plain)
    address = plain.get("address_string", "")
    if not address and lat is None:
        raise bad_request("A location is required: address_string, or lat and long.")
    # FixMyStreet sends an empty last name as "-".
    last = plain.get("last_name") if plain.get("last_name") != "-" else None
    name = " ".join(part for part in (plain.get("first_name"), last) if part)
    return Filing(
        service_code=code,
        grid=grid,
        description=description,
        address=address or f"{lat},{lon}",
        lat=lat,
        lon=lon,
        name=name,
        phone=plain.get("phone", ""),
        email=plain.get("email") or None,
        media_url=plain.get("media_url") or None,
        answers=checked,
    )


def _position(plain: dict[str, str]) -> tuple[float | None, float | None]:
    lat_text, lon_text = plain.get("lat"), plain.get("long")
    if not lat_text and not lon_text:
        return None, None
    if not lat_text or not lon_text:
        raise bad_request("lat and long go together: send both or neither.")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise bad_request("lat and long must be decimal degrees.") from None
    if not (math.isfinite(lat) and -90 <= lat <= 90 and math.isfinite(lon) and -180 <= lon <= 180):
        raise bad_request("lat must be within ±90 and long within ±180 degrees.")
    return lat, lon


def _answers(
    catalogue: Catalogue, category: Category, given: dict[str, list[str]], zone: tzinfo
) -> dict[str, str | list[str]]:
    asked = {attribute.code: attribute for attribute in attributes_of(catalogue, category)}
    checked: dict[str, str | list[str]] = {}
    for code, attribute in asked.items():
        values = [value for value in given.get(code, []) if value]
        if not values:
            if attribute.required:
                raise bad_request(f"attribute[{code}] is required for {category.code!r}.")
            continue
        checked[code] = _answer(attribute, values, zone)
    return checked


def _answer(attribute: CategoryAttribute, values: list[str], zone: tzinfo) -> str | list[str]:
    name = f"attribute[{attribute.code}]"
    if attribute.datatype is not AttributeType.MULTIVALUELIST and len(values) > 1:
        raise bad_request(f"{name} takes one value.")
    if attribute.datatype.is_list:
        keys = {value.key for value in attribute.values}
        for value in values:
            if value not in keys:
                raise bad_request(f"{name} is not one of its values: {value!r}.")
        if attribute.datatype is AttributeType.MULTIVALUELIST:
            return list(dict.fromkeys(values))
        return values[0]
    (value,) = values
    if attribute.datatype is AttributeType.NUMBER:
        try:
            if not math.isfinite(float(value)):
                raise ValueError(value)
        except ValueError:
            raise bad_request(f"{name} must be a number.") from None
    if attribute.datatype is AttributeType.DATETIME:
        return parse_w3c(name, value, zone).isoformat()
    return value


CLIENT_REPORT_IDS = ("fixmystreet_id",)
"""Attributes by which a client names its own report: one report, one case."""


def external_id_of(form: Form, idempotency_key: str | None) -> str:
    """The case's ``external_id``: the same form from the same client files one case.

    ``Idempotency-Key`` when the client sends one; else the client's own report
    id (``attribute[fixmystreet_id]``); else a digest of every field except
    ``api_key``, in order (whichever hotline key posts it). A client
    retrying a form it is not sure went through thus gets the case it filed
    instead of a second one; the digest keeps the form's contents out of the id.
    """
    client_ids = {
        matched.group(1): value
        for name, value in form
        if (matched := _ATTRIBUTE.fullmatch(name)) and matched.group(1) in CLIENT_REPORT_IDS
    }
    if idempotency_key:
        material = f"key\n{idempotency_key}"
    elif client_ids:
        material = "report\n" + "\n".join(f"{k}={v}" for k, v in sorted(client_ids.items()))
    else:
        material = "form\n" + "\n".join(
            f"{name}={value}" for name, value in form if name != "api_key"
        )
    digest = hashlib.sha256(material.encode()).hexdigest()[:32]
    return f"open311-{digest}"
