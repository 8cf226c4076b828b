"""Validators for Meta Cloud API requests, built from Meta's own OpenAPI file.

The file (``meta/business-messaging-api_v23.0.yaml``) is OpenAPI 3.1, so its schemas are JSON
Schema 2020-12. Validated as written it rejects Meta's own examples; ``_relax`` applies exactly
the six relaxations measured against Meta's own examples, and nothing else:

1. ``allOf`` members lose ``additionalProperties: false``; the combining schema gets
   ``unevaluatedProperties: false`` instead (so base properties such as ``to`` are allowed).
2. ``template.language.policy`` is optional.
3. ``cta_url`` is an interactive type, with an ``ActionObject`` variant for it.
4. Template button ``index`` pattern is ``^[0-9]$``.
5. Location ``latitude`` / ``longitude`` may be numbers or strings.
6. ``recipient_type`` is optional.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, cast

import yaml

# jsonschema ships no type hints (types-jsonschema is not a project dependency).
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).parent / "meta" / "business-messaging-api_v23.0.yaml"
MESSAGES_PATH = "/{Version}/{Phone-Number-ID}/messages"
MEDIA_PATH = "/{Version}/{Phone-Number-ID}/media"
WEBHOOKS_PATH = "/whatsapp/webhooks"
# Base URI under which the whole OpenAPI document is registered; "#/components/..." refs inside
# it resolve against this.
DOC_URI = "urn:meta:business-messaging-api:v23.0"

_MAX_MESSAGE_CHARS = 300

Schema = dict[str, Any]


class SchemaFileChanged(RuntimeError):
    """A relaxation no longer matches the file: the file changed and the relaxations
    above need review."""


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """Parse the OpenAPI file once per process (~0.3 s with the C loader). Treat as read-only."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open("rb") as fh:
        return cast(dict[str, Any], yaml.load(fh, Loader=loader))


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise SchemaFileChanged(f"unexpected shape in Meta's OpenAPI file: {what}")


def _relax_allof(schemas: dict[str, Schema]) -> None:
    """Relaxation 1, applied to every schema combining members with ``allOf``."""
    touched = 0
    for schema in schemas.values():
        members = schema.get("allOf")
        if not isinstance(members, list):
            continue
        closed = [
            m for m in members if isinstance(m, dict) and m.get("additionalProperties") is False
        ]
        for member in closed:
            del member["additionalProperties"]
        if closed:
            schema["unevaluatedProperties"] = False
            touched += 1
    _expect(touched >= 10, "allOf + additionalProperties:false message schemas")


def _relax(doc: dict[str, Any]) -> None:
    schemas: dict[str, Schema] = doc["components"]["schemas"]
    _relax_allof(schemas)

    # 2. language.policy not required.
    language = schemas["LanguageObject"]
    _expect("policy" in language.get("required", []), "LanguageObject.required has policy")
    language["required"] = [r for r in language["required"] if r != "policy"]

    # 3. cta_url interactive type and action variant.
    interactive_type = schemas["InteractiveObject"]["properties"]["type"]
    _expect("cta_url" not in interactive_type["enum"], "InteractiveObject.type lacks cta_url")
    interactive_type["enum"].append("cta_url")
    action_variants = schemas["ActionObject"]["oneOf"]
    action_variants.append(
        {
            "required": ["name", "parameters"],
            "properties": {
                "name": {"type": "string", "enum": ["cta_url"]},
                "parameters": {
                    "type": "object",
                    "required": ["display_text", "url"],
                    "properties": {
                        "display_text": {"type": "string", "maxLength": 20},
                        "url": {"type": "string"},
                    },
                },
            },
        }
    )

    # 4. Template button index: the file's "^[2-6, 11-14]$" rejects "0".
    index_schemas = [
        schemas["TemplateComponent"]["properties"]["index"],
        schemas["ButtonComponent"]["allOf"][1]["properties"]["index"],
    ]
    for index in index_schemas:
        _expect(index.get("pattern") == "^[2-6, 11-14]$", "template button index pattern")
        index["pattern"] = "^[0-9]$"

    # 5. latitude/longitude: number or string.
    location = schemas["LocationMessage"]["allOf"][1]["properties"]["location"]["properties"]
    for key in ("latitude", "longitude"):
        _expect(location[key].get("type") == "string", f"LocationMessage {key} typed string")
        location[key]["type"] = ["number", "string"]

    # 6. recipient_type optional.
    base = schemas["BaseMessageProperties"]
    _expect("recipient_type" in base["required"], "BaseMessageProperties requires recipient_type")
    base["required"] = [r for r in base["required"] if r != "recipient_type"]


