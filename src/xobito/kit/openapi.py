"""OpenAPI documentation for bodies we parse ourselves (to control validation messages)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return dict(_inline(schema, schema.get("$defs", {})))


def route_doc(
    *,
    failure: str,
    not_found: str | None = None,
    body: type[BaseModel] | None = None,
    multipart: type[BaseModel] | None = None,
) -> dict[str, Any]:
    """``openapi_extra`` for a route: its request body and the spec's failure texts."""
    extra: dict[str, Any] = {"x-failure": failure}
    if not_found:
        extra["x-not-found"] = not_found
    content: dict[str, Any] = {}
    if body is not None:
        content["application/json"] = {"schema": schema_of(body)}
    if multipart is not None:
        content["multipart/form-data"] = {"schema": schema_of(multipart)}
    if content:
        extra["requestBody"] = {"required": True, "content": content}
    return extra
