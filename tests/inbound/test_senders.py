"""Inbound messages whose sender or id cannot be stored (docs/webhooks.md): refused with a reason on
their inbox row, never turned into a contact; the good messages next to them are kept."""

from __future__ import annotations

from typing import Any

import pytest

from tests.inbound.conftest import Line, Meta
from xobito.testing.meta_webhooks import build_text_message_webhook


def text(line: Line, sender: Any = "16505551234", **kw: Any) -> dict[str, Any]:
    payload = build_text_message_webhook(
        "16505551234", "hello", phone_number_id=line.phone_number_id, waba_id=line.waba_id, **kw
    )
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = sender
    return payload


@pytest.mark.parametrize(
    "sender",
    [
        "",
        "abc",
        "+",
        "1",
        "123456",  # fewer digits than any phone number with its country code
        "1234567890123456",  # more than E.164's fifteen
        "1" * 100_000,
        "+1 650 555 1234",
        " 16505551234",
        "016505551234",  # no country code starts with 0
        "\u0661\u0666\u0665\u0660\u0665\u0665\u0665\u0661\u0662\u0663\u0664",  # Arabic-Indic
        "16505551234\n",
        16505551234,
        None,
    ],
    ids=[
        "empty",
        "letters",
        "plus",
        "one-digit",
        "six-digits",
        "sixteen-digits",
        "huge",
        "spaces",
        "leading-space",
        "leading-zero",
        "arabic-indic-digits",
        "newline",
        "a-number",
        "null",
    ],
)
async def test_a_message_from_a_sender_that_is_no_phone_number_is_refused(
    meta: Meta, sender: Any
) -> None:
    line = await meta.line()
    await meta.deliver(text(line, sender, wamid="wamid.BAD-SENDER"), line.app_secret)
    await meta.drain()
    assert await meta.contacts(line.workspace_id) == []
    assert await meta.messages() == []
    (row,) = await meta.inbox()
    assert row.processed_at is not None and row.error is None
    assert row.notes == "message wamid.BAD-SENDER refused: the sender is not a phone number"


async def test_a_refused_message_does_not_cost_the_good_ones_next_to_it(meta: Meta) -> None:
    line = await meta.line()
    payload = text(line, "", wamid="wamid.EMPTY")
    good = text(line, wamid="wamid.GOOD")["entry"][0]["changes"][0]["value"]["messages"][0]
    payload["entry"][0]["changes"][0]["value"]["messages"].append(good)
    await meta.deliver(payload, line.app_secret)
    await meta.drain()
    (message,) = await meta.messages(line.workspace_id)
    assert message.wamid == "wamid.GOOD" and message.phone == "+16505551234"
    assert [c.phone for c in await meta.contacts(line.workspace_id)] == ["+16505551234"]
    (row,) = await meta.inbox()
    assert row.notes == "message wamid.EMPTY refused: the sender is not a phone number"


async def test_a_sender_with_a_leading_plus_is_the_same_contact(meta: Meta) -> None:
    line = await meta.line()
    await meta.deliver(text(line, "+16505551234"), line.app_secret)
    await meta.deliver(text(line, "16505551234"), line.app_secret)
    await meta.drain()
    assert [c.phone for c in await meta.contacts(line.workspace_id)] == ["+16505551234"]
    assert len(await meta.messages(line.workspace_id)) == 2


@pytest.mark.parametrize(
    "wamid",
    ["", "w" * 256, 12345],
    ids=["empty", "longer-than-255", "a-number"],
)
async def test_a_message_without_a_usable_id_is_refused(meta: Meta, wamid: Any) -> None:
    line = await meta.line()
    payload = text(line)
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = wamid
    await meta.deliver(payload, line.app_secret)
    await meta.drain()
    assert await meta.messages() == []
    assert await meta.contacts(line.workspace_id) == []
    (row,) = await meta.inbox()
    assert row.processed_at is not None and row.error is None
    assert row.notes == "a message refused: its id is missing or longer than 255 characters"


async def test_an_overlong_message_type_is_stored_as_unknown(meta: Meta) -> None:
    line = await meta.line()
    payload = text(line, wamid="wamid.ODD-TYPE")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["type"] = "t" * 40
    await meta.deliver(payload, line.app_secret)
    await meta.drain()
    (message,) = await meta.messages(line.workspace_id)
    assert message.type == "unknown"
    (row,) = await meta.inbox()
    assert row.error is None and row.notes is None
