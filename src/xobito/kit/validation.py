"""Laravel-style validation on top of pydantic.

Request models declare their rules with pydantic types and the helpers below; failures are
turned into the spec's messages (section 4), every failing field at once. ``parse`` also
returns the validated value of each field that passed, so services can add database rules
(unique, exists) for those fields in the same 422.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    TypeAdapter,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from xobito.kit.errors import ValidationFailed

Errors = dict[str, list[str]]
M = TypeVar("M", bound=BaseModel)


class RequestModel(BaseModel):
    """Base for request bodies: unknown keys are ignored, as Laravel does."""

    model_config = {"extra": "ignore", "str_strip_whitespace": False}


@dataclass(frozen=True, slots=True)
class Len:
    """Laravel ``min``/``max``/``between`` string length rules: ``Annotated[str, Len(max=9)]``."""

    max: int | None = None
    min: int | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        if self.max is not None:
            out["maxLength"] = self.max
        if self.min is not None:
            out["minLength"] = self.min
        return out

    def _check(self, value: str) -> str:
        n, lo, hi = len(value), self.min, self.max
        if lo is not None and hi is not None and not lo <= n <= hi:
            raise PydanticCustomError("between", "between", {"min": lo, "max": hi})
        if hi is not None and n > hi:
            raise PydanticCustomError("max_string", "max", {"max": hi})
        if lo is not None and n < lo:
            raise PydanticCustomError("min_string", "min", {"min": lo})
        return value


Str255 = Annotated[str, Len(max=255)]


# An ASCII dot-atom local part, one ``@`` and an ASCII host name: the shape of nearly every
# address. email_validator accepts such a local part whatever it is (up to 254 characters in
# all), so the verdict is the domain's, which is memoised (domains repeat: a bulk import of a
# million contacts validates a few thousand domains, not a million). Anything else takes the
# full validation; ``tests/kit/test_validation_email.py`` holds the two paths equal.
_SIMPLE_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9.-]+)"
)
EMAIL_MAX_LENGTH = 254


@lru_cache(maxsize=16_384)
def _domain_accepted(domain: str) -> bool:
    try:
        validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def email_valid(value: str) -> bool:
    """email_validator's verdict (``check_deliverability=False``), fast for common shapes."""
    simple = _SIMPLE_EMAIL.fullmatch(value)
    if simple is not None and len(value) <= EMAIL_MAX_LENGTH and _domain_accepted(simple[1]):
        return True
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _email(value: str) -> str:
    if not email_valid(value):
        raise PydanticCustomError("email", "email")
    return value


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise PydanticCustomError("url", "url")
    return value


Email = Annotated[
    str,
    Len(max=191),
    AfterValidator(_email),
    Field(json_schema_extra={"format": "email", "maxLength": 191}),
]
Url = Annotated[str, AfterValidator(_url), Field(json_schema_extra={"format": "uri"})]


def attribute(key: str) -> str:
    return key.replace("_", " ")