@lru_cache(maxsize=1)
def relaxed_spec() -> dict[str, Any]:
    """The OpenAPI document with the six relaxations applied. Treat as read-only."""
    doc = copy.deepcopy(load_spec())
    _relax(doc)
    return doc


@lru_cache(maxsize=1)
def _registry() -> Registry[Any]:
    resource = DRAFT202012.create_resource(relaxed_spec())
    registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
    return registry


def _validator_for(pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``#<pointer>`` of the relaxed document."""
    return Draft202012Validator({"$ref": f"{DOC_URI}#{pointer}"}, registry=_registry())


@cache
def component_validator(name: str) -> Draft202012Validator:
    """Validator for ``#/components/schemas/<name>`` (relaxed)."""
    _expect(name in relaxed_spec()["components"]["schemas"], f"component {name}")
    return _validator_for(f"/components/schemas/{name}")


@lru_cache(maxsize=1)
def message_request_validator() -> Draft202012Validator:
    """Validator for the JSON body of ``POST /{Version}/{Phone-Number-ID}/messages``."""
    body = relaxed_spec()["paths"][MESSAGES_PATH]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    _expect(schema == {"$ref": "#/components/schemas/Message"}, "messages body is Message")
    return component_validator("Message")


@lru_cache(maxsize=1)
def media_upload_validator() -> Draft202012Validator:
    """Validator for the multipart fields of ``POST /{Version}/{Phone-Number-ID}/media``.

    The file's multipart schema lists ``file`` and ``messaging_product`` but requires nothing;
    the live API needs all three fields, so we tighten it (the file part is represented by any
    string, e.g. ``"<binary 123 bytes>"``).
    """
    spec = relaxed_spec()["paths"][MEDIA_PATH]["post"]["requestBody"]["content"]
    schema = copy.deepcopy(spec["multipart/form-data"]["schema"])
    _expect(set(schema["properties"]) >= {"file", "messaging_product"}, "media multipart schema")
    schema["properties"]["messaging_product"] = {"type": "string", "const": "whatsapp"}
    schema["properties"]["type"] = {"type": "string", "minLength": 1}
    schema["required"] = ["messaging_product", "file", "type"]
    return Draft202012Validator(schema)


@lru_cache(maxsize=1)
def webhook_payload_validator() -> Draft202012Validator:
    """Validator for Meta's webhook payloads (``POST /whatsapp/webhooks`` request body)."""
    return component_validator("WebhookPayload")


@cache
def inbound_media_validator(kind: str) -> Draft202012Validator:
    """Validator for the media object of a customer's ``kind`` message in a webhook
    (``messages[].<kind>``, e.g. an audio's ``voice`` is required). The whole inbound message
    does not validate as written: its schemas build on the send's ``BaseMessageProperties``."""
    name = f"{kind.capitalize()}Message_1"
    member = relaxed_spec()["components"]["schemas"][name]["allOf"][1]
    _expect(kind in member["properties"], f"{name} has {kind}")
    return _validator_for(f"/components/schemas/{name}/allOf/1/properties/{kind}")


def _json_path(error: ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


_SHAPE_KEYWORDS = frozenset(
    {"required", "enum", "const", "type", "additionalProperties", "unevaluatedProperties"}
)


def _closest_branch(error: ValidationError) -> list[ValidationError]:
    """Errors of the ``oneOf``/``anyOf`` branch the instance came closest to matching.

    A branch failing ``required``/``enum``/``type`` checks on the instance itself or its direct
    properties describes a different shape; prefer branches that only fail deeper down.
    """
    depth = len(error.absolute_path)
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def mismatches(errors: list[ValidationError]) -> tuple[int, int]:
        shallow = sum(
            1
            for e in errors
            if e.validator in _SHAPE_KEYWORDS and len(e.absolute_path) <= depth + 1
        )
        return shallow, len(errors)

    return min(branches.values(), key=mismatches)


def _describe(error: ValidationError) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        # The stock message repeats the whole instance; name the closest branch's problem.
        inner = best_match(_closest_branch(error))
        closest = _describe(inner)
        return f"{_json_path(error)}: matches none of the allowed shapes; closest: {closest}"
    message = error.message
    if len(message) > _MAX_MESSAGE_CHARS:
        # Messages start with the offending value and end with the rule: keep both ends.
        half = _MAX_MESSAGE_CHARS // 2
        message = f"{message[:half]} ... {message[-half:]}"
    return f"{_json_path(error)}: {message}"


def _errors(validator: Draft202012Validator, instance: object) -> Iterator[str]:
    # unevaluatedProperties also fires for a property whose own subschema failed; list the
    # specific failures first.
    def order(e: ValidationError) -> tuple[bool, list[str]]:
        return e.validator == "unevaluatedProperties", [str(p) for p in e.absolute_path]

    for error in sorted(validator.iter_errors(instance), key=order):
        yield _describe(error)


def _message_types() -> dict[str, str]:
    """Message ``type`` -> component schema name, from the discriminator mapping."""
    mapping = relaxed_spec()["components"]["schemas"]["Message"]["discriminator"]["mapping"]
    return {kind: ref.rsplit("/", 1)[-1] for kind, ref in mapping.items()}


def validate_message_request(body: object) -> list[str]:
    """Violations of the (relaxed) messages request schema; empty means valid."""
    errors = list(_errors(message_request_validator(), body))
    if errors and isinstance(body, Mapping):
        # Validity is decided by the full oneOf above; the discriminator only words the errors.
        types = _message_types()
        kind = body.get("type")
        if isinstance(kind, str) and kind in types:
            errors = list(_errors(component_validator(types[kind]), body)) or errors
        elif "type" not in body:
            errors.insert(0, "$: 'type' is a required property")
        else:
            errors.insert(0, f"$.type: {kind!r} is not one of {sorted(types)}")
    return errors


def validate_media_upload(fields: Mapping[str, object]) -> list[str]:
    """Violations of the media upload form (``file`` given as any string placeholder)."""
    return list(_errors(media_upload_validator(), dict(fields)))


def validate_webhook_payload(payload: object) -> list[str]:
    """Violations of Meta's ``WebhookPayload`` schema (unrelaxed parts of the file)."""
    return list(_errors(webhook_payload_validator(), payload))


def _examples(path: str, method: str = "post") -> dict[str, Any]:
    content = relaxed_spec()["paths"][path][method]["requestBody"]["content"]
    examples = content["application/json"].get("examples", {})
    return {name: copy.deepcopy(example["value"]) for name, example in examples.items()}


def message_request_examples() -> dict[str, dict[str, Any]]:
    """Meta's request examples for ``POST .../messages``, by example name (fresh copies)."""
    return _examples(MESSAGES_PATH)


def webhook_examples() -> dict[str, dict[str, Any]]:
    """Meta's webhook payload examples (inbound messages of many types), by name."""
    return _examples(WEBHOOKS_PATH)


def media_upload_examples() -> dict[str, dict[str, Any]]:
    """Meta's (JSON-rendered) media upload examples; they omit ``type``, as the file does."""
    return _examples(MEDIA_PATH)


# Marking a customer's message read is a POST to .../messages too, but Meta's file has no
# schema for it (``Message``'s oneOf needs ``to`` and ``type``): only the example below.
READ_RECEIPT_EXAMPLE = "Send typing indicator and read receipt"


@lru_cache(maxsize=1)
def read_receipt_validator() -> Draft202012Validator:
    """The shape of Meta's example ``READ_RECEIPT_EXAMPLE``: ``messaging_product``
    "whatsapp", ``status`` "read", a ``message_id``, optionally the typing indicator, and
    nothing else."""
    example = message_request_examples()[READ_RECEIPT_EXAMPLE]
    keys = {"messaging_product", "status", "message_id", "typing_indicator"}
    _expect(set(example) == keys, "the read receipt example's fields")
    schema: Schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["messaging_product", "status", "message_id"],
        "properties": {
            "messaging_product": {"const": example["messaging_product"]},
            "status": {"const": example["status"]},
            "message_id": {"type": "string", "minLength": 1, "maxLength": 255},
            "typing_indicator": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type"],
                "properties": {"type": {"const": example["typing_indicator"]["type"]}},
            },
        },
    }
    return Draft202012Validator(schema)


def is_read_receipt(body: object) -> bool:
    """A status update for a received message rather than a message to send."""
    return isinstance(body, Mapping) and "status" in body and "to" not in body


def validate_read_receipt(body: object) -> list[str]:
    return list(_errors(read_receipt_validator(), body))
