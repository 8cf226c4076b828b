"""The WhatsApp Business Accounts the fake Graph API knows: their numbers (status, quality
rating, messaging tier) and the apps subscribed to their webhooks, answered by
``GET /{Phone-Number-ID}``, ``GET /{WABA-ID}/phone_numbers`` and
``GET /{WABA-ID}/subscribed_apps`` (what the connection doctor reads).

Tests set the scene::

    graph.accounts.add_waba("419561257915", ["106540352242922"])       # healthy
    graph.accounts.number("106540352242922").quality_rating = "RED"     # low quality
    graph.accounts.waba("419561257915").subscribed_apps.clear()        # app not subscribed
    graph.accounts.deny("phone_numbers", code=200)                    # token lacks a permission
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xobito.testing.meta_errors import default_http_status, meta_error_body
from xobito.testing.meta_templates import paginate

DEFAULT_APP = {"id": "1234567890123456", "name": "Xobito"}
# Graph's answer for an id the token cannot see (or that does not exist).
UNSUPPORTED_GET = (
    "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to "
    "missing permissions, or does not support this operation. Please read the Graph API "
    "documentation at https://developers.facebook.com/docs/graph-api"
)


@dataclass
class FakeNumber:
    """One business phone number (fields of Meta's ``WhatsAppBusinessAccountPhoneNumber``)."""

    id: str
    display_phone_number: str = "+1 555-555-0100"
    verified_name: str = "Xobito Test"
    status: str = "LINKED"
    quality_rating: str = "GREEN"
    messaging_limit_tier: str = "TIER_1K"
    account_mode: str = "LIVE"
    code_verification_status: str = "VERIFIED"

    def fields(self, wanted: Iterable[str]) -> dict[str, Any]:
        return {name: getattr(self, name) for name in wanted if hasattr(self, name)}


@dataclass
class FakeWaba:
    id: str
    numbers: dict[str, FakeNumber] = field(default_factory=dict)
    subscribed_apps: list[dict[str, str]] = field(default_factory=lambda: [dict(DEFAULT_APP)])


@dataclass(frozen=True, slots=True)
class Denial:
    code: int
    http_status: int
    message: str | None = None
    error_subcode: int | None = None


# GET /{Phone-Number-ID} without ``fields``: Meta's default fields.
DEFAULT_NUMBER_FIELDS = ("id", "display_phone_number", "verified_name", "quality_rating")
DEFAULT_LIST_FIELDS = ("id", "display_phone_number", "verified_name", "status", "quality_rating")


class FakeAccounts:
    def __init__(self) -> None:
        self.wabas: dict[str, FakeWaba] = {}
        self.denied: dict[str, Denial] = {}

    def reset(self) -> None:
        self.wabas.clear()
        self.denied.clear()

    # ---- scene -----------------------------------------------------------------------------

    def add_waba(
        self,
        waba_id: str,
        numbers: Iterable[str] = (),
        *,
        subscribed: bool = True,
        **number_fields: Any,
    ) -> FakeWaba:
        """A WABA with these numbers (``number_fields`` set on each, e.g. ``quality_rating``)
        and, unless ``subscribed=False``, the default app subscribed to its webhooks."""
        waba = FakeWaba(waba_id, subscribed_apps=[dict(DEFAULT_APP)] if subscribed else [])
        for n, number_id in enumerate(numbers):
            display = f"+1 555-555-{100 + n:04d}"
            waba.numbers[number_id] = FakeNumber(
                number_id, **{"display_phone_number": display, **number_fields}
            )
        self.wabas[waba_id] = waba
        return waba

    def waba(self, waba_id: str) -> FakeWaba:
        return self.wabas[waba_id]

    def number(self, number_id: str) -> FakeNumber:
        for waba in self.wabas.values():
            if number_id in waba.numbers:
                return waba.numbers[number_id]
        raise KeyError(number_id)

    def deny(
        self,
        endpoint: str,
        *,
        code: int = 200,
        status: int | None = None,
        message: str | None = None,
        error_subcode: int | None = None,
    ) -> None:
        """Every request to ``endpoint`` ("phone_number", "phone_numbers",
        "subscribed_apps", "messages", ...) fails with Meta error ``code`` until reset."""
        http_status = status if status is not None else default_http_status(code)
        self.denied[endpoint] = Denial(code, http_status, message, error_subcode)

    # ---- answers ---------------------------------------------------------------------------

    def denial(self, endpoint: str) -> tuple[int, dict[str, Any]] | None:
        found = self.denied.get(endpoint)
        if found is None:
            return None
        body = meta_error_body(found.code, found.message, error_subcode=found.error_subcode)
        return found.http_status, body

    def phone_number(self, number_id: str, query: Mapping[str, str]) -> tuple[int, Any]:
        try:
            number = self.number(number_id)
        except KeyError:
            return 400, meta_error_body(
                100, UNSUPPORTED_GET.format(id=number_id), details="", error_subcode=33
            )
        wanted = _fields(query, DEFAULT_NUMBER_FIELDS)
        return 200, number.fields(wanted)

    def phone_numbers(self, waba_id: str, query: Mapping[str, str], url: str) -> tuple[int, Any]:
        waba = self.wabas.get(waba_id)
        if waba is None:
            return 400, meta_error_body(
                100, UNSUPPORTED_GET.format(id=waba_id), details="", error_subcode=33
            )
        wanted = _fields(query, DEFAULT_LIST_FIELDS)
        rows = [n.fields(wanted) for n in waba.numbers.values()]
        try:
            return 200, paginate(rows, query, url)
        except ValueError as exc:
            return 400, meta_error_body(100, details=str(exc))

    def subscribed_apps(self, waba_id: str) -> tuple[int, Any]:
        waba = self.wabas.get(waba_id)
        if waba is None:
            return 400, meta_error_body(
                100, UNSUPPORTED_GET.format(id=waba_id), details="", error_subcode=33
            )
        # As the live API (and the file's example) nests each app.
        data = [{"whatsapp_business_api_data": dict(app)} for app in waba.subscribed_apps]
        return 200, {"data": data}


def _fields(query: Mapping[str, str], default: tuple[str, ...]) -> list[str]:
    given = query.get("fields")
    if not given:
        return list(default)
    return [f.strip() for f in given.split(",") if f.strip()]
