"""Checks of Graph GET requests (path and query parameters) and of JSON responses against
the operations of Meta's OpenAPI file, for the fake Graph API's read endpoints.

A query parameter the operation does not declare is a violation (Graph ignores unknown
ones, so a typo would silently do nothing against the real API); a ``fields`` entry must be
a property of the operation's 200 response items. Responses are validated against the
operation's response schema for their status, so the fake answers in Meta's shapes.

The file's response schemas reject Meta's own response examples (measured on
``GET /{WABA-ID}/phone_numbers``), so responses are checked with four more relaxations, on
top of ``meta_schema``'s six:

7. ``nullable: true`` (an OpenAPI 3.0 keyword that JSON Schema 2020-12 ignores) allows null.
8. ``code_verification_status`` may be ``NOT_VERIFIED`` (the example's and the live API's).
9. ``quality_rating`` may be ``UNKNOWN`` (likewise).
10. With ``fields=``, an item's ``required`` is cut to the fields asked for: Graph returns
    only those.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from xobito.testing.meta_schema import DOC_URI, _errors, _expect, relaxed_spec

PHONE_NUMBER_PATH = "/{Version}/{Phone-Number-ID}"
WABA_NUMBERS_PATH = "/{Version}/{WABA-ID}/phone_numbers"
SUBSCRIBED_APPS_PATH = "/{Version}/{WABA-ID}/subscribed_apps"
MEDIA_ID_PATH = "/{Version}/{Media-ID}"


def _nullable(node: Any) -> int:
    """Relaxation 7, everywhere in the document; returns how many schemas it touched."""
    touched = 0
    if isinstance(node, dict):
        if node.get("nullable") is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            touched += 1
        for value in node.values():
            touched += _nullable(value)
    elif isinstance(node, list):
        for value in node:
            touched += _nullable(value)
    return touched


@lru_cache(maxsize=1)
def response_spec() -> dict[str, Any]:
    """``relaxed_spec()`` with the response relaxations 7-9. Treat as read-only."""
    doc = copy.deepcopy(relaxed_spec())
    _expect(_nullable(doc) > 0, "schemas marked nullable")
    schemas = doc["components"]["schemas"]
    for name, extra in (
        ("WhatsAppCodeVerificationStatus", "NOT_VERIFIED"),
        ("WhatsAppPhoneNumberQualityRating", "UNKNOWN"),
    ):
        enum = schemas[name]["enum"]
        _expect(extra not in enum, f"{name} lacks {extra}")
        enum.append(extra)
    return doc


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    resource = DRAFT202012.create_resource(response_spec())
    registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
    return registry


def _absolute(node: Any) -> Any:
    """A copy of a schema whose document-relative ``$ref``s point into the registry."""
    if isinstance(node, dict):
        return {
            k: f"{DOC_URI}{v}" if k == "$ref" and str(v).startswith("#") else _absolute(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute(v) for v in node]
    return node


def _operation(path: str, method: str) -> dict[str, Any]:
    op: dict[str, Any] = relaxed_spec()["paths"][path][method]
    return op


def _parameters(path: str, method: str) -> dict[tuple[str, str], dict[str, Any]]:
    """``(in, name)`` -> parameter object, ``$ref``s resolved."""
    shared = relaxed_spec()["components"]["parameters"]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for param in _operation(path, method).get("parameters", []):
        if "$ref" in param:
            param = shared[param["$ref"].rsplit("/", 1)[-1]]
        found[(param["in"], param["name"])] = param
    return found


def _schema_of(content: Mapping[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = content["application/json"]["schema"]
    return schema


@cache
def response_validator(
    path: str, method: str, status: int, fields: frozenset[str] | None = None
) -> Draft202012Validator:
    """The operation's response schema for ``status``; with ``fields`` (a list operation's
    ``fields=``), its items only require those (relaxation 10)."""
    responses = _operation(path, method)["responses"]
    response = responses.get(str(status)) or responses.get("default")
    _expect(response is not None, f"{method.upper()} {path} documents status {status}")
    assert response is not None
    schema = _schema_of(response["content"])
    if "$ref" not in schema:  # an inline schema (GET /{Media-ID})
        return Draft202012Validator(_absolute(schema), registry=_registry())
    _expect(set(schema) == {"$ref"}, f"{method.upper()} {path} {status} response is a $ref")
    schemas = response_spec()["components"]["schemas"]
    whole = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    items = whole.get("properties", {}).get("data", {}).get("items", {})
    if fields is not None and "$ref" in items:
        item = copy.deepcopy(schemas[items["$ref"].rsplit("/", 1)[-1]])
        item["required"] = [r for r in item.get("required", []) if r in fields]
        relaxed = copy.deepcopy(whole)
        relaxed["properties"]["data"]["items"] = item
        return Draft202012Validator(_absolute(relaxed), registry=_registry())
    return Draft202012Validator({"$ref": f"{DOC_URI}{schema['$ref']}"}, registry=_registry())


@cache
def _response_fields(path: str, method: str) -> frozenset[str]:
    """What ``fields=`` may name: the properties of the 200 response (of its ``data``
    items, for a list)."""
    schemas = relaxed_spec()["components"]["schemas"]
    ref = _schema_of(_operation(path, method)["responses"]["200"]["content"])["$ref"]
    schema = schemas[ref.rsplit("/", 1)[-1]]
    data = schema.get("properties", {}).get("data")
    if data is not None:
        schema = schemas[data["items"]["$ref"].rsplit("/", 1)[-1]]
    return frozenset(schema.get("properties", {}))


def _typed(value: str, schema: Mapping[str, Any]) -> Any:
    if schema.get("type") == "integer":
        try:
            return int(value)
        except ValueError:
            return value  # left as a string: the validator names the type error
    return value


def validate_request(
    path: str, method: str, path_params: Mapping[str, str], query: Mapping[str, str]
) -> list[str]:
    """Violations of the operation's path and query parameters; empty means valid."""
    params = _parameters(path, method)
    errors: list[str] = []
    for (where, name), param in params.items():
        given = path_params if where == "path" else query if where == "query" else None
        if given is None:
            continue  # headers: the fake checks Authorization itself
        if name not in given:
            if param.get("required"):
                errors.append(f"{where}.{name}: is required")
            continue
        schema = param.get("schema", {})
        instance = _typed(given[name], schema)
        errors += [
            f"{where}.{name}{e[1:]}" for e in _errors(Draft202012Validator(schema), instance)
        ]
    for name in query:
        if ("query", name) not in params:
            errors.append(f"query.{name}: is not a parameter of {method.upper()} {path}")
    if "fields" in query:
        allowed = _response_fields(path, method)
        for field in query["fields"].split(","):
            if field.strip() not in allowed:
                errors.append(f"query.fields: {field.strip()!r} is not a field of the response")
    return errors


def validate_response(
    path: str, method: str, status: int, body: object, fields: str | None = None
) -> list[str]:
    """Violations of the operation's documented response for ``status`` (``fields``: the
    request's ``fields=``, if any)."""
    wanted = frozenset(f.strip() for f in fields.split(",")) if fields else None
    return list(_errors(response_validator(path, method, status, wanted), body))
