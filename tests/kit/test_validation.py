"""Laravel validation messages from pydantic models (docs/api/errors.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import Field, model_validator

from xobito.kit.errors import ValidationFailed
from xobito.kit.validation import (
    Email,
    Len,
    RequestModel,
    Str255,
    Url,
    attribute,
    clean_input,
    errors_from_pydantic,
    fail,
    merge,
    parse,
    require,
)


class Button(RequestModel):
    title: Annotated[str, Len(max=20)]


class Body(RequestModel):
    name: Annotated[str, Len(min=3, max=255)]
    message_body: Annotated[str, Len(max=10)] | None = None
    code: Annotated[str, Len(min=4)] | None = None
    count: int | None = None
    kind: Literal["lead", "customer"] | None = None
    email: Email | None = None
    website: Url | None = None
    flag: bool | None = None
    buttons: Annotated[list[Button], Field(min_length=1, max_length=3)] | None = None
    tags: list[str] | None = None


def errors_of(raw: Any, model: type[RequestModel] = Body) -> dict[str, list[str]]:
    obj, errors, _ = parse(model, raw)
    assert obj is None
    return errors


def test_attribute_replaces_underscores_and_keeps_dots() -> None:
    assert attribute("message_body") == "message body"
    assert attribute("source_id") == "source id"
    assert attribute("buttons.0.title") == "buttons.0.title"
    assert attribute("a_b.1.c_d") == "a b.1.c d"


def test_required_when_missing_or_null() -> None:
    assert errors_of({}) == {"name": ["The name field is required."]}
    assert errors_of({"name": None}) == {"name": ["The name field is required."]}


def test_between_names_both_bounds() -> None:
    expected = {"name": ["The name must be between 3 and 255 characters."]}
    assert errors_of({"name": "ab"}) == expected
    assert errors_of({"name": "x" * 256}) == expected
    assert parse(Body, {"name": "abc"})[0] is not None
    assert parse(Body, {"name": "x" * 255})[0] is not None


def test_max_and_min_strings_at_the_boundary() -> None:
    assert parse(Body, {"name": "abc", "message_body": "x" * 10})[0] is not None
    assert errors_of({"name": "abc", "message_body": "x" * 11}) == {
        "message_body": ["The message body may not be greater than 10 characters."]
    }
    assert parse(Body, {"name": "abc", "code": "abcd"})[0] is not None
    assert errors_of({"name": "abc", "code": "abc"}) == {
        "code": ["The code must be at least 4 characters."]
    }


def test_length_counts_characters_not_bytes() -> None:
    assert parse(Body, {"name": "abc", "message_body": "é" * 10})[0] is not None
    assert parse(Body, {"name": "abc", "message_body": "😀" * 10})[0] is not None


def test_string_and_integer_types() -> None:
    assert errors_of({"name": 123}) == {"name": ["The name must be a string."]}
    assert errors_of({"name": {"a": 1}}) == {"name": ["The name must be a string."]}
    assert errors_of({"name": "abc", "count": "abc"}) == {
        "count": ["The count must be an integer."]
    }
    assert errors_of({"name": "abc", "count": 1.5}) == {"count": ["The count must be an integer."]}
    assert errors_of({"name": "abc", "count": [1]}) == {"count": ["The count must be an integer."]}


def test_in_rule() -> None:
    assert errors_of({"name": "abc", "kind": "guest"}) == {
        "kind": ["The selected kind is invalid."]
    }


@pytest.mark.parametrize("value", ["x", "a@", "@b.com", "a b@c.com", "a@b@c.com"])
def test_email_format(value: str) -> None:
    assert errors_of({"name": "abc", "email": value}) == {
        "email": ["The email must be a valid email address."]
    }


def test_email_max_191() -> None:
    local = "a" * 64
    ok = f"{local}@{'b' * 60}.{'c' * 60}.com"
    assert parse(Body, {"name": "abc", "email": ok})[0] is not None
    too_long = f"{local}@{'b' * 61}.{'c' * 61}.{'d' * 3}.com"
    assert len(too_long) > 191
    assert errors_of({"name": "abc", "email": too_long})["email"][0] == (
        "The email may not be greater than 191 characters."
    )


@pytest.mark.parametrize("value", ["example.com", "ftp://example.com", "http://", "http://a b.com"])
def test_url_format(value: str) -> None:
    assert errors_of({"name": "abc", "website": value}) == {
        "website": ["The website format is invalid."]
    }


def test_url_accepts_http_and_https() -> None:
    for url in ("http://example.com", "https://example.com/path?q=1"):
        assert parse(Body, {"name": "abc", "website": url})[0] is not None


def test_boolean() -> None:
    assert errors_of({"name": "abc", "flag": "maybe"}) == {
        "flag": ["The flag field must be true or false."]
    }
    for value in (True, False, 1, 0, "true", "false", "1", "0"):
        assert parse(Body, {"name": "abc", "flag": value})[0] is not None, value


def test_array_sizes() -> None:
    assert errors_of({"name": "abc", "buttons": []}) == {
        "buttons": ["The buttons must have at least 1 items."]
    }
    four = [{"title": "t"}] * 4
    assert errors_of({"name": "abc", "buttons": four}) == {
        "buttons": ["The buttons may not have more than 3 items."]
    }
    assert errors_of({"name": "abc", "tags": "x"}) == {"tags": ["The tags must be an array."]}


def test_nested_keys_keep_their_dots() -> None:
    body = {"name": "abc", "buttons": [{"title": "ok"}, {"title": "x" * 21}, {}]}
    assert errors_of(body) == {
        "buttons.1.title": ["The buttons.1.title may not be greater than 20 characters."],
        "buttons.2.title": ["The buttons.2.title field is required."],
    }
    assert errors_of({"name": "abc", "buttons": ["x"]}) == {
        "buttons.0": ["The buttons.0 must be an array."]
    }


def test_every_failing_field_is_reported_in_declaration_order() -> None:
    errors = errors_of({"count": "x", "kind": "z", "email": "bad", "message_body": "y" * 11})
    assert list(errors) == ["name", "message_body", "count", "kind", "email"]


def test_body_that_is_not_an_object() -> None:
    for raw in ([1, 2], "text", 5, None):
        assert errors_of(raw) == {"body": ["The request body must be a JSON object."]}


def test_unknown_keys_are_ignored() -> None:
    obj, errors, _ = parse(Body, {"name": "abc", "whatever": {"deep": 1}})
    assert errors == {}
    assert obj is not None and not hasattr(obj, "whatever")


def test_parse_returns_the_values_of_passing_fields_even_on_failure() -> None:
    obj, errors, values = parse(Body, {"name": "ab", "count": 7, "kind": "lead", "email": "x"})
    assert obj is None
    assert set(errors) == {"name", "email"}
    assert values == {"count": 7, "kind": "lead"}


def test_parse_success_returns_only_the_given_fields() -> None:
    obj, errors, values = parse(Body, {"name": "abc", "count": 3})
    assert obj is not None and errors == {}
    assert values == {"name": "abc", "count": 3}


def test_merge_orders_by_model_and_deduplicates() -> None:
    merged = merge(
        Body,
        {"email": ["The email must be a valid email address."]},
        {"name": ["The name has already been taken."]},
        {"email": ["The email must be a valid email address.", "other"]},
    )
    assert merged == {
        "name": ["The name has already been taken."],
        "email": ["The email must be a valid email address.", "other"],
    }


def test_require_raises_with_extra_database_errors_merged() -> None:
    with pytest.raises(ValidationFailed) as info:
        require(Body, {"name": "abc"}, {"name": ["The name has already been taken."]})
    assert info.value.errors == {"name": ["The name has already been taken."]}
    assert info.value.status_code == 422
    assert info.value.body()["message"] == "Validation failed"
    assert isinstance(require(Body, {"name": "abc"}), Body)


class Window(RequestModel):
    start: int
    end: int

    @model_validator(mode="after")
    def ordered(self) -> Window:
        if self.end < self.start:
            raise fail("end", "The end must be after the start.")
        return self


def test_model_validator_can_name_its_field() -> None:
    assert errors_of({"start": 5, "end": 1}, Window) == {
        "end": ["The end must be after the start."]
    }


def test_errors_from_pydantic_drops_the_location_prefix() -> None:
    items: list[dict[str, Any]] = [
        {"type": "missing", "loc": ("query", "per_page"), "input": None},
        {"type": "less_than_equal", "loc": ("query", "per_page"), "input": 101, "ctx": {"le": 100}},
        {"type": "greater_than_equal", "loc": ("query", "page"), "input": 0, "ctx": {"ge": 1}},
    ]
    assert errors_from_pydantic(items, drop=1) == {
        "per_page": [
            "The per page field is required.",
            "The per page may not be greater than 100.",
        ],
        "page": ["The page must be at least 1."],
    }


def test_unknown_error_kinds_get_a_generic_message() -> None:
    items = [{"type": "something_new", "loc": ("body", "x_y"), "input": 1}]
    assert errors_from_pydantic(items, drop=1) == {"x_y": ["The x y is invalid."]}


def test_clean_input_trims_and_converts_empty_strings_to_null() -> None:
    raw = {"a": "  x ", "b": "", "c": "   ", "d": [" y ", ""], "e": {"f": "\t"}, "g": 0, "h": False}
    assert clean_input(raw) == {
        "a": "x",
        "b": None,
        "c": None,
        "d": ["y", None],
        "e": {"f": None},
        "g": 0,
        "h": False,
    }


def test_str255_boundary() -> None:
    class One(RequestModel):
        title: Str255

    assert parse(One, {"title": "x" * 255})[0] is not None
    assert errors_of({"title": "x" * 256}, One) == {
        "title": ["The title may not be greater than 255 characters."]
    }
