"""Payload builders produce exactly the Meta bodies of spec section 8, valid against the schema."""

from __future__ import annotations

from typing import Any

import pytest

from xobito.testing.meta_schema import validate_message_request
from xobito.whatsapp import payloads

TO = "+1 (415) 555-1234"
ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "14155551234"}


def built_payloads() -> dict[str, dict[str, Any]]:
    """One body per shape the product sends; shared with the provider tests."""
    return {
        "text": payloads.text_message(TO, "Hello"),
        "text_preview": payloads.text_message(TO, "See https://x.test", preview_url=True),
        "buttons": payloads.interactive_buttons(
            TO, "Pick one", [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]
        ),
        "buttons_header_footer": payloads.interactive_buttons(
            TO, "Pick", [{"id": "a", "title": "x" * 20}] * 3, header="Head", footer="Foot"
        ),
        "cta_url": payloads.cta_url(TO, "Visit us", "Open shop", "https://shop.test/p?q=1"),
        "cta_url_header_footer": payloads.cta_url(
            TO, "Visit", "x" * 20, "https://shop.test", header="H", footer="F"
        ),
        "image_link": payloads.media(TO, "image", link="https://cdn.test/a.jpg", caption="Cap"),
        "image_id": payloads.media(TO, "image", media_id="1234567890"),
        "video_link": payloads.media(TO, "video", link="https://cdn.test/a.mp4"),
        "video_id": payloads.media(TO, "video", media_id="99", caption="Clip"),
        "audio_link": payloads.media(TO, "audio", link="https://cdn.test/a.ogg"),
        "audio_id": payloads.media(TO, "audio", media_id="98"),
        "document_link": payloads.media(
            TO, "document", link="https://cdn.test/a.pdf", caption="Invoice", filename="a.pdf"
        ),
        "document_id": payloads.media(TO, "document", media_id="97", filename="b.pdf"),
        "template_plain": payloads.template(TO, "hello_world", "en_US"),
        "template_full": payloads.template(
            TO,
            "order_update",
            "en_US",
            header_param={"type": "image", "link": "https://cdn.test/h.jpg"},
            body_params=["Jane", "#1234"],
            buttons=[(0, "url", "1234"), (1, "quick_reply", "TALK")],
        ),
        "template_text_header": payloads.template(
            TO, "t", "pt_BR", header_param="Ana", body_params=["1"]
        ),
        "template_document_header": payloads.template(
            TO, "t", "en", header_param={"type": "document", "id": "55", "filename": "c.pdf"}
        ),
        "template_video_header": payloads.template(
            TO, "t", "en", header_param={"type": "video", "link": "https://cdn.test/v.mp4"}
        ),
    }


@pytest.mark.parametrize(("name", "body"), built_payloads().items())
def test_every_built_payload_validates(name: str, body: dict[str, Any]) -> None:
    assert validate_message_request(body) == []
    assert {k: body[k] for k in ENVELOPE} == ENVELOPE


def test_text_ignores_header_and_footer() -> None:
    body = payloads.text_message(TO, "Hi", header="Head", footer="Foot")
    assert body == {**ENVELOPE, "type": "text", "text": {"body": "Hi", "preview_url": False}}


def test_interactive_buttons_exact_shape() -> None:
    body = payloads.interactive_buttons(
        "14155551234", "Body", [{"id": "b1", "title": "One"}], header="H", footer="F"
    )
    assert body == {
        **ENVELOPE,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "H"},
            "body": {"text": "Body"},
            "footer": {"text": "F"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "b1", "title": "One"}}]},
        },
    }


def test_cta_url_exact_shape() -> None:
    body = payloads.cta_url("14155551234", "Body", "Open", "https://x.test")
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "cta_url",
        "body": {"text": "Body"},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": "Open", "url": "https://x.test"},
        },
    }


def test_template_exact_shape() -> None:
    body = payloads.template(
        "14155551234",
        "order_update",
        "en_US",
        header_param={"type": "document", "link": "https://x.test/a.pdf", "filename": "a.pdf"},
        body_params=["Jane", "42"],
        buttons=[(0, "url", "abc"), (2, "quick_reply", "P")],
    )
    assert body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "header",
                "parameters": [
                    {
                        "type": "document",
                        "document": {"link": "https://x.test/a.pdf", "filename": "a.pdf"},
                    }
                ],
            },
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Jane"}, {"type": "text", "text": "42"}],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": "abc"}],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "2",
                "parameters": [{"type": "payload", "payload": "P"}],
            },
        ],
    }


def test_template_without_parameters_has_no_components() -> None:
    assert "components" not in payloads.template(TO, "hello_world", "en_US")["template"]


def test_media_exact_shape() -> None:
    body = payloads.media("14155551234", "document", media_id="7", caption="C", filename="f.pdf")
    assert body == {
        **ENVELOPE,
        "type": "document",
        "document": {"id": "7", "caption": "C", "filename": "f.pdf"},
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"media_type": "image"},  # neither link nor id
        {"media_type": "image", "link": "https://x", "media_id": "1"},  # both
        {"media_type": "audio", "link": "https://x", "caption": "no captions on audio"},
        {"media_type": "image", "link": "https://x", "filename": "only documents"},
        {"media_type": "sticker", "link": "https://x"},
    ],
)
def test_media_refuses_impossible_combinations(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        payloads.media(TO, **kwargs)


def test_builders_refuse_bad_input() -> None:
    with pytest.raises(ValueError):
        payloads.interactive_buttons(TO, "b", [])
    with pytest.raises(ValueError):
        payloads.text_message("+", "b")
    with pytest.raises(ValueError):
        payloads.template(TO, "t", "en", buttons=[(0, "call", "x")])  # type: ignore[list-item]


def test_to_digits() -> None:
    assert payloads.to_digits("+91 98765-43210") == "919876543210"