def _message(attr: str, err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing" or (err.get("input") is None and kind != "message"):
        # A null value fails Laravel's ``required`` first, and validation stops there.
        return f"The {attr} field is required."
    if kind == "string_type":
        return f"The {attr} must be a string."
    if kind in ("int_type", "int_parsing", "int_parsing_size", "int_from_float"):
        return f"The {attr} must be an integer."
    if kind in ("bool_type", "bool_parsing"):
        return f"The {attr} field must be true or false."
    if kind in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        return f"The {attr} must be an array."
    if kind == "between":
        return f"The {attr} must be between {ctx['min']} and {ctx['max']} characters."
    if kind == "max_string":
        return f"The {attr} may not be greater than {ctx['max']} characters."
    if kind == "min_string":
        return f"The {attr} must be at least {ctx['min']} characters."
    if kind == "string_too_long":
        return f"The {attr} may not be greater than {ctx['max_length']} characters."
    if kind == "string_too_short":
        return f"The {attr} must be at least {ctx['min_length']} characters."
    if kind in ("less_than_equal", "less_than"):
        return f"The {attr} may not be greater than {ctx.get('le', ctx.get('lt'))}."
    if kind in ("greater_than_equal", "greater_than"):
        return f"The {attr} must be at least {ctx.get('ge', ctx.get('gt'))}."
    if kind == "too_short":
        return f"The {attr} must have at least {ctx['min_length']} items."
    if kind == "too_long":
        return f"The {attr} may not have more than {ctx['max_length']} items."
    if kind in ("literal_error", "enum", "in"):
        return f"The selected {attr} is invalid."
    if kind == "email":
        return f"The {attr} must be a valid email address."
    if kind in ("url", "format"):
        return f"The {attr} format is invalid."
    if kind == "message":
        return str(ctx["message"])
    return f"The {attr} is invalid."


def item_errors(kind: str, ctx: Mapping[str, Any], indexes: Sequence[int]) -> PydanticCustomError:
    """One error per item of a list-like value, each under ``<field>.<index>`` with the
    message of ``kind`` (``item_errors("max_string", {"max": 255}, [1, 3])`` →
    ``groups.1``/``groups.3``: "The groups.1 may not be greater than 255 characters.")."""
    return PydanticCustomError("items", "items", {"items": [(i, kind, dict(ctx)) for i in indexes]})


def key_of(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


def errors_from_pydantic(items: Sequence[Mapping[str, Any]], *, drop: int = 0) -> Errors:
    """docs/api/errors.md messages from pydantic errors; ``drop`` strips a leading
    ``body``/``query``."""
    out: Errors = {}
    for err in items:
        loc = list(err["loc"])[drop:]
        # Errors raised inside a union/function wrapper carry extra location parts.
        loc = [
            p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function")))
        ]
        named = (err.get("ctx") or {}).get("key")
        if named:
            loc = [named]
        if not loc:
            out.setdefault("body", []).append("The request body must be a JSON object.")
            continue
        if err["type"] == "items":
            for index, kind, ctx in err["ctx"]["items"]:
                item = key_of([*loc, index])
                sub = {"type": kind, "ctx": ctx, "input": ""}
                out.setdefault(item, []).append(_message(attribute(item), sub))
            continue
        key = key_of(loc)
        message = _message(attribute(key), err)
        bucket = out.setdefault(key, [])
        if message not in bucket:
            bucket.append(message)
    return out


def fail(key: str, message: str) -> PydanticCustomError:
    """A custom error with a literal message, for model validators that name a field."""
    return PydanticCustomError("message", "{message}", {"message": message, "key": key})


@lru_cache(maxsize=512)
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]


def nul_errors(raw: Any, prefix: str = "") -> Errors:
    """Refuse text containing NUL characters (422) before anything is sent.

    PostgreSQL cannot store them: accepting one would let Meta deliver a message that we then
    fail to record (a 500 after the send, and a duplicate when the client retries).
    """
    errors: Errors = {}
    items: Iterable[tuple[Any, Any]]
    if isinstance(raw, dict):
        items = raw.items()
    elif isinstance(raw, list):
        items = enumerate(raw)
    else:
        return errors
    for key, value in items:  # on every body and every imported row: kept lean
        if isinstance(value, str):
            if "\x00" in value:
                name = f"{prefix}{key}"
                errors[name] = [f"The {attribute(name)} must not contain null characters."]
        elif isinstance(value, (dict, list)):
            errors.update(nul_errors(value, f"{prefix}{key}."))
    return errors


def parse(model: type[M], raw: Any) -> tuple[M | None, Errors, dict[str, Any]]:
    """Validate ``raw`` against ``model``.

    Returns the model (or None), the errors, and the validated values of the fields that
    passed, so database rules can still run on them and be reported together.
    """
    # NUL characters cannot be stored (PostgreSQL refuses them): such a field is reported
    # with the other errors and its value is never used.
    nul = nul_errors(raw)
    tainted = {key.split(".", 1)[0] for key in nul}
    if tainted:
        raw = {k: v for k, v in raw.items() if k not in tainted}
    try:
        obj = model.model_validate(raw)
        if nul:
            raise _NulFound
    except (PydanticValidationError, _NulFound) as exc:
        found = exc.errors(include_url=False) if isinstance(exc, PydanticValidationError) else []
        others = {
            k: v
            for k, v in errors_from_pydantic(found).items()
            if k.split(".", 1)[0] not in tainted
        }
        errors = merge(model, others, nul)
        values: dict[str, Any] = {}
        if isinstance(raw, dict):
            failed = {k.split(".", 1)[0] for k in errors}
            for name in model.model_fields:
                if name in raw and name not in failed:
                    with suppress(PydanticValidationError):
                        values[name] = _field_adapter(model, name).validate_python(raw[name])
        return None, errors, values
    return obj, {}, {name: getattr(obj, name) for name in obj.model_fields_set}


class _NulFound(Exception):
    """Internal: the body was valid but for NUL characters."""


def _ordered(model: type[BaseModel], errors: Errors) -> Errors:
    order = {name: i for i, name in enumerate(model.model_fields)}
    return dict(sorted(errors.items(), key=lambda kv: order.get(kv[0].split(".", 1)[0], 999)))


def merge(model: type[BaseModel], *parts: Errors) -> Errors:
    out: Errors = {}
    for part in parts:
        for key, messages in part.items():
            out.setdefault(key, []).extend(m for m in messages if m not in out.get(key, []))
    return _ordered(model, out)


def require(model: type[M], raw: Any, extra: Errors | None = None) -> M:
    obj, errors, _ = parse(model, raw)
    if extra:
        errors = merge(model, errors, extra)
    if errors or obj is None:
        raise ValidationFailed(errors)
    return obj


def clean_input(value: Any) -> Any:
    """Laravel's TrimStrings + ConvertEmptyStringsToNull middleware, applied recursively."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, dict):
        return {k: clean_input(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_input(v) for v in value]
    return value
