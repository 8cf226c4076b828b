"""A campaign's template variables: where each value comes from, checked against the
template, and filled in for each recipient.

``variables`` maps a template slot (``field_1`` … ``field_10`` for the body,
``header_field_1`` for a text header, ``button_0`` … ``button_9`` for dynamic buttons, as
``POST /messages/template`` names them) to a source:

- ``{"type": "contact", "field": "firstname", "fallback": "there"}``: a contact field, or
  the fallback when the contact's field is empty;
- ``{"type": "constant", "value": "20%"}`` (or the bare string);
- ``{"type": "csv", "column": "code", "fallback": "-"}``: a column of the uploaded CSV.

A recipient whose value is empty and has no fallback is excluded before the first send
(``missing_variable``): Meta refuses empty parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xobito.kit.validation import Errors, attribute
from xobito.models import Template
from xobito.template.schemas import dynamic_buttons
from xobito.whatsapp import payloads

CONTACT_FIELDS = (
    "firstname",
    "lastname",
    "company",
    "email",
    "phone",
    "city",
    "state",
    "zip",
    "address",
    "website",
    "description",
)
SLOTS = (
    *(f"field_{n}" for n in range(1, 11)),
    "header_field_1",
    *(f"button_{n}" for n in range(10)),
)
MAX_VALUE = 1024
MEDIA_FORMATS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}

Spec = dict[str, Any]


def _text(value: Any, key: str, name: str, errors: Errors, *, required: bool) -> str | None:
    if value is None:
        if required:
            errors[key] = [f"The {attribute(key)} field is required."]
        return None
    if not isinstance(value, str):
        errors[key] = [f"The {attribute(key)} must be a string."]
        return None
    if len(value) > MAX_VALUE:
        errors[key] = [f"The {attribute(key)} may not be greater than {MAX_VALUE} characters."]
        return None
    return value


def normalise(raw: Any, errors: Errors) -> dict[str, Spec]:
    """The sources as stored (``{"type": ..., ...}`` each); errors under ``variables.*``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        errors["variables"] = ["The variables must be an array."]
        return {}
    out: dict[str, Spec] = {}
    for slot, given in raw.items():
        key = f"variables.{slot}"
        if slot not in SLOTS:
            errors[key] = [f"The {attribute(key)} is not a template variable."]
            continue
        if isinstance(given, str):
            given = {"type": "constant", "value": given}
        if not isinstance(given, Mapping):
            errors[key] = [f"The {attribute(key)} must be an array."]
            continue
        kind = given.get("type")
        if kind == "constant":
            value = _text(given.get("value"), f"{key}.value", slot, errors, required=True)
            if value is not None:
                if not value.strip():
                    errors[f"{key}.value"] = [f"The {attribute(key)}.value field is required."]
                else:
                    out[slot] = {"type": "constant", "value": value}
        elif kind == "contact":
            field = given.get("field")
            fallback = _text(given.get("fallback"), f"{key}.fallback", slot, errors, required=False)
            if field not in CONTACT_FIELDS:
                errors[f"{key}.field"] = [f"The selected {attribute(key)}.field is invalid."]
            elif f"{key}.fallback" not in errors:
                out[slot] = {"type": "contact", "field": field, "fallback": fallback}
        elif kind == "csv":
            column = _text(given.get("column"), f"{key}.column", slot, errors, required=True)
            fallback = _text(given.get("fallback"), f"{key}.fallback", slot, errors, required=False)
            if column is not None and f"{key}.fallback" not in errors:
                out[slot] = {"type": "csv", "column": column.strip().lower(), "fallback": fallback}
        else:
            errors[f"{key}.type"] = [f"The selected {attribute(key)}.type is invalid."]
    return out


def check_against(template: Template, variables: Mapping[str, Spec], errors: Errors) -> None:
    """Every slot the template has is given, and no other (as ``check_variables`` does)."""
    for n in range(1, 11):
        slot = f"field_{n}"
        if n <= template.body_params_count and slot not in variables:
            errors[f"variables.{slot}"] = [
                f"The variables.{slot.replace('_', ' ')} field is required by this template."
            ]
        elif n > template.body_params_count and slot in variables:
            errors[f"variables.{slot}"] = [
                f"The template takes {template.body_params_count} body variables."
            ]
    if template.header_params_count and "header_field_1" not in variables:
        errors["variables.header_field_1"] = [
            "The variables.header field 1 field is required by this template."
        ]
    elif not template.header_params_count and "header_field_1" in variables:
        errors["variables.header_field_1"] = ["The template has no header variable."]
    dynamic = dict(dynamic_buttons(template))
    for i in range(10):
        slot = f"button_{i}"
        if dynamic.get(i) == "url" and slot not in variables:
            errors[f"variables.{slot}"] = [
                f"The variables.{slot.replace('_', ' ')} field is required by this template."
            ]
        elif slot in variables and i not in dynamic:
            errors[f"variables.{slot}"] = [f"The template has no dynamic button {i}."]


def csv_columns(variables: Mapping[str, Spec]) -> set[str]:
    return {spec["column"] for spec in variables.values() if spec["type"] == "csv"}


def contact_fields(variables: Mapping[str, Spec]) -> set[str]:
    return {spec["field"] for spec in variables.values() if spec["type"] == "contact"}


def resolve(
    variables: Mapping[str, Spec], contact: Mapping[str, Any], row: Mapping[str, Any] | None
) -> dict[str, str] | None:
    """Each slot's value for one recipient, or None when one is empty without fallback."""
    out: dict[str, str] = {}
    for slot, spec in variables.items():
        kind = spec["type"]
        if kind == "constant":
            value: Any = spec["value"]
        elif kind == "contact":
            value = contact.get(spec["field"])
        else:
            value = (row or {}).get(spec["column"])
        text = str(value).strip() if value is not None else ""
        if not text:
            text = (spec.get("fallback") or "").strip()
        if not text:
            return None
        out[slot] = text[:MAX_VALUE]
    return out


def build(
    template: Template,
    header: Mapping[str, str] | None,
    values: Mapping[str, str],
    to: str,
) -> dict[str, Any]:
    """Meta's message body for one recipient."""
    header_param: str | Mapping[str, str] | None = None
    if header is not None:
        header_param = header
    elif template.header_params_count:
        header_param = values.get("header_field_1")
    body = [values[f"field_{n}"] for n in range(1, template.body_params_count + 1)]
    buttons: list[tuple[int | str, Any, str]] = [
        (i, kind, values[f"button_{i}"])
        for i, kind in dynamic_buttons(template)
        if f"button_{i}" in values
    ]
    return payloads.template(
        to,
        template.template_name,
        template.language,
        header_param=header_param,
        body_params=body,
        buttons=buttons,
    )


def rendered(template: Template, values: Mapping[str, str]) -> str | None:
    """The body as the recipient reads it (stored with the message, shown in previews)."""
    text = template.body_data
    if text is None:
        return None
    for n in range(1, 11):
        value = values.get(f"field_{n}")
        if value is not None:
            text = text.replace("{{" + str(n) + "}}", value)
    return text
